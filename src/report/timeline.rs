//! `intervals.csv`: an experiment's results over time, one row per interval of every run whose
//! workload records intervals (a timeline, or `interval_s`).

use super::table::{Columns, Fixed, Row};
use crate::model::timeline::IntervalRow;

/// One interval of one run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IntervalCsv {
    /// The point's index in the grid.
    pub point: usize,
    /// The replication's index.
    pub replication: usize,
    /// The point's value on each axis, as written.
    pub axes: Vec<(String, String)>,
    /// The interval's start, simulated seconds from the start of the run (warm-up included).
    pub start_s: Fixed<3>,
    /// Its length (the last may be cut short by the end of the run).
    pub span_s: Fixed<3>,
    /// Reads completed per second in it (expensive reads included).
    pub reads_per_s: Fixed<1>,
    /// Their mean latency, ms (empty: none completed).
    pub read_mean_ms: Fixed<6>,
    /// Their median, ms.
    pub read_p50_ms: Fixed<6>,
    /// Their 99th percentile, ms.
    pub read_p99_ms: Fixed<6>,
    /// The longest, ms.
    pub read_max_ms: Fixed<6>,
    /// Reads that failed in it (timeouts apart).
    pub reads_failed: u64,
    /// Reads whose client's deadline passed in it.
    pub reads_timed_out: u64,
    /// Puts completed per second in it (background puts included).
    pub writes_per_s: Fixed<1>,
    /// Their mean latency, ms.
    pub write_mean_ms: Fixed<6>,
    /// Puts whose client's deadline passed in it.
    pub writes_timed_out: u64,
}

impl IntervalCsv {
    /// The row of interval `r` of run (`point`, `replication`) at `axes`.
    pub fn of(
        point: usize,
        replication: usize,
        axes: &[(String, String)],
        r: &IntervalRow,
    ) -> IntervalCsv {
        let ms = |ns: Option<f64>| Fixed::new(ns.map_or(f64::NAN, |x| x / 1e6));
        IntervalCsv {
            point,
            replication,
            axes: axes.to_vec(),
            start_s: Fixed::new(r.start_s),
            span_s: Fixed::new(r.span_s),
            reads_per_s: Fixed::new(r.read_rate()),
            read_mean_ms: ms(r.read_mean_ns),
            read_p50_ms: ms(r.read_p50_ns.map(|x| x as f64)),
            read_p99_ms: ms(r.read_p99_ns.map(|x| x as f64)),
            read_max_ms: ms(r.read_max_ns.map(|x| x as f64)),
            reads_failed: r.reads_failed,
            reads_timed_out: r.reads_timed_out,
            writes_per_s: Fixed::new(r.write_rate()),
            write_mean_ms: ms(r.write_mean_ns),
            writes_timed_out: r.writes_timed_out,
        }
    }
}

impl Row for IntervalCsv {
    fn columns(&mut self, c: &mut dyn Columns) {
        c.col("point", &mut self.point);
        c.col("replication", &mut self.replication);
        for (name, value) in &mut self.axes {
            c.col(name, value);
        }
        c.col("start_s", &mut self.start_s);
        c.col("span_s", &mut self.span_s);
        c.col("reads_per_s", &mut self.reads_per_s);
        c.col("read_mean_ms", &mut self.read_mean_ms);
        c.col("read_p50_ms", &mut self.read_p50_ms);
        c.col("read_p99_ms", &mut self.read_p99_ms);
        c.col("read_max_ms", &mut self.read_max_ms);
        c.col("reads_failed", &mut self.reads_failed);
        c.col("reads_timed_out", &mut self.reads_timed_out);
        c.col("writes_per_s", &mut self.writes_per_s);
        c.col("write_mean_ms", &mut self.write_mean_ms);
        c.col("writes_timed_out", &mut self.writes_timed_out);
    }
}
