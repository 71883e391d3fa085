//! The runner: the only module that touches the filesystem, the wall clock and rayon.

pub mod experiment;

use std::time::Instant;

use crate::cli::{BenchmarkArgs, CliError};
use crate::config::model::load_model;
use crate::model::{self, RunOptions};
use crate::report::benchmark as report;

/// `etcdsim benchmark`: one run, printed as etcd's tool prints it, then etcdsim's additions.
pub fn benchmark(a: &BenchmarkArgs) -> Result<(), CliError> {
    let p = load_model(&a.model, &a.set)?;
    let w = a.workload(&p)?;
    let t0 = Instant::now();
    let r = model::run(&p, &w, a.seed, RunOptions::default());
    let wall = t0.elapsed().as_secs_f64();
    print!("{}", report::etcd_layout(&r));
    print!("{}", report::additions(&r));
    let finished = (r.completed + r.failed) as f64;
    println!(
        "Simulation speed: {:.0} requests/s, {:.0} events/s (wall)",
        finished / wall.max(1e-9),
        r.events as f64 / wall.max(1e-9)
    );
    Ok(())
}
