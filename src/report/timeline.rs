//! `intervals.csv`: an experiment's results over time, one row per interval of every run whose
//! workload records intervals (a timeline, or `interval_s`); `events.csv`: what each scripted
//! event cost, measured as the real-etcd harness measures it.

use super::charts::{Caption, Line, LinePlot, Mark, Pt, Stat};
use super::table::{Columns, Fixed, Row};
use crate::model::Stage;
use crate::model::timeline::{Change, IntervalRow, Step, Stream};

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

/// A scripted event as `events.csv` names it: a rate step (which ends where it starts) or a
/// pause (which ends at its resume).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// What happened, in words (`pause member1 3s`, `write_rate to 1000/s`).
    pub label: String,
    /// `pause`, `kill`, `defrag`, `fsync`, `partition`, `latency`, `write_rate` or `expensive_rate`.
    pub kind: &'static str,
    /// The member it concerns (empty for a rate step).
    pub member: String,
    /// When it began, simulated seconds from the start of the run.
    pub at_s: f64,
    /// When it ended.
    pub end_s: f64,
}

/// When each compaction step's call returned: the compaction's end on the member it called.
pub fn compacted(steps: &[Step], done: &[crate::model::Compacted]) -> Vec<(u32, f64)> {
    done.iter()
        .filter(|c| {
            matches!(steps[c.step as usize].change,
                Change::Compact { member, .. } if member == c.member)
        })
        .map(|c| (c.step, c.end_ns as f64 / 1e9))
        .collect()
}

/// The events of a timeline, in time order: each pause joined to its resume.
///
/// `compacted` gives, by step, when a compaction finished on the member it was called on (the
/// call returns then, as `Compact` with `WithCompactPhysical` does); one that did not finish
/// ends where it began.
pub fn events(steps: &[Step], compacted: &[(u32, f64)]) -> Vec<Event> {
    let secs = |d: crate::engine::SimDuration| d.as_secs_f64();
    let mut out = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        match s.change {
            Change::Rate { stream, rate } => {
                let kind = match stream {
                    Stream::Writes => "write_rate",
                    Stream::Expensive => "expensive_rate",
                };
                out.push(Event {
                    label: format!("{kind} to {rate}/s"),
                    kind,
                    member: String::new(),
                    at_s: secs(s.at),
                    end_s: secs(s.at),
                });
            }
            Change::Pause(m) => {
                let end = steps[i + 1..]
                    .iter()
                    .find(|r| r.change == Change::Resume(m))
                    .map_or(f64::INFINITY, |r| secs(r.at));
                out.push(Event {
                    label: format!("pause member{} {}s", m.0, rounded(end - secs(s.at))),
                    kind: "pause",
                    member: format!("member{}", m.0),
                    at_s: secs(s.at),
                    end_s: end,
                });
            }
            Change::Compact { member: m, .. } => out.push(Event {
                label: format!("compact member{}", m.0),
                kind: "compact",
                member: format!("member{}", m.0),
                at_s: secs(s.at),
                end_s: compacted
                    .iter()
                    .find(|&&(step, _)| step as usize == i)
                    .map_or(secs(s.at), |&(_, end)| end),
            }),
            Change::Defrag(m, d) => out.push(Event {
                label: format!("defrag member{} {}s", m.0, rounded(secs(d))),
                kind: "defrag",
                member: format!("member{}", m.0),
                at_s: secs(s.at),
                end_s: secs(s.at + d),
            }),
            Change::Fsync(m, factor, d) => out.push(Event {
                label: if factor.is_infinite() {
                    format!("fsync stall member{} {}s", m.0, rounded(secs(d)))
                } else {
                    format!("fsync x{factor} member{} {}s", m.0, rounded(secs(d)))
                },
                kind: "fsync",
                member: format!("member{}", m.0),
                at_s: secs(s.at),
                end_s: secs(s.at + d),
            }),
            Change::Latency(m, extra, d) => out.push(Event {
                label: format!(
                    "latency +{}ms member{} {}s",
                    rounded(extra.as_secs_f64() * 1e3),
                    m.0,
                    rounded(secs(d))
                ),
                kind: "latency",
                member: format!("member{}", m.0),
                at_s: secs(s.at),
                end_s: secs(s.at + d),
            }),
            Change::Partition(m, d) => out.push(Event {
                label: format!("partition member{} {}s", m.0, rounded(secs(d))),
                kind: "partition",
                member: format!("member{}", m.0),
                at_s: secs(s.at),
                end_s: secs(s.at + d),
            }),
            Change::Kill(m) => {
                // A kill with a restart ends when the process is started again, as the
                // harness's row "kill leader, restart after 3s" does.
                let restart = steps[i + 1..]
                    .iter()
                    .find(|r| r.change == Change::Restart(m))
                    .map(|r| secs(r.at));
                out.push(Event {
                    label: match restart {
                        Some(r) => format!(
                            "kill member{}, restart after {}s",
                            m.0,
                            rounded(r - secs(s.at))
                        ),
                        None => format!("kill member{}", m.0),
                    },
                    kind: "kill",
                    member: format!("member{}", m.0),
                    at_s: secs(s.at),
                    end_s: restart.unwrap_or(secs(s.at)),
                })
            }
            Change::Resume(_) | Change::Restart(_) => {}
        }
    }
    out
}

/// `x` to the millisecond, as short as it reads (`3.4`, not `3.4000000000000004`).
fn rounded(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Recovery, as the real-etcd harness measures it (`harness/go/src/etcdmeasure/timeline.go`):
/// the throughput smoothed over this many intervals (an interval and the ones after it) ...
const RECOVER_RUN: usize = 5;
/// ... is compared with this fraction of the steady throughput before the event ...
const RECOVER_FRAC: f64 = 0.9;
/// ... and a dip counts only if it begins within this many seconds of the event.
const DIP_WITHIN_S: f64 = 1.0;

/// What one event of one run cost: a row of `events.csv`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventCsv {
    /// The point's index in the grid.
    pub point: usize,
    /// The replication's index.
    pub replication: usize,
    /// The point's value on each axis, as written.
    pub axes: Vec<(String, String)>,
    /// What happened.
    pub event: String,
    /// Its kind.
    pub kind: String,
    /// The member it concerns.
    pub member: String,
    /// When it began (s).
    pub at_s: Fixed<3>,
    /// When it ended (s).
    pub end_s: Fixed<3>,
    /// The median read throughput of the intervals after warm-up (or the previous event) and
    /// before it.
    pub pre_median_rps: Fixed<1>,
    /// The lowest read throughput of an interval from it to the next event.
    pub min_rps: Fixed<1>,
    /// When that interval started.
    pub min_rps_t_s: Fixed<3>,
    /// From the event to the first smoothed throughput back at 90% of `pre_median_rps` after a
    /// dip (0: no dip within 1 s; empty: no recovery before the next event or the end).
    pub recovery_s: Fixed<3>,
    /// The same, from the event's end (a resume).
    pub recovery_after_end_s: Fixed<3>,
    /// Reads lost against the steady state until the next event, in seconds of it.
    pub lost_s: Fixed<3>,
    /// The median read throughput of the second half of the span to the next event.
    pub post_median_rps: Fixed<1>,
    /// Reads failed (timeouts included) from the event's interval to the next event.
    pub failed: u64,
    /// Of which their client's deadline passed.
    pub timeouts: u64,
    /// The first leader elected from the event to the next (empty: none).
    pub new_leader: String,
    /// When, from the event (s).
    pub new_leader_s: Fixed<3>,
}

impl Row for EventCsv {
    fn columns(&mut self, c: &mut dyn Columns) {
        c.col("point", &mut self.point);
        c.col("replication", &mut self.replication);
        for (name, value) in &mut self.axes {
            c.col(name, value);
        }
        c.col("event", &mut self.event);
        c.col("kind", &mut self.kind);
        c.col("member", &mut self.member);
        c.col("at_s", &mut self.at_s);
        c.col("end_s", &mut self.end_s);
        c.col("pre_median_rps", &mut self.pre_median_rps);
        c.col("min_rps", &mut self.min_rps);
        c.col("min_rps_t_s", &mut self.min_rps_t_s);
        c.col("recovery_s", &mut self.recovery_s);
        c.col("recovery_after_end_s", &mut self.recovery_after_end_s);
        c.col("lost_s", &mut self.lost_s);
        c.col("post_median_rps", &mut self.post_median_rps);
        c.col("failed", &mut self.failed);
        c.col("timeouts", &mut self.timeouts);
        c.col("new_leader", &mut self.new_leader);
        c.col("new_leader_s", &mut self.new_leader_s);
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// The time from `t0` to recovery (see [`EventCsv::recovery_s`]), over the intervals starting
/// from `t0` to `span_end`.
fn recovery_from(ivs: &[IntervalRow], t0: f64, span_end: f64, pre: f64) -> f64 {
    if pre.is_nan() {
        return f64::NAN;
    }
    let ks: Vec<usize> = (0..ivs.len())
        .filter(|&k| {
            ivs[k].start_s >= t0 - 1e-9 && ivs[k].start_s < span_end && k + RECOVER_RUN <= ivs.len()
        })
        .collect();
    let smooth = |k: usize| {
        ivs[k..k + RECOVER_RUN]
            .iter()
            .map(IntervalRow::read_rate)
            .sum::<f64>()
            / RECOVER_RUN as f64
    };
    let Some(dip) = ks
        .iter()
        .take_while(|&&k| ivs[k].start_s - t0 <= DIP_WITHIN_S)
        .position(|&k| smooth(k) < RECOVER_FRAC * pre)
    else {
        return 0.0;
    };
    ks[dip..]
        .iter()
        .find(|&&k| smooth(k) >= RECOVER_FRAC * pre)
        .map_or(f64::NAN, |&k| ivs[k].start_s - t0)
}

/// The rows of `events.csv` and of `event-stages.csv` for one run: its intervals `ivs` (only
/// whole ones are used), its events, the end of its warm-up, and the leaders elected (when, in
/// seconds, and who).
pub fn event_rows(
    (point, replication): (usize, usize),
    axes: &[(String, String)],
    ivs: &[IntervalRow],
    evs: &[Event],
    warmup_s: f64,
    leaders: &[(f64, String)],
) -> (Vec<EventCsv>, Vec<EventStageCsv>) {
    let whole: Vec<IntervalRow> = ivs
        .iter()
        .filter(|iv| {
            iv.span_s > 0.0
                && ivs
                    .first()
                    .is_some_and(|f| (iv.span_s - f.span_s).abs() < 1e-9)
        })
        .cloned()
        .collect();
    let ivs = &whole[..];
    let window_end = ivs.last().map_or(0.0, |iv| iv.start_s + iv.span_s);
    let (mut rows, mut stage_rows) = (Vec::new(), Vec::new());
    for (i, e) in evs.iter().enumerate() {
        let prev_end = if i > 0 {
            evs[i - 1].at_s.max(evs[i - 1].end_s.min(window_end))
        } else {
            warmup_s
        };
        let span_end = evs.get(i + 1).map_or(window_end, |n| n.at_s);
        let steady = |from: f64, to: f64| -> Vec<f64> {
            ivs.iter()
                .filter(|iv| iv.start_s >= from - 1e-9 && iv.start_s + iv.span_s <= to + 1e-9)
                .map(IntervalRow::read_rate)
                .collect()
        };
        let mut window = (prev_end, e.at_s);
        let mut pre = steady(window.0, window.1);
        if pre.len() < 3 && i > 0 {
            // Too little quiet time since the previous event: the steady state before the first.
            window = (warmup_s, evs[0].at_s);
            pre = steady(window.0, window.1);
        }
        let (pre, steady_window) = if pre.len() >= 3 {
            (median(pre), Some(window))
        } else {
            (f64::NAN, None)
        };
        let span: Vec<&IntervalRow> = ivs
            .iter()
            .filter(|iv| iv.start_s >= e.at_s - 1e-9 && iv.start_s < span_end)
            .collect();
        let (mut min, mut min_t) = (f64::NAN, f64::NAN);
        for iv in &span {
            if min.is_nan() || iv.read_rate() < min {
                (min, min_t) = (iv.read_rate(), iv.start_s);
            }
        }
        let recovery = recovery_from(ivs, e.at_s, span_end, pre);
        let after_end = if e.end_s > e.at_s + 0.05 && e.end_s < span_end {
            recovery_from(ivs, e.end_s, span_end, pre)
        } else {
            f64::NAN
        };
        let lost = if pre > 0.0 {
            span.iter()
                .map(|iv| pre * iv.span_s - iv.reads as f64)
                .sum::<f64>()
                / pre
        } else {
            f64::NAN
        };
        let post = median(
            span.iter()
                .filter(|iv| iv.start_s >= (e.at_s + span_end) / 2.0)
                .map(|iv| iv.read_rate())
                .collect(),
        );
        let (mut failed, mut timeouts) = (0, 0);
        for iv in ivs
            .iter()
            .filter(|iv| iv.start_s + iv.span_s > e.at_s && iv.start_s < span_end)
        {
            failed += iv.reads_failed + iv.reads_timed_out;
            timeouts += iv.reads_timed_out;
        }
        let elected = leaders
            .iter()
            .find(|(t, _)| *t >= e.at_s && *t < evs.get(i + 1).map_or(f64::INFINITY, |n| n.at_s));
        rows.push(EventCsv {
            point,
            replication,
            axes: axes.to_vec(),
            event: e.label.clone(),
            kind: e.kind.to_string(),
            member: e.member.clone(),
            at_s: Fixed::new(e.at_s),
            end_s: Fixed::new(e.end_s),
            pre_median_rps: Fixed::new(pre),
            min_rps: Fixed::new(min),
            min_rps_t_s: Fixed::new(min_t),
            recovery_s: Fixed::new(recovery),
            recovery_after_end_s: Fixed::new(after_end),
            lost_s: Fixed::new(lost),
            post_median_rps: Fixed::new(post),
            failed,
            timeouts,
            new_leader: elected.map(|(_, m)| m.clone()).unwrap_or_default(),
            new_leader_s: Fixed::new(elected.map_or(f64::NAN, |(t, _)| t - e.at_s)),
        });
        // Explained: the event's window runs to the later of its end and its recovery (1 s when
        // it has neither), within its span.
        let mut to = e
            .end_s
            .max(e.at_s + if recovery.is_nan() { 0.0 } else { recovery });
        if to <= e.at_s + 1e-9 {
            to = e.at_s + 1.0;
        }
        let during = (e.at_s, to.min(span_end));
        stage_rows.extend(stage_rows_of(
            &rows[rows.len() - 1],
            ivs,
            steady_window,
            during,
        ));
    }
    (rows, stage_rows)
}

/// Where reads' time went during an event against before it, for one stage: a row of
/// `event-stages.csv` (`explain` over the event's interval).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventStageCsv {
    /// The point's index in the grid.
    pub point: usize,
    /// The replication's index.
    pub replication: usize,
    /// The point's value on each axis, as written.
    pub axes: Vec<(String, String)>,
    /// The event.
    pub event: String,
    /// The window the reads ended in, from (s).
    pub from_s: Fixed<3>,
    /// To (s).
    pub to_s: Fixed<3>,
    /// The stage.
    pub stage: String,
    /// `queueing` or `service`.
    pub kind: String,
    /// Reads that ended (completed, failed or timed out) in the steady window before the event.
    pub steady_reads: u64,
    /// Their mean time in the stage per read (ms).
    pub steady_ms: Fixed<4>,
    /// Reads that ended in the event's window.
    pub during_reads: u64,
    /// Their mean time in the stage per read (ms; a timed-out read's up to its deadline).
    pub during_ms: Fixed<4>,
    /// `during_ms - steady_ms`.
    pub change_ms: Fixed<4>,
}

impl Row for EventStageCsv {
    fn columns(&mut self, c: &mut dyn Columns) {
        c.col("point", &mut self.point);
        c.col("replication", &mut self.replication);
        for (name, value) in &mut self.axes {
            c.col(name, value);
        }
        c.col("event", &mut self.event);
        c.col("from_s", &mut self.from_s);
        c.col("to_s", &mut self.to_s);
        c.col("stage", &mut self.stage);
        c.col("kind", &mut self.kind);
        c.col("steady_reads", &mut self.steady_reads);
        c.col("steady_ms", &mut self.steady_ms);
        c.col("during_reads", &mut self.during_reads);
        c.col("during_ms", &mut self.during_ms);
        c.col("change_ms", &mut self.change_ms);
    }
}

/// The stage sums and read count of the intervals starting in `[from, to)`.
fn stage_sums(ivs: &[IntervalRow], from: f64, to: f64) -> ([u64; Stage::COUNT], u64) {
    let mut sums = [0u64; Stage::COUNT];
    let mut n = 0;
    for iv in ivs
        .iter()
        .filter(|iv| iv.start_s >= from - 1e-9 && iv.start_s < to - 1e-9)
    {
        for (s, &x) in sums.iter_mut().zip(&iv.read_stages_ns) {
            *s += x;
        }
        n += iv.read_ends;
    }
    (sums, n)
}

/// `explain` over one event (`row`): for every stage that either window spent time in, the
/// mean time per read of the reads that ended in the `during` window, against the reads that
/// ended in the `steady` one (the window `pre_median_rps` is the median of; none: too little
/// quiet time, and the steady columns are empty).
fn stage_rows_of(
    row: &EventCsv,
    ivs: &[IntervalRow],
    steady: Option<(f64, f64)>,
    during: (f64, f64),
) -> Vec<EventStageCsv> {
    let (before, sn) = steady.map_or(([0; Stage::COUNT], 0), |(a, b)| stage_sums(ivs, a, b));
    let (dur, dn) = stage_sums(ivs, during.0, during.1);
    let per = |x: u64, n: u64| {
        if n > 0 {
            x as f64 / n as f64 / 1e6
        } else {
            f64::NAN
        }
    };
    Stage::ALL
        .iter()
        .enumerate()
        .filter(|&(k, _)| before[k] > 0 || dur[k] > 0)
        .map(|(k, stage)| {
            let (a, b) = (per(before[k], sn), per(dur[k], dn));
            EventStageCsv {
                point: row.point,
                replication: row.replication,
                axes: row.axes.clone(),
                event: row.event.clone(),
                from_s: Fixed::new(during.0),
                to_s: Fixed::new(during.1),
                stage: stage.name().to_string(),
                kind: stage.kind().to_string(),
                steady_reads: sn,
                steady_ms: Fixed::new(a),
                during_reads: dn,
                during_ms: Fixed::new(b),
                change_ms: Fixed::new(b - a),
            }
        })
        .collect()
}

/// A point's series name on the timeline charts: its events, then the other axes it sets.
fn series_name(point: usize, ivs: &[IntervalCsv], evs: &[EventCsv]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mine: Vec<&EventCsv> = evs
        .iter()
        .filter(|e| e.point == point && e.replication == 0)
        .collect();
    if !mine.is_empty() {
        parts.push(
            mine.iter()
                .map(|e| e.event.as_str())
                .collect::<Vec<_>>()
                .join(", then "),
        );
    }
    if let Some(iv) = ivs.iter().find(|iv| iv.point == point) {
        for (k, v) in &iv.axes {
            if k != "timeline" && !v.is_empty() && (mine.is_empty() || k != "interval_s") {
                parts.push(format!("{}={v}", k.strip_prefix("model.").unwrap_or(k)));
            }
        }
    }
    if parts.is_empty() {
        format!("point {point}")
    } else {
        parts.join(", ")
    }
}

/// The timeline charts of an experiment's intervals: reads per second, and read latency (mean
/// and p99), against time, a line per point (the mean over its replications), each event
/// marked where it begins.
pub fn timeline_plots(
    about: &Caption,
    ivs: &[IntervalCsv],
    evs: &[EventCsv],
) -> Vec<(&'static str, LinePlot)> {
    let mut points: Vec<usize> = ivs.iter().map(|iv| iv.point).collect();
    points.dedup();
    let reps = ivs.iter().map(|iv| iv.replication + 1).max().unwrap_or(1);
    // One line: `metric` of point `pt`'s intervals, by start time, over its replications.
    let line = |series: usize, pt: usize, stat: Stat, metric: fn(&IntervalCsv) -> f64| {
        let mut by_t: Vec<(f64, Vec<f64>)> = Vec::new();
        for iv in ivs.iter().filter(|iv| iv.point == pt) {
            let y = metric(iv);
            match by_t.iter_mut().find(|(t, _)| *t == iv.start_s.0) {
                Some((_, ys)) => ys.push(y),
                None => by_t.push((iv.start_s.0, vec![y])),
            }
        }
        let points = by_t
            .into_iter()
            .filter_map(|(x, ys)| {
                let ys: Vec<f64> = ys.into_iter().filter(|y| y.is_finite()).collect();
                if ys.is_empty() {
                    return None;
                }
                // No error bars: over a few replications of 100 ms intervals they would hide
                // the lines; the spread is in intervals.csv.
                let y = ys.iter().sum::<f64>() / ys.len() as f64;
                Some(Pt {
                    x,
                    y,
                    ci95: f64::NAN,
                })
            })
            .collect();
        Line {
            series,
            stat,
            points,
        }
    };
    let names: Vec<String> = points.iter().map(|&p| series_name(p, ivs, evs)).collect();
    let marks = |lines: &[Line]| -> Vec<Mark> {
        let mut out = Vec::new();
        for (series, &pt) in points.iter().enumerate() {
            let first = lines.iter().find(|l| l.series == series);
            for e in evs.iter().filter(|e| e.point == pt && e.replication == 0) {
                // On the line, at the interval where the event begins.
                let y = first
                    .and_then(|l| l.points.iter().rev().find(|p| p.x <= e.at_s.0 + 1e-9))
                    .map_or(f64::NAN, |p| p.y);
                if y.is_finite() {
                    out.push(Mark {
                        series,
                        x: e.at_s.0,
                        y,
                    });
                }
            }
        }
        out
    };
    let plot = |what: &str, y_title: &str, lines: Vec<Line>| {
        let m = marks(&lines);
        LinePlot {
            caption: Caption {
                title: format!("{what} — {}", about.title),
                notes: about.notes.clone(),
            },
            x_title: if reps > 1 {
                format!(
                    "simulated time (s), warm-up included; each line the mean of {reps} replications"
                )
            } else {
                "simulated time (s), warm-up included".into()
            },
            log_x: false,
            y_title: y_title.into(),
            series: names.clone(),
            series_heading: "timeline".into(),
            lines,
            references: Vec::new(),
            marks: (m, "an event begins".into()),
            ci_label: String::new(),
            y_max: None,
        }
    };
    let throughput = plot(
        "Reads per second over time",
        "reads completed per second",
        (0..points.len())
            .map(|s| line(s, points[s], Stat::Mean, |iv| iv.reads_per_s.0))
            .collect(),
    );
    let latency = plot(
        "Read latency over time",
        "read latency (ms)",
        (0..points.len())
            .flat_map(|s| {
                [
                    line(s, points[s], Stat::Mean, |iv| iv.read_mean_ms.0),
                    line(s, points[s], Stat::P99, |iv| iv.read_p99_ms.0),
                ]
            })
            .collect(),
    );
    vec![
        ("timeline-throughput", throughput),
        ("timeline-latency", latency),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(start_s: f64, reads: u64, timed_out: u64) -> IntervalRow {
        IntervalRow {
            reads,
            reads_timed_out: timed_out,
            ..IntervalRow::empty(start_s, 0.1)
        }
    }

    /// 1000 reads/s, nothing for 0.5 s from 2 s on, then 1000/s again: the smoothed throughput
    /// (5 intervals) is back at 90% from the interval at 2.5 s.
    /// Member 1 paused from 2.0 to 2.5 s.
    fn pause_2_to_2_5() -> Event {
        Event {
            label: "pause member1 0.5s".into(),
            kind: "pause",
            member: "member1".into(),
            at_s: 2.0,
            end_s: 2.5,
        }
    }

    #[test]
    fn an_outage_recovers_when_the_smoothed_rate_is_back() {
        let ivs: Vec<IntervalRow> = (0..40)
            .map(|k| {
                let t = k as f64 * 0.1;
                let out = (2.0 - 1e-9..2.5 - 1e-9).contains(&t);
                iv(t, if out { 0 } else { 100 }, u64::from(k == 22))
            })
            .collect();
        let ev = pause_2_to_2_5();
        let (rows, _) = event_rows((0, 0), &[], &ivs, &[ev], 0.5, &[]);
        let r = &rows[0];
        assert_eq!(r.pre_median_rps.0, 1000.0);
        assert_eq!(r.min_rps.0, 0.0);
        assert!((r.recovery_s.0 - 0.5).abs() < 1e-9, "{r:?}");
        assert_eq!(r.recovery_after_end_s.0, 0.0);
        assert!((r.lost_s.0 - 0.5).abs() < 1e-9, "{r:?}");
        assert_eq!((r.failed, r.timeouts), (1, 1));
    }

    /// A step that does not dip the throughput recovers in 0.
    #[test]
    fn no_dip_is_no_recovery_time() {
        let ivs: Vec<IntervalRow> = (0..40).map(|k| iv(k as f64 * 0.1, 100, 0)).collect();
        let evs = events(
            &[Step {
                at: crate::engine::SimDuration::from_secs_f64(2.0),
                change: Change::Rate {
                    stream: Stream::Writes,
                    rate: 10.0,
                },
            }],
            &[],
        );
        let (rows, _) = event_rows((0, 0), &[], &ivs, &evs, 0.5, &[]);
        assert_eq!(rows[0].recovery_s.0, 0.0);
        assert_eq!(rows[0].event, "write_rate to 10/s");
    }

    /// Explained over the event: before it each read spends 1 ms in the read-index batch wait;
    /// during the 0.5 s pause each spends 100 ms there (and reads are fewer). The steady window
    /// is the one `pre_median_rps` is the median of, the event's runs to its end.
    #[test]
    fn an_events_stages_are_set_against_the_steady_window_before_it() {
        let k = Stage::ReadIndexBatch as usize;
        let ivs: Vec<IntervalRow> = (0..40)
            .map(|j| {
                let t = j as f64 * 0.1;
                let out = (2.0..2.5).contains(&(t + 1e-9));
                let (n, ms) = if out { (10, 100) } else { (100, 1) };
                let mut row = iv(t, n, 0);
                row.read_ends = n;
                row.read_stages_ns[k] = n * ms * 1_000_000;
                row
            })
            .collect();
        let ev = pause_2_to_2_5();
        let (_, stages) = event_rows((0, 0), &[], &ivs, &[ev], 0.5, &[]);
        let row = stages
            .iter()
            .find(|r| r.stage == "readindex_batch_wait")
            .expect("the stage that took time");
        assert_eq!(stages.len(), 1, "only stages with time: {stages:?}");
        assert_eq!((row.steady_reads, row.during_reads), (1500, 50));
        assert!((row.steady_ms.0 - 1.0).abs() < 1e-9, "{row:?}");
        assert!((row.during_ms.0 - 100.0).abs() < 1e-9, "{row:?}");
        assert!((row.from_s.0, row.to_s.0) == (2.0, 2.5), "{row:?}");
    }
}
