//! Diagnostic floor: the same customers by Lindley's recursion, with no event list at all.
//! Customer n waits W(n) = max(0, W(n−1) + S(n−1) − A(n)) and responds in W(n) + S(n). The
//! arrival and service streams are drawn in the same order as the event engines draw them, so
//! the response times are the same; what is left is the cost of the sampling, the rounding and
//! the statistics, which every engine pays too.

use std::time::Instant;

use rand::Rng;
use rand_distr::Exp;
use rand_pcg::Pcg64;

use crate::stats::BatchMeans;
use crate::{ARRIVAL_RATE, NS_PER_UNIT, Outcome, SERVICE_RATE, STREAM_ARRIVAL, STREAM_SERVICE};

#[inline]
fn ns(x: f64) -> u64 {
    (x + 0.5) as u64
}

pub fn run(warmup: u64, measured: u64, seed: u64) -> Outcome {
    let exp_arrival = Exp::new(ARRIVAL_RATE / NS_PER_UNIT).expect("rate > 0");
    let exp_service = Exp::new(SERVICE_RATE / NS_PER_UNIT).expect("rate > 0");
    let mut rng_arrival: Pcg64 = etcdsim::engine::rng::stream(seed, STREAM_ARRIVAL);
    let mut rng_service: Pcg64 = etcdsim::engine::rng::stream(seed, STREAM_SERVICE);
    let mut stats = BatchMeans::new(warmup, measured);
    let t0 = Instant::now();
    // The first customer arrives to an empty system.
    let _first_arrival = ns(rng_arrival.sample(exp_arrival));
    let mut wait = 0u64;
    for n in 0..warmup + measured {
        let service = ns(rng_service.sample(exp_service));
        stats.push((wait + service) as f64 / NS_PER_UNIT);
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
