//! The runner: the only module that touches the filesystem, the wall clock and rayon. Each
//! command is a function of plain options (no command-line types), so the runner also serves
//! as a library.

pub mod bench;
pub mod calibrate;
pub mod experiment;
pub mod files;
pub mod plan;
pub mod validation;

use crate::error::Error;
use crate::model::RunResult;

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
