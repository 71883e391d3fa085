//! Textbook queueing systems built on the engine: G/G/c with FIFO service, fed either by an
//! open arrival stream or by a closed population of customers with think time.
//!
//! They exist to validate the engine, the resource primitive and the statistics against
//! closed forms (M/M/1, M/M/c, M/D/1, Mean Value Analysis), and as a baseline for benchmarks.
//! They know nothing about etcd.

use crate::engine::dist::Dist;
use crate::engine::rng::{self, SimRng};
use crate::engine::{Event, Model, Scheduler, Servers, SimDuration, SimTime, Simulation};
use crate::stats::{Histogram, Welford};

/// Where customers come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// An open stream: inter-arrival times drawn from a distribution.
    Open {
        /// Time between arrivals.
        interarrival: Dist,
    },
    /// A closed population: each customer thinks, then queues, then thinks again.
    Closed {
        /// Number of customers.
        customers: u32,
        /// Think time between a departure and the next arrival of the same customer.
        think: Dist,
    },
}

/// Parameters of one queueing run.
#[derive(Debug, Clone)]
pub struct QueueParams {
    /// Where customers come from.
    pub source: Source,
    /// Service time.
    pub service: Dist,
    /// Number of identical servers.
    pub servers: u32,
    /// Customers that arrive before this time are not measured.
    pub warmup: SimDuration,
    /// The run stops after this many measured departures.
    pub measured: u64,
}

/// What one queueing run measured (times in nanoseconds).
#[derive(Debug, Clone)]
pub struct QueueResult {
    /// Response time (wait + service) of measured customers.
    pub response: Welford,
    /// Response-time distribution of measured customers.
    pub response_hist: Histogram,
    /// Waiting time of measured customers.
    pub wait: Welford,
    /// Fraction of measured customers who waited at all.
    pub p_wait: f64,
    /// Measured departures per second of virtual time.
    pub throughput_per_s: f64,
    /// Mean fraction of servers busy after warm-up.
    pub utilization: f64,
    /// Trace hash of the run.
    pub trace_hash: u64,
    /// Events processed.
    pub events: u64,
}

#[derive(Debug, Clone, Copy)]
/// A customer: its id and arrival time.
pub struct Customer {
    id: u32,
    arrived: SimTime,
}

/// The events of a queueing run.
#[derive(Debug)]
pub enum QueueEvent {
    /// An open-stream arrival is due.
    Arrival,
    /// Customer `id` of a closed population finishes thinking.
    ThinkDone(u32),
    /// A customer leaves its server.
    Departure(Customer),
    /// Warm-up ends: utilization history is discarded.
    WarmupEnd,
}

impl Event for QueueEvent {
    fn kind(&self) -> u32 {
        match self {
            QueueEvent::Arrival => 0,
            QueueEvent::ThinkDone(_) => 1,
            QueueEvent::Departure(_) => 2,
            QueueEvent::WarmupEnd => 3,
        }
    }
}

/// A G/G/c FIFO queue as an engine model.
pub struct QueueModel {
    p: QueueParams,
    servers: Servers<Customer>,
    rng_arrival: SimRng,
    rng_service: SimRng,
    warmup_end: SimTime,
    next_id: u32,
    response: Welford,
    response_hist: Histogram,
    wait: Welford,
    waited: u64,
    measured: u64,
    first_measured_departure: Option<SimTime>,
}

impl QueueModel {
    fn measured(&self, c: &Customer) -> bool {
        c.arrived >= self.warmup_end
    }

    fn start_service(&mut self, c: Customer, waited: SimDuration, s: &mut Scheduler<QueueEvent>) {
        if self.measured(&c) {
            self.wait.push(waited.0 as f64);
            if waited.0 > 0 {
                self.waited += 1;
            }
        }
        let d = self.p.service.sample(&mut self.rng_service);
        s.schedule_in(d, QueueEvent::Departure(c));
    }

    fn arrive(&mut self, id: u32, s: &mut Scheduler<QueueEvent>) {
        let c = Customer {
            id,
            arrived: s.now(),
        };
        if let Some(c) = self.servers.acquire(s.now(), c) {
            self.start_service(c, SimDuration::ZERO, s);
        }
    }
}

impl Model for QueueModel {
    type Event = QueueEvent;

    fn handle(&mut self, ev: QueueEvent, s: &mut Scheduler<QueueEvent>) {
        match ev {
            QueueEvent::Arrival => {
                if let Source::Open { interarrival } = &self.p.source {
                    let gap = interarrival.sample(&mut self.rng_arrival);
                    s.schedule_in(gap, QueueEvent::Arrival);
                }
                let id = self.next_id;
                self.next_id = self.next_id.wrapping_add(1);
                self.arrive(id, s);
            }
            QueueEvent::ThinkDone(id) => self.arrive(id, s),
            QueueEvent::WarmupEnd => self.servers.reset_stats(s.now()),
            QueueEvent::Departure(c) => {
                if let Some((next, waited)) = self.servers.release(s.now()) {
                    self.start_service(next, waited, s);
                }
                if let Source::Closed { think, .. } = &self.p.source {
                    let t = think.sample(&mut self.rng_arrival);
                    s.schedule_in(t, QueueEvent::ThinkDone(c.id));
                }
                if self.measured(&c) {
                    let r = s.now() - c.arrived;
                    self.response.push(r.0 as f64);
                    self.response_hist.record(r.0);
                    self.measured += 1;
                    self.first_measured_departure.get_or_insert(s.now());
                    if self.measured >= self.p.measured {
                        s.stop();
                    }
                }
            }
        }
    }
}

/// Runs one queueing system with `seed` and returns what it measured.
pub fn run(p: &QueueParams, seed: u64) -> QueueResult {
    let model = QueueModel {
        p: p.clone(),
        servers: Servers::new(p.servers.max(1), SimTime::ZERO),
        rng_arrival: rng::stream(seed, 1),
        rng_service: rng::stream(seed, 2),
        warmup_end: SimTime::ZERO + p.warmup,
        next_id: 0,
        response: Welford::new(),
        response_hist: Histogram::new(),
        wait: Welford::new(),
        waited: 0,
        measured: 0,
        first_measured_departure: None,
    };
    let mut sim = Simulation::new(model);
    sim.schedule_at(SimTime::ZERO + p.warmup, QueueEvent::WarmupEnd);
    match &p.source {
        Source::Open { .. } => sim.schedule_at(SimTime::ZERO, QueueEvent::Arrival),
        Source::Closed { customers, think } => {
            // Customers start thinking at time zero, so the population enters staggered.
            let mut r = rng::stream(seed, 3);
            for id in 0..*customers {
                let t = think.sample(&mut r);
                sim.schedule_at(SimTime::ZERO + t, QueueEvent::ThinkDone(id));
            }
        }
    }
    sim.run_until(SimTime::MAX, u64::MAX);
    let now = sim.now();
    let m = &sim.model;
    let span = m
        .first_measured_departure
        .map_or(0.0, |t0| now.since(t0).as_secs_f64());
    QueueResult {
        response: m.response,
        response_hist: m.response_hist.clone(),
        wait: m.wait,
        p_wait: m.waited as f64 / m.wait.count().max(1) as f64,
        throughput_per_s: if span > 0.0 {
            (m.measured.saturating_sub(1)) as f64 / span
        } else {
            0.0
        },
        utilization: m.servers.utilization(now),
        trace_hash: sim.trace_hash(),
        events: sim.events_processed(),
    }
}

/// The classic hold model, for benchmarks and profiling: each event schedules one more at an
/// exponential offset (mean `mean_ns`), so the number of pending events stays constant.
pub struct HoldModel {
    rng: SimRng,
    mean_ns: f64,
}

/// The hold model's only event.
pub struct Tick;

impl Event for Tick {
    fn kind(&self) -> u32 {
        0
    }
}

impl Model for HoldModel {
    type Event = Tick;
    #[inline]
    fn handle(&mut self, _: Tick, s: &mut Scheduler<Tick>) {
        let x: f64 = rand::Rng::sample(&mut self.rng, rand_distr::Exp1);
        s.schedule_in(SimDuration::from_nanos_f64(x * self.mean_ns), Tick);
    }
}

/// A hold-model simulation with `pending` events scheduled at exponential offsets.
pub fn hold_model(pending: usize, mean_ns: f64, seed: u64) -> Simulation<HoldModel> {
    let mut sim = Simulation::new(HoldModel {
        rng: rng::stream(seed, 0),
        mean_ns,
    });
    let mut r = rng::stream(seed, 1);
    for _ in 0..pending {
        let x: f64 = rand::Rng::sample(&mut r, rand_distr::Exp1);
        sim.schedule_at(
            SimTime::ZERO + SimDuration::from_nanos_f64(x * mean_ns),
            Tick,
        );
    }
    sim
}
