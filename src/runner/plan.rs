//! `etcdsim plan`: the maximum read rate each candidate cluster sustains within the objectives,
//! its headroom over the target, its bottleneck, and the cheapest candidate that meets the
//! target.
//!
//! For each candidate, reads arrive open-loop (Poisson) at a rate the search chooses; the search
//! and the choice are `capacity`'s, and this module reads the plan and its models, runs each
//! probe's replications in parallel, and writes the tables and charts.
//!
//! The output folder is locked and checked before any search. Ctrl-C stops the searches: the
//! candidates whose search had finished are written, none is chosen, and the command exits
//! with 130.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::capacity::{self, Limit, Outcome, Search};
use crate::config::limits::{Limits, check_fits};
use crate::config::model::ModelSource;
use crate::config::plan::{Candidate, PlanFile};
use crate::engine::rng::mix_seed;
use crate::error::Error;
use crate::model::{self, Arrivals, ClusterParams, RunOptions, RunResult, Workload};
use crate::report::charts::Caption;
use crate::report::html::Figure;
use crate::report::plan::{
    self as report, FaultResult, FaultRow, PlanResult, PlanRow, ProbeRow, SensitivityRow,
};
use crate::report::table;

use super::charts::write_plot;
use super::console::{emit, note};
use super::files;
use super::interrupt;
use super::output_dir::{OutputDir, component};

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct Options {
    /// The plan file (TOML), e.g. experiments/plans/k8s-control-plane.toml.
    pub plan: PathBuf,
    /// Write here instead of `output/<plan>/`.
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
    /// Write into a non-empty folder that is not an earlier etcdsim output.
    pub force: bool,
    /// Caps from the command line, over the plan's `[limits]`.
    pub limits: Limits,
    /// The table and sensitivity as text, or one JSON document (`report::json::PlanJson`).
    pub format: super::Format,
}

/// Finds the highest read rate at which cluster `p` under workload `w` meets the objectives of
/// `s` (the pure [`capacity::max_rate`]), simulating each probe's replications in parallel
/// with the caps `opts`; the seeds come from `s.seed`, `stream` (one per search) and the
/// replication.
pub fn max_rate(
    p: &ClusterParams,
    w: &Workload,
    s: &Search,
    stream: u64,
    opts: RunOptions,
) -> Limit {
    capacity::max_rate(s, |rate, reps| {
        let mut w = w.clone();
        w.arrivals = Arrivals::Open { rate };
        reps.into_par_iter()
            .map(|k| {
                let seed = mix_seed(&[s.seed, stream, k as u64]);
                Outcome::of(&model::run(p, &w, seed, opts))
            })
            .collect()
    })
}

/// A candidate cluster, validated.
struct LoadedCandidate {
    /// As the plan gives it, grid expanded.
    candidate: Candidate,
    /// Its model: an index into [`Loaded::models`].
    model: usize,
    /// The model with the candidate's overrides.
    cluster: ClusterParams,
    /// The plan's workload against that cluster.
    workload: Workload,
    /// The workload through each of the plan's faults.
    faults: Vec<Workload>,
}

/// A plan with its models (each file read once) and candidates.
struct Loaded {
    file: String,
    plan: PlanFile,
    name: String,
    models: Vec<ModelSource>,
    candidates: Vec<LoadedCandidate>,
    search: Search,
    /// Each run's caps, watching Ctrl-C.
    run: RunOptions,
}

fn load(path: &Path, cli: &Limits) -> Result<Loaded, Error> {
    let file = path.display().to_string();
    let text = files::read_as(path, "the plan file")?;
    let plan = crate::config::plan::parse(&file, &text)?;
    let run = RunOptions {
        stop: Some(interrupt::flag()),
        ..plan.run_options(&file, cli)?
    };
    let name = plan.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plan".into())
    });
    let spec = plan.run_spec(&file)?;
    // Each model once: the built-in one is `None`, a file its resolved path.
    let mut paths: Vec<Option<PathBuf>> = Vec::new();
    let mut models: Vec<ModelSource> = Vec::new();
    let mut candidates = Vec::new();
    for candidate in plan.expand() {
        let resolved = candidate.model.as_deref().map(|m| files::resolve(path, m));
        let model = match paths.iter().position(|p| *p == resolved) {
            Some(m) => m,
            None => {
                let key = format!("candidates \"{}\".model", candidate.name);
                let text = files::ModelText::named(path, &key, candidate.model.as_deref())?;
                models.push(text.source()?);
                paths.push(resolved);
                models.len() - 1
            }
        };
        let cluster = models[model]
            .variant(&candidate.overrides)
            .map_err(|e| candidate.blame(&file, e))?;
        let workload = spec.validate(&cluster, &file, "workload.")?;
        check_fits(
            &workload,
            &run,
            &file,
            "workload.clients",
            "limits.max_in_flight",
        )?;
        let faults = (0..plan.faults.len())
            .map(|i| {
                plan.fault_spec(&file, i)?
                    .validate(&cluster, &file, "workload.")
                    .map_err(|e| e.within(&format!("faults[{i}]")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        candidates.push(LoadedCandidate {
            candidate,
            model,
            cluster,
            workload,
            faults,
        });
    }
    let search = Search {
        read_p99_ms: plan.objectives.read_p99_ms,
        write_p99_ms: plan.objectives.write_p99_ms,
        allow_failures: plan.objectives.allow_failures,
        reps: (plan.replications as usize, plan.max_replications as usize),
        precision: plan.precision,
        target: plan.target_read_rate,
        seed: plan.seed,
    };
    Ok(Loaded {
        file,
        plan,
        name,
        models,
        candidates,
        search,
        run,
    })
}

/// Loads a plan, its models and candidates, and validates them under the command line's caps
/// `cli` without searching; returns the number of candidate clusters.
pub fn validate_plan(path: &Path, cli: &Limits) -> Result<usize, Error> {
    Ok(load(path, cli)?.candidates.len())
}

/// `etcdsim plan`: the searches, the table on `out`, and the files.
pub fn plan(a: &Options, out: &mut dyn Write) -> Result<(), Error> {
    interrupt::install("the searches stop; the candidates whose search finished are written");
    let l = load(&a.plan, &a.limits)?;
    let pool = super::thread_pool(a.threads)?;
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(component(&l.name)));
    let mut dir = OutputDir::open(&dir, a.force)?;
    let t0 = Instant::now();
    note(format!(
        "etcdsim: {}: {} candidates, target {:.0} reads/s, read p99 <= {} ms",
        l.name,
        l.candidates.len(),
        l.search.target,
        l.search.read_p99_ms
    ));
    let limits = pool.install(|| search_all(&l, t0));
    // An interrupted search is left out: only finished ones are written, and none is chosen.
    let finished: Vec<usize> = (0..limits.len())
        .filter(|&i| !limits[i].interrupted)
        .collect();
    let kept: Vec<Limit> = finished.iter().map(|&i| limits[i].clone()).collect();
    let names = finished
        .iter()
        .map(|&i| &l.candidates[i].candidate)
        .map(|c| (c.name.as_str(), c.cost))
        .collect();
    let interrupted = finished.len() < limits.len();
    let faults = if l.plan.faults.is_empty() || interrupted {
        Vec::new()
    } else {
        pool.install(|| run_faults(&l, &finished))
    };
    let r = match PlanResult::new(&l.name, &l.search, names, &kept) {
        r if interrupted => r.partial(),
        r if faults.is_empty() => r,
        r => r.with_faults(faults),
    };
    let text = a.format == super::Format::Text;
    let table = report::text(&r);
    if text {
        emit(out, &table)?;
    }
    let mut page = vec![write_tables(&mut dir, &l, &r)?];
    let mut sensitivity_stopped = false;
    let mut sensitivity_text = String::new();
    let mut sensitivity_rows = Vec::new();
    if let (Some(i), Some(sens)) = (r.chosen, &l.plan.sensitivity) {
        let i = finished[i];
        let base = limits[i].max_rate;
        match pool.install(|| sensitivity(&l, i, sens, base))? {
            Some(inputs) => {
                let (rows, lines, figure) = write_sensitivity(&mut dir, &l, i, base, &inputs)?;
                if text {
                    emit(out, &lines)?;
                }
                sensitivity_rows = rows;
                sensitivity_text = lines;
                page.push(figure);
            }
            None => sensitivity_stopped = true,
        }
    }
    let about = plan_caption(&l);
    let texts = [("Candidates", table), ("Sensitivity", sensitivity_text)];
    super::charts::write_plan_page(&mut dir, &l.name, &about, &texts, page)?;
    if !text {
        let doc = crate::report::json::plan(&r, &sensitivity_rows);
        emit(
            out,
            &crate::report::json::text(&doc).map_err(Error::Internal)?,
        )?;
    }
    let path = dir.path().to_path_buf();
    dir.publish(&[])?;
    note(format!(
        "etcdsim: {} in {:.1} s; wrote {}",
        l.file,
        t0.elapsed().as_secs_f64(),
        path.display()
    ));
    if !(interrupted || sensitivity_stopped) {
        return Ok(());
    }
    Err(Error::Interrupted(format!(
        "interrupted by Ctrl-C: {} of {} candidate searches had finished and are in {}{}; run the plan again for the whole result",
        finished.len(),
        limits.len(),
        path.display(),
        if interrupted {
            " (no candidate is chosen from a partial plan)"
        } else {
            " (without the sensitivity analysis, which it stopped)"
        }
    )))
}

/// What the plan's charts say about it: its description (or name), the workload and the
/// objectives.
fn plan_caption(l: &Loaded) -> Caption {
    let s = &l.search;
    let mut objectives = format!("read p99 ≤ {} ms", s.read_p99_ms);
    if let Some(w) = s.write_p99_ms {
        objectives.push_str(&format!(", write p99 ≤ {w} ms"));
    }
    if !s.allow_failures {
        objectives.push_str(", no failed request");
    }
    Caption {
        title: l.plan.description.clone().unwrap_or_else(|| l.name.clone()),
        notes: vec![format!(
            "Plan {}; workload: {}; objectives: {objectives}.",
            l.file,
            super::charts::pairs(&l.plan.workload)
        )],
    }
}

/// Stages the plan's tables, its hockey-stick chart and `plan.toml`; returns the chart for
/// the page.
fn write_tables(dir: &mut OutputDir, l: &Loaded, r: &PlanResult) -> Result<Figure, Error> {
    let plan = table::csv(&PlanRow::default(), &report::plan_rows(r));
    dir.write("plan.csv", &plan)?;
    if !r.faults.is_empty() {
        let faults = table::csv(&FaultRow::default(), &report::fault_rows(r));
        dir.write("faults.csv", &faults)?;
    }
    let probes = table::csv(&ProbeRow::default(), &report::probe_rows(r));
    dir.write("probes.csv", &probes)?;
    let figure = write_plot(
        dir,
        "hockey-stick",
        &report::hockey_stick(r, &plan_caption(l)),
    )?;
    let candidates: Vec<&Candidate> = l.candidates.iter().map(|c| &c.candidate).collect();
    let resolved = crate::config::plan::resolved(&l.plan, &candidates).map_err(Error::Internal)?;
    dir.write("plan.toml", resolved.as_bytes())?;
    Ok(figure)
}

/// Candidates `which`' runs through each of the plan's faults at the target rate, the
/// replications in parallel: the worst replication's p99 read latency and failed requests
/// against the fault objectives, and when a new leader came.
fn run_faults(l: &Loaded, which: &[usize]) -> Vec<Vec<FaultResult>> {
    let o = &l.plan.objectives;
    let max_p99 = o.fault_read_p99_ms.unwrap_or(f64::INFINITY);
    let max_failed = o.fault_max_failed.unwrap_or(0);
    let reps = l.plan.replications as usize;
    which
        .iter()
        .map(|&i| {
            let c = &l.candidates[i];
            c.faults
                .iter()
                .enumerate()
                .map(|(k, w)| {
                    let runs: Vec<(Outcome, RunResult)> = (0..reps)
                        .into_par_iter()
                        .map(|rep| {
                            let seed =
                                mix_seed(&[l.search.seed, 1_000 + i as u64, k as u64, rep as u64]);
                            let r = model::run(&c.cluster, w, seed, l.run);
                            (Outcome::of(&r), r)
                        })
                        .collect();
                    let first_step = w.timeline.first().map_or(0.0, |s| s.at.as_secs_f64());
                    let p99 = runs
                        .iter()
                        .map(|(o, _)| o.read_p99_ms)
                        .fold(f64::NAN, f64::max);
                    let failed = runs.iter().map(|(o, _)| o.failed).max().unwrap_or(0);
                    let elected: Vec<f64> = runs
                        .iter()
                        .filter_map(|(_, r)| r.leader_changes.first())
                        .map(|lc| lc.at_ns as f64 / 1e9 - first_step)
                        .collect();
                    let new_leader_s = if elected.is_empty() {
                        f64::NAN
                    } else {
                        elected.iter().sum::<f64>() / elected.len() as f64
                    };
                    // NaN (no read completed) meets nothing.
                    let meets = runs.iter().all(|(o, _)| {
                        o.read_p99_ms <= max_p99 && o.failed <= max_failed && o.complete
                    });
                    note(format!(
                        "  {} through {}: p99 {:.1} ms, {} failed{}",
                        c.candidate.name,
                        l.plan.faults[k].name,
                        p99,
                        failed,
                        if meets { "" } else { " (misses)" }
                    ));
                    FaultResult {
                        fault: l.plan.faults[k].name.clone(),
                        replications: reps,
                        read_p99_ms: p99,
                        failed,
                        new_leader_s,
                        meets,
                    }
                })
                .collect()
        })
        .collect()
}

/// Every candidate's search, in parallel, each reported on stderr as it ends.
fn search_all(l: &Loaded, t0: Instant) -> Vec<Limit> {
    l.candidates
        .par_iter()
        .enumerate()
        .map(|(i, c)| {
            let lim = max_rate(&c.cluster, &c.workload, &l.search, i as u64, l.run);
            note(format!(
                "  {}: {} {:.0} reads/s ({} probes, {:.1} s)",
                c.candidate.name,
                if lim.interrupted {
                    "interrupted at"
                } else {
                    "max"
                },
                lim.max_rate,
                lim.probes.len(),
                t0.elapsed().as_secs_f64()
            ));
            lim
        })
        .collect()
}

/// Prints the sensitivity of candidate `i`'s maximum rate `base` and writes its table and
/// tornado chart; returns its rows, its lines for the terminal (printed after the plan's
/// table) and the chart for the page.
fn write_sensitivity(
    out: &mut OutputDir,
    l: &Loaded,
    i: usize,
    base: f64,
    inputs: &[SensRow],
) -> Result<(Vec<SensitivityRow>, String, Figure), Error> {
    let change = l.plan.sensitivity.as_ref().map_or(0.2, |s| s.change);
    let (rows, text, plot) = report::sensitivity(
        &l.candidates[i].candidate.name,
        (base, change, l.search.precision),
        inputs,
        &plan_caption(l),
    );
    out.write(
        "sensitivity.csv",
        &table::csv(&SensitivityRow::default(), &rows),
    )?;
    let figure = write_plot(out, "tornado", &plot)?;
    Ok((rows, text, figure))
}

/// (input, max rate at −change, max rate at +change)
type SensRow = (String, f64, f64);

/// The maximum rate of candidate `i` (whose maximum is `base`) with each sensitivity input moved
/// down and up; `None` if Ctrl-C stopped it.
fn sensitivity(
    l: &Loaded,
    i: usize,
    sens: &crate::config::plan::Sensitivity,
    base: f64,
) -> Result<Option<Vec<SensRow>>, Error> {
    let c = &l.candidates[i];
    let inputs = l.plan.sensitivity_inputs(
        &l.file,
        sens,
        &l.models[c.model],
        &c.candidate,
        (&c.cluster, &c.workload),
    )?;
    let search = Search {
        target: base.max(1.0),
        ..l.search.clone()
    };
    let results: Vec<Limit> = inputs
        .par_iter()
        .enumerate()
        .map(|(k, x)| max_rate(&x.cluster, &x.workload, &search, 1000 + k as u64, l.run))
        .collect();
    if results.iter().any(|r| r.interrupted) {
        return Ok(None);
    }
    Ok(Some(
        inputs
            .chunks(2)
            .zip(results.chunks(2))
            .map(|(x, r)| (x[0].key.clone(), r[0].max_rate, r[1].max_rate))
            .collect(),
    ))
}
