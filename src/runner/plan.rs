//! `etcdsim plan`: the maximum read rate each candidate cluster sustains within the objectives,
//! its headroom over the target, its bottleneck, and the cheapest candidate that meets the
//! target.
//!
//! For each candidate, reads arrive open-loop (Poisson) at a rate the search chooses; the search
//! and the choice are `capacity`'s, and this module reads the plan and its models, runs each
//! probe's replications in parallel, and writes the tables and charts.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::capacity::{self, Limit, Outcome, Probe, Search, choose, rank};
use crate::config::model::ModelSource;
use crate::config::plan::{Candidate, PlanFile};
use crate::engine::rng::mix_seed;
use crate::error::Error;
use crate::model::{self, Arrivals, ClusterParams, RunOptions, Workload};
use crate::report::charts::{self, Series};

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
    let limits: Vec<Limit> = pool.install(|| {
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
    });
    // The cheapest candidate meeting the target (ties: the higher maximum rate, then order).
    let costs: Vec<f64> = l.candidates.iter().map(|c| c.candidate.cost).collect();
    let rates: Vec<f64> = limits.iter().map(|x| x.max_rate).collect();
    let order = rank(&costs, &rates);
    let chosen = choose(&costs, &rates, l.search.target);
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&l.name));
    files::create_dir(&out)?;
    // The table, on the terminal and in plan.csv.
    let mut text = String::new();
    let _ = writeln!(
        text,
        "\nPlan {}: target {:.0} reads/s; read p99 <= {} ms{}{}\n",
        l.name,
        l.search.target,
        l.search.read_p99_ms,
        l.search
            .write_p99_ms
            .map(|w| format!(", write p99 <= {w} ms"))
            .unwrap_or_default(),
        if l.search.allow_failures {
            ""
        } else {
            ", no failed requests"
        }
    );
    let _ = writeln!(
        text,
        "{:<40} {:>7} {:>14} {:>10}  {:<28} why the next rate fails",
        "candidate", "cost", "max reads/s", "headroom", "bottleneck at the limit"
    );
    let mut csv = csv::Writer::from_writer(Vec::new());
    let _ = csv.write_record([
        "candidate",
        "cost",
        "max_read_rate_rps",
        "first_failing_rate_rps",
        "headroom_frac",
        "meets_target",
        "chosen",
        "bottleneck",
        "bottleneck_utilization_frac",
        "dominant_read_stage",
        "read_p99_ms_at_max",
        "failing_reason",
        "probes",
        "unresolved_probes",
    ]);
    for &i in &order {
        let c = &l.candidates[i].candidate;
        let lim = &limits[i];
        let at_fail = lim.at_fail();
        let at_max = lim
            .probes
            .iter()
            .filter(|p| p.pass)
            .max_by(|a, b| a.rate.total_cmp(&b.rate));
        let headroom = lim.max_rate / l.search.target - 1.0;
        let (bn, bu, stage, why) = at_fail.map_or(
            (
                "none within 64x the target".to_string(),
                0.0,
                String::new(),
                String::new(),
            ),
            |p| {
                (
                    p.bottleneck.0.clone(),
                    p.bottleneck.1,
                    p.dominant_stage.clone(),
                    p.why.clone(),
                )
            },
        );
        let mark = if Some(i) == chosen { "* " } else { "  " };
        let _ = writeln!(
            text,
            "{mark}{:<38} {:>7.2} {:>14.0} {:>+9.0}%  {:<28} {}{}",
            c.name,
            c.cost,
            lim.max_rate,
            headroom * 100.0,
            format!("{bn} ({:.0}%)", bu * 100.0),
            why,
            if stage.is_empty() {
                String::new()
            } else {
                format!("; most read time in {stage}")
            }
        );
        let _ = csv.write_record([
            c.name.clone(),
            format!("{}", c.cost),
            format!("{:.1}", lim.max_rate),
            if lim.fail_rate().is_finite() {
                format!("{:.1}", lim.fail_rate())
            } else {
                String::new()
            },
            format!("{headroom:.4}"),
            u8::from(lim.max_rate >= l.search.target).to_string(),
            u8::from(Some(i) == chosen).to_string(),
            bn,
            format!("{bu:.4}"),
            stage,
            at_max.map_or(String::new(), |p| format!("{:.4}", p.read_p99_ms)),
            why,
            lim.probes.len().to_string(),
            lim.probes
                .iter()
                .filter(|p| p.unresolved)
                .count()
                .to_string(),
        ]);
    }
    match chosen {
        Some(i) => {
            let _ = writeln!(
                text,
                "\nChosen: {} (cost {}), the cheapest candidate that sustains {:.0} reads/s within the objectives: up to {:.0} reads/s, {:+.0}% headroom.",
                l.candidates[i].candidate.name,
                l.candidates[i].candidate.cost,
                l.search.target,
                limits[i].max_rate,
                (limits[i].max_rate / l.search.target - 1.0) * 100.0
            );
            for &j in order.iter().take_while(|&&j| j != i) {
                let _ = writeln!(
                    text,
                    "  {} is cheaper but fails: it reaches only {:.0} reads/s; {}.",
                    l.candidates[j].candidate.name,
                    limits[j].max_rate,
                    limits[j].at_fail().map_or("", |p| p.why.as_str())
                );
            }
        }
        None => {
            let _ = writeln!(
                text,
                "\nNo candidate sustains {:.0} reads/s within the objectives.",
                l.search.target
            );
        }
    }
    print!("{text}");
    let bytes = csv
        .into_inner()
        .map_err(|e| Error::Internal(e.to_string()))?;
    files::write_atomic(&out.join("plan.csv"), &bytes)?;
    write_probes(&out, &l, &limits)?;
    hockey_stick(&out, &l, &limits)?;
    if let (Some(i), Some(sens)) = (chosen, &l.plan.sensitivity) {
        let rows = pool.install(|| sensitivity(&l, i, sens, limits[i].max_rate))?;
        tornado(&out, &l, i, limits[i].max_rate, &rows)?;
    }
    let resolved = format!(
        "# The plan as run (etcdsim {}), with its candidates expanded.\n{}\n# candidates: {:?}\n",
        env!("CARGO_PKG_VERSION"),
        toml::to_string(&l.plan).map_err(|e| Error::Internal(e.to_string()))?,
        l.candidates
            .iter()
            .map(|c| {
                let o: Vec<String> = c
                    .candidate
                    .overrides
                    .iter()
                    .map(|o| o.to_string())
                    .collect();
                (&c.candidate.name, o, c.candidate.cost)
            })
            .collect::<Vec<_>>()
    );
    files::write_atomic(&out.join("plan.toml"), resolved.as_bytes())?;
    eprintln!(
        "etcdsim: {} in {:.1} s; wrote {}",
        l.file,
        t0.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

fn write_probes(out: &Path, l: &Loaded, limits: &[Limit]) -> Result<(), Error> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    let _ = csv.write_record([
        "candidate",
        "offered_read_rate_rps",
        "pass",
        "unresolved",
        "replications",
        "read_p50_ms",
        "read_p99_ms",
        "write_p99_ms",
        "failed",
        "saturated",
        "bottleneck",
        "bottleneck_utilization_frac",
        "dominant_read_stage",
        "why",
    ]);
    for (c, lim) in l.candidates.iter().zip(limits) {
        let c = &c.candidate;
        let mut ps: Vec<&Probe> = lim.probes.iter().collect();
        ps.sort_by(|a, b| a.rate.total_cmp(&b.rate));
        for p in ps {
            let _ = csv.write_record([
                c.name.clone(),
                format!("{:.1}", p.rate),
                u8::from(p.pass).to_string(),
                u8::from(p.unresolved).to_string(),
                p.reps.to_string(),
                format!("{:.4}", p.read_p50_ms),
                format!("{:.4}", p.read_p99_ms),
                format!("{:.4}", p.write_p99_ms),
                p.failed.to_string(),
                u8::from(p.saturated).to_string(),
                p.bottleneck.0.clone(),
                format!("{:.4}", p.bottleneck.1),
                p.dominant_stage.clone(),
                p.why.clone(),
            ]);
        }
    }
    let bytes = csv
        .into_inner()
        .map_err(|e| Error::Internal(e.to_string()))?;
    files::write_atomic(&out.join("probes.csv"), &bytes)
}

/// Latency against offered load per candidate, the objective drawn and each knee marked.
fn hockey_stick(out: &Path, l: &Loaded, limits: &[Limit]) -> Result<(), Error> {
    let cap = l.search.read_p99_ms * 3.0;
    let mut series = Vec::new();
    let mut x_max: f64 = 0.0;
    for (i, (c, lim)) in l.candidates.iter().zip(limits).enumerate() {
        let c = &c.candidate;
        let mut ps: Vec<&Probe> = lim.probes.iter().filter(|p| !p.saturated).collect();
        ps.sort_by(|a, b| a.rate.total_cmp(&b.rate));
        let pts: Vec<(f64, f64)> = ps
            .iter()
            .map(|p| (p.rate, p.read_p99_ms.min(cap)))
            .collect();
        x_max = x_max.max(pts.iter().map(|p| p.0).fold(0.0, f64::max));
        series.push(Series {
            label: format!("{}: read p99", c.name),
            points: pts,
            markers: false,
            color: i,
        });
        series.push(Series {
            label: format!("{}: read p50", c.name),
            points: ps
                .iter()
                .map(|p| (p.rate, p.read_p50_ms.min(cap)))
                .collect(),
            markers: true,
            color: i,
        });
        if lim.max_rate > 0.0 {
            series.push(Series {
                label: format!("{}: knee {:.0}/s", c.name, lim.max_rate),
                points: vec![(lim.max_rate, 0.0), (lim.max_rate, l.search.read_p99_ms)],
                markers: true,
                color: i,
            });
        }
    }
    series.push(Series {
        label: format!("objective: read p99 <= {} ms", l.search.read_p99_ms),
        points: vec![(0.0, l.search.read_p99_ms), (x_max, l.search.read_p99_ms)],
        markers: false,
        color: 98,
    });
    let svg = charts::line_chart(
        &format!(
            "{}: read latency against offered load (capped at 3x the objective)",
            l.name
        ),
        "offered reads/s",
        "latency (ms)",
        &series,
        false,
    )
    .map_err(Error::Internal)?;
    files::write_atomic(&out.join("hockey-stick.svg"), svg.as_bytes())
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

fn tornado(out: &Path, l: &Loaded, i: usize, base: f64, rows: &[SensRow]) -> Result<(), Error> {
    let change = l.plan.sensitivity.as_ref().map_or(0.2, |s| s.change);
    let mut csv = csv::Writer::from_writer(Vec::new());
    let _ = csv.write_record([
        "input",
        "change_frac",
        "max_read_rate_minus_rps",
        "max_read_rate_plus_rps",
        "base_max_read_rate_rps",
    ]);
    eprintln!(
        "\nSensitivity of {}'s maximum rate ({base:.0} reads/s) to each input ±{:.0}%:",
        l.candidates[i].candidate.name,
        change * 100.0
    );
    for (k, lo, hi) in rows {
        eprintln!(
            "  {k:<28} -{:.0}%: {lo:>10.0} ({:+.1}%)   +{:.0}%: {hi:>10.0} ({:+.1}%)",
            change * 100.0,
            (lo / base - 1.0) * 100.0,
            change * 100.0,
            (hi / base - 1.0) * 100.0
        );
        let _ = csv.write_record([
            k.clone(),
            format!("{change}"),
            format!("{lo:.1}"),
            format!("{hi:.1}"),
            format!("{base:.1}"),
        ]);
    }
    let bytes = csv
        .into_inner()
        .map_err(|e| Error::Internal(e.to_string()))?;
    files::write_atomic(&out.join("sensitivity.csv"), &bytes)?;
    let svg = charts::tornado(
        &format!(
            "{}: maximum read rate when each input moves ±{:.0}% (search resolution {:.0}%)",
            l.candidates[i].candidate.name,
            change * 100.0,
            l.search.precision * 100.0
        ),
        "maximum reads/s within the objectives",
        base,
        rows,
    )
    .map_err(Error::Internal)?;
    files::write_atomic(&out.join("tornado.svg"), svg.as_bytes())
}
