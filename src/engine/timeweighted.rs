//! Time-weighted average of a piecewise-constant level over simulated time, such as the busy
//! servers of a resource: its utilization. It lives in the engine because the engine's resources
//! keep one each, and it is measured in the engine's clock.

use super::time::SimTime;

/// The time-weighted mean of a level that changes only at discrete instants.
///
/// Each change adds the old level × the time it held to an accumulated area, so the memory
/// used is constant however long the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeWeighted {
    /// When the averaging window began (construction or the last reset).
    start: SimTime,
    /// When the level last changed (or the window began, if later).
    last: SimTime,
    /// The current level.
    level: f64,
    /// ∫ level dt over [start, last], in level × nanoseconds.
    area: f64,
}

impl TimeWeighted {
    /// A level of zero, averaged from `start`.
    pub fn new(start: SimTime) -> Self {
        TimeWeighted {
            start,
            last: start,
            level: 0.0,
            area: 0.0,
        }
    }

    /// Changes the level at `now`, crediting the old level for the time since the last change.
    ///
    /// `now` must not be earlier than the previous call's; debug builds check it.
    #[inline]
    pub fn set(&mut self, now: SimTime, level: f64) {
        debug_assert!(
            now >= self.last,
            "time went backwards: {now} < {}",
            self.last
        );
        self.area += self.level * now.since(self.last).as_nanos() as f64;
        self.last = self.last.max(now);
        self.level = level;
    }

    /// Forgets the history before `now` but keeps the current level; used at the end of
    /// warm-up so that the start-up transient does not bias the average.
    pub fn reset(&mut self, now: SimTime) {
        self.start = now;
        self.last = now;
        self.area = 0.0;
    }

    /// The average level from the last reset (or construction) to `now`; 0 if no time passed.
    pub fn mean(&self, now: SimTime) -> f64 {
        let span = now.since(self.start).as_nanos();
        if span == 0 {
            return 0.0;
        }
        let tail = self.level * now.since(self.last).as_nanos() as f64;
        (self.area + tail) / span as f64
    }

    /// The current level.
    pub fn level(&self) -> f64 {
        self.level
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_trajectory() {
        // Level 0 on [0,10), 2 on [10,30), 1 on [30,40), 3 from 40 on.
        let mut tw = TimeWeighted::new(SimTime(0));
        assert_eq!(tw.mean(SimTime(0)), 0.0);
        tw.set(SimTime(10), 2.0);
        tw.set(SimTime(30), 1.0);
        tw.set(SimTime(40), 3.0);
        assert_eq!(tw.level(), 3.0);
        // Area to 40 = 0·10 + 2·20 + 1·10 = 50; to 50 it is 50 + 3·10 = 80.
        assert_eq!(tw.mean(SimTime(40)), 50.0 / 40.0);
        assert_eq!(tw.mean(SimTime(50)), 80.0 / 50.0);
    }

    #[test]
    fn reset_keeps_level_and_drops_history() {
        let mut tw = TimeWeighted::new(SimTime(100));
        tw.set(SimTime(100), 5.0);
        tw.set(SimTime(200), 1.0);
        tw.reset(SimTime(300));
        assert_eq!(tw.level(), 1.0);
        assert_eq!(tw.mean(SimTime(300)), 0.0);
        // Level 1 on [300,310), then 4 on [310,320): mean (10 + 40) / 20.
        tw.set(SimTime(310), 4.0);
        assert_eq!(tw.mean(SimTime(320)), 2.5);
    }

    #[test]
    fn repeated_set_at_same_instant_counts_once() {
        let mut tw = TimeWeighted::new(SimTime(0));
        tw.set(SimTime(0), 7.0);
        tw.set(SimTime(0), 1.0);
        assert_eq!(tw.mean(SimTime(10)), 1.0);
    }
}
