//! `etcdsim explain`: where one read's time goes, stage by stage, with what etcd does there.

use std::fmt::Write;

use crate::model::{RunResult, Stage};

/// The utilization from which a resource counts as the bottleneck. At 70% busy an M/M/1
/// queue's mean wait is already 2.3 times its service time, and it grows steeply beyond (the
/// knee of the latency curve); below it, more load raises latency only a little, so a run whose
/// every resource is below it is limited by the latency of its stages, not by a resource.
pub const SATURATION_UTILIZATION: f64 = 0.7;

/// What limits a run: a resource near saturation, or, with none, the latency of its stages.
#[derive(Debug, Clone, PartialEq)]
pub enum Limit {
    /// A resource at or above [`SATURATION_UTILIZATION`] (or the run saturated).
    Bottleneck {
        /// The most utilized resource.
        resource: String,
        /// Its utilization (0 to 1).
        utilization: f64,
    },
    /// No resource near saturation: the closed loop waits on its stages.
    LatencyBound {
        /// The most utilized resource.
        busiest: String,
        /// Its utilization (0 to 1).
        utilization: f64,
        /// The stage with the largest mean time.
        stage: Stage,
        /// Its share of the mean latency (0 to 1).
        share: f64,
    },
}

impl Limit {
    /// What limits run `r`.
    pub fn of(r: &RunResult) -> Limit {
        let utilization = r
            .utilization
            .iter()
            .find(|u| u.0 == r.bottleneck)
            .map_or(0.0, |u| u.1);
        let op = r.primary();
        let total: f64 = op.stages.iter().map(|s| s.mean_ns).sum();
        let largest = op.stages.iter().filter(|s| s.mean_ns > 0.0).fold(
            None::<&crate::model::StageSummary>,
            |best, s| match best {
                Some(b) if b.mean_ns >= s.mean_ns => Some(b),
                _ => Some(s),
            },
        );
        match largest {
            Some(s) if utilization < SATURATION_UTILIZATION && !r.saturated() => {
                Limit::LatencyBound {
                    busiest: r.bottleneck.clone(),
                    utilization,
                    stage: s.stage,
                    share: s.mean_ns / total,
                }
            }
            _ => Limit::Bottleneck {
                resource: r.bottleneck.clone(),
                utilization,
            },
        }
    }

    /// The limit in a sentence: "Bottleneck: member1_disk (99.0% busy)." or "Latency-bound:
    /// ...".
    pub fn sentence(&self) -> String {
        match self {
            Limit::Bottleneck {
                resource,
                utilization,
            } => format!("Bottleneck: {resource} ({:.1}% busy).", utilization * 100.0),
            Limit::LatencyBound {
                busiest,
                utilization,
                stage,
                share,
            } => format!(
                "Latency-bound: no resource is {:.0}% busy or more (the busiest, {busiest}, is {:.1}% busy), so no resource is the bottleneck; the largest stage is {} ({}, {:.1}% of the mean).",
                SATURATION_UTILIZATION * 100.0,
                utilization * 100.0,
                stage.name(),
                stage.kind(),
                share * 100.0
            ),
        }
    }
}

/// The explanation of run `r`, which `what` names (the model and the command line), as text.
pub fn text(what: &str, r: &RunResult) -> String {
    let op = r.primary();
    let mut o = String::new();
    let total: f64 = op.stages.iter().map(|s| s.mean_ns).sum();
    let _ = writeln!(o, "Where a request's time goes: {what}");
    let _ = writeln!(
        o,
        "Predicted: {:.0} requests/s, mean {:.4} ms, p99 {:.4} ms ({} requests, seed {})\n",
        op.throughput_rps,
        op.latency_w.mean() * 1e-6,
        op.latency.quantile(0.99) as f64 * 1e-6,
        op.completed,
        r.seed
    );
    let _ = writeln!(
        o,
        "  {:<22} {:>10} {:>10} {:>7}  {:<9}",
        "stage", "mean (ms)", "p99 (ms)", "share", "kind"
    );
    let (mut queue, mut service) = (0.0, 0.0);
    for s in op.stages.iter().filter(|s| s.mean_ns > 0.0) {
        let share = if total > 0.0 {
            100.0 * s.mean_ns / total
        } else {
            0.0
        };
        let kind = s.stage.kind();
        if s.stage.is_queueing() {
            queue += s.mean_ns;
        } else {
            service += s.mean_ns;
        }
        let _ = writeln!(
            o,
            "  {:<22} {:>10.4} {:>10.4} {:>6.1}%  {kind:<9}",
            s.stage.name(),
            s.mean_ns * 1e-6,
            s.p99_ns as f64 * 1e-6,
            share
        );
    }
    let _ = writeln!(o, "  {:<22} {:>10.4}", "total", total * 1e-6);
    if total > 0.0 {
        let _ = writeln!(
            o,
            "\nQueueing is {:.1}% of the mean, service {:.1}%.",
            100.0 * queue / total,
            100.0 * service / total
        );
    }
    let _ = writeln!(o, "{}", Limit::of(r).sentence());
    if r.readindex_rounds > 0 {
        let _ = writeln!(
            o,
            "ReadIndex: {} rounds, {:.1} reads per round.",
            r.readindex_rounds, r.reads_per_round
        );
    }
    if r.probe_l.completed > 0 && r.probe_s.completed > 0 {
        let (l, s) = (
            r.probe_l.latency_w.mean() * 1e-6,
            r.probe_s.latency_w.mean() * 1e-6,
        );
        let _ = writeln!(
            o,
            "Probe: a lone linearizable read {l:.4} ms, a serializable one {s:.4} ms: its ReadIndex round costs {:.4} ms beside this load.",
            l - s
        );
    }
    let _ = writeln!(o, "\nWhat etcd does in each stage:");
    for s in op.stages.iter().filter(|s| s.mean_ns > 0.0) {
        let _ = writeln!(o, "  {:<22} {}", s.stage.name(), s.stage.explain());
    }
    round_hops(&mut o, r);
    goroutines(&mut o, r);
    o
}

/// The ReadIndex round, hop by hop, over the measured rounds.
fn round_hops(o: &mut String, r: &RunResult) {
    let total: f64 = r.round_hops.iter().map(|h| h.mean_ns).sum();
    if total <= 0.0 {
        return;
    }
    let _ = writeln!(
        o,
        "\nThe ReadIndex round, hop by hop ({} rounds, mean {:.4} ms; a linearizable read waits for the round in flight, then a whole round):\n",
        r.readindex_rounds,
        total * 1e-6
    );
    let _ = writeln!(
        o,
        "  {:<18} {:>10} {:>10} {:>7}  what etcd does",
        "hop", "mean (ms)", "p99 (ms)", "share"
    );
    for h in &r.round_hops {
        let _ = writeln!(
            o,
            "  {:<18} {:>10.4} {:>10.4} {:>6.1}%  {}",
            h.hop.name(),
            h.mean_ns * 1e-6,
            h.p99_ns as f64 * 1e-6,
            100.0 * h.mean_ns / total,
            h.hop.explain()
        );
    }
}

/// Every kind of goroutine: its bursts, the mean wait for a P before one (queueing) and the
/// mean burst (service).
fn goroutines(o: &mut String, r: &RunResult) {
    if r.goroutines.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "\nGoroutines: each hop is a goroutine's burst; the wait is queueing for a P (and a core), the burst its CPU:\n"
    );
    let _ = writeln!(
        o,
        "  {:<26} {:>10} {:>12} {:>12}",
        "goroutine", "bursts", "wait (µs)", "burst (µs)"
    );
    for g in &r.goroutines {
        let _ = writeln!(
            o,
            "  {:<26} {:>10} {:>12.1} {:>12.1}",
            g.kind.name(),
            g.bursts,
            g.mean_wait_ns * 1e-3,
            g.mean_burst_ns * 1e-3
        );
    }
}
