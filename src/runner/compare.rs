//! `etcdsim compare A B`: reads two output folders' `summary.csv`, prints the per-point deltas
//! (`report::compare`), and optionally writes them as CSV, and with `--out DIR` also as a
//! chart (`compare.svg` and `compare.png`) in an output folder published as one unit.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::experiment::{is_run_toml, parse_run_toml};
use crate::error::Error;
use crate::report::compare::{self, Cells, Side};
use crate::report::table;

use super::charts::{pairs, write_plot};
use super::console::{emit, note};
use super::files::{self, OutputFile};
use super::output_dir::OutputDir;

/// How to compare.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The first output folder (A).
    pub a: PathBuf,
    /// The second output folder (B).
    pub b: PathBuf,
    /// Also write the comparison here as CSV.
    pub csv: Option<PathBuf>,
    /// Also write `compare.csv`, `compare.svg` and `compare.png` into this output folder.
    pub out: Option<PathBuf>,
    /// Write into a non-empty `out` that is not an earlier etcdsim output.
    pub force: bool,
}

fn summary(dir: &Path, role: &str) -> Result<(String, Cells), Error> {
    let path = dir.join("summary.csv");
    let name = path.display().to_string();
    let text = files::read_as(&path, role)?;
    let cells = Cells::parse(&name, &text).map_err(Error::Usage)?;
    Ok((name, cells))
}

/// What the folder's `run.toml` says was run; only the folder when it has none (a merge's
/// output keeps one too, so that is rare) or it does not parse.
fn side(dir: &Path) -> Side {
    let folder = dir.display().to_string();
    let path = dir.join("run.toml");
    let Some((r, _)) = files::read(&path)
        .ok()
        .filter(|t| is_run_toml(t))
        .and_then(|t| parse_run_toml(&path.display().to_string(), &t).ok())
    else {
        return Side {
            folder,
            ..Side::default()
        };
    };
    let e = &r.experiment_file;
    let mut facts = vec![format!(
        "experiment {}, model {}",
        r.experiment, r.model_file
    )];
    if !e.set.is_empty() {
        facts.push(format!("set on every point: {}", pairs(&e.set)));
    }
    facts.push(format!(
        "{} replication{} a point, base seed {}",
        r.replications,
        if r.replications == 1 { "" } else { "s" },
        r.base_seed
    ));
    Side {
        folder,
        what: Some(e.description.clone().unwrap_or(r.experiment.clone())),
        facts: Some(facts.join("; ")),
    }
}

/// Refuses an `--out` that is A or B: publishing there would replace the output compared.
fn check_out(out: &Path, o: &Options) -> Result<(), Error> {
    let real = |p: &Path| p.canonicalize().ok();
    for (dir, which) in [(&o.a, "A"), (&o.b, "B")] {
        if real(out).is_some() && real(out) == real(dir) {
            return Err(Error::Usage(format!(
                "--out {}: is the folder compared as {which}; choose another folder (writing there would replace its output)",
                out.display()
            )));
        }
    }
    Ok(())
}

/// `etcdsim compare`.
pub fn compare(o: &Options, out: &mut dyn Write) -> Result<(), Error> {
    let (an, a) = summary(&o.a, "the first output folder's summary (A)")?;
    let (bn, b) = summary(&o.b, "the second output folder's summary (B)")?;
    let file = match &o.csv {
        Some(p) => Some(OutputFile::create(p, "the comparison (--csv)")?),
        None => None,
    };
    let dir = match &o.out {
        Some(p) => {
            check_out(p, o)?;
            Some(OutputDir::open(p, o.force)?)
        }
        None => None,
    };
    let (axes, rows) = compare::compare(&a, &b, (&an, &bn)).map_err(Error::Usage)?;
    if rows.is_empty() {
        return Err(Error::Usage(format!(
            "{an} and {bn} have no point in common (same axis values)"
        )));
    }
    emit(out, &compare::text((&an, &bn), &rows))?;
    let csv = table::csv(&compare::template(&axes), &rows);
    if let Some(file) = file {
        let path = file.path().to_path_buf();
        file.commit(&csv)?;
        note(format!("etcdsim: wrote {}", path.display()));
    }
    if let Some(mut dir) = dir {
        let plot = compare::chart([&side(&o.a), &side(&o.b)], &rows);
        dir.write("compare.csv", &csv)?;
        write_plot(&mut dir, "compare", &plot)?;
        let path = dir.path().to_path_buf();
        dir.publish(&[])?;
        note(format!(
            "etcdsim: wrote compare.csv, compare.svg and compare.png in {}",
            path.display()
        ));
    }
    Ok(())
}
