//! Where one `Box::pin` would shrink a future the most, and by how much.

use crate::analyse::index::Index;
use crate::analyse::{BOX_SIZE, largest_awaitee, largest_variant};
use crate::model::{BoxPin, Future};

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

/// Tries `Box::pin` on every awaitee of `f` and on every awaitee along the chain below the
/// largest one, propagating the shrink upwards; returns the best.
pub fn best(f: &Future, index: &Index<'_>) -> Option<BoxPin> {
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
                    ty: fld.ty.clone(),
                    awaitee_size: fld.size,
                    new_size,
                    saved: f.size - new_size,
                    source: None,
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
            ty: a.ty.clone(),
            awaitee_size: a.size,
            new_size: shrunk,
            saved: f.size - shrunk,
            source: None,
        });
    }
    best
}

