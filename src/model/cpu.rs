//! Go processes on the hosts' cores.
//!
//! Every member, the client and the proxy is a Go process: its goroutines are placed on its
//! GOMAXPROCS processors (Ps) by Go's scheduler ([`crate::goruntime::GoSched`]), and a P that
//! runs needs one of its host's cores, shared with every other process on the host (the OS run
//! queue: first come, first served, and a P that has held its core for an OS time slice while
//! others wait gives it up at the next goroutine boundary).
//!
//! How a goroutine became runnable decides where it waits, and the model knows it from what
//! it is handling:
//! - readied by the goroutine whose burst just ended on a P of the same process (a channel
//!   operation, an unlock, a `go` statement): that P's `runnext`;
//! - readied by the network (a message was delivered): the network poller;
//! - returning from an fdatasync: an idle P at once, or the global queue;
//! - readied by a timer: a running P's `runnext`;
//! - the goroutine whose burst just ended going straight on (it did not block): it keeps its
//!   P and core, as a goroutine does until it blocks; only bcrypt yields, every 10 ms, as Go
//!   preempts it.
//!
//! The kernel uses the cores too: an fdatasync's completion work (`disk.rs`) takes the next
//! core freed, ahead of every waiting P, and is charged to no process, as an interrupt, its
//! softirq and a woken kworker are not in `/proc/<pid>/stat`.
//!
//! A process can be paused and resumed (SIGSTOP, SIGCONT): its threads stop where they are. A
//! burst in flight is cut and keeps what it had left, its core goes back to the host, and no
//! thread of the process runs (a P granted a core gives it back at once, a thread wake-up and
//! sysmon wait) until it resumes; what the network and the disk ready meanwhile waits in its
//! run queues, as in a stopped Go process.

use super::EtcdModel;
use super::event::{CpuJob, DiskJob, Ev, Life, PackedEv};
use super::ids::{HostId, Id, IdVec, MemberId, ProcId};
use super::stage::Stage;
use crate::engine::{Scheduler, Servers, SimDuration, SimTime};
use crate::goruntime::{GoSched, PId, Wake};

/// How the goroutine being readied became runnable, when no goroutine of its process readied
/// it: what the model is handling at the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outside {
    /// A message arrived: the network poller.
    Network,
    /// An fdatasync returned.
    Syscall,
    /// A timer fired (the benchmark's rate limiter, the backend's batch interval, a scheduled
    /// arrival, a lock release the model announced).
    Timer,
}

/// One P of a process.
#[derive(Debug, Clone, Default)]
struct PSlot {
    /// The goroutine it runs, or is about to run once it has a core.
    running: Option<Queued>,
    /// Its thread spins, finding nothing, before it parks (or spins once it has a core).
    spinning: bool,
    /// It holds one of its host's cores.
    core: bool,
    /// Since when it holds it.
    core_since: SimTime,
    /// Bursts (and spins) started on it: a `CpuDone` carries the number of the burst it ends,
    /// so that one cut short (its process paused or crashed) is told apart.
    burst_no: u32,
    /// When the burst (or spin) in flight ends.
    burst_end: SimTime,
    /// A burst its process's pause cut: what it has left, to run once it has a core again.
    frozen: Option<SimDuration>,
    /// It was to get a core while its process was paused: it asks again on resume.
    wants_core: bool,
    /// CPU its thread owes for the threads it woke (`GoParams::wake`): it pays before the
    /// next burst or spin on this P.
    owed: SimDuration,
    /// The burst in flight is that payment; the goroutine in `running` runs after it.
    paying: bool,
}

/// A runnable goroutine as the scheduler queues it: its job, and since when it is runnable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Queued {
    job: CpuJob,
    at: SimTime,
}

/// One Go process.
struct GoProc {
    host: HostId,
    /// The process it reports as: itself, or the one a restarted member's replaced.
    owner: ProcId,
    sched: GoSched<Queued>,
    ps: Vec<PSlot>,
    /// A sysmon look is scheduled.
    sysmon_pending: bool,
    /// CPU its goroutines used since the last reset.
    busy: SimDuration,
    /// Stopped (SIGSTOP): none of its threads runs.
    paused: bool,
    /// Thread wake-ups that came while it was paused, in order.
    deferred_wakes: Vec<PId>,
    /// Sysmon's look came while it was paused.
    sysmon_deferred: bool,
}

impl GoProc {
    fn new(spec: ProcSpec, owner: ProcId, thread_wake: SimDuration) -> GoProc {
        GoProc {
            host: spec.host,
            owner,
            sched: GoSched::new(spec.gomaxprocs, thread_wake),
            ps: vec![PSlot::default(); usize::from(spec.gomaxprocs)],
            sysmon_pending: false,
            busy: SimDuration::ZERO,
            paused: false,
            deferred_wakes: Vec::new(),
            sysmon_deferred: false,
        }
    }
}

/// Who holds, or waits for, one of a host's cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CoreUser {
    /// A P of a Go process (its thread).
    P(ProcId, PId),
    /// The kernel, completing an fdatasync of member `m`'s life.
    Kernel(MemberId, DiskJob, Life),
}

/// Every Go process and every host's cores.
pub struct Procs {
    cores: IdVec<HostId, Servers<CoreUser>>,
    procs: IdVec<ProcId, GoProc>,
    /// The P whose goroutine's burst the model is handling: the readier of what it readies.
    current: Option<(ProcId, PId)>,
    /// The goroutine whose burst just ended, until it blocks or goes straight on.
    held: Option<(ProcId, PId, CpuJob)>,
    /// What readies goroutines outside any goroutine's burst.
    outside: Outside,
    /// Waits for a P and bursts, by kind of goroutine, since the last reset.
    kinds: [KindStats; GoroutineKind::COUNT],
    os_slice: SimDuration,
    /// See [`super::params::GoParams::os_wake_preempt`].
    os_wake_preempt: Option<SimDuration>,
    /// CPU a thread spends from running dry to parked (spinning, the futex sleep) and, woken,
    /// to running again.
    park: SimDuration,
    /// CPU the waker spends waking a sleeping thread onto an idle core.
    wake: SimDuration,
}

/// A process to create: its host and GOMAXPROCS.
pub struct ProcSpec {
    /// The host it runs on.
    pub host: HostId,
    /// Its Ps.
    pub gomaxprocs: u8,
}

impl Procs {
    /// Processes `procs` on hosts with `cores[h]` cores, run as `go` says.
    pub fn new(
        cores: impl Iterator<Item = u32>,
        procs: impl Iterator<Item = ProcSpec>,
        go: &super::params::GoParams,
    ) -> Procs {
        let thread_wake = go.thread_wake;
        Procs {
            cores: cores.map(|c| Servers::new(c, SimTime::ZERO)).collect(),
            procs: procs
                .enumerate()
                .map(|(i, p)| GoProc::new(p, ProcId(i as u8), thread_wake))
                .collect(),
            current: None,
            held: None,
            outside: Outside::Timer,
            kinds: Default::default(),
            os_slice: go.os_slice,
            os_wake_preempt: go.os_wake_preempt,
            park: go.park,
            wake: go.wake,
        }
    }

    /// Fraction of host `h`'s cores busy since the last reset.
    pub fn utilization(&self, h: HostId, now: SimTime) -> f64 {
        self.cores[h].utilization(now)
    }

    /// Forgets utilization history.
    pub fn reset_stats(&mut self, now: SimTime) {
        for c in self.cores.iter_mut() {
            c.reset_stats(now);
        }
        for p in self.procs.iter_mut() {
            p.busy = SimDuration::ZERO;
        }
        self.kinds = Default::default();
    }

    /// Each kind of goroutine's bursts and waits for a P since the last reset.
    pub fn goroutine_stats(&self) -> Vec<GoroutineStats> {
        GoroutineKind::ALL
            .iter()
            .zip(&self.kinds)
            .filter(|(_, k)| k.bursts > 0)
            .map(|(&kind, k)| GoroutineStats {
                kind,
                bursts: k.bursts,
                mean_wait_ns: k.wait_ns as f64 / k.bursts as f64,
                mean_burst_ns: k.cpu_ns as f64 / k.bursts as f64,
            })
            .collect()
    }

    /// Whether process `proc` is stopped (SIGSTOP).
    pub fn paused(&self, proc: ProcId) -> bool {
        self.procs[proc].paused
    }

    /// Process `proc`'s global and local run-queue lengths, as schedtrace prints them.
    pub fn schedtrace_lengths(&self, proc: ProcId) -> (usize, usize) {
        self.procs[proc].sched.schedtrace_lengths()
    }

    /// CPU each process's goroutines used since the last reset, in process order (a
    /// restarted member's runs added together).
    pub fn process_cpu(&self) -> Vec<SimDuration> {
        let first_runs = self
            .procs
            .ids()
            .filter(|&i| self.procs[i].owner == i)
            .count();
        let mut out = vec![SimDuration::ZERO; first_runs];
        for p in self.procs.iter() {
            out[p.owner.index()] += p.busy;
        }
        out
    }

    /// Starts process `spec` (a killed member started again), reported as `owner`; returns
    /// its id. The old process stays, stopped for good, so that nothing of its run (a burst's
    /// end, a thread's wake-up, a P waiting for a core) can touch the new one.
    pub fn spawn(&mut self, spec: ProcSpec, owner: ProcId, thread_wake: SimDuration) -> ProcId {
        assert!(
            self.procs.len() < usize::from(u8::MAX),
            "at most 255 processes"
        );
        self.procs.push(GoProc::new(spec, owner, thread_wake))
    }

    /// What readies goroutines from now on, outside any goroutine's burst.
    pub fn set_outside(&mut self, o: Outside) {
        self.outside = o;
    }
}

impl EtcdModel {
    /// Goroutine `job` of process `proc` becomes runnable: readied by the context the model is
    /// in (see the module docs), or going straight on if it is the goroutine whose burst just
    /// ended.
    pub(super) fn go(&mut self, proc: ProcId, job: CpuJob, s: &mut Scheduler<PackedEv>) {
        let now = s.now();
        if let Some((hp, p, hj)) = self.cpu.held {
            if hp == proc && same_goroutine(hj, job) {
                // It did not block: it goes on with its P and core.
                self.cpu.held = None;
                self.start_burst(proc, p, Queued { job, at: now }, s);
                return;
            }
        }
        if let CpuJob::Req(id) = job {
            let q = if self.reqs[id].on_client() {
                Stage::ClientQueue
            } else {
                Stage::CpuQueue
            };
            self.enter(id, q, now);
        }
        let wake = match self.cpu.current {
            Some((cp, p)) if cp == proc => Wake::By(p),
            _ => match self.cpu.outside {
                Outside::Network => Wake::Netpoll,
                Outside::Timer => Wake::Timer,
                Outside::Syscall => {
                    let q = Queued { job, at: now };
                    match self.cpu.procs[proc].sched.exit_syscall() {
                        Some(p) => self.run_on(proc, p, q, s),
                        None => self.cpu.procs[proc].sched.yielded(q),
                    }
                    self.schedule_wakes(proc, None, s);
                    return;
                }
            },
        };
        self.cpu.procs[proc]
            .sched
            .ready(now, Queued { job, at: now }, wake);
        let waker = match wake {
            Wake::By(p) => Some(p),
            Wake::Netpoll | Wake::Timer => None,
        };
        self.schedule_wakes(proc, waker, s);
    }

    /// The goroutine whose burst just ended on `proc` is preempted (it ran 10 ms): it goes to
    /// the global queue, and its P takes the next.
    pub(super) fn preempt(&mut self, proc: ProcId, job: CpuJob, now: SimTime) {
        debug_assert!(matches!(self.cpu.held, Some((hp, _, hj)) if hp == proc && hj == job));
        self.cpu.procs[proc].sched.yielded(Queued { job, at: now });
    }

    /// Schedules the thread wake-ups and the sysmon look process `proc` asks for. The thread
    /// of P `waker`, when one of the process's own threads woke them (a futex wake), owes
    /// their cost while its host has an idle core for them.
    fn schedule_wakes(&mut self, proc: ProcId, waker: Option<PId>, s: &mut Scheduler<PackedEv>) {
        let pr = &mut self.cpu.procs[proc];
        let mut woken = 0u32;
        for (p, at) in pr.sched.take_wakes() {
            s.schedule_at(at, Ev::ThreadWake(proc, p));
            woken += 1;
        }
        if let Some(w) = waker {
            self.owe_wakes(proc, w, woken);
        }
        let pr = &mut self.cpu.procs[proc];
        if !pr.sysmon_pending {
            if let Some(at) = pr.sched.sysmon_due() {
                pr.sysmon_pending = true;
                s.schedule_at(at, Ev::Sysmon(proc));
            }
        }
    }

    /// The thread of P `p` of `proc` woke `n` sleeping threads: it owes `GoParams::wake` for
    /// each while its host has a core idle for them (with none, the woken thread waits in a
    /// busy core's queue and no idle CPU is woken).
    fn owe_wakes(&mut self, proc: ProcId, p: PId, n: u32) {
        if n == 0 || self.cpu.wake == SimDuration::ZERO {
            return;
        }
        let host = self.cpu.procs[proc].host;
        let cores = &self.cpu.cores[host];
        let idle = cores.capacity().saturating_sub(cores.busy());
        let paid = n.min(idle);
        self.cpu.procs[proc].ps[usize::from(p.0)].owed +=
            SimDuration(self.cpu.wake.0 * u64::from(paid));
    }

    /// The goroutine running now writes on a loopback connection to node `to`: if its process
    /// sleeps in the poller, the write wakes its thread, and the writer's thread owes it
    /// (the kernel wakes the reader inside `write(2)`).
    pub(super) fn loopback_write(&mut self, to: super::net::Node) {
        if self.cpu.wake == SimDuration::ZERO {
            return;
        }
        let Some((from, p)) = self.cpu.current else {
            return;
        };
        let to = self.node_proc(to);
        let receiver = &self.cpu.procs[to];
        if from != to && !receiver.paused && receiver.sched.netpoll_would_wake() {
            self.owe_wakes(from, p, 1);
        }
    }

    /// P `p` of `proc` is to run `job`: at once if it holds a core, else when the host gives
    /// it one.
    fn run_on(&mut self, proc: ProcId, p: PId, q: Queued, s: &mut Scheduler<PackedEv>) {
        let slot = &mut self.cpu.procs[proc].ps[usize::from(p.0)];
        slot.running = Some(q);
        if slot.core {
            self.start_burst(proc, p, q, s);
            return;
        }
        if self.woken_wants_core(proc, p, s.now()) {
            self.core_granted(proc, p, s);
        }
    }

    /// The thread of P `p` of `proc`, which has no core, woke from sleep and asks the host
    /// for one: ahead of the threads preempted while running if the OS places waking threads
    /// so (`os_wake_preempt`), else at the back. True if it got one at once.
    fn woken_wants_core(&mut self, proc: ProcId, p: PId, now: SimTime) -> bool {
        let host = self.cpu.procs[proc].host;
        let cores = &mut self.cpu.cores[host];
        let user = CoreUser::P(proc, p);
        if self.cpu.os_wake_preempt.is_some() {
            cores.acquire_ahead(now, user).is_some()
        } else {
            cores.acquire(now, user).is_some()
        }
    }

    /// P `p` of `proc` got a core: it runs the goroutine it holds, or spins, or goes on with
    /// the burst a pause cut; a paused process gives the core back at once.
    fn core_granted(&mut self, proc: ProcId, p: PId, s: &mut Scheduler<PackedEv>) {
        let now = s.now();
        let pr = &mut self.cpu.procs[proc];
        let paused = pr.paused;
        let slot = &mut pr.ps[usize::from(p.0)];
        slot.core = true;
        slot.core_since = now;
        if paused {
            slot.wants_core = true;
            self.release_core(proc, p, s);
            return;
        }
        if let Some(left) = slot.frozen.take() {
            slot.burst_no = slot.burst_no.wrapping_add(1);
            slot.burst_end = now + left;
            let burst_no = slot.burst_no;
            pr.busy += left;
            s.schedule_in(left, Ev::CpuDone(proc, p, burst_no));
            return;
        }
        if slot.spinning {
            self.spin_burst(proc, p, s);
            return;
        }
        let q = slot
            .running
            .expect("a P waits for a core with a goroutine to run");
        self.start_burst(proc, p, q, s);
    }

    /// P `p` of `proc`, holding a core, spins for `park` before it looks a last time.
    fn spin_burst(&mut self, proc: ProcId, p: PId, s: &mut Scheduler<PackedEv>) {
        let slot = &mut self.cpu.procs[proc].ps[usize::from(p.0)];
        let d = self.cpu.park + std::mem::take(&mut slot.owed);
        slot.spinning = true;
        self.runtime_burst(proc, p, d, s);
    }

    /// P `p` of `proc` spends `d` on its core in the runtime or the kernel, for no goroutine
    /// (a spin, or the wake-ups its thread owes); `cpu_done` follows.
    fn runtime_burst(&mut self, proc: ProcId, p: PId, d: SimDuration, s: &mut Scheduler<PackedEv>) {
        let pr = &mut self.cpu.procs[proc];
        let slot = &mut pr.ps[usize::from(p.0)];
        slot.burst_no = slot.burst_no.wrapping_add(1);
        slot.burst_end = s.now() + d;
        let burst_no = slot.burst_no;
        pr.busy += d;
        s.schedule_in(d, Ev::CpuDone(proc, p, burst_no));
    }

    /// The spin of P `p` of `proc` ended: it runs what it finds, or parks and gives its core
    /// back.
    fn spin_done(&mut self, proc: ProcId, p: PId, s: &mut Scheduler<PackedEv>) {
        self.cpu.procs[proc].ps[usize::from(p.0)].spinning = false;
        match self.cpu.procs[proc].sched.spun(s.now(), p) {
            Some(q) => self.start_burst(proc, p, q, s),
            None => self.release_core(proc, p, s),
        }
    }

    /// P `p` of `proc` found nothing to run: it spins (with its core, which it may first have
    /// to get), or, when spinning costs nothing, looks once more and parks.
    fn ran_dry(&mut self, proc: ProcId, p: PId, s: &mut Scheduler<PackedEv>) {
        if self.cpu.park == SimDuration::ZERO
            && self.cpu.procs[proc].ps[usize::from(p.0)].owed == SimDuration::ZERO
        {
            match self.cpu.procs[proc].sched.spun(s.now(), p) {
                Some(g) => self.run_on(proc, p, g, s),
                None => {
                    if self.cpu.procs[proc].ps[usize::from(p.0)].core {
                        self.release_core(proc, p, s);
                    }
                }
            }
            return;
        }
        let slot = &mut self.cpu.procs[proc].ps[usize::from(p.0)];
        slot.spinning = true;
        if slot.core {
            self.spin_burst(proc, p, s);
            return;
        }
        if self.woken_wants_core(proc, p, s.now()) {
            self.core_granted(proc, p, s);
        }
    }

    /// P `p` of `proc` gives its core back; the next waiting P, or the kernel, takes it.
    fn release_core(&mut self, proc: ProcId, p: PId, s: &mut Scheduler<PackedEv>) {
        self.cpu.procs[proc].ps[usize::from(p.0)].core = false;
        let host = self.cpu.procs[proc].host;
        self.core_freed(host, s);
    }

    /// One of `host`'s cores was given back: the next waiting user takes it.
    fn core_freed(&mut self, host: HostId, s: &mut Scheduler<PackedEv>) {
        match self.cpu.cores[host].release(s.now()) {
            Some((CoreUser::P(np, nq), _)) => {
                let prev = self.cpu.current.replace((np, nq));
                self.core_granted(np, nq, s);
                self.cpu.current = prev;
            }
            Some((CoreUser::Kernel(m, job, life), _)) => {
                s.schedule_in(self.p.fsync_cpu.kernel, Ev::FsyncKernelDone(m, job, life));
            }
            None => {}
        }
    }

    /// The kernel completes member `m`'s fdatasync `job` (the device is done): on a core of
    /// the member's host, at once if one is idle, else on the next one freed, ahead of every
    /// waiting thread.
    pub(super) fn kernel_fsync_work(
        &mut self,
        m: MemberId,
        job: DiskJob,
        life: Life,
        s: &mut Scheduler<PackedEv>,
    ) {
        let host = self.p.member_host[usize::from(m.0)];
        if self.cpu.cores[host]
            .acquire_urgent(s.now(), CoreUser::Kernel(m, job, life))
            .is_some()
        {
            s.schedule_in(self.p.fsync_cpu.kernel, Ev::FsyncKernelDone(m, job, life));
        }
    }

    /// The kernel finished completing member `m`'s fdatasync `job`: it gives its core back,
    /// and the call returns to its thread (a killed member's thread is gone).
    pub(super) fn kernel_fsync_done(
        &mut self,
        m: MemberId,
        job: DiskJob,
        life: Life,
        s: &mut Scheduler<PackedEv>,
    ) {
        let host = self.p.member_host[usize::from(m.0)];
        self.core_freed(host, s);
        if self.members[m].runs(life) {
            self.fsync_returned(m, job, s);
        }
    }

    /// P `p` of `proc` starts the burst of goroutine `q`, runnable since `q.at`.
    fn start_burst(&mut self, proc: ProcId, p: PId, q: Queued, s: &mut Scheduler<PackedEv>) {
        let job = q.job;
        let slot = &mut self.cpu.procs[proc].ps[usize::from(p.0)];
        slot.running = Some(q);
        if slot.owed > SimDuration::ZERO {
            // Its thread first finishes waking the threads it woke.
            let d = std::mem::take(&mut slot.owed);
            slot.paying = true;
            self.runtime_burst(proc, p, d, s);
            return;
        }
        let prev = self.cpu.current.replace((proc, p));
        let d = match job {
            CpuJob::Req(id) => self.req_cpu_start(id, s),
            CpuJob::RaftStep(..) => self.p.member_costs.raft_step.sample(&mut self.rng_cpu),
            CpuJob::Ready(m) => {
                self.ready_on_core(m, s) + self.p.member_costs.ready.sample(&mut self.rng_cpu)
            }
            CpuJob::Apply(m) => self.apply_cost(m),
            CpuJob::BackendCommit(m) => self.backend_commit_cost(m),
            CpuJob::ReadLoop(m) => {
                self.read_loop_on_core(m, s.now());
                self.p.member_costs.read_loop.sample(&mut self.rng_cpu)
            }
            CpuJob::StreamWrite(m, peer) => self.stream_write_cost(m, peer),
            CpuJob::StreamRead(m, peer) => self.stream_read_cost(m, peer),
            CpuJob::Producer => self.producer_cost(),
            CpuJob::GrpcRead(t) => self.grpc_cost(t, false, s.now()),
            CpuJob::GrpcWrite(t) => self.grpc_cost(t, true, s.now()),
            CpuJob::Compact(m) => self.compaction_cost(m),
        };
        self.cpu.current = prev;
        let pr = &mut self.cpu.procs[proc];
        pr.busy += d;
        let slot = &mut pr.ps[usize::from(p.0)];
        slot.burst_no = slot.burst_no.wrapping_add(1);
        slot.burst_end = s.now() + d;
        let burst_no = slot.burst_no;
        let kind = GoroutineKind::of(job, proc == self.client_proc());
        self.cpu.kinds[kind as usize].record(s.now() - q.at, d);
        s.schedule_in(d, Ev::CpuDone(proc, p, burst_no));
    }

    /// P `p` of `proc` finished its goroutine's burst: the goroutine goes on (readying others,
    /// or itself again); if it blocked, the P takes the next runnable goroutine.
    pub(super) fn cpu_done(
        &mut self,
        proc: ProcId,
        p: PId,
        burst_no: u32,
        s: &mut Scheduler<PackedEv>,
    ) {
        if self.cpu.procs[proc].ps[usize::from(p.0)].burst_no != burst_no {
            return; // A burst cut short: its process paused or crashed meanwhile.
        }
        if self.cpu.procs[proc].ps[usize::from(p.0)].spinning {
            self.spin_done(proc, p, s);
            self.schedule_wakes(proc, Some(p), s);
            return;
        }
        let slot = &mut self.cpu.procs[proc].ps[usize::from(p.0)];
        if std::mem::take(&mut slot.paying) {
            let q = slot
                .running
                .expect("a P pays for its wake-ups before a goroutine");
            self.start_burst(proc, p, q, s);
            self.schedule_wakes(proc, Some(p), s);
            return;
        }
        let job = self.cpu.procs[proc].ps[usize::from(p.0)]
            .running
            .take()
            .expect("a P finished a burst it was running")
            .job;
        let prev = self.cpu.current.replace((proc, p));
        self.cpu.held = Some((proc, p, job));
        match job {
            CpuJob::Req(id) => self.req_cpu_done(id, s),
            CpuJob::RaftStep(m, input) => self.raft_step_done(m, input, s),
            CpuJob::Ready(m) => self.ready_cpu_done(m, s),
            CpuJob::Apply(m) => self.apply_cpu_done(m, s),
            CpuJob::BackendCommit(m) => self.backend_commit_cpu_done(m, s),
            CpuJob::ReadLoop(m) => self.read_loop_done(m, s),
            CpuJob::StreamWrite(m, peer) => self.stream_write_done(m, peer, s),
            CpuJob::StreamRead(m, peer) => self.stream_read_done(m, peer, s),
            CpuJob::Producer => self.producer_done(s),
            CpuJob::GrpcRead(t) => self.grpc_read_done(t, s),
            CpuJob::GrpcWrite(t) => self.grpc_write_done(t, s),
            CpuJob::Compact(m) => self.compaction_cpu_done(m, s),
        }
        if self.cpu.held.take().is_some() {
            // It blocked: the P schedules.
            self.schedule_next(proc, p, s);
        }
        self.cpu.current = prev;
        self.schedule_wakes(proc, Some(p), s);
    }

    /// P `p` of `proc`, whose goroutine blocked, takes the next runnable goroutine, or goes
    /// idle and gives its core back. A P that has held its core for an OS slice while others
    /// wait for one goes to the back of the host's queue first.
    fn schedule_next(&mut self, proc: ProcId, p: PId, s: &mut Scheduler<PackedEv>) {
        let now = s.now();
        match self.cpu.procs[proc].sched.next(now, p) {
            Some(g) => {
                let host = self.cpu.procs[proc].host;
                let held = now - self.cpu.procs[proc].ps[usize::from(p.0)].core_since;
                let cores = &self.cpu.cores[host];
                // A woken thread waiting takes the core sooner than a preempted one.
                let yield_to_woken = self
                    .cpu
                    .os_wake_preempt
                    .is_some_and(|w| held >= w && cores.waiting_ahead() > 0);
                if cores.waiting() > 0 && (held >= self.cpu.os_slice || yield_to_woken) {
                    self.cpu.procs[proc].ps[usize::from(p.0)].running = Some(g);
                    self.release_core(proc, p, s);
                    if self.cpu.cores[host]
                        .acquire(now, CoreUser::P(proc, p))
                        .is_some()
                    {
                        self.core_granted(proc, p, s);
                    }
                } else {
                    self.start_burst(proc, p, g, s);
                }
            }
            None => self.ran_dry(proc, p, s),
        }
    }

    /// The thread of P `p` of `proc`, woken earlier, runs: it takes what it found.
    pub(super) fn thread_woken(&mut self, proc: ProcId, p: PId, s: &mut Scheduler<PackedEv>) {
        if self.cpu.procs[proc].paused {
            self.cpu.procs[proc].deferred_wakes.push(p);
            return;
        }
        match self.cpu.procs[proc].sched.woken(s.now(), p) {
            Some(g) => self.run_on(proc, p, g, s),
            None => self.ran_dry(proc, p, s),
        }
        self.schedule_wakes(proc, Some(p), s);
    }

    /// Process `proc`'s sysmon looks at the network poller.
    pub(super) fn sysmon(&mut self, proc: ProcId, s: &mut Scheduler<PackedEv>) {
        if self.cpu.procs[proc].paused {
            // Still pending: nothing schedules another look until this one has been taken.
            self.cpu.procs[proc].sysmon_deferred = true;
            return;
        }
        self.cpu.procs[proc].sysmon_pending = false;
        self.cpu.procs[proc].sched.sysmon(s.now());
        self.schedule_wakes(proc, None, s);
    }
}

impl EtcdModel {
    /// Whether process `proc` is stopped (paused or killed).
    pub(super) fn process_paused(&self, proc: ProcId) -> bool {
        self.cpu.procs[proc].paused
    }

    /// Process `proc` stops (SIGSTOP): every burst in flight is cut, keeping what it has left,
    /// and its core goes back to the host.
    pub(super) fn pause(&mut self, proc: ProcId, s: &mut Scheduler<PackedEv>) {
        let now = s.now();
        assert!(
            !self.cpu.procs[proc].paused,
            "a paused process is not paused again (pauses of one member are validated apart)"
        );
        debug_assert!(self.cpu.held.is_none() && self.cpu.current.is_none());
        self.cpu.procs[proc].paused = true;
        for i in 0..self.cpu.procs[proc].ps.len() {
            let pr = &mut self.cpu.procs[proc];
            let slot = &mut pr.ps[i];
            if !slot.core {
                continue; // Idle, or waiting for a core: `core_granted` holds it back.
            }
            // A P holds a core only while a burst or a spin is in flight.
            let left = slot.burst_end - now;
            slot.frozen = Some(left);
            slot.burst_no = slot.burst_no.wrapping_add(1);
            pr.busy = SimDuration(pr.busy.0.saturating_sub(left.0));
            self.release_core(proc, PId(i as u8), s);
        }
    }

    /// Process `proc` goes on (SIGCONT): its cut bursts and the Ps that were to get a core ask
    /// for one, and the thread wake-ups and sysmon's look that came meanwhile happen now.
    pub(super) fn resume(&mut self, proc: ProcId, s: &mut Scheduler<PackedEv>) {
        assert!(self.cpu.procs[proc].paused, "only a paused process resumes");
        self.cpu.procs[proc].paused = false;
        for i in 0..self.cpu.procs[proc].ps.len() {
            let slot = &mut self.cpu.procs[proc].ps[i];
            if slot.frozen.is_none() && !slot.wants_core {
                continue;
            }
            slot.wants_core = false;
            let p = PId(i as u8);
            // SIGCONT wakes the stopped threads.
            if self.woken_wants_core(proc, p, s.now()) {
                self.core_granted(proc, p, s);
            }
        }
        for p in std::mem::take(&mut self.cpu.procs[proc].deferred_wakes) {
            self.thread_woken(proc, p, s);
        }
        if std::mem::take(&mut self.cpu.procs[proc].sysmon_deferred) {
            self.sysmon(proc, s);
        }
        self.schedule_wakes(proc, None, s);
    }
}

/// A kind of goroutine, for the wait and burst statistics that `explain` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoroutineKind {
    /// A member's gRPC handler (a request).
    Handler,
    /// A client goroutine of the benchmark.
    Client,
    /// The benchmark's op producer.
    Producer,
    /// gRPC's transport reader on the client.
    ClientReader,
    /// gRPC's transport writer on the client.
    ClientWriter,
    /// gRPC's transport reader on a member.
    ServerReader,
    /// gRPC's transport writer on a member.
    ServerWriter,
    /// `linearizableReadLoop`.
    ReadLoop,
    /// The raft node goroutine.
    RaftNode,
    /// The Ready loop (`raftNode.start`).
    ReadyLoop,
    /// A rafthttp stream writer.
    StreamWriter,
    /// A rafthttp stream reader.
    StreamReader,
    /// The apply goroutine.
    Apply,
    /// The backend's commit.
    BackendCommit,
    /// The store's FIFO scheduler goroutine, compacting.
    Compactor,
}

impl GoroutineKind {
    /// How many kinds.
    pub const COUNT: usize = 15;
    /// Every kind, in declaration order.
    pub const ALL: [GoroutineKind; GoroutineKind::COUNT] = [
        GoroutineKind::Handler,
        GoroutineKind::Client,
        GoroutineKind::Producer,
        GoroutineKind::ClientReader,
        GoroutineKind::ClientWriter,
        GoroutineKind::ServerReader,
        GoroutineKind::ServerWriter,
        GoroutineKind::ReadLoop,
        GoroutineKind::RaftNode,
        GoroutineKind::ReadyLoop,
        GoroutineKind::StreamWriter,
        GoroutineKind::StreamReader,
        GoroutineKind::Apply,
        GoroutineKind::BackendCommit,
        GoroutineKind::Compactor,
    ];

    fn of(job: CpuJob, on_client: bool) -> GoroutineKind {
        use super::event::End;
        match job {
            CpuJob::Req(_) if on_client => GoroutineKind::Client,
            CpuJob::Req(_) => GoroutineKind::Handler,
            CpuJob::Producer => GoroutineKind::Producer,
            CpuJob::GrpcRead(t) if t.end == End::Client => GoroutineKind::ClientReader,
            CpuJob::GrpcWrite(t) if t.end == End::Client => GoroutineKind::ClientWriter,
            CpuJob::GrpcRead(_) => GoroutineKind::ServerReader,
            CpuJob::GrpcWrite(_) => GoroutineKind::ServerWriter,
            CpuJob::ReadLoop(_) => GoroutineKind::ReadLoop,
            CpuJob::RaftStep(..) => GoroutineKind::RaftNode,
            CpuJob::Ready(_) => GoroutineKind::ReadyLoop,
            CpuJob::StreamWrite(..) => GoroutineKind::StreamWriter,
            CpuJob::StreamRead(..) => GoroutineKind::StreamReader,
            CpuJob::Apply(_) => GoroutineKind::Apply,
            CpuJob::BackendCommit(_) => GoroutineKind::BackendCommit,
            CpuJob::Compact(_) => GoroutineKind::Compactor,
        }
    }

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            GoroutineKind::Handler => "grpc handler",
            GoroutineKind::Client => "client",
            GoroutineKind::Producer => "op producer",
            GoroutineKind::ClientReader => "client transport reader",
            GoroutineKind::ClientWriter => "client transport writer",
            GoroutineKind::ServerReader => "member transport reader",
            GoroutineKind::ServerWriter => "member transport writer",
            GoroutineKind::ReadLoop => "linearizableReadLoop",
            GoroutineKind::RaftNode => "raft node",
            GoroutineKind::ReadyLoop => "raftNode.start (Ready)",
            GoroutineKind::StreamWriter => "rafthttp stream writer",
            GoroutineKind::StreamReader => "rafthttp stream reader",
            GoroutineKind::Apply => "apply",
            GoroutineKind::BackendCommit => "backend commit",
            GoroutineKind::Compactor => "compactor (store FIFO scheduler)",
        }
    }
}

/// One kind's bursts, their CPU and the waits before them.
#[derive(Debug, Clone, Copy, Default)]
struct KindStats {
    bursts: u64,
    wait_ns: u128,
    cpu_ns: u128,
}

impl KindStats {
    fn record(&mut self, wait: SimDuration, burst: SimDuration) {
        self.bursts += 1;
        self.wait_ns += u128::from(wait.0);
        self.cpu_ns += u128::from(burst.0);
    }
}

/// What one kind of goroutine did in a run: bursts, and the mean wait for a P before one (zero
/// when the goroutine went straight on) and the mean burst.
#[derive(Debug, Clone, PartialEq)]
pub struct GoroutineStats {
    /// The kind.
    pub kind: GoroutineKind,
    /// Bursts run.
    pub bursts: u64,
    /// Mean time from runnable to running, in ns.
    pub mean_wait_ns: f64,
    /// Mean burst, in ns.
    pub mean_burst_ns: f64,
}

/// Whether two jobs are bursts of the same goroutine: the raft node goroutine steps every
/// input; every other job is its own goroutine's.
fn same_goroutine(a: CpuJob, b: CpuJob) -> bool {
    match (a, b) {
        (CpuJob::RaftStep(m, _), CpuJob::RaftStep(n, _)) => m == n,
        _ => a == b,
    }
}

/// Go's scheduler preempts a goroutine that has run 10 ms (`forcePreemptNS`, sysmon's
/// `retake`).
pub const GO_PREEMPT: SimDuration = SimDuration(10_000_000);
