//! `etcdsim validation`: its flags, turned into the runner's [`validation::Options`].

use std::path::PathBuf;

use clap::Args;

use crate::error::Error;
use crate::runner::validation;

/// Arguments of `etcdsim validation`.
#[derive(Args, Debug, Clone)]
pub struct ValidationArgs {
    /// The calibration file whose model and reference CSV are compared.
    #[arg(long, default_value = "experiments/calibrate/gce-8vcpu-ssd.toml")]
    pub calibration: PathBuf,
    /// The calibration file of this machine's model against real etcd measured on it
    /// (`harness/measure`).
    #[arg(long, default_value = "experiments/calibrate/loopback-2vcpu.toml")]
    pub machine: PathBuf,
    /// Where to write the document.
    #[arg(long, default_value = "docs/validation.md")]
    pub out: PathBuf,
    /// Replications of each queueing check.
    #[arg(long, default_value_t = 12)]
    pub reps: u64,
}

impl ValidationArgs {
    /// `etcdsim validation`.
    pub fn run(&self) -> Result<(), Error> {
        validation::validation(&validation::Options {
            calibration: self.calibration.clone(),
            machine: self.machine.clone(),
            out: self.out.clone(),
            reps: self.reps,
            command_line: super::benchmark::pasted_workload,
            faults: validation::shipped_faults(),
        })
    }
}
