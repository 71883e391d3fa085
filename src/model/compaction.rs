//! Compaction (`mvcc/kvstore.go` `compact`, `index.go` `treeIndex.Compact`,
//! `kvstore_compaction.go` `scheduleCompaction`, etcd 3.4.23).
//!
//! A `Compact` call is a raft proposal. Every member applies it: the apply goroutine writes
//! the scheduled revision into the meta bucket under the batch-tx lock and forces a backend
//! commit (`updateCompactRev`), then schedules the job on the store's own FIFO scheduler, a
//! goroutine of its own ([`Compactor`]). The job:
//! - walks the index (`treeIndex.Compact`): from 3.4.0 over a copy-on-write clone, taking the
//!   index lock for one key at a time, so reads and applies slip in between keys; before,
//!   the apply goroutine walks the tree holding the index lock throughout
//!   ([`Mechanisms::compact_clones_index`](super::params::Mechanisms));
//! - deletes from bolt in batches: each takes the batch-tx lock, scans the next
//!   `compact_batch` revisions of the key bucket and deletes those the index did not keep,
//!   unlocks, forces a commit (two fdatasyncs, the read-tx lock), and sleeps `compact_pause`
//!   (10 ms) before the next. The batch that scans fewer than a full batch writes the finished
//!   revision and ends the job, with no commit and no pause.
//!
//! What the model does not know, it assumes: the revisions a compaction drops are the oldest
//! (a key keeps its latest revision, and the store's revisions are scanned in revision order:
//! exact for keys written in passes, as the harness's fill writes them), and a delete dirties
//! 16 bytes of bolt's pages (its revision key, `backend.rs`). The `Compact` call's own gRPC and its forward
//! to the leader are not simulated (microseconds beside a compaction's seconds): the leader
//! appends the entry at the step. A call to a paused member waits for its resume; one
//! forwarded to a paused leader waits for it too, and fails if the leader was deposed
//! meanwhile (the forward is lost; etcd's call times out). A call with nothing put since the
//! last compaction fails (`ErrCompacted`). A killed member's compaction goes with its process; etcd
//! resumes a scheduled compaction when it starts again, the model does not.

use std::collections::VecDeque;

use super::EtcdModel;
use super::event::{CpuJob, Ev, PackedEv};
use super::ids::MemberId;
use super::locks::{Lock, LockJob, Mode};
use super::result::Compacted;
use crate::engine::{Scheduler, SimDuration, SimTime};

/// Keys the index walk takes the index lock for at a time, from 3.4.0. etcd takes it per key;
/// the model takes it for this many consecutive keys (about 21 µs of walk), so that a walk of
/// 100,000 keys is a thousand lock holds and bursts, not a hundred thousand.
pub const WALK_CHUNK_KEYS: u64 = 100;

/// One compaction as a member's store runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// The timeline step that called it.
    pub step: u32,
    /// Keys the index walk visits.
    pub keys: u64,
    /// Revisions the bolt batches scan.
    pub revisions: u64,
}

impl Job {
    /// Revisions it deletes: all but each key's latest.
    fn drops(&self) -> u64 {
        self.revisions.saturating_sub(self.keys)
    }
}

/// Where a member's compaction job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Step {
    /// No job.
    #[default]
    Idle,
    /// Waiting for the index lock, for the next keys of the walk.
    IndexLock,
    /// Walking them, on a core, under the index lock.
    IndexWalk,
    /// Waiting for the batch-tx lock, for the next bolt batch.
    BatchTx,
    /// Scanning and deleting the batch, on a core, under the batch-tx lock.
    Batch,
    /// Waiting for the forced commit of the batch's deletes.
    Commit,
    /// Sleeping between batches.
    Pause,
}

/// A member's store FIFO scheduler goroutine, running compaction jobs one at a time.
#[derive(Debug, Default)]
pub struct Compactor {
    step: Step,
    job: Option<Job>,
    /// Jobs scheduled behind the running one.
    queue: VecDeque<Job>,
    /// Keys of the walk not visited yet.
    keys_left: u64,
    /// Revisions not scanned yet, and how many of them are still to be deleted.
    scan_left: u64,
    drop_left: u64,
    /// When the job began, and when its walk ended.
    started: SimTime,
    walked: SimTime,
    batches: u64,
    /// Before 3.4.0: the apply goroutine waits for the walk (it is its own).
    apply_waits: bool,
    /// The timeline steps of `Compact` calls that came to this member, or through it as the
    /// leader, while its process was stopped: they go on when it resumes.
    calls_waiting: Vec<u32>,
}

impl EtcdModel {
    /// Timeline step `step`: a client calls `Compact` on `member`. The leader appends the
    /// compaction; with no leader (or a stale one, or the member down), or nothing put since
    /// the last compaction (`ErrCompacted`), the call fails and nothing is compacted. A call
    /// to a paused member, or while its leader is paused, waits for the resume.
    pub(super) fn compact_call(
        &mut self,
        step: u32,
        member: MemberId,
        revisions: Option<u64>,
        s: &mut Scheduler<PackedEv>,
    ) {
        if self.members[member].dead || !self.members[member].serving {
            self.compactions_failed += 1;
            return;
        }
        let Some(leader) = self.members[member].raft.lead else {
            self.compactions_failed += 1;
            return;
        };
        let lr = &self.members[leader].raft;
        if self.members[leader].dead
            || lr.role != super::raft::Role::Leader
            || self.log.next_index() != lr.last_index + 1
        {
            self.compactions_failed += 1;
            return;
        }
        // A paused process (neither is dead) takes the call (or its forward) when it resumes.
        for waiter in [member, leader] {
            if self.process_paused(self.member_proc(waiter)) {
                self.members[waiter].compactor.calls_waiting.push(step);
                return;
            }
        }
        if self.compacted && self.store_revisions == self.w.range.total_keys {
            // Nothing was put since the last compaction: its revision is the current one
            // (`ErrCompacted`).
            self.compactions_failed += 1;
            return;
        }
        self.compacted = true;
        let revisions = revisions.unwrap_or(self.store_revisions);
        // Each key keeps its latest revision; puts from now on add to those.
        self.store_revisions = self.w.range.total_keys;
        let term = lr.term;
        let e = super::replication::EntryMeta::compact(
            term,
            step,
            revisions,
            self.p.sizes.request_overhead,
        );
        self.append_entry(leader, e, s.now());
        self.maybe_start_ready(leader, s);
    }

    /// Member `m`'s process resumed: the `Compact` calls that waited for it go on.
    pub(super) fn compact_calls_resumed(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        for step in std::mem::take(&mut self.members[m].compactor.calls_waiting) {
            let (member, revisions) = match self.w.timeline[step as usize].change {
                super::timeline::Change::Compact { member, revisions } => (member, revisions),
                c => unreachable!("a waiting compaction call comes from a compact step, not {c:?}"),
            };
            if m != member && self.members[member].raft.lead != Some(m) {
                // Forwarded to `m` as the leader, it is lost: `m` was deposed meanwhile,
                // and the call times out (`ErrTimeout`).
                self.compactions_failed += 1;
                continue;
            }
            self.compact_call(step, member, revisions, s);
        }
    }

    /// Member `m`'s apply goroutine has applied (and committed) step `step`'s compaction:
    /// the job goes to the store's FIFO scheduler. Before 3.4.0 the apply goroutine walks
    /// the index itself: it waits until the walk ends (`apply_compaction_walked`, called from
    /// a later event); returns whether it does.
    pub(super) fn compaction_scheduled(
        &mut self,
        m: MemberId,
        step: u32,
        revisions: u64,
        s: &mut Scheduler<PackedEv>,
    ) -> bool {
        let job = Job {
            step,
            keys: self.w.range.total_keys,
            revisions,
        };
        let c = &mut self.members[m].compactor;
        if c.step != Step::Idle {
            // Behind a running job (the model's approximation before 3.4.0, where the walk
            // would run in apply at once).
            c.queue.push_back(job);
            return false;
        }
        let waits = !self.p.mechanisms.compact_clones_index;
        self.compaction_start(m, job, waits, s);
        waits
    }

    fn compaction_start(
        &mut self,
        m: MemberId,
        job: Job,
        apply_waits: bool,
        s: &mut Scheduler<PackedEv>,
    ) {
        let c = &mut self.members[m].compactor;
        c.job = Some(job);
        c.keys_left = job.keys;
        c.scan_left = job.revisions;
        c.drop_left = job.drops();
        c.started = s.now();
        c.batches = 0;
        c.apply_waits = apply_waits;
        // The walk's first lock (and burst) is taken even for an empty index, so that the
        // walk always ends in a later event than the one that started it.
        self.compactor_lock(m, Step::IndexLock, Lock::Index, s);
    }

    /// The walk's next keys: take the index lock (for all of them before 3.4.0).
    fn compaction_walk_next(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let c = &mut self.members[m].compactor;
        if c.keys_left == 0 {
            c.walked = s.now();
            if std::mem::take(&mut c.apply_waits) {
                self.apply_compaction_walked(m, s);
            }
            self.compaction_batch_next(m, s);
            return;
        }
        self.compactor_lock(m, Step::IndexLock, Lock::Index, s);
    }

    /// The next bolt batch: take the batch-tx lock.
    fn compaction_batch_next(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        self.compactor_lock(m, Step::BatchTx, Lock::BatchTx, s);
    }

    /// Member `m`'s compactor waits in `step` for `lock` (exclusive).
    fn compactor_lock(&mut self, m: MemberId, step: Step, lock: Lock, s: &mut Scheduler<PackedEv>) {
        self.members[m].compactor.step = step;
        if self.lock(m, lock, Mode::Exclusive, LockJob::Compactor, s) {
            self.compactor_lock_granted(m, s);
        }
    }

    /// Member `m`'s compactor got the lock it waited for: it works on a core.
    pub(super) fn compactor_lock_granted(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let c = &mut self.members[m].compactor;
        c.step = match c.step {
            Step::IndexLock => Step::IndexWalk,
            Step::BatchTx => Step::Batch,
            other => unreachable!("member {m:?}'s compactor takes no lock in {other:?}"),
        };
        self.go(self.member_proc(m), CpuJob::Compact(m), s);
    }

    /// The revisions member `m`'s current bolt batch scans and deletes: the next
    /// `compact_batch`, the oldest of them the dropped ones.
    fn batch_size(&self, m: MemberId) -> (u64, u64) {
        let c = &self.members[m].compactor;
        let scan = c.scan_left.min(u64::from(self.p.mechanisms.compact_batch));
        (scan, c.drop_left.min(scan))
    }

    /// Keys member `m`'s walk visits under its current hold of the index lock: the next
    /// chunk from 3.4.0, all that are left before.
    fn walk_keys(&self, m: MemberId) -> u64 {
        let left = self.members[m].compactor.keys_left;
        if self.p.mechanisms.compact_clones_index {
            left.min(WALK_CHUNK_KEYS)
        } else {
            left
        }
    }

    /// The CPU of member `m`'s compactor's next burst.
    pub(super) fn compaction_cost(&mut self, m: MemberId) -> SimDuration {
        let costs = &self.p.member_costs;
        let c = &self.members[m].compactor;
        match c.step {
            Step::IndexWalk => SimDuration::from_nanos_f64(
                costs.compact_index_ns_per_key * self.walk_keys(m) as f64,
            ),
            Step::Batch => {
                let (scan, drop) = self.batch_size(m);
                SimDuration::from_nanos_f64(
                    costs.compact_scan_ns_per_rev * scan as f64
                        + costs.compact_delete_ns_per_rev * drop as f64,
                )
            }
            other => unreachable!("member {m:?}'s compactor runs no burst in {other:?}"),
        }
    }

    /// Member `m`'s compactor's burst is done.
    pub(super) fn compaction_cpu_done(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let batch_limit = u64::from(self.p.mechanisms.compact_batch);
        let keys = self.walk_keys(m);
        let (scan, drop) = self.batch_size(m);
        let c = &mut self.members[m].compactor;
        match c.step {
            Step::IndexWalk => {
                c.keys_left -= keys;
                self.unlock(m, Lock::Index, Mode::Exclusive, s);
                self.compaction_walk_next(m, s);
            }
            Step::Batch => {
                c.scan_left -= scan;
                c.drop_left -= drop;
                c.batches += 1;
                self.members[m].backend.pending_deletes += drop;
                if scan < batch_limit {
                    // The finished revision goes into the meta bucket; the backend's timer
                    // commits it.
                    self.members[m].backend.buffered_meta_write();
                    self.unlock(m, Lock::BatchTx, Mode::Exclusive, s);
                    self.compaction_done(m, s);
                } else {
                    self.unlock(m, Lock::BatchTx, Mode::Exclusive, s);
                    self.members[m].compactor.step = Step::Commit;
                    self.force_commit(m, super::backend::ForceBy::Compactor, s);
                }
            }
            other => unreachable!("member {m:?}'s compactor ran no burst in {other:?}"),
        }
    }

    /// The forced commit after member `m`'s batch is done: it sleeps before the next.
    pub(super) fn compaction_committed(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let c = &mut self.members[m].compactor;
        debug_assert_eq!(c.step, Step::Commit);
        c.step = Step::Pause;
        s.schedule_in(
            self.p.mechanisms.compact_pause,
            Ev::CompactPause(m, self.members[m].life),
        );
    }

    /// Member `m`'s compactor's pause between batches is over (`time.After`): its goroutine
    /// is readied by the timer and takes the lock for the next batch.
    pub(super) fn compaction_pause_over(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        debug_assert_eq!(self.members[m].compactor.step, Step::Pause);
        self.compaction_batch_next(m, s);
    }

    /// Member `m`'s compaction is finished; the next scheduled one starts.
    fn compaction_done(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let c = &mut self.members[m].compactor;
        let job = c.job.take().expect("a compaction runs");
        let ns = |t: SimTime| t.since(SimTime::ZERO).0;
        self.compactions.push(Compacted {
            step: job.step,
            member: m,
            start_ns: ns(c.started),
            walked_ns: ns(c.walked),
            end_ns: ns(s.now()),
            batches: c.batches,
            deleted: job.drops(),
        });
        self.trace
            .activity(m, "compaction", c.started, s.now(), job.drops());
        c.step = Step::Idle;
        if let Some(next) = c.queue.pop_front() {
            self.compaction_start(m, next, false, s);
        }
    }
}
