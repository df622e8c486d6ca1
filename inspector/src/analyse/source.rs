//! Which line each state and field comes from: rustc's layouts joined with the async bodies
//! [`crate::parse::source`] found in the crate's sources.
//!
//! A future is matched to a body by its fn path (async fns, desugared fns) or by the start of
//! rustc's span (blocks, closures). A span that starts on an attribute or a signature instead
//! of an `async` block is a body an attribute macro wrapped (`#[instrument]`, `#[tokio::main]`,
//! `#[async_trait]`): the fn's own body. `SuspendK` is the K-th suspension point when the counts
//! agree; otherwise states get no line (a guess would be worse). The fn future of a body an
//! attribute moved into a block has one state, awaiting that block: it points at the attribute.

use std::collections::HashMap;

use crate::model::{Future, FutureKind, SourceLoc, StateEdge};
use crate::names::{path_suffix_match, source_path, split_generics, suspend_index, trait_path};
use crate::parse::source::{Body, BodyKind, Pos};

/// The async bodies of one source file.
pub struct FileBodies {
    /// The crate it is compiled in (`mini_redis`, `mini_redis_cli`).
    pub krate: String,
    /// As rustc names it in spans: relative to the workspace root (`src/server.rs`,
    /// `member/src/lib.rs`).
    pub file: String,
    /// Absolute (rustc names files outside the workspace that way).
    pub path: std::path::PathBuf,
    pub bodies: Vec<Body>,
}

fn loc(file: &str, p: Pos) -> SourceLoc {
    SourceLoc { file: file.to_string(), line: p.line, column: p.column }
}

/// `src/lib.rs:63:5: 63:15` -> (`src/lib.rs`, 63, 5).
fn parse_span(s: &str) -> Option<(&str, Pos)> {
    let (lo, _) = s.split_once(": ").unwrap_or((s, ""));
    let mut it = lo.rsplitn(3, ':');
    let column = it.next()?.trim().parse().ok()?;
    let line = it.next()?.trim().parse().ok()?;
    Some((it.next()?, Pos { line, column }))
}

/// How a future's body was found.
enum Found<'a> {
    /// The body itself.
    Exact(&'a FileBodies, &'a Body),
    /// The fn whose body an attribute macro wrapped in this block.
    Wrapped(&'a FileBodies, &'a Body, String),
}

struct Lookup<'a> {
    files: &'a [FileBodies],
    crates: Vec<&'a str>,
}

impl<'a> Lookup<'a> {
    fn by_path(&self, f: &Future) -> Option<Found<'a>> {
        let printed = f.path.as_deref()?;
        let own = source_path(printed);
        // Named from another crate of the build: `mini_redis::server::run`.
        let foreign = own.split_once("::").filter(|(c, _)| self.crates.contains(c) && f.krate.as_deref() != Some(*c));
        let krate = foreign.map(|(c, _)| c.to_string()).or(f.krate.clone());
        let wanted: Vec<String> = match foreign {
            Some((_, rest)) => vec![rest.to_string()],
            None => std::iter::once(own.clone()).chain(trait_path(printed)).collect(),
        };
        let krate = krate.as_deref();
        let fns = || {
            self.files
                .iter()
                .filter(move |fb| krate.is_none_or(|k| fb.krate == k))
                .flat_map(|fb| fb.bodies.iter().filter(|b| b.kind == BodyKind::Fn).map(move |b| (fb, b)))
        };
        for w in &wanted {
            let exact: Vec<_> = fns().filter(|(_, b)| &b.fn_path == w).collect();
            let hits = if exact.is_empty() {
                fns().filter(|(_, b)| path_suffix_match(&b.fn_path, w) || path_suffix_match(w, &b.fn_path)).collect()
            } else {
                exact
            };
            if let [(fb, b)] = hits.as_slice() {
                return Some(Found::Exact(fb, b));
            }
        }
        None
    }

    /// `block`: the future is an async block or closure (not a fn's own body).
    fn by_span(&self, span: &str, block: bool) -> Option<Found<'a>> {
        let (file, at) = parse_span(span)?;
        let Some(fb) = self.files.iter().find(|fb| fb.file == file || fb.path == std::path::Path::new(file)) else {
            return self.by_macro_definition(file, at);
        };
        if let Some(b) = fb.bodies.iter().find(|b| b.kind != BodyKind::Fn && b.start == at) {
            return Some(Found::Exact(fb, b));
        }
        if let Some(b) = fb.bodies.iter().find(|b| b.kind == BodyKind::Fn && b.start == at) {
            // A block spanned as the fn's signature: the fn's body, moved there by an attribute
            // on the enclosing `impl` or `trait` (`#[async_trait]`), else by one of its own.
            let outer = b.macro_attrs.iter().filter(|(_, p)| *p < b.item.0).max_by_key(|(_, p)| *p);
            return Some(match outer.or(b.macro_attrs.first()) {
                Some((attr, _)) if block => Found::Wrapped(fb, b, attr.clone()),
                _ => Found::Exact(fb, b),
            });
        }
        // An attribute macro's block: the span is on the fn's attribute or signature.
        let b = fb
            .bodies
            .iter()
            .filter(|b| b.kind == BodyKind::Fn && !b.macro_attrs.is_empty() && b.item.0 <= at && at <= b.item.1)
            .min_by_key(|b| b.item.1)?;
        let attr = b.macro_attrs.iter().filter(|(_, p)| *p <= at).max_by_key(|(_, p)| *p).map(|(n, _)| n.clone());
        Some(Found::Wrapped(fb, b, attr.unwrap_or_else(|| b.macro_attrs[0].0.clone())))
    }

    /// A block written by a `macro_rules!` of a dependency (async-stream's `stream!`): the
    /// only invocation of that macro in the crate's sources.
    fn by_macro_definition(&self, file: &str, at: Pos) -> Option<Found<'a>> {
        let text = std::fs::read_to_string(file).ok()?;
        let name = text.lines().take(at.line).filter_map(|l| l.trim_start().strip_prefix("macro_rules!")).last()?;
        let name = name.trim().trim_end_matches('{').trim();
        let mut hits = self.files.iter().flat_map(|fb| {
            fb.bodies.iter().filter(move |b| b.kind == BodyKind::Block && b.macro_attrs.iter().any(|(m, _)| m == name)).map(move |b| (fb, b))
        });
        match (hits.next(), hits.next()) {
            (Some((fb, b)), None) => Some(Found::Exact(fb, b)),
            _ => None,
        }
    }

    fn find(&self, f: &Future) -> Option<Found<'a>> {
        match f.kind {
            FutureKind::AsyncFn | FutureKind::Desugared => self.by_path(f).or_else(|| f.location.as_deref().and_then(|l| self.by_span(l, false))),
            FutureKind::AsyncBlock | FutureKind::AsyncClosure => f.location.as_deref().and_then(|l| self.by_span(l, true)),
        }
    }
}

/// The binding a field of a state is, searched in `visible` (innermost last), then `upvars`.
fn binding_of<'b>(name: &str, visible: &'b [crate::parse::source::Binding], upvars: &'b [crate::parse::source::Binding]) -> Option<Pos> {
    visible.iter().rev().chain(upvars.iter().rev()).find(|b| b.name == name).map(|b| b.at)
}

/// Fills in the source locations of every future that matches a body of `files`, its stable
/// name, and its state edges (returned by type name, for the analysis to keep).
pub fn attach(futures: &mut [Future], files: &[FileBodies]) -> HashMap<String, Vec<StateEdge>> {
    let mut crates: Vec<&str> = files.iter().map(|f| f.krate.as_str()).collect();
    crates.sort_unstable();
    crates.dedup();
    let lookup = Lookup { files, crates };
    let mut edges = HashMap::new();
    // Fns whose body an attribute wrapped in a block that rustc laid out (by file and start).
    let wrapped: Vec<(String, Pos)> = futures
        .iter()
        .filter(|f| f.kind != FutureKind::AsyncFn)
        .filter_map(|f| match lookup.find(f) {
            Some(Found::Wrapped(fb, b, _)) => Some((fb.file.clone(), b.start)),
            _ => None,
        })
        .collect();
    for f in futures.iter_mut() {
        let Some(found) = lookup.find(f) else { continue };
        let (fb, b, wrapped_by) = match found {
            Found::Exact(fb, b) => (fb, b, None),
            Found::Wrapped(fb, b, attr) => (fb, b, Some(attr)),
        };
        f.source = Some(loc(&fb.file, b.start));
        f.stable_name = Some(stable_name(f, b, wrapped_by.as_deref()));
        f.wrapped_by = wrapped_by.clone();
        let suspends = f.variants.iter().filter(|v| suspend_index(&v.name).is_some()).count();
        // The fn future of a body an attribute wrapped: one state, awaiting the wrapped block.
        let outer_of_wrapped = wrapped_by.is_none()
            && f.kind == FutureKind::AsyncFn
            && wrapped.iter().any(|(file, start)| *file == fb.file && *start == b.start);
        let numbered = suspends == b.suspensions.len() && !outer_of_wrapped;
        for v in &mut f.variants {
            let k = suspend_index(&v.name);
            let s = k.filter(|_| numbered).and_then(|k| b.suspensions.get(k));
            v.source = match (v.name.as_str(), k) {
                ("Unresumed", _) => Some(loc(&fb.file, b.start)),
                ("Returned" | "Panicked", _) => Some(loc(&fb.file, b.end)),
                (_, Some(_)) if outer_of_wrapped => b.macro_attrs.first().map(|(_, p)| loc(&fb.file, *p)),
                _ => s.map(|s| loc(&fb.file, s.at)),
            };
            v.awaits = match s {
                Some(s) => Some(s.text.clone()),
                None if outer_of_wrapped && k.is_some() => b.macro_attrs.first().map(|(n, _)| format!("the body #[{n}] wraps")),
                None => None,
            };
            let visible = s.map(|s| s.visible.as_slice()).unwrap_or(&[]);
            let state_at = v.source.clone();
            for x in &mut v.fields {
                if x.name == "__awaitee" && k.is_some() {
                    x.source = state_at.clone();
                    continue;
                }
                let at = if x.name.starts_with('.') || x.name.starts_with("__") || x.name.starts_with("coroutine_field") {
                    None
                } else if x.kind == "upvar" {
                    binding_of(&x.name, &[], &b.upvars)
                } else if k.is_none() || x.kind == "frame" {
                    // Kept in every state (desugared prefix) or an argument still unmoved.
                    b.suspensions.iter().find_map(|s| binding_of(&x.name, &s.visible, &[])).or_else(|| binding_of(&x.name, &[], &b.upvars))
                } else {
                    binding_of(&x.name, visible, &b.upvars)
                };
                x.source = at.map(|p| loc(&fb.file, p));
            }
        }
        if numbered {
            let name = |s: Option<usize>, from: bool| match s {
                Some(k) => format!("Suspend{k}"),
                None if from => "Unresumed".to_string(),
                None => "Returned".to_string(),
            };
            let list = b.edges.iter().map(|(a, c)| StateEdge { from: name(*a, true), to: name(*c, false) }).collect();
            edges.insert(f.ty.clone(), list);
        }
    }
    edges
}

fn stable_name(f: &Future, b: &Body, wrapped_by: Option<&str>) -> String {
    if let Some(attr) = wrapped_by {
        return format!("{}::{{#[{attr}] body}}", b.fn_path);
    }
    match (b.kind, b.ordinal) {
        (BodyKind::Block, Some(n)) => format!("{}::{{async block#{n}}}", b.fn_path),
        (BodyKind::Closure, Some(n)) => format!("{}::{{async closure#{n}}}", b.fn_path),
        // Generic instances differ by their arguments: keep them (`generic<u8>`).
        _ => match f.path.as_deref().map(split_generics) {
            Some((_, Some(args))) => format!("{}<{args}>", b.fn_path),
            _ => b.fn_path.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans() {
        assert_eq!(parse_span("src/lib.rs:63:5: 63:15"), Some(("src/lib.rs", Pos { line: 63, column: 5 })));
        assert_eq!(parse_span("/a/b-0.3.5/src/lib.rs:229:9: 229:63").map(|s| s.1.line), Some(229));
        assert_eq!(parse_span("mini_redis::server::Listener::run::{closure#0}"), None);
    }
}
