//! What the end-to-end tests share: running the binary on the small crates under
//! tests/crates/ (each in its own target directory under cargo's temporary directory).
#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn crate_manifest(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/crates").join(name).join("Cargo.toml")
}

/// Runs `cargo-unasync ARGS --manifest-path tests/crates/CRATE/Cargo.toml` (`-`: no manifest).
pub fn run(args: &[&str], crate_name: &str, env: &[(&str, &str)]) -> Output {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("e2e-{crate_name}"));
    let mut c = Command::new(env!("CARGO_BIN_EXE_cargo-unasync"));
    c.args(args).env("CARGO_TARGET_DIR", &target).env_remove("RUSTC_WRAPPER").env("NO_COLOR", "1");
    if crate_name != "-" {
        c.arg("--manifest-path").arg(crate_manifest(crate_name));
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("running cargo-unasync")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The cells of the table row whose first cell is `name` (`compare`'s table).
pub fn row(out: &str, name: &str) -> Vec<String> {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row {name}:\n{out}"))
        .split_whitespace()
        .map(String::from)
        .collect()
}
