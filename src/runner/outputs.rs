//! An experiment's outputs, computed from its sorted rows alone: `results.csv`, its long
//! tables `stages.csv` and `utilization.csv`, `summary.csv`, `run.toml`, the charts and
//! `index.html` (and, for a run with a timeline, `intervals.csv`, `events.csv`, `event-stages.csv` and the timeline
//! charts), as `run` writes them at the end and `merge` from its shards.

use crate::config::experiment::RunEntry;
use crate::error::Error;
use crate::report::experiment::{self as results, RunRow, SummaryRow};
use crate::report::timeline::{EventCsv, EventStageCsv, IntervalCsv};
use crate::report::{table, tidy};

use super::output_dir::OutputDir;
use super::sweep::Sweep;

/// What a run with intervals saw over time (not journaled).
pub struct OverTime<'a> {
    /// `intervals.csv`'s rows.
    pub intervals: &'a [IntervalCsv],
    /// `events.csv`'s.
    pub events: &'a [EventCsv],
    /// `event-stages.csv`'s.
    pub event_stages: &'a [EventStageCsv],
}

/// Everything after the runs, from the sorted rows alone: `results.csv`, `summary.csv`,
/// `run.toml`, the charts and `index.html`, staged in `out`; with `over_time` (a run's
/// intervals and events, which are not journaled), `intervals.csv`, `events.csv`,
/// `event-stages.csv` and the timeline charts too.
pub fn finish(
    out: &mut OutputDir,
    p: &Sweep,
    rows: &[RunRow],
    shard: Option<(usize, usize)>,
    over_time: Option<OverTime<'_>>,
) -> Result<(), Error> {
    out.write("results.csv", &table::csv(&p.template, rows))?;
    let (stages, utilization) = (tidy::stage_rows(rows), tidy::utilization_rows(rows));
    let stage_shape = tidy::stage_template(&p.template);
    out.write("stages.csv", &table::csv(&stage_shape, &stages))?;
    let util_shape = tidy::utilization_template(&p.template);
    out.write("utilization.csv", &table::csv(&util_shape, &utilization))?;
    let summary: Vec<SummaryRow> = results::points(rows)
        .into_iter()
        .map(SummaryRow::of)
        .collect();
    let shape = SummaryRow::of(std::slice::from_ref(&p.template));
    out.write("summary.csv", &table::csv(&shape, &summary))?;
    let runs = rows
        .iter()
        .map(|r| RunEntry {
            point: r.point,
            replication: r.replication,
            seed: r.seed,
            values: r
                .axes
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let shard = shard.map(|(k, n)| format!("{k}/{n}"));
    let text = crate::config::experiment::run_toml(
        &p.e,
        &p.name,
        (&p.model_file, &p.model_toml),
        (p.config_hash, shard),
        runs,
    )
    .map_err(Error::Internal)?;
    out.write("run.toml", text.as_bytes())?;
    let mut timeline_plots = Vec::new();
    if let Some(OverTime {
        intervals,
        events,
        event_stages,
    }) = over_time
    {
        let template = IntervalCsv {
            axes: p.template.axes.clone(),
            ..IntervalCsv::default()
        };
        out.write("intervals.csv", &table::csv(&template, intervals))?;
        if p.jobs.iter().any(|j| !j.workload.timeline.is_empty()) {
            let template = EventCsv {
                axes: p.template.axes.clone(),
                ..EventCsv::default()
            };
            out.write("events.csv", &table::csv(&template, events))?;
            let template = EventStageCsv {
                axes: p.template.axes.clone(),
                ..EventStageCsv::default()
            };
            out.write("event-stages.csv", &table::csv(&template, event_stages))?;
        }
        let about = super::charts::experiment_caption(p);
        timeline_plots = crate::report::timeline::timeline_plots(&about, intervals, events);
    }
    // Last, so that its page links every file of the output.
    super::charts::write_experiment(out, p, rows, &summary, timeline_plots)
}
