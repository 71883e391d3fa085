//! Section 4 of docs/validation.md: scripted faults in the model beside the same faults injected
//! into real etcd on this machine, as per-interval read throughput side by side.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::config::fault_intervals::{MeasuredInterval, parse_intervals};
use crate::config::limits::Limits;
use crate::error::Error;
use crate::model;
use crate::report::timeline;

/// What section 4 compares: the model's fault experiment, and the harness's per-interval files.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The experiment (`experiments/timeline/faults.toml`).
    pub experiment: PathBuf,
    /// The harness's `*-intervals.csv` files that hold its cases.
    pub measured: Vec<PathBuf>,
}

/// The events compared: the model's event label and balancer, the harness case, and what
/// happens, in words.
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "write_rate to 1000/s",
        "",
        "f-write-step",
        "background writes step from 0 to 1,000 puts/s at 3 s",
    ),
    (
        "pause member1 3s",
        "round-robin",
        "f-follower-pause-balanced",
        "follower member1 paused from 3 to 6 s, round-robin clients",
    ),
    (
        "pause member0 3s",
        "",
        "f-leader-pause",
        "the leader paused from 3 to 6 s",
    ),
    (
        "kill member0",
        "",
        "f-leader-kill-norestart-pinned",
        "the leader killed at 3 s, pinned clients",
    ),
    (
        "kill member0",
        "round-robin",
        "f-leader-kill-norestart-balanced",
        "the leader killed at 3 s, round-robin clients",
    ),
    (
        "kill member0, restart after 3s",
        "",
        "f-leader-kill-pinned",
        "the leader killed at 3 s and started again at 6 s, pinned clients",
    ),
    (
        "kill member0, restart after 3s",
        "round-robin",
        "f-leader-kill-balanced",
        "the leader killed at 3 s and started again at 6 s, round-robin clients",
    ),
    (
        "compact member0",
        "",
        "f-compact",
        "a compaction of 100,000 revisions called on the leader at 3 s",
    ),
];

/// Bins of the curves (s): from, to, width.
const FROM_S: f64 = 2.0;
const TO_S: f64 = 9.0;
const BIN_S: f64 = 0.5;

/// Reads per second in each bin, from (start s, reads) pairs.
fn binned(pairs: impl Iterator<Item = (f64, f64)>) -> Vec<f64> {
    let n = ((TO_S - FROM_S) / BIN_S).round() as usize;
    let mut out = vec![0.0; n];
    for (t, reads) in pairs {
        let k = ((t - FROM_S + 1e-9) / BIN_S).floor();
        if k >= 0.0 && (k as usize) < n {
            out[k as usize] += reads / BIN_S;
        }
    }
    out
}

/// The harness's intervals of `case`, first repetition: (start s, reads).
fn measured(rows: &[MeasuredInterval], case: &str) -> Vec<(f64, f64)> {
    rows.iter()
        .filter(|r| r.case == case && r.rep == 1)
        .map(|r| (r.t_start_s, r.reads as f64))
        .collect()
}

/// Every interval of the harness's CSV files.
fn read_measured(paths: &[PathBuf]) -> Result<Vec<MeasuredInterval>, Error> {
    let mut out = Vec::new();
    for path in paths {
        let text = super::super::files::read_as(path, "the measured fault intervals")?;
        out.extend(parse_intervals(&path.display().to_string(), &text)?);
    }
    Ok(out)
}

/// Appends section 4 to `o`.
pub fn section(o: &mut String, src: &Sources) -> Result<(), Error> {
    let p = super::super::sweep::prepare(&src.experiment, &Limits::default())?;
    let real = read_measured(&src.measured)?;
    let _ = writeln!(
        o,
        "\n## 4. Faults over time against real etcd on this machine\n\nThe model's scripted events (`{}`, its first replication) beside the same events injected into a real 3-member etcd 3.4.23 cluster on loopback (`harness/grids/faults.toml`, its first repetition; {}): 64 clients on 16 connections, linearizable reads, 1 s deadlines. Reads per second in {BIN_S} s bins from {FROM_S} s. `docs/faults.md` has the events' mechanisms, failures, recoveries and elections side by side for every repetition.\n",
        src.experiment.display(),
        src.measured
            .iter()
            .map(|m| format!("`{}`", m.display()))
            .collect::<Vec<_>>()
            .join(" and ")
    );
    for &(label, balancer, case, what) in CASES {
        let Some(i) = (0..p.jobs.len()).find(|&i| {
            let evs = timeline::events(&p.jobs[i].workload.timeline, &[]);
            let bal = p
                .axes_of(i)
                .into_iter()
                .find(|(k, _)| k == "balancer")
                .map(|(_, v)| v)
                .unwrap_or_default();
            evs.first().is_some_and(|e| e.label == label) && bal == balancer
        }) else {
            continue;
        };
        let h = binned(measured(&real, case).into_iter());
        if h.iter().all(|&x| x == 0.0) {
            continue;
        }
        let job = &p.jobs[i];
        let r = model::run(&job.cluster, &job.workload, p.seed(i, 0), p.opts);
        let m = binned(r.intervals.iter().map(|iv| (iv.start_s, iv.reads as f64)));
        let _ = writeln!(o, "**{what}** (model point {i}; real `{case}`):\n");
        let _ = writeln!(
            o,
            "| from s | {} |",
            (0..m.len())
                .map(|k| format!("{:.1}", FROM_S + k as f64 * BIN_S))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let _ = writeln!(o, "|---|{}", "---:|".repeat(m.len()));
        for (side, xs) in [("model", &m), ("real", &h)] {
            let _ = writeln!(
                o,
                "| {side} | {} |",
                xs.iter()
                    .map(|x| format!("{x:.0}"))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
        }
        let _ = writeln!(o);
    }
    Ok(())
}

/// The sources the repository ships, from its root.
pub fn shipped() -> Sources {
    let root = Path::new("experiments");
    Sources {
        experiment: root.join("timeline/faults.toml"),
        measured: vec![
            root.join("reference/faults-loopback-2vcpu-idle-intervals.csv"),
            root.join("reference/faults-loopback-2vcpu-norestart-intervals.csv"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each interval's reads go to the bin its start falls in, as reads per second of the bin;
    /// intervals outside the window are left out.
    #[test]
    fn intervals_are_binned_by_their_start() {
        let b = binned([(1.9, 7.0), (2.0, 10.0), (2.4, 5.0), (2.5, 1.0), (9.0, 3.0)].into_iter());
        assert_eq!(b.len(), 14);
        assert_eq!(b[0], 30.0);
        assert_eq!(b[1], 2.0);
        assert!(b[2..].iter().all(|&x| x == 0.0));
    }
}
