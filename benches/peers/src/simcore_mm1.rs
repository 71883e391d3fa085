//! M/M/1 on SimCore (DSLab's engine): one component implementing `EventHandler`, driven by
//! events it emits to itself with exponential delays. Time is SimCore's f64 in model units;
//! randomness comes from the simulation-wide generator (`ctx.sample_from_distribution`),
//! which SimCore seeds itself (a Pcg64 too, but not the same stream as the other engines).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Instant;

use rand_distr_04::Exp;
use serde::Serialize;
use simcore::{Event, EventHandler, Simulation, SimulationContext, cast};

use crate::stats::BatchMeans;
use crate::{ARRIVAL_RATE, Outcome, SERVICE_RATE};

#[derive(Clone, Serialize)]
struct Arrival {}

#[derive(Clone, Serialize)]
struct Departure {}

struct Mm1 {
    ctx: SimulationContext,
    interarrival: Exp<f64>,
    service: Exp<f64>,
    to_arrive: u64,
    /// Arrival times of the customers in the system, the one in service first.
    queue: VecDeque<f64>,
    busy: bool,
    stats: Option<BatchMeans>,
}

impl Mm1 {
    fn on_arrival(&mut self) {
        self.to_arrive -= 1;
        if self.to_arrive > 0 {
            let d = self.ctx.sample_from_distribution(&self.interarrival);
            self.ctx.emit_self(Arrival {}, d);
        }
        self.queue.push_back(self.ctx.time());
        if !self.busy {
            self.busy = true;
            let d = self.ctx.sample_from_distribution(&self.service);
            self.ctx.emit_self(Departure {}, d);
        }
    }

    fn on_departure(&mut self) {
        let arrived = self.queue.pop_front().expect("a departure has a customer");
        let r = self.ctx.time() - arrived;
        if let Some(s) = self.stats.as_mut() {
            s.push(r);
        }
        if self.queue.is_empty() {
            self.busy = false;
        } else {
            let d = self.ctx.sample_from_distribution(&self.service);
            self.ctx.emit_self(Departure {}, d);
        }
    }
}

impl EventHandler for Mm1 {
    fn on(&mut self, event: Event) {
        cast!(match event.data {
            Arrival {} => {
                self.on_arrival()
            }
            Departure {} => {
                self.on_departure()
            }
        })
    }
}

pub fn run(warmup: u64, measured: u64, seed: u64) -> Outcome {
    let mut sim = Simulation::new(seed);
    let ctx = sim.create_context("mm1");
    let mm1 = Rc::new(RefCell::new(Mm1 {
        ctx,
        interarrival: Exp::new(ARRIVAL_RATE).expect("rate > 0"),
        service: Exp::new(SERVICE_RATE).expect("rate > 0"),
        to_arrive: warmup + measured,
        queue: VecDeque::with_capacity(1024),
        busy: false,
        stats: Some(BatchMeans::new(warmup, measured)),
    }));
    sim.add_handler("mm1", mm1.clone());
    {
        let m = mm1.borrow();
        let d = m.ctx.sample_from_distribution(&m.interarrival);
        m.ctx.emit_self(Arrival {}, d);
    }

    let t0 = Instant::now();
    sim.step_until_no_events();
    let wall = t0.elapsed().as_secs_f64();

    let events = sim.event_count();
    let stats = mm1.borrow_mut().stats.take().expect("stats taken once");
    Outcome {
        summary: stats.finish(),
        wall,
        events,
    }
}
