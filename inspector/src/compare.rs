//! `cargo unasync compare`: rustc's future size against `#[unasync::desugar]`'s, per `async fn`.
//!
//! The package is copied to `<target-dir>/unasync/compare/<name>/` (the user's files are never
//! touched): relative path dependencies become absolute, `unasync` is added as a path dependency
//! when missing, and `#[::unasync::desugar]` is put on every `async fn` with a body (after its
//! other attributes, on the same line, so line numbers do not move). Both crates are built with
//! `-Zprint-type-sizes` into the same target directory. When the copy does not compile, the first
//! error's span is mapped to the function containing it, that function is left native (and listed
//! with the error), and the copy is built again; at most `--max-rounds` times.

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
    /// How many times a function that does not compile desugared may be reverted and the copy rebuilt
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

/// Every candidate in one source file (`rel` is relative to the package root).
pub fn candidates(rel: &Path, src: &str) -> Vec<Candidate> {
    let Ok(file) = syn::parse_file(src) else { return Vec::new() };
    let mut c = Collector { file: rel, out: Vec::new() };
    c.items(&file.items, &module_path(rel));
    c.out
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

fn absolutize_deps(t: &mut toml::Table, base: &Path) -> Result<(), Error> {
    for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(toml::Value::Table(deps)) = t.get_mut(key) {
            for (name, d) in deps.iter_mut() {
                if let toml::Value::Table(d) = d {
                    if d.get("workspace").and_then(|v| v.as_bool()) == Some(true) {
                        return Err(Error::new(
                            Exit::NotCargoProject,
                            format!("compare: dependency `{name}` is inherited from the workspace (`workspace = true`); not supported"),
                        ));
                    }
                    if let Some(toml::Value::String(p)) = d.get_mut("path")
                        && Path::new(p.as_str()).is_relative()
                    {
                        *p = base.join(&*p).to_string_lossy().into_owned();
                    }
                }
            }
        }
    }
    if let Some(toml::Value::Table(targets)) = t.get_mut("target") {
        for (_, tt) in targets.iter_mut() {
            if let toml::Value::Table(tt) = tt {
                absolutize_deps(tt, base)?;
            }
        }
    }
    Ok(())
}

/// The copy's manifest: standalone workspace, absolute paths, `unasync` available.
pub fn rewrite_manifest(text: &str, pkg: &cargo_metadata::Package, pkg_dir: &Path, unasync: &Path) -> Result<String, Error> {
    let mut t: toml::Table = text
        .parse()
        .map_err(|e| Error::new(Exit::NotCargoProject, format!("compare: cannot parse {}: {e}", pkg_dir.join("Cargo.toml").display())))?;
    if let Some(toml::Value::Table(p)) = t.get_mut("package") {
        p.remove("workspace");
        let inherited: Vec<String> = p
            .iter()
            .filter(|(_, v)| v.as_table().is_some_and(|x| x.get("workspace").and_then(|w| w.as_bool()) == Some(true)))
            .map(|(k, _)| k.clone())
            .collect();
        for k in inherited {
            match k.as_str() {
                "version" => p.insert(k, pkg.version.to_string().into()),
                "edition" => p.insert(k, pkg.edition.as_str().into()),
                _ => p.remove(&k),
            };
        }
    }
    absolutize_deps(&mut t, pkg_dir)?;
    let has_unasync = pkg.dependencies.iter().any(|d| d.name == "unasync" || d.rename.as_deref() == Some("unasync"));
    if !has_unasync {
        let deps = t.entry("dependencies").or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(deps) = deps {
            let mut d = toml::Table::new();
            d.insert("path".into(), unasync.to_string_lossy().into_owned().into());
            deps.insert("unasync".into(), toml::Value::Table(d));
        }
    }
    t.remove("workspace");
    t.insert("workspace".into(), toml::Value::Table(toml::Table::new()));
    toml::to_string(&t).map_err(|e| Error::new(Exit::Internal, format!("compare: writing the manifest: {e}")))
}

fn rs_files(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        if e.file_name() == "target" {
            continue;
        }
        if p.is_dir() {
            rs_files(&p, root, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p.strip_prefix(root).unwrap_or(&p).to_path_buf());
        }
    }
}

/// The first error of a failed build, from cargo's JSON messages: (file, line, message).
pub fn first_error(messages: &str) -> Option<(Vec<(String, usize)>, String)> {
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
        return Some((spans, format!("{text}{at}")));
    }
    None
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
    let w = rows.iter().map(|r| r.function.len()).max().unwrap_or(8).max(8);
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
            (None, None, _) => "rustc laid out no future (generic and not instantiated, or unused)".into(),
            (None, _, None) => "no desugared layout (never instantiated?)".into(),
            _ => String::new(),
        };
        let _ = writeln!(out, "{:<w$}  {:>6}  {:>9}  {:>5}  {note}", r.function, opt(r.rustc), opt(r.desugared), ratio);
        let _ = out.trim_end_matches(' ');
    }
    let ratio = if tn > 0 { format!("{:.2}", td as f64 / tn as f64) } else { "-".into() };
    let _ = writeln!(out, "{:<w$}  {:>6}  {:>9}  {:>5}  {n} of {} functions desugared and measured", "TOTAL", tn, td, ratio, rows.len());
    out.lines().map(|l| l.trim_end().to_string() + "\n").collect()
}

fn unasync_root(args: &CompareArgs) -> PathBuf {
    args.unasync_path
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new(".")).to_path_buf())
}

/// Largest layout per normalised function path.
fn sizes_by_path(futures: &[Future], kind: impl Fn(FutureKind) -> bool) -> HashMap<String, u64> {
    let mut m: HashMap<String, u64> = HashMap::new();
    for f in futures.iter().filter(|f| kind(f.kind)) {
        if let Some(p) = &f.path {
            // A default trait method is laid out as `<Impl as Trait>::f`: count it for both.
            for key in std::iter::once(source_path(p)).chain(crate::desugared::trait_path(p)) {
                let e = m.entry(key).or_default();
                *e = (*e).max(f.size);
            }
        }
    }
    m
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
    let unasync = unasync_root(args);
    let unasync = unasync.canonicalize().unwrap_or(unasync);
    fs::write(scratch.join("Cargo.toml"), rewrite_manifest(&manifest_text, &pkg, &pkg_dir, &unasync)?)
        .map_err(|e| Error::io("writing the copy's Cargo.toml", e))?;

    let mut files = Vec::new();
    rs_files(&scratch, &scratch, &mut files);
    let mut sources: Vec<(PathBuf, String)> = Vec::new();
    let mut cands: Vec<Candidate> = Vec::new();
    for rel in files {
        let Ok(src) = fs::read_to_string(scratch.join(&rel)) else { continue };
        let c = candidates(&rel, &src);
        if !c.is_empty() {
            cands.extend(c);
            sources.push((rel, src));
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
                let Some((spans, text)) = first_error(&msgs) else { return Err(e) };
                let hit = spans.iter().find_map(|(f, l)| {
                    let f = Path::new(f);
                    let f = f.strip_prefix(&scratch).unwrap_or(f);
                    cands.iter().enumerate().position(|(i, c)| {
                        errors[i].is_none() && c.file == f && (c.first_line..=c.last_line).contains(l)
                    })
                });
                let Some(i) = hit else {
                    return Err(Error::new(
                        Exit::BuildFailed,
                        format!("compare: the desugared copy does not compile and the error is outside every async fn: {text}"),
                    ));
                };
                eprintln!("cargo-unasync: `{}` stays native: {text}", cands[i].path);
                errors[i] = Some(text);
                rounds += 1;
                if rounds > args.max_rounds {
                    return Err(Error::new(
                        Exit::BuildFailed,
                        format!("compare: still failing after reverting {rounds} functions (--max-rounds)"),
                    ));
                }
            }
            Err(e) => return Err(e),
        }
    };
    let mut desugared = inspect::read_files(&out.files)?;
    if !verbose && let Some(dir) = out.files.first().and_then(|f| f.parent()) {
        let _ = fs::remove_dir_all(dir);
    }
    inspect::prepare(&mut desugared);
    let n = sizes_by_path(&native, |k| k == FutureKind::AsyncFn);
    let d = sizes_by_path(&desugared, |k| k == FutureKind::Desugared);
    let mut rows: Vec<Row> = cands
        .iter()
        .zip(errors)
        .map(|(c, error)| Row {
            function: c.path.clone(),
            rustc: n.get(&c.path).copied(),
            desugared: if error.is_none() { d.get(&c.path).copied() } else { None },
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
}
