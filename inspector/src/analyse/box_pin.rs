//! Where one `Box::pin` would shrink a future the most, and by how much. An awaitee already on
//! the heap (`Pin<Box<dyn Future>>`, what an `#[async_trait]` method returns) is not a candidate:
//! boxing it again would trade one pointer for another.
//!
//! The size after boxing is rustc's layout replayed with the awaitee as a pointer
//! ([`relayout`]): the boxed state shrinks, fields laid out after the awaitee in the prefix
//! move down, every other state keeps its real extent.

use crate::analyse::index::Index;
use crate::analyse::relayout::{Change, Shape};
use crate::analyse::{BOX_SIZE, largest_awaitee, largest_variant};
use crate::model::{BoxPin, Field, Future};
use crate::names::is_boxed;

/// The size of `f` after `change`. When replaying rustc's layout does not give `f`'s printed
/// size to begin with (an alignment the printed layout hides), the replay's difference is
/// applied to the printed size.
pub fn size_after(f: &Future, change: Change) -> u64 {
    let shape = Shape::of(f);
    let replayed = shape.size(None);
    let new = shape.size(Some(change));
    let new = if replayed == f.size { new } else { (new + f.size).saturating_sub(replayed) };
    new.min(f.size)
}

fn worth_boxing(a: &Field) -> bool {
    a.size > BOX_SIZE && !a.ty.as_deref().is_some_and(is_boxed)
}

fn candidate(f: &Future, at: (usize, usize), new_size: u64, outermost: &Future) -> BoxPin {
    let a = &f.variants[at.0].fields[at.1];
    BoxPin {
        in_future: f.ty.clone(),
        variant: f.variants[at.0].name.clone(),
        ty: a.ty.clone(),
        awaitee_size: a.size,
        new_size,
        saved: outermost.size - new_size,
        source: None,
    }
}

/// Every `Box::pin` worth considering: each awaitee of `f`, and each awaitee along the chain
/// below its largest one (the shrink carried up through the futures holding it).
pub fn candidates(f: &Future, index: &Index<'_>) -> Vec<BoxPin> {
    let mut out = Vec::new();
    for (vi, v) in f.variants.iter().enumerate() {
        for (fi, fld) in v.fields.iter().enumerate() {
            if fld.name == "__awaitee" && worth_boxing(fld) {
                out.push(candidate(f, (vi, fi), size_after(f, Change::Boxed((vi, fi))), f));
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
        if !worth_boxing(&fk.variants[vk].fields[ak]) {
            continue;
        }
        let mut shrunk = size_after(fk, Change::Boxed((vk, ak)));
        for j in (0..k).rev() {
            let (fj, vj, aj) = path[j];
            // A wrapper (`Instrumented<F>`) keeps its own bytes around the shrunk future.
            let wrapper = fj.variants[vj].fields[aj].size.saturating_sub(path[j + 1].0.size);
            shrunk = size_after(fj, Change::Resized((vj, aj), shrunk + wrapper));
        }
        out.push(candidate(fk, (vk, ak), shrunk, f));
    }
    out
}

/// The candidate that saves the most bytes of `f` (the first of equals), if any saves some.
pub fn best(f: &Future, index: &Index<'_>) -> Option<BoxPin> {
    candidates(f, index).into_iter().filter(|c| c.saved > 0).fold(None, |best: Option<BoxPin>, c| match best {
        Some(b) if b.saved >= c.saved => Some(b),
        _ => Some(c),
    })
}
