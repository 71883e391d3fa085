//! Terms, raft's clock and leader election, as etcd 3.4 configures raft (`raft/raft.go`;
//! `etcdserver/raft.go`: `CheckQuorum: true`, `PreVote` off by default, `HeartbeatTick` 1,
//! `ElectionTick` from `--election-timeout`).
//!
//! - **Ticks.** Each member's raft node ticks once per heartbeat interval, on its own phase
//!   (each member's ticker started when it did). A tick is a step of the node goroutine; the
//!   ticker's channel holds one tick, so a stopped process does not pile them up.
//! - **The leader** sends a heartbeat to every peer each tick, and every election timeout checks
//!   that a quorum was heard from since the last check, or steps down (`CheckQuorum`).
//! - **A follower** that has heard nothing from a leader for its randomized election timeout,
//!   drawn from `[ElectionTick, 2·ElectionTick)` at every change of term or role, campaigns: it
//!   moves to the next term, votes for itself, and asks every voter.
//! - **A vote** is granted to a candidate whose log is at least as up to date, if the voter
//!   has not voted for another in the term, and is ignored outright while the voter heard from
//!   a leader within the election timeout (`CheckQuorum`'s leader lease: "ignored vote …
//!   lease is not expired").
//! - **Terms.** A message from a later term makes the receiver a follower of that term; one
//!   from an earlier term is dropped, except that a stale leader's heartbeat or append is
//!   answered, so that it learns the term and steps down.
//! - **A new leader** appends an empty entry; until that commits it drops ReadIndex requests,
//!   and etcd resends its pending one when the entry is applied (`readloop.rs`).
//!
//! One shortcut: a new leader starts replicating to each follower from what that follower
//! holds, where raft would find it by a probe (a rejected append and a retry, one round
//! trip), and entries past the new leader's log, which only members that did not vote for it
//! can hold, are dropped at once where raft would overwrite them at that probe.

use super::EtcdModel;
use super::event::{Ev, PackedEv, RaftInput};
use super::ids::MemberId;
use super::net::{Msg, MsgKind, NO_CTX};
use super::raft::Role;
use super::replication::EntryMeta;
use super::result::LeaderChange;
use crate::engine::{Scheduler, SimDuration};
use rand::Rng;

impl EtcdModel {
    /// Every member's first tick, each at its own phase within the first interval; draws the
    /// first election timeouts.
    pub(super) fn raft_clock_phases(&mut self) -> Vec<(MemberId, SimDuration)> {
        let tick = self.p.raft_timing.tick;
        let mut out = Vec::new();
        for m in self.p.member_ids() {
            let phase = self.rng_raft.random_range(0..tick.0.max(1));
            self.members[m].raft.randomized_timeout = self.draw_election_timeout();
            out.push((m, SimDuration(phase)));
        }
        out
    }

    /// `resetRandomizedElectionTimeout`: `ElectionTick + rand(ElectionTick)` ticks.
    pub(super) fn draw_election_timeout(&mut self) -> u32 {
        let e = self.p.raft_timing.election_ticks;
        e + self.rng_raft.random_range(0..e)
    }

    /// Member `m`'s ticker fires (in the life that runs: `EtcdModel::handle` drops a killed
    /// life's): the tick waits for its node goroutine, unless one waits already; the next is
    /// due one interval on.
    pub(super) fn raft_ticker(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        s.schedule_in(
            self.p.raft_timing.tick,
            Ev::RaftTick(m, self.members[m].life),
        );
        if !std::mem::replace(&mut self.members[m].raft.tick_pending, true) {
            self.raft_submit(m, RaftInput::Tick, s);
        }
    }

    /// The node goroutine of `m` steps a tick (`tickHeartbeat` or `tickElection`).
    pub(super) fn raft_tick(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let e = self.p.raft_timing.election_ticks;
        let r = &mut self.members[m].raft;
        r.tick_pending = false;
        r.election_elapsed += 1;
        if r.role == Role::Leader {
            if r.election_elapsed >= e {
                r.election_elapsed = 0;
                let heard = (r.recent_active | m.bit())
                    & self
                        .p
                        .member_ids()
                        .filter(|&v| self.p.is_voter(v))
                        .fold(0, |b, v| b | v.bit());
                r.recent_active = 0;
                if heard.count_ones() < self.p.quorum() {
                    // "stepped down to follower since quorum is not active".
                    let term = r.term;
                    self.become_follower(m, term, None);
                    return;
                }
            }
            for peer in self.p.member_ids().filter(|&p| p != m) {
                let lr = &self.members[m].raft;
                let commit = lr.commit.min(lr.match_index[peer]);
                let kind = MsgKind::Heartbeat {
                    origin: m,
                    ctx: NO_CTX,
                    commit,
                };
                let hb = self.raft_msg(m, peer, kind);
                self.members[m].raft.out_msgs.push(hb);
            }
        } else if self.p.is_voter(m) && r.election_elapsed >= r.randomized_timeout {
            r.election_elapsed = 0;
            self.campaign(m, s);
        }
    }

    /// `campaign`: `m` becomes a candidate of the next term, votes for itself and asks every
    /// other voter.
    fn campaign(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let timeout = self.draw_election_timeout();
        let r = &mut self.members[m].raft;
        r.term += 1;
        r.role = Role::Candidate;
        r.lead = None;
        r.vote = Some(m);
        r.votes = (m.bit(), 0);
        r.election_elapsed = 0;
        r.randomized_timeout = timeout;
        r.hard_state_dirty = true;
        r.forget_reads();
        if self.p.quorum() == 1 {
            self.become_leader(m, s);
            return;
        }
        let (last_index, last_term) = (r.last_index, self.log.term(r.last_index));
        for v in self
            .p
            .member_ids()
            .filter(|&v| v != m && self.p.is_voter(v))
        {
            let kind = MsgKind::Vote {
                last_index,
                last_term,
            };
            let msg = self.raft_msg(m, v, kind);
            self.members[m].raft.out_msgs.push(msg);
        }
    }

    /// `becomeFollower(term, lead)`.
    pub(super) fn become_follower(&mut self, m: MemberId, term: u32, lead: Option<MemberId>) {
        let timeout = self.draw_election_timeout();
        let r = &mut self.members[m].raft;
        if term != r.term {
            r.term = term;
            r.vote = None;
            r.hard_state_dirty = true;
        }
        r.role = Role::Follower;
        r.lead = lead;
        r.votes = (0, 0);
        r.election_elapsed = 0;
        r.randomized_timeout = timeout;
        r.forget_reads();
    }

    /// `becomeLeader`: `m` leads its term and appends the term's empty entry.
    fn become_leader(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let now = s.now();
        let last = self.members[m].raft.last_index;
        // Entries past the new leader's log are overwritten (the shortcut of the module doc).
        self.log.truncate_after(last);
        for x in self.p.member_ids() {
            self.members[x].raft.truncate(last);
        }
        let held: Vec<u64> = self
            .p
            .member_ids()
            .map(|x| self.members[x].raft.last_index)
            .collect();
        let r = &mut self.members[m].raft;
        r.role = Role::Leader;
        r.lead = Some(m);
        r.election_elapsed = 0;
        r.recent_active = 0;
        r.forget_reads();
        for (x, &h) in held.iter().enumerate() {
            r.match_index[MemberId(x as u8)] = h;
            r.next_index[MemberId(x as u8)] = h + 1;
            r.probing[MemberId(x as u8)] = false;
        }
        let term = r.term;
        r.term_start = last + 1;
        self.leader_changes.push(LeaderChange {
            at_ns: now.0,
            leader: m,
            term,
        });
        // The peers that lack earlier entries get them in the same append as the new one.
        for peer in self.p.member_ids().filter(|&p| p != m) {
            let from = self.members[m].raft.match_index[peer] + 1;
            if from <= last {
                self.queue_app(m, peer, from, last);
            }
        }
        self.append_entry(m, EntryMeta::empty(term), now);
    }

    /// The term rules every message meets before it is stepped; returns whether it is.
    pub(super) fn step_term(&mut self, m: MemberId, from: MemberId, msg: &Msg) -> bool {
        let e = self.p.raft_timing.election_ticks;
        let from_leader = matches!(msg.kind, MsgKind::App { .. } | MsgKind::Heartbeat { .. });
        let r = &self.members[m].raft;
        if msg.term == 0 {
            return true; // A forwarded proposal or ReadIndex carries no term.
        }
        if msg.term > r.term {
            if matches!(msg.kind, MsgKind::Vote { .. })
                && r.lead.is_some()
                && r.election_elapsed < e
            {
                return false; // In the leader's lease: the vote is ignored.
            }
            self.become_follower(m, msg.term, from_leader.then_some(from));
        } else if msg.term < r.term {
            if from_leader {
                // Tell the stale leader the term, so that it steps down.
                let kind = MsgKind::AppResp {
                    from: m,
                    index: r.last_index,
                    reject: None,
                };
                let resp = self.raft_msg(m, from, kind);
                self.members[m].raft.out_msgs.push(resp);
            }
            return false;
        } else if from_leader {
            let r = &mut self.members[m].raft;
            debug_assert_ne!(r.role, Role::Leader, "two leaders in term {}", r.term);
            if r.role == Role::Candidate {
                let term = r.term;
                self.become_follower(m, term, Some(from));
            } else {
                r.lead = Some(from);
            }
        }
        if from_leader {
            self.members[m].raft.election_elapsed = 0;
        }
        true
    }

    /// Candidate `from` asks `m` for its vote (the term rules have run).
    pub(super) fn vote_requested(
        &mut self,
        m: MemberId,
        from: MemberId,
        last_index: u64,
        last_term: u32,
        _s: &mut Scheduler<PackedEv>,
    ) {
        let r = &self.members[m].raft;
        let can_vote = r.vote == Some(from) || (r.vote.is_none() && r.lead.is_none());
        let my_term = self.log.term(r.last_index);
        let up_to_date =
            last_term > my_term || (last_term == my_term && last_index >= r.last_index);
        let granted = can_vote && up_to_date;
        if granted {
            let r = &mut self.members[m].raft;
            r.election_elapsed = 0;
            r.vote = Some(from);
            r.hard_state_dirty = true;
        }
        let resp = self.raft_msg(m, from, MsgKind::VoteResp { granted });
        self.members[m].raft.out_msgs.push(resp);
    }

    /// Candidate `m` gets `from`'s answer: a quorum of grants makes it leader, a quorum of
    /// refusals a follower.
    pub(super) fn vote_received(
        &mut self,
        m: MemberId,
        from: MemberId,
        granted: bool,
        s: &mut Scheduler<PackedEv>,
    ) {
        let quorum = self.p.quorum();
        let r = &mut self.members[m].raft;
        if r.role != Role::Candidate {
            return;
        }
        if granted {
            r.votes.0 |= from.bit();
        } else {
            r.votes.1 |= from.bit();
        }
        if r.votes.0.count_ones() >= quorum {
            self.become_leader(m, s);
        } else if r.votes.1.count_ones() >= quorum {
            let term = r.term;
            self.become_follower(m, term, None);
        }
    }
}
