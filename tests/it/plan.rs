//! `etcdsim plan`: the capacity search against queueing theory, the choice of candidate, and
//! the command end to end.

use etcdsim::capacity::{Search, choose};
use etcdsim::config::plan::default_run_options;
use etcdsim::engine::SimDuration;
use etcdsim::engine::dist::Dist;
use etcdsim::model::{Arrivals, Consistency};
use etcdsim::runner::plan::max_rate;

use crate::readpath::{workload, zero_cost};

/// A cluster that reduces to M/M/1 (one member, one core, one exponential 50 µs CPU stage, no
/// other cost): the response time is exponential with rate μ − λ, so p99 = ln(100) / (μ − λ),
/// and the largest rate with p99 ≤ X is λ* = μ − ln(100) / X. With μ = 20,000/s and X = 1 ms,
/// λ* = 15,394.8/s. The search must find it within 2%.
#[test]
fn the_search_finds_the_mm1_rate_where_p99_meets_the_objective() {
    let mut p = zero_cost(1, 0.0, "");
    for h in &mut p.hosts {
        h.cores = 1;
    }
    p.member_costs.grpc_request = Dist::exponential_us(50.0);
    let mut w = workload(
        Consistency::Serializable,
        vec![0],
        Arrivals::Open { rate: 1.0 },
        u64::MAX,
    );
    w.conns = 1;
    w.duration = Some(SimDuration::from_secs_f64(4.2));
    w.warmup_time = SimDuration::from_secs_f64(0.2);
    let s = Search {
        read_p99_ms: 1.0,
        write_p99_ms: None,
        allow_failures: false,
        reps: (4, 10),
        precision: 0.01,
        target: 10_000.0,
        seed: 1,
    };
    let exact = 20_000.0 - 100f64.ln() / 1e-3;
    let lim = max_rate(&p, &w, &s, 0, default_run_options());
    let err = (lim.max_rate / exact - 1.0).abs();
    println!(
        "plan on M/M/1: found {:.1}/s (first failing {:.1}/s), exact {exact:.1}/s, error {:.2}%, {} probes",
        lim.max_rate,
        lim.fail_rate(),
        err * 100.0,
        lim.probes.len()
    );
    assert!(err < 0.02, "{} vs {exact}", lim.max_rate);
    assert!(lim.fail_rate() / lim.max_rate - 1.0 <= 0.011);
}

/// A dearer or slower candidate never wins while a cheaper one meets the target; if none
/// meets it, none is chosen.
#[test]
fn cost_and_a_slower_disk_never_make_a_candidate_the_choice() {
    // Candidate 0 meets the target cheaply; 1 costs more; 2 is 0 with a slower disk (lower
    // maximum rate) at the same cost.
    let costs = [2.0, 3.0, 2.0];
    let rates = [120.0, 500.0, 105.0];
    assert_eq!(choose(&costs, &rates, 100.0), Some(0));
    // Raising 1's cost further changes nothing; lowering 0's rate below the target hands the
    // choice to the next cheapest that meets it.
    assert_eq!(choose(&[2.0, 9.0, 2.0], &rates, 100.0), Some(0));
    assert_eq!(choose(&costs, &[90.0, 500.0, 105.0], 100.0), Some(2));
    assert_eq!(choose(&costs, &[90.0, 99.0, 50.0], 100.0), None);
}

/// Through the model too: the same cluster with a 10 ms disk reaches a lower maximum rate, so
/// at equal cost it is not chosen.
#[test]
fn a_slower_disk_lowers_the_maximum_rate() {
    let fast = zero_cost(
        3,
        200.0,
        "[cpu]\ngrpc_request_us = 20\napply_entry_us = 20\n[disk]\nfsync_us = 500\n",
    );
    let slow = zero_cost(
        3,
        200.0,
        "[cpu]\ngrpc_request_us = 20\napply_entry_us = 20\n[disk]\nfsync_us = 10000\n",
    );
    let mut w = workload(
        Consistency::Linearizable,
        vec![0, 1, 2],
        Arrivals::Open { rate: 1.0 },
        u64::MAX,
    );
    w.conns = 3;
    w.write_rate = 200.0;
    w.duration = Some(SimDuration::from_secs_f64(0.7));
    w.warmup_time = SimDuration::from_secs_f64(0.2);
    let s = Search {
        read_p99_ms: 150.0,
        write_p99_ms: Some(200.0),
        allow_failures: false,
        reps: (2, 4),
        precision: 0.05,
        target: 20_000.0,
        seed: 1,
    };
    let (a, b) = (
        max_rate(&fast, &w, &s, 0, default_run_options()),
        max_rate(&slow, &w, &s, 0, default_run_options()),
    );
    println!(
        "fast disk {:.0}/s, slow disk {:.0}/s",
        a.max_rate, b.max_rate
    );
    for pr in &b.probes {
        println!("  slow {:.0}/s: {} {}", pr.rate, pr.pass, pr.why);
    }
    assert!(b.max_rate > 0.0 && a.max_rate > b.max_rate);
    assert_eq!(
        choose(&[1.0, 1.0], &[a.max_rate, b.max_rate], b.max_rate * 1.5),
        Some(0)
    );
}

fn run_plan(plan: &str, out: &std::path::Path, threads: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_etcdsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["plan", plan, "--threads", threads, "--out"])
        .arg(out)
        .output()
        .expect("etcdsim runs")
}

/// The shipped plan runs end to end and writes every output.
#[test]
fn the_shipped_plan_runs_and_writes_its_outputs() {
    let out = std::env::temp_dir().join(format!("etcdsim-plan-{}", std::process::id()));
    let status = run_plan("experiments/plans/k8s-control-plane.toml", &out, "2");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("Chosen:"), "{text}");
    for f in [
        "plan.csv",
        "probes.csv",
        "sensitivity.csv",
        "hockey-stick.svg",
        "tornado.svg",
        "plan.toml",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let csv = std::fs::read_to_string(out.join("plan.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    let _ = std::fs::remove_dir_all(&out);
}

/// A small plan gives the same bytes on one thread and on two.
#[test]
fn a_plan_is_the_same_on_one_thread_and_two() {
    let dir = std::env::temp_dir().join(format!("etcdsim-plan-det-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = concat!(env!("CARGO_MANIFEST_DIR"), "/models/gce-8vcpu-ssd.toml");
    let plan = dir.join("small.toml");
    std::fs::write(
        &plan,
        format!(
            "target_read_rate = 20000\nduration_s = 0.3\nprecision = 0.05\nreplications = 2\nmax_replications = 4\n\
             [workload]\nclients = 10\nconns = 10\nkeys_in_range = 10\ntotal_keys = 1000\nwrite_rate = 200\n\
             [objectives]\nread_p99_ms = 10\n\
             [[candidates]]\nname = \"three\"\nmodel = {model:?}\ncost = 3\n\
             [[candidates]]\nname = \"five\"\nmodel = {model:?}\ncost = 5\nset = {{ \"cluster.voters\" = 5 }}\n\
             [sensitivity]\nmodel = [\"disk.fsync_us\"]\nworkload = []\n"
        ),
    )
    .unwrap();
    let plan = plan.display().to_string();
    let (a, b) = (dir.join("a"), dir.join("b"));
    for (out, threads) in [(&a, "1"), (&b, "2")] {
        let o = run_plan(&plan, out, threads);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for f in ["plan.csv", "probes.csv", "sensitivity.csv"] {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(x == y, "{f} differs between 1 and 2 threads");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A plan with a fault: each candidate is run through a leader kill at the target rate. The
/// cheaper candidate reaches the rate but, with etcd's default clock, the election takes longer
/// than the clients' 1 s deadline, so reads fail; the one with a 500 ms election timeout is
/// elected within the deadline and is chosen although it costs more. Bad fault entries are
/// refused with the key and the rule.
#[test]
fn a_plan_chooses_the_cheapest_candidate_that_survives_its_faults() {
    use crate::support::{run, scratch};
    let d = scratch("plan-faults");
    let plan = |faults: &str| {
        format!(
            r#"
name = "faults"
target_read_rate = 5000
replications = 2
max_replications = 2
duration_s = 0.3
warmup_s = 0.1
precision = 0.5
[workload]
clients = 16
conns = 16
consistency = "l"
balancer = "round-robin"
[objectives]
read_p99_ms = 20
fault_read_p99_ms = 1500
fault_max_failed = 100
{faults}
[[candidates]]
name = "default clock"
cost = 3.0
[[candidates]]
name = "fast clock"
cost = 3.1
set = {{ "cluster.heartbeat_interval_ms" = 50, "cluster.election_timeout_ms" = 500 }}
"#
        )
    };
    let fault = "[[faults]]\nname = \"leader kill\"\nduration_s = 3.0\nrequest_timeout_s = 1.0\ntimeline = [{ at_s = 1.0, kill = \"leader\" }]\n";
    let file = d.join("p.toml");
    std::fs::write(&file, plan(fault)).unwrap();
    let out = d.join("out");
    let (code, stdout, err) = run(&[
        "plan",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    println!("{stdout}");
    assert!(stdout.contains("Chosen: fast clock (cost 3.1)"), "{stdout}");
    assert!(
        stdout.contains("default clock is cheaper and reaches"),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(out.join("faults.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(
        rows[1].starts_with("default clock,") && rows[1].ends_with(",0"),
        "{csv}"
    );
    assert!(
        rows[2].starts_with("fast clock,") && rows[2].ends_with(",1"),
        "{csv}"
    );

    let no_objective = plan(fault).replace("fault_read_p99_ms = 1500\n", "");
    for (text, expect) in [
        (
            plan("[[faults]]\nname = \"x\"\ntimeline = [{ at_s = 1.0, kill = \"leader\" }]\n"),
            "faults[0].request_timeout_s: a fault needs the clients' deadline",
        ),
        (
            plan(
                "[[faults]]\nname = \"x\"\nrequest_timeout_s = 1.0\ntimeline = [{ at_s = 1.0, kill = \"member7\" }]\n",
            ),
            "faults[0]: workload.timeline[0].kill: must name a member",
        ),
        (
            plan(
                "[[faults]]\nname = \"x\"\nduration_s = 0.05\nrequest_timeout_s = 1.0\ntimeline = [{ at_s = 1.0, kill = \"leader\" }]\n",
            ),
            "faults[0].duration_s: must be more than warmup_s",
        ),
        (no_objective, "objectives.fault_read_p99_ms"),
    ] {
        std::fs::write(&file, text).unwrap();
        let (code, _, err) = run(&[
            "plan",
            file.to_str().unwrap(),
            "--out",
            d.join("bad").to_str().unwrap(),
        ]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(expect), "{expect}: {err}");
    }
}
