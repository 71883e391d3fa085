//! Batch means over customers' response times, shared by every engine so they all do the same
//! statistical work per customer.

/// Number of batches.
pub const BATCHES: usize = 30;

/// Student's t quantile t(0.995, 29): two-sided 99% with 30 batches.
const T_995_29: f64 = 2.756_385_903_670_62;

/// Collects response times in departure order: skips the first `warmup`, then accumulates
/// `measured` values into `BATCHES` consecutive batches of equal size (the remainder of
/// `measured / BATCHES` goes into the last batch).
///
/// Values are summed in the engine's own clock unit (nanoseconds for the integer-clock engines,
/// model units for SimCore and SimPy) and converted to model units once, in `finish`, so no
/// engine pays a division per customer that another does not.
pub struct BatchMeans {
    warmup: u64,
    measured: u64,
    batch_size: u64,
    seen: u64,
    in_batch: u64,
    batch_sum: f64,
    sums: Vec<(f64, u64)>,
    total: f64,
    /// Clock units per model time unit.
    per_unit: f64,
}

/// The summary of one run.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Customers measured (after warm-up).
    pub measured: u64,
    /// Mean response time in model time units.
    pub mean: f64,
    /// Half-width of the 99% confidence interval for the mean (batch means, t with 29 df).
    pub ci99: f64,
}

impl BatchMeans {
    /// An accumulator for `warmup + measured` customers whose response times are given in model
    /// time units.
    pub fn new(warmup: u64, measured: u64) -> Self {
        Self::in_clock_units(warmup, measured, 1.0)
    }

    /// An accumulator for response times given in a clock unit, `per_unit` of which make one
    /// model time unit.
    pub fn in_clock_units(warmup: u64, measured: u64, per_unit: f64) -> Self {
        assert!(
            measured >= BATCHES as u64,
            "need at least {BATCHES} measured customers"
        );
        BatchMeans {
            warmup,
            measured,
            batch_size: measured / BATCHES as u64,
            seen: 0,
            in_batch: 0,
            batch_sum: 0.0,
            sums: Vec::with_capacity(BATCHES),
            total: 0.0,
            per_unit,
        }
    }

    /// Records the next departing customer's response time in nanoseconds (for the accumulators
    /// made with [`BatchMeans::in_clock_units`] and `NS_PER_UNIT`). Response times are far below
    /// 2^63 ns, so the conversion goes through `i64`, one instruction on x86-64.
    #[inline]
    pub fn push_ns(&mut self, ns: u64) {
        self.push(ns as i64 as f64);
    }

    /// Records the next departing customer's response time, in the accumulator's clock unit.
    #[inline]
    pub fn push(&mut self, response: f64) {
        self.seen += 1;
        if self.seen <= self.warmup {
            return;
        }
        self.batch_sum += response;
        self.in_batch += 1;
        // The last batch takes the remainder.
        if self.in_batch == self.batch_size && self.sums.len() < BATCHES - 1 {
            self.flush();
        }
    }

    #[cold]
    fn flush(&mut self) {
        self.sums.push((self.batch_sum, self.in_batch));
        self.total += self.batch_sum;
        self.batch_sum = 0.0;
        self.in_batch = 0;
    }

    /// The mean and its 99% CI half-width. Panics if fewer customers than planned were seen.
    pub fn finish(mut self) -> Summary {
        assert_eq!(
            self.seen,
            self.warmup + self.measured,
            "run ended with {} customers, expected {}",
            self.seen,
            self.warmup + self.measured
        );
        self.flush();
        assert_eq!(self.sums.len(), BATCHES);
        let mean = self.total / self.measured as f64 / self.per_unit;
        let means: Vec<f64> = self
            .sums
            .iter()
            .map(|&(s, n)| s / n as f64 / self.per_unit)
            .collect();
        let grand = means.iter().sum::<f64>() / BATCHES as f64;
        let var = means.iter().map(|m| (m - grand).powi(2)).sum::<f64>() / (BATCHES - 1) as f64;
        let ci99 = T_995_29 * (var / BATCHES as f64).sqrt();
        Summary {
            measured: self.measured,
            mean,
            ci99,
        }
    }
}
