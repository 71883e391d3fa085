//! The apply goroutine (`etcdserver/server.go` `run`/`applyAll`): each member applies
//! committed entries serially, one Ready batch at a time. Every Ready hands its apply (its
//! committed entries, possibly none) over `applyc` to the server's run goroutine, which
//! schedules `applyAll` on the FIFO scheduler's goroutine: those hand-offs and `applyAll`'s own
//! work are one burst per batch (`apply_batch_us`), before the entries. Each put is a write transaction under
//! the backend batch-tx lock: the apply work, the index update under the treeIndex write lock
//! (held only for the update), then the write-back into the read buffer under the read-tx lock.
//! After the batch the applied index moves and the reads waiting on it are released together
//! (`applyWait.Trigger`). The member that received a put answers its client once it has
//! applied it.

use std::collections::VecDeque;

use super::EtcdModel;
use super::backend::ForceBy;
use super::event::{CpuJob, PackedEv};
use super::ids::MemberId;
use super::locks::{Lock, LockJob, Mode};
use super::params::AuthMode;
use super::replication::EntryKind;
use super::stage::Stage;
use crate::engine::TimeWeighted;
use crate::engine::{Scheduler, SimDuration, SimTime};

/// Where a member's apply goroutine is in the current entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyStep {
    /// Starting a batch: `s.run` takes it from `applyc` and schedules `applyAll`.
    Batch,
    /// Waiting for the batch-tx lock.
    BatchTx,
    /// Applying on a core (under the batch-tx lock).
    Cpu,
    /// Waiting for the treeIndex write lock, for the index update.
    Index,
    /// Waiting for the read-tx lock to write the buffer back.
    Writeback,
    /// A compaction's entry: waiting for the forced backend commit.
    Commit,
    /// A compaction's entry, before 3.4.0: waiting for the index walk, which it runs itself.
    Walk,
}

/// One member's apply goroutine.
pub struct ApplyLoop {
    /// Batches of committed entries handed over by Readys, waiting.
    queue: VecDeque<(u64, u64)>,
    /// Whether the goroutine is working.
    busy: bool,
    /// Its busy time.
    level: TimeWeighted,
    /// The entry being applied.
    next: u64,
    /// The last entry of the batch being applied.
    hi: u64,
    /// Where it is within the current entry.
    step: ApplyStep,
    /// The applied index.
    pub applied: u64,
    /// When the current batch began (for traces).
    batch_start: SimTime,
}

impl ApplyLoop {
    /// An idle apply loop that has applied up to `index`.
    pub fn new(index: u64) -> ApplyLoop {
        ApplyLoop {
            queue: VecDeque::new(),
            busy: false,
            level: TimeWeighted::new(SimTime::ZERO),
            next: index,
            hi: index,
            step: ApplyStep::BatchTx,
            applied: index,
            batch_start: SimTime::ZERO,
        }
    }

    /// Fraction of time the goroutine was busy since the last reset.
    pub fn utilization(&self, now: SimTime) -> f64 {
        self.level.mean(now)
    }

    /// Forgets utilization history.
    pub fn reset_stats(&mut self, now: SimTime) {
        self.level.reset(now);
    }
}

impl EtcdModel {
    /// A Ready hands committed entries `lo..=hi` (none when `hi < lo`) to member `m`'s apply
    /// goroutine.
    pub(super) fn apply_enqueue(
        &mut self,
        m: MemberId,
        lo: u64,
        hi: u64,
        s: &mut Scheduler<PackedEv>,
    ) {
        let ap = &mut self.members[m].apply;
        ap.queue.push_back((lo, hi));
        if !ap.busy {
            self.apply_next_batch(m, s);
        }
    }

    fn apply_next_batch(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let now = s.now();
        let ap = &mut self.members[m].apply;
        let Some((lo, hi)) = ap.queue.pop_front() else {
            ap.busy = false;
            ap.level.set(now, 0.0);
            return;
        };
        ap.busy = true;
        ap.level.set(now, 1.0);
        ap.next = lo;
        ap.hi = hi;
        ap.batch_start = now;
        ap.step = ApplyStep::Batch;
        self.go(self.member_proc(m), CpuJob::Apply(m), s);
    }

    /// What `m`'s current entry asks to apply (an entry dropped from the log is a put's).
    fn applying(&self, m: MemberId) -> EntryKind {
        let idx = self.members[m].apply.next;
        self.log.get(idx).map_or(EntryKind::Put, |e| e.kind)
    }

    /// Whether `m`'s current entry is a new leader's empty entry.
    fn applying_empty(&self, m: MemberId) -> bool {
        self.applying(m) == EntryKind::Empty
    }

    fn apply_entry_start(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        if self.applying_empty(m) {
            // `applyEntryNormal` with no data: no transaction, no lock.
            self.members[m].apply.step = ApplyStep::Cpu;
            self.go(self.member_proc(m), CpuJob::Apply(m), s);
            return;
        }
        self.members[m].apply.step = ApplyStep::BatchTx;
        if self.lock(m, Lock::BatchTx, Mode::Exclusive, LockJob::Apply, s) {
            self.apply_lock_granted(m, s);
        }
    }

    /// The apply goroutine of `m` got the lock its current step waits for.
    pub(super) fn apply_lock_granted(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        match self.members[m].apply.step {
            ApplyStep::BatchTx => {
                // From here the apply loop works on this entry: for the put whose entry it
                // is, its wait behind other work ends and its own apply begins.
                self.charge_own_put(m, Stage::Apply, s.now());
                self.members[m].apply.step = ApplyStep::Cpu;
                self.go(self.member_proc(m), CpuJob::Apply(m), s);
            }
            ApplyStep::Index => {
                // kvindex.Put holds the index write lock only for the update itself.
                self.charge_own_put(m, Stage::Apply, s.now());
                self.unlock(m, Lock::Index, Mode::Exclusive, s);
                self.writeback(m, s);
            }
            ApplyStep::Cpu | ApplyStep::Batch | ApplyStep::Commit | ApplyStep::Walk => {
                unreachable!("the apply CPU and wait steps take no lock")
            }
            ApplyStep::Writeback => {
                // The buffer is written back under readTx.Lock; then both locks go.
                self.charge_own_put(m, Stage::Apply, s.now());
                self.unlock(m, Lock::ReadTx, Mode::Exclusive, s);
                self.unlock(m, Lock::BatchTx, Mode::Exclusive, s);
                self.apply_entry_done(m, true, s);
            }
        }
    }

    /// The CPU cost of the apply goroutine's next step on member `m`: starting a batch, or
    /// applying its current entry.
    pub(super) fn apply_cost(&mut self, m: MemberId) -> SimDuration {
        if self.members[m].apply.step == ApplyStep::Batch {
            return self.p.member_costs.apply_batch.sample(&mut self.rng_cpu);
        }
        let idx = self.members[m].apply.next;
        let (bytes, kind) = self
            .log
            .get(idx)
            .map_or((0, EntryKind::Put), |e| (e.bytes, e.kind));
        let c = &self.p.member_costs;
        let mut d = c.apply_entry.sample(&mut self.rng_cpu)
            + SimDuration::from_nanos_f64(c.apply_ns_per_byte * f64::from(bytes));
        // With auth on, applierV3WithAuth checks each put's permission (IsPutPermitted) under
        // the batch-tx lock before the write transaction.
        if self.w.auth != AuthMode::None && kind == EntryKind::Put {
            d += self.rbac_cost();
        }
        d
    }

    /// The apply CPU work of `m`'s current entry is done: a put updates the index (under its
    /// write lock) and writes the buffer back; Authenticate's entry changes no key.
    pub(super) fn apply_cpu_done(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let ap = &self.members[m].apply;
        if ap.step == ApplyStep::Batch {
            if ap.next <= ap.hi {
                self.apply_entry_start(m, s);
            } else {
                let applied = ap.applied;
                self.apply_batch_done(m, applied, s);
            }
            return;
        }
        match self.applying(m) {
            EntryKind::Empty => {
                // etcd's `notifyAboutFirstCommitInTerm`: the read loop resends its ReadIndex.
                self.first_commit_in_term(m, s);
                self.apply_entry_done(m, false, s);
                return;
            }
            EntryKind::Authenticate => {
                self.unlock(m, Lock::BatchTx, Mode::Exclusive, s);
                self.apply_entry_done(m, false, s);
                return;
            }
            EntryKind::Compact { .. } => {
                // `updateCompactRev`: the scheduled revision goes into the meta bucket, then
                // `ForceCommit` makes it durable before the job is scheduled.
                self.members[m].backend.buffered_meta_write();
                self.unlock(m, Lock::BatchTx, Mode::Exclusive, s);
                self.members[m].apply.step = ApplyStep::Commit;
                self.force_commit(m, ForceBy::Apply, s);
                return;
            }
            EntryKind::Put => {}
        }
        self.members[m].apply.step = ApplyStep::Index;
        self.apply_lock(m, Lock::Index, s);
    }

    /// The forced commit after `m`'s compaction entry is done: the job is scheduled on the
    /// store's FIFO scheduler, and apply goes on (before 3.4.0, once the walk is over).
    pub(super) fn apply_force_committed(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        debug_assert_eq!(self.members[m].apply.step, ApplyStep::Commit);
        let EntryKind::Compact { step, revisions } = self.applying(m) else {
            unreachable!("member {m:?} applies a compaction");
        };
        self.members[m].apply.step = ApplyStep::Walk;
        if !self.compaction_scheduled(m, step, revisions, s) {
            self.apply_entry_done(m, false, s);
        }
    }

    /// Before 3.4.0: the index walk of `m`'s compaction, which its apply goroutine waited for,
    /// is over.
    pub(super) fn apply_compaction_walked(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        debug_assert_eq!(self.members[m].apply.step, ApplyStep::Walk);
        self.apply_entry_done(m, false, s);
    }

    fn writeback(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        self.members[m].apply.step = ApplyStep::Writeback;
        self.apply_lock(m, Lock::ReadTx, s);
    }

    /// The apply goroutine of `m` takes `lock` exclusively for its current entry's next step.
    /// If another holds it, the put whose entry it is waits for a lock (queueing) until
    /// [`EtcdModel::apply_lock_granted`] hands it over.
    fn apply_lock(&mut self, m: MemberId, lock: Lock, s: &mut Scheduler<PackedEv>) {
        if self.lock(m, lock, Mode::Exclusive, LockJob::Apply, s) {
            self.apply_lock_granted(m, s);
        } else {
            self.charge_own_put(m, Stage::LockWait, s.now());
        }
    }

    /// If the entry `m`'s apply goroutine works on is a put of `m`'s own client, its time from
    /// `now` belongs to `stage`.
    fn charge_own_put(&mut self, m: MemberId, stage: Stage, now: SimTime) {
        let idx = self.members[m].apply.next;
        let life = self.members[m].life;
        if let Some(e) = self
            .log
            .get(idx)
            .copied()
            .filter(|e| e.proposed_on(m, life))
        {
            self.enter(e.req, stage, now);
        }
    }

    fn apply_entry_done(&mut self, m: MemberId, wrote: bool, s: &mut Scheduler<PackedEv>) {
        let idx = self.members[m].apply.next;
        if wrote {
            self.members[m].backend.buffered_write();
        }
        let full = self.members[m].backend.pending_writes >= self.p.write.batch_limit;
        if let Some(e) = self.log.get(idx).copied() {
            if e.proposed_on(m, self.members[m].life) {
                self.put_applied(e.req, s);
            }
        }
        if full {
            self.start_backend_commit(m, s);
        }
        let ap = &mut self.members[m].apply;
        if idx < ap.hi {
            ap.next = idx + 1;
            self.apply_entry_start(m, s);
        } else {
            self.apply_batch_done(m, idx, s);
        }
    }

    fn apply_batch_done(&mut self, m: MemberId, applied: u64, s: &mut Scheduler<PackedEv>) {
        let ap = &mut self.members[m].apply;
        let (start, n) = (ap.batch_start, applied - ap.applied);
        ap.applied = applied;
        if n > 0 {
            self.trace.activity(m, "apply", start, s.now(), n);
        }
        if !self.members[m].serving {
            self.check_serving(m, s);
        }
        // applyWait.Trigger: the read loop's round waiting on this index is released now.
        if self.members[m].read_loop.released_by(applied) {
            self.read_index_applied(m, s);
        }
        let everywhere = self
            .members
            .iter()
            .map(|x| x.apply.applied)
            .min()
            .unwrap_or(0);
        self.log.trim_to(everywhere);
        self.apply_next_batch(m, s);
    }
}
