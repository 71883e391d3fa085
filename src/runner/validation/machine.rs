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
    o.push_str(&probe_table(&fits));
    o.push_str(&runq_table(&fits));
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

/// The rows that ran the harness's probe, with its two latencies measured beside the model's:
/// what a lone linearizable read costs beyond a serializable one while the workload keeps
/// the members busy.
fn probe_table(fits: &[RowFit]) -> String {
    let rows: Vec<&RowFit> = fits
        .iter()
        .filter(|f| f.probe_ms.iter().any(|p| p.0.is_some()))
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut o = format!(
        "\nThe rows that ran the probe (one goroutine of the load generator, on a connection of its own to the first follower, reading one key {:.0} times a second, linearizable and serializable in turn; the model runs the same probe, `workload.probe_rate`): its mean latencies in ms, and their difference, what a lone ReadIndex round costs beyond a serializable read while the workload loads the members. Rows without closed-loop clients are not simulated.\n\n| row | linearizable measured | predicted | error | serializable measured | predicted | error | l − s measured | predicted | error |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        crate::config::calibration::HARNESS_PROBE_RATE
    );
    let ms = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v:.2}"));
    let err = |m: Option<f64>, p: Option<f64>| match (m, p) {
        (Some(m), Some(p)) if m > 0.0 => format!("{:+.1}%", (p / m - 1.0) * 100.0),
        _ => "–".to_string(),
    };
    for f in rows {
        let [(lm, lp), (sm, sp)] = f.probe_ms;
        let gap = |l: Option<f64>, s: Option<f64>| l.zip(s).map(|(l, s)| l - s);
        let (gm, gp) = (gap(lm, sm), gap(lp, sp));
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            f.label,
            ms(lm),
            ms(lp),
            err(lm, lp),
            ms(sm),
            ms(sp),
            err(sm, sp),
            ms(gm),
            ms(gp),
            err(gm, gp)
        );
    }
    let errs: Vec<f64> = fits
        .iter()
        .filter_map(|f| {
            let [(lm, lp), (sm, sp)] = f.probe_ms;
            let (m, p) = (lm? - sm?, lp? - sp?);
            (m > 0.0).then(|| p / m - 1.0)
        })
        .collect();
    if let (Some(lo), Some(hi)) = (
        errs.iter().copied().reduce(f64::min),
        errs.iter().copied().reduce(f64::max),
    ) {
        let by = if hi < 0.0 {
            format!("{:.0}% to {:.0}% shorter than", -hi * 100.0, -lo * 100.0)
        } else {
            format!("{:+.0}% to {:+.0}% against", lo * 100.0, hi * 100.0)
        };
        let _ = writeln!(
            o,
            "\nThe model's lone round (l − s) is {by} the measured on these rows (section 5).",
        );
    }
    o
}

/// The rows whose members printed schedtrace lines, with the run queues they show beside the
/// model's: where, among the members' processes, runnable goroutines wait.
fn runq_table(fits: &[RowFit]) -> String {
    let rows: Vec<&RowFit> = fits.iter().filter(|f| f.runq[0].0.is_some()).collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut o = format!(
        "\nThe members' run queues as `GODEBUG=schedtrace={}` prints them (`SCHED` lines: the global queue and each P's local queue, without `runnext`), each a mean over the window's samples and the members; the model samples its members' queues the same way. Rows with 16 clients or more:\n\n| row | local queues measured | predicted | global queue measured | predicted |\n|---|---:|---:|---:|---:|\n",
        crate::config::calibration::HARNESS_SCHEDTRACE_MS
    );
    let v = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v:.2}"));
    let busy = |f: &&RowFit| {
        f.label
            .rsplit('-')
            .next()
            .and_then(|c| c.strip_prefix('c'))
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n >= 16)
    };
    for f in rows.into_iter().filter(busy) {
        let [(lm, lp), (gm, gp)] = f.runq;
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            f.label,
            v(lm),
            v(lp),
            v(gm),
            v(gp)
        );
    }
    o
}

/// What the grid's misses are thought to come from, by row-name prefix, each with the
/// measurement behind the thought.
pub const GRID_MISSES: &[(&str, &str)] = &[
    (
        "bg-l-",
        "Linearizable reads beside writes fall faster in real etcd than in the model, while serializable reads beside the same writes are within 5% (the bg-s rows). The probe times the round itself. On this project's 2-vCPU Intel Xeon KVM VM, in a later session than this CSV's (`harness/measure harness/grids/probe-bg.toml --reps 2`: 16 serializable clients on every member and the probe through a follower; `experiments/reference/probe-bg-2vcpu.csv`), a lone linearizable read took 2.27, 6.17 and 7.65 ms longer than a serializable one beside 0, 1,000 and 3,000 puts/s; the model under the same workload (`workload.probe_rate`) gives 0.98, 2.25 and 4.44 ms. So the model's round is short, not only the reads' wait for one, and writes lengthen it less in the model (by 1.27 ms at 1,000 puts/s, against 3.90 ms measured). The round waits for the disk in the Ready loop (a follower's heartbeat answer after its fsync, the leader's ReadState after its own): with the members' data directories on tmpfs (`harness/measure harness/grids/full.toml --only bg-l-w3000,bg-s-w3000,read-all-l-c16 --reps 2 --tmpdir /dev/shm`), linearizable reads beside 3,000 puts/s double (2,556 → 4,972/s). etcd's WAL fsync histogram is predicted 22–31% short on these rows (0.40, 0.41 and 0.45 ms against 0.51, 0.55 and 0.65 measured), which shortens each such wait by a tenth of a millisecond or two, not by the milliseconds missing. Without writes the probe's round is short in the model too (the probe table above), so what is missing is in the round's hops themselves, and grows with the load.",
    ),
    (
        "read-leader-s-c4",
        "At 4 clients the real member spends more CPU per read than the model (the leader's 105 µs measured, 84 predicted; at one client both are 134–137): Go's runtime wakes a spinning thread at every hand-off while a P is idle, where the model wakes another only when there is work left for it, so the model parks and wakes less often at low concurrency.",
    ),
    (
        "read-leader-s-c256",
        "A noisy row: its three repetitions spread from 16,662 to 23,281 reads/s (the CSV's qps_min and qps_max), and the prediction, 23,526, is 1% above the top of that spread. Its twin through a follower (read-follower-s-c256) measured 22,985 reads/s and is within the tolerance; why the leader spent 79 µs of CPU a read here, against 28 on the serving follower of that twin, was not found.",
    ),
    (
        "read-all-l-c256",
        "A noisy row: its repetitions spread from 16,012 to 20,927 reads/s, and the prediction is inside that spread.",
    ),
    (
        "value-v1m",
        "The per-byte costs are fitted on a 64 KiB value; at 1 MiB the client's CPU per read is 2,237 µs measured against 2,878 predicted, the leader's 1,749 against 1,553: gRPC moves large messages in larger reads and writes than the fitted per-byte cost assumes, and the model does not change that with size.",
    ),
    (
        "range-k10000",
        "The index walk's cost per key is fitted on a 1,000-key range (83 ns a key walked and collected, `cpu.index_visit_ns_per_key` and `cpu.index_collect_ns_per_key`); on 10,000 keys the real walk costs about 65 ns a key ((0.891 − 0.251) ms over 9,900 more keys, from the rows with a limit of 10): the cost per key falls with the range's length, which the model's constant per key does not.",
    ),
    (
        "range-count",
        "As range-k10000-lim10: a count walks and collects all 10,000 keys, at a lower cost per key than fitted on 1,000.",
    ),
    (
        "members-m5-s",
        "Near the tolerance: the members' CPU per read is predicted above the measured (the leader's 24 µs against 17, a follower's 21 against 14, the client's 49 against 41), and with five members' processes on the same two cores that CPU costs reads.",
    ),
    (
        "members-m1",
        "Garbage collection: etcd's go_gc_duration_seconds counts 156–176 collections a second on a one-member cluster, against 15–20 on each member of three at similar rates (the CSV's member_gc_per_s); the model has no garbage collector. The read buffer's copy alone allocates 48 KB a read (1,024 slots of 48 bytes), about 500 MB/s at 10,267 reads/s, on one process instead of three: enough for that many collections of a small heap. But the collector's marking is not the CPU the model lacks: it took 8% of etcd's CPU in the profile behind the copy's cost (0.74 cores allocating about 1.4 GB/s), about 40 ns per KB allocated, so about 2 µs a read here, against the leader's 118 µs a read measured and 77 predicted.",
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
