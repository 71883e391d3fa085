//! Diagnostic floor: the same customers by Lindley's recursion, with no event list at all.
//! Customer n waits W(n) = max(0, W(n−1) + S(n−1) − A(n)) and responds in W(n) + S(n). The
//! arrival and service streams are drawn in the same order as the event engines draw them, so
//! the response times are the same; what is left is the cost of the sampling, the rounding and
//! the statistics, which every engine pays too.

use std::time::Instant;

use rand::Rng;

use crate::heap_mm1::{draws, ns};
use crate::stats::BatchMeans;
use crate::{NS_PER_UNIT, Outcome};

pub fn run(warmup: u64, measured: u64, seed: u64) -> Outcome {
    let (exp_arrival, exp_service, mut rng_arrival, mut rng_service) = draws(seed);
    let mut stats = BatchMeans::in_clock_units(warmup, measured, NS_PER_UNIT);
    let t0 = Instant::now();
    // The first customer arrives to an empty system.
    let _first_arrival = ns(rng_arrival.sample(exp_arrival));
    let mut wait = 0u64;
    for n in 0..warmup + measured {
        let service = ns(rng_service.sample(exp_service));
        stats.push_ns(wait + service);
        if n + 1 < warmup + measured {
            let gap = ns(rng_arrival.sample(exp_arrival));
            wait = (wait + service).saturating_sub(gap);
        }
    }
    Outcome {
        summary: stats.finish(),
        wall: t0.elapsed().as_secs_f64(),
        events: 0,
    }
}
