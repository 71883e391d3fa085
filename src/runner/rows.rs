//! Rows read back, from a journal (`--resume`) or from shards (`merge`), and verified against
//! the sweep before any is kept: the header must be this experiment's, every cell of its type,
//! every row of this experiment, of these very files (its `config_hash`), of a point and
//! replication the grid has, with the seed and axis values of that point, of the shard it
//! came from, and never twice. Each refusal names the file's role, the line and the rule.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use crate::error::Error;
use crate::report::experiment::RunRow;
use crate::report::table;

use super::files::{self, create_new, os_error};
use super::sweep::{Sweep, key};

/// Where each (point, replication) was first seen ("shard 1 of 3 (…), line 4").
pub type Seen = BTreeMap<(usize, usize), String>;

/// The journal's first line: which experiment and model files its rows came from.
fn journal_mark(p: &Sweep) -> String {
    format!("# etcdsim journal config={:016x}", p.config_hash)
}

/// The rows of `text` (from `role`, such as "shard 2 of 3 (s2/results.csv)"), each verified;
/// `in_shard` says which points the file may hold; `seen` catches duplicates across files.
/// With `torn_tail`, a last line cut short (a killed run) is dropped.
pub fn verified(
    p: &Sweep,
    text: &str,
    role: &str,
    torn_tail: bool,
    in_shard: &dyn Fn(usize) -> bool,
    seen: &mut Seen,
) -> Result<Vec<RunRow>, Error> {
    let read = table::read_csv(&p.template, text, torn_tail)
        .map_err(|e| Error::Usage(format!("{role}: {e}")))?;
    let mut rows = Vec::with_capacity(read.len());
    for (line, row) in read {
        let at = format!("{role}, line {line}");
        check_row(p, &row, in_shard).map_err(|why| Error::Usage(format!("{at}: {why}")))?;
        if let Some(first) = seen.insert(key(&row), at.clone()) {
            return Err(Error::Usage(format!(
                "{at}: point {}, replication {} appears twice (first in {first}); each run belongs in one row",
                row.point, row.replication
            )));
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Why `row` does not belong to sweep `p`, if it does not.
fn check_row(p: &Sweep, row: &RunRow, in_shard: &dyn Fn(usize) -> bool) -> Result<(), String> {
    if row.experiment != p.name {
        return Err(format!(
            "the row is of the experiment {:?}, not {:?}",
            row.experiment, p.name
        ));
    }
    if row.config_hash.0 != p.config_hash {
        return Err(format!(
            "the row was run with other files (config_hash {:016x}; this experiment and its model give {:016x}): the experiment or the model changed since, so it cannot be joined; run it again",
            row.config_hash.0, p.config_hash
        ));
    }
    if row.point >= p.jobs.len() {
        return Err(format!(
            "point {} is out of range: the grid has {} points",
            row.point,
            p.jobs.len()
        ));
    }
    if row.replication >= p.reps {
        return Err(format!(
            "replication {} is out of range: the experiment has {} replications",
            row.replication, p.reps
        ));
    }
    if !in_shard(row.point) {
        return Err(format!("point {} belongs to another shard", row.point));
    }
    let seed = p.seed(row.point, row.replication);
    if row.seed != seed {
        return Err(format!(
            "seed {} is not the seed of point {}, replication {} ({seed})",
            row.seed, row.point, row.replication
        ));
    }
    for ((k, v), (name, cell)) in p.axes_of(row.point).iter().zip(&row.axes) {
        if cell != v || k != name {
            return Err(format!(
                "{name} is {cell:?}, but point {} has {k} = {v:?}",
                row.point
            ));
        }
    }
    Ok(())
}

/// The runs a journal kept, if it was written for these very files, each verified.
pub fn journal(
    path: &Path,
    p: &Sweep,
    in_shard: &dyn Fn(usize) -> bool,
) -> Result<Vec<RunRow>, Error> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(Vec::new());
    }
    let role = format!("the journal {}", path.display());
    let text = files::read_as(path, "the journal")?;
    if text.lines().next() != Some(journal_mark(p).as_str()) {
        return Err(Error::Usage(format!(
            "{role}: written for another version of the experiment or model files; delete it, or run without --resume"
        )));
    }
    verified(p, &text, &role, true, in_shard, &mut Seen::new())
}

/// Starts the journal at `path` with the runs already `kept`: written to a new file beside it
/// and renamed over it (so a kill never loses the kept rows, and a planted symlink is replaced,
/// not written through); the returned file appends to it.
pub fn start_journal(path: &Path, p: &Sweep, kept: &[RunRow]) -> Result<std::fs::File, Error> {
    let fail = |e| os_error("the journal", path, "write it", e);
    let temp = path.with_file_name(format!(
        ".{}.{}.etcdsim-tmp",
        super::output_dir::WORKING_FILES[0],
        std::process::id()
    ));
    let _ = std::fs::remove_file(&temp);
    let mut journal = create_new(&temp).map_err(fail)?;
    let header = format!("{}\n", journal_mark(p));
    let written = journal
        .write_all(header.as_bytes())
        .and_then(|()| journal.write_all(&table::csv(&p.template, kept)))
        .and_then(|()| journal.flush())
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(fail(e));
    }
    Ok(journal)
}
