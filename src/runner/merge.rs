//! `etcdsim merge EXPERIMENT SHARD...`: joins the outputs of `etcdsim run --shard K/N` into the
//! files one machine would have written. Nothing is trusted: each shard says which slice it ran
//! (its `run.toml`), every row is verified against the experiment (`rows::verified`: the
//! configuration hash, types, range, seeds, the shard's slice, duplicates), and the output is
//! written only when every run of every point is there.

use std::path::{Path, PathBuf};

use crate::config::experiment::Limits;
use crate::error::Error;
use crate::report::experiment::RunRow;

use super::console::note;
use super::files;
use super::output_dir::OutputDir;
use super::outputs::finish;
use super::rows::{self, Seen};
use super::sweep::{self, Sweep, Written, key};

/// `etcdsim merge`: joins the shards' folders and says what it wrote.
pub fn merge(
    experiment: &Path,
    shards: &[PathBuf],
    out: Option<&Path>,
    force: bool,
) -> Result<(), Error> {
    let w = merge_shards(experiment, shards, out, force)?;
    note(format!(
        "etcdsim: merged {} runs of {} points into {}",
        w.runs,
        w.points,
        w.dir.display()
    ));
    Ok(())
}

/// The slice a shard folder says it ran, from its `run.toml` (`shard = "K/N"` among the keys
/// before its first table; read as lines, since a seed above 2^63 is not a TOML integer).
fn slice_of(dir: &Path, role: &str) -> Result<Option<(usize, usize)>, Error> {
    let path = dir.join("run.toml");
    let text = files::read_as(&path, role)?;
    let Some(s) = text
        .lines()
        .take_while(|l| !l.starts_with('['))
        .find_map(|l| l.strip_prefix("shard = "))
    else {
        return Ok(None);
    };
    let parsed = s
        .trim_matches('"')
        .split_once('/')
        .and_then(|(k, n)| Some((k.parse().ok()?, n.parse().ok()?)))
        .filter(|&(k, n): &(usize, usize)| k >= 1 && k <= n);
    parsed.map(Some).ok_or_else(|| {
        Error::Usage(format!(
            "{role} {}: shard = {s} is not \"K/N\" with 1 <= K <= N",
            path.display()
        ))
    })
}

/// Joins shard folders into the outputs of the whole grid.
pub fn merge_shards(
    experiment: &Path,
    shards: &[PathBuf],
    out: Option<&Path>,
    force: bool,
) -> Result<Written, Error> {
    let p = sweep::prepare(experiment, &Limits::default())?;
    let mut out = OutputDir::open(&sweep::output_dir(&p.name, out, None), force)?;
    let mut rows = Vec::new();
    let mut seen = Seen::new();
    let mut slices: Vec<(usize, usize, String)> = Vec::new();
    for (i, dir) in shards.iter().enumerate() {
        let first_role = format!("shard folder {} of {}", i + 1, shards.len());
        let slice = slice_of(dir, &first_role)?;
        let role = match slice {
            Some((k, n)) => format!("shard {k} of {n} ({})", dir.display()),
            None => format!("{first_role} ({})", dir.display()),
        };
        if let Some((k, n)) = slice {
            check_slice(&slices, k, n, &role)?;
            slices.push((k, n, role.clone()));
        }
        let path = dir.join("results.csv");
        let text = files::read_as(&path, &role)?;
        let in_slice = |point: usize| slice.is_none_or(|(k, n)| point % n == k - 1);
        let file_role = format!("{role}: results.csv");
        rows.extend(rows::verified(
            &p, &text, &file_role, false, &in_slice, &mut seen,
        )?);
    }
    rows.sort_by_key(key);
    check_complete(&p, &rows, &slices)?;
    finish(&mut out, &p, &rows, None, None)?;
    let dir = out.path().to_path_buf();
    out.publish(&[])?;
    Ok(Written {
        dir,
        points: p.jobs.len(),
        runs: rows.len(),
        simulated: 0,
        requests: 0,
        events: 0,
    })
}

/// A shard K of N must share its N with the others and come once.
fn check_slice(
    slices: &[(usize, usize, String)],
    k: usize,
    n: usize,
    role: &str,
) -> Result<(), Error> {
    for (k2, n2, other) in slices {
        if *n2 != n {
            return Err(Error::Usage(format!(
                "{role}: the grid was split into {n} shards here but into {n2} for {other}; merge the shards of one split"
            )));
        }
        if *k2 == k {
            return Err(Error::Usage(format!(
                "{role}: given twice (also as {other})"
            )));
        }
    }
    Ok(())
}

/// Every run of every point must be there; the error says how many are missing and, when the
/// shards said their slices, which shards.
fn check_complete(
    p: &Sweep,
    rows: &[RunRow],
    slices: &[(usize, usize, String)],
) -> Result<(), Error> {
    let want = p.jobs.len() * p.reps;
    if rows.len() == want {
        return Ok(());
    }
    let n = slices.first().map_or(0, |s| s.1);
    let absent: Vec<String> = (1..=n)
        .filter(|k| !slices.iter().any(|s| s.0 == *k))
        .map(|k| format!("shard {k} of {n}"))
        .collect();
    let missing_shards = match absent.is_empty() {
        true => String::new(),
        false => format!("; missing: {}", absent.join(", ")),
    };
    Err(Error::Usage(format!(
        "the shards hold {} of {want} runs ({} missing){missing_shards}: merge needs every shard",
        rows.len(),
        want - rows.len()
    )))
}
