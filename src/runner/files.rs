//! Files: reading the inputs, resolving the paths they name, and writing every output through
//! a temporary file and a rename. `config` parses text and never touches the filesystem; this
//! is where the text comes from.

use std::path::{Path, PathBuf};

use crate::config::ConfigError;
use crate::config::model::model_from_str;
use crate::error::Error;
use crate::model::ClusterParams;

/// Reads a file to a string.
pub fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        file: path.display().to_string(),
        source,
    })
}

/// The path that `named` means in the file `naming` (an experiment's model, a calibration's
/// reference): relative to the folder of `naming` when a file is there, else to the current
/// directory, where the shipped files name their paths from.
pub fn resolve(naming: &Path, named: &str) -> PathBuf {
    let direct = PathBuf::from(named);
    naming
        .parent()
        .map(|d| d.join(named))
        .filter(|p| p.exists())
        .unwrap_or(direct)
}

/// Resolves and reads the file that `key` of the file `naming` names; an error names `naming`
/// and `key`.
pub fn read_named(naming: &Path, key: &str, named: &str) -> Result<(PathBuf, String), ConfigError> {
    let path = resolve(naming, named);
    let text = read(&path).map_err(|e| {
        ConfigError::invalid(
            &naming.display().to_string(),
            key,
            format!("cannot use {named:?}: {e}"),
        )
    })?;
    Ok((path, text))
}

/// Reads a model file and validates it with `overrides` (`key=value`, as `--set` takes them).
pub fn load_model(path: &Path, overrides: &[String]) -> Result<ClusterParams, ConfigError> {
    model_from_str(&path.display().to_string(), &read(path)?, overrides)
}

/// An I/O failure on `path`, as an internal error that names it.
pub fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Internal(format!("{}: {e}", path.display()))
}

/// Creates `dir` and its parents.
pub fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(io(dir))
}

/// Creates the folder that `file` will be written into, if it names one.
pub fn create_parent(file: &Path) -> Result<(), Error> {
    match file.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => create_dir(dir),
        None => Ok(()),
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, so no half-written file
/// is ever left behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(io(path))
}
