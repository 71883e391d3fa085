//! The write path and what it does to reads, in scripted scenarios with exact timelines.
//!
//! Unless a test says otherwise: 3 members, member 0 leads, RTT 200 µs (100 µs each way), every
//! CPU cost zero, and a constant fdatasync time.

use crate::readpath::{run, workload, zero_cost};
use etcdsim::model::{Arrivals, Consistency, RunOptions, Stage};

const US: u64 = 1_000;
const MS: u64 = 1_000_000;

fn scripted(at_ns: Vec<u64>, puts: Vec<bool>) -> Arrivals {
    Arrivals::Scripted { at_ns, puts }
}

/// A put at t = 0 puts the leader's Ready loop into a 10 ms WAL fdatasync (0.1–10.1 ms). A
/// linearizable read reaching the leader at 1.1 ms needs a heartbeat round, but the heartbeats
/// leave only with the next Ready, after that fsync; the followers answer after their own
/// fsync of the same entry (0.2–10.2 ms). So the read waits about one fsync, while a
/// serializable read at the same instant takes 0.2 ms.
#[test]
fn with_a_slow_disk_a_linearizable_read_waits_for_an_fsync_and_a_serializable_one_does_not() {
    let p = zero_cost(3, 200.0, "[disk]\nfsync_us = 10000\n");
    for (c, lo_ms, hi_ms) in [
        (Consistency::Linearizable, 9.0, 9.5),
        (Consistency::Serializable, 0.19, 0.21),
    ] {
        let w = workload(c, vec![0], scripted(vec![0, MS], vec![true, false]), 2);
        let r = run(&p, &w, 1);
        let read = r.records.iter().find(|x| x.seq == 1).unwrap();
        let ms = (read.end_ns - read.start_ns) as f64 / 1e6;
        println!("{c:?} read during a 10 ms fsync: {ms:.3} ms");
        assert!((lo_ms..hi_ms).contains(&ms), "{c:?}: {ms} ms");
    }
}

/// The leader sends MsgApp before its own fsync, followers fsync then ack: a put commits one
/// follower fsync after it is appended, and its client (on the leader) hears back after apply.
#[test]
fn a_put_commits_after_a_follower_fsync_and_answers_after_apply() {
    let p = zero_cost(
        3,
        200.0,
        "[disk]\nfsync_us = 2000\n[cpu]\napply_entry_us = 50\n",
    );
    let w = workload(
        Consistency::Linearizable,
        vec![0],
        scripted(vec![0], vec![true]),
        1,
    );
    let r = run(&p, &w, 1);
    let put = &r.records[0];
    // 0.1 to the leader, MsgApp 0.1, follower fsync 2.0, MsgAppResp 0.1, apply 0.05, back 0.1.
    assert_eq!(put.end_ns - put.start_ns, 2_450 * US);
    assert_eq!(put.stages_ns[Stage::Replicate as usize], 2_200 * US);
    assert_eq!(put.stages_ns[Stage::Apply as usize], 50 * US);
    assert_eq!(r.writes.completed, 1);
}

/// An fdatasync's measured latency holds CPU (`disk.fsync_cpu_us`, the caller's system time,
/// and `disk.fsync_kernel_us`, the kernel's completion work): on idle cores the parts add up
/// to the same 1 ms, so the put of the test above takes exactly as long, and etcd's WAL
/// histogram reads 1 ms. The caller's 300 µs is charged to the member's process, the kernel's
/// 200 µs to none: the leader's CPU is its one WAL fdatasync's call and nothing else.
#[test]
fn an_fsyncs_cpu_parts_leave_its_idle_latency_and_charge_only_the_caller() {
    let put = |disk: &str| {
        let p = zero_cost(3, 200.0, disk);
        let w = workload(
            Consistency::Linearizable,
            vec![0],
            scripted(vec![0], vec![true]),
            1,
        );
        run(&p, &w, 1)
    };
    let whole = put("[disk]\nfsync_us = 1000\n");
    let parts = put("[disk]\nfsync_us = 1000\nfsync_cpu_us = 300\nfsync_kernel_us = 200\n");
    let latency = |r: &etcdsim::model::RunResult| r.records[0].end_ns - r.records[0].start_ns;
    // 0.1 to the leader, MsgApp 0.1, follower fsync 1.0, MsgAppResp 0.1, back 0.1.
    assert_eq!(latency(&whole), 1_400 * US);
    assert_eq!(latency(&parts), 1_400 * US);
    let wal_ms = parts
        .disk_ms
        .wal_fsync_ms
        .expect("three WAL fdatasyncs were timed");
    assert!((wal_ms - 1.0).abs() < 1e-9, "{wal_ms} ms");
    let cpu_us = |r: &etcdsim::model::RunResult, name: &str| {
        r.process_cpu_s.iter().find(|(n, _)| n == name).unwrap().1 * 1e6
    };
    assert!((cpu_us(&parts, "member0") - 300.0).abs() < 1e-6);
    assert_eq!(cpu_us(&whole, "member0"), 0.0);
}

/// With every process on one host of one core (messages between them take no time), the
/// fdatasyncs' CPU parts queue for it. Without CPU parts the put takes its followers' 1 ms
/// fdatasync. With them: the leader's Ready holds the core for its call's 300 µs (0–0.3 ms)
/// while its MsgApp has reached both followers, whose calls follow (0.3–0.6, 0.6–0.9 ms); the
/// first follower's device runs 0.6–1.1 ms, and its kernel completion waits behind the
/// leader's (0.9–1.1 ms) for 1.1–1.3 ms: the put commits and answers at 1.3 ms, and etcd's
/// WAL histogram holds the waits.
#[test]
fn on_a_busy_core_an_fsyncs_cpu_parts_wait_and_lengthen_it() {
    let one_core = "[placement]\nhosts = [{ name = \"box\", cores = 1, nic_bandwidth_gbps = inf }]\nmembers = [\"box\"]\nclient = \"box\"\n";
    let put = |disk: &str| {
        let p = zero_cost(3, 200.0, &format!("{disk}{one_core}"));
        let w = workload(
            Consistency::Linearizable,
            vec![0],
            scripted(vec![0], vec![true]),
            1,
        );
        let r = run(&p, &w, 1);
        (
            r.records[0].end_ns - r.records[0].start_ns,
            r.disk_ms.wal_fsync_ms.unwrap(),
        )
    };
    let (whole, whole_wal) = put("[disk]\nfsync_us = 1000\n");
    let (parts, parts_wal) =
        put("[disk]\nfsync_us = 1000\nfsync_cpu_us = 300\nfsync_kernel_us = 200\n");
    println!("one core: {whole} ns and {parts} ns; WAL {whole_wal} and {parts_wal} ms");
    assert_eq!(whole, 1_000 * US);
    assert!((whole_wal - 1.0).abs() < 1e-9);
    assert_eq!(parts, 1_300 * US);
    assert!(
        parts_wal > 1.1,
        "the histogram holds the waits: {parts_wal} ms"
    );
}

/// The backend commits 100 ms after the first pending write, holding the read-tx lock across
/// two 10 ms fdatasyncs (100–120 ms). A read that opens its transaction at 105 ms waits 15 ms;
/// one at 125 ms does not wait.
#[test]
fn a_backend_commit_stalls_a_read_transaction_that_starts_during_it() {
    let p = zero_cost(3, 200.0, "[disk]\nfsync_us = 10000\n");
    let at = vec![0, 105 * MS - 100 * US, 125 * MS - 100 * US];
    let w = workload(
        Consistency::Serializable,
        vec![0],
        scripted(at, vec![true, false, false]),
        3,
    );
    let r = run(&p, &w, 1);
    let rec = |seq| r.records.iter().find(|x| x.seq == seq).unwrap();
    assert_eq!(rec(1).stages_ns[Stage::BackendWait as usize], 15 * MS);
    assert_eq!(rec(1).end_ns - rec(1).start_ns, 15 * MS + 200 * US);
    assert_eq!(rec(2).stages_ns[Stage::BackendWait as usize], 0);
    assert!(r.backend_commits >= 1);
}

/// Under a stream of puts with a slow apply (1 ms per entry), linearizable reads wait for
/// apply; every read of a round is released at the same instant, and that instant is the end
/// of one of the member's apply batches (`applyWait.Trigger` runs once per batch).
#[test]
fn reads_waiting_on_apply_are_released_together_at_a_batch_boundary() {
    let p = zero_cost(
        3,
        200.0,
        "[disk]\nfsync_us = 100\n[cpu]\napply_entry_us = 1000\n",
    );
    let mut at = Vec::new();
    let mut puts = Vec::new();
    for i in 0..40u64 {
        at.push(i * 250 * US);
        puts.push(i % 4 != 3);
    }
    let mut w = workload(Consistency::Linearizable, vec![1], scripted(at, puts), 40);
    w.conns = 1;
    let opts = RunOptions {
        record_requests: 100,
        trace_requests: 100,
        ..RunOptions::default()
    };
    let r = etcdsim::model::run(&p, &w, 1, opts);
    let batch_ends: Vec<u64> = r
        .activities
        .iter()
        .filter(|a| a.member.0 == 1 && a.what == "apply")
        .map(|a| a.end_ns)
        .collect();
    let waits: Vec<&etcdsim::model::Span> = r
        .spans
        .iter()
        .filter(|s| s.stage == Stage::ApplyWait)
        .collect();
    assert!(
        waits.len() >= 3,
        "reads must wait for apply: {}",
        waits.len()
    );
    for s in &waits {
        assert!(
            batch_ends.contains(&s.end_ns),
            "read {} released at {} ns, not at a batch end",
            s.seq,
            s.end_ns
        );
    }
    println!(
        "{} reads waited on apply; {} apply batches on member 1",
        waits.len(),
        batch_ends.len()
    );
}

/// A serializable range over 1,000 keys at t = 0 and a put at 1 ms, on member 0 of `p`:
/// the put's latency in ms.
fn put_beside_a_range(p: &etcdsim::model::ClusterParams) -> f64 {
    let mut w = workload(
        Consistency::Serializable,
        vec![0],
        scripted(vec![0, MS], vec![false, true]),
        2,
    );
    w.range.keys_in_range = 1000;
    w.range.total_keys = 1000;
    let r = run(p, &w, 1);
    let put = r.records.iter().find(|x| x.seq == 1).unwrap();
    (put.end_ns - put.start_ns) as f64 / 1e6
}

/// Before 3.4 a read transaction holds the read-tx lock for its whole range, and each put's
/// write-back needs it exclusively: a range whose value fetch takes 20 ms (large values from
/// bolt, as in the course's traces) delays a concurrent put by about that much. From 3.4
/// ("fully concurrent reads", #10523) the read lets go of the lock once its transaction is
/// open, and the put does not wait.
#[test]
fn a_long_read_delays_a_write_in_3_3_but_not_in_3_4() {
    let mut put_ms = Vec::new();
    for version in ["3.3", "3.4"] {
        let extra = format!(
            "[cpu]\nvalue_ns_per_key = 20000\n[mechanisms]\nconcurrent_read = {}\n",
            version == "3.4"
        );
        // The range's value fetch takes 20 ms (1,000 keys at 20 µs).
        put_ms.push(put_beside_a_range(&zero_cost(3, 200.0, &extra)));
    }
    println!(
        "put beside a 20 ms value fetch: 3.3 {:.3} ms, 3.4 {:.3} ms",
        put_ms[0], put_ms[1]
    );
    // 3.3: the range reaches the member at 0.1 ms and its fetch ends at 20.1 ms; the put's
    // write-back gets the read-tx lock exactly then (the fetch announced its release), and the
    // answer is back 0.1 ms later: 20.2 ms, for a put sent at 1 ms.
    assert!(
        (put_ms[0] - 19.2).abs() < 1e-6,
        "3.3: the write-back waits for the range's fetch to end: {}",
        put_ms[0]
    );
    // Undisturbed, a put takes 1.4 ms here: 0.4 ms of network and the default 1 ms fsync.
    assert!(put_ms[1] < 1.5, "3.4: the put does not wait: {}", put_ms[1]);
}

/// Issue 18: a put whose apply waits for a lock another holds is queueing, not being served.
/// In 3.3 the put's write-back waits for the read-tx lock a 20 ms range fetch holds (the
/// test above): those ~18 ms are `lock_wait`, while `apply` (zero-cost CPU here) stays near
/// zero; and a put whose entry waits behind a slow apply of other entries is in `apply_queue`.
#[test]
fn r18_waits_inside_apply_are_queueing() {
    let opts = RunOptions {
        record_requests: 100,
        trace_requests: 100,
        ..RunOptions::default()
    };
    let staged = |r: &etcdsim::model::RunResult, seq: u64, stage: Stage| -> f64 {
        r.spans
            .iter()
            .filter(|s| s.seq == seq && s.stage == stage)
            .map(|s| (s.end_ns - s.start_ns) as f64 / 1e6)
            .sum()
    };
    let p = zero_cost(
        3,
        200.0,
        "[cpu]\nvalue_ns_per_key = 20000\n[mechanisms]\nconcurrent_read = false\n",
    );
    let mut w = workload(
        Consistency::Serializable,
        vec![0],
        scripted(vec![0, MS], vec![false, true]),
        2,
    );
    w.range.keys_in_range = 1000;
    w.range.total_keys = 1000;
    let r = etcdsim::model::run(&p, &w, 1, opts);
    assert_eq!(r.stage_sum_mismatches, 0);
    let (lock, apply) = (staged(&r, 1, Stage::LockWait), staged(&r, 1, Stage::Apply));
    println!("put behind a 20 ms fetch: lock_wait {lock:.3} ms, apply {apply:.3} ms");
    assert!(lock > 15.0, "the write-back's wait is lock_wait: {lock}");
    assert!(apply < 0.01, "apply's own work is zero here: {apply}");
    assert_eq!(staged(&r, 1, Stage::ApplyQueue), 0.0, "nothing ahead of it");

    // Ten puts at once on a member whose apply takes 1 ms an entry: the last waits for the
    // nine before it (about 9 ms of apply_queue) and is applied in 1 ms.
    let p = zero_cost(3, 200.0, "[cpu]\napply_entry_us = 1000\n");
    let w = workload(
        Consistency::Linearizable,
        vec![0],
        scripted(vec![0; 10], vec![true; 10]),
        10,
    );
    let r = etcdsim::model::run(&p, &w, 1, opts);
    assert_eq!(r.stage_sum_mismatches, 0);
    let last = (0..10)
        .map(|seq| staged(&r, seq, Stage::ApplyQueue))
        .fold(0.0, f64::max);
    let applies: Vec<f64> = (0..10).map(|seq| staged(&r, seq, Stage::Apply)).collect();
    println!("ten puts, 1 ms apply each: longest apply_queue {last:.3} ms, apply {applies:?}");
    assert!(
        last > 8.0,
        "the last put queues behind nine applies: {last}"
    );
    for a in applies {
        assert!((a - 1.0).abs() < 0.01, "each put's own apply is 1 ms: {a}");
    }
}

/// In every version, a range holds the treeIndex read lock for its whole index walk, and
/// apply's index update needs the write lock: a 20 ms walk delays a concurrent put's apply,
/// and with it every linearizable read waiting on that apply.
#[test]
fn a_long_index_walk_delays_apply_in_every_version() {
    for version in ["3.3", "3.4", "3.5"] {
        let mut p = zero_cost(3, 200.0, "[cpu]\nindex_visit_ns_per_key = 20000\n");
        let (minor, patch) = etcdsim::config::model::parse_version("t", "v", version).unwrap();
        p.mechanisms = etcdsim::model::Mechanisms::for_version(minor, patch);
        // The range's index walk takes 20 ms (1,000 keys at 20 µs).
        let ms = put_beside_a_range(&p);
        assert!(
            ms > 18.0,
            "{version}: apply's index update waits for the walk: {ms}"
        );
    }
}

/// Requests over the size limit fail, and so do proposals while apply lags commit by more
/// than the limit ("too many requests").
#[test]
fn oversized_requests_and_an_apply_backlog_fail() {
    let p = zero_cost(3, 200.0, "[write]\nmax_request_bytes = 1000\n");
    let mut w = workload(
        Consistency::Linearizable,
        vec![0],
        scripted(vec![0, MS], vec![true, true]),
        2,
    );
    w.put.value_bytes = 2_000;
    let r = run(&p, &w, 1);
    assert_eq!((r.writes.completed, r.writes.failed), (0, 2));

    let p = zero_cost(
        3,
        200.0,
        "[write]\nmax_apply_lag_entries = 5\n[cpu]\napply_entry_us = 10000\n",
    );
    let at: Vec<u64> = (0..40).map(|i| i * 100 * US).collect();
    let puts = vec![true; 40];
    let w = workload(Consistency::Linearizable, vec![0], scripted(at, puts), 40);
    let r = run(&p, &w, 1);
    println!(
        "with a 10 ms apply and a 5-entry lag limit: {} ok, {} failed",
        r.writes.completed, r.writes.failed
    );
    assert!(r.writes.failed > 0 && r.writes.completed > 0);
}
