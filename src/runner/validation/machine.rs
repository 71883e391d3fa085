//! docs/validation.md, section 3: the model of this machine against real etcd measured on it
//! by `harness/measure`: every row, the rows the fit used apart from the held-out ones, the
//! ratios the course's claims rest on, the CPU per request beside the model's, and the misses.

use crate::config::benchmark_output::CommandLine;
use std::fmt::Write;
use std::path::Path;

use crate::error::Error;
use crate::report::calibration::{RowFit, grid_table};

/// Held-out rows must predict throughput within this…
pub const QPS_TOLERANCE: f64 = 0.15;
/// …and mean latency within this, on at least [`SHARE`] of the rows.
pub const LATENCY_TOLERANCE: f64 = 0.25;
/// See [`LATENCY_TOLERANCE`].
pub const SHARE: f64 = 0.8;
/// A ratio must be predicted within this.
pub const RATIO_TOLERANCE: f64 = 0.15;

/// A ratio of two rows' throughputs, measured against predicted.
#[derive(Debug, Clone)]
pub struct Ratio {
    /// What it compares.
    pub what: String,
    /// Measured.
    pub measured: f64,
    /// Predicted.
    pub predicted: f64,
}

impl Ratio {
    /// Relative error of the prediction.
    pub fn error(&self) -> f64 {
        self.predicted / self.measured - 1.0
    }
}

/// The ratios the course's claims rest on, from the grid's rows (those present).
pub fn ratios(fits: &[RowFit]) -> Vec<Ratio> {
    let find = |label: &str| fits.iter().find(|f| f.label == label);
    let mut out = Vec::new();
    let mut push = |what: String, num: &str, den: &str| {
        if let (Some(n), Some(d)) = (find(num), find(den)) {
            out.push(Ratio {
                what,
                measured: n.measured_qps / d.measured_qps,
                predicted: n.qps / d.qps,
            });
        }
    };
    let row = |target: &str, c: &str, clients: u32| {
        if clients == 1 && target != "all" {
            format!("fit-read-{target}-{c}")
        } else {
            format!("read-{target}-{c}-c{clients}")
        }
    };
    for target in ["leader", "follower", "all"] {
        for clients in [1, 4, 16, 64, 256] {
            push(
                format!("serializable / linearizable, via {target}, {clients} clients"),
                &row(target, "s", clients),
                &row(target, "l", clients),
            );
        }
    }
    for c in ["l", "s"] {
        for w in [300, 1000, 3000] {
            push(
                format!("{c} with {w} puts/s / without, 16 clients"),
                &format!("bg-{c}-w{w}"),
                &format!("read-all-{c}-c16"),
            );
        }
    }
    for c in ["l", "s"] {
        for clients in [1, 4, 16, 64, 256] {
            push(
                format!("{c} via a follower / via the leader, {clients} clients"),
                &row("follower", c, clients),
                &row("leader", c, clients),
            );
        }
    }
    for c in ["l", "s"] {
        for m in [1, 5] {
            push(
                format!("{c} on {m} members / on 3, 16 clients"),
                &format!("members-m{m}-{c}"),
                &format!("read-all-{c}-c16"),
            );
        }
    }
    out
}

/// Whether a row's throughput and mean latency are within the held-out tolerances.
fn within(f: &RowFit) -> bool {
    f.qps_error().abs() <= QPS_TOLERANCE && f.latency_error().abs() <= LATENCY_TOLERANCE
}

/// Writes section 3 for the calibration file `path` (its model and the harness's CSV).
pub fn section(o: &mut String, path: &Path, command_line: CommandLine) -> Result<(), Error> {
    let l = crate::runner::calibrate::load(path, command_line)?;
    let reference_csv = l.cal.reference_csv(&path.display().to_string())?;
    let (ref_path, reference) = super::super::files::read_named(path, "reference", reference_csv)?;
    let fits = l.evaluate(&[])?;
    let _ = writeln!(
        o,
        "\n## 3. The model of this machine against real etcd on it\n\n`{}` against `{}`: real etcd 3.4.23 on loopback, every member and the load generator on this machine's 2 vCPUs, measured by `harness/measure harness/grids/full.toml` (`harness/README.md`); each row is the median of its repetitions, each on a fresh cluster. The model's costs were fitted on the rows marked *fit* only (`etcdsim calibrate {}`), matching throughput, mean latency and the CPU each process used per request; every other row is held out. Tolerances for held-out rows: throughput within {:.0}% and mean latency within {:.0}% on at least {:.0}% of the rows, and each ratio below within {:.0}%.\n\nThe measurement:\n",
        l.model_file,
        ref_path.display(),
        path.display(),
        QPS_TOLERANCE * 100.0,
        LATENCY_TOLERANCE * 100.0,
        SHARE * 100.0,
        RATIO_TOLERANCE * 100.0,
    );
    for c in reference.lines().filter(|l| {
        ["# date", "# etcd", "# go", "# kernel", "# cpu", "# machine"]
            .iter()
            .any(|p| l.starts_with(p))
    }) {
        let _ = writeln!(o, "    {}", c.trim_start_matches("# "));
    }
    let _ = writeln!(
        o,
        "\nEach row: throughput, mean latency, p99 (measured/predicted) and CPU per request of the leader, a follower (their mean) and the client, in µs (measured/predicted; – where not measured).\n"
    );
    o.push_str(&grid_table(&fits));
    let held: Vec<&RowFit> = fits.iter().filter(|f| !f.fitted).collect();
    let ok = held.iter().filter(|f| within(f)).count();
    let _ = writeln!(
        o,
        "\nHeld-out rows within both tolerances: {ok} of {} ({:.0}%; the goal is {:.0}%).",
        held.len(),
        ok as f64 * 100.0 / held.len().max(1) as f64,
        SHARE * 100.0
    );
    let skipped: Vec<String> = l
        .rows
        .iter()
        .filter_map(|r| {
            r.unsupported
                .as_ref()
                .map(|why| format!("{} ({why})", r.label))
        })
        .collect();
    if !skipped.is_empty() {
        let _ = writeln!(o, "Rows not simulated: {}.", skipped.join("; "));
    }
    o.push_str(&disk_table(&fits));
    let rs = ratios(&fits);
    let _ = writeln!(
        o,
        "\nThe ratios of throughputs the course's claims rest on:\n\n| ratio | measured | predicted | error |\n|---|---:|---:|---:|"
    );
    for r in &rs {
        let _ = writeln!(
            o,
            "| {} | {:.3} | {:.3} | {:+.1}%{} |",
            r.what,
            r.measured,
            r.predicted,
            r.error() * 100.0,
            if r.error().abs() > RATIO_TOLERANCE {
                " (miss)"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(o, "\nHeld-out rows outside the tolerances:\n");
    let mut any = false;
    for f in held.iter().filter(|f| !within(f)) {
        any = true;
        let why = GRID_MISSES
            .iter()
            .find(|(label, _)| f.label.starts_with(label))
            .map_or("Not explained yet: investigate.", |(_, why)| why);
        let _ = writeln!(
            o,
            "- **{}** (throughput {:+.1}%, latency {:+.1}%): {why}",
            f.label,
            f.qps_error() * 100.0,
            f.latency_error() * 100.0
        );
    }
    if !any {
        let _ = writeln!(o, "- none.");
    }
    Ok(())
}

/// The rows that write, with what etcd's two disk histograms read (measured, pooled over the
/// members, from their `/metrics`) beside the model's: where a write's time goes on the disk.
fn disk_table(fits: &[RowFit]) -> String {
    let ms = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v:.3}"));
    let mut o = String::from(
        "\nThe rows that write: the means of etcd's `wal_fsync_duration_seconds` and `backend_commit_duration_seconds` (measured from the members' `/metrics` over the window, pooled; predicted as the model times the same calls: an fdatasync from its call to its return, with its CPU, its wait for the disk and the kernel's completion; a commit from taking the batch transaction's lock to the second fdatasync's end), in ms:\n\n| row | WAL fsync measured | predicted | error | backend commit measured | predicted | error |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    let err = |(m, p): (Option<f64>, Option<f64>)| match (m, p) {
        (Some(m), Some(p)) if m > 0.0 => format!("{:+.1}%", (p / m - 1.0) * 100.0),
        _ => "–".to_string(),
    };
    for f in fits.iter().filter(|f| f.disk_ms[0].0.is_some()) {
        let [wal, commit] = f.disk_ms;
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} |",
            f.label,
            ms(wal.0),
            ms(wal.1),
            err(wal),
            ms(commit.0),
            ms(commit.1),
            err(commit)
        );
    }
    o
}

/// What the grid's misses are thought to come from, by row-name prefix, each with the
/// measurement behind the thought.
pub const GRID_MISSES: &[(&str, &str)] = &[
    (
        "bg-l-",
        "Linearizable reads beside writes fall faster in real etcd than in the model, and the disk and the writes' CPU no longer explain it: etcd's WAL fsync histogram is now predicted within 9% on these rows (the table above: 0.49, 0.51 and 0.60 ms against 0.51, 0.55 and 0.65 measured), and serializable reads beside the same writes are within 13% (their ratios within 16%) since an fdatasync's CPU waits for the cores (`disk.fsync_cpu_us`, `disk.fsync_kernel_us`). So what is missing couples the ReadIndex round to the writes themselves. With the members' data directories on tmpfs (`harness/measure harness/grids/full.toml --only bg-l-w3000,bg-s-w3000,read-all-l-c16 --reps 2 --tmpdir /dev/shm`), linearizable reads beside 3,000 puts/s double (2,556 → 4,972/s): the coupling runs through the disk's latency, which a round waits for in the Ready loop (a follower's heartbeat answer after its fsync, the leader's ReadState after its own). The model has both waits; its backend commits are 25–43% longer than measured, so the lock they hold is not short. Not yet measured: the round's own time under writes (the probe's linearizable latency, `probe_l_ms_mean`, is empty on these rows), which would tell a longer round from more reads waiting for one.",
    ),
    (
        "read-leader-s-c4",
        "At 4 clients the real member spends more CPU per read than the model (the leader's 105 µs measured, about 70 predicted; at one client both are near 130): Go's runtime wakes a spinning thread at every hand-off while a P is idle, where the model wakes another only when there is work left for it, so the model parks and wakes less often at low concurrency.",
    ),
    (
        "read-follower-s-c4",
        "As read-leader-s-c4: the serving member's CPU per read is higher than predicted at 4 clients.",
    ),
    (
        "read-leader-l-c16",
        "As read-leader-s-c4: the leader's CPU per read is higher than predicted at 16 clients (100 µs measured, 79 predicted).",
    ),
    (
        "read-all-s-c64",
        "Every process's CPU per read is predicted above the measured (the members' 27 and 24 µs against 21 and 19, the client's 37 against 29). The members' part grew when the read buffer's copy came in (1,024 slots a read at 15 ns; the profile behind that cost, 14 ns a slot, was taken at 4,569 reads/s on a buffer of 6,200 to 6,500 slots); whether a copy costs less per slot at 20,000 reads/s was not measured.",
    ),
    (
        "probe-c64",
        "As read-all-s-c64, of which it is the twin with the probe running.",
    ),
    (
        "read-leader-s-c256",
        "A noisy row: its three repetitions spread from 16,662 to 23,281 reads/s (the CSV's qps_min and qps_max), and the prediction is inside that spread.",
    ),
    (
        "read-all-l-c256",
        "A noisy row: its repetitions spread from 16,012 to 20,927 reads/s, and the prediction is inside that spread.",
    ),
    (
        "value-v1m",
        "The per-byte costs are fitted on a 64 KiB value; at 1 MiB the client's CPU per read is 2,237 µs measured against 2,866 predicted, the leader's 1,749 against 1,298: gRPC moves large messages in larger reads and writes than the fitted per-byte cost assumes, and the model does not change that with size.",
    ),
    (
        "range-k10000",
        "The index walk's cost per key is fitted on a 1,000-key range (about 98 ns a key walked and collected); on 10,000 keys the real walk costs about 65 ns a key ((0.891 − 0.251) ms over 9,900 more keys, from the rows with a limit of 10): the cost per key falls with the range's length, which the model's constant per key does not.",
    ),
    (
        "range-count",
        "As range-k10000-lim10: a count walks and collects all 10,000 keys, at a lower cost per key than fitted on 1,000.",
    ),
    (
        "members-m5-s",
        "Near the tolerance, and as read-all-s-c64: the members' CPU per read is predicted above the measured (25 and 21 µs against 17 and 14; the client's 45 against 41), and with five members' processes on the same two cores that CPU costs reads.",
    ),
    (
        "members-m1",
        "Garbage collection: etcd's go_gc_duration_seconds counts 156–176 collections a second on a one-member cluster, against 15–20 on each member of three at similar rates (the CSV's member_gc_per_s); the model has no garbage collector. The read buffer's copy alone allocates 48 KB a read (1,024 slots of 48 bytes), about 500 MB/s at 10,267 reads/s, on one process instead of three: enough for that many collections of a small heap. But the collector's marking is not the CPU the model lacks: it took 8% of etcd's CPU in the profile behind the copy's cost (0.74 cores allocating about 1.4 GB/s), about 40 ns per KB allocated, so about 2 µs a read here, against the leader's 118 µs a read measured and 71 predicted.",
    ),
    (
        "schedtrace-off-l",
        "Near the tolerance; the tracing-off pair itself differs from its traced twin (read-all-l-c64, 15,005 reads/s against 13,326) by more than the schedtrace overhead can be.",
    ),
    (
        "rate",
        "Isolated requests: 64 clients held to 2,000 reads/s leave the machine idle between requests, and a thread that has slept long wakes more slowly (its vCPU halted) than one that slept briefly; the probe without load shows it (probe-c0: 0.69 ms serializable against 0.20 ms at one closed-loop client). The model has one wake-up latency, fitted on closed loops.",
    ),
];
