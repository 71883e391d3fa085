//! Running mean, variance, minimum and maximum in constant memory (Welford 1962).

/// Running moments of a stream of `f64` values.
///
/// Welford's update avoids the catastrophic cancellation of the naive sum-of-squares
/// formula, and [`Welford::merge`] combines two collectors exactly (Chan, Golub and
/// LeVeque 1979), so per-thread or per-replication collectors can be pooled.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Welford {
    count: u64,
    mean: f64,
    /// Sum of squared deviations from the current mean.
    m2: f64,
    min: f64,
    max: f64,
}

impl Welford {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one value.
    #[inline]
    pub fn push(&mut self, x: f64) {
        if self.count == 0 {
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Folds `other` into `self`, as if every value pushed there had been pushed here.
    pub fn merge(&mut self, other: &Welford) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        self.mean += delta * nb / n;
        self.m2 += other.m2 + delta * delta * na * nb / n;
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// How many values were pushed.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The mean; 0 when empty.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The sample variance (divisor n − 1); 0 with fewer than two values.
    pub fn variance(&self) -> f64 {
        if self.count < 2 {
            0.0
        } else {
            self.m2 / (self.count - 1) as f64
        }
    }

    /// The sample standard deviation; 0 with fewer than two values.
    pub fn std_dev(&self) -> f64 {
        self.variance().sqrt()
    }

    /// The smallest value pushed; 0 when empty.
    pub fn min(&self) -> f64 {
        self.min
    }

    /// The largest value pushed; 0 when empty.
    pub fn max(&self) -> f64 {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64;

    /// Mean and sample variance by the two-pass textbook method.
    fn two_pass(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    fn values(seed: u64, n: usize) -> Vec<f64> {
        let mut r = Pcg64::seed_from_u64(seed);
        // A large offset makes the naive sum-of-squares formula lose precision; Welford's must not.
        (0..n).map(|_| 1e6 + r.random::<f64>() * 10.0).collect()
    }

    #[test]
    fn matches_two_pass() {
        let xs = values(1, 10_000);
        let mut w = Welford::new();
        xs.iter().for_each(|&x| w.push(x));
        let (mean, var) = two_pass(&xs);
        assert_eq!(w.count(), 10_000);
        assert!(close(w.mean(), mean), "{} vs {mean}", w.mean());
        assert!(close(w.variance(), var), "{} vs {var}", w.variance());
        assert!(close(w.std_dev(), var.sqrt()));
        assert_eq!(w.min(), xs.iter().copied().fold(f64::INFINITY, f64::min));
        assert_eq!(
            w.max(),
            xs.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        );
    }

    #[test]
    fn merge_matches_pushing_everything() {
        let xs = values(2, 5_000);
        let (left, right) = xs.split_at(1_234);
        let (mut a, mut b, mut all) = (Welford::new(), Welford::new(), Welford::new());
        left.iter().for_each(|&x| a.push(x));
        right.iter().for_each(|&x| b.push(x));
        xs.iter().for_each(|&x| all.push(x));
        a.merge(&b);
        assert_eq!(a.count(), all.count());
        assert!(close(a.mean(), all.mean()));
        assert!(close(a.variance(), all.variance()));
        assert_eq!((a.min(), a.max()), (all.min(), all.max()));
    }

    #[test]
    fn empty_and_single() {
        let mut w = Welford::new();
        assert_eq!((w.count(), w.mean(), w.variance()), (0, 0.0, 0.0));
        let mut e = Welford::new();
        e.merge(&w);
        assert_eq!(e, w);
        w.push(-4.0);
        e.merge(&w);
        assert_eq!(e, w);
        assert_eq!(
            (w.mean(), w.variance(), w.min(), w.max()),
            (-4.0, 0.0, -4.0, -4.0)
        );
    }
}
