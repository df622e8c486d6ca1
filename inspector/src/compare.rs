//! `cargo unasync compare`: rustc's future size against `#[unasync::desugar]`'s, per `async fn`.
//!
//! The package is copied to `<target-dir>/unasync/compare/<name>/` (the user's files are never
//! touched): relative path dependencies become absolute, `unasync` is added as a path dependency
//! when missing, and `#[::unasync::desugar]` is put on every `async fn` with a body (after its
//! other attributes, on the same line, so line numbers do not move). Both crates are built with
//! `-Zprint-type-sizes` into the same target directory. When the copy does not compile, every
//! error's span is mapped to the function containing it, those functions are left native (and
//! listed with their first error), and the copy is built again; at most `--max-rounds` times.
//! The functions are those of the targets the selection builds, found by following `mod`
//! declarations from each target's root; a workspace member's inherited fields and dependencies
//! are written out from the workspace root's manifest ([`rewrite_manifest`]).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use syn::spanned::Spanned;
use syn::{Attribute, ImplItem, Item, TraitItem, Visibility};

use crate::cargo_run::{self, Mode, Project, Selection};
use crate::desugared::source_path;
use crate::error::{Error, Exit};
use crate::inspect;
use crate::model::{Future, FutureKind};

#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// The `unasync` crate to depend on when the package does not (default: the workspace this
    /// cargo-unasync was built from)
    #[arg(long, value_name = "DIR")]
    pub unasync_path: Option<PathBuf>,
    /// How many times the copy may be rebuilt after the functions its errors point into are
    /// reverted to native
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub max_rounds: usize,
    #[command(flatten)]
    pub selection: Selection,
}

/// An `async fn` that gets the attribute in the copy.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Path relative to the package root: `src/lib.rs`.
    pub file: PathBuf,
    /// Crate-relative path as rustc names the future: `connection::Connection::read_frame`.
    pub path: String,
    /// 1-based line and 0-based char column where the attribute goes.
    pub line: usize,
    pub column: usize,
    /// Lines of the whole fn, attributes included.
    pub first_line: usize,
    pub last_line: usize,
    /// The crate it is compiled in (`mini_redis`, `mini_redis_cli`): rustc names futures
    /// relative to it. Empty when unknown.
    pub krate: String,
    /// The target when it is not the library: `bin mini-redis-cli`.
    pub target: Option<String>,
}

impl Candidate {
    /// How the report names it: the path, and the target when it is not the library.
    pub fn display(&self) -> String {
        match &self.target {
            Some(t) => format!("{} [{t}]", self.path),
            None => self.path.clone(),
        }
    }
}

fn has_desugar(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| a.path().segments.last().is_some_and(|s| s.ident == "desugar"))
}

fn type_name(t: &syn::Type) -> String {
    match t {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default(),
        syn::Type::Reference(r) => type_name(&r.elem),
        _ => "_".into(),
    }
}

struct Collector<'a> {
    file: &'a Path,
    out: Vec<Candidate>,
}

impl Collector<'_> {
    fn push(&mut self, path: String, attrs: &[Attribute], vis: Option<&Visibility>, sig: &syn::Signature, end: usize) {
        if sig.asyncness.is_none() || has_desugar(attrs) {
            return;
        }
        let start = match vis {
            Some(v) if !matches!(v, Visibility::Inherited) => v.span().start(),
            _ => sig
                .constness
                .map(|t| t.span.start())
                .unwrap_or_else(|| sig.asyncness.expect("async").span.start()),
        };
        let first = attrs.iter().map(|a| a.span().start().line).min().unwrap_or(start.line).min(start.line);
        self.out.push(Candidate {
            file: self.file.to_path_buf(),
            path,
            line: start.line,
            column: start.column,
            first_line: first,
            last_line: end,
            krate: String::new(),
            target: None,
        });
    }

    fn items(&mut self, items: &[Item], prefix: &str) {
        let join = |n: &str| if prefix.is_empty() { n.to_string() } else { format!("{prefix}::{n}") };
        for item in items {
            match item {
                Item::Fn(f) => {
                    self.push(join(&f.sig.ident.to_string()), &f.attrs, Some(&f.vis), &f.sig, f.block.brace_token.span.close().end().line)
                }
                Item::Mod(m) => {
                    if let Some((_, inner)) = &m.content {
                        self.items(inner, &join(&m.ident.to_string()));
                    }
                }
                Item::Impl(imp) => {
                    let ty = join(&type_name(&imp.self_ty));
                    for it in &imp.items {
                        if let ImplItem::Fn(f) = it {
                            self.push(format!("{ty}::{}", f.sig.ident), &f.attrs, Some(&f.vis), &f.sig, f.block.brace_token.span.close().end().line);
                        }
                    }
                }
                Item::Trait(tr) => {
                    let ty = join(&tr.ident.to_string());
                    for it in &tr.items {
                        if let TraitItem::Fn(f) = it
                            && let Some(b) = &f.default
                        {
                            self.push(format!("{ty}::{}", f.sig.ident), &f.attrs, None, &f.sig, b.brace_token.span.close().end().line);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

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

/// Every candidate in one source file (`rel` is relative to the package root), its module path
/// guessed from the file's place under `src/` ([`module_path`]).
pub fn candidates(rel: &Path, src: &str) -> Vec<Candidate> {
    candidates_in(rel, src, &module_path(rel))
}

/// Every candidate in one source file whose module path is `module` (`` for a crate root).
pub fn candidates_in(rel: &Path, src: &str, module: &str) -> Vec<Candidate> {
    let Ok(file) = syn::parse_file(src) else { return Vec::new() };
    let mut c = Collector { file: rel, out: Vec::new() };
    c.items(&file.items, module);
    c.out
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

fn is_library(t: &cargo_metadata::Target) -> bool {
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

/// `src` with `#[::unasync::desugar] ` inserted before each of `cands` (all in this file).
pub fn annotate(src: &str, cands: &[&Candidate]) -> String {
    let mut at: Vec<usize> = Vec::new();
    let mut line_start = 0;
    for (i, line) in src.split_inclusive('\n').enumerate() {
        for c in cands.iter().filter(|c| c.line == i + 1) {
            let off: usize = line.chars().take(c.column).map(char::len_utf8).sum();
            at.push(line_start + off);
        }
        line_start += line.len();
    }
    at.sort_unstable();
    let mut out = String::with_capacity(src.len() + at.len() * 24);
    let mut prev = 0;
    for a in at {
        out.push_str(&src[prev..a]);
        out.push_str("#[::unasync::desugar] ");
        prev = a;
    }
    out.push_str(&src[prev..]);
    out
}

fn copy_dir(from: &Path, to: &Path, skip: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for e in fs::read_dir(from)? {
        let e = e?;
        let p = e.path();
        let name = e.file_name();
        if name == "target" || name == ".git" || p == skip {
            continue;
        }
        if e.file_type()?.is_dir() {
            copy_dir(&p, &to.join(&name), skip)?;
        } else if e.file_type()?.is_file() {
            fs::copy(&p, to.join(&name))?;
        }
    }
    Ok(())
}

/// The workspace a member package inherits from (`workspace = true`): the root manifest and its
/// directory (paths in it are relative to that directory).
pub struct WorkspaceRoot<'a> {
    pub manifest: &'a toml::Table,
    pub dir: &'a Path,
}

impl WorkspaceRoot<'_> {
    fn section(&self, key: &str) -> Option<&toml::Table> {
        self.manifest.get("workspace")?.as_table()?.get(key)?.as_table()
    }
}

fn inherits(v: &toml::Value) -> bool {
    v.as_table().and_then(|t| t.get("workspace")).and_then(|w| w.as_bool()) == Some(true)
}

fn absolutize_path(v: &mut toml::Value, base: &Path) {
    if let Some(t) = v.as_table_mut()
        && let Some(toml::Value::String(p)) = t.get_mut("path")
        && Path::new(p.as_str()).is_relative()
    {
        *p = base.join(&*p).to_string_lossy().into_owned();
    }
}

/// `name = { workspace = true, features = [..], optional = true }` with the workspace's entry
/// for `name`: its fields (a relative `path` made absolute against the workspace root), plus the
/// member's `features` (added) and other keys (`optional`, ...).
fn inherit_dep(name: &str, member: &toml::Table, ws: &WorkspaceRoot<'_>) -> Result<toml::Value, Error> {
    let base = ws.section("dependencies").and_then(|d| d.get(name)).ok_or_else(|| {
        Error::new(
            Exit::NotCargoProject,
            format!(
                "compare: dependency `{name}` is inherited (`workspace = true`) but {} has no [workspace.dependencies] entry for it",
                ws.dir.join("Cargo.toml").display()
            ),
        )
    })?;
    let mut t = match base {
        toml::Value::String(v) => {
            let mut t = toml::Table::new();
            t.insert("version".into(), v.clone().into());
            t
        }
        toml::Value::Table(t) => t.clone(),
        other => {
            return Err(Error::new(Exit::NotCargoProject, format!("compare: [workspace.dependencies] {name} = {other} is not a dependency")));
        }
    };
    let mut v = toml::Value::Table(std::mem::take(&mut t));
    absolutize_path(&mut v, ws.dir);
    let t = v.as_table_mut().expect("a table");
    for (k, mv) in member {
        match k.as_str() {
            "workspace" => {}
            "features" => {
                let mut fs: Vec<toml::Value> = t.get("features").and_then(|f| f.as_array()).cloned().unwrap_or_default();
                for f in mv.as_array().into_iter().flatten() {
                    if !fs.contains(f) {
                        fs.push(f.clone());
                    }
                }
                t.insert("features".into(), toml::Value::Array(fs));
            }
            _ => {
                t.insert(k.clone(), mv.clone());
            }
        }
    }
    Ok(v)
}

/// Makes relative `path` dependencies absolute against `base` and resolves inherited ones.
fn absolutize_deps(t: &mut toml::Table, base: &Path, ws: Option<&WorkspaceRoot<'_>>) -> Result<(), Error> {
    for key in ["dependencies", "dev-dependencies", "build-dependencies", "dev_dependencies", "build_dependencies"] {
        if let Some(toml::Value::Table(deps)) = t.get_mut(key) {
            for (name, d) in deps.iter_mut() {
                if inherits(d) {
                    let Some(ws) = ws else {
                        return Err(Error::new(
                            Exit::NotCargoProject,
                            format!("compare: dependency `{name}` is inherited (`workspace = true`) but the package is in no workspace"),
                        ));
                    };
                    let member = d.as_table().cloned().unwrap_or_default();
                    *d = inherit_dep(name, &member, ws)?;
                } else {
                    absolutize_path(d, base);
                }
            }
        }
    }
    if let Some(toml::Value::Table(targets)) = t.get_mut("target") {
        for (_, tt) in targets.iter_mut() {
            if let toml::Value::Table(tt) = tt {
                absolutize_deps(tt, base, ws)?;
            }
        }
    }
    Ok(())
}

/// Keys of `[package]` whose value is a path relative to the manifest.
const PACKAGE_PATHS: [&str; 3] = ["readme", "license-file", "build"];

/// The copy's manifest: standalone workspace, absolute paths, `unasync` available, and what the
/// package inherits from its workspace (`ws`: `[workspace.package]` fields, `[workspace.dependencies]`,
/// `[workspace.lints]`; the workspace's `[patch]` and `resolver` are carried over too) written out.
pub fn rewrite_manifest(
    text: &str,
    pkg: &cargo_metadata::Package,
    pkg_dir: &Path,
    unasync: &Path,
    ws: Option<&WorkspaceRoot<'_>>,
) -> Result<String, Error> {
    let mut t: toml::Table = text
        .parse()
        .map_err(|e| Error::new(Exit::NotCargoProject, format!("compare: cannot parse {}: {e}", pkg_dir.join("Cargo.toml").display())))?;
    if let Some(toml::Value::Table(p)) = t.get_mut("package") {
        p.remove("workspace");
        let inherited: Vec<String> = p.iter().filter(|(_, v)| inherits(v)).map(|(k, _)| k.clone()).collect();
        for k in inherited {
            let from_ws = ws.and_then(|w| w.section("package")).and_then(|wp| wp.get(&k)).cloned();
            match (k.as_str(), from_ws) {
                (_, Some(mut v)) => {
                    if PACKAGE_PATHS.contains(&k.as_str())
                        && let toml::Value::String(s) = &mut v
                        && Path::new(s.as_str()).is_relative()
                    {
                        *s = ws.expect("found in it").dir.join(&*s).to_string_lossy().into_owned();
                    }
                    p.insert(k, v);
                }
                ("version", None) => {
                    p.insert(k, pkg.version.to_string().into());
                }
                ("edition", None) => {
                    p.insert(k, pkg.edition.as_str().into());
                }
                _ => {
                    p.remove(&k);
                }
            }
        }
        // The copy lives elsewhere: paths relative to the package become absolute.
        for k in PACKAGE_PATHS {
            if let Some(toml::Value::String(s)) = p.get_mut(k)
                && Path::new(s.as_str()).is_relative()
            {
                *s = pkg_dir.join(&*s).to_string_lossy().into_owned();
            }
        }
    }
    absolutize_deps(&mut t, pkg_dir, ws)?;
    if t.get("lints").is_some_and(inherits) {
        match ws.and_then(|w| w.section("lints")) {
            Some(l) => t.insert("lints".into(), toml::Value::Table(l.clone())),
            None => t.remove("lints"),
        };
    }
    let has_unasync = pkg.dependencies.iter().any(|d| d.name == "unasync" || d.rename.as_deref() == Some("unasync"));
    if !has_unasync {
        let deps = t.entry("dependencies").or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(deps) = deps {
            let mut d = toml::Table::new();
            d.insert("path".into(), unasync.to_string_lossy().into_owned().into());
            deps.insert("unasync".into(), toml::Value::Table(d));
        }
    }
    let mut workspace = toml::Table::new();
    if let Some(w) = ws {
        if let Some(r) = w.manifest.get("workspace").and_then(|x| x.get("resolver")) {
            workspace.insert("resolver".into(), r.clone());
        }
        // `[patch]` only applies at the root: the copy is its own root now.
        if let Some(toml::Value::Table(patch)) = w.manifest.get("patch")
            && !t.contains_key("patch")
        {
            let mut patch = patch.clone();
            for (_, src) in patch.iter_mut() {
                if let toml::Value::Table(src) = src {
                    for (_, d) in src.iter_mut() {
                        absolutize_path(d, w.dir);
                    }
                }
            }
            t.insert("patch".into(), toml::Value::Table(patch));
        }
    }
    t.remove("workspace");
    t.insert("workspace".into(), toml::Value::Table(workspace));
    toml::to_string(&t).map_err(|e| Error::new(Exit::Internal, format!("compare: writing the manifest: {e}")))
}

/// Every error of a failed build, from cargo's JSON messages, in order: the spans to map to a
/// function (file, line: primary spans first, then the others, each followed by the macro
/// expansions it comes from, then the notes' spans) and the message (its first line, with the
/// first span).
pub fn errors(messages: &str) -> Vec<(Vec<(String, usize)>, String)> {
    let mut out = Vec::new();
    for line in messages.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if v["reason"] != "compiler-message" || v["message"]["level"] != "error" {
            continue;
        }
        let m = &v["message"];
        let mut spans = Vec::new();
        let mut push_span = |s: &serde_json::Value| {
            let mut s = s;
            loop {
                if let (Some(f), Some(l)) = (s["file_name"].as_str(), s["line_start"].as_u64()) {
                    spans.push((f.to_string(), l as usize));
                }
                if s["expansion"]["span"].is_object() {
                    s = &s["expansion"]["span"];
                } else {
                    break;
                }
            }
        };
        let all: Vec<&serde_json::Value> = m["spans"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
        for s in all.iter().filter(|s| s["is_primary"] == true).chain(all.iter().filter(|s| s["is_primary"] != true)) {
            push_span(s);
        }
        for c in m["children"].as_array().into_iter().flatten() {
            for s in c["spans"].as_array().into_iter().flatten() {
                push_span(s);
            }
        }
        let text = m["message"].as_str().unwrap_or("?").lines().next().unwrap_or("?").to_string();
        let at = spans.first().map(|(f, l)| format!(" ({f}:{l})")).unwrap_or_default();
        out.push((spans, format!("{text}{at}")));
    }
    out
}

/// The first error of a failed build (see [`errors`]).
pub fn first_error(messages: &str) -> Option<(Vec<(String, usize)>, String)> {
    errors(messages).into_iter().next()
}

/// One row of the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub function: String,
    pub rustc: Option<u64>,
    pub desugared: Option<u64>,
    /// Why the function stayed native in the copy.
    pub error: Option<String>,
}

/// The table `compare` prints.
pub fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    let w = rows.iter().map(|r| r.function.chars().count()).max().unwrap_or(8).max(8);
    let _ = writeln!(out, "{:<w$}  {:>6}  {:>9}  {:>5}  NOTE", "FUNCTION", "RUSTC", "DESUGARED", "RATIO");
    let (mut tn, mut td, mut n) = (0, 0, 0);
    let opt = |x: Option<u64>| x.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
    for r in rows {
        let ratio = match (r.rustc, r.desugared) {
            (Some(a), Some(b)) if a > 0 => {
                tn += a;
                td += b;
                n += 1;
                format!("{:.2}", b as f64 / a as f64)
            }
            _ => "-".into(),
        };
        let note = match (&r.error, r.rustc, r.desugared) {
            (Some(e), _, _) => format!("stays native: {e}"),
            (None, None, _) => {
                "rustc laid out no async fn body for it (generic and not instantiated, unused, or rewritten by another attribute such as #[tokio::main])".into()
            }
            (None, _, None) => "no desugared layout (never instantiated?)".into(),
            _ => String::new(),
        };
        let _ = writeln!(out, "{:<w$}  {:>6}  {:>9}  {:>5}  {note}", r.function, opt(r.rustc), opt(r.desugared), ratio);
    }
    let ratio = if tn > 0 { format!("{:.2}", td as f64 / tn as f64) } else { "-".into() };
    let native = rows.iter().filter(|r| r.error.is_some()).count();
    let _ = writeln!(
        out,
        "{:<w$}  {:>6}  {:>9}  {:>5}  {n} of {} functions desugared and measured ({native} stay native)",
        "TOTAL",
        tn,
        td,
        ratio,
        rows.len()
    );
    out.lines().map(|l| l.trim_end().to_string() + "\n").collect()
}

fn unasync_root(args: &CompareArgs) -> PathBuf {
    args.unasync_path
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new(".")).to_path_buf())
}

/// Largest layout per crate and normalised function path. A future another crate of the build
/// printed for one of `crates` (`mini_redis::server::run<..>` laid out by a binary) counts for
/// that crate, its path without the crate's name.
fn sizes_by_path(futures: &[Future], crates: &[String], kind: impl Fn(FutureKind) -> bool) -> HashMap<(String, String), u64> {
    let mut m: HashMap<(String, String), u64> = HashMap::new();
    for f in futures.iter().filter(|f| kind(f.kind)) {
        let Some(p) = &f.path else { continue };
        // A default trait method is laid out as `<Impl as Trait>::f`: count it for both.
        for key in std::iter::once(source_path(p)).chain(crate::desugared::trait_path(p)) {
            let (krate, key) = match key.split_once("::") {
                Some((first, rest)) if crates.iter().any(|c| c == first) && f.krate.as_deref() != Some(first) => {
                    (first.to_string(), rest.to_string())
                }
                _ => (f.krate.clone().unwrap_or_default(), key),
            };
            let e = m.entry((krate, key)).or_default();
            *e = (*e).max(f.size);
        }
    }
    m
}

/// The size for candidate `i`: its own path in its crate, else a shorter path another crate
/// printed it under (re-exported: `Client::connect` for `clients::client::Client::connect`)
/// that no other candidate of that crate ends with.
fn lookup(m: &HashMap<(String, String), u64>, cands: &[Candidate], i: usize) -> Option<u64> {
    let c = &cands[i];
    if let Some(&v) = m.get(&(c.krate.clone(), c.path.clone())) {
        return Some(v);
    }
    m.iter()
        .filter(|((k, p), _)| *k == c.krate && crate::analysis::path_suffix_match(&c.path, p))
        .filter(|((k, p), _)| {
            !cands
                .iter()
                .enumerate()
                .any(|(j, o)| j != i && o.krate == *k && crate::analysis::path_suffix_match(&o.path, p))
        })
        .map(|(_, &v)| v)
        .max()
}

pub fn run(args: &CompareArgs, verbose: bool) -> Result<(), Error> {
    let rows = compare(args, verbose)?;
    print!("{}", render(&rows));
    Ok(())
}

/// Does the work of `compare`, returning one row per `async fn` (sorted by path).
pub fn compare(args: &CompareArgs, verbose: bool) -> Result<Vec<Row>, Error> {
    let sel = &args.selection;
    let proj = cargo_run::project(sel, verbose)?;
    let pkg = proj
        .metadata
        .packages
        .iter()
        .find(|p| proj.primary.iter().any(|n| *n == p.name.as_str()))
        .ok_or_else(|| Error::new(Exit::NotCargoProject, "compare: no package selected"))?
        .clone();
    let pkg_dir = pkg.manifest_path.parent().map(|p| p.as_std_path().to_path_buf()).unwrap_or_default();
    let scratch = proj.target_dir.join("compare").join(pkg.name.as_str());
    let _ = fs::remove_dir_all(&scratch);
    copy_dir(&pkg_dir, &scratch, &proj.target_dir).map_err(|e| Error::io("copying the package", e))?;
    if !scratch.join("Cargo.lock").exists() {
        let _ = fs::copy(proj.workspace_root.join("Cargo.lock"), scratch.join("Cargo.lock"));
    }
    let manifest_text = fs::read_to_string(pkg.manifest_path.as_std_path()).map_err(|e| Error::io("reading Cargo.toml", e))?;
    // A workspace member inherits from the root manifest: read it to write the copy standalone.
    let root_manifest = proj.workspace_root.join("Cargo.toml");
    let root_table: Option<toml::Table> = match fs::read_to_string(&root_manifest) {
        Ok(text) => Some(text.parse().map_err(|e| {
            Error::new(Exit::NotCargoProject, format!("compare: cannot parse {}: {e}", root_manifest.display()))
        })?),
        Err(_) => None,
    };
    let ws = root_table.as_ref().map(|m| WorkspaceRoot { manifest: m, dir: &proj.workspace_root });
    let unasync = unasync_root(args);
    let unasync = unasync.canonicalize().unwrap_or(unasync);
    fs::write(scratch.join("Cargo.toml"), rewrite_manifest(&manifest_text, &pkg, &pkg_dir, &unasync, ws.as_ref())?)
        .map_err(|e| Error::io("writing the copy's Cargo.toml", e))?;

    // The files of the targets this selection builds, each with its crate and module path.
    let tests = sel.all_targets || !sel.test.is_empty();
    let mut crates: Vec<String> = Vec::new();
    let mut sources: Vec<(PathBuf, String)> = Vec::new();
    let mut cands: Vec<Candidate> = Vec::new();
    for t in selected_targets(&pkg, sel) {
        let krate = t.name.replace('-', "_");
        crates.push(krate.clone());
        let root = t.src_path.as_std_path();
        let root = root.strip_prefix(&pkg_dir).unwrap_or(root);
        let target = if is_library(t) {
            None
        } else {
            let kind = t.kind.first().map(|k| k.to_string()).unwrap_or_else(|| "target".into());
            Some(format!("{kind} {}", t.name))
        };
        for m in crate_files(&scratch, root, tests) {
            let Ok(src) = fs::read_to_string(scratch.join(&m.file)) else { continue };
            let found = candidates_in(&m.file, &src, &m.module);
            let mut new = false;
            for mut c in found {
                // A file shared by several targets (`tests/common/mod.rs`) is annotated once.
                if cands.iter().any(|o| o.file == c.file && o.line == c.line && o.column == c.column) {
                    continue;
                }
                c.krate = krate.clone();
                c.target = target.clone();
                cands.push(c);
                new = true;
            }
            if new && !sources.iter().any(|(f, _)| *f == m.file) {
                sources.push((m.file.clone(), src));
            }
        }
    }
    if cands.is_empty() {
        return Err(Error::new(Exit::NoFutures, format!("compare: no async fn with a body in {}", pkg.name)));
    }
    eprintln!("cargo-unasync: {} async fn(s) get #[unasync::desugar] in {}", cands.len(), scratch.display());

    // The original first.
    let native = inspect::collect(sel, verbose)?;

    let copy_sel = Selection {
        manifest_path: Some(scratch.join("Cargo.toml")),
        package: Vec::new(),
        ..sel.clone()
    };
    let copy_meta = cargo_run::project(&copy_sel, verbose)?;
    let copy_proj = Project {
        target_dir: proj.target_dir.clone(),
        workspace_root: scratch.clone(),
        primary: vec![pkg.name.to_string()],
        metadata: copy_meta.metadata,
    };
    let mut errors: Vec<Option<String>> = vec![None; cands.len()];
    let mut rounds = 0;
    let out = loop {
        for (rel, src) in &sources {
            let mine: Vec<&Candidate> = cands
                .iter()
                .enumerate()
                .filter(|(i, c)| &c.file == rel && errors[*i].is_none())
                .map(|(_, c)| c)
                .collect();
            fs::write(scratch.join(rel), annotate(src, &mine)).map_err(|e| Error::io("writing the copy", e))?;
        }
        let mut msgs = String::new();
        match cargo_run::build(&copy_sel, &copy_proj, Mode::TypeSizes, verbose, Some(&mut msgs)) {
            Ok(o) => break o,
            Err(e) if e.exit == Exit::BuildFailed => {
                // Every function an error points into stays native; then build again.
                let all = self::errors(&msgs);
                let Some(first) = all.first() else { return Err(e) };
                let mut reverted = 0;
                for (spans, text) in &all {
                    let hit = spans.iter().find_map(|(f, l)| {
                        let f = Path::new(f);
                        let f = f.strip_prefix(&scratch).unwrap_or(f);
                        cands.iter().enumerate().position(|(i, c)| {
                            errors[i].is_none() && c.file == f && (c.first_line..=c.last_line).contains(l)
                        })
                    });
                    if let Some(i) = hit {
                        eprintln!("cargo-unasync: `{}` stays native: {text}", cands[i].display());
                        errors[i] = Some(text.clone());
                        reverted += 1;
                    }
                }
                if reverted == 0 {
                    return Err(Error::new(
                        Exit::BuildFailed,
                        format!(
                            "compare: the desugared copy ({}) does not compile and the error is outside every async fn: {}",
                            scratch.display(),
                            first.1
                        ),
                    ));
                }
                rounds += 1;
                if rounds >= args.max_rounds {
                    let native = errors.iter().filter(|e| e.is_some()).count();
                    return Err(Error::new(
                        Exit::BuildFailed,
                        format!(
                            "compare: the desugared copy still does not compile after {rounds} rebuilds ({native} functions kept native so far); \
                             raise --max-rounds"
                        ),
                    ));
                }
                eprintln!("cargo-unasync: {reverted} function(s) stay native; building the copy again");
            }
            Err(e) => return Err(e),
        }
    };
    let mut desugared = inspect::read_files(&out.files)?;
    if !verbose && let Some(dir) = out.files.first().and_then(|f| f.parent()) {
        let _ = fs::remove_dir_all(dir);
    }
    inspect::prepare(&mut desugared);
    let n = sizes_by_path(&native, &crates, |k| k == FutureKind::AsyncFn);
    let d = sizes_by_path(&desugared, &crates, |k| k == FutureKind::Desugared);
    let mut rows: Vec<Row> = errors
        .into_iter()
        .enumerate()
        .map(|(i, error)| Row {
            function: cands[i].display(),
            rustc: lookup(&n, &cands, i),
            desugared: if error.is_none() { lookup(&d, &cands, i) } else { None },
            error,
        })
        .collect();
    rows.sort_by(|a, b| a.function.cmp(&b.function));
    Ok(rows)
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
    fn annotates_after_attributes_on_the_same_line() {
        let src = "#[inline]\npub async fn a() {}\nasync fn b() {}\n#[unasync::desugar]\nasync fn c() {}\ntrait T { async fn d(); async fn e() {} }\nimpl S { pub(crate) async fn f(&self) {} fn g() {} }\n";
        let c = candidates(Path::new("src/m.rs"), src);
        let names: Vec<&str> = c.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(names, ["m::a", "m::b", "m::T::e", "m::S::f"]);
        let out = annotate(src, &c.iter().collect::<Vec<_>>());
        assert_eq!(
            out,
            "#[inline]\n#[::unasync::desugar] pub async fn a() {}\n#[::unasync::desugar] async fn b() {}\n#[unasync::desugar]\nasync fn c() {}\ntrait T { async fn d(); #[::unasync::desugar] async fn e() {} }\nimpl S { #[::unasync::desugar] pub(crate) async fn f(&self) {} fn g() {} }\n"
        );
        assert_eq!((c[0].first_line, c[0].last_line), (1, 2));
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

    #[test]
    fn inherited_manifest_fields_are_written_out() {
        let root: toml::Table = r#"
            [workspace]
            members = ["m"]
            resolver = "2"
            [workspace.package]
            version = "1.2.3"
            edition = "2021"
            readme = "README.md"
            [workspace.dependencies]
            tokio = { version = "1", features = ["rt"] }
            serde = "1"
            local = { path = "crates/local" }
            [workspace.lints.clippy]
            all = "warn"
            [patch.crates-io]
            foo = { path = "patches/foo" }
        "#
        .parse()
        .unwrap();
        let ws = WorkspaceRoot { manifest: &root, dir: Path::new("/ws") };
        let member = r#"
            [package]
            name = "m"
            version.workspace = true
            edition.workspace = true
            readme.workspace = true
            rust-version.workspace = true
            [dependencies]
            tokio = { workspace = true, features = ["macros"], optional = true }
            serde.workspace = true
            local.workspace = true
            [target.'cfg(unix)'.dev-dependencies]
            serde = { workspace = true }
            [lints]
            workspace = true
        "#;
        let meta = r#"{"name":"m","version":"1.2.3","id":"m 1.2.3","source":null,"dependencies":[],"targets":[],
            "features":{},"manifest_path":"/ws/m/Cargo.toml","edition":"2021","metadata":null,"license":null,
            "license_file":null,"description":null,"authors":[],"categories":[],"keywords":[],"readme":null,
            "repository":null,"homepage":null,"documentation":null,"links":null,"publish":null,"default_run":null,
            "rust_version":null}"#;
        let pkg: cargo_metadata::Package = serde_json::from_str(meta).unwrap();
        let out = rewrite_manifest(member, &pkg, Path::new("/ws/m"), Path::new("/u"), Some(&ws)).unwrap();
        let t: toml::Table = out.parse().unwrap();
        let p = &t["package"];
        assert_eq!(p["version"].as_str(), Some("1.2.3"));
        assert_eq!(p["edition"].as_str(), Some("2021"));
        assert_eq!(p["readme"].as_str(), Some("/ws/README.md"));
        assert!(p.get("rust-version").is_none(), "{out}");
        let d = &t["dependencies"];
        assert_eq!(d["tokio"]["version"].as_str(), Some("1"));
        assert_eq!(d["tokio"]["features"].as_array().unwrap().len(), 2);
        assert_eq!(d["tokio"]["optional"].as_bool(), Some(true));
        assert_eq!(d["serde"]["version"].as_str(), Some("1"));
        assert_eq!(d["local"]["path"].as_str(), Some("/ws/crates/local"));
        assert_eq!(d["unasync"]["path"].as_str(), Some("/u"));
        assert_eq!(t["target"]["cfg(unix)"]["dev-dependencies"]["serde"]["version"].as_str(), Some("1"));
        assert_eq!(t["lints"]["clippy"]["all"].as_str(), Some("warn"));
        assert_eq!(t["patch"]["crates-io"]["foo"]["path"].as_str(), Some("/ws/patches/foo"));
        assert_eq!(t["workspace"]["resolver"].as_str(), Some("2"));
        assert!(!out.contains("workspace = true"), "{out}");
        // Outside a workspace, an inherited dependency is an error that says so.
        let e = rewrite_manifest(member, &pkg, Path::new("/ws/m"), Path::new("/u"), None).unwrap_err();
        assert!(e.message.contains("in no workspace"), "{}", e.message);
    }

    #[test]
    fn rows_match_through_reexported_paths_of_other_crates() {
        let cand = |krate: &str, path: &str| Candidate {
            file: PathBuf::from("src/lib.rs"),
            path: path.into(),
            line: 1,
            column: 0,
            first_line: 1,
            last_line: 1,
            krate: krate.into(),
            target: None,
        };
        let cands = [cand("lib", "clients::client::Client::connect"), cand("lib", "server::run"), cand("lib", "a::X::f"), cand("lib", "b::X::f")];
        let mut m = HashMap::new();
        m.insert(("lib".to_string(), "Client::connect".to_string()), 192);
        m.insert(("lib".to_string(), "server::run".to_string()), 568);
        m.insert(("lib".to_string(), "X::f".to_string()), 8);
        assert_eq!(lookup(&m, &cands, 0), Some(192));
        assert_eq!(lookup(&m, &cands, 1), Some(568));
        assert_eq!(lookup(&m, &cands, 2), None, "ambiguous between a::X::f and b::X::f");
    }
}
