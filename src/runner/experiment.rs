//! `etcdsim run EXPERIMENT`.
//!
//! A run expands the grid, validates every point, locks and checks its output folder, then
//! runs the selected (point, replication) pairs in parallel with rayon. Each finished run
//! becomes one CSV row at once, appended to `results.partial.csv` (the journal), so an
//! interrupted sweep keeps every finished run and `--resume` runs only what is missing. At the
//! end, rows are sorted by (point, replication) into `results.csv`, and `summary.csv`, the
//! charts and `run.toml` are computed from the rows alone, staged and published as one unit
//! (`output_dir`); that is also how `merge` joins the shards of `--shard K/N`.
//!
//! Each run's seed is a pure function of (base seed, point index, replication), so the files
//! are byte-identical whatever the thread count, the shards or the interruptions.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use crate::config::experiment::{Limits, MAX_RUNS, describe};
use crate::error::Error;
use crate::model::{self, RunResult};
use crate::report::experiment::{RunId, RunRow};
use crate::report::table;
use crate::report::timeline::{self as timeline, EventCsv, EventStageCsv, IntervalCsv};

use super::console::{note, note_inline};
use super::files;
use super::interrupt;
use super::output_dir::{OutputDir, WORKING_FILES};
use super::outputs::{OverTime, finish};
use super::rows;
use super::sweep::{Sweep, Written, key, output_dir, prepare};

/// Options of one experiment run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Output folder (default `output/<name>/`, or `output/<name>/shard-K-of-N/`).
    pub out: Option<PathBuf>,
    /// Worker threads (default: every core).
    pub threads: Option<usize>,
    /// Allow very large sweeps.
    pub yes: bool,
    /// Keep finished runs from the journal.
    pub resume: bool,
    /// (K, N): run only the points whose index is K−1 modulo N.
    pub shard: Option<(usize, usize)>,
    /// No progress output.
    pub quiet: bool,
    /// Write into a non-empty folder that is not an earlier etcdsim output.
    pub force: bool,
    /// Run every run twice and compare their event traces.
    pub check_determinism: bool,
    /// Caps from the command line, over the file's `[limits]`.
    pub limits: Limits,
}

/// `etcdsim run`: runs the experiment at `path`, stopping cleanly on Ctrl-C, and says what it
/// wrote and how fast it simulated.
pub fn run(path: &Path, opts: &Options) -> Result<(), Error> {
    interrupt::install("the runs in progress finish and are kept, no new run starts");
    let t0 = Instant::now();
    let w = run_experiment(path, opts)?;
    let wall = t0.elapsed().as_secs_f64();
    note(format!(
        "etcdsim: {} points, {} runs ({} simulated now) in {:.1} s; wrote {}",
        w.points,
        w.runs,
        w.simulated,
        wall,
        w.dir.display()
    ));
    if w.simulated > 0 {
        note(format!(
            "Simulation speed: {:.0} requests/s, {:.0} events/s (wall, all threads; {} measured requests, {} events with warm-up)",
            w.requests as f64 / wall.max(1e-9),
            w.events as f64 / wall.max(1e-9),
            w.requests,
            w.events
        ));
    }
    Ok(())
}

/// Runs the experiment at `path`; the library entry point behind `etcdsim run`.
pub fn run_experiment(path: &Path, o: &Options) -> Result<Written, Error> {
    let p = prepare(path, &o.limits)?;
    let pool = super::thread_pool(o.threads)?;
    let in_shard = |i: usize| o.shard.is_none_or(|(k, n)| i % n == k - 1);
    let selected: Vec<usize> = (0..p.jobs.len()).filter(|&i| in_shard(i)).collect();
    let all_runs = selected.len() * p.reps;
    if all_runs > MAX_RUNS {
        return Err(Error::Usage(format!(
            "{}: {} points × {} replications = {all_runs} runs, more than the {MAX_RUNS} one run may make; split the grid with --shard K/N",
            path.display(),
            selected.len(),
            p.reps
        )));
    }
    if all_runs > 10_000 && !o.yes {
        return Err(Error::Usage(format!(
            "{}: {} points × {} replications = {all_runs} runs; pass --yes to run them all",
            path.display(),
            selected.len(),
            p.reps
        )));
    }
    let over_time = p.jobs.iter().any(|j| j.workload.interval.is_some());
    if over_time && (o.resume || o.shard.is_some()) {
        return Err(Error::Usage(format!(
            "{}: an experiment with a timeline (or interval_s) cannot be sharded or resumed yet: its intervals.csv is not journaled; run it whole",
            path.display()
        )));
    }
    let mut out = OutputDir::open(&output_dir(&p.name, o.out.as_deref(), o.shard), o.force)?;
    let jpath = out.path().join(WORKING_FILES[0]);
    let mut rows = if o.resume {
        rows::journal(&jpath, &p, &in_shard)?
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
        note(format!(
            "etcdsim: {}: {} points × {} replications = {all_runs} runs{}",
            p.name,
            selected.len(),
            p.reps,
            if done.is_empty() {
                String::new()
            } else {
                format!(" ({} already done)", done.len())
            }
        ));
    }
    let journal = rows::start_journal(&jpath, &p, &rows)?;
    let mut fresh = Vec::new();
    let (mut intervals, mut event_rows, mut stage_rows) = (Vec::new(), Vec::new(), Vec::new());
    for (row, iv, ev, st) in pool.install(|| run_all(&p, &todo, o, &Mutex::new(journal), &jpath))? {
        fresh.push(row);
        intervals.extend(iv);
        event_rows.extend(ev);
        stage_rows.extend(st);
    }
    let simulated = fresh.len();
    let requests = fresh.iter().map(RunRow::requests).sum();
    let events = fresh.iter().map(|r| r.events).sum();
    rows.extend(fresh);
    rows.sort_by_key(key);
    // `todo` is in (point, replication) order, and so are the runs' intervals and events.
    let over_time = over_time.then_some(OverTime {
        intervals: &intervals,
        events: &event_rows,
        event_stages: &stage_rows,
    });
    finish(&mut out, &p, &rows, o.shard, over_time)?;
    let dir = out.path().to_path_buf();
    out.publish(&WORKING_FILES)?;
    Ok(Written {
        dir,
        points: selected.len(),
        runs: rows.len(),
        simulated,
        requests,
        events,
    })
}

/// A finished run: its row, its intervals and its events (none unless its workload records
/// intervals and scripts a timeline).
type Finished = (RunRow, Vec<IntervalCsv>, Vec<EventCsv>, Vec<EventStageCsv>);

/// Runs `todo`'s (point, replication) pairs in parallel, each row journaled as it finishes;
/// after Ctrl-C no new run starts. A failure is reported for the first run in `todo`'s order
/// that fails, whatever the threads: once one fails, only the runs before it still start.
fn run_all(
    p: &Sweep,
    todo: &[(usize, usize)],
    o: &Options,
    journal: &Mutex<std::fs::File>,
    jpath: &Path,
) -> Result<Vec<Finished>, Error> {
    let progress = Progress::new(todo.len(), o.quiet);
    let first_failure = AtomicUsize::new(usize::MAX);
    let out: Vec<Result<Option<Finished>, Error>> = todo
        .par_iter()
        .enumerate()
        .map(|(at, &(i, rep))| {
            if interrupt::requested() || at > first_failure.load(Ordering::SeqCst) {
                return Ok(None);
            }
            let row = run_and_journal(p, (i, rep), o.check_determinism, journal, jpath);
            match &row {
                Ok((row, ..)) => progress.tick(&format!(
                    "point {i} rep {rep}: {:.0} req/s",
                    row.ops[0].throughput_rps.0
                )),
                Err(_) => {
                    first_failure.fetch_min(at, Ordering::SeqCst);
                }
            }
            row.map(Some)
        })
        .collect();
    progress.finish();
    let mut rows = Vec::with_capacity(out.len());
    for r in out {
        rows.push(r?);
    }
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

/// Point `i`'s replication `rep` as a row, appended to the journal.
fn run_and_journal(
    p: &Sweep,
    (i, rep): (usize, usize),
    twice: bool,
    journal: &Mutex<std::fs::File>,
    jpath: &Path,
) -> Result<Finished, Error> {
    let r = run_one(p, i, rep, twice)?;
    let id = RunId {
        experiment: p.name.clone(),
        point: i,
        replication: rep,
        seed: r.seed,
        config_hash: p.config_hash,
    };
    let row = RunRow::of(&p.template, id, p.axes_of(i), &r);
    let intervals = r
        .intervals
        .iter()
        .map(|iv| IntervalCsv::of(i, rep, &row.axes, iv))
        .collect();
    if r.intervals_beyond > 0 {
        note(format!(
            "etcdsim: point {i}, replication {rep}: intervals.csv holds the first {} intervals; {} requests completed after them",
            crate::model::timeline::MAX_INTERVALS,
            r.intervals_beyond
        ));
    }
    let w = &p.jobs[i].workload;
    let (events, stages) = timeline::event_rows(
        (i, rep),
        &row.axes,
        &r.intervals,
        &timeline::events(
            &w.timeline,
            &timeline::compacted(&w.timeline, &r.compactions),
        ),
        w.warmup_time.as_secs_f64(),
        &r.leader_changes
            .iter()
            .map(|lc| (lc.at_ns as f64 / 1e9, format!("member{}", lc.leader.0)))
            .collect::<Vec<_>>(),
    );
    let line = table::csv_line(&table::cells(&row));
    let mut j = journal
        .lock()
        .map_err(|_| Error::Internal("journal lock poisoned".into()))?;
    j.write_all(&line)
        .and_then(|()| j.flush())
        .map_err(|e| files::os_error("the journal", jpath, "write it", e))?;
    Ok((row, intervals, events, stages))
}

/// Point `i`'s replication `rep`, checked; with `twice`, run again and compared, as MadSim's
/// determinism check does: the same seed must give the same event trace.
fn run_one(p: &Sweep, i: usize, rep: usize, twice: bool) -> Result<RunResult, Error> {
    let job = &p.jobs[i];
    let seed = p.seed(i, rep);
    let what = format!("point {i} ({}), replication {rep}", describe(&job.values));
    let r = model::run(&job.cluster, &job.workload, seed, p.opts);
    super::check(&r, &what)?;
    if twice {
        let again = model::run(&job.cluster, &job.workload, seed, p.opts);
        same_trace(&what, &r, &again)?;
    }
    Ok(r)
}

/// Two runs of `what` with one seed must have processed the same events.
pub fn same_trace(what: &str, a: &RunResult, b: &RunResult) -> Result<(), Error> {
    if (a.trace_hash, a.events) == (b.trace_hash, b.events) {
        return Ok(());
    }
    Err(Error::Internal(format!(
        "{what} (seed {}) is not deterministic: run twice, it gave event-trace hashes {:016x} and {:016x} ({} and {} events). Replay it with the same files and seed, and report it.",
        a.seed, a.trace_hash, b.trace_hash, a.events, b.events
    )))
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
            note_inline(format!(
                "\r  [{}{}] {n}/{} runs, {el:.0} s elapsed, ETA {eta:.0} s   ",
                "#".repeat(filled),
                ".".repeat(30 - filled),
                self.total
            ));
        } else if self.total <= 200 || n % (self.total / 100).max(1) == 0 || n == self.total {
            note(format!(
                "  [{n}/{}] {what} (elapsed {el:.1} s, ETA {eta:.0} s)",
                self.total
            ));
        }
    }

    fn finish(&self) {
        if self.tty && !self.quiet {
            note("");
        }
    }
}
