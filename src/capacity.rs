//! The capacity search: the highest offered read rate at which a cluster meets its objectives,
//! and the cheapest candidate that meets a target. It does no I/O and runs nothing itself: it
//! asks a closure for the outcomes of replications at a rate, and decides. The closure,
//! `simulate(rate, reps)`, runs replications `reps` (their indices: replication k keeps its
//! seed at every rate, for common random numbers) and returns their outcomes in order.
//!
//! At each probed rate the search compares each objective's 95% confidence interval over the
//! replications with its limit: wholly inside passes, wholly outside fails, and a straddling
//! interval gets more replications, up to the most allowed, after which the mean decides and
//! the probe counts as unresolved. A saturated run or a failed request (unless allowed) fails
//! the probe. The search doubles or halves from the target to bracket the boundary, then
//! bisects (geometrically) until the bracket is narrower than the precision. The maximum rate
//! is the bracket's lower end.

use std::ops::Range;

use crate::model::RunResult;
use crate::stats::{mean, student_t_ci};

/// What the search needs of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Read p50 and p99 (ms); NaN if no read completed.
    pub read_p50_ms: f64,
    /// See `read_p50_ms`.
    pub read_p99_ms: f64,
    /// Write p99 (ms); NaN if no write completed.
    pub write_p99_ms: f64,
    /// Failed requests of every kind.
    pub failed: u64,
    /// The run ended as its workload asked (not saturated, no cap fired).
    pub complete: bool,
    /// The most utilized resource and its utilization.
    pub bottleneck: (String, f64),
    /// The read stage with the largest mean.
    pub dominant_stage: String,
    /// Ctrl-C stopped the run: it tells nothing about the rate.
    pub interrupted: bool,
}

impl Outcome {
    /// What the search needs of run `r`.
    pub fn of(r: &RunResult) -> Outcome {
        let ms = |o: &crate::model::OpResult, q: f64| {
            if o.completed > 0 {
                o.latency.quantile(q) as f64 * 1e-6
            } else {
                f64::NAN
            }
        };
        Outcome {
            read_p50_ms: ms(&r.reads, 0.5),
            read_p99_ms: ms(&r.reads, 0.99),
            write_p99_ms: ms(&r.writes, 0.99),
            failed: r.reads.failed + r.writes.failed + r.expensive.failed,
            complete: r.stopped_by.is_complete(),
            bottleneck: r
                .utilization
                .iter()
                .find(|u| u.0 == r.bottleneck)
                .cloned()
                .unwrap_or_default(),
            dominant_stage: r
                .reads
                .stages
                .iter()
                .max_by(|a, b| a.mean_ns.total_cmp(&b.mean_ns))
                .map(|s| s.stage.name().to_string())
                .unwrap_or_default(),
            interrupted: r.stopped_by == crate::model::StoppedBy::Interrupted,
        }
    }
}

/// What one probed rate gave.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Offered read rate (reads/s).
    pub rate: f64,
    /// Whether every objective held.
    pub pass: bool,
    /// Whether a confidence interval still straddled a limit at the most replications.
    pub unresolved: bool,
    /// Replications run.
    pub reps: usize,
    /// Mean over replications of the read p50 and p99 (ms), and the write p99 (ms); NaN where
    /// no replication measured any (a workload without writes has no write p99).
    pub read_p50_ms: f64,
    /// See `read_p50_ms`.
    pub read_p99_ms: f64,
    /// See `read_p50_ms`.
    pub write_p99_ms: f64,
    /// Half widths of the 95% intervals of `read_p50_ms` and `read_p99_ms` over the
    /// replications (NaN with fewer than two), for the charts' error bars.
    pub read_ci95_ms: (f64, f64),
    /// Failed requests, all replications together.
    pub failed: u64,
    /// Some replication saturated.
    pub saturated: bool,
    /// The most utilized resource (first replication) and its utilization.
    pub bottleneck: (String, f64),
    /// The read stage with the largest mean (first replication).
    pub dominant_stage: String,
    /// Why the probe failed, if it did.
    pub why: String,
    /// Ctrl-C stopped some replication: the probe decides nothing.
    pub interrupted: bool,
}

/// The search's result for one configuration.
#[derive(Debug, Clone)]
pub struct Limit {
    /// The highest rate that passed (0 if none did).
    pub max_rate: f64,
    /// Every probe, in the order run.
    pub probes: Vec<Probe>,
    /// Ctrl-C stopped the search before it ended: `max_rate` is only what it had found.
    pub interrupted: bool,
}

impl Limit {
    /// The lowest rate that failed (infinite if none did).
    pub fn fail_rate(&self) -> f64 {
        self.at_fail().map_or(f64::INFINITY, |p| p.rate)
    }

    /// The probe at the first failing rate, if any.
    pub fn at_fail(&self) -> Option<&Probe> {
        self.probes
            .iter()
            .filter(|p| !p.pass)
            .min_by(|a, b| a.rate.total_cmp(&b.rate))
    }

    /// The probe at the highest passing rate, if any.
    pub fn at_max(&self) -> Option<&Probe> {
        self.probes
            .iter()
            .filter(|p| p.pass)
            .max_by(|a, b| a.rate.total_cmp(&b.rate))
    }

    /// The probes in order of rate.
    pub fn by_rate(&self) -> Vec<&Probe> {
        let mut ps: Vec<&Probe> = self.probes.iter().collect();
        ps.sort_by(|a, b| a.rate.total_cmp(&b.rate));
        ps
    }
}

/// The objectives and run shape, resolved.
#[derive(Debug, Clone)]
pub struct Search {
    /// p99 read limit (ms).
    pub read_p99_ms: f64,
    /// p99 write limit (ms).
    pub write_p99_ms: Option<f64>,
    /// Failures allowed.
    pub allow_failures: bool,
    /// Replications at first and at most.
    pub reps: (usize, usize),
    /// Stop when hi / lo − 1 is below this.
    pub precision: f64,
    /// Start here.
    pub target: f64,
    /// Base seed (for the runs the caller simulates: the search itself draws nothing).
    pub seed: u64,
}

/// The present (non-NaN) values of one metric over `runs`.
fn present(runs: &[Outcome], metric: impl Fn(&Outcome) -> f64) -> Vec<f64> {
    runs.iter().map(metric).filter(|x| !x.is_nan()).collect()
}

/// The half width of the 95% interval of `xs`' mean; NaN with fewer than two values.
fn half_width(xs: &[f64]) -> f64 {
    let hw = student_t_ci(xs, 0.95).half_width;
    if hw.is_finite() { hw } else { f64::NAN }
}

/// The verdict of probe replications `runs` at `rate`.
pub fn summarize(rate: f64, runs: &[Outcome], s: &Search) -> Probe {
    let rp50 = present(runs, |o| o.read_p50_ms);
    let rp99 = present(runs, |o| o.read_p99_ms);
    let wp99 = present(runs, |o| o.write_p99_ms);
    let failed: u64 = runs.iter().map(|o| o.failed).sum();
    let saturated = runs.iter().any(|o| !o.complete);
    let mut why = Vec::new();
    let mut unresolved = false;
    // An objective is judged where some replication measured it.
    let mut verdict = |what: &str, xs: &[f64], limit: f64| {
        if xs.is_empty() {
            return true;
        }
        let ci = student_t_ci(xs, 0.95);
        let (lo, hi) = (ci.mean - ci.half_width, ci.mean + ci.half_width);
        if hi <= limit {
            return true;
        }
        if lo > limit {
            why.push(format!("{what} {:.2} ms > {limit} ms", ci.mean));
            return false;
        }
        unresolved = true;
        if ci.mean > limit {
            why.push(format!(
                "{what} {:.2} ms > {limit} ms (by the mean)",
                ci.mean
            ));
            false
        } else {
            true
        }
    };
    let mut pass = verdict("read p99", &rp99, s.read_p99_ms);
    if let Some(limit) = s.write_p99_ms {
        pass &= verdict("write p99", &wp99, limit);
    }
    if saturated {
        why.push("saturated: the backlog grew without bound".into());
        pass = false;
    }
    if failed > 0 && !s.allow_failures {
        why.push(format!("{failed} failed requests"));
        pass = false;
    }
    Probe {
        rate,
        pass,
        unresolved,
        reps: runs.len(),
        read_p50_ms: mean(&rp50),
        read_p99_ms: mean(&rp99),
        write_p99_ms: mean(&wp99),
        read_ci95_ms: (half_width(&rp50), half_width(&rp99)),
        failed,
        saturated,
        bottleneck: runs[0].bottleneck.clone(),
        dominant_stage: runs[0].dominant_stage.clone(),
        why: why.join("; "),
        interrupted: runs.iter().any(|o| o.interrupted),
    }
}

/// Probes `rate`: the first replications, then two more at a time while an interval straddles
/// a limit, up to the most allowed.
pub fn probe(
    rate: f64,
    s: &Search,
    simulate: &mut impl FnMut(f64, Range<usize>) -> Vec<Outcome>,
) -> Probe {
    let mut runs = simulate(rate, 0..s.reps.0);
    loop {
        let pr = summarize(rate, &runs, s);
        if !pr.unresolved || runs.len() >= s.reps.1 || pr.saturated || pr.interrupted {
            return pr;
        }
        let more = simulate(rate, runs.len()..(runs.len() + 2).min(s.reps.1));
        runs.extend(more);
    }
}

/// Finds the highest rate that meets every objective, to within `s.precision`; a probe that
/// Ctrl-C stopped ends the search, keeping what it had found.
pub fn max_rate(s: &Search, mut simulate: impl FnMut(f64, Range<usize>) -> Vec<Outcome>) -> Limit {
    let mut probes = Vec::new();
    let mut lo = 0.0f64;
    let interrupted = bracket_and_bisect(s, &mut simulate, &mut probes, &mut lo).is_none();
    Limit {
        max_rate: lo,
        probes,
        interrupted,
    }
}

/// The search itself, raising `lo` as rates pass; `None` when a probe was interrupted.
fn bracket_and_bisect(
    s: &Search,
    simulate: &mut impl FnMut(f64, Range<usize>) -> Vec<Outcome>,
    probes: &mut Vec<Probe>,
    lo: &mut f64,
) -> Option<()> {
    let mut run = |rate: f64| {
        let pr = probe(rate, s, simulate);
        if pr.interrupted {
            return None;
        }
        let pass = pr.pass;
        probes.push(pr);
        Some(pass)
    };
    let mut hi = f64::INFINITY;
    let mut r = s.target;
    if run(r)? {
        *lo = r;
        while hi.is_infinite() && r < s.target * 64.0 {
            r *= 2.0;
            if run(r)? {
                *lo = r;
            } else {
                hi = r;
            }
        }
    } else {
        hi = r;
        while *lo == 0.0 && r > s.target / 1024.0 {
            r /= 2.0;
            if run(r)? {
                *lo = r;
            } else {
                hi = r;
            }
        }
    }
    while *lo > 0.0 && hi.is_finite() && hi / *lo - 1.0 > s.precision {
        let mid = (*lo * hi).sqrt();
        if run(mid)? {
            *lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(())
}

/// The cheapest candidate whose maximum rate reaches `target` (ties: the higher rate, then
/// the first listed).
pub fn choose(costs: &[f64], max_rates: &[f64], target: f64) -> Option<usize> {
    rank(costs, max_rates)
        .into_iter()
        .find(|&i| max_rates[i] >= target)
}

/// Candidates from the cheapest; at equal cost, the higher maximum rate first, then file order.
pub fn rank(costs: &[f64], max_rates: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by(|&x, &y| {
        costs[x]
            .total_cmp(&costs[y])
            .then(max_rates[y].total_cmp(&max_rates[x]))
            .then(x.cmp(&y))
    });
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy cluster: read p99 = 1 ms / (1 − rate / 10,000), so the 5 ms objective is met up
    /// to 8,000 reads/s and the backlog grows from 10,000; each replication k is off by
    /// `noise` × (k mod 3 − 1) of it.
    fn toy(
        noise: f64,
        calls: &mut Vec<(f64, Range<usize>)>,
    ) -> impl FnMut(f64, Range<usize>) -> Vec<Outcome> + '_ {
        move |rate: f64, reps: Range<usize>| {
            calls.push((rate, reps.clone()));
            reps.map(|k| {
                let load = rate / 10_000.0;
                let p99 = if load < 1.0 {
                    1.0 / (1.0 - load)
                } else {
                    f64::NAN
                };
                let p99 = p99 * (1.0 + noise * ((k % 3) as f64 - 1.0));
                Outcome {
                    read_p50_ms: p99 / 4.0,
                    read_p99_ms: p99,
                    write_p99_ms: f64::NAN,
                    failed: 0,
                    complete: load < 1.0,
                    bottleneck: ("member0_cpu".into(), load.min(1.0)),
                    dominant_stage: "cpu_queue".into(),
                    interrupted: false,
                }
            })
            .collect()
        }
    }

    fn search(target: f64) -> Search {
        Search {
            read_p99_ms: 5.0,
            write_p99_ms: Some(10.0),
            allow_failures: false,
            reps: (2, 6),
            precision: 0.01,
            target,
            seed: 1,
        }
    }

    #[test]
    fn the_search_brackets_then_bisects_to_the_boundary() {
        for target in [1_000.0, 9_000.0, 50_000.0] {
            let mut calls = Vec::new();
            let lim = max_rate(&search(target), toy(0.0, &mut calls));
            assert!(
                lim.max_rate <= 8_000.0 && lim.fail_rate() >= 8_000.0,
                "{target}: {lim:?}"
            );
            assert!(lim.fail_rate() / lim.max_rate - 1.0 <= 0.01, "{target}");
            // Without noise every interval is a point: two replications per probe decide.
            assert!(calls.iter().all(|(_, reps)| *reps == (0..2)));
            assert_eq!(lim.probes.len(), calls.len());
            // No write completed: the write objective is not judged, and its p99 is absent.
            assert!(lim.probes.iter().all(|p| p.write_p99_ms.is_nan()));
        }
    }

    #[test]
    fn a_straddling_interval_gets_more_replications_up_to_the_most() {
        let s = search(1_000.0);
        let mut calls = Vec::new();
        // At 8,000/s the mean p99 is the limit, so the interval straddles it whatever the reps.
        let pr = probe(8_000.0, &s, &mut toy(0.05, &mut calls));
        assert!(pr.unresolved && pr.reps == 6, "{pr:?}");
        assert_eq!(
            calls.iter().map(|c| c.1.clone()).collect::<Vec<_>>(),
            [0..2, 2..4, 4..6]
        );
        let pr = probe(2_000.0, &s, &mut toy(0.05, &mut Vec::new()));
        assert!(pr.pass && !pr.unresolved && pr.reps == 2, "{pr:?}");
    }

    #[test]
    fn saturation_and_failures_fail_a_probe() {
        let s = search(1_000.0);
        let pr = probe(12_000.0, &s, &mut toy(0.0, &mut Vec::new()));
        assert!(
            !pr.pass && pr.saturated && pr.why.contains("saturated"),
            "{pr:?}"
        );
        let failing = |_: f64, reps: Range<usize>| {
            reps.map(|_| Outcome {
                read_p50_ms: 1.0,
                read_p99_ms: 2.0,
                write_p99_ms: 3.0,
                failed: 1,
                complete: true,
                bottleneck: ("member0_disk".into(), 0.5),
                dominant_stage: "replicate".into(),
                interrupted: false,
            })
            .collect()
        };
        let pr = probe(100.0, &s, &mut { failing });
        assert!(!pr.pass && pr.why == "2 failed requests", "{pr:?}");
        let allowed = Search {
            allow_failures: true,
            ..search(1_000.0)
        };
        assert!(probe(100.0, &allowed, &mut { failing }).pass);
    }

    #[test]
    fn an_interrupted_probe_ends_the_search_keeping_what_it_found() {
        let mut calls = Vec::new();
        let mut inner = toy(0.0, &mut calls);
        let mut n = 0;
        let lim = max_rate(&search(1_000.0), |rate, reps| {
            n += 1;
            let mut runs = inner(rate, reps);
            if n == 3 {
                runs[0].interrupted = true;
            }
            runs
        });
        assert!(lim.interrupted);
        // 1,000 and 2,000 passed; the third probe (4,000) was stopped and is not kept.
        assert_eq!(lim.probes.len(), 2, "{lim:?}");
        assert_eq!(lim.max_rate, 2_000.0);
    }

    #[test]
    fn the_cheapest_candidate_that_meets_the_target_is_chosen() {
        assert_eq!(
            choose(&[3.0, 1.0, 2.0], &[500.0, 90.0, 120.0], 100.0),
            Some(2)
        );
        assert_eq!(choose(&[3.0, 1.0], &[50.0, 90.0], 100.0), None);
        // Equal cost: the one with more headroom.
        assert_eq!(choose(&[1.0, 1.0], &[150.0, 200.0], 100.0), Some(1));
        assert_eq!(rank(&[2.0, 1.0, 2.0], &[10.0, 5.0, 20.0]), [1, 2, 0]);
    }
}
