//! Experiments: thread-count independence, outputs, and errors that name the key.

use std::path::Path;

use etcdsim::runner::experiment::{Options, run_experiment};

use crate::support::{experiment, journal_rows, scratch, sigint, wait_until};

fn opts(out: &Path, threads: usize) -> Options {
    Options {
        out: Some(out.to_path_buf()),
        threads: Some(threads),
        quiet: true,
        ..Options::default()
    }
}

const SMALL: &str = r#"
name = "small"
replications = 2
seed = 7
[workload]
total = 3000
warmup = 300
[grid]
"clients,conns" = [[1, 1], [50, 10], [200, 20]]
consistency = ["l", "s"]
[charts]
x = "clients"
log_x = true
"#;

#[test]
fn one_thread_and_two_give_byte_identical_csv() {
    let dir = scratch("threads");
    let exp = experiment(&dir, SMALL);
    let (a, b) = (dir.join("one"), dir.join("two"));
    let w1 = run_experiment(&exp, &opts(&a, 1)).unwrap();
    let w2 = run_experiment(&exp, &opts(&b, 2)).unwrap();
    assert_eq!((w1.points, w1.runs), (6, 12));
    assert_eq!((w2.points, w2.runs), (6, 12));
    for f in [
        "results.csv",
        "stages.csv",
        "utilization.csv",
        "summary.csv",
        "run.toml",
    ] {
        let x = std::fs::read(a.join(f)).unwrap();
        let y = std::fs::read(b.join(f)).unwrap();
        assert!(x == y, "{f} differs between 1 and 2 threads");
    }
    let results = std::fs::read_to_string(a.join("results.csv")).unwrap();
    assert_eq!(results.lines().count(), 13);
    let header = results.lines().next().unwrap();
    for col in [
        "seed",
        "clients",
        "conns",
        "consistency",
        "read_throughput_rps",
        "read_latency_ms_p99",
        "write_throughput_rps",
        "write_latency_ms_p99",
        "stage_readindex_round_ms_mean",
        "util_member0_apply_frac",
        "util_client_cpu_frac",
        "bottleneck",
    ] {
        assert!(header.split(',').any(|c| c == col), "missing column {col}");
    }
    for svg in ["throughput.svg", "latency.svg", "breakdown.svg"] {
        let s = std::fs::read_to_string(a.join(svg)).unwrap();
        assert!(
            s.starts_with("<svg") && s.trim_end().ends_with("</svg>"),
            "{svg}"
        );
    }
    // No temporary files are left behind.
    assert!(
        std::fs::read_dir(&a).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with('~'))
    );
}

#[test]
fn different_base_seeds_give_different_results() {
    let dir = scratch("seeds");
    let exp = experiment(&dir, SMALL);
    let exp2 = experiment(&dir.join(".."), &SMALL.replace("seed = 7", "seed = 8"));
    run_experiment(&exp, &opts(&dir.join("a"), 1)).unwrap();
    run_experiment(&exp2, &opts(&dir.join("b"), 1)).unwrap();
    let x = std::fs::read(dir.join("a/results.csv")).unwrap();
    let y = std::fs::read(dir.join("b/results.csv")).unwrap();
    assert_ne!(x, y);
}

#[test]
fn errors_name_the_file_and_the_key() {
    let dir = scratch("errors");
    let cases = [
        (
            "[grid]\nclient = [1, 2]\n",
            "unknown key `client`; did you mean `clients`?",
        ),
        (
            "[workload]\nconsistency = \"x\"\n",
            "workload.consistency: must be l or s",
        ),
        (
            "[workload]\nclients = 2\nconns = 5\n",
            "workload.conns: must be between 1 and clients",
        ),
        (
            "[grid]\n\"model.cluster.voters\" = [3, 0]\n",
            "cluster.voters: must be between 1 and 9",
        ),
        ("[charts]\nx = \"nope\"\n", "charts.x"),
        ("replications = 0\n", "replications: must be at least 1"),
        (
            "[grid]\nclients = [1, 2]\nconsistency = [\"l\", \"s\"]\n[charts]\nx = \"clients\"\nseries = []\n",
            "the axis \"consistency\" varies but is neither x nor in series",
        ),
        (
            "[grid]\nclients = [1, 2]\n[charts]\nx = \"clients\"\nseries = [\"nope\"]\n",
            "charts.series",
        ),
        (
            "[workload]\nduration_s = 1\nwarmup_s = 2\n",
            "workload.warmup_s: must be less than duration_s",
        ),
    ];
    for (body, want) in cases {
        let exp = experiment(&dir, body);
        let err = run_experiment(&exp, &opts(&dir.join("out"), 1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("exp.toml"), "{err}");
        assert!(err.contains(want), "wanted {want:?} in: {err}");
    }
}

/// Slow enough to interrupt: 24 points × 2 replications = 48 runs of tens of ms each.
const SLOW: &str = r#"
name = "slow"
replications = 2
[workload]
total = 60000
warmup = 1000
[grid]
"clients,conns" = [[200, 20], [400, 40], [800, 80], [1000, 100]]
consistency = ["l", "s"]
"model.network.rtt_us" = [200, 1000, 2000]
"#;

/// Starts `etcdsim run` on one thread, with stderr captured, and waits until its journal
/// holds at least `rows` finished runs.
fn spawn_until_rows(exp: &Path, out: &Path, rows: usize) -> std::process::Child {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_etcdsim"))
        .args([
            "run",
            exp.to_str().unwrap(),
            "--threads",
            "1",
            "--out",
            out.to_str().unwrap(),
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the run's first rows", || journal_rows(out) >= rows);
    child
}

#[test]
fn an_interrupted_run_resumes_to_the_same_csv() {
    let dir = scratch("resume");
    let exp = experiment(&dir, SLOW);
    let whole = dir.join("whole");
    run_experiment(&exp, &opts(&whole, 1)).unwrap();

    let part = dir.join("part");
    // Kill it once a few runs are in the journal (and well before the end).
    let mut child = spawn_until_rows(&exp, &part, 3);
    let journal = part.join("results.partial.csv");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!part.join("results.csv").exists(), "killed before the end");
    let kept = journal_rows(&part);
    assert!((3..48).contains(&kept), "{kept} rows kept");

    let o = Options {
        resume: true,
        ..opts(&part, 2)
    };
    let w = run_experiment(&exp, &o).unwrap();
    assert_eq!(w.simulated, 48 - kept, "runs simulated after {kept} kept");
    for f in [
        "results.csv",
        "stages.csv",
        "utilization.csv",
        "summary.csv",
        "run.toml",
    ] {
        assert_eq!(
            std::fs::read(whole.join(f)).unwrap(),
            std::fs::read(part.join(f)).unwrap(),
            "{f}"
        );
    }
    assert!(!journal.exists(), "the journal is removed at the end");
}

#[test]
fn a_journal_from_another_configuration_is_refused() {
    let dir = scratch("stale");
    let exp = experiment(&dir, SMALL);
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("results.partial.csv"),
        "# etcdsim journal config=0000000000000000\nexperiment\n",
    )
    .unwrap();
    let err = run_experiment(
        &exp,
        &Options {
            resume: true,
            ..opts(&out, 1)
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("results.partial.csv") && err.contains("without --resume"),
        "{err}"
    );
}

#[test]
fn shards_merge_into_the_files_one_machine_writes() {
    let dir = scratch("shards");
    let exp = experiment(&dir, SMALL);
    let whole = dir.join("whole");
    run_experiment(&exp, &opts(&whole, 2)).unwrap();
    let mut shards = Vec::new();
    for k in 1..=3 {
        let d = dir.join(format!("s{k}"));
        let w = run_experiment(
            &exp,
            &Options {
                shard: Some((k, 3)),
                ..opts(&d, 1)
            },
        )
        .unwrap();
        assert_eq!(w.points, 2);
        shards.push(d);
    }
    let merged = dir.join("merged");
    let err =
        etcdsim::runner::merge::merge_shards(&exp, &shards[..2], Some(&merged), false).unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
    etcdsim::runner::merge::merge_shards(&exp, &shards, Some(&merged), false).unwrap();
    for f in [
        "results.csv",
        "stages.csv",
        "utilization.csv",
        "summary.csv",
        "run.toml",
        "throughput.svg",
        "breakdown.svg",
        "throughput.png",
        "index.html",
    ] {
        assert_eq!(
            std::fs::read(whole.join(f)).unwrap(),
            std::fs::read(merged.join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn rayon_num_threads_does_not_change_the_bytes() {
    let dir = scratch("rayon-env");
    let exp = experiment(&dir, SMALL);
    let mut outs = Vec::new();
    for n in ["1", "2"] {
        let out = dir.join(format!("t{n}"));
        let st = std::process::Command::new(env!("CARGO_BIN_EXE_etcdsim"))
            .env("RAYON_NUM_THREADS", n)
            .args(["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()])
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        outs.push(std::fs::read(out.join("results.csv")).unwrap());
    }
    assert!(outs[0] == outs[1], "RAYON_NUM_THREADS=1 and =2 differ");
}

#[test]
fn a_run_can_last_a_simulated_time_instead_of_a_count() {
    let dir = scratch("duration");
    let exp = experiment(
        &dir,
        "name = \"d\"\n[workload]\nduration_s = 0.5\nwarmup_s = 0.1\nclients = 1\nconsistency = \"s\"\n[grid]\n\"model.network.rtt_us\" = [1000, 2000]\n",
    );
    let out = dir.join("o");
    run_experiment(&exp, &opts(&out, 1)).unwrap();
    let text = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let rtt: f64 = f[col("model.network.rtt_us")].parse().unwrap();
        let completed: f64 = f[col("read_completed")].parse().unwrap();
        let per_request_s = f[col("read_latency_ms_mean")].parse::<f64>().unwrap() / 1e3 + 40e-6;
        // 0.4 s measured, one request at a time, each about RTT + costs long.
        let expect = 0.4 / per_request_s;
        assert!(
            (completed - expect).abs() / expect < 0.02,
            "rtt {rtt}: {completed} completed, expected about {expect:.0}"
        );
    }
}

/// Ctrl-C (SIGINT) during a sweep: the runs in progress finish, no new one starts, every
/// finished run is kept, the exit code is 130 and stderr says how to resume; resuming gives
/// the bytes of an uninterrupted run.
#[test]
fn ctrl_c_stops_cleanly_and_says_how_to_resume() {
    let dir = scratch("sigint");
    let exp = experiment(&dir, SLOW);
    let whole = dir.join("whole");
    run_experiment(&exp, &opts(&whole, 1)).unwrap();
    let part = dir.join("part");
    let child = spawn_until_rows(&exp, &part, 2);
    sigint(child.id());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("--resume") && stderr.contains("results.partial.csv"),
        "{stderr}"
    );
    assert!(!part.join("results.csv").exists());
    let kept = journal_rows(&part);
    assert!((2..48).contains(&kept), "{kept} kept");
    let w = run_experiment(
        &exp,
        &Options {
            resume: true,
            ..opts(&part, 2)
        },
    )
    .unwrap();
    assert_eq!(w.simulated, 48 - kept);
    assert_eq!(
        std::fs::read(whole.join("results.csv")).unwrap(),
        std::fs::read(part.join("results.csv")).unwrap()
    );
}

/// `etcdsim run` reports its own speed, counting the measured requests and the events of the
/// runs it simulated: the same totals as the results' columns.
#[test]
fn run_prints_its_speed_from_the_rows_it_simulated() {
    let dir = scratch("speed");
    let exp = experiment(&dir, SMALL);
    let out = dir.join("o");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_etcdsim"))
        .args(["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success());
    let err = String::from_utf8(o.stderr).unwrap();
    let line = err
        .lines()
        .find(|l| l.starts_with("Simulation speed: "))
        .unwrap_or_else(|| panic!("no speed line in {err}"));
    let number_before = |what: &str| -> u64 {
        let head = &line[..line.find(what).unwrap()];
        head.trim_end().rsplit(' ').next().unwrap().parse().unwrap()
    };
    let text = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let (mut requests, mut events) = (0u64, 0u64);
    for row in text.lines().skip(1) {
        for (h, v) in header.iter().zip(row.split(',')) {
            if h.ends_with("_completed") || h.ends_with("_failed") {
                requests += v.parse::<u64>().unwrap();
            } else if *h == "events" {
                events += v.parse::<u64>().unwrap();
            }
        }
    }
    assert!(requests > 0 && events > requests, "{requests} {events}");
    assert_eq!(number_before(" measured requests"), requests, "{line}");
    assert_eq!(number_before(" events with warm-up"), events, "{line}");
}

/// Explicit points may set keys the others do not: every key is a column, a point's absent
/// key an empty cell, and each row's cells sit under their own header.
#[test]
fn points_with_different_keys_give_one_aligned_table() {
    let d = scratch("points-keys");
    let exp = experiment(
        &d,
        "name = \"k\"\nseed = 3\n[workload]\ntotal = 200\n[[points]]\nclients = 2\n[[points]]\nconns = 1\nconsistency = \"s\"\n",
    );
    let out = d.join("out");
    run_experiment(&exp, &opts(&out, 1)).unwrap();
    for file in ["results.csv", "summary.csv"] {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        let col = |n: &str| {
            h.iter()
                .position(|x| x == n)
                .unwrap_or_else(|| panic!("{file}: no {n}"))
        };
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2, "{file}");
        assert!(
            rows.iter().all(|x| x.len() == h.len()),
            "{file}: ragged rows"
        );
        assert_eq!(
            (&rows[0][col("clients")], &rows[0][col("consistency")]),
            ("2", "")
        );
        assert_eq!(
            (&rows[1][col("clients")], &rows[1][col("conns")]),
            ("", "1")
        );
        assert_eq!(&rows[1][col("consistency")], "s");
    }
}
/// Issue 18, data for scripts: `stages.csv` and `utilization.csv` are `results.csv`'s stage and
/// utilization columns as long tables, a row per run and stage (with its kind) and per run and
/// resource, cell for cell.
#[test]
fn r18_the_long_tables_hold_the_wide_columns() {
    let dir = scratch("tidy");
    let exp = experiment(&dir, SMALL);
    let out = dir.join("out");
    run_experiment(&exp, &opts(&out, 2)).unwrap();
    let read = |f: &str| -> Vec<Vec<String>> {
        std::fs::read_to_string(out.join(f))
            .unwrap()
            .lines()
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    };
    let (wide, stages, util) = (
        read("results.csv"),
        read("stages.csv"),
        read("utilization.csv"),
    );
    let col = |name: &str| wide[0].iter().position(|c| c == name).unwrap();
    assert_eq!(
        stages[0],
        [
            "point",
            "replication",
            "clients",
            "conns",
            "consistency",
            "op",
            "stage",
            "kind",
            "mean_ms"
        ]
    );
    assert_eq!(
        util[0],
        [
            "point",
            "replication",
            "clients",
            "conns",
            "consistency",
            "resource",
            "busy_frac"
        ]
    );
    let n = etcdsim::model::Stage::COUNT;
    assert_eq!(stages.len() - 1, (wide.len() - 1) * n);
    for (i, run) in wide[1..].iter().enumerate() {
        for s in &stages[1 + i * n..1 + (i + 1) * n] {
            assert_eq!(
                s[..5],
                run[1..3]
                    .iter()
                    .chain(&run[5..8])
                    .cloned()
                    .collect::<Vec<_>>()[..]
            );
            assert_eq!(s[5], "read");
            let wide_cell = &run[col(&format!("stage_{}_ms_mean", s[6]))];
            assert_eq!(&s[8], wide_cell, "run {i}, stage {}", s[6]);
            let queueing = ["client_queue", "nic_queue", "cpu_queue", "lock_wait"];
            if queueing.contains(&s[6].as_str()) {
                assert_eq!(s[7], "queueing");
            }
        }
        let mine: Vec<&Vec<String>> = util[1..]
            .iter()
            .filter(|u| u[0] == run[1] && u[1] == run[2])
            .collect();
        assert!(!mine.is_empty());
        for u in mine {
            assert_eq!(
                u[6],
                run[col(&format!("util_{}_frac", u[5]))],
                "run {i}, {}",
                u[5]
            );
        }
    }
}

/// Issue 18: `run.toml` holds the experiment and its model's whole text, so `etcdsim run
/// out/run.toml` runs it again byte for byte, even after the model file changed or moved.
#[test]
fn r18_run_toml_reproduces_its_run_byte_for_byte() {
    let dir = scratch("rerun");
    let model = dir.join("m.toml");
    std::fs::copy(crate::support::MODEL, &model).unwrap();
    let exp = dir.join("exp.toml");
    std::fs::write(
        &exp,
        format!("model = \"m.toml\"\nset = {{ \"network.rtt_us\" = 300 }}\n{SMALL}"),
    )
    .unwrap();
    let (a, b) = (dir.join("a"), dir.join("b"));
    run_experiment(&exp, &opts(&a, 2)).unwrap();
    // The model file changes after the run: the run it recorded does not.
    std::fs::write(&model, "not a model").unwrap();
    let (code, _, stderr) = crate::support::run(&[
        "run",
        a.join("run.toml").to_str().unwrap(),
        "--out",
        b.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    for f in [
        "results.csv",
        "stages.csv",
        "utilization.csv",
        "summary.csv",
        "run.toml",
        "throughput.svg",
        "latency.svg",
        "breakdown.svg",
    ] {
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{f} differs when run again from run.toml"
        );
    }
    let toml = std::fs::read_to_string(a.join("run.toml")).unwrap();
    assert!(
        toml.contains("model_toml = ") && toml.contains("[cluster]"),
        "{toml}"
    );
}

/// Issue 18: `etcdsim compare A B` sets two outputs side by side; a run against itself differs
/// by zero everywhere, and outputs of different grids are refused.
#[test]
fn r18_compare_of_a_run_with_itself_reports_zero_deltas() {
    let dir = scratch("compare");
    let exp = experiment(&dir, SMALL);
    let a = dir.join("a");
    run_experiment(&exp, &opts(&a, 2)).unwrap();
    let csv = dir.join("compare.csv");
    let charts = dir.join("charts");
    let (code, out, err) = crate::support::run(&[
        "compare",
        a.to_str().unwrap(),
        a.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "--out",
        charts.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("read_throughput_rps") && out.contains("+0.0%"),
        "{out}"
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    let col = |n: &str| lines[0].iter().position(|c| *c == n).unwrap();
    assert_eq!(lines.len() - 1, 6 * etcdsim::report::compare::METRICS.len());
    let mut measured = 0;
    for l in &lines[1..] {
        assert_eq!(l[col("a_mean")], l[col("b_mean")]);
        assert!(["0.000000", ""].contains(&l[col("delta")]), "{l:?}");
        assert!(["0.000000", ""].contains(&l[col("delta_frac")]), "{l:?}");
        measured += usize::from(!l[col("delta")].is_empty());
    }
    assert!(measured > 0);
    check_compare_chart(&charts, &csv);
    // The folder compared is never the one written.
    let (code, _, err) = crate::support::run(&[
        "compare",
        a.to_str().unwrap(),
        a.to_str().unwrap(),
        "--out",
        a.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("is the folder compared as A"), "{err}");
    assert!(a.join("summary.csv").is_file());
    // Another grid (other axes) does not compare.
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    let e2 = experiment(
        &other,
        "name = \"o\"\n[workload]\ntotal = 300\n[grid]\nclients = [1, 2]\n",
    );
    let b = dir.join("b");
    run_experiment(&e2, &opts(&b, 2)).unwrap();
    let (code, _, err) =
        crate::support::run(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("axes"), "{err}");
}

/// `compare --out`'s folder: the CSV as `--csv` wrote it, a chart whose SVG is XML with the
/// experiment's name in its title and every change written as zero (a run against
/// itself), and a PNG that decodes at the SVG's size.
fn check_compare_chart(dir: &Path, csv: &Path) {
    assert_eq!(
        std::fs::read(dir.join("compare.csv")).unwrap(),
        std::fs::read(csv).unwrap()
    );
    let svg = std::fs::read_to_string(dir.join("compare.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    let all = texts.join(" ");
    assert!(all.contains("read throughput (mean)"), "{all}");
    // The title names what was compared (the experiment, by name without a description).
    assert!(
        all.contains("from A to B: small (") && all.contains("experiment small"),
        "{all}"
    );
    // A value per point and metric (3 charted), every one "+0.0%" (± its interval).
    let changes: Vec<&&str> = texts.iter().filter(|t| t.contains("% ±")).collect();
    assert_eq!(changes.len(), 6 * 3, "{all}");
    assert!(
        changes.iter().all(|t| t.starts_with("+0.0% ±")),
        "{changes:?}"
    );
    let root = doc.root_element();
    let size: Vec<u32> = ["width", "height"]
        .iter()
        .map(|k| root.attribute(*k).unwrap().parse().unwrap())
        .collect();
    let png = std::fs::read(dir.join("compare.png")).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    assert_eq!(vec![frame.width, frame.height], size);
}
