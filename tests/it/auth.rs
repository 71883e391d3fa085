//! Auth on the read path: password auth's Authenticate (bcrypt, its lock before 3.4.9, token
//! reuse), Go's preemption of long bcrypt work, certificate handshakes; and a few expensive
//! reads mixed into cheap ones.

use crate::readpath::{run, workload, zero_cost};
use etcdsim::model::{Arrivals, AuthMode, Consistency, Mechanisms, Stage};

const CLOSED: Arrivals = Arrivals::Closed { rate_limit: None };

/// One member with 8 cores, bcrypt 60 ms, 20 clients that never reuse a token: before 3.4.9
/// the comparisons take turns under the auth store lock (one per 60 ms, about 16.7 requests/s);
/// from 3.4.9 they run on all 8 cores (about 133/s).
#[test]
fn bcrypt_under_the_auth_lock_serializes_authenticate_before_3_4_9() {
    let mut rates = Vec::new();
    for (minor, patch) in [(4, 0), (4, 9)] {
        let mut p = zero_cost(1, 200.0, "[cpu]\nbcrypt_us = 60000\n");
        p.mechanisms = Mechanisms::for_version(minor, patch);
        let mut w = workload(Consistency::Serializable, vec![0], CLOSED, 400);
        w.clients = 20;
        w.auth = AuthMode::Password;
        w.token_reuse = 0.0;
        let r = run(&p, &w, 1);
        let auth_ms = r.reads.stages[Stage::Authenticate as usize].mean_ns / 1e6;
        println!(
            "3.{minor}.{patch}: {:.1} requests/s, Authenticate {auth_ms:.0} ms of each",
            r.reads.throughput_rps
        );
        rates.push(r.reads.throughput_rps);
    }
    assert!(
        (rates[0] - 1000.0 / 60.0).abs() < 0.5,
        "3.4.0: {}",
        rates[0]
    );
    assert!(
        (rates[1] - 8000.0 / 60.0).abs() < 3.0,
        "3.4.9: {}",
        rates[1]
    );
}

/// With a token kept per client, Authenticate happens once per client; without reuse, once per
/// request, and it dominates the latency.
#[test]
fn token_reuse_decides_how_often_authenticate_runs() {
    let p = zero_cost(3, 200.0, "[cpu]\nbcrypt_us = 60000\n");
    let mut w = workload(Consistency::Linearizable, vec![0, 1, 2], CLOSED, 2_000);
    w.clients = 10;
    w.conns = 10;
    w.auth = AuthMode::Password;
    let reuse = run(&p, &w, 1);
    w.token_reuse = 0.0;
    w.total = 200;
    let none = run(&p, &w, 1);
    let p99 = |r: &etcdsim::model::RunResult| {
        r.reads.stages[Stage::Authenticate as usize].p99_ns as f64 / 1e6
    };
    println!(
        "Authenticate p99 per request: reuse {:.1} ms, no reuse {:.1} ms; {:.0} against {:.0} requests/s",
        p99(&reuse),
        p99(&none),
        reuse.reads.throughput_rps,
        none.reads.throughput_rps
    );
    // Ten Authenticates among 2,000 requests (the first of each client), against one each: the
    // 99th-percentile request spends nothing in Authenticate with reuse, at least one bcrypt
    // without.
    assert_eq!(p99(&reuse), 0.0);
    assert!(p99(&none) >= 60.0);
    assert!(reuse.reads.throughput_rps > 20.0 * none.reads.throughput_rps);
}

/// Go preempts a goroutine after 10 ms, so two 60 ms bcrypts on one core interleave in slices
/// and both end near 120 ms (processor sharing), instead of one at 60 ms and one at 120 ms.
#[test]
fn long_bcrypt_work_is_time_sliced_as_go_preempts_it() {
    let mut p = zero_cost(1, 0.0, "[cpu]\nbcrypt_us = 60000\n");
    p.mechanisms = Mechanisms::for_version(5, 0);
    for h in &mut p.hosts {
        h.cores = 1;
    }
    let mut w = workload(
        Consistency::Serializable,
        vec![0],
        Arrivals::Scripted {
            at_ns: vec![0, 0],
            puts: vec![],
        },
        2,
    );
    w.conns = 2;
    w.clients = 2;
    w.auth = AuthMode::Password;
    let r = run(&p, &w, 1);
    let mut ends: Vec<f64> = r.records.iter().map(|x| x.end_ns as f64 / 1e6).collect();
    ends.sort_by(f64::total_cmp);
    println!("two 60 ms bcrypts on one core end at {ends:?} ms");
    // Both bcrypts end at 120 ms; the second Authenticate's raft write then waits for the
    // first one's 1 ms WAL fsync in the Ready loop.
    assert!(ends[0] > 105.0 && ends[1] < 122.0, "{ends:?}");
}

/// Certificate auth: a TLS handshake on a connection's first request to a member, and none
/// after.
#[test]
fn certificates_pay_one_handshake_per_connection_and_member() {
    let p = zero_cost(3, 200.0, "[cpu]\ntls_handshake_us = 500\n");
    let at = vec![0, 1_000_000, 2_000_000];
    let mut w = workload(
        Consistency::Serializable,
        vec![0],
        Arrivals::Scripted {
            at_ns: at,
            puts: vec![],
        },
        3,
    );
    w.auth = AuthMode::Cert;
    let r = run(&p, &w, 1);
    let mut recs = r.records.clone();
    recs.sort_by_key(|x| x.seq);
    let auth_us: Vec<u64> = recs
        .iter()
        .map(|x| x.stages_ns[Stage::Auth as usize] / 1000)
        .collect();
    assert_eq!(auth_us, vec![500, 0, 0]);
}

/// A few expensive reads (10,000 keys, a 20 ms index walk, 20 per second) among cheap
/// linearizable reads, with 1,000 puts per second flowing. Cores are plentiful, so the walks
/// hurt through a lock: each holds the treeIndex read lock, apply's index update waits for it,
/// and every linearizable read waits for apply. Without writes the same walks barely matter.
/// The damage shows at p99.9, not p99: closed-loop clients stuck behind a walk issue fewer
/// requests meanwhile, so the slow reads are under 1% of the sample (coordinated omission).
#[test]
fn a_few_expensive_reads_delay_apply_and_so_linearizable_reads() {
    let p = zero_cost(
        3,
        200.0,
        "[cpu]\ngrpc_request_us = 20\nindex_visit_ns_per_key = 2000\napply_entry_us = 5\n[disk]\nfsync_us = 200\n",
    );
    let run_with = |expensive: f64, writes: f64| {
        let mut w = workload(Consistency::Linearizable, vec![0, 1, 2], CLOSED, u64::MAX);
        w.clients = 30;
        w.conns = 30;
        w.duration = Some(etcdsim::engine::SimDuration::from_secs(2));
        w.write_rate = writes;
        w.expensive_rate = expensive;
        w.expensive_range.consistency = Consistency::Serializable;
        w.expensive_range.keys_in_range = 10_000;
        w.expensive_range.total_keys = 10_000;
        run(&p, &w, 1)
    };
    let p999 = |r: &etcdsim::model::RunResult| r.reads.latency.quantile(0.999) as f64 / 1e6;
    let (calm, mixed) = (run_with(0.0, 1000.0), run_with(20.0, 1000.0));
    let (calm_nw, mixed_nw) = (run_with(0.0, 0.0), run_with(20.0, 0.0));
    println!(
        "cheap linearizable read p99.9: {:.3} → {:.3} ms with expensive reads and writes; {:.3} → {:.3} ms without writes ({} expensive reads, mean {:.1} ms)",
        p999(&calm),
        p999(&mixed),
        p999(&calm_nw),
        p999(&mixed_nw),
        mixed.expensive.completed,
        mixed.expensive.latency_w.mean() / 1e6
    );
    assert!(mixed.expensive.completed > 20);
    assert!(
        p999(&mixed) > 5.0 * p999(&calm),
        "the walks delay apply under writes"
    );
    assert!(
        p999(&mixed_nw) < 1.5 * p999(&calm_nw),
        "without writes they barely matter"
    );
}

/// Before 3.4.9 bcrypt runs under the backend batch-tx lock that `CheckPassword` takes, which
/// apply needs for every put: an Authenticate storm (no token reuse) stalls the writes flowing
/// beside it. From 3.4.9 the comparison runs outside the lock and the puts do not notice.
#[test]
fn before_3_4_9_authenticate_stalls_apply_and_so_writes() {
    let mut p99 = Vec::new();
    for (minor, patch) in [(4, 0), (4, 9)] {
        let mut p = zero_cost(
            3,
            200.0,
            "[cpu]\nbcrypt_us = 60000\n[disk]\nfsync_us = 100\n",
        );
        p.mechanisms = Mechanisms::for_version(minor, patch);
        let mut w = workload(Consistency::Serializable, vec![0, 1, 2], CLOSED, u64::MAX);
        w.clients = 6;
        w.conns = 6;
        w.auth = AuthMode::Password;
        w.token_reuse = 0.0;
        w.write_rate = 200.0;
        w.duration = Some(etcdsim::engine::SimDuration::from_secs(2));
        let r = run(&p, &w, 1);
        p99.push(r.writes.latency.quantile(0.99) as f64 / 1e6);
    }
    println!(
        "put p99 beside an Authenticate storm: 3.4.0 {:.2} ms, 3.4.9 {:.2} ms",
        p99[0], p99[1]
    );
    assert!(p99[0] > 30.0, "3.4.0: puts wait behind bcrypt: {}", p99[0]);
    assert!(p99[1] < 2.0, "3.4.9: puts do not wait: {}", p99[1]);
}
