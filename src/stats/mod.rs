//! Run statistics whose memory does not grow with the length of a run.
//!
//! Every collector here has a fixed footprint chosen at construction: a log-linear
//! [`Histogram`] for latency quantiles, [`Welford`] running moments, a [`TimeWeighted`]
//! average for levels such as busy servers, and [`student_t_ci`] for confidence intervals
//! across independent replications.

pub mod ci;
pub mod fit;
pub mod histogram;
pub mod timeweighted;
pub mod welford;

pub use ci::{ConfidenceInterval, student_t_ci};
pub use histogram::Histogram;
pub use timeweighted::TimeWeighted;
pub use welford::Welford;
