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
//! The key `(time, seq)` is packed into one `u128` (time in the high 64 bits), so a comparison
//! is a single integer compare. The heap is a binary min-heap from the standard library.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::time::SimTime;

/// A scheduled event with its ordering key.
struct Entry<E> {
    key: u128,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed so that `BinaryHeap` (a max-heap) pops the smallest key first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// A priority queue of events ordered by `(time, insertion sequence)`.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }

    /// An empty queue with room for `n` events before it reallocates.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time` and returns its sequence number.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        let key = (u128::from(time.0) << 64) | u128::from(seq);
        self.heap.push(Entry { key, event });
        seq
    }

    /// Removes and returns the earliest event as `(time, seq, event)`.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, u64, E)> {
        self.heap.pop().map(|e| {
            let time = SimTime((e.key >> 64) as u64);
            let seq = e.key as u64;
            (time, seq, e.event)
        })
    }

    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| SimTime((e.key >> 64) as u64))
    }

    /// The number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
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
