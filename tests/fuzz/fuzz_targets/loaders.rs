//! Arbitrary text through the model, experiment, plan and calibration loaders: they must
//! return a value or an error, never panic.

#![no_main]

use etcdsim::config::calibration::{CalibrationFile, parse_reference};
use etcdsim::config::experiment::ExperimentFile;
use etcdsim::config::plan::PlanFile;
use etcdsim::config::model::model_from_str;
use etcdsim::config::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = model_from_str("fuzz.toml", text, &[]);
    let _ = model_from_str("fuzz.toml", text, &["cluster.voters=5".to_string(), "a.b=c".to_string()]);
    if let Ok(e) = parse::<ExperimentFile>("fuzz.toml", text) {
        let _ = e.points("fuzz.toml");
        let _ = e.limits.run_options("fuzz.toml");
    }
    if let Ok(p) = parse::<PlanFile>("fuzz.toml", text) {
        if p.check("fuzz.toml").is_ok() {
            let _ = p.expand();
        }
    }
    if let Ok(c) = parse::<CalibrationFile>("fuzz.toml", text) {
        let _ = c.free_params("fuzz.toml");
    }
    let _ = parse_reference("fuzz.csv", text);
});
