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
//! - **`linearizableReadLoop`** (`etcdserver/v3_server.go`): at most one ReadIndex round in
//!   flight per member; reads that arrive meanwhile wait for the next round, and one round
//!   releases every read queued before it, once the applied index reaches the read index
//!   (always at once for now: without writes, apply never trails commit).

use std::collections::VecDeque;

use super::net::{Msg, MsgKind, Node};
use super::{CpuJob, EtcdModel, Ev, MemberId, Stage};
use crate::engine::{Scheduler, Servers, SimTime};

/// An input to a member's raft goroutine.
#[derive(Debug, Clone, Copy)]
pub enum RaftInput {
    /// The member's own read loop asks for a read index (round `ctx`).
    ReadIndexLocal { ctx: u32 },
    /// A message from a peer.
    Msg(Msg),
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
    pub token_mu: Servers<u32>,
    /// The backend batch-transaction mutex.
    pub batch_tx: Servers<u32>,
    /// The backend read-transaction lock, when taken exclusively.
    pub read_tx: Servers<u32>,
    raft_loop: Servers<RaftInput>,
    out_msgs: Vec<Msg>,
    out_read_state: Option<(u32, u64)>,
    ready_read_state: Option<(u32, u64)>,
    ready_busy: bool,
    ready_msgs: Vec<Msg>,
    rl_waiting: Vec<u32>,
    rl_round: Vec<u32>,
    rl_active: bool,
    rl_ctx: u32,
    rl_start: SimTime,
    commit: u64,
    applied: u64,
    read_only: VecDeque<PendingRead>,
}

impl Member {
    /// A member on `host` whose log is committed and applied up to `index`.
    pub fn new(host: usize, index: u64) -> Member {
        Member {
            host,
            token_mu: Servers::new(1, SimTime::ZERO),
            batch_tx: Servers::new(1, SimTime::ZERO),
            read_tx: Servers::new(1, SimTime::ZERO),
            raft_loop: Servers::new(1, SimTime::ZERO),
            out_msgs: Vec::new(),
            out_read_state: None,
            ready_read_state: None,
            ready_busy: false,
            ready_msgs: Vec::new(),
            rl_waiting: Vec::new(),
            rl_round: Vec::new(),
            rl_active: false,
            rl_ctx: 0,
            rl_start: SimTime::ZERO,
            commit: index,
            applied: index,
            read_only: VecDeque::new(),
        }
    }

    /// Forgets utilization history.
    pub fn reset_stats(&mut self, now: SimTime) {
        self.token_mu.reset_stats(now);
        self.batch_tx.reset_stats(now);
        self.read_tx.reset_stats(now);
        self.raft_loop.reset_stats(now);
    }

    /// Fraction of time the raft goroutine was busy (stepping or waiting for a core).
    pub fn raft_loop_utilization(&self, now: SimTime) -> f64 {
        self.raft_loop.utilization(now)
    }
}

impl EtcdModel {
    fn raft_msg(&self, from: MemberId, to: Node, kind: MsgKind) -> Msg {
        Msg {
            from_host: self.members[usize::from(from)].host as u16,
            to,
            kind,
            bytes: self.p.sizes.raft_message,
        }
    }

    /// Hands `input` to member `m`'s raft goroutine.
    pub(super) fn raft_submit(&mut self, m: MemberId, input: RaftInput, s: &mut Scheduler<Ev>) {
        let host = self.members[usize::from(m)].host;
        if let Some(input) = self.members[usize::from(m)]
            .raft_loop
            .acquire(s.now(), input)
        {
            self.cpu(host, CpuJob::RaftStep(m, input), s);
        }
    }

    /// The raft goroutine of `m` has stepped `input`.
    pub(super) fn raft_step_done(&mut self, m: MemberId, input: RaftInput, s: &mut Scheduler<Ev>) {
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
            RaftInput::ReadIndexLocal { ctx } => {
                let msg = self.raft_msg(
                    m,
                    Node::Member(leader),
                    MsgKind::ReadIndex { origin: m, ctx },
                );
                self.members[usize::from(m)].out_msgs.push(msg);
            }
            RaftInput::Msg(msg) => match msg.kind {
                MsgKind::ReadIndex { origin, ctx } => self.leader_read_index(origin, ctx),
                MsgKind::Heartbeat { origin, ctx } => {
                    let kind = MsgKind::HeartbeatResp {
                        from: m,
                        origin,
                        ctx,
                    };
                    let resp = self.raft_msg(m, Node::Member(leader), kind);
                    self.members[usize::from(m)].out_msgs.push(resp);
                }
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
                let hb = self.raft_msg(
                    leader,
                    Node::Member(peer),
                    MsgKind::Heartbeat { origin, ctx },
                );
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
            let released: Vec<PendingRead> = ro.drain(..=pos).collect();
            for r in released {
                self.resolve_read(r);
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
    fn maybe_start_ready(&mut self, m: MemberId, s: &mut Scheduler<Ev>) {
        let mi = usize::from(m);
        let mem = &mut self.members[mi];
        if mem.ready_busy || (mem.out_msgs.is_empty() && mem.out_read_state.is_none()) {
            return;
        }
        mem.ready_busy = true;
        debug_assert!(mem.ready_msgs.is_empty());
        std::mem::swap(&mut mem.out_msgs, &mut mem.ready_msgs);
        mem.ready_read_state = mem.out_read_state.take();
        let host = mem.host;
        self.cpu(host, CpuJob::Ready(m), s);
    }

    /// The raft loop of `m` is on a core with its Ready: it hands the last ReadState to the
    /// read loop first, and the leader sends its messages before persisting.
    pub(super) fn ready_on_core(&mut self, m: MemberId, s: &mut Scheduler<Ev>) {
        if let Some((ctx, index)) = self.members[usize::from(m)].ready_read_state.take() {
            self.read_state_delivered(m, ctx, index, s);
        }
        if m == self.p.leader {
            self.flush_ready_msgs(m, s);
        }
    }

    fn flush_ready_msgs(&mut self, m: MemberId, s: &mut Scheduler<Ev>) {
        let mut msgs = std::mem::take(&mut self.members[usize::from(m)].ready_msgs);
        for msg in msgs.drain(..) {
            self.send(msg, s);
        }
        self.members[usize::from(m)].ready_msgs = msgs;
    }

    /// The raft loop of `m` finished a Ready: a follower sends now (after persisting).
    pub(super) fn ready_done(&mut self, m: MemberId, s: &mut Scheduler<Ev>) {
        if m != self.p.leader {
            self.flush_ready_msgs(m, s);
        }
        self.members[usize::from(m)].ready_busy = false;
        self.maybe_start_ready(m, s);
    }

    /// A linearizable read joins member `m`'s read loop.
    pub(super) fn read_loop_join(&mut self, m: MemberId, id: u32, s: &mut Scheduler<Ev>) {
        self.enter(id, Stage::ReadIndexBatch, s.now());
        self.members[usize::from(m)].rl_waiting.push(id);
        if !self.members[usize::from(m)].rl_active {
            self.start_round(m, s);
        }
    }

    fn start_round(&mut self, m: MemberId, s: &mut Scheduler<Ev>) {
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

    fn read_state_delivered(&mut self, m: MemberId, ctx: u32, index: u64, s: &mut Scheduler<Ev>) {
        let mem = &self.members[usize::from(m)];
        if !mem.rl_active || ctx != mem.rl_ctx {
            return; // "ignored out-of-date read index response"
        }
        // Without writes the applied index never trails the commit index, so a round never
        // waits for apply (the ApplyWait stage stays empty). The write path must add the wait
        // here, releasing the round from apply's batch boundary, before this can change.
        assert!(
            mem.applied >= index,
            "apply wait needs the write path: applied {} < read index {index}",
            mem.applied
        );
        self.finish_round(m, s);
    }

    /// Releases every read of the round, then starts the next round if reads are waiting.
    fn finish_round(&mut self, m: MemberId, s: &mut Scheduler<Ev>) {
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
