//! The runner: the only module that touches the filesystem, the wall clock and rayon.

pub mod calibrate;
pub mod experiment;
pub mod plan;
pub mod validation;

use std::time::Instant;

use crate::cli::{BenchmarkArgs, ExplainArgs, TraceArgs};
use crate::config::model::load_model;
use crate::error::Error;
use crate::model::{self, RunOptions};
use crate::report::benchmark as report;

/// A run that broke an invariant is a bug in etcdsim: say so, with what replays it.
pub fn check(r: &model::RunResult, what: &str) -> Result<(), Error> {
    if r.invariant_errors.is_empty() {
        return Ok(());
    }
    Err(Error::Internal(format!(
        "{what} (seed {}) broke an invariant: {}. Replay it with the same files and --seed {}, and report it.",
        r.seed,
        r.invariant_errors.join("; "),
        r.seed
    )))
}

/// `etcdsim benchmark`: one run, printed as etcd's tool prints it, then etcdsim's additions.
pub fn benchmark(a: &BenchmarkArgs) -> Result<(), Error> {
    let p = load_model(&a.model, &a.set)?;
    let w = a.workload(&p)?;
    let opts = a.run_options()?;
    let t0 = Instant::now();
    let r = model::run(&p, &w, a.seed, opts);
    let wall = t0.elapsed().as_secs_f64();
    check(&r, "the run")?;
    print!("{}", report::etcd_layout(&r));
    print!("{}", report::additions(&r));
    let finished =
        (r.reads.completed + r.reads.failed + r.writes.completed + r.writes.failed) as f64;
    println!(
        "Simulation speed: {:.0} requests/s, {:.0} events/s (wall)",
        finished / wall.max(1e-9),
        r.events as f64 / wall.max(1e-9)
    );
    Ok(())
}

/// "--clients=1000 --conns=100 range, linearizable" for headings.
fn describe(a: &BenchmarkArgs) -> String {
    match &a.op {
        crate::cli::BenchOp::Range(r) => format!(
            "--clients={} --conns={} range --consistency={} --total={}",
            a.clients, a.conns, r.consistency, r.total
        ),
        crate::cli::BenchOp::Put(p) => format!(
            "--clients={} --conns={} put --val-size={} --total={}",
            a.clients, a.conns, p.val_size, p.total
        ),
    }
}

/// `etcdsim explain`: one run, explained stage by stage.
pub fn explain(a: &ExplainArgs) -> Result<(), Error> {
    let p = load_model(&a.bench.model, &a.bench.set)?;
    let w = a.bench.workload(&p)?;
    let r = model::run(&p, &w, a.bench.seed, a.bench.run_options()?);
    check(&r, "the run")?;
    print!(
        "{}",
        crate::report::explain::text(&p, &describe(&a.bench), &r)
    );
    if let Some(path) = &a.svg {
        let stages: Vec<(String, f64, bool)> = r
            .primary()
            .stages
            .iter()
            .filter(|s| s.mean_ns > 0.0)
            .map(|s| {
                (
                    s.stage.name().to_string(),
                    s.mean_ns * 1e-6,
                    s.stage.is_queueing(),
                )
            })
            .collect();
        let title = format!(
            "{}: where a request's time goes ({})",
            p.name,
            describe(&a.bench)
        );
        let svg = crate::report::charts::waterfall(&title, &stages).map_err(Error::Internal)?;
        experiment::write_atomic(path, svg.as_bytes())?;
        eprintln!("etcdsim: wrote {}", path.display());
    }
    Ok(())
}

/// `etcdsim trace`: the first requests' timelines as Chrome trace-event JSON.
pub fn trace(a: &TraceArgs) -> Result<(), Error> {
    let p = load_model(&a.bench.model, &a.bench.set)?;
    let w = a.bench.workload(&p)?;
    let opts = RunOptions {
        trace_requests: a.requests,
        ..a.bench.run_options()?
    };
    let r = model::run(&p, &w, a.bench.seed, opts);
    check(&r, "the run")?;
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Internal(format!("{}: {e}", dir.display())))?;
    }
    let json = crate::report::trace::chrome_json(&r, p.members());
    experiment::write_atomic(&a.out, json.as_bytes())?;
    eprintln!(
        "etcdsim: wrote {} ({} spans of the first {} requests, {} ReadIndex rounds); open it in ui.perfetto.dev",
        a.out.display(),
        r.spans.len(),
        a.requests,
        r.rounds.len()
    );
    Ok(())
}
