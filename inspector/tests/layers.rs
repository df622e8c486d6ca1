//! The inspector's modules form one-way stages: read -> parse -> analyse -> render, then the
//! commands. A module may use the shared leaves (model, names, error), its own stage and the
//! stages before it, never a later one. Read from the sources, so a new import that points
//! backwards fails here.

use std::path::Path;

/// Stage of a top-level module; leaves are 0 and may use no other module but each other's
/// data-free neighbours (`model` uses nothing at all).
fn stage(module: &str) -> Option<u8> {
    Some(match module {
        "model" | "names" | "error" => 0,
        "read" => 1,
        "parse" => 2,
        "analyse" => 3,
        "render" => 4,
        "cmd" => 5,
        "cli" => 6,
        "lib" | "main" => 7,
        _ => return None,
    })
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `crate::X` paths in code (comments and doc links are not imports).
fn uses(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in src.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let name: String = rest[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.push(name);
            }
            rest = &rest[i + 7..];
        }
    }
    out
}

#[test]
fn no_module_uses_a_later_stage() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut bad = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel.iter().next().unwrap().to_string_lossy().trim_end_matches(".rs").to_string();
        let own = stage(&top).unwrap_or_else(|| panic!("{} is in no stage: add it to tests/layers.rs", rel.display()));
        let text = std::fs::read_to_string(f).unwrap();
        for used in uses(&text) {
            let their = stage(&used).unwrap_or_else(|| panic!("{} uses unknown module crate::{used}", rel.display()));
            let ok = if top == "model" { used == "model" } else { their <= own };
            if !ok {
                bad.push(format!("{} uses crate::{used}", rel.display()));
            }
        }
    }
    assert!(bad.is_empty(), "imports against the stage order:\n{}", bad.join("\n"));
}

#[test]
fn the_check_sees_a_backward_import() {
    assert_eq!(uses("use crate::render::table;\n// crate::cmd in a comment\nlet x = crate::cmd::y;"), ["render", "cmd"]);
    assert!(stage("render") > stage("analyse"));
}
