//! A range request's phases, on the client and on the serving member, and the accounting that
//! charges every nanosecond of its latency to one [`Stage`].
//!
//! Client: benchmark loop (outside the latency) → build and send → network → member:
//! gRPC receive → [linearizable: ReadIndex round and apply wait] → token check (simple token
//! under its mutex, or JWT) → RBAC check (under the lock the version takes) → treeIndex walk,
//! value fetch, response encoding → network → client decodes the response. The order is
//! `EtcdServer.Range`'s: `linearizableReadNotify` first, then `doSerialize` (auth info, the
//! permission check, the range), so a released batch meets the auth locks all at once.

use super::net::{Msg, MsgKind, Node};
use super::{
    AuthMode, Consistency, CpuJob, EtcdModel, Ev, Mechanisms, MemberCosts, MemberId, RangeOp,
    RbacLock, Stage,
};
use crate::engine::rng::SimRng;
use crate::engine::{Scheduler, SimDuration, SimTime};

/// Where a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The benchmark loop's own work, before the latency clock starts.
    ClientLoop,
    /// clientv3 builds and sends the request.
    ClientSend,
    /// On the way to the member.
    ToMember,
    /// gRPC receive and decode.
    MemberRecv,
    /// Waiting for, then holding, the simple-token mutex.
    TokenCheck,
    /// JWT verification.
    JwtCheck,
    /// In the member's read loop.
    ReadIndex,
    /// The RBAC check, under its lock if the version takes one.
    Rbac,
    /// Index walk, value fetch and response encoding.
    Mvcc,
    /// On the way back.
    ToClient,
    /// clientv3 decodes the response.
    ClientRecv,
}

/// A request in flight.
#[derive(Debug, Clone)]
pub struct Req {
    pub seq: u64,
    pub kind: super::OpKind,
    pub client: u32,
    pub member: MemberId,
    pub phase: Phase,
    pub failed: bool,
    pub measured: bool,
    pub started: bool,
    pub start: SimTime,
    stage: Stage,
    mark: SimTime,
    stages: [u64; Stage::COUNT],
    split: [SimDuration; 3],
}

impl Req {
    pub fn new(
        seq: u64,
        kind: super::OpKind,
        client: u32,
        member: MemberId,
        measured: bool,
    ) -> Req {
        Req {
            seq,
            kind,
            client,
            member,
            phase: Phase::ClientLoop,
            failed: false,
            measured,
            started: false,
            start: SimTime::ZERO,
            stage: Stage::Client,
            mark: SimTime::ZERO,
            stages: [0; Stage::COUNT],
            split: [SimDuration::ZERO; 3],
        }
    }

    /// Starts the latency clock: the benchmark's `st := time.Now()`.
    pub fn begin(&mut self, now: SimTime) {
        self.started = true;
        self.start = now;
        self.mark = now;
        self.stage = Stage::Client;
        self.phase = Phase::ClientSend;
    }

    /// Whether the request's current phase runs on the client.
    pub fn on_client(&self) -> bool {
        matches!(
            self.phase,
            Phase::ClientLoop | Phase::ClientSend | Phase::ClientRecv
        )
    }
}

impl EtcdModel {
    /// Charges the time since the last transition to the current stage and enters `stage`.
    #[inline]
    pub(super) fn enter(&mut self, id: u32, stage: Stage, now: SimTime) {
        let r = &mut self.reqs[id as usize];
        if r.started {
            r.stages[r.stage as usize] += (now - r.mark).0;
            if r.seq < self.trace_limit && now > r.mark {
                self.spans.push(super::Span {
                    seq: r.seq,
                    member: r.member,
                    stage: r.stage,
                    start_ns: r.mark.0,
                    end_ns: now.0,
                    toward_client: r.stage == Stage::NetResponse
                        || (r.stage == Stage::NicQueue && stage == Stage::NetResponse),
                });
            }
            r.mark = now;
            r.stage = stage;
        }
    }

    /// A core starts the current phase of request `id`: returns how long it runs and enters the
    /// phase's service stage.
    pub(super) fn req_cpu_start(&mut self, id: u32, now: SimTime) -> SimDuration {
        let phase = self.reqs[id as usize].phase;
        let req_bytes = f64::from(self.request_bytes());
        let resp_bytes = self.response_bytes(id);
        let rng = &mut self.rng_cpu;
        let mc = &self.p.member_costs;
        let cc = &self.p.client_costs;
        let (stage, d) = match phase {
            Phase::ClientLoop => (Stage::Client, cc.loop_cost.sample(rng)),
            Phase::ClientSend => (Stage::Client, cc.request.sample(rng)),
            Phase::ClientRecv => {
                let per = ns(cc.response_ns_per_byte * f64::from(resp_bytes));
                (Stage::Client, cc.response.sample(rng) + per)
            }
            Phase::MemberRecv => {
                let per = ns(mc.grpc_ns_per_byte * req_bytes);
                (Stage::Grpc, mc.grpc_request.sample(rng) + per)
            }
            Phase::TokenCheck => (Stage::Auth, mc.auth_simple_token.sample(rng)),
            Phase::JwtCheck => (Stage::Auth, mc.auth_jwt.sample(rng)),
            Phase::Rbac => {
                let rules = f64::from(self.w.rbac_rules.max(1)).log2();
                let extra = ns(mc.rbac_us_per_log2_rule * rules * 1e3);
                (Stage::Auth, mc.rbac.sample(rng) + extra)
            }
            Phase::Mvcc => {
                let split = mvcc_costs(mc, &self.p.mechanisms, &self.w.range, resp_bytes, rng);
                self.reqs[id as usize].split = split;
                (Stage::Index, split[0] + split[1] + split[2])
            }
            Phase::ToMember | Phase::ReadIndex | Phase::ToClient => {
                unreachable!("phase {phase:?} does not run on a core")
            }
        };
        if phase != Phase::ClientLoop {
            self.enter(id, stage, now);
        }
        d
    }

    pub(super) fn request_bytes(&self) -> u32 {
        self.p.sizes.request_overhead + self.w.range.key_bytes
    }

    pub(super) fn response_bytes(&self, id: u32) -> u32 {
        let op = &self.w.range;
        if self.reqs[id as usize].failed {
            return self.p.sizes.response_overhead;
        }
        let n = if op.count_only {
            0
        } else if op.limit == 0 {
            op.keys_in_range
        } else {
            op.limit.min(op.keys_in_range)
        };
        let per = u64::from(op.key_bytes)
            + u64::from(op.value_bytes)
            + u64::from(self.p.sizes.per_kv_overhead);
        let total = u64::from(self.p.sizes.response_overhead) + n * per;
        u32::try_from(total).unwrap_or(u32::MAX)
    }

    /// A core finished the current phase of request `id`.
    pub(super) fn req_cpu_done(&mut self, id: u32, s: &mut Scheduler<Ev>) {
        let now = s.now();
        let r = &mut self.reqs[id as usize];
        match r.phase {
            Phase::ClientLoop => {
                r.begin(now);
                let host = self.p.client_host;
                self.cpu(host, CpuJob::Req(id), s);
            }
            Phase::ClientSend => {
                r.phase = Phase::ToMember;
                let to = Node::Member(r.member);
                let bytes = self.request_bytes();
                let msg = Msg {
                    from_host: self.p.client_host as u16,
                    to,
                    kind: MsgKind::Request(id),
                    bytes,
                };
                self.send(msg, s);
            }
            Phase::MemberRecv => self.after_grpc(id, s),
            Phase::TokenCheck => {
                let m = usize::from(r.member);
                self.release_lock(m, LockKind::Token, s);
                self.after_token(id, s);
            }
            Phase::JwtCheck => self.after_token(id, s),
            Phase::Rbac => {
                let m = usize::from(r.member);
                if let Some(lock) = self.rbac_lock() {
                    self.release_lock(m, lock, s);
                }
                self.start_mvcc(id, s);
            }
            Phase::Mvcc => {
                // Split the core's time into the three stages it covered.
                let split = r.split;
                let mut t = r.mark.0;
                for (st, d) in [
                    (Stage::Index, split[0]),
                    (Stage::Value, split[1]),
                    (Stage::Grpc, split[2]),
                ] {
                    r.stages[st as usize] += d.0;
                    if r.seq < self.trace_limit && d.0 > 0 {
                        let span = super::Span {
                            seq: r.seq,
                            member: r.member,
                            stage: st,
                            start_ns: t,
                            end_ns: t + d.0,
                            toward_client: false,
                        };
                        self.spans.push(span);
                    }
                    t += d.0;
                }
                r.mark = now;
                self.respond(id, s);
            }
            Phase::ClientRecv => self.complete(id, s),
            Phase::ToMember | Phase::ReadIndex | Phase::ToClient => {
                unreachable!("phase does not run on a core")
            }
        }
    }

    /// The request reaches its member: gRPC receive.
    pub(super) fn request_at_member(&mut self, id: u32, s: &mut Scheduler<Ev>) {
        let r = &mut self.reqs[id as usize];
        r.phase = Phase::MemberRecv;
        let host = self.members[usize::from(r.member)].host;
        self.cpu(host, CpuJob::Req(id), s);
    }

    fn after_grpc(&mut self, id: u32, s: &mut Scheduler<Ev>) {
        let m = self.reqs[id as usize].member;
        // Learners serve only serializable reads ("rpc not supported for learner").
        if !self.p.is_voter(m) && self.w.range.consistency == Consistency::Linearizable {
            self.reqs[id as usize].failed = true;
            self.respond(id, s);
            return;
        }
        if self.w.range.consistency == Consistency::Linearizable {
            self.reqs[id as usize].phase = Phase::ReadIndex;
            self.read_loop_join(m, id, s);
        } else {
            self.after_read_index(id, s);
        }
    }

    /// The read index is confirmed and applied (or the read is serializable): `doSerialize`,
    /// i.e. the token check, the RBAC check, then MVCC.
    pub(super) fn after_read_index(&mut self, id: u32, s: &mut Scheduler<Ev>) {
        let m = self.reqs[id as usize].member;
        let host = self.members[usize::from(m)].host;
        match self.w.auth {
            AuthMode::SimpleToken => {
                self.reqs[id as usize].phase = Phase::TokenCheck;
                self.acquire_lock(id, usize::from(m), LockKind::Token, s);
            }
            AuthMode::Jwt => {
                self.reqs[id as usize].phase = Phase::JwtCheck;
                self.cpu(host, CpuJob::Req(id), s);
            }
            AuthMode::Cert => self.after_token(id, s),
            AuthMode::None => self.start_mvcc(id, s),
        }
    }

    /// The token is valid (or the user came from a certificate): the RBAC permission check.
    fn after_token(&mut self, id: u32, s: &mut Scheduler<Ev>) {
        let r = &mut self.reqs[id as usize];
        r.phase = Phase::Rbac;
        let m = usize::from(r.member);
        match self.rbac_lock() {
            Some(lock) => self.acquire_lock(id, m, lock, s),
            None => self.cpu(self.members[m].host, CpuJob::Req(id), s),
        }
    }

    fn rbac_lock(&self) -> Option<LockKind> {
        match self.p.mechanisms.rbac_lock {
            RbacLock::BatchTx => Some(LockKind::BatchTx),
            RbacLock::ReadTxExclusive => Some(LockKind::ReadTx),
            RbacLock::Shared => None,
        }
    }

    fn start_mvcc(&mut self, id: u32, s: &mut Scheduler<Ev>) {
        let r = &mut self.reqs[id as usize];
        r.phase = Phase::Mvcc;
        let host = self.members[usize::from(r.member)].host;
        self.cpu(host, CpuJob::Req(id), s);
    }

    fn respond(&mut self, id: u32, s: &mut Scheduler<Ev>) {
        let r = &mut self.reqs[id as usize];
        r.phase = Phase::ToClient;
        let from_host = self.members[usize::from(r.member)].host as u16;
        let bytes = self.response_bytes(id);
        let msg = Msg {
            from_host,
            to: Node::Client,
            kind: MsgKind::Response(id),
            bytes,
        };
        self.send(msg, s);
    }

    /// The response reaches the client: clientv3 decodes it.
    pub(super) fn response_at_client(&mut self, id: u32, s: &mut Scheduler<Ev>) {
        self.reqs[id as usize].phase = Phase::ClientRecv;
        let host = self.p.client_host;
        self.cpu(host, CpuJob::Req(id), s);
    }

    /// The request is done: record it and free its slot.
    fn complete(&mut self, id: u32, s: &mut Scheduler<Ev>) {
        let now = s.now();
        self.enter(id, Stage::Client, now);
        let r = &self.reqs[id as usize];
        let latency = (now - r.start).0;
        if r.measured {
            if r.stages.iter().sum::<u64>() != latency {
                self.m.stage_sum_mismatches += 1;
            }
            let om = &mut self.m.ops[r.kind as usize];
            if r.failed {
                om.failed += 1;
            } else {
                om.completed += 1;
                om.latency.record(latency);
                om.latency_w.push(latency as f64);
                for (i, &ns) in r.stages.iter().enumerate() {
                    om.stage_sum_ns[i] += u128::from(ns);
                    om.stage_hist[i].record(ns);
                }
            }
            self.m.last_end = now;
        }
        if self.records.len() < self.record_limit {
            self.records.push(super::RequestRecord {
                seq: r.seq,
                member: r.member,
                start_ns: r.start.0,
                end_ns: now.0,
                failed: r.failed,
                stages_ns: r.stages,
            });
        }
        let client = r.client;
        self.done += 1;
        self.free.push(id);
        if self.done >= self.w.total {
            s.stop();
            return;
        }
        self.client_finished(client, s);
    }

    fn acquire_lock(&mut self, id: u32, m: usize, lock: LockKind, s: &mut Scheduler<Ev>) {
        self.enter(id, Stage::LockWait, s.now());
        let granted = self.lock_mut(m, lock).acquire(s.now(), id);
        if let Some(id) = granted {
            let host = self.members[m].host;
            self.cpu(host, CpuJob::Req(id), s);
        }
    }

    fn release_lock(&mut self, m: usize, lock: LockKind, s: &mut Scheduler<Ev>) {
        if let Some((next, _)) = self.lock_mut(m, lock).release(s.now()) {
            let host = self.members[m].host;
            self.cpu(host, CpuJob::Req(next), s);
        }
    }

    fn lock_mut(&mut self, m: usize, lock: LockKind) -> &mut crate::engine::Servers<u32> {
        let mem = &mut self.members[m];
        match lock {
            LockKind::Token => &mut mem.token_mu,
            LockKind::BatchTx => &mut mem.batch_tx,
            LockKind::ReadTx => &mut mem.read_tx,
        }
    }
}

/// The mutexes a read can take.
#[derive(Debug, Clone, Copy)]
enum LockKind {
    Token,
    BatchTx,
    ReadTx,
}

fn ns(x: f64) -> SimDuration {
    SimDuration::from_nanos_f64(x)
}

/// Index walk, value fetch and response encoding of one range, by the version's semantics.
fn mvcc_costs(
    c: &MemberCosts,
    mech: &Mechanisms,
    op: &RangeOp,
    resp_bytes: u32,
    rng: &mut SimRng,
) -> [SimDuration; 3] {
    let range = op.keys_in_range;
    let limited = if op.limit == 0 {
        range
    } else {
        op.limit.min(range)
    };
    // Revisions collected into the result slice: v3.4 collects the whole range (limit applies
    // only when values are fetched); v3.5 pushes limit into the walk and counts count-only
    // ranges without collecting (the walk itself still visits the whole range).
    let collected = match (op.count_only, mech.count_revisions, mech.limit_pushdown) {
        (true, true, _) => 0,
        (true, false, _) | (false, _, false) => range,
        (false, _, true) => limited,
    };
    let fetched = if op.count_only { 0 } else { limited };
    let kv_bytes = u64::from(op.key_bytes) + u64::from(op.value_bytes);
    let depth = (op.total_keys.max(1) as f64).log2();
    let index = c.index.sample(rng)
        + ns(c.index_us_per_log2_key * depth * 1e3
            + c.index_visit_ns_per_key * range as f64
            + c.index_collect_ns_per_key * collected as f64);
    let value = c.value.sample(rng)
        + ns(
            c.value_ns_per_key * fetched as f64 + c.value_ns_per_byte * (fetched * kv_bytes) as f64
        );
    let encode = c.grpc_response.sample(rng) + ns(c.grpc_ns_per_byte * f64::from(resp_bytes));
    [index, value, encode]
}
