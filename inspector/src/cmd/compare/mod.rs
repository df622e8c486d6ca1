//! `cargo unasync compare`: rustc's future size against `#[unasync::desugar]`'s, per `async fn`.
//!
//! The package is copied to `<target-dir>/unasync/compare/<name>/` (the user's files are never
//! touched): relative path dependencies become absolute, `unasync` is added as a path dependency
//! when missing, and `#[::unasync::desugar]` is put on every `async fn` with a body (after its
//! other attributes, on the same line, so line numbers do not move). Both crates are built with
//! `-Zprint-type-sizes` into the same target directory. When the copy does not compile, each
//! error keeps one function native ([`blame`]: the one whose expansion it comes from, else the
//! one holding its span), listed with that error, and the copy is built again; at most
//! `--max-rounds` times. When that cannot help (an error outside every async fn), the table is
//! printed all the same and the exit code is 8.
//! The functions are those of the targets the selection builds, found by following `mod`
//! declarations from each target's root; a workspace member's inherited fields and dependencies
//! are written out from the workspace root's manifest ([`rewrite_manifest`]).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::cmd::inspect;
use crate::error::{Error, Exit};
use crate::model::{Future, FutureKind};
use crate::names::{in_async_fn_body, path_suffix_match, source_path, trait_path};
use crate::read::cargo_run::{self, Mode, Project, Selection};
use crate::read::sources::{crate_files, is_library, selected_targets};

mod candidates;
mod errors;
mod manifest;
mod report;

pub use candidates::{Candidate, annotate, candidates, candidates_in};
pub use errors::{CompileError, blame, errors};
pub use manifest::{WorkspaceRoot, rewrite_manifest};
pub use report::{Row, render};

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

fn unasync_root(args: &CompareArgs) -> PathBuf {
    args.unasync_path
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new(".")).to_path_buf())
}

/// Largest layout per crate and normalised function path, of the futures `keep` selects. A
/// future another crate of the build printed for one of `crates` (`mini_redis::server::run<..>`
/// laid out by a binary) counts for that crate, its path without the crate's name.
fn sizes_by_path(futures: &[Future], crates: &[String], keep: impl Fn(&Future) -> bool) -> HashMap<(String, String), u64> {
    let mut m: HashMap<(String, String), u64> = HashMap::new();
    for f in futures.iter().filter(|f| keep(f)) {
        let Some(p) = &f.path else { continue };
        // A default trait method is laid out as `<Impl as Trait>::f`: count it for both.
        for key in std::iter::once(source_path(p)).chain(trait_path(p)) {
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

const ASYNC_TRAIT_BODY: &str = "::{#[async_trait] body}";

/// rustc's future per function of the original crate: its `async fn` body
/// (`{async fn body of Client::get()}`, under `#[tracing::instrument]` too: the fn stays async
/// and awaits `Instrumented<{async block}>`, which it holds with the span). An `#[async_trait]`
/// method has none (it is a plain `fn` returning `Pin<Box<dyn Future>>`): its future is the
/// boxed `async move` block of its body (`Mem::get::{#[async_trait] body}`, named from the
/// sources), the future the desugared copy replaces with its machine.
fn native_sizes(futures: &[Future], crates: &[String]) -> HashMap<(String, String), u64> {
    let mut m = sizes_by_path(futures, crates, |f| f.kind == FutureKind::AsyncFn);
    let mut bodies: HashMap<(String, String), u64> = HashMap::new();
    for f in futures.iter().filter(|f| f.kind == FutureKind::AsyncBlock && f.wrapped_by.as_deref() == Some("async_trait")) {
        let Some(path) = f.stable_name.as_deref().and_then(|n| n.strip_suffix(ASYNC_TRAIT_BODY)) else { continue };
        let e = bodies.entry((f.krate.clone().unwrap_or_default(), path.to_string())).or_default();
        *e = (*e).max(f.size);
    }
    for (key, size) in bodies {
        m.entry(key).or_insert(size);
    }
    m
}

/// The desugared copy's future per function, the same unit as [`native_sizes`]:
/// - the `Machine` of a fn `#[unasync::desugar]` lowered itself (the fn returns it), or of an
///   `#[async_trait]` method (the machine is what `Box::pin` boxes, where rustc boxed the block);
/// - for a fn whose body another attribute made into an `async move` block inside an `async fn`
///   that it keeps (`#[tracing::instrument]`), lowered in place: the machine's types are declared
///   in that fn's body (`Client::get::{closure#0}::__Frame_..`), and the fn's future is still
///   rustc's `{async fn body of Client::get()}`, now awaiting `Instrumented<Machine<..>>`. That
///   async fn body is the fn's future, as on the native side (which holds `Instrumented<{async
///   block}>` there), so it is the one measured, not the machine alone: both sides then count the
///   span, the wrapper and the arguments tracing's fn keeps next to the body's future.
fn desugared_sizes(futures: &[Future], crates: &[String]) -> HashMap<(String, String), u64> {
    let in_place = |f: &Future| f.path.as_deref().is_some_and(|p| in_async_fn_body(&source_path(p)).is_some());
    let desugared = |f: &Future| f.kind == FutureKind::Desugared;
    let mut m = sizes_by_path(futures, crates, |f| desugared(f) && !in_place(f));
    let machines = sizes_by_path(futures, crates, |f| desugared(f) && in_place(f));
    let fn_bodies = sizes_by_path(futures, crates, |f| f.kind == FutureKind::AsyncFn);
    for (krate, machine) in machines.keys() {
        let Some(function) = in_async_fn_body(machine) else { continue };
        let size = fn_bodies
            .iter()
            .filter(|((k, p), _)| k == krate && (p == function || path_suffix_match(function, p) || path_suffix_match(p, function)))
            .map(|(_, &v)| v)
            .max();
        if let Some(size) = size {
            let e = m.entry((krate.clone(), function.to_string())).or_default();
            *e = (*e).max(size);
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
        .filter(|((k, p), _)| *k == c.krate && path_suffix_match(&c.path, p))
        .filter(|((k, p), _)| {
            !cands
                .iter()
                .enumerate()
                .any(|(j, o)| j != i && o.krate == *k && path_suffix_match(&o.path, p))
        })
        .map(|(_, &v)| v)
        .max()
}

/// What `compare` found: one row per `async fn` (sorted by path), and why the copy could not
/// be built at all, when it could not (then no row has a desugared size).
pub struct Comparison {
    pub rows: Vec<Row>,
    pub failure: Option<String>,
}

pub fn run(args: &CompareArgs, verbose: bool) -> Result<(), Error> {
    let c = compare(args, verbose)?;
    print!("{}", render(&c.rows));
    match c.failure {
        Some(why) => Err(Error::new(Exit::CopyFailed, why)),
        None => Ok(()),
    }
}

/// Does the work of `compare`.
pub fn compare(args: &CompareArgs, verbose: bool) -> Result<Comparison, Error> {
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
    // Why the copy cannot be built when keeping more fns native does not help (the loop then
    // ends without a build).
    let mut failure = None;
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
            Ok(o) => break Some(o),
            Err(e) if e.exit == Exit::BuildFailed => {
                // Every function an error points into stays native; then build again.
                let all = self::errors(&msgs);
                let Some(first) = all.first() else { return Err(e) };
                let mut reverted = 0;
                for err in &all {
                    if let Some(i) = blame(err, &cands, &scratch, |i| errors[i].is_none()) {
                        eprintln!("cargo-unasync: `{}` stays native: {}", cands[i].display(), err.text);
                        errors[i] = Some(err.text.clone());
                        reverted += 1;
                    }
                }
                if reverted == 0 {
                    failure = Some(format!(
                        "compare: the desugared copy ({}) does not compile, and the error is outside every async fn, so keeping \
                         functions native cannot help: {}",
                        scratch.display(),
                        first.text
                    ));
                    break None;
                }
                rounds += 1;
                if rounds >= args.max_rounds {
                    let native = errors.iter().filter(|e| e.is_some()).count();
                    failure = Some(format!(
                        "compare: the desugared copy still does not compile after {rounds} rebuilds ({native} functions kept native so far); \
                         raise --max-rounds"
                    ));
                    break None;
                }
                eprintln!("cargo-unasync: {reverted} function(s) stay native; building the copy again");
            }
            Err(e) => return Err(e),
        }
    };
    let mut desugared = match &out {
        Some(out) => crate::parse::captures::read_files(&out.files)?,
        None => Vec::new(),
    };
    if !verbose && let Some(dir) = out.as_ref().and_then(|o| o.files.first()).and_then(|f| f.parent()) {
        let _ = fs::remove_dir_all(dir);
    }
    crate::analyse::prepare(&mut desugared);
    let n = native_sizes(&native, &crates);
    let d = desugared_sizes(&desugared, &crates);
    let mut rows: Vec<Row> = errors
        .into_iter()
        .enumerate()
        .map(|(i, error)| Row {
            function: cands[i].display(),
            rustc: lookup(&n, &cands, i),
            desugared: if error.is_none() { lookup(&d, &cands, i) } else { None },
            not_built: error.is_none() && failure.is_some(),
            error,
        })
        .collect();
    rows.sort_by(|a, b| a.function.cmp(&b.function));
    Ok(Comparison { rows, failure })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fn_lowered_in_place_is_measured_by_its_own_future() {
        // Captured: `Client::get` under `#[tracing::instrument]`, `fetch` under `#[async_trait]`.
        let mut fs = crate::parse::layout::parse_str(include_str!("../../../tests/samples/rustc-1.95-inplace.txt"));
        crate::analyse::prepare(&mut fs);
        let d = desugared_sizes(&fs, &[]);
        let size = |p: &str| d.get(&(String::new(), p.to_string())).copied();
        // `{async fn body of Client::get()}` (520), not its machine (408) alone: natively the
        // fn's future holds tracing's span and `Instrumented<{async block}>` the same way.
        assert_eq!(size("Client::get"), Some(520));
        assert_eq!(size("Client::get::{closure#0}"), None);
        // The boxed machine, where rustc boxed the block; `leaf` returns its machine.
        assert_eq!(size("Client::fetch"), Some(408));
        assert_eq!(size("leaf"), Some(264));
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
