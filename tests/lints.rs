//! The attribute neither adds nor removes a rustc warning of the user's code (issue 14, 8): the
//! crate in `tests/lints/` is built natively and through `#[unasync::desugar]` (`--cfg
//! desugared`), and the diagnostics about its source must be the same (lint, message, line).
//! (The column may differ: rustc points at `mut n` of a parameter, at `n` of the body's binding
//! of it.) Clippy's lints are compared too, all but those of the function item itself
//! (`CLIPPY_ITEM_LINTS`, in the README's limits).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `(lint, message, line)` of each diagnostic `tool` reports in the crate's own sources, sorted.
fn diagnostics(tool: &str, desugared: bool) -> Vec<String> {
    let manifest = root().join("tests/lints/Cargo.toml");
    let target = root().join("target/lints").join(if desugared { "desugared" } else { "native" });
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.arg(tool).arg("--quiet").arg("--message-format=json").arg("--manifest-path").arg(&manifest);
    command.env("CARGO_TARGET_DIR", &target);
    // The two builds differ only in the cfg; it is passed to the lints crate alone.
    command.env_remove("RUSTFLAGS").env("CARGO_ENCODED_RUSTFLAGS", if desugared { "--cfg\u{1f}desugared" } else { "" });
    let out = command.output().expect("running cargo");
    assert!(out.status.success(), "cargo {tool} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let mut found = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if message["reason"] != "compiler-message" || message["target"]["name"] != "unasync_lints" {
            continue;
        }
        let diagnostic = &message["message"];
        let lint = diagnostic["code"]["code"].as_str().unwrap_or("-");
        let Some(span) = diagnostic["spans"].as_array().and_then(|spans| spans.iter().find(|s| s["is_primary"] == true)) else {
            continue;
        };
        let file = span["file_name"].as_str().unwrap_or("");
        if !Path::new(file).ends_with("src/lib.rs") {
            continue;
        }
        found.push(format!("{lint}: {} at line {}", diagnostic["message"].as_str().unwrap_or(""), span["line_start"]));
    }
    found.sort();
    found.dedup();
    found
}

fn same(tool: &str) {
    let native = diagnostics(tool, false);
    let desugared = diagnostics(tool, true);
    assert!(native.len() >= 8, "the native build reports too little to compare: {native:#?}");
    let missing: Vec<&String> = native.iter().filter(|d| !desugared.contains(d)).collect();
    let added: Vec<&String> = desugared.iter().filter(|d| !native.contains(d)).collect();
    assert!(missing.is_empty() && added.is_empty(), "{tool}: only native: {missing:#?}\nonly desugared: {added:#?}");
}

#[test]
fn rustc_warnings_are_the_same() {
    same("build");
}

/// Clippy's lints of the function item (its signature, its kind) are not all kept: the plain
/// `fn` the attribute writes is not `async`, names every lifetime, returns the machine and moves
/// each argument into it, and the body is checked as an `async` block, where a final `return` is
/// not linted (the README's limits). Every other clippy lint must be the same, and these must be
/// the only difference; each is reported natively here, so each exclusion is seen to matter.
const CLIPPY_ITEM_LINTS: &[&str] = &[
    "clippy::unused_async",
    "clippy::missing_errors_doc",
    "clippy::ptr_arg",
    "clippy::needless_lifetimes",
    "clippy::needless_return",
];

#[test]
fn clippy_lints_are_the_same_but_the_items() {
    let item = |d: &&String| CLIPPY_ITEM_LINTS.iter().any(|l| d.starts_with(&format!("{l}:")));
    let native = diagnostics("clippy", false);
    let desugared = diagnostics("clippy", true);
    for lint in CLIPPY_ITEM_LINTS {
        assert!(native.iter().any(|d| d.starts_with(&format!("{lint}:"))), "natively, clippy no longer reports {lint}: {native:#?}");
    }
    assert!(native.iter().filter(|d| d.starts_with("clippy::") && !item(d)).count() >= 2, "too few clippy lints to compare: {native:#?}");
    let missing: Vec<&String> = native.iter().filter(|d| !item(d) && !desugared.contains(d)).collect();
    let added: Vec<&String> = desugared.iter().filter(|d| !native.contains(d)).collect();
    assert!(missing.is_empty() && added.is_empty(), "clippy: only native: {missing:#?}\nonly desugared: {added:#?}");
}
