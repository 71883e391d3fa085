//! Calibration's table: each reference row measured against its prediction ([`RowFit`]), as
//! `etcdsim calibrate` prints it and docs/validation.md shows it.

use super::table::{self, Columns, Fixed, Percent, Row};

/// CPU per request (µs) of one process: measured (if it was) and predicted.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CpuFit {
    /// Measured.
    pub measured: Option<f64>,
    /// Predicted.
    pub predicted: f64,
}

impl CpuFit {
    /// Relative error, where measured (and above the 10 ms clock tick's noise floor).
    pub fn error(&self) -> Option<f64> {
        self.measured
            .filter(|&m| m > 0.0)
            .map(|m| self.predicted / m - 1.0)
    }
}

/// One reference row measured against its prediction: a row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct RowFit {
    /// The reference row's label ("read l, 1000 clients").
    pub label: String,
    /// Measured requests per second.
    pub measured_qps: f64,
    /// Predicted requests per second.
    pub qps: f64,
    /// Measured mean latency in ms.
    pub measured_latency_ms: f64,
    /// Predicted mean latency in ms.
    pub latency_ms: f64,
    /// The predicted bottleneck.
    pub bottleneck: String,
    /// Measured and predicted p99 latency in ms (measured `None` when the reference lacks it).
    pub p99_ms: (Option<f64>, f64),
    /// CPU per request of the leader, a follower and the client.
    pub cpu: [CpuFit; 3],
    /// Means of etcd's WAL fdatasync and backend commit histograms in ms, measured (where the
    /// reference has them, for rows that write) and predicted.
    pub disk_ms: [(Option<f64>, Option<f64>); 2],
    /// The harness's probe's mean latencies in ms, linearizable then serializable, measured
    /// and predicted (`None` where the row ran no probe).
    pub probe_ms: [(Option<f64>, Option<f64>); 2],
    /// The members' mean run queues (schedtrace's local total, then global), measured and
    /// predicted (`None` where not measured).
    pub runq: [(Option<f64>, Option<f64>); 2],
    /// The row is one the fit uses.
    pub fitted: bool,
}

impl RowFit {
    /// Relative throughput error (predicted / measured − 1).
    pub fn qps_error(&self) -> f64 {
        self.qps / self.measured_qps - 1.0
    }

    /// Relative mean-latency error.
    pub fn latency_error(&self) -> f64 {
        self.latency_ms / self.measured_latency_ms - 1.0
    }
}

impl Row for RowFit {
    fn columns(&mut self, c: &mut dyn Columns) {
        c.col("reference row", &mut self.label);
        c.col("measured req/s", &mut Fixed::<0>::new(self.measured_qps));
        c.col("predicted req/s", &mut Fixed::<0>::new(self.qps));
        c.col("error", &mut Percent(self.qps_error()));
        c.col(
            "measured ms",
            &mut Fixed::<2>::new(self.measured_latency_ms),
        );
        c.col("predicted ms", &mut Fixed::<2>::new(self.latency_ms));
        c.col("error", &mut Percent(self.latency_error()));
        c.col("bottleneck", &mut self.bottleneck);
    }
}

/// The table of rows measured against predicted (Markdown).
pub fn table(fits: &[RowFit]) -> String {
    table::markdown(fits)
}

/// A row of the grid table: throughput, latency and CPU per request, measured against
/// predicted, and whether the fit used the row.
#[derive(Clone)]
pub struct GridFit<'a>(pub &'a RowFit);

impl Row for GridFit<'_> {
    fn columns(&mut self, c: &mut dyn Columns) {
        let f = self.0;
        c.col("row", &mut f.label.clone());
        c.col("fit", &mut (if f.fitted { "fit" } else { "" }).to_string());
        c.col("measured req/s", &mut Fixed::<0>::new(f.measured_qps));
        c.col("predicted", &mut Fixed::<0>::new(f.qps));
        c.col("error", &mut Percent(f.qps_error()));
        c.col("measured ms", &mut Fixed::<3>::new(f.measured_latency_ms));
        c.col("predicted", &mut Fixed::<3>::new(f.latency_ms));
        c.col("error", &mut Percent(f.latency_error()));
        c.col(
            "p99 ms m/p",
            &mut format!(
                "{}/{:.2}",
                f.p99_ms.0.map_or("–".to_string(), |m| format!("{m:.2}")),
                f.p99_ms.1
            ),
        );
        for (name, cf) in ["leader µs/req m/p", "follower", "client"]
            .iter()
            .zip(&f.cpu)
        {
            c.col(
                name,
                &mut format!(
                    "{}/{:.0}",
                    cf.measured.map_or("–".to_string(), |m| format!("{m:.0}")),
                    cf.predicted
                ),
            );
        }
    }
}

/// The grid table (Markdown): every row with its throughput, latency and CPU errors.
pub fn grid_table(fits: &[RowFit]) -> String {
    let rows: Vec<GridFit> = fits.iter().map(GridFit).collect();
    table::markdown(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_each_row_with_its_errors() {
        let f = RowFit {
            label: "read l, 1 clients".into(),
            measured_qps: 1353.0,
            qps: 1338.2,
            measured_latency_ms: 0.7,
            latency_ms: 0.712,
            bottleneck: "member0_cpu".into(),
            p99_ms: (None, 1.0),
            cpu: [CpuFit::default(); 3],
            disk_ms: [(None, None); 2],
            probe_ms: [(None, None); 2],
            runq: [(None, None); 2],
            fitted: true,
        };
        assert_eq!(
            table(&[f]),
            "| reference row | measured req/s | predicted req/s | error | measured ms | predicted ms | error | bottleneck |\n\
             |---|---:|---:|---:|---:|---:|---:|---|\n\
             | read l, 1 clients | 1353 | 1338 | -1.1% | 0.70 | 0.71 | +1.7% | member0_cpu |\n"
        );
    }
}
