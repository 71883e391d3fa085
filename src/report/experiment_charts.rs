//! An experiment's charts, from its rows: the breakdown (where a request's time goes, point by
//! point), and, when the experiment names an x axis, throughput and latency against it, a
//! series per combination of the other axes, with 95% intervals over the replications.
//!
//! Series and rows are named by their axis values, shortened to what tells them apart: axes
//! that do not (a run length zipped with a mode, a value every point shares) are left out of
//! the names, run-control keys first.

use super::charts::{
    BarGroup, BarRow, Caption, Layer, Line, LinePlot, Plot, Pt, StackedBars, Stat,
};
use super::experiment::{OpRow, RunRow, points};
use crate::model::Stage;
use crate::stats::student_t_ci;

/// Keys that shape a run rather than the system measured: dropped from names first.
const RUN_CONTROL: [&str; 5] = ["duration_s", "warmup_s", "total", "warmup", "seed"];

/// What the throughput and latency charts plot.
#[derive(Debug, Clone)]
pub struct LineCharts<'a> {
    /// The x axis (a numeric grid axis).
    pub x: &'a str,
    /// Each point's value of x, by point index.
    pub xs: &'a [f64],
    /// Plot x on a log scale.
    pub log_x: bool,
    /// The kind of request (one of [`super::experiment::OPS`]).
    pub op: &'a str,
    /// The axes whose values make the series.
    pub lines: &'a [String],
}

/// An axis key as a chart names it: without the `model.` prefix that only says where the key
/// applies.
pub fn axis_name(key: &str) -> &str {
    key.strip_prefix("model.").unwrap_or(key)
}

/// "k=v, k=v" of `keys` in `row`.
fn label(row: &RunRow, keys: &[String]) -> String {
    keys.iter()
        .map(|k| format!("{}={}", axis_name(k), row.axis(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The fewest of `keys` whose values still tell `rows`' distinct combinations apart: each key
/// is dropped if the names stay distinct without it, run-control keys first, then from the
/// last key.
pub fn telling_keys(rows: &[&RunRow], keys: &[String]) -> Vec<String> {
    // The short names tell the combinations apart if there are as many of them.
    let count = |ks: &[String]| {
        let mut names: Vec<String> = rows.iter().map(|r| label(r, ks)).collect();
        names.sort();
        names.dedup();
        names.len()
    };
    let all = count(keys);
    let mut kept: Vec<String> = keys.to_vec();
    let order = keys
        .iter()
        .filter(|k| RUN_CONTROL.contains(&axis_name(k)))
        .chain(
            keys.iter()
                .rev()
                .filter(|k| !RUN_CONTROL.contains(&axis_name(k))),
        );
    for k in order {
        let without: Vec<String> = kept.iter().filter(|x| *x != k).cloned().collect();
        if count(&without) == all {
            kept = without;
        }
    }
    kept
}

/// 95% interval over the replications of one metric: (mean, half width; NaN without spread).
fn mean_ci(runs: &[RunRow], metric: impl Fn(&RunRow) -> f64) -> (f64, f64) {
    let xs: Vec<f64> = runs.iter().map(metric).filter(|x| !x.is_nan()).collect();
    let c = student_t_ci(&xs, 0.95);
    let hw = if c.half_width.is_finite() {
        c.half_width
    } else {
        f64::NAN
    };
    (c.mean, hw)
}

/// "95% CI over 3 replications", or nothing with one.
fn ci_label(rows: &[RunRow]) -> String {
    let reps = points(rows).iter().map(|p| p.len()).max().unwrap_or(1);
    if reps > 1 {
        format!("95% CI over {reps} replications")
    } else {
        String::new()
    }
}

/// Every chart of the experiment: `("breakdown", …)`, then `("throughput", …)` and
/// `("latency", …)` with `lines`. `about` is the experiment's description and notes.
pub fn charts(
    about: &Caption,
    rows: &[RunRow],
    lines: Option<&LineCharts>,
) -> Vec<(&'static str, Plot)> {
    let mut out = vec![("breakdown", Plot::Stacked(breakdown(about, rows, lines)))];
    if let Some(spec) = lines {
        let (throughput, latency) = line_charts(about, rows, spec);
        out.push(("throughput", Plot::Lines(throughput)));
        out.push(("latency", Plot::Lines(latency)));
    }
    out
}

/// `about` with its title after `what`.
fn titled(about: &Caption, what: &str) -> Caption {
    Caption {
        title: format!("{what} — {}", about.title),
        notes: about.notes.clone(),
    }
}

/// Where a request's time goes, point by point: the stage means over replications, stacked;
/// rows grouped by series when there is an x axis.
pub fn breakdown(about: &Caption, rows: &[RunRow], lines: Option<&LineCharts>) -> StackedBars {
    let pts = points(rows);
    let reads = rows.iter().any(|r| r.ops[0].completed > 0);
    let op = if reads { "read" } else { "request" };
    let firsts: Vec<&RunRow> = pts.iter().map(|p| &p[0]).collect();
    let all_axes: Vec<String> = rows
        .first()
        .map(|r| r.axes.iter().map(|a| a.0.clone()).collect())
        .unwrap_or_default();
    let (group_keys, row_keys): (Vec<String>, Vec<String>) = match lines {
        Some(spec) => {
            let g = telling_keys(&firsts, spec.lines);
            let r: Vec<String> = all_axes
                .iter()
                .filter(|a| !spec.lines.contains(a))
                .cloned()
                .collect();
            (g, telling_keys(&firsts, &r))
        }
        None => (Vec::new(), telling_keys(&firsts, &all_axes)),
    };
    let stage_mean = |rs: &[RunRow], k: usize| {
        let (m, _) = mean_ci(rs, |r| r.stages[k].1.0);
        if m.is_nan() { 0.0 } else { m }
    };
    // Only stages some point spent time in.
    let shown: Vec<usize> = (0..Stage::ALL.len())
        .filter(|&k| pts.iter().any(|rs| stage_mean(rs, k) > 0.0))
        .collect();
    let mut groups: Vec<BarGroup> = Vec::new();
    for rs in &pts {
        let heading = (!group_keys.is_empty()).then(|| label(&rs[0], &group_keys));
        let row = BarRow {
            label: if row_keys.is_empty() {
                format!("point {}", rs[0].point)
            } else {
                label(&rs[0], &row_keys)
            },
            values: shown.iter().map(|&k| stage_mean(rs, k)).collect(),
        };
        match groups.iter_mut().find(|g| g.heading == heading) {
            Some(g) => g.rows.push(row),
            None => groups.push(BarGroup {
                heading,
                rows: vec![row],
            }),
        }
    }
    StackedBars {
        caption: titled(about, &format!("Where a {op}'s time goes")),
        measure: format!("mean {op} latency"),
        layers: shown
            .iter()
            .map(|&k| Layer {
                name: Stage::ALL[k].name().to_string(),
                queueing: Stage::ALL[k].is_queueing(),
            })
            .collect(),
        groups,
    }
}

/// The throughput chart, then the latency chart (mean and p99) of `spec.op` against x, a series
/// per combination of the `spec.lines` axes.
pub fn line_charts(about: &Caption, rows: &[RunRow], spec: &LineCharts) -> (LinePlot, LinePlot) {
    let pts = points(rows);
    let firsts: Vec<&RunRow> = pts.iter().map(|p| &p[0]).collect();
    let keys = telling_keys(&firsts, spec.lines);
    let mut names: Vec<String> = Vec::new();
    let mut by_series: Vec<Vec<&[RunRow]>> = Vec::new();
    for rs in &pts {
        let name = if keys.is_empty() {
            "etcdsim".to_string()
        } else {
            label(&rs[0], &keys)
        };
        match names.iter().position(|n| *n == name) {
            Some(i) => by_series[i].push(rs),
            None => {
                names.push(name);
                by_series.push(vec![rs]);
            }
        }
    }
    let op = spec.op;
    let i = super::experiment::OPS
        .iter()
        .position(|o| *o == op)
        .unwrap_or(0);
    let line = |series: usize, stat: Stat, metric: fn(&OpRow) -> f64| {
        let mut points: Vec<Pt> = by_series[series]
            .iter()
            .map(|rs| {
                let (y, ci95) = mean_ci(rs, |r| metric(&r.ops[i]));
                Pt {
                    x: spec.xs[rs[0].point],
                    y,
                    ci95,
                }
            })
            .filter(|p| !p.y.is_nan())
            .collect();
        points.sort_by(|a, b| a.x.total_cmp(&b.x));
        Line {
            series,
            stat,
            points,
        }
    };
    let heading = keys
        .iter()
        .map(|k| axis_name(k))
        .collect::<Vec<_>>()
        .join(", ");
    let plot = |what: &str, y_title: String, lines: Vec<Line>| LinePlot {
        caption: titled(about, what),
        x_title: axis_name(spec.x).to_string(),
        log_x: spec.log_x,
        y_title,
        series: names.clone(),
        series_heading: heading.clone(),
        lines,
        references: Vec::new(),
        marks: (Vec::new(), String::new()),
        ci_label: ci_label(rows),
        y_max: None,
    };
    let cap = |s: &str| {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default()
    };
    let n = names.len();
    let throughput = plot(
        &format!("{} throughput", cap(op)),
        format!("successful {op}s per second"),
        (0..n)
            .map(|s| line(s, Stat::Mean, |o| o.throughput_rps.0))
            .collect(),
    );
    let latency = plot(
        &format!("{} latency", cap(op)),
        format!("{op} latency (ms)"),
        (0..n)
            .flat_map(|s| {
                [
                    line(s, Stat::Mean, |o| o.latency_ms_mean.0),
                    line(s, Stat::P99, |o| o.latency_ms_p99.0),
                ]
            })
            .collect(),
    );
    (throughput, latency)
}
