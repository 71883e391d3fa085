//! `etcdsim benchmark`, `explain` and `trace`: one run of a model file under a workload given
//! as etcd's benchmark tool's flags, printed as a report, explained stage by stage, or written
//! as a trace.

use std::path::PathBuf;
use std::time::Instant;

use crate::config::workload::WorkloadSpec;
use crate::error::Error;
use crate::model::{self, ClusterParams, RunOptions, RunResult, Workload};
use crate::report::benchmark as report;

use super::files::{self, load_model, write_atomic};

/// One benchmark run: the model, its overrides, the workload, the seed and the caps.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The model file.
    pub model: PathBuf,
    /// Overrides of model keys, `key=value` as `--set` takes them.
    pub set: Vec<String>,
    /// The workload, as the benchmark's flags describe it; errors name the flags (`--conns`).
    pub workload: WorkloadSpec,
    /// Seed of the run's random streams.
    pub seed: u64,
    /// Caps and what to record.
    pub run: RunOptions,
}

/// `etcdsim explain`: a run, and what to call it.
#[derive(Debug, Clone)]
pub struct ExplainOptions {
    /// The run.
    pub bench: BenchOptions,
    /// What the run is, for headings ("--clients=1000 --conns=100 range ...").
    pub heading: String,
    /// Also draw the stages as a waterfall into this SVG file.
    pub svg: Option<PathBuf>,
}

/// `etcdsim trace`: a run and what to trace.
#[derive(Debug, Clone)]
pub struct TraceOptions {
    /// The run.
    pub bench: BenchOptions,
    /// How many requests (from the first issued) and ReadIndex rounds to trace.
    pub requests: u64,
    /// The JSON file to write.
    pub out: PathBuf,
}

/// The model with its overrides, and the workload validated against it.
fn load(o: &BenchOptions) -> Result<(ClusterParams, Workload), Error> {
    let p = load_model(&o.model, &o.set)?;
    let w = o.workload.validate(&p, "command line", "--")?;
    Ok((p, w))
}

/// Loads the model and runs it once with `run` (the options' caps, or more recording).
fn simulate(o: &BenchOptions, run: RunOptions) -> Result<(ClusterParams, RunResult), Error> {
    let (p, w) = load(o)?;
    let r = model::run(&p, &w, o.seed, run);
    super::check(&r, "the run")?;
    Ok((p, r))
}

/// `etcdsim benchmark`: one run, printed as etcd's tool prints it, then etcdsim's additions.
pub fn benchmark(o: &BenchOptions) -> Result<(), Error> {
    let (p, w) = load(o)?;
    // The speed line counts the simulation alone, not loading the files.
    let t0 = Instant::now();
    let r = model::run(&p, &w, o.seed, o.run);
    let wall = t0.elapsed().as_secs_f64();
    super::check(&r, "the run")?;
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

/// `etcdsim explain`: one run, explained stage by stage.
pub fn explain(o: &ExplainOptions) -> Result<(), Error> {
    let (p, r) = simulate(&o.bench, o.bench.run)?;
    print!("{}", crate::report::explain::text(&p, &o.heading, &r));
    if let Some(path) = &o.svg {
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
        let title = format!("{}: where a request's time goes ({})", p.name, o.heading);
        let svg = crate::report::charts::waterfall(&title, &stages).map_err(Error::Internal)?;
        write_atomic(path, svg.as_bytes())?;
        eprintln!("etcdsim: wrote {}", path.display());
    }
    Ok(())
}

/// `etcdsim trace`: the first requests' timelines as Chrome trace-event JSON.
pub fn trace(o: &TraceOptions) -> Result<(), Error> {
    let run = RunOptions {
        trace_requests: o.requests,
        ..o.bench.run
    };
    let (p, r) = simulate(&o.bench, run)?;
    files::create_parent(&o.out)?;
    let json = crate::report::trace::chrome_json(&r, p.members());
    write_atomic(&o.out, json.as_bytes())?;
    eprintln!(
        "etcdsim: wrote {} ({} spans of the first {} requests, {} ReadIndex rounds); open it in ui.perfetto.dev",
        o.out.display(),
        r.spans.len(),
        o.requests,
        r.rounds.len()
    );
    Ok(())
}
