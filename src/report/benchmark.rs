//! The report of `etcdsim benchmark`, laid out as etcd's own `benchmark` tool prints it
//! (`pkg/report/report.go`: Summary, response time histogram, latency distribution), followed
//! by etcdsim's additions: the stage breakdown, utilizations, the bottleneck and the seed.

use std::fmt::Write;

use crate::model::{RunResult, StoppedBy};

const BAR: &str = "∎";
const BAR_LEN: u64 = 40;

/// etcd's Summary, histogram and latency distribution, from the predicted latencies.
///
/// Percentiles come from etcdsim's histogram (relative error below 0.4%), not from a sorted
/// list of every latency as etcd's tool keeps.
pub fn etcd_layout(r: &RunResult) -> String {
    let op = r.primary();
    let mut o = String::new();
    let secs = |ns: f64| ns * 1e-9;
    let h = &op.latency;
    let n = op.latency_w.count() as f64;
    // etcd's Stddev is the population standard deviation.
    let pop_sd = if n > 1.0 {
        (op.latency_w.variance() * (n - 1.0) / n).sqrt()
    } else {
        0.0
    };
    let _ = writeln!(o, "\nSummary:");
    let _ = writeln!(o, "  Total:\t{:4.4} secs.", r.duration.as_secs_f64());
    let _ = writeln!(o, "  Slowest:\t{:4.4} secs.", secs(h.max() as f64));
    let _ = writeln!(o, "  Fastest:\t{:4.4} secs.", secs(h.min() as f64));
    let _ = writeln!(o, "  Average:\t{:4.4} secs.", secs(op.latency_w.mean()));
    let _ = writeln!(o, "  Stddev:\t{:4.4} secs.", secs(pop_sd));
    let _ = writeln!(o, "  Requests/sec:\t{:4.4}", op.throughput_rps);
    if op.completed > 0 {
        let _ = writeln!(o, "\nResponse time histogram:");
        let rows = histogram_rows(r);
        let max = rows.iter().map(|x| x.1).max().unwrap_or(1).max(1);
        for (edge, count) in rows {
            let bar = BAR.repeat((count * BAR_LEN / max) as usize);
            let _ = writeln!(o, "  {:4.4} [{count}]\t|{bar}", secs(edge as f64));
        }
        let _ = writeln!(o, "\nLatency distribution:");
        for p in [10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9] {
            let v = h.quantile(p / 100.0);
            let _ = writeln!(o, "  {p}% in {:4.4} secs.", secs(v as f64));
        }
    }
    if op.failed > 0 {
        let _ = writeln!(
            o,
            "\nError distribution:\n  [{}]\tfailed requests",
            op.failed
        );
    }
    o
}

/// etcd's 11 histogram edges, equally spaced from fastest to slowest, with the number of
/// latencies in (previous edge, edge] (the first edge counts the fastest).
fn histogram_rows(r: &RunResult) -> Vec<(u64, u64)> {
    let op = r.primary();
    let h = &op.latency;
    let (lo, hi) = (h.min(), h.max());
    let edges: Vec<u64> = (0..=10)
        .map(|i| lo + ((hi - lo) as f64 * f64::from(i) / 10.0) as u64)
        .collect();
    let mut counts = vec![0u64; edges.len()];
    for (b_lo, b_hi, c) in h.iter_buckets() {
        let mid = (b_lo / 2 + b_hi / 2).clamp(lo, hi);
        let i = edges
            .iter()
            .position(|&e| mid <= e)
            .unwrap_or(edges.len() - 1);
        counts[i] += c;
    }
    edges.into_iter().zip(counts).collect()
}

/// etcdsim's additions: where the time went, what was busy, and the run's identity.
pub fn additions(r: &RunResult) -> String {
    let op = r.primary();
    let mut o = String::new();
    let total: f64 = op.stages.iter().map(|s| s.mean_ns).sum();
    let h = &op.latency;
    let _ = writeln!(
        o,
        "\nLatency (ms): mean {:.4}  p50 {:.4}  p90 {:.4}  p99 {:.4}  p99.9 {:.4}  max {:.4}",
        op.latency_w.mean() * 1e-6,
        h.quantile(0.5) as f64 * 1e-6,
        h.quantile(0.9) as f64 * 1e-6,
        h.quantile(0.99) as f64 * 1e-6,
        h.quantile(0.999) as f64 * 1e-6,
        h.max() as f64 * 1e-6
    );
    let _ = writeln!(o, "\nStage breakdown (mean per request):");
    let _ = writeln!(
        o,
        "  {:<22} {:>12} {:>12} {:>7}  kind",
        "stage", "mean (ms)", "p99 (ms)", "share"
    );
    for s in &op.stages {
        if s.mean_ns == 0.0 && s.p99_ns == 0 {
            continue;
        }
        let share = if total > 0.0 {
            100.0 * s.mean_ns / total
        } else {
            0.0
        };
        let kind = s.stage.kind();
        let _ = writeln!(
            o,
            "  {:<22} {:>12.4} {:>12.4} {:>6.1}%  {kind}",
            s.stage.name(),
            s.mean_ns * 1e-6,
            s.p99_ns as f64 * 1e-6,
            share
        );
    }
    if r.probe_l.completed + r.probe_s.completed > 0 {
        // The harness's probe: what a lone read of each kind sees beside the load.
        let _ = writeln!(
            o,
            "\nProbe (one goroutine, its own connection, l and s in turn):"
        );
        for (kind, p) in [("linearizable", &r.probe_l), ("serializable", &r.probe_s)] {
            let _ = writeln!(
                o,
                "  {kind:<14} {:>6} reads  mean {:.4} ms  p99 {:.4} ms  failed {}",
                p.completed,
                p.latency_w.mean() * 1e-6,
                p.latency.quantile(0.99) as f64 * 1e-6,
                p.failed
            );
        }
    }
    let _ = writeln!(o, "\nUtilization:");
    for (name, u) in &r.utilization {
        let _ = writeln!(o, "  {name:<24} {:>6.1}%", u * 100.0);
    }
    if let Some(wal) = r.disk_ms.wal_fsync_ms {
        // What etcd's two disk histograms would read, all members pooled.
        let _ = writeln!(
            o,
            "\nDisk (as etcd's histograms time it, mean over members):"
        );
        let _ = writeln!(o, "  {:<24} {wal:>9.4} ms", "wal_fsync_duration");
        if let Some(c) = r.disk_ms.backend_commit_ms {
            let _ = writeln!(o, "  {:<24} {c:>9.4} ms", "backend_commit_duration");
        }
    }
    match r.stopped_by {
        StoppedBy::Finished | StoppedBy::Duration => {}
        StoppedBy::Saturated => {
            let _ = writeln!(
                o,
                "\nSATURATED: the offered load exceeds what the cluster serves; the backlog grew past its cap (--max-in-flight) and the run stopped. The figures above cover the run up to then."
            );
        }
        StoppedBy::EventCap => {
            let _ = writeln!(
                o,
                "\nSTOPPED EARLY by the event cap (--max-events) after {} events, with {} requests in flight. The figures above cover the run up to then; raise the cap or lower --total.",
                r.events, r.in_flight
            );
        }
        StoppedBy::SimTimeCap => {
            let _ = writeln!(
                o,
                "\nSTOPPED EARLY by the simulated-time cap (--max-sim-time) with {} requests in flight. The figures above cover the run up to then; raise the cap or lower --total.",
                r.in_flight
            );
        }
        StoppedBy::Interrupted => {
            let _ = writeln!(
                o,
                "\nINTERRUPTED by Ctrl-C after {} events, with {} requests in flight. The figures above cover the run up to then.",
                r.events, r.in_flight
            );
        }
    }
    let _ = writeln!(o, "Stopped by: {}", r.stopped_by.name());
    if let Some((hits, misses)) = r.proxy_cache {
        let _ = writeln!(
            o,
            "\nProxy cache: {hits} serializable ranges answered from the cache, {misses} forwarded ({:.1}% hits)",
            100.0 * hits as f64 / (hits + misses).max(1) as f64
        );
    }
    let _ = writeln!(o, "\n{}", super::explain::Limit::of(r).sentence());
    if r.readindex_rounds > 0 {
        let _ = writeln!(
            o,
            "ReadIndex rounds: {} ({:.1} reads per round)",
            r.readindex_rounds, r.reads_per_round
        );
    }
    let _ = writeln!(o, "Seed: {}", r.seed);
    o
}
