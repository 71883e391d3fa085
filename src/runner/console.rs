//! Standard output and standard error, which never panic.
//!
//! A command's report goes to standard output through [`emit`], and a failure to write it is an
//! error of its own: a reader that went away (`etcdsim benchmark … | head`) ends the command
//! quietly ([`Error::BrokenPipe`], exit 141), a full disk or any other failure is an I/O error
//! (exit 3). Progress and notes go to standard error through [`note`], best-effort: a command
//! whose results are files finishes them even when nobody reads its progress any more.

use std::fmt::Display;
use std::io::{self, Write};

use crate::error::Error;

/// Writes `text` to `out` (standard output, or a writer a test injects) and flushes it.
pub fn emit(out: &mut dyn Write, text: &str) -> Result<(), Error> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(output_error)
}

/// What a failed write to standard output means.
pub fn output_error(e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Error::BrokenPipe
    } else {
        Error::Io(format!("standard output: cannot write the report: {e}"))
    }
}

/// A line on standard error; if standard error is closed or full, the line is lost.
pub fn note(line: impl Display) {
    let _ = writeln!(io::stderr(), "{line}");
}

/// Text on standard error without a newline (a progress line redrawn with `\r`), best-effort.
pub fn note_inline(text: impl Display) {
    let mut e = io::stderr();
    let _ = write!(e, "{text}");
    let _ = e.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails every write with `kind`.
    struct Failing(io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(self.0))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_reader_is_quiet_and_a_full_disk_is_an_io_error() {
        let e = emit(&mut Failing(io::ErrorKind::BrokenPipe), "x").unwrap_err();
        assert!(matches!(e, Error::BrokenPipe), "{e}");
        assert_eq!(e.exit_code(), 141);
        let e = emit(&mut Failing(io::ErrorKind::StorageFull), "x").unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().starts_with("standard output:"), "{e}");
        let mut ok = Vec::new();
        emit(&mut ok, "report").unwrap();
        assert_eq!(ok, b"report");
    }
}
