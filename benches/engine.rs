//! The classic hold model: with N events pending, pop the earliest and schedule one at an
//! exponential offset from it. Reported as events per second (criterion's throughput).
//!
//! Run with `cargo bench --bench engine`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::Rng;
use rand_distr::Exp1;
use std::hint::black_box;

use etcdsim::engine::rng;
use etcdsim::engine::{EventQueue, SimDuration, SimTime};
use etcdsim::queueing::hold_model;

/// Events per measured batch.
const BATCH: u64 = 100_000;
/// Mean hold time in nanoseconds.
const MEAN_NS: f64 = 1_000.0;

fn hold(c: &mut Criterion) {
    let mut g = c.benchmark_group("hold");
    g.throughput(Throughput::Elements(BATCH));
    for pending in [1_000usize, 100_000] {
        g.bench_with_input(
            BenchmarkId::new("simulation", pending),
            &pending,
            |b, &n| {
                let mut sim = hold_model(n, MEAN_NS, 1);
                b.iter(|| {
                    sim.run_until(SimTime::MAX, BATCH);
                    black_box(sim.trace_hash())
                });
            },
        );
        g.bench_with_input(BenchmarkId::new("queue", pending), &pending, |b, &n| {
            let mut q = EventQueue::with_capacity(n + 1);
            let mut r = rng::stream(2, 0);
            for _ in 0..n {
                let x: f64 = r.sample(Exp1);
                q.push(SimTime(0) + SimDuration::from_nanos_f64(x * MEAN_NS), ());
            }
            b.iter(|| {
                for _ in 0..BATCH {
                    let (t, ()) = q.pop().expect("hold queue never empties");
                    let x: f64 = r.sample(Exp1);
                    q.push(t + SimDuration::from_nanos_f64(x * MEAN_NS), ());
                }
                black_box(q.len())
            });
        });
        g.bench_with_input(
            BenchmarkId::new("std_binary_heap", pending),
            &pending,
            |b, &n| {
                // The floor of a hand-written engine: std's binary heap keyed by (time, seq).
                let mut q = std::collections::BinaryHeap::with_capacity(n + 1);
                let mut r = rng::stream(2, 0);
                let mut seq = 0u64;
                for _ in 0..n {
                    let x: f64 = r.sample(Exp1);
                    let t = SimDuration::from_nanos_f64(x * MEAN_NS).0;
                    q.push(std::cmp::Reverse((t, seq)));
                    seq += 1;
                }
                b.iter(|| {
                    for _ in 0..BATCH {
                        let std::cmp::Reverse((t, _)) = q.pop().expect("hold queue never empties");
                        let x: f64 = r.sample(Exp1);
                        q.push(std::cmp::Reverse((
                            t + SimDuration::from_nanos_f64(x * MEAN_NS).0,
                            seq,
                        )));
                        seq += 1;
                    }
                    black_box(q.len())
                });
            },
        );
    }
    g.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);
