//! The backend (`mvcc/backend/backend.go` `run`, `batch_tx.go`): apply's writes go into the
//! batch transaction and its read buffer; every batch interval (100 ms) with writes pending, or
//! at the batch limit (10,000), the bolt commit holds the batch-tx lock and the read-tx lock
//! exclusively across its CPU work and two fdatasyncs, so read transactions that open meanwhile
//! wait. A read transaction copies the read buffer when it opens (3.4.0–3.4.23), or shares a
//! copy until the buffer changes (3.5, 3.4.24).
//!
//! The read buffer (`tx_buffer.go` `txReadBuffer`) holds a buffer per bucket written since the
//! last commit but one ([`BucketBuffer`]); a copy allocates and copies each bucket's slots,
//! in use or not (`bucketBuffer.Copy`: `make([]kv, len(bb.buf))`). The slots start at 512 and
//! grow by half when they fill; a commit empties every bucket but drops only those unused
//! since the commit before (`txBuffer.reset`), and the backend commits only with writes
//! pending. So a store loaded in bulk and then only read copies its load's largest commit on
//! every read until some write leaves the key bucket unused for a commit (a compaction's
//! meta-bucket writes do).

use super::EtcdModel;
use super::event::{CpuJob, DiskJob, Ev, PackedEv};
use super::ids::MemberId;
use super::locks::{Lock, LockJob, Mode};
use super::timeline::{Change, Defrag, STEP_END};
use crate::engine::{Scheduler, SimDuration, SimTime};

/// A bolt page.
const BOLT_PAGE_BYTES: u64 = 4096;

/// Bolt bytes a revision a compaction deletes dirties (its revision key).
const DELETE_BYTES: u64 = 16;

/// Where a member's backend commit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CommitStep {
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
    /// Back from the first: its thread, once it has a P and a core, makes the second call.
    Call2,
    /// The second fdatasync.
    Sync2,
    /// Back from the second: once it runs, it unlocks.
    Done,
}

/// Slots a bucket's buffer starts with (`newBucketBuffer`: `make([]kv, 512)`).
pub const BUCKET_BUFFER_SLOTS: u32 = 512;

/// One bucket's buffer in the read buffer (`tx_buffer.go` `bucketBuffer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketBuffer {
    /// `len(buf)`: what a read transaction's copy allocates and copies.
    pub slots: u32,
    /// Entries in use since the last commit (`used`).
    pub used: u32,
}

impl BucketBuffer {
    /// A new bucket buffer holding one entry: the write buffer's, moved into the read buffer
    /// by the write-back (`txWriteBuffer.writeback`).
    fn one() -> BucketBuffer {
        BucketBuffer {
            slots: BUCKET_BUFFER_SLOTS,
            used: 1,
        }
    }

    /// The slots a bucket buffer has after `entries` were added to it since a commit: a full
    /// buffer grows by half (`bucketBuffer.add`).
    pub fn slots_after(entries: u64) -> u32 {
        let mut slots = u64::from(BUCKET_BUFFER_SLOTS);
        while entries >= slots {
            slots = slots * 3 / 2;
        }
        u32::try_from(slots).unwrap_or(u32::MAX)
    }

    /// One more entry (`add`): when every slot is used, the buffer grows by half.
    fn add(&mut self) {
        self.used += 1;
        if self.used >= self.slots {
            self.slots = self.slots.saturating_mul(3) / 2;
        }
    }
}

/// The read buffer's buckets the model writes: the key bucket (a put's revision, put in
/// sequence: `UnsafeSeqPut`) and the meta bucket (the consistent index each write
/// transaction saves, `saveIndex`, and a compaction's scheduled and finished revisions: the
/// write-back's merge keeps one entry per key, so at most three, which the model counts as
/// one: only its slots matter, and they stay 512).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadBuffer {
    pub key: Option<BucketBuffer>,
    pub meta: Option<BucketBuffer>,
}

impl ReadBuffer {
    /// After a load whose largest commit held `puts` puts (and, in each transaction, a
    /// consistent index), and its last commit: both buckets kept, empty.
    pub fn loaded(puts: u64) -> ReadBuffer {
        ReadBuffer {
            key: Some(BucketBuffer {
                slots: BucketBuffer::slots_after(puts),
                used: 0,
            }),
            meta: Some(BucketBuffer {
                slots: BUCKET_BUFFER_SLOTS,
                used: 0,
            }),
        }
    }

    /// Slots a read transaction's copy allocates and copies.
    pub fn slots(&self) -> u64 {
        [self.key, self.meta]
            .iter()
            .flatten()
            .map(|b| u64::from(b.slots))
            .sum()
    }

    /// A write-back of one entry to the meta bucket's one key: it is merged into the one in
    /// use (and deduplicated), or is the first since the commit.
    fn write_meta(&mut self) {
        match &mut self.meta {
            Some(b) if b.used > 0 => {}
            Some(b) => b.add(),
            None => self.meta = Some(BucketBuffer::one()),
        }
    }

    /// A write-back of a put's transaction: its revision to the key bucket, and the
    /// consistent index to the meta bucket.
    fn write_put(&mut self) {
        match &mut self.key {
            Some(b) => b.add(),
            None => self.key = Some(BucketBuffer::one()),
        }
        self.write_meta();
    }

    /// A commit's reset (`txBuffer.reset`): a bucket unused since the last commit is dropped;
    /// the others are emptied and keep their slots.
    fn reset(&mut self) {
        for b in [&mut self.key, &mut self.meta] {
            *b = b.filter(|x| x.used > 0).map(|x| BucketBuffer {
                slots: x.slots,
                used: 0,
            });
        }
    }
}

/// Who waits for a forced commit (`backend.ForceCommit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForceBy {
    /// The apply goroutine, after a compaction's `updateCompactRev`.
    Apply,
    /// The compactor, after a batch of deletes.
    Compactor,
}

/// One member's backend.
pub struct Backend {
    /// Writes applied since the last backend commit.
    pub pending_writes: u64,
    /// Revisions a compaction deleted since the last backend commit: bolt writes that are not
    /// in the read buffer.
    pub pending_deletes: u64,
    /// Goroutines waiting for the running (or the next) commit: bit 0 apply, bit 1 the
    /// compactor.
    force_waiters: u8,
    /// A forced commit joined the running (or the next) commit: its own `Commit` runs right
    /// after, with nothing pending, and resets the read buffer once more.
    reset_again: bool,
    commit_step: CommitStep,
    /// The running commit was started by the timer (which restarts when it ends).
    timer_commit: bool,
    /// The read buffer.
    pub read_buffer: ReadBuffer,
    /// Bumped by every write-back and commit: a read's copy of the buffer is stale when it
    /// differs.
    buffer_version: u64,
    /// The buffer version of the shared cached copy (3.5).
    cached_version: u64,
    /// When the current commit began (for traces).
    commit_start: SimTime,
}

impl Backend {
    /// A backend with an empty read buffer (a process just started).
    pub fn new() -> Backend {
        Backend::with(ReadBuffer::default())
    }

    /// A backend whose read buffer is `read_buffer`.
    pub fn with(read_buffer: ReadBuffer) -> Backend {
        Backend {
            read_buffer,
            pending_writes: 0,
            pending_deletes: 0,
            force_waiters: 0,
            reset_again: false,
            commit_step: CommitStep::Idle,
            timer_commit: false,
            // Ahead of the shared copy: the first read makes it.
            buffer_version: 1,
            cached_version: 0,
            commit_start: SimTime::ZERO,
        }
    }

    /// Writes and deletes the next commit makes durable.
    fn pending(&self) -> u64 {
        self.pending_writes + self.pending_deletes
    }

    /// Apply wrote one put's transaction into the batch transaction and its buffer, and
    /// wrote the buffer back into the read buffer (`batchTxBuffered.Unlock`).
    pub fn buffered_write(&mut self) {
        self.pending_writes += 1;
        self.buffer_version += 1;
        self.read_buffer.write_put();
    }

    /// A write of one meta-bucket key alone (a compaction's scheduled or finished revision),
    /// written back the same way.
    pub fn buffered_meta_write(&mut self) {
        self.pending_writes += 1;
        self.buffer_version += 1;
        self.read_buffer.write_meta();
    }

    /// Read-buffer slots a read transaction opening now copies: all of them each time
    /// (`copy_each_time`, 3.4.0–3.4.23), or only when the buffer changed since the shared
    /// copy was made (3.5, 3.4.24), when this read makes the new copy.
    pub fn buffer_to_copy(&mut self, copy_each_time: bool) -> u64 {
        if !copy_each_time {
            if self.cached_version == self.buffer_version {
                return 0;
            }
            self.cached_version = self.buffer_version;
        }
        self.read_buffer.slots()
    }
}

impl EtcdModel {
    /// The backend's timer (`backend.run`): commit if writes are pending; the timer restarts
    /// when that commit ends, or now if there was nothing to commit.
    pub(super) fn backend_tick(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let be = &mut self.members[m].backend;
        if be.pending() > 0 && be.commit_step == CommitStep::Idle {
            be.timer_commit = true;
            self.start_backend_commit(m, s);
        } else {
            s.schedule_in(
                self.p.write.batch_interval,
                Ev::BackendTick(m, self.members[m].life),
            );
        }
    }

    /// A backend commit of member `m` begins (unless one is running).
    pub(super) fn start_backend_commit(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let be = &mut self.members[m].backend;
        if be.commit_step != CommitStep::Idle {
            return;
        }
        be.commit_step = CommitStep::BatchTx;
        be.commit_start = s.now();
        if self.lock(m, Lock::BatchTx, Mode::Exclusive, LockJob::Commit, s) {
            self.commit_lock_granted(m, s);
        }
    }

    /// The backend commit of `m` got the lock it waits for.
    pub(super) fn commit_lock_granted(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        match self.members[m].backend.commit_step {
            CommitStep::BatchTx => {
                self.members[m].backend.commit_step = CommitStep::ReadTx;
                if self.lock(m, Lock::ReadTx, Mode::Exclusive, LockJob::Commit, s) {
                    self.commit_lock_granted(m, s);
                }
            }
            CommitStep::ReadTx => {
                self.members[m].backend.commit_step = CommitStep::Cpu;
                self.go(self.member_proc(m), CpuJob::BackendCommit(m), s);
            }
            other => unreachable!("backend commit step {other:?} takes no lock"),
        }
    }

    /// `backend.ForceCommit` by `by` on member `m`: the batch transaction commits now (a
    /// commit running or waiting for its locks includes what `by` wrote, since `by` wrote under
    /// the batch-tx lock it has released). With nothing pending, bolt's commit returns at once
    /// (`batchTx.commit`: `pending == 0`), but the read buffer is reset all the same
    /// (`unsafeCommit`).
    pub(super) fn force_commit(&mut self, m: MemberId, by: ForceBy, s: &mut Scheduler<PackedEv>) {
        let be = &mut self.members[m].backend;
        if be.commit_step == CommitStep::Idle && be.pending() == 0 {
            let before = be.read_buffer;
            be.read_buffer.reset();
            if be.read_buffer != before {
                be.buffer_version += 1;
            }
            self.force_committed(m, by, s);
            return;
        }
        be.force_waiters |= 1 << by as u8;
        be.reset_again = true;
        self.start_backend_commit(m, s);
    }

    /// `by`'s forced commit on `m` is done: it goes on.
    fn force_committed(&mut self, m: MemberId, by: ForceBy, s: &mut Scheduler<PackedEv>) {
        match by {
            ForceBy::Apply => self.apply_force_committed(m, s),
            ForceBy::Compactor => self.compaction_committed(m, s),
        }
    }

    /// The CPU cost of member `m`'s backend commit.
    pub(super) fn backend_commit_cost(&mut self, m: MemberId) -> SimDuration {
        let be = &self.members[m].backend;
        let (writes, deletes) = (be.pending_writes as f64, be.pending_deletes as f64);
        let c = &self.p.member_costs;
        match be.commit_step {
            // Rebalance, spill and the first fdatasync's system time.
            CommitStep::Cpu => {
                c.backend_commit.sample(&mut self.rng_cpu)
                    + SimDuration::from_nanos_f64(
                        c.backend_commit_ns_per_write * writes
                            + c.backend_commit_ns_per_delete * deletes,
                    )
                    + self.p.fsync_cpu.caller
            }
            // The second fdatasync's system time.
            CommitStep::Call2 => self.p.fsync_cpu.caller,
            // Returned from the second: the rest of `tx.Commit` and the unlocks.
            CommitStep::Done => SimDuration::ZERO,
            other => unreachable!("no commit burst in step {other:?}"),
        }
    }

    /// The commit goroutine's burst is done: its rebalance and spill (the first fdatasync
    /// follows), or its call of the second fdatasync, or the commit's end.
    pub(super) fn backend_commit_cpu_done(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        match self.members[m].backend.commit_step {
            CommitStep::Cpu => {
                self.members[m].backend.commit_step = CommitStep::Sync1;
                // The first fdatasync makes the dirty pages durable: about the bytes the
                // pending writes put (bolt's leaves, written in page-sized pieces).
                let be = &self.members[m].backend;
                let bytes = be.pending_writes * u64::from(self.entry_bytes())
                    + be.pending_deletes * DELETE_BYTES;
                self.disk(m, DiskJob::Bolt, bytes, s);
            }
            CommitStep::Call2 => {
                // The second makes the meta page durable.
                self.members[m].backend.commit_step = CommitStep::Sync2;
                self.disk(m, DiskJob::Bolt, BOLT_PAGE_BYTES, s);
            }
            CommitStep::Done => self.backend_commit_done(m, s),
            other => unreachable!("no commit burst in step {other:?}"),
        }
    }

    /// One of the commit's fdatasyncs returned: its goroutine goes on once it has a P (and a
    /// core) again.
    pub(super) fn bolt_synced(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let be = &mut self.members[m].backend;
        be.commit_step = match be.commit_step {
            CommitStep::Sync1 => CommitStep::Call2,
            CommitStep::Sync2 => CommitStep::Done,
            other => unreachable!("bolt fsync in commit step {other:?}"),
        };
        self.go(self.member_proc(m), CpuJob::BackendCommit(m), s);
    }

    /// Member `m`'s backend commit ends: the buffer is durable, the locks are released.
    fn backend_commit_done(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let be = &mut self.members[m].backend;
        let (start, n) = (be.commit_start, be.pending_writes);
        be.commit_step = CommitStep::Idle;
        be.pending_writes = 0;
        be.pending_deletes = 0;
        let waiters = std::mem::take(&mut be.force_waiters);
        be.buffer_version += 1;
        be.read_buffer.reset();
        if std::mem::take(&mut be.reset_again) {
            // `ForceCommit`'s own `batchTx.Commit`, after the one it waited for: bolt has
            // nothing to commit, but `unsafeCommit` resets the read buffer again (no timer
            // commit can come between: the forcing goroutine asked for the lock first).
            be.read_buffer.reset();
        }
        let timer = std::mem::take(&mut be.timer_commit);
        self.trace.activity(m, "backend commit", start, s.now(), n);
        self.m.backend_commits += 1;
        self.m.timed_commits += 1;
        self.m.backend_commit_ns += u128::from((s.now() - start).0);
        if timer {
            s.schedule_in(
                self.p.write.batch_interval,
                Ev::BackendTick(m, self.members[m].life),
            );
        }
        self.unlock(m, Lock::ReadTx, Mode::Exclusive, s);
        self.unlock(m, Lock::BatchTx, Mode::Exclusive, s);
        for by in [ForceBy::Apply, ForceBy::Compactor] {
            if waiters & (1 << by as u8) != 0 {
                self.force_committed(m, by, s);
            }
        }
    }
}

impl EtcdModel {
    /// Timeline step `step` defragments member `m`: it asks for the batch transaction's mutex,
    /// then the read transaction's lock (see [`Defrag`]). A defragmentation asked for while
    /// the last one still runs is skipped (the timeline validates that they do not overlap;
    /// one that waited long for its locks may still be running).
    pub(super) fn defrag_start(&mut self, step: u32, m: MemberId, s: &mut Scheduler<PackedEv>) {
        if self.defrags[usize::from(m.0)] != Defrag::Idle {
            return;
        }
        self.defrags[usize::from(m.0)] = Defrag::WantBatchTx(step);
        if self.lock(m, Lock::BatchTx, Mode::Exclusive, LockJob::Defrag, s) {
            self.defrag_lock_granted(m, s);
        }
    }

    /// Member `m`'s defragmentation got the lock it waited for: it asks for the next, or,
    /// holding both, copies for the step's length.
    pub(super) fn defrag_lock_granted(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        match self.defrags[usize::from(m.0)] {
            Defrag::WantBatchTx(step) => {
                self.defrags[usize::from(m.0)] = Defrag::WantReadTx(step);
                if self.lock(m, Lock::ReadTx, Mode::Exclusive, LockJob::Defrag, s) {
                    self.defrag_lock_granted(m, s);
                }
            }
            Defrag::WantReadTx(step) => {
                self.defrags[usize::from(m.0)] = Defrag::Copying;
                let Change::Defrag(_, length) = self.w.timeline[step as usize].change else {
                    unreachable!("step {step} is a defragmentation");
                };
                s.schedule_in(length, Ev::Timeline(step | STEP_END));
            }
            d => unreachable!("member {m:?}'s defragmentation holds its locks: {d:?}"),
        }
    }

    /// Member `m`'s defragmentation is done: it releases the read transaction's lock, then the
    /// batch transaction's mutex (the deferred unlocks run in reverse order).
    pub(super) fn defrag_done(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        if self.defrags[usize::from(m.0)] != Defrag::Copying {
            // The member was killed while it copied: the copy went with its process.
            debug_assert!(self.members[m].dead || self.members[m].life.0 > 0);
            return;
        }
        self.defrags[usize::from(m.0)] = Defrag::Idle;
        // `defrag` resets the read buffer twice (`unsafeCommit`, then after the copy): the
        // first empties the buckets in use, the second drops them.
        let be = &mut self.members[m].backend;
        be.read_buffer = ReadBuffer::default();
        be.buffer_version += 1;
        self.unlock(m, Lock::ReadTx, Mode::Exclusive, s);
        self.unlock(m, Lock::BatchTx, Mode::Exclusive, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_buffer_grows_by_half_when_full() {
        assert_eq!(BucketBuffer::slots_after(0), 512);
        assert_eq!(BucketBuffer::slots_after(511), 512);
        assert_eq!(BucketBuffer::slots_after(512), 768);
        assert_eq!(BucketBuffer::slots_after(2_090), 2_592);
        // 10,000 puts in one commit (readbufcost's, whose batch limit is raised): 13,122 slots.
        assert_eq!(BucketBuffer::slots_after(10_000), 13_122);
        let mut b = BucketBuffer::one();
        for _ in 1..512 {
            b.add();
        }
        assert_eq!((b.slots, b.used), (768, 512));
    }

    #[test]
    fn a_commit_drops_only_the_buckets_unused_since_the_last() {
        let mut r = ReadBuffer::default();
        assert_eq!(r.slots(), 0);
        r.write_put();
        r.write_put();
        assert_eq!(r.key.map(|b| b.used), Some(2));
        // The meta bucket's one key is merged: one entry in use.
        assert_eq!(r.meta.map(|b| b.used), Some(1));
        assert_eq!(r.slots(), 1_024);
        r.reset();
        assert_eq!(
            r.slots(),
            1_024,
            "used since the last commit: kept, emptied"
        );
        assert_eq!(r.key.map(|b| b.used), Some(0));
        r.reset();
        assert_eq!(r.slots(), 0, "unused since: dropped");
    }

    #[test]
    fn a_meta_write_alone_lets_the_next_commit_drop_a_loaded_key_bucket() {
        let mut r = ReadBuffer::loaded(10_000);
        assert_eq!(r.slots(), 13_122 + 512);
        r.write_meta();
        r.reset();
        assert_eq!(r.key, None);
        assert_eq!(r.slots(), 512);
        let mut b = Backend::with(ReadBuffer::loaded(0));
        assert_eq!(b.buffer_to_copy(true), 1_024);
        // 3.5: the shared copy is made once, then reused until the buffer changes.
        assert_eq!(b.buffer_to_copy(false), 1_024);
        assert_eq!(b.buffer_to_copy(false), 0);
        b.buffered_write();
        assert_eq!(b.buffer_to_copy(false), 1_024);
    }
}
