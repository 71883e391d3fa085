//! Service and latency time distributions.
//!
//! This module owns the two forms a distribution takes: [`DistSpec`], the raw form read from
//! a scenario file (parameters in **microseconds**, as people write them), and [`Dist`], the
//! validated form that the engine samples (parameters converted to **nanoseconds** once, with
//! the `rand_distr` samplers built in advance). [`DistSpec::validate`] is the only gate between
//! the two, so every check on user input lives here and the hot path ([`Dist::sample`]) can
//! assume its parameters are sane.

use crate::engine::rng::SimRng;
use crate::engine::time::SimDuration;
use rand::Rng;
use rand_distr::{Distribution, Exp1, LogNormal, Normal};

/// Nanoseconds per microsecond: file parameters are multiplied by this once, at validation.
const NS_PER_US: f64 = 1_000.0;

/// Φ⁻¹(0.99), the standard normal's 99th percentile, used to fit a lognormal to (mean, p99).
pub const Z99: f64 = 2.326_347_874;

/// How many times a truncated normal redraws a negative value before giving up with zero.
const NORMAL_MAX_TRIES: u32 = 64;

/// A distribution as written in a scenario file; all parameters are in microseconds.
///
/// The `kind` tag selects the variant, e.g. `{ kind = "exponential", mean = 250.0 }`.
/// Call [`DistSpec::validate`] to check it and obtain a [`Dist`] ready for sampling.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DistSpec {
    /// Always the same value; zero is allowed and means "no cost".
    Constant {
        /// The value, in µs (≥ 0).
        value: f64,
    },
    /// Uniform on `[min, max]`.
    Uniform {
        /// Lower bound, in µs (≥ 0).
        min: f64,
        /// Upper bound, in µs (≥ `min`).
        max: f64,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean, in µs (> 0).
        mean: f64,
    },
    /// Normal truncated at zero: negative draws are redrawn (at most 64 times, then 0).
    Normal {
        /// Mean of the untruncated normal, in µs (≥ 0).
        mean: f64,
        /// Standard deviation of the untruncated normal, in µs (≥ 0).
        sd: f64,
    },
    /// Lognormal, given either by (`mean`, `p99`) or by (`mu`, `sigma`).
    Lognormal {
        /// Mean of the value, in µs (> 0); pairs with `p99`.
        mean: Option<f64>,
        /// 99th percentile of the value, in µs (> `mean`, at most about 14.97 × `mean`).
        p99: Option<f64>,
        /// Mean of ln(value in µs); pairs with `sigma`.
        mu: Option<f64>,
        /// Standard deviation of ln(value in µs) (≥ 0); pairs with `mu`.
        sigma: Option<f64>,
    },
    /// A piecewise-linear CDF through `[value_us, cumulative_probability]` points.
    ///
    /// Values must not decrease, probabilities must strictly increase from ≥ 0 and the last
    /// one must be exactly 1.0. A first probability above zero puts that much mass exactly
    /// on the first value.
    Empirical {
        /// The CDF points, `[value in µs, cumulative probability]`.
        points: Vec<[f64; 2]>,
    },
}

/// Why a [`DistSpec`] was rejected; each message names the field and the rule it broke.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DistError {
    /// A parameter was NaN or infinite.
    #[error("{field} must be a finite number (got {value})")]
    NotFinite {
        /// The offending field.
        field: &'static str,
        /// Its value.
        value: f64,
    },
    /// A parameter that must be ≥ 0 was negative.
    #[error("{field} must be >= 0 (got {value})")]
    Negative {
        /// The offending field.
        field: &'static str,
        /// Its value.
        value: f64,
    },
    /// A parameter that must be > 0 was zero or negative.
    #[error("{field} must be > 0 (got {value})")]
    NotPositive {
        /// The offending field.
        field: &'static str,
        /// Its value.
        value: f64,
    },
    /// A uniform distribution's bounds were the wrong way round.
    #[error("min ({min}) must be <= max ({max})")]
    MinAboveMax {
        /// The lower bound given.
        min: f64,
        /// The upper bound given.
        max: f64,
    },
    /// A lognormal's p99 was not above its mean.
    #[error("p99 ({p99}) must be greater than mean ({mean})")]
    P99NotAboveMean {
        /// The mean given.
        mean: f64,
        /// The p99 given.
        p99: f64,
    },
    /// A lognormal's p99 was so far above its mean that no lognormal fits both.
    #[error(
        "p99 ({p99}) is too far above mean ({mean}): a lognormal needs \
         ln(p99/mean) <= z^2/2 = 2.706, i.e. p99 <= 14.97 x mean"
    )]
    P99TooFarAboveMean {
        /// The mean given.
        mean: f64,
        /// The p99 given.
        p99: f64,
    },
    /// A lognormal was given neither or both or a mix of the two parameter pairs.
    #[error("lognormal needs exactly one pair of parameters: (mean, p99) or (mu, sigma)")]
    LognormalParams,
    /// An empirical distribution had no points.
    #[error("points must hold at least one [value, probability] pair")]
    NoPoints,
    /// An empirical distribution's point broke a rule.
    #[error("points[{index}]: {rule}")]
    Point {
        /// Index of the offending point.
        index: usize,
        /// The rule it broke.
        rule: &'static str,
    },
}

/// A validated distribution, ready to sample; parameters are in nanoseconds.
///
/// Build one with [`DistSpec::validate`] (or the trusted shortcuts [`Dist::constant_us`] and
/// [`Dist::exponential_us`]); building variants by hand skips validation.
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

/// Checks that `value` is finite.
fn finite(field: &'static str, value: f64) -> Result<f64, DistError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(DistError::NotFinite { field, value })
    }
}

/// Checks that `value` is finite and ≥ 0.
fn non_negative(field: &'static str, value: f64) -> Result<f64, DistError> {
    if finite(field, value)? < 0.0 {
        Err(DistError::Negative { field, value })
    } else {
        Ok(value)
    }
}

/// Checks that `value` is finite and > 0.
fn positive(field: &'static str, value: f64) -> Result<f64, DistError> {
    if finite(field, value)? <= 0.0 {
        Err(DistError::NotPositive { field, value })
    } else {
        Ok(value)
    }
}

impl DistSpec {
    /// The same shape with every value multiplied by `f` (> 0): its mean and quantiles scale by
    /// `f`.
    pub fn scaled(&self, f: f64) -> DistSpec {
        let m = |x: Option<f64>| x.map(|v| v * f);
        match self {
            DistSpec::Constant { value } => DistSpec::Constant { value: value * f },
            DistSpec::Uniform { min, max } => DistSpec::Uniform {
                min: min * f,
                max: max * f,
            },
            DistSpec::Exponential { mean } => DistSpec::Exponential { mean: mean * f },
            DistSpec::Normal { mean, sd } => DistSpec::Normal {
                mean: mean * f,
                sd: sd * f,
            },
            DistSpec::Lognormal {
                mean,
                p99,
                mu,
                sigma,
            } => DistSpec::Lognormal {
                mean: m(*mean),
                p99: m(*p99),
                mu: mu.map(|v| v + f.ln()),
                sigma: *sigma,
            },
            DistSpec::Empirical { points } => DistSpec::Empirical {
                points: points.iter().map(|[v, p]| [v * f, *p]).collect(),
            },
        }
    }

    /// Checks every parameter and converts the spec into a ready-to-sample [`Dist`].
    pub fn validate(&self) -> Result<Dist, DistError> {
        match self {
            DistSpec::Constant { value } => Ok(Dist::Constant {
                ns: non_negative("value", *value)? * NS_PER_US,
            }),
            DistSpec::Uniform { min, max } => validate_uniform(*min, *max),
            DistSpec::Exponential { mean } => Ok(Dist::Exponential {
                mean_ns: positive("mean", *mean)? * NS_PER_US,
            }),
            DistSpec::Normal { mean, sd } => validate_normal(*mean, *sd),
            DistSpec::Lognormal {
                mean,
                p99,
                mu,
                sigma,
            } => match (*mean, *p99, *mu, *sigma) {
                (Some(m), Some(q), None, None) => lognormal_from_mean_p99(m, q),
                (None, None, Some(mu), Some(s)) => lognormal_from_mu_sigma(mu, s),
                _ => Err(DistError::LognormalParams),
            },
            DistSpec::Empirical { points } => validate_empirical(points),
        }
    }
}

/// Validates a uniform distribution's bounds.
fn validate_uniform(min: f64, max: f64) -> Result<Dist, DistError> {
    non_negative("min", min)?;
    non_negative("max", max)?;
    if min > max {
        return Err(DistError::MinAboveMax { min, max });
    }
    Ok(Dist::Uniform {
        min_ns: min * NS_PER_US,
        width_ns: (max - min) * NS_PER_US,
    })
}

/// Validates a truncated normal; a negative mean is refused because most draws would be cut.
fn validate_normal(mean: f64, sd: f64) -> Result<Dist, DistError> {
    let mean_ns = non_negative("mean", mean)? * NS_PER_US;
    let sd_ns = non_negative("sd", sd)? * NS_PER_US;
    // Both parameters are finite and sd ≥ 0, which is all `Normal::new` requires; the
    // fallback error only guards against a future change in its rules.
    let normal = Normal::new(mean_ns, sd_ns).map_err(|_| DistError::Negative {
        field: "sd",
        value: sd,
    })?;
    Ok(Dist::Normal {
        normal,
        mean_ns,
        sd_ns,
    })
}

/// Fits a lognormal to a mean and a 99th percentile (both in µs).
///
/// With ln X ~ N(μ, σ²): ln p99 = μ + zσ and ln mean = μ + σ²/2, so
/// ln(p99/mean) = zσ − σ²/2. Of the two roots the smaller, σ = z − √(z² − 2 ln(p99/mean)),
/// is taken: it is the one that shrinks to zero as p99 approaches the mean.
fn lognormal_from_mean_p99(mean: f64, p99: f64) -> Result<Dist, DistError> {
    positive("mean", mean)?;
    positive("p99", p99)?;
    if p99 <= mean {
        return Err(DistError::P99NotAboveMean { mean, p99 });
    }
    let gap = (p99 / mean).ln();
    let discriminant = Z99 * Z99 - 2.0 * gap;
    if discriminant < 0.0 {
        return Err(DistError::P99TooFarAboveMean { mean, p99 });
    }
    let sigma = Z99 - discriminant.sqrt();
    let mu_ns = (mean * NS_PER_US).ln() - sigma * sigma / 2.0;
    build_lognormal(mu_ns, sigma)
}

/// Builds a lognormal from μ and σ of ln(value in µs).
fn lognormal_from_mu_sigma(mu_us: f64, sigma: f64) -> Result<Dist, DistError> {
    finite("mu", mu_us)?;
    non_negative("sigma", sigma)?;
    // ln(x ns) = ln(x µs) + ln(1000), so only μ moves when changing units.
    build_lognormal(mu_us + NS_PER_US.ln(), sigma)
}

/// Wraps the `rand_distr` lognormal for ln(value in ns) ~ N(`mu`, `sigma`²).
fn build_lognormal(mu: f64, sigma: f64) -> Result<Dist, DistError> {
    let lognormal = LogNormal::new(mu, sigma).map_err(|_| DistError::Negative {
        field: "sigma",
        value: sigma,
    })?;
    Ok(Dist::Lognormal {
        lognormal,
        mu,
        sigma,
    })
}

/// Validates an empirical CDF and converts its values to ns.
fn validate_empirical(points: &[[f64; 2]]) -> Result<Dist, DistError> {
    if points.is_empty() {
        return Err(DistError::NoPoints);
    }
    for (index, pair) in points.iter().enumerate() {
        check_point(index, *pair, index.checked_sub(1).map(|i| points[i]))?;
    }
    let last = points.len() - 1;
    if points[last][1] != 1.0 {
        return Err(DistError::Point {
            index: last,
            rule: "the last probability must be exactly 1.0",
        });
    }
    Ok(Dist::Empirical {
        values_ns: points.iter().map(|p| p[0] * NS_PER_US).collect(),
        probs: points.iter().map(|p| p[1]).collect(),
    })
}

/// Checks one CDF point on its own and against the point before it.
fn check_point(
    index: usize,
    [value, prob]: [f64; 2],
    prev: Option<[f64; 2]>,
) -> Result<(), DistError> {
    let fail = |rule| Err(DistError::Point { index, rule });
    if !value.is_finite() || value < 0.0 {
        return fail("value must be finite and >= 0");
    }
    if !(0.0..=1.0).contains(&prob) {
        return fail("probability must be in [0, 1]");
    }
    match prev {
        Some([v0, _]) if value < v0 => fail("values must not decrease"),
        Some([_, p0]) if prob <= p0 => fail("probabilities must increase"),
        _ => Ok(()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng;
    use statrs::distribution::{ContinuousCDF, Normal as StdNormal};

    const N: usize = 200_000;

    /// Draws `N` samples (in ns) and sorts them.
    fn draw_sorted(d: &Dist, seed: u64) -> Vec<f64> {
        let mut r = rng::from_seed(seed);
        let mut xs: Vec<f64> = (0..N).map(|_| d.sample(&mut r).as_nanos() as f64).collect();
        xs.sort_by(f64::total_cmp);
        xs
    }

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

    /// The sample quantile with the ⌈q·n⌉-th smallest convention.
    fn quantile(sorted: &[f64], q: f64) -> f64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    /// Asserts the sample mean is within 5 standard errors and 2% of `expected`.
    fn assert_mean(xs: &[f64], expected: f64) {
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
    fn assert_rel(actual: f64, expected: f64, rel: f64, what: &str) {
        let err = (actual - expected).abs() / expected;
        assert!(err <= rel, "{what}: {actual} vs {expected} (rel err {err})");
    }

    fn ok(spec: DistSpec) -> Dist {
        spec.validate().expect("spec should be valid")
    }

    #[test]
    fn constant_is_exact() {
        let d = ok(DistSpec::Constant { value: 12.5 });
        assert_eq!(d.mean_ns(), 12_500.0);
        let mut r = rng::from_seed(1);
        assert!((0..1000).all(|_| d.sample(&mut r) == SimDuration(12_500)));
        assert!(!d.is_zero());
    }

    #[test]
    fn zero_constant_is_allowed_and_default() {
        let d = ok(DistSpec::Constant { value: 0.0 });
        assert!(d.is_zero());
        assert_eq!(d, Dist::default());
        assert_eq!(Dist::constant_us(0.0), d);
        assert_eq!(d.sample(&mut rng::from_seed(1)), SimDuration::ZERO);
    }

    #[test]
    fn uniform_mean_and_median() {
        let d = ok(DistSpec::Uniform {
            min: 10.0,
            max: 30.0,
        });
        assert_eq!(d.mean_ns(), 20_000.0);
        let xs = draw_sorted(&d, 2);
        assert_mean(&xs, d.mean_ns());
        assert_rel(quantile(&xs, 0.5), 20_000.0, 0.02, "p50");
        assert!(xs[0] >= 10_000.0 && xs[N - 1] <= 30_000.0);
    }

    #[test]
    fn exponential_mean_and_p99() {
        let d = ok(DistSpec::Exponential { mean: 50.0 });
        assert_eq!(d, Dist::exponential_us(50.0));
        let xs = draw_sorted(&d, 3);
        assert_mean(&xs, 50_000.0);
        assert_rel(quantile(&xs, 0.5), 50_000.0 * 2f64.ln(), 0.02, "p50");
        assert_rel(quantile(&xs, 0.99), 50_000.0 * 100f64.ln(), 0.02, "p99");
    }

    #[test]
    fn truncated_normal_mean_and_median() {
        // sd equal to the mean cuts off about 16% of the untruncated mass, so the truncated
        // mean formula is really exercised.
        let d = ok(DistSpec::Normal {
            mean: 50.0,
            sd: 50.0,
        });
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
        let d = ok(DistSpec::Normal { mean: 7.0, sd: 0.0 });
        assert_eq!(d.mean_ns(), 7_000.0);
        assert_eq!(d.sample(&mut rng::from_seed(5)), SimDuration(7_000));
    }

    #[test]
    fn lognormal_from_mu_sigma() {
        let spec = DistSpec::Lognormal {
            mean: None,
            p99: None,
            mu: Some(100f64.ln()),
            sigma: Some(0.5),
        };
        let d = ok(spec);
        assert_rel(d.mean_ns(), 100_000.0 * 0.125f64.exp(), 1e-12, "mean");
        let xs = draw_sorted(&d, 6);
        assert_mean(&xs, d.mean_ns());
        assert_rel(quantile(&xs, 0.5), 100_000.0, 0.02, "p50");
    }

    #[test]
    fn lognormal_from_mean_p99() {
        let spec = DistSpec::Lognormal {
            mean: Some(100.0),
            p99: Some(500.0),
            mu: None,
            sigma: None,
        };
        let d = ok(spec);
        let Dist::Lognormal { mu, sigma, .. } = d else {
            panic!("expected a lognormal");
        };
        assert_rel(d.mean_ns(), 100_000.0, 1e-9, "analytic mean");
        assert_rel((mu + Z99 * sigma).exp(), 500_000.0, 1e-9, "analytic p99");
        let xs = draw_sorted(&d, 7);
        assert_mean(&xs, 100_000.0);
        assert_rel(quantile(&xs, 0.99), 500_000.0, 0.03, "p99");
    }

    #[test]
    fn empirical_mean_and_median() {
        let points = vec![[10.0, 0.0], [20.0, 0.5], [100.0, 1.0]];
        let d = ok(DistSpec::Empirical { points });
        assert_eq!(d.mean_ns(), 37_500.0);
        let xs = draw_sorted(&d, 8);
        assert_mean(&xs, 37_500.0);
        assert_rel(quantile(&xs, 0.5), 20_000.0, 0.02, "p50");
        assert_rel(quantile(&xs, 0.75), 60_000.0, 0.02, "p75");
    }

    #[test]
    fn empirical_with_an_atom_at_the_first_value() {
        let points = vec![[5.0, 0.2], [10.0, 1.0]];
        let d = ok(DistSpec::Empirical { points });
        assert_rel(d.mean_ns(), 7_000.0, 1e-12, "mean");
        let xs = draw_sorted(&d, 9);
        assert_mean(&xs, 7_000.0);
        let at_first = xs.iter().filter(|&&x| x == 5_000.0).count() as f64 / N as f64;
        assert!((at_first - 0.2).abs() < 0.01, "atom mass {at_first}");
    }

    #[test]
    fn rejects_bad_scalars() {
        let e = DistSpec::Exponential { mean: -3.0 }.validate().unwrap_err();
        assert_eq!(e.to_string(), "mean must be > 0 (got -3)");
        let e = DistSpec::Exponential { mean: 0.0 }.validate().unwrap_err();
        assert!(matches!(e, DistError::NotPositive { field: "mean", .. }));
        let e = DistSpec::Constant { value: -1.0 }.validate().unwrap_err();
        assert_eq!(
            e,
            DistError::Negative {
                field: "value",
                value: -1.0
            }
        );
        let e = DistSpec::Constant { value: f64::NAN }
            .validate()
            .unwrap_err();
        assert!(matches!(e, DistError::NotFinite { field: "value", .. }));
        let e = DistSpec::Uniform {
            min: 0.0,
            max: f64::INFINITY,
        }
        .validate()
        .unwrap_err();
        assert!(matches!(e, DistError::NotFinite { field: "max", .. }));
        let e = DistSpec::Uniform { min: 5.0, max: 1.0 }
            .validate()
            .unwrap_err();
        assert_eq!(e.to_string(), "min (5) must be <= max (1)");
        let e = DistSpec::Normal {
            mean: 1.0,
            sd: -1.0,
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            e,
            DistError::Negative {
                field: "sd",
                value: -1.0
            }
        );
        let e = DistSpec::Normal {
            mean: -1.0,
            sd: 1.0,
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            e,
            DistError::Negative {
                field: "mean",
                value: -1.0
            }
        );
    }

    fn lognormal(
        mean: Option<f64>,
        p99: Option<f64>,
        mu: Option<f64>,
        sigma: Option<f64>,
    ) -> DistSpec {
        DistSpec::Lognormal {
            mean,
            p99,
            mu,
            sigma,
        }
    }

    #[test]
    fn rejects_bad_lognormal() {
        let e = lognormal(Some(5.0), Some(2.0), None, None)
            .validate()
            .unwrap_err();
        assert_eq!(e.to_string(), "p99 (2) must be greater than mean (5)");
        let e = lognormal(Some(1.0), Some(15.0), None, None)
            .validate()
            .unwrap_err();
        assert_eq!(
            e,
            DistError::P99TooFarAboveMean {
                mean: 1.0,
                p99: 15.0
            }
        );
        assert!(
            lognormal(Some(1.0), Some(14.9), None, None)
                .validate()
                .is_ok()
        );
        let e = lognormal(Some(0.0), Some(15.0), None, None)
            .validate()
            .unwrap_err();
        assert!(matches!(e, DistError::NotPositive { field: "mean", .. }));
        let e = lognormal(Some(1.0), None, None, Some(1.0))
            .validate()
            .unwrap_err();
        assert_eq!(e, DistError::LognormalParams);
        let e = lognormal(None, None, None, None).validate().unwrap_err();
        assert_eq!(e, DistError::LognormalParams);
        let e = lognormal(Some(1.0), Some(2.0), Some(1.0), Some(1.0))
            .validate()
            .unwrap_err();
        assert_eq!(e, DistError::LognormalParams);
        let e = lognormal(None, None, Some(1.0), Some(-0.5))
            .validate()
            .unwrap_err();
        assert_eq!(
            e,
            DistError::Negative {
                field: "sigma",
                value: -0.5
            }
        );
        let e = lognormal(None, None, Some(f64::NAN), Some(0.5))
            .validate()
            .unwrap_err();
        assert!(matches!(e, DistError::NotFinite { field: "mu", .. }));
    }

    fn empirical_error(points: Vec<[f64; 2]>) -> DistError {
        DistSpec::Empirical { points }.validate().unwrap_err()
    }

    #[test]
    fn rejects_bad_points() {
        assert_eq!(empirical_error(vec![]), DistError::NoPoints);
        let e = empirical_error(vec![[1.0, 0.1], [2.0, 0.5], [3.0, 0.5], [4.0, 1.0]]);
        assert_eq!(e.to_string(), "points[2]: probabilities must increase");
        let e = empirical_error(vec![[1.0, 0.1], [0.5, 1.0]]);
        assert_eq!(e.to_string(), "points[1]: values must not decrease");
        let e = empirical_error(vec![[1.0, 0.1], [2.0, 0.9]]);
        assert_eq!(
            e.to_string(),
            "points[1]: the last probability must be exactly 1.0"
        );
        let e = empirical_error(vec![[-1.0, 0.0], [2.0, 1.0]]);
        assert_eq!(e.to_string(), "points[0]: value must be finite and >= 0");
        let e = empirical_error(vec![[1.0, -0.1], [2.0, 1.0]]);
        assert_eq!(e.to_string(), "points[0]: probability must be in [0, 1]");
        let e = empirical_error(vec![[1.0, f64::NAN], [2.0, 1.0]]);
        assert_eq!(e.to_string(), "points[0]: probability must be in [0, 1]");
        assert!(
            DistSpec::Empirical {
                points: vec![[3.0, 1.0]]
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn sampling_is_reproducible() {
        let d = ok(DistSpec::Exponential { mean: 10.0 });
        let (mut a, mut b) = (rng::stream(9, 3), rng::stream(9, 3));
        assert!((0..100).all(|_| d.sample(&mut a) == d.sample(&mut b)));
    }
}
