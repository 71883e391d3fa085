//! Scripted timelines: a step in a background stream's rate happens at its time, and results
//! are cut into intervals (`intervals.csv`) without changing the run.

use super::support::{ROOT, experiment, run, scratch};

/// The rows of `intervals.csv` in `dir` as (header, rows).
fn intervals(dir: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(dir.join("intervals.csv")).expect("intervals.csv");
    let mut lines = text
        .lines()
        .map(|l| l.split(',').map(str::to_owned).collect());
    (lines.next().unwrap(), lines.collect())
}

fn col(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

const WORKLOAD: &str = r#"
name = "t"
seed = 7
[workload]
clients = 16
conns = 16
duration_s = 3.0
warmup_s = 0.5
"#;

#[test]
fn a_write_rate_step_starts_and_stops_puts_at_its_times() {
    let d = scratch("timeline-step");
    let exp = experiment(
        &d,
        &format!(
            "{WORKLOAD}interval_s = 0.25\n[[workload.timeline]]\nat_s = 1.0\nwrite_rate = 2000.0\n[[workload.timeline]]\nat_s = 2.0\nwrite_rate = 0.0\n"
        ),
    );
    let out = d.join("out");
    let (code, _, err) = run(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let (h, rows) = intervals(&out);
    let (start, writes, reads) = (
        col(&h, "start_s"),
        col(&h, "writes_per_s"),
        col(&h, "reads_per_s"),
    );
    assert_eq!(rows.len(), 12, "3 s in intervals of 0.25 s");
    let mut during = 0.0;
    for r in &rows {
        let t: f64 = r[start].parse().unwrap();
        let w: f64 = r[writes].parse().unwrap();
        let rd: f64 = r[reads].parse().unwrap();
        assert!(rd > 0.0, "reads go on in every interval: {r:?}");
        if !(1.0..2.25).contains(&t) {
            assert_eq!(w, 0.0, "no put outside the step: {r:?}");
        } else if t < 2.0 {
            during += w * 0.25;
        }
    }
    // 2000 puts/s for 1 s: a Poisson count of mean 2000 (standard deviation 45).
    assert!(
        (1800.0..=2200.0).contains(&during),
        "{during} puts in the step"
    );
    let events = std::fs::read_to_string(out.join("events.csv")).unwrap();
    let kinds: Vec<&str> = events
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["write_rate to 2000/s", "write_rate to 0/s"],
        "{events}"
    );
    // The timeline charts, and the page that links them with both tables.
    for f in ["timeline-throughput", "timeline-latency"] {
        let svg = std::fs::read_to_string(out.join(format!("{f}.svg"))).unwrap();
        assert!(svg.contains("an event begins"), "{f}");
        assert!(
            svg.contains("write_rate to 2000/s, then write_rate to 0/s"),
            "{f}"
        );
        assert!(out.join(format!("{f}.png")).is_file());
    }
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    for f in ["intervals.csv", "events.csv", "timeline-throughput.svg"] {
        assert!(page.contains(f), "index.html links {f}");
    }
}

/// Recording intervals, and a step that comes after the run's end, change nothing the run
/// simulates: results.csv is the same but for the configuration's hash.
#[test]
fn intervals_and_a_late_step_leave_the_run_unchanged() {
    let d = scratch("timeline-same");
    let results = |name: &str, extra: &str| {
        let dir = d.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let exp = experiment(&dir, &format!("{WORKLOAD}{extra}"));
        let out = dir.join("out");
        let (code, _, err) = run(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{err}");
        let text = std::fs::read_to_string(out.join("results.csv")).unwrap();
        let hash = text
            .lines()
            .next()
            .unwrap()
            .split(',')
            .position(|c| c == "config_hash");
        let hash = hash.unwrap();
        (
            text.lines()
                .map(|l| {
                    let mut c: Vec<&str> = l.split(',').collect();
                    c.remove(hash);
                    c.join(",")
                })
                .collect::<Vec<_>>(),
            out.join("intervals.csv").exists(),
        )
    };
    let (plain, plain_iv) = results("plain", "");
    let (sliced, sliced_iv) = results("sliced", "interval_s = 0.5\n");
    let (late, late_iv) = results(
        "late",
        "[[workload.timeline]]\nat_s = 100.0\nwrite_rate = 5000.0\n",
    );
    assert!(!plain_iv && sliced_iv && late_iv);
    assert_eq!(plain, sliced);
    assert_eq!(plain, late);
}

/// Mixes of faults a randomized search over timelines found to break the model (debug
/// assertions), on the loopback model: a leader paused through an election and resumed
/// under writes proposes to a log a newer leader has appended to (the proposal now fails, as
/// a dropped one does); a read's deadline passing while its process is paused in the middle
/// of its index walk (its time is no longer charged twice). Both run to their end.
#[test]
fn fault_mixes_found_by_a_randomized_search_run_to_their_end() {
    let d = scratch("timeline-fuzzed");
    for (i, (balancer, timeout, timeline)) in [
        (
            "round-robin",
            1.0,
            r#"[{ at_s = 1.694, defrag = "member0", for_s = 1.211 }, { at_s = 3.153, fsync = "leader", for_s = 0.632 }, { at_s = 4.576, latency = "member1", extra_ms = 5.0, for_s = 0.212 }, { at_s = 4.810, pause = "leader", for_s = 1.219 }, { at_s = 5.072, write_rate = 1000.0 }]"#,
        ),
        (
            "round-robin",
            0.2,
            r#"[{ at_s = 1.532, latency = "member1", extra_ms = 50.0, for_s = 0.586 }, { at_s = 2.737, pause = "member1", for_s = 0.306 }, { at_s = 3.888, fsync = "member0", for_s = 0.798 }, { at_s = 4.727, fsync = "member0", for_s = 0.143, fsync_factor = 10.0 }]"#,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let exp = d.join(format!("fuzzed{i}.toml"));
        std::fs::write(
            &exp,
            format!(
                "name = \"fuzzed{i}\"\nmodel = \"{ROOT}/models/loopback-2vcpu.toml\"\nseed = {seed}\n[workload]\nclients = 16\nconns = 4\nduration_s = 7.0\ninterval_s = 0.1\nrequest_timeout_s = {timeout}\nwrite_rate = 100.0\nbalancer = \"{balancer}\"\ntimeline = {timeline}\n",
                seed = [15, 28][i]
            ),
        )
        .unwrap();
        let out = d.join(format!("out{i}"));
        let (code, _, err) = run(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(code, Some(0), "timeline {i}: {err}");
    }
}

#[test]
fn a_bad_timeline_names_the_entry_and_the_rule() {
    let d = scratch("timeline-bad");
    for (body, expect) in [
        (
            "[[workload.timeline]]\nat_s = 1.0\n",
            "workload.timeline[0].at_s: a step sets exactly one of write_rate, expensive_rate, pause, defrag, kill, fsync, partition, latency and compact",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\nwrite_rate = 1.0\n[[workload.timeline]]\nat_s = -1.0\nwrite_rate = 1.0\n",
            "workload.timeline[1].at_s: must be a number of seconds",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\nexpensive_rate = -5.0\n",
            "workload.timeline[0].expensive_rate: must be a finite rate >= 0",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\ncrash = \"leader\"\n",
            "workload.timeline[0]: unknown key `crash` (valid keys: at_s, write_rate, expensive_rate, pause, defrag, kill, fsync, partition, latency, extra_ms, fsync_factor, compact, revisions, restart_after_s, for_s)",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\npause = \"member0\"\nfor_s = 1.0\nrestart_after_s = 3.0\n",
            "workload.timeline[0].restart_after_s: goes with kill = \"memberN\"",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\nkill = \"member0\"\nrestart_after_s = 0.0\n",
            "workload.timeline[0].restart_after_s: must be a number of seconds above 0",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\nkill = \"member0\"\nfor_s = 3.0\n",
            "workload.timeline[0].for_s: is the length of a pause or a defrag; a killed member stays down",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\nkill = \"member2\"\nrestart_after_s = 2.0\n[[workload.timeline]]\nat_s = 2.0\npause = \"member2\"\nfor_s = 1.0\n",
            "workload.timeline[1].at_s: member2 is down from 1 s to 3.032 s then",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\nkill = \"member2\"\nrestart_after_s = 2.0\n[[workload.timeline]]\nat_s = 3.032\nkill = \"member2\"\n",
            "workload.timeline[1].at_s: member2 is down from 1 s to 3.032 s then",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\nkill = \"member2\"\n[[workload.timeline]]\nat_s = 2.0\npause = \"member2\"\nfor_s = 1.0\n",
            "workload.timeline[1].at_s: member2 is killed at 1 s and stays down",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\npause = \"member2\"\nfor_s = 3.0\n[[workload.timeline]]\nat_s = 2.0\nkill = \"member2\"\n",
            "workload.timeline[1].at_s: member2 has a pause from 1 s on: kill it after that ends",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\npause = \"member3\"\nfor_s = 1.0\n",
            "workload.timeline[0].pause: must name a member, member0 to member2, or leader (got \"member3\")",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\ndefrag = \"m1\"\nfor_s = 1.0\n",
            "workload.timeline[0].defrag: must name a member, member0 to member2, or leader (got \"m1\")",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\npause = \"member1\"\n",
            "workload.timeline[0].for_s: a pause needs its length in seconds",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\ndefrag = \"member1\"\nfor_s = 0.0\n",
            "workload.timeline[0].for_s: must be a number of seconds above 0",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\nwrite_rate = 5.0\nfor_s = 1.0\n",
            "workload.timeline[0].for_s: is the length of a pause, a defrag, an fsync spell, a partition or a latency step; set it with one of them",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\npause = \"member2\"\nfor_s = 1.0\n[[workload.timeline]]\nat_s = 1.5\npause = \"member2\"\nfor_s = 1.0\n",
            "workload.timeline[1].at_s: member2 has a pause from 1 s to 2 s then: a member's pauses must not overlap",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\npause = \"member1\"\ndefrag = \"member1\"\nfor_s = 1.0\n",
            "a step sets exactly one of write_rate, expensive_rate, pause, defrag, kill, fsync, partition, latency and compact",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\nfsync = \"member1\"\nfsync_factor = 0.5\nfor_s = 1.0\n",
            "workload.timeline[0].fsync_factor: must be a factor from 1 to 1e6",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\nwrite_rate = 5.0\nfsync_factor = 2.0\n",
            "workload.timeline[0].fsync_factor: goes with fsync",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\nlatency = \"member1\"\nfor_s = 1.0\n",
            "workload.timeline[0].extra_ms: a latency step needs its extra one-way delay in ms",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\nwrite_rate = 5.0\nrevisions = 100\n",
            "workload.timeline[0].revisions: goes with compact = \"memberN\"",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\ncompact = \"leader\"\nfor_s = 1.0\n",
            "workload.timeline[0].for_s: a compaction takes as long as its work does",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\ncompact = \"member3\"\n",
            "workload.timeline[0].compact: must name a member, member0 to member2, or leader",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\nkill = \"member1\"\n[[workload.timeline]]\nat_s = 2.0\ncompact = \"member1\"\n",
            "workload.timeline[1].at_s: member1 is killed at 1 s and stays down",
        ),
        (
            "[[workload.timeline]]\nat_s = 2.0\ncompact = \"member1\"\n[[workload.timeline]]\nat_s = 1.0\nkill = \"member1\"\n",
            "workload.timeline[1].at_s: member1 has a compact from 2 s on",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\ncompact = \"leader\"\nrestart_after_s = 1.0\n",
            "workload.timeline[0].restart_after_s: goes with kill = \"memberN\"",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\ncompact = \"leader\"\nextra_ms = 1.0\n",
            "workload.timeline[0].extra_ms: goes with latency = \"memberN\"",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\ncompact = \"leader\"\nfsync_factor = 2.0\n",
            "workload.timeline[0].fsync_factor: goes with fsync = \"memberN\"",
        ),
        (
            "total_keys = 1000\n[[workload.timeline]]\nat_s = 1.0\ncompact = \"leader\"\nrevisions = 5\n",
            "workload.timeline[0].revisions: must be at least the store's keys (1000), each of which has a revision (got 5)",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.0\npause = \"member2\"\nfor_s = 1.0\n[[workload.timeline]]\nat_s = 1.5\ncompact = \"member2\"\n",
            "workload.timeline[1].at_s: member2 is paused from 1 s to 2 s: a compaction called on it waits for the resume",
        ),
        (
            "[[workload.timeline]]\nat_s = 1.5\ncompact = \"member2\"\n[[workload.timeline]]\nat_s = 1.0\npause = \"member2\"\nfor_s = 1.0\n",
            "workload.timeline[1].at_s: member2 is called to compact at 1.5 s, inside this pause",
        ),
        (
            "interval_s = 0.001\n",
            "into 3000 intervals, more than the 1000",
        ),
    ] {
        let exp = experiment(&d, &format!("{WORKLOAD}{body}"));
        let (code, _, err) = run(&[
            "run",
            exp.to_str().unwrap(),
            "--out",
            d.join("o").to_str().unwrap(),
        ]);
        assert_eq!(code, Some(2), "{body}: {err}");
        assert!(err.contains(expect), "{body}: {err}");
        assert!(!d.join("o").exists(), "nothing written: {body}");
    }
    // Each restart is a Go process of its own: at most 200 in a timeline.
    let restarts: String = (0..201)
        .map(|i| {
            format!(
                "[[workload.timeline]]\nat_s = {}.0\nkill = \"member1\"\nrestart_after_s = 1.0\n",
                2 * i
            )
        })
        .collect();
    let exp = experiment(&d, &format!("{WORKLOAD}{restarts}"));
    let (code, _, err) = run(&["run", exp.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("workload.timeline[200].restart_after_s: a timeline starts killed members again at most 200 times"),
        "{err}"
    );
    let exp = experiment(&d, &format!("{WORKLOAD}interval_s = 0.5\n"));
    let (code, _, err) = run(&["run", exp.to_str().unwrap(), "--shard", "1/2"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot be sharded or resumed yet"), "{err}");
}

/// The latencies (ms) of a run's recorded requests, in issue order; all `n` must have ended.
fn latencies_ms(r: &etcdsim::model::RunResult, n: usize) -> Vec<f64> {
    let mut recs = r.records.clone();
    recs.sort_by_key(|x| x.seq);
    assert_eq!(recs.len(), n, "{recs:?}");
    recs.iter()
        .map(|x| (x.end_ns - x.start_ns) as f64 / 1e6)
        .collect()
}

mod scripted {
    //! Pauses in scripted scenarios with exact timelines (every CPU cost zero, RTT 200 µs,
    //! member 0 leads).
    use crate::readpath::{run, workload, zero_cost};
    use etcdsim::engine::SimDuration;
    use etcdsim::model::timeline::{Change, Step};
    use etcdsim::model::{Arrivals, Consistency, MemberId};

    const MS: u64 = 1_000_000;

    /// Reads at 0, 10 and 40 ms to `member` while `paused` stops for 5–25 ms: their latencies.
    fn reads_during_a_pause(c: Consistency, member: u8, paused: u8) -> Vec<f64> {
        latencies(&run_pause(c, member, paused, None))
    }

    /// The latencies of a run's recorded requests, in issue order (all three must have ended).
    fn latencies(r: &etcdsim::model::RunResult) -> Vec<f64> {
        super::latencies_ms(r, 3)
    }

    /// Reads at 0, 10 and 40 ms to `member`, under `timeline`, with a deadline of `timeout_ms`.
    fn three_reads(
        c: Consistency,
        member: u8,
        timeline: Vec<Step>,
        timeout_ms: Option<u64>,
    ) -> etcdsim::model::RunResult {
        let p = zero_cost(3, 200.0, "");
        let mut w = workload(
            c,
            vec![member],
            Arrivals::Scripted {
                at_ns: vec![0, 10 * MS, 40 * MS],
                puts: vec![false; 3],
            },
            3,
        );
        w.timeline = timeline;
        w.request_timeout = timeout_ms.map(|ms| SimDuration(ms * MS));
        let r = run(&p, &w, 1);
        println!("{c:?} on member{member}: {:?}", r.records);
        r
    }

    fn run_pause(
        c: Consistency,
        member: u8,
        paused: u8,
        timeout_ms: Option<u64>,
    ) -> etcdsim::model::RunResult {
        let at = |ms: u64| SimDuration(ms * MS);
        let timeline = vec![
            Step {
                at: at(5),
                change: Change::Pause(MemberId(paused)),
            },
            Step {
                at: at(25),
                change: Change::Resume(MemberId(paused)),
            },
        ];
        three_reads(c, member, timeline, timeout_ms)
    }

    /// With a 5 ms deadline, the read sent at 10 ms to the paused follower fails at 15 ms: its
    /// client moves on, and the answer that comes after the resume is dropped (the member
    /// still serves it). The reads before and after the pause complete.
    #[test]
    fn a_deadline_fails_a_stalled_read_and_its_late_answer_is_dropped() {
        let r = run_pause(Consistency::Linearizable, 1, 1, Some(5));
        assert_eq!((r.reads.completed, r.reads.failed), (2, 1));
        let seqs: Vec<u64> = r.records.iter().map(|x| x.seq).collect();
        assert_eq!(seqs, [0, 2], "only the completed reads are recorded");
        assert_eq!(
            r.in_flight, 0,
            "the abandoned read's slot is freed when its answer lands"
        );
        // Without the pause nothing times out.
        let free = run_pause(Consistency::Linearizable, 1, 2, Some(5));
        assert_eq!((free.reads.completed, free.reads.failed), (3, 0));
    }

    /// A read sent to a paused follower waits in its socket until the process goes on: it ends
    /// just after the resume (25 ms), 15 ms after it was sent; reads before and after the pause
    /// are untouched. Serializable or linearizable, the follower itself is stopped.
    #[test]
    fn a_paused_followers_reads_stall_for_the_pause_and_resume_after_it() {
        for c in [Consistency::Linearizable, Consistency::Serializable] {
            let l = reads_during_a_pause(c, 1, 1);
            let free = reads_during_a_pause(c, 1, 2)[0];
            assert!(free < 1.0, "{c:?}: an unpaused read takes {free} ms");
            assert!((l[0] - free).abs() < 1e-6, "{c:?}: before the pause: {l:?}");
            assert!((l[2] - free).abs() < 1e-6, "{c:?}: after the pause: {l:?}");
            assert!(
                (15.0..15.0 + free).contains(&l[1]),
                "{c:?}: sent at 10 ms, released at the 25 ms resume: {l:?}"
            );
        }
    }

    /// With follower 2 paused, the leader and follower 1 are still a quorum: follower 1's
    /// linearizable reads do not wait. With the leader paused (for less than the election
    /// timeout), they wait for it, and serializable ones do not.
    #[test]
    fn a_quorum_without_the_paused_member_serves_and_a_paused_leader_holds_linearizable_reads() {
        let base = reads_during_a_pause(Consistency::Linearizable, 1, 2);
        assert!(base.iter().all(|&ms| ms < 1.0), "{base:?}");
        let l = reads_during_a_pause(Consistency::Linearizable, 1, 0);
        assert!(
            (15.0..16.0).contains(&l[1]),
            "a linearizable read waits for the leader's resume: {l:?}"
        );
        let s = reads_during_a_pause(Consistency::Serializable, 1, 0);
        assert!(
            s.iter().all(|&ms| ms < 1.0),
            "serializable reads go on: {s:?}"
        );
    }

    /// Reads at 0, 10 and 40 ms to `member` while `defragged` defragments from 5 ms for 20 ms.
    fn reads_during_a_defrag(c: Consistency, member: u8, defragged: u8) -> Vec<f64> {
        let timeline = vec![Step {
            at: SimDuration(5 * MS),
            change: Change::Defrag(MemberId(defragged), SimDuration(20 * MS)),
        }];
        latencies(&three_reads(c, member, timeline, None))
    }

    /// A defragmentation holds the member's read transaction lock: a read on it, serializable
    /// or linearizable, waits until the copy is done (25 ms), and is otherwise untouched; the
    /// other members' reads go on.
    #[test]
    fn a_defrag_blocks_the_members_reads_for_its_length() {
        for c in [Consistency::Linearizable, Consistency::Serializable] {
            let free = reads_during_a_defrag(c, 1, 2);
            assert!(free.iter().all(|&ms| ms < 1.0), "{c:?}: {free:?}");
            let l = reads_during_a_defrag(c, 1, 1);
            println!("{c:?}: defragged {l:?}, not {free:?}");
            assert!(
                (l[0] - free[0]).abs() < 1e-6 && (l[2] - free[2]).abs() < 1e-6,
                "{l:?}"
            );
            // Sent at 10 ms, it opens its read transaction at the 25 ms release.
            assert!((15.0..15.0 + free[1]).contains(&l[1]), "{c:?}: {l:?}");
        }
    }
}

mod elections {
    //! Leader loss in scripted scenarios (every CPU cost zero, RTT 200 µs, member 0 leads;
    //! etcd's default clock: 100 ms heartbeats, a 1 s election timeout).
    use crate::readpath::{run, workload, zero_cost};
    use etcdsim::engine::SimDuration;
    use etcdsim::model::timeline::{Change, Step};
    use etcdsim::model::{Arrivals, Balancer, Consistency, EndpointPolicy, MemberId, RunResult};

    const MS: u64 = 1_000_000;
    const KILL_MS: u64 = 200;

    /// One closed-loop client (at most `rate_limit` requests/s) on one connection to
    /// `endpoints`, reading for `secs`.
    pub(super) fn one_client(
        c: Consistency,
        endpoints: Vec<u8>,
        policy: EndpointPolicy,
        rate_limit: Option<f64>,
        secs: f64,
    ) -> etcdsim::model::Workload {
        let mut w = workload(c, endpoints, Arrivals::Closed { rate_limit }, u64::MAX);
        w.policy = policy;
        w.duration = Some(SimDuration::from_secs_f64(secs));
        w
    }

    /// One closed-loop client reading from `endpoints` for `secs`, member 0 killed at 200 ms.
    fn kill_leader(
        c: Consistency,
        endpoints: Vec<u8>,
        policy: EndpointPolicy,
        timeout_ms: Option<u64>,
        secs: f64,
        seed: u64,
    ) -> RunResult {
        let p = zero_cost(3, 200.0, "");
        let mut w = one_client(c, endpoints, policy, None, secs);
        w.timeline = vec![Step {
            at: SimDuration(KILL_MS * MS),
            change: Change::Kill(MemberId(0)),
        }];
        w.request_timeout = timeout_ms.map(|ms| SimDuration(ms * MS));
        run(&p, &w, seed)
    }

    /// Three members on one host sharing its disk (each fdatasync 1 ms): a put through member
    /// 1 at 199.5 ms puts the leader's WAL fdatasync on the disk, and member 0 (the leader) is
    /// killed at 200 ms, in the middle of it. The dead member's operation still ends and the
    /// disk goes on for the members that share it: a put at 3 s, after the election, commits.
    #[test]
    fn a_killed_member_does_not_hold_the_disk_it_shares() {
        let p = zero_cost(
            3,
            200.0,
            "[disk]\nfsync_us = 1000\nshared = true\n[placement]\nhosts = [{ name = \"box\", cores = 8, nic_bandwidth_gbps = inf }]\nmembers = [\"box\"]\nclient = \"box\"\n",
        );
        let mut w = workload(
            Consistency::Linearizable,
            vec![1],
            Arrivals::Scripted {
                at_ns: vec![199_500_000, 3_000 * MS],
                puts: vec![true, true],
            },
            2,
        );
        w.timeline = vec![Step {
            at: SimDuration(KILL_MS * MS),
            change: Change::Kill(MemberId(0)),
        }];
        w.request_timeout = Some(SimDuration(1_000 * MS));
        let r = run(&p, &w, 1);
        println!(
            "leader changes {}, puts completed {}, failed {}",
            r.leader_changes.len(),
            r.writes.completed,
            r.writes.failed
        );
        assert!(!r.leader_changes.is_empty());
        let late = r
            .records
            .iter()
            .find(|x| x.seq == 1)
            .expect("the put at 3 s ended");
        assert!(late.end_ns < 3_010 * MS, "it commits at once: {late:?}");
    }

    /// After the leader is killed, a follower campaigns once it has heard nothing for its
    /// randomized election timeout, 10 to 19 ticks after its last heartbeat; the other
    /// follower votes for it unless it heard from the leader within the last 10 ticks (the
    /// lease), in which case a later campaign wins. So the new leader comes at least 0.9 s
    /// after the kill (the last heartbeat came at most a tick before it), and within 2 s when
    /// the first campaign wins (term 2). No linearizable read completes in between: the read
    /// in flight at the kill waits in its read loop, fails with "leader changed" when the new
    /// leader is known, is retried, and completes just after the election.
    #[test]
    fn no_linearizable_read_completes_until_a_new_leader_is_elected() {
        let mut first_campaign_won = 0;
        for seed in 1..=12 {
            let r = kill_leader(
                Consistency::Linearizable,
                vec![1],
                EndpointPolicy::PerConnection,
                None,
                4.0,
                seed,
            );
            assert_eq!(
                r.leader_changes.len(),
                1,
                "seed {seed}: {:?}",
                r.leader_changes
            );
            let lc = r.leader_changes[0];
            assert_ne!(lc.leader, MemberId(0), "seed {seed}");
            let after_s = (lc.at_ns - KILL_MS * MS) as f64 / 1e9;
            println!("seed {seed}: {lc:?}, {after_s} s after the kill");
            assert!(
                after_s >= 0.9,
                "seed {seed}: elected {after_s} s after the kill"
            );
            if lc.term == 2 {
                first_campaign_won += 1;
                assert!(
                    after_s < 2.0 + 0.01,
                    "seed {seed}: term 2 after {after_s} s"
                );
            }
            let kill = KILL_MS * MS;
            let stalled: Vec<_> = r
                .records
                .iter()
                .filter(|x| x.end_ns > kill + MS && x.end_ns < lc.at_ns)
                .collect();
            assert!(stalled.is_empty(), "seed {seed}: {stalled:?}");
            let first_after = r
                .records
                .iter()
                .filter(|x| x.end_ns >= lc.at_ns)
                .min_by_key(|x| x.end_ns)
                .expect("reads go on under the new leader");
            assert!(
                first_after.end_ns - lc.at_ns < 60 * MS,
                "seed {seed}: the first read after the election ends {} ms after it",
                (first_after.end_ns - lc.at_ns) / MS
            );
            assert!(
                first_after.start_ns < kill + MS,
                "seed {seed}: the read that waited is the one from before the kill"
            );
            assert!(r.retries >= 1, "seed {seed}: it was retried");
            assert_eq!(
                r.reads.failed, 0,
                "seed {seed}: nothing fails without a deadline"
            );
        }
        assert!(
            first_campaign_won >= 6,
            "most first campaigns win: {first_campaign_won}/12"
        );
    }

    /// Serializable reads on a follower need no leader: they go on through the election, in
    /// every 100 ms interval.
    #[test]
    fn serializable_reads_on_a_follower_go_on_through_the_election() {
        let p = zero_cost(3, 200.0, "");
        let mut w = workload(
            Consistency::Serializable,
            vec![1],
            Arrivals::Closed { rate_limit: None },
            u64::MAX,
        );
        w.duration = Some(SimDuration::from_secs_f64(3.0));
        w.interval = Some(SimDuration(100 * MS));
        w.timeline = vec![Step {
            at: SimDuration(KILL_MS * MS),
            change: Change::Kill(MemberId(0)),
        }];
        let r = run(&p, &w, 1);
        let lc = r.leader_changes[0];
        let during: Vec<u64> = r
            .intervals
            .iter()
            .filter(|iv| {
                iv.start_s * 1e9 >= (KILL_MS * MS) as f64 && iv.start_s * 1e9 < lc.at_ns as f64
            })
            .map(|iv| iv.reads)
            .collect();
        assert!(during.len() >= 8, "{during:?}");
        assert!(
            during.iter().all(|&n| n > 100),
            "reads in each interval: {during:?}"
        );
        assert_eq!(r.retries, 0);
    }

    /// A client pinned to the killed member waits for its connection (clientv3 does not fail
    /// fast), so every call times out from the kill on; a round-robin client skips the member
    /// whose connection is down, and its serializable reads never fail.
    #[test]
    fn a_pinned_client_waits_out_its_deadlines_and_a_round_robin_one_moves_on() {
        let pinned = kill_leader(
            Consistency::Serializable,
            vec![0],
            EndpointPolicy::PerConnection,
            Some(100),
            2.0,
            1,
        );
        // Killed at 0.2 s, each call waits 100 ms: 18 timeouts by 2 s.
        assert_eq!(pinned.reads.failed, 18, "{:?}", pinned.reads);
        assert!(
            pinned.records.iter().all(|x| x.end_ns <= KILL_MS * MS + MS),
            "nothing completes on a dead member"
        );
        let rr = kill_leader(
            Consistency::Serializable,
            vec![0, 1, 2],
            EndpointPolicy::Client(Balancer::RoundRobin),
            Some(100),
            2.0,
            1,
        );
        assert_eq!(rr.reads.failed, 0, "{:?}", rr.reads);
        let late_on_0 = rr
            .records
            .iter()
            .filter(|x| x.member == MemberId(0) && x.start_ns > KILL_MS * MS)
            .count();
        assert_eq!(late_on_0, 0, "no read goes to the killed member");
    }

    /// Member 0 (the leader) killed at 200 ms and started again at 3.2 s, under `puts` per
    /// second, read by one client on one connection to `endpoints` at up to 100 reads/s, for
    /// 8 s.
    fn kill_and_restart(
        endpoints: Vec<u8>,
        policy: EndpointPolicy,
        puts: f64,
        seed: u64,
    ) -> RunResult {
        let timeline = vec![
            Step {
                at: SimDuration(KILL_MS * MS),
                change: Change::Kill(MemberId(0)),
            },
            Step {
                at: SimDuration(RESTART_MS * MS),
                change: Change::Restart(MemberId(0)),
            },
        ];
        restart_timeline(endpoints, policy, puts, timeline, 8.0, seed)
    }

    /// `timeline` run for `secs` under `puts` per second, read by one client on one connection
    /// to `endpoints` at up to 100 reads/s.
    fn restart_timeline(
        endpoints: Vec<u8>,
        policy: EndpointPolicy,
        puts: f64,
        timeline: Vec<Step>,
        secs: f64,
        seed: u64,
    ) -> RunResult {
        let p = zero_cost(3, 200.0, "");
        let mut w = one_client(
            Consistency::Linearizable,
            endpoints,
            policy,
            Some(100.0),
            secs,
        );
        w.write_rate = puts;
        w.timeline = timeline;
        run(&p, &w, seed)
    }

    const RESTART_MS: u64 = 3_200;

    /// gRPC's reconnect tries after the kill at 0.2 s: at once, 1 s later, then 1.6 s ± 20%
    /// and 2.56 s ± 20% after that, so the first one after the restart at 3.2 s comes between
    /// 0.2 + 1 + 1.28 + 2.048 and 0.2 + 1 + 1.92 + 3.072 s.
    const FOURTH_TRY_MS: (u64, u64) = (4_528, 6_192);

    /// A pinned client's linearizable reads come back only at its connection's next gRPC
    /// reconnect try after the restart, and then the restarted member, which lacked the
    /// entries the others committed while it was down (a new leader's, and puts), has caught
    /// up: its reads see the cluster's commit index. Without puts only the leader's heartbeat
    /// answers can find that it lacks the new leader's entry; with 200 puts/s the appends it
    /// rejects do too. Over 4 seeds each, nothing fails (no deadline) and nothing completes on
    /// the member in between.
    #[test]
    fn a_restarted_member_catches_up_and_its_pinned_client_gets_it_at_the_next_reconnect_try() {
        for (seed, puts) in (1..=4).flat_map(|s| [(s, 0.0), (s, 200.0)]) {
            let r = kill_and_restart(vec![0], EndpointPolicy::PerConnection, puts, seed);
            assert_eq!(
                r.leader_changes.len(),
                1,
                "seed {seed}: {:?}",
                r.leader_changes
            );
            assert_eq!(r.reads.failed, 0, "seed {seed}: {:?}", r.reads);
            let kill = KILL_MS * MS;
            let back = r
                .records
                .iter()
                .filter(|x| x.end_ns > kill + MS)
                .map(|x| x.end_ns)
                .min()
                .expect("reads come back");
            assert!(
                back >= FOURTH_TRY_MS.0 * MS && back <= FOURTH_TRY_MS.1 * MS + 10 * MS,
                "seed {seed}: the first read after the kill ends at {} ms",
                back / MS
            );
            let after = r.records.iter().filter(|x| x.end_ns > back).count();
            assert!(
                after > 100,
                "seed {seed}, {puts} puts/s: reads go on on member 0 ({after})"
            );
            if puts > 0.0 {
                assert!(
                    r.writes.completed > 1_000,
                    "seed {seed}: puts commit throughout: {:?}",
                    r.writes
                );
            }
        }
    }

    /// A member killed twice, started again after each: the second kill comes while its
    /// clients' subconnections still back off from the first, so each keeps the one try it has
    /// scheduled (a second chain of tries would come too often, and trips a debug assertion),
    /// and the killed process's timers do nothing in either later life. Reads come back on it.
    #[test]
    fn a_member_killed_and_started_twice_comes_back_once_more() {
        let at = |ms: u64, change| Step {
            at: SimDuration(ms * MS),
            change,
        };
        let timeline = vec![
            // Its client's tries: at 0.2 and 1.2 s (both before the restart at 1.25 s), then
            // between 2.48 and 3.12 s, after the second restart.
            at(200, Change::Kill(MemberId(0))),
            at(1_250, Change::Restart(MemberId(0))),
            at(1_500, Change::Kill(MemberId(0))),
            at(2_000, Change::Restart(MemberId(0))),
        ];
        let r = restart_timeline(
            vec![0],
            EndpointPolicy::PerConnection,
            200.0,
            timeline,
            12.0,
            3,
        );
        assert_eq!(r.reads.failed, 0, "{:?}", r.reads);
        let back = r
            .records
            .iter()
            .filter(|x| x.end_ns > 200 * MS + MS)
            .map(|x| x.end_ns)
            .min()
            .expect("reads come back");
        assert!(
            (2_480 * MS..=3_130 * MS).contains(&back),
            "back at {} ms, at the third try",
            back / MS
        );
        let late = r.records.iter().filter(|x| x.end_ns > 6_000 * MS).count();
        assert!(late > 100, "reads go on on member 0: {late}");
    }

    /// A round-robin client skips the killed member while its subconnection is down, and
    /// sends to it again once that subconnection's next try after the restart succeeds.
    #[test]
    fn a_round_robin_client_sends_to_a_restarted_member_once_its_subconnection_is_back() {
        let r = kill_and_restart(
            vec![0, 1, 2],
            EndpointPolicy::Client(Balancer::RoundRobin),
            200.0,
            1,
        );
        assert_eq!(r.reads.failed, 0, "{:?}", r.reads);
        let on_0: Vec<u64> = r
            .records
            .iter()
            .filter(|x| x.member == MemberId(0) && x.start_ns > KILL_MS * MS + MS)
            .map(|x| x.start_ns)
            .collect();
        let first = *on_0.iter().min().expect("member 0 serves again");
        assert!(
            first >= FOURTH_TRY_MS.0 * MS && first <= FOURTH_TRY_MS.1 * MS + 10 * MS,
            "the first read to member 0 after the kill starts at {} ms",
            first / MS
        );
        assert!(on_0.len() > 50, "{} reads on member 0", on_0.len());
    }

    /// A leader paused for 3 s loses its leadership: the followers elect one of them, and when
    /// the old leader resumes, the first message of the new term makes it a follower. A
    /// linearizable read sent to it during the pause waits, fails with "leader changed" once
    /// it knows the new leader, and is retried there; it completes after the resume, through
    /// the new leader.
    #[test]
    fn a_long_leader_pause_elects_another_and_the_old_leader_follows_it() {
        let p = zero_cost(3, 200.0, "");
        let mut w = workload(
            Consistency::Linearizable,
            vec![0],
            Arrivals::Scripted {
                at_ns: vec![0, 500 * MS, 5_000 * MS],
                puts: vec![false; 3],
            },
            3,
        );
        w.timeline = vec![
            Step {
                at: SimDuration(100 * MS),
                change: Change::Pause(MemberId(0)),
            },
            Step {
                at: SimDuration(3_100 * MS),
                change: Change::Resume(MemberId(0)),
            },
        ];
        let r = run(&p, &w, 1);
        assert_eq!(r.leader_changes.len(), 1, "{:?}", r.leader_changes);
        let lc = r.leader_changes[0];
        assert_ne!(lc.leader, MemberId(0));
        assert!((1_000 * MS..2_200 * MS).contains(&lc.at_ns), "{lc:?}");
        let mut recs = r.records.clone();
        recs.sort_by_key(|x| x.seq);
        assert_eq!(recs.len(), 3, "{recs:?}");
        let resumed = 3_100 * MS;
        assert!(
            (resumed..resumed + 100 * MS).contains(&recs[1].end_ns),
            "the read sent during the pause ends soon after the resume: {:?}",
            recs[1]
        );
        assert!(r.retries >= 1);
        assert!(
            recs[2].end_ns - recs[2].start_ns < MS,
            "then reads are quick again"
        );
    }
}

mod quorum_loss {
    //! A member left alone (the two others killed) has no leader and cannot get one.
    use crate::readpath::{run, workload, zero_cost};
    use etcdsim::engine::SimDuration;
    use etcdsim::model::timeline::{Change, Step};
    use etcdsim::model::{Arrivals, Consistency, MemberId};

    const MS: u64 = 1_000_000;

    /// Its linearizable read waits in the read loop, which resends the ReadIndex every 500 ms
    /// to nobody and fails the round with ErrTimeout after etcd's request timeout (5 s plus two
    /// election timeouts: 7 s); clientv3 retries that (Unavailable), so the call, which has no
    /// deadline, never ends and is retried every 7 s. No leader is ever elected.
    #[test]
    fn a_read_on_a_member_without_a_quorum_is_retried_every_request_timeout() {
        let p = zero_cost(3, 200.0, "");
        let mut w = workload(
            Consistency::Linearizable,
            vec![2],
            Arrivals::Scripted {
                at_ns: vec![100 * MS],
                puts: vec![false],
            },
            1,
        );
        w.duration = Some(SimDuration(16_000 * MS));
        w.timeline = vec![
            Step {
                at: SimDuration(50 * MS),
                change: Change::Kill(MemberId(0)),
            },
            Step {
                at: SimDuration(50 * MS),
                change: Change::Kill(MemberId(1)),
            },
        ];
        let r = run(&p, &w, 1);
        assert!(r.leader_changes.is_empty(), "{:?}", r.leader_changes);
        assert_eq!((r.reads.completed, r.reads.failed), (0, 0));
        assert_eq!(r.retries, 2, "failed at about 7 s and 14 s");
        assert_eq!(r.in_flight, 1);
    }
}

mod fsync {
    //! A stalled or slow disk (every CPU cost zero, RTT 200 µs, fdatasync free, member 0 leads).
    use crate::readpath::{run, workload, zero_cost};
    use etcdsim::engine::SimDuration;
    use etcdsim::model::timeline::{Change, Step};
    use etcdsim::model::{Arrivals, Consistency, MemberId};

    const MS: u64 = 1_000_000;

    /// A put at 10 ms and a linearizable read at 12 ms, both to the leader, while `member`'s
    /// disk stalls (or slows by `factor`) from 5 ms for 20 ms: their latencies (ms).
    fn put_then_read(member: u8, factor: f64) -> Vec<f64> {
        let p = zero_cost(3, 200.0, "[disk]\nfsync_us = 1000\n");
        let mut w = workload(
            Consistency::Linearizable,
            vec![0],
            Arrivals::Scripted {
                at_ns: vec![10 * MS, 12 * MS],
                puts: vec![true, false],
            },
            2,
        );
        w.timeline = vec![Step {
            at: SimDuration(5 * MS),
            change: Change::Fsync(MemberId(member), factor, SimDuration(20 * MS)),
        }];
        super::latencies_ms(&run(&p, &w, 1), 2)
    }

    /// The leader's stalled WAL holds the put until the stall ends (25 ms), and the read
    /// behind it: its ReadState comes in the Ready after the one whose fdatasync stalls. A
    /// follower's stalled disk leaves a quorum (the leader and the other follower) to commit
    /// the put.
    #[test]
    fn a_stalled_leader_disk_holds_puts_and_the_reads_behind_them() {
        let stalled = put_then_read(0, f64::INFINITY);
        let free = put_then_read(2, f64::INFINITY);
        let slow = put_then_read(0, 5.0);
        println!("stalled leader {stalled:?}, stalled follower {free:?}, slow leader {slow:?}");
        assert!(
            (15.0..17.0).contains(&stalled[0]),
            "the put waits for 25 ms: {stalled:?}"
        );
        assert!(stalled[1] >= 13.0, "the read waits behind it: {stalled:?}");
        assert!(
            free[0] < 4.0 && free[1] < 4.0,
            "a quorum without the follower: {free:?}"
        );
        // Slowed 5 times, the leader's fdatasync takes 5 ms where it took 1: the put's apply
        // comes in the Ready after the one that persists it.
        assert!((5.0..6.0).contains(&slow[0]), "{slow:?}");
        assert!(
            put_then_read(0, 1.0)[0] < 2.0,
            "unslowed: one 1 ms fdatasync"
        );
    }
}

mod partition {
    //! A follower cut off from its peers (every CPU cost zero, RTT 200 µs, member 0 leads).
    use crate::readpath::{run, workload, zero_cost};
    use etcdsim::engine::SimDuration;
    use etcdsim::model::timeline::{Change, Step};
    use etcdsim::model::{Arrivals, Consistency, MemberId};

    const MS: u64 = 1_000_000;

    /// Member 2 is cut off from 200 ms to 3.2 s while a client reads linearizably from member 1.
    /// The leader and member 1 are a quorum, so those reads go on in every interval and no
    /// leader changes during the partition. Member 2 hears no leader, campaigns again and
    /// again, and its term climbs. With pre-vote off (etcd 3.4's default), when the partition
    /// heals its answer to the leader's next heartbeat carries that higher term, and the
    /// leader steps down: an election follows the heal, the disruption etcd's `--pre-vote`
    /// prevents.
    #[test]
    fn a_healed_partition_disrupts_the_leader_without_pre_vote() {
        let p = zero_cost(3, 200.0, "");
        let mut w = workload(
            Consistency::Linearizable,
            vec![1],
            Arrivals::Closed { rate_limit: None },
            u64::MAX,
        );
        w.duration = Some(SimDuration(6_000 * MS));
        w.interval = Some(SimDuration(100 * MS));
        w.timeline = vec![Step {
            at: SimDuration(200 * MS),
            change: Change::Partition(MemberId(2), SimDuration(3_000 * MS)),
        }];
        let r = run(&p, &w, 1);
        println!("{:?}", r.leader_changes);
        let healed = 3_200 * MS;
        assert!(
            r.leader_changes.iter().all(|lc| lc.at_ns > healed),
            "no leader change while the quorum holds: {:?}",
            r.leader_changes
        );
        let after = r
            .leader_changes
            .first()
            .expect("the heal disrupts the leader");
        assert!(after.at_ns < healed + 2_500 * MS, "{after:?}");
        assert!(
            after.term > 3,
            "member 2's campaigns raised the term: {after:?}"
        );
        let during: Vec<u64> = r
            .intervals
            .iter()
            .filter(|iv| (0.3..3.1).contains(&iv.start_s))
            .map(|iv| iv.reads)
            .collect();
        assert!(during.iter().all(|&n| n > 100), "{during:?}");
    }
}

mod latency {
    //! A member's peer links slowed (every CPU cost zero, RTT 200 µs, member 0 leads).
    use crate::readpath::{run, workload, zero_cost};
    use etcdsim::engine::SimDuration;
    use etcdsim::model::timeline::{Change, Step};
    use etcdsim::model::{Arrivals, Consistency, MemberId};

    const MS: u64 = 1_000_000;

    /// Linearizable reads at 10 ms and 200 ms on `member` while member 2's peer links take
    /// 20 ms more each way from 5 to 105 ms: their latencies (ms).
    fn reads(member: u8) -> Vec<f64> {
        let p = zero_cost(3, 200.0, "");
        let mut w = workload(
            Consistency::Linearizable,
            vec![member],
            Arrivals::Scripted {
                at_ns: vec![10 * MS, 200 * MS],
                puts: vec![false; 2],
            },
            2,
        );
        w.timeline = vec![Step {
            at: SimDuration(5 * MS),
            change: Change::Latency(MemberId(2), SimDuration(20 * MS), SimDuration(100 * MS)),
        }];
        super::latencies_ms(&run(&p, &w, 1), 2)
    }

    /// Member 2's ReadIndex goes to the leader and its answer comes back over the slowed
    /// links: 40 ms more. Member 1's reads do not wait: the leader and member 1 are a quorum
    /// for the heartbeat round. After the spell both are quick again.
    #[test]
    fn a_slow_link_slows_the_members_reads_and_not_the_quorums() {
        let slow = reads(2);
        let fast = reads(1);
        println!("member 2 {slow:?}, member 1 {fast:?}");
        assert!((40.0..41.5).contains(&slow[0]), "{slow:?}");
        assert!(slow[1] < 1.5, "{slow:?}");
        assert!(fast.iter().all(|&ms| ms < 1.5), "{fast:?}");
    }
}

mod compaction {
    //! Compaction (`src/model/compaction.rs`) in scripted runs: every cost zero but the
    //! compaction's own (the defaults, 210 ns a key walked, 490 ns a revision scanned, 970 ns
    //! one deleted, 450 ns a deleted revision in a commit), RTT 200 µs, member 0 leads.
    use crate::readpath::{run, zero_cost};
    use etcdsim::engine::SimDuration;
    use etcdsim::model::timeline::{Change, Step};
    use etcdsim::model::{Consistency, EndpointPolicy, Mechanisms, MemberId, RunResult};

    const MS: u64 = 1_000_000;

    /// One closed-loop serializable reader of `member` for `secs`.
    fn reader(member: u8, secs: f64) -> etcdsim::model::Workload {
        super::elections::one_client(
            Consistency::Serializable,
            vec![member],
            EndpointPolicy::PerConnection,
            None,
            secs,
        )
    }

    /// One closed-loop serializable reader of member 0 for `secs`, with `keys` keys in the
    /// store and a compaction of `revisions` called on member 0 at 100 ms, on etcd 3.`minor`.
    fn compact(minor: u32, keys: u64, revisions: u64, secs: f64) -> RunResult {
        let mut p = zero_cost(3, 200.0, "");
        p.mechanisms = Mechanisms::for_version(minor, 0);
        let mut w = reader(0, secs);
        w.range.total_keys = keys;
        w.timeline = vec![Step {
            at: SimDuration(100 * MS),
            change: Change::Compact {
                member: MemberId(0),
                revisions: Some(revisions),
            },
        }];
        run(&p, &w, 1)
    }

    /// 3.4: every member walks 10,000 keys (2.1 ms), then scans 20,000 revisions in 20 full
    /// batches and a last empty one, deleting the oldest 10,000 (the first 10 batches, 1.46 ms
    /// each, and a forced commit of 0.45 ms and two 1 ms fdatasyncs; the next 10 scan only,
    /// 0.49 ms, and have nothing to commit), with a 10 ms pause after each full batch:
    /// 246.1 ms. The job
    /// starts 3.2 ms after the call: the entry's WAL fdatasync and a round trip (1.2 ms), then
    /// apply's forced commit of the scheduled revision (2 ms).
    #[test]
    fn a_compaction_walks_the_index_then_deletes_in_paused_batches() {
        let r = compact(4, 10_000, 20_000, 0.6);
        assert_eq!(r.compactions_failed, 0);
        assert_eq!(r.compactions.len(), 3, "{:?}", r.compactions);
        for c in &r.compactions {
            assert_eq!((c.batches, c.deleted), (21, 10_000), "{c:?}");
            let walk_ms = (c.walked_ns - c.start_ns) as f64 / 1e6;
            assert!((walk_ms - 2.1).abs() < 1e-6, "walk {walk_ms} ms: {c:?}");
            let ms = (c.end_ns - c.start_ns) as f64 / 1e6;
            assert!((ms - 246.1).abs() < 1e-6, "{ms} ms: {c:?}");
            let after = c.start_ns as f64 / 1e6 - 100.0;
            assert!(
                (3.2..3.3).contains(&after),
                "started {after} ms after the call"
            );
        }
    }

    /// From 3.4.0 the walk takes the index lock 100 keys at a time (21 µs): a read waits at
    /// most one of them. Before, it holds the lock for the whole walk (100,000 keys: 21 ms),
    /// and the member's reads wait for all of it. (999 revisions: one last batch, no pause.)
    #[test]
    fn the_index_walk_blocks_reads_for_its_length_only_before_3_4() {
        // The longest read that began during member 0's walk (the forced commit before it
        // holds the read-tx lock for its two fdatasyncs, and is not what this is about).
        let max_ms = |r: &RunResult| {
            let c = r
                .compactions
                .iter()
                .find(|c| c.member == MemberId(0))
                .unwrap();
            let ms = (c.walked_ns - c.start_ns) as f64 / 1e6;
            assert!((ms - 21.0).abs() < 1e-6, "walk {ms} ms");
            let during: Vec<f64> = r
                .records
                .iter()
                .filter(|x| (c.start_ns..c.walked_ns).contains(&x.start_ns))
                .map(|x| (x.end_ns - x.start_ns) as f64 / 1e6)
                .collect();
            assert!(!during.is_empty(), "reads began during the walk");
            during.into_iter().fold(0.0, f64::max)
        };
        let new = compact(4, 100_000, 999, 0.4);
        let old = compact(3, 100_000, 999, 0.4);
        assert!(max_ms(&new) < 0.5, "3.4: longest read {} ms", max_ms(&new));
        assert!(
            (21.0..22.0).contains(&max_ms(&old)),
            "3.3: longest read {} ms",
            max_ms(&old)
        );
    }

    /// 3.4.0, copies at 10 ns a read-buffer slot, and one reader of member 0 for `secs` over
    /// 10,000 keys whose bulk load's largest commit held 10,000 puts.
    fn bulk_loaded(secs: f64) -> (etcdsim::model::ClusterParams, etcdsim::model::Workload) {
        let mut p = zero_cost(3, 200.0, "");
        p.mechanisms = Mechanisms::for_version(4, 0);
        p.mechanisms.grpc_writer_yields = false;
        p.member_costs.read_buffer_copy_ns_per_slot = 10.0;
        let mut w = reader(0, secs);
        w.range.total_keys = 10_000;
        w.bulk_load_commit_puts = 10_000;
        (p, w)
    }

    /// The latencies (ns) of the recorded reads that began in `from..to` ns.
    fn latencies(r: &RunResult, from: u64, to: u64) -> Vec<u64> {
        r.records
            .iter()
            .filter(|x| (from..to).contains(&x.start_ns))
            .map(|x| x.end_ns - x.start_ns)
            .collect()
    }

    /// 3.4.0–3.4.23's read transactions copy every slot of the read buffer (here 10 ns a
    /// slot). After a bulk load whose largest commit held 10,000 puts, a read copies the key
    /// bucket's 13,122 slots and the meta bucket's 512 (136.34 µs), until a compaction's
    /// forced commits, which write the meta bucket alone, drop the key bucket: then 512
    /// (5.12 µs). A read's latency is the round trip (200 µs) and its copy.
    #[test]
    fn a_compaction_drops_a_bulk_loads_read_buffer() {
        let (p, mut w) = bulk_loaded(0.5);
        w.timeline = vec![Step {
            at: SimDuration(100 * MS),
            change: Change::Compact {
                member: MemberId(0),
                revisions: Some(12_000),
            },
        }];
        let r = etcdsim::model::run(
            &p,
            &w,
            1,
            etcdsim::model::RunOptions {
                record_requests: 5_000,
                ..Default::default()
            },
        );
        let c = r
            .compactions
            .iter()
            .find(|c| c.member == MemberId(0))
            .unwrap();
        let before = latencies(&r, 0, 100 * MS);
        // From after the backend's timer has committed the finished revision (within its
        // 100 ms interval, two 1 ms fdatasyncs), which delays the reads that open meanwhile.
        let after = latencies(&r, c.end_ns + 105 * MS, 500 * MS);
        assert!(
            !before.is_empty() && !after.is_empty(),
            "{} {} {c:?} {}",
            before.len(),
            after.len(),
            r.records.len()
        );
        assert!(
            before.iter().all(|&ns| ns == 200_000 + 136_340),
            "{:?}",
            &before[..3]
        );
        assert!(
            after.iter().all(|&ns| ns == 200_000 + 5_120),
            "{:?}",
            after.iter().max()
        );
    }

    /// A defragmentation resets the read buffer twice, so it leaves it empty: after a bulk
    /// load, reads copy 13,634 slots (136.34 µs at 10 ns a slot) before it and nothing after.
    #[test]
    fn a_defragmentation_empties_a_bulk_loads_read_buffer() {
        let (p, mut w) = bulk_loaded(0.3);
        w.timeline = vec![Step {
            at: SimDuration(100 * MS),
            change: Change::Defrag(MemberId(0), SimDuration(20 * MS)),
        }];
        let r = run(&p, &w, 1);
        let before = latencies(&r, 0, 100 * MS);
        let after = latencies(&r, 125 * MS, 200 * MS);
        assert!(!before.is_empty() && !after.is_empty());
        assert!(
            before.iter().all(|&ns| ns == 200_000 + 136_340),
            "{:?}",
            &before[..3]
        );
        assert!(after.iter().all(|&ns| ns == 200_000), "{:?}", &after[..3]);
    }

    /// A compaction called on a follower while its leader is dead (killed 50 ms before,
    /// no new one elected yet) fails; no member compacts.
    #[test]
    fn a_compaction_called_with_no_leader_fails() {
        let mut p = zero_cost(3, 200.0, "");
        p.mechanisms = Mechanisms::for_version(4, 0);
        let mut w = reader(1, 0.3);
        w.timeline = vec![
            Step {
                at: SimDuration(50 * MS),
                change: Change::Kill(MemberId(0)),
            },
            Step {
                at: SimDuration(100 * MS),
                change: Change::Compact {
                    member: MemberId(1),
                    revisions: None,
                },
            },
        ];
        let r = run(&p, &w, 1);
        assert_eq!(r.compactions_failed, 1);
        assert!(r.compactions.is_empty(), "{:?}", r.compactions);
    }

    /// A compaction called on a follower while the leader is paused (100 to 250 ms, short of
    /// an election) is taken by the leader when it resumes: the jobs start 3.2 ms after it.
    /// A second call with nothing put since is refused (`ErrCompacted`). Paused past an
    /// election, the deposed leader takes the call and fails it.
    #[test]
    fn a_call_waits_for_a_paused_leader_and_a_repeated_one_fails() {
        let mut p = zero_cost(3, 200.0, "");
        p.mechanisms = Mechanisms::for_version(4, 0);
        let mut w = reader(1, 0.5);
        w.range.total_keys = 1_000;
        let call = |at_ms: u64| Step {
            at: SimDuration(at_ms * MS),
            change: Change::Compact {
                member: MemberId(1),
                revisions: Some(2_000),
            },
        };
        w.timeline = vec![
            Step {
                at: SimDuration(100 * MS),
                change: Change::Pause(MemberId(0)),
            },
            call(150),
            Step {
                at: SimDuration(250 * MS),
                change: Change::Resume(MemberId(0)),
            },
            call(400),
        ];
        let r = run(&p, &w, 1);
        assert_eq!(r.compactions_failed, 1, "the repeated call");
        // Paused past an election (to 1.6 s), the old leader finds itself deposed: the call
        // that waited for it fails.
        w.timeline[2].at = SimDuration(1_600 * MS);
        w.timeline.pop();
        w.duration = Some(SimDuration(2_500 * MS));
        let deposed = run(&p, &w, 1);
        assert_eq!(
            deposed.compactions_failed, 1,
            "{:?} {:?}",
            deposed.compactions, deposed.leader_changes
        );
        assert!(deposed.compactions.is_empty(), "{:?}", deposed.compactions);
        assert_eq!(r.compactions.len(), 3, "{:?}", r.compactions);
        for c in &r.compactions {
            assert!(
                (253_200_000..253_400_000).contains(&c.start_ns),
                "started {} ns after the resume: {c:?}",
                c.start_ns - 250_000_000
            );
        }
    }
}
