//! The hold model on its own, for profilers: `cargo run --release --example hold -- 1000 20000000`
//! (pending events, events to run). Prints events per second of wall time.

use etcdsim::engine::SimTime;
use etcdsim::queueing::hold_model;

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let pending = args.first().copied().unwrap_or(1000);
    let events = args.get(1).copied().unwrap_or(20_000_000);
    let mut sim = hold_model(pending as usize, 1000.0, 1);
    let t0 = std::time::Instant::now();
    sim.run_until(SimTime::MAX, events);
    let s = t0.elapsed().as_secs_f64();
    println!(
        "{pending} pending: {:.2} M events/s (trace {:x})",
        events as f64 / s / 1e6,
        sim.trace_hash()
    );
}
