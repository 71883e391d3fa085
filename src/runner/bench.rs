//! `etcdsim benchmark`, `explain` and `trace`: one run of a model file under a workload given
//! as etcd's benchmark tool's flags, printed as a report, explained stage by stage, or written
//! as a trace.
//!
//! Ctrl-C stops the run where it is; the report then covers what was simulated, says so, and
//! the command exits with 130. A file to write is started before the run, so a place that
//! cannot be written is found before any simulation.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use crate::config::limits::check_fits;
use crate::config::workload::WorkloadSpec;
use crate::error::Error;
use crate::model::{self, ClusterParams, RunOptions, RunResult, StoppedBy, Workload};
use crate::report::benchmark as report;

use super::console::{emit, note};
use super::files::{self, ModelRef, OutputFile};
use super::interrupt;

/// One benchmark run: the model, its overrides, the workload, the seed and the caps.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The model: a file, or the one built into etcdsim.
    pub model: ModelRef,
    /// Overrides of model keys, `key=value` as `--set` takes them.
    pub set: Vec<String>,
    /// The workload, as the benchmark's flags describe it.
    pub workload: WorkloadSpec,
    /// How errors name a workload key: the command line names its flags (`put --val-size`).
    pub key_name: fn(&str) -> String,
    /// Seed of the run's random streams.
    pub seed: u64,
    /// Caps and what to record.
    pub run: RunOptions,
    /// What the run is, for headings and titles: the command line's flags, every override
    /// ("--clients=1000 --conns=100 --set network.rtt_us=1000 range foo ...").
    pub heading: String,
    /// Text (etcd's layout and etcdsim's additions, or the explanation) or JSON.
    pub format: super::Format,
}

/// `etcdsim explain`: a run, and what to call it.
#[derive(Debug, Clone)]
pub struct ExplainOptions {
    /// The run.
    pub bench: BenchOptions,
    /// Also draw the stages as a waterfall into this SVG file.
    pub svg: Option<PathBuf>,
    /// And into this PNG file (the same chart, by the same drawing code).
    pub png: Option<PathBuf>,
}

/// `etcdsim trace`: a run and what to trace.
#[derive(Debug, Clone)]
pub struct TraceOptions {
    /// The run.
    pub bench: BenchOptions,
    /// How many requests (from the first issued) and ReadIndex rounds to trace.
    pub requests: u64,
    /// The JSON file to write; `-` is standard output.
    pub out: PathBuf,
}

/// The most requests `trace` records: each keeps a span per stage it passes.
pub const MAX_TRACED: u64 = 100_000;

const ON_CTRL_C: &str = "the run stops, and the report covers what was simulated";

/// The model and the run, as headings and chart titles name them: "gce-8vcpu-ssd (etcd 3.2.0;
/// the reference model built into etcdsim), --clients=1000 --conns=100 range foo ..." (a model
/// file is named by the heading's `--model=`).
pub fn identity(p: &ClusterParams, o: &BenchOptions) -> String {
    let source = match &o.model {
        ModelRef::Embedded => "; the reference model built into etcdsim",
        ModelRef::File(_) => "",
    };
    format!(
        "{} (etcd {}{source}), {}",
        p.name, p.mechanisms.version, o.heading
    )
}

/// The model with its overrides, and the workload validated against it and the caps.
fn load(o: &BenchOptions) -> Result<(ClusterParams, Workload), Error> {
    let p = files::load(&o.model, &o.set)?;
    let w = o.workload.validate_named(&p, "command line", &o.key_name)?;
    check_fits(
        &w,
        &o.run,
        "command line",
        &(o.key_name)("clients"),
        "--max-in-flight",
    )?;
    Ok((p, w))
}

/// Runs `p` under `w` once with `run`, watching Ctrl-C, and checks the run.
fn simulate(
    p: &ClusterParams,
    w: &Workload,
    seed: u64,
    run: RunOptions,
) -> Result<RunResult, Error> {
    let run = RunOptions {
        stop: Some(interrupt::flag()),
        ..run
    };
    let r = model::run(p, w, seed, run);
    super::check(&r, "the run")?;
    Ok(r)
}

/// After the outputs of an interrupted run: exit 130, saying what they cover.
fn finished(r: &RunResult) -> Result<(), Error> {
    if r.stopped_by != StoppedBy::Interrupted {
        return Ok(());
    }
    Err(Error::Interrupted(format!(
        "interrupted by Ctrl-C after {} events: what was written covers the run up to then",
        r.events
    )))
}

/// `etcdsim benchmark`: one run, printed to `out` as etcd's tool prints it, then etcdsim's
/// additions.
pub fn benchmark(o: &BenchOptions, out: &mut dyn Write) -> Result<(), Error> {
    interrupt::install(ON_CTRL_C);
    let (p, w) = load(o)?;
    // The speed line counts the simulation alone, not loading the files.
    let t0 = Instant::now();
    let r = simulate(&p, &w, o.seed, o.run)?;
    let wall = t0.elapsed().as_secs_f64();
    if o.format == super::Format::Json {
        let doc = crate::report::json::run("benchmark", &identity(&p, o), &p, &r);
        emit(
            out,
            &crate::report::json::text(&doc).map_err(Error::Internal)?,
        )?;
        return finished(&r);
    }
    let finished_requests =
        (r.reads.completed + r.reads.failed + r.writes.completed + r.writes.failed) as f64;
    let text = format!(
        "etcdsim benchmark: {}\n{}{}Simulation speed: {:.0} requests/s, {:.0} events/s (wall)\n",
        identity(&p, o),
        report::etcd_layout(&r),
        report::additions(&r),
        finished_requests / wall.max(1e-9),
        r.events as f64 / wall.max(1e-9)
    );
    emit(out, &text)?;
    finished(&r)
}

/// `etcdsim explain`: one run, explained stage by stage on `out`.
pub fn explain(o: &ExplainOptions, out: &mut dyn Write) -> Result<(), Error> {
    interrupt::install(ON_CTRL_C);
    let (p, w) = load(&o.bench)?;
    let svg_file = match &o.svg {
        Some(path) => Some(OutputFile::create(path, "the waterfall chart (--svg)")?),
        None => None,
    };
    let png_file = match &o.png {
        Some(path) => Some(OutputFile::create(path, "the waterfall chart (--png)")?),
        None => None,
    };
    let r = simulate(&p, &w, o.bench.seed, o.bench.run)?;
    let what = identity(&p, &o.bench);
    let text = match o.bench.format {
        super::Format::Text => crate::report::explain::text(&what, &r),
        super::Format::Json => {
            let doc = crate::report::json::run("explain", &what, &p, &r);
            crate::report::json::text(&doc).map_err(Error::Internal)?
        }
    };
    emit(out, &text)?;
    if svg_file.is_some() || png_file.is_some() {
        let plot = waterfall(&what, &r);
        let chart_err = |e: String| Error::Internal(format!("the waterfall chart: {e}"));
        if let Some(file) = svg_file {
            let path = file.path().to_path_buf();
            file.commit(plot.svg().map_err(chart_err)?.as_bytes())?;
            note(format!("etcdsim: wrote {}", path.display()));
        }
        if let Some(file) = png_file {
            let path = file.path().to_path_buf();
            file.commit(&plot.png().map_err(chart_err)?)?;
            note(format!("etcdsim: wrote {}", path.display()));
        }
    }
    finished(&r)
}

/// The waterfall of run `r` (the stages a request spent time in, in order), titled with
/// `what` the run is: the model and every flag and override.
fn waterfall(what: &str, r: &RunResult) -> crate::report::charts::Plot {
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
    let title = format!("Where a request's time goes: {what}");
    crate::report::charts::waterfall(&title, &stages)
}

/// `etcdsim trace`: the first requests' timelines as Chrome trace-event JSON, into the file
/// `o.out`, or onto `stdout` when it is `-`.
pub fn trace(o: &TraceOptions, stdout: &mut dyn Write) -> Result<(), Error> {
    interrupt::install(ON_CTRL_C);
    if !(1..=MAX_TRACED).contains(&o.requests) {
        return Err(Error::Usage(format!(
            "--requests: must be between 1 and {MAX_TRACED} (got {})",
            o.requests
        )));
    }
    let (p, w) = load(&o.bench)?;
    // `-` is standard output, as for most command-line tools; a file is started before the
    // run so that a place that cannot be written is found first.
    let to_stdout = o.out.as_os_str() == "-";
    let file = match to_stdout {
        true => None,
        false => Some(OutputFile::create(&o.out, "the trace file (--out)")?),
    };
    let run = RunOptions {
        trace_requests: o.requests,
        ..o.bench.run
    };
    let r = simulate(&p, &w, o.bench.seed, run)?;
    let json = crate::report::trace::chrome_json(&r, p.members());
    match file {
        Some(file) => file.commit(json.as_bytes())?,
        None => emit(stdout, &json)?,
    }
    note(format!(
        "etcdsim: wrote {} ({} spans of the first {} requests, {} ReadIndex rounds); open it in ui.perfetto.dev",
        if to_stdout {
            "the trace to standard output".to_string()
        } else {
            o.out.display().to_string()
        },
        r.spans.len(),
        o.requests,
        r.rounds.len()
    ));
    finished(&r)
}
