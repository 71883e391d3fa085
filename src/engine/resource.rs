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
//!
//! [`Pipe`] is a single FIFO server whose service time is known when a job arrives (a network
//! interface serializing a message at its bandwidth). Each job's start and finish then follow
//! from the previous job's finish, so the model needs no event for the server itself: it
//! schedules whatever happens at (or after) the finish directly.

use std::collections::VecDeque;

use super::time::{SimDuration, SimTime};
use super::timeweighted::TimeWeighted;

/// `c` identical servers in front of one FIFO queue.
#[derive(Debug, Clone)]
pub struct Servers<J> {
    capacity: u32,
    busy: u32,
    queue: VecDeque<(SimTime, J)>,
    /// Jobs served before `queue` (FIFO among themselves): see [`Servers::acquire_urgent`].
    urgent: VecDeque<(SimTime, J)>,
    /// Jobs served after `urgent` and before `queue`: see [`Servers::acquire_ahead`].
    ahead: VecDeque<(SimTime, J)>,
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
            urgent: VecDeque::new(),
            ahead: VecDeque::new(),
            busy_level: TimeWeighted::new(start),
            grants: 0,
            queued: 0,
        }
    }

    /// A job arrives. If a server is idle it takes it at once and the job comes back as
    /// `Some(job)`; otherwise the job joins the queue and `None` is returned.
    #[inline]
    pub fn acquire(&mut self, now: SimTime, job: J) -> Option<J> {
        if self.busy < self.capacity && self.waiting() == 0 {
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

    /// Like [`Servers::acquire`], but a job that must wait goes ahead of every ordinary job
    /// queued (behind earlier urgent ones). Nothing is preempted: it takes the next server
    /// freed. This is Go's `runnext`, which a goroutine woken by a channel operation or a
    /// timer takes, so it runs before the processor's queue of runnable goroutines.
    #[inline]
    pub fn acquire_urgent(&mut self, now: SimTime, job: J) -> Option<J> {
        self.acquire_before_queue(now, job, true)
    }

    /// Like [`Servers::acquire`], but a job that must wait goes behind the urgent ones and
    /// ahead of every ordinary job queued: an OS's placement of a thread that woke from sleep
    /// before the threads that were preempted while running.
    #[inline]
    pub fn acquire_ahead(&mut self, now: SimTime, job: J) -> Option<J> {
        self.acquire_before_queue(now, job, false)
    }

    /// A job that must wait goes ahead of the ordinary queue: among the urgent, or behind
    /// them.
    fn acquire_before_queue(&mut self, now: SimTime, job: J, urgent: bool) -> Option<J> {
        if self.busy < self.capacity && self.waiting() == 0 {
            return self.acquire(now, job);
        }
        self.queued += 1;
        let q = if urgent {
            &mut self.urgent
        } else {
            &mut self.ahead
        };
        q.push_back((now, job));
        None
    }

    /// Jobs waiting now ahead of the ordinary queue (urgent ones and those queued ahead).
    pub fn waiting_ahead(&self) -> usize {
        self.urgent.len() + self.ahead.len()
    }

    /// A job leaves its server. If a job is waiting it takes the freed server and comes
    /// back with the time it waited.
    #[inline]
    pub fn release(&mut self, now: SimTime) -> Option<(J, SimDuration)> {
        assert!(self.busy > 0, "release of an idle resource");
        if let Some((since, job)) = self
            .urgent
            .pop_front()
            .or_else(|| self.ahead.pop_front())
            .or_else(|| self.queue.pop_front())
        {
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
        self.queue.len() + self.urgent.len() + self.ahead.len()
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

/// A single FIFO server whose service times are known on arrival; see the module docs.
#[derive(Debug, Clone)]
pub struct Pipe {
    /// When the last job queued so far finishes.
    free_at: SimTime,
    /// The service time of every job so far, in ns.
    total_ns: u64,
    /// Busy time up to `since`, in ns.
    base_ns: u64,
    /// The start of the measured window.
    since: SimTime,
}

impl Pipe {
    /// An idle server at `start`.
    pub fn new(start: SimTime) -> Self {
        Pipe {
            free_at: start,
            total_ns: 0,
            base_ns: 0,
            since: start,
        }
    }

    /// A job needing `service` arrives at `now`: returns when it starts (now, or when the jobs
    /// queued before it have finished) and when it finishes.
    #[inline]
    pub fn enqueue(&mut self, now: SimTime, service: SimDuration) -> (SimTime, SimTime) {
        let start = self.free_at.max(now);
        self.free_at = start + service;
        // Saturating: a bandwidth near zero gives absurd (but valid) service times.
        self.total_ns = self.total_ns.saturating_add(service.0);
        (start, self.free_at)
    }

    /// Busy time from the start up to `now`, in ns. The work still ahead of `now` is one
    /// unbroken stretch ending at `free_at`: a job that starts after `now` starts when the job
    /// before it finishes, since every arrival so far came at or before `now`.
    fn busy_ns(&self, now: SimTime) -> u64 {
        self.total_ns.saturating_sub(self.free_at.since(now).0)
    }

    /// Fraction of time busy since the last [`Pipe::reset_stats`] (0 over an empty window).
    /// `now` is at or after every arrival so far, as in a simulation it always is.
    pub fn utilization(&self, now: SimTime) -> f64 {
        let span = now.since(self.since).0;
        if span == 0 {
            return 0.0;
        }
        self.busy_ns(now).saturating_sub(self.base_ns) as f64 / span as f64
    }

    /// Forgets utilization history (end of warm-up); queued work stays.
    pub fn reset_stats(&mut self, now: SimTime) {
        self.base_ns = self.busy_ns(now);
        self.since = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_serves_in_order_and_counts_only_elapsed_busy_time() {
        let mut p = Pipe::new(SimTime(0));
        // Idle: a job starts at once; the next queues behind it.
        let first = p.enqueue(SimTime(0), SimDuration(10));
        assert_eq!(first, (SimTime(0), SimTime(10)));
        let second = p.enqueue(SimTime(4), SimDuration(6));
        assert_eq!(second, (SimTime(10), SimTime(16)));
        // At 12, 12 ns were busy; 4 more are queued and do not count yet.
        assert!((p.utilization(SimTime(12)) - 1.0).abs() < 1e-12);
        p.reset_stats(SimTime(12));
        assert_eq!(p.utilization(SimTime(12)), 0.0);
        // A later job finds the server idle.
        let third = p.enqueue(SimTime(30), SimDuration(10));
        assert_eq!(third, (SimTime(30), SimTime(40)));
        // Since 12: busy 12..16 and 30..35, 9 of 23 ns.
        assert!((p.utilization(SimTime(35)) - 9.0 / 23.0).abs() < 1e-12);
        // Work reaching past now counts up to now: by 52, 4 + 10 + 12 of 40 ns.
        p.enqueue(SimTime(40), SimDuration(100));
        assert!((p.utilization(SimTime(52)) - 26.0 / 40.0).abs() < 1e-12);
    }

    /// Service times at the largest duration do not overflow the busy-time count.
    #[test]
    fn a_pipe_saturates_instead_of_overflowing() {
        let mut p = Pipe::new(SimTime(0));
        let huge = SimDuration(i64::MAX as u64);
        for _ in 0..3 {
            p.enqueue(SimTime(0), huge);
        }
        assert_eq!(p.utilization(SimTime(10)), 1.0);
    }

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
    fn urgent_jobs_go_ahead_of_the_queue_without_preempting() {
        let mut s = Servers::new(1, SimTime(0));
        assert_eq!(s.acquire(SimTime(0), 'a'), Some('a'));
        assert_eq!(s.acquire(SimTime(1), 'b'), None);
        assert_eq!(s.acquire_urgent(SimTime(2), 'U'), None);
        assert_eq!(s.acquire_urgent(SimTime(3), 'V'), None);
        assert_eq!(s.waiting(), 3);
        // 'a' keeps its server; then the urgent jobs in their order, then the queue.
        assert_eq!(s.release(SimTime(10)), Some(('U', SimDuration(8))));
        assert_eq!(s.release(SimTime(11)), Some(('V', SimDuration(8))));
        assert_eq!(s.release(SimTime(12)), Some(('b', SimDuration(11))));
        assert_eq!(s.release(SimTime(13)), None);
        // An idle server takes an urgent job at once.
        assert_eq!(s.acquire_urgent(SimTime(20), 'W'), Some('W'));
    }

    #[test]
    fn jobs_queued_ahead_go_after_the_urgent_and_before_the_queue() {
        let mut s = Servers::new(1, SimTime(0));
        assert_eq!(s.acquire(SimTime(0), 'a'), Some('a'));
        assert_eq!(s.acquire(SimTime(1), 'b'), None);
        assert_eq!(s.acquire_ahead(SimTime(2), 'W'), None);
        assert_eq!(s.acquire_urgent(SimTime(3), 'U'), None);
        assert_eq!(s.acquire_ahead(SimTime(4), 'X'), None);
        assert_eq!((s.waiting(), s.waiting_ahead()), (4, 3));
        assert_eq!(s.release(SimTime(10)), Some(('U', SimDuration(7))));
        assert_eq!(s.release(SimTime(11)), Some(('W', SimDuration(9))));
        assert_eq!(s.release(SimTime(12)), Some(('X', SimDuration(8))));
        assert_eq!(s.release(SimTime(13)), Some(('b', SimDuration(12))));
        assert_eq!(s.release(SimTime(14)), None);
        assert_eq!(s.acquire_ahead(SimTime(20), 'Y'), Some('Y'));
    }

    #[test]
    #[should_panic(expected = "release of an idle resource")]
    fn releasing_an_idle_resource_is_a_bug() {
        let mut s: Servers<()> = Servers::new(1, SimTime(0));
        s.release(SimTime(0));
    }
}

/// A read-write lock with FIFO hand-over, in the spirit of Go's `sync.RWMutex`: any number of
/// readers or one writer hold it; once a writer waits, new readers queue behind it (writer
/// preference), so a stream of readers cannot starve a writer. Like [`Servers`], it holds no
/// events: the model acquires, releases and schedules.
#[derive(Debug, Clone)]
pub struct RwLock<J> {
    /// Readers holding the lock, those in `leaving` included.
    readers: u32,
    /// When each reader that announced its release ([`RwLock::hold_until`]) leaves.
    leaving: Vec<SimTime>,
    /// A wake-up the model has been asked for and has not delivered yet.
    wake_asked: bool,
    /// A wake-up to hand to the model ([`RwLock::take_wake`]).
    wake_request: Option<SimTime>,
    writer: bool,
    queue: VecDeque<(SimTime, bool, J)>,
    write_held: TimeWeighted,
}

impl<J> RwLock<J> {
    /// An unlocked lock.
    pub fn new(start: SimTime) -> Self {
        RwLock {
            readers: 0,
            leaving: Vec::new(),
            wake_asked: false,
            wake_request: None,
            writer: false,
            queue: VecDeque::new(),
            write_held: TimeWeighted::new(start),
        }
    }

    /// A reader arrives: granted at once (`Some(job)`) unless a writer holds the lock or anyone
    /// is queued.
    pub fn read(&mut self, now: SimTime, job: J) -> Option<J> {
        self.expire(now);
        if !self.writer && self.queue.is_empty() {
            self.readers += 1;
            Some(job)
        } else {
            self.queue.push_back((now, false, job));
            None
        }
    }

    /// Whether a reader arriving now would be granted at once ([`RwLock::read`]).
    pub fn would_grant_read(&self) -> bool {
        !self.writer && self.queue.is_empty()
    }

    /// A writer arrives: granted at once if the lock is free and nobody is queued.
    pub fn write(&mut self, now: SimTime, job: J) -> Option<J> {
        self.expire(now);
        if !self.writer && self.readers == 0 && self.queue.is_empty() {
            self.writer = true;
            self.write_held.set(now, 1.0);
            Some(job)
        } else {
            self.queue.push_back((now, true, job));
            self.check_wake();
            None
        }
    }

    /// A reader holding the lock announces that it leaves at `until` (not before `now`), and
    /// will not call [`RwLock::read_release`]: a goroutine whose work under the lock has a
    /// known length, so the model needs no event for its release. The release is applied
    /// lazily, by the next operation at or after `until`; when a waiting writer is held back
    /// by such readers alone, the lock asks for a wake-up ([`RwLock::take_wake`]) at the
    /// time the last of them leaves, and the model calls [`RwLock::wake`] then.
    pub fn hold_until(&mut self, now: SimTime, until: SimTime) {
        assert!(
            self.readers as usize > self.leaving.len(),
            "hold_until by a reader that does not hold the lock"
        );
        debug_assert!(until >= now);
        self.leaving.push(until);
        self.check_wake();
    }

    /// A wake-up the lock needs, once: the model schedules an event at that time which calls
    /// [`RwLock::wake`].
    pub fn take_wake(&mut self) -> Option<SimTime> {
        self.wake_request.take()
    }

    /// The wake-up asked for: the readers that announced their release by now leave; returns
    /// the jobs granted as a result.
    pub fn wake(&mut self, now: SimTime) -> Vec<(J, SimDuration)> {
        self.wake_asked = false;
        self.expire(now);
        let out = self.grant(now);
        self.check_wake();
        out
    }

    /// Lets the readers whose announced release time has come leave.
    fn expire(&mut self, now: SimTime) {
        let before = self.leaving.len();
        self.leaving.retain(|&t| t > now);
        self.readers -= (before - self.leaving.len()) as u32;
    }

    /// Asks for a wake-up if a writer waits at the front of the queue for readers that will
    /// all leave at known times, and none is asked for yet. While a writer waits no reader
    /// joins, so the last of those times does not move.
    fn check_wake(&mut self) {
        let writer_waits = matches!(self.queue.front(), Some(&(_, true, _)));
        if !self.wake_asked
            && !self.writer
            && writer_waits
            && self.readers > 0
            && self.readers as usize == self.leaving.len()
        {
            let last = self
                .leaving
                .iter()
                .copied()
                .max()
                .expect("readers are leaving");
            self.wake_asked = true;
            self.wake_request = Some(last);
        }
    }

    /// A reader leaves; returns the jobs granted as a result (a writer, when the last reader
    /// leaves), with how long each waited.
    pub fn read_release(&mut self, now: SimTime) -> Vec<(J, SimDuration)> {
        assert!(
            self.readers as usize > self.leaving.len(),
            "read release of a lock no reader holds"
        );
        self.readers -= 1;
        self.expire(now);
        let out = self.grant(now);
        self.check_wake();
        out
    }

    /// The writer leaves; returns the jobs granted as a result (the next writer, or every
    /// reader queued before the next writer).
    pub fn write_release(&mut self, now: SimTime) -> Vec<(J, SimDuration)> {
        assert!(self.writer, "write release of a lock no writer holds");
        self.writer = false;
        self.write_held.set(now, 0.0);
        self.expire(now);
        let out = self.grant(now);
        self.check_wake();
        out
    }

    fn grant(&mut self, now: SimTime) -> Vec<(J, SimDuration)> {
        let mut out = Vec::new();
        if self.writer {
            return out;
        }
        while let Some(&(_, is_writer, _)) = self.queue.front() {
            if is_writer {
                if self.readers == 0 && out.is_empty() {
                    let (since, _, job) = self.queue.pop_front().expect("front exists");
                    self.writer = true;
                    self.write_held.set(now, 1.0);
                    out.push((job, now - since));
                }
                break;
            }
            let (since, _, job) = self.queue.pop_front().expect("front exists");
            self.readers += 1;
            out.push((job, now - since));
        }
        out
    }

    /// Whether a writer holds the lock.
    pub fn write_locked(&self) -> bool {
        self.writer
    }
    /// Readers holding the lock (those that announced a release time that has passed, but
    /// that no operation has applied yet, included).
    pub fn readers(&self) -> u32 {
        self.readers
    }
    /// Fraction of time a writer held the lock since the last reset.
    pub fn write_utilization(&self, now: SimTime) -> f64 {
        self.write_held.mean(now)
    }
    /// Forgets history.
    pub fn reset_stats(&mut self, now: SimTime) {
        self.write_held.reset(now);
    }
}

#[cfg(test)]
mod rw_tests {
    use super::*;

    #[test]
    fn readers_share_writers_exclude_and_a_waiting_writer_blocks_new_readers() {
        let mut l = RwLock::new(SimTime(0));
        assert_eq!(l.read(SimTime(0), 'a'), Some('a'));
        assert_eq!(l.read(SimTime(1), 'b'), Some('b'));
        assert_eq!(l.write(SimTime(2), 'W'), None);
        // A writer waits: a new reader queues behind it.
        assert_eq!(l.read(SimTime(3), 'c'), None);
        assert!(l.read_release(SimTime(4)).is_empty());
        let g = l.read_release(SimTime(5));
        assert_eq!(g, vec![('W', SimDuration(3))]);
        assert!(l.write_locked());
        assert_eq!(l.write(SimTime(6), 'X'), None);
        // The writer leaves: the reader queued before the next writer is granted, not X.
        assert_eq!(l.write_release(SimTime(9)), vec![('c', SimDuration(6))]);
        assert_eq!(l.read_release(SimTime(10)), vec![('X', SimDuration(4))]);
        assert_eq!(l.write_release(SimTime(12)), vec![]);
        // Held for writing on 5..9 and 10..12: 6 of 12 ns.
        assert!((l.write_utilization(SimTime(12)) - 0.5).abs() < 1e-12);
    }

    /// Readers that announce their release need no release call: a writer that arrives while
    /// only they hold the lock gets a wake-up at the last one's time, and is granted then, as
    /// if each had released at its time.
    #[test]
    fn readers_leaving_at_known_times_wake_a_waiting_writer_at_the_last() {
        let mut l = RwLock::new(SimTime(0));
        assert_eq!(l.read(SimTime(0), 'a'), Some('a'));
        assert_eq!(l.read(SimTime(1), 'b'), Some('b'));
        l.hold_until(SimTime(1), SimTime(20));
        // No writer waits: no wake-up.
        assert_eq!(l.take_wake(), None);
        // A writer arrives; 'a' still holds the lock by events, so no wake-up yet.
        assert_eq!(l.write(SimTime(5), 'W'), None);
        assert_eq!(l.take_wake(), None);
        // 'a' announces 30: both readers now leave at known times; wake at the later one.
        l.hold_until(SimTime(6), SimTime(30));
        assert_eq!(l.take_wake(), Some(SimTime(30)));
        assert_eq!(l.take_wake(), None, "asked once");
        // A reader arriving meanwhile queues behind the writer; so does another writer, and
        // no second wake-up is asked for.
        assert_eq!(l.read(SimTime(25), 'c'), None);
        assert_eq!(l.write(SimTime(26), 'X'), None);
        assert_eq!(l.take_wake(), None);
        assert_eq!(l.wake(SimTime(30)), vec![('W', SimDuration(25))]);
        assert_eq!(l.readers(), 0);
        assert_eq!(l.write_release(SimTime(31)), vec![('c', SimDuration(6))]);
        assert_eq!(l.read_release(SimTime(32)), vec![('X', SimDuration(6))]);
    }

    /// A reader whose announced time has passed is gone for the next operation: a writer
    /// arriving after it is granted at once, with no wake-up.
    #[test]
    fn a_passed_release_time_frees_the_lock_for_the_next_writer() {
        let mut l = RwLock::new(SimTime(0));
        assert_eq!(l.read(SimTime(0), 'a'), Some('a'));
        l.hold_until(SimTime(0), SimTime(10));
        assert_eq!(l.readers(), 1);
        assert_eq!(l.write(SimTime(10), 'W'), Some('W'));
        assert_eq!(l.readers(), 0);
        assert_eq!(l.take_wake(), None);
        // A last event-released reader hands a writer over to readers leaving later: the wake
        // is asked for then.
        assert_eq!(l.write_release(SimTime(11)), vec![]);
        assert_eq!(l.read(SimTime(12), 'b'), Some('b'));
        assert_eq!(l.read(SimTime(12), 'c'), Some('c'));
        l.hold_until(SimTime(12), SimTime(40));
        assert_eq!(l.write(SimTime(13), 'X'), None);
        assert_eq!(l.take_wake(), None);
        assert!(l.read_release(SimTime(14)).is_empty());
        assert_eq!(l.take_wake(), Some(SimTime(40)));
        assert_eq!(l.wake(SimTime(40)), vec![('X', SimDuration(27))]);
    }

    #[test]
    fn consecutive_readers_are_released_together() {
        let mut l = RwLock::new(SimTime(0));
        assert_eq!(l.write(SimTime(0), 0), Some(0));
        for i in 1..=3 {
            assert_eq!(l.read(SimTime(i), i), None);
        }
        assert_eq!(l.write(SimTime(4), 9), None);
        let g: Vec<u64> = l
            .write_release(SimTime(5))
            .into_iter()
            .map(|x| x.0)
            .collect();
        assert_eq!(g, vec![1, 2, 3]);
        assert_eq!(l.readers(), 3);
    }
}
