//! The etcd model's speed: simulated requests per second of wall time (criterion's throughput),
//! on the shipped model with the workload of etcd's 1000-client linearizable benchmark row
//! (1000 clients on 100 connections to all three members), alone and with 5,000 background
//! puts per second. `etcdsim benchmark` prints the same speed on its "Simulation speed" line.
//!
//! Run with `cargo bench --bench model`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use etcdsim::config::model::model_from_str;
use etcdsim::config::workload::WorkloadSpec;
use etcdsim::model::{self, RunOptions};

const MODEL_FILE: &str = "models/gce-8vcpu-ssd.toml";
const MODEL: &str = include_str!("../models/gce-8vcpu-ssd.toml");
/// Reads per run.
const READS: u64 = 200_000;

fn etcd_model(c: &mut Criterion) {
    let p = model_from_str(MODEL_FILE, MODEL, &[]).expect("the shipped model is valid");
    let mut g = c.benchmark_group("etcd_model");
    g.throughput(Throughput::Elements(READS));
    g.sample_size(10);
    for (name, extra) in [
        ("reads", ""),
        ("reads_with_5000_puts_per_s", "write_rate = 5000.0"),
    ] {
        let text = format!(
            "clients = 1000\nconns = 100\nconsistency = \"l\"\ntotal = {READS}\nwarmup = 0\n{extra}"
        );
        let table: toml::Table = toml::from_str(&text).expect("valid TOML");
        let w = WorkloadSpec::deserialize_table(table)
            .expect("known keys")
            .validate(&p, "benches/model.rs", "")
            .expect("a valid workload");
        g.bench_function(name, |b| {
            b.iter(|| {
                let r = model::run(&p, &w, 1, RunOptions::default());
                assert_eq!(r.reads.completed, READS);
                black_box(r.reads.throughput_rps)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, etcd_model);
criterion_main!(benches);
