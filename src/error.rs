//! The one error vocabulary of the command line and the runner, and the exit code of each kind:
//! 0 success, 2 bad input, 1 a failure inside etcdsim, 130 a sweep interrupted by Ctrl-C.

use crate::config::ConfigError;

/// A failure, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input in a file: exit code 2.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Bad input given on the command line: exit code 2.
    #[error("{0}")]
    Usage(String),
    /// Something failed inside etcdsim: exit code 1.
    #[error("internal error: {0}")]
    Internal(String),
    /// Ctrl-C stopped a sweep; its finished runs are kept: exit code 130.
    #[error("{0}")]
    Interrupted(String),
}

impl Error {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) | Error::Usage(_) => 2,
            Error::Internal(_) => 1,
            Error::Interrupted(_) => 130,
        }
    }
}
