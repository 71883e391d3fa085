//! A folder of outputs (`run`, `merge`, `plan`), published as one unit.
//!
//! - **One writer at a time**: the folder is locked (`flock`, exclusive) for the whole command;
//!   a second etcdsim run into it is refused at once, before it simulates anything.
//! - **Staged, then published together**: every file is written into a staging folder. On
//!   success the staging folder and the output folder swap places in one atomic rename
//!   (`renameat2(RENAME_EXCHANGE)`), so a reader sees the previous output or the new one,
//!   never a mix, and the previous output is then removed. A failure (a full disk, Ctrl-C)
//!   removes the staging folder and leaves the previous output as it was.
//! - **Only its own files**: a folder that holds anything etcdsim did not write (the shards of
//!   a merge, a user's notes beside `--force`) is never swapped whole: the new files are renamed
//!   in one by one, then the previous output's other files are removed, so nothing else is
//!   touched. Where the swap is impossible (a mount point, not Linux), the same happens.
//! - **Refused places**: `/`, the home directory, and (without `--force`) a non-empty folder
//!   that is not an earlier etcdsim output.
//!
//! Every output folder holds a manifest, [`MARKER`], naming the files of its output: that is
//! how a later run knows the folder and its files are etcdsim's.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::Error;

use super::files::{create_new, os_error};
use super::interrupt::{self, Temporary};

/// The manifest of an output folder.
pub const MARKER: &str = ".etcdsim-output";
/// Files an unfinished run keeps in its output folder (the journal `--resume` reads).
pub const WORKING_FILES: [&str; 1] = ["results.partial.csv"];
/// How staging folders end.
const STAGING_SUFFIX: &str = ".etcdsim-staging";
/// How the role of the folder reads in messages.
const ROLE: &str = "the output directory";

/// How the new files replace the previous output.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// The staging folder, a sibling, swaps places with the output folder.
    Swap,
    /// The staged files are renamed in one by one.
    FileByFile,
}

/// An output folder being written.
#[derive(Debug)]
pub struct OutputDir {
    dir: PathBuf,
    staging: PathBuf,
    mode: Mode,
    files: Vec<String>,
    /// This command made the folder: a failure that leaves it empty removes it.
    created: bool,
    published: bool,
    _lock: File,
    _staging_lock: Option<File>,
    _registered: Temporary,
}

impl OutputDir {
    /// Opens `dir` for a new output: checks that it may be written (see the module's rules;
    /// `force` allows a foreign non-empty folder), creates and locks it, and starts a fresh
    /// staging folder. Called before anything is simulated.
    pub fn open(dir: &Path, force: bool) -> Result<OutputDir, Error> {
        refuse_special(dir)?;
        if dir.exists() && !dir.is_dir() {
            return Err(Error::Usage(format!(
                "{ROLE} {}: is a file, not a directory",
                dir.display()
            )));
        }
        let created = !dir.exists();
        std::fs::create_dir_all(dir).map_err(|e| os_error(ROLE, dir, "create it", e))?;
        let real = dir
            .canonicalize()
            .map_err(|e| os_error(ROLE, dir, "open it", e))?;
        refuse_special(&real)?;
        let held = lock(&real)?;
        let entries = entries(&real)?;
        let own = Own::of(&real);
        let foreign: Vec<&String> = entries
            .iter()
            .filter(|n| !own.holds(n) && !is_earlier_output(&real.join(n)))
            .collect();
        if !force && !foreign.is_empty() && !is_earlier_output(&real) {
            return Err(Error::Usage(format!(
                "{ROLE} {}: holds files etcdsim did not write (such as {:?}); choose a new or empty directory, or pass --force to write beside them (only etcdsim's own files are then replaced)",
                dir.display(),
                foreign[0]
            )));
        }
        let swappable = own.holds_all(&entries) && same_device_as_parent(&real);
        // A parent that cannot be written (a mounted volume's root) takes no sibling: stage
        // inside the folder then, and publish file by file.
        let (mode, staging) = match swappable && fresh_dir(&sibling_staging(&real)).is_ok() {
            true => (Mode::Swap, sibling_staging(&real)),
            false => {
                let inside = real.join(STAGING_SUFFIX);
                fresh_dir(&inside).map_err(|e| os_error(ROLE, dir, "write into it", e))?;
                (Mode::FileByFile, inside)
            }
        };
        let registered = interrupt::temporary(staging.clone());
        let staging_lock = match mode {
            Mode::Swap => Some(lock(&staging)?),
            Mode::FileByFile => None,
        };
        Ok(OutputDir {
            dir: real,
            staging,
            mode,
            files: Vec::new(),
            created,
            published: false,
            _lock: held,
            _staging_lock: staging_lock,
            _registered: registered,
        })
    }

    /// The output folder (its real path).
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Stages the file `name` of the output.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        debug_assert!(component(name) == name, "{name} is one plain file name");
        let path = self.staging.join(name);
        let written = create_new(&path).and_then(|mut f| {
            io::Write::write_all(&mut f, bytes)?;
            f.sync_all()
        });
        written.map_err(|e| os_error(ROLE, &self.dir, &format!("write {name} into it"), e))?;
        self.files.push(name.to_string());
        Ok(())
    }

    /// The files staged so far, in the order written.
    pub fn staged(&self) -> &[String] {
        &self.files
    }

    /// Publishes the staged files as the output, removing the previous output's other files
    /// and the working files (`also_remove`, such as the journal) of the output folder.
    pub fn publish(mut self, also_remove: &[&str]) -> Result<(), Error> {
        self.published = true;
        let manifest: String = self.files.iter().map(|f| format!("{f}\n")).collect();
        let marker = self.staging.join(MARKER);
        create_new(&marker)
            .and_then(|mut f| io::Write::write_all(&mut f, manifest.as_bytes()))
            .map_err(|e| os_error(ROLE, &self.dir, "write its manifest", e))?;
        let fail = |e| os_error(ROLE, &self.dir, "publish the new output", e);
        // Files may have appeared since the folder was opened: check again before a swap.
        let swap = self.mode == Mode::Swap && Own::of(&self.dir).holds_all(&entries(&self.dir)?);
        if swap && exchange(&self.staging, &self.dir).is_ok() {
            // The staging path now holds the previous output and its working files.
            return remove_any(&self.staging).map_err(fail);
        }
        let previous = Own::of(&self.dir).manifest;
        for f in &self.files {
            std::fs::rename(self.staging.join(f), self.dir.join(f)).map_err(fail)?;
        }
        let stale = previous
            .iter()
            .map(String::as_str)
            .filter(|p| !self.files.iter().any(|f| f == p))
            .chain(also_remove.iter().copied());
        for name in stale {
            if component(name) == name {
                let _ = std::fs::remove_file(self.dir.join(name));
            }
        }
        std::fs::rename(&marker, self.dir.join(MARKER)).map_err(fail)?;
        std::fs::remove_dir(&self.staging).map_err(fail)
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        // Published, the staging folder is gone already; otherwise the output failed and its
        // staged files go, the previous output untouched.
        let _ = remove_any(&self.staging);
        if self.created && !self.published {
            // Only if empty: an interrupted run's journal stays for --resume.
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

/// `name` (an experiment's or a plan's, from its file) as one safe path component: separators
/// and control characters become `_`, leading dots go (no `..`, no hidden folder), at most 100
/// bytes; an empty result is `unnamed`.
pub fn component(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    out = out.trim_start_matches('.').trim().to_string();
    while out.len() > 100 {
        out.pop();
    }
    if out.is_empty() {
        "unnamed".into()
    } else {
        out
    }
}

/// Refuses `/` and the home directory, whatever `--force` says.
fn refuse_special(dir: &Path) -> Result<(), Error> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let is_home = home.is_some_and(|h| {
        h == dir
            || (h.canonicalize().ok().zip(dir.canonicalize().ok())).is_some_and(|(a, b)| a == b)
    });
    if dir.parent().is_none() || is_home {
        return Err(Error::Usage(format!(
            "{ROLE} {}: refused: etcdsim never writes its outputs into {}; name a folder of their own",
            dir.display(),
            if is_home {
                "the home directory"
            } else {
                "the root directory"
            }
        )));
    }
    Ok(())
}

/// Locks the folder `dir` for this process, or says that another holds it.
fn lock(dir: &Path) -> Result<File, Error> {
    // A folder swapped away while this process waited for its lock is no longer `dir`:
    // lock what `dir` is now instead.
    for _ in 0..8 {
        let f = File::open(dir).map_err(|e| os_error(ROLE, dir, "open it", e))?;
        if !try_lock(&f) {
            return Err(Error::Io(format!(
                "{ROLE} {}: another etcdsim command is writing to it; wait for it to finish, or choose another --out",
                dir.display()
            )));
        }
        let now = std::fs::metadata(dir).map_err(|e| os_error(ROLE, dir, "open it", e))?;
        if f.metadata().ok().and_then(|m| file_id(&m)) == file_id(&now) {
            return Ok(f);
        }
    }
    Err(Error::Io(format!(
        "{ROLE} {}: it keeps being replaced while etcdsim locks it",
        dir.display()
    )))
}

#[cfg(unix)]
fn try_lock(f: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a file descriptor this process owns; no memory is shared.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(not(unix))]
fn try_lock(_: &File) -> bool {
    true
}

/// Swaps the folders `a` and `b` in one rename.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other);
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both paths are NUL-terminated strings that outlive the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

fn entries(dir: &Path) -> Result<Vec<String>, Error> {
    let read = std::fs::read_dir(dir).map_err(|e| os_error(ROLE, dir, "list it", e))?;
    let mut names: Vec<String> = read
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// What etcdsim wrote into an output folder: the files its manifest lists, the manifest, the
/// working files, and staging folders and temporaries a killed run left.
struct Own {
    manifest: Vec<String>,
}

impl Own {
    fn of(dir: &Path) -> Own {
        let manifest = std::fs::read_to_string(dir.join(MARKER))
            .map(|t| t.lines().map(String::from).collect())
            .unwrap_or_default();
        Own { manifest }
    }

    fn holds(&self, name: &str) -> bool {
        name == MARKER
            || WORKING_FILES.contains(&name)
            || name.ends_with(STAGING_SUFFIX)
            || name.ends_with(".etcdsim-tmp")
            || self.manifest.iter().any(|f| f == name)
    }

    fn holds_all(&self, entries: &[String]) -> bool {
        entries.iter().all(|n| self.holds(n))
    }
}

/// An earlier etcdsim output folder: one with a manifest, or one written before manifests
/// existed (its `run.toml`, `plan.toml` or journal says etcdsim wrote it).
fn is_earlier_output(path: &Path) -> bool {
    let starts = |file: &str, head: &str| {
        std::fs::read_to_string(path.join(file)).is_ok_and(|t| t.starts_with(head))
    };
    path.is_dir()
        && (path.join(MARKER).is_file()
            || starts("run.toml", "etcdsim_version")
            || starts("plan.toml", "# The plan as run (etcdsim")
            || starts(WORKING_FILES[0], "# etcdsim journal"))
}

/// (device, inode): which file a path or a handle is.
#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// Whether `dir` is on its parent's file system (not a mount point), so the two can swap.
fn same_device_as_parent(dir: &Path) -> bool {
    let dev = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .and_then(|m| file_id(&m))
            .map(|id| id.0)
    };
    dir.parent()
        .is_some_and(|parent| dev(dir).is_some() && dev(dir) == dev(parent))
}

/// The staging folder beside `dir`: `.<name>.etcdsim-staging` in its parent.
fn sibling_staging(dir: &Path) -> PathBuf {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    dir.with_file_name(format!(".{}{STAGING_SUFFIX}", name.unwrap_or_default()))
}

/// An empty folder at `path`, whatever was there (a staging folder a killed run left).
fn fresh_dir(path: &Path) -> io::Result<()> {
    remove_any(path)?;
    std::fs::create_dir(path)
}

/// Removes a file, a symlink (not what it points at) or a folder, if there is one.
fn remove_any(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::scratch;

    fn listing(dir: &Path) -> Vec<(String, String)> {
        entries(dir)
            .unwrap()
            .into_iter()
            .map(|n| {
                let text = std::fs::read_to_string(dir.join(&n)).unwrap_or_default();
                (n, text)
            })
            .collect()
    }

    fn output(dir: &Path, files: &[(&str, &str)]) -> OutputDir {
        let mut o = OutputDir::open(dir, false).unwrap();
        for (name, text) in files {
            o.write(name, text.as_bytes()).unwrap();
        }
        o
    }

    #[test]
    fn a_new_output_replaces_the_previous_whole_and_a_failed_one_changes_nothing() {
        let base = scratch("swap");
        let dir = base.join("out");
        output(&dir, &[("a.csv", "1"), ("old.svg", "x")])
            .publish(&[])
            .unwrap();
        let first = listing(&dir);
        // A failed output (dropped before publishing) leaves the previous one as it was.
        drop(output(&dir, &[("a.csv", "2")]));
        assert_eq!(listing(&dir), first);
        assert_eq!(entries(&base).unwrap(), ["out"], "no staging folder left");
        output(&dir, &[("a.csv", "3")]).publish(&[]).unwrap();
        assert_eq!(
            listing(&dir),
            [
                (MARKER.to_string(), "a.csv\n".to_string()),
                ("a.csv".to_string(), "3".to_string())
            ],
            "old.svg went with the previous output"
        );
        // A second writer is refused while the first holds the folder.
        let held = output(&dir, &[]);
        let e = OutputDir::open(&dir, false).unwrap_err().to_string();
        assert!(
            e.contains("another etcdsim command is writing to it"),
            "{e}"
        );
        drop(held);
    }

    #[test]
    fn files_etcdsim_did_not_write_are_never_touched() {
        let base = scratch("beside");
        let dir = base.join("out");
        std::fs::create_dir_all(dir.join("shard-1-of-2")).unwrap();
        std::fs::write(dir.join("shard-1-of-2").join(MARKER), "").unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        assert!(
            OutputDir::open(&dir, false).is_err(),
            "a foreign file needs --force"
        );
        let mut o = OutputDir::open(&dir, true).unwrap();
        assert_eq!(o.mode, Mode::FileByFile);
        o.write("a.csv", b"1").unwrap();
        o.write("b.svg", b"1").unwrap();
        o.publish(&[]).unwrap();
        // Now an earlier output: no --force needed; b.svg, not in the new output, goes.
        output(&dir, &[("a.csv", "2")]).publish(&[]).unwrap();
        assert_eq!(
            entries(&dir).unwrap(),
            [MARKER, "a.csv", "notes.txt", "shard-1-of-2"]
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
            "mine"
        );
    }

    #[test]
    fn names_from_files_become_one_plain_component() {
        assert_eq!(component("../../escaped"), "_.._escaped");
        assert_eq!(component("/etc/passwd"), "_etc_passwd");
        assert_eq!(component(".."), "unnamed");
        assert_eq!(component(".hidden"), "hidden");
        assert_eq!(component("a\nb"), "a_b");
        assert_eq!(component("quickstart"), "quickstart");
        assert_eq!(component(&"x".repeat(300)).len(), 100);
    }
}
