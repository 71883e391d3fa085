//! M/M/1 on a hand-written event loop: `std::collections::BinaryHeap` of `Reverse((time_ns,
//! seq))` with the event kind alongside, the same RNG streams and exponential sampler.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Instant;

use rand::Rng;
use rand_distr::Exp;
use rand_pcg::Pcg64;

use crate::stats::BatchMeans;
use crate::{ARRIVAL_RATE, NS_PER_UNIT, Outcome, SERVICE_RATE, STREAM_ARRIVAL, STREAM_SERVICE};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Arrival,
    Departure,
}

/// Rounds a sampled delay in (fractional) ns to integer ns.
#[inline]
pub(crate) fn ns(x: f64) -> u64 {
    (x + 0.5) as u64
}

/// The exponential samplers for arrivals and service (rates per ns) and their PCG-XSL-RR
/// 128/64 streams, the ones etcdsim's run with the same seed uses: what every hand-written loop
/// here draws from.
pub(crate) fn draws(seed: u64) -> (Exp<f64>, Exp<f64>, Pcg64, Pcg64) {
    (
        Exp::new(ARRIVAL_RATE / NS_PER_UNIT).expect("rate > 0"),
        Exp::new(SERVICE_RATE / NS_PER_UNIT).expect("rate > 0"),
        etcdsim::engine::rng::stream(seed, STREAM_ARRIVAL),
        etcdsim::engine::rng::stream(seed, STREAM_SERVICE),
    )
}

pub fn run(warmup: u64, measured: u64, seed: u64) -> Outcome {
    let (exp_arrival, exp_service, mut rng_arrival, mut rng_service) = draws(seed);
    let mut stats = BatchMeans::in_clock_units(warmup, measured, NS_PER_UNIT);

    // (Reverse((time, seq)), kind): the kind never decides the order since seq is unique.
    let mut heap: BinaryHeap<(Reverse<(u64, u64)>, Ev)> = BinaryHeap::with_capacity(1024);
    let mut seq = 0u64;
    let mut queue: VecDeque<u64> = VecDeque::with_capacity(1024);
    let mut busy = false;
    let mut to_arrive = warmup + measured;
    let mut events = 0u64;

    heap.push((
        Reverse((ns(rng_arrival.sample(exp_arrival)), seq)),
        Ev::Arrival,
    ));
    seq += 1;

    let t0 = Instant::now();
    while let Some((Reverse((now, _)), ev)) = heap.pop() {
        events += 1;
        match ev {
            Ev::Arrival => {
                to_arrive -= 1;
                if to_arrive > 0 {
                    let at = now + ns(rng_arrival.sample(exp_arrival));
                    heap.push((Reverse((at, seq)), Ev::Arrival));
                    seq += 1;
                }
                queue.push_back(now);
                if !busy {
                    busy = true;
                    let at = now + ns(rng_service.sample(exp_service));
                    heap.push((Reverse((at, seq)), Ev::Departure));
                    seq += 1;
                }
            }
            Ev::Departure => {
                let arrived = queue.pop_front().expect("a departure has a customer");
                stats.push_ns(now - arrived);
                if queue.is_empty() {
                    busy = false;
                } else {
                    let at = now + ns(rng_service.sample(exp_service));
                    heap.push((Reverse((at, seq)), Ev::Departure));
                    seq += 1;
                }
            }
        }
    }
    let wall = t0.elapsed().as_secs_f64();

    Outcome {
        summary: stats.finish(),
        wall,
        events,
    }
}

/// Diagnostic: the same hand-written loop over etcdsim's `EventQueue` (radix heap) instead of
/// `BinaryHeap`, with the same inline sampler: isolates the queue's cost from the rest of
/// etcdsim's `Simulation` (trace hash, run-loop checks, `Dist` dispatch).
pub fn run_radix(warmup: u64, measured: u64, seed: u64) -> Outcome {
    use etcdsim::engine::{EventQueue, SimTime};
    let (exp_arrival, exp_service, mut rng_arrival, mut rng_service) = draws(seed);
    let mut stats = BatchMeans::in_clock_units(warmup, measured, NS_PER_UNIT);
    let mut q: EventQueue<Ev> = EventQueue::with_capacity(1024);
    let mut queue: VecDeque<u64> = VecDeque::with_capacity(1024);
    let mut busy = false;
    let mut to_arrive = warmup + measured;
    let mut events = 0u64;
    q.push(SimTime(ns(rng_arrival.sample(exp_arrival))), Ev::Arrival);

    let t0 = Instant::now();
    while let Some((SimTime(now), ev)) = q.pop() {
        events += 1;
        match ev {
            Ev::Arrival => {
                to_arrive -= 1;
                if to_arrive > 0 {
                    q.push(
                        SimTime(now + ns(rng_arrival.sample(exp_arrival))),
                        Ev::Arrival,
                    );
                }
                queue.push_back(now);
                if !busy {
                    busy = true;
                    q.push(
                        SimTime(now + ns(rng_service.sample(exp_service))),
                        Ev::Departure,
                    );
                }
            }
            Ev::Departure => {
                let arrived = queue.pop_front().expect("a departure has a customer");
                stats.push_ns(now - arrived);
                if queue.is_empty() {
                    busy = false;
                } else {
                    q.push(
                        SimTime(now + ns(rng_service.sample(exp_service))),
                        Ev::Departure,
                    );
                }
            }
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    Outcome {
        summary: stats.finish(),
        wall,
        events,
    }
}
