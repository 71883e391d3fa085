//! Service and latency time distributions, as the engine samples them.
//!
//! [`Dist`] is a validated distribution with its parameters in **nanoseconds** and its
//! `rand_distr` samplers built in advance, so the hot path ([`Dist::sample`]) can assume its
//! parameters are sane. How files write distributions (in microseconds, by mean and p99, as a
//! CDF) and the checks on them are `config::dist`'s; this module only samples.

use crate::engine::rng::SimRng;
use crate::engine::time::SimDuration;
use rand::Rng;
use rand_distr::{Distribution, Exp1, LogNormal, Normal};

/// Nanoseconds per microsecond: files and the `_us` constructors give microseconds.
pub const NS_PER_US: f64 = 1_000.0;

/// How many times a truncated normal redraws a negative value before giving up with zero.
const NORMAL_MAX_TRIES: u32 = 64;

/// A validated distribution, ready to sample; parameters are in nanoseconds.
///
/// Files describe distributions as `config::dist::DistSpec`, whose validation builds these; the
/// constructors here ([`Dist::constant_us`], [`Dist::exponential_us`],
/// [`Dist::truncated_normal_ns`], [`Dist::lognormal_ns`]) and the variants themselves trust
/// their arguments.
///
/// It has an explicit one-byte tag (`repr(u8)`): otherwise the compiler hides the variant in an
/// unused range of `Empirical`'s vectors, and every draw spends about ten instructions
/// decoding it.
#[derive(Debug, Clone, PartialEq)]
#[repr(u8)]
pub enum Dist {
    /// Always `ns`.
    Constant {
        /// The value, in ns.
        ns: f64,
    },
    /// Uniform on `[min_ns, min_ns + width_ns]`.
    Uniform {
        /// Lower bound, in ns.
        min_ns: f64,
        /// `max - min`, in ns.
        width_ns: f64,
    },
    /// Exponential with mean `mean_ns`.
    Exponential {
        /// Mean, in ns.
        mean_ns: f64,
    },
    /// Normal truncated at zero.
    Normal {
        /// The untruncated normal, in ns.
        normal: Normal<f64>,
        /// Mean of the untruncated normal, in ns.
        mean_ns: f64,
        /// Standard deviation of the untruncated normal, in ns.
        sd_ns: f64,
    },
    /// Lognormal: ln(value in ns) ~ N(`mu`, `sigma`²).
    Lognormal {
        /// The sampler.
        lognormal: LogNormal<f64>,
        /// Mean of ln(value in ns).
        mu: f64,
        /// Standard deviation of ln(value in ns).
        sigma: f64,
    },
    /// Piecewise-linear inverse CDF.
    Empirical {
        /// Point values, in ns, non-decreasing.
        values_ns: Vec<f64>,
        /// Cumulative probabilities, strictly increasing, the last exactly 1.0.
        probs: Vec<f64>,
    },
}

impl Default for Dist {
    /// A constant zero: no cost.
    fn default() -> Self {
        Dist::Constant { ns: 0.0 }
    }
}

impl Dist {
    /// A constant of `us` microseconds; for trusted values (debug builds check `us ≥ 0`).
    pub fn constant_us(us: f64) -> Dist {
        debug_assert!(
            us.is_finite() && us >= 0.0,
            "constant must be >= 0 (got {us})"
        );
        Dist::Constant { ns: us * NS_PER_US }
    }

    /// An exponential with mean `mean_us` microseconds; for trusted values (debug builds check
    /// `mean_us > 0`).
    pub fn exponential_us(mean_us: f64) -> Dist {
        debug_assert!(
            mean_us.is_finite() && mean_us > 0.0,
            "mean must be > 0 (got {mean_us})"
        );
        Dist::Exponential {
            mean_ns: mean_us * NS_PER_US,
        }
    }

    /// A normal N(`mean_ns`, `sd_ns`²) truncated at zero, for trusted parameters (`sd_ns` ≥ 0);
    /// `None` where `rand_distr` refuses them (a non-finite standard deviation).
    pub fn truncated_normal_ns(mean_ns: f64, sd_ns: f64) -> Option<Dist> {
        let normal = Normal::new(mean_ns, sd_ns).ok()?;
        Some(Dist::Normal {
            normal,
            mean_ns,
            sd_ns,
        })
    }

    /// A lognormal with ln(value in ns) ~ N(`mu`, `sigma`²), for trusted parameters
    /// (`sigma` ≥ 0); `None` where `rand_distr` refuses them (a non-finite `sigma`).
    pub fn lognormal_ns(mu: f64, sigma: f64) -> Option<Dist> {
        let lognormal = LogNormal::new(mu, sigma).ok()?;
        Some(Dist::Lognormal {
            lognormal,
            mu,
            sigma,
        })
    }

    /// True for a constant zero, so callers can skip scheduling a cost that takes no time.
    pub fn is_zero(&self) -> bool {
        matches!(self, Dist::Constant { ns } if *ns == 0.0)
    }

    /// Draws one value, rounded to the nearest nanosecond. Does not allocate.
    #[inline(always)]
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        SimDuration::from_nanos_f64(self.sample_ns(rng))
    }

    /// Draws one value in (fractional) nanoseconds.
    #[inline(always)]
    fn sample_ns(&self, rng: &mut SimRng) -> f64 {
        match self {
            Dist::Constant { ns } => *ns,
            Dist::Uniform { min_ns, width_ns } => min_ns + width_ns * rng.random::<f64>(),
            Dist::Exponential { mean_ns } => {
                let unit: f64 = Exp1.sample(rng);
                mean_ns * unit
            }
            Dist::Normal { normal, .. } => sample_truncated(normal, rng),
            Dist::Lognormal { lognormal, .. } => lognormal.sample(rng),
            Dist::Empirical { values_ns, probs } => {
                empirical_inverse(values_ns, probs, rng.random::<f64>())
            }
        }
    }

    /// The exact mean of the distribution, in nanoseconds (before rounding samples to ns).
    pub fn mean_ns(&self) -> f64 {
        match self {
            Dist::Constant { ns } => *ns,
            Dist::Uniform { min_ns, width_ns } => min_ns + width_ns / 2.0,
            Dist::Exponential { mean_ns } => *mean_ns,
            Dist::Normal { mean_ns, sd_ns, .. } => truncated_normal_mean(*mean_ns, *sd_ns),
            Dist::Lognormal { mu, sigma, .. } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Empirical { values_ns, probs } => empirical_mean(values_ns, probs),
        }
    }
}

/// A distribution bound to a random stream of its own, which keeps its next draw ready.
///
/// [`Sampler::sample`] hands out the draw it made last time and makes the next one. The values
/// are exactly those that [`Dist::sample`] would give on the same stream, in the same order;
/// only their timing differs. That timing matters on a pipelined CPU: a model usually branches
/// on a delay as soon as it is scheduled (it decides which event comes next), and a draw
/// computed on demand puts the generator, the sampling and the rounding (some tens of cycles)
/// in front of that branch. Drawn ahead, it is ready before it is needed, so a mispredicted
/// branch resolves early. Use it where one stream serves one distribution; streams shared by
/// several distributions draw on demand, so that their order of draws is the model's.
#[derive(Debug, Clone)]
pub struct Sampler {
    dist: Dist,
    rng: SimRng,
    next: SimDuration,
}

impl Sampler {
    /// Binds `dist` to `rng`, drawing its first value at once.
    pub fn new(dist: Dist, mut rng: SimRng) -> Self {
        let next = dist.sample(&mut rng);
        Sampler { dist, rng, next }
    }

    /// The next value of the stream, rounded to the nearest nanosecond. Inlined whole into its
    /// caller, the draw included, so that the compiler can schedule it early.
    #[inline(always)]
    pub fn sample(&mut self) -> SimDuration {
        let d = self.next;
        self.next = SimDuration::from_nanos_f64(self.dist.sample_ns(&mut self.rng));
        d
    }

    /// The distribution it draws from.
    pub fn dist(&self) -> &Dist {
        &self.dist
    }
}

/// Draws from a normal, redrawing negatives; after 64 negative draws in a row, returns 0 so
/// a pathological spec cannot stall the simulation.
#[inline]
fn sample_truncated(normal: &Normal<f64>, rng: &mut SimRng) -> f64 {
    for _ in 0..NORMAL_MAX_TRIES {
        let x = normal.sample(rng);
        if x >= 0.0 {
            return x;
        }
    }
    0.0
}

/// The inverse of a piecewise-linear CDF at `u` in [0, 1).
#[inline]
fn empirical_inverse(values: &[f64], probs: &[f64], u: f64) -> f64 {
    let i = probs.partition_point(|&p| p < u);
    if i == 0 {
        return values[0];
    }
    if i >= probs.len() {
        // Unreachable when the last probability is 1.0 and u < 1, but cheap to guard.
        return values[values.len() - 1];
    }
    let frac = (u - probs[i - 1]) / (probs[i] - probs[i - 1]);
    values[i - 1] + frac * (values[i] - values[i - 1])
}

/// Mean of a piecewise-linear CDF: the atom at the first value plus each segment's midpoint
/// weighted by its probability.
fn empirical_mean(values: &[f64], probs: &[f64]) -> f64 {
    let atom = probs[0] * values[0];
    let segments: f64 = (1..values.len())
        .map(|i| (probs[i] - probs[i - 1]) * (values[i - 1] + values[i]) / 2.0)
        .sum();
    atom + segments
}

/// Mean of N(`mean`, `sd`²) truncated to [0, ∞): mean + sd·φ(α)/(1 − Φ(α)) with α = −mean/sd.
///
/// The mass lost by the 64-try fallback (at most 2⁻⁶⁴ since mean ≥ 0) is ignored.
fn truncated_normal_mean(mean: f64, sd: f64) -> f64 {
    if sd == 0.0 {
        return mean;
    }
    let alpha = -mean / sd;
    let pdf = (-alpha * alpha / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let survival = 0.5 * statrs::function::erf::erfc(alpha / std::f64::consts::SQRT_2);
    mean + sd * pdf / survival
}

/// Sampling checks shared with `config::dist`'s tests, which sample what a spec validates into.
#[cfg(test)]
pub(crate) mod testing {
    use super::Dist;
    use crate::engine::rng;

    /// Draws per check.
    pub const N: usize = 200_000;

    /// Draws `N` samples (in ns) and sorts them.
    pub fn draw_sorted(d: &Dist, seed: u64) -> Vec<f64> {
        let mut r = rng::from_seed(seed);
        let mut xs: Vec<f64> = (0..N).map(|_| d.sample(&mut r).as_nanos() as f64).collect();
        xs.sort_by(f64::total_cmp);
        xs
    }

    /// The sample quantile with the ⌈q·n⌉-th smallest convention.
    pub fn quantile(sorted: &[f64], q: f64) -> f64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    /// Asserts the sample mean is within 5 standard errors and 2% of `expected`.
    pub fn assert_mean(xs: &[f64], expected: f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let se = (var / n).sqrt();
        let diff = (mean - expected).abs();
        assert!(
            diff <= 5.0 * se + 0.5,
            "mean {mean} vs {expected}: {diff} > 5 se ({se})"
        );
        assert!(
            diff <= 0.02 * expected,
            "mean {mean} vs {expected}: over 2%"
        );
    }

    /// Asserts `actual` is within `rel` (relative) of `expected`.
    pub fn assert_rel(actual: f64, expected: f64, rel: f64, what: &str) {
        let err = (actual - expected).abs() / expected;
        assert!(err <= rel, "{what}: {actual} vs {expected} (rel err {err})");
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{N, assert_mean, assert_rel, draw_sorted, quantile};
    use super::*;
    use crate::engine::rng;
    use statrs::distribution::{ContinuousCDF, Normal as StdNormal};

    #[test]
    fn a_sampler_gives_the_streams_draws_in_order() {
        let d = Dist::exponential_us(3.0);
        let mut on_demand = rng::stream(11, 5);
        let mut ahead = Sampler::new(d.clone(), rng::stream(11, 5));
        for _ in 0..1_000 {
            assert_eq!(ahead.sample(), d.sample(&mut on_demand));
        }
        assert_eq!(ahead.dist(), &d);
    }

    #[test]
    fn constant_is_exact() {
        let d = Dist::constant_us(12.5);
        assert_eq!(d.mean_ns(), 12_500.0);
        let mut r = rng::from_seed(1);
        assert!((0..1000).all(|_| d.sample(&mut r) == SimDuration(12_500)));
        assert!(!d.is_zero());
    }

    #[test]
    fn zero_constant_is_the_default() {
        let d = Dist::constant_us(0.0);
        assert!(d.is_zero());
        assert_eq!(d, Dist::default());
        assert_eq!(d.sample(&mut rng::from_seed(1)), SimDuration::ZERO);
    }

    #[test]
    fn uniform_mean_and_median() {
        let d = Dist::Uniform {
            min_ns: 10_000.0,
            width_ns: 20_000.0,
        };
        assert_eq!(d.mean_ns(), 20_000.0);
        let xs = draw_sorted(&d, 2);
        assert_mean(&xs, d.mean_ns());
        assert_rel(quantile(&xs, 0.5), 20_000.0, 0.02, "p50");
        assert!(xs[0] >= 10_000.0 && xs[N - 1] <= 30_000.0);
    }

    #[test]
    fn exponential_mean_and_p99() {
        let d = Dist::exponential_us(50.0);
        let xs = draw_sorted(&d, 3);
        assert_mean(&xs, 50_000.0);
        assert_rel(quantile(&xs, 0.5), 50_000.0 * 2f64.ln(), 0.02, "p50");
        assert_rel(quantile(&xs, 0.99), 50_000.0 * 100f64.ln(), 0.02, "p99");
    }

    #[test]
    fn truncated_normal_mean_and_median() {
        // sd equal to the mean cuts off about 16% of the untruncated mass, so the truncated
        // mean formula is really exercised.
        let d = Dist::truncated_normal_ns(50_000.0, 50_000.0).unwrap();
        let expected = d.mean_ns();
        assert!(
            expected > 50_000.0 * 1.2,
            "truncation should raise the mean: {expected}"
        );
        let xs = draw_sorted(&d, 4);
        assert!(xs[0] >= 0.0);
        assert_mean(&xs, expected);
        let z = StdNormal::new(0.0, 1.0).unwrap();
        let cut = z.cdf(-1.0);
        let p50 = 50_000.0 + 50_000.0 * z.inverse_cdf(cut + 0.5 * (1.0 - cut));
        assert_rel(quantile(&xs, 0.5), p50, 0.02, "p50");
    }

    #[test]
    fn normal_with_zero_sd_is_constant() {
        let d = Dist::truncated_normal_ns(7_000.0, 0.0).unwrap();
        assert_eq!(d.mean_ns(), 7_000.0);
        assert_eq!(d.sample(&mut rng::from_seed(5)), SimDuration(7_000));
    }

    /// The lognormal that `{ kind = "lognormal", mu = ln 100, sigma = 0.5 }` (µs) validates into.
    #[test]
    fn lognormal_mean_and_median() {
        let d = Dist::lognormal_ns(100_000f64.ln(), 0.5).unwrap();
        assert_rel(d.mean_ns(), 100_000.0 * 0.125f64.exp(), 1e-12, "mean");
        let xs = draw_sorted(&d, 6);
        assert_mean(&xs, d.mean_ns());
        assert_rel(quantile(&xs, 0.5), 100_000.0, 0.02, "p50");
    }

    #[test]
    fn empirical_mean_and_median() {
        let d = Dist::Empirical {
            values_ns: vec![10_000.0, 20_000.0, 100_000.0],
            probs: vec![0.0, 0.5, 1.0],
        };
        assert_eq!(d.mean_ns(), 37_500.0);
        let xs = draw_sorted(&d, 8);
        assert_mean(&xs, 37_500.0);
        assert_rel(quantile(&xs, 0.5), 20_000.0, 0.02, "p50");
        assert_rel(quantile(&xs, 0.75), 60_000.0, 0.02, "p75");
    }

    #[test]
    fn empirical_with_an_atom_at_the_first_value() {
        let d = Dist::Empirical {
            values_ns: vec![5_000.0, 10_000.0],
            probs: vec![0.2, 1.0],
        };
        assert_rel(d.mean_ns(), 7_000.0, 1e-12, "mean");
        let xs = draw_sorted(&d, 9);
        assert_mean(&xs, 7_000.0);
        let at_first = xs.iter().filter(|&&x| x == 5_000.0).count() as f64 / N as f64;
        assert!((at_first - 0.2).abs() < 0.01, "atom mass {at_first}");
    }

    #[test]
    fn sampling_is_reproducible() {
        let d = Dist::exponential_us(10.0);
        let (mut a, mut b) = (rng::stream(9, 3), rng::stream(9, 3));
        assert!((0..100).all(|_| d.sample(&mut a) == d.sample(&mut b)));
    }
}
