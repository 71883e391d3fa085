//! Disks: the WAL's fdatasyncs (one per Ready with entries) and the backend commit's two, in
//! FIFO order, each taking a draw of the disk's fdatasync latency plus the time to write the
//! bytes it makes durable.
//!
//! An fdatasync's measured latency (`disk.fsync_us`, on an idle machine) holds CPU as well as
//! the device's time ([`super::params::FsyncCpu`]): the caller's system time, which the
//! calling goroutine's burst carries before the disk operation is queued, and the kernel's
//! completion work after the device, which takes one of the host's cores ahead of every
//! waiting thread (an interrupt, its softirq, a woken kworker) and is charged to no process
//! (`cpu.rs`). The device takes the rest of each draw. So on a busy host an fdatasync takes
//! longer than its device does (`harness/tools/fsync_sizes.py` measured this machine's mean
//! going from 202 to 322 µs beside two busy loops), and a shared disk's device, which queues,
//! is busy for less than the whole latency: with three writers the reference machine's disk
//! ran about 10,000 syncs/s at about 290 µs each, three times what one writer at 215 µs gets
//! (`harness/tools/fsync_cpu.py`).
//!
//! Each member has a disk of its own, or (`disk.shared = true`) the members on one host share
//! its disk: their data directories are on one file system, and fdatasyncs on one ext4 file
//! system take turns (its journal commits one transaction at a time), so one member's WAL
//! sync waits behind another's.

use super::EtcdModel;
use super::event::{DiskJob, Ev, Life, PackedEv};
use super::ids::{IdVec, MemberId};
use crate::engine::{Scheduler, Servers, SimDuration, SimTime};

/// One disk.
pub struct Disk {
    /// Operations in progress and waiting: the member (and its life) each is for, and its
    /// bytes.
    queue: Servers<(MemberId, DiskJob, u64, Life)>,
    /// When the operation in progress began (for traces).
    start: SimTime,
    /// A timeline's slow or stalled spell: until when, and the factor (infinite: a stall).
    spell: Option<(SimTime, f64)>,
}

impl Disk {
    fn new() -> Disk {
        Disk {
            queue: Servers::new(1, SimTime::ZERO),
            start: SimTime::ZERO,
            spell: None,
        }
    }

    /// The spell in force at `now`, if any.
    fn spell_at(&self, now: SimTime) -> Option<(SimTime, f64)> {
        self.spell.filter(|&(until, _)| now < until)
    }
}

/// Every disk, and which disk each member writes to.
pub struct Disks {
    disks: Vec<Disk>,
    of: IdVec<MemberId, usize>,
    /// When each member's WAL fdatasync in hand was queued (for etcd's histogram).
    wal_since: IdVec<MemberId, SimTime>,
}

impl Disks {
    /// A disk per member, or one per host (members on one host sharing it) when `shared`;
    /// `hosts[m]` is member `m`'s host.
    pub fn new(hosts: &[super::ids::HostId], shared: bool) -> Disks {
        let mut keys: Vec<usize> = Vec::new();
        let of = hosts
            .iter()
            .enumerate()
            .map(|(m, h)| {
                let key = if shared { usize::from(h.0) } else { m };
                match keys.iter().position(|&k| k == key) {
                    Some(i) => i,
                    None => {
                        keys.push(key);
                        keys.len() - 1
                    }
                }
            })
            .collect();
        Disks {
            disks: keys.iter().map(|_| Disk::new()).collect(),
            wal_since: hosts.iter().map(|_| SimTime::ZERO).collect(),
            of,
        }
    }

    /// When member `m`'s WAL fdatasync in hand was queued.
    pub fn wal_since(&self, m: MemberId) -> SimTime {
        self.wal_since[m]
    }

    /// Fraction of time member `m`'s disk was busy since the last reset.
    pub fn utilization(&self, m: MemberId, now: SimTime) -> f64 {
        self.disks[self.of[m]].queue.utilization(now)
    }

    /// Forgets utilization history.
    pub fn reset_stats(&mut self, now: SimTime) {
        for d in &mut self.disks {
            d.queue.reset_stats(now);
        }
    }
}

impl EtcdModel {
    /// Queues a disk operation of member `m` that makes `bytes` durable.
    pub(super) fn disk(
        &mut self,
        m: MemberId,
        job: DiskJob,
        bytes: u64,
        s: &mut Scheduler<PackedEv>,
    ) {
        let d = self.disks.of[m];
        if job == DiskJob::Wal {
            self.disks.wal_since[m] = s.now();
        }
        let life = self.members[m].life;
        if let Some(op) = self.disks.disks[d]
            .queue
            .acquire(s.now(), (m, job, bytes, life))
        {
            self.start_disk(d, op, s);
        }
    }

    fn start_disk(
        &mut self,
        d: usize,
        (m, job, bytes, life): (MemberId, DiskJob, u64, Life),
        s: &mut Scheduler<PackedEv>,
    ) {
        let now = s.now();
        self.disks.disks[d].start = now;
        let draw = self.p.fsync.sample(&mut self.rng_disk);
        let t = SimDuration::from_nanos_f64(draw.0 as f64 * self.p.fsync_cpu.device_share)
            + SimDuration::from_nanos_f64(self.p.fsync_ns_per_byte * bytes as f64);
        let done = match self.disks.disks[d].spell_at(now) {
            Some((until, f)) if f.is_infinite() => (now + t).max(until),
            Some((_, f)) => now + SimDuration::from_nanos_f64(t.0 as f64 * f),
            None => now + t,
        };
        s.schedule_at(done, Ev::DiskDone(m, job, life));
    }

    /// Member `m`'s disk is slow by `factor` (infinite: stalled) for `d` from now: an
    /// fdatasync in progress during a stall completes when it ends.
    pub(super) fn disk_spell(&mut self, m: MemberId, factor: f64, d: SimDuration, now: SimTime) {
        let disk = self.disks.of[m];
        self.disks.disks[disk].spell = Some((now + d, factor));
    }

    /// A disk operation of member `m` finished on the device (unless a stall holds it: then
    /// it finishes when the stall ends); the kernel's completion work follows.
    pub(super) fn disk_done(
        &mut self,
        m: MemberId,
        job: DiskJob,
        life: Life,
        s: &mut Scheduler<PackedEv>,
    ) {
        let d = self.disks.of[m];
        if let Some((until, f)) = self.disks.disks[d].spell_at(s.now()) {
            if f.is_infinite() {
                s.schedule_at(until, Ev::DiskDone(m, job, life));
                return;
            }
        }
        let what = match job {
            DiskJob::Wal => "wal fsync",
            DiskJob::Bolt => "bolt fsync",
        };
        let start = self.disks.disks[d].start;
        self.trace.activity(m, what, start, s.now(), 0);
        if let Some((next, _)) = self.disks.disks[d].queue.release(s.now()) {
            self.start_disk(d, next, s);
        }
        if !self.members[m].runs(life) {
            // A killed member's call has no thread to return to (nor has one of its earlier
            // life); the disk goes on for the members that share it.
        } else if self.p.fsync_cpu.kernel > SimDuration::ZERO {
            self.kernel_fsync_work(m, job, life, s);
        } else {
            self.fsync_returned(m, job, s);
        }
    }

    /// Member `m`'s fdatasync returns to its caller: the device and the kernel are done.
    pub(super) fn fsync_returned(
        &mut self,
        m: MemberId,
        job: DiskJob,
        s: &mut Scheduler<PackedEv>,
    ) {
        match job {
            DiskJob::Wal => self.wal_synced(m, s),
            DiskJob::Bolt => self.bolt_synced(m, s),
        }
    }
}
