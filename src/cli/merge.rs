//! `etcdsim merge EXPERIMENT SHARD...`: joins the outputs of `etcdsim run --shard K/N`.

use std::path::PathBuf;

use clap::Args;

use crate::error::Error;
use crate::runner::experiment;

/// Arguments of `etcdsim merge`.
#[derive(Args, Debug, Clone)]
pub struct MergeArgs {
    /// The experiment file the shards ran.
    pub experiment: PathBuf,
    /// The shards' output folders.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Write here instead of `output/<experiment>/`.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl MergeArgs {
    /// `etcdsim merge`.
    pub fn run(&self) -> Result<(), Error> {
        experiment::merge(&self.experiment, &self.shards, self.out.as_deref())
    }
}
