//! The run caps every simulating command takes: `--max-events`, `--max-sim-time` and
//! `--max-in-flight`, over a file's `[limits]`.

use clap::Args;

use crate::config::limits::Limits;

/// The caps on each run; a flag wins over the file's `[limits]`.
#[derive(Args, Debug, Clone, Default)]
pub struct CapArgs {
    /// Cap: stop a run after this many simulated events (default 2,000,000,000; the report
    /// says when a cap fired).
    #[arg(long = "max-events", global = true)]
    pub max_events: Option<u64>,
    /// Cap: stop a run when simulated time passes this many seconds (default 3600).
    #[arg(long = "max-sim-time", global = true, value_name = "SECONDS")]
    pub max_sim_time: Option<f64>,
    /// Cap: stop a run, as saturated, when this many requests are in flight (default 200,000;
    /// at most 2,000,000). It bounds memory too, and a workload's clients.
    #[arg(long = "max-in-flight", global = true)]
    pub max_in_flight: Option<u64>,
}

impl CapArgs {
    /// The caps given, as a `[limits]` table would give them.
    pub fn limits(&self) -> Limits {
        Limits {
            max_events: self.max_events,
            max_sim_time_s: self.max_sim_time,
            max_in_flight: self.max_in_flight,
        }
    }
}
