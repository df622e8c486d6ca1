//! Why each byte of a future is there.
//!
//! A coroutine is as large as its largest state (plus the discriminant and end padding). For that
//! state the analysis splits the bytes into: the awaited future (`__awaitee`), arguments stored
//! twice (rustc keeps the captured argument, the `upvar`, next to the moved `local` copy),
//! other upvars and locals, and padding. It then follows the largest awaitee's type to its own
//! layout, and so on down (the chain of nested futures), and estimates where one `Box::pin` would
//! save the most bytes of the outermost future.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::{Future, FutureKind};

/// Size of `Pin<Box<F>>` for a sized `F`: one pointer.
pub const BOX_SIZE: u64 = std::mem::size_of::<usize>() as u64;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bytes {
    /// `awaitee`, `args_twice`, `upvars`, `locals`, `padding`, `discriminant`, `end_padding`.
    pub what: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicatedArg {
    pub name: String,
    pub size: u64,
    /// States holding both the upvar and the local copy.
    pub variants: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLink {
    /// The future holding the awaitee.
    pub future: String,
    pub variant: String,
    /// The awaitee's type (as printed inside `future`).
    #[serde(rename = "type")]
    pub ty: String,
    pub size: u64,
    /// The layout entry the awaitee resolved to, when it is a future in the report.
    pub resolved: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoxPin {
    /// The future whose source should `Box::pin` the await.
    pub in_future: String,
    pub variant: String,
    /// The awaited future's type to box.
    #[serde(rename = "type")]
    pub ty: String,
    pub awaitee_size: u64,
    /// Estimated size of the outermost future afterwards.
    pub new_size: u64,
    pub saved: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analysis {
    /// The state that determines the size.
    pub largest_variant: Option<String>,
    /// Bytes of the largest state by category; sums to `size`.
    pub breakdown: Vec<Bytes>,
    pub duplicated_args: Vec<DuplicatedArg>,
    /// Largest awaited future first, then the largest awaitee inside it, and so on.
    pub awaitee_chain: Vec<ChainLink>,
    /// `bool` temporaries saved across awaits (`.coroutine_fieldN: bool`): almost always drop flags.
    pub drop_flags: u64,
    pub box_pin: Option<BoxPin>,
}

/// Lookup from type names (as printed in awaitee fields) to layout entries.
pub struct Index<'a> {
    by_name: HashMap<&'a str, usize>,
    by_last: HashMap<String, Vec<usize>>,
    futures: &'a [Future],
}

/// Last path segment of an async fn path, generics included: `Connection::read_frame` ->
/// `read_frame`. Generic arguments may themselves hold `::`, so split outside `<..>` only.
fn last_segment(path: &str) -> &str {
    let start = top_level_segments(path).last().copied().unwrap_or(0);
    &path[start..]
}

/// Byte offsets where the `::`-separated segments of `path` start (outside `<..>`).
fn top_level_segments(path: &str) -> Vec<usize> {
    let mut depth = 0i32;
    let b = path.as_bytes();
    let mut out = vec![0];
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'<' => depth += 1,
            b'>' => depth -= 1,
            b':' if depth == 0 && i + 1 < b.len() && b[i + 1] == b':' => {
                out.push(i + 2);
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// True when `short` equals `long` or is a `::`-boundary suffix of it (rustc trims paths in field
/// types: `Connection::read_frame` for `connection::Connection::read_frame`).
pub fn path_suffix_match(long: &str, short: &str) -> bool {
    long == short || (long.ends_with(short) && long[..long.len() - short.len()].ends_with("::"))
}

impl<'a> Index<'a> {
    pub fn new(futures: &'a [Future]) -> Self {
        let mut by_name = HashMap::new();
        let mut by_last: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, f) in futures.iter().enumerate() {
            by_name.insert(f.ty.as_str(), i);
            if let Some(p) = &f.path {
                by_last.entry(last_segment(p).to_string()).or_default().push(i);
            }
        }
        Index { by_name, by_last, futures }
    }

    /// Resolves an awaitee type of `size` bytes to a layout entry. A wrapper around one future
    /// (`Instrumented<{async block@..}>`, `Timeout<{async fn body of f()}>`) resolves to the future
    /// it wraps, when exactly one of its generic arguments is a future of the report no larger
    /// than the wrapper.
    pub fn resolve(&self, ty: &str, size: u64) -> Option<&'a Future> {
        self.resolve_sized(ty, size, true).or_else(|| {
            let (base, Some(args)) = crate::desugared::split_generics(ty) else { return None };
            if base.starts_with('{') {
                return None;
            }
            let inner: Vec<&Future> = crate::desugared::split_args(args)
                .into_iter()
                .filter(|a| a.starts_with('{') || a.contains('<'))
                .filter_map(|a| self.resolve_sized(a, size, false).or_else(|| self.resolve(a, size)))
                .filter(|f| f.size <= size)
                .collect();
            (inner.len() == 1).then(|| inner[0])
        })
    }

    /// `exact`: the entry must have `size` bytes; otherwise at most `size`.
    fn resolve_sized(&self, ty: &str, size: u64, exact: bool) -> Option<&'a Future> {
        if let Some(&i) = self.by_name.get(ty) {
            return Some(&self.futures[i]);
        }
        let path = ty.strip_prefix("{async fn body of ")?.strip_suffix("()}")?;
        let same_size = self
            .by_last
            .get(last_segment(path))?
            .iter()
            .map(|&i| &self.futures[i])
            .filter(move |f| if exact { f.size == size } else { f.size <= size });
        // The path as printed, then without its leading segments: a future of another crate of the
        // build is named from outside, through re-exports (`mini_redis::Client::get` for the
        // library's `clients::client::Client::get`), down to `Type::method`.
        let segs = top_level_segments(path);
        let keep = if segs.len() > 1 { 2 } else { 1 };
        for skip in 0..=segs.len().saturating_sub(keep) {
            let short = &path[segs[skip]..];
            let cands: Vec<&Future> = same_size
                .clone()
                .filter(|f| f.path.as_deref().is_some_and(|p| path_suffix_match(p, short)))
                .collect();
            match cands.len() {
                0 => continue,
                1 => return Some(cands[0]),
                _ => return None,
            }
        }
        None
    }
}

fn round_up(n: u64, align: u64) -> u64 {
    if align <= 1 { n } else { n.div_ceil(align) * align }
}

/// Estimated size of `f` if field `field` of state `variant` had `new_size` bytes: that state
/// shrinks by the difference (rustc would lay the fields after it out again), the others keep
/// their extent. An estimate: alignment of the moved fields is ignored.
pub fn size_with(f: &Future, variant: usize, field: usize, new_size: u64) -> u64 {
    let mut end = f.discriminant;
    for (vi, v) in f.variants.iter().enumerate() {
        let mut e = v.end();
        if vi == variant {
            e -= v.fields[field].size.saturating_sub(new_size).min(e);
        }
        end = end.max(e);
    }
    round_up(end, f.align).min(f.size)
}

fn largest_awaitee(f: &Future, variant: usize) -> Option<usize> {
    f.variants[variant]
        .fields
        .iter()
        .enumerate()
        .filter(|(_, x)| x.name == "__awaitee")
        .max_by_key(|(_, x)| x.size)
        .map(|(i, _)| i)
}

fn largest_variant(f: &Future) -> Option<usize> {
    // The state reaching furthest decides the size; among those, the one using the most bytes
    // (desugared futures only: they keep their prefix at the end of every state); then the earliest.
    let mut best: Option<(usize, (u64, u64))> = None;
    for (i, v) in f.variants.iter().enumerate() {
        let used = if f.kind == FutureKind::Desugared { v.fields.iter().map(|x| x.size).sum::<u64>() } else { 0 };
        let e = (v.end().max(v.size), used);
        if best.is_none_or(|(_, b)| e > b) {
            best = Some((i, e));
        }
    }
    best.map(|(i, _)| i)
}

/// Analyses one future against the whole report (for following awaitee types).
pub fn analyse(f: &Future, index: &Index<'_>) -> Analysis {
    let lv = largest_variant(f);
    let mut breakdown = Vec::new();
    let mut duplicated_args = Vec::new();
    let mut drop_flags = 0;
    for v in &f.variants {
        for fld in &v.fields {
            if fld.kind == "local" && v.fields.iter().any(|u| u.kind == "upvar" && u.name == fld.name) {
                match duplicated_args.iter_mut().find(|d: &&mut DuplicatedArg| d.name == fld.name) {
                    Some(d) => d.variants.push(v.name.clone()),
                    None => duplicated_args.push(DuplicatedArg {
                        name: fld.name.clone(),
                        size: fld.size,
                        variants: vec![v.name.clone()],
                    }),
                }
            }
        }
    }
    if let Some(vi) = lv {
        let v = &f.variants[vi];
        drop_flags = v
            .fields
            .iter()
            .filter(|x| x.name.starts_with(".coroutine_field") && x.ty.as_deref() == Some("bool"))
            .count() as u64;
        let mut add = |what: &str, bytes: u64| {
            if bytes > 0 {
                breakdown.push(Bytes { what: what.to_string(), bytes });
            }
        };
        let sum = |p: &dyn Fn(&crate::model::Field) -> bool| -> u64 {
            v.fields.iter().filter(|x| p(x)).map(|x| x.size).sum()
        };
        let is_dup = |x: &crate::model::Field| {
            x.kind == "local" && v.fields.iter().any(|u| u.kind == "upvar" && u.name == x.name)
        };
        add("awaitee", sum(&|x| x.name == "__awaitee"));
        add("args_twice", sum(&|x| is_dup(x)));
        add("upvars", sum(&|x| x.kind == "upvar"));
        add("locals", sum(&|x| x.kind != "upvar" && x.name != "__awaitee" && !is_dup(x)));
        let used: u64 = v.fields.iter().map(|x| x.size).sum();
        let pad = f.size.saturating_sub(used + f.discriminant + f.end_padding);
        add("padding", pad);
        add("discriminant", f.discriminant);
        add("end_padding", f.end_padding);
    }

    // The chain of nested futures under the largest awaitee.
    let mut awaitee_chain = Vec::new();
    let mut cur = f;
    let mut seen = vec![f.ty.as_str()];
    while let Some(vi) = largest_variant(cur) {
        let Some(ai) = largest_awaitee(cur, vi) else { break };
        let a = &cur.variants[vi].fields[ai];
        let next = a.ty.as_deref().and_then(|t| index.resolve(t, a.size));
        awaitee_chain.push(ChainLink {
            future: cur.ty.clone(),
            variant: cur.variants[vi].name.clone(),
            ty: a.ty.clone().unwrap_or_else(|| "?".into()),
            size: a.size,
            resolved: next.map(|n| n.ty.clone()),
        });
        match next {
            Some(n) if !seen.contains(&n.ty.as_str()) => {
                seen.push(n.ty.as_str());
                cur = n;
            }
            _ => break,
        }
    }

    Analysis {
        largest_variant: lv.map(|i| f.variants[i].name.clone()),
        breakdown,
        duplicated_args,
        awaitee_chain,
        drop_flags,
        box_pin: best_box_pin(f, index),
    }
}

/// Tries `Box::pin` on every awaitee of `f` and on every awaitee along the chain below the
/// largest one, propagating the shrink upwards; returns the best.
fn best_box_pin(f: &Future, index: &Index<'_>) -> Option<BoxPin> {
    let mut best: Option<BoxPin> = None;
    let mut consider = |cand: BoxPin| {
        if cand.saved > 0 && best.as_ref().is_none_or(|b| cand.saved > b.saved) {
            best = Some(cand);
        }
    };
    // Direct awaitees.
    for (vi, v) in f.variants.iter().enumerate() {
        for (fi, fld) in v.fields.iter().enumerate() {
            if fld.name == "__awaitee" && fld.size > BOX_SIZE {
                let new_size = size_with(f, vi, fi, BOX_SIZE);
                consider(BoxPin {
                    in_future: f.ty.clone(),
                    variant: v.name.clone(),
                    ty: fld.ty.clone().unwrap_or_else(|| "?".into()),
                    awaitee_size: fld.size,
                    new_size,
                    saved: f.size - new_size,
                });
            }
        }
    }
    // Deeper: path of (future, variant, field) along the largest awaitees.
    let mut path: Vec<(&Future, usize, usize)> = Vec::new();
    let mut cur = f;
    for _ in 0..64 {
        let Some(vi) = largest_variant(cur) else { break };
        let Some(ai) = largest_awaitee(cur, vi) else { break };
        path.push((cur, vi, ai));
        let a = &cur.variants[vi].fields[ai];
        match a.ty.as_deref().and_then(|t| index.resolve(t, a.size)) {
            Some(n) if !path.iter().any(|(p, _, _)| p.ty == n.ty) => cur = n,
            _ => break,
        }
    }
    for k in 1..path.len() {
        let (fk, vk, ak) = path[k];
        let a = &fk.variants[vk].fields[ak];
        if a.size <= BOX_SIZE {
            continue;
        }
        let mut shrunk = size_with(fk, vk, ak, BOX_SIZE);
        for j in (0..k).rev() {
            let (fj, vj, aj) = path[j];
            // A wrapper (`Instrumented<F>`) keeps its own bytes around the shrunk future.
            let wrapper = fj.variants[vj].fields[aj].size.saturating_sub(path[j + 1].0.size);
            shrunk = size_with(fj, vj, aj, shrunk + wrapper);
        }
        consider(BoxPin {
            in_future: fk.ty.clone(),
            variant: fk.variants[vk].name.clone(),
            ty: a.ty.clone().unwrap_or_else(|| "?".into()),
            awaitee_size: a.size,
            new_size: shrunk,
            saved: f.size - shrunk,
        });
    }
    best
}

/// Fills in [`Future::analysis`] for every future.
pub fn analyse_all(futures: &mut [Future]) {
    let results: Vec<Analysis> = {
        let index = Index::new(futures);
        futures.iter().map(|f| analyse(f, &index)).collect()
    };
    for (f, a) in futures.iter_mut().zip(results) {
        f.analysis = Some(a);
    }
}

/// Short human name: `read_frame()` style for fns, `async block@src/lib.rs:3:5` otherwise.
pub fn short_name(f: &Future) -> String {
    match (&f.path, f.kind) {
        (Some(p), _) => format!("{p}()"),
        (None, FutureKind::AsyncFn) => format!("async fn@{}", f.location.as_deref().unwrap_or("?")),
        (None, FutureKind::AsyncBlock) => format!("async block@{}", f.location.as_deref().unwrap_or("?")),
        (None, FutureKind::AsyncClosure) => format!("async closure@{}", f.location.as_deref().unwrap_or("?")),
        (None, FutureKind::Desugared) => format!("#[desugar] fn@{}", f.location.as_deref().unwrap_or("?")),
    }
}
