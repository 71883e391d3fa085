//! `etcdsim run EXPERIMENT`: the flags of a sweep, turned into the runner's
//! [`experiment::Options`].

use std::path::PathBuf;

use clap::Args;

use crate::error::Error;
use crate::runner::experiment;

use super::caps::CapArgs;

/// Arguments of `etcdsim run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The experiment file (TOML), e.g. experiments/quickstart.toml.
    pub experiment: PathBuf,
    /// Write here instead of `output/<experiment>/` (`output/<experiment>/shard-K-of-N/` with
    /// --shard).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads, 1 to 1024 (default: all cores; RAYON_NUM_THREADS also works).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Write into a non-empty --out that is not an earlier etcdsim output (only etcdsim's own
    /// files are replaced; `/` and the home directory are always refused).
    #[arg(long)]
    pub force: bool,
    /// Run every run twice and compare the event traces: a run that is not a pure function of
    /// its files and seed stops the sweep, naming the first point and seed that diverged.
    #[arg(long = "check-determinism")]
    pub check_determinism: bool,
    #[command(flatten)]
    pub caps: CapArgs,
    /// Run even if the sweep has more runs than the safety limit (10,000).
    #[arg(long)]
    pub yes: bool,
    /// Keep the runs an interrupted sweep finished, and run only the missing ones.
    #[arg(long)]
    pub resume: bool,
    /// Run only slice K of N (1-based) of the grid's points, for several machines; join the
    /// slices with `etcdsim merge`.
    #[arg(long, value_parser = parse_shard, value_name = "K/N")]
    pub shard: Option<(usize, usize)>,
}

impl RunArgs {
    /// `etcdsim run`.
    pub fn run(&self) -> Result<(), Error> {
        let opts = experiment::Options {
            out: self.out.clone(),
            threads: self.threads,
            yes: self.yes,
            resume: self.resume,
            shard: self.shard,
            quiet: false,
            force: self.force,
            check_determinism: self.check_determinism,
            limits: self.caps.limits(),
        };
        experiment::run(&self.experiment, &opts)
    }
}

/// `K/N`, with 1 <= K <= N.
fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("must be K/N with 1 <= K <= N (got {s:?})");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}
