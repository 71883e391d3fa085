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
/// reference): relative to the folder of `naming`, whatever the current directory, so that a
/// file works from anywhere; an absolute path as it is.
pub fn resolve(naming: &Path, named: &str) -> PathBuf {
    let named = Path::new(named);
    match naming.parent() {
        Some(dir) if named.is_relative() => tidy(&dir.join(named)),
        _ => named.to_path_buf(),
    }
}

/// `path` with each `dir/..` pair dropped (`experiments/calibrate/../../models/m.toml` is
/// `models/m.toml`), so that messages and outputs name the file plainly. A `..` that follows
/// a symlink would mean another place to the system, so the pair is dropped only where `dir`
/// is not one.
fn tidy(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        let last_is_dir = matches!(out.components().next_back(), Some(Component::Normal(_)))
            && !std::fs::symlink_metadata(&out).is_ok_and(|m| m.file_type().is_symlink());
        match c {
            Component::ParentDir if last_is_dir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// Resolves and reads the file that `key` of the file `naming` names; an error names `naming`
/// and `key`.
pub fn read_named(naming: &Path, key: &str, named: &str) -> Result<(PathBuf, String), Error> {
    let path = resolve(naming, named);
    let text = read_text(&path).map_err(|f| {
        let (what, os) = f.describe();
        if os {
            return Error::Io(format!(
                "the file {} that {key} of {} names: {what}",
                path.display(),
                naming.display()
            ));
        }
        let mut rule = format!("cannot use {named:?} ({}): {what}", path.display());
        if matches!(f, ReadFailure::Missing) {
            rule.push_str(&relative_hint(naming, named));
        }
        ConfigError::invalid(&naming.display().to_string(), key, rule).into()
    })?;
    Ok((path, text))
}

/// For a missing file: the rule that paths are relative to the file naming them, and, when
/// the path exists from the current directory (how etcdsim once read it), that it does.
fn relative_hint(naming: &Path, named: &str) -> String {
    let dir = naming
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| ".".to_string(), |d| d.display().to_string());
    let mut hint = format!("; a path in a file is relative to that file's folder ({dir})");
    if Path::new(named).is_relative() && Path::new(named).is_file() && dir != "." {
        hint.push_str(&format!(
            ", and {named:?} is a file from the current directory, not from there: name it from {dir}, or give an absolute path"
        ));
    }
    hint
}

/// Where a model comes from: the reference model built into etcdsim, or a model file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelRef {
    /// The reference model, [`crate::config::model::REFERENCE_FILE`] as it was when this
    /// etcdsim was built: what every command uses when no model is named.
    Embedded,
    /// A model file.
    File(PathBuf),
}

/// A model's text, with what messages and reports call it.
#[derive(Debug, Clone)]
pub struct ModelText {
    /// The name errors give it: the file's path, or the embedded model's label.
    pub label: String,
    /// The file's name, for a fitted model written beside the outputs.
    pub file_name: String,
    /// The TOML text.
    pub text: String,
    /// Whether it is the model built into etcdsim.
    pub embedded: bool,
}

impl ModelText {
    /// The model built into etcdsim.
    pub fn embedded() -> ModelText {
        use crate::config::model::{REFERENCE_FILE, REFERENCE_LABEL, REFERENCE_TEXT};
        ModelText {
            label: REFERENCE_LABEL.to_string(),
            file_name: Path::new(REFERENCE_FILE)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            text: REFERENCE_TEXT.to_string(),
            embedded: true,
        }
    }

    fn file(path: &Path, text: String) -> ModelText {
        ModelText {
            label: path.display().to_string(),
            file_name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            text,
            embedded: false,
        }
    }

    /// A model recorded in a `run.toml`: its text, under the name it had (`label`).
    pub fn recorded(label: &str, text: String) -> ModelText {
        use crate::config::model::{REFERENCE_LABEL, REFERENCE_TEXT};
        ModelText {
            label: label.to_string(),
            file_name: Path::new(label.trim_end_matches(" (built into etcdsim)"))
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            embedded: label == REFERENCE_LABEL && text == REFERENCE_TEXT,
            text,
        }
    }

    /// The model `m` names (a path on the command line is relative to the current directory).
    pub fn read(m: &ModelRef) -> Result<ModelText, Error> {
        match m {
            ModelRef::Embedded => Ok(ModelText::embedded()),
            ModelRef::File(path) => Ok(ModelText::file(path, read_as(path, "the model file")?)),
        }
    }

    /// The model that `key` of the file `naming` names, relative to that file; none named is
    /// the embedded reference model.
    pub fn named(naming: &Path, key: &str, named: Option<&str>) -> Result<ModelText, Error> {
        match named {
            None => Ok(ModelText::embedded()),
            Some(named) => {
                let (path, text) = read_named(naming, key, named)?;
                Ok(ModelText::file(&path, text))
            }
        }
    }

    /// The model parsed, its errors naming it.
    pub fn source(&self) -> Result<crate::config::model::ModelSource, Error> {
        Ok(crate::config::model::ModelSource::parse(
            &self.label,
            &self.text,
        )?)
    }
}

/// Reads a model file and validates it with `overrides` (`key=value`, as `--set` takes them).
pub fn load_model(path: &Path, overrides: &[String]) -> Result<ClusterParams, Error> {
    load(&ModelRef::File(path.to_path_buf()), overrides)
}

/// Reads the model `m` names and validates it with `overrides` (`key=value`, as `--set` takes
/// them).
pub fn load(m: &ModelRef, overrides: &[String]) -> Result<ClusterParams, Error> {
    let t = ModelText::read(m)?;
    Ok(model_from_str(&t.label, &t.text, overrides)?)
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
