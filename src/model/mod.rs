//! The etcd cluster model: members, hosts, network, clients, the read path and the write path.
//!
//! The model is a plain state machine driven by the engine. Each mechanism is a file that owns
//! its state and the steps that change it:
//! - `client.rs`: closed-loop clients as etcd's `benchmark` runs them (op producer, rate
//!   limiter, connections pinned to endpoints), clientv3 balancers, open-loop and scripted
//!   arrivals, and background puts and expensive reads;
//! - `cpu.rs`: the hosts' cores, shared by every goroutine on a host;
//! - `net.rs`: network interfaces (serialization at bandwidth) and per-link latency;
//! - `member.rs`: a member as the parts etcd has: the raft node (`raft.rs`), the Ready loop
//!   (`ready.rs`), `linearizableReadLoop` (`readloop.rs`), the apply goroutine (`apply.rs`),
//!   the backend (`backend.rs`), its locks (`locks.rs`) and its disk (`disk.rs`); log
//!   replication is `replication.rs`;
//! - `request/`: a request's life: gRPC, ReadIndex, auth, the read transaction and the MVCC
//!   walk, the put's proposal, the gRPC proxy, and the stage accounting;
//! - `event.rs` (the closed event set), `ids.rs` (typed ids), `metrics.rs` (what a run
//!   measures), `result.rs` (what it returns), `stage.rs` (where a request's time goes),
//!   `params.rs` (validated parameters), `timeline.rs` (scripted rate steps and results over
//!   time).
//!
//! There is one clock, the scheduler's: every step takes `now` from it.

mod apply;
mod backend;
mod client;
mod compaction;
mod cpu;
mod disk;
mod election;
mod event;
mod grpc;
mod ids;
mod locks;
mod member;
mod metrics;
mod net;
pub mod params;
mod probe;
mod raft;
mod readloop;
mod ready;
mod replication;
mod request;
mod restart;
mod result;
pub mod stage;
mod stream;
pub mod timeline;
mod transport;

pub use cpu::{GoroutineKind, GoroutineStats};
pub use event::PackedEv;
pub use ids::{HostId, Id, IdVec, MemberId};
pub use params::*;
pub use result::*;
pub use stage::Stage;

use crate::engine::rng::{self, SimRng};
use crate::engine::{Model, Scheduler, SimDuration, SimTime, Simulation, StopReason};
use cpu::{Outside, ProcSpec, Procs};
use event::Ev;
use ids::{ProcId, ReqId, Slab};
use member::Member;
use metrics::{Metrics, Recorder};
use net::Network;
use replication::Log;
use request::Req;
use request::proxy::ProxyCache;

/// The etcd cluster model.
pub struct EtcdModel {
    p: ClusterParams,
    w: Workload,
    /// The Go processes and the hosts' cores.
    cpu: Procs,
    /// Interfaces, links and messages in flight.
    net: Network,
    /// gRPC's transport goroutines at both ends of every connection.
    grpc: grpc::Grpc,
    members: IdVec<MemberId, Member>,
    /// The members' disks.
    disks: disk::Disks,
    /// The raft log's entries, shared by every member's view of it.
    log: Log,
    /// Requests in flight.
    reqs: Slab<ReqId, Req>,
    clients: client::Clients,
    /// The harness's probe goroutine, when the workload has one.
    probe: probe::ProbeLoop,
    proxy_cache: ProxyCache,
    /// CPU costs of every kind of work.
    rng_cpu: SimRng,
    /// fdatasync latencies.
    rng_disk: SimRng,
    /// Raft's tick phases and randomized election timeouts.
    rng_raft: SimRng,
    /// clientv3's retry backoff jitter.
    rng_retry: SimRng,
    /// gRPC's reconnect backoff jitter.
    rng_reconnect: SimRng,
    /// clientv3's subconnections to the members.
    subconns: request::subconn::SubConns,
    /// Each member's process (a new one when a killed member is started again).
    member_procs: IdVec<MemberId, ProcId>,
    /// Leaders elected during the run.
    leader_changes: Vec<LeaderChange>,
    /// Calls retried after Unavailable.
    retries: u64,
    /// Compactions the members finished, and `Compact` calls that failed (no leader).
    compactions: Vec<Compacted>,
    compactions_failed: u64,
    /// Revisions in the store at or below the current revision, since the start or the last
    /// compaction: the workload's keys, and one more for every put appended.
    store_revisions: u64,
    /// A compaction was called and accepted.
    compacted: bool,
    /// Raft's clock and the read loop's timers run (`Workload::elections`, once for the run).
    elections: bool,
    /// Request slots that ended for their client but are still referenced (a member still
    /// serves them, or a killed one holds them forever).
    abandoned_live: u64,
    m: Metrics,
    /// The background streams' rates, as the timeline sets them.
    rates: timeline::Rates,
    /// Each member's defragmentation.
    defrags: Vec<timeline::Defrag>,
    /// Completions by interval, when the workload asks for them.
    intervals: Option<timeline::Intervals>,
    trace: Recorder,
    /// Stop as saturated when more requests than this are in flight.
    max_in_flight: u64,
    /// How often schedtrace looks at the members' run queues, if it does.
    schedtrace: Option<SimDuration>,
    saturated: bool,
}

impl EtcdModel {
    /// Assembles a model of cluster `p` under workload `w`, with random streams from `seed`.
    pub fn new(p: ClusterParams, w: Workload, seed: u64) -> EtcdModel {
        let members = p
            .member_ids()
            .map(|m| {
                let mut member = Member::new(
                    p.member_host[m.index()],
                    p.initial_index,
                    p.members().into(),
                    p.leader,
                    m,
                );
                // The store was loaded before the run, and its last commit reset the buffer.
                member.backend =
                    backend::Backend::with(backend::ReadBuffer::loaded(w.bulk_load_commit_puts));
                member
            })
            .collect();
        EtcdModel {
            cpu: Procs::new(
                p.hosts.iter().map(|h| h.cores),
                process_specs(&p).into_iter(),
                &p.go,
            ),
            net: {
                let mut net = Network::new(p.hosts.len(), rng::stream(seed, 2));
                if w.timeline
                    .iter()
                    .any(|s| matches!(s.change, Change::Latency(..)))
                {
                    let n = usize::from(p.members());
                    net.peer_order = vec![SimTime::ZERO; n * n];
                }
                net
            },
            grpc: grpc::Grpc::new(w.all_conns(), p.members().into()),
            members,
            disks: disk::Disks::new(&p.member_host, p.shared_disk),
            log: Log::new(p.initial_index + 1),
            reqs: Slab::default(),
            clients: client::Clients::new(&w, rng::stream(seed, 3)),
            probe: probe::ProbeLoop::default(),
            proxy_cache: ProxyCache::new(rng::stream(seed, 7)),
            rng_cpu: rng::stream(seed, 1),
            rng_disk: rng::stream(seed, 4),
            rng_raft: rng::stream(seed, 8),
            rng_retry: rng::stream(seed, 9),
            rng_reconnect: rng::stream(seed, 10),
            subconns: request::subconn::SubConns::new(w.all_conns(), p.members().into()),
            member_procs: p.member_ids().map(|m| ProcId(m.0)).collect(),
            leader_changes: Vec::new(),
            retries: 0,
            compactions: Vec::new(),
            compactions_failed: 0,
            store_revisions: w.range.total_keys,
            compacted: false,
            abandoned_live: 0,
            elections: w.elections(),
            m: Metrics::new(),
            rates: timeline::Rates::new(w.write_rate, w.expensive_rate),
            intervals: w.interval.map(timeline::Intervals::new),
            defrags: vec![timeline::Defrag::Idle; usize::from(p.members())],
            trace: Recorder::default(),
            max_in_flight: u64::MAX,
            schedtrace: None,
            saturated: false,
            p,
            w,
        }
    }

    /// Member `m`'s process.
    fn member_proc(&self, m: MemberId) -> ProcId {
        self.member_procs[m]
    }

    /// The client's process.
    fn client_proc(&self) -> ProcId {
        ProcId(self.p.members())
    }

    /// The proxy's process.
    fn proxy_proc(&self) -> ProcId {
        ProcId(self.p.members() + 1)
    }

    /// The process at network node `n` (a member's current run).
    fn node_proc(&self, n: net::Node) -> ProcId {
        match n {
            net::Node::Member(m) => self.member_proc(m),
            net::Node::Client => self.client_proc(),
            net::Node::Proxy => self.proxy_proc(),
        }
    }

    /// Stops the run as saturated if the backlog has passed the cap.
    fn check_backlog(&mut self, s: &mut Scheduler<PackedEv>) {
        if self.clients.in_flight() > self.max_in_flight {
            self.saturated = true;
            s.stop();
        }
    }

    /// Discards utilization history: the measured window starts now.
    fn start_measuring(&mut self, now: SimTime) {
        self.m.measure_start = Some(now);
        self.cpu.reset_stats(now);
        self.net.reset_stats(now);
        for m in self.members.iter_mut() {
            m.reset_stats(now);
        }
        self.disks.reset_stats(now);
        self.m.reset_disk();
        self.clients.reset_stats();
    }

    /// Resource utilizations as (name, utilization), in the order of [`resource_names`].
    fn utilizations(&self, now: SimTime) -> Vec<(String, f64)> {
        let mut vals = Vec::new();
        for h in (0..self.p.hosts.len()).map(HostId::from_index) {
            vals.push(self.cpu.utilization(h, now));
            vals.push(self.net.utilization(h, now));
        }
        for (id, m) in self.members.ids().zip(self.members.iter()) {
            vals.push(m.raft.utilization(now));
            vals.push(m.apply.utilization(now));
            vals.push(self.disks.utilization(id, now));
            vals.push(m.locks.batch_tx_utilization(now));
        }
        let since = self.m.measure_start.unwrap_or(SimTime::ZERO);
        vals.push(self.clients.producer_utilization(since, now));
        resource_names(&self.p).into_iter().zip(vals).collect()
    }

    /// Schedtrace looks at every live member's run queues (in the measured window), and
    /// looks again after its interval.
    fn sched_trace(&mut self, s: &mut Scheduler<PackedEv>) {
        let every = self.schedtrace.expect("a look comes from schedtrace");
        s.schedule_in(every, Ev::SchedTrace);
        if self.m.measure_start.is_none() {
            return;
        }
        for m in self.p.member_ids() {
            // A killed member prints nothing, nor does a stopped one (SIGSTOP).
            if self.members[m].dead || self.cpu.paused(self.member_proc(m)) {
                continue;
            }
            let (global, local) = self.cpu.schedtrace_lengths(self.member_proc(m));
            self.m.runq_samples += 1;
            self.m.runq_sums[0] += global as u64;
            self.m.runq_sums[1] += local as u64;
        }
    }

    /// What must hold when a run ends, as messages for what does not.
    fn check_invariants(&self) -> Vec<String> {
        let mut errs = Vec::new();
        let live = self.reqs.live() as u64;
        let c = &self.clients;
        let probe = self.probe.in_flight();
        if live != c.in_flight() + probe + self.abandoned_live {
            errs.push(format!(
                "{live} request slots are live but {} requests are in flight, {probe} of the probe's, and {} abandoned (issued {} + {} background, finished {} + {})",
                c.in_flight(),
                self.abandoned_live,
                c.issued,
                c.bg_issued,
                c.done,
                c.bg_done
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

/// The Go processes of cluster `p`: each member, the client, then the proxy (if any), with
/// their hosts and GOMAXPROCS (a process's host's cores unless set).
pub(super) fn process_specs(p: &ClusterParams) -> Vec<ProcSpec> {
    let procs = |host: HostId, set: u8| ProcSpec {
        host,
        gomaxprocs: if set > 0 {
            set
        } else {
            u8::try_from(p.hosts[host.index()].cores).unwrap_or(u8::MAX)
        },
    };
    let mut out: Vec<ProcSpec> = p
        .member_host
        .iter()
        .map(|&h| procs(h, p.go.member_gomaxprocs))
        .collect();
    out.push(procs(p.client_host, p.go.client_gomaxprocs));
    if let Some(px) = &p.proxy {
        out.push(procs(px.host, p.go.proxy_gomaxprocs));
    }
    out
}

/// The names of cluster `p`'s Go processes, in process order.
fn process_names(p: &ClusterParams) -> Vec<String> {
    let mut out: Vec<String> = (0..p.members()).map(|i| format!("member{i}")).collect();
    out.push("client".into());
    if p.proxy.is_some() {
        out.push("proxy".into());
    }
    out
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
        let ev = ev.unpack();
        // What readies goroutines that no goroutine of their process readies.
        self.cpu.set_outside(match ev {
            Ev::Deliver(_) => Outside::Network,
            Ev::DiskDone(..) | Ev::FsyncKernelDone(..) => Outside::Syscall,
            _ => Outside::Timer,
        });
        match ev {
            Ev::ClientNext(c) => self.client_next(c, s),
            Ev::ClientGo(c) => self.client_go(c, s),
            Ev::OpenArrival => self.open_arrival(s),
            Ev::ProbeTick => self.probe_tick(s),
            Ev::SchedTrace => self.sched_trace(s),
            Ev::CpuDone(proc, p, burst_no) => self.cpu_done(proc, p, burst_no, s),
            Ev::ThreadWake(proc, p) => self.thread_woken(proc, p, s),
            Ev::Sysmon(proc) => self.sysmon(proc, s),
            Ev::Deliver(msg) => self.deliver(msg, s),
            // A killed member's timers and locks do nothing more, nor do those of a life
            // before its restart (its disk finishes the operation in progress, for the
            // members that share it: `disk_done`).
            Ev::BackendTick(m, life)
            | Ev::LockWake(m, _, life)
            | Ev::RaftTick(m, life)
            | Ev::CompactPause(m, life)
                if !self.members[m].runs(life) => {}
            Ev::ReadIndexRetry(m, _) if self.members[m].dead => {}
            Ev::DiskDone(m, job, life) => self.disk_done(m, job, life, s),
            Ev::BackendTick(m, _) => self.backend_tick(m, s),
            Ev::WriteArrival(epoch) => self.background_arrival(Stream::Writes, epoch, s),
            Ev::ExpensiveArrival(epoch) => self.background_arrival(Stream::Expensive, epoch, s),
            Ev::Timeline(step) if step & timeline::STEP_END != 0 => {
                match self.w.timeline[(step & !timeline::STEP_END) as usize].change {
                    Change::Defrag(m, _) => self.defrag_done(m, s),
                    Change::Restart(m) => self.restart_run(m, s),
                    c => unreachable!(
                        "only a defragmentation and a restart schedule their end, not {c:?}"
                    ),
                }
            }
            Ev::Timeline(step) => match self.w.timeline[step as usize].change {
                Change::Rate { stream, rate } => self.rate_step(stream, rate, s),
                Change::Pause(m) => self.pause(self.member_proc(m), s),
                Change::Resume(m) => {
                    self.resume(self.member_proc(m), s);
                    self.read_loop_resumed(m, s);
                    self.compact_calls_resumed(m, s);
                }
                Change::Kill(m) => self.kill(m, s),
                Change::Restart(m) => self.restart_begin(step, m, s),
                Change::Defrag(m, _) => self.defrag_start(step, m, s),
                Change::Compact { member, revisions } => {
                    self.compact_call(step, member, revisions, s)
                }
                Change::Fsync(m, factor, d) => self.disk_spell(m, factor, d, s.now()),
                Change::Partition(m, d) => self.members[m].cut_until = s.now() + d,
                Change::Latency(m, extra, d) => self.members[m].slow_links = (extra, s.now() + d),
            },
            Ev::LockWake(m, lock, _) => self.lock_wake(m, lock, s),
            Ev::ClientTimer(id) => self.client_timer(id, s),
            Ev::RaftTick(m, _) => self.raft_ticker(m, s),
            Ev::ReadIndexRetry(m, ctx) => self.read_index_retry(m, ctx, s),
            Ev::FsyncKernelDone(m, job, life) => self.kernel_fsync_done(m, job, life, s),
            Ev::Reconnect(conn, m) => self.reconnect_attempt(conn, m, s),
            Ev::CompactPause(m, _) => self.compaction_pause_over(m, s),
        }
    }
}

/// Runs cluster `p` under workload `w` with `seed` until `w.total` requests have finished or
/// `opts.max_events` events have run.
pub fn run(p: &ClusterParams, w: &Workload, seed: u64, opts: RunOptions) -> RunResult {
    let mut model = EtcdModel::new(p.clone(), w.clone(), seed);
    model.trace.record_limit = opts.record_requests;
    model.trace.trace_limit = opts.trace_requests;
    model.max_in_flight = opts.max_in_flight;
    model.schedtrace = opts.schedtrace.filter(|d| d.0 > 0);
    let mut sim = Simulation::new(model);
    client::start(&mut sim);
    probe::start(&mut sim);
    if let Some(every) = sim.model.schedtrace {
        sim.schedule_at(SimTime::ZERO + every, Ev::SchedTrace);
    }
    let duration_end = w.duration.map(|d| SimTime::ZERO + d);
    let cap_end = SimTime::ZERO + opts.max_sim_time;
    let limit = duration_end.map_or(cap_end, |d| d.min(cap_end));
    let (why, interrupted) = run_watched(&mut sim, limit, &opts);
    let now = sim.now();
    let events = sim.events_processed();
    let trace_hash = sim.trace_hash();
    let model = sim.model;
    let m = &model.m;
    let start = m.measure_start.unwrap_or(now);
    let duration = measured_until(why, w.duration.is_some(), limit, now, m.last_end).since(start);
    let stopped_by = match why {
        _ if interrupted => StoppedBy::Interrupted,
        StopReason::Stopped if model.saturated => StoppedBy::Saturated,
        StopReason::Stopped | StopReason::Exhausted => StoppedBy::Finished,
        StopReason::EventLimit => StoppedBy::EventCap,
        StopReason::TimeLimit if duration_end == Some(limit) => StoppedBy::Duration,
        StopReason::TimeLimit => StoppedBy::SimTimeCap,
    };
    let (intervals, intervals_beyond) = model
        .intervals
        .as_ref()
        .map_or((Vec::new(), 0), |iv| iv.rows(now));
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
        probe_l: m.probe[0].result(duration),
        probe_s: m.probe[1].result(duration),
        member_runq: (m.runq_samples > 0).then(|| RunQueues {
            local: m.runq_sums[1] as f64 / m.runq_samples as f64,
            global: m.runq_sums[0] as f64 / m.runq_samples as f64,
        }),
        in_flight: model.clients.issued - model.clients.done,
        duration,
        utilization,
        process_cpu_s: process_names(p)
            .into_iter()
            .zip(model.cpu.process_cpu().into_iter().map(|d| d.as_secs_f64()))
            .collect(),
        bottleneck,
        backend_commits: m.backend_commits,
        disk_ms: m.disk_means_ms(),
        readindex_rounds: m.rounds,
        reads_per_round: m.reads_in_rounds as f64 / m.rounds.max(1) as f64,
        round_hops: m.hop_summary(),
        goroutines: model.cpu.goroutine_stats(),
        stage_sum_mismatches: m.stage_sum_mismatches,
        invariant_errors,
        stopped_by,
        proxy_cache: p
            .proxy
            .as_ref()
            .map(|_| (model.proxy_cache.hits, model.proxy_cache.misses)),
        events,
        trace_hash,
        intervals,
        intervals_beyond,
        leader_changes: model.leader_changes,
        compactions: model.compactions,
        compactions_failed: model.compactions_failed,
        retries: model.retries,
        records: model.trace.records,
        spans: model.trace.spans,
        rounds: model.trace.rounds,
        activities: model.trace.activities,
    }
}

/// Where a run's measured window ends. A time-bounded run is measured up to its end; a
/// request-bounded one up to its last completion (`last_end`), unless a cap or Ctrl-C stopped
/// it: then it was watched up to where it stopped, and its throughput counts that window.
fn measured_until(
    why: StopReason,
    timed: bool,
    limit: SimTime,
    now: SimTime,
    last_end: SimTime,
) -> SimTime {
    match why {
        _ if timed => limit.min(now.max(last_end)),
        StopReason::TimeLimit => limit,
        StopReason::EventLimit => now.max(last_end),
        StopReason::Stopped | StopReason::Exhausted => last_end,
    }
}

/// Events run between two looks at the stop flag: a few milliseconds of work.
const EVENTS_PER_LOOK: u64 = 1 << 16;

/// Runs `sim` until `limit` or `opts.max_events`, in slices when `opts.stop` is given so that
/// a stop request ends the run between two slices (the same events run in the same order
/// either way). Returns why it stopped and whether the stop flag did it.
fn run_watched(
    sim: &mut Simulation<EtcdModel>,
    limit: SimTime,
    opts: &RunOptions,
) -> (StopReason, bool) {
    let Some(stop) = opts.stop else {
        return (sim.run_until(limit, opts.max_events), false);
    };
    let mut left = opts.max_events;
    loop {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            return (StopReason::EventLimit, true);
        }
        let slice = left.min(EVENTS_PER_LOOK);
        let why = sim.run_until(limit, slice);
        left -= slice;
        if why != StopReason::EventLimit || left == 0 {
            return (why, false);
        }
    }
}
