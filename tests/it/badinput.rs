//! Bad input never panics: the shipped model file, mutated thousands of ways (a line deleted, a
//! value's type changed, a value out of range, an unknown key inserted, the file truncated),
//! either fails with an error that names the file and a key or line, or validates and runs.

use proptest::prelude::*;

use etcdsim::config::ConfigError;
use etcdsim::config::model::model_from_str;
use etcdsim::model::{self, RunOptions};

const SHIPPED: &str = include_str!("../../models/gce-8vcpu-ssd.toml");

/// The lines of `text` that set a key (not comments, blanks or table headers).
fn key_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#') && !t.starts_with('[') && t.contains('=')
        })
        .map(|(i, _)| i)
        .collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Retype(usize),
    OutOfRange(usize, i64),
    Unknown(usize),
    Truncate(usize),
}

/// Applies mutation `m` to `text`.
fn mutate(text: &str, m: &Mutation) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let keys = key_lines(text);
    let set = |i: usize, f: &dyn Fn(&str, &str) -> String| {
        let at = keys[i % keys.len()];
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        let (k, v) = lines[at].split_once('=').unwrap();
        out[at] = f(k.trim(), v.trim());
        out.join("\n")
    };
    match m {
        Mutation::Delete(i) => set(*i, &|_, _| String::new()),
        Mutation::Retype(i) => set(*i, &|k, _| format!("{k} = \"not a number\"")),
        Mutation::OutOfRange(i, x) => set(*i, &|k, _| format!("{k} = {x}")),
        Mutation::Unknown(i) => set(*i, &|k, v| format!("{k} = {v}\n{k}_typo = 1")),
        Mutation::Truncate(at) => text.chars().take(*at % text.len()).collect(),
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0usize..500).prop_map(Mutation::Delete),
        (0usize..500).prop_map(Mutation::Retype),
        (
            0usize..500,
            prop_oneof![
                Just(-1i64),
                Just(0),
                Just(-1_000_000),
                Just(i64::MAX),
                Just(1_000_000_000)
            ]
        )
            .prop_map(|(i, x)| Mutation::OutOfRange(i, x)),
        (0usize..500).prop_map(Mutation::Unknown),
        (0usize..20_000).prop_map(Mutation::Truncate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_model_files_fail_clearly_or_run(m in mutation()) {
        let text = mutate(SHIPPED, &m);
        match model_from_str("models/mutated.toml", &text, &[]) {
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.starts_with("models/mutated.toml"), "{m:?}: {msg}");
                // It names the key it rejects, or the line where the file went wrong.
                let located = match &e {
                    ConfigError::Invalid { key, .. } => !key.is_empty(),
                    ConfigError::Parse { line, .. } => line.is_some(),
                };
                prop_assert!(located, "{m:?}: {msg}");
            }
            Ok(p) => {
                let spec = etcdsim::config::workload::WorkloadSpec {
                    clients: 4,
                    conns: 2,
                    total: 200,
                    ..Default::default()
                };
                if let Ok(w) = spec.validate(&p, "w", "") {
                    let opts = RunOptions { max_events: 2_000_000, ..RunOptions::default() };
                    let r = model::run(&p, &w, 1, opts);
                    prop_assert!(r.invariant_errors.is_empty(), "{m:?}: {:?}", r.invariant_errors);
                }
            }
        }
    }
}

const QUICKSTART: &str = include_str!("../../experiments/quickstart.toml");

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// The quickstart experiment, mutated: loading, grid expansion and validating every point
    /// fail with a message naming the file, or succeed; nothing panics. (Points are validated,
    /// not run: a mutation can make a sweep long.)
    #[test]
    fn mutated_experiment_files_fail_clearly_or_validate(m in mutation()) {
        let dir = std::env::temp_dir().join(format!("etcdsim-badexp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mutated.toml");
        std::fs::write(&path, mutate(QUICKSTART, &m).replace(
            "models/gce-8vcpu-ssd.toml",
            concat!(env!("CARGO_MANIFEST_DIR"), "/models/gce-8vcpu-ssd.toml"),
        )).unwrap();
        match etcdsim::runner::experiment::validate_experiment(&path) {
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.contains("mutated.toml") || msg.contains("gce-8vcpu-ssd.toml"), "{m:?}: {msg}");
            }
            Ok(points) => prop_assert!(points > 0),
        }
    }
}
