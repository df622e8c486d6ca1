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

/// `name<args>` -> (`name`, `Some(args)`); generic arguments only at the end of the name.
pub fn split_generics(name: &str) -> (&str, Option<&str>) {
    if !name.ends_with('>') {
        return (name, None);
    }
    let b = name.as_bytes();
    let mut depth = 0i32;
    for i in (0..b.len()).rev() {
        match b[i] {
            b'>' if i > 0 && b[i - 1] == b'-' => {}
            b'>' => depth += 1,
            b'<' => {
                depth -= 1;
                if depth == 0 {
                    // `<A as B>::f` starts with `<`: not a generic argument list.
                    if i == 0 {
                        return (name, None);
                    }
                    return (&name[..i], Some(&name[i + 1..name.len() - 1]));
                }
            }
            _ => {}
        }
    }
    (name, None)
}

/// Splits at top-level commas (outside `<>`, `()`, `[]`, `{}`), trimming each part.
pub fn split_args(args: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let b = args.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'<' | b'(' | b'[' | b'{' => depth += 1,
            b'>' if i > 0 && b[i - 1] == b'-' => {}
            b'>' | b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => {
                out.push(args[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !args[start..].trim().is_empty() {
        out.push(args[start..].trim());
    }
    out
}

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

/// A path as the source spells it, for matching: generics dropped, `<A as Trait>::f` -> `A::f`.
pub fn normalize_path(p: &str) -> String {
    let p = crate::inspect::strip_generics(p);
    // strip_generics removed the `<..>` of `<A as B>::f` too, leaving `::f`; redo it by hand.
    if p.starts_with("::") || p.is_empty() {
        return String::new();
    }
    p
}

/// `<A as B>::f<T>::g` -> `A::f::g`; anything else: generics dropped.
pub fn source_path(p: &str) -> String {
    if let Some(rest) = p.strip_prefix('<') {
        // Find the matching `>`.
        let b = rest.as_bytes();
        let mut depth = 1;
        for (i, &c) in b.iter().enumerate() {
            match c {
                b'<' => depth += 1,
                b'>' if i > 0 && b[i - 1] == b'-' => {}
                b'>' => {
                    depth -= 1;
                    if depth == 0 {
                        let inner = &rest[..i];
                        let self_ty = inner.split(" as ").next().unwrap_or(inner);
                        return normalize_path(&format!("{self_ty}{}", &rest[i + 1..]));
                    }
                }
                _ => {}
            }
        }
    }
    normalize_path(p)
}

/// `<A as Trait>::f` -> `Trait::f` (where a default trait method's future is listed), generics
/// dropped; `None` for other paths.
pub fn trait_path(p: &str) -> Option<String> {
    let rest = p.strip_prefix('<')?;
    let b = rest.as_bytes();
    let mut depth = 1;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'<' => depth += 1,
            b'>' if i > 0 && b[i - 1] == b'-' => {}
            b'>' => {
                depth -= 1;
                if depth == 0 {
                    let (_, tr) = rest[..i].split_once(" as ")?;
                    return Some(normalize_path(&format!("{tr}{}", &rest[i + 1..])));
                }
            }
            _ => {}
        }
    }
    None
}

/// Order of states as rustc prints them for coroutines: `Unresumed`, `Suspend0`.., `Returned`,
/// `Panicked`, then anything else by name.
pub fn state_rank(name: &str) -> (u8, u64, String) {
    match name {
        "Unresumed" => (0, 0, String::new()),
        "Returned" => (2, 0, String::new()),
        "Panicked" => (3, 0, String::new()),
        _ => match name.strip_prefix("Suspend").and_then(|n| n.parse().ok()) {
            Some(n) => (1, n, String::new()),
            None => (4, 0, name.to_string()),
        },
    }
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

/// Builds one [`Future`] per `Machine` layout in `raw`.
pub fn assemble(raw: &[RawLayout]) -> Vec<Future> {
    let by_name: HashMap<&str, &RawLayout> = raw.iter().map(|r| (r.name.as_str(), r)).collect();
    let mut out = Vec::new();
    for m in raw {
        let (base, Some(args)) = split_generics(&m.name) else { continue };
        if !is_machine(base) {
            continue;
        }
        let args = split_args(args);
        let Some(frame) = args.first().and_then(|a| by_name.get(a)) else { continue };
        let (frame_base, frame_args) = split_generics(&frame.name);
        let Some((fn_path, suffix)) = split_generated(frame_base, "__Frame") else { continue };
        let location = args
            .get(1)
            .and_then(|c| c.strip_prefix("{closure@"))
            .and_then(|c| c.strip_suffix('}'))
            .map(str::to_string);
        let mfields = struct_fields(m);
        let base_off = mfields
            .iter()
            .find(|f| f.name == "frame")
            .or_else(|| mfields.iter().find(|f| f.size == frame.size))
            .map(|f| f.offset)
            .unwrap_or(0);
        let mut prefix: Vec<Field> = mfields
            .iter()
            .filter(|f| f.size > 0 && f.name != "frame" && f.size != frame.size)
            .map(|f| Field { kind: "machine".into(), ..f.clone() })
            .collect();
        let mut state_field = None;
        for f in struct_fields(frame) {
            if f.name == "__state" {
                state_field = Some(f);
            } else if f.size > 0 {
                prefix.push(Field { kind: "frame".into(), offset: base_off + f.offset, ..f.clone() });
            }
        }
        let state = state_field.and_then(|sf| find_state(raw, fn_path, suffix, frame_args, sf.size).map(|s| (sf, s)));
        let mut variants = Vec::new();
        let (mut discriminant, mut discriminant_offset) = (0, None);
        match state {
            Some((sf, st)) => {
                let st_off = base_off + sf.offset;
                discriminant = st.discriminant;
                if discriminant > 0 {
                    discriminant_offset = Some(st_off);
                }
                let mut vs: Vec<&Variant> = st.variants.iter().collect();
                vs.sort_by_key(|v| state_rank(&v.name));
                for v in vs {
                    let mut fields = prefix.clone();
                    fields.extend(v.fields.iter().filter(|f| f.size > 0).map(|f| Field {
                        kind: "local".into(),
                        offset: st_off + f.offset,
                        ..f.clone()
                    }));
                    variants.push(Variant { name: v.name.clone(), size: 0, fields, padding: 0, gaps: Vec::new() });
                }
            }
            None => variants.push(Variant { name: String::new(), size: 0, fields: prefix, padding: 0, gaps: Vec::new() }),
        }
        let tag = discriminant_offset.map(|o| (o, discriminant));
        for v in &mut variants {
            v.fields.sort_by_key(|f| (f.offset, f.size));
            v.gaps = gaps(&v.fields, tag, m.size);
            v.padding = v.gaps.iter().map(|g| g.size).sum();
            // Like rustc's variant sizes: the state's extent, not counting the discriminant.
            let tag_end = tag.map_or(0, |(o, s)| o + s);
            v.size = v.end().max(tag_end) - discriminant;
        }
        out.push(Future {
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
            analysis: None,
        });
    }
    out
}

/// Adds the desugared futures assembled from `raw` to `futures`, and drops the async blocks that
/// share their span: the never-run `if false { async move { body } }` type check a desugared fn
/// carries (rustc lays it out all the same).
///
/// A crate that lays out another crate's desugared fn (a generic one it instantiates) names that
/// block by its definition path, `other::f::{closure#0}`, instead of its span: an async block
/// that is a direct child of a desugared fn is that check too (the fn's own code runs in the
/// `Machine`'s closure, so the user's async blocks are nested deeper).
pub fn merge(futures: &mut Vec<Future>, raw: &[RawLayout]) {
    let desugared = assemble(raw);
    let spans: std::collections::HashSet<&str> = desugared.iter().filter_map(|f| f.location.as_deref()).collect();
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

/// `Suspend2`-style label for rendering a desugared future in the summary.
pub fn display_name(f: &Future) -> String {
    match (f.kind, &f.path) {
        (FutureKind::Desugared, Some(p)) => format!("#[desugar] {p}()"),
        _ => f.ty.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generics_and_paths() {
        let (b, a) = split_generics("unasync::__private::Machine<a::f::__Frame<u8, V<()>>, {closure@src/lib.rs:1:1: 1:11}>");
        assert_eq!(b, "unasync::__private::Machine");
        assert_eq!(split_args(a.unwrap()), ["a::f::__Frame<u8, V<()>>", "{closure@src/lib.rs:1:1: 1:11}"]);
        assert_eq!(split_generics("<a::D as a::S>::call::__Frame<fn() -> u8>").0, "<a::D as a::S>::call::__Frame");
        assert_eq!(split_generics("<a::D as a::S>::call::__Frame"), ("<a::D as a::S>::call::__Frame", None));
        assert_eq!(source_path("<native::m::D as native::m::S>::call"), "native::m::D::call");
        assert_eq!(source_path("native::b::generic<u8>"), "native::b::generic");
        assert_eq!(trait_path("<net::Conn as Service>::call_twice").as_deref(), Some("Service::call_twice"));
        assert!(is_desugared_type("d::s::t::__State_0a1b2c3d"));
        assert!(!is_desugared_type("std::option::Option<unasync::__private::Machine<x::__Frame, {closure@a}>>"));
    }
}
