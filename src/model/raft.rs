//! Raft on each member, as etcd runs it, for the read path.
//!
//! - **The raft goroutine** (`node.run`) steps one input at a time: a serial single-server
//!   queue whose every step also needs a core.
//! - **ReadIndex on the leader** (`raft/read_only.go`, ReadOnlySafe): each `MsgReadIndex` records
//!   the commit index, acks itself and broadcasts a heartbeat carrying its context to every
//!   other member at once; when heartbeat responses from a quorum of voters carry that context,
//!   that request **and every earlier one** are released, as `ReadState` (local) or
//!   `MsgReadIndexResp` (a follower's).
//! - **The Ready loop** (`raftNode.start`): outputs of steps accumulate until the loop takes
//!   them as one Ready. It hands over the last ReadState first, the leader sends its messages
//!   before persisting, a follower sends after; the next Ready starts only when this one is
//!   done. Writes will add the WAL fsync inside a Ready, which is how write load lengthens
//!   ReadIndex rounds.
//! - The Ready loop also carries the write path (`write.rs`): new entries are persisted with
//!   one WAL fdatasync per Ready, committed entries go to the apply goroutine, and the next
//!   Ready cannot start before the fsync ends; so under writes a ReadState waits for the
//!   leader's fsync and a follower's heartbeat response waits for the follower's.
//! - **`linearizableReadLoop`** (`etcdserver/v3_server.go`): at most one ReadIndex round in
//!   flight per member; reads that arrive meanwhile wait for the next round, and one round
//!   releases every read queued before it, once the applied index reaches the read index.

use std::collections::VecDeque;

use super::net::{Msg, MsgKind, Node};
use super::write::{ApplyStep, CommitStep, DiskJob, LockJob};
use super::{CpuJob, EtcdModel, MemberId, PackedEv, Stage};
use crate::engine::{RwLock, Scheduler, Servers, SimTime};

/// An input to a member's raft goroutine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaftInput {
    /// The member's own read loop asks for a read index (round `ctx`).
    ReadIndexLocal { ctx: u32 },
    /// The member proposes request `req`'s put.
    Propose { req: u32 },
    /// A message from a peer, by its id in the model's message slab.
    Msg(u32),
}

/// A ReadIndex request the leader is confirming.
#[derive(Debug, Clone, Copy)]
struct PendingRead {
    origin: MemberId,
    ctx: u32,
    index: u64,
    acks: u64,
}

/// One member's state.
pub struct Member {
    /// The host the member runs on.
    pub host: usize,
    /// The simple-token mutex (`simpleTokensMu`).
    pub token_mu: Servers<LockJob>,
    /// The backend batch-transaction mutex (apply, backend commit, RBAC in 3.4).
    pub batch_tx: Servers<LockJob>,
    /// The backend read-transaction lock: reads open under it (shared), write-backs and
    /// commits hold it exclusively.
    pub read_tx: RwLock<LockJob>,
    /// The treeIndex lock: range walks share it, apply's index updates hold it exclusively.
    pub index_lock: RwLock<LockJob>,
    /// The disk: WAL and bolt fdatasyncs in FIFO order.
    pub disk: Servers<DiskJob>,
    raft_loop: Servers<RaftInput>,
    /// Messages produced by raft steps since the last Ready.
    pub out_msgs: Vec<Msg>,
    /// The leader's queued MsgApp to each peer (a position in `out_msgs`).
    pub pending_app: Vec<Option<usize>>,
    out_read_state: Option<(u32, u64)>,
    ready_read_state: Option<(u32, u64)>,
    ready_busy: bool,
    ready_msgs: Vec<Msg>,
    ready_apply: Option<(u64, u64)>,
    ready_persist: bool,
    rl_waiting: Vec<u32>,
    rl_round: Vec<u32>,
    rl_active: bool,
    rl_ctx: u32,
    rl_start: SimTime,
    /// The read index the current round waits for the apply loop to reach.
    pub rl_wait_index: Option<u64>,
    /// The last log index this member holds.
    pub last_index: u64,
    persist_scheduled: u64,
    /// Commit index known to this member.
    pub commit: u64,
    /// Applied index.
    pub applied: u64,
    apply_sent: u64,
    /// Leader only: the highest index each member is known to hold.
    pub match_index: Vec<u64>,
    /// Batches of committed entries waiting for the apply goroutine.
    pub apply_queue: VecDeque<(u64, u64)>,
    /// Whether the apply goroutine is working.
    pub apply_busy: bool,
    /// The apply goroutine's busy time.
    pub apply_level: crate::engine::TimeWeighted,
    /// The entry being applied.
    pub apply_next: u64,
    /// The last entry of the batch being applied.
    pub apply_hi: u64,
    /// Where the apply goroutine is within the current entry.
    pub apply_step: ApplyStep,
    /// Writes applied since the last backend commit.
    pub pending_writes: u64,
    /// Where the backend commit is.
    pub commit_step: CommitStep,
    /// The running commit was started by the timer (which restarts when it ends).
    pub timer_commit: bool,
    /// Bumped by every write-back and commit: a read's copy of the buffer is stale when it
    /// differs.
    pub buffer_version: u64,
    /// The buffer version of the shared cached copy (3.5).
    pub cached_version: u64,
    /// When the current apply batch, fdatasync and backend commit began (for traces).
    pub apply_batch_start: SimTime,
    /// See `apply_batch_start`.
    pub disk_start: SimTime,
    /// See `apply_batch_start`.
    pub commit_start: SimTime,
    read_only: VecDeque<PendingRead>,
}

impl Member {
    /// A member on `host` whose log is committed and applied up to `index`, in a cluster of
    /// `members`.
    pub fn new(host: usize, index: u64, members: u8) -> Member {
        let z = SimTime::ZERO;
        Member {
            host,
            token_mu: Servers::new(1, z),
            batch_tx: Servers::new(1, z),
            read_tx: RwLock::new(z),
            index_lock: RwLock::new(z),
            disk: Servers::new(1, z),
            raft_loop: Servers::new(1, z),
            out_msgs: Vec::new(),
            pending_app: vec![None; usize::from(members)],
            out_read_state: None,
            ready_read_state: None,
            ready_busy: false,
            ready_msgs: Vec::new(),
            ready_apply: None,
            ready_persist: false,
            rl_waiting: Vec::new(),
            rl_round: Vec::new(),
            rl_active: false,
            rl_ctx: 0,
            rl_start: z,
            rl_wait_index: None,
            last_index: index,
            persist_scheduled: index,
            commit: index,
            applied: index,
            apply_sent: index,
            match_index: vec![index; usize::from(members)],
            apply_queue: VecDeque::new(),
            apply_busy: false,
            apply_level: crate::engine::TimeWeighted::new(z),
            apply_next: index,
            apply_hi: index,
            apply_step: ApplyStep::BatchTx,
            pending_writes: 0,
            commit_step: CommitStep::Idle,
            timer_commit: false,
            buffer_version: 0,
            cached_version: 0,
            apply_batch_start: z,
            disk_start: z,
            commit_start: z,
            read_only: VecDeque::new(),
        }
    }

    /// Forgets utilization history.
    pub fn reset_stats(&mut self, now: SimTime) {
        self.token_mu.reset_stats(now);
        self.batch_tx.reset_stats(now);
        self.read_tx.reset_stats(now);
        self.index_lock.reset_stats(now);
        self.disk.reset_stats(now);
        self.raft_loop.reset_stats(now);
        self.apply_level.reset(now);
    }

    /// Fraction of time the raft goroutine was busy (stepping or waiting for a core).
    pub fn raft_loop_utilization(&self, now: SimTime) -> f64 {
        self.raft_loop.utilization(now)
    }
}

impl EtcdModel {
    fn raft_msg(&self, from: MemberId, to: Node, kind: MsgKind) -> Msg {
        Msg {
            from_host: super::host_id(self.members[usize::from(from)].host),
            to,
            kind,
            bytes: self.p.sizes.raft_message,
        }
    }

    /// Hands `input` to member `m`'s raft goroutine.
    pub(super) fn raft_submit(
        &mut self,
        m: MemberId,
        input: RaftInput,
        s: &mut Scheduler<PackedEv>,
    ) {
        let host = self.members[usize::from(m)].host;
        if let Some(input) = self.members[usize::from(m)]
            .raft_loop
            .acquire(s.now(), input)
        {
            self.cpu(host, CpuJob::RaftStep(m, input), s);
        }
    }

    /// The raft goroutine of `m` has stepped `input`.
    pub(super) fn raft_step_done(
        &mut self,
        m: MemberId,
        input: RaftInput,
        s: &mut Scheduler<PackedEv>,
    ) {
        self.raft_process(m, input);
        let mi = usize::from(m);
        if let Some((next, _)) = self.members[mi].raft_loop.release(s.now()) {
            let host = self.members[mi].host;
            self.cpu(host, CpuJob::RaftStep(m, next), s);
        }
        self.maybe_start_ready(m, s);
    }

    fn raft_process(&mut self, m: MemberId, input: RaftInput) {
        let leader = self.p.leader;
        match input {
            RaftInput::ReadIndexLocal { ctx } if m == leader => self.leader_read_index(m, ctx),
            RaftInput::Propose { req } if m == leader => self.leader_append(m, req),
            RaftInput::Propose { req } => {
                let mut msg =
                    self.raft_msg(m, Node::Member(leader), MsgKind::Prop { origin: m, req });
                msg.bytes += self.entry_bytes();
                self.members[usize::from(m)].out_msgs.push(msg);
            }
            RaftInput::ReadIndexLocal { ctx } => {
                let msg = self.raft_msg(
                    m,
                    Node::Member(leader),
                    MsgKind::ReadIndex { origin: m, ctx },
                );
                self.members[usize::from(m)].out_msgs.push(msg);
            }
            RaftInput::Msg(id) => match self.take_msg(id).kind {
                MsgKind::ReadIndex { origin, ctx } => self.leader_read_index(origin, ctx),
                MsgKind::Heartbeat {
                    origin,
                    ctx,
                    commit,
                } => {
                    let kind = MsgKind::HeartbeatResp {
                        from: m,
                        origin,
                        ctx,
                    };
                    let resp = self.raft_msg(m, Node::Member(leader), kind);
                    self.members[usize::from(m)].out_msgs.push(resp);
                    let last = self.members[usize::from(m)].last_index;
                    self.commit_to(m, commit.min(last));
                }
                MsgKind::Prop { origin, req } => self.leader_append(origin, req),
                MsgKind::App { lo, hi, commit } => self.follower_append(m, lo, hi, commit),
                MsgKind::AppResp { from, index } => self.leader_ack_append(from, index),
                MsgKind::HeartbeatResp { from, origin, ctx } => self.leader_ack(from, origin, ctx),
                MsgKind::ReadIndexResp { ctx, index } => {
                    self.members[usize::from(m)].out_read_state = Some((ctx, index));
                }
                MsgKind::Request(_) | MsgKind::Response(_) => {
                    unreachable!("client message stepped by raft")
                }
            },
        }
    }

    /// The leader records a ReadIndex request and confirms leadership with a heartbeat round.
    fn leader_read_index(&mut self, origin: MemberId, ctx: u32) {
        let leader = self.p.leader;
        let index = self.members[usize::from(leader)].commit;
        if self.p.quorum() == 1 {
            self.resolve_read(PendingRead {
                origin,
                ctx,
                index,
                acks: 0,
            });
            return;
        }
        self.members[usize::from(leader)]
            .read_only
            .push_back(PendingRead {
                origin,
                ctx,
                index,
                acks: 1 << leader,
            });
        for peer in 0..self.p.members() {
            if peer != leader {
                // A heartbeat carries the commit index, up to what the peer is known to hold.
                let lm = &self.members[usize::from(leader)];
                let commit = lm.commit.min(lm.match_index[usize::from(peer)]);
                let kind = MsgKind::Heartbeat {
                    origin,
                    ctx,
                    commit,
                };
                let hb = self.raft_msg(leader, Node::Member(peer), kind);
                self.members[usize::from(leader)].out_msgs.push(hb);
            }
        }
    }

    /// A heartbeat response acknowledges `(origin, ctx)`; a quorum releases it and all before it.
    fn leader_ack(&mut self, from: MemberId, origin: MemberId, ctx: u32) {
        if !self.p.is_voter(from) {
            return;
        }
        let quorum = self.p.quorum();
        let ro = &mut self.members[usize::from(self.p.leader)].read_only;
        let Some(pos) = ro.iter().position(|r| r.origin == origin && r.ctx == ctx) else {
            return; // Already released by a later request's quorum.
        };
        ro[pos].acks |= 1 << from;
        if ro[pos].acks.count_ones() >= quorum {
            // Release this request and every earlier one, front first.
            let leader = usize::from(self.p.leader);
            for _ in 0..=pos {
                if let Some(r) = self.members[leader].read_only.pop_front() {
                    self.resolve_read(r);
                }
            }
        }
    }

    fn resolve_read(&mut self, r: PendingRead) {
        let leader = self.p.leader;
        if r.origin == leader {
            self.members[usize::from(leader)].out_read_state = Some((r.ctx, r.index));
        } else {
            let kind = MsgKind::ReadIndexResp {
                ctx: r.ctx,
                index: r.index,
            };
            let msg = self.raft_msg(leader, Node::Member(r.origin), kind);
            self.members[usize::from(leader)].out_msgs.push(msg);
        }
    }

    /// Starts a Ready if the loop is idle and there is output: the raft loop goroutine takes
    /// the output now, and acts on it once it gets a core ([`EtcdModel::ready_on_core`]).
    fn maybe_start_ready(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mi = usize::from(m);
        let mem = &mut self.members[mi];
        let has_entries = mem.last_index > mem.persist_scheduled;
        let has_committed = mem.commit > mem.apply_sent;
        if mem.ready_busy
            || (mem.out_msgs.is_empty()
                && mem.out_read_state.is_none()
                && !has_entries
                && !has_committed)
        {
            return;
        }
        mem.ready_busy = true;
        debug_assert!(mem.ready_msgs.is_empty());
        std::mem::swap(&mut mem.out_msgs, &mut mem.ready_msgs);
        mem.pending_app.iter_mut().for_each(|p| *p = None);
        mem.ready_read_state = mem.out_read_state.take();
        mem.ready_persist = has_entries;
        mem.persist_scheduled = mem.last_index;
        mem.ready_apply = has_committed.then_some((mem.apply_sent + 1, mem.commit));
        mem.apply_sent = mem.commit;
        let host = mem.host;
        self.cpu(host, CpuJob::Ready(m), s);
    }

    /// The raft loop of `m` is on a core with its Ready: it hands the last ReadState to the
    /// read loop and the committed entries to the apply goroutine, and the leader sends its
    /// messages before persisting.
    pub(super) fn ready_on_core(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        if let Some((ctx, index)) = self.members[usize::from(m)].ready_read_state.take() {
            self.read_state_delivered(m, ctx, index, s);
        }
        if let Some((lo, hi)) = self.members[usize::from(m)].ready_apply.take() {
            self.apply_enqueue(m, lo, hi, s);
        }
        if m == self.p.leader {
            self.flush_ready_msgs(m, s);
        }
    }

    fn flush_ready_msgs(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mut msgs = std::mem::take(&mut self.members[usize::from(m)].ready_msgs);
        for msg in msgs.drain(..) {
            self.send(msg, s);
        }
        self.members[usize::from(m)].ready_msgs = msgs;
    }

    /// The raft loop of `m` has handled its Ready on a core: it persists new entries (one WAL
    /// fdatasync), or finishes at once.
    pub(super) fn ready_cpu_done(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        if self.members[usize::from(m)].ready_persist {
            self.disk(m, DiskJob::Wal, s);
        } else {
            self.ready_done(m, s);
        }
    }

    /// The WAL fdatasync of `m`'s Ready is done.
    pub(super) fn wal_synced(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        self.ready_done(m, s);
    }

    /// The raft loop of `m` finished a Ready: a follower sends now (after persisting).
    fn ready_done(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        if m != self.p.leader {
            self.flush_ready_msgs(m, s);
        }
        self.members[usize::from(m)].ready_busy = false;
        self.maybe_start_ready(m, s);
    }

    /// A linearizable read joins member `m`'s read loop.
    pub(super) fn read_loop_join(&mut self, m: MemberId, id: u32, s: &mut Scheduler<PackedEv>) {
        self.enter(id, Stage::ReadIndexBatch, s.now());
        self.members[usize::from(m)].rl_waiting.push(id);
        if !self.members[usize::from(m)].rl_active {
            self.start_round(m, s);
        }
    }

    fn start_round(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mem = &mut self.members[usize::from(m)];
        debug_assert!(mem.rl_round.is_empty());
        std::mem::swap(&mut mem.rl_waiting, &mut mem.rl_round);
        mem.rl_active = true;
        mem.rl_start = s.now();
        mem.rl_ctx = mem.rl_ctx.wrapping_add(1);
        let ctx = mem.rl_ctx;
        let round = std::mem::take(&mut mem.rl_round);
        for &id in &round {
            self.enter(id, Stage::ReadIndexRound, s.now());
        }
        self.members[usize::from(m)].rl_round = round;
        self.raft_submit(m, RaftInput::ReadIndexLocal { ctx }, s);
    }

    fn read_state_delivered(
        &mut self,
        m: MemberId,
        ctx: u32,
        index: u64,
        s: &mut Scheduler<PackedEv>,
    ) {
        let mem = &mut self.members[usize::from(m)];
        if !mem.rl_active || ctx != mem.rl_ctx {
            return; // "ignored out-of-date read index response"
        }
        if mem.applied >= index {
            self.finish_round(m, s);
            return;
        }
        // applyWait.Wait(index): the apply loop releases the round at a batch boundary.
        mem.rl_wait_index = Some(index);
        let round = std::mem::take(&mut mem.rl_round);
        for &id in &round {
            self.enter(id, Stage::ApplyWait, s.now());
        }
        self.members[usize::from(m)].rl_round = round;
    }

    /// Releases every read of the round, then starts the next round if reads are waiting.
    pub(super) fn finish_round(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mut round = std::mem::take(&mut self.members[usize::from(m)].rl_round);
        if self.trace_limit > 0 && self.m.rounds < self.trace_limit {
            self.round_spans.push(super::RoundSpan {
                member: m,
                start_ns: self.members[usize::from(m)].rl_start.0,
                end_ns: s.now().0,
                reads: round.len() as u32,
            });
        }
        self.m.rounds += 1;
        self.m.reads_in_rounds += round.len() as u64;
        for id in round.drain(..) {
            self.after_read_index(id, s);
        }
        let mem = &mut self.members[usize::from(m)];
        mem.rl_round = round;
        mem.rl_active = false;
        if !mem.rl_waiting.is_empty() {
            self.start_round(m, s);
        }
    }
}
