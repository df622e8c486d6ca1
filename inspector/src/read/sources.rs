//! The files of a crate, found the way rustc finds them: from the target's root file, following
//! `mod x;` declarations (`x.rs`, `x/mod.rs`, `#[path]`); and the targets a selection builds.

use std::fs;
use std::path::{Path, PathBuf};

use syn::{Attribute, Item};

use crate::read::cargo_run::Selection;

/// Module path of a source file: `src/lib.rs` -> ``, `src/a/mod.rs` and `src/a.rs` -> `a`,
/// `src/a/b.rs` -> `a::b`; binaries, examples and other roots start their own crate.
pub fn module_path(rel: &Path) -> String {
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.first().map(String::as_str) != Some("src") || parts.get(1).map(String::as_str) == Some("bin") {
        return String::new();
    }
    let mut segs: Vec<String> = parts[1..].to_vec();
    if let Some(last) = segs.pop() {
        let stem = last.trim_end_matches(".rs");
        if !matches!(stem, "lib" | "main" | "mod") || segs.is_empty() && stem == "mod" {
            segs.push(stem.to_string());
        }
    }
    segs.join("::")
}

/// A source file of a crate, with its module path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleFile {
    /// Relative to the package root.
    pub file: PathBuf,
    /// `` for the crate root, `a::b` for `mod a { mod b; }`.
    pub module: String,
}

fn path_attr(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find(|a| a.path().is_ident("path")).and_then(|a| match &a.meta {
        syn::Meta::NameValue(nv) => match &nv.value {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

fn is_cfg_test(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta.require_list().is_ok_and(|l| l.tokens.to_string().trim() == "test")
    })
}

/// The files of the crate rooted at `root` (relative to `pkg_dir`), following `mod x;`
/// declarations (`x.rs`, `x/mod.rs`, `#[path]`) from the root; `#[cfg(test)]` modules only when
/// `tests`. Files that do not exist or do not parse are skipped.
pub fn crate_files(pkg_dir: &Path, root: &Path, tests: bool) -> Vec<ModuleFile> {
    let mut out = Vec::new();
    let dir = root.parent().map(Path::to_path_buf).unwrap_or_default();
    walk_file(pkg_dir, root, String::new(), dir, tests, &mut out);
    out
}

/// `children`: the directory `mod x;` inside this file looks in.
fn walk_file(pkg_dir: &Path, rel: &Path, module: String, children: PathBuf, tests: bool, out: &mut Vec<ModuleFile>) {
    if out.iter().any(|m| m.file == rel) || out.len() > 10_000 {
        return;
    }
    let Ok(src) = fs::read_to_string(pkg_dir.join(rel)) else { return };
    out.push(ModuleFile { file: rel.to_path_buf(), module: module.clone() });
    let Ok(file) = syn::parse_file(&src) else { return };
    let here = rel.parent().map(Path::to_path_buf).unwrap_or_default();
    walk_items(pkg_dir, &file.items, &module, &children, &here, tests, out);
}

fn walk_items(
    pkg_dir: &Path,
    items: &[Item],
    module: &str,
    children: &Path,
    here: &Path,
    tests: bool,
    out: &mut Vec<ModuleFile>,
) {
    for item in items {
        let Item::Mod(m) = item else { continue };
        if !tests && is_cfg_test(&m.attrs) {
            continue;
        }
        let name = m.ident.to_string();
        let name = name.trim_start_matches("r#");
        let sub = if module.is_empty() { name.to_string() } else { format!("{module}::{name}") };
        match (&m.content, path_attr(&m.attrs)) {
            (Some((_, inner)), _) => walk_items(pkg_dir, inner, &sub, &children.join(name), here, tests, out),
            (None, Some(p)) => {
                // Relative to the directory of the file declaring it; it acts as a `mod.rs`.
                let f = normalize(&here.join(p));
                let dir = f.parent().map(Path::to_path_buf).unwrap_or_default();
                walk_file(pkg_dir, &f, sub, dir, tests, out);
            }
            (None, None) => {
                let flat = children.join(format!("{name}.rs"));
                let nested = children.join(name).join("mod.rs");
                if pkg_dir.join(&flat).is_file() {
                    walk_file(pkg_dir, &flat, sub, children.join(name), tests, out);
                } else if pkg_dir.join(&nested).is_file() {
                    walk_file(pkg_dir, &nested, sub, children.join(name), tests, out);
                }
            }
        }
    }
}

/// `a/b/../c` -> `a/c` (lexically).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

pub fn is_library(t: &cargo_metadata::Target) -> bool {
    t.is_lib() || t.is_rlib() || t.is_dylib() || t.is_cdylib() || t.is_staticlib() || t.is_proc_macro()
}

/// The package's targets the selection builds, as cargo would: the library and binaries by
/// default; `--lib`, `--bin`, `--test` pick; `--all-targets` adds tests, benches, examples.
pub fn selected_targets<'a>(pkg: &'a cargo_metadata::Package, sel: &Selection) -> Vec<&'a cargo_metadata::Target> {
    let picked = sel.lib || !sel.bin.is_empty() || !sel.test.is_empty();
    pkg.targets
        .iter()
        .filter(|t| !t.is_custom_build())
        .filter(|t| {
            if sel.all_targets {
                return true;
            }
            if picked {
                return (sel.lib && is_library(t))
                    || (t.is_bin() && sel.bin.contains(&t.name))
                    || (t.is_test() && sel.test.contains(&t.name));
            }
            is_library(t) || t.is_bin()
        })
        .collect()
}


/// A source file of a selected target, to read for [`crate::parse::source`].
pub struct SourceFile {
    /// The crate (`mini_redis`, `mini_redis_cli`).
    pub krate: String,
    /// As rustc names it in spans: relative to the workspace root.
    pub file: String,
    /// Module path from the crate root.
    pub module: String,
    pub path: PathBuf,
}

/// The files of every target the selection builds in the primary packages of `meta`.
pub fn selection_files(meta: &cargo_metadata::Metadata, primary: &[String], sel: &Selection) -> Vec<SourceFile> {
    let root = meta.workspace_root.as_std_path();
    let tests = sel.all_targets || !sel.test.is_empty();
    let mut out = Vec::new();
    for pkg in meta.packages.iter().filter(|p| primary.iter().any(|n| *n == p.name.as_str())) {
        let Some(pkg_dir) = pkg.manifest_path.parent().map(|p| p.as_std_path().to_path_buf()) else { continue };
        for t in selected_targets(pkg, sel) {
            let krate = t.name.replace('-', "_");
            let src = t.src_path.as_std_path();
            let rel_root = src.strip_prefix(&pkg_dir).unwrap_or(src);
            for m in crate_files(&pkg_dir, rel_root, tests) {
                let path = pkg_dir.join(&m.file);
                let file = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned();
                out.push(SourceFile { krate: krate.clone(), file, module: m.module, path });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_paths() {
        assert_eq!(module_path(Path::new("src/lib.rs")), "");
        assert_eq!(module_path(Path::new("src/a.rs")), "a");
        assert_eq!(module_path(Path::new("src/a/mod.rs")), "a");
        assert_eq!(module_path(Path::new("src/a/b.rs")), "a::b");
        assert_eq!(module_path(Path::new("src/bin/x.rs")), "");
    }

    #[test]
    fn module_tree_from_the_crate_root() {
        let dir = std::env::temp_dir().join(format!("unasync-modtree-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for (f, text) in [
            ("src/lib.rs", "mod a;\npub mod b;\n#[cfg(test)]\nmod tests;\nmod inline { mod deep; }\n#[path = \"other/x.rs\"]\nmod renamed;\n"),
            ("src/a.rs", "mod child;\n"),
            ("src/a/child.rs", "async fn f() {}\n"),
            ("src/b/mod.rs", ""),
            ("src/tests.rs", ""),
            ("src/inline/deep.rs", ""),
            ("src/other/x.rs", ""),
            ("src/unreached.rs", "async fn g() {}\n"),
        ] {
            fs::create_dir_all(dir.join(f).parent().unwrap()).unwrap();
            fs::write(dir.join(f), text).unwrap();
        }
        let files = crate_files(&dir, Path::new("src/lib.rs"), false);
        let got: Vec<(String, &str)> = files.iter().map(|m| (m.file.display().to_string(), m.module.as_str())).collect();
        assert_eq!(
            got,
            [
                ("src/lib.rs".to_string(), ""),
                ("src/a.rs".to_string(), "a"),
                ("src/a/child.rs".to_string(), "a::child"),
                ("src/b/mod.rs".to_string(), "b"),
                ("src/inline/deep.rs".to_string(), "inline::deep"),
                ("src/other/x.rs".to_string(), "renamed"),
            ]
        );
        assert!(crate_files(&dir, Path::new("src/lib.rs"), true).iter().any(|m| m.module == "tests"));
        let _ = fs::remove_dir_all(&dir);
    }
}
