//! `etcdsim merge EXPERIMENT SHARD...`: joins the outputs of `etcdsim run --shard K/N`.

use std::path::PathBuf;

use clap::Args;

use crate::error::Error;
use crate::runner::merge;

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
    /// Write into a non-empty --out that is not an earlier etcdsim output.
    #[arg(long)]
    pub force: bool,
}

impl MergeArgs {
    /// `etcdsim merge`.
    pub fn run(&self) -> Result<(), Error> {
        merge::merge(
            &self.experiment,
            &self.shards,
            self.out.as_deref(),
            self.force,
        )
    }
}
