//! A stream goroutine's queue: the shape of every goroutine that serves one connection in one
//! direction (rafthttp's stream writer and reader, gRPC's loopy writer and reader). Messages
//! queue while the goroutine is awake; a burst handles what is queued when it starts, and what
//! came in meanwhile is handled by the next burst, which follows at once (the goroutine does
//! not block while there is more).

/// One stream goroutine's queue.
#[derive(Debug, Clone)]
pub struct Stream<T> {
    queue: Vec<T>,
    /// The goroutine is runnable or running (it will take what is queued).
    awake: bool,
    /// How many of `queue` its current burst handles.
    in_burst: usize,
}

impl<T> Default for Stream<T> {
    fn default() -> Self {
        Stream {
            queue: Vec::new(),
            awake: false,
            in_burst: 0,
        }
    }
}

impl<T> Stream<T> {
    /// Queues `x`; true if the goroutine was blocked and must now be readied.
    pub fn push(&mut self, x: T) -> bool {
        self.queue.push(x);
        !std::mem::replace(&mut self.awake, true)
    }

    /// A burst starts: it handles what is queued now, returned.
    pub fn start_burst(&mut self) -> &[T] {
        self.in_burst = self.queue.len();
        &self.queue
    }

    /// What the burst in hand handles.
    pub fn burst(&self) -> &[T] {
        &self.queue[..self.in_burst]
    }

    /// The burst ends without handing anything on: what it took stays queued, at the head, for
    /// the next burst, and the goroutine stays awake (it yielded instead of blocking).
    pub fn keep_burst(&mut self) {
        self.in_burst = 0;
        debug_assert!(self.awake, "only an awake goroutine has a burst");
    }

    /// The burst ends: what it handled goes into `done` (cleared first), in order; returns
    /// whether more came in (then the goroutine goes on; else it blocks). The caller keeps
    /// `done` from burst to burst, so no burst allocates.
    pub fn finish_burst(&mut self, done: &mut Vec<T>) -> bool {
        done.clear();
        done.extend(self.queue.drain(..self.in_burst));
        self.in_burst = 0;
        let more = !self.queue.is_empty();
        self.awake = more;
        more
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_takes_what_was_queued_at_its_start_and_the_rest_follows() {
        let mut s: Stream<u32> = Stream::default();
        assert!(s.push(1), "the first message readies the goroutine");
        assert!(!s.push(2), "it is awake already");
        assert_eq!(s.start_burst(), &[1, 2]);
        assert!(!s.push(3));
        let mut done = Vec::new();
        assert!(s.finish_burst(&mut done));
        assert_eq!(done, vec![1, 2]);
        assert_eq!(s.start_burst(), &[3]);
        assert!(!s.finish_burst(&mut done));
        assert_eq!(done, vec![3]);
        assert!(s.push(4), "blocked again: the next message readies it");
    }
}
