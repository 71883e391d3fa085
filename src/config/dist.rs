//! Distributions as files write them: [`DistSpec`], with parameters in **microseconds** as
//! people write them, e.g. `{ kind = "lognormal", mean = 20, p99 = 60 }`.
//!
//! [`DistSpec::validate`] is the only gate from a spec to the engine's [`Dist`] (parameters
//! converted to nanoseconds once, a lognormal fitted to its mean and p99), so every check on
//! user input lives here and the engine's sampling can assume sane parameters.

use crate::engine::dist::{Dist, NS_PER_US};

/// Φ⁻¹(0.99), the standard normal's 99th percentile, used to fit a lognormal to (mean, p99).
pub const Z99: f64 = 2.326_347_874;

/// A distribution as written in a scenario file; all parameters are in microseconds.
///
/// The `kind` tag selects the variant, e.g. `{ kind = "exponential", mean = 250.0 }`.
/// Call [`DistSpec::validate`] to check it and obtain the engine's [`Dist`], ready for sampling.
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
    // Both parameters are finite and sd ≥ 0, which is all the sampler requires; the fallback
    // error only guards against a future change in its rules.
    Dist::truncated_normal_ns(mean_ns, sd_ns).ok_or(DistError::Negative {
        field: "sd",
        value: sd,
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
    Dist::lognormal_ns(mu, sigma).ok_or(DistError::Negative {
        field: "sigma",
        value: sigma,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::dist::testing::{assert_mean, assert_rel, draw_sorted, quantile};

    fn ok(spec: DistSpec) -> Dist {
        spec.validate().expect("spec should be valid")
    }

    #[test]
    fn each_kind_validates_into_the_engines_form_in_nanoseconds() {
        assert_eq!(
            ok(DistSpec::Constant { value: 12.5 }),
            Dist::constant_us(12.5)
        );
        // Zero is allowed, and means no cost.
        assert_eq!(ok(DistSpec::Constant { value: 0.0 }), Dist::default());
        assert_eq!(
            ok(DistSpec::Uniform {
                min: 10.0,
                max: 30.0
            }),
            Dist::Uniform {
                min_ns: 10_000.0,
                width_ns: 20_000.0
            }
        );
        assert_eq!(
            ok(DistSpec::Exponential { mean: 50.0 }),
            Dist::exponential_us(50.0)
        );
        assert_eq!(
            ok(DistSpec::Normal {
                mean: 50.0,
                sd: 50.0
            }),
            Dist::truncated_normal_ns(50_000.0, 50_000.0).unwrap()
        );
        assert_eq!(
            ok(DistSpec::Normal { mean: 7.0, sd: 0.0 }).mean_ns(),
            7_000.0
        );
        assert_eq!(
            ok(DistSpec::Empirical {
                points: vec![[10.0, 0.0], [20.0, 0.5], [100.0, 1.0]]
            }),
            Dist::Empirical {
                values_ns: vec![10_000.0, 20_000.0, 100_000.0],
                probs: vec![0.0, 0.5, 1.0]
            }
        );
        assert_rel(
            ok(DistSpec::Empirical {
                points: vec![[5.0, 0.2], [10.0, 1.0]],
            })
            .mean_ns(),
            7_000.0,
            1e-12,
            "mean",
        );
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
        // The engine's lognormal of ln(ns) ~ N(ln 100,000, 0.5²), whose sampling (mean, median)
        // engine::dist tests.
        let Dist::Lognormal { mu, sigma, .. } = d else {
            panic!("expected a lognormal");
        };
        assert_rel(mu, 100_000f64.ln(), 1e-15, "mu");
        assert_eq!(sigma, 0.5);
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
}
