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

use crate::config::experiment::{ExperimentFile, Job, RunEntry, describe, plain};
use crate::config::model::ModelSource;
use crate::engine::rng::mix_seed;
use crate::error::Error;
use crate::model::{self, RunOptions};
use crate::report::experiment::{self as results, LineCharts, RunId, RunRow, SummaryRow};
use crate::report::table::{self, ReadError};

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
    /// A row with this experiment's axes and resources: the header, and how rows read back.
    template: RunRow,
    reps: usize,
    config_hash: u64,
    opts: RunOptions,
}

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

/// Reads the experiment and its model (each once) and validates every point.
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
        template: RunRow::template(&axes, &resources),
        reps,
        config_hash,
        opts,
    })
}

/// The rows of a results file or journal (`text`, read from `path`), whose header must be this
/// experiment's; a half-written last line is dropped (that run simply runs again).
fn read_rows(path: &Path, text: &str, p: &Plan) -> Result<Vec<RunRow>, Error> {
    table::read_csv(&p.template, text).map_err(|e| match e {
        ReadError::Columns => Error::Usage(format!(
            "{}: its columns differ from this experiment's; it was written by another configuration",
            path.display()
        )),
        ReadError::Csv(e) => Error::Internal(format!("{}: {e}", path.display())),
    })
}

/// The journal's first line: which experiment and model files its rows came from.
fn journal_mark(p: &Plan) -> String {
    format!("# etcdsim journal config={:016x}", p.config_hash)
}

/// The runs a journal kept, if it was written for these very files.
fn journal_rows(path: &Path, p: &Plan) -> Result<Vec<RunRow>, Error> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    if text.lines().next() != Some(journal_mark(p).as_str()) {
        return Err(Error::Usage(format!(
            "{}: written for another version of the experiment or model files; delete it, or run without --resume",
            path.display()
        )));
    }
    read_rows(path, &text, p)
}

/// Starts the journal at `path` with the runs already `kept`, rewritten so it is well formed.
fn start_journal(path: &Path, p: &Plan, kept: &[RunRow]) -> Result<std::fs::File, Error> {
    let mut journal = std::fs::File::create(path).map_err(io(path))?;
    writeln!(journal, "{}", journal_mark(p)).map_err(io(path))?;
    journal
        .write_all(&table::csv(&p.template, kept))
        .map_err(io(path))?;
    journal.flush().map_err(io(path))?;
    Ok(journal)
}

fn key(row: &RunRow) -> (usize, usize) {
    (row.point, row.replication)
}

/// Loads an experiment and validates every point without running any; returns the number of
/// points.
pub fn validate_experiment(path: &Path) -> Result<usize, Error> {
    Ok(plan(path)?.jobs.len())
}

/// Where the outputs go: `--out`, or `output/<name>/` (a folder per shard).
fn output_dir(p: &Plan, o: &Options) -> PathBuf {
    o.out.clone().unwrap_or_else(|| {
        let base = PathBuf::from("output").join(&p.name);
        match o.shard {
            Some((k, n)) => base.join(format!("shard-{k}-of-{n}")),
            None => base,
        }
    })
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
    let dir = output_dir(&p, o);
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
    let journal = start_journal(&jpath, &p, &rows)?;
    let fresh = run_all(&p, &todo, o, Mutex::new(journal), &jpath)?;
    let simulated = fresh.len();
    let requests = fresh.iter().map(RunRow::requests).sum();
    let events = fresh.iter().map(|r| r.events).sum();
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

/// Runs `todo`'s (point, replication) pairs in parallel, each row journaled as it finishes.
fn run_all(
    p: &Plan,
    todo: &[(usize, usize)],
    o: &Options,
    journal: Mutex<std::fs::File>,
    jpath: &Path,
) -> Result<Vec<RunRow>, Error> {
    let progress = Progress::new(todo.len(), o.quiet);
    let work = || {
        todo.par_iter()
            .map(|&(i, rep)| {
                if INTERRUPTED.load(Ordering::SeqCst) {
                    return Ok(None);
                }
                let seed = mix_seed(&[p.e.seed, i as u64, rep as u64]);
                let job = &p.jobs[i];
                let r = model::run(&job.cluster, &job.workload, seed, p.opts);
                let what = format!("point {i} ({}), replication {rep}", describe(&job.values));
                super::check(&r, &what)?;
                let id = RunId {
                    experiment: p.name.clone(),
                    point: i,
                    replication: rep,
                    seed,
                };
                let axes = job
                    .values
                    .iter()
                    .map(|(k, v)| (k.clone(), plain(v)))
                    .collect();
                let row = RunRow::of(&p.template, id, axes, &r);
                let line = table::csv_line(&table::cells(&row));
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
            .collect::<Result<Vec<Option<RunRow>>, Error>>()
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
    let mut rows: Vec<RunRow> = Vec::new();
    for s in shards {
        let path = s.join("results.csv");
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        rows.extend(read_rows(&path, &text, &p)?);
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

/// Everything after the runs, from the sorted rows alone: `results.csv`, `summary.csv`, the
/// charts and `run.toml`.
fn finish(dir: &Path, p: &Plan, rows: &[RunRow]) -> Result<(), Error> {
    write_atomic(&dir.join("results.csv"), &table::csv(&p.template, rows))?;
    let summary: Vec<SummaryRow> = results::points(rows)
        .into_iter()
        .map(SummaryRow::of)
        .collect();
    let shape = SummaryRow::of(std::slice::from_ref(&p.template));
    write_atomic(&dir.join("summary.csv"), &table::csv(&shape, &summary))?;
    write_charts(dir, p, rows)?;
    let runs = rows
        .iter()
        .map(|r| RunEntry {
            point: r.point,
            replication: r.replication,
            seed: r.seed,
            values: r
                .axes
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let model_file = p.model_path.display().to_string();
    let text = crate::config::experiment::run_toml(&p.e, &p.name, &model_file, p.config_hash, runs)
        .map_err(Error::Internal)?;
    write_atomic(&dir.join("run.toml"), text.as_bytes())
}

/// The breakdown chart, and the throughput and latency charts if the experiment asks for them.
fn write_charts(dir: &Path, p: &Plan, rows: &[RunRow]) -> Result<(), Error> {
    let chart_err = |err: String| Error::Internal(format!("chart: {err}"));
    let svg = results::breakdown(&p.name, rows).map_err(chart_err)?;
    write_atomic(&dir.join("breakdown.svg"), svg.as_bytes())?;
    let Some(spec) = &p.e.charts else {
        return Ok(());
    };
    // x by point, from the typed grid values (check_chart made sure it is a number).
    let xs: Vec<f64> = p
        .jobs
        .iter()
        .map(|j| {
            j.values
                .iter()
                .find(|(k, _)| *k == spec.x)
                .and_then(|(_, v)| crate::config::number(v))
                .unwrap_or(f64::NAN)
        })
        .collect();
    // One line per combination of the other axes (keys zipped with x move with it).
    let with_x = p.e.zipped_with(&spec.x);
    let lines: Vec<String> = p
        .template
        .axes
        .iter()
        .map(|a| a.0.clone())
        .filter(|a| !with_x.contains(a))
        .collect();
    let (throughput, latency) = results::line_charts(
        &p.name,
        rows,
        &LineCharts {
            x: &spec.x,
            xs: &xs,
            log_x: spec.log_x,
            op: spec.op.as_deref().unwrap_or("read"),
            lines: &lines,
        },
    )
    .map_err(chart_err)?;
    write_atomic(&dir.join("throughput.svg"), throughput.as_bytes())?;
    write_atomic(&dir.join("latency.svg"), latency.as_bytes())
}
