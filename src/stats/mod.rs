//! Run statistics whose memory does not grow with the length of a run.
//!
//! Every collector here has a fixed footprint chosen at construction: a log-linear
//! [`Histogram`] for latency quantiles, [`Welford`] running moments, and [`student_t_ci`] for
//! confidence intervals across independent replications. It knows nothing of simulated time
//! (utilization over simulated time is the engine's `TimeWeighted`), so it depends on nothing
//! else in the crate.

pub mod ci;
pub mod fit;
pub mod histogram;
pub mod welford;

pub use ci::{ConfidenceInterval, student_t_ci};
pub use histogram::Histogram;
pub use welford::Welford;

/// The arithmetic mean of `xs`, NaN for none: an absent metric is not zero.
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}
