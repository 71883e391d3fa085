//! `etcdsim plan`: the maximum read rate each candidate cluster sustains within the objectives,
//! its headroom over the target, its bottleneck, and the cheapest candidate that meets the
//! target.
//!
//! For each candidate, reads arrive open-loop (Poisson) at a rate the search chooses. At each
//! probed rate the plan runs replications (common random numbers: replication k has the same
//! seed at every rate) and compares each objective's 95% confidence interval with its limit:
//! wholly inside passes, wholly outside fails, and a straddling interval gets more replications,
//! up to `max_replications`, after which the mean decides and the probe counts as unresolved.
//! A saturated run or a failed request (unless allowed) fails the probe. The search doubles or
//! halves from the target to bracket the boundary, then bisects (geometrically) until the
//! bracket is narrower than `precision`. The maximum rate is the bracket's lower end.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::config::model::ModelSource;
use crate::config::plan::{Candidate, PlanFile};
use crate::engine::rng::mix_seed;
use crate::error::Error;
use crate::model::{self, ClusterParams, RunOptions, RunResult, Workload};
use crate::report::charts::{self, Series};
use crate::stats::student_t_ci;

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

/// What one probed rate gave.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Offered read rate (reads/s).
    pub rate: f64,
    /// Whether every objective held.
    pub pass: bool,
    /// Whether a confidence interval still straddled a limit at the most replications.
    pub unresolved: bool,
    /// Replications run.
    pub reps: usize,
    /// Mean over replications of the read p50 and p99 (ms), and the write p99 (ms).
    pub read_p50_ms: f64,
    /// See `read_p50_ms`.
    pub read_p99_ms: f64,
    /// See `read_p50_ms`.
    pub write_p99_ms: f64,
    /// Failed requests, all replications together.
    pub failed: u64,
    /// Some replication saturated.
    pub saturated: bool,
    /// The most utilized resource (first replication) and its utilization.
    pub bottleneck: (String, f64),
    /// The read stage with the largest mean (first replication).
    pub dominant_stage: String,
    /// Why the probe failed, if it did.
    pub why: String,
}

/// The search's result for one configuration.
#[derive(Debug, Clone)]
pub struct Limit {
    /// The highest rate that passed (0 if none did).
    pub max_rate: f64,
    /// Every probe, in the order run.
    pub probes: Vec<Probe>,
}

impl Limit {
    /// The lowest rate that failed (infinite if none did).
    pub fn fail_rate(&self) -> f64 {
        self.at_fail().map_or(f64::INFINITY, |p| p.rate)
    }

    /// The probe at the first failing rate, if any.
    pub fn at_fail(&self) -> Option<&Probe> {
        self.probes
            .iter()
            .filter(|p| !p.pass)
            .min_by(|a, b| a.rate.total_cmp(&b.rate))
    }
}

/// The objectives and run shape, resolved.
#[derive(Debug, Clone)]
pub struct Search {
    /// p99 read limit (ms).
    pub read_p99_ms: f64,
    /// p99 write limit (ms).
    pub write_p99_ms: Option<f64>,
    /// Failures allowed.
    pub allow_failures: bool,
    /// Replications at first and at most.
    pub reps: (usize, usize),
    /// Stop when hi / lo − 1 is below this.
    pub precision: f64,
    /// Start here.
    pub target: f64,
    /// Base seed.
    pub seed: u64,
}

fn summarize(rate: f64, runs: &[RunResult], s: &Search) -> Probe {
    let ms = |ns: f64| ns * 1e-6;
    let rp50: Vec<f64> = runs
        .iter()
        .map(|r| ms(r.reads.latency.quantile(0.5) as f64))
        .collect();
    let rp99: Vec<f64> = runs
        .iter()
        .map(|r| ms(r.reads.latency.quantile(0.99) as f64))
        .collect();
    let wp99: Vec<f64> = runs
        .iter()
        .map(|r| ms(r.writes.latency.quantile(0.99) as f64))
        .collect();
    let failed: u64 = runs
        .iter()
        .map(|r| r.reads.failed + r.writes.failed + r.expensive.failed)
        .sum();
    let saturated = runs.iter().any(|r| !r.stopped_by.is_complete());
    let writes = runs.iter().any(|r| r.writes.completed > 0);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let mut why = Vec::new();
    let mut unresolved = false;
    let mut verdict = |what: &str, xs: &[f64], limit: f64| {
        let ci = student_t_ci(xs, 0.95);
        let (lo, hi) = (ci.mean - ci.half_width, ci.mean + ci.half_width);
        if hi <= limit {
            return true;
        }
        if lo > limit {
            why.push(format!("{what} {:.2} ms > {limit} ms", ci.mean));
            return false;
        }
        unresolved = true;
        if ci.mean > limit {
            why.push(format!(
                "{what} {:.2} ms > {limit} ms (by the mean)",
                ci.mean
            ));
            false
        } else {
            true
        }
    };
    let mut pass = verdict("read p99", &rp99, s.read_p99_ms);
    if let (Some(limit), true) = (s.write_p99_ms, writes) {
        pass &= verdict("write p99", &wp99, limit);
    }
    if saturated {
        why.push("saturated: the backlog grew without bound".into());
        pass = false;
    }
    if failed > 0 && !s.allow_failures {
        why.push(format!("{failed} failed requests"));
        pass = false;
    }
    let first = &runs[0];
    let bottleneck = first
        .utilization
        .iter()
        .find(|u| u.0 == first.bottleneck)
        .cloned()
        .unwrap_or_default();
    let dominant_stage = first
        .reads
        .stages
        .iter()
        .max_by(|a, b| a.mean_ns.total_cmp(&b.mean_ns))
        .map(|s| s.stage.name().to_string())
        .unwrap_or_default();
    Probe {
        rate,
        pass,
        unresolved,
        reps: runs.len(),
        read_p50_ms: mean(&rp50),
        read_p99_ms: mean(&rp99),
        write_p99_ms: mean(&wp99),
        failed,
        saturated,
        bottleneck,
        dominant_stage,
        why: why.join("; "),
    }
}

/// Probes `rate`: replications in parallel, more while an interval straddles a limit.
pub fn probe(p: &ClusterParams, w: &Workload, rate: f64, s: &Search, stream: u64) -> Probe {
    let mut w = w.clone();
    w.arrivals = crate::model::Arrivals::Open { rate };
    let run_rep = |k: usize| {
        model::run(
            p,
            &w,
            mix_seed(&[s.seed, stream, k as u64]),
            RunOptions {
                max_in_flight: 20_000,
                ..RunOptions::default()
            },
        )
    };
    let mut runs: Vec<RunResult> = (0..s.reps.0).into_par_iter().map(run_rep).collect();
    loop {
        let pr = summarize(rate, &runs, s);
        if !pr.unresolved || runs.len() >= s.reps.1 || pr.saturated {
            return pr;
        }
        let more = (runs.len()..(runs.len() + 2).min(s.reps.1))
            .into_par_iter()
            .map(run_rep)
            .collect::<Vec<_>>();
        runs.extend(more);
    }
}

/// Finds the highest rate that meets every objective, to within `s.precision`.
pub fn max_rate(p: &ClusterParams, w: &Workload, s: &Search, stream: u64) -> Limit {
    let mut probes = Vec::new();
    let run = |rate: f64, probes: &mut Vec<Probe>| {
        let pr = probe(p, w, rate, s, stream);
        let pass = pr.pass;
        probes.push(pr);
        pass
    };
    let (mut lo, mut hi) = (0.0f64, f64::INFINITY);
    let mut r = s.target;
    if run(r, &mut probes) {
        lo = r;
        while hi.is_infinite() && r < s.target * 64.0 {
            r *= 2.0;
            if run(r, &mut probes) {
                lo = r;
            } else {
                hi = r;
            }
        }
    } else {
        hi = r;
        while lo == 0.0 && r > s.target / 1024.0 {
            r /= 2.0;
            if run(r, &mut probes) {
                lo = r;
            } else {
                hi = r;
            }
        }
    }
    while lo > 0.0 && hi.is_finite() && hi / lo - 1.0 > s.precision {
        let mid = (lo * hi).sqrt();
        if run(mid, &mut probes) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Limit {
        max_rate: lo,
        probes,
    }
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

/// The cheapest candidate whose maximum rate reaches `target` (ties: the higher rate, then
/// the first listed).
pub fn choose(costs: &[f64], max_rates: &[f64], target: f64) -> Option<usize> {
    rank(costs, max_rates)
        .into_iter()
        .find(|&i| max_rates[i] >= target)
}

/// Candidates from the cheapest; at equal cost, the higher maximum rate first, then file order.
fn rank(costs: &[f64], max_rates: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by(|&x, &y| {
        costs[x]
            .total_cmp(&costs[y])
            .then(max_rates[y].total_cmp(&max_rates[x]))
            .then(x.cmp(&y))
    });
    order
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cheapest_candidate_that_meets_the_target_is_chosen() {
        assert_eq!(
            choose(&[3.0, 1.0, 2.0], &[500.0, 90.0, 120.0], 100.0),
            Some(2)
        );
        assert_eq!(choose(&[3.0, 1.0], &[50.0, 90.0], 100.0), None);
        // Equal cost: the one with more headroom.
        assert_eq!(choose(&[1.0, 1.0], &[150.0, 200.0], 100.0), Some(1));
    }
}
