//! M/M/1 on etcdsim's engine: a `Model` with a closed event enum, a FIFO of arrival times and
//! one busy flag; samples from `Dist::Exponential` on `engine::rng` streams.
//!
//! `run` is the idiomatic form: each stream serves one distribution, so it is an
//! `engine::Sampler`, which keeps its next draw ready. `run_on_demand` (the `etcdsim-ondemand`
//! diagnostic) draws each delay when it is scheduled, as the other engines' forms do. Both give
//! the same draws in the same order, hence the same response times.

use std::collections::VecDeque;
use std::time::Instant;

use etcdsim::engine::dist::Dist;
use etcdsim::engine::rng::{self, SimRng};
use etcdsim::engine::{
    Event, Model, Sampler, Scheduler, SimDuration, SimTime, Simulation, StopReason,
};

use crate::stats::BatchMeans;
use crate::{ARRIVAL_RATE, NS_PER_UNIT, Outcome, SERVICE_RATE, STREAM_ARRIVAL, STREAM_SERVICE};

#[derive(Debug, Clone, Copy)]
enum Ev {
    Arrival,
    Departure,
}

impl Event for Ev {
    #[inline]
    fn kind(&self) -> u32 {
        match self {
            Ev::Arrival => 0,
            Ev::Departure => 1,
        }
    }
}

/// Where a delay comes from: a sampler drawing ahead, or a distribution and its stream.
trait Delays {
    fn next(&mut self) -> SimDuration;
}

impl Delays for Sampler {
    #[inline(always)]
    fn next(&mut self) -> SimDuration {
        self.sample()
    }
}

/// A distribution drawn on demand from its stream.
struct OnDemand(Dist, SimRng);

impl Delays for OnDemand {
    #[inline(always)]
    fn next(&mut self) -> SimDuration {
        self.0.sample(&mut self.1)
    }
}

struct Mm1<D> {
    interarrival: D,
    service: D,
    /// Arrivals still to generate.
    to_arrive: u64,
    /// Arrival times of the customers in the system, the one in service first.
    queue: VecDeque<SimTime>,
    busy: bool,
    stats: BatchMeans,
}

impl<D: Delays> Model for Mm1<D> {
    type Event = Ev;

    #[inline]
    fn handle(&mut self, ev: Ev, s: &mut Scheduler<Ev>) {
        match ev {
            Ev::Arrival => {
                self.to_arrive -= 1;
                if self.to_arrive > 0 {
                    s.schedule_in(self.interarrival.next(), Ev::Arrival);
                }
                self.queue.push_back(s.now());
                if !self.busy {
                    self.busy = true;
                    s.schedule_in(self.service.next(), Ev::Departure);
                }
            }
            Ev::Departure => {
                let arrived = self.queue.pop_front().expect("a departure has a customer");
                self.stats.push_ns((s.now() - arrived).as_nanos());
                if self.queue.is_empty() {
                    self.busy = false;
                } else {
                    s.schedule_in(self.service.next(), Ev::Departure);
                }
            }
        }
    }
}

/// The idiomatic form, with samplers.
pub fn run(warmup: u64, measured: u64, seed: u64) -> Outcome {
    let (interarrival, service, rng_arrival, rng_service) = streams(seed);
    simulate(
        Sampler::new(interarrival, rng_arrival),
        Sampler::new(service, rng_service),
        warmup,
        measured,
    )
}

/// The same model drawing each delay when it is scheduled.
pub fn run_on_demand(warmup: u64, measured: u64, seed: u64) -> Outcome {
    let (interarrival, service, rng_arrival, rng_service) = streams(seed);
    simulate(
        OnDemand(interarrival, rng_arrival),
        OnDemand(service, rng_service),
        warmup,
        measured,
    )
}

fn streams(seed: u64) -> (Dist, Dist, SimRng, SimRng) {
    let us_per_unit = NS_PER_UNIT / 1_000.0;
    (
        Dist::exponential_us(us_per_unit / ARRIVAL_RATE),
        Dist::exponential_us(us_per_unit / SERVICE_RATE),
        rng::stream(seed, STREAM_ARRIVAL),
        rng::stream(seed, STREAM_SERVICE),
    )
}

fn simulate<D: Delays>(mut interarrival: D, service: D, warmup: u64, measured: u64) -> Outcome {
    // The first customer arrives at the first inter-arrival time.
    let first = interarrival.next();
    let model = Mm1 {
        interarrival,
        service,
        to_arrive: warmup + measured,
        queue: VecDeque::with_capacity(1024),
        busy: false,
        stats: BatchMeans::in_clock_units(warmup, measured, NS_PER_UNIT),
    };
    let mut sim = Simulation::new(model);
    sim.schedule_at(SimTime::ZERO + first, Ev::Arrival);

    let t0 = Instant::now();
    let why = sim.run_until(SimTime::MAX, u64::MAX);
    let wall = t0.elapsed().as_secs_f64();

    assert_eq!(why, StopReason::Exhausted);
    let events = sim.events_processed();
    Outcome {
        summary: sim.model.stats.finish(),
        wall,
        events,
    }
}
