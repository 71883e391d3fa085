//! A capacity plan's outputs, from the searches' results: the table on the terminal, a
//! [`PlanRow`] per candidate (`plan.csv`), a [`ProbeRow`] per probed rate (`probes.csv`), a
//! [`SensitivityRow`] per input (`sensitivity.csv`), the hockey-stick and tornado charts.

use std::fmt::Write as _;

use super::charts::scale::human;
use super::charts::{Caption, Line, LinePlot, Mark, Plot, Pt, Reference, Stat, Tornado};
use super::table::{Columns, Fixed, Row, Shortest};
use crate::capacity::{Limit, Probe, Search, choose, rank};

/// The plan's candidates with their searches' results, and the choice among them.
#[derive(Debug, Clone)]
pub struct PlanResult<'a> {
    /// The plan's name.
    pub name: &'a str,
    /// The objectives and the target.
    pub search: &'a Search,
    /// Each candidate's name and cost.
    pub candidates: Vec<(&'a str, f64)>,
    /// Each candidate's search result.
    pub limits: &'a [Limit],
    /// The candidates from the cheapest (at equal cost, the higher maximum rate first).
    pub order: Vec<usize>,
    /// The cheapest candidate that meets the target, if any.
    pub chosen: Option<usize>,
    /// Ctrl-C stopped the plan: these are the candidates whose search finished, and none is
    /// chosen.
    pub partial: bool,
    /// The runs through the plan's faults, candidate by candidate (empty: no faults).
    pub faults: Vec<Vec<FaultResult>>,
}

/// A candidate's runs through one fault, at the target rate.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultResult {
    /// The fault's name.
    pub fault: String,
    /// Replications run.
    pub replications: usize,
    /// The worst replication's p99 read latency (ms; NaN: no read completed).
    pub read_p99_ms: f64,
    /// The worst replication's failed reads and puts (timeouts included).
    pub failed: u64,
    /// The mean time from the first step to the first new leader (s; NaN: none elected).
    pub new_leader_s: f64,
    /// Every replication met the fault objectives.
    pub meets: bool,
}

impl FaultResult {
    /// Whether a candidate with these fault runs survives every fault.
    pub fn all_met(runs: &[FaultResult]) -> bool {
        runs.iter().all(|f| f.meets)
    }
}

impl<'a> PlanResult<'a> {
    /// The candidates ranked, and the choice.
    pub fn new(
        name: &'a str,
        search: &'a Search,
        candidates: Vec<(&'a str, f64)>,
        limits: &'a [Limit],
    ) -> Self {
        let costs: Vec<f64> = candidates.iter().map(|c| c.1).collect();
        let rates: Vec<f64> = limits.iter().map(|x| x.max_rate).collect();
        PlanResult {
            name,
            search,
            order: rank(&costs, &rates),
            chosen: choose(&costs, &rates, search.target),
            candidates,
            limits,
            partial: false,
            faults: Vec::new(),
        }
    }

    /// The plan's fault runs, candidate by candidate: the choice must also survive every fault.
    pub fn with_faults(mut self, faults: Vec<Vec<FaultResult>>) -> Self {
        let s = self.search;
        self.chosen = self
            .order
            .iter()
            .copied()
            .find(|&i| self.limits[i].max_rate >= s.target && FaultResult::all_met(&faults[i]));
        self.faults = faults;
        self
    }

    /// The result of a plan that Ctrl-C stopped: only the finished searches, no choice.
    pub fn partial(mut self) -> Self {
        self.partial = true;
        self.chosen = None;
        self
    }

    fn headroom(&self, i: usize) -> f64 {
        self.limits[i].max_rate / self.search.target - 1.0
    }
}

/// What stood at a candidate's first failing rate.
struct AtFailure {
    bottleneck: String,
    /// NaN when no rate failed.
    utilization: f64,
    stage: String,
    why: String,
}

fn at_failure(lim: &Limit) -> AtFailure {
    match lim.at_fail() {
        Some(p) => AtFailure {
            bottleneck: p.bottleneck.0.clone(),
            utilization: p.bottleneck.1,
            stage: p.dominant_stage.clone(),
            why: p.why.clone(),
        },
        None => AtFailure {
            bottleneck: "none within 64x the target".into(),
            utilization: f64::NAN,
            stage: String::new(),
            why: String::new(),
        },
    }
}

/// The table of candidates from the cheapest, the choice and why the cheaper ones fail.
pub fn text(r: &PlanResult) -> String {
    let s = r.search;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "\nPlan {}: target {:.0} reads/s; read p99 <= {} ms{}{}\n",
        r.name,
        s.target,
        s.read_p99_ms,
        s.write_p99_ms
            .map(|w| format!(", write p99 <= {w} ms"))
            .unwrap_or_default(),
        if s.allow_failures {
            ""
        } else {
            ", no failed requests"
        }
    );
    let _ = writeln!(
        text,
        "{:<40} {:>7} {:>14} {:>10}  {:<28} why the next rate fails",
        "candidate", "cost", "max reads/s", "headroom", "bottleneck at the limit"
    );
    for &i in &r.order {
        text.push_str(&candidate_line(r, i));
    }
    if !r.faults.is_empty() {
        let _ = writeln!(
            text,
            "\nThrough each fault at {:.0} reads/s (the worst replication):\n{:<48} {:<24} {:>10} {:>8} {:>12}  meets",
            s.target, "candidate", "fault", "p99 ms", "failed", "new leader s"
        );
        for &i in &r.order {
            for f in &r.faults[i] {
                let _ = writeln!(
                    text,
                    "  {:<46} {:<24} {:>10.1} {:>8} {:>12}  {}",
                    r.candidates[i].0,
                    f.fault,
                    f.read_p99_ms,
                    f.failed,
                    if f.new_leader_s.is_nan() {
                        "-".to_string()
                    } else {
                        format!("{:.2}", f.new_leader_s)
                    },
                    if f.meets { "yes" } else { "no" }
                );
            }
        }
    }
    text.push_str(&choice(r));
    text
}

/// Candidate `i`'s line of the table (`*` marks the choice).
fn candidate_line(r: &PlanResult, i: usize) -> String {
    let (name, cost) = r.candidates[i];
    let f = at_failure(&r.limits[i]);
    let bottleneck = if f.utilization.is_nan() {
        f.bottleneck
    } else {
        format!("{} ({:.0}%)", f.bottleneck, f.utilization * 100.0)
    };
    format!(
        "{}{:<38} {:>7.2} {:>14.0} {:>+9.0}%  {:<28} {}{}\n",
        if Some(i) == r.chosen { "* " } else { "  " },
        name,
        cost,
        r.limits[i].max_rate,
        r.headroom(i) * 100.0,
        bottleneck,
        f.why,
        if f.stage.is_empty() {
            String::new()
        } else {
            format!("; most read time in {}", f.stage)
        }
    )
}

/// The choice, and why each cheaper candidate fails; or that none meets the target.
fn choice(r: &PlanResult) -> String {
    let s = r.search;
    let mut text = String::new();
    if r.partial {
        let _ = writeln!(
            text,
            "\nINTERRUPTED by Ctrl-C: only the {} candidates above finished their search; none is chosen from a partial plan.",
            r.candidates.len()
        );
        return text;
    }
    match r.chosen {
        Some(i) => {
            let _ = writeln!(
                text,
                "\nChosen: {} (cost {}), the cheapest candidate that sustains {:.0} reads/s within the objectives{}: up to {:.0} reads/s, {:+.0}% headroom.",
                r.candidates[i].0,
                r.candidates[i].1,
                s.target,
                if r.faults.is_empty() {
                    ""
                } else {
                    " and survives every fault"
                },
                r.limits[i].max_rate,
                r.headroom(i) * 100.0
            );
            for &j in r.order.iter().take_while(|&&j| j != i) {
                if r.limits[j].max_rate >= s.target {
                    let failed: Vec<&str> = r.faults[j]
                        .iter()
                        .filter(|f| !f.meets)
                        .map(|f| f.fault.as_str())
                        .collect();
                    let _ = writeln!(
                        text,
                        "  {} is cheaper and reaches {:.0} reads/s, but does not survive: {}.",
                        r.candidates[j].0,
                        r.limits[j].max_rate,
                        failed.join(", ")
                    );
                    continue;
                }
                let _ = writeln!(
                    text,
                    "  {} is cheaper but fails: it reaches only {:.0} reads/s; {}.",
                    r.candidates[j].0,
                    r.limits[j].max_rate,
                    r.limits[j].at_fail().map_or("", |p| p.why.as_str())
                );
            }
        }
        None => {
            let _ = writeln!(
                text,
                "\nNo candidate sustains {:.0} reads/s within the objectives{}.",
                s.target,
                if r.faults.is_empty() {
                    ""
                } else {
                    " and survives every fault"
                }
            );
        }
    }
    text
}

/// A candidate's result: a row of `plan.csv`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlanRow {
    /// The candidate.
    pub candidate: String,
    /// Its relative cost.
    pub cost: Shortest,
    /// The highest rate that met the objectives (0 if none did).
    pub max_read_rate_rps: Fixed<1>,
    /// The lowest rate that failed; absent if none did.
    pub first_failing_rate_rps: Fixed<1>,
    /// The maximum rate over the target, less one.
    pub headroom_frac: Fixed<4>,
    /// The maximum rate reaches the target.
    pub meets_target: bool,
    /// The plan chose it.
    pub chosen: bool,
    /// The bottleneck at the first failing rate.
    pub bottleneck: String,
    /// Its utilization there; absent if no rate failed.
    pub bottleneck_utilization_frac: Fixed<4>,
    /// Where reads spent most time there.
    pub dominant_read_stage: String,
    /// The read p99 at the maximum rate; absent if no rate passed.
    pub read_p99_ms_at_max: Fixed<4>,
    /// Why the first failing rate failed.
    pub failing_reason: String,
    /// Rates probed.
    pub probes: usize,
    /// Probes whose interval still straddled a limit at the most replications.
    pub unresolved_probes: usize,
}

impl Row for PlanRow {
    fn columns(&mut self, c: &mut dyn Columns) {
        c.col("candidate", &mut self.candidate);
        c.col("cost", &mut self.cost);
        c.col("max_read_rate_rps", &mut self.max_read_rate_rps);
        c.col("first_failing_rate_rps", &mut self.first_failing_rate_rps);
        c.col("headroom_frac", &mut self.headroom_frac);
        c.col("meets_target", &mut self.meets_target);
        c.col("chosen", &mut self.chosen);
        c.col("bottleneck", &mut self.bottleneck);
        c.col(
            "bottleneck_utilization_frac",
            &mut self.bottleneck_utilization_frac,
        );
        c.col("dominant_read_stage", &mut self.dominant_read_stage);
        c.col("read_p99_ms_at_max", &mut self.read_p99_ms_at_max);
        c.col("failing_reason", &mut self.failing_reason);
        c.col("probes", &mut self.probes);
        c.col("unresolved_probes", &mut self.unresolved_probes);
    }
}

/// A candidate's run through a fault: a row of `faults.csv`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultRow {
    /// The candidate.
    pub candidate: String,
    /// Its relative cost.
    pub cost: Shortest,
    /// The fault.
    pub fault: String,
    /// Replications run.
    pub replications: usize,
    /// The worst replication's p99 read latency (ms).
    pub read_p99_ms: Fixed<3>,
    /// The worst replication's failed requests (timeouts included).
    pub failed: u64,
    /// The mean time from the fault to a new leader (s; empty: none elected).
    pub new_leader_s: Fixed<3>,
    /// Every replication met the fault objectives.
    pub meets: bool,
}

impl Row for FaultRow {
    fn columns(&mut self, c: &mut dyn Columns) {
        c.col("candidate", &mut self.candidate);
        c.col("cost", &mut self.cost);
        c.col("fault", &mut self.fault);
        c.col("replications", &mut self.replications);
        c.col("read_p99_ms", &mut self.read_p99_ms);
        c.col("failed", &mut self.failed);
        c.col("new_leader_s", &mut self.new_leader_s);
        c.col("meets", &mut self.meets);
    }
}

/// The fault runs' rows, candidates from the cheapest.
pub fn fault_rows(r: &PlanResult) -> Vec<FaultRow> {
    let mut out = Vec::new();
    for &i in &r.order {
        for f in r.faults.get(i).into_iter().flatten() {
            out.push(FaultRow {
                candidate: r.candidates[i].0.to_string(),
                cost: Shortest(r.candidates[i].1),
                fault: f.fault.clone(),
                replications: f.replications,
                read_p99_ms: Fixed::new(f.read_p99_ms),
                failed: f.failed,
                new_leader_s: Fixed::new(f.new_leader_s),
                meets: f.meets,
            });
        }
    }
    out
}

/// The candidates' rows, from the cheapest.
pub fn plan_rows(r: &PlanResult) -> Vec<PlanRow> {
    r.order
        .iter()
        .map(|&i| {
            let lim = &r.limits[i];
            let f = at_failure(lim);
            PlanRow {
                candidate: r.candidates[i].0.to_string(),
                cost: Shortest(r.candidates[i].1),
                max_read_rate_rps: Fixed::new(lim.max_rate),
                first_failing_rate_rps: Fixed::new(lim.fail_rate()),
                headroom_frac: Fixed::new(r.headroom(i)),
                meets_target: lim.max_rate >= r.search.target,
                chosen: Some(i) == r.chosen,
                bottleneck: f.bottleneck,
                bottleneck_utilization_frac: Fixed::new(f.utilization),
                dominant_read_stage: f.stage,
                read_p99_ms_at_max: lim
                    .at_max()
                    .map_or(Fixed::ABSENT, |p| Fixed::new(p.read_p99_ms)),
                failing_reason: f.why,
                probes: lim.probes.len(),
                unresolved_probes: lim.probes.iter().filter(|p| p.unresolved).count(),
            }
        })
        .collect()
}

/// One probed rate of one candidate: a row of `probes.csv`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProbeRow {
    /// The candidate.
    pub candidate: String,
    /// The rate probed.
    pub offered_read_rate_rps: Fixed<1>,
    /// Every objective held.
    pub pass: bool,
    /// An interval still straddled a limit at the most replications.
    pub unresolved: bool,
    /// Replications run.
    pub replications: usize,
    /// Mean read p50 over replications; absent if no read completed.
    pub read_p50_ms: Fixed<4>,
    /// Mean read p99 over replications; absent if no read completed.
    pub read_p99_ms: Fixed<4>,
    /// Mean write p99 over replications; absent if no write completed.
    pub write_p99_ms: Fixed<4>,
    /// Failed requests, all replications together.
    pub failed: u64,
    /// Some replication saturated.
    pub saturated: bool,
    /// The first replication's bottleneck.
    pub bottleneck: String,
    /// Its utilization.
    pub bottleneck_utilization_frac: Fixed<4>,
    /// The read stage with the largest mean.
    pub dominant_read_stage: String,
    /// Why the probe failed.
    pub why: String,
}

impl ProbeRow {
    fn of(candidate: &str, p: &Probe) -> ProbeRow {
        ProbeRow {
            candidate: candidate.to_string(),
            offered_read_rate_rps: Fixed::new(p.rate),
            pass: p.pass,
            unresolved: p.unresolved,
            replications: p.reps,
            read_p50_ms: Fixed::new(p.read_p50_ms),
            read_p99_ms: Fixed::new(p.read_p99_ms),
            write_p99_ms: Fixed::new(p.write_p99_ms),
            failed: p.failed,
            saturated: p.saturated,
            bottleneck: p.bottleneck.0.clone(),
            bottleneck_utilization_frac: Fixed::new(p.bottleneck.1),
            dominant_read_stage: p.dominant_stage.clone(),
            why: p.why.clone(),
        }
    }
}

impl Row for ProbeRow {
    fn columns(&mut self, c: &mut dyn Columns) {
        c.col("candidate", &mut self.candidate);
        c.col("offered_read_rate_rps", &mut self.offered_read_rate_rps);
        c.col("pass", &mut self.pass);
        c.col("unresolved", &mut self.unresolved);
        c.col("replications", &mut self.replications);
        c.col("read_p50_ms", &mut self.read_p50_ms);
        c.col("read_p99_ms", &mut self.read_p99_ms);
        c.col("write_p99_ms", &mut self.write_p99_ms);
        c.col("failed", &mut self.failed);
        c.col("saturated", &mut self.saturated);
        c.col("bottleneck", &mut self.bottleneck);
        c.col(
            "bottleneck_utilization_frac",
            &mut self.bottleneck_utilization_frac,
        );
        c.col("dominant_read_stage", &mut self.dominant_read_stage);
        c.col("why", &mut self.why);
    }
}

/// Every probe, candidate by candidate in file order, by rate.
pub fn probe_rows(r: &PlanResult) -> Vec<ProbeRow> {
    r.candidates
        .iter()
        .zip(r.limits)
        .flat_map(|((name, _), lim)| lim.by_rate().into_iter().map(|p| ProbeRow::of(name, p)))
        .collect()
}

/// The caption's title after `what`.
fn titled(about: &Caption, what: &str) -> Caption {
    Caption {
        title: format!("{what} — {}", about.title),
        notes: about.notes.clone(),
    }
}

/// Read latency (p50 and p99, with their 95% intervals) against offered load, a series per
/// candidate, its knee (the highest rate within the objectives) marked and the objective
/// drawn; p99 above three times the objective is cut off at the top.
pub fn hockey_stick(r: &PlanResult, about: &Caption) -> Plot {
    let objective = r.search.read_p99_ms;
    let mut lines = Vec::new();
    let mut knees = Vec::new();
    for (i, lim) in r.limits.iter().enumerate() {
        let ps: Vec<&Probe> = lim.by_rate().into_iter().filter(|p| !p.saturated).collect();
        let curve = |stat: Stat, ms: fn(&Probe) -> (f64, f64)| Line {
            series: i,
            stat,
            // A probe without completed reads has no latency to draw.
            points: ps
                .iter()
                .map(|p| (p.rate, ms(p)))
                .filter(|(_, (y, _))| !y.is_nan())
                .map(|(x, (y, ci95))| Pt { x, y, ci95 })
                .collect(),
        };
        lines.push(curve(Stat::P50, |p| (p.read_p50_ms, p.read_ci95_ms.0)));
        lines.push(curve(Stat::P99, |p| (p.read_p99_ms, p.read_ci95_ms.1)));
        if let Some(p) = lim.at_max() {
            knees.push(Mark {
                series: i,
                x: p.rate,
                y: p.read_p99_ms,
            });
        }
    }
    let mut caption = titled(about, "Read latency against offered load");
    caption.notes.push(format!(
        "Target {} reads/s. A diamond marks each candidate's knee, the highest rate probed within every objective; p99 above {} ms (three times the objective) is cut off.",
        human(r.search.target),
        human(objective * 3.0)
    ));
    Plot::Lines(LinePlot {
        caption,
        x_title: "offered reads per second (open loop)".into(),
        log_x: false,
        y_title: "read latency (ms)".into(),
        series: r.candidates.iter().map(|c| c.0.to_string()).collect(),
        series_heading: "candidate".into(),
        lines,
        references: vec![Reference {
            y: objective,
            label: format!("objective: read p99 ≤ {} ms", human(objective)),
        }],
        marks: (knees, "knee: the highest rate within the objectives".into()),
        ci_label: format!(
            "95% CI over {}–{} replications",
            r.search.reps.0, r.search.reps.1
        ),
        y_max: Some(objective * 3.0),
    })
}

/// How far one input moves the chosen candidate's maximum rate: a row of `sensitivity.csv`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SensitivityRow {
    /// The model or workload key.
    pub input: String,
    /// The relative change of the input (0.2: ±20%).
    pub change_frac: Shortest,
    /// The maximum rate with the input lowered.
    pub max_read_rate_minus_rps: Fixed<1>,
    /// The maximum rate with the input raised.
    pub max_read_rate_plus_rps: Fixed<1>,
    /// The maximum rate as planned.
    pub base_max_read_rate_rps: Fixed<1>,
}

impl Row for SensitivityRow {
    fn columns(&mut self, c: &mut dyn Columns) {
        c.col("input", &mut self.input);
        c.col("change_frac", &mut self.change_frac);
        c.col("max_read_rate_minus_rps", &mut self.max_read_rate_minus_rps);
        c.col("max_read_rate_plus_rps", &mut self.max_read_rate_plus_rps);
        c.col("base_max_read_rate_rps", &mut self.base_max_read_rate_rps);
    }
}

/// The sensitivity of candidate `name`'s maximum rate `base` to each input moved by ±`change`
/// (`(input, rate lowered, rate raised)`): its rows, the lines for the terminal, and the tornado
/// chart (`precision`: the search's resolution, for the notes; `about`: the plan's caption).
pub fn sensitivity(
    name: &str,
    (base, change, precision): (f64, f64, f64),
    inputs: &[(String, f64, f64)],
    about: &Caption,
) -> (Vec<SensitivityRow>, String, Plot) {
    let pct = change * 100.0;
    let mut text = format!(
        "\nSensitivity of {name}'s maximum rate ({base:.0} reads/s) to each input ±{pct:.0}%:\n"
    );
    let mut rows = Vec::new();
    for (k, lo, hi) in inputs {
        let _ = writeln!(
            text,
            "  {k:<28} -{pct:.0}%: {lo:>10.0} ({:+.1}%)   +{pct:.0}%: {hi:>10.0} ({:+.1}%)",
            (lo / base - 1.0) * 100.0,
            (hi / base - 1.0) * 100.0
        );
        rows.push(SensitivityRow {
            input: k.clone(),
            change_frac: Shortest(change),
            max_read_rate_minus_rps: Fixed::new(*lo),
            max_read_rate_plus_rps: Fixed::new(*hi),
            base_max_read_rate_rps: Fixed::new(base),
        });
    }
    let mut caption = titled(
        about,
        &format!("Maximum read rate of {name} when each input moves ±{pct:.0}%"),
    );
    caption.notes.push(format!(
        "Each bar is a new capacity search with one input moved; the search resolves rates to {:.0}%, so smaller changes are within its precision.",
        precision * 100.0
    ));
    let plot = Plot::Tornado(Tornado {
        caption,
        x_title: "maximum reads per second within the objectives".into(),
        base,
        base_label: format!("as planned: {} reads/s", human(base)),
        directions: [format!("input −{pct:.0}%"), format!("input +{pct:.0}%")],
        rows: inputs.to_vec(),
    });
    (rows, text, plot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table::{csv, header};

    fn probe(rate: f64, pass: bool) -> Probe {
        Probe {
            rate,
            pass,
            unresolved: false,
            reps: 3,
            read_p50_ms: 1.0,
            read_p99_ms: if pass { 4.0 } else { 12.0 },
            write_p99_ms: f64::NAN,
            read_ci95_ms: (0.1, 0.5),
            failed: 0,
            saturated: false,
            bottleneck: ("member0_cpu".into(), 0.9),
            dominant_stage: "cpu_queue".into(),
            why: if pass {
                String::new()
            } else {
                "read p99 12.00 ms > 10 ms".into()
            },
            interrupted: false,
        }
    }

    #[test]
    fn plan_and_probe_rows_say_what_each_candidate_reached() {
        let search = Search {
            read_p99_ms: 10.0,
            write_p99_ms: None,
            allow_failures: false,
            reps: (3, 8),
            precision: 0.02,
            target: 1000.0,
            seed: 1,
        };
        let limits = [
            Limit {
                max_rate: 1500.0,
                probes: vec![
                    probe(1000.0, true),
                    probe(2000.0, false),
                    probe(1500.0, true),
                ],
                interrupted: false,
            },
            Limit {
                max_rate: 64_000.0,
                probes: vec![probe(64_000.0, true)],
                interrupted: false,
            },
        ];
        let r = PlanResult::new("p", &search, vec![("big", 5.0), ("small", 1.0)], &limits);
        assert_eq!((r.order.clone(), r.chosen), (vec![1, 0], Some(1)));
        let rows = plan_rows(&r);
        assert_eq!(
            header(&rows[0])[..3],
            ["candidate", "cost", "max_read_rate_rps"]
        );
        let text = String::from_utf8(csv(&rows[0], &rows)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // Never failed: no failing rate and no utilization at it, both empty.
        assert_eq!(
            lines[1],
            "small,1,64000.0,,63.0000,1,1,none within 64x the target,,,4.0000,,1,0"
        );
        assert_eq!(
            lines[2],
            "big,5,1500.0,2000.0,0.5000,1,0,member0_cpu,0.9000,cpu_queue,4.0000,read p99 12.00 ms > 10 ms,3,0"
        );
        let probes = probe_rows(&r);
        let rates: Vec<f64> = probes.iter().map(|p| p.offered_read_rate_rps.0).collect();
        assert_eq!(rates, [1000.0, 1500.0, 2000.0, 64_000.0]);
        // No write completed: the write p99 cell is empty.
        let text = String::from_utf8(csv(&probes[0], &probes[..1])).unwrap();
        assert!(text.contains(",1.0000,4.0000,,0,0,"), "{text}");
        let t = super::text(&r);
        assert!(t.contains("* small") && t.contains("Chosen: small"), "{t}");
    }
}
