//! Cores: every goroutine on a host shares the host's cores, one FIFO queue of runnable work
//! in front of them.
//!
//! Two rules of Go's scheduler (`runtime/proc.go`) are kept:
//! - a goroutine runs until it blocks: a request that finishes one CPU phase and goes straight
//!   on with another keeps its core (the core is *held* while the request decides what comes
//!   next), and only bcrypt yields, every 10 ms, as Go preempts it;
//! - a goroutine readied by the running one (a channel send, a timer, an unlock) takes the
//!   processor's `runnext` slot: the raft, Ready, apply and backend goroutines, and a request
//!   woken by a lock grant, go ahead of queued request work, without preempting it.

use super::EtcdModel;
use super::event::{CpuJob, Ev, PackedEv};
use super::ids::{HostId, IdVec, ReqId};
use super::stage::Stage;
use crate::engine::{Scheduler, Servers, SimDuration, SimTime};

/// The cores of every host, and who holds or is handed one.
pub struct Cpus {
    cores: IdVec<HostId, Servers<CpuJob>>,
    /// A request that has just finished a CPU phase on this host and still holds its core
    /// while it decides what comes next.
    held: Option<(HostId, ReqId)>,
    /// A request whose goroutine a lock grant is waking: its next CPU phase runs next.
    woken: Option<ReqId>,
}

impl Cpus {
    /// Idle hosts with `cores[h]` cores each.
    pub fn new(cores: impl Iterator<Item = u32>) -> Cpus {
        Cpus {
            cores: cores.map(|c| Servers::new(c, SimTime::ZERO)).collect(),
            held: None,
            woken: None,
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
    }

    /// Marks request `id` as woken by a lock grant until [`Cpus::grant_handled`]: its next CPU
    /// phase takes `runnext` (see the module docs).
    pub fn woken_by_grant(&mut self, id: ReqId) {
        self.woken = Some(id);
    }

    /// The grant's wake-up is over.
    pub fn grant_handled(&mut self) {
        self.woken = None;
    }
}

impl EtcdModel {
    /// Occupies a core of `host` with `job`, or queues it.
    pub(super) fn cpu(&mut self, host: HostId, job: CpuJob, s: &mut Scheduler<PackedEv>) {
        if let (CpuJob::Req(id), Some((h, held))) = (job, self.cpu.held) {
            if h == host && held == id {
                self.cpu.held = None;
                self.start_cpu(host, job, s);
                return;
            }
        }
        if let CpuJob::Req(id) = job {
            let q = if host == self.p.client_host && self.reqs[id].on_client() {
                Stage::ClientQueue
            } else {
                Stage::CpuQueue
            };
            self.enter(id, q, s.now());
        }
        let cores = &mut self.cpu.cores[host];
        let granted = match job {
            CpuJob::Req(id) if self.cpu.woken != Some(id) => cores.acquire(s.now(), job),
            _ => cores.acquire_urgent(s.now(), job),
        };
        if let Some(job) = granted {
            self.start_cpu(host, job, s);
        }
    }

    /// A core of `host` starts `job`.
    fn start_cpu(&mut self, host: HostId, job: CpuJob, s: &mut Scheduler<PackedEv>) {
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
        s.schedule_in(d, Ev::CpuDone(host, job));
    }

    /// A core of `host` finished `job`.
    pub(super) fn cpu_done(&mut self, host: HostId, job: CpuJob, s: &mut Scheduler<PackedEv>) {
        if let CpuJob::Req(id) = job {
            // The request keeps the core while it decides what comes next; if that is more CPU
            // work on this host, `cpu` takes the held core over.
            self.cpu.held = Some((host, id));
            self.req_cpu_done(id, s);
            if self.cpu.held.take().is_none() {
                return;
            }
        }
        if let Some((next, _)) = self.cpu.cores[host].release(s.now()) {
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

    /// The goroutine of request `id` is preempted: it gives its core to the next in line and
    /// queues again at the back.
    pub(super) fn yield_core(&mut self, host: HostId, id: ReqId, s: &mut Scheduler<PackedEv>) {
        if self.cpu.held == Some((host, id)) {
            self.cpu.held = None;
            if let Some((next, _)) = self.cpu.cores[host].release(s.now()) {
                self.start_cpu(host, next, s);
            }
        }
        self.cpu(host, CpuJob::Req(id), s);
    }
}

/// Go's scheduler preempts a goroutine that has run 10 ms (`forcePreemptNS`, sysmon's
/// `retake`).
pub const GO_PREEMPT: SimDuration = SimDuration(10_000_000);
