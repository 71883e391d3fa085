//! `etcdsim plan`: its flags, turned into the runner's [`plan::Options`].

use std::path::PathBuf;

use clap::Args;

use crate::error::Error;
use crate::runner::plan;

use super::benchmark::FormatArg;
use super::caps::CapArgs;

/// Arguments of `etcdsim plan`.
#[derive(Args, Debug, Clone)]
pub struct PlanArgs {
    /// The plan file (TOML), e.g. experiments/plans/k8s-control-plane.toml.
    pub plan: PathBuf,
    /// Write here instead of `output/<plan>/`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads, 1 to 1024 (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Write into a non-empty --out that is not an earlier etcdsim output.
    #[arg(long)]
    pub force: bool,
    /// text: the table and the sensitivity for people; json: one JSON document for scripts
    /// (its fields: docs/json.md). The files are the same either way.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    #[command(flatten)]
    pub caps: CapArgs,
}

impl PlanArgs {
    /// `etcdsim plan`.
    pub fn run(&self) -> Result<(), Error> {
        plan::plan(
            &plan::Options {
                plan: self.plan.clone(),
                out: self.out.clone(),
                threads: self.threads,
                force: self.force,
                limits: self.caps.limits(),
                format: self.format.format(),
            },
            &mut std::io::stdout().lock(),
        )
    }
}
