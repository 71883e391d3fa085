//! The write path, as etcd runs it, and the locks through which it slows reads.
//!
//! - **Propose** (`EtcdServer.processInternalRaftRequestOnce`): the member that received the put
//!   builds a proposal and steps it into raft; a follower forwards it to the leader (`MsgProp`).
//! - **Replicate** (`raft.go`): the leader appends the entry (acking itself at once: raft thesis
//!   10.2.1) and sends `MsgApp` to every peer; entries stepped before the next Ready share one
//!   message per peer and one WAL fsync (group commit). A follower appends and answers
//!   `MsgAppResp` after its own fsync (the Ready loop sends after `Save`). A quorum of voters'
//!   acknowledged indexes commits; the new commit index reaches followers with the next `MsgApp`
//!   (sent at once, as `bcastAppend` does) or heartbeat.
//! - **Apply** (`server.go run/applyAll`): each member applies committed entries serially, one
//!   Ready batch at a time. Each put is a write transaction under the backend batch-tx lock:
//!   the apply work, the index update under the treeIndex write lock (held only for the
//!   update), then the writeback into the read buffer under the read-tx lock. After the batch the applied index moves and reads waiting on it are
//!   released together (`applyWait.Trigger`). The member that received the put answers its
//!   client after applying it.
//! - **Backend commit** (`backend.go run`, `batch_tx.go`): every batch interval (100 ms) with
//!   writes pending, or at the batch limit (10,000), the bolt commit holds the batch-tx lock and
//!   the read-tx lock exclusively across its CPU work and two fdatasyncs; read transactions that
//!   open meanwhile wait.
//! - **Limits**: requests over the size limit fail; proposals fail with "too many requests"
//!   when the member's commit index leads its applied index by more than 5,000.

use std::collections::VecDeque;

use super::net::{Msg, MsgKind, Node};
use super::request::Phase;
use super::{CpuJob, EtcdModel, Ev, MemberId, MemberLock, PackedEv, Stage};
use crate::engine::{Scheduler, SimDuration};

/// What a log entry carries, for the model: who proposed it and for which request.
#[derive(Debug, Clone, Copy)]
pub struct EntryMeta {
    /// The member whose client is waiting for it.
    pub origin: MemberId,
    /// The request waiting for it.
    pub req: u32,
    /// Bytes of the entry (key, value, framing).
    pub bytes: u32,
    /// Authenticate's entry: it assigns a token and changes no key.
    pub auth: bool,
}

/// The raft log's entries, from `base` on (earlier ones are applied everywhere and dropped).
#[derive(Debug, Default)]
pub struct Log {
    base: u64,
    entries: VecDeque<EntryMeta>,
}

impl Log {
    /// An empty log whose next entry is `first`.
    pub fn new(first: u64) -> Log {
        Log {
            base: first,
            entries: VecDeque::new(),
        }
    }
    /// The entry at `index`.
    pub fn get(&self, index: u64) -> Option<&EntryMeta> {
        index
            .checked_sub(self.base)
            .and_then(|i| self.entries.get(i as usize))
    }
    fn push(&mut self, e: EntryMeta) -> u64 {
        self.entries.push_back(e);
        self.base + self.entries.len() as u64 - 1
    }
    /// Drops entries up to `index` (applied by every member).
    fn trim_to(&mut self, index: u64) {
        while self.base <= index && self.entries.pop_front().is_some() {
            self.base += 1;
        }
    }
}

/// A job waiting for a lock: a request, a member's apply goroutine, or its backend commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockJob {
    /// A request's goroutine.
    Req(u32),
    /// Member `m`'s apply goroutine.
    Apply(MemberId),
    /// Member `m`'s backend commit.
    Commit(MemberId),
}

/// A disk operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskJob {
    /// The WAL fdatasync of a Ready with entries.
    Wal,
    /// One of the bolt commit's two fdatasyncs.
    Bolt,
}

/// Where a member's apply goroutine is in the current entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyStep {
    /// Waiting for the batch-tx lock.
    BatchTx,
    /// Applying on a core (under the batch-tx lock).
    Cpu,
    /// Waiting for the treeIndex write lock, for the index update.
    Index,
    /// Waiting for the read-tx lock to write the buffer back.
    Writeback,
}

/// Where a member's backend commit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitStep {
    /// Not committing.
    Idle,
    /// Waiting for the batch-tx lock.
    BatchTx,
    /// Waiting for the read-tx lock.
    ReadTx,
    /// Rebalance and spill on a core.
    Cpu,
    /// The first fdatasync.
    Sync1,
    /// The second fdatasync.
    Sync2,
}

impl EtcdModel {
    /// Bytes of a put's log entry.
    pub(super) fn entry_bytes(&self) -> u32 {
        self.w.put.key_bytes + self.w.put.value_bytes + self.p.sizes.entry_overhead
    }

    /// A put reached its member and went through gRPC: check the limits, then auth, then
    /// propose.
    pub(super) fn write_received(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        let m = usize::from(self.reqs[id as usize].member);
        let size = u64::from(self.request_bytes(id));
        let lag = self.members[m]
            .commit
            .saturating_sub(self.members[m].applied);
        if size > self.p.write.max_request_bytes
            || lag > self.p.write.max_apply_lag
            || !self.p.is_voter(m as u8)
        {
            // etcdserver: request is too large / too many requests / not supported for learner.
            self.reqs[id as usize].failed = true;
            self.respond(id, s);
            return;
        }
        self.after_read_index(id, s);
    }

    /// The token (if any) is valid: build the proposal.
    pub(super) fn propose(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        let r = &mut self.reqs[id as usize];
        r.phase = Phase::Propose;
        let host = self.members[usize::from(r.member)].host;
        self.cpu(host, CpuJob::Req(id), s);
    }

    /// The proposal is built: it enters raft.
    pub(super) fn proposed(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        self.enter(id, Stage::Replicate, s.now());
        let m = self.reqs[id as usize].member;
        self.reqs[id as usize].phase = Phase::Replicate;
        self.raft_submit(m, super::RaftInput::Propose { req: id }, s);
    }

    /// The leader appends a proposal and replicates it.
    pub(super) fn leader_append(&mut self, origin: MemberId, req: u32) {
        let auth = self.reqs.get(req as usize).is_some_and(|r| r.auth_pending);
        let bytes = if auth {
            self.p.sizes.request_overhead
        } else {
            self.entry_bytes()
        };
        let index = self.log.push(EntryMeta {
            origin,
            req,
            bytes,
            auth,
        });
        let leader = self.p.leader;
        let li = usize::from(leader);
        self.members[li].last_index = index;
        self.members[li].match_index[li] = index;
        for peer in 0..self.p.members() {
            if peer != leader {
                self.queue_app(peer, index, index);
            }
        }
        if self.p.quorum() == 1 {
            self.commit_to(leader, index);
        }
    }

    /// Queues (or extends) the leader's MsgApp to `peer` with entries `lo..=hi` (none when
    /// `lo > hi`) and the current commit index.
    pub(super) fn queue_app(&mut self, peer: MemberId, lo: u64, hi: u64) {
        let leader = self.p.leader;
        let commit = self.members[usize::from(leader)].commit;
        let add: u32 = (lo..=hi)
            .map(|i| self.log.get(i).map_or(0, |e| e.bytes))
            .sum();
        let lm = &mut self.members[usize::from(leader)];
        if let Some(pos) = lm.pending_app[usize::from(peer)] {
            if let MsgKind::App { lo: l, hi: h, .. } = lm.out_msgs[pos].kind {
                let (nlo, nhi) = if h < l { (lo, hi) } else { (l, hi.max(h)) };
                lm.out_msgs[pos].kind = MsgKind::App {
                    lo: nlo,
                    hi: nhi,
                    commit,
                };
                lm.out_msgs[pos].bytes += add;
                return;
            }
        }
        let msg = Msg {
            from_host: super::host_id(lm.host),
            to: Node::Member(peer),
            kind: MsgKind::App { lo, hi, commit },
            bytes: self.p.sizes.raft_message + add,
        };
        let lm = &mut self.members[usize::from(leader)];
        lm.pending_app[usize::from(peer)] = Some(lm.out_msgs.len());
        lm.out_msgs.push(msg);
    }

    /// A follower appends the leader's entries, answers, and learns the commit index.
    pub(super) fn follower_append(&mut self, m: MemberId, lo: u64, hi: u64, commit: u64) {
        let mi = usize::from(m);
        if hi >= lo {
            self.members[mi].last_index = self.members[mi].last_index.max(hi);
        }
        let index = self.members[mi].last_index;
        let leader = self.p.leader;
        let resp = Msg {
            from_host: super::host_id(self.members[mi].host),
            to: Node::Member(leader),
            kind: MsgKind::AppResp { from: m, index },
            bytes: self.p.sizes.raft_message,
        };
        self.members[mi].out_msgs.push(resp);
        self.commit_to(m, commit.min(index));
    }

    /// The leader learns that `from` holds the log up to `index`; a quorum commits.
    pub(super) fn leader_ack_append(&mut self, from: MemberId, index: u64) {
        let li = usize::from(self.p.leader);
        let fi = usize::from(from);
        let mi = &mut self.members[li].match_index;
        mi[fi] = mi[fi].max(index);
        if !self.p.is_voter(from) {
            return; // A learner's progress is tracked, but it does not vote.
        }
        // The quorum-th highest voter index commits; at most 9 voters (validated), so the
        // sort runs on the stack, not on an allocation per acknowledgement.
        let n = usize::from(self.p.voters);
        let mut voters = [0u64; 9];
        voters[..n].copy_from_slice(&mi[..n]);
        voters[..n].sort_unstable_by(|a, b| b.cmp(a));
        let quorum_index = voters[self.p.quorum() as usize - 1];
        if quorum_index > self.members[li].commit {
            self.commit_to(self.p.leader, quorum_index);
            // bcastAppend: tell every peer the new commit index at once.
            let last = self.members[li].last_index;
            for peer in 0..self.p.members() {
                if peer != self.p.leader {
                    self.queue_app(peer, last + 1, last);
                }
            }
        }
    }

    /// Member `m`'s commit index moves to `c`: its own clients' puts now wait for apply.
    pub(super) fn commit_to(&mut self, m: MemberId, c: u64) {
        let mi = usize::from(m);
        let old = self.members[mi].commit;
        if c <= old {
            return;
        }
        self.members[mi].commit = c;
        let now = self.now;
        for i in old + 1..=c {
            if let Some(e) = self.log.get(i).copied() {
                if e.origin == m {
                    self.enter(e.req, Stage::Apply, now);
                }
            }
        }
    }

    /// A Ready hands committed entries `lo..=hi` to member `m`'s apply goroutine.
    pub(super) fn apply_enqueue(
        &mut self,
        m: MemberId,
        lo: u64,
        hi: u64,
        s: &mut Scheduler<PackedEv>,
    ) {
        let mem = &mut self.members[usize::from(m)];
        mem.apply_queue.push_back((lo, hi));
        if !mem.apply_busy {
            self.apply_next_batch(m, s);
        }
    }

    fn apply_next_batch(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mem = &mut self.members[usize::from(m)];
        let Some((lo, hi)) = mem.apply_queue.pop_front() else {
            mem.apply_busy = false;
            mem.apply_level.set(self.now, 0.0);
            return;
        };
        mem.apply_busy = true;
        mem.apply_level.set(self.now, 1.0);
        mem.apply_next = lo;
        mem.apply_hi = hi;
        mem.apply_batch_start = self.now;
        self.apply_entry_start(m, s);
    }

    fn apply_entry_start(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        self.members[usize::from(m)].apply_step = ApplyStep::BatchTx;
        if self.lock_batch_tx(m, LockJob::Apply(m), s) {
            self.apply_lock_granted(m, s);
        }
    }

    /// The apply goroutine of `m` got the lock its current step waits for.
    pub(super) fn apply_lock_granted(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mi = usize::from(m);
        match self.members[mi].apply_step {
            ApplyStep::BatchTx => {
                self.members[mi].apply_step = ApplyStep::Cpu;
                let host = self.members[mi].host;
                self.cpu(host, CpuJob::Apply(m), s);
            }
            ApplyStep::Index => {
                // kvindex.Put holds the index write lock only for the update itself.
                let granted = self.members[mi].index_lock.write_release(self.now);
                self.hand_on(m, granted, s);
                self.writeback(m, s);
            }
            ApplyStep::Cpu => unreachable!("the apply CPU step takes no lock"),
            ApplyStep::Writeback => {
                // The buffer is written back under readTx.Lock; then both locks go.
                self.unlock_read_tx_write(m, s);
                self.unlock_batch_tx(m, s);
                self.apply_entry_done(m, true, s);
            }
        }
    }

    /// The CPU cost of applying member `m`'s current entry.
    pub(super) fn apply_cost(&mut self, m: MemberId) -> SimDuration {
        let idx = self.members[usize::from(m)].apply_next;
        let (bytes, auth_entry) = self.log.get(idx).map_or((0, false), |e| (e.bytes, e.auth));
        let c = &self.p.member_costs;
        let mut d = c.apply_entry.sample(&mut self.rng_cpu)
            + SimDuration::from_nanos_f64(c.apply_ns_per_byte * f64::from(bytes));
        // With auth on, applierV3WithAuth checks each put's permission (IsPutPermitted) under
        // the batch-tx lock before the write transaction.
        if self.w.auth != super::AuthMode::None && !auth_entry {
            let rules = f64::from(self.w.rbac_rules.max(1)).log2();
            d += c.rbac.sample(&mut self.rng_cpu)
                + SimDuration::from_nanos_f64(c.rbac_us_per_log2_rule * rules * 1e3);
        }
        d
    }

    /// The apply CPU work of `m`'s current entry is done: a put updates the index (under its
    /// write lock) and writes the buffer back; Authenticate's entry changes no key.
    pub(super) fn apply_cpu_done(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mi = usize::from(m);
        let idx = self.members[mi].apply_next;
        if self.log.get(idx).is_some_and(|e| e.auth) {
            self.unlock_batch_tx(m, s);
            self.apply_entry_done(m, false, s);
            return;
        }
        self.members[mi].apply_step = ApplyStep::Index;
        let granted = self.members[mi]
            .index_lock
            .write(self.now, LockJob::Apply(m))
            .is_some();
        self.poll_lock_wakes(m, s);
        if granted {
            self.apply_lock_granted(m, s);
        }
    }

    fn writeback(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mi = usize::from(m);
        self.members[mi].apply_step = ApplyStep::Writeback;
        let granted = self.members[mi]
            .read_tx
            .write(self.now, LockJob::Apply(m))
            .is_some();
        self.poll_lock_wakes(m, s);
        if granted {
            self.apply_lock_granted(m, s);
        }
    }

    fn apply_entry_done(&mut self, m: MemberId, wrote: bool, s: &mut Scheduler<PackedEv>) {
        let mi = usize::from(m);
        let idx = self.members[mi].apply_next;
        let mem = &mut self.members[mi];
        if wrote {
            mem.pending_writes += 1;
            mem.buffer_version += 1;
        }
        let full = mem.pending_writes >= self.p.write.batch_limit;
        if let Some(e) = self.log.get(idx).copied() {
            if e.origin == m {
                self.write_applied(e.req, s);
            }
        }
        if full {
            self.start_backend_commit(m, s);
        }
        let mem = &mut self.members[mi];
        if idx < mem.apply_hi {
            mem.apply_next = idx + 1;
            self.apply_entry_start(m, s);
        } else {
            self.apply_batch_done(m, idx, s);
        }
    }

    fn apply_batch_done(&mut self, m: MemberId, applied: u64, s: &mut Scheduler<PackedEv>) {
        let mi = usize::from(m);
        let (start, n) = (
            self.members[mi].apply_batch_start,
            applied - self.members[mi].applied,
        );
        self.activity(m, "apply", start, n);
        self.members[mi].applied = applied;
        // applyWait.Trigger: the read loop's round waiting on this index is released now.
        if self.members[mi]
            .rl_wait_index
            .is_some_and(|ix| ix <= applied)
        {
            self.members[mi].rl_wait_index = None;
            self.finish_round(m, s);
        }
        let everywhere = self.members.iter().map(|x| x.applied).min().unwrap_or(0);
        self.log.trim_to(everywhere);
        self.apply_next_batch(m, s);
    }

    /// Member `m` has applied request `id`'s put: answer the client.
    fn write_applied(&mut self, id: u32, s: &mut Scheduler<PackedEv>) {
        let r = &mut self.reqs[id as usize];
        r.phase = Phase::WriteRespond;
        let host = self.members[usize::from(r.member)].host;
        self.cpu(host, CpuJob::Req(id), s);
    }

    /// The backend's timer (`backend.run`): commit if writes are pending; the timer restarts
    /// when that commit ends, or now if there was nothing to commit.
    pub(super) fn backend_tick(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mi = usize::from(m);
        if self.members[mi].pending_writes > 0 && self.members[mi].commit_step == CommitStep::Idle {
            self.members[mi].timer_commit = true;
            self.start_backend_commit(m, s);
        } else {
            s.schedule_in(self.p.write.batch_interval, Ev::BackendTick(m));
        }
    }

    fn start_backend_commit(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mi = usize::from(m);
        if self.members[mi].commit_step != CommitStep::Idle {
            return;
        }
        self.members[mi].commit_step = CommitStep::BatchTx;
        self.members[mi].commit_start = self.now;
        if self.lock_batch_tx(m, LockJob::Commit(m), s) {
            self.commit_lock_granted(m, s);
        }
    }

    /// The backend commit of `m` got the lock it waits for.
    pub(super) fn commit_lock_granted(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mi = usize::from(m);
        match self.members[mi].commit_step {
            CommitStep::BatchTx => {
                self.members[mi].commit_step = CommitStep::ReadTx;
                let granted = self.members[mi]
                    .read_tx
                    .write(self.now, LockJob::Commit(m))
                    .is_some();
                self.poll_lock_wakes(m, s);
                if granted {
                    self.commit_lock_granted(m, s);
                }
            }
            CommitStep::ReadTx => {
                self.members[mi].commit_step = CommitStep::Cpu;
                let host = self.members[mi].host;
                self.cpu(host, CpuJob::BackendCommit(m), s);
            }
            other => unreachable!("backend commit step {other:?} takes no lock"),
        }
    }

    /// The CPU cost of member `m`'s backend commit.
    pub(super) fn backend_commit_cost(&mut self, m: MemberId) -> SimDuration {
        let n = self.members[usize::from(m)].pending_writes;
        let c = &self.p.member_costs;
        c.backend_commit.sample(&mut self.rng_cpu)
            + SimDuration::from_nanos_f64(c.backend_commit_ns_per_write * n as f64)
    }

    /// The commit's CPU work is done: two fdatasyncs follow.
    pub(super) fn backend_commit_cpu_done(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        self.members[usize::from(m)].commit_step = CommitStep::Sync1;
        self.disk(m, DiskJob::Bolt, s);
    }

    /// Queues a disk operation of member `m`.
    pub(super) fn disk(&mut self, m: MemberId, job: DiskJob, s: &mut Scheduler<PackedEv>) {
        if let Some(job) = self.members[usize::from(m)].disk.acquire(self.now, job) {
            self.start_disk(m, job, s);
        }
    }

    fn start_disk(&mut self, m: MemberId, job: DiskJob, s: &mut Scheduler<PackedEv>) {
        self.members[usize::from(m)].disk_start = self.now;
        let d = self.p.fsync.sample(&mut self.rng_disk);
        s.schedule_in(d, Ev::DiskDone(m, job));
    }

    /// A disk operation of member `m` finished.
    pub(super) fn disk_done(&mut self, m: MemberId, job: DiskJob, s: &mut Scheduler<PackedEv>) {
        let mi = usize::from(m);
        let what = match job {
            DiskJob::Wal => "wal fsync",
            DiskJob::Bolt => "bolt fsync",
        };
        self.activity(m, what, self.members[mi].disk_start, 0);
        if let Some((next, _)) = self.members[mi].disk.release(self.now) {
            self.start_disk(m, next, s);
        }
        match job {
            DiskJob::Wal => self.wal_synced(m, s),
            DiskJob::Bolt => match self.members[mi].commit_step {
                CommitStep::Sync1 => {
                    self.members[mi].commit_step = CommitStep::Sync2;
                    self.disk(m, DiskJob::Bolt, s);
                }
                CommitStep::Sync2 => {
                    let (start, n) = (
                        self.members[mi].commit_start,
                        self.members[mi].pending_writes,
                    );
                    self.activity(m, "backend commit", start, n);
                    let mem = &mut self.members[mi];
                    mem.commit_step = CommitStep::Idle;
                    mem.pending_writes = 0;
                    mem.buffer_version += 1;
                    self.m.backend_commits += 1;
                    if std::mem::take(&mut self.members[mi].timer_commit) {
                        s.schedule_in(self.p.write.batch_interval, Ev::BackendTick(m));
                    }
                    self.unlock_read_tx_write(m, s);
                    self.unlock_batch_tx(m, s);
                }
                other => unreachable!("bolt fsync in commit step {other:?}"),
            },
        }
    }

    /// Takes the batch-tx lock for `job`; true if granted at once.
    pub(super) fn lock_batch_tx(
        &mut self,
        m: MemberId,
        job: LockJob,
        _s: &mut Scheduler<PackedEv>,
    ) -> bool {
        self.members[usize::from(m)]
            .batch_tx
            .acquire(self.now, job)
            .is_some()
    }

    /// Releases the batch-tx lock and hands it on.
    pub(super) fn unlock_batch_tx(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        if let Some((next, _)) = self.members[usize::from(m)].batch_tx.release(self.now) {
            self.lock_granted(m, next, s);
        }
    }

    /// Releases the read-tx lock held for writing and hands it on.
    pub(super) fn unlock_read_tx_write(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let granted = self.members[usize::from(m)].read_tx.write_release(self.now);
        self.hand_on(m, granted, s);
    }

    /// Schedules the wake-ups member `m`'s reader–writer locks ask for (see
    /// [`crate::engine::RwLock::hold_until`]); called after every operation on them.
    pub(super) fn poll_lock_wakes(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mem = &mut self.members[usize::from(m)];
        if let Some(t) = mem.index_lock.take_wake() {
            s.schedule_at(t, Ev::LockWake(m, MemberLock::Index));
        }
        if let Some(t) = mem.read_tx.take_wake() {
            s.schedule_at(t, Ev::LockWake(m, MemberLock::ReadTx));
        }
    }

    /// Member `m`'s `lock` wakes: the readers that announced their release have left, and
    /// the writer they held back goes on.
    pub(super) fn lock_wake(&mut self, m: MemberId, lock: MemberLock, s: &mut Scheduler<PackedEv>) {
        let mem = &mut self.members[usize::from(m)];
        let granted = match lock {
            MemberLock::Index => mem.index_lock.wake(self.now),
            MemberLock::ReadTx => mem.read_tx.wake(self.now),
        };
        for (job, _) in granted {
            self.lock_granted(m, job, s);
        }
        self.poll_lock_wakes(m, s);
    }

    /// After a release of one of member `m`'s reader–writer locks: schedules the wake-ups the
    /// locks ask for, then hands the grants on.
    pub(super) fn hand_on(
        &mut self,
        m: MemberId,
        granted: Vec<(LockJob, SimDuration)>,
        s: &mut Scheduler<PackedEv>,
    ) {
        self.poll_lock_wakes(m, s);
        for (job, _) in granted {
            self.lock_granted(m, job, s);
        }
    }

    /// A lock of member `m` was granted to `job`: it goes on with what it was waiting for.
    pub(super) fn lock_granted(&mut self, m: MemberId, job: LockJob, s: &mut Scheduler<PackedEv>) {
        match job {
            LockJob::Req(id) => self.req_lock_granted(id, s),
            LockJob::Apply(_) => self.apply_lock_granted(m, s),
            LockJob::Commit(_) => self.commit_lock_granted(m, s),
        }
    }
}
