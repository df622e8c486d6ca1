//! Futures written by `#[unasync::desugar]`, recognised in `-Zprint-type-sizes` output.
//!
//! A desugared `async fn f` returns `unasync::__private::Machine<f::__Frame<..>, {closure@..}>`.
//! rustc prints three layouts for it: the `Machine` struct (the frame plus zero-sized parts), the
//! `__Frame` struct (the prefix: locals live across several awaits, arguments, `__drop_flags`, and
//! the `__state` field) and the `__State` enum (one variant per state, holding the locals of that
//! state and its `__awaitee`). [`assemble`] puts them back together into one [`Future`] of kind
//! [`FutureKind::Desugared`] in the same shape as rustc's coroutines: every state lists the prefix
//! fields (kind `frame`) next to its own fields (kind `local`), with offsets from the start of the
//! `Machine`, so both kinds of futures can be rendered, analysed and compared alike.

use std::collections::HashMap;

use crate::model::{Field, FormatVersion, Future, FutureKind, Gap, RawLayout, Variant};
use crate::names::{source_path, split_args, split_generics, state_rank};

fn is_machine(base: &str) -> bool {
    base.ends_with("__private::Machine")
}

/// Splits `a::f::__Frame_1f2e3d4c` into the function's path and the per-expansion suffix the
/// macro gives its types (`__Frame_<hash>` and `__State_<hash>`, hash of the signature).
fn split_generated<'a>(base: &'a str, kind: &str) -> Option<(&'a str, &'a str)> {
    let (path, name) = base.rsplit_once("::")?;
    let suffix = name.strip_prefix(kind)?.strip_prefix('_')?;
    (suffix.len() == 8 && suffix.bytes().all(|b| b.is_ascii_hexdigit())).then_some((path, suffix))
}

/// Whether rustc's type `name` is one of the types `#[unasync::desugar]` generates.
pub fn is_desugared_type(name: &str) -> bool {
    let (base, _) = split_generics(name);
    is_machine(base) || split_generated(base, "__Frame").is_some() || split_generated(base, "__State").is_some()
}

fn gaps(fields: &[Field], tag: Option<(u64, u64)>, size: u64) -> Vec<Gap> {
    let mut iv: Vec<(u64, u64)> = fields.iter().filter(|f| f.size > 0).map(|f| (f.offset, f.size)).collect();
    iv.extend(tag.filter(|t| t.1 > 0));
    iv.sort();
    let mut out = Vec::new();
    let mut at = 0;
    for (o, s) in iv {
        if o > at {
            out.push(Gap { offset: at, size: o - at });
        }
        at = at.max(o + s);
    }
    if size > at {
        out.push(Gap { offset: at, size: size - at });
    }
    out
}

/// The `__State` layout belonging to a frame whose `__state` field has `size` bytes.
fn find_state<'a>(
    raw: &'a [RawLayout],
    fn_path: &str,
    suffix: &str,
    frame_args: Option<&str>,
    size: u64,
) -> Option<&'a RawLayout> {
    let want = format!("{fn_path}::__State_{suffix}");
    let cands: Vec<&RawLayout> = raw
        .iter()
        .filter(|r| split_generics(&r.name).0 == want && r.size == size)
        .collect();
    if cands.len() <= 1 {
        return cands.first().copied();
    }
    // The state's generic arguments are the frame's minus the prefix ones (which come first).
    let frame_args = split_args(frame_args.unwrap_or(""));
    cands
        .iter()
        .copied()
        .find(|r| {
            let a = split_args(split_generics(&r.name).1.unwrap_or(""));
            a.len() <= frame_args.len() && frame_args[frame_args.len() - a.len()..] == a[..]
        })
        .or(cands.first().copied())
}

fn struct_fields(r: &RawLayout) -> &[Field] {
    r.variants.first().map(|v| v.fields.as_slice()).unwrap_or(&[])
}

/// Sizes of the types rustc printed, by name (for the generic arguments of the generated types).
pub type Sizes = HashMap<String, u64>;

/// The generic argument of `layout` (the `__State_`/`__Frame_` type, whose arguments are the
/// types of its fields) that a field of `size` bytes most likely has: the only argument of that
/// printed size, preferring futures. `None` when rustc printed no such type or several fit.
fn field_type(layout: &str, size: u64, sizes: &Sizes) -> Option<String> {
    let args = split_args(split_generics(layout).1.unwrap_or(""));
    let mut fits: Vec<&str> = args.into_iter().filter(|a| sizes.get(*a) == Some(&size)).collect();
    fits.sort_unstable();
    fits.dedup();
    let futures: Vec<&str> = fits.iter().copied().filter(|a| a.starts_with("{async") || a.contains("Machine<")).collect();
    match (futures.as_slice(), fits.as_slice()) {
        ([one], _) | ([], [one]) => Some(one.to_string()),
        _ => None,
    }
}

/// The state enum's fields as states of the future: `prefix` (fields kept in every state) plus
/// each variant's own fields at `st_off`, in rustc's coroutine order.
fn states(st: &RawLayout, st_off: u64, prefix: &[Field], sizes: &Sizes) -> Vec<Variant> {
    let mut vs: Vec<&Variant> = st.variants.iter().collect();
    vs.sort_by_key(|v| state_rank(&v.name));
    vs.into_iter()
        .map(|v| {
            let mut fields = prefix.to_vec();
            fields.extend(v.fields.iter().filter(|f| f.size > 0).map(|f| Field {
                kind: "local".into(),
                offset: st_off + f.offset,
                ty: f.ty.clone().or_else(|| (f.name == "__awaitee").then(|| field_type(&st.name, f.size, sizes)).flatten()),
                ..f.clone()
            }));
            Variant { name: v.name.clone(), fields, ..Variant::default() }
        })
        .collect()
}

/// Builds one [`Future`] per `Machine` layout in `raw`. The `Machine`'s first generic argument is
/// the `__Frame_<hash>` struct (fields kept in every state, then a `__state` field holding the
/// `__State_<hash>` enum) or the `__State_<hash>` enum itself; field sets are not assumed.
pub fn assemble(raw: &[RawLayout], sizes: &Sizes) -> Vec<Future> {
    let by_name: HashMap<&str, &RawLayout> = raw.iter().map(|r| (r.name.as_str(), r)).collect();
    let mut out = Vec::new();
    for m in raw {
        let (base, Some(args)) = split_generics(&m.name) else { continue };
        if !is_machine(base) {
            continue;
        }
        let args = split_args(args);
        let Some(inner) = args.first().and_then(|a| by_name.get(a)) else { continue };
        let (inner_base, inner_args) = split_generics(&inner.name);
        let location = args
            .get(1)
            .and_then(|c| c.strip_prefix("{closure@"))
            .and_then(|c| c.strip_suffix('}'))
            .map(str::to_string);
        let mfields = struct_fields(m);
        let base_off = mfields
            .iter()
            .find(|f| f.size == inner.size)
            .map(|f| f.offset)
            .unwrap_or(0);
        let mut prefix: Vec<Field> = mfields
            .iter()
            .filter(|f| f.size > 0 && f.size != inner.size)
            .map(|f| Field { kind: "machine".into(), ..f.clone() })
            .collect();
        let (fn_path, state, st_off) = if let Some((fn_path, _)) = split_generated(inner_base, "__State") {
            (fn_path, Some(*inner), base_off)
        } else if let Some((fn_path, suffix)) = split_generated(inner_base, "__Frame") {
            let mut state = None;
            for f in struct_fields(inner) {
                let st = (state.is_none() && (f.name == "__state" || f.name.starts_with("__state")))
                    .then(|| find_state(raw, fn_path, suffix, inner_args, f.size))
                    .flatten();
                match st {
                    Some(st) => state = Some((st, base_off + f.offset)),
                    None if f.size > 0 => {
                        prefix.push(Field { kind: "frame".into(), offset: base_off + f.offset, ..f.clone() })
                    }
                    None => {}
                }
            }
            (fn_path, state.map(|s| s.0), state.map_or(0, |s| s.1))
        } else {
            continue;
        };
        let (variants, discriminant) = match state {
            Some(st) => (states(st, st_off, &prefix, sizes), st.discriminant),
            None => (vec![Variant { fields: prefix, ..Variant::default() }], 0),
        };
        let discriminant_offset = (discriminant > 0).then_some(st_off);
        let mut fut = Future {
            ty: m.name.clone(),
            kind: FutureKind::Desugared,
            path: Some(fn_path.to_string()),
            location,
            size: m.size,
            align: m.align,
            discriminant,
            discriminant_offset,
            end_padding: 0,
            variants,
            format: FormatVersion::Braces,
            krate: None,
            source: None,
            stable_name: None,
            wrapped_by: None,
            analysis: None,
        };
        finish_states(&mut fut);
        out.push(fut);
    }
    out
}

/// Sorts each state's fields and computes its gaps and size. A state's gaps end where the state
/// does (its last field or the tag): the bytes after it belong to larger states and are no more
/// this state's padding than they are in rustc's own layouts.
fn finish_states(f: &mut Future) {
    let tag = f.discriminant_offset.map(|o| (o, f.discriminant));
    let tag_end = tag.map_or(0, |(o, s)| o + s);
    for v in &mut f.variants {
        v.fields.sort_by_key(|f| (f.offset, f.size));
        let extent = v.end().max(tag_end);
        v.gaps = gaps(&v.fields, tag, extent);
        v.padding = v.gaps.iter().map(|g| g.size).sum();
        // Like rustc's variant sizes: the state's extent, not counting the discriminant.
        v.size = extent - f.discriminant;
    }
}

/// Adds the desugared futures assembled from `raw` to `futures`, and drops the async blocks that
/// share their span or are their `Machine`'s `Native` argument: the never-run
/// `if false { async move { body } }` type check a desugared fn carries (rustc lays it out all
/// the same; left in, the check of a block lowered in place would be listed as the fn's
/// `{#[instrument] body}` next to its machine).
///
/// A crate that lays out another crate's desugared fn (a generic one it instantiates) names that
/// block by its definition path, `other::f::{closure#0}`, instead of its span: an async block
/// that is a direct child of a desugared fn is that check too (the fn's own code runs in the
/// `Machine`'s closure, so the user's async blocks are nested deeper).
pub fn merge(futures: &mut Vec<Future>, raw: &[RawLayout], sizes: &Sizes) {
    let desugared = assemble(raw, sizes);
    // The check is the `Machine`'s last generic argument (`Native`), so its span is found there
    // too: for a block lowered in place (`#[tracing::instrument]`, `#[async_trait]`) it is the
    // span the attribute gave its `async move` block, not the closure's.
    let native = |f: &Future| -> Option<String> {
        let args = split_args(split_generics(&f.ty).1?);
        let block = args.get(2)?.strip_prefix("{async block@")?.strip_suffix('}')?;
        Some(block.to_string())
    };
    let natives: Vec<String> = desugared.iter().filter_map(native).collect();
    let spans: std::collections::HashSet<&str> =
        desugared.iter().filter_map(|f| f.location.as_deref()).chain(natives.iter().map(String::as_str)).collect();
    let fns: std::collections::HashSet<String> =
        desugared.iter().filter_map(|f| f.path.as_deref()).map(source_path).collect();
    let is_check = |l: &str| {
        spans.contains(l)
            || l.rsplit_once("::").is_some_and(|(parent, last)| {
                last.starts_with("{closure#") && !parent.contains(".rs:") && fns.contains(&source_path(parent))
            })
    };
    futures.retain(|f| !(f.kind == FutureKind::AsyncBlock && f.location.as_deref().is_some_and(is_check)));
    futures.extend(desugared);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognised_types() {
        assert!(is_desugared_type("d::s::t::__State_0a1b2c3d"));
        assert!(is_desugared_type("d::t::__Frame_0a1b2c3d<u8>"));
        assert!(!is_desugared_type("d::t::__Frame<u8>"), "the suffix is part of the name");
        assert!(!is_desugared_type("std::option::Option<unasync::__private::Machine<x::__Frame, {closure@a}>>"));
    }
}
