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

/// The etcd model: the same seed gives the same events and figures; another seed other ones.
#[test]
fn etcd_model_same_seed_same_run_different_seed_different_run() {
    use etcdsim::config::workload::WorkloadSpec;
    use etcdsim::model::{self, RunOptions};
    use etcdsim::runner::files::load_model;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let p = load_model(&root.join("models/gce-8vcpu-ssd.toml"), &[]).unwrap();
    let w = WorkloadSpec {
        clients: 200,
        conns: 20,
        write_rate: 2000.0,
        total: 20_000,
        ..WorkloadSpec::default()
    }
    .validate(&p, "test", "")
    .unwrap();
    let fingerprint = |seed: u64| {
        let r = model::run(&p, &w, seed, RunOptions::default());
        (
            r.trace_hash,
            r.events,
            r.reads.latency_w.mean().to_bits(),
            r.writes.latency.quantile(0.99),
            format!("{:?}", r.utilization),
        )
    };
    assert_eq!(fingerprint(3), fingerprint(3));
    let (a, b) = (fingerprint(3), fingerprint(4));
    assert_ne!(a.0, b.0, "another seed gives another trace");
    assert_ne!(a.2, b.2, "another seed gives another mean latency");
}

/// A sweep of the etcd model writes the same bytes on one thread and on two.
#[test]
fn etcd_sweep_is_byte_identical_on_one_and_two_threads() {
    let root = env!("CARGO_MANIFEST_DIR");
    let base = std::env::temp_dir().join(format!("etcdsim-threads-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let dir = base.join(threads);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_etcdsim"))
            .current_dir(root)
            .args([
                "run",
                "experiments/quickstart.toml",
                "--threads",
                threads,
                "--out",
            ])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let files: Vec<Vec<u8>> = [
            "results.csv",
            "summary.csv",
            "run.toml",
            "latency.svg",
            "latency.png",
            "breakdown.png",
            "index.html",
        ]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
        outputs.push(files);
    }
    let _ = std::fs::remove_dir_all(&base);
    assert!(
        outputs[0] == outputs[1],
        "1 and 2 threads wrote different bytes"
    );
}
