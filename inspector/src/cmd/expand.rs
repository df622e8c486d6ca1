//! `cargo unasync expand PATH`: the macro-expanded source of one function, pretty-printed, next
//! to rustc's layout of its future.
//!
//! Nothing here depends on what `#[unasync::desugar]` expands to beyond the function keeping its
//! name: the function is looked up by path in rustc's `-Zunpretty=expanded` output.

use std::path::PathBuf;

use syn::{ImplItem, Item, TraitItem, Type};

use crate::cmd::inspect;
use crate::error::{Error, Exit};
use crate::model::{Future, FutureKind};
use crate::names::{in_async_fn_body, path_suffix_match, source_path};
use crate::read::capture_crate;
use crate::read::cargo_run::{self, Mode, Selection};
use crate::render;

#[derive(Debug, Clone, clap::Args)]
pub struct ExpandArgs {
    /// Function path, e.g. `cases::straight::simple` or `Connection::read_frame` (a suffix of the
    /// path from the crate root is enough when it is unambiguous)
    pub path: String,
    /// Only print the expanded function, skip the layout build
    #[arg(long)]
    pub no_layout: bool,
    /// Read an already expanded source file instead of building
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    #[command(flatten)]
    pub selection: Selection,
}

/// A function found in the expanded source.
#[derive(Clone)]
pub struct Found {
    /// Path from the crate root: `cases::straight::simple`, `connection::Connection::read_frame`.
    pub path: String,
    /// The fn, or its impl/trait block holding only it.
    pub item: Item,
    /// The crate whose expanded source holds it (a package's library and binaries may have
    /// functions with the same path, `main` for one), when known.
    pub krate: Option<String>,
}

impl Found {
    /// Pretty-printed with prettyplease (done on demand: printing every function of a large
    /// expanded crate is slow).
    pub fn source(&self) -> String {
        unparse(self.item.clone())
    }
}

fn type_name(t: &Type) -> String {
    match t {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default(),
        Type::Reference(r) => type_name(&r.elem),
        _ => "_".into(),
    }
}

fn unparse(item: Item) -> String {
    let mut f = syn::parse_file("").expect("an empty file parses");
    f.items = vec![item];
    prettyplease::unparse(&f)
}

fn walk(items: &[Item], prefix: &str, out: &mut Vec<Found>) {
    let join = |name: &str| if prefix.is_empty() { name.to_string() } else { format!("{prefix}::{name}") };
    for item in items {
        match item {
            Item::Fn(f) => out.push(Found { path: join(&f.sig.ident.to_string()), item: item.clone(), krate: None }),
            Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    walk(inner, &join(&m.ident.to_string()), out);
                }
            }
            Item::Impl(imp) => {
                let ty = join(&type_name(&imp.self_ty));
                for (i, it) in imp.items.iter().enumerate() {
                    if let ImplItem::Fn(f) = it {
                        let mut one = imp.clone();
                        one.items = vec![imp.items[i].clone()];
                        out.push(Found {
                            path: format!("{ty}::{}", f.sig.ident),
                            item: Item::Impl(one),
                            krate: None,
                        });
                    }
                }
            }
            Item::Trait(tr) => {
                let ty = join(&tr.ident.to_string());
                for (i, it) in tr.items.iter().enumerate() {
                    if let TraitItem::Fn(f) = it {
                        let mut one = tr.clone();
                        one.items = vec![tr.items[i].clone()];
                        out.push(Found {
                            path: format!("{ty}::{}", f.sig.ident),
                            item: Item::Trait(one),
                            krate: None,
                        });
                    }
                }
            }
            _ => {}
        }
    }
}

/// Every function in an expanded source file, with its path.
pub fn functions(src: &str) -> Result<Vec<Found>, Error> {
    let unreadable = |e: &dyn std::fmt::Display| Error::new(Exit::Internal, format!("cannot parse rustc's expanded source: {e}"));
    let tokens: proc_macro2::TokenStream = src.parse().map_err(|e| unreadable(&e))?;
    let file: syn::File = syn::parse2(without_super_let(tokens)).map_err(|e| unreadable(&e))?;
    let mut out = Vec::new();
    walk(&file.items, "", &mut out);
    Ok(out)
}

/// `super let` (what `pin!` and `format_args!` expand to since Rust 1.88, unstable syntax syn
/// does not parse) as `let`: the shown expansion differs from rustc's only in that keyword.
fn without_super_let(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    use proc_macro2::TokenTree;
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    for (index, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Ident(ident) if ident == "super" && matches!(tokens.get(index + 1), Some(TokenTree::Ident(next)) if next == "let") => {}
            TokenTree::Group(group) => {
                let mut rebuilt = proc_macro2::Group::new(group.delimiter(), without_super_let(group.stream()));
                rebuilt.set_span(group.span());
                out.push(TokenTree::Group(rebuilt));
            }
            other => out.push(other.clone()),
        }
    }
    out.into_iter().collect()
}

/// Functions whose path is `path` or ends with `::path`; an exact match wins.
pub fn find(fns: Vec<Found>, path: &str) -> Result<Found, Error> {
    let path = path.trim_start_matches("crate::");
    let all: Vec<String> = fns.iter().map(|f| f.path.clone()).collect();
    let mut hits: Vec<Found> = fns.into_iter().filter(|f| path_suffix_match(&f.path, path)).collect();
    if hits.iter().filter(|f| f.path == path).count() == 1 {
        let i = hits.iter().position(|f| f.path == path).expect("one exact match");
        return Ok(hits.swap_remove(i));
    }
    if hits.iter().any(|f| f.path == path) {
        hits.retain(|f| f.path == path);
    }
    match hits.len() {
        0 => Err(Error::new(Exit::NotFound, format!("no function `{path}` in the expanded crate{}", did_you_mean(&all, path)))),
        1 => Ok(hits.pop().expect("one")),
        _ => {
            let several_crates = hits.iter().any(|f| f.krate != hits[0].krate);
            let name = |f: &Found| match (&f.krate, several_crates) {
                (Some(k), true) => format!("{} (crate {k})", f.path),
                _ => f.path.clone(),
            };
            let hint = if several_crates { "; pick the target with --lib or --bin NAME" } else { "" };
            Err(Error::new(
                Exit::NotFound,
                format!("`{path}` is ambiguous: {}{hint}", hits.iter().map(name).collect::<Vec<_>>().join(", ")),
            ))
        }
    }
}

/// `; did you mean `a::b`, `c::d`?` for the paths closest to `path` (by the edit distance of
/// their last segments, then of the whole path), or nothing when none is close.
fn did_you_mean(paths: &[String], path: &str) -> String {
    let last = path.rsplit("::").next().unwrap_or(path);
    let mut scored: Vec<(f64, &String)> = paths
        .iter()
        .map(|p| {
            let own = p.rsplit("::").next().unwrap_or(p);
            (strsim::jaro_winkler(own, last).max(strsim::jaro_winkler(p, path)), p)
        })
        .filter(|(s, _)| *s >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    if scored.is_empty() {
        return String::new();
    }
    let names: Vec<String> = scored.iter().take(3).map(|(_, p)| format!("`{p}`")).collect();
    format!("; did you mean {}?", names.join(", "))
}

/// Every function of the selection after macro expansion (one build with
/// `-Zunpretty=expanded`), each with its crate; once per crate when several targets compile it.
pub fn expanded_functions(sel: &Selection, verbose: bool) -> Result<Vec<Found>, Error> {
    let proj = cargo_run::project(sel, verbose)?;
    let out = cargo_run::build(sel, &proj, Mode::Expanded, verbose, None)?;
    let mut fns = Vec::new();
    for f in &out.files {
        let src = std::fs::read_to_string(f).map_err(|e| Error::io(&format!("reading {}", f.display()), e))?;
        let krate = capture_crate(f);
        fns.extend(functions(&src)?.into_iter().map(|found| Found { krate: krate.clone(), ..found }));
    }
    if !verbose && let Some(dir) = out.files.first().and_then(|f| f.parent()) {
        let _ = std::fs::remove_dir_all(dir);
    }
    let mut seen = std::collections::HashSet::new();
    fns.retain(|f| seen.insert((f.krate.clone(), f.path.clone())));
    Ok(fns)
}

pub fn run(args: &ExpandArgs, verbose: bool) -> Result<(), Error> {
    let fns = match &args.input {
        Some(p) => functions(&std::fs::read_to_string(p).map_err(|e| Error::io(&format!("reading {}", p.display()), e))?)?,
        None => expanded_functions(&args.selection, verbose)?,
    };
    let found = find(fns, &args.path)?;
    let st = inspect::style();
    println!("// `{}`, as rustc sees it after macro expansion", found.path);
    print!("{}", found.source());
    if args.no_layout || args.input.is_some() {
        return Ok(());
    }
    println!();
    let futures = match inspect::collect(&args.selection, verbose) {
        Ok(f) => f,
        Err(e) if e.exit == Exit::NoFutures => Vec::new(),
        Err(e) => return Err(e),
    };
    // Layouts the function's own crate printed, and those other crates of the build printed
    // for it (a generic library fn instantiated by a binary: `mini_redis::server::run<..>`).
    let futures: Vec<Future> = match &found.krate {
        Some(k) => {
            let prefix = format!("{k}::");
            futures
                .into_iter()
                .filter(|f| {
                    f.krate.is_none()
                        || f.krate.as_ref() == Some(k)
                        || f.path.as_deref().is_some_and(|p| source_path(p).starts_with(&prefix))
                })
                .collect()
        }
        None => futures,
    };
    let names = render::Names::new(&futures);
    let mine = futures_for_path(&futures, &found.path);
    if mine.is_empty() {
        println!(
            "// rustc laid out no future for `{}`: it is not an async fn (nor a #[unasync::desugar] one), \
             or it is never compiled (generic, unused)",
            found.path
        );
    } else {
        println!("// rustc's layout:");
        for f in &mine {
            print!("{}", render::table::detail(f, &names, st));
        }
    }
    // The same source compiled the other way (the fixtures' `native::X` / `desugared::X`).
    if let Some(twin) = twin_path(&found.path) {
        let others = futures_for_path(&futures, &twin);
        if !others.is_empty() {
            println!();
            println!("// rustc's layout of its twin `{twin}`:");
            for f in &others {
                print!("{}", render::table::detail(f, &names, st));
            }
            let (n, d): (Vec<&Future>, Vec<&Future>) = mine
                .iter()
                .chain(others.iter())
                .partition(|f| f.kind != FutureKind::Desugared);
            if !n.is_empty() && !d.is_empty() {
                println!();
                println!("// side by side:");
                print!("{}", render::pair::side_by_side(&n, &d, st));
            }
        }
    }
    Ok(())
}

/// Used by `expand`: futures belonging to the fn at `path` (rustc may print trimmed paths;
/// `<T as Trait>::f` matches `T::f`), native and desugared, sorted by type name. A machine
/// lowered in place inside the fn's async body (`Client::get::{closure#0}`, under
/// `#[tracing::instrument]`) belongs to the fn.
pub fn futures_for_path<'a>(futures: &'a [Future], path: &str) -> Vec<&'a Future> {
    let path = source_path(path);
    let mut v: Vec<&Future> = futures
        .iter()
        .filter(|f| {
            f.path.as_deref().is_some_and(|p| {
                let p = source_path(p);
                let p = match f.kind {
                    FutureKind::Desugared => in_async_fn_body(&p).map(str::to_string).unwrap_or(p),
                    _ => p,
                };
                path_suffix_match(&path, &p) || path_suffix_match(&p, &path)
            })
        })
        .collect();
    v.sort_by(|a, b| a.ty.cmp(&b.ty));
    v
}

/// The fixtures convention: `desugared::X` and `native::X` are the same source compiled twice.
/// Returns the other one's path, if `path` has such a segment.
pub fn twin_path(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.split("::").collect();
    let i = segs.iter().position(|s| *s == "desugared" || *s == "native")?;
    let mut t: Vec<String> = segs.iter().map(|s| s.to_string()).collect();
    t[i] = if segs[i] == "desugared" { "native" } else { "desugared" }.to_string();
    Some(t.join("::"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_super_let_from_pin() {
        // rustc 1.95's `-Zunpretty=expanded` of `let f = pin!(fut);` in an async fn.
        let src = "fn main() { let f = { super let mut pinned = fut; unsafe { ::core::pin::Pin::new_unchecked(&mut pinned) } }; }\nasync fn g() { let s = \"super let\"; }";
        let found = functions(src).expect("parsed");
        let paths: Vec<&str> = found.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["main", "g"]);
        assert!(found[0].source().contains("let mut pinned = fut;"));
        assert!(found[1].source().contains("\"super let\""), "string literals are kept");
    }

    #[test]
    fn same_path_in_two_crates_is_ambiguous() {
        let f = |k: &str| Found {
            path: "main".into(),
            item: syn::parse_str("fn main() {}").unwrap(),
            krate: Some(k.into()),
        };
        let e = find(vec![f("cli"), f("server")], "main").err().expect("ambiguous");
        assert_eq!(e.exit, Exit::NotFound);
        assert!(e.message.contains("main (crate cli), main (crate server)"), "{}", e.message);
        assert!(e.message.contains("--bin"), "{}", e.message);
        assert_eq!(find(vec![f("cli")], "main").unwrap().krate.as_deref(), Some("cli"));
    }

    #[test]
    fn a_missing_name_gets_suggestions() {
        let f = |p: &str| Found { path: p.into(), item: syn::parse_str("fn x() {}").unwrap(), krate: None };
        let fns = vec![f("connection::Connection::read_frame"), f("connection::Connection::write_frame"), f("server::run")];
        let e = find(fns, "Connection::read_fram").err().expect("missing");
        assert_eq!(e.exit, Exit::NotFound);
        assert!(e.message.ends_with("did you mean `connection::Connection::read_frame`, `connection::Connection::write_frame`?"), "{}", e.message);
        let e = find(vec![f("server::run")], "zzz").err().unwrap();
        assert!(!e.message.contains("did you mean"), "{}", e.message);
    }
}
