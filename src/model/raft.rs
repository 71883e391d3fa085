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
//! Log replication (appending, `MsgApp`, commit) is in `replication.rs`; terms, ticks and
//! elections in `election.rs`.

use std::collections::VecDeque;

use super::EtcdModel;
use super::event::{CpuJob, PackedEv, RaftInput};
use super::ids::{IdVec, MemberId};
use super::net::{Msg, MsgKind, NO_CTX, Node};
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
    /// The member learnt of a new leader (etcd then fails the read loop's round in flight with
    /// `ErrLeaderChanged`).
    pub new_leader: bool,
}

/// What a member is in its term (`raft/raft.go` `StateType`; no pre-vote: etcd 3.4's
/// `--pre-vote` is off by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Follows `lead`, if it knows one.
    Follower,
    /// Asks for votes.
    Candidate,
    /// Leads.
    Leader,
}

/// One member's raft node.
pub struct RaftNode {
    /// The current term.
    pub term: u32,
    /// What it is in the term.
    pub role: Role,
    /// The leader it knows of in the term, if any.
    pub lead: Option<MemberId>,
    /// Whom it voted for in the term.
    pub vote: Option<MemberId>,
    /// A candidate's granted and rejected votes (a bit per member).
    pub votes: (u64, u64),
    /// Ticks since it last heard from a leader (a follower), since it campaigned (a candidate),
    /// or since its last quorum check (a leader).
    pub election_elapsed: u32,
    /// This term's election timeout, in ticks.
    pub randomized_timeout: u32,
    /// A leader: the peers heard from since its last quorum check (a bit per member).
    pub recent_active: u64,
    /// A leader: the index of its term's first entry; it serves ReadIndex only once that is
    /// committed (`committedEntryInCurrentTerm`).
    pub term_start: u64,
    /// The leader the last Ready reported (`SoftState.Lead`).
    pub lead_reported: Option<MemberId>,
    /// The term or the vote changed since the last Ready: it must be persisted (a WAL
    /// fdatasync) before the messages that follow from it are sent.
    pub hard_state_dirty: bool,
    /// A tick waits for the node goroutine (etcd's ticker channel holds one).
    pub tick_pending: bool,
    /// A new leader's ReadIndex requests from before it committed an entry of its term, as
    /// (origin, ctx): postponed until it does (`pendingReadIndexMessages`).
    pub postponed_reads: Vec<(MemberId, u32)>,
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
    /// Leader only: the highest index each member is known to hold (`Progress.Match`).
    pub match_index: IdVec<MemberId, u64>,
    /// Leader only: the next index to send each member (`Progress.Next`): past what was sent,
    /// whether or not it arrived; a rejection moves it back.
    pub next_index: IdVec<MemberId, u64>,
    /// Leader only: the peers in raft's probe state (`StateProbe`), after a rejection: the
    /// leader sends them nothing new until one of its appends is acknowledged, only again what
    /// they lack at each heartbeat answer, and `Next` does not move past what was sent.
    pub probing: IdVec<MemberId, bool>,
    read_only: VecDeque<PendingRead>,
}

impl RaftNode {
    /// Node `me` whose log is committed and applied up to `index`, in a cluster of `members`
    /// led by `leader` in term 1.
    pub fn new(index: u64, members: usize, leader: MemberId, me: MemberId) -> RaftNode {
        RaftNode {
            term: 1,
            role: if me == leader {
                Role::Leader
            } else {
                Role::Follower
            },
            lead: Some(leader),
            vote: None,
            votes: (0, 0),
            election_elapsed: 0,
            randomized_timeout: u32::MAX,
            recent_active: 0,
            term_start: index,
            lead_reported: Some(leader),
            hard_state_dirty: false,
            tick_pending: false,
            postponed_reads: Vec::new(),
            goroutine: Servers::new(1, SimTime::ZERO),
            out_msgs: Vec::new(),
            pending_app: IdVec::from_vec(vec![None; members]),
            read_state: None,
            last_index: index,
            persisted_to: index,
            commit: index,
            apply_sent: index,
            match_index: IdVec::from_vec(vec![index; members]),
            next_index: IdVec::from_vec(vec![index + 1; members]),
            probing: IdVec::from_vec(vec![false; members]),
            read_only: VecDeque::new(),
        }
    }

    /// The node member `me` (of `members`) starts with when its process is started again: its
    /// persisted term, vote and log, every committed entry applied, a follower that knows no
    /// leader (its randomized election timeout is for the caller to draw).
    pub fn restarted(&self, members: usize, me: MemberId) -> RaftNode {
        let last = self.persisted_to;
        let mut r = RaftNode::new(self.commit.min(last), members, me, me);
        r.term = self.term;
        r.vote = self.vote;
        r.role = Role::Follower;
        r.lead = None;
        r.lead_reported = None;
        r.last_index = last;
        r.persisted_to = last;
        r
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
            || self.hard_state_dirty
            || self.lead != self.lead_reported
    }

    /// Forgets pending ReadIndex requests (raft's `reset`, on every change of term or role:
    /// they are lost, and the read loops that sent them learn of it by the change of leader).
    pub fn forget_reads(&mut self) {
        self.read_only.clear();
    }

    /// Whether the leader has committed an entry of its own term, so may serve ReadIndex.
    pub fn committed_in_term(&self) -> bool {
        self.commit >= self.term_start
    }

    /// Clamps the log to `last` (entries past it are overwritten by the new leader's).
    pub fn truncate(&mut self, last: u64) {
        self.last_index = self.last_index.min(last);
        self.persisted_to = self.persisted_to.min(last);
    }

    /// Hands what the steps produced to a Ready (`node.Ready`): the messages go into `msgs`.
    pub fn take_ready(&mut self, msgs: &mut Vec<Msg>) -> ReadyContent {
        debug_assert!(msgs.is_empty());
        std::mem::swap(&mut self.out_msgs, msgs);
        self.pending_app.iter_mut().for_each(|p| *p = None);
        let persist = self.last_index > self.persisted_to || self.hard_state_dirty;
        let apply = (self.apply_sent + 1, self.commit);
        self.persisted_to = self.last_index;
        self.apply_sent = self.commit;
        self.hard_state_dirty = false;
        // etcd's raftNode: `newLeader := rd.SoftState.Lead != raft.None && rh.getLead() != rd.SoftState.Lead`.
        let new_leader = self.lead.is_some() && self.lead != self.lead_reported;
        self.lead_reported = self.lead;
        ReadyContent {
            read_state: self.read_state.take(),
            persist,
            apply,
            new_leader,
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
            term: self.members[from].raft.term,
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
        self.raft_process(m, input, s);
        if !self.members[m].serving {
            self.check_serving(m, s);
        }
        if let Some((next, _)) = self.members[m].raft.goroutine.release(s.now()) {
            self.go(self.member_proc(m), CpuJob::RaftStep(m, next), s);
        }
        self.maybe_start_ready(m, s);
    }

    fn raft_process(&mut self, m: MemberId, input: RaftInput, s: &mut Scheduler<PackedEv>) {
        let now = s.now();
        let role = self.members[m].raft.role;
        let lead = self.members[m].raft.lead;
        match input {
            RaftInput::Tick => self.raft_tick(m, s),
            RaftInput::ReadIndexLocal { ctx } if role == Role::Leader => {
                self.leader_read_index(m, m, ctx, now)
            }
            RaftInput::ReadIndexLocal { ctx } => {
                // With no leader: "no leader at term …; dropping index reading msg" (the read
                // loop retries).
                if let Some(l) = lead {
                    let mut msg = self.raft_msg(m, l, MsgKind::ReadIndex { origin: m, ctx });
                    msg.term = 0; // "do not attach term to MsgProp, MsgReadIndex"
                    self.members[m].raft.out_msgs.push(msg);
                }
            }
            RaftInput::Propose { req } if role == Role::Leader => {
                self.leader_append(m, Some(m), req, s)
            }
            RaftInput::Propose { req } => match lead {
                Some(l) => {
                    let mut msg = self.raft_msg(m, l, MsgKind::Prop { origin: m, req });
                    msg.bytes += self.entry_bytes();
                    msg.term = 0;
                    self.members[m].raft.out_msgs.push(msg);
                }
                // ErrProposalDropped: the put fails.
                None => self.proposal_dropped(req, s),
            },
            RaftInput::Msg(id) => {
                let msg = self.net.take(id);
                let Node::Member(from) = msg.from else {
                    unreachable!("raft messages come from members")
                };
                if !self.step_term(m, from, &msg) {
                    return;
                }
                let leader = self.members[m].raft.role == Role::Leader;
                if leader {
                    self.members[m].raft.recent_active |= from.bit();
                }
                match msg.kind {
                    MsgKind::ReadIndex { origin, ctx } if leader => {
                        self.leader_read_index(m, origin, ctx, now)
                    }
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
                        let resp = self.raft_msg(m, from, kind);
                        self.members[m].raft.out_msgs.push(resp);
                        let last = self.members[m].raft.last_index;
                        self.commit_to(m, commit.min(last), now);
                    }
                    MsgKind::Prop { origin, req } if leader => {
                        self.leader_append(m, Some(origin), req, s)
                    }
                    MsgKind::App { lo, hi, commit } => {
                        self.follower_append(m, from, lo, hi, commit, now)
                    }
                    MsgKind::AppResp {
                        from,
                        index,
                        reject: None,
                    } if leader => self.leader_ack_append(m, from, index, now),
                    MsgKind::AppResp {
                        from,
                        index,
                        reject: Some(rejected),
                    } if leader => self.leader_append_rejected(m, from, rejected, index),
                    MsgKind::HeartbeatResp { from, origin, ctx } if leader => {
                        // `stepLeader`: a peer that lacks entries gets an append (from its
                        // `Next`, so empty when all it lacks is in flight), then the ack.
                        let lr = &self.members[m].raft;
                        if lr.match_index[from] < lr.last_index {
                            self.send_append(m, from);
                        }
                        self.leader_ack(m, from, origin, ctx, now)
                    }
                    MsgKind::ReadIndexResp { ctx, index } => {
                        self.members[m].raft.read_state = Some(ReadState { ctx, index });
                    }
                    MsgKind::Vote {
                        last_index,
                        last_term,
                    } => self.vote_requested(m, from, last_index, last_term, s),
                    MsgKind::VoteResp { granted } => self.vote_received(m, from, granted, s),
                    // A proposal or a ReadIndex that reached a member that no longer leads: a
                    // follower passes it on to the leader it knows (`stepFollower`), a
                    // candidate or a follower that knows none drops it.
                    MsgKind::ReadIndex { .. } | MsgKind::Prop { .. } => {
                        let r = &self.members[m].raft;
                        if let (Role::Follower, Some(l)) = (r.role, r.lead) {
                            let mut fwd = msg;
                            fwd.from_host = self.members[m].host;
                            fwd.from = Node::Member(m);
                            fwd.to = Node::Member(l);
                            self.members[m].raft.out_msgs.push(fwd);
                        }
                    }
                    // Answers for a leader, and this member no longer leads.
                    MsgKind::AppResp { .. } | MsgKind::HeartbeatResp { .. } => {}
                    MsgKind::Request(_) | MsgKind::Response(_) => {
                        unreachable!("client message stepped by raft")
                    }
                }
            }
        }
    }

    /// Leader `leader` records a ReadIndex request and confirms leadership with a heartbeat
    /// round. A leader that has not committed an entry of its term yet postpones it until it
    /// does ("Postpone read only request when this leader has not committed any log entry at
    /// its term"); one that has the same request pending already takes it once
    /// (`readOnly.addRequest`).
    pub(super) fn leader_read_index(
        &mut self,
        leader: MemberId,
        origin: MemberId,
        ctx: u32,
        now: SimTime,
    ) {
        let lr = &mut self.members[leader].raft;
        if !lr.committed_in_term() {
            if !lr.postponed_reads.contains(&(origin, ctx)) {
                lr.postponed_reads.push((origin, ctx));
            }
            return;
        }
        if lr
            .read_only
            .iter()
            .any(|r| r.origin == origin && r.ctx == ctx)
        {
            return;
        }
        self.members[origin]
            .read_loop
            .mark(ctx, RoundHop::Ask.end(), now);
        let index = self.members[leader].raft.commit;
        if self.p.quorum() == 1 {
            self.resolve_read(
                leader,
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
    fn leader_ack(
        &mut self,
        leader: MemberId,
        from: MemberId,
        origin: MemberId,
        ctx: u32,
        now: SimTime,
    ) {
        if !self.p.is_voter(from) || ctx == NO_CTX {
            return;
        }
        let quorum = self.p.quorum();
        let ro = &mut self.members[leader].raft.read_only;
        let Some(pos) = ro.iter().position(|r| r.origin == origin && r.ctx == ctx) else {
            return; // Already released by a later request's quorum.
        };
        ro[pos].acks |= from.bit();
        if ro[pos].acks.count_ones() >= quorum {
            // Release this request and every earlier one, front first.
            for _ in 0..=pos {
                if let Some(r) = self.members[leader].raft.read_only.pop_front() {
                    self.resolve_read(leader, r, now);
                }
            }
        }
    }

    fn resolve_read(&mut self, leader: MemberId, r: PendingRead, now: SimTime) {
        self.members[r.origin]
            .read_loop
            .mark(r.ctx, RoundHop::Quorum.end(), now);
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
