//! Determinism: the same seed gives the same trace, a different seed a different one.

use etcdsim::engine::SimDuration;
use etcdsim::engine::dist::Dist;
use etcdsim::queueing::{self, QueueParams, Source};

fn params() -> QueueParams {
    QueueParams {
        source: Source::Open {
            interarrival: Dist::exponential_us(12.0),
        },
        service: Dist::exponential_us(10.0),
        servers: 2,
        warmup: SimDuration::from_millis(1),
        measured: 20_000,
    }
}

#[test]
fn same_seed_same_trace_and_results() {
    let a = queueing::run(&params(), 7);
    let b = queueing::run(&params(), 7);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.events, b.events);
    assert_eq!(a.response.mean().to_bits(), b.response.mean().to_bits());
    assert_eq!(
        a.response_hist.quantile(0.99),
        b.response_hist.quantile(0.99)
    );
}

#[test]
fn different_seed_different_trace() {
    let a = queueing::run(&params(), 7);
    let b = queueing::run(&params(), 8);
    assert_ne!(a.trace_hash, b.trace_hash);
}
