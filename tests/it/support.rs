//! What the integration tests share: scratch folders, experiment files beside them, the
//! binary as a child process, and waiting for a child without timing assertions (a generous
//! watchdog only, so a hang fails instead of blocking the suite).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root (where the shipped files are named from).
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The shipped reference model, as an absolute path.
pub const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/gce-8vcpu-ssd.toml");
/// Longer than anything here should take: a child still running then has hung.
pub const WATCHDOG: Duration = Duration::from_secs(300);

/// A fresh, empty folder for test `name`.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("etcdsim-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `dir/exp.toml`: the shipped model, then `body`.
pub fn experiment(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("exp.toml");
    std::fs::write(&p, format!("model = {MODEL:?}\n{body}")).unwrap();
    p
}

/// Writes `dir/p.toml`: the shipped plan with `edit` applied to its text.
pub fn plan_with(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let shipped =
        std::fs::read_to_string(format!("{ROOT}/experiments/plans/k8s-control-plane.toml"))
            .unwrap();
    let p = dir.join("p.toml");
    std::fs::write(&p, edit(shipped)).unwrap();
    p
}

/// The etcdsim binary, run from the repository root.
pub fn etcdsim() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_etcdsim"));
    c.current_dir(ROOT);
    c
}

/// Runs etcdsim with `args` from the repository root; (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (Option<i32>, String, String) {
    output(etcdsim().args(args).output().expect("etcdsim runs"))
}

/// An output as (exit code, stdout, stderr).
pub fn output(o: Output) -> (Option<i32>, String, String) {
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Polls `done` until it holds; fails the test past the watchdog.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !done() {
        assert!(t0.elapsed() < WATCHDOG, "waited too long for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits for `child` to exit (killing it past the watchdog) and returns its output.
pub fn finish(mut child: Child) -> (Option<i32>, String, String) {
    wait_until("the child to exit", || child.try_wait().unwrap().is_some());
    output(child.wait_with_output().unwrap())
}

/// Waits until process `pid` has installed its SIGINT handler (Linux: bit 1 of SigCgt in
/// /proc/PID/status), so that a SIGINT reaches etcdsim's handler rather than killing it.
pub fn wait_for_sigint_handler(pid: u32) {
    let caught = || {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("SigCgt:"))
                    .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            })
            .is_some_and(|mask| mask & (1 << (2 - 1)) != 0)
    };
    wait_until("the SIGINT handler", caught);
}

/// Sends SIGINT, as Ctrl-C does.
pub fn sigint(pid: u32) {
    let st = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

/// Starts etcdsim with `args`, stdout and stderr captured.
pub fn spawn(args: &[&str]) -> Child {
    etcdsim()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The finished runs in the journal of the output folder `out` (its mark and header are not).
pub fn journal_rows(out: &Path) -> usize {
    std::fs::read_to_string(out.join("results.partial.csv"))
        .map_or(0, |t| t.lines().count().saturating_sub(2))
}

/// The names in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Every file in `dir` (not below), with its bytes.
pub fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    names(dir)
        .into_iter()
        .filter(|n| dir.join(n).is_file())
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}
