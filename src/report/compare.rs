//! `etcdsim compare A B`: two experiments' `summary.csv` set side by side, point by point (a
//! point is matched by its axis values): for each throughput and latency metric, both means
//! with their 95% half widths, the difference B − A with its half width, and the relative
//! difference. Pure: the runner reads the files. [`compare`]'s rows are also the data a
//! chart of the deltas draws.

use std::fmt::Write as _;

use super::charts::style::series_color;
use super::charts::{Caption, Change, ChangeMetric, ChangeRow, Changes, Plot, Stat};
use super::experiment_charts::axis_name;
use super::table::{Columns, Fixed, Row};

/// The metrics compared, as `summary.csv` names them (without `_mean`).
pub const METRICS: [&str; 12] = [
    "read_throughput_rps",
    "read_latency_ms_mean",
    "read_latency_ms_p50",
    "read_latency_ms_p99",
    "read_latency_ms_p999",
    "read_failed",
    "write_throughput_rps",
    "write_latency_ms_mean",
    "write_latency_ms_p50",
    "write_latency_ms_p99",
    "write_latency_ms_p999",
    "write_failed",
];

/// A CSV table as text cells: its header and its records.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cells {
    /// The column names.
    pub header: Vec<String>,
    /// The records.
    pub rows: Vec<Vec<String>>,
}

impl Cells {
    /// The table in `text`; `what` names it in errors.
    pub fn parse(what: &str, text: &str) -> Result<Cells, String> {
        let mut rd = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header = rd
            .headers()
            .map_err(|e| format!("{what}: {e}"))?
            .iter()
            .map(String::from)
            .collect();
        let mut rows = Vec::new();
        for rec in rd.records() {
            let rec = rec.map_err(|e| format!("{what}: {e}"))?;
            rows.push(rec.iter().map(String::from).collect());
        }
        Ok(Cells { header, rows })
    }

    fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|c| c == name)
    }

    /// The axis columns of a `summary.csv`: those between `point` and `replications`.
    fn axes(&self, what: &str) -> Result<Vec<String>, String> {
        match (self.col("point"), self.col("replications")) {
            (Some(0), Some(r)) => Ok(self.header[1..r].to_vec()),
            _ => Err(format!(
                "{what}: not an etcdsim summary.csv (its columns must start with point, the axes, replications)"
            )),
        }
    }

    /// Number `name` of record `row`; NaN when empty or absent.
    fn number(&self, row: usize, name: &str) -> f64 {
        self.col(name)
            .and_then(|i| self.rows[row].get(i))
            .and_then(|t| t.parse().ok())
            .unwrap_or(f64::NAN)
    }
}

/// One metric at one point: a row of `compare.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareRow {
    /// The point's index in A.
    pub point: usize,
    /// Its axis values.
    pub axes: Vec<(String, String)>,
    /// The metric, as `summary.csv` names it.
    pub metric: String,
    /// A's mean over its replications.
    pub a_mean: Fixed<6>,
    /// The half width of A's 95% interval.
    pub a_ci95_halfwidth: Fixed<6>,
    /// B's mean.
    pub b_mean: Fixed<6>,
    /// The half width of B's 95% interval.
    pub b_ci95_halfwidth: Fixed<6>,
    /// B − A.
    pub delta: Fixed<6>,
    /// The half width of the difference's 95% interval, √(a² + b²) of the two half widths
    /// (independent runs); absent when either is.
    pub delta_ci95_halfwidth: Fixed<6>,
    /// (B − A) / A; absent when A is 0 or absent.
    pub delta_frac: Fixed<6>,
}

impl Row for CompareRow {
    fn columns(&mut self, c: &mut dyn Columns) {
        c.col("point", &mut self.point);
        for (name, value) in &mut self.axes {
            c.col(name, value);
        }
        c.col("metric", &mut self.metric);
        c.col("a_mean", &mut self.a_mean);
        c.col("a_ci95_halfwidth", &mut self.a_ci95_halfwidth);
        c.col("b_mean", &mut self.b_mean);
        c.col("b_ci95_halfwidth", &mut self.b_ci95_halfwidth);
        c.col("delta", &mut self.delta);
        c.col("delta_ci95_halfwidth", &mut self.delta_ci95_halfwidth);
        c.col("delta_frac", &mut self.delta_frac);
    }
}

/// A row shaped for `axes`, every value absent (the header of an empty comparison).
pub fn template(axes: &[String]) -> CompareRow {
    CompareRow {
        point: 0,
        axes: axes.iter().map(|a| (a.clone(), String::new())).collect(),
        metric: String::new(),
        a_mean: Fixed::ABSENT,
        a_ci95_halfwidth: Fixed::ABSENT,
        b_mean: Fixed::ABSENT,
        b_ci95_halfwidth: Fixed::ABSENT,
        delta: Fixed::ABSENT,
        delta_ci95_halfwidth: Fixed::ABSENT,
        delta_frac: Fixed::ABSENT,
    }
}

/// The comparison of summaries `a` and `b` (named `names` in errors): every point of A that B
/// also has (same axes, same values), every metric of [`METRICS`]. The axes must be the same.
pub fn compare(
    a: &Cells,
    b: &Cells,
    names: (&str, &str),
) -> Result<(Vec<String>, Vec<CompareRow>), String> {
    let (axes, b_axes) = (a.axes(names.0)?, b.axes(names.1)?);
    if axes != b_axes {
        return Err(format!(
            "{} has the axes {axes:?} and {} has {b_axes:?}: only runs of the same grid compare",
            names.0, names.1
        ));
    }
    let key = |t: &Cells, i: usize| t.rows[i][1..=axes.len()].to_vec();
    let mut rows = Vec::new();
    for i in 0..a.rows.len() {
        let k = key(a, i);
        let Some(j) = (0..b.rows.len()).find(|&j| key(b, j) == k) else {
            continue;
        };
        for m in METRICS {
            let (am, ah) = (
                a.number(i, &format!("{m}_mean")),
                a.number(i, &format!("{m}_ci95_halfwidth")),
            );
            let (bm, bh) = (
                b.number(j, &format!("{m}_mean")),
                b.number(j, &format!("{m}_ci95_halfwidth")),
            );
            let delta = bm - am;
            rows.push(CompareRow {
                point: a.number(i, "point") as usize,
                axes: axes.iter().cloned().zip(k.iter().cloned()).collect(),
                metric: m.to_string(),
                a_mean: Fixed::new(am),
                a_ci95_halfwidth: Fixed::new(ah),
                b_mean: Fixed::new(bm),
                b_ci95_halfwidth: Fixed::new(bh),
                delta: Fixed::new(delta),
                delta_ci95_halfwidth: Fixed::new((ah * ah + bh * bh).sqrt()),
                delta_frac: Fixed::present_if(am != 0.0, delta / am),
            });
        }
    }
    Ok((axes, rows))
}

/// The comparison as a table for the terminal: a line per point and metric both runs measured.
pub fn text(names: (&str, &str), rows: &[CompareRow]) -> String {
    let mut o = format!(
        "B − A, with 95% half widths: A = {}, B = {}\n\n",
        names.0, names.1
    );
    let _ = writeln!(
        o,
        "  {:<28} {:<24} {:>14} {:>14} {:>14} {:>10} {:>9}",
        "point", "metric", "A", "B", "B − A", "± (95%)", "change"
    );
    let num = |x: Fixed<6>| {
        if x.0.is_finite() {
            format!("{:.4}", x.0)
        } else {
            "-".into()
        }
    };
    for r in rows
        .iter()
        .filter(|r| r.a_mean.0.is_finite() || r.b_mean.0.is_finite())
    {
        let point = r
            .axes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ");
        let change = if r.delta_frac.0.is_finite() {
            format!("{:+.1}%", r.delta_frac.0 * 100.0)
        } else {
            "-".into()
        };
        let _ = writeln!(
            o,
            "  {point:<28} {:<24} {:>14} {:>14} {:>14} {:>10} {change:>9}",
            r.metric,
            num(r.a_mean),
            num(r.b_mean),
            num(r.delta),
            num(r.delta_ci95_halfwidth)
        );
    }
    o
}

/// What one side of a comparison is, for the chart's caption: its folder, and what its
/// `run.toml` says it ran.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Side {
    /// The output folder as given.
    pub folder: String,
    /// The experiment's description, else its name; None without a readable `run.toml`.
    pub what: Option<String>,
    /// The model, the overrides every point shares, the replications and the base seed.
    pub facts: Option<String>,
}

/// The metrics the chart draws for requests of kind `op`: (metric, legend name, statistic,
/// series colour).
fn charted(op: &str) -> [(String, String, Stat, usize); 3] {
    [
        (
            format!("{op}_throughput_rps"),
            format!("{op} throughput (mean)"),
            Stat::Mean,
            0,
        ),
        (
            format!("{op}_latency_ms_mean"),
            format!("{op} latency, mean"),
            Stat::Mean,
            1,
        ),
        (
            format!("{op}_latency_ms_p99"),
            format!("{op} latency, p99"),
            Stat::P99,
            1,
        ),
    ]
}

/// Points' labels: their axis values, without the axes every point shares (and without the
/// `model.` prefix), "all points" when nothing is left.
fn point_labels(points: &[&[(String, String)]]) -> Vec<String> {
    let varies = |k: usize| points.iter().any(|p| p[k].1 != points[0][k].1);
    points
        .iter()
        .map(|p| {
            let kept: Vec<String> = (0..p.len())
                .filter(|&k| points.len() == 1 || varies(k))
                .map(|k| format!("{}={}", axis_name(&p[k].0), p[k].1))
                .collect();
            if kept.is_empty() {
                "all points".into()
            } else {
                kept.join(", ")
            }
        })
        .collect()
}

/// The chart of `rows`: per point, the relative change of throughput and of latency's mean
/// and p99 from A to B, with 95% intervals (the difference's half width over A's mean). Reads
/// when either side measured any, else writes.
pub fn chart(sides: [&Side; 2], rows: &[CompareRow]) -> Plot {
    let has = |op: &str| {
        rows.iter().any(|r| {
            r.metric == format!("{op}_throughput_rps") && r.a_mean.0.is_finite() && r.a_mean.0 > 0.0
        })
    };
    let op = if has("read") || !has("write") {
        "read"
    } else {
        "write"
    };
    let metrics = charted(op);
    let mut points: Vec<usize> = rows.iter().map(|r| r.point).collect();
    points.dedup();
    let axes: Vec<&[(String, String)]> = points
        .iter()
        .filter_map(|p| rows.iter().find(|r| r.point == *p))
        .map(|r| r.axes.as_slice())
        .collect();
    let labels = point_labels(&axes);
    let mut any_ci = false;
    let change_rows = points
        .iter()
        .zip(labels)
        .map(|(p, label)| ChangeRow {
            label,
            changes: metrics
                .iter()
                .map(|(m, ..)| {
                    let r = rows.iter().find(|r| r.point == *p && &r.metric == m);
                    let c = r.map_or(
                        Change {
                            frac: f64::NAN,
                            ci95: f64::NAN,
                        },
                        |r| Change {
                            frac: r.delta_frac.0,
                            ci95: r.delta_ci95_halfwidth.0 / r.a_mean.0.abs(),
                        },
                    );
                    any_ci |= c.frac.is_finite() && c.ci95.is_finite();
                    c
                })
                .collect(),
        })
        .collect();
    Plot::Changes(Changes {
        caption: caption(sides, op),
        x_title: "change from A to B (%): (B − A) / A".into(),
        metrics: metrics
            .iter()
            .map(|(_, name, stat, color)| ChangeMetric {
                name: name.clone(),
                look: stat.look(series_color(*color)),
            })
            .collect(),
        rows: change_rows,
        ci_label: if any_ci {
            "95% interval of the change".into()
        } else {
            String::new()
        },
    })
}

/// The chart's title and notes: what was compared.
fn caption(sides: [&Side; 2], op: &str) -> Caption {
    let what = |s: &Side| s.what.clone().unwrap_or_else(|| s.folder.clone());
    let (a, b) = (what(sides[0]), what(sides[1]));
    let title = if a == b {
        format!(
            "How {op} throughput and latency change from A to B: {a} ({} against {})",
            sides[1].folder, sides[0].folder
        )
    } else {
        format!("How {op} throughput and latency change from A to B: {b} against {a}")
    };
    let mut notes: Vec<String> = [("A", sides[0]), ("B", sides[1])]
        .iter()
        .map(|(k, s)| match &s.facts {
            Some(f) => format!("{k} = {}: {f}", s.folder),
            None => format!("{k} = {}", s.folder),
        })
        .collect();
    notes.push(
        "Each bar is the 95% interval of B − A (√(a² + b²) of the two half widths, as for independent runs) over A's mean.".into(),
    );
    Caption { title, notes }
}
