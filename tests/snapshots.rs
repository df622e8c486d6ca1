//! Snapshots of every fixture: for each `#[desugar]` fn in `fixtures/src/cases/*.rs`,
//! - `snapshots/expansions/<file>__<fn>.snap`: what `#[unasync::desugar]` expands it to
//!   (`-Zunpretty=expanded` of the fixtures crate, the fn `desugared::<file>::<fn>`, pretty-printed
//!   with prettyplease);
//! - `snapshots/layouts/<file>__<fn>.snap`: rustc's layout of the native future
//!   (`native::<file>::<fn>`) beside the layout of the desugared one, state by state and field by
//!   field, with both sizes (`-Zprint-type-sizes`, read by cargo-unasync).
//!
//! One expanded build and one layout build of the fixtures crate serve all snapshots (through the
//! `cargo-unasync` binary as `RUSTC_WRAPPER`, in `target/unasync`). Source locations in type names
//! (`{closure@fixtures/src/cases/x.rs:6:1: 6:11}`) are reduced to the file so that editing one
//! fixture does not change the snapshots of the others.
//!
//! Review changes with `cargo insta review` or accept them with
//! `INSTA_UPDATE=always cargo test --test snapshots`; in CI (`CI=true`) a difference fails.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use cargo_unasync::read::cargo_run::{self, Mode, Selection};
use cargo_unasync::names::source_path;
use cargo_unasync::model::{Future, FutureKind};
use cargo_unasync::render::{self, Style};

/// A `#[desugar]` fn of a case file: `("straight", "three_awaits")`, `("methods", "Counter::bump")`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Fixture {
    file: String,
    path: String,
}

impl Fixture {
    fn snapshot_name(&self) -> String {
        format!("{}__{}", self.file, self.path.replace("::", "__"))
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn has_desugar(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().segments.last().is_some_and(|s| s.ident == "desugar"))
}

fn self_type(t: &syn::Type) -> String {
    match t {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default(),
        _ => "_".into(),
    }
}

fn collect(items: &[syn::Item], prefix: &str, file: &str, out: &mut Vec<Fixture>) {
    let join = |n: &str| if prefix.is_empty() { n.to_string() } else { format!("{prefix}::{n}") };
    for item in items {
        match item {
            syn::Item::Fn(f) if has_desugar(&f.attrs) => {
                out.push(Fixture { file: file.into(), path: join(&f.sig.ident.to_string()) })
            }
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    collect(inner, &join(&m.ident.to_string()), file, out);
                }
            }
            syn::Item::Impl(imp) => {
                let ty = join(&self_type(&imp.self_ty));
                // On the block, the attribute desugars each `async fn` in it.
                let block = has_desugar(&imp.attrs);
                for it in &imp.items {
                    if let syn::ImplItem::Fn(f) = it
                        && (has_desugar(&f.attrs) || (block && f.sig.asyncness.is_some()))
                    {
                        out.push(Fixture { file: file.into(), path: format!("{ty}::{}", f.sig.ident) });
                    }
                }
            }
            syn::Item::Trait(tr) => {
                for it in &tr.items {
                    if let syn::TraitItem::Fn(f) = it
                        && has_desugar(&f.attrs)
                    {
                        out.push(Fixture { file: file.into(), path: join(&format!("{}::{}", tr.ident, f.sig.ident)) });
                    }
                }
            }
            _ => {}
        }
    }
}

/// Every `#[desugar]` fn in `fixtures/src/cases/*.rs` (and `async fn` of a `#[desugar]` impl), sorted.
fn fixtures() -> Vec<Fixture> {
    let dir = root().join("fixtures/src/cases");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).expect("fixtures/src/cases") {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let file = p.file_stem().unwrap().to_string_lossy().into_owned();
        let src = std::fs::read_to_string(&p).unwrap();
        let parsed = syn::parse_file(&src).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        collect(&parsed.items, "", &file, &mut out);
    }
    out.sort();
    out
}

/// `{closure@fixtures/src/cases/x.rs:6:1: 6:11}` -> `{closure@fixtures/src/cases/x.rs}`, and the
/// same for `[..]` spellings and async blocks.
fn strip_locations(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(".rs:") {
        out.push_str(&rest[..i + 3]);
        let tail = &rest[i + 3..];
        let n = tail.find(|c: char| !(c.is_ascii_digit() || c == ':' || c == ' ')).unwrap_or(tail.len());
        rest = &tail[n..];
    }
    out.push_str(rest);
    out
}

/// The `cargo-unasync` binary (built on demand; it is cargo's `RUSTC_WRAPPER` for our builds).
fn wrapper(target_dir: &Path) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let st = Command::new(cargo)
        .args(["build", "--quiet", "-p", "cargo-unasync", "--bin", "cargo-unasync"])
        .current_dir(root())
        .status()
        .expect("running cargo build -p cargo-unasync");
    assert!(st.success(), "cargo build -p cargo-unasync failed");
    target_dir.join("debug").join(format!("cargo-unasync{}", std::env::consts::EXE_SUFFIX))
}

struct Built {
    /// `desugared::<file>::<fn>` -> pretty-printed expansion.
    expansions: HashMap<String, String>,
    futures: Vec<Future>,
}

fn build(wanted: &[Fixture]) -> Built {
    let sel = Selection { manifest_path: Some(root().join("fixtures/Cargo.toml")), lib: true, ..Default::default() };
    let proj = cargo_run::project(&sel, false).expect("cargo metadata");
    cargo_run::set_wrapper_exe(wrapper(proj.metadata.target_directory.as_std_path()));
    let out = cargo_run::build(&sel, &proj, Mode::Expanded, false, None).expect("expanded build of the fixtures");
    let want: std::collections::HashSet<String> = wanted.iter().map(|f| format!("desugared::{}::{}", f.file, f.path)).collect();
    let mut expansions = HashMap::new();
    for f in &out.files {
        let src = std::fs::read_to_string(f).unwrap();
        for found in cargo_unasync::cmd::expand::functions(&src).expect("parsing the expanded crate") {
            if want.contains(&found.path) && !expansions.contains_key(&found.path) {
                expansions.insert(found.path.clone(), found.source());
            }
        }
    }
    if let Some(dir) = out.files.first().and_then(|f| f.parent()) {
        let _ = std::fs::remove_dir_all(dir);
    }
    let futures = cargo_unasync::cmd::inspect::collect(&sel, false).expect("layout build of the fixtures");
    Built { expansions, futures }
}

fn instances<'a>(futures: &'a [Future], path: &str, kind: FutureKind) -> Vec<&'a Future> {
    let mut v: Vec<&Future> =
        futures.iter().filter(|f| f.kind == kind && f.path.as_deref().is_some_and(|p| source_path(p) == path)).collect();
    v.sort_by(|a, b| a.ty.cmp(&b.ty));
    v
}

fn layout_snapshot(built: &Built, fx: &Fixture) -> String {
    let native = instances(&built.futures, &format!("native::{}::{}", fx.file, fx.path), FutureKind::AsyncFn);
    let desugared = instances(&built.futures, &format!("desugared::{}::{}", fx.file, fx.path), FutureKind::Desugared);
    strip_locations(&render::pair::side_by_side(&native, &desugared, Style { color: false }))
}

fn settings(dir: &str) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(format!("../snapshots/{dir}"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

/// Every fixture, both snapshots. Mismatches are collected so one run reports (and, with
/// `INSTA_UPDATE`, writes) all of them.
#[test]
fn expansions_and_layouts() {
    let fixtures = fixtures();
    assert!(fixtures.len() > 50, "found only {} fixtures", fixtures.len());
    let built = build(&fixtures);
    let mut failed: BTreeMap<String, String> = BTreeMap::new();
    for fx in &fixtures {
        let name = fx.snapshot_name();
        let key = format!("desugared::{}::{}", fx.file, fx.path);
        let Some(expansion) = built.expansions.get(&key) else {
            failed.insert(name, format!("`{key}` is not in the expanded fixtures crate (is its file in fixtures/src/lib.rs?)"));
            continue;
        };
        let layout = layout_snapshot(&built, fx);
        for (dir, value) in [("expansions", expansion.as_str()), ("layouts", layout.as_str())] {
            let r = std::panic::catch_unwind(|| {
                settings(dir).bind(|| insta::assert_snapshot!(name.clone(), value));
            });
            if let Err(e) = r {
                let msg = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
                failed.insert(format!("{dir}/{name}"), msg.unwrap_or_default());
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} snapshot(s) differ or are missing:\n{}",
        failed.len(),
        failed.iter().map(|(k, v)| format!("  {k}: {}", v.lines().next().unwrap_or(""))).collect::<Vec<_>>().join("\n")
    );
}

/// A new fixture cannot go unsnapshotted: both files exist for every `#[desugar]` fn, and no
/// snapshot is left over from a removed one.
#[test]
fn every_fixture_has_both_snapshots() {
    let fixtures = fixtures();
    let mut missing = Vec::new();
    let mut expected = std::collections::HashSet::new();
    for fx in &fixtures {
        for dir in ["expansions", "layouts"] {
            let file = format!("{dir}/{}.snap", fx.snapshot_name());
            if !root().join("snapshots").join(&file).exists() {
                missing.push(file.clone());
            }
            expected.insert(file);
        }
    }
    let mut stale = Vec::new();
    for dir in ["expansions", "layouts"] {
        for e in std::fs::read_dir(root().join("snapshots").join(dir)).into_iter().flatten() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".snap") && !expected.contains(&format!("{dir}/{name}")) {
                stale.push(format!("{dir}/{name}"));
            }
        }
    }
    assert!(
        missing.is_empty() && stale.is_empty(),
        "missing snapshots (run `INSTA_UPDATE=always cargo test --test snapshots`): {missing:#?}\n\
         stale snapshots (their fixture is gone): {stale:#?}"
    );
}

#[test]
fn locations_are_stripped() {
    assert_eq!(
        strip_locations("Machine<a::__Frame<u8>, {closure@fixtures/src/cases/x.rs:6:1: 6:11}> [async block@src/lib.rs:3:5: 3:15]"),
        "Machine<a::__Frame<u8>, {closure@fixtures/src/cases/x.rs}> [async block@src/lib.rs]"
    );
}
