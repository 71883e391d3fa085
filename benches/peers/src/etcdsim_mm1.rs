//! M/M/1 on etcdsim's engine: a `Model` with a closed event enum, a FIFO of arrival times and
//! one busy flag; samples from `Dist::Exponential` on `engine::rng` streams.

use std::collections::VecDeque;
use std::time::Instant;

use etcdsim::engine::dist::Dist;
use etcdsim::engine::rng::{self, SimRng};
use etcdsim::engine::{Event, Model, Scheduler, SimTime, Simulation, StopReason};

use crate::stats::BatchMeans;
use crate::{ARRIVAL_RATE, NS_PER_UNIT, Outcome, SERVICE_RATE, STREAM_ARRIVAL, STREAM_SERVICE};

#[derive(Debug)]
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

struct Mm1 {
    interarrival: Dist,
    service: Dist,
    rng_arrival: SimRng,
    rng_service: SimRng,
    /// Arrivals still to generate.
    to_arrive: u64,
    /// Arrival times of the customers in the system, the one in service first.
    queue: VecDeque<SimTime>,
    busy: bool,
    stats: BatchMeans,
}

impl Model for Mm1 {
    type Event = Ev;

    #[inline]
    fn handle(&mut self, ev: Ev, s: &mut Scheduler<Ev>) {
        match ev {
            Ev::Arrival => {
                self.to_arrive -= 1;
                if self.to_arrive > 0 {
                    s.schedule_in(self.interarrival.sample(&mut self.rng_arrival), Ev::Arrival);
                }
                self.queue.push_back(s.now());
                if !self.busy {
                    self.busy = true;
                    s.schedule_in(self.service.sample(&mut self.rng_service), Ev::Departure);
                }
            }
            Ev::Departure => {
                let arrived = self.queue.pop_front().expect("a departure has a customer");
                self.stats
                    .push((s.now() - arrived).as_nanos() as f64 / NS_PER_UNIT);
                if self.queue.is_empty() {
                    self.busy = false;
                } else {
                    s.schedule_in(self.service.sample(&mut self.rng_service), Ev::Departure);
                }
            }
        }
    }
}

pub fn run(warmup: u64, measured: u64, seed: u64) -> Outcome {
    let us_per_unit = NS_PER_UNIT / 1_000.0;
    let model = Mm1 {
        interarrival: Dist::exponential_us(us_per_unit / ARRIVAL_RATE),
        service: Dist::exponential_us(us_per_unit / SERVICE_RATE),
        rng_arrival: rng::stream(seed, STREAM_ARRIVAL),
        rng_service: rng::stream(seed, STREAM_SERVICE),
        to_arrive: warmup + measured,
        queue: VecDeque::with_capacity(1024),
        busy: false,
        stats: BatchMeans::new(warmup, measured),
    };
    let mut sim = Simulation::new(model);
    let first = sim.model.interarrival.sample(&mut sim.model.rng_arrival);
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
