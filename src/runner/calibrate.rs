//! `etcdsim calibrate`: fit a model's component costs to measured benchmark runs.
//!
//! Every reference row is a run of etcd's `benchmark` tool; each is simulated with the
//! candidate parameters, with the same seed for every candidate (common random numbers, so the
//! objective is a smooth function of the parameters rather than of the noise). The objective
//! is the sum over rows of the squared log errors of throughput and of mean latency (the
//! latter weighted): a log error treats a factor of 2 too high and too low alike, and no row
//! dominates because it is large. Nelder–Mead searches the box the calibration file allows,
//! from the model's current values. Only the named component costs move; a row never gets a
//! constant of its own.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::config::ConfigError;
use crate::config::benchmark_output::{self, CommandLine};
use crate::config::calibration::{
    CalibrationFile, CpuPerRequest, FreeParam, ReferenceRow, Start, fitted_model, overrides,
    parse_reference,
};
use crate::config::limits::Limits;
use crate::config::model::ModelSource;
use crate::config::variant::Override;
use crate::error::Error;
use crate::model::{self, RunOptions, StoppedBy};
use crate::report::calibration::{CpuFit, RowFit, grid_table, table};
use crate::stats::fit::{Minimum, nelder_mead};

use super::console::{emit, note, note_inline};
use super::{files, interrupt};

/// How to calibrate.
#[derive(Debug, Clone)]
pub struct Options {
    /// The calibration file (TOML): model, reference CSV and/or etcd benchmark outputs, free
    /// parameters with bounds.
    pub file: PathBuf,
    /// Write the fitted model here (default: `output/calibrate/<model file name>`). Comments
    /// and layout of the model file are kept; only the fitted values change.
    pub out: Option<PathBuf>,
    /// Only compare the model as it is with the reference; no search, nothing written.
    pub check: bool,
    /// Override the file's evaluation budget.
    pub max_evals: Option<usize>,
    /// Caps from the command line, over the file's `[limits]`.
    pub limits: Limits,
    /// How a pasted `benchmark` command line (in a file `benchmark_outputs` names) becomes a
    /// workload: the clap definitions of `etcdsim benchmark`, which live above the runner.
    pub command_line: CommandLine,
}

/// Simulates every row that can be simulated with `model` plus `overrides` (plus the row's
/// own cluster changes), rows in parallel; `fit` says which rows the fit uses.
pub fn evaluate(
    model: &ModelSource,
    overrides: &[Override],
    rows: &[ReferenceRow],
    (seed, run): (u64, RunOptions),
    fit: &(dyn Fn(&ReferenceRow) -> bool + Sync),
) -> Result<Vec<RowFit>, Error> {
    rows.par_iter()
        .filter(|row| row.unsupported.is_none())
        .map(|row| {
            let what = format!("reference row {:?} on line {}", row.label, row.line);
            let mut all = overrides.to_vec();
            all.extend(row.cluster.iter().cloned());
            let p = model.variant(&all)?;
            let w = row.workload.validate(&p, &what, "")?;
            let traced = row.runq.iter().any(Option::is_some);
            let run = RunOptions {
                schedtrace: traced.then(|| {
                    crate::engine::SimDuration::from_millis(
                        crate::config::calibration::HARNESS_SCHEDTRACE_MS,
                    )
                }),
                ..run
            };
            let r = model::run(&p, &w, seed, run);
            super::check(&r, &what)?;
            if r.stopped_by == StoppedBy::Interrupted {
                return Err(Error::Interrupted(format!(
                    "interrupted by Ctrl-C while simulating {what}; the calibration stops and writes nothing"
                )));
            }
            let op = r.primary();
            Ok(RowFit {
                label: row.label.clone(),
                measured_qps: row.qps,
                qps: op.throughput_rps,
                measured_latency_ms: row.latency_ms,
                latency_ms: op.latency_w.mean() * 1e-6,
                bottleneck: r.bottleneck.clone(),
                p99_ms: (row.p99_ms, op.latency.quantile(0.99) as f64 * 1e-6),
                cpu: cpu_per_request(&r, &row.cpu_us),
                disk_ms: row.disk_ms.beside(r.disk_ms),
                probe_ms: probe_beside(row.probe_ms, &r),
                runq: [
                    (row.runq[0], row.runq[0].and(r.member_runq.map(|q| q.local))),
                    (row.runq[1], row.runq[1].and(r.member_runq.map(|q| q.global))),
                ],
                fitted: fit(row),
            })
        })
        .collect()
}

/// The probe's measured mean latencies beside the model's (ms), where the row ran a probe.
fn probe_beside(
    measured: [Option<f64>; 2],
    r: &model::RunResult,
) -> [(Option<f64>, Option<f64>); 2] {
    let mean = |o: &model::OpResult| (o.completed > 0).then(|| o.latency_w.mean() * 1e-6);
    [
        (measured[0], measured[0].and(mean(&r.probe_l))),
        (measured[1], measured[1].and(mean(&r.probe_s))),
    ]
}

/// The model's CPU per request of the workload (µs) for the leader (member 0, which leads in
/// every harness row), the followers' mean, and the client, beside what was measured.
fn cpu_per_request(r: &model::RunResult, measured: &CpuPerRequest) -> [CpuFit; 3] {
    // The harness divides by the main workload's requests (not the background puts).
    let requests = r.primary().completed.max(1) as f64;
    let us = |s: f64| s * 1e6 / requests;
    let members: Vec<f64> = r
        .process_cpu_s
        .iter()
        .filter(|(n, _)| n.starts_with("member"))
        .map(|(_, s)| *s)
        .collect();
    let client = r
        .process_cpu_s
        .iter()
        .find(|(n, _)| n == "client")
        .map_or(0.0, |(_, s)| *s);
    let followers = if members.len() > 1 {
        members[1..].iter().sum::<f64>() / (members.len() - 1) as f64
    } else {
        0.0
    };
    [
        CpuFit {
            measured: measured.leader,
            predicted: us(members.first().copied().unwrap_or(0.0)),
        },
        CpuFit {
            measured: measured.follower,
            predicted: us(followers),
        },
        CpuFit {
            measured: measured.client,
            predicted: us(client),
        },
    ]
}

/// CPU per request below this many µs is within the measurement's noise: /proc counts CPU in
/// 10 ms ticks, and a member does work of its own that no request causes (raft's ticks and
/// heartbeats, Go's sysmon, GC), which the model leaves out. The CPU errors compare
/// `x + CPU_FLOOR_US`, so a follower measured at 2 µs and predicted at 0 costs little.
pub const CPU_FLOOR_US: f64 = 10.0;

/// The objective over the rows the fit uses: squared log errors of throughput, plus
/// `latency_weight` × those of latency, plus `cpu_weight` × those of each measured CPU per
/// request (above [`CPU_FLOOR_US`]), plus `disk_weight` × those of each measured disk histogram
/// mean (etcd's WAL fdatasync and backend commit, on rows that write).
pub fn objective(fits: &[RowFit], w: Weights) -> f64 {
    fits.iter()
        .filter(|f| f.fitted)
        .map(|f| {
            let q = (f.qps.max(1e-9) / f.measured_qps).ln();
            let l = (f.latency_ms.max(1e-9) / f.measured_latency_ms).ln();
            let c: f64 = f
                .cpu
                .iter()
                .filter_map(|c| {
                    c.measured
                        .map(|m| ((c.predicted + CPU_FLOOR_US) / (m + CPU_FLOOR_US)).ln())
                })
                .map(|e| e * e)
                .sum();
            let d: f64 = f
                .disk_ms
                .iter()
                .filter_map(|&(m, p)| match (m, p) {
                    (Some(m), Some(p)) if m > 0.0 => Some((p.max(1e-9) / m).ln().powi(2)),
                    _ => None,
                })
                .sum();
            q * q + w.latency * l * l + w.cpu * c + w.disk * d
        })
        .sum()
}

/// The objective's weights, against the throughput errors'.
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    /// Of the mean latency's errors.
    pub latency: f64,
    /// Of each measured CPU per request's.
    pub cpu: f64,
    /// Of each measured disk histogram mean's.
    pub disk: f64,
}

/// The inputs of a calibration, loaded and checked.
pub struct Loaded {
    /// The calibration file.
    pub cal: CalibrationFile,
    /// The model's path, or the built-in model's label.
    pub model_file: String,
    /// The model file's name, for the fitted model's default place.
    pub model_file_name: String,
    /// The model, parsed.
    pub model: ModelSource,
    /// The reference rows.
    pub rows: Vec<ReferenceRow>,
    /// The free parameters with their current values.
    pub params: Vec<(FreeParam, Start)>,
    /// Each run's caps.
    pub run: RunOptions,
}

/// Loads a calibration file with its model and reference rows; `command_line` parses the
/// command lines of its benchmark outputs.
pub fn load(path: &Path, command_line: CommandLine) -> Result<Loaded, Error> {
    load_capped(path, &Limits::default(), command_line)
}

/// [`load`], with the command line's caps over the file's `[limits]`.
pub fn load_capped(path: &Path, cli: &Limits, command_line: CommandLine) -> Result<Loaded, Error> {
    let file = path.display().to_string();
    let text = files::read_as(path, "the calibration file")?;
    let cal = crate::config::calibration::parse(&file, &text)?;
    cal.check_rows(&file)?;
    let run = cal.limits.under(cli, &file)?;
    let free = cal.free_params(&file)?;
    let model_text = files::ModelText::named(path, "model", cal.model.as_deref())?;
    let rows = reference_rows(path, &cal, command_line)?;
    let model = model_text.source()?;
    let params = free
        .into_iter()
        .map(|fp| {
            let start = fp.start(&model).ok_or_else(|| {
                ConfigError::invalid(
                    &file,
                    format!("params.\"{}\"", fp.key),
                    format!(
                        "{} has no number at this key (name a number, or a distribution's mean)",
                        model_text.label
                    ),
                )
            })?;
            Ok((fp, start))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Loaded {
        cal,
        model_file: model_text.label,
        model_file_name: model_text.file_name,
        model,
        rows,
        params,
        run,
    })
}

/// The rows of the reference CSV, then one per benchmark output file, in the file's order.
fn reference_rows(
    path: &Path,
    cal: &CalibrationFile,
    command_line: CommandLine,
) -> Result<Vec<ReferenceRow>, Error> {
    let mut rows = Vec::new();
    if let Some(reference) = &cal.reference {
        let (ref_path, ref_text) = files::read_named(path, "reference", reference)?;
        rows = parse_reference(&ref_path.display().to_string(), &ref_text)?;
    }
    for named in &cal.benchmark_outputs {
        let (out_path, out_text) = files::read_named(path, "benchmark_outputs", named)?;
        let row = benchmark_output::reference_row(
            &out_path.display().to_string(),
            &out_text,
            named,
            command_line,
        )?;
        if rows.iter().any(|r| r.label == row.label) {
            return Err(ConfigError::invalid(
                &path.display().to_string(),
                "benchmark_outputs",
                format!("{named:?} is named twice (each file is one reference row, labelled by its path)"),
            )
            .into());
        }
        rows.push(row);
    }
    Ok(rows)
}

impl Loaded {
    /// Whether the fit uses `row`: it is named in `fit` (or `fit` is empty) and not excluded.
    pub fn fits(&self, row: &ReferenceRow) -> bool {
        (self.cal.fit.is_empty() || self.cal.fit.contains(&row.label))
            && !self.cal.exclude.contains(&row.label)
    }

    /// Every row simulated with `overrides` on the model.
    pub fn evaluate(&self, overrides: &[Override]) -> Result<Vec<RowFit>, Error> {
        evaluate(
            &self.model,
            overrides,
            &self.rows,
            (self.cal.seed, self.run),
            &|r| self.fits(r),
        )
    }

    /// Only the rows the fit uses, simulated with `overrides` (what the search needs).
    fn evaluate_fitted(&self, overrides: &[Override]) -> Result<Vec<RowFit>, Error> {
        let rows: Vec<ReferenceRow> = self.rows.iter().filter(|r| self.fits(r)).cloned().collect();
        evaluate(
            &self.model,
            overrides,
            &rows,
            (self.cal.seed, self.run),
            &|_| true,
        )
    }

    /// The objective at `fits`.
    pub fn objective(&self, fits: &[RowFit]) -> f64 {
        objective(
            fits,
            Weights {
                latency: self.cal.latency_weight,
                cpu: self.cal.cpu_weight,
                disk: self.cal.disk_weight,
            },
        )
    }

    /// The table for these rows: the published layout, or the grid's with CPU and the fit
    /// marks when the reference is the harness's.
    pub fn table(&self, fits: &[RowFit]) -> String {
        if self.rows.iter().any(|r| !r.cluster.is_empty()) {
            grid_table(fits)
        } else {
            table(fits)
        }
    }
}

/// Checks that every row `exclude` and `fit` name exists.
fn check_names(l: &Loaded, file: &str) -> Result<(), Error> {
    for (key, names) in [("exclude", &l.cal.exclude), ("fit", &l.cal.fit)] {
        for x in names {
            if !l.rows.iter().any(|r| &r.label == x) {
                let labels: Vec<&str> = l.rows.iter().map(|r| r.label.as_str()).collect();
                return Err(ConfigError::invalid(
                    file,
                    key,
                    format!("{x:?} names no reference row (rows: {labels:?})"),
                )
                .into());
            }
        }
    }
    Ok(())
}

/// `etcdsim calibrate`, its tables on `out`. Ctrl-C stops it, writing nothing.
pub fn calibrate(a: &Options, out: &mut dyn Write) -> Result<(), Error> {
    interrupt::install("the fit stops, and nothing is written");
    let mut l = load_capped(&a.file, &a.limits, a.command_line)?;
    l.run.stop = Some(interrupt::flag());
    let model_file = l.model_file.clone();
    check_names(&l, &a.file.display().to_string())?;
    // The fitted model's place is checked before the search.
    let target = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output/calibrate").join(&l.model_file_name));
    let fitted_file = match a.check {
        true => None,
        false => Some(files::OutputFile::create(
            &target,
            "the fitted model (--out)",
        )?),
    };
    let t0 = Instant::now();
    let before = l.evaluate(&[])?;
    let f_before = l.objective(&before);
    let table_before = l.table(&before);
    emit(
        out,
        &format!("The model as it is ({model_file}), objective {f_before:.4}:\n\n{table_before}"),
    )?;
    let Some(fitted_file) = fitted_file else {
        return Ok(());
    };
    let max_evals = a.max_evals.unwrap_or(l.cal.max_evals).max(1);
    let m = search(&l, max_evals, t0)?;
    let fitted = values_at(&l, &m.x);
    let after = l.evaluate(&overrides(&fitted))?;
    let mut text = format!(
        "\nFitted in {} evaluations ({:.0} s), objective {:.4} (was {f_before:.4}):\n\n{}\nParameters:\n",
        m.evaluations,
        t0.elapsed().as_secs_f64(),
        m.f,
        l.table(&after)
    );
    for ((fp, s), &u) in l.params.iter().zip(&m.x) {
        let v = fp.bounds.at(u);
        let edge = if u <= 1e-3 || u >= 1.0 - 1e-3 {
            "  (at its bound: the data push it further; is a mechanism missing?)"
        } else {
            ""
        };
        text.push_str(&format!(
            "  {:<36} {:>10.3} -> {:>10.3}{edge}\n",
            fp.key, s.value, v
        ));
    }
    emit(out, &text)?;
    let model_text = fitted_model(&l.model, &fitted)?;
    // The written file must load and give what was printed.
    ModelSource::parse(&target.display().to_string(), &model_text)?.params()?;
    fitted_file.commit(model_text.as_bytes())?;
    note(format!(
        "etcdsim: wrote the fitted model to {}",
        target.display()
    ));
    Ok(())
}

/// The model keys and numbers at the point `u` of the unit cube (one coordinate per free
/// parameter, within its bounds).
fn values_at(l: &Loaded, u: &[f64]) -> Vec<(String, f64)> {
    l.params
        .iter()
        .zip(u)
        .flat_map(|((fp, start), &ui)| fp.values(*start, fp.bounds.at(ui)))
        .collect()
}

/// Nelder–Mead over the free parameters from where the model stands, at most `max_evals`
/// evaluations of every reference row, with progress on stderr.
fn search(l: &Loaded, max_evals: usize, t0: Instant) -> Result<Minimum, Error> {
    let start: Vec<f64> = l
        .params
        .iter()
        .map(|(fp, s)| fp.bounds.position(s.value))
        .collect();
    let mut failure: Option<Error> = None;
    let mut evals = 0usize;
    let mut best = f64::INFINITY;
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut f = |u: &[f64]| -> f64 {
        // After a failure (Ctrl-C among them) the search only runs out its budget, simulating
        // nothing more: the failure is what it returns.
        if failure.is_some() {
            return f64::INFINITY;
        }
        evals += 1;
        match l.evaluate_fitted(&overrides(&values_at(l, u))) {
            Ok(fits) => {
                let v = l.objective(&fits);
                best = best.min(v);
                let line = format!(
                    "etcdsim: calibrating: evaluation {evals}/{max_evals}, objective {v:.4}, best {best:.4}, {:.0} s",
                    t0.elapsed().as_secs_f64()
                );
                if tty {
                    note_inline(format!("\r{line}   "));
                } else if evals % 10 == 0 {
                    note(line);
                }
                v
            }
            Err(e) => {
                failure.get_or_insert(e);
                f64::INFINITY
            }
        }
    };
    let m = nelder_mead(&mut f, &start, 0.15, 1e-4, max_evals);
    if tty {
        note("");
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(disk_ms: [(Option<f64>, Option<f64>); 2]) -> RowFit {
        RowFit {
            label: "put".into(),
            measured_qps: 100.0,
            qps: 100.0,
            measured_latency_ms: 1.0,
            latency_ms: 1.0,
            bottleneck: String::new(),
            p99_ms: (None, 1.0),
            cpu: Default::default(),
            disk_ms,
            probe_ms: [(None, None); 2],
            runq: [(None, None); 2],
            fitted: true,
        }
    }

    /// The disk histograms weigh in only where both sides have them, as squared log errors.
    #[test]
    fn the_objective_weighs_the_disk_histograms_where_measured() {
        let w = |disk| Weights {
            latency: 1.0,
            cpu: 0.5,
            disk,
        };
        let twice = row([(Some(1.0), Some(2.0)), (None, Some(9.0))]);
        let exact = (2.0f64).ln().powi(2);
        assert!((objective(std::slice::from_ref(&twice), w(0.5)) - 0.5 * exact).abs() < 1e-12);
        assert_eq!(objective(&[twice], w(0.0)), 0.0);
        let unmeasured = row([(None, Some(2.0)), (None, None)]);
        assert_eq!(objective(&[unmeasured], w(1.0)), 0.0);
    }
}
