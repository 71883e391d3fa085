//! Batch means over customers' response times, shared by every engine so they all do the same
//! statistical work per customer.

/// Number of batches.
pub const BATCHES: usize = 30;

/// Student's t quantile t(0.995, 29): two-sided 99% with 30 batches.
const T_995_29: f64 = 2.756_385_903_670_62;

/// Collects response times in departure order: skips the first `warmup`, then accumulates
/// `measured` values into `BATCHES` consecutive batches of equal size (the remainder of
/// `measured / BATCHES` goes into the last batch).
pub struct BatchMeans {
    warmup: u64,
    measured: u64,
    batch_size: u64,
    seen: u64,
    in_batch: u64,
    batch_sum: f64,
    sums: Vec<(f64, u64)>,
    total: f64,
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
    /// An accumulator for `warmup + measured` customers.
    pub fn new(warmup: u64, measured: u64) -> Self {
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
        }
    }

    /// Records the next departing customer's response time.
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
        let mean = self.total / self.measured as f64;
        let means: Vec<f64> = self.sums.iter().map(|&(s, n)| s / n as f64).collect();
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
