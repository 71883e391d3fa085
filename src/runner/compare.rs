//! `etcdsim compare A B`: reads two output folders' `summary.csv`, prints the per-point deltas
//! (`report::compare`) and optionally writes them as CSV.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::report::compare::{self, Cells};
use crate::report::table;

use super::console::{emit, note};
use super::files::{self, OutputFile};

/// How to compare.
#[derive(Debug, Clone)]
pub struct Options {
    /// The first output folder (A).
    pub a: PathBuf,
    /// The second output folder (B).
    pub b: PathBuf,
    /// Also write the comparison here as CSV.
    pub csv: Option<PathBuf>,
}

fn summary(dir: &Path, role: &str) -> Result<(String, Cells), Error> {
    let path = dir.join("summary.csv");
    let name = path.display().to_string();
    let text = files::read_as(&path, role)?;
    let cells = Cells::parse(&name, &text).map_err(Error::Usage)?;
    Ok((name, cells))
}

/// `etcdsim compare`.
pub fn compare(o: &Options, out: &mut dyn Write) -> Result<(), Error> {
    let (an, a) = summary(&o.a, "the first output folder's summary (A)")?;
    let (bn, b) = summary(&o.b, "the second output folder's summary (B)")?;
    let file = match &o.csv {
        Some(p) => Some(OutputFile::create(p, "the comparison (--csv)")?),
        None => None,
    };
    let (axes, rows) = compare::compare(&a, &b, (&an, &bn)).map_err(Error::Usage)?;
    if rows.is_empty() {
        return Err(Error::Usage(format!(
            "{an} and {bn} have no point in common (same axis values)"
        )));
    }
    emit(out, &compare::text((&an, &bn), &rows))?;
    if let Some(file) = file {
        let path = file.path().to_path_buf();
        file.commit(&table::csv(&compare::template(&axes), &rows))?;
        note(format!("etcdsim: wrote {}", path.display()));
    }
    Ok(())
}
