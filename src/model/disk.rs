//! A member's disk: the WAL's fdatasyncs (one per Ready with entries) and the backend commit's
//! two, in FIFO order, each taking a draw of the disk's fdatasync latency.

use super::EtcdModel;
use super::event::{DiskJob, Ev, PackedEv};
use super::ids::MemberId;
use crate::engine::{Scheduler, Servers, SimTime};

/// One member's disk.
pub struct Disk {
    queue: Servers<DiskJob>,
    /// When the operation in progress began (for traces).
    start: SimTime,
}

impl Disk {
    /// An idle disk.
    pub fn new() -> Disk {
        Disk {
            queue: Servers::new(1, SimTime::ZERO),
            start: SimTime::ZERO,
        }
    }

    /// Fraction of time busy since the last reset.
    pub fn utilization(&self, now: SimTime) -> f64 {
        self.queue.utilization(now)
    }

    /// Forgets utilization history.
    pub fn reset_stats(&mut self, now: SimTime) {
        self.queue.reset_stats(now);
    }
}

impl EtcdModel {
    /// Queues a disk operation of member `m`.
    pub(super) fn disk(&mut self, m: MemberId, job: DiskJob, s: &mut Scheduler<PackedEv>) {
        if let Some(job) = self.members[m].disk.queue.acquire(s.now(), job) {
            self.start_disk(m, job, s);
        }
    }

    fn start_disk(&mut self, m: MemberId, job: DiskJob, s: &mut Scheduler<PackedEv>) {
        self.members[m].disk.start = s.now();
        let d = self.p.fsync.sample(&mut self.rng_disk);
        s.schedule_in(d, Ev::DiskDone(m, job));
    }

    /// A disk operation of member `m` finished.
    pub(super) fn disk_done(&mut self, m: MemberId, job: DiskJob, s: &mut Scheduler<PackedEv>) {
        let what = match job {
            DiskJob::Wal => "wal fsync",
            DiskJob::Bolt => "bolt fsync",
        };
        let start = self.members[m].disk.start;
        self.trace.activity(m, what, start, s.now(), 0);
        if let Some((next, _)) = self.members[m].disk.queue.release(s.now()) {
            self.start_disk(m, next, s);
        }
        match job {
            DiskJob::Wal => self.wal_synced(m, s),
            DiskJob::Bolt => self.bolt_synced(m, s),
        }
    }
}
