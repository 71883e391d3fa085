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

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::config::ConfigError;
use crate::config::calibration::{CalibrationFile, FreeParam, ReferenceRow, parse_reference};
use crate::config::model::model_from_str;
use crate::error::Error;
use crate::model::{self, RunOptions};
use crate::stats::fit::nelder_mead;

use super::files;

/// How to calibrate.
#[derive(Debug, Clone)]
pub struct Options {
    /// The calibration file (TOML): model, reference CSV, free parameters with bounds.
    pub file: PathBuf,
    /// Write the fitted model here (default: `output/calibrate/<model file name>`). Comments
    /// and layout of the model file are kept; only the fitted values change.
    pub out: Option<PathBuf>,
    /// Only compare the model as it is with the reference; no search, nothing written.
    pub check: bool,
    /// Override the file's evaluation budget.
    pub max_evals: Option<usize>,
}

/// One reference row measured against its prediction.
#[derive(Debug, Clone)]
pub struct RowFit {
    /// The reference row.
    pub row: ReferenceRow,
    /// Predicted requests per second.
    pub qps: f64,
    /// Predicted mean latency in ms.
    pub latency_ms: f64,
    /// The predicted bottleneck.
    pub bottleneck: String,
}

impl RowFit {
    /// Relative throughput error (predicted / measured − 1).
    pub fn qps_error(&self) -> f64 {
        self.qps / self.row.qps - 1.0
    }
    /// Relative mean-latency error.
    pub fn latency_error(&self) -> f64 {
        self.latency_ms / self.row.latency_ms - 1.0
    }
}

/// Simulates every row with the model `text` (from `file`) plus `overrides`, rows in parallel.
pub fn evaluate(
    file: &str,
    text: &str,
    overrides: &[String],
    rows: &[ReferenceRow],
    seed: u64,
) -> Result<Vec<RowFit>, Error> {
    let p = model_from_str(file, text, overrides)?;
    rows.par_iter()
        .map(|row| {
            let what = format!("reference row on line {}", row.line);
            let w = row.workload.validate(&p, &what, "")?;
            let r = model::run(&p, &w, seed, RunOptions::default());
            super::check(&r, &what)?;
            let op = r.primary();
            Ok(RowFit {
                row: row.clone(),
                qps: op.throughput_rps,
                latency_ms: op.latency_w.mean() * 1e-6,
                bottleneck: r.bottleneck.clone(),
            })
        })
        .collect()
}

/// The objective: squared log errors of throughput plus `latency_weight` × those of latency,
/// over the rows not in `exclude`.
pub fn objective(fits: &[RowFit], latency_weight: f64, exclude: &[String]) -> f64 {
    fits.iter()
        .filter(|f| !exclude.contains(&f.row.label))
        .map(|f| {
            let q = (f.qps.max(1e-9) / f.row.qps).ln();
            let l = (f.latency_ms.max(1e-9) / f.row.latency_ms).ln();
            q * q + latency_weight * l * l
        })
        .sum()
}

/// A model value found at a dotted key: a number, or the mean of a distribution whose p99
/// (if any) scales with it.
fn lookup(table: &toml::Table, key: &str) -> Option<(f64, Option<f64>)> {
    let (parent, last) = crate::config::parent_of(table, key)?;
    let p99 = (last == "mean")
        .then(|| parent.get("p99").and_then(crate::config::number))
        .flatten();
    Some((crate::config::number(parent.get(last)?)?, p99))
}

/// The `--set` overrides that give parameter `fp` the value `v` (its p99 scaled alongside).
fn overrides_for(fp: &FreeParam, start: (f64, Option<f64>), v: f64) -> Vec<String> {
    let mut o = vec![format!("{}={v}", fp.key)];
    if let Some(p99) = start.1 {
        let parent = fp.key.trim_end_matches(".mean");
        o.push(format!("{parent}.p99={}", p99 * v / start.0.max(1e-12)));
    }
    o
}

/// Writes `text` with `overrides` set in place (comments kept).
fn edited_model(text: &str, overrides: &[String]) -> Result<String, Error> {
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| Error::Internal(format!("the model no longer parses: {e}")))?;
    for o in overrides {
        let (key, value) = o.split_once('=').unwrap_or((o, ""));
        let v: f64 = value.parse().unwrap_or(0.0);
        // Round to 6 significant digits: enough that the written model predicts what was
        // printed (some rows move by percents when a cost moves by a part in a thousand).
        let digits = (5 - v.abs().max(1e-12).log10().floor() as i32).max(0);
        let scale = 10f64.powi(digits);
        let v = (v * scale).round() / scale;
        let parts: Vec<&str> = key.split('.').collect();
        let mut item: &mut toml_edit::Item = doc.as_item_mut();
        for p in &parts {
            item = &mut item[*p];
        }
        let decor = item.as_value().map(|x| x.decor().clone());
        let mut nv = toml_edit::Value::from(v);
        if let Some(d) = decor {
            *nv.decor_mut() = d;
        }
        *item = toml_edit::Item::Value(nv);
    }
    Ok(doc.to_string())
}

/// The table of rows measured against predicted.
pub fn table(fits: &[RowFit]) -> String {
    let mut o = String::from(
        "| reference row | measured req/s | predicted req/s | error | measured ms | predicted ms | error | bottleneck |\n|---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for f in fits {
        o.push_str(&format!(
            "| {} | {:.0} | {:.0} | {:+.1}% | {:.2} | {:.2} | {:+.1}% | {} |\n",
            f.row.label,
            f.row.qps,
            f.qps,
            f.qps_error() * 100.0,
            f.row.latency_ms,
            f.latency_ms,
            f.latency_error() * 100.0,
            f.bottleneck
        ));
    }
    o
}

/// The inputs of a calibration, loaded and checked.
pub struct Loaded {
    /// The calibration file.
    pub cal: CalibrationFile,
    /// The model's path.
    pub model_path: PathBuf,
    /// The model's text.
    pub model_text: String,
    /// The reference rows.
    pub rows: Vec<ReferenceRow>,
    /// The free parameters with their current values.
    pub params: Vec<(FreeParam, (f64, Option<f64>))>,
}

/// Loads a calibration file with its model and reference.
pub fn load(path: &Path) -> Result<Loaded, Error> {
    let file = path.display().to_string();
    let text = files::read(path)?;
    let cal = crate::config::calibration::parse(&file, &text)?;
    let free = cal.free_params(&file)?;
    let (model_path, model_text) = files::read_named(path, "model", &cal.model)?;
    let (ref_path, ref_text) = files::read_named(path, "reference", &cal.reference)?;
    let rows = parse_reference(&ref_path.display().to_string(), &ref_text)?;
    let table: toml::Table =
        crate::config::parse_with_overrides(&model_path.display().to_string(), &model_text, &[])?;
    let params = free
        .into_iter()
        .map(|fp| {
            let start = lookup(&table, &fp.key).ok_or_else(|| {
                ConfigError::invalid(
                    &file,
                    format!("params.\"{}\"", fp.key),
                    format!(
                        "{} has no number at this key (name a number, or a distribution's mean)",
                        model_path.display()
                    ),
                )
            })?;
            Ok((fp, start))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Loaded {
        cal,
        model_path,
        model_text,
        rows,
        params,
    })
}

/// `etcdsim calibrate`.
pub fn calibrate(a: &Options) -> Result<(), Error> {
    let l = load(&a.file)?;
    let model_file = l.model_path.display().to_string();
    let seed = l.cal.seed;
    for x in &l.cal.exclude {
        if !l.rows.iter().any(|r| &r.label == x) {
            let labels: Vec<&str> = l.rows.iter().map(|r| r.label.as_str()).collect();
            return Err(ConfigError::invalid(
                &a.file.display().to_string(),
                "exclude",
                format!("{x:?} names no reference row (rows: {labels:?})"),
            )
            .into());
        }
    }
    let t0 = Instant::now();
    let before = evaluate(&model_file, &l.model_text, &[], &l.rows, seed)?;
    let f_before = objective(&before, l.cal.latency_weight, &l.cal.exclude);
    println!("The model as it is ({model_file}), objective {f_before:.4}:\n");
    print!("{}", table(&before));
    if a.check {
        return Ok(());
    }
    let to_overrides = |u: &[f64]| -> Vec<String> {
        l.params
            .iter()
            .zip(u)
            .flat_map(|((fp, start), &ui)| overrides_for(fp, *start, fp.bounds.at(ui)))
            .collect()
    };
    let start: Vec<f64> = l
        .params
        .iter()
        .map(|(fp, s)| fp.bounds.position(s.0))
        .collect();
    let max_evals = a.max_evals.unwrap_or(l.cal.max_evals).max(1);
    let mut failure: Option<Error> = None;
    let mut evals = 0usize;
    let mut best = f64::INFINITY;
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut f = |u: &[f64]| -> f64 {
        evals += 1;
        match evaluate(&model_file, &l.model_text, &to_overrides(u), &l.rows, seed) {
            Ok(fits) => {
                let v = objective(&fits, l.cal.latency_weight, &l.cal.exclude);
                best = best.min(v);
                let line = format!(
                    "etcdsim: calibrating: evaluation {evals}/{max_evals}, objective {v:.4}, best {best:.4}, {:.0} s",
                    t0.elapsed().as_secs_f64()
                );
                if tty {
                    eprint!("\r{line}   ");
                } else if evals % 10 == 0 {
                    eprintln!("{line}");
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
        eprintln!();
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let overrides = to_overrides(&m.x);
    let after = evaluate(&model_file, &l.model_text, &overrides, &l.rows, seed)?;
    println!(
        "\nFitted in {} evaluations ({:.0} s), objective {:.4} (was {f_before:.4}):\n",
        m.evaluations,
        t0.elapsed().as_secs_f64(),
        m.f
    );
    print!("{}", table(&after));
    println!("\nParameters:");
    for ((fp, s), &u) in l.params.iter().zip(&m.x) {
        let v = fp.bounds.at(u);
        let edge = if u <= 1e-3 || u >= 1.0 - 1e-3 {
            "  (at its bound: the data push it further; is a mechanism missing?)"
        } else {
            ""
        };
        println!("  {:<36} {:>10.3} -> {:>10.3}{edge}", fp.key, s.0, v);
    }
    let out = a.out.clone().unwrap_or_else(|| {
        Path::new("output/calibrate").join(l.model_path.file_name().unwrap_or_default())
    });
    files::create_parent(&out)?;
    let text = edited_model(&l.model_text, &overrides)?;
    // The written file must load and give what was printed.
    model_from_str(&out.display().to_string(), &text, &[])?;
    files::write_atomic(&out, text.as_bytes())?;
    eprintln!("etcdsim: wrote the fitted model to {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_and_edits_keep_a_distribution_shape_and_the_comments() {
        let text = "# top\n[cpu]\n# the cost\na_us = { kind = \"lognormal\", mean = 20, p99 = 60 }\nb_us = 3 # inline\n";
        let t: toml::Table = toml::from_str(text).unwrap();
        let fp = |k: &str| FreeParam {
            key: k.into(),
            bounds: crate::config::calibration::Bounds {
                min: 1.0,
                max: 100.0,
                log: false,
            },
        };
        let a = lookup(&t, "cpu.a_us.mean").unwrap();
        assert_eq!(a, (20.0, Some(60.0)));
        let mut o = overrides_for(&fp("cpu.a_us.mean"), a, 30.0);
        assert_eq!(o, vec!["cpu.a_us.mean=30", "cpu.a_us.p99=90"]);
        o.extend(overrides_for(
            &fp("cpu.b_us"),
            lookup(&t, "cpu.b_us").unwrap(),
            4.25,
        ));
        let edited = edited_model(text, &o).unwrap();
        assert!(
            edited.contains("# the cost") && edited.contains("# inline"),
            "{edited}"
        );
        let t2: toml::Table = toml::from_str(&edited).unwrap();
        assert_eq!(lookup(&t2, "cpu.a_us.mean").unwrap(), (30.0, Some(90.0)));
        assert_eq!(lookup(&t2, "cpu.b_us").unwrap(), (4.25, None));
        assert!(lookup(&t, "cpu.nope").is_none());
    }
}
