//! Bad input never panics, never aborts, stays within a time and memory budget, and every
//! refusal names the file and the key or the line. Every kind of file etcdsim ships is mutated
//! thousands of ways (a line deleted, a value's type changed, a value out of range, an unknown
//! key inserted, the file truncated; for the reference CSV a cell emptied, retyped or pushed out
//! of range, a line doubled or cut): the model, an experiment, a plan, a calibration and a
//! reference CSV.
//!
//! In-process cases load, validate and run what validates with small caps, each on a thread of
//! its own under a watchdog, its allocations counted (the counting allocator below). A smaller
//! campaign runs the binary itself under a virtual-memory limit: an abort or a panic there is a
//! signal or exit code 101, refused; an exit 2 must say where.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use proptest::prelude::*;

use etcdsim::config::ConfigError;
use etcdsim::config::limits::Limits;
use etcdsim::error::Error;
use etcdsim::model::{self, RunOptions};

use crate::support::{ROOT, etcdsim, output};

/// Counts each thread's heap: what it holds and the most it has held.
struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with`: a thread being torn down frees memory after its counters are gone.
    let _ = HELD.try_with(|h| {
        let held = h.get() + delta;
        h.set(held);
        let _ = PEAK.try_with(|p| p.set(p.get().max(held)));
    });
}

// SAFETY: every call is passed to the system allocator unchanged; only sizes are counted, in
// thread-locals that never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: as the caller's contract for `alloc`.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            count(l.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        // SAFETY: as the caller's contract for `alloc_zeroed`.
        let p = unsafe { System.alloc_zeroed(l) };
        if !p.is_null() {
            count(l.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: as the caller's contract for `dealloc`.
        unsafe { System.dealloc(p, l) };
        count(-(l.size() as isize));
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // SAFETY: as the caller's contract for `realloc`.
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            count(new as isize - l.size() as isize);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most one case may hold on the heap.
const MEMORY_BUDGET: isize = 512 << 20;
/// Far more than a case needs: past it, the case has hung.
const CASE_WATCHDOG: Duration = Duration::from_secs(120);
/// Small caps for the runs of the cases that validate.
const CAPS: Limits = Limits {
    max_events: Some(20_000),
    max_sim_time_s: Some(10.0),
    max_in_flight: Some(10_000),
};

fn small_runs() -> RunOptions {
    CAPS.run_options("test").unwrap()
}

/// Runs `case` on a thread of its own: its result, or why it failed (a panic, more memory
/// than the budget, longer than the watchdog).
fn guarded<T: Send + 'static>(
    case: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(case));
        let peak = PEAK.with(Cell::get);
        let _ = tx.send((out, peak));
    });
    match rx.recv_timeout(CASE_WATCHDOG) {
        Err(_) => Err(format!("no answer within {CASE_WATCHDOG:?}")),
        Ok((Err(_), _)) => Err("panicked".into()),
        Ok((Ok(_), peak)) if peak > MEMORY_BUDGET => {
            Err(format!("held {} MiB at once", peak >> 20))
        }
        Ok((Ok(r), _)) => r,
    }
}

/// Whether the message of `e` names one of `files` and, for bad input, the key or the line.
fn located(e: &Error, files: &[&str]) -> bool {
    let names = |f: &str| files.iter().any(|x| f.contains(x));
    match e {
        Error::Config(ConfigError::Invalid { file, key, .. }) => names(file) && !key.is_empty(),
        Error::Config(ConfigError::Parse { file, line, msg }) => {
            // Without a line, the message starts with the key path (`workload.clients: ...`).
            let keyed = msg
                .split_once(": ")
                .is_some_and(|(k, _)| !k.is_empty() && !k.contains(' '));
            // A reference with no row at all has no line to point at.
            names(file) && (line.is_some() || keyed || msg.starts_with("no rows"))
        }
        Error::Usage(m) | Error::Io(m) => names(m),
        Error::Internal(_) | Error::Interrupted(_) | Error::BrokenPipe => false,
    }
}

/// The lines of `text` that set a key (not comments, blanks or table headers).
fn key_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#') && !t.starts_with('[') && t.contains('=')
        })
        .map(|(i, _)| i)
        .collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Retype(usize),
    OutOfRange(usize, String),
    Unknown(usize),
    Truncate(usize),
}

/// Applies mutation `m` to the TOML `text`.
fn mutate(text: &str, m: &Mutation) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let keys = key_lines(text);
    let set = |i: usize, f: &dyn Fn(&str, &str) -> String| {
        let at = keys[i % keys.len()];
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        let (k, v) = lines[at].split_once('=').unwrap();
        out[at] = f(k.trim(), v.trim());
        out.join("\n")
    };
    match m {
        Mutation::Delete(i) => set(*i, &|_, _| String::new()),
        Mutation::Retype(i) => set(*i, &|k, _| format!("{k} = \"not a number\"")),
        Mutation::OutOfRange(i, x) => set(*i, &|k, _| format!("{k} = {x}")),
        Mutation::Unknown(i) => set(*i, &|k, v| format!("{k} = {v}\n{k}_typo = 1")),
        Mutation::Truncate(at) => text.chars().take(*at % text.len()).collect(),
    }
}

/// Values out of every range: negative, zero, huge, not finite, the widest integers, and
/// values of the wrong shape.
const EXTREMES: [&str; 11] = [
    "-1",
    "0",
    "-1000000",
    "9223372036854775807",
    "4294967295",
    "1000000000",
    "1e308",
    "nan",
    "inf",
    "[]",
    "{}",
];

fn extreme() -> impl Strategy<Value = String> {
    proptest::sample::select(&EXTREMES[..]).prop_map(String::from)
}

/// Every mutation of every key of `text`: deleted, retyped, given each extreme value, and a
/// misspelt copy beside it.
fn every_mutation(text: &str) -> Vec<Mutation> {
    (0..key_lines(text).len())
        .flat_map(|i| {
            let each = EXTREMES
                .iter()
                .map(move |x| Mutation::OutOfRange(i, x.to_string()));
            [
                Mutation::Delete(i),
                Mutation::Retype(i),
                Mutation::Unknown(i),
            ]
            .into_iter()
            .chain(each)
        })
        .collect()
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0usize..500).prop_map(Mutation::Delete),
        (0usize..500).prop_map(Mutation::Retype),
        (0usize..500, extreme()).prop_map(|(i, x)| Mutation::OutOfRange(i, x)),
        (0usize..500).prop_map(Mutation::Unknown),
        (0usize..20_000).prop_map(Mutation::Truncate),
    ]
}

const MODEL_FILE: &str = "models/gce-8vcpu-ssd.toml";
const SHIPPED_MODEL: &str = include_str!("../../models/gce-8vcpu-ssd.toml");
const QUICKSTART: &str = include_str!("../../experiments/quickstart.toml");
const PLAN: &str = include_str!("../../experiments/plans/k8s-control-plane.toml");
const CALIBRATION: &str = include_str!("../../experiments/calibrate/gce-8vcpu-ssd.toml");
/// The two layouts of a reference CSV: the harness's grid, and the published rows.
const REFERENCES: [&str; 2] = [
    include_str!("../../experiments/reference/loopback-2vcpu.csv"),
    include_str!("../../experiments/reference/etcd-io-v3.4-performance.csv"),
];

/// `text` with the shipped files it names made absolute, written to `name` in a scratch folder
/// of this process.
fn scratch_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("etcdsim-mutants-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = text.to_string();
    // The shipped files name their paths from their own folder; the copy is elsewhere.
    for (named, shipped) in [
        ("../../models/gce-8vcpu-ssd.toml", MODEL_FILE),
        (
            "../reference/etcd-io-v3.4-performance.csv",
            "experiments/reference/etcd-io-v3.4-performance.csv",
        ),
    ] {
        text = text.replace(&format!("\"{named}\""), &format!("\"{ROOT}/{shipped}\""));
    }
    // One file per case and thread, so that parallel tests never share one.
    let id = format!("{:?}", std::thread::current().id());
    let path = dir.join(format!(
        "{}-{name}",
        id.trim_matches(|c: char| !c.is_ascii_digit())
    ));
    std::fs::write(&path, text).unwrap();
    path
}

/// Checks that a refusal `e` of a mutant of `file` (or of the model it names) says where:
/// `Ok(false)`, refused as it should be.
fn refusal(e: &Error, file: &str, what: &str) -> Result<bool, String> {
    if e.exit_code() == 2 && located(e, &[file, "gce-8vcpu-ssd.toml"]) {
        Ok(false)
    } else {
        Err(format!("{what}: refused without naming where: {e}"))
    }
}

fn model_case(text: String, what: String) -> Result<bool, String> {
    let p = match etcdsim::config::model::model_from_str("models/mutated.toml", &text, &[]) {
        Ok(p) => p,
        Err(e) => return refusal(&e.into(), "models/mutated.toml", &what),
    };
    let spec = etcdsim::config::workload::WorkloadSpec {
        clients: 4,
        conns: 2,
        total: 200,
        ..Default::default()
    };
    if let Ok(w) = spec.validate(&p, "w", "") {
        let r = model::run(&p, &w, 1, small_runs());
        if !r.invariant_errors.is_empty() {
            return Err(format!("{what}: {:?}", r.invariant_errors));
        }
    }
    Ok(true)
}

fn experiment_case(text: String, what: String) -> Result<bool, String> {
    let path = scratch_file("mutated.toml", &text);
    let sweep = match etcdsim::runner::sweep::prepare(&path, &CAPS) {
        Ok(s) => s,
        Err(e) => return refusal(&e, "mutated.toml", &what),
    };
    if let Some(job) = sweep.jobs.first() {
        let r = model::run(&job.cluster, &job.workload, 1, sweep.opts);
        if !r.invariant_errors.is_empty() {
            return Err(format!("{what}: {:?}", r.invariant_errors));
        }
    }
    Ok(true)
}

fn plan_case(text: String, what: String) -> Result<bool, String> {
    let path = scratch_file("plan.toml", &text);
    match etcdsim::runner::plan::validate_plan(&path, &CAPS) {
        Ok(_) => Ok(true),
        Err(e) => refusal(&e, "plan.toml", &what),
    }
}

fn calibration_case(text: String, what: String) -> Result<bool, String> {
    let path = scratch_file("cal.toml", &text);
    let l = match etcdsim::runner::calibrate::load_capped(
        &path,
        &CAPS,
        etcdsim::cli::benchmark::pasted_workload,
    ) {
        Ok(l) => l,
        Err(e) => return refusal(&e, "cal.toml", &what),
    };
    match l.evaluate(&[]) {
        Ok(_) => Ok(true),
        Err(e) => refusal(&e, "cal.toml", &what),
    }
}

/// A case runner, given the mutated text and what the mutation was: `Ok(true)` if it was
/// accepted and ran, `Ok(false)` if refused saying where.
type Case = fn(String, String) -> Result<bool, String>;

/// Runs `case` on the mutant `m` of `shipped`, guarded.
fn mutant(case: Case, shipped: &str, m: &Mutation) -> Result<(), TestCaseError> {
    let (text, what) = (mutate(shipped, m), format!("{m:?}"));
    guarded(move || case(text, what))
        .map(|_| ())
        .map_err(TestCaseError::fail)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_model_files_fail_clearly_or_run(m in mutation()) {
        mutant(model_case, SHIPPED_MODEL, &m)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// The quickstart experiment, mutated: loading, grid expansion and validating every point
    /// fail with a message naming the file and where, or succeed and the first point runs.
    #[test]
    fn mutated_experiment_files_fail_clearly_or_run(m in mutation()) {
        mutant(experiment_case, QUICKSTART, &m)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn mutated_plan_files_fail_clearly_or_validate(m in mutation()) {
        mutant(plan_case, PLAN, &m)?;
    }

    #[test]
    fn mutated_calibration_files_fail_clearly_or_run(m in mutation()) {
        mutant(calibration_case, CALIBRATION, &m)?;
    }
}

/// A change to one line of a CSV file.
#[derive(Debug, Clone)]
enum CsvMutation {
    /// Cell `cell` of line `line` set to a value.
    Cell(usize, usize, String),
    /// A cell removed from a line.
    DropCell(usize, usize),
    /// A line given twice.
    Double(usize),
    /// The file cut after this many characters.
    Truncate(usize),
}

fn csv_mutation() -> impl Strategy<Value = CsvMutation> {
    let value = prop_oneof![
        extreme(),
        Just(String::new()),
        Just("abc".to_string()),
        Just("\"quoted, with a comma\"".to_string()),
    ];
    prop_oneof![
        (0usize..200, 0usize..60, value).prop_map(|(l, c, v)| CsvMutation::Cell(l, c, v)),
        (0usize..200, 0usize..60).prop_map(|(l, c)| CsvMutation::DropCell(l, c)),
        (0usize..200).prop_map(CsvMutation::Double),
        (0usize..40_000).prop_map(CsvMutation::Truncate),
    ]
}

/// Applies `m` to the CSV `text` (lines counted among the non-comment ones).
fn mutate_csv(text: &str, m: &CsvMutation) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let data: Vec<usize> = (0..lines.len())
        .filter(|&i| !lines[i].starts_with('#'))
        .collect();
    let pick = |l: usize| data[l % data.len()];
    match m {
        CsvMutation::Cell(l, c, _) | CsvMutation::DropCell(l, c) => {
            let at = pick(*l);
            let mut cells: Vec<String> = lines[at].split(',').map(String::from).collect();
            let c = c % cells.len();
            match m {
                CsvMutation::Cell(_, _, v) => cells[c] = v.clone(),
                _ => {
                    cells.remove(c);
                }
            }
            lines[at] = cells.join(",");
        }
        CsvMutation::Double(l) => {
            let at = pick(*l);
            lines.insert(at, lines[at].clone());
        }
        CsvMutation::Truncate(n) => return text.chars().take(n % text.len()).collect(),
    }
    lines.join("\n") + "\n"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_reference_csvs_fail_clearly_or_read(m in csv_mutation(), layout in 0usize..2) {
        let text = mutate_csv(REFERENCES[layout], &m);
        let what = format!("{m:?}");
        guarded(move || {
            match etcdsim::config::calibration::parse_reference("reference/mutated.csv", &text) {
                Ok(_) => Ok(true),
                Err(e) => refusal(&e.into(), "reference/mutated.csv", &what),
            }
        })
        .map_err(TestCaseError::fail)?;
    }
}

/// Runs the binary on the mutant at `path` under a 4 GiB virtual-memory limit and a small
/// event cap: it must exit 0 or 2 (never a signal such as SIGABRT, never a panic's 101), and
/// an exit 2 must name the file and where.
fn binary_case(args: &[&str], path: &Path) -> Result<(), String> {
    let script = "ulimit -v 4194304; exec \"$@\"";
    let mut cmd = std::process::Command::new("sh");
    cmd.current_dir(ROOT)
        .args(["-c", script, "sh", env!("CARGO_BIN_EXE_etcdsim")])
        .args(args)
        .args(["--max-events", "3000", "--max-in-flight", "10000"]);
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (code, _, stderr) = crate::support::finish(child);
    let name = path.file_name().unwrap().to_string_lossy();
    let said_where = stderr.contains(&*name) || stderr.contains("gce-8vcpu-ssd.toml");
    match code {
        Some(0) => Ok(()),
        Some(2) if said_where => Ok(()),
        other => Err(format!("{args:?}: exit {other:?}: {stderr}")),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn the_binary_never_aborts_on_a_mutant(m in mutation(), kind in 0usize..4) {
        let out = std::env::temp_dir().join(format!("etcdsim-mutant-out-{}", std::process::id()));
        let out = out.to_str().unwrap().to_string();
        let result = match kind {
            0 => {
                let p = scratch_file("model.toml", &mutate(SHIPPED_MODEL, &m));
                binary_case(&["benchmark", "--model", p.to_str().unwrap(), "range", "foo", "--total", "200"], &p)
            }
            1 => {
                let p = scratch_file("exp.toml", &mutate(QUICKSTART, &m));
                binary_case(&["run", p.to_str().unwrap(), "--out", &out, "--force", "--threads", "1"], &p)
            }
            2 => {
                let p = scratch_file("plan.toml", &mutate(PLAN, &m));
                binary_case(&["plan", p.to_str().unwrap(), "--out", &out, "--force", "--threads", "1"], &p)
            }
            _ => {
                let p = scratch_file("cal.toml", &mutate(CALIBRATION, &m));
                binary_case(&["calibrate", p.to_str().unwrap(), "--check"], &p)
            }
        };
        result.map_err(|e| TestCaseError::fail(format!("{m:?}: {e}")))?;
    }
}

/// Not left to chance: every key of every shipped TOML file, each mutated every way.
#[test]
fn every_key_of_every_shipped_file_mutated_every_way() {
    let kinds: [(&str, &str, Case); 4] = [
        ("model", SHIPPED_MODEL, model_case),
        ("experiment", QUICKSTART, experiment_case),
        ("plan", PLAN, plan_case),
        ("calibration", CALIBRATION, calibration_case),
    ];
    let mut failures = Vec::new();
    let (mut cases, mut accepted) = (0, 0);
    for (kind, text, case) in kinds {
        for m in every_mutation(text) {
            cases += 1;
            let mutated = mutate(text, &m);
            let what = format!("{kind} {m:?}");
            match guarded(move || case(mutated, what.clone()).map_err(|e| format!("{what}: {e}"))) {
                Ok(ran) => accepted += usize::from(ran),
                Err(e) => failures.push(e),
            }
        }
    }
    println!("{cases} mutants: {accepted} accepted and run, the others refused saying where");
    assert!(cases > 1000, "{cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_shipped_files_themselves_are_accepted() {
    let (code, _, stderr) = output(
        etcdsim()
            .args([
                "calibrate",
                "experiments/calibrate/gce-8vcpu-ssd.toml",
                "--check",
                "--max-events",
                "1000",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(code, Some(0), "{stderr}");
    for (case, text) in [
        (model_case as Case, SHIPPED_MODEL),
        (experiment_case, QUICKSTART),
        (plan_case, PLAN),
        (calibration_case, CALIBRATION),
    ] {
        assert_eq!(case(text.to_string(), "shipped".into()), Ok(true));
    }
    for text in REFERENCES {
        etcdsim::config::calibration::parse_reference("r.csv", text).unwrap();
    }
}
