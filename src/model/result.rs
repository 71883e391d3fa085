//! What a run returns: its options, what ended it, and what it predicts.

use std::sync::atomic::AtomicBool;

use super::ids::MemberId;
use super::stage::Stage;
use crate::engine::SimDuration;
use crate::stats::{Histogram, Welford};

/// The time a request spent in one stage, summarised over measured requests.
#[derive(Debug, Clone)]
pub struct StageSummary {
    /// The stage.
    pub stage: Stage,
    /// Mean over measured requests, in ns (requests that skip the stage count as zero).
    pub mean_ns: f64,
    /// 99th percentile over measured requests, in ns.
    pub p99_ns: u64,
}

/// One finished request, for scripted scenarios, `explain` and traces.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    /// Issue order, from 0.
    pub seq: u64,
    /// The member that served it.
    pub member: MemberId,
    /// When its latency clock started (ns).
    pub start_ns: u64,
    /// When it finished (ns).
    pub end_ns: u64,
    /// Whether it failed.
    pub failed: bool,
    /// Time per stage (ns), indexed by `Stage as usize`.
    pub stages_ns: [u64; Stage::COUNT],
}

/// A stretch of one traced request's time in one stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// The request's issue order.
    pub seq: u64,
    /// The member serving it.
    pub member: MemberId,
    /// The stage.
    pub stage: Stage,
    /// Start (ns).
    pub start_ns: u64,
    /// End (ns).
    pub end_ns: u64,
    /// For network stages: on the way back to the client.
    pub toward_client: bool,
}

/// One ReadIndex round of a member.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundSpan {
    /// The member whose read loop ran the round.
    pub member: MemberId,
    /// Start (ns).
    pub start_ns: u64,
    /// End, when its reads were released (ns).
    pub end_ns: u64,
    /// Reads it released.
    pub reads: u32,
    /// When each hop of the round ended (ns), in [`RoundHop::ALL`]'s order; the first hop
    /// starts at `start_ns`.
    pub hop_ends_ns: [u64; RoundHop::COUNT],
}

/// A hop of a ReadIndex round, from one milestone to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundHop {
    /// `readwaitc` to the read loop running.
    LoopWake,
    /// The read loop's ReadIndex to the leader's raft node stepping it.
    Ask,
    /// The leader's step to its heartbeats leaving.
    Heartbeats,
    /// The heartbeats out to the quorum's answers stepped.
    Quorum,
    /// The quorum to the ReadState reaching the read loop's member's Ready.
    ReadState,
    /// `readStateC` to the read loop running.
    LoopState,
    /// The applied index reaching the read index, and the notify.
    Apply,
}

impl RoundHop {
    /// How many hops.
    pub const COUNT: usize = 7;
    /// Every hop, in order.
    pub const ALL: [RoundHop; RoundHop::COUNT] = [
        RoundHop::LoopWake,
        RoundHop::Ask,
        RoundHop::Heartbeats,
        RoundHop::Quorum,
        RoundHop::ReadState,
        RoundHop::LoopState,
        RoundHop::Apply,
    ];

    /// The milestone that ends the hop, as the read loop numbers them (0 is the round's
    /// signal).
    pub fn end(self) -> usize {
        self as usize + 1
    }

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            RoundHop::LoopWake => "loop_wake",
            RoundHop::Ask => "read_index_ask",
            RoundHop::Heartbeats => "heartbeats_out",
            RoundHop::Quorum => "heartbeat_quorum",
            RoundHop::ReadState => "read_state",
            RoundHop::LoopState => "loop_state",
            RoundHop::Apply => "apply_and_notify",
        }
    }

    /// What etcd does in the hop.
    pub fn explain(self) -> &'static str {
        match self {
            RoundHop::LoopWake => {
                "readwaitc readies linearizableReadLoop, which waits for a P and swaps in a new notifier."
            }
            RoundHop::Ask => {
                "The read loop's ReadIndex is stepped by its raft node; from a follower it travels as MsgReadIndex (a Ready, rafthttp's writer, the network, the leader's reader) to the leader's raft node."
            }
            RoundHop::Heartbeats => {
                "The leader's Ready takes the heartbeats carrying the round's context, and rafthttp's writers send them."
            }
            RoundHop::Quorum => {
                "The followers' readers and raft nodes take the heartbeats and answer in their next Ready (after its WAL fsync when it persists entries); the leader's reader and raft node take the answers until a quorum has."
            }
            RoundHop::ReadState => {
                "The ReadState goes out in the leader's next Ready (which waits for the current Ready's fsync); for a follower's round, as MsgReadIndexResp to the follower's raft node and Ready."
            }
            RoundHop::LoopState => {
                "readStateC readies the read loop, which waits for a P (behind what the Ready's later hand-offs put before it)."
            }
            RoundHop::Apply => {
                "applyWait: the read loop waits until the applied index reaches the read index, then closes the notifier, readying the round's reads."
            }
        }
    }
}

/// One hop of the ReadIndex round, summarised over the measured rounds.
#[derive(Debug, Clone, PartialEq)]
pub struct HopSummary {
    /// The hop.
    pub hop: RoundHop,
    /// Mean, in ns.
    pub mean_ns: f64,
    /// 99th percentile, in ns.
    pub p99_ns: u64,
}

/// Something a member did, for traces: an apply batch, a WAL or bolt fdatasync, a backend
/// commit.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// The member.
    pub member: MemberId,
    /// What: "apply", "wal fsync", "bolt fsync" or "backend commit".
    pub what: &'static str,
    /// Start (ns).
    pub start_ns: u64,
    /// End (ns).
    pub end_ns: u64,
    /// Entries applied, or writes committed; 0 for fsyncs.
    pub count: u64,
}

/// How to run: limits and what to record beyond the summary.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Stop after this many events, whatever else happens.
    pub max_events: u64,
    /// Keep a record of the first N finished requests.
    pub record_requests: usize,
    /// Record stage spans of the first N requests issued, and the first N ReadIndex rounds.
    pub trace_requests: u64,
    /// Stop, as saturated, when this many requests are in flight at once: an open-loop or
    /// background rate above what the cluster can serve grows its backlog without bound. It
    /// also bounds the memory a run holds.
    pub max_in_flight: u64,
    /// Stop when virtual time passes this, whatever else happens.
    pub max_sim_time: SimDuration,
    /// Stop, as interrupted, soon after this flag is set (Ctrl-C; the runner owns it). A run
    /// that is never asked to stop gives the same results with or without a flag.
    pub stop: Option<&'static AtomicBool>,
    /// Look at every member's run queues this often in the measured window, as
    /// `GODEBUG=schedtrace` prints them ([`RunResult::member_runq`]); none: not at all.
    pub schedtrace: Option<SimDuration>,
}

/// Mean run-queue lengths of the members' processes, as schedtrace samples them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunQueues {
    /// Every P's local queue together (without `runnext`).
    pub local: f64,
    /// The global queue.
    pub global: f64,
}

/// What ended a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoppedBy {
    /// Every request of a request-bounded run finished.
    Finished,
    /// A time-bounded run reached its duration.
    Duration,
    /// The backlog passed `max_in_flight`: the offered load exceeds what the cluster serves.
    Saturated,
    /// The cap on events (`max_events`) fired first: the figures cover a partial run.
    EventCap,
    /// The cap on simulated time (`max_sim_time`) fired first: the figures cover a partial run.
    SimTimeCap,
    /// The stop flag (Ctrl-C) was set: the figures cover a partial run.
    Interrupted,
}

impl StoppedBy {
    /// The name in reports and CSV.
    pub fn name(self) -> &'static str {
        match self {
            StoppedBy::Finished => "finished",
            StoppedBy::Duration => "duration",
            StoppedBy::Saturated => "saturated",
            StoppedBy::EventCap => "event-cap",
            StoppedBy::SimTimeCap => "sim-time-cap",
            StoppedBy::Interrupted => "interrupted",
        }
    }

    /// Whether the run ended as its workload asked.
    pub fn is_complete(self) -> bool {
        matches!(self, StoppedBy::Finished | StoppedBy::Duration)
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            max_events: 2_000_000_000,
            record_requests: 0,
            trace_requests: 0,
            max_in_flight: 200_000,
            max_sim_time: SimDuration::from_secs_f64(3600.0),
            stop: None,
            schedtrace: None,
        }
    }
}

/// The kind of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// A range.
    Read = 0,
    /// A put.
    Write = 1,
    /// One of the few expensive ranges mixed into the workload.
    Expensive = 2,
}

/// What one run predicts for one kind of request.
#[derive(Debug, Clone)]
pub struct OpResult {
    /// Requests that completed successfully in the measured window.
    pub completed: u64,
    /// Requests that failed in the measured window.
    pub failed: u64,
    /// Successful requests per second of virtual time.
    pub throughput_rps: f64,
    /// Latency distribution of measured successful requests (ns).
    pub latency: Histogram,
    /// Latency mean and spread (ns).
    pub latency_w: Welford,
    /// Time per stage.
    pub stages: Vec<StageSummary>,
}

/// What one run predicts.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The run seed.
    pub seed: u64,
    /// Reads (ranges).
    pub reads: OpResult,
    /// Writes (puts).
    pub writes: OpResult,
    /// The expensive reads mixed in.
    pub expensive: OpResult,
    /// The probe's linearizable reads (`workload.probe_rate`; none completed without one).
    pub probe_l: OpResult,
    /// The probe's serializable reads.
    pub probe_s: OpResult,
    /// With [`RunOptions::schedtrace`]: the members' run queues as schedtrace samples them,
    /// the local queues' total and the global queue's length, each a mean over the samples
    /// and the members (as the harness's `member_runq_local_mean` and `_global_mean`).
    pub member_runq: Option<RunQueues>,
    /// Requests issued but neither completed nor failed when the run stopped.
    pub in_flight: u64,
    /// Length of the measured window (first measured issue to last completion).
    pub duration: SimDuration,
    /// Utilization of every resource, as (name, fraction busy).
    pub utilization: Vec<(String, f64)>,
    /// CPU seconds each Go process used in the measured window, as (name, seconds): each
    /// member (`member0`…), the client, the proxy.
    pub process_cpu_s: Vec<(String, f64)>,
    /// The most utilized resource.
    pub bottleneck: String,
    /// Backend (bolt) commits, all members together.
    pub backend_commits: u64,
    /// Means over the measured window of etcd's disk histograms, in ms: the WAL fdatasync
    /// (`wal_fsync_duration_seconds`) and the backend commit
    /// (`backend_commit_duration_seconds`), all members pooled; `None` without any.
    pub disk_ms: DiskMeans,
    /// ReadIndex rounds completed and the mean number of reads each released.
    pub readindex_rounds: u64,
    /// Mean reads released per ReadIndex round.
    pub reads_per_round: f64,
    /// The ReadIndex rounds' hops, over the measured rounds (empty without rounds).
    pub round_hops: Vec<HopSummary>,
    /// Every kind of goroutine's bursts and waits for a P, over the measured window.
    pub goroutines: Vec<super::cpu::GoroutineStats>,
    /// Requests whose stages did not sum to their latency (must be zero).
    pub stage_sum_mismatches: u64,
    /// Broken invariants found at the end of the run (must be empty).
    pub invariant_errors: Vec<String>,
    /// What ended the run: its workload's end, saturation, or a cap.
    pub stopped_by: StoppedBy,
    /// With a proxy: serializable ranges answered from its cache, and those that missed.
    pub proxy_cache: Option<(u64, u64)>,
    /// Events processed.
    pub events: u64,
    /// Trace hash.
    pub trace_hash: u64,
    /// The first finished requests, if asked for.
    pub records: Vec<RequestRecord>,
    /// Stage spans of the traced requests, if asked for.
    pub spans: Vec<Span>,
    /// The first ReadIndex rounds, if tracing.
    pub rounds: Vec<RoundSpan>,
    /// Apply batches, fsyncs and backend commits while tracing (the first N of each member).
    pub activities: Vec<Activity>,
    /// Completions by interval, if the workload asked for them (empty otherwise).
    pub intervals: Vec<IntervalRow>,
    /// Completions after the last interval recorded (`timeline.rs`'s `MAX_INTERVALS`).
    pub intervals_beyond: u64,
    /// Every leader elected during the run, in time order (the initial one is not listed).
    pub leader_changes: Vec<LeaderChange>,
    /// Compactions the members finished (each member compacts its own store).
    pub compactions: Vec<Compacted>,
    /// `Compact` calls that failed: no leader, or the member called was down.
    pub compactions_failed: u64,
    /// clientv3's retries of calls that failed with Unavailable, by their clients.
    pub retries: u64,
}

/// A compaction one member finished.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Compacted {
    /// The timeline step that called it.
    pub step: u32,
    /// The member.
    pub member: MemberId,
    /// When its job began, its walk ended, and it finished (simulated ns from the start).
    pub start_ns: u64,
    /// See `start_ns`.
    pub walked_ns: u64,
    /// See `start_ns`.
    pub end_ns: u64,
    /// Bolt batches, the last included.
    pub batches: u64,
    /// Revisions deleted.
    pub deleted: u64,
}

/// A member became leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaderChange {
    /// When (simulated ns from the start).
    pub at_ns: u64,
    /// Who.
    pub leader: MemberId,
    /// Of which term.
    pub term: u32,
}

impl RunResult {
    /// The run stopped because the backlog passed `max_in_flight`: the offered load exceeds
    /// what the cluster serves, and `bottleneck` says what saturated.
    pub fn saturated(&self) -> bool {
        self.stopped_by == StoppedBy::Saturated
    }

    /// The operation the workload is about: reads if any were measured, else writes.
    pub fn primary(&self) -> &OpResult {
        if self.reads.completed + self.reads.failed > 0 {
            &self.reads
        } else {
            &self.writes
        }
    }
}

/// What one interval of a run saw.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalRow {
    /// Its start, in simulated seconds from the start of the run.
    pub start_s: f64,
    /// Its length (the width, or less for the last one).
    pub span_s: f64,
    /// Reads (and expensive reads) that completed in it.
    pub reads: u64,
    /// Reads that failed in it (not counting timeouts).
    pub reads_failed: u64,
    /// Reads whose client's deadline passed in it.
    pub reads_timed_out: u64,
    /// Puts whose client's deadline passed in it.
    pub writes_timed_out: u64,
    /// Their mean latency (none: no read completed).
    pub read_mean_ns: Option<f64>,
    /// Their median.
    pub read_p50_ns: Option<u64>,
    /// Their 99th percentile.
    pub read_p99_ns: Option<u64>,
    /// The longest (a stall shows here first: a few reads held for seconds are under 1%).
    pub read_max_ns: Option<u64>,
    /// Puts that completed in it.
    pub writes: u64,
    /// Their mean latency.
    pub write_mean_ns: Option<f64>,
    /// The time, by stage ([`Stage`] order), of the reads that ended in it: completed, failed
    /// or timed out (a timed-out read's up to its deadline).
    pub read_stages_ns: [u64; Stage::COUNT],
    /// How many reads that is.
    pub read_ends: u64,
}

impl IntervalRow {
    /// An interval in which nothing completed.
    pub fn empty(start_s: f64, span_s: f64) -> IntervalRow {
        IntervalRow {
            start_s,
            span_s,
            reads: 0,
            reads_failed: 0,
            reads_timed_out: 0,
            writes_timed_out: 0,
            read_mean_ns: None,
            read_p50_ns: None,
            read_p99_ns: None,
            read_max_ns: None,
            writes: 0,
            write_mean_ns: None,
            read_stages_ns: [0; Stage::COUNT],
            read_ends: 0,
        }
    }

    /// Reads per second over the interval.
    pub fn read_rate(&self) -> f64 {
        if self.span_s > 0.0 {
            self.reads as f64 / self.span_s
        } else {
            0.0
        }
    }

    /// Puts per second over the interval.
    pub fn write_rate(&self) -> f64 {
        if self.span_s > 0.0 {
            self.writes as f64 / self.span_s
        } else {
            0.0
        }
    }
}

/// The means of etcd's two disk histograms over a window, in ms, all members pooled (`None`
/// where nothing was timed).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DiskMeans {
    /// `wal_fsync_duration_seconds`.
    pub wal_fsync_ms: Option<f64>,
    /// `backend_commit_duration_seconds`.
    pub backend_commit_ms: Option<f64>,
}

impl DiskMeans {
    /// Each histogram's mean here beside `predicted`'s: `[WAL fsync, backend commit]`.
    pub fn beside(self, predicted: DiskMeans) -> [(Option<f64>, Option<f64>); 2] {
        [
            (self.wal_fsync_ms, predicted.wal_fsync_ms),
            (self.backend_commit_ms, predicted.backend_commit_ms),
        ]
    }
}
