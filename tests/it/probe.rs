//! The real-etcd harness's probe in the model (`src/model/probe.rs`): one goroutine on a
//! connection of its own, a linearizable and a serializable read in turn at a Go ticker's
//! rate, timed apart from the workload; and gRPC's transport writer yielding before a small
//! write (`src/model/grpc.rs`).

use etcdsim::config::model::model_from_str;
use etcdsim::engine::SimDuration;
use etcdsim::model::{
    self, Arrivals, Consistency, GoroutineKind, MemberId, Probe, RangeOp, RunOptions, RunResult,
};

use super::readpath::{workload, zero_cost};

/// One serializable client on the leader for `secs` simulated seconds, with the probe at
/// `rate` on member 1 (a follower) when `rate` > 0.
fn with_probe(p: &model::ClusterParams, rate: f64, secs: f64) -> RunResult {
    let mut w = workload(
        Consistency::Serializable,
        vec![0],
        Arrivals::Closed { rate_limit: None },
        u64::MAX,
    );
    w.duration = Some(SimDuration::from_secs_f64(secs));
    w.probe = (rate > 0.0).then(|| probe_on(&w, rate));
    let r = model::run(p, &w, 1, RunOptions::default());
    assert!(r.invariant_errors.is_empty(), "{:?}", r.invariant_errors);
    r
}

/// The probe at `rate` on member 1 (a follower), reading the workload's first key.
fn probe_on(w: &model::Workload, rate: f64) -> Probe {
    Probe {
        rate,
        member: MemberId(1),
        range: RangeOp {
            consistency: Consistency::Linearizable,
            ..w.range.clone()
        },
    }
}

/// `clients` closed-loop clients on `conns` connections to every member, for `secs`.
fn on_every_member(c: Consistency, clients: u32, conns: u32, secs: f64) -> model::Workload {
    let mut w = workload(
        c,
        vec![0, 1, 2],
        Arrivals::Closed { rate_limit: None },
        u64::MAX,
    );
    w.clients = clients;
    w.conns = conns;
    w.duration = Some(SimDuration::from_secs_f64(secs));
    w
}

fn mean_ms(o: &model::OpResult) -> f64 {
    o.latency_w.mean() * 1e-6
}

/// With every cost zero and 1 ms between machines, the probe's serializable read is one round
/// trip to its follower, and its linearizable read three: MsgReadIndex to the leader, the
/// heartbeat round with a follower, MsgReadIndexResp back. It reads 50 times a second in
/// turn, and the workload's reads are not among its.
#[test]
fn the_probe_reads_in_turn_and_is_timed_apart() {
    let p = zero_cost(3, 1000.0, "");
    let r = with_probe(&p, 50.0, 2.0);
    assert_eq!(mean_ms(&r.probe_s), 1.0, "one round trip");
    assert_eq!(mean_ms(&r.probe_l), 3.0, "three round trips");
    // Ticks at 20, 40, …, 1,980 ms start reads that end inside the 2 s run (the one at
    // 2,000 ms does not): 99, the first linearizable.
    assert_eq!(r.probe_l.completed + r.probe_s.completed, 99);
    assert_eq!(r.probe_l.completed, 50);
    let alone = with_probe(&p, 0.0, 2.0);
    assert_eq!(alone.probe_l.completed + alone.probe_s.completed, 0);
    assert_eq!(
        r.reads.completed, alone.reads.completed,
        "at zero cost the probe takes nothing from the workload, and none of its reads count in it"
    );
}

/// A read that outlasts the ticker's period is followed at once by the next (the channel
/// held one tick), and the ticks in between are lost: with 30 ms round trips and a 10 ms
/// period, the probe reads back to back, serializable in 30 ms and linearizable in 90.
#[test]
fn a_slow_probe_read_is_followed_at_once_and_extra_ticks_are_dropped() {
    let p = zero_cost(3, 30_000.0, "");
    let r = with_probe(&p, 100.0, 3.0);
    assert_eq!(mean_ms(&r.probe_s), 30.0);
    assert_eq!(mean_ms(&r.probe_l), 90.0);
    // The first tick at 10 ms, then pairs of 120 ms: reads end at 100, 130, 220, 250, …
    let ended = |k: u32| 10.0 + 90.0 * f64::from(k.div_ceil(2)) + 30.0 * f64::from(k / 2);
    let n = (1..).take_while(|&k| ended(k) <= 3000.0).count() as u64;
    assert_eq!(r.probe_l.completed + r.probe_s.completed, n);
    assert!(n < 60, "not a read per tick ({n})");
}

/// The loopback model's costs with etcd `version`, one client reading a value of
/// `value_bytes`: its client's and its member's transport writers' bursts per request.
fn writer_bursts_per_request(version: &str, value_bytes: u32, extra: &str) -> (f64, f64) {
    let text = std::fs::read_to_string(support_path("models/loopback-2vcpu.toml")).unwrap() + extra;
    let text = text.replacen(
        "etcd_version = \"3.4.23\"",
        &format!("etcd_version = \"{version}\""),
        1,
    );
    assert!(text.contains(&format!("etcd_version = \"{version}\"")));
    let p = model_from_str("loopback.toml", &text, &[]).unwrap();
    let mut w = workload(
        Consistency::Serializable,
        vec![0],
        Arrivals::Closed { rate_limit: None },
        2_000,
    );
    w.range.value_bytes = value_bytes;
    let r = model::run(&p, &w, 1, RunOptions::default());
    let bursts = |k: GoroutineKind| {
        r.goroutines
            .iter()
            .find(|g| g.kind == k)
            .map_or(0, |g| g.bursts) as f64
            / r.reads.completed as f64
    };
    (
        bursts(GoroutineKind::ClientWriter),
        bursts(GoroutineKind::ServerWriter),
    )
}

fn support_path(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// etcd 3.4's gRPC (1.12.0 and later) yields once before writing under 1,000 bytes: with one
/// request at a time each write takes two bursts, a yield and the write; a response of 2,000
/// bytes is written at once; etcd 3.3's gRPC (1.7.5) never yields, nor does a model whose
/// `[mechanisms]` turns the yield off.
#[test]
fn grpc_writers_yield_once_before_a_small_write_from_etcd_3_4() {
    let (client, member) = writer_bursts_per_request("3.4.23", 256, "");
    assert_eq!((client, member), (2.0, 2.0));
    let (client, member) = writer_bursts_per_request("3.4.23", 2_000, "");
    assert_eq!((client, member), (2.0, 1.0));
    let (client, member) = writer_bursts_per_request("3.3.0", 256, "");
    assert_eq!((client, member), (1.0, 1.0));
    let off = "\n[mechanisms]\ngrpc_writer_yields = false\n";
    let (client, member) = writer_bursts_per_request("3.4.23", 256, off);
    assert_eq!((client, member), (1.0, 1.0), "the model file turns it off");
}

/// Schedtrace's look at the members' run queues: nothing queued on an idle cluster, and
/// queued handlers on a member whose one P serves eight clients' reads at 100 µs each; only
/// when asked.
#[test]
fn schedtrace_samples_the_members_run_queues_when_asked() {
    let traced = |p: &model::ClusterParams, clients: u32| {
        let mut w = workload(
            Consistency::Serializable,
            vec![0],
            Arrivals::Closed { rate_limit: None },
            u64::MAX,
        );
        w.clients = clients;
        w.conns = clients;
        w.duration = Some(SimDuration::from_secs_f64(1.0));
        let opts = RunOptions {
            schedtrace: Some(SimDuration::from_millis(1)),
            ..RunOptions::default()
        };
        let r = model::run(p, &w, 1, opts);
        assert!(r.invariant_errors.is_empty(), "{:?}", r.invariant_errors);
        r
    };
    let idle = traced(&zero_cost(3, 1000.0, ""), 1);
    let q = idle.member_runq.expect("asked for");
    assert_eq!((q.local, q.global), (0.0, 0.0));
    let mut busy = zero_cost(3, 10.0, "[cpu]\ngrpc_request_us = 100\n");
    busy.go.member_gomaxprocs = 1;
    let r = traced(&busy, 8);
    let q = r.member_runq.unwrap();
    // Member 0 has handlers waiting behind the running one, at most seven (one of them in
    // runnext, which schedtrace does not count); members 1 and 2 serve nothing. The mean over
    // the three is above none and below 7 / 3 (it is 1.0 here: the rest of the eight wait in
    // the poller, for the P to run dry).
    assert!((0.5..7.0 / 3.0).contains(&(q.local + q.global)), "{q:?}");
    let untraced = with_probe(&zero_cost(3, 1000.0, ""), 0.0, 0.5);
    assert_eq!(untraced.member_runq, None);
}

/// With `go.os_wake_preempt_us`, a thread woken from sleep waits for a core ahead of the
/// threads preempted while running and takes one from a thread that has held it that long:
/// with the kernel's 1.5 ms slice for the threads that keep running, the probe's linearizable
/// read, a chain of woken threads across three processes, comes through much sooner than
/// when every thread waits in one FIFO queue for a 1.5 ms slice to end.
#[test]
fn woken_threads_take_a_core_sooner_with_wake_placement() {
    let probe_l = |wake_preempt_us: f64| {
        let text = std::fs::read_to_string(support_path("models/loopback-2vcpu.toml")).unwrap();
        let set = [
            "go.os_slice_us=1500".to_string(),
            format!("go.os_wake_preempt_us={wake_preempt_us}"),
        ];
        let p = model_from_str("loopback.toml", &text, &set).unwrap();
        let mut w = on_every_member(Consistency::Serializable, 16, 16, 2.0);
        w.probe = Some(probe_on(&w, 50.0));
        let r = model::run(&p, &w, 1, RunOptions::default());
        assert!(r.probe_l.completed > 40, "{}", r.probe_l.completed);
        mean_ms(&r.probe_l)
    };
    let (fifo, placed) = (probe_l(0.0), probe_l(100.0));
    assert!(placed < 0.8 * fifo, "placed {placed} ms, FIFO {fifo} ms");
}

/// A probe leaves the workload's random draws as they were: with round-robin clients (whose
/// starting endpoints are drawn) and a mix of serializable reads, a probe that never ticks in
/// the run changes nothing.
#[test]
fn a_probe_that_never_ticks_changes_nothing() {
    let p = zero_cost(3, 500.0, "[cpu]\ngrpc_request_us = 20\n");
    let run = |rate: f64| {
        let mut w = on_every_member(Consistency::Linearizable, 8, 4, 1.0);
        w.policy = model::EndpointPolicy::Client(model::Balancer::RoundRobin);
        w.serializable_ratio = 0.5;
        w.probe = (rate > 0.0).then(|| probe_on(&w, rate));
        let r = model::run(&p, &w, 7, RunOptions::default());
        (r.reads.completed, r.reads.latency_w.mean(), r.events)
    };
    let (without, with) = (run(0.0), run(0.01));
    assert_eq!(without.0, with.0);
    assert_eq!(without.1.to_bits(), with.1.to_bits());
    assert_eq!(without.2, with.2, "the same events");
}
