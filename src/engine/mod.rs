//! The discrete-event engine. It knows nothing about etcd.
//!
//! A [`Model`] is a plain state machine with a closed event type. The [`Simulation`] pops the
//! earliest event, advances the clock to it and hands it to [`Model::handle`] together with a
//! [`Scheduler`] through which the model schedules later events. Ordering is the contract of
//! [`queue`]: `(time, insertion sequence)`, so same-time events run FIFO, and scheduling in the
//! past panics (it is always a bug in a model, never a consequence of user input).
//!
//! Every processed event is folded into a trace hash: its time and the kind the model reports
//! for it, in the order processed. Two runs with the same inputs must give the same hash.

pub mod dist;
pub mod queue;
pub mod resource;
pub mod rng;
pub mod time;
pub mod timeweighted;

pub use dist::Sampler;
use queue::Entry;
pub use queue::EventQueue;
pub use resource::{Pipe, RwLock, Servers};
pub use rng::SimRng;
pub use time::{SimDuration, SimTime};
pub use timeweighted::TimeWeighted;

/// An event type: each event names its kind (a small integer) for the trace hash. Events are
/// small plain data (`Copy`): what they refer to lives in the model, and the event list moves
/// them by copying.
pub trait Event: Copy {
    /// A number identifying the event's kind (the enum variant, say).
    fn kind(&self) -> u32;
}

/// A simulated system.
pub trait Model {
    /// The closed set of events this model handles.
    type Event: Event;
    /// Reacts to `event`, which happens at `sched.now()`.
    fn handle(&mut self, event: Self::Event, sched: &mut Scheduler<Self::Event>);
}

/// The clock and the future-event list, as a model sees them.
pub struct Scheduler<E> {
    queue: EventQueue<E>,
    now: SimTime,
    stop: bool,
    /// The run loop returns once this many events have been processed in all; [`Scheduler::stop`]
    /// sets it to zero, so that the loop checks both with one comparison per event.
    budget_end: u64,
}

impl<E: Copy> Scheduler<E> {
    fn new() -> Self {
        Scheduler {
            queue: EventQueue::with_capacity(1024),
            now: SimTime::ZERO,
            stop: false,
            budget_end: u64::MAX,
        }
    }

    /// The current virtual time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at the absolute time `at`.
    ///
    /// # Panics
    /// If `at` is before now: a model that does this has a causality bug.
    #[inline(always)]
    pub fn schedule_at(&mut self, at: SimTime, event: impl Into<E>) {
        assert!(
            at >= self.now,
            "event scheduled in the past: at {at}, now {}",
            self.now
        );
        self.queue.push_checked(at, event.into());
    }

    /// Schedules `event` after `delay` from now.
    #[inline(always)]
    pub fn schedule_in(&mut self, delay: SimDuration, event: impl Into<E>) {
        // Never before now, which is the queue's last popped time.
        self.queue.push_checked(self.now + delay, event.into());
    }

    /// Asks the simulation to stop after the current event.
    pub fn stop(&mut self) {
        self.stop = true;
        self.budget_end = 0;
    }

    /// Events pending.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}

/// Why [`Simulation::run_until`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The model called [`Scheduler::stop`].
    Stopped,
    /// No events were left.
    Exhausted,
    /// The next event lies beyond the time limit.
    TimeLimit,
    /// The event budget ran out.
    EventLimit,
}

/// A model with its clock and event list.
pub struct Simulation<M: Model> {
    /// The model, open for inspection between runs.
    pub model: M,
    sched: Scheduler<M::Event>,
    trace: u64,
    processed: u64,
}

const TRACE_MUL: u64 = 0x517C_C1B7_2722_0A95;

#[inline]
fn fold(h: u64, x: u64) -> u64 {
    (h.rotate_left(5) ^ x).wrapping_mul(TRACE_MUL)
}

impl<M: Model> Simulation<M> {
    /// A simulation of `model` at time zero with no events.
    pub fn new(model: M) -> Self {
        Simulation {
            model,
            sched: Scheduler::new(),
            trace: 0xCBF2_9CE4_8422_2325,
            processed: 0,
        }
    }

    /// Schedules an event from outside the model (initial events).
    pub fn schedule_at(&mut self, at: SimTime, event: impl Into<M::Event>) {
        self.sched.schedule_at(at, event);
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.sched.now
    }

    /// Events processed so far.
    pub fn events_processed(&self) -> u64 {
        self.processed
    }

    /// Events still pending.
    pub fn events_pending(&self) -> usize {
        self.sched.queue.len()
    }

    /// The hash of every processed event's (time, kind), in order.
    pub fn trace_hash(&self) -> u64 {
        self.trace
    }

    /// Processes one event; returns false if there was none.
    #[inline]
    pub fn step(&mut self) -> bool {
        match self.sched.queue.pop_entry(u64::MAX) {
            Ok(e) => {
                self.dispatch(e);
                true
            }
            Err(_) => false,
        }
    }

    #[inline]
    fn dispatch(&mut self, Entry { time, event }: Entry<M::Event>) {
        debug_assert!(time >= self.sched.now.0, "virtual time went backwards");
        self.sched.now = SimTime(time);
        // One fold per event: the event's identity is mixed first, off the hash's dependency
        // chain.
        let id = time ^ (u64::from(event.kind()) << 56);
        self.trace = fold(self.trace, id);
        self.processed += 1;
        self.model.handle(event, &mut self.sched);
    }

    /// Runs until the model stops, no event is left, the next event is after `limit`, or
    /// `max_events` more events have been processed.
    pub fn run_until(&mut self, limit: SimTime, max_events: u64) -> StopReason {
        self.sched.stop = false;
        self.sched.budget_end = self.processed.saturating_add(max_events);
        loop {
            if self.processed >= self.sched.budget_end {
                return if self.sched.stop {
                    StopReason::Stopped
                } else {
                    StopReason::EventLimit
                };
            }
            match self.sched.queue.pop_entry(limit.0) {
                Ok(e) => self.dispatch(e),
                Err(true) => return StopReason::TimeLimit,
                Err(false) => return StopReason::Exhausted,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy model: each `Tick(n)` schedules `Tick(n+1)` after n ns until 5, and records order.
    struct Toy {
        seen: Vec<(u64, u32)>,
    }
    #[derive(Debug, Clone, Copy)]
    enum Ev {
        Tick(u32),
        Late,
    }
    impl Event for Ev {
        fn kind(&self) -> u32 {
            match self {
                Ev::Tick(_) => 0,
                Ev::Late => 1,
            }
        }
    }
    impl Model for Toy {
        type Event = Ev;
        fn handle(&mut self, ev: Ev, s: &mut Scheduler<Ev>) {
            match ev {
                Ev::Tick(n) => {
                    self.seen.push((s.now().0, n));
                    if n < 5 {
                        s.schedule_in(SimDuration(u64::from(n)), Ev::Tick(n + 1));
                    }
                }
                Ev::Late => s.schedule_at(SimTime(0), Ev::Tick(9)),
            }
        }
    }

    #[test]
    fn runs_in_time_order_and_hashes_the_trace() {
        let run = || {
            let mut sim = Simulation::new(Toy { seen: vec![] });
            sim.schedule_at(SimTime(0), Ev::Tick(0));
            let r = sim.run_until(SimTime::MAX, u64::MAX);
            (
                r,
                sim.model.seen.clone(),
                sim.trace_hash(),
                sim.events_processed(),
            )
        };
        let (r, seen, h, n) = run();
        assert_eq!(r, StopReason::Exhausted);
        assert_eq!(seen, vec![(0, 0), (0, 1), (1, 2), (3, 3), (6, 4), (10, 5)]);
        assert_eq!(n, 6);
        assert_eq!(run().2, h);
    }

    #[test]
    fn time_and_event_limits() {
        let mut sim = Simulation::new(Toy { seen: vec![] });
        sim.schedule_at(SimTime(0), Ev::Tick(0));
        assert_eq!(sim.run_until(SimTime(2), u64::MAX), StopReason::TimeLimit);
        assert_eq!(sim.now(), SimTime(1));
        assert_eq!(sim.run_until(SimTime::MAX, 1), StopReason::EventLimit);
        assert_eq!(sim.now(), SimTime(3));
    }

    /// Ticks once a nanosecond forever and stops after each count in `stops`.
    struct Stopping {
        stops: Vec<u64>,
        count: u64,
    }
    #[derive(Clone, Copy)]
    struct Beat;
    impl Event for Beat {
        fn kind(&self) -> u32 {
            0
        }
    }
    impl Model for Stopping {
        type Event = Beat;
        fn handle(&mut self, _: Beat, s: &mut Scheduler<Beat>) {
            self.count += 1;
            s.schedule_in(SimDuration(1), Beat);
            if self.stops.contains(&self.count) {
                s.stop();
            }
        }
    }

    #[test]
    fn a_stop_ends_the_run_after_its_event_and_only_that_run() {
        let mut sim = Simulation::new(Stopping {
            stops: vec![3, 5, 9],
            count: 0,
        });
        sim.schedule_at(SimTime(0), Beat);
        assert_eq!(sim.run_until(SimTime::MAX, u64::MAX), StopReason::Stopped);
        assert_eq!(sim.events_processed(), 3);
        // A stop on the event that also spends the budget reads as a stop.
        assert_eq!(sim.run_until(SimTime::MAX, 2), StopReason::Stopped);
        assert_eq!(sim.events_processed(), 5);
        // The next run starts afresh: its own budget, no leftover stop.
        assert_eq!(sim.run_until(SimTime::MAX, 2), StopReason::EventLimit);
        assert_eq!(sim.events_processed(), 7);
        assert_eq!(sim.run_until(SimTime::MAX, 0), StopReason::EventLimit);
        assert_eq!(sim.events_processed(), 7);
        // `step` does not look at stops; one made during it does not reach the next run.
        assert!(sim.step() && sim.step());
        assert_eq!(sim.events_processed(), 9);
        assert_eq!(sim.run_until(SimTime(11), u64::MAX), StopReason::TimeLimit);
        assert_eq!(sim.events_processed(), 12);
    }

    #[test]
    #[should_panic(expected = "event scheduled in the past")]
    fn scheduling_in_the_past_is_refused() {
        let mut sim = Simulation::new(Toy { seen: vec![] });
        sim.schedule_at(SimTime(10), Ev::Late);
        sim.run_until(SimTime::MAX, u64::MAX);
    }
}
