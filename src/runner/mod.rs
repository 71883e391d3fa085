//! The runner: the only module that touches the filesystem, the wall clock, signals and rayon.
//! Each command is a function of plain options (no command-line types), so the runner also
//! serves as a library.

pub mod bench;
pub mod calibrate;
pub mod charts;
pub mod compare;
pub mod console;
pub mod experiment;
pub mod files;
pub mod interrupt;
pub mod merge;
pub mod output_dir;
pub mod outputs;
pub mod plan;
pub mod rows;
pub mod sweep;
pub mod validation;

use crate::error::Error;
use crate::model::RunResult;

/// The most worker threads a command may ask for: beyond the cores they only cost memory and
/// time to start, and 1,024 is more cores than any machine etcdsim runs on.
pub const MAX_THREADS: usize = 1024;

/// How a command prints its report on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Text for people (the default).
    #[default]
    Text,
    /// One JSON document for scripts (`report::json`, fields in docs/json.md).
    Json,
}

/// A run that broke an invariant is a bug in etcdsim: say so, with what replays it.
pub fn check(r: &RunResult, what: &str) -> Result<(), Error> {
    if r.invariant_errors.is_empty() {
        return Ok(());
    }
    Err(Error::Internal(format!(
        "{what} (seed {}) broke an invariant: {}. Replay it with the same files and --seed {}, and report it.",
        r.seed,
        r.invariant_errors.join("; "),
        r.seed
    )))
}

/// The worker pool of `--threads` (default: one thread per core, or RAYON_NUM_THREADS).
pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, Error> {
    let n = match threads {
        Some(n) if !(1..=MAX_THREADS).contains(&n) => {
            return Err(Error::Usage(format!(
                "--threads: must be between 1 and {MAX_THREADS} (got {n})"
            )));
        }
        Some(n) => n,
        // Zero asks rayon for its default: RAYON_NUM_THREADS, else one thread per core.
        None => match std::env::var("RAYON_NUM_THREADS")
            .ok()
            .map(|v| v.trim().parse::<usize>())
        {
            Some(Ok(n)) if n > MAX_THREADS => {
                return Err(Error::Usage(format!(
                    "RAYON_NUM_THREADS: must be at most {MAX_THREADS} (got {n})"
                )));
            }
            _ => 0,
        },
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the worker threads: {e}")))
}

/// A fresh, empty folder for the unit test `name` of the runner.
#[cfg(test)]
pub(crate) fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("etcdsim-unit-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
