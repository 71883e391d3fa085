//! The etcd read path in scripted scenarios: ReadIndex batching, the cost of a
//! follower-served linearizable read, reduction to a closed-form queue, and the stage
//! accounting invariant.

use etcdsim::config::model::model_from_str;
use etcdsim::engine::dist::Dist;
use etcdsim::model::{
    self, Arrivals, AuthMode, ClusterParams, Consistency, EndpointPolicy, RangeOp, RunOptions,
    RunResult, Stage, Workload,
};
use etcdsim::stats::student_t_ci;

/// A cluster whose every cost is zero unless a test sets it (a parked thread wakes at once,
/// too), with `rtt_us` between machines. Its gRPC writers write at once: their yield before a
/// small write (etcd 3.4's gRPC) sends the write behind the P's queued goroutines, a wait of
/// its own that `probe.rs` tests apart.
pub fn zero_cost(voters: u8, rtt_us: f64, extra: &str) -> ClusterParams {
    let text = format!(
        r#"
etcd_version = "3.4"
[cluster]
voters = {voters}
[member]
cores = 8
nic_bandwidth_gbps = inf
[client]
cores = 16
nic_bandwidth_gbps = inf
[network]
rtt_us = {rtt_us}
{extra}
"#
    );
    let mut p = model_from_str("test.toml", &text, &[]).expect("test model is valid");
    p.go.thread_wake = etcdsim::engine::SimDuration::ZERO;
    p.mechanisms.grpc_writer_yields = false;
    p
}

pub fn workload(
    consistency: Consistency,
    endpoints: Vec<u8>,
    arrivals: Arrivals,
    total: u64,
) -> Workload {
    Workload {
        clients: 1,
        conns: 1,
        endpoints: endpoints
            .into_iter()
            .map(etcdsim::model::MemberId)
            .collect(),
        policy: EndpointPolicy::PerConnection,
        arrivals,
        total,
        warmup_requests: 0,
        duration: None,
        warmup_time: etcdsim::engine::SimDuration::ZERO,
        range: RangeOp {
            consistency,
            keys_in_range: 1,
            limit: 0,
            count_only: false,
            key_bytes: 8,
            value_bytes: 256,
            total_keys: 1,
        },
        auth: AuthMode::None,
        rbac_rules: 0,
        put: etcdsim::model::PutOp {
            key_bytes: 8,
            value_bytes: 256,
        },
        read_ratio: 1.0,
        serializable_ratio: 0.0,
        write_rate: 0.0,
        bulk_load_commit_puts: 0,
        token_reuse: 1.0,
        expensive_rate: 0.0,
        expensive_range: RangeOp {
            consistency,
            keys_in_range: 1000,
            limit: 0,
            count_only: false,
            key_bytes: 8,
            value_bytes: 256,
            total_keys: 1000,
        },
        timeline: Vec::new(),
        request_timeout: None,
        interval: None,
        probe: None,
    }
}

pub fn run(p: &ClusterParams, w: &Workload, seed: u64) -> RunResult {
    let r = model::run(
        p,
        w,
        seed,
        RunOptions {
            record_requests: 1_000,
            ..RunOptions::default()
        },
    );
    assert_eq!(r.stage_sum_mismatches, 0, "stages must sum to the latency");
    assert!(r.invariant_errors.is_empty(), "{:?}", r.invariant_errors);
    r
}

const US: u64 = 1_000;

/// One read starts a round on follower 1 at t = 500 µs (half an RTT after it is sent). Three
/// more reach the member at 600, 700 and 800 µs, during that round: they must wait for the
/// next round, which starts when the first ends and releases all three at once.
///
/// With RTT 1 ms and zero costs, a round from a follower is four one-way hops: MsgReadIndex to
/// the leader, heartbeat out, heartbeat response back, MsgReadIndexResp: 2 ms. Round 1 runs
/// 500–2500 µs, round 2 2500–4500 µs; each response takes another 500 µs to the client.
#[test]
fn reads_arriving_during_a_round_share_the_next_round() {
    let p = zero_cost(3, 1000.0, "");
    let at = vec![0, 100 * US, 200 * US, 300 * US];
    let w = workload(
        Consistency::Linearizable,
        vec![1],
        Arrivals::Scripted {
            at_ns: at,
            puts: vec![],
        },
        4,
    );
    let r = run(&p, &w, 1);
    let mut recs = r.records.clone();
    recs.sort_by_key(|x| x.seq);
    let ends: Vec<u64> = recs.iter().map(|x| x.end_ns / US).collect();
    assert_eq!(ends, vec![3000, 5000, 5000, 5000]);
    assert_eq!(r.readindex_rounds, 2);
    assert_eq!(r.reads_per_round, 2.0);
    // The three batched reads waited in the batch stage until round 2 began at 2500 µs.
    let batch: Vec<u64> = recs
        .iter()
        .map(|x| x.stages_ns[Stage::ReadIndexBatch as usize] / US)
        .collect();
    assert_eq!(batch, vec![0, 1900, 1800, 1700]);
    let round: Vec<u64> = recs
        .iter()
        .map(|x| x.stages_ns[Stage::ReadIndexRound as usize] / US)
        .collect();
    assert_eq!(round, vec![2000, 2000, 2000, 2000]);
}

/// `EtcdServer.Range` runs `linearizableReadNotify` before `doSerialize`, so the token check
/// comes after ReadIndex: the batch that round 2 releases at 4500 µs meets the simple-token
/// mutex all at once and goes through it one 100 µs check at a time (ends at 4600, 4700 and
/// 4800 µs on the member, plus 500 µs back to the client).
#[test]
fn the_token_check_follows_readindex_and_a_released_batch_queues_on_its_mutex() {
    let p = zero_cost(3, 1000.0, "[cpu]\nauth_simple_token_us = 100\n");
    let at = vec![0, 100 * US, 200 * US, 300 * US];
    let mut w = workload(
        Consistency::Linearizable,
        vec![1],
        Arrivals::Scripted {
            at_ns: at,
            puts: vec![],
        },
        4,
    );
    w.auth = AuthMode::SimpleToken;
    let r = run(&p, &w, 1);
    let mut recs = r.records.clone();
    recs.sort_by_key(|x| x.seq);
    let ends: Vec<u64> = recs.iter().map(|x| x.end_ns / US).collect();
    assert_eq!(ends, vec![3100, 5100, 5200, 5300]);
    let waits: Vec<u64> = recs
        .iter()
        .map(|x| x.stages_ns[Stage::LockWait as usize] / US)
        .collect();
    assert_eq!(waits, vec![0, 0, 100, 200]);
}

fn realistic_costs() -> &'static str {
    r#"
[cpu]
grpc_request_us = 20
grpc_response_us = 10
auth_simple_token_us = 1
rbac_us = 3
index_us = 10
value_us = 5
raft_step_us = 4
ready_us = 8
[client]
"#
}

fn mean_latency_us(p: &ClusterParams, c: Consistency, member: u8) -> f64 {
    let w = workload(
        c,
        vec![member],
        Arrivals::Closed { rate_limit: None },
        2_000,
    );
    run(p, &w, 3).reads.latency_w.mean() / 1e3
}

/// On an idle cluster, a linearizable read served by a follower costs about two member RTTs
/// more than a serializable one (MsgReadIndex to the leader and back, plus the heartbeat
/// round), and one served by the leader about one RTT more (the heartbeat round alone). The
/// rest is raft steps and Ready handling, a few tens of µs here.
#[test]
fn a_follower_linearizable_read_costs_about_two_rtts_more() {
    let text = realistic_costs().replace("[client]\n", "");
    let p = zero_cost(3, 1000.0, &text);
    let ser = mean_latency_us(&p, Consistency::Serializable, 1);
    let lin_f = mean_latency_us(&p, Consistency::Linearizable, 1);
    let lin_l = mean_latency_us(&p, Consistency::Linearizable, 0);
    println!(
        "serializable {ser:.1} µs, linearizable via follower {lin_f:.1} µs, via leader {lin_l:.1} µs"
    );
    let extra_f = lin_f - ser;
    let extra_l = lin_l - ser;
    assert!(
        (2000.0..2100.0).contains(&extra_f),
        "follower extra {extra_f} µs"
    );
    assert!(
        (1000.0..1060.0).contains(&extra_l),
        "leader extra {extra_l} µs"
    );
}

/// With every cost zero except the member's gRPC receive (exponential, mean S = 10 µs) on a
/// single core, no network delay, one member and Poisson arrivals, a serializable read is an
/// M/M/1 customer: E[T] = S / (1 − ρ). At ρ = 0.8: 50 µs. Twelve replications; the exact value
/// must lie in the 99% CI and the grand mean within 2%.
#[test]
fn a_single_cpu_stage_reduces_to_mm1() {
    let mut p = zero_cost(1, 0.0, "");
    for h in &mut p.hosts {
        h.cores = 1;
    }
    p.member_costs.grpc_request = Dist::exponential_us(10.0);
    let rate = 0.8 / 10e-6;
    let mut w = workload(
        Consistency::Serializable,
        vec![0],
        Arrivals::Open { rate },
        200_000,
    );
    w.conns = 1;
    w.warmup_requests = 10_000;
    let means: Vec<f64> = (1..=12)
        .map(|seed| run(&p, &w, seed).reads.latency_w.mean())
        .collect();
    let ci = student_t_ci(&means, 0.99);
    let exact = 10_000.0 / (1.0 - 0.8);
    println!(
        "M/M/1 through the etcd model: exact {exact} ns, simulated {:.1} ± {:.1}",
        ci.mean, ci.half_width
    );
    assert!(ci.contains(exact), "{ci:?}");
    assert!((ci.mean - exact).abs() / exact < 0.02);
    // On a one-member cluster a linearizable read also needs the read loop, the raft node, the
    // Ready loop and the apply goroutine, all at zero cost here. Each is readied by the one
    // before it into the P's runnext, but the Ready loop readies two in a row (the ReadState
    // on readStateC, then the batch on applyc), and the second displaces the read loop to the
    // tail of the local queue, behind the request goroutines the poller has injected there. So
    // even at zero cost the round waits, and the read is clearly slower than M/M/1, while its
    // only service is still the 10 µs gRPC stage.
    w.range.consistency = Consistency::Linearizable;
    let lin = run(&p, &w, 1);
    let grpc = lin.reads.stages[Stage::Grpc as usize].mean_ns;
    println!(
        "linearizable on one member: {:.1} ns, gRPC service {grpc:.1} ns",
        lin.reads.latency_w.mean()
    );
    let rel = (lin.reads.latency_w.mean() - exact) / exact;
    assert!(rel > 0.10, "linearizable {rel:+.3} from M/M/1");
    assert!((grpc - 10_000.0).abs() < 200.0, "gRPC service {grpc}");
}

/// Stage accounting on an idle cluster with constant costs: each service stage carries
/// exactly its configured cost, and the stages sum to the latency.
#[test]
fn stages_carry_their_costs_and_sum_to_the_latency() {
    let text = realistic_costs().replace("[client]\n", "");
    let p = zero_cost(3, 200.0, &text);
    let mut w = workload(
        Consistency::Serializable,
        vec![1],
        Arrivals::Closed { rate_limit: None },
        100,
    );
    w.auth = AuthMode::SimpleToken;
    let r = run(&p, &w, 1);
    let stage = |s: Stage| r.reads.stages[s as usize].mean_ns / 1e3;
    assert_eq!(stage(Stage::Grpc), 30.0);
    assert_eq!(stage(Stage::Auth), 4.0);
    assert_eq!(stage(Stage::Index), 10.0);
    assert_eq!(stage(Stage::Value), 5.0);
    assert_eq!(stage(Stage::NetRequest), 100.0);
    assert_eq!(stage(Stage::NetResponse), 100.0);
    assert_eq!(stage(Stage::CpuQueue), 0.0);
    let sum: f64 = r.reads.stages.iter().map(|s| s.mean_ns).sum();
    assert!((sum - r.reads.latency_w.mean()).abs() < 1e-6);
    assert_eq!(r.reads.latency_w.mean() / 1e3, 249.0);
}

/// A learner refuses linearizable reads ("rpc not supported for learner") and serves
/// serializable ones.
#[test]
fn learners_serve_only_serializable_reads() {
    let mut p = zero_cost(3, 200.0, "");
    p.learners = 1;
    p.member_host = [0, 1, 2, 4].map(etcdsim::model::HostId).to_vec();
    p.hosts.insert(3, p.hosts[2].clone());
    p.hosts[3].name = "member3".into();
    p.client_host = etcdsim::model::HostId(4);
    p.latency = vec![vec![Dist::constant_us(100.0); 5]; 5];
    let w = workload(
        Consistency::Linearizable,
        vec![3],
        Arrivals::Closed { rate_limit: None },
        50,
    );
    let r = run(&p, &w, 1);
    assert_eq!((r.reads.completed, r.reads.failed), (0, 50));
    let w = workload(
        Consistency::Serializable,
        vec![3],
        Arrivals::Closed { rate_limit: None },
        50,
    );
    let r = run(&p, &w, 1);
    assert_eq!((r.reads.completed, r.reads.failed), (50, 0));
}

/// Batching: under load, one round serves many reads, so the leader sees far fewer
/// heartbeat rounds than reads.
#[test]
fn many_concurrent_reads_share_rounds() {
    let text = realistic_costs().replace("[client]\n", "");
    let p = zero_cost(3, 500.0, &text);
    let mut w = workload(
        Consistency::Linearizable,
        vec![0, 1, 2],
        Arrivals::Closed { rate_limit: None },
        20_000,
    );
    w.clients = 300;
    w.conns = 30;
    let r = run(&p, &w, 1);
    println!(
        "{} rounds, {:.1} reads per round, {:.0} reads/s",
        r.readindex_rounds, r.reads_per_round, r.reads.throughput_rps
    );
    assert!(r.reads_per_round > 20.0, "{}", r.reads_per_round);
    assert_eq!(r.reads.completed, 20_000);
}

#[test]
fn the_etcd_model_is_deterministic() {
    let text = realistic_costs().replace("[client]\n", "");
    let mut p = zero_cost(3, 500.0, &text);
    p.member_costs.grpc_request = Dist::exponential_us(20.0);
    let mut w = workload(
        Consistency::Linearizable,
        vec![0, 1, 2],
        Arrivals::Closed { rate_limit: None },
        5_000,
    );
    w.clients = 50;
    w.conns = 5;
    let a = run(&p, &w, 11);
    let b = run(&p, &w, 11);
    let c = run(&p, &w, 12);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(
        a.reads.latency_w.mean().to_bits(),
        b.reads.latency_w.mean().to_bits()
    );
    assert_ne!(a.trace_hash, c.trace_hash);
}

/// The round's hops on an idle cluster whose only cost is the network: via the leader, the
/// heartbeat quorum is one round trip and every other hop is instant; via a follower, asking
/// the leader and the ReadState's way back are one way each.
#[test]
fn the_rounds_hops_carry_the_network_where_etcd_sends_messages() {
    use etcdsim::model::RoundHop;
    let rtt_ns = 1_000_000.0;
    let p = zero_cost(3, rtt_ns / 1e3, "");
    let hop = |r: &RunResult, h: RoundHop| {
        r.round_hops
            .iter()
            .find(|x| x.hop == h)
            .map_or(f64::NAN, |x| x.mean_ns)
    };
    let scripted = |n: u64| Arrivals::Scripted {
        at_ns: (0..n).map(|i| i * 10_000_000).collect(),
        puts: Vec::new(),
    };
    let leader = run(
        &p,
        &workload(Consistency::Linearizable, vec![0], scripted(20), 20),
        1,
    );
    // Member 0 leads by default: a heartbeat out and its answer back.
    assert!(
        (hop(&leader, RoundHop::Quorum) - rtt_ns).abs() < 1.0,
        "{:?}",
        leader.round_hops
    );
    for h in [RoundHop::Ask, RoundHop::ReadState, RoundHop::Apply] {
        assert!(
            hop(&leader, h).abs() < 1.0,
            "{h:?}: {:?}",
            leader.round_hops
        );
    }
    let follower = run(
        &p,
        &workload(Consistency::Linearizable, vec![1], scripted(20), 20),
        1,
    );
    assert!((hop(&follower, RoundHop::Ask) - rtt_ns / 2.0).abs() < 1.0);
    assert!((hop(&follower, RoundHop::Quorum) - rtt_ns).abs() < 1.0);
    assert!((hop(&follower, RoundHop::ReadState) - rtt_ns / 2.0).abs() < 1.0);
    let total: f64 = follower.round_hops.iter().map(|h| h.mean_ns).sum();
    assert!(
        (total - 2.0 * rtt_ns).abs() < 1.0,
        "the hops make up the round"
    );
}
