//! Virtual time: integer nanoseconds, never floating point.
//!
//! [`SimTime`] is an instant on the simulation clock (nanoseconds since the run began);
//! [`SimDuration`] is a span between two instants. Both wrap a `u64`, so the event queue
//! orders events exactly and a run is reproducible bit for bit. Floating point appears only
//! at the edges: when a sampled duration is rounded into nanoseconds, and when a value is
//! printed (`as_secs_f64`, `as_millis_f64`).

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// An instant of virtual time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of virtual time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest representable instant (about 584 years).
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Nanoseconds since the start of the run.
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    /// Seconds since the start of the run, for output only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 * 1e-9
    }
    /// The span from `earlier` to `self`; zero if `earlier` is later (saturating).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A duration of `ns` nanoseconds.
    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }
    /// A duration of `us` microseconds.
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us * 1_000)
    }
    /// A duration of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * 1_000_000)
    }
    /// A duration of `s` seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * 1_000_000_000)
    }
    /// Rounds a non-negative number of nanoseconds to the nearest integer nanosecond.
    /// Negative or NaN inputs give zero; values from 2^63 ns (292 years) on give 2^63 − 1 ns.
    #[inline]
    pub fn from_nanos_f64(ns: f64) -> Self {
        // Round half up; `f64::round` is a libm call, and this is on every sampled delay.
        // Rust's float-to-integer casts saturate, and NaN gives 0. The cast goes through `i64`,
        // one instruction on x86-64 where `u64`'s takes a branch: values from 2^63 ns (292
        // years) on give `i64::MAX`, and negatives are clamped to 0.
        SimDuration((ns + 0.5).max(0.0) as i64 as u64)
    }
    /// Rounds seconds (f64) to nanoseconds, as [`SimDuration::from_nanos_f64`].
    pub fn from_secs_f64(s: f64) -> Self {
        Self::from_nanos_f64(s * 1e9)
    }
    /// Nanoseconds.
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    /// Seconds, for output only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 * 1e-9
    }
    /// Milliseconds, for output only.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 * 1e-6
    }
    /// Microseconds, for output only.
    pub fn as_micros_f64(self) -> f64 {
        self.0 as f64 * 1e-3
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    #[inline]
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}
impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}
impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    /// Panics in debug builds if `rhs` is later than `self`: that is a logic error.
    fn sub(self, rhs: SimTime) -> SimDuration {
        debug_assert!(self >= rhs, "time went backwards: {self} - {rhs}");
        SimDuration(self.0.saturating_sub(rhs.0))
    }
}
impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}
impl AddAssign for SimDuration {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

/// Prints with a unit chosen for readability, e.g. `1.250ms`.
impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        if ns < 1_000 {
            write!(f, "{ns}ns")
        } else if ns < 1_000_000 {
            write!(f, "{:.3}us", ns as f64 / 1e3)
        } else if ns < 1_000_000_000 {
            write!(f, "{:.3}ms", ns as f64 / 1e6)
        } else {
            write!(f, "{:.3}s", ns as f64 / 1e9)
        }
    }
}
impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", SimDuration(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_rounding() {
        let t = SimTime::ZERO + SimDuration::from_micros(3);
        assert_eq!(t.as_nanos(), 3_000);
        assert_eq!(t - SimTime(1_000), SimDuration(2_000));
        assert_eq!(SimDuration::from_nanos_f64(2.5), SimDuration(3));
        assert_eq!(SimDuration::from_nanos_f64(-1.0), SimDuration(0));
        assert_eq!(SimDuration::from_nanos_f64(f64::NAN), SimDuration(0));
        assert_eq!(
            SimDuration::from_secs_f64(1e30),
            SimDuration(i64::MAX as u64)
        );
        assert_eq!(SimDuration::from_millis(1250).to_string(), "1.250s");
        assert_eq!(SimDuration::from_micros(1250).to_string(), "1.250ms");
    }
}
