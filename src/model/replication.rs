//! Log replication (`raft/raft.go`): the leader appends an entry (acking itself at once: raft
//! thesis 10.2.1) and sends `MsgApp` to every peer; entries stepped before the next Ready share
//! one message per peer and one WAL fsync (group commit). A follower appends and answers
//! `MsgAppResp` after its own fsync (the Ready loop sends after `Save`). A quorum of voters'
//! acknowledged indexes commits; the new commit index reaches followers with the next `MsgApp`
//! (sent at once, as `bcastAppend` does) or heartbeat.

use std::collections::VecDeque;

use super::EtcdModel;
use super::event::Life;
use super::ids::{MemberId, ReqId};
use super::net::{Msg, MsgKind, Node};
use super::stage::Stage;
use crate::engine::SimTime;

/// What an entry asks the members to apply (`InternalRaftRequest`'s request, or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A put.
    Put,
    /// Authenticate's: it assigns a token and changes no key.
    Authenticate,
    /// A new leader's empty entry.
    Empty,
    /// A compaction (`CompactionRequest`), of timeline step `step`, scanning `revisions`.
    Compact {
        /// The timeline step that called it.
        step: u32,
        /// Revisions at or below its revision.
        revisions: u64,
    },
}

/// What a log entry carries, for the model: who proposed it and for which request.
#[derive(Debug, Clone, Copy)]
pub struct EntryMeta {
    /// The member whose client is waiting for it (none: a new leader's empty entry, a
    /// compaction).
    pub origin: Option<MemberId>,
    /// The origin's life when it proposed: a member started again has no waiter for what its
    /// killed process proposed.
    pub life: Life,
    /// The request waiting for it.
    pub req: ReqId,
    /// Bytes of the entry (key, value, framing).
    pub bytes: u32,
    /// What it asks the members to apply.
    pub kind: EntryKind,
    /// The term it was appended in.
    pub term: u32,
}

impl EntryMeta {
    /// The entry a new leader appends at the start of its term (`becomeLeader`: "an empty
    /// entry"); applying it changes nothing and tells etcd its term's first commit.
    pub fn empty(term: u32) -> EntryMeta {
        EntryMeta {
            origin: None,
            life: Life(0),
            req: ReqId(u32::MAX),
            bytes: 0,
            kind: EntryKind::Empty,
            term,
        }
    }

    /// A compaction called by timeline step `step`, scanning `revisions`.
    pub fn compact(term: u32, step: u32, revisions: u64, bytes: u32) -> EntryMeta {
        EntryMeta {
            origin: None,
            life: Life(0),
            req: ReqId(u32::MAX),
            bytes,
            kind: EntryKind::Compact { step, revisions },
            term,
        }
    }

    /// Whether a client of `m` in its life `life` waits for it.
    pub fn proposed_on(&self, m: MemberId, life: Life) -> bool {
        self.origin == Some(m) && self.life == life
    }
}

/// The raft log's entries, from `base` on (earlier ones are applied everywhere and dropped).
#[derive(Debug, Default)]
pub struct Log {
    base: u64,
    entries: VecDeque<EntryMeta>,
    /// The term of the entry before `base` (of the last one dropped).
    base_term: u32,
}

impl Log {
    /// An empty log whose next entry is `first`, after entries of term 1.
    pub fn new(first: u64) -> Log {
        Log {
            base: first,
            entries: VecDeque::new(),
            base_term: 1,
        }
    }

    /// The term of the entry at `index` (of the last dropped one, for any before `base`).
    pub fn term(&self, index: u64) -> u32 {
        self.get(index).map_or(self.base_term, |e| e.term)
    }

    /// Drops the entries after `last`: a new leader's log replaces them.
    pub fn truncate_after(&mut self, last: u64) {
        let keep = last.saturating_sub(self.base - 1) as usize;
        self.entries.truncate(keep);
    }

    /// The index the next entry gets.
    pub fn next_index(&self) -> u64 {
        self.base + self.entries.len() as u64
    }

    /// The entry at `index`.
    pub fn get(&self, index: u64) -> Option<&EntryMeta> {
        index
            .checked_sub(self.base)
            .and_then(|i| self.entries.get(i as usize))
    }

    pub(super) fn push(&mut self, e: EntryMeta) -> u64 {
        self.entries.push_back(e);
        self.base + self.entries.len() as u64 - 1
    }

    /// Drops entries up to `index` (applied by every member).
    pub fn trim_to(&mut self, index: u64) {
        while self.base <= index {
            let Some(e) = self.entries.pop_front() else {
                break;
            };
            self.base_term = e.term;
            self.base += 1;
        }
    }
}

impl EtcdModel {
    /// Bytes of a put's log entry.
    pub(super) fn entry_bytes(&self) -> u32 {
        self.w.put.key_bytes + self.w.put.value_bytes + self.p.sizes.entry_overhead
    }

    /// Bytes of the log's entries `lo..=hi` (none when `hi < lo`).
    fn entry_range_bytes(&self, lo: u64, hi: u64) -> u32 {
        (lo..=hi)
            .map(|i| self.log.get(i).map_or(0, |e| e.bytes))
            .sum()
    }

    /// Leader `leader` appends `origin`'s proposal for request `req` and replicates it.
    ///
    /// A leader that does not know yet that a later one has appended (it was paused or cut
    /// off through an election) would append to a log the new leader overwrites: raft keeps
    /// such an entry until the stale leader steps down, and it never commits. The shared log
    /// cannot hold a diverging entry, so the proposal fails at once, as a dropped one does
    /// (etcd would fail it at its deadline).
    pub(super) fn leader_append(
        &mut self,
        leader: MemberId,
        origin: Option<MemberId>,
        req: ReqId,
        s: &mut crate::engine::Scheduler<super::event::PackedEv>,
    ) {
        let now = s.now();
        if self.log.next_index() != self.members[leader].raft.last_index + 1 {
            self.proposal_dropped(req, s);
            return;
        }
        let auth = self.reqs[req].auth_pending;
        let bytes = if auth {
            self.p.sizes.request_overhead
        } else {
            self.entry_bytes()
        };
        let term = self.members[leader].raft.term;
        let life = origin.map_or(Life(0), |o| self.members[o].life);
        self.append_entry(
            leader,
            EntryMeta {
                origin,
                life,
                req,
                bytes,
                kind: if auth {
                    EntryKind::Authenticate
                } else {
                    EntryKind::Put
                },
                term,
            },
            now,
        );
    }

    /// Leader `leader` appends entry `e` (acking itself) and replicates it.
    pub(super) fn append_entry(&mut self, leader: MemberId, e: EntryMeta, now: SimTime) {
        debug_assert_eq!(
            self.log.next_index(),
            self.members[leader].raft.last_index + 1,
            "the leader appends at the end of the shared log"
        );
        if e.kind == EntryKind::Put {
            self.store_revisions += 1;
        }
        let index = self.log.push(e);
        let lr = &mut self.members[leader].raft;
        lr.last_index = index;
        lr.match_index[leader] = index;
        for peer in self.p.member_ids() {
            // A probed peer is sent nothing new until it answers (`IsPaused`).
            if peer != leader && !self.members[leader].raft.probing[peer] {
                self.queue_app(leader, peer, index, index);
            }
        }
        if self.p.quorum() == 1 {
            self.commit_to(leader, index, now);
        }
    }

    /// Queues (or extends) the leader's MsgApp to `peer` with entries `lo..=hi` (none when
    /// `lo > hi`) and the current commit index.
    pub(super) fn queue_app(&mut self, leader: MemberId, peer: MemberId, lo: u64, hi: u64) {
        let host = self.members[leader].host;
        let pending = self.members[leader].raft.pending_app[peer].and_then(|pos| {
            match self.members[leader].raft.out_msgs[pos].kind {
                MsgKind::App { lo: l, hi: h, .. } => Some((pos, l, h)),
                _ => None,
            }
        });
        // The entries the message carries once this is added, and the bytes they add.
        let (nlo, nhi, add) = match pending {
            Some((_, l, h)) if h >= l && hi >= lo => {
                let (nlo, nhi) = (l.min(lo), h.max(hi));
                let add = self.entry_range_bytes(nlo, l - 1) + self.entry_range_bytes(h + 1, nhi);
                (nlo, nhi, add)
            }
            Some((_, l, h)) if h >= l => (l, h, 0),
            _ => (lo, hi, self.entry_range_bytes(lo, hi)),
        };
        let lr = &mut self.members[leader].raft;
        let commit = lr.commit;
        if hi >= lo && !lr.probing[peer] {
            // Replicating, `Next` moves past what is sent (`OptimisticUpdate`); probing, not.
            lr.next_index[peer] = lr.next_index[peer].max(hi + 1);
        }
        if let Some((pos, ..)) = pending {
            lr.out_msgs[pos].kind = MsgKind::App {
                lo: nlo,
                hi: nhi,
                commit,
            };
            lr.out_msgs[pos].bytes += add;
            return;
        }
        let msg = Msg {
            from_host: host,
            from: Node::Member(leader),
            to: Node::Member(peer),
            kind: MsgKind::App { lo, hi, commit },
            bytes: self.p.sizes.raft_message + add,
            term: lr.term,
        };
        lr.pending_app[peer] = Some(lr.out_msgs.len());
        lr.out_msgs.push(msg);
    }

    /// A follower appends leader `leader`'s entries, answers, and learns the commit index.
    pub(super) fn follower_append(
        &mut self,
        m: MemberId,
        leader: MemberId,
        lo: u64,
        hi: u64,
        commit: u64,
        now: SimTime,
    ) {
        let resp_bytes = self.p.sizes.raft_message;
        let mem = &mut self.members[m];
        // An append that does not follow on from its log (its previous index is past the
        // last one held: entries sent while this member was down or cut off were lost) is
        // rejected with the last index as the hint (`handleAppendEntries`), and the leader
        // sends again from there. Where logs diverge after an election, the new leader starts
        // from what each follower holds instead of probing back (`election.rs`).
        let reject = (lo > mem.raft.last_index + 1).then_some(lo - 1);
        if reject.is_none() && hi >= lo {
            mem.raft.last_index = mem.raft.last_index.max(hi);
        }
        let index = mem.raft.last_index;
        let resp = Msg {
            from_host: mem.host,
            from: Node::Member(m),
            to: Node::Member(leader),
            kind: MsgKind::AppResp {
                from: m,
                index,
                reject,
            },
            bytes: resp_bytes,
            term: mem.raft.term,
        };
        mem.raft.out_msgs.push(resp);
        if reject.is_none() {
            self.commit_to(m, commit.min(index), now);
        }
    }

    /// `sendAppend`: leader `leader` sends `peer` its entries from `Progress.Next` on (none,
    /// only the commit index, when it was sent everything).
    pub(super) fn send_append(&mut self, leader: MemberId, peer: MemberId) {
        let lr = &self.members[leader].raft;
        let (next, last) = (lr.next_index[peer], lr.last_index);
        self.queue_app(leader, peer, next, last);
    }

    /// `peer` rejected the append after index `rejected`, holding the log up to `hint`
    /// (`stepLeader`'s `MaybeDecrTo`, then `sendAppend`). Replicating, the leader sends again
    /// from `Match + 1` and probes; probing, it goes back to `hint + 1`. A rejection of an append
    /// older than that (at or below `Match`; probing, of another than the one at `Next - 1`)
    /// is stale, and ignored.
    pub(super) fn leader_append_rejected(
        &mut self,
        leader: MemberId,
        peer: MemberId,
        rejected: u64,
        hint: u64,
    ) {
        let lr = &mut self.members[leader].raft;
        if lr.probing[peer] {
            if rejected + 1 != lr.next_index[peer] {
                return;
            }
            lr.next_index[peer] = rejected.min(hint + 1).max(lr.match_index[peer] + 1);
        } else {
            if rejected <= lr.match_index[peer] {
                return;
            }
            lr.next_index[peer] = lr.match_index[peer] + 1;
            lr.probing[peer] = true;
        }
        self.send_append(leader, peer);
    }

    /// Leader `leader` learns that `from` holds the log up to `index`; a quorum commits.
    pub(super) fn leader_ack_append(
        &mut self,
        leader: MemberId,
        from: MemberId,
        index: u64,
        now: SimTime,
    ) {
        let lr = &mut self.members[leader].raft;
        let updated = index > lr.match_index[from];
        lr.match_index[from] = lr.match_index[from].max(index);
        if updated && lr.probing[from] {
            // `BecomeReplicate`, then what it still lacks (appended while it was probed).
            lr.probing[from] = false;
            lr.next_index[from] = index + 1;
            if index < lr.last_index {
                self.send_append(leader, from);
            }
        }
        let mi = &self.members[leader].raft.match_index;
        if !self.p.is_voter(from) {
            return; // A learner's progress is tracked, but it does not vote.
        }
        // The quorum-th highest voter index commits; at most 9 voters (validated), so the
        // sort runs on the stack, not on an allocation per acknowledgement.
        let n = usize::from(self.p.voters);
        let mut voters = [0u64; 9];
        for (slot, v) in voters[..n].iter_mut().zip(self.p.member_ids()) {
            *slot = mi[v];
        }
        voters[..n].sort_unstable_by(|a, b| b.cmp(a));
        let quorum_index = voters[self.p.quorum() as usize - 1];
        if quorum_index > self.members[leader].raft.commit {
            let before = self.members[leader].raft.committed_in_term();
            self.commit_to(leader, quorum_index, now);
            if !before && self.members[leader].raft.committed_in_term() {
                // `releasePendingReadIndexMessages`: the term's first commit.
                let reads = std::mem::take(&mut self.members[leader].raft.postponed_reads);
                for (origin, ctx) in reads {
                    self.leader_read_index(leader, origin, ctx, now);
                }
            }
            // bcastAppend: tell every peer the new commit index at once.
            let last = self.members[leader].raft.last_index;
            for peer in self.p.member_ids() {
                if peer != leader && !self.members[leader].raft.probing[peer] {
                    self.queue_app(leader, peer, last + 1, last);
                }
            }
        }
    }

    /// Member `m`'s commit index moves to `c`: its own clients' puts now wait for the apply
    /// loop to reach them.
    pub(super) fn commit_to(&mut self, m: MemberId, c: u64, now: SimTime) {
        let old = self.members[m].raft.commit;
        if c <= old {
            return;
        }
        self.members[m].raft.commit = c;
        for i in old + 1..=c {
            if let Some(e) = self.log.get(i).copied() {
                if e.proposed_on(m, self.members[m].life) {
                    self.enter(e.req, Stage::ApplyQueue, now);
                }
            }
        }
    }
}
