//! `peers ENGINE [customers] [seed] [warmup]`: one M/M/1 run (λ = 0.9, μ = 1.0, FIFO, one
//! server) on the named engine, printed as one line of `key=value` fields.
//!
//! Engines: `etcdsim`, `heap` (std BinaryHeap loop), `nexosim` (generator and server models
//! joined by a port), `nexosim1` (one NeXosim model), `simcore`; and, as diagnostics,
//! `etcdsim-ondemand` (etcdsim's model drawing each delay when it is scheduled), `radix`
//! (the `heap` loop over etcdsim's `EventQueue` instead of `BinaryHeap`) and `lindley` (the same
//! customers by Lindley's recursion, with no event list: the floor of the per-customer work).

mod etcdsim_mm1;
mod heap_mm1;
mod lindley_mm1;
mod nexosim_mm1;
mod simcore_mm1;
mod stats;

use std::process::ExitCode;

/// Arrival rate λ per model time unit.
pub const ARRIVAL_RATE: f64 = 0.9;
/// Service rate μ per model time unit.
pub const SERVICE_RATE: f64 = 1.0;
/// Nanoseconds per model time unit, for the engines with integer-ns clocks: large enough that
/// rounding each sampled delay to a nanosecond is negligible (relative error ~1e-6).
pub const NS_PER_UNIT: f64 = 1_000_000.0;
/// `etcdsim::engine::rng::stream` numbers for arrivals and service.
pub const STREAM_ARRIVAL: u64 = 1;
pub const STREAM_SERVICE: u64 = 2;

const DEFAULT_CUSTOMERS: u64 = 1_000_000;
const DEFAULT_WARMUP: u64 = 10_000;

/// What one run measured.
pub struct Outcome {
    pub summary: stats::Summary,
    /// Seconds of wall time spent in the simulation loop alone.
    pub wall: f64,
    /// Events processed (or created, for SimCore; the same here since none is cancelled).
    pub events: u64,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: peers etcdsim|etcdsim-ondemand|heap|nexosim|nexosim1|simcore|radix|lindley [customers={DEFAULT_CUSTOMERS}] [seed=1] [warmup={DEFAULT_WARMUP}]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(engine) = args.first() else {
        return usage();
    };
    let num = |i: usize, default: u64| -> Option<u64> {
        match args.get(i) {
            None => Some(default),
            Some(s) => s.replace('_', "").parse().ok(),
        }
    };
    let (Some(measured), Some(seed), Some(warmup)) =
        (num(1, DEFAULT_CUSTOMERS), num(2, 1), num(3, DEFAULT_WARMUP))
    else {
        return usage();
    };
    let run = match engine.as_str() {
        "etcdsim" => etcdsim_mm1::run,
        "etcdsim-ondemand" => etcdsim_mm1::run_on_demand,
        "heap" => heap_mm1::run,
        "radix" => heap_mm1::run_radix,
        "lindley" => lindley_mm1::run,
        "nexosim" => nexosim_mm1::run,
        "nexosim1" => nexosim_mm1::run_single_model,
        "simcore" => simcore_mm1::run,
        _ => return usage(),
    };
    let out = run(warmup, measured, seed);
    let total = warmup + measured;
    let s = out.summary;
    let analytic = 1.0 / (SERVICE_RATE - ARRIVAL_RATE);
    println!(
        "engine={engine} customers={} warmup={warmup} seed={seed} mean={:.6} ci99={:.6} analytic={analytic} wall_s={:.6} customers_per_s={:.1} events={}",
        s.measured,
        s.mean,
        s.ci99,
        out.wall,
        total as f64 / out.wall,
        out.events,
    );
    ExitCode::SUCCESS
}
