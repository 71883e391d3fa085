//! The command line: `explain`, `trace`, and exit codes.

use std::process::Command;

fn etcdsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_etcdsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("etcdsim runs")
}

#[test]
fn explain_lists_each_stage_with_what_etcd_does() {
    let svg = std::env::temp_dir().join(format!("etcdsim-explain-{}.svg", std::process::id()));
    let out = etcdsim(&[
        "explain",
        "--svg",
        svg.to_str().unwrap(),
        "--conns=10",
        "--clients=100",
        "range",
        "foo",
        "--total=5000",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "readindex_round",
        "readindex_batch_wait",
        "Bottleneck:",
        "What etcd does",
        "heartbeat round to a quorum",
        "total",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    let s = std::fs::read_to_string(&svg).unwrap();
    assert!(s.starts_with("<svg") && s.contains("readindex_round"));
}

#[test]
fn trace_spans_tile_each_request_without_gaps() {
    let path = std::env::temp_dir().join(format!("etcdsim-trace-{}.json", std::process::id()));
    let out = etcdsim(&[
        "trace",
        "--requests",
        "20",
        "--out",
        path.to_str().unwrap(),
        "--conns=5",
        "--clients=10",
        "range",
        "foo",
        "--total=500",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let events = v["traceEvents"].as_array().unwrap();
    let mut spans: std::collections::BTreeMap<u64, Vec<(f64, f64)>> = Default::default();
    let mut open: std::collections::BTreeMap<(u64, String), f64> = Default::default();
    for e in events {
        let (ph, name) = (
            e["ph"].as_str().unwrap(),
            e["name"].as_str().unwrap_or("").to_string(),
        );
        match ph {
            "b" => {
                open.insert((e["id"].as_u64().unwrap(), name), e["ts"].as_f64().unwrap());
            }
            "e" => {
                let id = e["id"].as_u64().unwrap();
                let start = open.remove(&(id, name)).expect("every end has a begin");
                spans
                    .entry(id)
                    .or_default()
                    .push((start, e["ts"].as_f64().unwrap()));
            }
            _ => {}
        }
    }
    assert_eq!(spans.len(), 20, "the first 20 requests are traced");
    for (id, mut s) in spans {
        s.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in s.windows(2) {
            assert!(
                (w[0].1 - w[1].0).abs() < 0.0015,
                "request {id}: gap or overlap between {:?} and {:?}",
                w[0],
                w[1]
            );
        }
    }
    let rounds = events
        .iter()
        .filter(|e| {
            e["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("ReadIndex round"))
        })
        .count();
    assert!(rounds > 0);
}

#[test]
fn exit_codes_say_whose_fault_it_is() {
    let ok = etcdsim(&["benchmark", "range", "foo", "--total=100"]);
    assert_eq!(ok.status.code(), Some(0));
    let bad = etcdsim(&["benchmark", "--conns=5", "--clients=2", "range", "foo"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--conns"));
    let missing = etcdsim(&["benchmark", "--model", "models/nope.toml", "range", "foo"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("models/nope.toml"));
    let typo = etcdsim(&["benchmark", "--set", "cluster.votrs=5", "range", "foo"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("votrs"));
}

#[test]
fn a_cap_that_fires_is_named_in_the_report() {
    let out = etcdsim(&[
        "benchmark",
        "--max-events=5000",
        "range",
        "foo",
        "--total=100000",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("STOPPED EARLY by the event cap"), "{text}");
    assert!(text.contains("Stopped by: event-cap"), "{text}");
    let bad = etcdsim(&["benchmark", "--max-sim-time=0", "range", "foo"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--max-sim-time"));
    let done = etcdsim(&["benchmark", "range", "foo", "--total=100"]);
    assert!(String::from_utf8_lossy(&done.stdout).contains("Stopped by: finished"));
}

/// Issue 18: what the README and `--help` promise holds. The caps work on the command line of
/// `run` and `plan` too; `--auth`'s help lists every mode; `explain range --help` does not call
/// itself a benchmark; `trace --out -` writes to standard output.
#[test]
fn r18_documented_flags_do_what_they_say() {
    for cmd in ["run", "plan", "calibrate", "benchmark", "explain", "trace"] {
        let help = String::from_utf8_lossy(&etcdsim(&[cmd, "--help"]).stdout).into_owned();
        for cap in ["--max-events", "--max-sim-time", "--max-in-flight"] {
            assert!(help.contains(cap), "{cmd} --help lacks {cap}:\n{help}");
        }
    }
    let help = String::from_utf8_lossy(&etcdsim(&["benchmark", "--help"]).stdout).into_owned();
    let auth = help.split("--auth").nth(1).unwrap_or_default();
    for mode in ["none", "simple-token", "jwt", "cert", "password"] {
        assert!(auth[..400.min(auth.len())].contains(mode), "{auth}");
    }
    let range =
        String::from_utf8_lossy(&etcdsim(&["explain", "range", "--help"]).stdout).into_owned();
    assert!(!range.contains("Benchmark range"), "{range}");
    let out = etcdsim(&[
        "trace",
        "--out",
        "-",
        "--requests",
        "2",
        "range",
        "foo",
        "--total=50",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert!(v["traceEvents"].as_array().is_some_and(|e| !e.is_empty()));
    assert!(
        !std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("-")
            .exists()
    );
}
