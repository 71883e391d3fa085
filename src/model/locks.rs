//! A member's locks, and the one protocol every waiter goes through.
//!
//! - `simpleTokensMu` (`auth/simple_token.go`): every simple-token check holds it.
//! - `batchTx` mutex (`mvcc/backend/batch_tx.go`): apply's write transactions, the backend
//!   commit, and (3.4, 3.5.0–3.5.3) the RBAC check's read of the auth store.
//! - `readTx` RWMutex (`mvcc/backend/read_tx.go`): a read transaction opens under it (shared);
//!   apply's write-back of the buffer and the backend commit hold it exclusively.
//! - `treeIndex` RWMutex (`mvcc/index.go`): range walks share it; apply's index update holds it
//!   exclusively.
//!
//! The protocol: [`EtcdModel::lock`] either grants at once (and returns true) or queues the job,
//! which [`EtcdModel::lock_granted`] wakes later; [`EtcdModel::unlock`] releases and hands the
//! lock on. Both schedule the wake-ups the reader–writer locks ask for (a writer held back only
//! by readers whose release times are known, see [`crate::engine::RwLock::hold_until`]) in the
//! same step, so no caller can forget one.

use super::EtcdModel;
use super::event::{Ev, Life, PackedEv, RwLockName};
use super::ids::{MemberId, ReqId};
use crate::engine::{RwLock, Scheduler, Servers, SimDuration, SimTime};

/// A job waiting for a lock: a request, a member's apply goroutine, or its backend commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockJob {
    /// A request's goroutine.
    Req(ReqId),
    /// The member's apply goroutine.
    Apply,
    /// The member's backend commit.
    Commit,
    /// A defragmentation of the member's backend.
    Defrag,
    /// The member's compactor (`compaction.rs`).
    Compactor,
}

/// Which of a member's locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// `simpleTokensMu`.
    TokenMu,
    /// The backend batch-transaction mutex.
    BatchTx,
    /// The backend read-transaction lock.
    ReadTx,
    /// The treeIndex lock.
    Index,
}

/// How a lock is held: shared by readers, or by one holder (the mutexes are always exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A read lock (`RLock`).
    Shared,
    /// The lock itself (`Lock`).
    Exclusive,
}

/// A member's locks.
pub struct Locks {
    token_mu: Servers<LockJob>,
    batch_tx: Servers<LockJob>,
    read_tx: RwLock<LockJob>,
    index: RwLock<LockJob>,
}

impl Locks {
    /// Every lock free at `start`.
    pub fn new(start: SimTime) -> Locks {
        Locks {
            token_mu: Servers::new(1, start),
            batch_tx: Servers::new(1, start),
            read_tx: RwLock::new(start),
            index: RwLock::new(start),
        }
    }

    /// Forgets utilization history.
    pub fn reset_stats(&mut self, now: SimTime) {
        self.token_mu.reset_stats(now);
        self.batch_tx.reset_stats(now);
        self.read_tx.reset_stats(now);
        self.index.reset_stats(now);
    }

    /// Fraction of time the batch-tx lock was held.
    pub fn batch_tx_utilization(&self, now: SimTime) -> f64 {
        self.batch_tx.utilization(now)
    }

    /// Whether a reader of the index lock would be granted it now.
    pub fn index_free_for_reader(&self) -> bool {
        self.index.would_grant_read()
    }

    fn rw(&mut self, lock: RwLockName) -> &mut RwLock<LockJob> {
        match lock {
            RwLockName::Index => &mut self.index,
            RwLockName::ReadTx => &mut self.read_tx,
        }
    }

    /// The wake-ups the reader–writer locks ask for, as events.
    fn wakes(&mut self, m: MemberId, life: Life) -> [Option<(SimTime, Ev)>; 2] {
        [RwLockName::Index, RwLockName::ReadTx].map(|l| {
            self.rw(l)
                .take_wake()
                .map(|t| (t, Ev::LockWake(m, l, life)))
        })
    }
}

impl EtcdModel {
    /// `job` takes member `m`'s `lock` in `mode`: true if granted now; otherwise the job waits
    /// and [`EtcdModel::lock_granted`] wakes it when the lock is handed to it.
    pub(super) fn lock(
        &mut self,
        m: MemberId,
        lock: Lock,
        mode: Mode,
        job: LockJob,
        s: &mut Scheduler<PackedEv>,
    ) -> bool {
        let now = s.now();
        let locks = &mut self.members[m].locks;
        let granted = match (lock, mode) {
            (Lock::TokenMu, _) => locks.token_mu.acquire(now, job),
            (Lock::BatchTx, _) => locks.batch_tx.acquire(now, job),
            (Lock::ReadTx, Mode::Shared) => locks.read_tx.read(now, job),
            (Lock::ReadTx, Mode::Exclusive) => locks.read_tx.write(now, job),
            (Lock::Index, Mode::Shared) => locks.index.read(now, job),
            (Lock::Index, Mode::Exclusive) => locks.index.write(now, job),
        }
        .is_some();
        self.schedule_lock_wakes(m, s);
        granted
    }

    /// The holder of member `m`'s `lock` in `mode` releases it; whoever it goes to goes on.
    pub(super) fn unlock(
        &mut self,
        m: MemberId,
        lock: Lock,
        mode: Mode,
        s: &mut Scheduler<PackedEv>,
    ) {
        let now = s.now();
        let locks = &mut self.members[m].locks;
        let granted: Vec<(LockJob, SimDuration)> = match (lock, mode) {
            (Lock::TokenMu, _) => locks.token_mu.release(now).into_iter().collect(),
            (Lock::BatchTx, _) => locks.batch_tx.release(now).into_iter().collect(),
            (Lock::ReadTx, Mode::Shared) => locks.read_tx.read_release(now),
            (Lock::ReadTx, Mode::Exclusive) => locks.read_tx.write_release(now),
            (Lock::Index, Mode::Shared) => locks.index.read_release(now),
            (Lock::Index, Mode::Exclusive) => locks.index.write_release(now),
        };
        self.schedule_lock_wakes(m, s);
        for (job, _) in granted {
            self.lock_granted(m, job, s);
        }
    }

    /// A reader of member `m`'s `lock` will leave at `until`, at a known time and without an
    /// unlock of its own (its work under the lock has a known length).
    pub(super) fn unlock_at(
        &mut self,
        m: MemberId,
        lock: RwLockName,
        until: SimTime,
        s: &mut Scheduler<PackedEv>,
    ) {
        self.members[m].locks.rw(lock).hold_until(s.now(), until);
        self.schedule_lock_wakes(m, s);
    }

    fn schedule_lock_wakes(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let life = self.members[m].life;
        for (t, ev) in self.members[m].locks.wakes(m, life).into_iter().flatten() {
            s.schedule_at(t, ev);
        }
    }

    /// Member `m`'s `lock` wakes: the readers that announced their release have left, and
    /// the writer they held back goes on.
    pub(super) fn lock_wake(&mut self, m: MemberId, lock: RwLockName, s: &mut Scheduler<PackedEv>) {
        let granted = self.members[m].locks.rw(lock).wake(s.now());
        for (job, _) in granted {
            self.lock_granted(m, job, s);
        }
        self.schedule_lock_wakes(m, s);
    }

    /// A lock of member `m` was granted to `job`: it goes on with what it was waiting for.
    fn lock_granted(&mut self, m: MemberId, job: LockJob, s: &mut Scheduler<PackedEv>) {
        match job {
            LockJob::Req(id) => self.req_lock_granted(id, s),
            LockJob::Apply => self.apply_lock_granted(m, s),
            LockJob::Commit => self.commit_lock_granted(m, s),
            LockJob::Defrag => self.defrag_lock_granted(m, s),
            LockJob::Compactor => self.compactor_lock_granted(m, s),
        }
    }
}
