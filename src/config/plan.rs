//! Plan files (`experiments/plans/*.toml`): a workload with a target read rate, service-level
//! objectives, and candidate clusters with their costs.
//!
//! ```toml
//! name = "k8s-control-plane"
//! target_read_rate = 20000        # reads/s the cluster must sustain
//! [workload]                      # workload keys; reads arrive open-loop at the searched rate
//! serializable_ratio = 0.2
//! write_rate = 1000
//! [objectives]
//! read_p99_ms = 20
//! write_p99_ms = 50
//! allow_failures = false
//! [[candidates]]
//! name = "3 members"
//! model = "../../models/gce-8vcpu-ssd.toml"  # from this file's folder; absent: the built-in one
//! cost = 3.0
//! set = { "cluster.voters" = 3 }
//! grid = { "member.cores" = [8, 16] }          # optional: one candidate per value
//! cost_per = { "member.cores" = 0.25 }         # optional: cost += value × this, per axis
//! [limits]                                     # optional caps on each run, as in experiments
//! max_in_flight = 20000
//! ```

use serde::{Deserialize, Serialize};

use super::ConfigError;
use super::limits::Limits;
use super::model::ModelSource;
use super::variant::{Override, literal_text};
use super::workload::WorkloadSpec;
use crate::model::{ClusterParams, RunOptions, Workload};

/// A plan file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// Output folder name (default: the file's stem).
    pub name: Option<String>,
    /// What the plan is for.
    pub description: Option<String>,
    /// Reads per second the cluster must sustain within the objectives.
    pub target_read_rate: f64,
    /// Base seed.
    #[serde(default = "one")]
    pub seed: u64,
    /// Replications per probed rate at first.
    #[serde(default = "three")]
    pub replications: u32,
    /// Replications per probed rate at most, while the confidence interval straddles an
    /// objective.
    #[serde(default = "eight")]
    pub max_replications: u32,
    /// Simulated seconds measured per run.
    #[serde(default = "one_f")]
    pub duration_s: f64,
    /// Simulated seconds of warm-up before measuring.
    #[serde(default = "warm")]
    pub warmup_s: f64,
    /// Relative width at which the search stops (0.02: the maximum rate to within 2%).
    #[serde(default = "two_pct")]
    pub precision: f64,
    /// The workload; the read rate (`open_rate`) is set by the search.
    #[serde(default)]
    pub workload: toml::Table,
    /// The objectives.
    pub objectives: Objectives,
    /// The candidate clusters.
    pub candidates: Vec<CandidateSpec>,
    /// Sensitivity of the chosen candidate's maximum rate (off when absent).
    pub sensitivity: Option<Sensitivity>,
    /// Caps on each run (the defaults but for `max_in_flight`, 20,000 here).
    #[serde(default)]
    pub limits: Limits,
    /// Scripted events each candidate is run through at the target rate (none when absent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultSpec>,
}

/// `[[faults]]`: a scripted event each candidate is run through, at the target read rate, for
/// the p99 and the failed reads of a run that contains it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// A name for reports.
    pub name: String,
    /// The timeline, as an experiment's `workload.timeline` (times from the run's start,
    /// warm-up included).
    pub timeline: toml::Value,
    /// Simulated seconds of the run, warm-up included.
    #[serde(default = "fault_run_s")]
    pub duration_s: f64,
    /// The clients' deadline (s); absent: the workload's, which a fault needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout_s: Option<f64>,
}

fn fault_run_s() -> f64 {
    6.0
}

fn one() -> u64 {
    1
}
fn three() -> u32 {
    3
}
fn eight() -> u32 {
    8
}
fn one_f() -> f64 {
    1.0
}
fn warm() -> f64 {
    0.2
}
fn two_pct() -> f64 {
    0.02
}

/// `[objectives]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Objectives {
    /// p99 read latency at most this (ms).
    pub read_p99_ms: f64,
    /// p99 write latency at most this (ms), when the workload writes.
    pub write_p99_ms: Option<f64>,
    /// Whether failed requests are tolerated (default: no).
    #[serde(default)]
    pub allow_failures: bool,
    /// With `[[faults]]`: the p99 read latency a run through each fault must stay within (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_read_p99_ms: Option<f64>,
    /// With `[[faults]]`: the failed (timed-out included) reads a run through each fault may
    /// have (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_max_failed: Option<u64>,
}

/// `[[candidates]]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateSpec {
    /// A name for reports.
    pub name: String,
    /// The model file, relative to the plan file's folder; absent, the reference model built
    /// into etcdsim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Its relative cost.
    pub cost: f64,
    /// Model overrides (dotted keys).
    #[serde(default)]
    pub set: toml::Table,
    /// Optional axes: one candidate per combination of values.
    #[serde(default)]
    pub grid: toml::Table,
    /// Cost added per unit of an axis' value.
    #[serde(default)]
    pub cost_per: toml::Table,
}

/// `[sensitivity]`: how far the maximum rate moves when each input moves by ±`change`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sensitivity {
    /// Relative change of every input (0.2: ±20%).
    #[serde(default = "twenty_pct")]
    pub change: f64,
    /// Model keys to scale (a number, or a distribution scaled whole).
    #[serde(default = "default_model_inputs")]
    pub model: Vec<String>,
    /// Workload keys to scale.
    #[serde(default = "default_workload_inputs")]
    pub workload: Vec<String>,
}

fn twenty_pct() -> f64 {
    0.2
}
fn default_model_inputs() -> Vec<String> {
    vec![
        "disk.fsync_us".into(),
        "network.rtt_us".into(),
        "cpu.grpc_request_us".into(),
    ]
}
fn default_workload_inputs() -> Vec<String> {
    vec!["write_rate".into(), "val_size".into()]
}

/// One candidate after grid expansion: its name, model path, overrides and cost.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Name, with the grid values.
    pub name: String,
    /// Model file as written (relative to the plan file); `None`: the built-in reference model.
    pub model: Option<String>,
    /// The model's overrides: the candidate's `set`, then its grid values.
    pub overrides: Vec<Override>,
    /// Where each override is in the plan file (`candidates[0].set."cluster.voters"`).
    pub sources: Vec<String>,
    /// Relative cost.
    pub cost: f64,
}

impl Candidate {
    /// An error of the candidate's model variant, blamed on the plan file where one of the
    /// candidate's overrides is at fault ([`super::variant::blame`]).
    pub fn blame(&self, plan_file: &str, e: ConfigError) -> ConfigError {
        super::variant::blame(plan_file, &self.overrides, &self.sources, e)
    }
}

/// An input of the sensitivity analysis moved by a factor, and what the plan then runs.
#[derive(Debug, Clone)]
pub struct SensitivityInput {
    /// The model or workload key.
    pub key: String,
    /// Its factor (1 − change or 1 + change).
    pub factor: f64,
    /// The cluster.
    pub cluster: ClusterParams,
    /// The workload.
    pub workload: Workload,
}
/// A plan's caps on each run when neither its `[limits]` nor the command line set them: the
/// defaults, but 20,000 requests in flight, which is saturation for a probe.
pub fn default_run_options() -> RunOptions {
    RunOptions {
        max_in_flight: 20_000,
        ..RunOptions::default()
    }
}

/// `plan.toml`: the plan as run, and its candidates expanded with their overrides and costs.
pub fn resolved(plan: &PlanFile, candidates: &[&Candidate]) -> Result<String, String> {
    let expanded: Vec<(&String, Vec<String>, f64)> = candidates
        .iter()
        .map(|c| {
            let o = c.overrides.iter().map(|o| o.to_string()).collect();
            (&c.name, o, c.cost)
        })
        .collect();
    Ok(format!(
        "# The plan as run (etcdsim {}), with its candidates expanded.\n{}\n# candidates: {expanded:?}\n",
        env!("CARGO_PKG_VERSION"),
        toml::to_string(plan).map_err(|e| e.to_string())?,
    ))
}

/// Parses a plan file's `text` and checks its rules (`file` names it in errors).
pub fn parse(file: &str, text: &str) -> Result<PlanFile, ConfigError> {
    let plan: PlanFile = super::parse(file, text)?;
    plan.check(file)?;
    Ok(plan)
}

impl PlanFile {
    /// The workload table of one run: the plan's `[workload]` with its run length and an
    /// open-loop read rate (which the search replaces with the rate it probes).
    pub fn run_workload(&self, workload: &toml::Table) -> toml::Table {
        let mut t = workload.clone();
        t.insert(
            "duration_s".into(),
            toml::Value::Float(self.duration_s + self.warmup_s),
        );
        t.insert("warmup_s".into(), toml::Value::Float(self.warmup_s));
        t.insert(
            "open_rate".into(),
            toml::Value::Float(self.target_read_rate),
        );
        t
    }

    /// Each run's caps: the plan's `[limits]` under the command line's (`cli`), over the
    /// plan's defaults (20,000 requests in flight, which is saturation for a probe). A run
    /// must fit within the cap on simulated time, or no probe could finish.
    pub fn run_options(&self, file: &str, cli: &Limits) -> Result<RunOptions, ConfigError> {
        let o = self.limits.resolve(cli, file, default_run_options())?;
        let run_s = self.duration_s + self.warmup_s;
        let cap_s = o.max_sim_time.as_secs_f64();
        if run_s > cap_s {
            return Err(ConfigError::invalid(
                file,
                "duration_s",
                format!(
                    "with warmup_s, a run lasts {run_s} simulated seconds, more than the cap on simulated time ({cap_s} s: limits.max_sim_time_s or --max-sim-time), so no probe could finish; shorten the run or raise the cap (got {})",
                    self.duration_s
                ),
            ));
        }
        Ok(o)
    }

    /// The workload of one run, before the search sets its rate.
    pub fn run_spec(&self, file: &str) -> Result<WorkloadSpec, ConfigError> {
        WorkloadSpec::from_table(file, self.run_workload(&self.workload))
    }

    /// The workload of the run through fault `i`: the plan's, at the target rate, for the
    /// fault's length, with its timeline, its deadline and 100 ms intervals.
    pub fn fault_spec(&self, file: &str, i: usize) -> Result<WorkloadSpec, ConfigError> {
        let f = &self.faults[i];
        let mut t = self.run_workload(&self.workload);
        t.insert("duration_s".into(), toml::Value::Float(f.duration_s));
        t.insert("timeline".into(), f.timeline.clone());
        t.insert("interval_s".into(), toml::Value::Float(0.1));
        if let Some(d) = f.request_timeout_s {
            t.insert("request_timeout_s".into(), toml::Value::Float(d));
        }
        if !t.contains_key("request_timeout_s") {
            return Err(ConfigError::invalid(
                file,
                format!("faults[{i}].request_timeout_s"),
                "a fault needs the clients' deadline (here or as workload.request_timeout_s): without one a call held by a stopped member never fails",
            ));
        }
        WorkloadSpec::from_table(file, t).map_err(|e| e.within(&format!("faults[{i}]")))
    }

    /// Each input of `sens` moved down then up by its change, from candidate `c` (its model
    /// `model`, its cluster `cluster` and workload `workload`): model keys scaled (a number, or
    /// a distribution whole) over the candidate's overrides, then workload keys.
    pub fn sensitivity_inputs(
        &self,
        file: &str,
        sens: &Sensitivity,
        model: &ModelSource,
        c: &Candidate,
        (cluster, workload): (&ClusterParams, &Workload),
    ) -> Result<Vec<SensitivityInput>, ConfigError> {
        let factors = [1.0 - sens.change, 1.0 + sens.change];
        let mut out = Vec::new();
        for key in &sens.model {
            for factor in factors {
                let mut overrides = c.overrides.clone();
                overrides.push(Override::Scale {
                    key: key.clone(),
                    factor,
                });
                let cluster = model.variant(&overrides).map_err(|e| {
                    ConfigError::invalid(file, "sensitivity.model", format!("{key:?}: {e}"))
                })?;
                out.push(SensitivityInput {
                    key: key.clone(),
                    factor,
                    cluster,
                    workload: workload.clone(),
                });
            }
        }
        // The workload as resolved (defaults filled in), to read each input's current value.
        let resolved = WorkloadSpec::from_table(file, self.workload.clone())?;
        for key in &sens.workload {
            for factor in factors {
                let v = resolved.scaled_value(key, factor).ok_or_else(|| {
                    ConfigError::invalid(
                        file,
                        "sensitivity.workload",
                        format!("{key:?} is not a numeric workload key"),
                    )
                })?;
                let mut t = self.workload.clone();
                t.insert(key.clone(), v);
                let spec = WorkloadSpec::from_table(file, self.run_workload(&t))?;
                out.push(SensitivityInput {
                    key: key.clone(),
                    factor,
                    cluster: cluster.clone(),
                    workload: spec.validate(cluster, file, "workload.")?,
                });
            }
        }
        Ok(out)
    }

    /// Checks the plan's own rules (`file` names it in errors).
    pub fn check(&self, file: &str) -> Result<(), ConfigError> {
        let bad = |key: &str, rule: String| ConfigError::invalid(file, key, rule);
        let pos = |key: &str, x: f64| {
            if x.is_finite() && x > 0.0 {
                Ok(())
            } else {
                Err(bad(key, format!("must be a finite number > 0 (got {x})")))
            }
        };
        pos("target_read_rate", self.target_read_rate)?;
        pos("duration_s", self.duration_s)?;
        pos("objectives.read_p99_ms", self.objectives.read_p99_ms)?;
        if let Some(w) = self.objectives.write_p99_ms {
            pos("objectives.write_p99_ms", w)?;
        }
        if !(self.warmup_s.is_finite() && self.warmup_s >= 0.0 && self.warmup_s < self.duration_s) {
            return Err(bad(
                "warmup_s",
                format!(
                    "must be >= 0 and less than duration_s ({}) (got {})",
                    self.duration_s, self.warmup_s
                ),
            ));
        }
        if !(self.precision > 0.0 && self.precision <= 0.5) {
            return Err(bad(
                "precision",
                format!("must be in (0, 0.5] (got {})", self.precision),
            ));
        }
        // A probe holds every replication's outcome at once.
        if self.replications < 2
            || self.max_replications < self.replications
            || self.max_replications > 1000
        {
            return Err(bad(
                "replications",
                format!(
                    "needs 2 <= replications <= max_replications <= 1000 (got {} and {})",
                    self.replications, self.max_replications
                ),
            ));
        }
        if self.candidates.is_empty() {
            return Err(bad("candidates", "list at least one [[candidates]]".into()));
        }
        for (i, f) in self.faults.iter().enumerate() {
            if !(f.duration_s.is_finite() && f.duration_s > self.warmup_s && f.duration_s <= 3600.0)
            {
                return Err(bad(
                    &format!("faults[{i}].duration_s"),
                    format!(
                        "must be more than warmup_s ({}) and at most 3600 (got {})",
                        self.warmup_s, f.duration_s
                    ),
                ));
            }
        }
        if !self.faults.is_empty() && self.objectives.fault_read_p99_ms.is_none() {
            return Err(bad(
                "objectives.fault_read_p99_ms",
                "[[faults]] need the p99 read latency a run through each must stay within".into(),
            ));
        }
        if let Some(x) = self.objectives.fault_read_p99_ms {
            pos("objectives.fault_read_p99_ms", x)?;
        }
        for key in ["open_rate", "total", "duration_s", "warmup_s", "warmup"] {
            if self.workload.contains_key(key) {
                return Err(bad(
                    &format!("workload.{key}"),
                    "is set by the plan (the search sets the rate; duration_s and warmup_s are top-level keys)".into(),
                ));
            }
        }
        if let Some(s) = &self.sensitivity {
            if !(s.change > 0.0 && s.change < 1.0) {
                return Err(bad(
                    "sensitivity.change",
                    format!("must be in (0, 1) (got {})", s.change),
                ));
            }
        }
        self.check_candidates(file)
    }

    /// The candidates' rules: positive costs, non-empty grid axes, `cost_per` on grid axes, and
    /// at most 1,000 clusters in all.
    fn check_candidates(&self, file: &str) -> Result<(), ConfigError> {
        let bad = |key: String, rule: &str| ConfigError::invalid(file, key, rule);
        let mut total: usize = 0;
        for (i, c) in self.candidates.iter().enumerate() {
            let n = c.grid.values().fold(1usize, |n, v| {
                n.saturating_mul(v.as_array().map_or(1, |a| a.len().max(1)))
            });
            total = total.saturating_add(n);
            if total > 1000 {
                return Err(bad(
                    format!("candidates[{i}].grid"),
                    "the candidates and their grids give more than 1,000 clusters; split the plan",
                ));
            }
            if !(c.cost.is_finite() && c.cost > 0.0) {
                return Err(ConfigError::invalid(
                    file,
                    format!("candidates[{i}].cost"),
                    format!("must be a finite number > 0 (got {})", c.cost),
                ));
            }
            for (k, v) in &c.cost_per {
                if !c.grid.contains_key(k) || super::number(v).is_none() {
                    return Err(bad(
                        format!("candidates[{i}].cost_per.\"{k}\""),
                        "must be a number for an axis of the candidate's grid",
                    ));
                }
            }
            for (k, v) in &c.grid {
                if v.as_array().is_none_or(|a| a.is_empty()) {
                    return Err(bad(
                        format!("candidates[{i}].grid.\"{k}\""),
                        "must be a non-empty list of values",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The candidates, each grid expanded (axes in file order, the last varying fastest).
    pub fn expand(&self) -> Vec<Candidate> {
        let mut out = Vec::new();
        for (i, c) in self.candidates.iter().enumerate() {
            let base = Override::sets(&c.set);
            let base_sources: Vec<String> = c
                .set
                .keys()
                .map(|k| format!("candidates[{i}].set.\"{k}\""))
                .collect();
            let mut combos: Vec<Vec<(String, toml::Value)>> = vec![Vec::new()];
            for (k, v) in &c.grid {
                let vals = v.as_array().cloned().unwrap_or_default();
                combos = combos
                    .into_iter()
                    .flat_map(|combo| {
                        vals.iter().map(move |x| {
                            let mut c = combo.clone();
                            c.push((k.clone(), x.clone()));
                            c
                        })
                    })
                    .collect();
            }
            for combo in combos {
                let mut overrides = base.clone();
                let mut sources = base_sources.clone();
                let mut cost = c.cost;
                let mut label = Vec::new();
                for (k, v) in &combo {
                    overrides.push(Override::set(k, v));
                    sources.push(format!("candidates[{i}].grid.\"{k}\""));
                    let x = super::number(v);
                    if let (Some(per), Some(x)) = (c.cost_per.get(k).and_then(super::number), x) {
                        cost += per * x;
                    }
                    label.push(format!(
                        "{}={}",
                        k.rsplit('.').next().unwrap_or(k),
                        literal_text(v)
                    ));
                }
                let name = if label.is_empty() {
                    c.name.clone()
                } else {
                    format!("{} [{}]", c.name, label.join(", "))
                };
                out.push(Candidate {
                    name,
                    model: c.model.clone(),
                    overrides,
                    sources,
                    cost,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_expands_with_linear_costs() {
        let text = r#"
target_read_rate = 1000
[objectives]
read_p99_ms = 10
[[candidates]]
name = "c"
model = "m.toml"
cost = 1.0
set = { "cluster.voters" = 3 }
grid = { "member.cores" = [8, 16], "disk.fsync_us" = [500, 5000] }
cost_per = { "member.cores" = 0.5 }
"#;
        let p: PlanFile = toml::from_str(text).unwrap();
        p.check("p.toml").unwrap();
        let c = p.expand();
        assert_eq!(c.len(), 4);
        assert_eq!(c[0].cost, 5.0);
        assert_eq!(c[3].cost, 9.0);
        let overrides: Vec<String> = c[1].overrides.iter().map(|o| o.to_string()).collect();
        assert_eq!(
            overrides,
            vec!["cluster.voters=3", "member.cores=8", "disk.fsync_us=5000"]
        );
        assert_eq!(c[1].name, "c [cores=8, fsync_us=5000]");
    }

    #[test]
    fn plan_rules_name_their_key() {
        let text = "target_read_rate = 0\n[objectives]\nread_p99_ms = 10\n[[candidates]]\nname = \"c\"\nmodel = \"m\"\ncost = 1\n";
        let p: PlanFile = toml::from_str(text).unwrap();
        let e = p.check("p.toml").unwrap_err().to_string();
        assert!(e.contains("target_read_rate"), "{e}");
        let text = text.replace(
            "target_read_rate = 0",
            "target_read_rate = 10\n[workload]\nopen_rate = 5",
        );
        let p: PlanFile = toml::from_str(&text).unwrap();
        assert!(
            p.check("p.toml")
                .unwrap_err()
                .to_string()
                .contains("workload.open_rate")
        );
    }
}
