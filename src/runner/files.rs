//! Files: reading the inputs, resolving the paths they name, and writing a single output file
//! as one unit. `config` parses text and never touches the filesystem; this is where the text
//! comes from. A folder of outputs is published by `output_dir`.
//!
//! Inputs are read only up to [`MAX_INPUT_BYTES`] (`--model /dev/zero` is refused, not read
//! until memory runs out) and must be UTF-8 text. An output file is written to a temporary
//! file beside it, created new (so never through a planted symlink), then renamed over the
//! target; a failure removes the temporary.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::config::ConfigError;
use crate::config::model::model_from_str;
use crate::error::Error;
use crate::model::ClusterParams;

use super::interrupt::{self, Temporary};

/// The largest input file etcdsim reads: far above any model, experiment, plan or reference
/// (the largest shipped is a few kB), far below what would strain memory.
pub const MAX_INPUT_BYTES: u64 = 16 << 20;

/// Why an input could not be read.
enum ReadFailure {
    Missing,
    Directory,
    TooLarge,
    NotText(usize),
    Os(io::Error),
}

impl ReadFailure {
    /// The failure in plain words, and whether it is the operating system's (exit 3) rather
    /// than the input's (exit 2).
    fn describe(&self) -> (String, bool) {
        match self {
            ReadFailure::Missing => ("no such file".into(), false),
            ReadFailure::Directory => ("is a directory, not a file".into(), false),
            ReadFailure::TooLarge => (
                format!(
                    "is larger than {} MiB, the most etcdsim reads from an input file",
                    MAX_INPUT_BYTES >> 20
                ),
                false,
            ),
            ReadFailure::NotText(at) => (format!("is not UTF-8 text (byte {at})"), false),
            ReadFailure::Os(e) => (format!("cannot read it: {e}"), true),
        }
    }
}

fn read_text(path: &Path) -> Result<String, ReadFailure> {
    let os = |e: io::Error| match e.kind() {
        io::ErrorKind::NotFound => ReadFailure::Missing,
        io::ErrorKind::IsADirectory => ReadFailure::Directory,
        _ => ReadFailure::Os(e),
    };
    let f = File::open(path).map_err(os)?;
    if f.metadata().map_err(os)?.is_dir() {
        return Err(ReadFailure::Directory);
    }
    let mut bytes = Vec::new();
    f.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(os)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(ReadFailure::TooLarge);
    }
    String::from_utf8(bytes).map_err(|e| ReadFailure::NotText(e.utf8_error().valid_up_to()))
}

/// Reads the input file `path`, whose `role` ("the model file") its errors name.
pub fn read_as(path: &Path, role: &str) -> Result<String, Error> {
    read_text(path).map_err(|f| {
        let (what, os) = f.describe();
        let msg = format!("{role} {}: {what}", path.display());
        if os {
            Error::Io(msg)
        } else {
            Error::Usage(msg)
        }
    })
}

/// Reads an input file (its errors call it "the file").
pub fn read(path: &Path) -> Result<String, Error> {
    read_as(path, "the file")
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
pub fn read_named(naming: &Path, key: &str, named: &str) -> Result<(PathBuf, String), Error> {
    let path = resolve(naming, named);
    let text = read_text(&path).map_err(|f| {
        let (what, os) = f.describe();
        if os {
            Error::Io(format!(
                "the file {} that {key} of {} names: {what}",
                path.display(),
                naming.display()
            ))
        } else {
            ConfigError::invalid(
                &naming.display().to_string(),
                key,
                format!(
                    "cannot use {named:?}: it {}",
                    what.trim_start_matches("is ")
                ),
            )
            .into()
        }
    })?;
    Ok((path, text))
}

/// Reads a model file and validates it with `overrides` (`key=value`, as `--set` takes them).
pub fn load_model(path: &Path, overrides: &[String]) -> Result<ClusterParams, Error> {
    let text = read_as(path, "the model file")?;
    Ok(model_from_str(
        &path.display().to_string(),
        &text,
        overrides,
    )?)
}

/// An operating-system failure on `path`, whose role ("the output directory") it names.
pub fn os_error(role: &str, path: &Path, doing: &str, e: io::Error) -> Error {
    Error::Io(format!("{role} {}: cannot {doing}: {e}", path.display()))
}

/// Creates `dir` and its parents.
pub fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| os_error("the folder", dir, "create it", e))
}

/// Creates the folder that `file` will be written into, if it names one.
pub fn create_parent(file: &Path) -> Result<(), Error> {
    match file.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => create_dir(dir),
        None => Ok(()),
    }
}

/// Creates a file that did not exist: never through a symlink, never over another file.
pub fn create_new(path: &Path) -> io::Result<File> {
    File::options().write(true).create_new(true).open(path)
}

/// An output file being written: a temporary beside its target, created when the command
/// starts (so an unwritable place is found before any simulation) and renamed over the target
/// by [`OutputFile::commit`]. Dropped uncommitted, it removes the temporary.
#[derive(Debug)]
pub struct OutputFile {
    target: PathBuf,
    role: String,
    temp: PathBuf,
    file: Option<File>,
    _registered: Temporary,
}

impl OutputFile {
    /// Starts writing `target` (creating its folder), whose `role` ("the trace file") errors
    /// name.
    pub fn create(target: &Path, role: &str) -> Result<OutputFile, Error> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let fail = |doing: &str, e| os_error(role, target, doing, e);
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail("create its folder", e))?;
        }
        let name = target
            .file_name()
            .ok_or_else(|| Error::Usage(format!("{role} {}: names no file", target.display())))?;
        let temp = target.with_file_name(format!(
            ".{}.{}-{}.etcdsim-tmp",
            name.to_string_lossy(),
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let file = create_new(&temp).map_err(|e| fail("write it", e))?;
        Ok(OutputFile {
            target: target.to_path_buf(),
            role: role.to_string(),
            _registered: interrupt::temporary(temp.clone()),
            temp,
            file: Some(file),
        })
    }

    /// The file's final path.
    pub fn path(&self) -> &Path {
        &self.target
    }

    /// Writes `bytes`, makes them durable and renames the file over its target.
    pub fn commit(mut self, bytes: &[u8]) -> Result<(), Error> {
        let mut file = self.file.take().expect("an output file is committed once");
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| os_error(&self.role, &self.target, "write it", e))?;
        drop(file);
        std::fs::rename(&self.temp, &self.target)
            .map_err(|e| os_error(&self.role, &self.target, "write it", e))
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        // Committed, the temporary was renamed and this finds nothing to remove.
        let _ = std::fs::remove_file(&self.temp);
    }
}

/// Writes `bytes` to `path` as one unit (see [`OutputFile`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    OutputFile::create(path, "the file")?.commit(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::scratch;

    #[test]
    fn inputs_are_refused_past_the_size_limit_and_when_not_text() {
        let d = scratch("inputs");
        let big = d.join("big.toml");
        std::fs::write(&big, vec![b'#'; MAX_INPUT_BYTES as usize + 1]).unwrap();
        let e = read_as(&big, "the model file").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("larger than 16 MiB"), "{e}");
        let bin = d.join("bin.toml");
        std::fs::write(&bin, b"a = 1\n\xff\n").unwrap();
        let e = read_as(&bin, "the model file").unwrap_err().to_string();
        assert!(e.contains("not UTF-8") && e.contains("byte 6"), "{e}");
        // A device that never ends is read only up to the limit.
        let e = read_as(Path::new("/dev/zero"), "the model file").unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
        let e = read_as(&d.join("nope"), "the plan file").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("the plan file {}: no such file", d.join("nope").display())
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_output_file_replaces_a_planted_symlink_instead_of_writing_through_it() {
        let d = scratch("symlink");
        let victim = d.join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let out = d.join("trace.json");
        std::os::unix::fs::symlink(&victim, &out).unwrap();
        write_atomic(&out, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "new");
        assert!(!std::fs::symlink_metadata(&out).unwrap().is_symlink());
        // Dropped uncommitted (a failed run), nothing is left behind.
        let pending = OutputFile::create(&d.join("other.svg"), "the chart").unwrap();
        drop(pending);
        let names: Vec<String> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
