//! `etcdsim run EXPERIMENT`: expand the grid, validate every point, run the (point,
//! replication) pairs in parallel with rayon, and write under `output/<experiment>/`:
//! `results.csv` (a row per point and replication), `summary.csv` (a row per point, means and
//! 95% confidence intervals), `throughput.svg`, `latency.svg`, `breakdown.svg` and `run.toml`.
//!
//! Each run's seed is a pure function of (base seed, point index, replication), and results are
//! collected in input order, so the files are byte-identical whatever the thread count.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use clap::Args;
use rayon::prelude::*;

use crate::cli::CliError;
use crate::config::ConfigError;
use crate::config::experiment::{ExperimentFile, Point, load_experiment};
use crate::config::model::model_from_str;
use crate::config::workload::WorkloadSpec;
use crate::engine::rng::mix_seed;
use crate::model::{self, ClusterParams, RunOptions, RunResult, Stage, Workload};
use crate::report::charts::{self, Series};
use crate::stats::student_t_ci;

/// Arguments of `etcdsim run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The experiment file (TOML), e.g. experiments/quickstart.toml.
    pub experiment: PathBuf,
    /// Write here instead of output/<experiment>/.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores; RAYON_NUM_THREADS also works).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Run even if the grid has more points than the safety limit.
    #[arg(long)]
    pub yes: bool,
}

/// A validated point: its axis values, cluster and workload.
struct Job {
    values: Point,
    cluster: ClusterParams,
    workload: Workload,
}

/// What a finished experiment wrote.
#[derive(Debug)]
pub struct Written {
    /// The output folder.
    pub dir: PathBuf,
    /// Points in the grid.
    pub points: usize,
    /// Runs (points × replications).
    pub runs: usize,
}

/// Runs an experiment from the command line.
pub fn run(a: &RunArgs) -> Result<(), CliError> {
    let t0 = Instant::now();
    let w = run_experiment(&a.experiment, a.out.as_deref(), a.threads, a.yes)?;
    eprintln!(
        "etcdsim: {} points, {} runs in {:.1} s; wrote {}",
        w.points,
        w.runs,
        t0.elapsed().as_secs_f64(),
        w.dir.display()
    );
    Ok(())
}

fn resolve_model(exp_path: &Path, model: &str) -> PathBuf {
    let direct = PathBuf::from(model);
    if direct.exists() {
        return direct;
    }
    exp_path
        .parent()
        .map(|d| d.join(model))
        .filter(|p| p.exists())
        .unwrap_or(direct)
}

fn override_string(k: &str, v: &toml::Value) -> String {
    format!("{k}={v}")
}

fn build_jobs(e: &ExperimentFile, file: &str, model_path: &Path) -> Result<Vec<Job>, ConfigError> {
    let model_file = model_path.display().to_string();
    let model_text = crate::config::read(model_path)?;
    let base_set: Vec<String> = e.set.iter().map(|(k, v)| override_string(k, v)).collect();
    let points = e.points(file)?;
    let mut jobs = Vec::with_capacity(points.len());
    for (i, values) in points.into_iter().enumerate() {
        let mut set = base_set.clone();
        let mut wl = e.workload.clone();
        for (k, v) in &values {
            match k.strip_prefix("model.") {
                Some(mk) => set.push(override_string(mk, v)),
                None => {
                    wl.insert(k.clone(), v.clone());
                }
            }
        }
        let ctx = format!("{file} (point {i}: {})", describe(&values));
        let cluster =
            model_from_str(&model_file, &model_text, &set).map_err(|err| ConfigError::Invalid {
                file: ctx.clone(),
                key: "model".into(),
                rule: err.to_string(),
            })?;
        let spec: WorkloadSpec =
            WorkloadSpec::deserialize_table(wl).map_err(|msg| ConfigError::Parse {
                file: ctx.clone(),
                line: None,
                msg: format!("workload: {msg}"),
            })?;
        let workload = spec.validate(&cluster, &ctx, "workload.")?;
        jobs.push(Job {
            values,
            cluster,
            workload,
        });
    }
    Ok(jobs)
}

/// "clients=10, consistency=l"
fn describe(values: &Point) -> String {
    values
        .iter()
        .map(|(k, v)| format!("{k}={}", plain(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A TOML value as a CSV cell: strings without quotes.
fn plain(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Runs the experiment at `path`; the library entry point behind `etcdsim run`.
pub fn run_experiment(
    path: &Path,
    out: Option<&Path>,
    threads: Option<usize>,
    yes: bool,
) -> Result<Written, CliError> {
    let file = path.display().to_string();
    let e = load_experiment(path)?;
    let name = e.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "experiment".into())
    });
    let model_path = resolve_model(path, &e.model);
    let jobs = build_jobs(&e, &file, &model_path)?;
    let reps = e.replications as usize;
    let runs = jobs.len() * reps;
    if runs > 10_000 && !yes {
        return Err(CliError::Usage(format!(
            "{file}: {} points × {reps} replications = {runs} runs; pass --yes to run them all",
            jobs.len()
        )));
    }
    if let Some(chart) = &e.charts {
        if !jobs.first().is_some_and(|j| {
            j.values
                .iter()
                .any(|(k, v)| k == &chart.x && as_f64(v).is_some())
        }) {
            return Err(ConfigError::invalid(
                &file,
                "charts.x",
                format!("{:?} is not a numeric grid axis", chart.x),
            )
            .into());
        }
    }
    eprintln!(
        "etcdsim: {name}: {} points × {reps} replications = {runs} runs",
        jobs.len()
    );
    let results = run_all(&jobs, e.seed, reps, threads)?;
    let dir = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("output").join(&name));
    std::fs::create_dir_all(&dir)
        .map_err(|err| CliError::Internal(format!("cannot create {}: {err}", dir.display())))?;
    let text = crate::config::read(path)?;
    write_outputs(&dir, &name, &e, &text, &model_path, &jobs, &results, reps)?;
    Ok(Written {
        dir,
        points: jobs.len(),
        runs,
    })
}

fn run_all(
    jobs: &[Job],
    base_seed: u64,
    reps: usize,
    threads: Option<usize>,
) -> Result<Vec<RunResult>, CliError> {
    let total = jobs.len() * reps;
    let done = AtomicUsize::new(0);
    let started = Instant::now();
    let work = || {
        (0..total)
            .into_par_iter()
            .map(|k| {
                let (i, rep) = (k / reps, k % reps);
                let seed = mix_seed(&[base_seed, i as u64, rep as u64]);
                let r = model::run(&jobs[i].cluster, &jobs[i].workload, seed, RunOptions::default());
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                let el = started.elapsed().as_secs_f64();
                let eta = el / n as f64 * (total - n) as f64;
                eprintln!(
                    "  [{n}/{total}] point {i} rep {rep}: {:.0} req/s, mean {:.3} ms  (elapsed {el:.1} s, ETA {eta:.0} s)",
                    r.throughput_rps,
                    r.latency_w.mean() * 1e-6
                );
                r
            })
            .collect::<Vec<_>>()
    };
    match threads {
        None => Ok(work()),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map(|pool| pool.install(work))
            .map_err(|err| CliError::Internal(format!("thread pool: {err}"))),
    }
}

fn as_f64(v: &toml::Value) -> Option<f64> {
    v.as_float().or_else(|| v.as_integer().map(|i| i as f64))
}

/// Writes `bytes` to `path` through a temporary file and a rename, so no half-written file
/// is ever left behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|err| CliError::Internal(format!("cannot write {}: {err}", path.display())))
}

fn f(x: f64) -> String {
    format!("{x:.6}")
}

#[allow(clippy::too_many_arguments)]
fn write_outputs(
    dir: &Path,
    name: &str,
    e: &ExperimentFile,
    text: &str,
    model_path: &Path,
    jobs: &[Job],
    results: &[RunResult],
    reps: usize,
) -> Result<(), CliError> {
    let csv_err = |err: csv::Error| CliError::Internal(format!("csv: {err}"));
    let axes: Vec<String> = jobs
        .first()
        .map(|j| j.values.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    // Utilization columns: the union over runs, in order of first appearance.
    let mut resources: Vec<String> = Vec::new();
    for r in results {
        for (n, _) in &r.utilization {
            if !resources.contains(n) {
                resources.push(n.clone());
            }
        }
    }
    let mut header: Vec<String> = vec![
        "experiment".into(),
        "point".into(),
        "replication".into(),
        "seed".into(),
    ];
    header.extend(axes.iter().cloned());
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
        .map(String::from),
    );
    header.extend(
        Stage::ALL
            .iter()
            .map(|s| format!("stage_{}_ms_mean", s.name())),
    );
    header.extend(resources.iter().map(|r| format!("util_{r}_frac")));
    header.extend(
        [
            "bottleneck",
            "readindex_rounds",
            "reads_per_round",
            "events",
        ]
        .map(String::from),
    );
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).map_err(csv_err)?;
    for (k, r) in results.iter().enumerate() {
        let (i, rep) = (k / reps, k % reps);
        let h = &r.latency;
        let ms = |ns: u64| f(ns as f64 * 1e-6);
        let mut row: Vec<String> = vec![
            name.into(),
            i.to_string(),
            rep.to_string(),
            r.seed.to_string(),
        ];
        row.extend(jobs[i].values.iter().map(|(_, v)| plain(v)));
        row.extend([
            f(r.throughput_rps),
            r.completed.to_string(),
            r.failed.to_string(),
            f(r.latency_w.mean() * 1e-6),
            ms(h.quantile(0.5)),
            ms(h.quantile(0.9)),
            ms(h.quantile(0.99)),
            ms(h.quantile(0.999)),
            ms(h.max()),
        ]);
        row.extend(r.stages.iter().map(|s| f(s.mean_ns * 1e-6)));
        row.extend(resources.iter().map(|n| {
            r.utilization
                .iter()
                .find(|u| &u.0 == n)
                .map(|u| f(u.1))
                .unwrap_or_default()
        }));
        row.extend([
            r.bottleneck.clone(),
            r.readindex_rounds.to_string(),
            f(r.reads_per_round),
            r.events.to_string(),
        ]);
        w.write_record(&row).map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|err| CliError::Internal(format!("csv: {err}")))?;
    write_atomic(&dir.join("results.csv"), &bytes)?;
    write_summary(dir, &axes, jobs, results, reps)?;
    write_charts(dir, name, e, jobs, results, reps)?;
    let resolved = toml::to_string(&RunToml {
        etcdsim_version: env!("CARGO_PKG_VERSION").into(),
        experiment: name.into(),
        model_file: model_path.display().to_string(),
        base_seed: e.seed,
        replications: e.replications,
        runs: jobs
            .iter()
            .enumerate()
            .flat_map(|(i, j)| {
                (0..reps).map(move |rep| RunEntry {
                    point: i,
                    replication: rep,
                    seed: mix_seed(&[e.seed, i as u64, rep as u64]),
                    values: describe(&j.values),
                })
            })
            .collect(),
        experiment_file: text.into(),
    })
    .map_err(|err| CliError::Internal(format!("run.toml: {err}")))?;
    write_atomic(&dir.join("run.toml"), resolved.as_bytes())
}

#[derive(serde::Serialize)]
struct RunToml {
    etcdsim_version: String,
    experiment: String,
    model_file: String,
    base_seed: u64,
    replications: u32,
    experiment_file: String,
    runs: Vec<RunEntry>,
}

#[derive(serde::Serialize)]
struct RunEntry {
    point: usize,
    replication: usize,
    seed: u64,
    values: String,
}

fn ci(xs: &[f64]) -> (String, String) {
    let c = student_t_ci(xs, 0.95);
    let hw = if c.half_width.is_finite() {
        f(c.half_width)
    } else {
        String::new()
    };
    (f(c.mean), hw)
}

fn write_summary(
    dir: &Path,
    axes: &[String],
    jobs: &[Job],
    results: &[RunResult],
    reps: usize,
) -> Result<(), CliError> {
    let csv_err = |err: csv::Error| CliError::Internal(format!("csv: {err}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(axes.iter().cloned());
    header.push("replications".into());
    for m in [
        "throughput_rps",
        "latency_ms_mean",
        "latency_ms_p99",
        "failed",
    ] {
        header.push(format!("{m}_mean"));
        header.push(format!("{m}_ci95"));
    }
    header.push("bottleneck".into());
    w.write_record(&header).map_err(csv_err)?;
    for (i, job) in jobs.iter().enumerate() {
        let rs = &results[i * reps..(i + 1) * reps];
        let mut row: Vec<String> = vec![i.to_string()];
        row.extend(job.values.iter().map(|(_, v)| plain(v)));
        row.push(reps.to_string());
        let metrics: [Vec<f64>; 4] = [
            rs.iter().map(|r| r.throughput_rps).collect(),
            rs.iter().map(|r| r.latency_w.mean() * 1e-6).collect(),
            rs.iter()
                .map(|r| r.latency.quantile(0.99) as f64 * 1e-6)
                .collect(),
            rs.iter().map(|r| r.failed as f64).collect(),
        ];
        for m in &metrics {
            let (mean, hw) = ci(m);
            row.push(mean);
            row.push(hw);
        }
        row.push(rs[0].bottleneck.clone());
        w.write_record(&row).map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|err| CliError::Internal(format!("csv: {err}")))?;
    write_atomic(&dir.join("summary.csv"), &bytes)
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { 0.0 } else { s / n as f64 }
}

fn write_charts(
    dir: &Path,
    name: &str,
    e: &ExperimentFile,
    jobs: &[Job],
    results: &[RunResult],
    reps: usize,
) -> Result<(), CliError> {
    let chart_err = |err: String| CliError::Internal(format!("chart: {err}"));
    let per_point = |i: usize| &results[i * reps..(i + 1) * reps];
    // Stage breakdown per point (means over replications), for the stages that appear.
    let cats: Vec<String> = jobs.iter().map(|j| short(&j.values)).collect();
    let layers: Vec<(String, Vec<f64>)> = Stage::ALL
        .iter()
        .map(|&st| {
            let vals: Vec<f64> = (0..jobs.len())
                .map(|i| {
                    mean(
                        per_point(i)
                            .iter()
                            .map(|r| r.stages[st as usize].mean_ns * 1e-6),
                    )
                })
                .collect();
            (st.name().to_string(), vals)
        })
        .filter(|(_, v)| v.iter().any(|&x| x > 0.0))
        .collect();
    let svg = charts::stacked_bars(
        &format!("{name}: where a request's time goes"),
        "mean latency (ms)",
        &cats,
        &layers,
    )
    .map_err(chart_err)?;
    write_atomic(&dir.join("breakdown.svg"), svg.as_bytes())?;
    let Some(spec) = &e.charts else {
        return Ok(());
    };
    // One line per combination of the other axes (keys zipped with x move with it).
    let with_x = e.zipped_with(&spec.x);
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, j) in jobs.iter().enumerate() {
        let rest: Point = j
            .values
            .iter()
            .filter(|(k, _)| !with_x.contains(k))
            .cloned()
            .collect();
        let label = if rest.is_empty() {
            "etcdsim".to_string()
        } else {
            describe(&rest)
        };
        match groups.iter_mut().find(|g| g.0 == label) {
            Some(g) => g.1.push(i),
            None => groups.push((label, vec![i])),
        }
    }
    let xval = |i: usize| {
        jobs[i]
            .values
            .iter()
            .find(|(k, _)| k == &spec.x)
            .and_then(|(_, v)| as_f64(v))
            .unwrap_or(0.0)
    };
    let line = |label: String,
                idx: &[usize],
                color: usize,
                markers: bool,
                metric: &dyn Fn(&RunResult) -> f64| {
        let mut points: Vec<(f64, f64)> = idx
            .iter()
            .map(|&i| (xval(i), mean(per_point(i).iter().map(metric))))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        Series {
            label,
            points,
            markers,
            color,
        }
    };
    let thr: Vec<Series> = groups
        .iter()
        .enumerate()
        .map(|(c, (l, idx))| line(l.clone(), idx, c, true, &|r| r.throughput_rps))
        .collect();
    let svg = charts::line_chart(
        &format!("{name}: throughput"),
        &spec.x,
        "successful requests/s",
        &thr,
        spec.log_x,
    )
    .map_err(chart_err)?;
    write_atomic(&dir.join("throughput.svg"), svg.as_bytes())?;
    let mut lat = Vec::new();
    for (c, (l, idx)) in groups.iter().enumerate() {
        lat.push(line(format!("{l} mean"), idx, c, false, &|r| {
            r.latency_w.mean() * 1e-6
        }));
        lat.push(line(format!("{l} p99"), idx, c, true, &|r| {
            r.latency.quantile(0.99) as f64 * 1e-6
        }));
    }
    let svg = charts::line_chart(
        &format!("{name}: latency"),
        &spec.x,
        "latency (ms)",
        &lat,
        spec.log_x,
    )
    .map_err(chart_err)?;
    write_atomic(&dir.join("latency.svg"), svg.as_bytes())
}

/// "10/l" for a bar label.
fn short(values: &Point) -> String {
    values
        .iter()
        .map(|(_, v)| plain(v))
        .collect::<Vec<_>>()
        .join("/")
}
