//! Issue 19, outputs at the edges: a closed or full standard output or error (item 1), two runs
//! into one folder (5), a full disk (6), planted symlinks (7) and paths that escape (8).

use std::io::Write;
use std::process::Stdio;

use etcdsim::error::Error;
use etcdsim::runner::bench::{self, BenchOptions};

use crate::support::{
    MODEL, contents, etcdsim, experiment, names, output, run, scratch, spawn, wait_until,
};

/// A pipe whose reader is already gone (`true` read it and exited): every write to it fails
/// with EPIPE.
fn closed_pipe() -> Stdio {
    let mut reader = std::process::Command::new("true")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let writer = reader.stdin.take().unwrap();
    reader.wait().unwrap();
    Stdio::from(writer)
}

fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
}

#[test]
fn a_closed_stdout_ends_benchmark_quietly_with_141() {
    let o = etcdsim()
        .args(["benchmark", "range", "foo", "--total", "100"])
        .stdout(closed_pipe())
        .output()
        .unwrap();
    let (code, _, stderr) = output(o);
    assert_eq!(code, Some(141), "{stderr}");
    assert_eq!(stderr, "", "nothing to say to a reader that left");
}

#[test]
fn a_full_stdout_is_an_io_error_for_explain_and_calibrate() {
    for args in [
        &["explain", "range", "foo", "--total", "100"][..],
        &[
            "calibrate",
            "experiments/calibrate/gce-8vcpu-ssd.toml",
            "--check",
        ],
    ] {
        let o = etcdsim().args(args).stdout(dev_full()).output().unwrap();
        let (code, _, stderr) = output(o);
        assert_eq!(code, Some(3), "{args:?}: {stderr}");
        assert!(
            stderr.contains("standard output") && stderr.contains("No space left"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// A writer that fails every write with `kind`, injected where a report goes.
struct Failing(std::io::ErrorKind);

impl Write for Failing {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::from(self.0))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_benchmark_report_goes_through_its_writer_and_a_failure_is_an_error() {
    let spec = etcdsim::config::workload::WorkloadSpec {
        total: 100,
        ..Default::default()
    };
    let o = BenchOptions {
        model: etcdsim::runner::files::ModelRef::File(MODEL.into()),
        set: Vec::new(),
        workload: spec,
        key_name: |k| k.to_string(),
        seed: 1,
        run: etcdsim::model::RunOptions::default(),
        heading: "range foo --total=100".into(),
        format: etcdsim::runner::Format::Text,
    };
    let mut report = Vec::new();
    bench::benchmark(&o, &mut report).unwrap();
    assert!(String::from_utf8(report).unwrap().contains("Requests/sec"));
    let e = bench::benchmark(&o, &mut Failing(std::io::ErrorKind::BrokenPipe)).unwrap_err();
    assert!(matches!(e, Error::BrokenPipe), "{e}");
    let e = bench::benchmark(&o, &mut Failing(std::io::ErrorKind::StorageFull)).unwrap_err();
    assert_eq!(e.exit_code(), 3, "{e}");
}

const TWO_POINTS: &str = "name = \"two\"\n[workload]\ntotal = 2000\n[grid]\nclients = [1, 10]\n[charts]\nx = \"clients\"\n";

#[test]
fn a_run_finishes_its_files_when_nobody_reads_its_progress() {
    let dir = scratch("closed-stderr");
    let exp = experiment(&dir, TWO_POINTS);
    let out = dir.join("out");
    let (pipe, both) = (closed_pipe(), closed_pipe());
    let o = etcdsim()
        .args(["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .stdout(pipe)
        .stderr(both)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        names(&out),
        [
            ".etcdsim-output",
            "breakdown.png",
            "breakdown.svg",
            "index.html",
            "latency.png",
            "latency.svg",
            "results.csv",
            "run.toml",
            "stages.csv",
            "summary.csv",
            "throughput.png",
            "throughput.svg",
            "utilization.csv"
        ],
        "every output, and no journal left"
    );
}

/// Slow enough to be caught in the middle: one run of tens of seconds.
const SLOW: &str = "name = \"slow\"\n[workload]\nclients = 100\nconns = 10\ntotal = 50000000\n";

#[test]
fn a_second_run_into_a_busy_folder_is_refused_and_touches_nothing() {
    let dir = scratch("busy");
    let slow = experiment(&dir, SLOW);
    let out = dir.join("out");
    let first = spawn(&[
        "run",
        slow.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let journal = out.join("results.partial.csv");
    wait_until("the first run's journal", || journal.exists());
    let before = std::fs::read(&journal).unwrap();
    let other = experiment(&dir.join(".."), TWO_POINTS);
    let (code, _, stderr) = run(&[
        "run",
        other.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("the output directory") && stderr.contains("another etcdsim command"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&journal).unwrap(),
        before,
        "the journal is the first run's"
    );
    assert_eq!(
        names(&out),
        ["results.partial.csv"],
        "nothing of the second run"
    );
    let mut first = first;
    first.kill().unwrap();
    first.wait().unwrap();
}

/// Runs `exp` into `out` under a file-size limit of `blocks` × 512 bytes, as a full disk
/// would stop it: writes past the limit fail (EFBIG; SIGXFSZ is ignored so they return).
fn run_on_a_small_disk(
    exp: &std::path::Path,
    out: &std::path::Path,
    blocks: u32,
) -> (Option<i32>, String) {
    let script = format!("ulimit -f {blocks}; trap '' XFSZ; exec \"$0\" run \"$1\" --out \"$2\"");
    let o = std::process::Command::new("sh")
        .args(["-c", &script, env!("CARGO_BIN_EXE_etcdsim")])
        .arg(exp)
        .arg(out)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_full_disk_leaves_the_previous_output_whole_and_no_temporary() {
    let dir = scratch("full-disk");
    let out = dir.join("out");
    let exp = experiment(&dir, TWO_POINTS);
    let (code, _, stderr) = run(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    let good = contents(&out);
    // The charts are the largest files: 16 kB lets the journal and the CSVs through, not them.
    let exp2 = experiment(
        &dir,
        &TWO_POINTS.replace("name = \"two\"", "name = \"two\"\nseed = 2"),
    );
    let (code, stderr) = run_on_a_small_disk(&exp2, &out, 32);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("the output directory") && stderr.contains("File too large"),
        "{stderr}"
    );
    let mut after = contents(&out);
    after.retain(|(n, _)| n != "results.partial.csv");
    assert_eq!(after, good, "the previous output, byte for byte");
    assert_eq!(names(&dir), ["exp.toml", "out"], "no staging folder left");
    // A later run without charts replaces the whole output: no chart of the old one stays.
    let plain = experiment(&dir, "name = \"two\"\nseed = 3\n[workload]\ntotal = 2000\n");
    let (code, _, stderr) = run(&[
        "run",
        plain.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        names(&out),
        [
            ".etcdsim-output",
            "breakdown.png",
            "breakdown.svg",
            "index.html",
            "results.csv",
            "run.toml",
            "stages.csv",
            "summary.csv",
            "utilization.csv"
        ]
    );
    let toml = std::fs::read_to_string(out.join("run.toml")).unwrap();
    assert!(toml.contains("base_seed = 3"), "{toml}");
}

#[test]
fn planted_symlinks_are_replaced_never_written_through() {
    let dir = scratch("symlinks");
    let exp = experiment(&dir, TWO_POINTS);
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let victims: Vec<_> = (0..3).map(|i| dir.join(format!("victim{i}"))).collect();
    for v in &victims {
        std::fs::write(v, "keep").unwrap();
    }
    std::os::unix::fs::symlink(&victims[0], out.join("results.partial.csv")).unwrap();
    std::os::unix::fs::symlink(&victims[1], out.join("results.tmp~")).unwrap();
    std::os::unix::fs::symlink(&victims[2], dir.join(".out.etcdsim-staging")).unwrap();
    let (code, _, stderr) = run(&[
        "run",
        exp.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    for v in &victims {
        assert_eq!(std::fs::read_to_string(v).unwrap(), "keep", "{v:?}");
    }
    for name in names(&out) {
        let m = std::fs::symlink_metadata(out.join(&name)).unwrap();
        assert!(
            !m.is_symlink() || name == "results.tmp~",
            "{name} is a symlink"
        );
    }
    let trace = dir.join("trace.json");
    std::os::unix::fs::symlink(&victims[0], &trace).unwrap();
    let (code, _, stderr) = run(&[
        "trace",
        "--requests",
        "5",
        "--out",
        trace.to_str().unwrap(),
        "range",
        "foo",
        "--total",
        "50",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victims[0]).unwrap(), "keep");
}

#[test]
fn names_from_files_stay_one_folder_inside_output() {
    let dir = scratch("escape");
    for (name, folder) in [("../../escaped", "_.._escaped"), ("/tmp/abs", "_tmp_abs")] {
        let exp = experiment(&dir, &TWO_POINTS.replace("\"two\"", &format!("{name:?}")));
        let o = etcdsim()
            .current_dir(&dir)
            .args(["run", exp.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            dir.join("output").join(folder).join("results.csv").exists(),
            "{name}"
        );
    }
    assert_eq!(
        names(&dir),
        ["exp.toml", "output"],
        "nothing outside output/"
    );
    assert!(!std::path::Path::new("/tmp/abs").exists());
}

#[test]
fn the_root_the_home_and_a_foreign_folder_are_refused_as_outputs() {
    let dir = scratch("refused");
    let exp = experiment(&dir, TWO_POINTS);
    let foreign = dir.join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let exp = exp.to_str().unwrap();
    for (out, want) in [
        ("/", "the root directory"),
        (home.to_str().unwrap(), "the home directory"),
        (foreign.to_str().unwrap(), "pass --force"),
    ] {
        let o = etcdsim()
            .env("HOME", &home)
            .args(["run", exp, "--out", out])
            .output()
            .unwrap();
        let (code, _, stderr) = output(o);
        assert_eq!(code, Some(2), "{out}: {stderr}");
        assert!(stderr.contains(want), "{out}: {stderr}");
    }
    let (code, _, stderr) = run(&["run", exp, "--out", foreign.to_str().unwrap(), "--force"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(foreign.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(foreign.join("results.csv").exists());
    // Now an earlier etcdsim output, it takes a new run without --force, and keeps the notes.
    let (code, _, stderr) = run(&["run", exp, "--out", foreign.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(foreign.join("notes.txt").exists());
}
