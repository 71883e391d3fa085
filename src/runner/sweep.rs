//! A sweep: an experiment file and its model read once, every point of its grid validated
//! under its caps, its seeds and its output folder (`outputs.rs` writes what it produces).

use std::path::{Path, PathBuf};

use crate::config::experiment::{ExperimentFile, Job, Limits, describe};
use crate::config::limits::check_fits;
use crate::engine::rng::mix_seed;
use crate::error::Error;
use crate::model::{self, RunOptions};
use crate::report::experiment::RunRow;

use super::files;
use super::output_dir::component;

/// What a finished experiment wrote.
#[derive(Debug)]
pub struct Written {
    /// The output folder.
    pub dir: PathBuf,
    /// Points selected (the whole grid, or a shard of it).
    pub points: usize,
    /// Runs in the output.
    pub runs: usize,
    /// Runs simulated by this call (the rest came from the journal).
    pub simulated: usize,
    /// Requests finished (completed or failed, of every kind) in the runs simulated now.
    pub requests: u64,
    /// Events processed in the runs simulated now.
    pub events: u64,
}

/// Everything known before running: the validated points and the shape of the rows.
#[derive(Debug)]
pub struct Sweep {
    /// The experiment's name (its `name`, or the file's stem).
    pub name: String,
    /// The experiment file, parsed.
    pub e: ExperimentFile,
    /// Where its model came from: its path, or the built-in model's label.
    pub model_file: String,
    /// The model's whole text (into `run.toml`).
    pub model_toml: String,
    /// Every point, validated.
    pub jobs: Vec<Job>,
    /// A row with this experiment's axes and resources: the header, and how rows read back.
    pub template: RunRow,
    /// Replications per point.
    pub reps: usize,
    /// The hash of the experiment's and the model's text, in every row.
    pub config_hash: u64,
    /// Each run's caps.
    pub opts: RunOptions,
}

impl Sweep {
    /// The seed of point `point`'s replication `rep`.
    /// Point `i`'s value on each of the sweep's axes, in the template's order, as written
    /// (empty where the point does not set the key).
    pub fn axes_of(&self, i: usize) -> Vec<(String, String)> {
        let values = &self.jobs[i].values;
        self.template
            .axes
            .iter()
            .map(|(k, _)| {
                let v = values.iter().find(|(vk, _)| vk == k);
                (
                    k.clone(),
                    v.map(|(_, v)| crate::config::experiment::plain(v))
                        .unwrap_or_default(),
                )
            })
            .collect()
    }

    pub fn seed(&self, point: usize, rep: usize) -> u64 {
        mix_seed(&[self.e.seed, point as u64, rep as u64])
    }
}

fn fnv(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3))
}

/// An experiment as read: the file parsed, its name, its model's text, and the hash of both
/// texts.
struct Read {
    e: ExperimentFile,
    name: String,
    model_text: files::ModelText,
    config_hash: u64,
}

/// Reads an experiment file and its model; or a `run.toml`, which holds both (the model's
/// text, its name and the hash of the original files), so that running it repeats the run.
fn read(path: &Path, file: &str) -> Result<Read, Error> {
    let exp_text = files::read_as(path, "the experiment file")?;
    if crate::config::experiment::is_run_toml(&exp_text) {
        let (r, config_hash) = crate::config::experiment::parse_run_toml(file, &exp_text)?;
        let model_text = files::ModelText::recorded(&r.model_file, r.model_toml);
        return Ok(Read {
            e: r.experiment_file,
            name: r.experiment,
            model_text,
            config_hash,
        });
    }
    let e = crate::config::experiment::parse(file, &exp_text)?;
    let name = e.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "experiment".into())
    });
    let model_text = files::ModelText::named(path, "model", e.model.as_deref())?;
    let config_hash = fnv(
        fnv(0xCBF2_9CE4_8422_2325, exp_text.as_bytes()),
        model_text.text.as_bytes(),
    );
    Ok(Read {
        e,
        name,
        model_text,
        config_hash,
    })
}

/// Reads the experiment and its model (each once) and validates every point under the caps
/// (`cli`'s, over the file's `[limits]`). `path` may also be a `run.toml` an earlier run
/// wrote: the same experiment runs again on the model it recorded.
pub fn prepare(path: &Path, cli: &Limits) -> Result<Sweep, Error> {
    let file = path.display().to_string();
    let Read {
        e,
        name,
        model_text,
        config_hash,
    } = read(path, &file)?;
    let model = model_text.source()?;
    let opts = e.limits.under(cli, &file)?;
    let jobs = e.jobs(&file, &model)?;
    for (i, j) in jobs.iter().enumerate() {
        let at = format!("{file} (point {i}: {})", describe(&j.values));
        check_fits(
            &j.workload,
            &opts,
            &at,
            "workload.clients",
            "limits.max_in_flight",
        )?;
    }
    e.check_chart(&file, &jobs)?;
    // Every key any point sets, in the order they first appear: explicit points may set keys
    // the grid's do not (a point's absent key is an empty cell).
    let mut axes: Vec<String> = Vec::new();
    for j in &jobs {
        for (k, _) in &j.values {
            if !axes.contains(k) {
                axes.push(k.clone());
            }
        }
    }
    let mut resources: Vec<String> = Vec::new();
    for j in &jobs {
        for n in model::resource_names(&j.cluster) {
            if !resources.contains(&n) {
                resources.push(n);
            }
        }
    }
    let reps = e.replications as usize;
    Ok(Sweep {
        name,
        e,
        model_toml: model_text.text,
        model_file: model_text.label,
        jobs,
        template: RunRow::template(&axes, &resources),
        reps,
        config_hash,
        opts,
    })
}

/// Loads an experiment and validates every point without running any; returns the number of
/// points.
pub fn validate_experiment(path: &Path) -> Result<usize, Error> {
    Ok(prepare(path, &Limits::default())?.jobs.len())
}

/// Where the outputs go: `--out`, or `output/<name>/` (a folder per shard).
pub fn output_dir(name: &str, out: Option<&Path>, shard: Option<(usize, usize)>) -> PathBuf {
    out.map(Path::to_path_buf).unwrap_or_else(|| {
        let base = PathBuf::from("output").join(component(name));
        match shard {
            Some((k, n)) => base.join(format!("shard-{k}-of-{n}")),
            None => base,
        }
    })
}

/// (point, replication)
pub(super) fn key(row: &RunRow) -> (usize, usize) {
    (row.point, row.replication)
}
