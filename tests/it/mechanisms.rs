//! One test per read-path mechanism beyond ReadIndex: version semantics of limit and
//! count-only, link bandwidth, shared hosts, the rate limiter, balancers, per-link latency,
//! the simple-token mutex, and the version flags.

use crate::readpath::{run, workload, zero_cost};
use etcdsim::config::model::model_from_str;
use etcdsim::model::{
    Arrivals, AuthMode, Balancer, Consistency, EndpointPolicy, Mechanisms, RbacLock, Stage,
};

const CLOSED: Arrivals = Arrivals::Closed { rate_limit: None };

fn stage_us(r: &etcdsim::model::RunResult, s: Stage) -> f64 {
    r.reads.stages[s as usize].mean_ns / 1e3
}

/// A 1,000-key range with `--limit 10`: v3.4 collects every revision of the range and fetches
/// 10 values; v3.5 walks the whole range but collects only 10. count-only fetches nothing, and
/// from 3.5 collects nothing either.
#[test]
fn limit_and_count_only_follow_each_version() {
    let costs = "[cpu]\nindex_visit_ns_per_key = 1000\nindex_collect_ns_per_key = 2000\nvalue_ns_per_key = 3000\n";
    let cases = [
        ("3.4", false, 3000.0, 30.0),
        ("3.5", false, 1020.0, 30.0),
        ("3.4", true, 3000.0, 0.0),
        ("3.4.24", true, 1000.0, 0.0),
        ("3.5", true, 1000.0, 0.0),
    ];
    for (version, count_only, index_us, value_us) in cases {
        let mut p = zero_cost(3, 100.0, costs);
        p.mechanisms = {
            let (minor, patch) = etcdsim::config::model::parse_version("t", "v", version).unwrap();
            Mechanisms::for_version(minor, patch)
        };
        let mut w = workload(Consistency::Serializable, vec![0], CLOSED, 10);
        w.range.keys_in_range = 1000;
        w.range.total_keys = 1000;
        w.range.limit = 10;
        w.range.count_only = count_only;
        let r = run(&p, &w, 1);
        assert_eq!(
            stage_us(&r, Stage::Index),
            index_us,
            "{version} count_only={count_only}"
        );
        assert_eq!(
            stage_us(&r, Stage::Value),
            value_us,
            "{version} count_only={count_only}"
        );
    }
}

/// 1 MB values on a 1 Gbps member link: each response holds the link for about 8 ms, so two
/// clients reading at once queue behind each other, and throughput is the link's
/// 125 responses/s.
#[test]
fn large_responses_queue_at_link_bandwidth() {
    let mut p = zero_cost(3, 100.0, "");
    p.hosts[0].nic_bytes_per_s = 1e9 / 8.0;
    let mut w = workload(Consistency::Serializable, vec![0], CLOSED, 400);
    w.clients = 4;
    w.range.value_bytes = 1_000_000;
    let r = run(&p, &w, 1);
    let bytes = 1_000_000.0 + 8.0 + 100.0 + 30.0;
    let expect_rps = 1e9 / 8.0 / bytes;
    println!(
        "{:.1} responses/s, link {:.1}; nic queue {:.2} ms",
        r.reads.throughput_rps,
        expect_rps,
        stage_us(&r, Stage::NicQueue) / 1e3
    );
    assert!((r.reads.throughput_rps - expect_rps).abs() / expect_rps < 0.01);
    assert!(
        stage_us(&r, Stage::NicQueue) > 20_000.0,
        "three others ahead: about 24 ms of queueing"
    );
    let member0_nic = r
        .utilization
        .iter()
        .find(|u| u.0 == "member0_nic")
        .unwrap()
        .1;
    assert!(member0_nic > 0.99);
    assert_eq!(r.bottleneck, "member0_nic");
    // A time-bounded run measures what completes in its window: with 50 clients a response
    // takes 0.4 s, yet throughput is still the link's, not short by the requests in flight.
    w.clients = 50;
    w.total = u64::MAX;
    w.duration = Some(etcdsim::engine::SimDuration::from_secs_f64(1.2));
    w.warmup_time = etcdsim::engine::SimDuration::from_secs_f64(0.2);
    let r = run(&p, &w, 1);
    println!("time-bounded: {:.1} responses/s", r.reads.throughput_rps);
    assert!((r.reads.throughput_rps - expect_rps).abs() / expect_rps < 0.03);
}

/// Members and client on one host share its cores: with 1 core and 50 µs of CPU per request in
/// all (client 20 + member 30), throughput cannot pass 20,000/s, and the host is the bottleneck.
#[test]
fn processes_on_one_host_share_its_cores() {
    let text = r#"
etcd_version = "3.4"
[cluster]
voters = 3
[member]
cores = 8
nic_bandwidth_gbps = inf
[client]
cores = 16
nic_bandwidth_gbps = inf
request_us = 10
response_us = 10
[cpu]
grpc_request_us = 30
[placement]
hosts = [{ name = "box", cores = 1, nic_bandwidth_gbps = inf }]
members = ["box", "box", "box"]
client = "box"
"#;
    let p = model_from_str("shared.toml", text, &[]).unwrap();
    assert_eq!(p.hosts.len(), 1);
    let mut w = workload(Consistency::Serializable, vec![0, 1, 2], CLOSED, 20_000);
    w.clients = 32;
    w.conns = 3;
    let r = run(&p, &w, 1);
    println!("{:.0} req/s on one shared core", r.reads.throughput_rps);
    assert!(r.reads.throughput_rps <= 20_000.0 * 1.001 && r.reads.throughput_rps > 19_000.0);
    assert_eq!(r.bottleneck, "box_cpu");
}

/// `--rate`: one limiter shared by every client.
#[test]
fn the_rate_limiter_caps_throughput() {
    let p = zero_cost(3, 200.0, "");
    let mut w = workload(
        Consistency::Serializable,
        vec![0, 1, 2],
        Arrivals::Closed {
            rate_limit: Some(1000.0),
        },
        2_000,
    );
    w.clients = 10;
    w.conns = 10;
    let r = run(&p, &w, 1);
    assert!(
        (r.reads.throughput_rps - 1000.0).abs() < 5.0,
        "{}",
        r.reads.throughput_rps
    );
}

fn members_used(
    p: &etcdsim::model::ClusterParams,
    policy: EndpointPolicy,
    conns: u32,
    seed: u64,
) -> [usize; 3] {
    let mut w = workload(Consistency::Serializable, vec![0, 1, 2], CLOSED, 300);
    w.policy = policy;
    w.clients = conns;
    w.conns = conns;
    let r = run(p, &w, seed);
    let mut n = [0; 3];
    for rec in &r.records {
        n[usize::from(rec.member.0)] += 1;
    }
    n
}

/// The benchmark gives connection j endpoint j mod n; clientv3 3.4+ round-robins each request;
/// clientv3 3.3 pins one endpoint per connection.
#[test]
fn balancers_spread_requests_as_etcd_does() {
    let p = zero_cost(3, 200.0, "");
    assert_eq!(
        members_used(&p, EndpointPolicy::PerConnection, 1, 1),
        [300, 0, 0]
    );
    assert_eq!(
        members_used(&p, EndpointPolicy::PerConnection, 3, 1),
        [100, 100, 100]
    );
    assert_eq!(
        members_used(&p, EndpointPolicy::Client(Balancer::RoundRobin), 1, 1),
        [100, 100, 100]
    );
    for seed in 1..6 {
        let pinned = members_used(&p, EndpointPolicy::Client(Balancer::Pinned), 1, seed);
        assert_eq!(
            pinned.iter().filter(|&&n| n == 300).count(),
            1,
            "{pinned:?}"
        );
    }
}

/// A follower in another zone (10 ms RTT to the leader, 0.2 ms elsewhere): its ReadIndex
/// pays one of its own RTTs (MsgReadIndex out, the index back, 5 + 5 ms) plus the leader's
/// heartbeat round, which a quorum of nearby members completes in 0.2 ms, so 10.2 ms; the
/// nearby follower's round is unaffected (two of its RTTs, 0.4 ms).
#[test]
fn a_remote_member_pays_its_own_rtt_for_readindex() {
    let links = "[[network.links]]\na = \"member2\"\nb = \"member0\"\nrtt_us = 10000\n";
    let p = zero_cost(3, 200.0, links);
    let lat = |c, m| {
        let w = workload(c, vec![m], CLOSED, 50);
        run(&p, &w, 1).reads.latency_w.mean() / 1e3
    };
    let remote = lat(Consistency::Linearizable, 2) - lat(Consistency::Serializable, 2);
    let local = lat(Consistency::Linearizable, 1) - lat(Consistency::Serializable, 1);
    println!("ReadIndex from the remote follower {remote:.0} µs, from the local one {local:.0} µs");
    assert_eq!(remote.round(), 10_200.0);
    // The local follower's round still completes with the local quorum (leader + member1).
    assert_eq!(local.round(), 400.0);
}

/// The simple-token check runs under one mutex per member: with a long check and many
/// clients, requests wait for it.
#[test]
fn the_simple_token_mutex_serializes_token_checks() {
    let p = zero_cost(3, 200.0, "[cpu]\nauth_simple_token_us = 100\n");
    let mut w = workload(Consistency::Serializable, vec![0], CLOSED, 2_000);
    w.clients = 20;
    w.auth = AuthMode::SimpleToken;
    let r = run(&p, &w, 1);
    assert!(
        (r.reads.throughput_rps - 10_000.0).abs() < 50.0,
        "one 100 µs check at a time: {}",
        r.reads.throughput_rps
    );
    assert!(stage_us(&r, Stage::LockWait) > 1000.0);
    // JWT verification takes no lock; with the RBAC check's lock shared (3.6), nothing waits.
    w.auth = AuthMode::Jwt;
    let p = zero_cost(
        3,
        200.0,
        "[cpu]\nauth_jwt_us = 100\n[mechanisms]\nrbac_lock = \"shared\"\n",
    );
    let r = run(&p, &w, 1);
    assert_eq!(
        stage_us(&r, Stage::LockWait),
        0.0,
        "JWT checks take no lock"
    );
    assert!(
        r.reads.throughput_rps > 50_000.0,
        "8 cores verify in parallel: {}",
        r.reads.throughput_rps
    );
}

#[test]
fn versions_set_flags_and_each_flag_can_be_overridden() {
    let m = Mechanisms::for_version(3, 0);
    assert_eq!(
        (
            m.balancer,
            m.limit_pushdown,
            m.rbac_lock,
            m.grpc_writer_yields
        ),
        (Balancer::Pinned, false, RbacLock::BatchTx, false)
    );
    let m = Mechanisms::for_version(5, 4);
    assert_eq!(
        (
            m.balancer,
            m.limit_pushdown,
            m.rbac_lock,
            m.grpc_writer_yields
        ),
        (Balancer::RoundRobin, true, RbacLock::ReadTxExclusive, true)
    );
    let p = zero_cost(
        3,
        200.0,
        "[mechanisms]\nbalancer = \"pinned\"\nlimit_pushdown = true\nrbac_lock = \"shared\"\n",
    );
    assert_eq!(p.mechanisms.balancer, Balancer::Pinned);
    assert!(p.mechanisms.limit_pushdown);
    assert_eq!(p.mechanisms.rbac_lock, RbacLock::Shared);
}

/// An open-loop rate above capacity grows the backlog without bound: the run stops at the
/// in-flight cap, says it saturated, and names what saturated. Below capacity it does not.
#[test]
fn an_open_loop_rate_above_capacity_is_reported_as_saturated() {
    let mut p = zero_cost(1, 0.0, "");
    for h in &mut p.hosts {
        h.cores = 1;
    }
    p.member_costs.grpc_request = etcdsim::engine::dist::Dist::constant_us(10.0);
    // Capacity is 100,000 requests/s: offer twice that, then half.
    for (rate, saturated) in [(200_000.0, true), (50_000.0, false)] {
        let w = workload(
            Consistency::Serializable,
            vec![0],
            Arrivals::Open { rate },
            1_000_000,
        );
        let opts = etcdsim::model::RunOptions {
            max_in_flight: 10_000,
            ..Default::default()
        };
        let r = etcdsim::model::run(&p, &w, 1, opts);
        assert_eq!(r.saturated(), saturated, "at {rate} req/s");
        if saturated {
            assert_eq!(r.bottleneck, "member0_cpu");
            assert!(
                r.reads.completed < 100_000,
                "stopped early: {}",
                r.reads.completed
            );
        } else {
            assert_eq!(r.reads.completed, 1_000_000);
        }
        assert!(r.invariant_errors.is_empty(), "{:?}", r.invariant_errors);
    }
}

/// The gRPC proxy: with one key, serializable reads after the first are answered from its cache
/// and never reach a member; linearizable reads always go through, one proxy hop (an RTT and
/// the proxy's CPU) slower than without it; a put through the proxy invalidates its key.
#[test]
fn the_proxy_answers_serializable_reads_from_its_cache() {
    let proxy = "[proxy]\ncores = 4\nnic_bandwidth_gbps = inf\nrequest_us = 10\nresponse_us = 10\n";
    let with = zero_cost(3, 1000.0, proxy);
    let without = zero_cost(3, 1000.0, "");
    let s = workload(Consistency::Serializable, vec![0], CLOSED, 200);
    let r = run(&with, &s, 1);
    assert_eq!(r.proxy_cache, Some((199, 1)));
    // A hit: client → proxy → client, one RTT plus 20 µs of proxy CPU.
    // Every hit takes exactly that (constant costs); the one miss takes longer.
    assert_eq!(r.reads.latency.min(), 1_020_000);
    assert!(stage_us(&r, Stage::Proxy) > 19.0);
    let l = workload(Consistency::Linearizable, vec![0], CLOSED, 200);
    let (rl, rn) = (run(&with, &l, 1), run(&without, &l, 1));
    assert_eq!(rl.proxy_cache, Some((0, 0)));
    let extra = (rl.reads.latency_w.mean() - rn.reads.latency_w.mean()) / 1e3;
    assert!(
        (extra - 1020.0).abs() < 5.0,
        "a linearizable read via the proxy costs {extra} µs more"
    );
    assert!(run(&without, &s, 1).proxy_cache.is_none());
    // Half the ops are puts to the one key: each invalidates it, so far fewer hits.
    let mut mixed = workload(Consistency::Serializable, vec![0], CLOSED, 400);
    mixed.read_ratio = 0.5;
    let (hits, misses) = run(&with, &mixed, 1).proxy_cache.unwrap();
    println!("proxy, half puts on one key: {hits} hits, {misses} misses");
    assert!(misses > 50 && hits > 0, "{hits} hits, {misses} misses");
}

/// A mix of reads: `serializable_ratio` sends that share of reads serializable, so they skip
/// ReadIndex, and the rest stay linearizable.
#[test]
fn a_read_mix_sends_its_share_serializable() {
    let p = zero_cost(3, 1000.0, "");
    let mut w = workload(Consistency::Linearizable, vec![0], CLOSED, 4000);
    let all_l = run(&p, &w, 1).reads.latency_w.mean();
    w.serializable_ratio = 1.0;
    let all_s = run(&p, &w, 1).reads.latency_w.mean();
    w.serializable_ratio = 0.25;
    let mixed = run(&p, &w, 1).reads.latency_w.mean();
    // The mean is the mix of the two: 0.75 l + 0.25 s, within sampling error.
    let expect = 0.75 * all_l + 0.25 * all_s;
    println!(
        "read mix: l {all_l:.0} ns, s {all_s:.0} ns, 25% s {mixed:.0} ns (expect {expect:.0})"
    );
    assert!(all_l > all_s + 900_000.0);
    assert!(
        (mixed - expect).abs() / expect < 0.05,
        "{mixed} vs {expect}"
    );
}

/// A link's delay varies over time, not per message: on a busy link, messages do not queue
/// behind the slow draws of earlier ones, so the mean network time stays the configured one.
/// (Poisson arrivals see time averages; a closed loop would see fast epochs more often.)
#[test]
fn a_busy_link_keeps_its_configured_mean_delay() {
    use etcdsim::config::dist::DistSpec;
    let mut p = zero_cost(3, 200.0, "[cpu]\ngrpc_request_us = 5\n");
    let jitter = DistSpec::Lognormal {
        mean: Some(100.0),
        p99: Some(250.0),
        mu: None,
        sigma: None,
    }
    .validate()
    .unwrap();
    for row in &mut p.latency {
        for d in row.iter_mut() {
            *d = jitter.clone();
        }
    }
    let open = Arrivals::Open { rate: 50_000.0 };
    let mut w = workload(Consistency::Serializable, vec![0, 1, 2], open, 200_000);
    w.conns = 10;
    let r = run(&p, &w, 1);
    let (req, resp) = (
        stage_us(&r, Stage::NetRequest),
        stage_us(&r, Stage::NetResponse),
    );
    println!(
        "busy links: net_request {req:.1} µs, net_response {resp:.1} µs (configured mean 100)"
    );
    assert!(
        (req - 100.0).abs() < 5.0 && (resp - 100.0).abs() < 5.0,
        "{req} {resp}"
    );
}

/// `go.wake_us`: a thread that wakes a sleeping one onto an idle core pays for it (a futex
/// wake, or a loopback write to a reader asleep in the poller), and under load, with no core
/// idle and nobody asleep, nobody does. Members and client share one host of 2 cores, as on
/// the reference machine; every other cost is a few µs so that one client leaves the cores
/// idle between its steps.
#[test]
fn waking_a_sleeping_thread_costs_the_waker_only_while_a_core_idles() {
    let model = |wake_us: f64| {
        let text = format!(
            r#"
etcd_version = "3.4"
[cluster]
voters = 3
[member]
cores = 2
nic_bandwidth_gbps = inf
[client]
cores = 2
nic_bandwidth_gbps = inf
loop_us = 5
request_us = 5
response_us = 5
[cpu]
grpc_request_us = 10
grpc_response_us = 5
[go]
thread_wake_us = 20
park_us = 5
wake_us = {wake_us}
[placement]
hosts = [{{ name = "box", cores = 2, nic_bandwidth_gbps = inf }}]
members = ["box"]
client = "box"
"#
        );
        let mut p = model_from_str("wake.toml", &text, &[]).unwrap();
        p.mechanisms.grpc_writer_yields = false;
        p
    };
    // CPU per request of each process, in µs, and the mean latency.
    let per_req = |wake_us: f64, clients: u32| {
        let mut w = workload(Consistency::Serializable, vec![0], CLOSED, 4_000);
        w.clients = clients;
        w.conns = clients.min(16);
        let r = run(&model(wake_us), &w, 1);
        let cpu = |name: &str| {
            r.process_cpu_s.iter().find(|(n, _)| n == name).unwrap().1 * 1e6
                / r.reads.completed as f64
        };
        (
            cpu("client"),
            cpu("member0"),
            r.reads.latency_w.mean() / 1e3,
        )
    };
    let (c0, m0, l0) = per_req(0.0, 1);
    let (c1, m1, l1) = per_req(10.0, 1);
    println!(
        "one client: client {c0:.1} -> {c1:.1} µs, member {m0:.1} -> {m1:.1} µs, latency {l0:.1} -> {l1:.1} µs"
    );
    // Each side's writer wakes the other's sleeping poller thread once a request at least.
    assert!(c1 - c0 >= 10.0 - 1e-6, "the client pays its wake-ups");
    assert!(m1 - m0 >= 10.0 - 1e-6, "the member pays its wake-ups");
    assert!(
        l1 > l0,
        "the waker's system call lies on the request's path"
    );
    let (b0, n0, _) = per_req(0.0, 64);
    let (b1, n1, _) = per_req(10.0, 64);
    println!("64 clients: client {b0:.1} -> {b1:.1} µs, member {n0:.1} -> {n1:.1} µs");
    assert!(
        b1 - b0 < 0.1 * (c1 - c0) && n1 - n0 < 0.1 * (m1 - m0),
        "with the cores busy almost nobody sleeps, and almost nobody pays"
    );
}
