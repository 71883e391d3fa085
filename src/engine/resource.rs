//! Resource primitives: a pool of identical servers with one FIFO queue.
//!
//! [`Servers`] is `c` identical servers (CPU cores, with `c` = cores) or, with `c = 1`, a
//! single-server FIFO (a disk, a mutex, a link's serializer). It holds no events: a model
//! calls [`Servers::acquire`] when a job arrives and [`Servers::release`] when a job leaves a
//! server, and schedules the completion itself. The hold time need not be known on arrival,
//! so the same primitive serves a lock held across several events.
//!
//! It records the time-weighted number of busy servers (utilization) and the waiting time of
//! every job that queued.

use std::collections::VecDeque;

use super::time::{SimDuration, SimTime};
use crate::stats::TimeWeighted;

/// `c` identical servers in front of one FIFO queue.
#[derive(Debug, Clone)]
pub struct Servers<J> {
    capacity: u32,
    busy: u32,
    queue: VecDeque<(SimTime, J)>,
    busy_level: TimeWeighted,
    grants: u64,
    queued: u64,
}

impl<J> Servers<J> {
    /// A pool of `capacity` servers, all idle at `start`. `capacity` must be at least 1.
    pub fn new(capacity: u32, start: SimTime) -> Self {
        assert!(capacity >= 1, "a resource needs at least one server");
        Servers {
            capacity,
            busy: 0,
            queue: VecDeque::new(),
            busy_level: TimeWeighted::new(start),
            grants: 0,
            queued: 0,
        }
    }

    /// A job arrives. If a server is idle it takes it at once and the job comes back as
    /// `Some(job)`; otherwise the job joins the queue and `None` is returned.
    #[inline]
    pub fn acquire(&mut self, now: SimTime, job: J) -> Option<J> {
        if self.busy < self.capacity && self.queue.is_empty() {
            self.busy += 1;
            self.busy_level.set(now, f64::from(self.busy));
            self.grants += 1;
            Some(job)
        } else {
            self.queued += 1;
            self.queue.push_back((now, job));
            None
        }
    }

    /// A job leaves its server. If a job is waiting it takes the freed server and comes
    /// back with the time it waited.
    #[inline]
    pub fn release(&mut self, now: SimTime) -> Option<(J, SimDuration)> {
        assert!(self.busy > 0, "release of an idle resource");
        if let Some((since, job)) = self.queue.pop_front() {
            self.grants += 1;
            Some((job, now - since))
        } else {
            self.busy -= 1;
            self.busy_level.set(now, f64::from(self.busy));
            None
        }
    }

    /// Servers busy now.
    pub fn busy(&self) -> u32 {
        self.busy
    }
    /// Jobs waiting now.
    pub fn waiting(&self) -> usize {
        self.queue.len()
    }
    /// Number of servers.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }
    /// Jobs granted a server since the start (including those that waited).
    pub fn grants(&self) -> u64 {
        self.grants
    }
    /// Jobs that had to queue since the start.
    pub fn queued(&self) -> u64 {
        self.queued
    }
    /// Mean fraction of servers busy since the last [`Servers::reset_stats`].
    pub fn utilization(&self, now: SimTime) -> f64 {
        self.busy_level.mean(now) / f64::from(self.capacity)
    }
    /// Forgets utilization history (end of warm-up); the current state stays.
    pub fn reset_stats(&mut self, now: SimTime) {
        self.busy_level.reset(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_grant_order_and_waits() {
        let mut s = Servers::new(2, SimTime(0));
        assert_eq!(s.acquire(SimTime(0), 'a'), Some('a'));
        assert_eq!(s.acquire(SimTime(1), 'b'), Some('b'));
        assert_eq!(s.acquire(SimTime(2), 'c'), None);
        assert_eq!(s.acquire(SimTime(3), 'd'), None);
        assert_eq!(s.release(SimTime(10)), Some(('c', SimDuration(8))));
        assert_eq!(s.release(SimTime(12)), Some(('d', SimDuration(9))));
        assert_eq!(s.release(SimTime(14)), None);
        assert_eq!(s.release(SimTime(20)), None);
        assert_eq!(s.busy(), 0);
        // Busy servers: 1 on [0,1), 2 on [1,14), 1 on [14,20): (1 + 26 + 6) / 20 = 1.65 of 2.
        assert!((s.utilization(SimTime(20)) - 1.65 / 2.0).abs() < 1e-12);
        assert_eq!((s.grants(), s.queued()), (4, 2));
    }

    #[test]
    fn a_new_arrival_never_overtakes_the_queue() {
        let mut s = Servers::new(1, SimTime(0));
        assert_eq!(s.acquire(SimTime(0), 1), Some(1));
        assert_eq!(s.acquire(SimTime(0), 2), None);
        // The server passes straight to job 2: job 3 arriving at the same instant must wait.
        assert_eq!(s.release(SimTime(5)), Some((2, SimDuration(5))));
        assert_eq!(s.acquire(SimTime(5), 3), None);
    }

    #[test]
    #[should_panic(expected = "release of an idle resource")]
    fn releasing_an_idle_resource_is_a_bug() {
        let mut s: Servers<()> = Servers::new(1, SimTime(0));
        s.release(SimTime(0));
    }
}
