//! M/M/1 on NeXosim, single-threaded executor: a `Generator` model self-schedules arrivals and
//! sends each one on an output port to a `Server` model, which keeps the FIFO of arrival times
//! and self-schedules departures. The server answers a query with its statistics at the end.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use nexosim::model::{Context, Model, schedulable};
use nexosim::ports::{Output, QuerySource};
use nexosim::simulation::{Mailbox, SimInit};
use nexosim::time::MonotonicTime;
use rand::Rng;
use rand_distr::Exp;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use crate::stats::{BatchMeans, Summary};
use crate::{ARRIVAL_RATE, NS_PER_UNIT, Outcome, SERVICE_RATE, STREAM_ARRIVAL, STREAM_SERVICE};

/// A sampled delay in (fractional) ns as a `Duration`. NeXosim refuses events scheduled at the
/// current time, so a draw that rounds to 0 ns (probability ~5e-7) becomes 1 ns.
#[inline]
fn delay(x_ns: f64) -> Duration {
    Duration::from_nanos(((x_ns + 0.5) as u64).max(1))
}

/// Poisson source of customers.
#[derive(Serialize, Deserialize)]
pub struct Generator {
    /// Each customer's arrival time.
    pub arrival: Output<MonotonicTime>,
    rng: Pcg64,
    exp: Exp<f64>,
    to_arrive: u64,
}

#[Model]
impl Generator {
    #[nexosim(init)]
    async fn init(&mut self, cx: &Context<Self>) {
        let d = delay(self.rng.sample(self.exp));
        cx.schedule_event(d, schedulable!(Self::arrive), ())
            .unwrap();
    }

    #[nexosim(schedulable)]
    async fn arrive(&mut self, _: (), cx: &Context<Self>) {
        self.to_arrive -= 1;
        if self.to_arrive > 0 {
            let d = delay(self.rng.sample(self.exp));
            cx.schedule_event(d, schedulable!(Self::arrive), ())
                .unwrap();
        }
        self.arrival.send(cx.time()).await;
    }
}

/// One FIFO server.
#[derive(Serialize, Deserialize)]
pub struct Server {
    rng: Pcg64,
    exp: Exp<f64>,
    queue: VecDeque<MonotonicTime>,
    busy: bool,
    #[serde(skip)]
    stats: Option<BatchMeans>,
}

#[Model]
impl Server {
    /// A customer arrives (input port).
    pub fn arrive(&mut self, at: MonotonicTime, cx: &Context<Self>) {
        self.queue.push_back(at);
        if !self.busy {
            self.busy = true;
            let d = delay(self.rng.sample(self.exp));
            cx.schedule_event(d, schedulable!(Self::depart), ())
                .unwrap();
        }
    }

    /// The customer in service leaves.
    #[nexosim(schedulable)]
    fn depart(&mut self, _: (), cx: &Context<Self>) {
        let arrived = self.queue.pop_front().expect("a departure has a customer");
        let r = cx.time().duration_since(arrived);
        if let Some(s) = self.stats.as_mut() {
            s.push_ns(r.as_nanos() as u64);
        }
        if self.queue.is_empty() {
            self.busy = false;
        } else {
            let d = delay(self.rng.sample(self.exp));
            cx.schedule_event(d, schedulable!(Self::depart), ())
                .unwrap();
        }
    }

    /// The statistics so far (replier port), taken once at the end.
    pub async fn summary(&mut self, _: ()) -> Summary {
        self.stats.take().expect("summary asked once").finish()
    }
}

pub fn run(warmup: u64, measured: u64, seed: u64) -> Outcome {
    let mut generator = Generator {
        arrival: Output::default(),
        rng: etcdsim::engine::rng::stream(seed, STREAM_ARRIVAL),
        exp: Exp::new(ARRIVAL_RATE / NS_PER_UNIT).expect("rate > 0"),
        to_arrive: warmup + measured,
    };
    let server = Server {
        rng: etcdsim::engine::rng::stream(seed, STREAM_SERVICE),
        exp: Exp::new(SERVICE_RATE / NS_PER_UNIT).expect("rate > 0"),
        queue: VecDeque::with_capacity(1024),
        busy: false,
        stats: Some(BatchMeans::in_clock_units(warmup, measured, NS_PER_UNIT)),
    };
    let gen_mbox = Mailbox::new();
    let server_mbox = Mailbox::new();
    generator.arrival.connect(Server::arrive, &server_mbox);

    let mut bench = SimInit::with_num_threads(1);
    let summary_query = QuerySource::new()
        .connect(Server::summary, &server_mbox)
        .register(&mut bench);
    let mut simu = bench
        .add_model(generator, gen_mbox, "generator")
        .add_model(server, server_mbox, "server")
        .init(MonotonicTime::EPOCH)
        .expect("bench builds");

    let t0 = Instant::now();
    simu.run().expect("simulation runs");
    let wall = t0.elapsed().as_secs_f64();

    let summary = simu
        .process_query(&summary_query, ())
        .expect("query answered");
    Outcome {
        summary,
        wall,
        // Each customer is one arrival and one departure event.
        events: 2 * (warmup + measured),
    }
}

/// The whole queue as one model with two self-scheduled inputs (no port between a source and
/// the server): the closest NeXosim form to the other engines' single-model versions.
#[derive(Serialize, Deserialize)]
pub struct Mm1 {
    rng_arrival: Pcg64,
    rng_service: Pcg64,
    exp_arrival: Exp<f64>,
    exp_service: Exp<f64>,
    to_arrive: u64,
    queue: VecDeque<MonotonicTime>,
    busy: bool,
    #[serde(skip)]
    stats: Option<BatchMeans>,
}

#[Model]
impl Mm1 {
    #[nexosim(init)]
    async fn init(&mut self, cx: &Context<Self>) {
        let d = delay(self.rng_arrival.sample(self.exp_arrival));
        cx.schedule_event(d, schedulable!(Self::arrive), ())
            .unwrap();
    }

    #[nexosim(schedulable)]
    fn arrive(&mut self, _: (), cx: &Context<Self>) {
        self.to_arrive -= 1;
        if self.to_arrive > 0 {
            let d = delay(self.rng_arrival.sample(self.exp_arrival));
            cx.schedule_event(d, schedulable!(Self::arrive), ())
                .unwrap();
        }
        self.queue.push_back(cx.time());
        if !self.busy {
            self.busy = true;
            let d = delay(self.rng_service.sample(self.exp_service));
            cx.schedule_event(d, schedulable!(Self::depart), ())
                .unwrap();
        }
    }

    #[nexosim(schedulable)]
    fn depart(&mut self, _: (), cx: &Context<Self>) {
        let arrived = self.queue.pop_front().expect("a departure has a customer");
        let r = cx.time().duration_since(arrived);
        if let Some(s) = self.stats.as_mut() {
            s.push_ns(r.as_nanos() as u64);
        }
        if self.queue.is_empty() {
            self.busy = false;
        } else {
            let d = delay(self.rng_service.sample(self.exp_service));
            cx.schedule_event(d, schedulable!(Self::depart), ())
                .unwrap();
        }
    }

    /// The statistics (replier port), taken once at the end.
    pub async fn summary(&mut self, _: ()) -> Summary {
        self.stats.take().expect("summary asked once").finish()
    }
}

pub fn run_single_model(warmup: u64, measured: u64, seed: u64) -> Outcome {
    let model = Mm1 {
        rng_arrival: etcdsim::engine::rng::stream(seed, STREAM_ARRIVAL),
        rng_service: etcdsim::engine::rng::stream(seed, STREAM_SERVICE),
        exp_arrival: Exp::new(ARRIVAL_RATE / NS_PER_UNIT).expect("rate > 0"),
        exp_service: Exp::new(SERVICE_RATE / NS_PER_UNIT).expect("rate > 0"),
        to_arrive: warmup + measured,
        queue: VecDeque::with_capacity(1024),
        busy: false,
        stats: Some(BatchMeans::in_clock_units(warmup, measured, NS_PER_UNIT)),
    };
    let mbox = Mailbox::new();
    let mut bench = SimInit::with_num_threads(1);
    let summary_query = QuerySource::new()
        .connect(Mm1::summary, &mbox)
        .register(&mut bench);
    let mut simu = bench
        .add_model(model, mbox, "mm1")
        .init(MonotonicTime::EPOCH)
        .expect("bench builds");

    let t0 = Instant::now();
    simu.run().expect("simulation runs");
    let wall = t0.elapsed().as_secs_f64();

    let summary = simu
        .process_query(&summary_query, ())
        .expect("query answered");
    Outcome {
        summary,
        wall,
        events: 2 * (warmup + measured),
    }
}
