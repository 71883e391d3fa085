//! Student-t confidence intervals for the mean of independent replications.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// A symmetric confidence interval `mean ± half_width` computed from `n` samples.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ConfidenceInterval {
    /// The sample mean (NaN when there were no samples).
    pub mean: f64,
    /// Half the interval's width (infinite with fewer than two samples).
    pub half_width: f64,
    /// How many samples the interval rests on.
    pub n: usize,
}

impl ConfidenceInterval {
    /// The lower end, `mean − half_width`.
    pub fn lo(&self) -> f64 {
        self.mean - self.half_width
    }

    /// The upper end, `mean + half_width`.
    pub fn hi(&self) -> f64 {
        self.mean + self.half_width
    }

    /// Whether `x` lies in the closed interval; false whenever an end is NaN.
    pub fn contains(&self, x: f64) -> bool {
        self.lo() <= x && x <= self.hi()
    }
}

/// The two-sided Student-t interval for the mean of `samples` at level `confidence`
/// (e.g. 0.95): mean ± t₍₁₋α/₂, n−1₎ · s/√n.
///
/// The samples must be independent (one per replication), not successive observations from
/// one run. Edge cases: with no samples the mean is NaN and the half width infinite; with one
/// sample the mean is that sample and the half width infinite, since the spread is unknown;
/// a `confidence` outside (0, 1) gives a NaN half width.
pub fn student_t_ci(samples: &[f64], confidence: f64) -> ConfidenceInterval {
    let n = samples.len();
    let mean = if n == 0 {
        f64::NAN
    } else {
        samples.iter().sum::<f64>() / n as f64
    };
    let half_width = if n < 2 {
        f64::INFINITY
    } else {
        let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        t_quantile(confidence, (n - 1) as f64) * (var / n as f64).sqrt()
    };
    ConfidenceInterval {
        mean,
        half_width,
        n,
    }
}

/// The upper (1 + confidence)/2 quantile of Student's t with `dof` degrees of freedom;
/// NaN for a confidence outside (0, 1), which statrs would otherwise panic on.
fn t_quantile(confidence: f64, dof: f64) -> f64 {
    if !(confidence > 0.0 && confidence < 1.0) {
        return f64::NAN;
    }
    StudentsT::new(0.0, 1.0, dof)
        .map_or(f64::NAN, |t| t.inverse_cdf(1.0 - (1.0 - confidence) / 2.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_samples_at_95_percent() {
        let ci = student_t_ci(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95);
        let expected = 2.776445 * 2.5f64.sqrt() / 5f64.sqrt();
        assert_eq!(ci.n, 5);
        assert_eq!(ci.mean, 3.0);
        assert!(
            (ci.half_width - expected).abs() < 1e-5,
            "{} vs {expected}",
            ci.half_width
        );
        assert!((ci.lo() - (3.0 - expected)).abs() < 1e-5);
        assert!((ci.hi() - (3.0 + expected)).abs() < 1e-5);
        assert!(ci.contains(3.0) && ci.contains(1.5) && !ci.contains(5.0));
    }

    #[test]
    fn degenerate_inputs() {
        let none = student_t_ci(&[], 0.95);
        assert!(none.mean.is_nan() && none.half_width.is_infinite() && none.n == 0);
        assert!(!none.contains(0.0));
        let one = student_t_ci(&[4.0], 0.95);
        assert_eq!((one.mean, one.half_width, one.n), (4.0, f64::INFINITY, 1));
        assert!(one.contains(1e300));
        assert!(student_t_ci(&[1.0, 2.0], 1.5).half_width.is_nan());
        assert_eq!(student_t_ci(&[2.0, 2.0, 2.0], 0.9).half_width, 0.0);
    }
}
