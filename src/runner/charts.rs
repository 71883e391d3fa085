//! An output folder's charts and page: every chart written as SVG and PNG, and `index.html`
//! (what was run, the charts inline, the summary, the bottlenecks, links to every file),
//! staged in the folder's [`OutputDir`] with the rest of its output so that all of it is
//! published as one unit.

use crate::config::experiment::plain;
use crate::error::Error;
use crate::report::charts::{Caption, Plot};
use crate::report::experiment::{RunRow, SummaryRow};
use crate::report::experiment_charts::{self as ec, LineCharts};
use crate::report::html::{self, Figure, Page, Section};

use super::output_dir::OutputDir;
use super::sweep::Sweep;

/// "k=v, k=v" of a TOML table, values as written (strings unquoted).
pub fn pairs(t: &toml::Table) -> String {
    t.iter()
        .map(|(k, v)| format!("{k}={}", plain(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Stages `plot` as `<stem>.svg` and `<stem>.png`; returns the page's figure.
pub fn write_plot(out: &mut OutputDir, stem: &str, plot: &Plot) -> Result<Figure, Error> {
    let chart_err = |e: String| Error::Internal(format!("{stem} chart: {e}"));
    let svg = plot.svg().map_err(chart_err)?;
    let png = plot.png().map_err(chart_err)?;
    let (svg_name, png_name) = (format!("{stem}.svg"), format!("{stem}.png"));
    out.write(&svg_name, svg.as_bytes())?;
    out.write(&png_name, &png)?;
    Ok(Figure {
        svg,
        files: vec![svg_name, png_name],
    })
}

/// What the experiment's charts say about it: its description (or its name) as the title; the
/// model, the overrides every point shares, the workload and the replications as notes.
pub fn experiment_caption(p: &Sweep) -> Caption {
    let mut facts = vec![format!("Model {}", p.model_file)];
    if !p.e.set.is_empty() {
        facts.push(format!("set on every point: {}", pairs(&p.e.set)));
    }
    if !p.e.workload.is_empty() {
        facts.push(format!("workload: {}", pairs(&p.e.workload)));
    }
    facts.push(format!(
        "{} replication{} a point, base seed {}.",
        p.reps,
        if p.reps == 1 { "" } else { "s" },
        p.e.seed
    ));
    Caption {
        title: p.e.description.clone().unwrap_or_else(|| p.name.clone()),
        notes: vec![facts.join("; ")],
    }
}

/// The throughput and latency charts' spec: x by point from the typed grid values, a series
/// per combination of the axes that do not move with x.
fn line_spec<'a>(p: &'a Sweep, xs: &'a [f64], lines: &'a [String]) -> Option<LineCharts<'a>> {
    let spec = p.e.charts.as_ref()?;
    Some(LineCharts {
        x: &spec.x,
        xs,
        log_x: spec.log_x,
        op: spec.op.as_deref().unwrap_or("read"),
        lines,
    })
}

/// Every chart of the experiment, from its rows alone: `(file stem, chart)`.
pub fn experiment_plots(p: &Sweep, rows: &[RunRow]) -> Vec<(&'static str, Plot)> {
    let about = experiment_caption(p);
    let Some(spec) = &p.e.charts else {
        return ec::charts(&about, rows, None);
    };
    // x by point (check_chart made sure it is a number).
    let xs: Vec<f64> = p
        .jobs
        .iter()
        .map(|j| {
            j.values
                .iter()
                .find(|(k, _)| *k == spec.x)
                .and_then(|(_, v)| crate::config::number(v))
                .unwrap_or(f64::NAN)
        })
        .collect();
    // One series per combination of the other axes (keys zipped with x move with it).
    let with_x = p.e.zipped_with(&spec.x);
    let lines: Vec<String> = p
        .template
        .axes
        .iter()
        .map(|a| a.0.clone())
        .filter(|a| !with_x.contains(a))
        .collect();
    ec::charts(&about, rows, line_spec(p, &xs, &lines).as_ref())
}

/// Stages the experiment's charts and then `index.html`, which links every file staged
/// before it.
pub fn write_experiment(
    out: &mut OutputDir,
    p: &Sweep,
    rows: &[RunRow],
    summary: &[SummaryRow],
    timeline: Vec<(&str, crate::report::charts::LinePlot)>,
) -> Result<(), Error> {
    let mut figures = Vec::new();
    for (stem, plot) in experiment_plots(p, rows) {
        figures.push(write_plot(out, stem, &plot)?);
    }
    // The line charts first: the breakdown explains them.
    figures.rotate_left(1);
    // The timeline charts before them all: a timeline is what such an experiment is about.
    let mut over_time = Vec::new();
    for (stem, plot) in timeline {
        over_time.push(write_plot(out, stem, &Plot::Lines(plot))?);
    }
    figures.splice(0..0, over_time);
    let mut facts = vec![
        ("experiment".to_string(), p.name.clone()),
        ("model".to_string(), p.model_file.clone()),
    ];
    if !p.e.set.is_empty() {
        facts.push(("set on every point".into(), pairs(&p.e.set)));
    }
    facts.push(("workload".into(), pairs(&p.e.workload)));
    for (k, v) in &p.e.grid {
        facts.push((format!("grid: {k}"), plain(v)));
    }
    facts.push((
        "runs".into(),
        format!(
            "{} points × {} replications = {} runs, base seed {}",
            summary.len(),
            p.reps,
            rows.len(),
            p.e.seed
        ),
    ));
    let page = Page {
        title: p.e.description.clone().unwrap_or_else(|| p.name.clone()),
        subtitle: format!(
            "etcdsim {} · experiment {} · regenerate with: etcdsim run <the experiment file>",
            env!("CARGO_PKG_VERSION"),
            p.name
        ),
        sections: vec![
            Section::Facts("What was run".into(), facts),
            Section::Figures("Charts".into(), figures),
            html::summary_table(summary, rows),
            html::bottlenecks(summary, rows),
            Section::Files("Files".into(), files(out)),
        ],
    };
    out.write("index.html", html::render(&page).as_bytes())
}

/// The files staged so far, sorted, for the page's links.
pub fn files(out: &OutputDir) -> Vec<String> {
    let mut names = out.staged().to_vec();
    names.sort();
    names
}

/// Stages a plan's `index.html`: the plan, its table and sensitivity as the terminal shows
/// them (`texts`: heading, text), its charts and links to every file staged before it.
pub fn write_plan_page(
    out: &mut OutputDir,
    name: &str,
    about: &Caption,
    texts: &[(&str, String)],
    figures: Vec<Figure>,
) -> Result<(), Error> {
    let mut sections = vec![
        Section::List("What was planned".into(), about.notes.clone()),
        Section::Figures("Charts".into(), figures),
    ];
    for (heading, t) in texts.iter().filter(|t| !t.1.trim().is_empty()) {
        sections.push(Section::Text(heading.to_string(), t.clone()));
    }
    sections.push(Section::Files("Files".into(), files(out)));
    let page = Page {
        title: about.title.clone(),
        subtitle: format!(
            "etcdsim {} · plan {name} · regenerate with: etcdsim plan <the plan file>",
            env!("CARGO_PKG_VERSION")
        ),
        sections,
    };
    out.write("index.html", html::render(&page).as_bytes())
}
