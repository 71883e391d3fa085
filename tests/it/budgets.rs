//! Issue 19, budgets: counts bounded by what a run can hold (item 2), caps and thread counts for
//! every command and input files refused past a size (3), and a capped run that reports its
//! throughput over the time it was watched (11).

use crate::support::{experiment, plan_with, run, scratch};

#[test]
fn clients_beyond_what_a_run_holds_are_refused_before_any_allocation() {
    let dir = scratch("clients");
    let exp = experiment(&dir, "[workload]\nclients = 4294967295\nconns = 1\n");
    let err = etcdsim::runner::sweep::validate_experiment(&exp)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("exp.toml") && err.contains("workload.clients"),
        "{err}"
    );
    assert!(err.contains("at most 2000000"), "{err}");
    let exp = experiment(&dir, "[workload]\nclients = 300000\nconns = 1\n");
    let err = etcdsim::runner::sweep::validate_experiment(&exp)
        .unwrap_err()
        .to_string();
    assert!(err.contains("limits.max_in_flight (200000)"), "{err}");
    let (code, _, stderr) = run(&["benchmark", "--clients=100000000", "range", "foo"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--clients"), "{stderr}");
    let (code, _, stderr) = run(&["benchmark", "--clients=300000", "range", "foo"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--max-in-flight (200000)"), "{stderr}");
    let (code, _, stderr) = run(&["benchmark", "--max-in-flight=100000000", "range", "foo"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--max-in-flight: must be between 1 and 2000000"),
        "{stderr}"
    );
}

#[test]
fn thread_counts_are_bounded_and_zero_is_an_error() {
    let dir = scratch("threads");
    let exp = experiment(&dir, "[workload]\ntotal = 100\n");
    let exp = exp.to_str().unwrap();
    let plan = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/experiments/plans/k8s-control-plane.toml"
    );
    for (cmd, file) in [("run", exp), ("plan", plan)] {
        for n in ["0", "100000"] {
            let out = dir.join("out");
            let (code, _, stderr) =
                run(&[cmd, file, "--threads", n, "--out", out.to_str().unwrap()]);
            assert_eq!(code, Some(2), "{cmd} --threads {n}: {stderr}");
            assert!(
                stderr.contains("--threads: must be between 1 and 1024"),
                "{stderr}"
            );
        }
    }
}

/// An edit of the shipped plan, flags, and what the error must say.
type Case = (fn(String) -> String, &'static [&'static str], &'static str);

#[test]
fn a_plan_has_caps_and_a_run_that_fits_them() {
    let dir = scratch("plan-caps");
    let cases: [Case; 5] = [
        (
            |t| t.replace("warmup_s = 0.2", "warmup_s = 256"),
            &[],
            "warmup_s: must be >= 0 and less than duration_s",
        ),
        (
            |t| t.replace("duration_s = 1.0", "duration_s = 18446744073709551615"),
            &[],
            "duration_s: with warmup_s, a run lasts",
        ),
        (
            |t| format!("{t}\n[limits]\nmax_sim_time_s = 0.5\n"),
            &[],
            "duration_s: with warmup_s, a run lasts 1.2 simulated seconds",
        ),
        (
            |t| format!("{t}\n[limits]\nmax_in_flight = 0\n"),
            &[],
            "limits.max_in_flight: must be between 1 and",
        ),
        (
            |t| t,
            &["--max-events", "0"],
            "--max-events: must be at least 1",
        ),
    ];
    for (edit, flags, want) in cases {
        let p = plan_with(&dir, edit);
        let out = dir.join("out");
        let mut args = vec!["plan", p.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend_from_slice(flags);
        let (code, _, stderr) = run(&args);
        assert_eq!(code, Some(2), "{want}: {stderr}");
        assert!(stderr.contains(want), "wanted {want:?} in {stderr}");
        assert!(!out.exists(), "refused before the output folder is made");
    }
}

#[test]
fn a_calibration_has_caps_from_its_file_and_the_command_line() {
    let dir = scratch("cal-caps");
    let shipped = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/experiments/calibrate/gce-8vcpu-ssd.toml"
    );
    let (code, _, stderr) = run(&["calibrate", shipped, "--check", "--max-in-flight", "0"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--max-in-flight: must be between 1"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(shipped).unwrap();
    let model = concat!(env!("CARGO_MANIFEST_DIR"), "/models/gce-8vcpu-ssd.toml");
    let reference = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/experiments/reference/etcd-io-v3.4-performance.csv"
    );
    let cal = dir.join("cal.toml");
    let text = text
        .replace("\"../../models/gce-8vcpu-ssd.toml\"", &format!("{model:?}"))
        .replace(
            "\"../reference/etcd-io-v3.4-performance.csv\"",
            &format!("{reference:?}"),
        );
    std::fs::write(&cal, format!("{text}\n[limits]\nmax_events = 1000\n")).unwrap();
    let (code, stdout, stderr) = run(&["calibrate", cal.to_str().unwrap(), "--check"]);
    assert_eq!(code, Some(0), "{stderr}");
    // Every row stopped at 1,000 events: a few requests each, far from the measured rates.
    assert!(stdout.contains("objective"), "{stdout}");
    let (_, capped, _) = run(&["calibrate", shipped, "--check"]);
    assert_ne!(stdout, capped, "the file's cap changed the runs");
}

#[test]
fn an_input_past_the_size_limit_is_refused_without_reading_it_all() {
    let (code, _, stderr) = run(&["benchmark", "--model", "/dev/zero", "range", "foo"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("the model file /dev/zero: is larger than 16 MiB"),
        "{stderr}"
    );
}

#[test]
fn a_capped_run_reports_throughput_over_the_time_it_ran() {
    // One request, then the next a thousand seconds later; the cap stops it at 5 s.
    let (code, stdout, stderr) = run(&[
        "benchmark",
        "--max-sim-time",
        "5",
        "range",
        "foo",
        "--total",
        "100",
        "--rate",
        "0.001",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("Stopped by: sim-time-cap"), "{stdout}");
    let rate = |name: &str| -> f64 {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    assert_eq!(rate("Requests/sec:"), 0.2, "{stdout}");
    assert_eq!(rate("Total:"), 5.0, "{stdout}");
}

#[test]
fn every_count_a_run_holds_is_bounded() {
    let dir = scratch("counts");
    let exp = experiment(&dir, "replications = 4294967295\n[workload]\ntotal = 100\n");
    let err = etcdsim::runner::sweep::validate_experiment(&exp)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("replications: must be at least 1 and at most 1000000"),
        "{err}"
    );
    let exp = experiment(&dir, "replications = 600000\n[grid]\nclients = [1, 2]\n");
    let out = dir.join("out");
    let (code, _, stderr) = run(&[
        "run",
        exp.to_str().unwrap(),
        "--yes",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("1200000 runs, more than the 1000000"),
        "{stderr}"
    );
    let p = plan_with(&dir, |t| {
        t.replace("max_replications = 6", "max_replications = 100000")
    });
    let (code, _, stderr) = run(&["plan", p.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("max_replications <= 1000"), "{stderr}");
    for set in [
        "messages.request_overhead_bytes=4294967295",
        "write.max_request_bytes=9223372036854775807",
    ] {
        let (code, _, stderr) = run(&["benchmark", "--set", set, "range", "foo"]);
        assert_eq!(code, Some(2), "{set}: {stderr}");
        assert!(stderr.contains("must be at most"), "{set}: {stderr}");
    }
}
