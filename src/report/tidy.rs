//! An experiment's long ("tidy") tables, beside the wide `results.csv`: a [`StageRow`] per run
//! and stage (`stages.csv`) and a [`UtilizationRow`] per run and resource (`utilization.csv`),
//! so that a script can filter and group by stage or resource instead of picking columns by
//! name. Both come from the runs' rows alone, so `run`, `--resume` and `merge` write the same.

use super::experiment::RunRow;
use super::table::{Columns, Fixed, Row};

/// One stage of one run: a row of `stages.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRow {
    /// The point's index in the grid.
    pub point: usize,
    /// The replication's index.
    pub replication: usize,
    /// The point's value on each axis, as in `results.csv`.
    pub axes: Vec<(String, String)>,
    /// The operation the stages describe: `read` if the run measured reads, else `write`.
    pub op: String,
    /// The stage's name.
    pub stage: String,
    /// `queueing` or `service`.
    pub kind: String,
    /// Mean time per request in the stage (ms); absent when the run measured no request.
    pub mean_ms: Fixed<6>,
}

impl Row for StageRow {
    fn columns(&mut self, c: &mut dyn Columns) {
        c.col("point", &mut self.point);
        c.col("replication", &mut self.replication);
        for (name, value) in &mut self.axes {
            c.col(name, value);
        }
        c.col("op", &mut self.op);
        c.col("stage", &mut self.stage);
        c.col("kind", &mut self.kind);
        c.col("mean_ms", &mut self.mean_ms);
    }
}

/// One resource of one run: a row of `utilization.csv` (a resource the point's cluster does
/// not have has no row).
#[derive(Debug, Clone, PartialEq)]
pub struct UtilizationRow {
    /// The point's index in the grid.
    pub point: usize,
    /// The replication's index.
    pub replication: usize,
    /// The point's value on each axis, as in `results.csv`.
    pub axes: Vec<(String, String)>,
    /// The resource (`member0_cpu`, `member1_disk`, ...).
    pub resource: String,
    /// The fraction of the measured window it was busy (0 to 1).
    pub busy_frac: Fixed<6>,
}

impl Row for UtilizationRow {
    fn columns(&mut self, c: &mut dyn Columns) {
        c.col("point", &mut self.point);
        c.col("replication", &mut self.replication);
        for (name, value) in &mut self.axes {
            c.col(name, value);
        }
        c.col("resource", &mut self.resource);
        c.col("busy_frac", &mut self.busy_frac);
    }
}

/// A stage row shaped like `template`'s axes (for the header of an empty table).
pub fn stage_template(template: &RunRow) -> StageRow {
    StageRow {
        point: 0,
        replication: 0,
        axes: template.axes.clone(),
        op: String::new(),
        stage: String::new(),
        kind: String::new(),
        mean_ms: Fixed::ABSENT,
    }
}

/// A utilization row shaped like `template`'s axes.
pub fn utilization_template(template: &RunRow) -> UtilizationRow {
    UtilizationRow {
        point: 0,
        replication: 0,
        axes: template.axes.clone(),
        resource: String::new(),
        busy_frac: Fixed::ABSENT,
    }
}

/// Every stage of every run, in run order then the order a request meets the stages.
pub fn stage_rows(rows: &[RunRow]) -> Vec<StageRow> {
    rows.iter()
        .flat_map(|r| {
            // RunRow::of takes the stages of reads if the run measured any, else of writes.
            let op = if r.ops[0].completed + r.ops[0].failed > 0 {
                "read"
            } else {
                "write"
            };
            r.stages.iter().map(move |(stage, ms)| StageRow {
                point: r.point,
                replication: r.replication,
                axes: r.axes.clone(),
                op: op.to_string(),
                stage: stage.name().to_string(),
                kind: stage.kind().to_string(),
                mean_ms: *ms,
            })
        })
        .collect()
}

/// Every resource of every run that has it, in run order then `results.csv`'s column order.
pub fn utilization_rows(rows: &[RunRow]) -> Vec<UtilizationRow> {
    rows.iter()
        .flat_map(|r| {
            r.utilization
                .iter()
                .filter(|(_, u)| !u.0.is_nan())
                .map(move |(resource, u)| UtilizationRow {
                    point: r.point,
                    replication: r.replication,
                    axes: r.axes.clone(),
                    resource: resource.clone(),
                    busy_frac: *u,
                })
        })
        .collect()
}
