//! Issue 19, item 4: Ctrl-C, as a real SIGINT to a child process, stops every command cleanly,
//! keeping and saying what finished, with exit code 130; a second Ctrl-C quits at once.
//!
//! Each child is sent SIGINT once its handler is installed (read from /proc), whatever it is
//! doing then; its work would otherwise last minutes, which the watchdog would catch.

use std::sync::{Arc, Mutex};

use crate::support::{
    experiment, finish, journal_rows, names, plan_with, scratch, sigint, spawn,
    wait_for_sigint_handler, wait_until,
};

/// Everything `from` gives, gathered by a thread as it comes; join the thread for all of it.
fn read_in_background(
    mut from: impl std::io::Read + Send + 'static,
) -> (Arc<Mutex<String>>, std::thread::JoinHandle<()>) {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&text);
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    (text, reader)
}

/// Starts etcdsim with `args`, sends it Ctrl-C, and returns (exit code, stdout, stderr).
fn interrupted(args: &[&str]) -> (Option<i32>, String, String) {
    let child = spawn(args);
    wait_for_sigint_handler(child.id());
    // Most often mid-work; the outcome is the same whenever the signal lands.
    std::thread::sleep(std::time::Duration::from_millis(300));
    sigint(child.id());
    finish(child)
}

#[test]
fn ctrl_c_stops_a_long_benchmark_and_its_report_says_so() {
    let (code, stdout, stderr) =
        interrupted(&["benchmark", "range", "foo", "--total", "2000000000"]);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stdout.contains("INTERRUPTED by Ctrl-C"), "{stdout}");
    assert!(stdout.contains("Stopped by: interrupted"), "{stdout}");
    assert!(stderr.contains("interrupted by Ctrl-C"), "{stderr}");
}

#[test]
fn ctrl_c_stops_explain_and_trace_which_write_what_they_simulated() {
    let dir = scratch("sigint-trace");
    let (code, stdout, stderr) = interrupted(&["explain", "range", "foo", "--total", "2000000000"]);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stdout.contains("What etcd does"), "{stdout}");
    let out = dir.join("t.json");
    let (code, _, stderr) = interrupted(&[
        "trace",
        "--out",
        out.to_str().unwrap(),
        "range",
        "foo",
        "--total",
        "2000000000",
    ]);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("wrote") && stderr.contains("interrupted by Ctrl-C"),
        "{stderr}"
    );
    assert_eq!(names(&dir), ["t.json"], "the trace, and no temporary");
}

#[test]
fn ctrl_c_stops_a_plan_keeping_the_candidates_it_finished() {
    let dir = scratch("sigint-plan");
    // Minutes of search: the runs are long.
    let plan = plan_with(&dir, |t| {
        t.replace("duration_s = 1.0", "duration_s = 500.0")
    });
    let out = dir.join("out");
    let (code, stdout, stderr) = interrupted(&[
        "plan",
        plan.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("candidate searches had finished")
            && stderr.contains("no candidate is chosen"),
        "{stderr}"
    );
    assert!(
        stdout.contains("none is chosen from a partial plan"),
        "{stdout}"
    );
    assert!(
        names(&out).contains(&"probes.csv".to_string()),
        "{:?}",
        names(&out)
    );
    assert_eq!(names(&dir), ["out", "p.toml"], "no staging folder left");
}

#[test]
fn ctrl_c_stops_a_calibration_in_its_search_which_writes_nothing() {
    let dir = scratch("sigint-cal");
    let out = dir.join("fitted.toml");
    let mut child = spawn(&[
        "calibrate",
        "experiments/calibrate/gce-8vcpu-ssd.toml",
        "--max-evals",
        "100000",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (progress, reader) = read_in_background(child.stderr.take().unwrap());
    wait_until("the search's first progress line", || {
        progress.lock().unwrap().contains("calibrating: evaluation")
    });
    sigint(child.id());
    let (code, _, _) = finish(child);
    reader.join().unwrap();
    let stderr = progress.lock().unwrap().clone();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("writes nothing"), "{stderr}");
    assert_eq!(
        names(&dir),
        Vec::<String>::new(),
        "no fitted model, no temporary"
    );
}

#[test]
fn a_second_ctrl_c_quits_a_sweep_at_once() {
    let dir = scratch("sigint-twice");
    // Point 0 is quick; point 1 would run for minutes. On two threads both start at once, so
    // point 1 is surely in progress when point 0's row appears (on one thread, the first press
    // could land between the two runs, and the sweep would end before the second).
    let exp = experiment(
        &dir,
        "name = \"twice\"\n[workload]\nclients = 100\nconns = 10\n[grid]\ntotal = [2000, 500000000]\n",
    );
    let out = dir.join("out");
    let mut child = spawn(&[
        "run",
        exp.to_str().unwrap(),
        "--threads",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (stderr, reader) = read_in_background(child.stderr.take().unwrap());
    let rows = || journal_rows(&out);
    wait_until("point 0's row", || rows() >= 1);
    wait_for_sigint_handler(child.id());
    sigint(child.id());
    // The first press lets the run in progress finish; once it is seen, the second quits.
    wait_until("the first press's message", || {
        stderr.lock().unwrap().contains("press Ctrl-C again")
    });
    sigint(child.id());
    let (code, _, _) = finish(child);
    reader.join().unwrap();
    let stderr = stderr.lock().unwrap().clone();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("quitting at once"), "{stderr}");
    assert_eq!(rows(), 1, "point 1 never finished");
    assert_eq!(
        names(&dir),
        ["exp.toml", "out"],
        "the staging folder is removed"
    );
}
