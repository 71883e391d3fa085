//! The future-event list.
//!
//! # Contract
//! Events are totally ordered by **(time, insertion sequence)**:
//! - an event at an earlier time is popped first;
//! - events at the same time are popped in the order they were scheduled (FIFO), by
//!   construction (see below), with no sequence number stored;
//! - nothing is ever scheduled before the time of the last popped event: the
//!   [`crate::engine::Scheduler`] refuses it with a panic, since it is a logic error in a model
//!   and continuing would silently break causality.
//!
//! The structure is a **radix heap** (Ahuja, Mehlhorn, Orlin and Tarjan 1990), which needs
//! exactly what a discrete-event simulator guarantees: integer keys and a minimum that never
//! decreases. Bucket `b` holds events whose time first differs from the last popped time in bit
//! `b − 1` (bucket 0: the same time). Pushing is O(1); an event moves down at most 64 buckets
//! over its life. Buckets are appended to and redistributed in order, and events with equal
//! times always share a bucket, so equal times leave in insertion order (FIFO) without
//! comparing sequence numbers. `benches/engine.rs` compares it with `std`'s binary heap.
//!
//! While at most [`SMALL_MAX`] events are pending they live instead in a short array sorted
//! latest first, so the earliest pops off its end and a push moves the few earlier entries up
//! one place: a queue of two or three events (an M/M/1 queue's whole future) then costs less
//! than any heap's sift. Events are `Copy`, so the array is a fixed one, filled at the first
//! push. The events move into the radix heap when a push would exceed that size, and back when
//! pops leave [`SMALL_BACK`] or fewer, so a queue near the boundary does not move them on every
//! operation.

use std::collections::VecDeque;

use super::time::SimTime;

/// A scheduled event, as the queue stores it and as the simulation loop takes it (in this one
/// layout: repacking it into a tuple on every pop made the compiler copy the event through the
/// stack in odd-sized pieces, which stalled store forwarding).
///
/// It holds no sequence number: equal times leave in insertion order by construction (see the
/// module docs), and without one an entry with an eight-byte event takes 16 bytes, not 24.
#[derive(Clone, Copy)]
pub(crate) struct Entry<E> {
    pub(crate) time: u64,
    pub(crate) event: E,
}

/// The most events the sorted array holds before they move into the radix heap.
pub const SMALL_MAX: usize = 8;
/// The radix heap hands its events back to the sorted array when a pop leaves this few.
pub const SMALL_BACK: usize = 2;

/// A priority queue of events ordered by `(time, insertion sequence)`.
pub struct EventQueue<E> {
    /// While `radix` is false, every pending event, sorted by (time, insertion order) from the
    /// latest to the earliest (which is last, so it pops in O(1)). Its first `len` entries are
    /// pending; the rest are stale copies: `small` is filled to [`SMALL_MAX`] entries at the
    /// first push, so that it is a fixed array from then.
    small: Vec<Entry<E>>,
    /// Whether the events live in the radix heap (`now` and `buckets`) instead of `small`.
    radix: bool,
    /// Events at exactly `last`, in insertion order.
    now: VecDeque<Entry<E>>,
    /// `buckets[b - 1]` holds events whose time's highest bit differing from `last` is `b - 1`.
    buckets: Vec<Vec<Entry<E>>>,
    /// Bit `b - 1` is set when `buckets[b - 1]` is not empty.
    occupied: u64,
    /// The smallest time in each bucket (valid while the bucket is not empty), so settling
    /// needs no pass to find it.
    mins: [u64; 64],
    /// The time of the last event popped (or peeked): no event may be earlier.
    last: u64,
    len: usize,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

#[inline]
fn bucket_of(time: u64, last: u64) -> usize {
    (64 - (time ^ last).leading_zeros()) as usize
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty queue with room for `n` events at the current time before it reallocates.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            small: Vec::new(),
            radix: false,
            now: VecDeque::with_capacity(n),
            buckets: (0..64).map(|_| Vec::new()).collect(),
            occupied: 0,
            mins: [u64::MAX; 64],
            last: 0,
            len: 0,
        }
    }

    /// Schedules `event` at `time`.
    ///
    /// # Panics
    /// If `time` is before the last popped event's time (monotonicity is the radix heap's
    /// precondition; the scheduler refuses such events earlier with a clearer message).
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        assert!(
            time.0 >= self.last,
            "event queue: push before the last popped time"
        );
        self.push_checked(time, event)
    }

    /// [`EventQueue::push`] for a caller that has already made sure `time` is not before the
    /// last popped time (the scheduler, whose clock is that time).
    #[inline(always)]
    pub(crate) fn push_checked(&mut self, time: SimTime, event: E) {
        debug_assert!(time.0 >= self.last);
        let e = Entry {
            time: time.0,
            event,
        };
        if self.radix {
            self.len += 1;
            self.radix_push(e);
        } else {
            self.small_push(e);
        }
    }

    /// Puts `e` into the sorted array, or moves everything into the radix heap if it is full.
    #[inline(always)]
    fn small_push(&mut self, e: Entry<E>) {
        let n = self.len;
        match <&mut [Entry<E>; SMALL_MAX]>::try_from(&mut self.small[..]) {
            Ok(s) if n < SMALL_MAX => {
                // The new event has the largest sequence number, so it goes after every event
                // that is later and before every event that is not: the earlier ones move up
                // one place and it takes the place they leave.
                let mut i = n;
                while i > 0 && s[i - 1].time <= e.time {
                    s[i] = s[i - 1];
                    i -= 1;
                }
                s[i] = e;
                self.len = n + 1;
            }
            _ => self.small_push_slow(e),
        }
    }

    /// Fills the array at the first push; moves everything into the radix heap when it is full.
    #[cold]
    #[inline(never)]
    fn small_push_slow(&mut self, e: Entry<E>) {
        if self.small.len() < SMALL_MAX {
            self.small = vec![e; SMALL_MAX];
            self.small_push(e);
        } else {
            self.spill_and_push(e);
        }
    }

    #[inline(always)]
    fn radix_push(&mut self, e: Entry<E>) {
        match bucket_of(e.time, self.last) {
            0 => self.now.push_back(e),
            b => self.put(b - 1, e),
        }
    }

    /// Moves the sorted array's events into the radix heap, earliest first, so equal times keep
    /// their order, then pushes `e` there too. Out of line and cold, so that the sorted array's
    /// push stays small where it is inlined.
    #[cold]
    #[inline(never)]
    fn spill_and_push(&mut self, e: Entry<E>) {
        for i in (0..self.len).rev() {
            let e = self.small[i];
            self.radix_push(e);
        }
        self.radix = true;
        self.radix_push(e);
        self.len += 1;
    }

    /// Moves the radix heap's (few) events back into the sorted array. The radix heap is empty
    /// afterwards, so the last popped time can be restored for the push check.
    #[cold]
    #[inline(never)]
    fn gather(&mut self) {
        let last = self.last;
        // Popped earliest first, so they fill the array from the end (`len` is at most
        // SMALL_BACK here, and the array was filled before any event reached the radix heap).
        let n = self.len;
        let mut i = n;
        while let Ok(e) = self.radix_pop(u64::MAX) {
            i -= 1;
            self.small[i] = e;
        }
        debug_assert_eq!(i, 0);
        self.last = last;
        self.radix = false;
    }

    /// Appends `e` to bucket `i` (that is, `buckets[i]`), keeping its minimum.
    #[inline(always)]
    fn put(&mut self, i: usize, e: Entry<E>) {
        self.mins[i] = self.mins[i].min(e.time);
        self.occupied |= 1 << i;
        self.buckets[i].push(e);
    }

    /// Makes sure the earliest events sit in the `now` bucket; returns false if empty.
    #[inline(always)]
    fn settle(&mut self) -> bool {
        if !self.now.is_empty() {
            return true;
        }
        if self.occupied == 0 {
            return false;
        }
        let b = self.occupied.trailing_zeros() as usize;
        self.occupied &= !(1 << b);
        self.last = self.mins[b];
        self.mins[b] = u64::MAX;
        let mut items = std::mem::take(&mut self.buckets[b]);
        for e in items.drain(..) {
            match bucket_of(e.time, self.last) {
                0 => self.now.push_back(e),
                nb => self.put(nb - 1, e),
            }
        }
        // Keep the emptied vector's capacity for later pushes into this bucket.
        self.buckets[b] = items;
        true
    }

    /// Removes and returns the earliest event as `(time, event)`.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.pop_entry(u64::MAX)
            .ok()
            .map(|e| (SimTime(e.time), e.event))
    }

    /// Removes and returns the earliest entry, as stored, if its time is at most `limit`;
    /// otherwise says why not: `Err(true)` if an event is pending after `limit`, `Err(false)`
    /// if none is.
    #[inline(always)]
    pub(crate) fn pop_entry(&mut self, limit: u64) -> Result<Entry<E>, bool> {
        if !self.radix {
            let n = self.len;
            if n == 0 {
                return Err(false);
            }
            let e = self.small[n - 1];
            if e.time > limit {
                return Err(true);
            }
            self.len = n - 1;
            self.last = e.time;
            return Ok(e);
        }
        let e = self.radix_pop(limit)?;
        self.len -= 1;
        if self.len <= SMALL_BACK {
            self.gather();
        }
        Ok(e)
    }

    /// Removes the radix heap's earliest event if its time is at most `limit` (see
    /// [`EventQueue::pop_entry`]); leaves `len` to the caller.
    #[inline(always)]
    fn radix_pop(&mut self, limit: u64) -> Result<Entry<E>, bool> {
        if self.now.is_empty() {
            if self.occupied == 0 {
                return Err(false);
            }
            let b = self.occupied.trailing_zeros() as usize;
            if self.mins[b] > limit {
                return Err(true);
            }
            // Fast path: the lowest bucket holds a single event, which is then the earliest;
            // it leaves directly instead of through a redistribution and the `now` queue.
            if self.buckets[b].len() == 1 {
                let e = self.buckets[b].pop().ok_or(false)?;
                self.occupied &= !(1 << b);
                self.mins[b] = u64::MAX;
                self.last = e.time;
                return Ok(e);
            }
            self.settle();
        } else if self.last > limit {
            return Err(true);
        }
        self.now.pop_front().ok_or(false)
    }

    /// The time of the earliest event, if any. It moves nothing: the earliest event is at
    /// `last` if any is there, or else at the lowest non-empty bucket's minimum.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        if !self.radix {
            self.small[..self.len].last().map(|e| SimTime(e.time))
        } else if !self.now.is_empty() {
            Some(SimTime(self.last))
        } else if self.occupied == 0 {
            None
        } else {
            Some(SimTime(self.mins[self.occupied.trailing_zeros() as usize]))
        }
    }

    /// The number of pending events.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_smoke() {
        // Seven events: times out of order, with ties that must come out in push order.
        let mut q = EventQueue::new();
        q.push(SimTime(30), 'a');
        q.push(SimTime(10), 'b');
        q.push(SimTime(20), 'c');
        q.push(SimTime(10), 'd');
        q.push(SimTime(30), 'e');
        q.push(SimTime(0), 'f');
        q.push(SimTime(10), 'g');
        let order: String = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, "fbdgcae");
        assert!(q.is_empty());
    }

    /// The queue under test beside a reference binary heap ordered by (time, push order); each
    /// event carries its push order, to check the order of ties.
    struct Mirrored {
        q: EventQueue<u64>,
        r: std::collections::BinaryHeap<std::cmp::Reverse<(u64, u64)>>,
        /// The next push order.
        seq: u64,
        /// The last popped time.
        now: u64,
    }

    impl Mirrored {
        fn new() -> Self {
            Mirrored {
                q: EventQueue::new(),
                r: std::collections::BinaryHeap::new(),
                seq: 0,
                now: 0,
            }
        }

        /// Pushes an event `ahead` after the last popped time into both.
        fn push(&mut self, ahead: u64) {
            let t = self.now + ahead;
            self.q.push(SimTime(t), self.seq);
            self.r.push(std::cmp::Reverse((t, self.seq)));
            self.seq += 1;
        }

        /// Pops from both and asserts they agree; returns whether an event came out.
        fn pop(&mut self) -> bool {
            let got = self.q.pop().map(|(t, s)| (t.0, s));
            assert_eq!(got, self.r.pop().map(|std::cmp::Reverse(x)| x));
            if let Some((t, _)) = got {
                self.now = t;
            }
            assert_eq!(self.q.len(), self.r.len());
            got.is_some()
        }
    }

    /// Random interleavings of pushes and pops, with many equal times, against a reference
    /// binary heap ordered by (time, seq).
    #[test]
    fn matches_a_reference_heap_on_random_workloads() {
        use rand::Rng;
        let mut rng = crate::engine::rng::from_seed(5);
        for round in 0..50 {
            let mut m = Mirrored::new();
            let spread = [1u64, 10, 1_000, 1 << 40][round % 4];
            for _ in 0..5_000 {
                if rng.random_bool(0.55) {
                    m.push(rng.random_range(0..spread));
                } else {
                    m.pop();
                }
            }
            while m.pop() {}
            assert!(m.q.is_empty());
        }
    }

    /// A queue whose length wanders across the sorted array's limits, so events move into the
    /// radix heap and back many times, against the reference heap; with many equal times.
    #[test]
    fn moving_between_the_array_and_the_radix_heap_keeps_the_order() {
        use rand::Rng;
        let mut rng = crate::engine::rng::from_seed(9);
        let mut m = Mirrored::new();
        let (mut spills, mut gathers) = (0, 0);
        for step in 0..200_000 {
            // Climb towards 14 pending, then fall towards none, and again.
            let target = if (step / 25) % 2 == 0 { 14 } else { 0 };
            let push = if m.q.len() < target { 0.8 } else { 0.2 };
            let was_radix = m.q.radix;
            if rng.random_bool(push) {
                m.push(rng.random_range(0..4u64));
            } else {
                m.pop();
            }
            spills += usize::from(!was_radix && m.q.radix);
            gathers += usize::from(was_radix && !m.q.radix);
            assert_eq!(
                m.q.peek_time().map(|t| t.0),
                m.r.peek().map(|std::cmp::Reverse((t, _))| *t)
            );
            assert!(m.q.len() <= SMALL_MAX || m.q.radix);
        }
        assert!(
            spills > 100 && gathers > 100,
            "{spills} spills, {gathers} gathers"
        );
    }

    #[test]
    #[should_panic(expected = "push before the last popped time")]
    fn pushing_before_the_last_popped_time_is_refused() {
        let mut q = EventQueue::new();
        q.push(SimTime(10), ());
        q.pop();
        q.push(SimTime(9), ());
    }

    #[test]
    fn peek_sees_the_next_event_and_moves_nothing() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), 'a');
        q.push(SimTime(5), 'b');
        assert_eq!(q.pop(), Some((SimTime(5), 'a')));
        assert_eq!(q.peek_time(), Some(SimTime(5)));
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop(), Some((SimTime(5), 'b')));
        assert_eq!(q.peek_time(), None);
        assert!(q.is_empty());
    }
}
