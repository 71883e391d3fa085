//! Experiment files (`experiments/*.toml`): a model, a workload, and a grid of parameters.
//!
//! ```toml
//! name = "quickstart"
//! model = "../models/gce-8vcpu-ssd.toml"   # from this file's folder; absent: the built-in one
//! replications = 3
//! seed = 1
//! set = { "network.rtt_us" = 200 }          # model overrides for every point
//! [workload]                                # the workload of every point
//! conns = 10
//! total = 20000
//! [grid]                                    # axes: a value, a list, or a range
//! clients = [10, 100, 1000]
//! consistency = ["l", "s"]
//! "model.network.rtt_us" = { from = 100, to = 1000, step = 300 }
//! "model.member.cores" = { from = 2, to = 32, points = 5, log = true }
//! [charts]
//! x = "clients"
//! series = ["consistency"]                  # optional: one line per value of these axes
//! [limits]                                  # optional caps on each run
//! max_events = 2000000000
//! max_sim_time_s = 3600
//! max_in_flight = 200000                    # the backlog at which a run counts as saturated
//! ```
//!
//! Grid keys are workload keys, or `model.` followed by a model key. The grid is the Cartesian
//! product of its axes in file order (the last axis varies fastest); `[[points]]` adds explicit
//! points after it. A key naming several parameters, `"clients,conns" = [[1, 1], [100, 10]]`, is
//! one axis whose values set them together (a zipped axis).

use serde::{Deserialize, Serialize};

use super::ConfigError;
pub use super::limits::Limits;
use super::messages::join;
use super::model::ModelSource;
use super::variant::{Override, blame, number_value};
use super::workload::WorkloadSpec;
use crate::model::{ClusterParams, Workload};

/// The raw experiment file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentFile {
    /// Output folder name (default: the file's stem).
    pub name: Option<String>,
    /// What the experiment shows, for its reader.
    pub description: Option<String>,
    /// The model file, relative to the experiment file's folder; absent, the reference model
    /// built into etcdsim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Model overrides for every point, as dotted keys.
    #[serde(default)]
    pub set: toml::Table,
    /// The workload of every point.
    #[serde(default)]
    pub workload: toml::Table,
    /// Runs per point, each with its own seed.
    #[serde(default = "one")]
    pub replications: u32,
    /// The base seed; each run's seed is a function of (seed, point, replication).
    #[serde(default = "one_u64")]
    pub seed: u64,
    /// The axes.
    #[serde(default)]
    pub grid: toml::Table,
    /// Explicit points, after the grid's.
    #[serde(default)]
    pub points: Vec<toml::Table>,
    /// What the charts plot.
    pub charts: Option<ChartSpec>,
    /// Caps on each run.
    #[serde(default)]
    pub limits: Limits,
}

fn one() -> u32 {
    1
}
fn one_u64() -> u64 {
    1
}

/// `[charts]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChartSpec {
    /// The numeric grid axis on the x axis.
    pub x: String,
    /// Plot x on a log scale.
    #[serde(default)]
    pub log_x: bool,
    /// The axes whose values make separate lines (default: every axis but x).
    pub series: Option<Vec<String>>,
    /// Which requests the throughput and latency charts show: "read" (default), "write" or
    /// "expensive".
    pub op: Option<String>,
}

/// One axis value form.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
enum Axis {
    Range {
        from: f64,
        to: f64,
        step: f64,
    },
    Log {
        from: f64,
        to: f64,
        points: u32,
        log: bool,
    },
    List(Vec<toml::Value>),
    Single(toml::Value),
}

/// A grid point: (key, value) per axis, in axis order.
pub type Point = Vec<(String, toml::Value)>;

/// The most points a grid (or an axis) may have.
pub const MAX_POINTS: usize = 100_000;
/// The most runs one `etcdsim run` may make (its rows are held until the end, a couple of
/// kilobytes each); a larger sweep is split with `--shard K/N`.
pub const MAX_RUNS: usize = 1_000_000;

fn axis_values(file: &str, key: &str, v: &toml::Value) -> Result<Vec<toml::Value>, ConfigError> {
    let bad = |rule: String| ConfigError::invalid(file, format!("grid.{key}"), rule);
    let axis = Axis::deserialize(v.clone()).map_err(|_| {
        bad(
            "must be a value, a list, { from, to, step } or { from, to, points, log = true }"
                .into(),
        )
    })?;
    let vals = match axis {
        Axis::Single(toml::Value::Table(_)) => {
            return Err(bad(
                "a table must be { from, to, step } or { from, to, points, log = true }".into(),
            ));
        }
        Axis::Single(v) => vec![v],
        Axis::List(v) if v.is_empty() => return Err(bad("the list is empty".into())),
        Axis::List(v) => v,
        Axis::Range { from, to, step } => {
            if !(step > 0.0 && from.is_finite() && to.is_finite() && to >= from) {
                return Err(bad(format!(
                    "needs step > 0 and from <= to (got from {from}, to {to}, step {step})"
                )));
            }
            // `as` saturates a span too large to count; the cap below refuses it.
            let n = (((to - from) / step + 1e-9).floor() as usize).saturating_add(1);
            if n > MAX_POINTS {
                return Err(bad(format!("{n} values: more than {MAX_POINTS}")));
            }
            (0..n)
                .map(|i| number_value(from + step * i as f64))
                .collect()
        }
        Axis::Log {
            from,
            to,
            points,
            log,
        } => {
            if !(log && from > 0.0 && to >= from && points >= 2) {
                return Err(bad(format!(
                    "a log range needs log = true, 0 < from <= to and points >= 2 (got from {from}, to {to}, points {points})"
                )));
            }
            if points as usize > MAX_POINTS {
                return Err(bad(format!("{points} values: more than {MAX_POINTS}")));
            }
            let r = (to / from).ln();
            (0..points)
                .map(|i| {
                    let x = from * (r * f64::from(i) / f64::from(points - 1)).exp();
                    number_value((x * 1e6).round() / 1e6)
                })
                .collect()
        }
    };
    Ok(vals)
}

impl ExperimentFile {
    /// Expands the grid (and explicit points) into the list of points.
    pub fn points(&self, file: &str) -> Result<Vec<Point>, ConfigError> {
        let mut axes: Vec<(Vec<String>, Vec<Vec<toml::Value>>)> = Vec::new();
        for (k, v) in &self.grid {
            let keys: Vec<String> = k.split(',').map(|x| x.trim().to_string()).collect();
            let vals = axis_values(file, k, v)?;
            if keys.len() == 1 {
                axes.push((keys, vals.into_iter().map(|v| vec![v]).collect()));
                continue;
            }
            let mut tuples = Vec::new();
            for (i, t) in vals.into_iter().enumerate() {
                match t {
                    toml::Value::Array(a) if a.len() == keys.len() => tuples.push(a),
                    _ => {
                        return Err(ConfigError::invalid(
                            file,
                            format!("grid.\"{k}\"[{i}]"),
                            format!("must be a list of {} values, one per key", keys.len()),
                        ));
                    }
                }
            }
            axes.push((keys, tuples));
        }
        let total: usize = axes
            .iter()
            .map(|a| a.1.len())
            .try_fold(1usize, |acc, n| acc.checked_mul(n))
            .unwrap_or(usize::MAX);
        // Every point is validated into parameters held in memory (kilobytes each): a grid
        // beyond this is refused before it is expanded.
        if total.saturating_add(self.points.len()) > MAX_POINTS {
            return Err(ConfigError::invalid(
                file,
                "grid",
                format!("{total} points is more than {MAX_POINTS}, beyond any sensible sweep"),
            ));
        }
        let mut points: Vec<Point> = vec![Vec::new()];
        for (keys, vals) in &axes {
            points = points
                .into_iter()
                .flat_map(|p| {
                    vals.iter().map(move |tuple| {
                        let mut q = p.clone();
                        q.extend(keys.iter().cloned().zip(tuple.iter().cloned()));
                        q
                    })
                })
                .collect();
        }
        if axes.is_empty() && !self.points.is_empty() {
            points.clear();
        }
        for t in &self.points {
            points.push(t.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        }
        Ok(points)
    }
}

impl ExperimentFile {
    /// The keys that vary together with `key` (itself included): its zipped axis.
    pub fn zipped_with(&self, key: &str) -> Vec<String> {
        self.grid
            .keys()
            .map(|k| {
                k.split(',')
                    .map(|x| x.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .find(|ks| ks.iter().any(|k| k == key))
            .unwrap_or_else(|| vec![key.to_string()])
    }
}

/// A point of the grid, validated: its axis values, its cluster and its workload.
#[derive(Debug, Clone)]
pub struct Job {
    /// (key, value) per axis, in axis order.
    pub values: Point,
    /// The model with the file's `set` and the point's `model.` axes.
    pub cluster: ClusterParams,
    /// The file's workload with the point's other axes.
    pub workload: Workload,
}

/// "clients=10, consistency=l"
pub fn describe(values: &Point) -> String {
    values
        .iter()
        .map(|(k, v)| format!("{k}={}", plain(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A TOML value as a CSV cell: strings without quotes.
pub fn plain(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl ExperimentFile {
    /// Every point of the grid, validated against `model` (the file's model, parsed once); an
    /// error names the point.
    pub fn jobs(&self, file: &str, model: &ModelSource) -> Result<Vec<Job>, ConfigError> {
        let base = Override::sets(&self.set);
        let base_sources: Vec<String> = self.set.keys().map(|k| join("set", k)).collect();
        let points = self.points(file)?;
        let from_grid = points.len() - self.points.len();
        let mut jobs = Vec::new();
        for (i, values) in points.into_iter().enumerate() {
            let explicit = i.checked_sub(from_grid);
            let mut overrides = base.clone();
            let mut sources = base_sources.clone();
            let mut wl = self.workload.clone();
            for (k, v) in &values {
                match k.strip_prefix("model.") {
                    Some(mk) => {
                        overrides.push(Override::set(mk, v));
                        sources.push(self.source_of(k, explicit));
                    }
                    None => {
                        wl.insert(k.clone(), v.clone());
                    }
                }
            }
            let ctx = if values.is_empty() {
                file.to_string()
            } else {
                format!("{file} (point {i}: {})", describe(&values))
            };
            let cluster = model
                .variant(&overrides)
                .map_err(|e| blame(&ctx, &overrides, &sources, e))?;
            // A workload key a point sets is blamed on its axis, any other on [workload].
            let name = |k: &str| match values.iter().any(|(axis, _)| axis == k) {
                true => self.source_of(k, explicit),
                false => join("workload", k),
            };
            let workload =
                WorkloadSpec::from_table(&ctx, wl)?.validate_named(&cluster, &ctx, &name)?;
            jobs.push(Job {
                values,
                cluster,
                workload,
            });
        }
        Ok(jobs)
    }

    /// Where the value of the axis `key` is written: in the grid (`grid."clients,conns"`), or
    /// in the explicit point `explicit` (`points[2].clients`).
    fn source_of(&self, key: &str, explicit: Option<usize>) -> String {
        match explicit {
            Some(j) => join(&format!("points[{j}]"), key),
            None => self
                .grid
                .keys()
                .find(|g| g.split(',').any(|part| part.trim() == key))
                .map_or_else(|| join("grid", key), |g| join("grid", g)),
        }
    }

    /// The chart's x must be a numeric axis; every other axis that varies must make the lines.
    pub fn check_chart(&self, file: &str, jobs: &[Job]) -> Result<(), ConfigError> {
        let Some(chart) = &self.charts else {
            return Ok(());
        };
        let Some(first) = jobs.first() else {
            return Ok(());
        };
        if !first
            .values
            .iter()
            .any(|(k, v)| k == &chart.x && super::number(v).is_some())
        {
            return Err(ConfigError::invalid(
                file,
                "charts.x",
                format!("{:?} is not a numeric grid axis", chart.x),
            ));
        }
        if let Some(op) = &chart.op {
            if !["read", "write", "expensive", "probe_l", "probe_s"].contains(&op.as_str()) {
                return Err(ConfigError::invalid(
                    file,
                    "charts.op",
                    format!(
                        "must be \"read\", \"write\", \"expensive\", \"probe_l\" or \"probe_s\" (got {op:?})"
                    ),
                ));
            }
        }
        let Some(series) = &chart.series else {
            return Ok(());
        };
        for s in series {
            if !first.values.iter().any(|(k, _)| k == s) {
                return Err(ConfigError::invalid(
                    file,
                    "charts.series",
                    format!("{s:?} is not a grid axis"),
                ));
            }
        }
        let with_x = self.zipped_with(&chart.x);
        for (i, (k, v)) in first.values.iter().enumerate() {
            let plotted = with_x.contains(k) || series.contains(k);
            if !plotted
                && jobs
                    .iter()
                    .any(|j| j.values.get(i).is_none_or(|(_, w)| w != v))
            {
                return Err(ConfigError::invalid(
                    file,
                    "charts.series",
                    format!(
                        "the axis {k:?} varies but is neither x nor in series, so its points would share a line"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// One run as `run.toml` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RunEntry {
    /// The point's index.
    pub point: usize,
    /// The replication's index.
    pub replication: usize,
    /// Its seed.
    pub seed: u64,
    /// "clients=10, consistency=l"
    pub values: String,
}

/// `run.toml`: the resolved experiment with its model file's name and whole text
/// (`model_toml`), the hash of both files' text, the shard it ran (`K/N`, if one), and every
/// run with its seed, so that any one can be replayed, and `etcdsim run run.toml` runs the
/// experiment again, byte for byte ([`parse_run_toml`]).
pub fn run_toml(
    e: &ExperimentFile,
    name: &str,
    (model_file, model_toml): (&str, &str),
    (config_hash, shard): (u64, Option<String>),
    runs: Vec<RunEntry>,
) -> Result<String, String> {
    #[derive(Serialize)]
    struct RunToml<'a> {
        etcdsim_version: &'a str,
        experiment: &'a str,
        model_file: &'a str,
        config_hash: String,
        /// "K/N" for a shard's output, which `merge` checks.
        #[serde(skip_serializing_if = "Option::is_none")]
        shard: Option<String>,
        base_seed: u64,
        replications: u32,
        model_toml: &'a str,
        experiment_file: &'a ExperimentFile,
        runs: Vec<RunEntry>,
    }
    toml::to_string(&RunToml {
        etcdsim_version: env!("CARGO_PKG_VERSION"),
        experiment: name,
        model_file,
        config_hash: format!("{config_hash:016x}"),
        shard,
        base_seed: e.seed,
        replications: e.replications,
        model_toml,
        experiment_file: e,
        runs,
    })
    .map_err(|err| format!("run.toml: {err}"))
}

/// A `run.toml` read back: what running it again needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunFile {
    /// The etcdsim version that wrote it.
    pub etcdsim_version: String,
    /// The experiment's name.
    pub experiment: String,
    /// What the model was called (its path, or the built-in model's label).
    pub model_file: String,
    /// The hash of the experiment's and the model's text, as 16 hexadecimal digits.
    pub config_hash: String,
    /// The shard it ran, if one.
    pub shard: Option<String>,
    /// The experiment's base seed.
    pub base_seed: u64,
    /// Replications per point.
    pub replications: u32,
    /// The model's whole text.
    pub model_toml: String,
    /// The experiment, resolved.
    pub experiment_file: ExperimentFile,
}

/// Whether `text` is a `run.toml` (its first key is `etcdsim_version`) rather than an
/// experiment file.
pub fn is_run_toml(text: &str) -> bool {
    text.starts_with("etcdsim_version = ")
}

/// Parses `run.toml`'s `text` (`file` names it in errors). Its `[[runs]]` list is left out:
/// running the experiment again derives the same seeds, and a seed above 2^63 is not a TOML
/// integer.
pub fn parse_run_toml(file: &str, text: &str) -> Result<(RunFile, u64), ConfigError> {
    let head = text.split("\n[[runs]]").next().unwrap_or(text);
    let r: RunFile = super::parse(file, head)?;
    let hash = u64::from_str_radix(&r.config_hash, 16)
        .ok()
        .filter(|_| r.config_hash.len() == 16)
        .ok_or_else(|| {
            ConfigError::invalid(
                file,
                "config_hash",
                format!("must be 16 hexadecimal digits (got {:?})", r.config_hash),
            )
        })?;
    Ok((r, hash))
}

/// Parses an experiment file's `text` (`file` names it in errors).
pub fn parse(file: &str, text: &str) -> Result<ExperimentFile, ConfigError> {
    let e: ExperimentFile = super::parse(file, text)?;
    if !(1..=MAX_RUNS as u32).contains(&e.replications) {
        return Err(ConfigError::invalid(
            file,
            "replications",
            format!(
                "must be at least 1 and at most {MAX_RUNS} (got {})",
                e.replications
            ),
        ));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ExperimentFile {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn a_run_toml_reads_back_and_a_bad_one_names_its_key() {
        let e = parse("name = \"x\"\n[workload]\ntotal = 10\n");
        let runs = vec![RunEntry {
            point: 0,
            replication: 0,
            seed: u64::MAX,
            values: String::new(),
        }];
        let text = run_toml(&e, "x", ("m", "[cluster]\n"), (0xab, None), runs).unwrap();
        assert!(is_run_toml(&text));
        let (r, hash) = parse_run_toml("run.toml", &text).unwrap();
        assert_eq!((hash, r.model_toml.as_str()), (0xab, "[cluster]\n"));
        assert_eq!(r.experiment_file.workload, e.workload);
        let bad = text.replace("00000000000000ab", "xyz");
        let err = parse_run_toml("run.toml", &bad).unwrap_err().to_string();
        assert!(
            err.contains("run.toml") && err.contains("config_hash"),
            "{err}"
        );
        let bad = text.replace("base_seed", "base_sed");
        let err = parse_run_toml("run.toml", &bad).unwrap_err().to_string();
        assert!(err.contains("base_sed"), "{err}");
    }

    #[test]
    fn grid_expands_in_file_order_last_axis_fastest() {
        let e = parse(
            "model = \"m\"\n[grid]\nclients = [1, 2]\nconsistency = [\"l\", \"s\"]\n\"model.network.rtt_us\" = { from = 100, to = 300, step = 100 }\n",
        );
        let pts = e.points("e.toml").unwrap();
        assert_eq!(pts.len(), 12);
        let first: Vec<String> = pts[0].iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            first,
            ["clients=1", "consistency=\"l\"", "model.network.rtt_us=100"]
        );
        assert_eq!(pts[1][2].1, toml::Value::Integer(200));
        assert_eq!(pts[3][1].1.as_str(), Some("s"));
    }

    #[test]
    fn zipped_axes_vary_together() {
        let e = parse(
            "model = \"m\"\n[grid]\n\"clients,conns\" = [[1, 1], [100, 10]]\nconsistency = [\"l\", \"s\"]\n",
        );
        let pts = e.points("e").unwrap();
        assert_eq!(pts.len(), 4);
        let p2: Vec<String> = pts[2].iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(p2, ["clients=100", "conns=10", "consistency=\"l\""]);
        assert_eq!(e.zipped_with("clients"), ["clients", "conns"]);
        let bad = parse("model = \"m\"\n[grid]\n\"clients,conns\" = [[1, 1], [100]]\n");
        assert!(
            bad.points("e")
                .unwrap_err()
                .to_string()
                .contains("one per key")
        );
    }

    #[test]
    fn log_ranges_and_errors() {
        let e = parse(
            "model = \"m\"\n[grid]\nclients = { from = 1, to = 1000, points = 4, log = true }\n",
        );
        let v: Vec<i64> = e
            .points("e")
            .unwrap()
            .iter()
            .map(|p| p[0].1.as_integer().unwrap())
            .collect();
        assert_eq!(v, [1, 10, 100, 1000]);
        let bad = parse("model = \"m\"\n[grid]\nclients = { from = 5, to = 1, step = 1 }\n");
        let err = bad.points("e.toml").unwrap_err().to_string();
        assert!(err.starts_with("e.toml: grid.clients:"), "{err}");
        let bad = parse("model = \"m\"\n[grid]\nclients = []\n");
        assert!(bad.points("e").unwrap_err().to_string().contains("empty"));
    }
}
