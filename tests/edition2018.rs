//! The fixtures as edition 2018 against tokio 1.32, the edition and the tokio mini-redis locks
//! (`fixtures/edition2018`, a workspace of its own: one lock cannot hold two tokio 1.x): its test
//! compares native and desugared runs of every fixture at every cancellation point.

use std::path::Path;
use std::process::Command;

#[test]
fn edition_2018_with_tokio_1_32_agrees() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["test", "--locked", "--manifest-path"])
        .arg(root.join("fixtures/edition2018/Cargo.toml"))
        .args(["--", "--nocapture"])
        .env("CARGO_TARGET_DIR", root.join("target/edition2018"))
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "cargo test in fixtures/edition2018 failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("test edition_2018_agrees ... ok"), "{stdout}");
}
