//! `etcdsim calibrate`: its flags, turned into the runner's [`calibrate::Options`].

use std::path::PathBuf;

use clap::Args;

use crate::error::Error;
use crate::runner::calibrate;

use super::caps::CapArgs;

/// Arguments of `etcdsim calibrate`.
#[derive(Args, Debug, Clone)]
pub struct CalibrateArgs {
    /// The calibration file (TOML): model, reference CSV and/or etcd benchmark outputs, free
    /// parameters with bounds.
    pub file: PathBuf,
    /// Write the fitted model here (default: `output/calibrate/<model file name>`). Comments
    /// and layout of the model file are kept; only the fitted values change.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only compare the model as it is with the reference; no search, nothing written.
    #[arg(long)]
    pub check: bool,
    /// Override the file's evaluation budget.
    #[arg(long)]
    pub max_evals: Option<usize>,
    #[command(flatten)]
    pub caps: CapArgs,
}

impl CalibrateArgs {
    /// `etcdsim calibrate`.
    pub fn run(&self) -> Result<(), Error> {
        calibrate::calibrate(
            &calibrate::Options {
                file: self.file.clone(),
                out: self.out.clone(),
                check: self.check,
                max_evals: self.max_evals,
                limits: self.caps.limits(),
                command_line: super::benchmark::pasted_workload,
            },
            &mut std::io::stdout().lock(),
        )
    }
}
