//! The future-event list.
//!
//! # Contract
//! Events are totally ordered by **(time, insertion sequence)**:
//! - an event at an earlier time is popped first;
//! - events at the same time are popped in the order they were scheduled (FIFO), because each
//!   push takes the next value of a `u64` sequence counter;
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

use std::collections::VecDeque;

use super::time::SimTime;

/// A scheduled event.
struct Entry<E> {
    time: u64,
    seq: u64,
    event: E,
}

/// A priority queue of events ordered by `(time, insertion sequence)`.
pub struct EventQueue<E> {
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
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

#[inline]
fn bucket_of(time: u64, last: u64) -> usize {
    (64 - (time ^ last).leading_zeros()) as usize
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty queue with room for `n` events at the current time before it reallocates.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            now: VecDeque::with_capacity(n),
            buckets: (0..64).map(|_| Vec::new()).collect(),
            occupied: 0,
            mins: [u64::MAX; 64],
            last: 0,
            len: 0,
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time` and returns its sequence number.
    ///
    /// # Panics
    /// If `time` is before the last popped event's time (monotonicity is the radix heap's
    /// precondition; the scheduler refuses such events earlier with a clearer message).
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) -> u64 {
        assert!(
            time.0 >= self.last,
            "event queue: push before the last popped time"
        );
        self.push_checked(time, event)
    }

    /// [`EventQueue::push`] for a caller that has already made sure `time` is not before the
    /// last popped time (the scheduler, whose clock is that time).
    #[inline(always)]
    pub(crate) fn push_checked(&mut self, time: SimTime, event: E) -> u64 {
        debug_assert!(time.0 >= self.last);
        let seq = self.next_seq;
        self.next_seq += 1;
        let e = Entry {
            time: time.0,
            seq,
            event,
        };
        match bucket_of(time.0, self.last) {
            0 => self.now.push_back(e),
            b => self.put(b - 1, e),
        }
        self.len += 1;
        seq
    }

    /// Appends `e` to bucket `i` (that is, `buckets[i]`), keeping its minimum.
    #[inline(always)]
    fn put(&mut self, i: usize, e: Entry<E>) {
        self.mins[i] = self.mins[i].min(e.time);
        self.occupied |= 1 << i;
        self.buckets[i].push(e);
    }

    /// Makes sure the earliest events sit in the `now` bucket; returns false if empty.
    #[inline]
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

    /// Removes and returns the earliest event as `(time, seq, event)`.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, u64, E)> {
        self.pop_until(u64::MAX).ok()
    }

    /// Removes and returns the earliest event if its time is at most `limit`; otherwise says
    /// why not: `Err(true)` if an event is pending after `limit`, `Err(false)` if none is.
    #[inline]
    pub fn pop_until(&mut self, limit: u64) -> Result<(SimTime, u64, E), bool> {
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
                self.len -= 1;
                return Ok((SimTime(e.time), e.seq, e.event));
            }
            self.settle();
        } else if self.last > limit {
            return Err(true);
        }
        let e = self.now.pop_front().ok_or(false)?;
        self.len -= 1;
        Ok((SimTime(e.time), e.seq, e.event))
    }

    /// The time of the earliest event, if any. It moves nothing: the earliest event is at
    /// `last` if any is there, or else at the lowest non-empty bucket's minimum.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        if !self.now.is_empty() {
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

    /// How many events have ever been pushed.
    pub fn pushed(&self) -> u64 {
        self.next_seq
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
        let order: String = std::iter::from_fn(|| q.pop().map(|(_, _, e)| e)).collect();
        assert_eq!(order, "fbdgcae");
        assert!(q.is_empty());
    }

    /// Random interleavings of pushes and pops, with many equal times, against a reference
    /// binary heap ordered by (time, seq).
    #[test]
    fn matches_a_reference_heap_on_random_workloads() {
        use rand::Rng;
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let mut rng = crate::engine::rng::from_seed(5);
        for round in 0..50 {
            let mut q = EventQueue::new();
            let mut r = BinaryHeap::new();
            let mut now = 0u64;
            let spread = [1u64, 10, 1_000, 1 << 40][round % 4];
            for _ in 0..5_000 {
                if rng.random_bool(0.55) {
                    let t = now + rng.random_range(0..spread);
                    let seq = q.push(SimTime(t), ());
                    r.push(Reverse((t, seq)));
                } else {
                    let got = q.pop().map(|(t, s, ())| (t.0, s));
                    let want = r.pop().map(|Reverse(x)| x);
                    assert_eq!(got, want);
                    if let Some((t, _)) = got {
                        now = t;
                    }
                }
                assert_eq!(q.len(), r.len());
            }
            while let Some(Reverse(want)) = r.pop() {
                assert_eq!(q.pop().map(|(t, s, ())| (t.0, s)), Some(want));
            }
            assert!(q.pop().is_none());
        }
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
    fn sequence_numbers_are_returned_with_events() {
        let mut q = EventQueue::new();
        let s0 = q.push(SimTime(5), ());
        let s1 = q.push(SimTime(5), ());
        assert_eq!((s0, s1), (0, 1));
        assert_eq!(q.pop().map(|(t, s, _)| (t, s)), Some((SimTime(5), 0)));
        assert_eq!(q.peek_time(), Some(SimTime(5)));
        assert_eq!(q.pushed(), 2);
    }
}
