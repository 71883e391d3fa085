//! `calibrate` with real `benchmark` output files as reference rows (issue 18: "`calibrate`
//! accepts real `benchmark` output files (the report text plus the command line) as reference
//! rows"): the shipped example's rows carry the report's numbers and the command line's
//! workload, and bad files are refused naming the file, the line and the rule.

use crate::support::{ROOT, run, scratch};

const CAL: &str = "experiments/calibrate/benchmark-outputs.toml";

#[test]
fn calibrate_reads_benchmark_outputs_as_reference_rows() {
    let l = etcdsim::runner::calibrate::load(
        &std::path::Path::new(ROOT).join(CAL),
        etcdsim::cli::benchmark::pasted_workload,
    )
    .unwrap();
    let [range, put] = &l.rows[..] else {
        panic!("two rows: {:?}", l.rows);
    };
    assert_eq!(range.label, "runs/range-l-1000.txt");
    assert_eq!(range.line, 1);
    assert_eq!((range.qps, range.latency_ms), (141578.4312, 5.5));
    assert!(
        (range.p99_ms.unwrap() - 16.3).abs() < 1e-9,
        "{:?}",
        range.p99_ms
    );
    let w = &range.workload;
    assert_eq!((w.clients, w.conns, w.total), (1000, 100, 100_000));
    assert_eq!(
        (w.consistency.as_str(), w.key_size, w.read_ratio),
        ("l", 3, 1.0)
    );
    assert_eq!(w.endpoints.len(), 3);
    assert!(!w.target_leader);
    assert_eq!((put.qps, put.latency_ms), (44341.228, 22.0));
    assert!((put.p99_ms.unwrap() - 51.9).abs() < 1e-9);
    let w = &put.workload;
    assert_eq!(
        (w.read_ratio, w.put_key_size, w.put_val_size),
        (0.0, 8, 256)
    );
    assert!(w.target_leader);
    // And through the command: both rows simulated beside their measured numbers.
    let (code, stdout, stderr) = run(&["calibrate", CAL, "--check"]);
    assert_eq!(code, Some(0), "{stderr}");
    for want in [
        "| runs/range-l-1000.txt | 141578 |",
        "| 5.50 |",
        "| runs/put-1000-leader.txt | 44341 |",
        "| 22.00 |",
    ] {
        assert!(stdout.contains(want), "wanted {want:?} in\n{stdout}");
    }
}

/// Runs `calibrate --check` on a calibration file beside one benchmark output `out.txt`
/// holding `text`; (exit code, stderr).
fn check_output(name: &str, toml_rows: &str, text: &str) -> (Option<i32>, String) {
    let d = scratch(name);
    let model = format!("{ROOT}/models/gce-8vcpu-ssd.toml");
    std::fs::write(d.join("out.txt"), text).unwrap();
    std::fs::write(
        d.join("cal.toml"),
        format!("model = {model:?}\n{toml_rows}\n[params]\n\"client.loop_us\" = {{ min = 1, max = 80 }}\n"),
    )
    .unwrap();
    let (code, _, stderr) = run(&["calibrate", d.join("cal.toml").to_str().unwrap(), "--check"]);
    (code, stderr)
}

#[test]
fn bad_benchmark_outputs_are_refused_naming_the_file_the_line_and_the_rule() {
    let good = std::fs::read_to_string(format!(
        "{ROOT}/experiments/calibrate/runs/range-l-1000.txt"
    ))
    .unwrap();
    let rows = "benchmark_outputs = [\"out.txt\"]";
    let cases: [(&str, String, &str); 6] = [
        (
            "no-rps",
            good.replace("  Requests/sec:\t141578.4312\n", ""),
            "out.txt:5: the Summary has no \"Requests/sec:\" line",
        ),
        (
            "txn-put",
            good.replace("range foo --consistency=l", "txn-put"),
            "out.txt:1: the command line: `txn-put` is not simulated: etcdsim simulates etcd's benchmark `range` and `put`",
        ),
        (
            "unknown-flag",
            good.replace("--conns=100", "--frobnicate=3"),
            "out.txt:1: the command line: unexpected argument '--frobnicate' found",
        ),
        (
            "etcdsim-flag",
            good.replace("--conns=100", "--set network.rtt_us=9"),
            "out.txt:1: the command line: --set (the calibration's `params` move the model) is etcdsim's, not etcd's",
        ),
        (
            "bad-number",
            good.replace("0.0055 secs.", "0,0055 secs."),
            "out.txt:9: \"Average:\" must be a number >= 0 of secs.",
        ),
        (
            "not-benchmark",
            good.replace("$ benchmark", "$ etcdctl"),
            "out.txt:1: the first line must be the command that ran etcd's benchmark tool",
        ),
    ];
    for (name, text, want) in cases {
        let (code, stderr) = check_output(name, rows, &text);
        assert_eq!(code, Some(2), "{name}: {stderr}");
        assert!(stderr.contains(want), "{name}: wanted {want:?} in {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
    let (code, stderr) = check_output("no-rows", "", &good);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("cal.toml: reference: name the measured rows"),
        "{stderr}"
    );
    let (code, stderr) = check_output("missing", "benchmark_outputs = [\"runs/nope.txt\"]", &good);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("benchmark_outputs") && stderr.contains("runs/nope.txt"),
        "{stderr}"
    );
    let (code, stderr) = check_output(
        "twice",
        "benchmark_outputs = [\"out.txt\", \"out.txt\"]",
        &good,
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("named twice"), "{stderr}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 500, ..Default::default() })]

    /// A benchmark output with one word of one line replaced, one line dropped or the file
    /// cut short is read or refused naming the file, never a panic.
    #[test]
    fn mutated_benchmark_outputs_fail_clearly_or_read(
        line in 0usize..64,
        word in 0usize..16,
        value in proptest::prop_oneof![
            proptest::prelude::Just(String::new()),
            proptest::prelude::Just("-1".to_string()),
            proptest::prelude::Just("1e400".to_string()),
            proptest::prelude::Just("NaN".to_string()),
            proptest::prelude::Just("'".to_string()),
            proptest::prelude::Just("\\".to_string()),
            proptest::prelude::Just("Summary:".to_string()),
            proptest::prelude::Just("--clients=0".to_string()),
            proptest::prelude::Just("--help".to_string()),
            "[ -~]{0,12}",
        ],
        cut in 0usize..3000,
        how in 0usize..3,
    ) {
        let good = std::fs::read_to_string(format!("{ROOT}/experiments/calibrate/runs/range-l-1000.txt")).unwrap();
        let mut lines: Vec<String> = good.lines().map(String::from).collect();
        let at = line % lines.len();
        let text = match how {
            0 => {
                let mut words: Vec<String> = lines[at].split(' ').map(String::from).collect();
                let w = word % words.len();
                words[w] = value;
                lines[at] = words.join(" ");
                lines.join("\n")
            }
            1 => {
                lines.remove(at);
                lines.join("\n")
            }
            _ => good.chars().take(cut).collect(),
        };
        if let Err(e) = etcdsim::config::benchmark_output::reference_row(
            "runs/mutated.txt",
            &text,
            "runs/mutated.txt",
            etcdsim::cli::benchmark::pasted_workload,
        ) {
            let e = e.to_string();
            proptest::prop_assert!(e.starts_with("runs/mutated.txt"), "{}", e);
        }
    }
}
