//! A call that fails with gRPC's Unavailable, as clientv3 3.4 handles it, and the member kill
//! that makes calls fail so.
//!
//! - **Which calls retry** (`clientv3/retry.go`, `retry_interceptor.go`): a range is
//!   "repeatable", so every Unavailable is retried (`isSafeRetryImmutableRPC`), in up to 100
//!   calls (`defaultUnaryMaxRetries`) and within the call's deadline; a put is not (it is
//!   retried only when it never left the client), so it fails.
//! - **The backoff** (`roundRobinQuorumBackoff`): 25 ms with ±10% jitter on every attempt that is
//!   a multiple of the client's endpoints' quorum, none on the others; with one endpoint per
//!   client, as etcd's benchmark gives, on every attempt.
//! - **Where a retry goes**: the balancer's next pick. A pinned client (the benchmark's) picks
//!   its one endpoint again; round-robin skips a member whose connection is down.
//! - **Waiting for a connection**: clientv3's calls do not fail fast (`grpc.FailFast(false)`),
//!   so a call whose endpoint is down waits for it to come back, or for its deadline.
//! - **A killed member**'s connections are reset at once (loopback answers with RST): every
//!   call it holds fails with Unavailable at its client. What the member held stays where it
//!   is, never to run again, so each such call moves to a new request slot and the old one is
//!   left behind, abandoned.

use super::super::EtcdModel;
use super::super::event::{CpuJob, Ev, PackedEv};
use super::super::ids::{Id, MemberId, ReqId};
use super::super::params::{Balancer, EndpointPolicy};
use super::super::result::OpKind;
use super::super::stage::Stage;
use super::Phase;
use crate::engine::{Scheduler, SimDuration, SimTime};
use rand::Rng;

/// `defaultUnaryMaxRetries`: the calls an RPC makes in all (`attempt < max`), so 99 retries.
const MAX_CALLS: u16 = 100;
/// `defaultBackoffWaitBetween`.
const BACKOFF: SimDuration = SimDuration(25_000_000);
/// `defaultBackoffJitterFraction`.
const BACKOFF_JITTER: f64 = 0.10;

impl EtcdModel {
    /// Read `id` waited in a read loop whose round failed with `ErrLeaderChanged`: the member
    /// answers with the error.
    pub(in super::super) fn read_failed_unavailable(
        &mut self,
        id: ReqId,
        s: &mut Scheduler<PackedEv>,
    ) {
        let r = &mut self.reqs[id];
        r.failed = true;
        r.unavailable = true;
        self.respond(id, s);
    }

    /// The client got Unavailable for call `id`: it retries after the backoff, or the call
    /// fails (a put; or the retries are used up).
    pub(super) fn unavailable_at_client(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let r = &self.reqs[id];
        if r.kind == OpKind::Write || r.attempt + 1 >= MAX_CALLS {
            self.reqs[id].unavailable = false;
            self.reqs[id].failed = true;
            self.reqs[id].phase = Phase::ClientRecv;
            self.complete(id, s);
            return;
        }
        let endpoints = match self.w.policy {
            EndpointPolicy::Client(Balancer::RoundRobin) => self.w.endpoints.len(),
            EndpointPolicy::PerConnection | EndpointPolicy::Client(Balancer::Pinned) => 1,
        } as u16;
        let quorum = endpoints / 2 + 1;
        self.enter(id, Stage::Retry, s.now());
        let r = &mut self.reqs[id];
        r.attempt += 1;
        r.unavailable = false;
        r.failed = false;
        r.phase = Phase::Backoff;
        self.retries += 1;
        let wait = if r.attempt % quorum == 0 {
            let j = BACKOFF_JITTER * (self.rng_retry.random::<f64>() * 2.0 - 1.0);
            SimDuration::from_nanos_f64(BACKOFF.0 as f64 * (1.0 + j))
        } else {
            SimDuration::ZERO
        };
        let at = s.now() + wait;
        self.reqs[id].retry_at = Some(at);
        s.schedule_at(at, Ev::ClientTimer(id));
    }

    /// A client timer of request `id` fired: its retry's backoff is over, or its deadline has
    /// come.
    pub(in super::super) fn client_timer(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let now = s.now();
        let r = &mut self.reqs[id];
        if !matches!(r.phase, Phase::Backoff | Phase::ConnReset) || r.retry_at != Some(now) {
            self.deadline_passed(id, s);
            return;
        }
        r.retry_at = None;
        if r.phase == Phase::ConnReset && !r.abandoned {
            self.unavailable_at_client(id, s);
            return;
        }
        if r.abandoned {
            // Its deadline passed during the backoff: nothing refers to it any more.
            self.abandoned_live -= 1;
            self.reqs.free(id);
            return;
        }
        let conn = r.conn;
        let member = self.pick_live_member(conn);
        let r = &mut self.reqs[id];
        r.member = member;
        r.phase = Phase::ClientSend;
        self.go(self.client_proc(), CpuJob::Req(id), s);
    }

    /// Call `id` is to be sent on a subconnection that is down: it waits for one to be ready
    /// (`subconn.rs`), or for its deadline. Returns whether it waits.
    pub(super) fn wait_for_ready(&mut self, id: ReqId, now: SimTime) -> bool {
        let (m, conn) = (self.reqs[id].member, self.reqs[id].conn);
        if self.subconns.ready(conn, m) {
            return false;
        }
        let alt = self.pick_live_member(conn);
        if self.subconns.ready(conn, alt) {
            self.reqs[id].member = alt;
            return false;
        }
        self.reqs[id].phase = Phase::WaitReady;
        self.enter(id, Stage::Retry, now);
        true
    }

    /// Request `id` reached a killed member: its connection was reset.
    pub(in super::super) fn connection_reset(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        if self.reqs[id].abandoned {
            self.abandoned_live -= 1;
            self.reqs.free(id);
            return;
        }
        self.unavailable_at_client(id, s);
    }

    /// Member `m` is killed (SIGKILL): its process does not run again (a restart starts a new
    /// one, `restart.rs`), every call it holds fails with Unavailable at its client (see the
    /// module doc), and its clients' subconnections to it are lost.
    pub(in super::super) fn kill(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mem = &mut self.members[m];
        mem.dead = true;
        mem.listening = false;
        mem.serving = false;
        // A defragmentation in progress goes with the process (its locks with its parts).
        self.defrags[m.index()] = super::super::timeline::Defrag::Idle;
        self.pause(self.member_proc(m), s);
        self.subconns_lost(m, s);
        let held: Vec<ReqId> = self
            .reqs
            .live_ids()
            .filter(|&id| {
                let r = &self.reqs[id];
                r.member == m
                    && !r.abandoned
                    && !matches!(
                        r.phase,
                        Phase::ClientLoop
                            | Phase::ClientSend
                            | Phase::ToMember
                            | Phase::Backoff
                            | Phase::WaitReady
                            | Phase::ConnReset
                            | Phase::ClientRecv
                    )
            })
            .collect();
        let now = s.now();
        for old in held {
            let mut r = self.reqs[old].clone();
            self.reqs[old].abandoned = true;
            self.abandoned_live += 1;
            r.failed = false;
            r.unavailable = false;
            let deadline = r.deadline;
            let ahead = r.charged_to();
            let id = self.reqs.insert(r);
            if let Some(at) = deadline {
                s.schedule_at(at, Ev::ClientTimer(id));
            }
            if ahead > now {
                // Its time is charged ahead to the end of a core's work (the index walk's
                // job): the reset reaches the client then, a few microseconds on.
                let r = &mut self.reqs[id];
                r.phase = Phase::ConnReset;
                r.retry_at = Some(ahead);
                s.schedule_at(ahead, Ev::ClientTimer(id));
            } else {
                self.unavailable_at_client(id, s);
            }
        }
    }

    /// The member a new attempt on `conn` goes to: the balancer's pick, skipping members whose
    /// subconnection is down when it can choose (round-robin).
    pub(in super::super) fn pick_live_member(
        &mut self,
        conn: super::super::ids::ConnId,
    ) -> MemberId {
        let n = self.w.endpoints.len().max(1);
        let mut m = self.pick_member(conn);
        if matches!(self.w.policy, EndpointPolicy::Client(Balancer::RoundRobin)) {
            for _ in 1..n {
                if self.subconns.ready(conn, m) {
                    break;
                }
                m = self.pick_member(conn);
            }
        }
        m
    }
}
