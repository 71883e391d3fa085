//! `etcdsim plan`: the maximum read rate each candidate cluster sustains within the objectives,
//! its headroom over the target, its bottleneck, and the cheapest candidate that meets the
//! target.
//!
//! For each candidate, reads arrive open-loop (Poisson) at a rate the search chooses; the search
//! and the choice are `capacity`'s, and this module reads the plan and its models, runs each
//! probe's replications in parallel, and writes the tables and charts.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::capacity::{self, Limit, Outcome, Search};
use crate::config::model::ModelSource;
use crate::config::plan::{Candidate, PlanFile};
use crate::engine::rng::mix_seed;
use crate::error::Error;
use crate::model::{self, Arrivals, ClusterParams, RunOptions, Workload};
use crate::report::plan::{self as report, PlanResult, PlanRow, ProbeRow, SensitivityRow};
use crate::report::table;

use super::files;

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct Options {
    /// The plan file (TOML), e.g. experiments/plans/k8s-control-plane.toml.
    pub plan: PathBuf,
    /// Write here instead of `output/<plan>/`.
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
}

/// Finds the highest read rate at which cluster `p` under workload `w` meets the objectives of
/// `s` (the pure [`capacity::max_rate`]), simulating each probe's replications in parallel; the
/// seeds come from `s.seed`, `stream` (one per search) and the replication.
pub fn max_rate(p: &ClusterParams, w: &Workload, s: &Search, stream: u64) -> Limit {
    capacity::max_rate(s, |rate, reps| {
        let mut w = w.clone();
        w.arrivals = Arrivals::Open { rate };
        reps.into_par_iter()
            .map(|k| {
                let seed = mix_seed(&[s.seed, stream, k as u64]);
                let opts = RunOptions {
                    max_in_flight: 20_000,
                    ..RunOptions::default()
                };
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
}

/// A plan with its models (each file read once) and candidates.
struct Loaded {
    file: String,
    plan: PlanFile,
    name: String,
    models: Vec<ModelSource>,
    candidates: Vec<LoadedCandidate>,
    search: Search,
}

fn load(path: &Path) -> Result<Loaded, Error> {
    let file = path.display().to_string();
    let text = files::read(path)?;
    let plan = crate::config::plan::parse(&file, &text)?;
    let name = plan.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plan".into())
    });
    let spec = plan.run_spec(&file)?;
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut models: Vec<ModelSource> = Vec::new();
    let mut candidates = Vec::new();
    for candidate in plan.expand() {
        let resolved = files::resolve(path, &candidate.model);
        let model = match paths.iter().position(|p| *p == resolved) {
            Some(m) => m,
            None => {
                let key = format!("candidates \"{}\".model", candidate.name);
                let (model_path, text) = files::read_named(path, &key, &candidate.model)?;
                models.push(ModelSource::parse(
                    &model_path.display().to_string(),
                    &text,
                )?);
                paths.push(resolved);
                models.len() - 1
            }
        };
        let cluster = models[model].variant(&candidate.overrides)?;
        let workload = spec.validate(&cluster, &file, "workload.")?;
        candidates.push(LoadedCandidate {
            candidate,
            model,
            cluster,
            workload,
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
    })
}

/// `etcdsim plan`.
pub fn plan(a: &Options) -> Result<(), Error> {
    let l = load(&a.plan)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Internal(e.to_string()))?;
    let t0 = Instant::now();
    eprintln!(
        "etcdsim: {}: {} candidates, target {:.0} reads/s, read p99 <= {} ms",
        l.name,
        l.candidates.len(),
        l.search.target,
        l.search.read_p99_ms
    );
    let limits = pool.install(|| search_all(&l, t0));
    let names = l
        .candidates
        .iter()
        .map(|c| (c.candidate.name.as_str(), c.candidate.cost))
        .collect();
    let r = PlanResult::new(&l.name, &l.search, names, &limits);
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&l.name));
    files::create_dir(&out)?;
    print!("{}", report::text(&r));
    let rows = report::plan_rows(&r);
    files::write_atomic(
        &out.join("plan.csv"),
        &table::csv(&PlanRow::default(), &rows),
    )?;
    let probes = report::probe_rows(&r);
    files::write_atomic(
        &out.join("probes.csv"),
        &table::csv(&ProbeRow::default(), &probes),
    )?;
    let svg = report::hockey_stick(&r).map_err(Error::Internal)?;
    files::write_atomic(&out.join("hockey-stick.svg"), svg.as_bytes())?;
    if let (Some(i), Some(sens)) = (r.chosen, &l.plan.sensitivity) {
        let base = limits[i].max_rate;
        let inputs = pool.install(|| sensitivity(&l, i, sens, base))?;
        write_sensitivity(&out, &l, i, base, &inputs)?;
    }
    let candidates: Vec<&Candidate> = l.candidates.iter().map(|c| &c.candidate).collect();
    let resolved = crate::config::plan::resolved(&l.plan, &candidates).map_err(Error::Internal)?;
    files::write_atomic(&out.join("plan.toml"), resolved.as_bytes())?;
    eprintln!(
        "etcdsim: {} in {:.1} s; wrote {}",
        l.file,
        t0.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// Every candidate's search, in parallel, each reported on stderr as it ends.
fn search_all(l: &Loaded, t0: Instant) -> Vec<Limit> {
    l.candidates
        .par_iter()
        .enumerate()
        .map(|(i, c)| {
            let lim = max_rate(&c.cluster, &c.workload, &l.search, i as u64);
            eprintln!(
                "  {}: max {:.0} reads/s ({} probes, {:.1} s)",
                c.candidate.name,
                lim.max_rate,
                lim.probes.len(),
                t0.elapsed().as_secs_f64()
            );
            lim
        })
        .collect()
}

/// Prints the sensitivity of candidate `i`'s maximum rate `base` and writes its table and
/// tornado chart.
fn write_sensitivity(
    out: &Path,
    l: &Loaded,
    i: usize,
    base: f64,
    inputs: &[SensRow],
) -> Result<(), Error> {
    let change = l.plan.sensitivity.as_ref().map_or(0.2, |s| s.change);
    let (rows, text, svg) = report::sensitivity(
        &l.candidates[i].candidate.name,
        base,
        change,
        l.search.precision,
        inputs,
    )
    .map_err(Error::Internal)?;
    eprint!("{text}");
    let csv = table::csv(&SensitivityRow::default(), &rows);
    files::write_atomic(&out.join("sensitivity.csv"), &csv)?;
    files::write_atomic(&out.join("tornado.svg"), svg.as_bytes())
}

/// (input, max rate at −change, max rate at +change)
type SensRow = (String, f64, f64);

/// The maximum rate of candidate `i` (whose maximum is `base`) with each sensitivity input moved
/// down and up.
fn sensitivity(
    l: &Loaded,
    i: usize,
    sens: &crate::config::plan::Sensitivity,
    base: f64,
) -> Result<Vec<SensRow>, Error> {
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
    let results: Vec<f64> = inputs
        .par_iter()
        .enumerate()
        .map(|(k, x)| max_rate(&x.cluster, &x.workload, &search, 1000 + k as u64).max_rate)
        .collect();
    Ok(inputs
        .chunks(2)
        .zip(results.chunks(2))
        .map(|(x, r)| (x[0].key.clone(), r[0], r[1]))
        .collect())
}
