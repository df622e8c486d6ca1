//! Stage 1, read: getting rustc's output and the crate's sources. [`cargo_run`] builds with
//! this binary as `RUSTC_WRAPPER` and captures rustc's stdout per crate; [`sources`] finds the
//! files of a crate by following its `mod` declarations.

use std::path::Path;

pub mod cargo_run;
pub mod sources;

/// The crate a capture file belongs to: the wrapper writes rustc's stdout for `--crate-name X`
/// to `X-<pid>.txt` (`X-<pid>.rs` for expanded sources). `None` for other file names.
pub fn capture_crate(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    let (name, pid) = stem.rsplit_once('-')?;
    let ok = !name.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| name.to_string())
}

