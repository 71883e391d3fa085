//! Textbook queueing systems built on the engine: G/G/c with FIFO service, fed either by an
//! open arrival stream or by a closed population of customers with think time.
//!
//! They exist to validate the engine, the resource primitive and the statistics against
//! closed forms (M/M/1, M/M/c, M/D/1, Mean Value Analysis), and as a baseline for benchmarks.
//! They know nothing about etcd.

use crate::engine::dist::Dist;
use crate::engine::rng::{self, SimRng};
use crate::engine::{Event, Model, Sampler, Scheduler, Servers, SimDuration, SimTime, Simulation};
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
#[derive(Debug, Clone, Copy)]
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
    /// Inter-arrival times (open) or think times (closed): stream 1, one distribution.
    arrivals: Sampler,
    /// Service times: stream 2.
    service: Sampler,
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
        let d = self.service.sample();
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
                if let Source::Open { .. } = self.p.source {
                    let gap = self.arrivals.sample();
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
                if let Source::Closed { .. } = self.p.source {
                    let t = self.arrivals.sample();
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
    let between = match &p.source {
        Source::Open { interarrival } => interarrival,
        Source::Closed { think, .. } => think,
    };
    let model = QueueModel {
        p: p.clone(),
        servers: Servers::new(p.servers.max(1), SimTime::ZERO),
        arrivals: Sampler::new(between.clone(), rng::stream(seed, 1)),
        service: Sampler::new(p.service.clone(), rng::stream(seed, 2)),
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
#[derive(Clone, Copy)]
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

/// Closed forms, and the standard checks of the engine against them: each runs a queueing
/// model `reps` times (seeds 1..=reps) and returns the per-replication samples beside the exact
/// value, for a test to assert on or a report to print.
pub mod theory {
    use super::{QueueParams, Source, run};
    use crate::engine::SimDuration;
    use crate::engine::dist::Dist;

    /// Mean service time of every check: 10 µs.
    pub const S_US: f64 = 10.0;
    const S_NS: f64 = S_US * 1e3;

    /// Erlang C: with offered load a = λ/μ and c servers,
    /// C(c, a) = (aᶜ/c! · c/(c − a)) / (Σₖ₌₀^{c−1} aᵏ/k! + aᶜ/c! · c/(c − a)), the probability
    /// that an arrival waits; the mean wait is E(Wq) = C(c, a) / (cμ − λ).
    pub fn erlang_c(c: u32, a: f64) -> f64 {
        let mut term = 1.0; // a^k / k!
        let mut sum = 0.0;
        for k in 0..c {
            sum += term;
            term *= a / f64::from(k + 1);
        }
        let top = term * f64::from(c) / (f64::from(c) - a);
        top / (sum + top)
    }

    /// Exact Mean Value Analysis of N customers alternating think time Z and one FIFO
    /// exponential server of mean S: R(n) = S (1 + Q(n−1)), X(n) = n / (Z + R(n)),
    /// Q(n) = X(n) R(n). Returns (R(N), X(N)).
    pub fn mva(n: u32, s: f64, z: f64) -> (f64, f64) {
        let (mut q, mut r, mut x) = (0.0, 0.0, 0.0);
        for k in 1..=n {
            r = s * (1.0 + q);
            x = f64::from(k) / (z + r);
            q = x * r;
        }
        (r, x)
    }

    /// One quantity: what it is, its samples (one per replication) and its exact value.
    #[derive(Debug, Clone)]
    pub struct Check {
        /// What is compared.
        pub what: String,
        /// One sample per replication.
        pub samples: Vec<f64>,
        /// The closed form.
        pub exact: f64,
    }

    fn open(rate_per_service: f64, service: Dist, servers: u32, measured: u64) -> QueueParams {
        QueueParams {
            source: Source::Open {
                interarrival: Dist::exponential_us(S_US / rate_per_service),
            },
            service,
            servers,
            warmup: SimDuration::from_millis(50),
            measured,
        }
    }

    fn replicate(p: &QueueParams, reps: u64) -> Vec<super::QueueResult> {
        (1..=reps).map(|seed| run(p, seed)).collect()
    }

    /// M/M/1 at load ρ: T is exponential with rate μ − λ, so E(T) = S / (1 − ρ) and its p99
    /// is ln(100) · S / (1 − ρ).
    pub fn mm1(rho: f64, measured: u64, reps: u64) -> Vec<Check> {
        let runs = replicate(&open(rho, Dist::exponential_us(S_US), 1, measured), reps);
        vec![
            Check {
                what: format!("M/M/1 rho={rho} mean T (ns)"),
                samples: runs.iter().map(|r| r.response.mean()).collect(),
                exact: S_NS / (1.0 - rho),
            },
            Check {
                what: format!("M/M/1 rho={rho} p99 T (ns)"),
                samples: runs
                    .iter()
                    .map(|r| r.response_hist.quantile(0.99) as f64)
                    .collect(),
                exact: 100f64.ln() * S_NS / (1.0 - rho),
            },
        ]
    }

    /// M/M/c at offered load a: Erlang C's waiting probability and mean wait, and utilization.
    pub fn mmc(c: u32, a: f64, measured: u64, reps: u64) -> Vec<Check> {
        let runs = replicate(&open(a, Dist::exponential_us(S_US), c, measured), reps);
        let cw = erlang_c(c, a);
        vec![
            Check {
                what: format!("M/M/{c} P(wait)"),
                samples: runs.iter().map(|r| r.p_wait).collect(),
                exact: cw,
            },
            Check {
                what: format!("M/M/{c} mean wait (ns)"),
                samples: runs.iter().map(|r| r.wait.mean()).collect(),
                exact: cw * S_NS / (f64::from(c) - a),
            },
            Check {
                what: format!("M/M/{c} utilization"),
                samples: runs.iter().map(|r| r.utilization).collect(),
                exact: a / f64::from(c),
            },
        ]
    }

    /// M/D/1, Pollaczek–Khinchine: E(Wq) = ρ S / (2(1 − ρ)) for deterministic service.
    pub fn md1(rho: f64, measured: u64, reps: u64) -> Vec<Check> {
        let runs = replicate(&open(rho, Dist::constant_us(S_US), 1, measured), reps);
        vec![Check {
            what: format!("M/D/1 rho={rho} mean wait (ns)"),
            samples: runs.iter().map(|r| r.wait.mean()).collect(),
            exact: rho * S_NS / (2.0 * (1.0 - rho)),
        }]
    }

    /// A closed system of `n` customers with exponential think time `z_us` and one exponential
    /// server: exact MVA's response time and throughput.
    pub fn closed(n: u32, z_us: f64, measured: u64, reps: u64) -> Vec<Check> {
        let p = QueueParams {
            source: Source::Closed {
                customers: n,
                think: Dist::exponential_us(z_us),
            },
            service: Dist::exponential_us(S_US),
            servers: 1,
            warmup: SimDuration::from_millis(50),
            measured,
        };
        let runs = replicate(&p, reps);
        let (r, x) = mva(n, S_NS, z_us * 1e3);
        vec![
            Check {
                what: format!("closed N={n} mean response (ns)"),
                samples: runs.iter().map(|r| r.response.mean()).collect(),
                exact: r,
            },
            Check {
                what: format!("closed N={n} throughput (1/s)"),
                samples: runs.iter().map(|r| r.throughput_per_s).collect(),
                exact: x * 1e9,
            },
        ]
    }

    /// Every standard check, with the run lengths the test suite uses.
    pub fn standard(reps: u64) -> Vec<Check> {
        let mut v = mm1(0.5, 200_000, reps);
        v.extend(mm1(0.9, 1_500_000, reps));
        v.extend(mmc(4, 3.0, 400_000, reps));
        v.extend(md1(0.8, 400_000, reps));
        v.extend(closed(10, 50.0, 300_000, reps));
        v
    }
}
