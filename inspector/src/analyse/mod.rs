//! Why each byte of a future is there.
//!
//! A coroutine is as large as its largest state (plus the discriminant and end padding). For that
//! state the analysis splits the bytes into: the awaited future (`__awaitee`), arguments stored
//! twice (rustc keeps the captured argument, the `upvar`, next to the moved `local` copy),
//! other upvars and locals, and padding. It then follows the largest awaitee's type to its own
//! layout, and so on down (the chain of nested futures), and estimates where one `Box::pin` would
//! save the most bytes of the outermost future.

use crate::model::{Analysis, Bytes, ChainLink, DuplicatedArg, Field, Future, FutureKind};

pub mod box_pin;
pub mod index;
pub mod relayout;
pub mod source;

use index::Index;

/// Size of `Pin<Box<F>>` for a sized `F`: one pointer.
pub const BOX_SIZE: u64 = std::mem::size_of::<usize>() as u64;

pub(crate) fn largest_awaitee(f: &Future, variant: usize) -> Option<usize> {
    f.variants[variant]
        .fields
        .iter()
        .enumerate()
        .filter(|(_, x)| x.name == "__awaitee")
        .max_by_key(|(_, x)| x.size)
        .map(|(i, _)| i)
}

pub(crate) fn largest_variant(f: &Future) -> Option<usize> {
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
        let sum = |p: &dyn Fn(&Field) -> bool| -> u64 {
            v.fields.iter().filter(|x| p(x)).map(|x| x.size).sum()
        };
        let is_dup = |x: &Field| {
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
            ty: a.ty.clone(),
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
        box_pin: box_pin::best(f, index),
        state_edges: Vec::new(),
    }
}

/// Fills in [`Future::analysis`] for every future (keeping state edges already found).
pub fn analyse_all(futures: &mut [Future]) {
    let results: Vec<Analysis> = {
        let index = Index::new(futures);
        futures.iter().map(|f| analyse(f, &index)).collect()
    };
    for (f, mut a) in futures.iter_mut().zip(results) {
        a.state_edges = f.analysis.take().map(|old| old.state_edges).unwrap_or_default();
        f.analysis = Some(a);
    }
}

/// Joins the futures with the sources (see [`source`]), then analyses them.
pub fn prepare_with_sources(futures: &mut [Future], files: &[source::FileBodies]) {
    let edges = source::attach(futures, files);
    for f in futures.iter_mut() {
        if let Some(e) = edges.get(&f.ty) {
            f.analysis = Some(Analysis { state_edges: e.clone(), ..Analysis::default() });
        }
    }
    prepare(futures);
}

/// Analysis and the canonical order: largest first, then by name.
pub fn prepare(futures: &mut [Future]) {
    analyse_all(futures);
    futures.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.ty.cmp(&b.ty)));
}

