//! A request's life, on the client and on the serving member, and the accounting that
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
//! replication and commit, apply on the member, and the response.
//!
//! This module owns a request's [`Phase`] and moves it; its parts are the range's server path
//! (`range.rs`), authentication (`auth.rs`), the put's server path (`put.rs`) and the gRPC
//! proxy (`proxy.rs`).

mod auth;
pub mod proxy;
mod put;
mod range;
mod retry;
pub mod subconn;

use super::EtcdModel;
use super::event::{CpuJob, End, Ev, PackedEv};
use super::ids::{ClientId, ConnId, MemberId, ReqId};
use super::net::{Msg, MsgKind, Node};
use super::params::{AuthMode, Consistency, RangeOp, Workload};
use super::result::{OpKind, RequestRecord, Span};
use super::stage::Stage;
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
    /// clientv3 waits before it retries a call that failed with Unavailable.
    Backoff,
    /// clientv3 waits for the connection to its endpoint to come back (not failing fast).
    WaitReady,
    /// Its member was killed while a core had the request's work in hand, charged ahead to
    /// when it would end: the reset reaches clientv3 then.
    ConnReset,
}

/// A request in flight.
#[derive(Debug, Clone)]
pub struct Req {
    /// Issue order, from 0 (background requests from `BACKGROUND_SEQ`).
    pub seq: u64,
    /// Range, put or expensive range.
    pub kind: OpKind,
    /// A background put or expensive read, outside the workload's total.
    pub background: bool,
    /// One of the probe's reads (`probe.rs`), timed apart from the workload's.
    pub probe: bool,
    /// The connection the request travels on.
    pub conn: ConnId,
    /// clientv3 must call Authenticate before this request (password auth, no token).
    pub auth_pending: bool,
    /// The client that issued it (open loop: its connection's client; `None`: background).
    pub client: Option<ClientId>,
    /// The member serving it.
    pub member: MemberId,
    /// Where it is.
    pub phase: Phase,
    /// It failed (too large, too many requests, a learner asked for a linearizable read).
    pub failed: bool,
    /// Issued after warm-up.
    pub measured: bool,
    /// A read sent serializable by the workload's mix, whatever the range's consistency.
    pub serializable: bool,
    /// When its latency clock started.
    start: SimTime,
    started: bool,
    /// Bcrypt work left (ns), while authenticating.
    bcrypt_left: u64,
    stage: Stage,
    mark: SimTime,
    stages: [u64; Stage::COUNT],
    /// The index walk's, value fetch's and encoding's lengths, decided when the walk starts.
    split: [SimDuration; 3],
    /// Through the proxy: the key (the range's first key) it caches the response under.
    key: u64,
    /// The proxy answered from its cache.
    cache_hit: bool,
    /// When its client gives up on it (the workload's request timeout), until it ends.
    pub deadline: Option<SimTime>,
    /// Its client gave up on it: the member goes on serving it, and its answer is dropped.
    pub abandoned: bool,
    /// Its answer is gRPC's Unavailable (`etcdserver: leader changed`): clientv3 retries.
    pub unavailable: bool,
    /// clientv3's retries of the call so far.
    pub attempt: u16,
    /// When its retry's backoff ends.
    pub retry_at: Option<SimTime>,
}

impl Req {
    /// A new request of `kind` from `client` on `conn` to `member`.
    pub fn new(
        seq: u64,
        kind: OpKind,
        client: Option<ClientId>,
        conn: ConnId,
        member: MemberId,
        measured: bool,
    ) -> Req {
        Req {
            seq,
            kind,
            background: false,
            probe: false,
            conn,
            auth_pending: false,
            client,
            member,
            phase: Phase::ClientLoop,
            failed: false,
            measured,
            serializable: false,
            start: SimTime::ZERO,
            started: false,
            bcrypt_left: 0,
            stage: Stage::Client,
            mark: SimTime::ZERO,
            stages: [0; Stage::COUNT],
            split: [SimDuration::ZERO; 3],
            key: 0,
            cache_hit: false,
            deadline: None,
            abandoned: false,
            unavailable: false,
            attempt: 0,
            retry_at: None,
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

    /// When its time is charged up to (a core's work in hand is charged ahead to its end).
    pub fn charged_to(&self) -> SimTime {
        self.mark
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
    pub(super) fn enter(&mut self, id: ReqId, stage: Stage, now: SimTime) {
        let r = &mut self.reqs[id];
        // While clientv3 authenticates, everything is the Authenticate call's time.
        let stage = if r.auth_pending {
            Stage::Authenticate
        } else {
            stage
        };
        if r.started {
            r.stages[r.stage as usize] += (now - r.mark).0;
            if self.trace.traces(r.seq) && now > r.mark {
                self.trace.spans.push(Span {
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

    /// Starts the latency clock of request `id` and moves it to sending.
    pub(super) fn begin(&mut self, id: ReqId, now: SimTime, s: &mut Scheduler<PackedEv>) {
        self.reqs[id].begin(now);
        self.arm_deadline(id, now, s);
    }

    /// clientv3's call of request `id`, begun at `start`, carries the workload's deadline
    /// (`context.WithTimeout`): when it passes, the call returns `DeadlineExceeded`.
    fn arm_deadline(&mut self, id: ReqId, start: SimTime, s: &mut Scheduler<PackedEv>) {
        if let Some(t) = self.w.request_timeout {
            let at = start + t;
            self.reqs[id].deadline = Some(at);
            s.schedule_at(at, Ev::ClientTimer(id));
        }
    }

    /// Whether a request that ends now is measured (`measured`: it was issued after warm-up).
    /// A request-bounded run measures the requests issued after warm-up, to the last. A
    /// time-bounded run measures what completes inside its window, wherever it started:
    /// counting only requests that both start and end inside the window would lose those
    /// still in flight at the end, and undercount throughput when latencies are long.
    fn counted(&self, measured: bool) -> bool {
        if self.w.duration.is_some() {
            self.m.measure_start.is_some()
        } else {
            measured
        }
    }

    /// A request's deadline timer fired. If the request is still the one that armed it (its
    /// slot may have been freed or reused: a later request has a later deadline), its client
    /// gives up: the call fails with `DeadlineExceeded` and the client goes on to its next
    /// request. gRPC cancels the stream, but what the member has started it finishes (etcd
    /// checks the context only while waiting, e.g. for the read index), and the answer is
    /// dropped when it arrives.
    pub(super) fn deadline_passed(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let now = s.now();
        let r = &mut self.reqs[id];
        if r.deadline != Some(now) || r.abandoned {
            return;
        }
        if r.phase == Phase::WaitReady {
            // Nothing refers to a call waiting for its connection: its slot goes now.
            self.reqs.free(id);
        } else {
            r.abandoned = true;
            self.abandoned_live += 1;
        }
        let r = &self.reqs[id];
        let (kind, client, background, start) = (r.kind, r.client, r.background, r.start);
        let (probe, serializable) = (r.probe, r.serializable);
        let measured = r.measured;
        let counted = self.counted(measured);
        debug_assert!(now > start, "a deadline comes after its call began");
        if counted && probe {
            self.m.probe_timed_out(serializable);
        } else if counted {
            self.m.request_timed_out(kind);
        }
        // Its time up to the deadline, for where timed-out reads' time went (a core's work in
        // hand is charged ahead already).
        let r = &self.reqs[id];
        if r.mark <= now {
            let stage = r.stage;
            self.enter(id, stage, now);
        }
        if probe {
            self.probe_finished(s);
            return;
        }
        if let Some(iv) = &mut self.intervals {
            iv.timed_out(kind, now, &self.reqs[id].stages);
        }
        self.request_finished(client, background, s);
    }

    /// A core starts the current phase of request `id`: returns how long it runs and enters the
    /// phase's service stage.
    pub(super) fn req_cpu_start(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) -> SimDuration {
        let now = s.now();
        let phase = self.reqs[id].phase;
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
                self.reqs[id].begin(begun);
                self.arm_deadline(id, begun, s);
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
            Phase::Rbac => (Stage::Auth, self.rbac_cost()),
            Phase::IndexWalk => return self.walk_fetch_encode(id, resp_bytes, s),
            Phase::Propose => (Stage::Grpc, mc.propose.sample(rng)),
            Phase::CopyBuffer => (Stage::Index, self.reqs[id].split[0]),
            Phase::Tls => (Stage::Auth, mc.tls_handshake.sample(rng)),
            Phase::Bcrypt => (Stage::Auth, self.bcrypt_slice(id)),
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
            | Phase::AuthLock
            | Phase::Backoff
            | Phase::WaitReady
            | Phase::ConnReset => {
                unreachable!("phase {phase:?} does not run on a core")
            }
            Phase::Value | Phase::Encode => {
                unreachable!("phase {phase:?} runs on in the index walk's job")
            }
        };
        self.enter(id, stage, now);
        d
    }

    /// A core finished the current phase of request `id`.
    pub(super) fn req_cpu_done(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let r = &mut self.reqs[id];
        match r.phase {
            Phase::ClientLoop => unreachable!("the loop's job ends with the send"),
            Phase::ClientSend => {
                r.phase = Phase::ToMember;
                if self.wait_for_ready(id, s.now()) {
                    return;
                }
                if self.via_proxy(id) {
                    let msg = Msg {
                        from_host: self.p.client_host,
                        from: Node::Client,
                        to: Node::Proxy,
                        kind: MsgKind::Request(id),
                        bytes: self.request_bytes(id),
                        term: 0,
                    };
                    self.send(msg, s);
                } else {
                    self.grpc_send(id, End::Client, s);
                }
            }
            Phase::MemberRecv if r.auth_pending => {
                // Authenticate begins with a linearizable read (linearizableReadNotify).
                r.phase = Phase::ReadIndex;
                let m = r.member;
                self.read_loop_join(m, id, s);
            }
            Phase::MemberRecv => match r.kind {
                OpKind::Read | OpKind::Expensive => self.range_received(id, s),
                OpKind::Write => self.put_received(id, s),
            },
            Phase::ProxyRecv => self.proxy_routed(id, s),
            Phase::ProxyReturn => self.proxy_relayed(id, s),
            Phase::Tls => {
                r.phase = Phase::MemberRecv;
                self.run_on_member(id, s);
            }
            Phase::Bcrypt => self.bcrypt_slice_done(id, s),
            Phase::TokenCheck => self.token_checked(id, s),
            Phase::JwtCheck => self.after_token(id, s),
            Phase::Rbac => self.rbac_checked(id, s),
            Phase::IndexWalk => unreachable!("the walk's job ends with the fetch or the encoding"),
            Phase::Value => self.value_fetched(id, s),
            Phase::Encode => self.respond(id, s),
            Phase::CopyBuffer => self.buffer_copied(id, s),
            Phase::Propose => self.proposed(id, s),
            Phase::WriteRespond => self.respond(id, s),
            Phase::ClientRecv => self.complete(id, s),
            Phase::ToMember
            | Phase::ReadIndex
            | Phase::ToClient
            | Phase::OpenTx
            | Phase::Replicate
            | Phase::AuthLock
            | Phase::Backoff
            | Phase::WaitReady
            | Phase::ConnReset => {
                unreachable!("phase does not run on a core")
            }
        }
    }

    /// Request `id`'s goroutine needs a core of its member for its current phase.
    fn run_on_member(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        self.go(self.member_proc(self.reqs[id].member), CpuJob::Req(id), s);
    }

    /// Bytes of request `id` on the wire.
    pub(super) fn request_bytes(&self, id: ReqId) -> u32 {
        let r = &self.reqs[id];
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
    pub(super) fn response_bytes(&self, id: ReqId) -> u32 {
        let r = &self.reqs[id];
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

    /// The consistency request `id` reads with.
    pub(super) fn consistency_of(&self, id: ReqId) -> Consistency {
        if self.reqs[id].serializable {
            Consistency::Serializable
        } else {
            self.range_of(id).consistency
        }
    }

    /// The range a read asks for: the workload's, the expensive one or the probe's key.
    fn range_of(&self, id: ReqId) -> &RangeOp {
        range_for(&self.w, &self.reqs[id])
    }

    /// The request reaches its member: gRPC receive (after a TLS handshake on a connection's
    /// first request to the member, with certificates).
    pub(super) fn request_at_member(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let needs_tls = self.w.auth == AuthMode::Cert && {
            let r = &self.reqs[id];
            self.clients.first_contact(r.conn, r.member)
        };
        self.reqs[id].phase = if needs_tls {
            Phase::Tls
        } else {
            Phase::MemberRecv
        };
        self.run_on_member(id, s);
    }

    /// The read index is confirmed and applied (or the read is serializable, or the request is
    /// a put): `doSerialize`'s auth first, then the range or the proposal.
    pub(super) fn after_read_index(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        if self.reqs[id].auth_pending {
            self.authenticate(id, s);
        } else {
            self.check_token(id, s);
        }
    }

    /// Authentication passed (or is off): a range opens its transaction, a put is proposed.
    fn authorized(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        match self.reqs[id].kind {
            OpKind::Read | OpKind::Expensive => self.open_tx(id, s),
            OpKind::Write => self.propose(id, s),
        }
    }

    /// A lock that request `id` waited for is granted: it goes on with its phase. Its goroutine
    /// is readied by the unlock, so it takes the unlocker's `runnext` (a starving mutex even
    /// hands the unlocker's processor over).
    pub(super) fn req_lock_granted(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        match self.reqs[id].phase {
            Phase::TokenCheck | Phase::Rbac | Phase::IndexWalk => self.run_on_member(id, s),
            Phase::OpenTx => self.tx_opened(id, s),
            Phase::AuthLock => self.bcrypt_start(id, s),
            other => unreachable!("request in phase {other:?} was granted a lock"),
        }
    }

    /// The answer (or an error) goes back to the client, through the proxy if there is one.
    pub(super) fn respond(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let r = &mut self.reqs[id];
        r.phase = Phase::ToClient;
        let member = r.member;
        if self.via_proxy(id) {
            let msg = Msg {
                from_host: self.members[member].host,
                from: Node::Member(member),
                to: Node::Proxy,
                kind: MsgKind::Response(id),
                bytes: self.response_bytes(id),
                term: 0,
            };
            self.send(msg, s);
        } else {
            self.grpc_send(id, End::Server, s);
        }
    }

    /// The response reaches the client: clientv3 decodes it.
    pub(super) fn response_at_client(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        self.reqs[id].phase = Phase::ClientRecv;
        self.go(self.client_proc(), CpuJob::Req(id), s);
    }

    /// The request is done: record it and free its slot.
    fn complete(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let now = s.now();
        if self.reqs[id].unavailable && !self.reqs[id].abandoned {
            self.unavailable_at_client(id, s);
            return;
        }
        // Ended: a deadline timer still pending must not find it.
        self.reqs[id].deadline = None;
        if self.reqs[id].abandoned {
            // Its client gave up on it: the answer is dropped.
            self.abandoned_live -= 1;
            self.reqs.free(id);
            return;
        }
        if self.reqs[id].auth_pending {
            self.token_received(id, s);
            return;
        }
        self.enter(id, Stage::Client, now);
        let r = &self.reqs[id];
        let latency = (now - r.start).0;
        let counted = self.counted(r.measured);
        if r.probe {
            if counted {
                self.m
                    .probe_ended(r.serializable, r.failed, latency, &r.stages);
            }
            self.reqs.free(id);
            self.probe_finished(s);
            return;
        }
        if counted {
            self.m
                .request_ended(r.kind, r.failed, latency, &r.stages, now);
        }
        if let Some(iv) = &mut self.intervals {
            iv.record(r.kind, r.failed, latency, now, &r.stages);
        }
        if !r.background {
            self.trace.request(RequestRecord {
                seq: r.seq,
                member: r.member,
                start_ns: r.start.0,
                end_ns: now.0,
                failed: r.failed,
                stages_ns: r.stages,
            });
        }
        let (client, background) = (r.client, r.background);
        self.reqs.free(id);
        self.request_finished(client, background, s);
    }
}

/// The range read `r` of workload `w` asks for: the workload's, the expensive one or the
/// probe's key.
fn range_for<'a>(w: &'a Workload, r: &Req) -> &'a RangeOp {
    match (r.kind, w.probe.as_ref()) {
        (OpKind::Expensive, _) => &w.expensive_range,
        (_, Some(probe)) if r.probe => &probe.range,
        _ => &w.range,
    }
}

fn ns(x: f64) -> SimDuration {
    SimDuration::from_nanos_f64(x)
}
