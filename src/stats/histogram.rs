//! A log-linear histogram of `u64` values (nanoseconds), in the manner of HdrHistogram.
//!
//! Values below 256 each have their own bucket, so they are exact. Above that, every power
//! of two `[2^e, 2^(e+1))` is split into 128 equal sub-buckets of width `2^(e-7)`, so a
//! bucket's midpoint is within 1/256 (about 0.4%) of any value in it. The storage covers all
//! of `u64` and is allocated once: recording never allocates or grows.

use std::fmt;

/// Bits of sub-bucket resolution per power of two: 2^7 = 128 sub-buckets.
const SUB_BITS: u32 = 7;
/// Sub-buckets per power of two.
const SUB_COUNT: usize = 1 << SUB_BITS;
/// Values below this are recorded exactly (one bucket per value).
const EXACT_LIMIT: u64 = 2 * SUB_COUNT as u64;
/// Buckets needed for all of `u64`: 256 exact ones, then 128 for each exponent 8..=63.
pub const BUCKETS: usize = EXACT_LIMIT as usize + (64 - (SUB_BITS as usize + 1)) * SUB_COUNT;

/// A fixed-memory histogram of `u64` values with ≤ 1/256 relative error above 256.
///
/// Count, sum, minimum and maximum are tracked exactly beside the buckets, so
/// [`Histogram::mean`], [`Histogram::min`] and [`Histogram::max`] are exact.
#[derive(Clone, PartialEq)]
pub struct Histogram {
    counts: Box<[u64]>,
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
}

/// The bucket holding `v`.
///
/// With `shift = max(msb(v), 7) − 7`, the index is `shift·128 + (v >> shift)`: for
/// `v < 256` the shift is 0 and the index is `v` itself; above, `v >> shift` lies in
/// [128, 256), which lands each power of two on its own run of 128 buckets.
#[inline]
fn bucket_index(v: u64) -> usize {
    let msb = 63 - (v | 1).leading_zeros();
    let shift = msb.max(SUB_BITS) - SUB_BITS;
    ((shift as usize) << SUB_BITS) + (v >> shift) as usize
}

/// The inclusive value range `[low, high]` covered by bucket `index`.
fn bucket_bounds(index: usize) -> (u64, u64) {
    if (index as u64) < EXACT_LIMIT {
        return (index as u64, index as u64);
    }
    let shift = (index >> SUB_BITS) - 1;
    let top = (index - (shift << SUB_BITS)) as u64;
    let low = top << shift;
    (low, low + ((1u64 << shift) - 1))
}

impl Histogram {
    /// An empty histogram (allocates its fixed bucket array, about 58 KiB).
    pub fn new() -> Self {
        Histogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    /// Records one value.
    #[inline]
    pub fn record(&mut self, v: u64) {
        self.record_n(v, 1);
    }

    /// Records `n` copies of `v`.
    #[inline]
    pub fn record_n(&mut self, v: u64, n: u64) {
        if n == 0 {
            return;
        }
        self.counts[bucket_index(v)] += n;
        self.count += n;
        self.sum += u128::from(v) * u128::from(n);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The smallest value recorded, exactly; 0 when empty.
    pub fn min(&self) -> u64 {
        if self.count == 0 { 0 } else { self.min }
    }

    /// The largest value recorded, exactly; 0 when empty.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The exact mean of the recorded values; 0 when empty.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }

    /// The `q`-quantile (q in [0, 1], clamped; NaN counts as 0).
    ///
    /// Returns the midpoint of the bucket holding the ⌈q·n⌉-th smallest value, clamped to
    /// [min, max]; `q = 0` gives the exact minimum and `q = 1` the exact maximum. An empty
    /// histogram gives 0.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        if q.is_nan() || q <= 0.0 {
            return self.min;
        }
        if q >= 1.0 {
            return self.max;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let (low, high) = bucket_bounds(self.bucket_of_rank(rank));
        (low + (high - low) / 2).clamp(self.min, self.max)
    }

    /// The index of the bucket holding the `rank`-th smallest value (1-based).
    fn bucket_of_rank(&self, rank: u64) -> usize {
        let mut seen = 0u64;
        for (index, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return index;
            }
        }
        // Unreachable while rank ≤ count; the max's bucket is the safe answer.
        bucket_index(self.max)
    }

    /// Adds every value recorded in `other` to `self`.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine += theirs;
        }
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Forgets every value, keeping the allocation (used at the end of warm-up).
    pub fn clear(&mut self) {
        self.counts.fill(0);
        self.count = 0;
        self.sum = 0;
        self.min = u64::MAX;
        self.max = 0;
    }

    /// The non-empty buckets in increasing order, as `(low, high_inclusive, count)`.
    pub fn iter_buckets(&self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0)
            .map(|(index, &c)| {
                let (low, high) = bucket_bounds(index);
                (low, high, c)
            })
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

/// Prints a summary rather than the thousands of buckets.
impl fmt::Debug for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.count)
            .field("min", &self.min())
            .field("max", &self.max)
            .field("mean", &self.mean())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64;

    #[test]
    fn bucket_layout_is_contiguous() {
        assert_eq!(BUCKETS, 7424);
        assert_eq!(bucket_index(0), 0);
        assert_eq!(bucket_index(255), 255);
        assert_eq!(bucket_index(256), 256);
        assert_eq!(bucket_index(u64::MAX), BUCKETS - 1);
        assert_eq!(bucket_bounds(BUCKETS - 1).1, u64::MAX);
        // Each bucket starts right after the previous one ends, and its bounds map back to it.
        let mut next = 0u64;
        for i in 0..BUCKETS {
            let (low, high) = bucket_bounds(i);
            assert_eq!(low, next, "bucket {i}");
            assert_eq!((bucket_index(low), bucket_index(high)), (i, i));
            next = high.wrapping_add(1);
        }
    }

    #[test]
    fn exact_below_256() {
        let mut h = Histogram::new();
        for v in 0..256 {
            h.record(v);
        }
        for v in 0..256u64 {
            assert_eq!(h.quantile((v + 1) as f64 / 256.0), v);
        }
        assert_eq!(h.iter_buckets().count(), 256);
        assert!(h.iter_buckets().all(|(lo, hi, c)| lo == hi && c == 1));
        assert_eq!(h.mean(), 127.5);
    }

    #[test]
    fn quantiles_within_one_percent_of_exact() {
        let mut r = Pcg64::seed_from_u64(11);
        let max_ln = 1e10f64.ln();
        let mut xs: Vec<u64> = (0..100_000)
            .map(|_| (r.random::<f64>() * max_ln).exp().round() as u64)
            .collect();
        let mut h = Histogram::new();
        xs.iter().for_each(|&x| h.record(x));
        xs.sort_unstable();
        for q in [0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999] {
            let rank = ((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
            let exact = xs[rank - 1] as f64;
            let got = h.quantile(q) as f64;
            let err = (got - exact).abs() / exact;
            assert!(
                err <= 1.0 / 256.0 + 1e-12,
                "q={q}: {got} vs {exact} ({err})"
            );
        }
        let exact_mean = xs.iter().map(|&x| x as f64).sum::<f64>() / xs.len() as f64;
        assert!((h.mean() - exact_mean).abs() <= 1e-9 * exact_mean);
        assert_eq!((h.quantile(0.0), h.min()), (xs[0], xs[0]));
        assert_eq!(
            (h.quantile(1.0), h.max()),
            (xs[xs.len() - 1], xs[xs.len() - 1])
        );
    }

    #[test]
    fn merge_equals_recording_both() {
        let mut r = Pcg64::seed_from_u64(12);
        let (mut a, mut b, mut both) = (Histogram::new(), Histogram::new(), Histogram::new());
        for i in 0..5_000 {
            let v = r.random_range(0..10_000_000u64);
            if i % 3 == 0 {
                a.record(v)
            } else {
                b.record(v)
            }
            both.record(v);
        }
        a.merge(&b);
        assert_eq!(a, both);
        let mut empty = Histogram::new();
        empty.merge(&Histogram::new());
        assert_eq!(empty, Histogram::new());
    }

    #[test]
    fn min_max_record_n_and_clear() {
        let mut h = Histogram::new();
        assert_eq!(
            (h.count(), h.min(), h.max(), h.mean(), h.quantile(0.5)),
            (0, 0, 0, 0.0, 0)
        );
        h.record_n(1_000_003, 4);
        h.record(7);
        h.record_n(99, 0);
        assert_eq!((h.count(), h.min(), h.max()), (5, 7, 1_000_003));
        assert_eq!(h.quantile(0.0), 7);
        assert_eq!(h.quantile(1.0), 1_000_003);
        assert_eq!(h.mean(), (4.0 * 1_000_003.0 + 7.0) / 5.0);
        // The bucket midpoint is clamped to the exact maximum.
        assert!(h.quantile(0.5) <= 1_000_003 && h.quantile(0.5) >= 1_000_003 - 1_000_003 / 256);
        let buckets: Vec<_> = h.iter_buckets().collect();
        assert_eq!(buckets.len(), 2);
        assert_eq!(buckets[0], (7, 7, 1));
        assert!(buckets[1].0 <= 1_000_003 && 1_000_003 <= buckets[1].1 && buckets[1].2 == 4);
        h.clear();
        assert_eq!(h, Histogram::new());
    }
}
