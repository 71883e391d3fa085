//! The etcd cluster model: members, hosts, network, clients, the read path and the write path.
//!
//! The model is a plain state machine driven by the engine. Each mechanism is a component one
//! can point at:
//! - `net.rs`: network interfaces (serialization at bandwidth) and per-link latency, FIFO per
//!   link; messages in flight live in a slab and events carry their ids;
//! - `raft.rs`: the raft goroutine of each member (serial steps), its Ready loop (one WAL fsync
//!   per Ready with entries), the leader's ReadIndex bookkeeping (heartbeat quorum) and the
//!   `linearizableReadLoop` that batches reads and waits for apply;
//! - `request.rs`: the phases of a request on the client and on a member (gRPC, ReadIndex,
//!   token check, RBAC under its lock, read transaction, treeIndex walk, value fetch;
//!   Authenticate and TLS) and the stage accounting;
//! - `write.rs`: proposals, replication, commit, serial apply, the backend commit, the disk;
//! - `client.rs`: closed-loop clients as etcd's `benchmark` runs them (op producer, rate
//!   limiter, connections pinned to endpoints), clientv3 balancers, open-loop and scripted
//!   arrivals, and background puts and expensive reads.
//!
//! Host cores are [`Servers`] pools shared by every goroutine on the host; mutexes and serial
//! goroutines are single-server [`Servers`]; the backend's read-tx lock and the treeIndex lock
//! are [`crate::engine::RwLock`]s.

mod client;
mod net;
pub mod params;
mod proxy;
mod raft;
mod request;
pub mod stage;
mod write;

use crate::engine::rng::{self, SimRng};
use crate::engine::{
    Event, Model, Pipe, Scheduler, Servers, SimDuration, SimTime, Simulation, StopReason,
};
use crate::stats::{Histogram, Welford};
pub use params::*;
pub use stage::Stage;

use net::Msg;
use raft::{Member, RaftInput};
use request::Req;
use write::{DiskJob, Log};

/// Work that occupies a core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuJob {
    /// A phase of request `id`.
    Req(u32),
    /// One raft step on member `m`.
    RaftStep(MemberId, RaftInput),
    /// One Ready of member `m`'s raft loop.
    Ready(MemberId),
    /// Member `m`'s apply goroutine applies an entry.
    Apply(MemberId),
    /// Member `m`'s backend commit (bolt rebalance and spill).
    BackendCommit(MemberId),
}

/// The model's closed event set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ev {
    /// Closed-loop client `c` looks for its next op.
    ClientNext(u32),
    /// Closed-loop client `c` passes the rate limiter.
    ClientGo(u32),
    /// The next open-loop arrival.
    OpenArrival,
    /// The op producer has produced one op.
    ProducerTick,
    /// A core of `host` finishes `job`.
    CpuDone(HostId, CpuJob),
    /// Message `id` arrives at its destination.
    Deliver(u32),
    /// A disk operation of member `m` finished.
    DiskDone(MemberId, DiskJob),
    /// Member `m`'s backend commit timer.
    BackendTick(MemberId),
    /// The next background put.
    WriteArrival,
    /// The next expensive read.
    ExpensiveArrival,
    /// Member `m`'s lock asked to be woken when its announced readers have left.
    LockWake(MemberId, MemberLock),
}

/// A member's reader–writer lock, as an event names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberLock {
    /// The treeIndex lock.
    Index,
    /// The backend's read-tx lock.
    ReadTx,
}

impl Ev {
    /// The event's kind for the trace hash (its variant).
    fn kind(&self) -> u32 {
        match self {
            Ev::ClientNext(_) => 0,
            Ev::ClientGo(_) => 1,
            Ev::OpenArrival => 2,
            Ev::ProducerTick => 3,
            Ev::CpuDone(..) => 4,
            Ev::Deliver(_) => 5,
            Ev::DiskDone(..) => 6,
            Ev::BackendTick(_) => 7,
            Ev::WriteArrival => 8,
            Ev::ExpensiveArrival => 9,
            Ev::LockWake(..) => 10,
        }
    }
}

/// A host's index in [`ClusterParams::hosts`]; the configuration allows at most 256 hosts.
pub type HostId = u8;

/// The host id of host index `host` (below 256 by the configuration's rule).
fn host_id(host: usize) -> HostId {
    HostId::try_from(host).expect("at most 256 hosts, by the configuration's rule")
}

/// An [`Ev`] packed into eight bytes, the form the event queue stores.
///
/// The model schedules [`Ev`]s (the scheduler converts them) and unpacks each event it handles,
/// so the enum never travels through the queue. Stored as an enum, its niche-packed 16-byte
/// layout made the compiler copy it through the stack in overlapping pieces on every pop, and
/// the reloads stalled on store forwarding. `head` holds, from bit 0: the kind (4 bits), the
/// CPU job's kind (3), the raft input's or disk job's kind (2), then the member (bits 16–23)
/// and the host (bits 24–31); `id` holds the one 32-bit field an event may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedEv {
    head: u32,
    id: u32,
}

const JOB_SHIFT: u32 = 4;
const SUB_SHIFT: u32 = 7;
const MEMBER_SHIFT: u32 = 16;
const HOST_SHIFT: u32 = 24;

impl From<Ev> for PackedEv {
    #[inline(always)]
    fn from(ev: Ev) -> PackedEv {
        let kind = ev.kind();
        let at = |member: MemberId, host: HostId| {
            kind | u32::from(member) << MEMBER_SHIFT | u32::from(host) << HOST_SHIFT
        };
        let (head, id) = match ev {
            Ev::ClientNext(x) | Ev::ClientGo(x) | Ev::Deliver(x) => (kind, x),
            Ev::OpenArrival | Ev::ProducerTick | Ev::WriteArrival | Ev::ExpensiveArrival => {
                (kind, 0)
            }
            Ev::CpuDone(h, job) => {
                let (job_kind, sub, m, x) = match job {
                    CpuJob::Req(x) => (0, 0, 0, x),
                    CpuJob::RaftStep(m, RaftInput::ReadIndexLocal { ctx }) => (1, 0, m, ctx),
                    CpuJob::RaftStep(m, RaftInput::Propose { req }) => (1, 1, m, req),
                    CpuJob::RaftStep(m, RaftInput::Msg(x)) => (1, 2, m, x),
                    CpuJob::Ready(m) => (2, 0, m, 0),
                    CpuJob::Apply(m) => (3, 0, m, 0),
                    CpuJob::BackendCommit(m) => (4, 0, m, 0),
                };
                (at(m, h) | job_kind << JOB_SHIFT | sub << SUB_SHIFT, x)
            }
            Ev::DiskDone(m, job) => {
                let sub = match job {
                    DiskJob::Wal => 0,
                    DiskJob::Bolt => 1,
                };
                (at(m, 0) | sub << SUB_SHIFT, 0)
            }
            Ev::BackendTick(m) => (at(m, 0), 0),
            Ev::LockWake(m, lock) => {
                let sub = match lock {
                    MemberLock::Index => 0,
                    MemberLock::ReadTx => 1,
                };
                (at(m, 0) | sub << SUB_SHIFT, 0)
            }
        };
        PackedEv { head, id }
    }
}

impl PackedEv {
    /// The event it packs.
    #[inline(always)]
    pub fn unpack(self) -> Ev {
        let PackedEv { head, id } = self;
        let member = (head >> MEMBER_SHIFT) as MemberId;
        let host = (head >> HOST_SHIFT) as HostId;
        let sub = (head >> SUB_SHIFT) & 3;
        match head & 0xF {
            0 => Ev::ClientNext(id),
            1 => Ev::ClientGo(id),
            2 => Ev::OpenArrival,
            3 => Ev::ProducerTick,
            4 => Ev::CpuDone(
                host,
                match (head >> JOB_SHIFT) & 7 {
                    0 => CpuJob::Req(id),
                    1 => CpuJob::RaftStep(
                        member,
                        match sub {
                            0 => RaftInput::ReadIndexLocal { ctx: id },
                            1 => RaftInput::Propose { req: id },
                            _ => RaftInput::Msg(id),
                        },
                    ),
                    2 => CpuJob::Ready(member),
                    3 => CpuJob::Apply(member),
                    _ => CpuJob::BackendCommit(member),
                },
            ),
            5 => Ev::Deliver(id),
            6 => Ev::DiskDone(
                member,
                if sub == 0 {
                    DiskJob::Wal
                } else {
                    DiskJob::Bolt
                },
            ),
            7 => Ev::BackendTick(member),
            8 => Ev::WriteArrival,
            9 => Ev::ExpensiveArrival,
            _ => Ev::LockWake(
                member,
                if sub == 0 {
                    MemberLock::Index
                } else {
                    MemberLock::ReadTx
                },
            ),
        }
    }
}

impl Event for PackedEv {
    #[inline(always)]
    fn kind(&self) -> u32 {
        self.head & 0xF
    }
}

/// A host's shared resources.
struct HostState {
    cores: Servers<CpuJob>,
    /// The outbound network interface.
    nic: Pipe,
}

/// What the model measures of one kind of request.
struct OpMetrics {
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

    fn result(&self, window: SimDuration) -> OpResult {
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
struct Metrics {
    /// Reads, writes and expensive reads, indexed by `OpKind as usize`.
    ops: [OpMetrics; 3],
    measure_start: Option<SimTime>,
    last_end: SimTime,
    stage_sum_mismatches: u64,
    backend_commits: u64,
    rounds: u64,
    reads_in_rounds: u64,
}

/// The etcd cluster model.
pub struct EtcdModel {
    p: ClusterParams,
    w: Workload,
    hosts: Vec<HostState>,
    members: Vec<Member>,
    reqs: Vec<Req>,
    free: Vec<u32>,
    clients: client::Clients,
    rng_cpu: SimRng,
    rng_net: SimRng,
    rng_disk: SimRng,
    rng_proxy: SimRng,
    proxy_cache: proxy::ProxyCache,
    /// The time of the event being handled (for code reached without the scheduler).
    now: SimTime,
    log: Log,
    /// Background requests issued and finished (their sequence numbers count from
    /// `BACKGROUND_SEQ`).
    bg_issued: u64,
    bg_done: u64,
    issued: u64,
    done: u64,
    m: Metrics,
    records: Vec<RequestRecord>,
    record_limit: usize,
    trace_limit: u64,
    spans: Vec<Span>,
    round_spans: Vec<RoundSpan>,
    activities: Vec<Activity>,
    held_core: Option<(usize, u32)>,
    /// A request whose goroutine a lock grant is waking: its next CPU phase runs next.
    woken: Option<u32>,
    /// Arrival time of the last message on each link `[from * hosts + to]`.
    link_last: Vec<SimTime>,
    /// Each link's current one-way delay, and until when it holds: see `net::LINK_EPOCH`.
    link_delay: Vec<(SimDuration, SimTime)>,
    max_in_flight: u64,
    saturated: bool,
    /// Messages in flight, by id: events carry the id, so they stay small.
    msgs: Vec<Msg>,
    free_msgs: Vec<u32>,
}

impl EtcdModel {
    /// Assembles a model of cluster `p` under workload `w`, with random streams from `seed`.
    pub fn new(p: ClusterParams, w: Workload, seed: u64) -> EtcdModel {
        let hosts = p
            .hosts
            .iter()
            .map(|h| HostState {
                cores: Servers::new(h.cores, SimTime::ZERO),
                nic: Pipe::new(SimTime::ZERO),
            })
            .collect();
        let members = (0..p.members())
            .map(|m| Member::new(p.member_host[usize::from(m)], p.initial_index, p.members()))
            .collect();
        let clients = client::Clients::new(&w, rng::stream(seed, 3));
        EtcdModel {
            hosts,
            members,
            reqs: Vec::new(),
            free: Vec::new(),
            clients,
            rng_cpu: rng::stream(seed, 1),
            rng_net: rng::stream(seed, 2),
            rng_disk: rng::stream(seed, 4),
            rng_proxy: rng::stream(seed, 7),
            proxy_cache: proxy::ProxyCache::default(),
            now: SimTime::ZERO,
            log: Log::new(p.initial_index + 1),
            bg_issued: 0,
            bg_done: 0,
            issued: 0,
            done: 0,
            m: Metrics {
                ops: [OpMetrics::new(), OpMetrics::new(), OpMetrics::new()],
                measure_start: None,
                last_end: SimTime::ZERO,
                stage_sum_mismatches: 0,
                backend_commits: 0,
                rounds: 0,
                reads_in_rounds: 0,
            },
            records: Vec::new(),
            record_limit: 0,
            trace_limit: 0,
            spans: Vec::new(),
            round_spans: Vec::new(),
            activities: Vec::new(),
            held_core: None,
            woken: None,
            link_last: vec![SimTime::ZERO; p.hosts.len() * p.hosts.len()],
            link_delay: vec![(SimDuration::ZERO, SimTime::ZERO); p.hosts.len() * p.hosts.len()],
            msgs: Vec::new(),
            free_msgs: Vec::new(),
            max_in_flight: u64::MAX,
            saturated: false,
            p,
            w,
        }
    }

    /// Stops the run as saturated if the backlog has passed the cap.
    fn check_backlog(&mut self, s: &mut Scheduler<PackedEv>) {
        let in_flight = (self.issued - self.done) + (self.bg_issued - self.bg_done);
        if in_flight > self.max_in_flight {
            self.saturated = true;
            s.stop();
        }
    }

    /// Stores a message in flight and returns its id.
    fn store_msg(&mut self, m: Msg) -> u32 {
        slab_insert(&mut self.msgs, &mut self.free_msgs, m)
    }

    /// Takes message `id` out of flight.
    fn take_msg(&mut self, id: u32) -> Msg {
        self.free_msgs.push(id);
        self.msgs[id as usize]
    }

    /// Occupies a core of `host` with `job`, or queues it.
    ///
    /// A request that has just finished a CPU phase on `host` still holds its core: like a
    /// goroutine that has not blocked, it goes straight on with the next phase instead of
    /// queueing behind others.
    fn cpu(&mut self, host: usize, job: CpuJob, s: &mut Scheduler<PackedEv>) {
        if let (CpuJob::Req(id), Some((h, held))) = (job, self.held_core) {
            if h == host && held == id {
                self.held_core = None;
                self.start_cpu(host, job, s);
                return;
            }
        }
        if let CpuJob::Req(id) = job {
            let q = if host == self.p.client_host && self.reqs[id as usize].on_client() {
                Stage::ClientQueue
            } else {
                Stage::CpuQueue
            };
            self.enter(id, q, s.now());
        }
        // The raft, apply and backend goroutines are woken by channel operations and timers,
        // so Go's scheduler runs them next (`runnext`), ahead of queued request work.
        let granted = if let CpuJob::Req(id) = job
            && self.woken != Some(id)
        {
            self.hosts[host].cores.acquire(s.now(), job)
        } else {
            self.hosts[host].cores.acquire_urgent(s.now(), job)
        };
        if let Some(job) = granted {
            self.start_cpu(host, job, s);
        }
    }

    /// A core of `host` starts `job`.
    fn start_cpu(&mut self, host: usize, job: CpuJob, s: &mut Scheduler<PackedEv>) {
        let d = match job {
            CpuJob::Req(id) => self.req_cpu_start(id, s),
            CpuJob::RaftStep(..) => self.p.member_costs.raft_step.sample(&mut self.rng_cpu),
            CpuJob::Ready(m) => {
                self.ready_on_core(m, s);
                self.p.member_costs.ready.sample(&mut self.rng_cpu)
            }
            CpuJob::Apply(m) => self.apply_cost(m),
            CpuJob::BackendCommit(m) => self.backend_commit_cost(m),
        };
        s.schedule_in(d, Ev::CpuDone(host_id(host), job));
    }

    fn cpu_done(&mut self, host: usize, job: CpuJob, s: &mut Scheduler<PackedEv>) {
        if let CpuJob::Req(id) = job {
            // The request keeps the core while it decides what comes next; if that is more CPU
            // work on this host, `cpu` takes the held core over.
            self.held_core = Some((host, id));
            self.req_cpu_done(id, s);
            if self.held_core.take().is_none() {
                return;
            }
        }
        if let Some((next, _)) = self.hosts[host].cores.release(s.now()) {
            self.start_cpu(host, next, s);
        }
        match job {
            CpuJob::Req(_) => {}
            CpuJob::RaftStep(m, input) => self.raft_step_done(m, input, s),
            CpuJob::Ready(m) => self.ready_cpu_done(m, s),
            CpuJob::Apply(m) => self.apply_cpu_done(m, s),
            CpuJob::BackendCommit(m) => self.backend_commit_cpu_done(m, s),
        }
    }

    /// Records an activity of member `m` if tracing, up to the trace limit per kind.
    fn activity(&mut self, m: MemberId, what: &'static str, start: SimTime, count: u64) {
        if self.trace_limit == 0 {
            return;
        }
        let n = self
            .activities
            .iter()
            .filter(|a| a.member == m && a.what == what)
            .count() as u64;
        if n < self.trace_limit {
            self.activities.push(Activity {
                member: m,
                what,
                start_ns: start.0,
                end_ns: self.now.0,
                count,
            });
        }
    }

    /// Discards utilization history: the measured window starts now.
    fn start_measuring(&mut self, now: SimTime) {
        self.m.measure_start = Some(now);
        for h in &mut self.hosts {
            h.cores.reset_stats(now);
            h.nic.reset_stats(now);
        }
        for m in &mut self.members {
            m.reset_stats(now);
        }
        self.clients.reset_stats(now);
    }

    /// Resource utilizations as (name, utilization), in a fixed order.
    fn utilizations(&self, now: SimTime) -> Vec<(String, f64)> {
        let mut vals = Vec::new();
        for h in &self.hosts {
            vals.push(h.cores.utilization(now));
            vals.push(h.nic.utilization(now));
        }
        for m in &self.members {
            vals.push(m.raft_loop_utilization(now));
            vals.push(m.apply_level.mean(now));
            vals.push(m.disk.utilization(now));
            vals.push(m.batch_tx.utilization(now));
        }
        vals.push(self.clients.producer_utilization(now));
        resource_names(&self.p).into_iter().zip(vals).collect()
    }
}

impl EtcdModel {
    /// What must hold when a run ends, as messages for what does not.
    fn check_invariants(&self) -> Vec<String> {
        let mut errs = Vec::new();
        let live = self.reqs.len() - self.free.len();
        let in_flight = (self.issued - self.done) + (self.bg_issued - self.bg_done);
        if live as u64 != in_flight {
            errs.push(format!(
                "{live} request slots are live but {in_flight} requests are in flight (issued {} + {} background, finished {} + {})",
                self.issued, self.bg_issued, self.done, self.bg_done
            ));
        }
        if self.m.stage_sum_mismatches > 0 {
            errs.push(format!(
                "{} requests' stages do not sum to their latency",
                self.m.stage_sum_mismatches
            ));
        }
        errs
    }
}

/// The names of the resources whose utilization a run of cluster `p` reports, in report
/// order: each host's cores and network interface; each member's raft goroutine, apply
/// goroutine, disk and backend batch-tx lock; and the benchmark's op producer.
pub fn resource_names(p: &ClusterParams) -> Vec<String> {
    let mut out = Vec::new();
    for h in &p.hosts {
        out.push(format!("{}_cpu", h.name));
        out.push(format!("{}_nic", h.name));
    }
    for i in 0..p.members() {
        out.push(format!("member{i}_raft_loop"));
        out.push(format!("member{i}_apply"));
        out.push(format!("member{i}_disk"));
        out.push(format!("member{i}_batch_tx_lock"));
    }
    out.push("client_op_producer".to_string());
    out
}

impl Model for EtcdModel {
    type Event = PackedEv;

    fn handle(&mut self, ev: PackedEv, s: &mut Scheduler<PackedEv>) {
        self.now = s.now();
        match ev.unpack() {
            Ev::ClientNext(c) => self.client_next(c, s),
            Ev::ClientGo(c) => self.client_go(c, s),
            Ev::OpenArrival => self.open_arrival(s),
            Ev::ProducerTick => self.producer_tick(s),
            Ev::CpuDone(h, job) => self.cpu_done(usize::from(h), job, s),
            Ev::Deliver(msg) => self.deliver(msg, s),
            Ev::DiskDone(m, job) => self.disk_done(m, job, s),
            Ev::BackendTick(m) => self.backend_tick(m, s),
            Ev::WriteArrival => self.background_arrival(OpKind::Write, s),
            Ev::ExpensiveArrival => self.background_arrival(OpKind::Expensive, s),
            Ev::LockWake(m, lock) => self.lock_wake(m, lock, s),
        }
    }
}

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
    /// Requests issued but neither completed nor failed when the run stopped.
    pub in_flight: u64,
    /// Length of the measured window (first measured issue to last completion).
    pub duration: SimDuration,
    /// Utilization of every resource, as (name, fraction busy).
    pub utilization: Vec<(String, f64)>,
    /// The most utilized resource.
    pub bottleneck: String,
    /// Backend (bolt) commits, all members together.
    pub backend_commits: u64,
    /// ReadIndex rounds completed and the mean number of reads each released.
    pub readindex_rounds: u64,
    /// Mean reads released per ReadIndex round.
    pub reads_per_round: f64,
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

/// Puts `x` in a free slot of `items` (listed in `free`), or at the end; returns its index.
/// Requests and messages in flight live in such slabs, so events carry 4-byte ids.
fn slab_insert<T>(items: &mut Vec<T>, free: &mut Vec<u32>, x: T) -> u32 {
    match free.pop() {
        Some(id) => {
            items[id as usize] = x;
            id
        }
        None => {
            items.push(x);
            (items.len() - 1) as u32
        }
    }
}

/// Runs cluster `p` under workload `w` with `seed` until `w.total` requests have finished or
/// `opts.max_events` events have run.
pub fn run(p: &ClusterParams, w: &Workload, seed: u64, opts: RunOptions) -> RunResult {
    let mut model = EtcdModel::new(p.clone(), w.clone(), seed);
    model.record_limit = opts.record_requests;
    model.trace_limit = opts.trace_requests;
    model.max_in_flight = opts.max_in_flight;
    let mut sim = Simulation::new(model);
    client::start(&mut sim);
    let duration_end = w.duration.map(|d| SimTime::ZERO + d);
    let cap_end = SimTime::ZERO + opts.max_sim_time;
    let limit = duration_end.map_or(cap_end, |d| d.min(cap_end));
    let why = sim.run_until(limit, opts.max_events);
    let now = sim.now();
    let events = sim.events_processed();
    let trace_hash = sim.trace_hash();
    let model = sim.model;
    let m = &model.m;
    let start = m.measure_start.unwrap_or(now);
    // A time-bounded run is measured up to its end; a request-bounded one up to its last
    // completion.
    let end = if w.duration.is_some() {
        limit.min(now.max(m.last_end))
    } else {
        m.last_end
    };
    let duration = end.since(start);
    let stopped_by = match why {
        StopReason::Stopped if model.saturated => StoppedBy::Saturated,
        StopReason::Stopped | StopReason::Exhausted => StoppedBy::Finished,
        StopReason::EventLimit => StoppedBy::EventCap,
        StopReason::TimeLimit if duration_end == Some(limit) => StoppedBy::Duration,
        StopReason::TimeLimit => StoppedBy::SimTimeCap,
    };
    let invariant_errors = model.check_invariants();
    let utilization = model.utilizations(now);
    let bottleneck = utilization
        .iter()
        .fold(None::<&(String, f64)>, |best, u| match best {
            Some(b) if b.1 >= u.1 => Some(b),
            _ => Some(u),
        })
        .map(|u| u.0.clone())
        .unwrap_or_default();
    RunResult {
        seed,
        reads: m.ops[OpKind::Read as usize].result(duration),
        writes: m.ops[OpKind::Write as usize].result(duration),
        expensive: m.ops[OpKind::Expensive as usize].result(duration),
        in_flight: model.issued - model.done,
        duration,
        utilization,
        bottleneck,
        backend_commits: m.backend_commits,
        readindex_rounds: m.rounds,
        reads_per_round: m.reads_in_rounds as f64 / m.rounds.max(1) as f64,
        stage_sum_mismatches: m.stage_sum_mismatches,
        invariant_errors,
        stopped_by,
        proxy_cache: p
            .proxy
            .as_ref()
            .map(|_| (model.proxy_cache.hits, model.proxy_cache.misses)),
        events,
        trace_hash,
        records: model.records,
        spans: model.spans,
        rounds: model.round_spans,
        activities: model.activities,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event survives packing, with the largest values its fields may hold, and keeps
    /// its kind for the trace hash.
    #[test]
    fn events_pack_and_unpack_unchanged() {
        let x = u32::MAX;
        let (m, h) = (MemberId::MAX, HostId::MAX);
        let mut all = vec![
            Ev::ClientNext(x),
            Ev::ClientGo(7),
            Ev::OpenArrival,
            Ev::ProducerTick,
            Ev::Deliver(x),
            Ev::DiskDone(m, DiskJob::Wal),
            Ev::DiskDone(3, DiskJob::Bolt),
            Ev::BackendTick(m),
            Ev::WriteArrival,
            Ev::ExpensiveArrival,
            Ev::LockWake(m, MemberLock::Index),
            Ev::LockWake(2, MemberLock::ReadTx),
        ];
        for job in [
            CpuJob::Req(x),
            CpuJob::RaftStep(m, RaftInput::ReadIndexLocal { ctx: x }),
            CpuJob::RaftStep(1, RaftInput::Propose { req: x }),
            CpuJob::RaftStep(m, RaftInput::Msg(x)),
            CpuJob::Ready(m),
            CpuJob::Apply(m),
            CpuJob::BackendCommit(m),
        ] {
            all.push(Ev::CpuDone(h, job));
            all.push(Ev::CpuDone(0, job));
        }
        let mut kinds = std::collections::BTreeSet::new();
        for ev in all {
            let packed = PackedEv::from(ev);
            assert_eq!(packed.unpack(), ev);
            assert_eq!(packed.kind(), ev.kind());
            kinds.insert(ev.kind());
        }
        assert_eq!(kinds.len(), 11, "every kind is covered");
    }
}
