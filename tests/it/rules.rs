//! One case per validation rule: each bad value is refused with an error that names the file,
//! the key and the rule it breaks, and the shipped files stay valid.

use etcdsim::config::ConfigError;
use etcdsim::config::model::model_from_str;
use etcdsim::config::workload::WorkloadSpec;

const SHIPPED: &str = include_str!("../../models/gce-8vcpu-ssd.toml");
const FILE: &str = "models/gce-8vcpu-ssd.toml";

/// The error from the shipped model with `overrides`, as (key, rule).
fn model_error(overrides: &[&str]) -> (String, String) {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    match model_from_str(FILE, SHIPPED, &o) {
        Ok(_) => panic!("{overrides:?} was accepted"),
        Err(ConfigError::Invalid { file, key, rule }) => {
            assert_eq!(file, FILE);
            (key, rule)
        }
        Err(e) => panic!("{overrides:?}: not a rule error: {e}"),
    }
}

#[test]
fn each_model_rule_names_its_key_and_rule() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["etcd_version=\"2.3\""], "etcd_version", "3.x release"),
        (&["etcd_version=\"3.9\""], "etcd_version", "from 3.2 to 3.6"),
        (&["cluster.voters=0"], "cluster.voters", "between 1 and 9"),
        (
            &["go.os_wake_preempt_us=-1"],
            "go.os_wake_preempt_us",
            "between 1 and 1e9",
        ),
        (&["cluster.voters=10"], "cluster.voters", "between 1 and 9"),
        (&["cluster.learners=10"], "cluster.learners", "at most 9"),
        (&["cluster.leader=3"], "cluster.leader", "must name a voter"),
        (&["member.cores=0"], "member.cores", "between 1 and 4096"),
        (&["client.cores=5000"], "client.cores", "between 1 and 4096"),
        (
            &["member.nic_bandwidth_gbps=0"],
            "member.nic_bandwidth_gbps",
            "must be > 0",
        ),
        (&["network.rtt_us=-1"], "network.rtt_us", ">= 0"),
        (&["cpu.grpc_ns_per_byte=-2"], "cpu.grpc_ns_per_byte", ">= 0"),
        (
            &["write.backend_batch_interval_ms=0"],
            "write.backend_batch_interval_ms",
            "> 0",
        ),
        (
            &["write.backend_batch_limit=0"],
            "write.backend_batch_limit",
            "at least 1",
        ),
        (
            &["write.max_request_bytes=0"],
            "write.max_request_bytes",
            "at least 1",
        ),
        (
            &["write.max_apply_lag_entries=0"],
            "write.max_apply_lag_entries",
            "at least 1",
        ),
        (&["disk.fsync_cpu_us=-1"], "disk.fsync_cpu_us", ">= 0"),
        (
            &["disk.fsync_kernel_us=nan"],
            "disk.fsync_kernel_us",
            ">= 0",
        ),
        (
            &[
                "disk.fsync_us=100",
                "disk.fsync_cpu_us=60",
                "disk.fsync_kernel_us=40",
            ],
            "disk.fsync_cpu_us",
            "must be less than disk.fsync_us's mean (100 µs)",
        ),
    ];
    for (overrides, key, rule) in cases {
        let (k, r) = model_error(overrides);
        assert_eq!(&k, key, "{overrides:?}: {r}");
        assert!(r.contains(rule), "{overrides:?}: {k}: {r:?} lacks {rule:?}");
    }
}

#[test]
fn a_typo_in_a_model_key_suggests_the_nearest_one() {
    let text = SHIPPED.replacen("[cluster]\n", "[cluster]\nvoter = 3\n", 1);
    let e = model_from_str(FILE, &text, &[]).unwrap_err().to_string();
    assert!(e.starts_with(FILE), "{e}");
    assert!(e.contains("voter") && e.contains("did you mean"), "{e}");
    assert!(e.contains("cluster: unknown key `voter`"), "{e}");
}

/// The workload of TOML `text` against cluster `p`, validated.
fn spec(
    p: &etcdsim::model::ClusterParams,
    text: &str,
) -> Result<etcdsim::model::Workload, ConfigError> {
    let t: toml::Table = toml::from_str(text).unwrap();
    WorkloadSpec::deserialize_table(t)
        .unwrap()
        .validate(p, "exp.toml", "workload.")
}

/// The error from the default workload with `edits` (TOML lines), as (key, rule).
fn workload_error(edits: &str) -> (String, String) {
    let p = model_from_str(FILE, SHIPPED, &[]).unwrap();
    match spec(&p, edits) {
        Ok(_) => panic!("{edits:?} was accepted"),
        Err(ConfigError::Invalid { file, key, rule }) => {
            assert_eq!(file, "exp.toml");
            (key, rule)
        }
        Err(e) => panic!("{edits:?}: not a rule error: {e}"),
    }
}

#[test]
fn each_workload_rule_names_its_key_and_rule() {
    let cases: &[(&str, &str, &str)] = &[
        ("clients = 0", "clients", "at least 1"),
        ("clients = 10\nconns = 11", "conns", "between 1 and clients"),
        ("conns = 0", "conns", "between 1 and clients"),
        ("total = 0", "total", "at least 1"),
        ("total = 10\nwarmup = 10", "warmup", "less than total"),
        (
            "duration_s = 1.0\nwarmup_s = 2.0",
            "warmup_s",
            "less than duration_s",
        ),
        ("rate = -1.0", "rate", ">= 0"),
        ("open_rate = -5.0", "open_rate", ">= 0"),
        ("write_rate = -1.0", "write_rate", ">= 0"),
        ("expensive_rate = -1.0", "expensive_rate", ">= 0"),
        ("read_ratio = 1.5", "read_ratio", "probability in 0..=1"),
        ("token_reuse = -0.1", "token_reuse", "probability in 0..=1"),
        (
            "serializable_ratio = 2.0",
            "serializable_ratio",
            "probability in 0..=1",
        ),
        ("consistency = \"x\"", "consistency", "must be l or s"),
        (
            "keys_in_range = 10\ntotal_keys = 5",
            "keys_in_range",
            "must not exceed total_keys",
        ),
        (
            "bulk_load_commit_puts = 20000",
            "bulk_load_commit_puts",
            "must be at most write.batch_limit + 127 (10127)",
        ),
        ("balancer = \"random\"", "balancer", "pinned, round-robin"),
        ("auth = \"kerberos\"", "auth", "simple-token"),
        (
            "endpoints = [\"a\", \"b\", \"c\", \"d\"]",
            "endpoints",
            "the model has 3 members",
        ),
        ("endpoints = [\"member7\"]", "endpoints", "names no member"),
        (
            "put_val_size = 2000000",
            "put_val_size",
            "over the request limit",
        ),
        ("val_size = 1600000", "val_size", "write.max_request_bytes"),
        ("probe_rate = -1", "probe_rate", "finite rate >= 0"),
        ("probe_rate = 2e9", "probe_rate", "at most 1e9"),
        (
            "probe_target = \"leader\"",
            "probe_target",
            "needs probe_rate above 0",
        ),
        (
            "probe_rate = 50\nprobe_target = \"member9\"",
            "probe_target",
            "must be leader, follower or a member, member0 to member2",
        ),
    ];
    for (edits, key, rule) in cases {
        let (k, r) = workload_error(edits);
        assert_eq!(k, format!("workload.{key}"), "{edits:?}: {r}");
        assert!(r.contains(rule), "{edits:?}: {k}: {r:?} lacks {rule:?}");
    }
}

#[test]
fn a_value_over_the_request_limit_is_accepted_once_the_limit_is_raised() {
    let p = model_from_str(FILE, SHIPPED, &["write.max_request_bytes=4000000".into()]).unwrap();
    assert!(spec(&p, "put_val_size = 2000000").is_ok());
}

#[test]
fn run_caps_are_checked() {
    use etcdsim::config::experiment::Limits;
    let cases = [
        (
            Limits {
                max_events: Some(0),
                ..Limits::default()
            },
            "limits.max_events",
        ),
        (
            Limits {
                max_sim_time_s: Some(0.0),
                ..Limits::default()
            },
            "limits.max_sim_time_s",
        ),
        (
            Limits {
                max_sim_time_s: Some(f64::NAN),
                ..Limits::default()
            },
            "limits.max_sim_time_s",
        ),
        (
            Limits {
                max_in_flight: Some(0),
                ..Limits::default()
            },
            "limits.max_in_flight",
        ),
    ];
    for (l, key) in cases {
        match l.run_options("exp.toml") {
            Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key),
            other => panic!("{l:?}: {other:?}"),
        }
    }
    let o = Limits {
        max_events: Some(7),
        max_sim_time_s: Some(2.5),
        max_in_flight: Some(9),
    }
    .run_options("exp.toml")
    .unwrap();
    assert_eq!((o.max_events, o.max_in_flight), (7, 9));
    assert_eq!(o.max_sim_time.as_nanos(), 2_500_000_000);
}

#[test]
fn the_cap_that_stopped_a_run_is_reported() {
    use etcdsim::engine::SimDuration;
    use etcdsim::model::{self, RunOptions, StoppedBy};
    let p = model_from_str(FILE, SHIPPED, &[]).unwrap();
    let w = spec(&p, "clients = 10\nconns = 10\ntotal = 5000").unwrap();
    let full = model::run(&p, &w, 1, RunOptions::default());
    assert_eq!(full.stopped_by, StoppedBy::Finished);
    let events = RunOptions {
        max_events: 10_000,
        ..RunOptions::default()
    };
    let r = model::run(&p, &w, 1, events);
    assert_eq!((r.stopped_by, r.events), (StoppedBy::EventCap, 10_000));
    assert!(r.reads.completed < full.reads.completed && r.invariant_errors.is_empty());
    let time = RunOptions {
        max_sim_time: SimDuration::from_millis(50),
        ..RunOptions::default()
    };
    let r = model::run(&p, &w, 1, time);
    assert_eq!(r.stopped_by, StoppedBy::SimTimeCap);
    assert!(r.reads.completed < full.reads.completed && r.invariant_errors.is_empty());
    // An open-loop rate far above capacity grows the backlog until the cap stops it.
    let t: toml::Table = toml::from_str(
        "open_rate = 10000000.0
total = 1000000",
    )
    .unwrap();
    let w = WorkloadSpec::deserialize_table(t)
        .unwrap()
        .validate(&p, "exp.toml", "workload.")
        .unwrap();
    let backlog = RunOptions {
        max_in_flight: 1000,
        ..RunOptions::default()
    };
    let r = model::run(&p, &w, 1, backlog);
    assert_eq!(r.stopped_by, StoppedBy::Saturated);
    assert!(r.saturated());
}

#[test]
fn overrides_keep_a_string_key_a_string_and_rtt_scales_the_latency_shape() {
    let p = model_from_str(FILE, SHIPPED, &["etcd_version=3.5".into()]).unwrap();
    assert!(
        p.mechanisms.limit_pushdown,
        "3.5 pushes limit into the index walk"
    );
    // The shipped model gives the one-way latency a log-normal shape; setting rtt_us scales
    // that shape to a mean of rtt / 2.
    let base = model_from_str(FILE, SHIPPED, &["network.rtt_us=200".into()]).unwrap();
    let far = model_from_str(FILE, SHIPPED, &["network.rtt_us=2000".into()]).unwrap();
    let (m0, m1) = (base.latency[0][1].mean_ns(), far.latency[0][1].mean_ns());
    assert!(
        (m0 - 100_000.0).abs() < 1.0 && (m1 - 1_000_000.0).abs() < 10.0,
        "{m0} {m1}"
    );
}

/// Events name a host in one byte: more than 256 hosts are refused, not truncated.
#[test]
fn a_placement_of_more_than_256_hosts_is_refused() {
    let placement = |n: usize| {
        let hosts: Vec<String> = (0..n)
            .map(|i| format!("{{ name = \"h{i}\", cores = 2, nic_bandwidth_gbps = 10 }}"))
            .collect();
        format!(
            "{SHIPPED}\n[placement]\nhosts = [{}]\nmembers = [\"h0\", \"h1\", \"h2\"]\nclient = \"h3\"\n",
            hosts.join(", ")
        )
    };
    assert!(model_from_str(FILE, &placement(256), &[]).is_ok());
    match model_from_str(FILE, &placement(257), &[]) {
        Err(ConfigError::Invalid { file, key, rule }) => {
            assert_eq!((file.as_str(), key.as_str()), (FILE, "placement.hosts"));
            assert!(rule.contains("at most 256 hosts"), "{rule}");
        }
        other => panic!("257 hosts: {other:?}"),
    }
}

/// The probe dials the member `probe_target` names: a follower by default (the leader of a
/// one-member cluster), never one the cluster lacks, and never past a grpc-proxy, through
/// which the model sends every request.
#[test]
fn the_probe_dials_a_member_the_cluster_has() {
    let member = |overrides: &[&str], edits: &str| {
        let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        let p = model_from_str(FILE, SHIPPED, &o).unwrap();
        spec(&p, edits).map(|w| w.probe.map(|probe| probe.member.0))
    };
    // The shipped model's member 1 leads: its first follower is member 0.
    assert_eq!(member(&[], "probe_rate = 50").unwrap(), Some(0));
    assert_eq!(
        member(&[], "probe_rate = 50\nprobe_target = \"leader\"").unwrap(),
        Some(1)
    );
    let lead0 = ["cluster.leader=0"];
    assert_eq!(member(&lead0, "probe_rate = 50").unwrap(), Some(1));
    assert_eq!(
        member(&lead0, "probe_rate = 50\nprobe_target = \"member2\"").unwrap(),
        Some(2)
    );
    assert_eq!(member(&[], "").unwrap(), None);
    let one = ["cluster.voters=1", "cluster.leader=0"];
    assert_eq!(member(&one, "probe_rate = 50").unwrap(), Some(0));
    let rule = |overrides: &[&str], edits: &str| match member(overrides, edits) {
        Err(ConfigError::Invalid { key, rule, .. }) => (key, rule),
        other => panic!("{edits:?} was not refused: {other:?}"),
    };
    let (key, r) = rule(&one, "probe_rate = 50\nprobe_target = \"follower\"");
    assert_eq!(key, "workload.probe_target");
    assert!(r.contains("only voter is its leader"), "{r}");
    let proxy = [
        "proxy.cores=8",
        "proxy.nic_bandwidth_gbps=10",
        "proxy.request_us=10",
        "proxy.response_us=10",
    ];
    let (key, r) = rule(&proxy, "probe_rate = 50");
    assert_eq!(key, "workload.probe_rate");
    assert!(r.contains("grpc-proxy"), "{r}");
}
