//! A request's phases, on the client and on the serving member, and the accounting that
//! charges every nanosecond of its latency to one [`Stage`].
//!
//! A range: benchmark loop (outside the latency) → build and send → network → member: gRPC
//! receive → [linearizable: ReadIndex round and apply wait] → token check (simple token under
//! its mutex, or JWT) → RBAC check (under the lock the version takes) → open a read
//! transaction (under the read-tx lock; before 3.4 it is held to the end) → treeIndex walk
//! (under the index read lock) → value fetch and response encoding → network → client. The
//! order is `EtcdServer.Range`'s: `linearizableReadNotify` first, then `doSerialize` (auth
//! info, the permission check, the range), so a released batch meets the auth locks at once.
//!
//! A put: the same way in, then the size and apply-lag checks, the token check, the proposal,
//! replication and commit, apply on the member (see `write.rs`), and the response.

use super::net::{Msg, MsgKind, Node};
use super::write::LockJob;
use super::{
    AuthMode, Consistency, CpuJob, EtcdModel, Mechanisms, MemberCosts, MemberId, OpKind, PackedEv,
    RangeOp, RbacLock, Stage,
};
use crate::engine::rng::SimRng;
use crate::engine::{Scheduler, SimDuration, SimTime};

/// Where a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The benchmark loop's own work, before the latency clock starts; its core job runs on
    /// into `ClientSend`.
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
    /// Opening a read transaction (waiting for the read-tx lock).
    OpenTx,
    /// 3.4.0–3.4.23: copying the write buffer into the new read transaction, under the read-tx
    /// read lock (charged to the index stage).
    CopyBuffer,
    /// The treeIndex walk, under the index read lock.
    IndexWalk,
    /// Value fetch and response encoding (before 3.4: the fetch only, under the read-tx lock).
    Value,
    /// Before 3.4: response encoding, after the read transaction has ended.
    Encode,
    /// A put's proposal being built.
    Propose,
    /// A put in raft: replicated, committed, applied.
    Replicate,
    /// A put applied: the response is encoded.
    WriteRespond,
    /// A TLS handshake on the member (certificate auth, first request of a connection).
    Tls,
    /// Authenticate: waiting for the batch-tx lock that bcrypt runs under (before 3.4.9).
    AuthLock,
    /// Authenticate: the bcrypt comparison, in scheduler slices.
    Bcrypt,
    /// On the way back.
    ToClient,
    /// The gRPC proxy routes the request and looks up its cache.
    ProxyRecv,
    /// The gRPC proxy relays (or, on a cache hit, encodes) the response.
    ProxyReturn,
    /// clientv3 decodes the response.
    ClientRecv,
}

/// A request in flight.
#[derive(Debug, Clone)]
pub struct Req {
    pub seq: u64,
    pub kind: super::OpKind,
    pub background: bool,
    /// The connection the request travels on.
    pub conn: u32,
    /// clientv3 must call Authenticate before this request (password auth, no token).
    pub auth_pending: bool,
    /// Bcrypt work left (ns), while authenticating.
    pub bcrypt_left: u64,
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
    /// Through the proxy: the key (the range's first key) it caches the response under.
    pub key: u64,
    /// The proxy answered from its cache.
    pub cache_hit: bool,
    /// A read sent serializable by the workload's mix, whatever the range's consistency.
    pub serializable: bool,
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
            background: false,
            conn: 0,
            auth_pending: false,
            bcrypt_left: 0,
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
            key: 0,
            cache_hit: false,
            serializable: false,
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
        // While clientv3 authenticates, everything is the Authenticate call's time.
        let stage = if r.auth_pending {
            Stage::Authenticate
        } else {
            stage
        };
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
    pub(super) fn req_cpu_start(&mut self, id: u32, s: &mut Scheduler<PackedEv>) -> SimDuration {
        let now = s.now();
        let phase = self.reqs[id as usize].phase;
        let req_bytes = f64::from(self.request_bytes(id));
        let resp_bytes = self.response_bytes(id);
        let rng = &mut self.rng_cpu;
        let mc = &self.p.member_costs;
        let cc = &self.p.client_costs;
        let (stage, d) = match phase {
            Phase::ClientLoop => {
                // The loop goes straight on into clientv3's send on the same core (the
                // goroutine does not block in between), so both are one job: the latency clock
                // starts when the loop's own work ends, and the send follows.
                let lp = cc.loop_cost.sample(rng);
                let send = cc.request.sample(rng);
                let begun = now + lp;
                self.reqs[id as usize].begin(begun);
                self.enter(id, Stage::Client, begun);
                return lp + send;
            }
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
            Phase::IndexWalk => {
                let op = if self.reqs[id as usize].kind == OpKind::Expensive {
                    &self.w.expensive_range
                } else {
                    &self.w.range
                };
                let split = mvcc_costs(mc, &self.p.mechanisms, op, resp_bytes, rng);
                self.reqs[id as usize].split = split;
                return self.walk_fetch_encode(id, split, s);
            }
            Phase::Propose => (Stage::Grpc, mc.propose.sample(rng)),
            Phase::CopyBuffer => (Stage::Index, self.reqs[id as usize].split[0]),
            Phase::Tls => (Stage::Auth, mc.tls_handshake.sample(rng)),
            Phase::Bcrypt => {
                // Go preempts a goroutine after 10 ms on a core: bcrypt runs in slices.
                let r = &mut self.reqs[id as usize];
                let slice = r.bcrypt_left.min(GO_PREEMPT_NS);
                r.bcrypt_left -= slice;
                (Stage::Auth, SimDuration(slice))
            }
            Phase::WriteRespond => {
                let per = ns(mc.grpc_ns_per_byte * f64::from(resp_bytes));
                (Stage::Grpc, mc.grpc_response.sample(rng) + per)
            }
            Phase::ProxyRecv | Phase::ProxyReturn => {
                let px = self.p.proxy.as_ref().expect("a proxy phase needs a proxy");
                if phase == Phase::ProxyRecv {
                    (
                        Stage::Proxy,
                        px.request.sample(rng) + ns(mc.grpc_ns_per_byte * req_bytes),
                    )
                } else {
                    let per = ns(mc.grpc_ns_per_byte * f64::from(resp_bytes));
                    (Stage::Proxy, px.response.sample(rng) + per)
                }
            }
            Phase::ToMember
            | Phase::ReadIndex
            | Phase::ToClient
            | Phase::OpenTx
            | Phase::Replicate
            | Phase::AuthLock => {
                unreachable!("phase {phase:?} does not run on a core")
            }
            Phase::Value | Phase::Encode => {
                unreachable!("phase {phase:?} runs on in the index walk's job")
            }
        };
        self.enter(id, stage, now);
        d
    }

    /// The index walk, the value fetch and the response encoding run on, on one core, as one
    /// job: the goroutine does not block between them. Their lengths are known now, so the
    /// locks they release on the way (the index read lock after the walk; before 3.4 the read-tx
    /// lock after the fetch) are released at those times without events of their own
    /// ([`crate::engine::RwLock::hold_until`]): a writer waiting on one is woken then. Returns
    /// the job's length; the request is left in its last phase, which the job's end finishes.
    fn walk_fetch_encode(
        &mut self,
        id: u32,
        split: [SimDuration; 3],
        s: &mut Scheduler<PackedEv>,
    ) -> SimDuration {
        let now = s.now();
        let m = self.reqs[id as usize].member;
        let mi = usize::from(m);
        let walked = now + split[0];
        self.members[mi].index_lock.hold_until(now, walked);
        self.enter(id, Stage::Index, now);
        self.enter(id, Stage::Value, walked);
        let last = if self.p.mechanisms.concurrent_read {
            // From 3.4 the read-tx lock went when the transaction opened; the fetch and the
            // encoding follow the walk (the `Value` phase's end charges the encoding to gRPC).
            Phase::Value
        } else {
            // Before 3.4 the read transaction holds the read-tx lock through the fetch and ends
            // (`txn.End`) before gRPC encodes the response.
            let fetched = walked + split[1];
            self.members[mi].read_tx.hold_until(now, fetched);
            self.enter(id, Stage::Grpc, fetched);
            Phase::Encode
        };
        self.poll_lock_wakes(m, s);
        self.reqs[id as usize].phase = last;
        split[0] + split[1] + split[2]
    }

    /// Bytes of request `id` on the wire.
    pub(super) fn request_bytes(&self, id: u32) -> u32 {
        let r = &self.reqs[id as usize];
        if r.auth_pending {
            return self.p.sizes.request_overhead;
        }
        match r.kind {
            OpKind::Read | OpKind::Expensive => {
                self.p.sizes.request_overhead + self.range_of(id).key_bytes
            }
            OpKind::Write => {
                self.p.sizes.request_overhead + self.w.put.key_bytes + self.w.put.value_bytes
            }
        }
    }

    /// Bytes of request `id`'s response.
    pub(super) fn response_bytes(&self, id: u32) -> u32 {
        let r = &self.reqs[id as usize];
        if r.failed || r.kind == OpKind::Write || r.auth_pending {
            return self.p.sizes.response_overhead;
        }
        let op = self.range_of(id);
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

    /// A read transaction copies the write buffer when it opens: each time (3.4.0–3.4.23), or
    /// only when the buffer changed since the shared copy was made (3.5, 3.4.24). Before 3.4
    /// reads share the buffer under the lock and copy nothing.
    fn buffer_copy_ns(&mut self, id: u32) -> f64 {
        let mech = &self.p.mechanisms;
        if !mech.concurrent_read {
            return 0.0;
        }
        let mem = &mut self.members[usize::from(self.reqs[id as usize].member)];
        let per = self.p.member_costs.read_buffer_copy_ns_per_write;
        if mech.read_buffer_cache {
            if mem.cached_version == mem.buffer_version {
                return 0.0;
            }
            mem.cached_version = mem.buffer_version;
        }
        per * mem.pending_writes as f64
    }

    /// A core finished the current phase of request `id`.
    pub(super) fn req_cpu_done(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        let now = s.now();
        let r = &mut self.reqs[id as usize];
        match r.phase {
            Phase::ClientLoop => unreachable!("the loop's job ends with the send"),
            Phase::ClientSend => {
                r.phase = Phase::ToMember;
                let to = if self.via_proxy(id) {
                    Node::Proxy
                } else {
                    Node::Member(self.reqs[id as usize].member)
                };
                let bytes = self.request_bytes(id);
                let msg = Msg {
                    from_host: super::host_id(self.p.client_host),
                    to,
                    kind: MsgKind::Request(id),
                    bytes,
                };
                self.send(msg, s);
            }
            Phase::MemberRecv if r.auth_pending => {
                // Authenticate begins with a linearizable read (linearizableReadNotify).
                r.phase = Phase::ReadIndex;
                let m = r.member;
                self.read_loop_join(m, id, s);
            }
            Phase::MemberRecv => match r.kind {
                OpKind::Read | OpKind::Expensive => self.after_grpc(id, s),
                OpKind::Write => self.write_received(id, s),
            },
            Phase::ProxyRecv => self.proxy_routed(id, s),
            Phase::ProxyReturn => self.proxy_relayed(id, s),
            Phase::Tls => {
                r.phase = Phase::MemberRecv;
                let host = self.members[usize::from(r.member)].host;
                self.cpu(host, CpuJob::Req(id), s);
            }
            Phase::Bcrypt if r.bcrypt_left > 0 => {
                let host = self.members[usize::from(r.member)].host;
                self.yield_core(host, id, s);
            }
            Phase::Bcrypt => {
                let m = r.member;
                if self.p.mechanisms.bcrypt_under_lock {
                    self.unlock_batch_tx(m, s);
                }
                // Authenticate ends with a raft write (the InternalAuthenticateRequest), which
                // goes through raftRequestOnce's "too many requests" check like any proposal.
                let mi = usize::from(m);
                let lag = self.members[mi]
                    .commit
                    .saturating_sub(self.members[mi].applied);
                if lag > self.p.write.max_apply_lag {
                    self.reqs[id as usize].failed = true;
                    self.reqs[id as usize].auth_pending = false;
                    self.respond(id, s);
                } else {
                    self.propose(id, s);
                }
            }
            Phase::TokenCheck => {
                let m = r.member;
                if let Some((next, _)) = self.members[usize::from(m)].token_mu.release(now) {
                    self.lock_granted(m, next, s);
                }
                self.after_token(id, s);
            }
            Phase::JwtCheck => self.after_token(id, s),
            Phase::Rbac => {
                let m = r.member;
                self.rbac_unlock(m, s);
                self.open_tx(id, s);
            }
            Phase::IndexWalk => unreachable!("the walk's job ends with the fetch or the encoding"),
            Phase::Value => {
                // The core's last `encode` ns were response encoding: the value fetch ends where
                // encoding began, and the encoding is charged to gRPC by the next transition.
                let encode = r.split[2];
                self.enter(id, Stage::Grpc, SimTime(now.0 - encode.0));
                self.respond(id, s);
            }
            Phase::Encode => self.respond(id, s),
            Phase::CopyBuffer => {
                let m = r.member;
                self.release_read_tx_read(m, s);
                self.index_walk(id, s);
            }
            Phase::Propose => self.proposed(id, s),
            Phase::WriteRespond => self.respond(id, s),
            Phase::ClientRecv => self.complete(id, s),
            Phase::ToMember
            | Phase::ReadIndex
            | Phase::ToClient
            | Phase::OpenTx
            | Phase::Replicate
            | Phase::AuthLock => {
                unreachable!("phase does not run on a core")
            }
        }
    }

    /// The range a read asks for: the workload's, or the expensive one.
    /// The consistency request `id` reads with.
    pub(super) fn consistency_of(&self, id: u32) -> Consistency {
        if self.reqs[id as usize].serializable {
            Consistency::Serializable
        } else {
            self.range_of(id).consistency
        }
    }

    fn range_of(&self, id: u32) -> &RangeOp {
        if self.reqs[id as usize].kind == OpKind::Expensive {
            &self.w.expensive_range
        } else {
            &self.w.range
        }
    }

    /// The goroutine of request `id` is preempted: it gives its core to the next in line and
    /// queues again at the back.
    fn yield_core(&mut self, host: usize, id: u32, s: &mut Scheduler<PackedEv>) {
        if self.held_core == Some((host, id)) {
            self.held_core = None;
            if let Some((next, _)) = self.hosts[host].cores.release(s.now()) {
                self.start_cpu(host, next, s);
            }
        }
        self.cpu(host, CpuJob::Req(id), s);
    }

    /// Authenticate's password check: bcrypt, under the backend batch-tx lock before 3.4.9 (the
    /// lock stays held while Go preempts the goroutine).
    fn auth_check(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        let m = self.reqs[id as usize].member;
        if self.p.mechanisms.bcrypt_under_lock {
            self.reqs[id as usize].phase = Phase::AuthLock;
            if !self.lock_batch_tx(m, LockJob::Req(id), s) {
                return;
            }
        }
        self.bcrypt_start(id, s);
    }

    fn bcrypt_start(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        let d = self.p.member_costs.bcrypt.sample(&mut self.rng_cpu);
        let scaled = (d.0 as f64 * self.p.member_costs.bcrypt_scale) as u64;
        let r = &mut self.reqs[id as usize];
        r.phase = Phase::Bcrypt;
        r.bcrypt_left = scaled.max(1);
        let host = self.members[usize::from(r.member)].host;
        self.cpu(host, CpuJob::Req(id), s);
    }

    /// The request reaches its member: gRPC receive.
    pub(super) fn request_at_member(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        let needs_tls =
            self.w.auth == AuthMode::Cert && self.clients.first_contact(&self.reqs[id as usize]);
        let r = &mut self.reqs[id as usize];
        r.phase = if needs_tls {
            Phase::Tls
        } else {
            Phase::MemberRecv
        };
        let host = self.members[usize::from(r.member)].host;
        self.cpu(host, CpuJob::Req(id), s);
    }

    fn after_grpc(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        let m = self.reqs[id as usize].member;
        // Learners serve only serializable reads ("rpc not supported for learner").
        let consistency = self.consistency_of(id);
        if !self.p.is_voter(m) && consistency == Consistency::Linearizable {
            self.reqs[id as usize].failed = true;
            self.respond(id, s);
            return;
        }
        if consistency == Consistency::Linearizable {
            self.reqs[id as usize].phase = Phase::ReadIndex;
            self.read_loop_join(m, id, s);
        } else {
            self.after_read_index(id, s);
        }
    }

    /// The read index is confirmed and applied (or the read is serializable, or the request is
    /// a put): the token check first.
    pub(super) fn after_read_index(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        if self.reqs[id as usize].auth_pending {
            self.auth_check(id, s);
            return;
        }
        let m = self.reqs[id as usize].member;
        let host = self.members[usize::from(m)].host;
        match self.w.auth {
            AuthMode::SimpleToken | AuthMode::Password => {
                self.reqs[id as usize].phase = Phase::TokenCheck;
                self.enter(id, Stage::LockWait, s.now());
                if self.members[usize::from(m)]
                    .token_mu
                    .acquire(s.now(), LockJob::Req(id))
                    .is_some()
                {
                    self.cpu(host, CpuJob::Req(id), s);
                }
            }
            AuthMode::Jwt => {
                self.reqs[id as usize].phase = Phase::JwtCheck;
                self.cpu(host, CpuJob::Req(id), s);
            }
            AuthMode::Cert => self.after_token(id, s),
            AuthMode::None => match self.reqs[id as usize].kind {
                OpKind::Read | OpKind::Expensive => self.open_tx(id, s),
                OpKind::Write => self.propose(id, s),
            },
        }
    }

    /// The token is valid (or the user came from a certificate): a range's RBAC check, or a
    /// put's proposal (its permission is checked at apply).
    fn after_token(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        if self.reqs[id as usize].kind == OpKind::Write {
            self.propose(id, s);
            return;
        }
        let r = &mut self.reqs[id as usize];
        r.phase = Phase::Rbac;
        let m = r.member;
        let host = self.members[usize::from(m)].host;
        self.enter(id, Stage::LockWait, s.now());
        let now = s.now();
        let mem = &mut self.members[usize::from(m)];
        let granted = match self.p.mechanisms.rbac_lock {
            RbacLock::BatchTx => mem.batch_tx.acquire(now, LockJob::Req(id)).is_some(),
            RbacLock::ReadTxExclusive => mem.read_tx.write(now, LockJob::Req(id)).is_some(),
            RbacLock::Shared => mem.read_tx.read(now, LockJob::Req(id)).is_some(),
        };
        self.poll_lock_wakes(m, s);
        if granted {
            self.cpu(host, CpuJob::Req(id), s);
        }
    }

    fn rbac_unlock(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let now = s.now();
        let mi = usize::from(m);
        match self.p.mechanisms.rbac_lock {
            RbacLock::BatchTx => self.unlock_batch_tx(m, s),
            RbacLock::ReadTxExclusive => self.unlock_read_tx_write(m, s),
            RbacLock::Shared => {
                let granted = self.members[mi].read_tx.read_release(now);
                self.hand_on(m, granted, s);
            }
        }
    }

    /// Opens the read transaction: the read-tx lock, shared.
    fn open_tx(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        let r = &mut self.reqs[id as usize];
        r.phase = Phase::OpenTx;
        let m = usize::from(r.member);
        self.enter(id, Stage::BackendWait, s.now());
        if self.members[m]
            .read_tx
            .read(s.now(), LockJob::Req(id))
            .is_some()
        {
            self.tx_opened(id, s);
        }
    }

    /// The read transaction is open: from 3.4 the lock goes at once (the buffer is copied);
    /// then the index walk, under the index read lock.
    fn tx_opened(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        let m = self.reqs[id as usize].member;
        let mi = usize::from(m);
        if self.p.mechanisms.concurrent_read {
            // ConcurrentReadTx copies the write buffer under readTx.RLock, then lets go.
            let copy = self.buffer_copy_ns(id);
            if copy > 0.0 {
                let r = &mut self.reqs[id as usize];
                r.phase = Phase::CopyBuffer;
                r.split[0] = ns(copy);
                let host = self.members[mi].host;
                self.cpu(host, CpuJob::Req(id), s);
                return;
            }
            self.release_read_tx_read(m, s);
        }
        self.index_walk(id, s);
    }

    fn release_read_tx_read(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let granted = self.members[usize::from(m)].read_tx.read_release(s.now());
        self.hand_on(m, granted, s);
    }

    /// The index walk, under the treeIndex read lock.
    fn index_walk(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        let mi = usize::from(self.reqs[id as usize].member);
        self.reqs[id as usize].phase = Phase::IndexWalk;
        self.enter(id, Stage::LockWait, s.now());
        if self.members[mi]
            .index_lock
            .read(s.now(), LockJob::Req(id))
            .is_some()
        {
            let host = self.members[mi].host;
            self.cpu(host, CpuJob::Req(id), s);
        }
    }

    /// A lock that request `id` waited for is granted: it goes on with its phase. Its goroutine
    /// was woken by the unlock, so it runs next (Go's `runnext`; a starving mutex even hands
    /// the unlocker's processor over), not behind the queue of runnable requests: holding a
    /// lock while queued for a core would keep everyone else off the lock.
    pub(super) fn req_lock_granted(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        self.woken = Some(id);
        self.req_lock_granted_inner(id, s);
        self.woken = None;
    }

    fn req_lock_granted_inner(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        let r = &self.reqs[id as usize];
        let host = self.members[usize::from(r.member)].host;
        match r.phase {
            Phase::TokenCheck | Phase::Rbac | Phase::IndexWalk => {
                self.cpu(host, CpuJob::Req(id), s)
            }
            Phase::OpenTx => self.tx_opened(id, s),
            Phase::AuthLock => self.bcrypt_start(id, s),
            other => unreachable!("request in phase {other:?} was granted a lock"),
        }
    }

    /// The answer (or an error) goes back to the client, through the proxy if there is one.
    pub(super) fn respond(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        let r = &mut self.reqs[id as usize];
        r.phase = Phase::ToClient;
        let from_host = super::host_id(self.members[usize::from(r.member)].host);
        let to = if self.via_proxy(id) {
            Node::Proxy
        } else {
            Node::Client
        };
        let bytes = self.response_bytes(id);
        let msg = Msg {
            from_host,
            to,
            kind: MsgKind::Response(id),
            bytes,
        };
        self.send(msg, s);
    }

    /// The response reaches the client: clientv3 decodes it.
    pub(super) fn response_at_client(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        self.reqs[id as usize].phase = Phase::ClientRecv;
        let host = self.p.client_host;
        self.cpu(host, CpuJob::Req(id), s);
    }

    /// The request is done: record it and free its slot.
    fn complete(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        let now = s.now();
        if self.reqs[id as usize].auth_pending {
            // The token is here: clientv3 now sends the request itself.
            self.enter(id, Stage::Client, now);
            let r = &mut self.reqs[id as usize];
            r.auth_pending = false;
            r.phase = Phase::ClientSend;
            self.clients.token_received(r.client);
            let host = self.p.client_host;
            self.cpu(host, CpuJob::Req(id), s);
            return;
        }
        self.enter(id, Stage::Client, now);
        let r = &self.reqs[id as usize];
        let latency = (now - r.start).0;
        // A request-bounded run measures the requests issued after warm-up, to the last. A
        // time-bounded run measures what completes inside its window, wherever it started:
        // counting only requests that both start and end inside the window would lose those
        // still in flight at the end, and undercount throughput when latencies are long.
        let counted = if self.w.duration.is_some() {
            self.m.measure_start.is_some()
        } else {
            r.measured
        };
        if counted {
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
                    if ns == 0 {
                        om.stage_zeros[i] += 1;
                    } else {
                        om.stage_hist[i].record(ns);
                    }
                }
            }
            self.m.last_end = now;
        }
        if self.records.len() < self.record_limit && !r.background {
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
        let background = r.background;
        self.free.push(id);
        if background {
            self.bg_done += 1;
            return;
        }
        self.done += 1;
        if self.done >= self.w.total {
            s.stop();
            return;
        }
        self.client_finished(client, s);
    }
}

/// Go's scheduler preempts a goroutine that has run 10 ms (`forcePreemptNS`).
const GO_PREEMPT_NS: u64 = 10_000_000;

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
