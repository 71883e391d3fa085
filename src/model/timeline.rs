//! A scripted timeline: steps at given simulated times, and the run's results cut into fixed
//! intervals so that what a step does can be seen over time.
//!
//! Two kinds of step:
//! - a Poisson stream's rate changes (background puts, expensive reads). Poisson arrivals are
//!   memoryless, so a stream whose rate changes at `t` draws its next gap from `t` at the new
//!   rate; the arrival already scheduled at the old rate is left in the queue and ignored when
//!   it fires (its epoch is stale);
//! - a member's process is paused and resumed, as `kill -STOP` and `kill -CONT` do: its
//!   threads stop where they are and give their cores back; the kernel still receives its
//!   messages into socket buffers and completes its disk writes, and its goroutines that these
//!   ready wait until it resumes (`cpu.rs` does this).
//!
//! - a member defragments its backend for a given time: it holds the backend's locks, so the
//!   member's reads and applies wait ([`Defrag`]).
//!
//! A run without steps schedules, draws and records exactly what it did before timelines
//! existed.
//!
//! Elections are `election.rs`'s, kills and clientv3's retries `request/retry.rs`'s, a killed
//! member's restart `restart.rs`'s, slow disks `disk.rs`'s, partitions and slow links
//! `net.rs`'s, compactions `compaction.rs`'s.

use crate::engine::{SimDuration, SimTime};
use crate::stats::Histogram;

pub use super::params::{Change, Step, Stream};
pub use super::result::IntervalRow;
use super::result::OpKind;
use super::stage::Stage;

/// Where a member's defragmentation is. etcd 3.4's `backend.defrag` (`mvcc/backend/backend.go`)
/// takes the batch transaction's mutex, then the read transaction's lock exclusively, and
/// holds both while it copies the database into a new file: every read transaction and every
/// apply on the member waits for it. The copy's own CPU and disk work are not simulated, only
/// its locks and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Defrag {
    /// None running.
    #[default]
    Idle,
    /// Waiting for the batch transaction's mutex, for timeline step `.0`.
    WantBatchTx(u32),
    /// Holding it, waiting for the read transaction's lock.
    WantReadTx(u32),
    /// Holding both: copying.
    Copying,
}

/// A `Timeline` event's payload: step `i` (its start), or with this bit, the end of step `i`
/// (a defragmentation's copy done).
pub const STEP_END: u32 = 1 << 31;

/// The streams' current rates and epochs, as the timeline has set them.
#[derive(Debug, Clone)]
pub struct Rates {
    rate: [f64; 2],
    epoch: [u32; 2],
}

impl Rates {
    /// The rates a workload starts with.
    pub fn new(write_rate: f64, expensive_rate: f64) -> Rates {
        Rates {
            rate: [write_rate, expensive_rate],
            epoch: [0, 0],
        }
    }

    /// The current rate of `s`.
    pub fn rate(&self, s: Stream) -> f64 {
        self.rate[s as usize]
    }

    /// The current epoch of `s`: an arrival scheduled in another epoch is stale.
    pub fn epoch(&self, s: Stream) -> u32 {
        self.epoch[s as usize]
    }

    /// Sets the rate of `s` and starts a new epoch; returns the new epoch.
    pub fn set(&mut self, s: Stream, rate: f64) -> u32 {
        debug_assert!(rate.is_finite() && rate >= 0.0, "rate {rate}");
        self.rate[s as usize] = rate;
        self.epoch[s as usize] += 1;
        self.epoch[s as usize]
    }
}

/// The most intervals one run records; later completions are counted in `beyond`.
pub const MAX_INTERVALS: usize = 1_000;

/// What completed in one interval.
struct Bucket {
    reads: u64,
    reads_failed: u64,
    reads_timed_out: u64,
    writes_timed_out: u64,
    read_latency: Histogram,
    writes: u64,
    write_latency_sum_ns: u128,
    read_stages_ns: [u64; Stage::COUNT],
    read_ends: u64,
}

impl Bucket {
    fn add_stages(&mut self, stages: &[u64; Stage::COUNT]) {
        for (sum, &x) in self.read_stages_ns.iter_mut().zip(stages) {
            *sum += x;
        }
        self.read_ends += 1;
    }

    fn new() -> Bucket {
        Bucket {
            reads: 0,
            reads_failed: 0,
            reads_timed_out: 0,
            writes_timed_out: 0,
            read_latency: Histogram::new(),
            writes: 0,
            write_latency_sum_ns: 0,
            read_stages_ns: [0; Stage::COUNT],
            read_ends: 0,
        }
    }
}

/// Every request's completion, foreground and background, warm-up included, in intervals of
/// a fixed width by the time it completed.
pub struct Intervals {
    width: SimDuration,
    buckets: Vec<Bucket>,
    beyond: u64,
}

impl Intervals {
    /// Intervals of `width` (more than zero).
    pub fn new(width: SimDuration) -> Intervals {
        assert!(width > SimDuration::ZERO, "an interval has a width");
        Intervals {
            width,
            buckets: Vec::new(),
            beyond: 0,
        }
    }

    /// The bucket of time `now`, if it is recorded.
    fn bucket(&mut self, now: SimTime) -> Option<&mut Bucket> {
        let i = (now.since(SimTime::ZERO).0 / self.width.0) as usize;
        if i >= MAX_INTERVALS {
            self.beyond += 1;
            return None;
        }
        while self.buckets.len() <= i {
            self.buckets.push(Bucket::new());
        }
        Some(&mut self.buckets[i])
    }

    /// A request of `kind` timed out at `now` (its client gave up on it), after spending
    /// `stages` (ns by stage) until then.
    pub fn timed_out(&mut self, kind: OpKind, now: SimTime, stages: &[u64; Stage::COUNT]) {
        if let Some(b) = self.bucket(now) {
            match kind {
                OpKind::Write => b.writes_timed_out += 1,
                OpKind::Read | OpKind::Expensive => {
                    b.reads_timed_out += 1;
                    b.add_stages(stages);
                }
            }
        }
    }

    /// A request of `kind` completed at `now` after `latency` ns, spent as `stages`.
    pub fn record(
        &mut self,
        kind: OpKind,
        failed: bool,
        latency: u64,
        now: SimTime,
        stages: &[u64; Stage::COUNT],
    ) {
        let Some(b) = self.bucket(now) else {
            return;
        };
        match kind {
            OpKind::Read | OpKind::Expensive => {
                b.add_stages(stages);
                if failed {
                    b.reads_failed += 1;
                } else {
                    b.reads += 1;
                    b.read_latency.record(latency);
                }
            }
            OpKind::Write => {
                b.writes += 1;
                b.write_latency_sum_ns += u128::from(latency);
            }
        }
    }

    /// One row per interval that began before `end` (the run's last instant), empty ones
    /// included.
    pub fn rows(&self, end: SimTime) -> (Vec<IntervalRow>, u64) {
        let w = self.width.as_secs_f64();
        let end_ns = end.since(SimTime::ZERO).0;
        // The intervals that begin before the end; a completion at the end itself, on an
        // interval's boundary, belongs to the interval starting there, which is kept.
        let n = (end_ns.div_ceil(self.width.0) as usize)
            .max(self.buckets.len())
            .min(MAX_INTERVALS);
        let mut rows = Vec::with_capacity(n);
        for i in 0..n {
            let start = i as f64 * w;
            // The last interval may be cut short by the end of the run.
            let span = (end.since(SimTime::ZERO).as_secs_f64() - start).clamp(0.0, w);
            let row = match self.buckets.get(i) {
                None => IntervalRow::empty(start, span),
                Some(b) => IntervalRow {
                    start_s: start,
                    span_s: span,
                    reads: b.reads,
                    reads_failed: b.reads_failed,
                    reads_timed_out: b.reads_timed_out,
                    writes_timed_out: b.writes_timed_out,
                    read_mean_ns: (b.reads > 0).then(|| b.read_latency.mean()),
                    read_p50_ns: (b.reads > 0).then(|| b.read_latency.quantile(0.50)),
                    read_p99_ns: (b.reads > 0).then(|| b.read_latency.quantile(0.99)),
                    read_max_ns: (b.reads > 0).then(|| b.read_latency.max()),
                    writes: b.writes,
                    write_mean_ns: (b.writes > 0)
                        .then(|| b.write_latency_sum_ns as f64 / b.writes as f64),
                    read_stages_ns: b.read_stages_ns,
                    read_ends: b.read_ends,
                },
            };
            rows.push(row);
        }
        (rows, self.beyond)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_rate_starts_a_new_epoch() {
        let mut r = Rates::new(0.0, 5.0);
        assert_eq!(r.epoch(Stream::Writes), 0);
        assert_eq!(r.set(Stream::Writes, 100.0), 1);
        assert_eq!(r.rate(Stream::Writes), 100.0);
        assert_eq!(r.epoch(Stream::Expensive), 0);
        assert_eq!(r.rate(Stream::Expensive), 5.0);
    }

    #[test]
    fn completions_land_in_the_interval_of_their_end() {
        let mut iv = Intervals::new(SimDuration::from_secs_f64(1.0));
        let at = |s: f64| SimTime::ZERO + SimDuration::from_secs_f64(s);
        let z = [0; Stage::COUNT];
        iv.record(OpKind::Read, false, 1_000, at(0.5), &z);
        iv.record(OpKind::Read, false, 3_000, at(0.9), &z);
        iv.record(OpKind::Read, true, 9_000, at(0.95), &z);
        iv.record(OpKind::Write, false, 10_000, at(2.2), &z);
        let (rows, beyond) = iv.rows(at(2.5));
        assert_eq!(beyond, 0);
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[0].reads, rows[0].reads_failed), (2, 1));
        assert_eq!(rows[0].read_mean_ns, Some(2_000.0));
        assert_eq!(rows[1], IntervalRow::empty(1.0, 1.0));
        assert_eq!(rows[2].writes, 1);
        assert!((rows[2].span_s - 0.5).abs() < 1e-9);
        assert!((rows[2].write_rate() - 2.0).abs() < 1e-9);
        assert_eq!(rows[2].read_mean_ns, None);
    }

    #[test]
    fn completions_past_the_last_interval_are_counted_apart() {
        let mut iv = Intervals::new(SimDuration::from_secs_f64(0.001));
        let end = SimTime::ZERO + SimDuration::from_secs_f64(2.0);
        iv.record(OpKind::Read, false, 1, end, &[0; Stage::COUNT]);
        let (rows, beyond) = iv.rows(end);
        assert_eq!(rows.len(), MAX_INTERVALS);
        assert_eq!(beyond, 1);
        // A run that ends on a boundary has no empty interval after it.
        let iv = Intervals::new(SimDuration::from_secs_f64(1.0));
        assert_eq!(
            iv.rows(SimTime::ZERO + SimDuration::from_secs_f64(3.0))
                .0
                .len(),
            3
        );
    }
}
