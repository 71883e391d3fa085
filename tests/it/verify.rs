//! Issue 19: `merge` and `--resume` verify what they read (item 9), errors a person can act on
//! (10), and the determinism self-check on the shipped experiments.

use std::path::{Path, PathBuf};

use etcdsim::runner::experiment::{Options, run_experiment};
use etcdsim::runner::merge::merge_shards;

use crate::support::{experiment, plan_with, run, scratch};

const SMALL: &str = "name = \"small\"\nreplications = 2\nseed = 1\n[workload]\ntotal = 1000\n[grid]\nclients = [1, 5, 10]\n";

fn opts(out: &Path) -> Options {
    Options {
        out: Some(out.to_path_buf()),
        threads: Some(1),
        quiet: true,
        ..Options::default()
    }
}

/// Runs the three shards of `exp` into `dir/s1..s3`.
fn shards(dir: &Path, exp: &Path) -> Vec<PathBuf> {
    (1..=3)
        .map(|k| {
            let d = dir.join(format!("s{k}"));
            let o = Options {
                shard: Some((k, 3)),
                ..opts(&d)
            };
            run_experiment(exp, &o).unwrap();
            d
        })
        .collect()
}

fn merge_error(exp: &Path, shards: &[PathBuf], out: &Path) -> String {
    let e = merge_shards(exp, shards, Some(out), false).unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e}");
    e.to_string()
}

#[test]
fn merge_refuses_shards_of_another_configuration() {
    let dir = scratch("merge-config");
    let exp = experiment(&dir, SMALL);
    let s = shards(&dir, &exp);
    let out = dir.join("merged");
    for (edit, why) in [
        (SMALL.replace("seed = 1", "seed = 2"), "seed"),
        (SMALL.replace("total = 1000", "total = 900"), "total"),
    ] {
        let other = dir.join("other");
        std::fs::create_dir_all(&other).unwrap();
        let exp2 = experiment(&other, &edit);
        let err = merge_error(&exp2, &s, &out);
        assert!(
            err.contains("shard 1 of 3") && err.contains("line 2") && err.contains("config_hash"),
            "{why}: {err}"
        );
    }
    assert!(!out.exists(), "nothing written");
    let err = merge_error(&exp, &[s[0].clone(), s[0].clone(), s[2].clone()], &out);
    assert!(
        err.contains("shard 1 of 3") && err.contains("given twice"),
        "{err}"
    );
    let err = merge_error(&exp, &s[..2], &out);
    assert!(
        err.contains("2 missing") && err.contains("missing: shard 3 of 3"),
        "{err}"
    );
    merge_shards(&exp, &s, Some(&out), false).unwrap();
}

#[test]
fn merge_refuses_cells_of_the_wrong_type_and_rows_out_of_place() {
    let dir = scratch("merge-cells");
    let exp = experiment(&dir, SMALL);
    let s = shards(&dir, &exp);
    let results = s[1].join("results.csv");
    let good = std::fs::read_to_string(&results).unwrap();
    let header: Vec<&str> = good.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let edit = |column: &str, value: &str| {
        let mut lines: Vec<String> = good.lines().map(String::from).collect();
        let mut cells: Vec<String> = lines[1].split(',').map(String::from).collect();
        cells[col(column)] = value.to_string();
        lines[1] = cells.join(",");
        std::fs::write(&results, lines.join("\n") + "\n").unwrap();
    };
    let out = dir.join("merged");
    for (column, value, want) in [
        (
            "read_throughput_rps",
            "abc",
            "read_throughput_rps: \"abc\" is not a number",
        ),
        ("read_latency_ms_p99", "NaN", "\"NaN\" is not a number"),
        (
            "point",
            "7",
            "point 7 is out of range: the grid has 3 points",
        ),
        ("replication", "5", "replication 5 is out of range"),
        ("point", "0", "point 0 belongs to another shard"),
        ("seed", "12", "seed 12 is not the seed of point 1"),
    ] {
        edit(column, value);
        let err = merge_error(&exp, &s, &out);
        assert!(
            err.contains("shard 2 of 3") && err.contains("line 2"),
            "{err}"
        );
        assert!(
            err.contains(want),
            "{column}={value}: wanted {want:?} in {err}"
        );
    }
    std::fs::write(&results, &good).unwrap();
    merge_shards(&exp, &s, Some(&out), false).unwrap();
}

#[test]
fn resume_refuses_a_journal_with_duplicated_or_foreign_rows() {
    let dir = scratch("resume-verify");
    let exp = experiment(&dir, SMALL);
    let out = dir.join("out");
    run_experiment(&exp, &opts(&out)).unwrap();
    // A journal as an interrupted run leaves it: the mark, the header and two rows.
    let results = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let lines: Vec<&str> = results.lines().collect();
    let mark = format!(
        "# etcdsim journal config={}",
        lines[1].split(',').nth(4).unwrap()
    );
    let journal = out.join("results.partial.csv");
    let resume = Options {
        resume: true,
        ..opts(&out)
    };
    for (rows, want) in [
        (
            vec![lines[1], lines[2], lines[1]],
            "point 0, replication 0 appears twice",
        ),
        (
            vec![&lines[1].replacen(",0,0,", ",9,0,", 1)[..]],
            "point 9 is out of range",
        ),
    ] {
        let text = format!("{mark}\n{}\n{}\n", lines[0], rows.join("\n"));
        std::fs::write(&journal, text).unwrap();
        let err = run_experiment(&exp, &resume).unwrap_err().to_string();
        assert!(
            err.contains("the journal") && err.contains(want),
            "{want}: {err}"
        );
    }
    // A last line cut short by a kill is not a row: it is dropped, and that run runs again.
    let text = format!("{mark}\n{}\n{}\n{}", lines[0], lines[1], &lines[2][..20]);
    std::fs::write(&journal, text).unwrap();
    let w = run_experiment(&exp, &resume).unwrap();
    assert_eq!(w.simulated, 5);
    assert_eq!(
        std::fs::read_to_string(out.join("results.csv")).unwrap(),
        results
    );
}

#[test]
fn io_failures_get_their_own_exit_code_and_name_the_role_of_the_path() {
    let dir = scratch("io-errors");
    let exp = experiment(&dir, SMALL);
    let exp = exp.to_str().unwrap();
    // An output folder the system will not create (root ignores permissions; /sys does not).
    let (code, _, stderr) = run(&["run", exp, "--out", "/sys/etcdsim-test"]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("the output directory /sys/etcdsim-test: cannot create it"),
        "{stderr}"
    );
    // plan finds it before searching: no candidate's line is printed.
    let plan = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/experiments/plans/k8s-control-plane.toml"
    );
    let (code, _, stderr) = run(&["plan", plan, "--out", "/sys/etcdsim-test"]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(!stderr.contains("reads/s ("), "no search ran: {stderr}");
    let missing = dir.join("nope");
    let (code, _, stderr) = run(&[
        "merge",
        exp,
        missing.to_str().unwrap(),
        "--out",
        dir.join("m").to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("shard folder 1 of 1") && stderr.contains("no such file"),
        "{stderr}"
    );
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, b"name = \"x\xff\"\n").unwrap();
    let (code, _, stderr) = run(&["run", bad.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("the experiment file") && stderr.contains("not UTF-8 text"),
        "{stderr}"
    );
    assert!(!stderr.contains("internal error"), "{stderr}");
}

#[test]
fn errors_name_where_the_value_was_written_in_plain_words() {
    let dir = scratch("error-words");
    let plan = plan_with(&dir, |t| {
        t.replace("\"cluster.voters\" = 5", "\"cluster.voters\" = 0")
    });
    let (code, _, stderr) = run(&["plan", plan.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "p.toml: candidates[1].set.\"cluster.voters\": cluster.voters: must be between 1 and 9"
        ),
        "the plan's candidate, not the model file: {stderr}"
    );
    let (_, _, stderr) = run(&["benchmark", "put", "--val-size", "2000000"]);
    assert!(
        stderr.contains("put --val-size") && !stderr.contains("put_val_size"),
        "{stderr}"
    );
    let (_, _, stderr) = run(&["benchmark", "--set", "cluster.voters=x", "range", "foo"]);
    assert!(
        stderr.contains("cluster.voters: must be a whole number from 0 to 255, not the text \"x\""),
        "{stderr}"
    );
    let model = std::fs::read_to_string(crate::support::MODEL).unwrap();
    let m = dir.join("m.toml");
    std::fs::write(
        &m,
        model.replacen("[cluster]\n", "[cluster]\nvoters_count = 3\n", 1),
    )
    .unwrap();
    let (_, _, stderr) = run(&["benchmark", "--model", m.to_str().unwrap(), "range", "foo"]);
    // The inserted key is on the line after [cluster].
    let line = model.lines().position(|l| l == "[cluster]").unwrap() + 2;
    assert!(
        stderr.contains(&format!(
            "m.toml:{line}: cluster: unknown key `voters_count`"
        )),
        "{stderr}"
    );
    for words in ["untagged enum", "expected u32", "struct ClusterSection"] {
        assert!(!stderr.contains(words), "{stderr}");
    }
}

#[test]
fn the_shipped_experiments_are_deterministic_run_by_run() {
    let dir = scratch("check-determinism");
    for exp in [
        "experiments/quickstart.toml",
        "experiments/factors/rtt.toml",
        "experiments/factors/range-size.toml",
    ] {
        let out = dir.join(Path::new(exp).file_stem().unwrap());
        let (code, _, stderr) = run(&[
            "run",
            exp,
            "--check-determinism",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, Some(0), "{exp}: {stderr}");
    }
}

#[test]
fn the_determinism_check_names_the_run_that_diverged() {
    use etcdsim::config::workload::WorkloadSpec;
    use etcdsim::model::{self, RunOptions};
    let p = etcdsim::runner::files::load_model(Path::new(crate::support::MODEL), &[]).unwrap();
    let w = WorkloadSpec {
        total: 500,
        ..WorkloadSpec::default()
    }
    .validate(&p, "t", "")
    .unwrap();
    let a = model::run(&p, &w, 7, RunOptions::default());
    let same = model::run(&p, &w, 7, RunOptions::default());
    etcdsim::runner::experiment::same_trace("point 3, replication 1", &a, &same).unwrap();
    // A run that went another way (here: another seed, as a nondeterministic model would).
    let other = model::run(&p, &w, 8, RunOptions::default());
    let e = etcdsim::runner::experiment::same_trace("point 3, replication 1", &a, &other)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("point 3, replication 1 (seed 7) is not deterministic"),
        "{e}"
    );
}
