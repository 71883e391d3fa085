//! `etcdsim run EXPERIMENT`: expand a grid, run its points in parallel, write CSV and charts.

use std::path::PathBuf;

use clap::Args;

use crate::cli::CliError;

/// Arguments of `etcdsim run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The experiment file.
    pub experiment: PathBuf,
}

/// Runs an experiment.
pub fn run(_a: &RunArgs) -> Result<(), CliError> {
    Err(CliError::Usage("etcdsim run: not built yet".into()))
}
