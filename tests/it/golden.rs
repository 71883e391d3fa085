//! Golden outputs: the files and reports that matter, byte for byte, so that a change meant to
//! move no figure (a refactoring, a speed-up) is checked, not claimed.
//!
//! Each case runs the real binary and compares what it wrote with `tests/golden/<name>`.
//! Wall-clock lines (simulation speed, elapsed seconds) are dropped before comparing. When a
//! change is meant to move figures, regenerate the snapshots and say why in the commit:
//!
//! ```sh
//! ETCDSIM_UPDATE_GOLDEN=1 cargo test --test it golden
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn updating() -> bool {
    std::env::var_os("ETCDSIM_UPDATE_GOLDEN").is_some_and(|v| v != "0")
}

/// A fresh scratch directory for one case.
fn scratch(case: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("etcdsim-golden-{case}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn etcdsim(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_etcdsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("etcdsim runs");
    assert!(
        out.status.success(),
        "etcdsim {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// Drops the lines that depend on the wall clock.
fn without_wall_clock(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("Simulation speed:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Compares `actual` with the snapshot `name`, or writes it when updating.
fn check(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if updating() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with ETCDSIM_UPDATE_GOLDEN=1 cargo test --test it golden",
            path.display()
        )
    });
    if want != actual {
        let line = want
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| want.lines().count().min(actual.lines().count()));
        panic!(
            "{name} differs from its golden snapshot at line {}:\n  golden: {:?}\n  now:    {:?}\n\
             If the change is meant to move this output, regenerate with \
             ETCDSIM_UPDATE_GOLDEN=1 cargo test --test it golden and say why in the commit.",
            line + 1,
            want.lines().nth(line).unwrap_or("<end>"),
            actual.lines().nth(line).unwrap_or("<end>"),
        );
    }
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

#[test]
fn golden_quickstart_results_and_summary() {
    let out = scratch("quickstart");
    let o = out.to_str().unwrap();
    etcdsim(&["run", "experiments/quickstart.toml", "--out", o]);
    check("quickstart/results.csv", &read(&out, "results.csv"));
    check("quickstart/summary.csv", &read(&out, "summary.csv"));
    let _ = std::fs::remove_dir_all(&out);
}

/// `etcdsim benchmark` reports: reads of both kinds at one and 1000 clients, puts, and reads
/// under background writes and auth.
#[test]
fn golden_benchmark_reports() {
    let cases: [(&str, &[&str]); 5] = [
        (
            "read-l-1000",
            &[
                "--endpoints=h1,h2,h3",
                "--conns=100",
                "--clients=1000",
                "range",
                "foo",
                "--consistency=l",
                "--total=20000",
            ],
        ),
        (
            "read-s-1",
            &["range", "foo", "--consistency=s", "--total=2000"],
        ),
        (
            "put-1000-leader",
            &[
                "--target-leader",
                "--conns=100",
                "--clients=1000",
                "put",
                "--key-size=8",
                "--val-size=256",
                "--total=20000",
            ],
        ),
        (
            "read-l-writes",
            &[
                "--conns=10",
                "--clients=100",
                "--write-rate=5000",
                "range",
                "foo",
                "--total=20000",
            ],
        ),
        (
            "read-l-password",
            &[
                "--conns=4",
                "--clients=8",
                "--auth=password",
                "--token-reuse=0.5",
                "range",
                "foo",
                "--total=200",
            ],
        ),
    ];
    for (name, args) in cases {
        let mut all = vec!["benchmark"];
        all.extend_from_slice(args);
        let text = without_wall_clock(&etcdsim(&all));
        check(&format!("benchmark/{name}.txt"), &text);
    }
}

#[test]
fn golden_explain_reports() {
    let cases: [(&str, &[&str]); 3] = [
        (
            "read-l-1000",
            &[
                "--conns=100",
                "--clients=1000",
                "range",
                "foo",
                "--total=20000",
            ],
        ),
        ("read-s-1", &["range", "foo", "--consistency=s"]),
        (
            "put-1000",
            &["--conns=100", "--clients=1000", "put", "--total=20000"],
        ),
    ];
    for (name, args) in cases {
        let mut all = vec!["explain"];
        all.extend_from_slice(args);
        check(
            &format!("explain/{name}.txt"),
            &without_wall_clock(&etcdsim(&all)),
        );
    }
}

#[test]
fn golden_calibrate_check_table() {
    let text = etcdsim(&[
        "calibrate",
        "experiments/calibrate/gce-8vcpu-ssd.toml",
        "--check",
    ]);
    check("calibrate/check.txt", &text);
}

#[test]
fn golden_plan_tables() {
    let out = scratch("plan");
    let o = out.to_str().unwrap();
    let text = etcdsim(&[
        "plan",
        "experiments/plans/k8s-control-plane.toml",
        "--out",
        o,
    ]);
    check("plan/report.txt", &without_wall_clock(&text));
    for f in ["plan.csv", "probes.csv", "sensitivity.csv"] {
        check(&format!("plan/{f}"), &read(&out, f));
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// The etcd model's event-trace hash (every event's time and kind) for a few workloads, read
/// from `etcdsim trace`'s summary of the run.
#[test]
fn golden_model_trace_hashes() {
    use etcdsim::config::workload::WorkloadSpec;
    use etcdsim::model::{self, RunOptions};
    use etcdsim::runner::files::load_model;
    let p = load_model(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("models/gce-8vcpu-ssd.toml"),
        &[],
    )
    .unwrap();
    let specs = [
        (
            "read-l-1000",
            WorkloadSpec {
                clients: 1000,
                conns: 100,
                total: 20_000,
                ..WorkloadSpec::default()
            },
        ),
        (
            "read-s-writes",
            WorkloadSpec {
                clients: 100,
                conns: 10,
                consistency: "s".into(),
                write_rate: 5000.0,
                total: 20_000,
                ..WorkloadSpec::default()
            },
        ),
        (
            "put-1000",
            WorkloadSpec {
                clients: 1000,
                conns: 100,
                read_ratio: 0.0,
                total: 20_000,
                ..WorkloadSpec::default()
            },
        ),
        (
            "expensive-jwt",
            WorkloadSpec {
                clients: 50,
                conns: 10,
                auth: "jwt".into(),
                expensive_rate: 20.0,
                total: 5_000,
                ..WorkloadSpec::default()
            },
        ),
    ];
    let mut text = String::new();
    for (name, spec) in specs {
        let w = spec.validate(&p, "test", "").unwrap();
        let r = model::run(&p, &w, 1, RunOptions::default());
        text.push_str(&format!(
            "{name}: events={} trace_hash={:016x}\n",
            r.events, r.trace_hash
        ));
    }
    check("model/trace-hashes.txt", &text);
}
