//! `etcdsim compare A B`: its flags, turned into the runner's [`compare::Options`].

use std::path::PathBuf;

use clap::Args;

use crate::error::Error;
use crate::runner::compare;

/// Arguments of `etcdsim compare`.
#[derive(Args, Debug, Clone)]
pub struct CompareArgs {
    /// The first output folder (A), as `etcdsim run` wrote it.
    pub a: PathBuf,
    /// The second output folder (B), of the same grid.
    pub b: PathBuf,
    /// Also write the comparison as CSV (a row per point and metric: both means, their 95%
    /// half widths, B − A with its half width, and (B − A) / A).
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Also write the comparison into this output folder: compare.csv, and a chart of the
    /// relative change of throughput and latency (mean, p99) per point with 95% intervals as
    /// compare.svg and compare.png. The folder is written as one unit, as `run --out` is; it
    /// may not be A or B.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write into a non-empty --out that is not an earlier etcdsim output (only etcdsim's own
    /// files there are replaced).
    #[arg(long)]
    pub force: bool,
}

impl CompareArgs {
    /// `etcdsim compare`.
    pub fn run(&self) -> Result<(), Error> {
        compare::compare(
            &compare::Options {
                a: self.a.clone(),
                b: self.b.clone(),
                csv: self.csv.clone(),
                out: self.out.clone(),
                force: self.force,
            },
            &mut std::io::stdout().lock(),
        )
    }
}
