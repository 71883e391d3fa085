//! `etcdsim run EXPERIMENT`: the flags of a sweep, turned into the runner's
//! [`experiment::Options`].

use std::path::PathBuf;

use clap::Args;

use crate::error::Error;
use crate::runner::experiment;

/// Arguments of `etcdsim run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The experiment file (TOML), e.g. experiments/quickstart.toml.
    pub experiment: PathBuf,
    /// Write here instead of `output/<experiment>/` (`output/<experiment>/shard-K-of-N/` with
    /// --shard).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores; RAYON_NUM_THREADS also works).
    #[arg(long)]
    pub threads: Option<usize>,
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
