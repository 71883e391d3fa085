//! `--format json`: the reports of `benchmark`, `explain` and `plan` as one JSON document each,
//! for scripts. Every field is listed, with its unit, in `docs/json.md`, and a test checks the
//! documents against that list. Units are last in every name, as in the CSVs; an absent metric
//! (the latency of an operation that never completed) is `null`, never 0. Nothing in a
//! document depends on the wall clock, so the same flags and seed give the same bytes.

use serde::Serialize;
use serde_json::Value;

use super::explain::Limit;
use super::plan::{PlanResult, SensitivityRow, fault_rows, plan_rows, probe_rows};
use super::table::{Cell, Columns, Row};
use crate::model::{ClusterParams, OpResult, RunResult};

/// The `format` field of a benchmark or explain document (the version moves when a field's
/// meaning changes; new fields may appear without it).
pub const RUN_FORMAT: &str = "etcdsim.run/1";
/// The `format` field of a plan document.
pub const PLAN_FORMAT: &str = "etcdsim.plan/1";

/// One run, as `benchmark --format json` and `explain --format json` print it.
#[derive(Debug, Clone, Serialize)]
pub struct RunJson {
    /// [`RUN_FORMAT`].
    pub format: &'static str,
    /// `benchmark` or `explain`.
    pub command: String,
    /// The model and every flag and override, as the text report's first line names them.
    pub heading: String,
    /// The model's name.
    pub model: String,
    /// The etcd version the model follows.
    pub etcd_version: String,
    /// The run seed.
    pub seed: u64,
    /// What ended the run (`finished`, `saturated`, a cap, `interrupted`).
    pub stopped_by: String,
    /// The measured window, in seconds of virtual time.
    pub duration_s: f64,
    /// Requests issued but unfinished when the run stopped.
    pub in_flight: u64,
    /// The operation the stages describe: `reads` (if any were measured) or `writes`.
    pub primary: &'static str,
    /// Ranges.
    pub reads: OpJson,
    /// Puts.
    pub writes: OpJson,
    /// The expensive reads mixed in.
    pub expensive: OpJson,
    /// The probe's linearizable reads (`--probe-rate`).
    pub probe_l: OpJson,
    /// The probe's serializable reads.
    pub probe_s: OpJson,
    /// The primary operation's stages, in the order a request meets them.
    pub stages: Vec<StageJson>,
    /// The share of the primary operation's mean latency spent queueing (0 to 1).
    pub queueing_frac: Option<f64>,
    /// What limits the run.
    pub limit: LimitJson,
    /// Every resource's utilization.
    pub utilization: Vec<UtilizationJson>,
    /// ReadIndex rounds completed.
    pub readindex_rounds: u64,
    /// Mean reads released per round; `null` without rounds.
    pub reads_per_round: Option<f64>,
    /// The ReadIndex round's hops.
    pub readindex_hops: Vec<HopJson>,
    /// Every kind of goroutine's bursts.
    pub goroutines: Vec<GoroutineJson>,
    /// Backend commits, all members together.
    pub backend_commits: u64,
    /// With a proxy: the fraction of serializable ranges its cache answered; else `null`.
    pub proxy_hit_frac: Option<f64>,
    /// Events processed.
    pub events: u64,
}

/// An operation's counts and latency.
#[derive(Debug, Clone, Serialize)]
pub struct OpJson {
    /// Completed requests in the measured window.
    pub completed: u64,
    /// Failed requests in the measured window.
    pub failed: u64,
    /// Completed requests per second of virtual time.
    pub throughput_rps: f64,
    /// Latency of completed requests; `null` when none completed.
    pub latency_ms: Option<LatencyJson>,
}

/// A latency distribution, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyJson {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Maximum.
    pub max: f64,
}

/// One stage of the primary operation.
#[derive(Debug, Clone, Serialize)]
pub struct StageJson {
    /// The stage's name (as in the CSV columns `stage_<name>_ms_mean`).
    pub stage: &'static str,
    /// `queueing` or `service`.
    pub kind: &'static str,
    /// Mean per request (requests that skip it count as zero), in ms.
    pub mean_ms: f64,
    /// 99th percentile per request, in ms.
    pub p99_ms: f64,
    /// Its share of the mean latency (0 to 1); `null` when the mean latency is zero.
    pub share_frac: Option<f64>,
    /// One sentence on what etcd does in it.
    pub what_etcd_does: &'static str,
}

/// What limits a run (see `report::explain::Limit`).
#[derive(Debug, Clone, Serialize)]
pub struct LimitJson {
    /// `bottleneck` (a resource at 70% busy or more, or a saturated run) or `latency_bound`.
    pub kind: &'static str,
    /// The most utilized resource.
    pub resource: String,
    /// Its utilization (0 to 1).
    pub busy_frac: f64,
    /// When latency-bound: the stage with the largest mean; else `null`.
    pub largest_stage: Option<&'static str>,
    /// When latency-bound: that stage's share of the mean latency; else `null`.
    pub largest_stage_frac: Option<f64>,
}

/// A resource's utilization.
#[derive(Debug, Clone, Serialize)]
pub struct UtilizationJson {
    /// The resource (`member0_cpu`, `member1_disk`, ...).
    pub resource: String,
    /// The fraction of the measured window it was busy (0 to 1).
    pub busy_frac: f64,
}

/// A hop of the ReadIndex round.
#[derive(Debug, Clone, Serialize)]
pub struct HopJson {
    /// The hop's name.
    pub hop: &'static str,
    /// Mean, in ms.
    pub mean_ms: f64,
    /// 99th percentile, in ms.
    pub p99_ms: f64,
}

/// A kind of goroutine.
#[derive(Debug, Clone, Serialize)]
pub struct GoroutineJson {
    /// The kind.
    pub goroutine: &'static str,
    /// Bursts run.
    pub bursts: u64,
    /// Mean wait for a P before a burst (queueing), in µs.
    pub wait_us_mean: f64,
    /// Mean burst (CPU), in µs.
    pub burst_us_mean: f64,
}

fn op(o: &OpResult) -> OpJson {
    let h = &o.latency;
    let ms = |ns: u64| ns as f64 * 1e-6;
    OpJson {
        completed: o.completed,
        failed: o.failed,
        throughput_rps: o.throughput_rps,
        latency_ms: (o.latency_w.count() > 0).then(|| LatencyJson {
            mean: o.latency_w.mean() * 1e-6,
            p50: ms(h.quantile(0.5)),
            p90: ms(h.quantile(0.9)),
            p99: ms(h.quantile(0.99)),
            p999: ms(h.quantile(0.999)),
            max: ms(h.max()),
        }),
    }
}

fn limit(r: &RunResult) -> LimitJson {
    match Limit::of(r) {
        Limit::Bottleneck {
            resource,
            utilization,
        } => LimitJson {
            kind: "bottleneck",
            resource,
            busy_frac: utilization,
            largest_stage: None,
            largest_stage_frac: None,
        },
        Limit::LatencyBound {
            busiest,
            utilization,
            stage,
            share,
        } => LimitJson {
            kind: "latency_bound",
            resource: busiest,
            busy_frac: utilization,
            largest_stage: Some(stage.name()),
            largest_stage_frac: Some(share),
        },
    }
}

/// Run `r` of cluster `p` under `command` (`benchmark` or `explain`), which `heading` names.
pub fn run(command: &str, heading: &str, p: &ClusterParams, r: &RunResult) -> RunJson {
    let primary = r.primary();
    let total: f64 = primary.stages.iter().map(|s| s.mean_ns).sum();
    let share = |ns: f64| (total > 0.0).then(|| ns / total);
    let queueing: f64 = primary
        .stages
        .iter()
        .filter(|s| s.stage.is_queueing())
        .map(|s| s.mean_ns)
        .sum();
    RunJson {
        format: RUN_FORMAT,
        command: command.to_string(),
        heading: heading.to_string(),
        model: p.name.clone(),
        etcd_version: p.mechanisms.version.clone(),
        seed: r.seed,
        stopped_by: r.stopped_by.name().to_string(),
        duration_s: r.duration.as_secs_f64(),
        in_flight: r.in_flight,
        primary: if std::ptr::eq(primary, &r.reads) {
            "reads"
        } else {
            "writes"
        },
        reads: op(&r.reads),
        writes: op(&r.writes),
        expensive: op(&r.expensive),
        probe_l: op(&r.probe_l),
        probe_s: op(&r.probe_s),
        stages: primary
            .stages
            .iter()
            .map(|s| StageJson {
                stage: s.stage.name(),
                kind: s.stage.kind(),
                mean_ms: s.mean_ns * 1e-6,
                p99_ms: s.p99_ns as f64 * 1e-6,
                share_frac: share(s.mean_ns),
                what_etcd_does: s.stage.explain(),
            })
            .collect(),
        queueing_frac: share(queueing),
        limit: limit(r),
        utilization: r
            .utilization
            .iter()
            .map(|(resource, u)| UtilizationJson {
                resource: resource.clone(),
                busy_frac: *u,
            })
            .collect(),
        readindex_rounds: r.readindex_rounds,
        reads_per_round: (r.readindex_rounds > 0).then_some(r.reads_per_round),
        readindex_hops: r
            .round_hops
            .iter()
            .map(|h| HopJson {
                hop: h.hop.name(),
                mean_ms: h.mean_ns * 1e-6,
                p99_ms: h.p99_ns as f64 * 1e-6,
            })
            .collect(),
        goroutines: r
            .goroutines
            .iter()
            .map(|g| GoroutineJson {
                goroutine: g.kind.name(),
                bursts: g.bursts,
                wait_us_mean: g.mean_wait_ns * 1e-3,
                burst_us_mean: g.mean_burst_ns * 1e-3,
            })
            .collect(),
        backend_commits: r.backend_commits,
        proxy_hit_frac: r
            .proxy_cache
            .map(|(hits, misses)| hits as f64 / (hits + misses).max(1) as f64),
        events: r.events,
    }
}

/// A capacity plan, as `plan --format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct PlanJson {
    /// [`PLAN_FORMAT`].
    pub format: &'static str,
    /// The plan's name.
    pub plan: String,
    /// The read rate the plan must reach, in requests per second.
    pub target_read_rate_rps: f64,
    /// The read p99 objective, in ms.
    pub read_p99_ms_max: f64,
    /// The write p99 objective, in ms; `null` without one.
    pub write_p99_ms_max: Option<f64>,
    /// Whether failed requests are allowed.
    pub allow_failures: bool,
    /// Ctrl-C stopped the plan: only finished candidates are listed and none is chosen.
    pub partial: bool,
    /// The cheapest candidate that meets the target; `null` if none does.
    pub chosen: Option<String>,
    /// A member per candidate, from the cheapest, with `plan.csv`'s columns as fields.
    pub candidates: Vec<Object>,
    /// A member per probed rate, with `probes.csv`'s columns as fields.
    pub probes: Vec<Object>,
    /// The chosen candidate's sensitivity, with `sensitivity.csv`'s columns as fields; empty
    /// without a `[sensitivity]` table or a chosen candidate.
    pub sensitivity: Vec<Object>,
    /// A member per candidate and fault, with `faults.csv`'s columns as fields; empty without
    /// `[[faults]]`.
    pub faults: Vec<Object>,
}

/// Plan `r`, with the chosen candidate's `sensitivity` rows.
pub fn plan(r: &PlanResult, sensitivity: &[SensitivityRow]) -> PlanJson {
    PlanJson {
        format: PLAN_FORMAT,
        plan: r.name.to_string(),
        target_read_rate_rps: r.search.target,
        read_p99_ms_max: r.search.read_p99_ms,
        write_p99_ms_max: r.search.write_p99_ms,
        allow_failures: r.search.allow_failures,
        partial: r.partial,
        chosen: r.chosen.map(|i| r.candidates[i].0.to_string()),
        candidates: rows(&plan_rows(r)),
        probes: rows(&probe_rows(r)),
        sensitivity: rows(sensitivity),
        faults: rows(&fault_rows(r)),
    }
}

/// `value` as pretty JSON text, with a final newline. A non-finite number (which JSON cannot
/// hold) becomes `null`, as serde_json writes it.
pub fn text<T: Serialize>(value: &T) -> Result<String, String> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| format!("JSON: {e}"))
}

/// Rows of an output table as JSON objects, a member per column in the table's order and with
/// its name: a number cell is a number, a yes/no cell (`1`/`0` in the CSV) a boolean, an empty
/// cell (an absent metric) `null`, anything else a string. So a CSV's documented columns are also the fields.
pub fn rows<R: Row>(rows: &[R]) -> Vec<Object> {
    rows.iter()
        .map(|row| {
            let mut c = Object(Vec::new());
            row.clone().columns(&mut c);
            c
        })
        .collect()
}

/// A JSON object whose members keep their order (serde_json's own map sorts them).
#[derive(Debug, Clone, PartialEq)]
pub struct Object(pub Vec<(String, Value)>);

impl Serialize for Object {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Columns for Object {
    fn col(&mut self, name: &str, cell: &mut dyn Cell) {
        let mut t = String::new();
        cell.write(&mut t);
        let v = if t.is_empty() {
            Value::Null
        } else if cell.boolean() {
            Value::Bool(t == "1")
        } else if cell.numeric() {
            serde_json::from_str::<serde_json::Number>(&t)
                .map(Value::Number)
                .unwrap_or(Value::String(t))
        } else {
            Value::String(t)
        };
        self.0.push((name.to_string(), v));
    }
}
