//! The one error vocabulary of the command line and the runner, and the exit code of each kind:
//!
//! - 0: success;
//! - 1: a failure inside etcdsim (a bug), naming the seed that replays it;
//! - 2: bad input: a file's contents, a flag, a path that names no file, an output directory
//!   refused (`/`, the home directory, a foreign non-empty directory without `--force`);
//! - 3: the operating system refused a file or directory etcdsim may use (permissions, a full
//!   disk, a read-only file system, an output directory another etcdsim run holds); the message
//!   names the path and its role ("the output directory", "shard 2 of 3");
//! - 130: stopped by Ctrl-C, keeping what had finished;
//! - 141: standard output was closed by its reader (`etcdsim benchmark … | head`): the command
//!   ends quietly, as a shell reports a program a closed pipe stopped (128 + SIGPIPE).

use crate::config::ConfigError;

/// A failure, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input in a file: exit code 2.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Bad input given on the command line, or a path that cannot serve its role: exit code 2.
    #[error("{0}")]
    Usage(String),
    /// The operating system refused a file operation: exit code 3. The text names the path,
    /// its role and what failed.
    #[error("{0}")]
    Io(String),
    /// Something failed inside etcdsim: exit code 1.
    #[error("internal error: {0}")]
    Internal(String),
    /// Ctrl-C stopped the command; what finished is kept: exit code 130.
    #[error("{0}")]
    Interrupted(String),
    /// Standard output's reader went away: exit code 141, with no message.
    #[error("standard output was closed")]
    BrokenPipe,
}

/// Exit code of a command that a closed standard output stopped (128 + SIGPIPE).
pub const BROKEN_PIPE_EXIT: u8 = 141;

impl Error {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) | Error::Usage(_) => 2,
            Error::Io(_) => 3,
            Error::Internal(_) => 1,
            Error::Interrupted(_) => 130,
            Error::BrokenPipe => BROKEN_PIPE_EXIT,
        }
    }
}
