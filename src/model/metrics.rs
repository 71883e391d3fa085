//! What the model measures while it runs: latencies and stages per kind of request, counters,
//! and, when asked, the records and spans that `explain` and `trace` show.

use super::ids::MemberId;
use super::result::{
    Activity, HopSummary, OpKind, OpResult, RequestRecord, RoundHop, RoundSpan, Span, StageSummary,
};
use super::stage::Stage;
use crate::engine::{SimDuration, SimTime};
use crate::stats::{Histogram, Welford};

/// What the model measures of one kind of request.
pub struct OpMetrics {
    latency: Histogram,
    latency_w: Welford,
    stage_sum_ns: [u128; Stage::COUNT],
    /// Non-zero stage times; the zeros (requests that skip a stage) are counted apart, in
    /// `stage_zeros`, and merged in at the end, to keep the hot path short.
    stage_hist: Vec<Histogram>,
    stage_zeros: [u64; Stage::COUNT],
    completed: u64,
    failed: u64,
}

impl OpMetrics {
    fn new() -> OpMetrics {
        OpMetrics {
            latency: Histogram::new(),
            latency_w: Welford::new(),
            stage_sum_ns: [0; Stage::COUNT],
            stage_hist: (0..Stage::COUNT).map(|_| Histogram::new()).collect(),
            stage_zeros: [0; Stage::COUNT],
            completed: 0,
            failed: 0,
        }
    }

    /// A measured request ended: failed, or completed after `latency` ns split over `stages`.
    fn record(&mut self, failed: bool, latency: u64, stages: &[u64; Stage::COUNT]) {
        if failed {
            self.failed += 1;
            return;
        }
        self.completed += 1;
        self.latency.record(latency);
        self.latency_w.push(latency as f64);
        for (i, &ns) in stages.iter().enumerate() {
            self.stage_sum_ns[i] += u128::from(ns);
            if ns == 0 {
                self.stage_zeros[i] += 1;
            } else {
                self.stage_hist[i].record(ns);
            }
        }
    }

    /// The summary over a measured window of length `window`.
    pub fn result(&self, window: SimDuration) -> OpResult {
        let n = self.completed.max(1) as f64;
        OpResult {
            completed: self.completed,
            failed: self.failed,
            throughput_rps: if window.0 > 0 {
                self.completed as f64 / window.as_secs_f64()
            } else {
                0.0
            },
            latency: self.latency.clone(),
            latency_w: self.latency_w,
            stages: Stage::ALL
                .iter()
                .map(|&st| StageSummary {
                    stage: st,
                    mean_ns: self.stage_sum_ns[st as usize] as f64 / n,
                    p99_ns: {
                        let mut h = self.stage_hist[st as usize].clone();
                        h.record_n(0, self.stage_zeros[st as usize]);
                        h.quantile(0.99)
                    },
                })
                .collect(),
        }
    }
}

/// What the model measures while it runs.
pub struct Metrics {
    /// Reads, writes and expensive reads, indexed by `OpKind as usize`.
    pub ops: [OpMetrics; 3],
    /// The probe's reads (`probe.rs`): linearizable, then serializable.
    pub probe: [OpMetrics; 2],
    /// Schedtrace's samples of the members' run queues in the measured window: how many
    /// (one per member and look), and the local and global lengths summed over them.
    pub runq_samples: u64,
    /// See `runq_samples`.
    pub runq_sums: [u64; 2],
    /// When the measured window began (the first measured request was issued).
    pub measure_start: Option<SimTime>,
    /// When the last measured request ended.
    pub last_end: SimTime,
    /// Measured requests whose stages did not sum to their latency (a model bug).
    pub stage_sum_mismatches: u64,
    /// Backend commits, all members together.
    pub backend_commits: u64,
    /// Backend commits in the measured window, and their total time, from the commit
    /// goroutine taking the batch transaction's lock to the second fdatasync's end (etcd's
    /// `backend_commit_duration_seconds`).
    pub timed_commits: u64,
    /// Their total time.
    pub backend_commit_ns: u128,
    /// WAL fdatasyncs in the measured window, all members together, and their total time as etcd's
    /// `wal_fsync_duration_seconds` times them: the call's system time, the wait for the disk,
    /// the device and the kernel's completion (not the wait for a P after it returns).
    pub wal_fsyncs: u64,
    /// Their total time.
    pub wal_fsync_ns: u128,
    /// ReadIndex rounds completed.
    pub rounds: u64,
    /// Reads those rounds released.
    pub reads_in_rounds: u64,
    /// The measured rounds' hops: total time and distribution of each.
    hop_sum_ns: [u128; RoundHop::COUNT],
    hop_hist: Vec<Histogram>,
    hop_rounds: u64,
}

impl Metrics {
    /// Nothing measured yet.
    pub fn new() -> Metrics {
        Metrics {
            ops: [OpMetrics::new(), OpMetrics::new(), OpMetrics::new()],
            probe: [OpMetrics::new(), OpMetrics::new()],
            runq_samples: 0,
            runq_sums: [0; 2],
            measure_start: None,
            last_end: SimTime::ZERO,
            stage_sum_mismatches: 0,
            backend_commits: 0,
            timed_commits: 0,
            backend_commit_ns: 0,
            wal_fsyncs: 0,
            wal_fsync_ns: 0,
            rounds: 0,
            reads_in_rounds: 0,
            hop_sum_ns: [0; RoundHop::COUNT],
            hop_hist: (0..RoundHop::COUNT).map(|_| Histogram::new()).collect(),
            hop_rounds: 0,
        }
    }

    /// The means of etcd's two disk histograms over the measured window, in ms: the WAL
    /// fdatasync and the backend commit (`None` without any).
    pub fn disk_means_ms(&self) -> super::result::DiskMeans {
        let mean = |ns: u128, n: u64| (n > 0).then(|| ns as f64 / n as f64 * 1e-6);
        super::result::DiskMeans {
            wal_fsync_ms: mean(self.wal_fsync_ns, self.wal_fsyncs),
            backend_commit_ms: mean(self.backend_commit_ns, self.timed_commits),
        }
    }

    /// Forgets the disk histograms: the measured window starts.
    pub fn reset_disk(&mut self) {
        self.timed_commits = 0;
        self.backend_commit_ns = 0;
        self.wal_fsyncs = 0;
        self.wal_fsync_ns = 0;
    }

    /// A measured round's hops took `hops_ns`.
    pub fn round_hops(&mut self, hops_ns: &[u64; RoundHop::COUNT]) {
        self.hop_rounds += 1;
        for (i, &ns) in hops_ns.iter().enumerate() {
            self.hop_sum_ns[i] += u128::from(ns);
            self.hop_hist[i].record(ns);
        }
    }

    /// The hops over the measured rounds.
    pub fn hop_summary(&self) -> Vec<HopSummary> {
        if self.hop_rounds == 0 {
            return Vec::new();
        }
        RoundHop::ALL
            .iter()
            .enumerate()
            .map(|(i, &hop)| HopSummary {
                hop,
                mean_ns: self.hop_sum_ns[i] as f64 / self.hop_rounds as f64,
                p99_ns: self.hop_hist[i].quantile(0.99),
            })
            .collect()
    }

    /// A measured request of `kind` ended at `now` after `latency` ns; its stages must sum to
    /// it.
    pub fn request_ended(
        &mut self,
        kind: OpKind,
        failed: bool,
        latency: u64,
        stages: &[u64; Stage::COUNT],
        now: SimTime,
    ) {
        self.check_stages(latency, stages);
        self.ops[kind as usize].record(failed, latency, stages);
        self.last_end = now;
    }

    /// A measured request's client gave up on it (its deadline passed): a failure, with no
    /// latency or stages of its own.
    pub fn request_timed_out(&mut self, kind: OpKind) {
        self.ops[kind as usize].failed += 1;
    }

    /// One of the probe's reads ended after `latency` ns: it is timed apart, and does not
    /// move the workload's window.
    pub fn probe_ended(
        &mut self,
        serializable: bool,
        failed: bool,
        latency: u64,
        stages: &[u64; Stage::COUNT],
    ) {
        self.check_stages(latency, stages);
        self.probe[usize::from(serializable)].record(failed, latency, stages);
    }

    /// Counts a request whose stages do not sum to its latency (a model bug).
    fn check_stages(&mut self, latency: u64, stages: &[u64; Stage::COUNT]) {
        if stages.iter().sum::<u64>() != latency {
            self.stage_sum_mismatches += 1;
        }
    }

    /// The probe's client gave up on one of its reads.
    pub fn probe_timed_out(&mut self, serializable: bool) {
        self.probe[usize::from(serializable)].failed += 1;
    }

    /// A ReadIndex round released `reads` reads.
    pub fn round_finished(&mut self, reads: usize) {
        self.rounds += 1;
        self.reads_in_rounds += reads as u64;
    }
}

/// What `explain` and `trace` ask a run to keep beyond its summary, up to their limits.
#[derive(Default)]
pub struct Recorder {
    /// Keep the first this many finished requests.
    pub record_limit: usize,
    /// Trace the first this many requests issued, ReadIndex rounds and activities of each
    /// kind per member (0: no tracing).
    pub trace_limit: u64,
    /// The first finished requests.
    pub records: Vec<RequestRecord>,
    /// Stage spans of the traced requests.
    pub spans: Vec<Span>,
    /// The first ReadIndex rounds.
    pub rounds: Vec<RoundSpan>,
    /// Apply batches, fsyncs and backend commits.
    pub activities: Vec<Activity>,
}

impl Recorder {
    /// Whether request number `seq` is traced.
    #[inline]
    pub fn traces(&self, seq: u64) -> bool {
        seq < self.trace_limit
    }

    /// Records an activity of member `m` from `start` to `end`, up to the limit per kind.
    pub fn activity(
        &mut self,
        member: MemberId,
        what: &'static str,
        start: SimTime,
        end: SimTime,
        count: u64,
    ) {
        if self.trace_limit == 0 {
            return;
        }
        let n = self
            .activities
            .iter()
            .filter(|a| a.member == member && a.what == what)
            .count() as u64;
        if n < self.trace_limit {
            self.activities.push(Activity {
                member,
                what,
                start_ns: start.0,
                end_ns: end.0,
                count,
            });
        }
    }

    /// Records a ReadIndex round, if it is among the first traced (`finished` rounds before it).
    pub fn round(&mut self, finished: u64, span: RoundSpan) {
        if self.trace_limit > 0 && finished < self.trace_limit {
            self.rounds.push(span);
        }
    }

    /// Keeps `r` if fewer than the limit are kept.
    pub fn request(&mut self, r: RequestRecord) {
        if self.records.len() < self.record_limit {
            self.records.push(r);
        }
    }
}
