//! `[limits]`: the caps on each run, so an impossible point ends with a clear result instead
//! of exhausting the machine. Experiment, plan and calibration files may have the table; the
//! command line's `--max-events`, `--max-sim-time` and `--max-in-flight` win over it. The cap
//! that fired is in a run's `stopped_by`.
//!
//! A run holds state for every client and for every request in flight, about 300 bytes each,
//! so [`MAX_IN_FLIGHT`] bounds both, and [`check_fits`] keeps a workload's clients within its
//! run's in-flight cap.

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::engine::SimDuration;
use crate::model::{RunOptions, Workload};

/// The most requests a run may hold in flight, and so the most clients: about 600 MB.
pub const MAX_IN_FLIGHT: u64 = 2_000_000;
/// The longest simulated time a run may be given, in seconds (about 31 years).
pub const MAX_SIM_TIME_S: f64 = 1e9;

/// `[limits]`, or the command line's caps.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Stop a run after this many events (default 2,000,000,000).
    pub max_events: Option<u64>,
    /// Stop a run when simulated time passes this many seconds (default 3600).
    pub max_sim_time_s: Option<f64>,
    /// Stop a run as saturated when this many requests are in flight (default 200,000); this
    /// also bounds its memory.
    pub max_in_flight: Option<u64>,
}

/// The command-line flag of a `[limits]` key (`max_sim_time_s` is `--max-sim-time`).
pub fn flag_name(key: &str) -> String {
    match key {
        "max_sim_time_s" => "--max-sim-time".to_string(),
        k => format!("--{}", k.replace('_', "-")),
    }
}

impl Limits {
    /// The run options these caps give over the defaults, or the rule a value breaks (`file`
    /// names it).
    pub fn run_options(&self, file: &str) -> Result<RunOptions, ConfigError> {
        self.run_options_named(file, |key| format!("limits.{key}"))
    }

    /// [`Limits::run_options`], naming each key in errors as `name(key)` does (the command
    /// line calls them `--max-events` and so on).
    pub fn run_options_named(
        &self,
        file: &str,
        name: impl Fn(&str) -> String,
    ) -> Result<RunOptions, ConfigError> {
        self.apply(RunOptions::default(), file, &name)
    }

    /// The caps of a file with these `[limits]` when the command line gives `cli`, over
    /// `base` (the command's defaults): each cap the command line gives wins. Errors name the
    /// flag or the file's key.
    pub fn resolve(
        &self,
        cli: &Limits,
        file: &str,
        base: RunOptions,
    ) -> Result<RunOptions, ConfigError> {
        let from_file = self.apply(base, file, &|key| format!("limits.{key}"))?;
        cli.apply(from_file, "command line", &flag_name)
    }

    /// [`Limits::resolve`] over the default caps.
    pub fn under(&self, cli: &Limits, file: &str) -> Result<RunOptions, ConfigError> {
        self.resolve(cli, file, RunOptions::default())
    }

    fn apply(
        &self,
        mut o: RunOptions,
        file: &str,
        name: &dyn Fn(&str) -> String,
    ) -> Result<RunOptions, ConfigError> {
        let bad = |key: &str, rule: String| ConfigError::invalid(file, name(key), rule);
        if let Some(n) = self.max_events {
            if n == 0 {
                return Err(bad("max_events", "must be at least 1 (got 0)".into()));
            }
            o.max_events = n;
        }
        if let Some(t) = self.max_sim_time_s {
            if !(t.is_finite() && t > 0.0 && t <= MAX_SIM_TIME_S) {
                return Err(bad(
                    "max_sim_time_s",
                    format!("must be a number of seconds in (0, 1e9] (got {t})"),
                ));
            }
            o.max_sim_time = SimDuration::from_secs_f64(t);
        }
        if let Some(n) = self.max_in_flight {
            if !(1..=MAX_IN_FLIGHT).contains(&n) {
                return Err(bad(
                    "max_in_flight",
                    format!(
                        "must be between 1 and {MAX_IN_FLIGHT}: a run holds about 300 bytes per request in flight (got {n})"
                    ),
                ));
            }
            o.max_in_flight = n;
        }
        Ok(o)
    }
}

/// A workload must fit its run's caps: every closed-loop client keeps a request in flight,
/// so more clients than the in-flight cap would saturate at once, after allocating for every
/// one of them. `clients_key` and `cap_key` name the two in the error.
pub fn check_fits(
    w: &Workload,
    opts: &RunOptions,
    file: &str,
    clients_key: &str,
    cap_key: &str,
) -> Result<(), ConfigError> {
    let clients = u64::from(w.clients);
    if clients <= opts.max_in_flight {
        return Ok(());
    }
    Err(ConfigError::invalid(
        file,
        clients_key,
        format!(
            "must be at most the in-flight cap {cap_key} ({}): each client keeps a request in flight, so the run would saturate at once; use fewer clients, or raise {cap_key} (up to {MAX_IN_FLIGHT}) (got {clients})",
            opts.max_in_flight
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_wins_over_the_file_and_errors_name_their_source() {
        let file = Limits {
            max_events: Some(10),
            max_in_flight: Some(5),
            ..Limits::default()
        };
        let cli = Limits {
            max_events: Some(20),
            ..Limits::default()
        };
        let o = file.under(&cli, "e.toml").unwrap();
        assert_eq!((o.max_events, o.max_in_flight), (20, 5));
        let bad_cli = Limits {
            max_in_flight: Some(MAX_IN_FLIGHT + 1),
            ..Limits::default()
        };
        let e = file.under(&bad_cli, "e.toml").unwrap_err().to_string();
        assert!(
            e.starts_with("command line: --max-in-flight: must be between 1 and 2000000"),
            "{e}"
        );
        let bad_file = Limits {
            max_sim_time_s: Some(f64::INFINITY),
            ..Limits::default()
        };
        let e = bad_file.under(&cli, "e.toml").unwrap_err().to_string();
        assert!(e.starts_with("e.toml: limits.max_sim_time_s:"), "{e}");
    }
}
