//! The hold model on its own, for profilers: `cargo run --release --example hold -- 1000 20000000`
//! (pending events, events to run). Prints events per second of wall time.

use rand::Rng;
use rand_distr::Exp1;

use etcdsim::engine::rng::{self, SimRng};
use etcdsim::engine::{Event, Model, Scheduler, SimDuration, SimTime, Simulation};

struct Hold {
    rng: SimRng,
}
struct Tick;
impl Event for Tick {
    fn kind(&self) -> u32 {
        0
    }
}
impl Model for Hold {
    type Event = Tick;
    fn handle(&mut self, _: Tick, s: &mut Scheduler<Tick>) {
        let x: f64 = self.rng.sample(Exp1);
        s.schedule_in(SimDuration::from_nanos_f64(x * 1000.0), Tick);
    }
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let pending = args.first().copied().unwrap_or(1000);
    let events = args.get(1).copied().unwrap_or(20_000_000);
    let mut sim = Simulation::new(Hold {
        rng: rng::stream(1, 0),
    });
    let mut r = rng::stream(1, 1);
    for _ in 0..pending {
        let x: f64 = r.sample(Exp1);
        sim.schedule_at(SimTime(0) + SimDuration::from_nanos_f64(x * 1000.0), Tick);
    }
    let t0 = std::time::Instant::now();
    sim.run_until(SimTime::MAX, events);
    let s = t0.elapsed().as_secs_f64();
    println!(
        "{pending} pending: {:.2} M events/s (trace {:x})",
        events as f64 / s / 1e6,
        sim.trace_hash()
    );
}
