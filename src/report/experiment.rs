//! An experiment's outputs: a [`RunRow`] per run (`results.csv` and its journal), a
//! [`SummaryRow`] per point (`summary.csv`), computed from typed rows (the charts are in
//! `experiment_charts.rs`).

use super::table::{Columns, Fixed, Hex, Row};
use crate::model::{OpResult, RunResult, Stage};
use crate::stats::student_t_ci;

/// The kinds of request a run row reports, as its columns name them.
pub const OPS: [&str; 5] = ["read", "write", "expensive", "probe_l", "probe_s"];

/// What one run predicts for one kind of request.
#[derive(Debug, Clone, PartialEq)]
pub struct OpRow {
    /// Successful requests per second.
    pub throughput_rps: Fixed<6>,
    /// Requests that completed in the measured window.
    pub completed: u64,
    /// Requests that failed in the measured window.
    pub failed: u64,
    /// Latency of the successful requests (ms): mean, quantiles and maximum; absent when none
    /// completed.
    pub latency_ms_mean: Fixed<6>,
    /// See `latency_ms_mean`.
    pub latency_ms_p50: Fixed<6>,
    /// See `latency_ms_mean`.
    pub latency_ms_p90: Fixed<6>,
    /// See `latency_ms_mean`.
    pub latency_ms_p99: Fixed<6>,
    /// See `latency_ms_mean`.
    pub latency_ms_p999: Fixed<6>,
    /// See `latency_ms_mean`.
    pub latency_ms_max: Fixed<6>,
}

impl OpRow {
    fn of(o: &OpResult) -> OpRow {
        let some = o.completed > 0;
        let ms = |ns: u64| Fixed::present_if(some, ns as f64 * 1e-6);
        let h = &o.latency;
        OpRow {
            throughput_rps: Fixed::new(o.throughput_rps),
            completed: o.completed,
            failed: o.failed,
            latency_ms_mean: Fixed::present_if(some, o.latency_w.mean() * 1e-6),
            latency_ms_p50: ms(h.quantile(0.5)),
            latency_ms_p90: ms(h.quantile(0.9)),
            latency_ms_p99: ms(h.quantile(0.99)),
            latency_ms_p999: ms(h.quantile(0.999)),
            latency_ms_max: ms(h.max()),
        }
    }

    fn absent() -> OpRow {
        OpRow {
            throughput_rps: Fixed::ABSENT,
            completed: 0,
            failed: 0,
            latency_ms_mean: Fixed::ABSENT,
            latency_ms_p50: Fixed::ABSENT,
            latency_ms_p90: Fixed::ABSENT,
            latency_ms_p99: Fixed::ABSENT,
            latency_ms_p999: Fixed::ABSENT,
            latency_ms_max: Fixed::ABSENT,
        }
    }

    fn columns(&mut self, op: &str, c: &mut dyn Columns) {
        c.col(&format!("{op}_throughput_rps"), &mut self.throughput_rps);
        c.col(&format!("{op}_completed"), &mut self.completed);
        c.col(&format!("{op}_failed"), &mut self.failed);
        c.col(&format!("{op}_latency_ms_mean"), &mut self.latency_ms_mean);
        c.col(&format!("{op}_latency_ms_p50"), &mut self.latency_ms_p50);
        c.col(&format!("{op}_latency_ms_p90"), &mut self.latency_ms_p90);
        c.col(&format!("{op}_latency_ms_p99"), &mut self.latency_ms_p99);
        c.col(&format!("{op}_latency_ms_p999"), &mut self.latency_ms_p999);
        c.col(&format!("{op}_latency_ms_max"), &mut self.latency_ms_max);
    }
}

/// One run of an experiment: a row of `results.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    /// The experiment's name.
    pub experiment: String,
    /// The point's index in the grid.
    pub point: usize,
    /// The replication's index.
    pub replication: usize,
    /// The run's seed.
    pub seed: u64,
    /// The hash of the experiment and model files the run came from.
    pub config_hash: Hex,
    /// The point's value on each axis, as written (strings unquoted).
    pub axes: Vec<(String, String)>,
    /// Reads, writes, expensive reads and the probe's two kinds, in the order of [`OPS`].
    pub ops: [OpRow; 5],
    /// Mean time in each stage of the main operation, reads if any (ms); absent when none was
    /// measured.
    pub stages: Vec<(Stage, Fixed<6>)>,
    /// Utilization of each resource of the experiment's clusters; absent where this point's
    /// cluster has no such resource.
    pub utilization: Vec<(String, Fixed<6>)>,
    /// The most utilized resource.
    pub bottleneck: String,
    /// The backlog passed its cap.
    pub saturated: bool,
    /// What ended the run (`finished`, `saturated`, a cap).
    pub stopped_by: String,
    /// With a proxy, the share of serializable ranges its cache answered.
    pub proxy_hit_ratio: Fixed<6>,
    /// ReadIndex rounds completed.
    pub readindex_rounds: u64,
    /// Mean reads a round released; absent without rounds.
    pub reads_per_round: Fixed<6>,
    /// Backend commits, all members together.
    pub backend_commits: u64,
    /// Events processed, warm-up included.
    pub events: u64,
}

impl RunRow {
    /// A row shaped for an experiment with these axes and resources, every value absent: the
    /// template the header and the rows read back come from.
    pub fn template(axes: &[String], resources: &[String]) -> RunRow {
        RunRow {
            experiment: String::new(),
            point: 0,
            replication: 0,
            seed: 0,
            config_hash: Hex(0),
            axes: axes.iter().map(|a| (a.clone(), String::new())).collect(),
            ops: std::array::from_fn(|_| OpRow::absent()),
            stages: Stage::ALL.iter().map(|&s| (s, Fixed::ABSENT)).collect(),
            utilization: resources
                .iter()
                .map(|r| (r.clone(), Fixed::ABSENT))
                .collect(),
            bottleneck: String::new(),
            saturated: false,
            stopped_by: String::new(),
            proxy_hit_ratio: Fixed::ABSENT,
            readindex_rounds: 0,
            reads_per_round: Fixed::ABSENT,
            backend_commits: 0,
            events: 0,
        }
    }

    /// The row of run `r`, shaped like `template` (its experiment's resources).
    pub fn of(template: &RunRow, id: RunId, axes: Vec<(String, String)>, r: &RunResult) -> RunRow {
        let primary = r.primary();
        let measured = primary.completed + primary.failed > 0;
        let stage_ms = |s: Stage| {
            let ns = primary
                .stages
                .iter()
                .find(|x| x.stage == s)
                .map(|x| x.mean_ns);
            Fixed::present_if(measured && ns.is_some(), ns.unwrap_or(0.0) * 1e-6)
        };
        let util = |name: &str| {
            r.utilization
                .iter()
                .find(|u| u.0 == name)
                .map_or(Fixed::ABSENT, |u| Fixed::new(u.1))
        };
        RunRow {
            experiment: id.experiment,
            point: id.point,
            replication: id.replication,
            seed: id.seed,
            config_hash: Hex(id.config_hash),
            axes,
            ops: [
                OpRow::of(&r.reads),
                OpRow::of(&r.writes),
                OpRow::of(&r.expensive),
                OpRow::of(&r.probe_l),
                OpRow::of(&r.probe_s),
            ],
            stages: Stage::ALL.iter().map(|&s| (s, stage_ms(s))).collect(),
            utilization: template
                .utilization
                .iter()
                .map(|(n, _)| (n.clone(), util(n)))
                .collect(),
            bottleneck: r.bottleneck.clone(),
            saturated: r.saturated(),
            stopped_by: r.stopped_by.name().to_string(),
            proxy_hit_ratio: r.proxy_cache.map_or(Fixed::ABSENT, |(h, m)| {
                Fixed::new(h as f64 / (h + m).max(1) as f64)
            }),
            readindex_rounds: r.readindex_rounds,
            reads_per_round: Fixed::present_if(r.readindex_rounds > 0, r.reads_per_round),
            backend_commits: r.backend_commits,
            events: r.events,
        }
    }

    /// The row's kind of request named `op` (one of [`OPS`]).
    pub fn op(&self, op: &str) -> Option<&OpRow> {
        OPS.iter().position(|o| *o == op).map(|i| &self.ops[i])
    }

    /// Requests finished, completed or failed, of every kind.
    pub fn requests(&self) -> u64 {
        self.ops.iter().map(|o| o.completed + o.failed).sum()
    }

    /// The value of axis `name` as written.
    pub fn axis(&self, name: &str) -> &str {
        self.axes
            .iter()
            .find(|a| a.0 == name)
            .map_or("", |a| a.1.as_str())
    }
}

/// Which run a row is.
#[derive(Debug, Clone)]
pub struct RunId {
    /// The experiment's name.
    pub experiment: String,
    /// The point.
    pub point: usize,
    /// The replication.
    pub replication: usize,
    /// The seed.
    pub seed: u64,
    /// The hash of the experiment and model files.
    pub config_hash: u64,
}

impl Row for RunRow {
    fn columns(&mut self, c: &mut dyn Columns) {
        c.col("experiment", &mut self.experiment);
        c.col("point", &mut self.point);
        c.col("replication", &mut self.replication);
        c.col("seed", &mut self.seed);
        c.col("config_hash", &mut self.config_hash);
        for (name, value) in &mut self.axes {
            c.col(name, value);
        }
        for (op, o) in OPS.iter().zip(&mut self.ops) {
            o.columns(op, c);
        }
        for (stage, ms) in &mut self.stages {
            c.col(&format!("stage_{}_ms_mean", stage.name()), ms);
        }
        for (resource, frac) in &mut self.utilization {
            c.col(&format!("util_{resource}_frac"), frac);
        }
        c.col("bottleneck", &mut self.bottleneck);
        c.col("saturated", &mut self.saturated);
        c.col("stopped_by", &mut self.stopped_by);
        c.col("proxy_hit_ratio", &mut self.proxy_hit_ratio);
        c.col("readindex_rounds", &mut self.readindex_rounds);
        c.col("reads_per_round", &mut self.reads_per_round);
        c.col("backend_commits", &mut self.backend_commits);
        c.col("events", &mut self.events);
    }
}

/// A mean over replications with the half width of its 95% confidence interval (columns
/// `<metric>_mean` and `<metric>_ci95_halfwidth`: the interval is mean ± half width); both absent
/// when no replication measured the metric, the half width alone with a single replication.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanCi {
    /// The mean.
    pub mean: Fixed<6>,
    /// The 95% half width.
    pub ci95: Fixed<6>,
}

impl MeanCi {
    /// Over the values present (absent ones are left out, not counted as 0).
    fn of(xs: impl Iterator<Item = f64>) -> MeanCi {
        let xs: Vec<f64> = xs.filter(|x| !x.is_nan()).collect();
        let c = student_t_ci(&xs, 0.95);
        MeanCi {
            mean: Fixed::new(c.mean),
            ci95: Fixed::new(c.half_width),
        }
    }

    /// Columns `<name>_mean` and `<name>_ci95_halfwidth` (the interval is mean ± half width).
    fn columns(&mut self, name: &str, c: &mut dyn Columns) {
        c.col(&format!("{name}_mean"), &mut self.mean);
        c.col(&format!("{name}_ci95_halfwidth"), &mut self.ci95);
    }
}

/// The summarised metrics of one kind of request.
#[derive(Debug, Clone, PartialEq)]
pub struct OpSummary {
    /// Successful requests per second.
    pub throughput_rps: MeanCi,
    /// Mean latency (ms).
    pub latency_ms_mean: MeanCi,
    /// Median latency (ms).
    pub latency_ms_p50: MeanCi,
    /// p90 latency (ms).
    pub latency_ms_p90: MeanCi,
    /// p99 latency (ms).
    pub latency_ms_p99: MeanCi,
    /// p99.9 latency (ms).
    pub latency_ms_p999: MeanCi,
    /// Failed requests.
    pub failed: MeanCi,
}

impl OpSummary {
    fn of(runs: &[RunRow], i: usize) -> OpSummary {
        let m = |f: fn(&OpRow) -> f64| MeanCi::of(runs.iter().map(|r| f(&r.ops[i])));
        OpSummary {
            throughput_rps: m(|o| o.throughput_rps.0),
            latency_ms_mean: m(|o| o.latency_ms_mean.0),
            latency_ms_p50: m(|o| o.latency_ms_p50.0),
            latency_ms_p90: m(|o| o.latency_ms_p90.0),
            latency_ms_p99: m(|o| o.latency_ms_p99.0),
            latency_ms_p999: m(|o| o.latency_ms_p999.0),
            failed: m(|o| o.failed as f64),
        }
    }

    fn columns(&mut self, op: &str, c: &mut dyn Columns) {
        self.throughput_rps
            .columns(&format!("{op}_throughput_rps"), c);
        self.latency_ms_mean
            .columns(&format!("{op}_latency_ms_mean"), c);
        self.latency_ms_p50
            .columns(&format!("{op}_latency_ms_p50"), c);
        self.latency_ms_p90
            .columns(&format!("{op}_latency_ms_p90"), c);
        self.latency_ms_p99
            .columns(&format!("{op}_latency_ms_p99"), c);
        self.latency_ms_p999
            .columns(&format!("{op}_latency_ms_p999"), c);
        self.failed.columns(&format!("{op}_failed"), c);
    }
}

/// One point of an experiment over its replications: a row of `summary.csv` (reads' and
/// writes' throughput, latency mean and percentiles and failures, every stage and every
/// utilization, each as a mean and a 95% half width; expensive reads and the probe's are in
/// `results.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// The point's index.
    pub point: usize,
    /// Its axis values.
    pub axes: Vec<(String, String)>,
    /// Replications summarised.
    pub replications: usize,
    /// Reads, then writes.
    pub ops: [OpSummary; 2],
    /// Mean time in each stage of the main operation (ms), as in `results.csv`.
    pub stages: Vec<(Stage, MeanCi)>,
    /// Utilization of each resource, as in `results.csv`.
    pub utilization: Vec<(String, MeanCi)>,
    /// The first replication's bottleneck.
    pub bottleneck: String,
}

impl SummaryRow {
    /// The summary of one point's runs (at least one).
    pub fn of(runs: &[RunRow]) -> SummaryRow {
        SummaryRow {
            point: runs[0].point,
            axes: runs[0].axes.clone(),
            replications: runs.len(),
            ops: [OpSummary::of(runs, 0), OpSummary::of(runs, 1)],
            stages: Stage::ALL
                .iter()
                .enumerate()
                .map(|(k, &s)| (s, MeanCi::of(runs.iter().map(|r| r.stages[k].1.0))))
                .collect(),
            utilization: runs[0]
                .utilization
                .iter()
                .enumerate()
                .map(|(k, (name, _))| {
                    (
                        name.clone(),
                        MeanCi::of(runs.iter().map(|r| r.utilization[k].1.0)),
                    )
                })
                .collect(),
            bottleneck: runs[0].bottleneck.clone(),
        }
    }
}

impl Row for SummaryRow {
    fn columns(&mut self, c: &mut dyn Columns) {
        c.col("point", &mut self.point);
        for (name, value) in &mut self.axes {
            c.col(name, value);
        }
        c.col("replications", &mut self.replications);
        for (op, o) in OPS.iter().zip(&mut self.ops) {
            o.columns(op, c);
        }
        for (stage, ms) in &mut self.stages {
            ms.columns(&format!("stage_{}_ms_mean", stage.name()), c);
        }
        for (resource, frac) in &mut self.utilization {
            frac.columns(&format!("util_{resource}_frac"), c);
        }
        c.col("bottleneck", &mut self.bottleneck);
    }
}

/// The runs of each point, in point order, from rows sorted by (point, replication).
pub fn points(rows: &[RunRow]) -> Vec<&[RunRow]> {
    rows.chunk_by(|a, b| a.point == b.point).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table::{cells, header, parse};

    fn row(point: usize, writes: bool) -> RunRow {
        let mut r = RunRow::template(&["clients".into()], &["member0_cpu".into()]);
        r.experiment = "e".into();
        r.point = point;
        r.axes[0].1 = "10".into();
        r.ops[0].throughput_rps = Fixed::new(1000.0);
        r.ops[0].completed = 100;
        r.ops[0].latency_ms_mean = Fixed::new(1.5);
        r.ops[0].latency_ms_p99 = Fixed::new(3.25);
        if writes {
            r.ops[1].completed = 10;
            r.ops[1].latency_ms_p99 = Fixed::new(9.0);
        }
        r.ops[1].throughput_rps = Fixed::new(if writes { 100.0 } else { 0.0 });
        r.utilization[0].1 = Fixed::new(0.5);
        r
    }

    #[test]
    fn a_run_rows_header_names_its_axes_stages_and_resources() {
        let h = header(&row(0, false));
        assert_eq!(
            &h[..7],
            [
                "experiment",
                "point",
                "replication",
                "seed",
                "config_hash",
                "clients",
                "read_throughput_rps"
            ]
        );
        assert!(h.contains(&"stage_readindex_round_ms_mean".to_string()));
        assert!(h.contains(&"util_member0_cpu_frac".to_string()));
        assert_eq!(h.len(), cells(&row(0, false)).len());
        assert_eq!(h.last().map(String::as_str), Some("events"));
    }

    #[test]
    fn a_run_row_reads_back_as_it_was_and_absent_metrics_stay_empty() {
        let r = row(3, false);
        let c = cells(&r);
        let h = header(&r);
        let cell = |name: &str| c[h.iter().position(|x| x == name).unwrap()].as_str();
        assert_eq!(cell("write_throughput_rps"), "0.000000");
        assert_eq!(cell("write_latency_ms_p99"), "");
        assert_eq!(cell("reads_per_round"), "");
        let template = RunRow::template(&["clients".into()], &["member0_cpu".into()]);
        let back = parse(&template, &c).unwrap();
        assert_eq!(cells(&back), c);
        assert_eq!((back.point, back.axis("clients")), (3, "10"));
    }

    #[test]
    fn a_summary_leaves_out_what_no_replication_measured() {
        let runs = [row(0, false), row(0, true)];
        let s = SummaryRow::of(&runs);
        assert_eq!(s.replications, 2);
        // Only the second run wrote: its p99 alone, so no interval.
        assert_eq!(s.ops[1].latency_ms_p99.mean, Fixed(9.0));
        assert!(s.ops[1].latency_ms_p99.ci95.0.is_infinite());
        assert!(s.ops[1].latency_ms_mean.mean.0.is_nan());
        assert_eq!(s.ops[1].throughput_rps.mean, Fixed(50.0));
        let c = cells(&s);
        let h = header(&s);
        assert_eq!(
            &h[..4],
            [
                "point",
                "clients",
                "replications",
                "read_throughput_rps_mean"
            ]
        );
        let cell = |name: &str| c[h.iter().position(|x| x == name).unwrap()].as_str();
        assert_eq!(cell("write_latency_ms_mean_mean"), "");
        assert_eq!(cell("read_latency_ms_p99_ci95_halfwidth"), "0.000000");
    }
}
