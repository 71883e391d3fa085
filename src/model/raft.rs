//! The raft node of each member, as etcd runs it, for the read path.
//!
//! - **The raft node goroutine** (`raft/node.go` `node.run`) steps one input at a time: a
//!   serial single-server queue whose every step also needs a core.
//! - **ReadIndex on the leader** (`raft/read_only.go`, ReadOnlySafe): each `MsgReadIndex`
//!   records the commit index, acks itself and broadcasts a heartbeat carrying its context to
//!   every other member at once; when heartbeat responses from a quorum of voters carry that
//!   context, that request **and every earlier one** are released, as a `ReadState` (local) or
//!   a `MsgReadIndexResp` (a follower's).
//! - What steps produce (messages, a ReadState, new and committed entries) waits in the node
//!   until the Ready loop takes it as one Ready (`node.HasReady`, `node.Ready`: `ready.rs`).
//!
//! Log replication (appending, `MsgApp`, commit) is in `replication.rs`.

use std::collections::VecDeque;

use super::EtcdModel;
use super::event::{CpuJob, PackedEv, RaftInput};
use super::ids::{IdVec, MemberId};
use super::net::{Msg, MsgKind, Node};
use super::result::RoundHop;
use crate::engine::{Scheduler, Servers, SimTime};

/// A ReadIndex request the leader is confirming.
#[derive(Debug, Clone, Copy)]
struct PendingRead {
    origin: MemberId,
    ctx: u32,
    index: u64,
    /// Voters whose heartbeat responses carried the context (a bit per member).
    acks: u64,
}

/// A ReadState: read-loop round `ctx` may read once the applied index reaches `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadState {
    /// The round it answers.
    pub ctx: u32,
    /// The read index.
    pub index: u64,
}

/// What a Ready hands over, besides its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyContent {
    /// The last ReadState produced since the previous Ready.
    pub read_state: Option<ReadState>,
    /// Whether new entries must be persisted (one WAL fdatasync).
    pub persist: bool,
    /// Committed entries `lo..=hi` for the apply goroutine (none when `hi < lo`: every Ready
    /// hands the apply goroutine its batch, empty or not).
    pub apply: (u64, u64),
}

/// One member's raft node.
pub struct RaftNode {
    /// The node goroutine: one step at a time.
    goroutine: Servers<RaftInput>,
    /// Messages produced by steps since the last Ready.
    pub out_msgs: Vec<Msg>,
    /// The leader's queued MsgApp to each peer (a position in `out_msgs`).
    pub pending_app: IdVec<MemberId, Option<usize>>,
    read_state: Option<ReadState>,
    /// The last log index this member holds.
    pub last_index: u64,
    /// The last index handed to a Ready for persisting.
    persisted_to: u64,
    /// Commit index known to this member.
    pub commit: u64,
    /// The last committed index handed to a Ready for applying.
    apply_sent: u64,
    /// Leader only: the highest index each member is known to hold.
    pub match_index: IdVec<MemberId, u64>,
    read_only: VecDeque<PendingRead>,
}

impl RaftNode {
    /// A node whose log is committed and applied up to `index`, in a cluster of `members`.
    pub fn new(index: u64, members: usize) -> RaftNode {
        RaftNode {
            goroutine: Servers::new(1, SimTime::ZERO),
            out_msgs: Vec::new(),
            pending_app: IdVec::from_vec(vec![None; members]),
            read_state: None,
            last_index: index,
            persisted_to: index,
            commit: index,
            apply_sent: index,
            match_index: IdVec::from_vec(vec![index; members]),
            read_only: VecDeque::new(),
        }
    }

    /// The entries a Ready would persist now: `lo..=hi` (none when `hi < lo`).
    pub fn unpersisted(&self) -> (u64, u64) {
        (self.persisted_to + 1, self.last_index)
    }

    /// Whether a Ready has something to carry (`node.HasReady`).
    pub fn has_ready(&self) -> bool {
        !self.out_msgs.is_empty()
            || self.read_state.is_some()
            || self.last_index > self.persisted_to
            || self.commit > self.apply_sent
    }

    /// Hands what the steps produced to a Ready (`node.Ready`): the messages go into `msgs`.
    pub fn take_ready(&mut self, msgs: &mut Vec<Msg>) -> ReadyContent {
        debug_assert!(msgs.is_empty());
        std::mem::swap(&mut self.out_msgs, msgs);
        self.pending_app.iter_mut().for_each(|p| *p = None);
        let persist = self.last_index > self.persisted_to;
        let apply = (self.apply_sent + 1, self.commit);
        self.persisted_to = self.last_index;
        self.apply_sent = self.commit;
        ReadyContent {
            read_state: self.read_state.take(),
            persist,
            apply,
        }
    }

    /// Forgets utilization history.
    pub fn reset_stats(&mut self, now: SimTime) {
        self.goroutine.reset_stats(now);
    }

    /// Fraction of time the node goroutine was busy (stepping or waiting for a core).
    pub fn utilization(&self, now: SimTime) -> f64 {
        self.goroutine.utilization(now)
    }
}

impl EtcdModel {
    /// A raft message from `from` to `to`.
    pub(super) fn raft_msg(&self, from: MemberId, to: MemberId, kind: MsgKind) -> Msg {
        Msg {
            from_host: self.members[from].host,
            from: Node::Member(from),
            to: Node::Member(to),
            kind,
            bytes: self.p.sizes.raft_message,
        }
    }

    /// Hands `input` to member `m`'s raft node goroutine.
    pub(super) fn raft_submit(
        &mut self,
        m: MemberId,
        input: RaftInput,
        s: &mut Scheduler<PackedEv>,
    ) {
        if let Some(input) = self.members[m].raft.goroutine.acquire(s.now(), input) {
            self.go(self.member_proc(m), CpuJob::RaftStep(m, input), s);
        }
    }

    /// The raft goroutine of `m` has stepped `input`.
    pub(super) fn raft_step_done(
        &mut self,
        m: MemberId,
        input: RaftInput,
        s: &mut Scheduler<PackedEv>,
    ) {
        self.raft_process(m, input, s.now());
        if let Some((next, _)) = self.members[m].raft.goroutine.release(s.now()) {
            self.go(self.member_proc(m), CpuJob::RaftStep(m, next), s);
        }
        self.maybe_start_ready(m, s);
    }

    fn raft_process(&mut self, m: MemberId, input: RaftInput, now: SimTime) {
        let leader = self.p.leader;
        match input {
            RaftInput::ReadIndexLocal { ctx } if m == leader => self.leader_read_index(m, ctx, now),
            RaftInput::Propose { req } if m == leader => self.leader_append(m, req, now),
            RaftInput::Propose { req } => {
                let mut msg = self.raft_msg(m, leader, MsgKind::Prop { origin: m, req });
                msg.bytes += self.entry_bytes();
                self.members[m].raft.out_msgs.push(msg);
            }
            RaftInput::ReadIndexLocal { ctx } => {
                let msg = self.raft_msg(m, leader, MsgKind::ReadIndex { origin: m, ctx });
                self.members[m].raft.out_msgs.push(msg);
            }
            RaftInput::Msg(id) => match self.net.take(id).kind {
                MsgKind::ReadIndex { origin, ctx } => self.leader_read_index(origin, ctx, now),
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
                    let resp = self.raft_msg(m, leader, kind);
                    self.members[m].raft.out_msgs.push(resp);
                    let last = self.members[m].raft.last_index;
                    self.commit_to(m, commit.min(last), now);
                }
                MsgKind::Prop { origin, req } => self.leader_append(origin, req, now),
                MsgKind::App { lo, hi, commit } => self.follower_append(m, lo, hi, commit, now),
                MsgKind::AppResp { from, index } => self.leader_ack_append(from, index, now),
                MsgKind::HeartbeatResp { from, origin, ctx } => {
                    self.leader_ack(from, origin, ctx, now)
                }
                MsgKind::ReadIndexResp { ctx, index } => {
                    self.members[m].raft.read_state = Some(ReadState { ctx, index });
                }
                MsgKind::Request(_) | MsgKind::Response(_) => {
                    unreachable!("client message stepped by raft")
                }
            },
        }
    }

    /// The leader records a ReadIndex request and confirms leadership with a heartbeat round.
    fn leader_read_index(&mut self, origin: MemberId, ctx: u32, now: SimTime) {
        self.members[origin]
            .read_loop
            .mark(ctx, RoundHop::Ask.end(), now);
        let leader = self.p.leader;
        let index = self.members[leader].raft.commit;
        if self.p.quorum() == 1 {
            self.resolve_read(
                PendingRead {
                    origin,
                    ctx,
                    index,
                    acks: 0,
                },
                now,
            );
            return;
        }
        self.members[leader].raft.read_only.push_back(PendingRead {
            origin,
            ctx,
            index,
            acks: leader.bit(),
        });
        for peer in self.p.member_ids() {
            if peer != leader {
                // A heartbeat carries the commit index, up to what the peer is known to hold.
                let lr = &self.members[leader].raft;
                let commit = lr.commit.min(lr.match_index[peer]);
                let kind = MsgKind::Heartbeat {
                    origin,
                    ctx,
                    commit,
                };
                let hb = self.raft_msg(leader, peer, kind);
                self.members[leader].raft.out_msgs.push(hb);
            }
        }
    }

    /// A heartbeat response acknowledges `(origin, ctx)`; a quorum releases it and all before it.
    fn leader_ack(&mut self, from: MemberId, origin: MemberId, ctx: u32, now: SimTime) {
        if !self.p.is_voter(from) {
            return;
        }
        let quorum = self.p.quorum();
        let leader = self.p.leader;
        let ro = &mut self.members[leader].raft.read_only;
        let Some(pos) = ro.iter().position(|r| r.origin == origin && r.ctx == ctx) else {
            return; // Already released by a later request's quorum.
        };
        ro[pos].acks |= from.bit();
        if ro[pos].acks.count_ones() >= quorum {
            // Release this request and every earlier one, front first.
            for _ in 0..=pos {
                if let Some(r) = self.members[leader].raft.read_only.pop_front() {
                    self.resolve_read(r, now);
                }
            }
        }
    }

    fn resolve_read(&mut self, r: PendingRead, now: SimTime) {
        self.members[r.origin]
            .read_loop
            .mark(r.ctx, RoundHop::Quorum.end(), now);
        let leader = self.p.leader;
        if r.origin == leader {
            self.members[leader].raft.read_state = Some(ReadState {
                ctx: r.ctx,
                index: r.index,
            });
        } else {
            let kind = MsgKind::ReadIndexResp {
                ctx: r.ctx,
                index: r.index,
            };
            let msg = self.raft_msg(leader, r.origin, kind);
            self.members[leader].raft.out_msgs.push(msg);
        }
    }
}
