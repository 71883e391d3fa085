//! Ctrl-C (SIGINT). The first press asks the command to stop cleanly: it keeps what finished
//! and says so, then exits with 130. A second press quits at once: the temporary files and
//! folders registered here are removed, and the process exits with 130 without waiting for
//! anything.
//!
//! Only the command line installs the handler ([`install`]); a library caller that never does
//! is never interrupted.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

use super::console::note;

/// Set by the first Ctrl-C.
static STOP: AtomicBool = AtomicBool::new(false);
/// Ctrl-C presses so far.
static PRESSES: AtomicUsize = AtomicUsize::new(0);
/// What the command does on the first press, as its message says.
static ON_FIRST: Mutex<&str> = Mutex::new("stopping");
/// Temporary files and folders to remove if a second Ctrl-C quits at once.
static TEMPORARIES: Mutex<Vec<(u64, PathBuf)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Installs the handler (once per process); `on_first` says what the command does when asked
/// to stop ("the runs in progress finish, no new one starts").
pub fn install(on_first: &'static str) {
    if let Ok(mut m) = ON_FIRST.lock() {
        *m = on_first;
    }
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // If no handler can be installed, Ctrl-C kills the process: the journal and the
        // previous outputs are still intact, only temporaries may stay behind.
        let _ = ctrlc::set_handler(on_press);
    });
}

fn on_press() {
    if PRESSES.fetch_add(1, Ordering::SeqCst) == 0 {
        STOP.store(true, Ordering::SeqCst);
        let what = ON_FIRST.lock().map(|m| *m).unwrap_or("stopping");
        note(format!(
            "\netcdsim: Ctrl-C: {what}; press Ctrl-C again to quit at once"
        ));
        return;
    }
    // Never wait for a lock here: a thread holding it may be what is slow.
    if let Ok(list) = TEMPORARIES.try_lock() {
        for (_, path) in list.iter() {
            remove(path);
        }
    }
    note("\netcdsim: Ctrl-C again: quitting at once; nothing more is kept");
    std::process::exit(130);
}

fn remove(path: &std::path::Path) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
}

/// Whether Ctrl-C asked the command to stop.
pub fn requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// The flag Ctrl-C sets, for a run to watch (`RunOptions::stop`).
pub fn flag() -> &'static AtomicBool {
    &STOP
}

/// A temporary file or folder that a second Ctrl-C removes; dropping it forgets it (its owner
/// has published or removed it).
#[derive(Debug)]
pub struct Temporary(u64);

/// Registers `path` as a temporary.
pub fn temporary(path: PathBuf) -> Temporary {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut list) = TEMPORARIES.lock() {
        list.push((id, path));
    }
    Temporary(id)
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if let Ok(mut list) = TEMPORARIES.lock() {
            list.retain(|(id, _)| *id != self.0);
        }
    }
}
