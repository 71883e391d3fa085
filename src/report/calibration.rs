//! Calibration's table: each reference row measured against its prediction ([`RowFit`]), as
//! `etcdsim calibrate` prints it and docs/validation.md shows it.

use super::table::{self, Columns, Fixed, Percent, Row};

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
        };
        assert_eq!(
            table(&[f]),
            "| reference row | measured req/s | predicted req/s | error | measured ms | predicted ms | error | bottleneck |\n\
             |---|---:|---:|---:|---:|---:|---:|---|\n\
             | read l, 1 clients | 1353 | 1338 | -1.1% | 0.70 | 0.71 | +1.7% | member0_cpu |\n"
        );
    }
}
