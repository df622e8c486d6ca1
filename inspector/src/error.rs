//! Errors and the documented exit codes.

use std::fmt;

/// Exit codes of `cargo unasync` (also in the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 1: `--max-size` was exceeded by at least one future.
    SizeGate = 1,
    /// 2: the crate does not compile (rustc's errors are shown).
    BuildFailed = 2,
    /// 3: not a cargo project / the manifest cannot be read.
    NotCargoProject = 3,
    /// 4: the toolchain refuses `-Z` flags even with `RUSTC_BOOTSTRAP=1`.
    FlagRefused = 4,
    /// 5: the build succeeded but rustc laid out no future (or none matched the filter).
    NoFutures = 5,
    /// 6: `expand`: no async fn with that path.
    NotFound = 6,
    /// 7: `snapshot --check`: a future's snapshot is new, changed or gone.
    SnapshotDiffers = 7,
    /// 8: `compare`: the desugared copy does not compile for a reason keeping functions native
    /// does not remove (an error outside every async fn, or `--max-rounds` reached); the table
    /// still shows rustc's sizes and the functions kept native.
    CopyFailed = 8,
    /// 64: bad command line.
    Usage = 64,
    /// 70: anything else (I/O errors, unexpected output).
    Internal = 70,
}

#[derive(Debug)]
pub struct Error {
    pub exit: Exit,
    pub message: String,
}

impl Error {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Error { exit, message: message.into() }
    }
    pub fn io(what: &str, e: std::io::Error) -> Self {
        Error::new(Exit::Internal, format!("{what}: {e}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
