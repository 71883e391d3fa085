//! `etcdsim run EXPERIMENT` and `etcdsim merge`.
//!
//! A run expands the grid, validates every point, then runs the selected (point, replication)
//! pairs in parallel with rayon. Each finished run becomes one CSV row at once, appended to
//! `results.partial.csv` (the journal), so an interrupted sweep keeps every finished run and
//! `--resume` runs only what is missing. At the end, rows are sorted by (point, replication)
//! into `results.csv`, and `summary.csv`, the charts and `run.toml` are computed from the rows
//! alone; that is also how `merge` joins the shards of `--shard K/N` into the files one machine
//! would have written.
//!
//! Each run's seed is a pure function of (base seed, point index, replication), so the files
//! are byte-identical whatever the thread count, the shards or the interruptions.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use crate::config::experiment::{ExperimentFile, Job, describe, plain};
use crate::config::model::ModelSource;
use crate::engine::rng::mix_seed;
use crate::error::Error;
use crate::model::{self, RunOptions, RunResult, Stage};
use crate::report::charts::{self, Series};
use crate::stats::student_t_ci;

use super::files::{self, io, write_atomic};

/// Options of one experiment run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Output folder (default `output/<name>/`, or `output/<name>/shard-K-of-N/`).
    pub out: Option<PathBuf>,
    /// Worker threads.
    pub threads: Option<usize>,
    /// Allow very large sweeps.
    pub yes: bool,
    /// Keep finished runs from the journal.
    pub resume: bool,
    /// (K, N): run only the points whose index is K−1 modulo N.
    pub shard: Option<(usize, usize)>,
    /// No progress output.
    pub quiet: bool,
}

/// What a finished experiment wrote.
#[derive(Debug)]
pub struct Written {
    /// The output folder.
    pub dir: PathBuf,
    /// Points selected (the whole grid, or a shard of it).
    pub points: usize,
    /// Runs in the output.
    pub runs: usize,
    /// Runs simulated by this call (the rest came from the journal).
    pub simulated: usize,
    /// Requests finished (completed or failed, of every kind) in the runs simulated now.
    pub requests: u64,
    /// Events processed in the runs simulated now.
    pub events: u64,
}

/// Everything known before running: the validated points and the shape of the rows.
struct Plan {
    name: String,
    e: ExperimentFile,
    model_path: PathBuf,
    jobs: Vec<Job>,
    axes: Vec<String>,
    resources: Vec<String>,
    header: Vec<String>,
    reps: usize,
    config_hash: u64,
    opts: RunOptions,
}

/// A CSV row of one run; `row[1]` is the point, `row[2]` the replication.
type Row = Vec<String>;

const JOURNAL: &str = "results.partial.csv";

/// Set by Ctrl-C (SIGINT): runs not yet started are skipped, finished ones are kept.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Installs the Ctrl-C handler (once per process; only the command line does this).
fn catch_ctrl_c() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // If a handler cannot be installed, Ctrl-C simply kills the process; the journal still
        // keeps every finished run, so nothing is lost either way.
        let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    });
}

/// `etcdsim run`: runs the experiment at `path`, stopping cleanly on Ctrl-C, and says what it
/// wrote and how fast it simulated.
pub fn run(path: &Path, opts: &Options) -> Result<(), Error> {
    catch_ctrl_c();
    let t0 = Instant::now();
    let w = run_experiment(path, opts)?;
    let wall = t0.elapsed().as_secs_f64();
    eprintln!(
        "etcdsim: {} points, {} runs ({} simulated now) in {:.1} s; wrote {}",
        w.points,
        w.runs,
        w.simulated,
        wall,
        w.dir.display()
    );
    if w.simulated > 0 {
        eprintln!(
            "Simulation speed: {:.0} requests/s, {:.0} events/s (wall, all threads; {} measured requests, {} events with warm-up)",
            w.requests as f64 / wall.max(1e-9),
            w.events as f64 / wall.max(1e-9),
            w.requests,
            w.events
        );
    }
    Ok(())
}

/// `etcdsim merge`: joins the shards' folders and says what it wrote.
pub fn merge(experiment: &Path, shards: &[PathBuf], out: Option<&Path>) -> Result<(), Error> {
    let w = merge_shards(experiment, shards, out)?;
    eprintln!(
        "etcdsim: merged {} runs of {} points into {}",
        w.runs,
        w.points,
        w.dir.display()
    );
    Ok(())
}

fn fnv(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3))
}

fn plan(path: &Path) -> Result<Plan, Error> {
    let file = path.display().to_string();
    let exp_text = files::read(path)?;
    let e = crate::config::experiment::parse(&file, &exp_text)?;
    let name = e.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "experiment".into())
    });
    let (model_path, model_text) = files::read_named(path, "model", &e.model)?;
    let model = ModelSource::parse(&model_path.display().to_string(), &model_text)?;
    let jobs = e.jobs(&file, &model)?;
    let opts = e.limits.run_options(&file)?;
    e.check_chart(&file, &jobs)?;
    let axes: Vec<String> = jobs
        .first()
        .map(|j| j.values.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    let mut resources: Vec<String> = Vec::new();
    for j in &jobs {
        for n in model::resource_names(&j.cluster) {
            if !resources.contains(&n) {
                resources.push(n);
            }
        }
    }
    let mut header: Vec<String> = ["experiment", "point", "replication", "seed"]
        .map(String::from)
        .to_vec();
    header.extend(axes.iter().cloned());
    for op in ["read", "write", "expensive"] {
        header.extend(
            [
                "throughput_rps",
                "completed",
                "failed",
                "latency_ms_mean",
                "latency_ms_p50",
                "latency_ms_p90",
                "latency_ms_p99",
                "latency_ms_p999",
                "latency_ms_max",
            ]
            .map(|c| format!("{op}_{c}")),
        );
    }
    header.extend(
        Stage::ALL
            .iter()
            .map(|s| format!("stage_{}_ms_mean", s.name())),
    );
    header.extend(resources.iter().map(|r| format!("util_{r}_frac")));
    header.extend(
        [
            "bottleneck",
            "saturated",
            "stopped_by",
            "proxy_hit_ratio",
            "readindex_rounds",
            "reads_per_round",
            "backend_commits",
            "events",
        ]
        .map(String::from),
    );
    let config_hash = fnv(
        fnv(0xCBF2_9CE4_8422_2325, exp_text.as_bytes()),
        model_text.as_bytes(),
    );
    let reps = e.replications as usize;
    Ok(Plan {
        name,
        e,
        model_path,
        jobs,
        axes,
        resources,
        header,
        reps,
        config_hash,
        opts,
    })
}

fn f(x: f64) -> String {
    format!("{x:.6}")
}

fn op_cells(o: &model::OpResult) -> [String; 9] {
    let h = &o.latency;
    let ms = |ns: u64| f(ns as f64 * 1e-6);
    [
        f(o.throughput_rps),
        o.completed.to_string(),
        o.failed.to_string(),
        f(o.latency_w.mean() * 1e-6),
        ms(h.quantile(0.5)),
        ms(h.quantile(0.9)),
        ms(h.quantile(0.99)),
        ms(h.quantile(0.999)),
        ms(h.max()),
    ]
}

/// A run's row. Stage means are those of the workload's main operation (reads if any).
fn row_of(p: &Plan, i: usize, rep: usize, seed: u64, r: &RunResult) -> Row {
    let mut row: Row = vec![
        p.name.clone(),
        i.to_string(),
        rep.to_string(),
        seed.to_string(),
    ];
    row.extend(p.jobs[i].values.iter().map(|(_, v)| plain(v)));
    row.extend(op_cells(&r.reads));
    row.extend(op_cells(&r.writes));
    row.extend(op_cells(&r.expensive));
    row.extend(r.primary().stages.iter().map(|s| f(s.mean_ns * 1e-6)));
    row.extend(p.resources.iter().map(|n| {
        r.utilization
            .iter()
            .find(|u| &u.0 == n)
            .map(|u| f(u.1))
            .unwrap_or_default()
    }));
    row.extend([
        r.bottleneck.clone(),
        u8::from(r.saturated()).to_string(),
        r.stopped_by.name().to_string(),
        r.proxy_cache
            .map(|(h, m)| f(h as f64 / (h + m).max(1) as f64))
            .unwrap_or_default(),
        r.readindex_rounds.to_string(),
        f(r.reads_per_round),
        r.backend_commits.to_string(),
        r.events.to_string(),
    ]);
    row
}

fn csv_line(fields: &[String]) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(fields)
        .map_err(|e| Error::Internal(format!("csv: {e}")))?;
    w.into_inner()
        .map_err(|e| Error::Internal(format!("csv: {e}")))
}

/// Reads the rows of a results file or journal whose header is `header`.
fn read_rows(path: &Path, header: &[String]) -> Result<Vec<Row>, Error> {
    let mut rd = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_path(path)
        .map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?;
    let got: Vec<String> = rd
        .headers()
        .map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?
        .iter()
        .map(String::from)
        .collect();
    if got != header {
        return Err(Error::Usage(format!(
            "{}: its columns differ from this experiment's; it was written by another configuration",
            path.display()
        )));
    }
    let mut rows = Vec::new();
    for rec in rd.records() {
        // A half-written last line (the process was killed mid-write) is dropped: that run
        // simply runs again.
        match rec {
            Ok(r) if r.len() == header.len() => rows.push(r.iter().map(String::from).collect()),
            _ => break,
        }
    }
    Ok(rows)
}

fn journal_rows(path: &Path, p: &Plan) -> Result<Vec<Row>, Error> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let first = std::fs::read_to_string(path).map_err(io(path))?;
    let want = format!("# etcdsim journal config={:016x}", p.config_hash);
    if first.lines().next() != Some(want.as_str()) {
        return Err(Error::Usage(format!(
            "{}: written for another version of the experiment or model files; delete it, or run without --resume",
            path.display()
        )));
    }
    read_rows(path, &p.header)
}

fn key(row: &Row) -> (usize, usize) {
    (
        row[1].parse().unwrap_or(usize::MAX),
        row[2].parse().unwrap_or(usize::MAX),
    )
}

/// Loads an experiment and validates every point without running any; returns the number of
/// points.
pub fn validate_experiment(path: &Path) -> Result<usize, Error> {
    Ok(plan(path)?.jobs.len())
}

/// Runs the experiment at `path`; the library entry point behind `etcdsim run`.
pub fn run_experiment(path: &Path, o: &Options) -> Result<Written, Error> {
    let p = plan(path)?;
    let selected: Vec<usize> = (0..p.jobs.len())
        .filter(|i| o.shard.is_none_or(|(k, n)| i % n == k - 1))
        .collect();
    let all_runs = selected.len() * p.reps;
    if all_runs > 10_000 && !o.yes {
        return Err(Error::Usage(format!(
            "{}: {} points × {} replications = {all_runs} runs; pass --yes to run them all",
            path.display(),
            selected.len(),
            p.reps
        )));
    }
    let dir = o.out.clone().unwrap_or_else(|| {
        let base = PathBuf::from("output").join(&p.name);
        match o.shard {
            Some((k, n)) => base.join(format!("shard-{k}-of-{n}")),
            None => base,
        }
    });
    files::create_dir(&dir)?;
    let jpath = dir.join(JOURNAL);
    let mut rows = if o.resume {
        journal_rows(&jpath, &p)?
    } else {
        Vec::new()
    };
    let done: std::collections::BTreeSet<(usize, usize)> = rows.iter().map(key).collect();
    let todo: Vec<(usize, usize)> = selected
        .iter()
        .flat_map(|&i| (0..p.reps).map(move |r| (i, r)))
        .filter(|k| !done.contains(k))
        .collect();
    if !o.quiet {
        eprintln!(
            "etcdsim: {}: {} points × {} replications = {all_runs} runs{}",
            p.name,
            selected.len(),
            p.reps,
            if done.is_empty() {
                String::new()
            } else {
                format!(" ({} already done)", done.len())
            }
        );
    }
    // Start a fresh journal unless resuming one; rewrite the kept rows so it is well formed.
    let mut journal = std::fs::File::create(&jpath).map_err(io(&jpath))?;
    writeln!(journal, "# etcdsim journal config={:016x}", p.config_hash).map_err(io(&jpath))?;
    journal
        .write_all(&csv_line(&p.header)?)
        .map_err(io(&jpath))?;
    for r in &rows {
        journal.write_all(&csv_line(r)?).map_err(io(&jpath))?;
    }
    journal.flush().map_err(io(&jpath))?;
    let fresh = run_all(&p, &todo, o, Mutex::new(journal), &jpath)?;
    let simulated = fresh.len();
    let (requests, events) = work_of(&p.header, &fresh);
    rows.extend(fresh);
    rows.sort_by_key(key);
    finish(&dir, &p, &rows)?;
    std::fs::remove_file(&jpath).map_err(io(&jpath))?;
    Ok(Written {
        dir,
        points: selected.len(),
        runs: rows.len(),
        simulated,
        requests,
        events,
    })
}

/// The requests finished (the `*_completed` and `*_failed` columns) and the events processed
/// (`events`) in `rows`.
fn work_of(header: &[String], rows: &[Row]) -> (u64, u64) {
    let sum = |pick: &dyn Fn(&str) -> bool| -> u64 {
        header
            .iter()
            .enumerate()
            .filter(|(_, h)| pick(h))
            .map(|(i, _)| {
                rows.iter()
                    .map(|r| r.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0))
                    .sum::<u64>()
            })
            .sum()
    };
    (
        sum(&|h| h.ends_with("_completed") || h.ends_with("_failed")),
        sum(&|h| h == "events"),
    )
}

fn run_all(
    p: &Plan,
    todo: &[(usize, usize)],
    o: &Options,
    journal: Mutex<std::fs::File>,
    jpath: &Path,
) -> Result<Vec<Row>, Error> {
    let progress = Progress::new(todo.len(), o.quiet);
    let work = || {
        todo.par_iter()
            .map(|&(i, rep)| {
                if INTERRUPTED.load(Ordering::SeqCst) {
                    return Ok(None);
                }
                let seed = mix_seed(&[p.e.seed, i as u64, rep as u64]);
                let r = model::run(&p.jobs[i].cluster, &p.jobs[i].workload, seed, p.opts);
                let what = format!(
                    "point {i} ({}), replication {rep}",
                    describe(&p.jobs[i].values)
                );
                super::check(&r, &what)?;
                let row = row_of(p, i, rep, seed, &r);
                let line = csv_line(&row)?;
                {
                    let mut j = journal
                        .lock()
                        .map_err(|_| Error::Internal("journal lock poisoned".into()))?;
                    j.write_all(&line)
                        .and_then(|()| j.flush())
                        .map_err(io(jpath))?;
                }
                progress.tick(&format!(
                    "point {i} rep {rep}: {:.0} req/s",
                    r.reads.throughput_rps
                ));
                Ok(Some(row))
            })
            .collect::<Result<Vec<Option<Row>>, Error>>()
    };
    let out = match o.threads {
        None => work(),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map_err(|err| Error::Internal(format!("thread pool: {err}")))?
            .install(work),
    };
    progress.finish();
    let rows = out?;
    let done = rows.iter().filter(|r| r.is_some()).count();
    if done < rows.len() {
        return Err(Error::Interrupted(format!(
            "interrupted: {done} of {} runs finished in this call and are kept in {}; run the same command with --resume to finish the rest",
            rows.len(),
            jpath.display()
        )));
    }
    Ok(rows.into_iter().flatten().collect())
}

/// Progress on stderr: one updating line on a terminal, plain lines otherwise.
struct Progress {
    total: usize,
    done: AtomicUsize,
    start: Instant,
    tty: bool,
    quiet: bool,
}

impl Progress {
    fn new(total: usize, quiet: bool) -> Progress {
        Progress {
            total,
            done: AtomicUsize::new(0),
            start: Instant::now(),
            tty: std::io::stderr().is_terminal(),
            quiet,
        }
    }

    fn tick(&self, what: &str) {
        let n = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if self.quiet {
            return;
        }
        let el = self.start.elapsed().as_secs_f64();
        let eta = el / n as f64 * (self.total - n) as f64;
        if self.tty {
            let filled = n * 30 / self.total.max(1);
            eprint!(
                "\r  [{}{}] {n}/{} runs, {el:.0} s elapsed, ETA {eta:.0} s   ",
                "#".repeat(filled),
                ".".repeat(30 - filled),
                self.total
            );
        } else if self.total <= 200 || n % (self.total / 100).max(1) == 0 || n == self.total {
            eprintln!(
                "  [{n}/{}] {what} (elapsed {el:.1} s, ETA {eta:.0} s)",
                self.total
            );
        }
    }

    fn finish(&self) {
        if self.tty && !self.quiet {
            eprintln!();
        }
    }
}

/// Joins shard folders into the outputs of the whole grid.
pub fn merge_shards(
    experiment: &Path,
    shards: &[PathBuf],
    out: Option<&Path>,
) -> Result<Written, Error> {
    let p = plan(experiment)?;
    let mut rows: Vec<Row> = Vec::new();
    for s in shards {
        rows.extend(read_rows(&s.join("results.csv"), &p.header)?);
    }
    rows.sort_by_key(key);
    rows.dedup_by_key(|r| key(r));
    let want: Vec<(usize, usize)> = (0..p.jobs.len())
        .flat_map(|i| (0..p.reps).map(move |r| (i, r)))
        .collect();
    let got: Vec<(usize, usize)> = rows.iter().map(key).collect();
    if got != want {
        let missing = want.iter().filter(|k| !got.contains(k)).count();
        return Err(Error::Usage(format!(
            "the shards hold {} of {} runs ({missing} missing): merge needs every shard",
            got.len(),
            want.len()
        )));
    }
    let dir = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("output").join(&p.name));
    files::create_dir(&dir)?;
    finish(&dir, &p, &rows)?;
    Ok(Written {
        dir,
        points: p.jobs.len(),
        runs: rows.len(),
        simulated: 0,
        requests: 0,
        events: 0,
    })
}

/// Everything after the runs, from the sorted rows alone.
fn finish(dir: &Path, p: &Plan, rows: &[Row]) -> Result<(), Error> {
    if let Some(bad) = rows.iter().find(|r| r.len() != p.header.len()) {
        return Err(Error::Internal(format!(
            "a row has {} fields for {} columns (point {}, replication {})",
            bad.len(),
            p.header.len(),
            bad.get(1).map_or("?", String::as_str),
            bad.get(2).map_or("?", String::as_str)
        )));
    }
    let mut bytes = csv_line(&p.header)?;
    for r in rows {
        bytes.extend(csv_line(r)?);
    }
    write_atomic(&dir.join("results.csv"), &bytes)?;
    let t = Table {
        header: &p.header,
        rows,
    };
    write_summary(dir, p, &t)?;
    write_charts(dir, p, &t)?;
    write_run_toml(dir, p, &t)
}

/// Rows with named columns.
struct Table<'a> {
    header: &'a [String],
    rows: &'a [Row],
}

impl Table<'_> {
    fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or(usize::MAX)
    }
    fn num(&self, row: &Row, name: &str) -> f64 {
        row.get(self.col(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }
    /// The rows of each point, in point order.
    fn points(&self) -> Vec<&[Row]> {
        self.rows.chunk_by(|a, b| a[1] == b[1]).collect()
    }
}

fn ci(xs: &[f64]) -> (String, String) {
    let c = student_t_ci(xs, 0.95);
    (
        f(c.mean),
        if c.half_width.is_finite() {
            f(c.half_width)
        } else {
            String::new()
        },
    )
}

fn write_summary(dir: &Path, p: &Plan, t: &Table) -> Result<(), Error> {
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(p.axes.iter().cloned());
    header.push("replications".into());
    let metrics = [
        "read_throughput_rps",
        "read_latency_ms_mean",
        "read_latency_ms_p99",
        "read_failed",
        "write_throughput_rps",
        "write_latency_ms_mean",
        "write_latency_ms_p99",
        "write_failed",
    ];
    for m in metrics {
        header.push(format!("{m}_mean"));
        header.push(format!("{m}_ci95"));
    }
    header.push("bottleneck".into());
    let mut bytes = csv_line(&header)?;
    for rs in t.points() {
        let mut row: Row = vec![rs[0][1].clone()];
        row.extend(p.axes.iter().map(|a| rs[0][t.col(a)].clone()));
        row.push(rs.len().to_string());
        for m in metrics {
            let xs: Vec<f64> = rs.iter().map(|r| t.num(r, m)).collect();
            let (mean, hw) = ci(&xs);
            row.push(mean);
            row.push(hw);
        }
        row.push(rs[0][t.col("bottleneck")].clone());
        bytes.extend(csv_line(&row)?);
    }
    write_atomic(&dir.join("summary.csv"), &bytes)
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { 0.0 } else { s / n as f64 }
}

fn write_charts(dir: &Path, p: &Plan, t: &Table) -> Result<(), Error> {
    let chart_err = |err: String| Error::Internal(format!("chart: {err}"));
    let pts = t.points();
    let label = |rs: &[Row], keys: &[String]| -> String {
        keys.iter()
            .map(|k| rs[0][t.col(k)].clone())
            .collect::<Vec<_>>()
            .join("/")
    };
    let cats: Vec<String> = pts.iter().map(|rs| label(rs, &p.axes)).collect();
    let layers: Vec<(String, Vec<f64>)> = Stage::ALL
        .iter()
        .map(|st| {
            let c = format!("stage_{}_ms_mean", st.name());
            (
                st.name().to_string(),
                pts.iter()
                    .map(|rs| mean(rs.iter().map(|r| t.num(r, &c))))
                    .collect::<Vec<f64>>(),
            )
        })
        .filter(|(_, v)| v.iter().any(|&x| x > 0.0))
        .collect();
    let svg = charts::stacked_bars(
        &format!("{}: where a request's time goes", p.name),
        "mean latency (ms)",
        &cats,
        &layers,
    )
    .map_err(chart_err)?;
    write_atomic(&dir.join("breakdown.svg"), svg.as_bytes())?;
    let Some(spec) = &p.e.charts else {
        return Ok(());
    };
    // One line per combination of the other axes (keys zipped with x move with it).
    let with_x = p.e.zipped_with(&spec.x);
    let rest: Vec<String> = p
        .axes
        .iter()
        .filter(|a| !with_x.contains(a))
        .cloned()
        .collect();
    let mut groups: Vec<(String, Vec<&[Row]>)> = Vec::new();
    for rs in &pts {
        let l = if rest.is_empty() {
            "etcdsim".to_string()
        } else {
            rest.iter()
                .map(|k| format!("{k}={}", rs[0][t.col(k)]))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match groups.iter_mut().find(|g| g.0 == l) {
            Some(g) => g.1.push(rs),
            None => groups.push((l, vec![rs])),
        }
    }
    let line = |label: String, g: &[&[Row]], color: usize, markers: bool, metric: &str| {
        let mut points: Vec<(f64, f64)> = g
            .iter()
            .map(|rs| {
                (
                    t.num(&rs[0], &spec.x),
                    mean(rs.iter().map(|r| t.num(r, metric))),
                )
            })
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        Series {
            label,
            points,
            markers,
            color,
        }
    };
    let op = spec.op.as_deref().unwrap_or("read");
    let thr: Vec<Series> = groups
        .iter()
        .enumerate()
        .map(|(c, (l, g))| line(l.clone(), g, c, true, &format!("{op}_throughput_rps")))
        .collect();
    let svg = charts::line_chart(
        &format!("{}: {op} throughput", p.name),
        &spec.x,
        &format!("successful {op}s per second"),
        &thr,
        spec.log_x,
    )
    .map_err(chart_err)?;
    write_atomic(&dir.join("throughput.svg"), svg.as_bytes())?;
    let mut lat = Vec::new();
    for (c, (l, g)) in groups.iter().enumerate() {
        lat.push(line(
            format!("{l} mean"),
            g,
            c,
            false,
            &format!("{op}_latency_ms_mean"),
        ));
        lat.push(line(
            format!("{l} p99"),
            g,
            c,
            true,
            &format!("{op}_latency_ms_p99"),
        ));
    }
    let svg = charts::line_chart(
        &format!("{}: {op} latency", p.name),
        &spec.x,
        &format!("{op} latency (ms)"),
        &lat,
        spec.log_x,
    )
    .map_err(chart_err)?;
    write_atomic(&dir.join("latency.svg"), svg.as_bytes())
}

#[derive(serde::Serialize)]
struct RunToml {
    etcdsim_version: String,
    experiment: String,
    model_file: String,
    config_hash: String,
    base_seed: u64,
    replications: u32,
    experiment_file: ExperimentFile,
    runs: Vec<RunEntry>,
}

#[derive(serde::Serialize)]
struct RunEntry {
    point: usize,
    replication: usize,
    seed: u64,
    values: String,
}

fn write_run_toml(dir: &Path, p: &Plan, t: &Table) -> Result<(), Error> {
    let runs = t
        .rows
        .iter()
        .map(|r| RunEntry {
            point: key(r).0,
            replication: key(r).1,
            seed: r[3].parse().unwrap_or(0),
            values: p
                .axes
                .iter()
                .map(|a| format!("{a}={}", r[t.col(a)]))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let text = toml::to_string(&RunToml {
        etcdsim_version: env!("CARGO_PKG_VERSION").into(),
        experiment: p.name.clone(),
        model_file: p.model_path.display().to_string(),
        config_hash: format!("{:016x}", p.config_hash),
        base_seed: p.e.seed,
        replications: p.e.replications,
        experiment_file: p.e.clone(),
        runs,
    })
    .map_err(|err| Error::Internal(format!("run.toml: {err}")))?;
    write_atomic(&dir.join("run.toml"), text.as_bytes())
}
