//! rustc's layout algorithm replayed on a future's printed fields, to tell its size after one
//! field changes size (an awaitee boxed into a pointer).
//!
//! A coroutine (`rustc_abi`'s coroutine layout) is a prefix, then one overlapping area per state.
//! The prefix holds the upvars, the state tag and the "promoted" locals (those saved in several
//! states, or in conflict with one; all of them when only one state has locals of its own). It
//! is laid out as one struct, fields sorted by alignment, largest first, so it has no inner
//! padding: its size is the sum of its fields rounded up to its alignment. Each state's own
//! locals follow the whole prefix, smallest alignment first. The future is as large as the
//! prefix or the largest state, rounded up to its alignment. Boxing an awaitee therefore
//! moves fields that sit after it in the prefix (mini-redis's `#[instrument]` blocks: every
//! field is in the prefix, the arguments around the awaitee) and shrinks only its own state.
//!
//! A `#[unasync::desugar]` future is a struct (the frame fields, laid out like the prefix) with
//! the `__State` enum in it: a tag, then each variant's fields, smallest alignment first.
//!
//! What the printed layout does not say is read from it: a field is promoted when no field of
//! another state shares its bytes and it lies before the first one that does (every state's own
//! locals start at the prefix's end); alignments rustc did not print are the largest power of two
//! dividing the field's size and offset, at most the future's. [`Shape::size`] of the unchanged
//! layout is rustc's size for every future of the samples in `tests/samples/`.

use crate::analyse::BOX_SIZE;
use crate::model::{Future, FutureKind};

/// A field as the layout algorithm sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    size: u64,
    align: u64,
}

/// A field of a state: (state index, field index) in the [`Future`].
pub type At = (usize, usize);

/// What changes in the layout.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// The field becomes a `Pin<Box<_>>`: one pointer.
    Boxed(At),
    /// The field keeps its alignment and gets this many bytes (a future it holds shrank).
    Resized(At, u64),
}

/// The layout problem of one future: what is laid out together, and how.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Laid out as one struct: upvars, promoted locals (coroutines); frame fields (desugared).
    /// A promoted field is printed in every state that uses it: all its places.
    prefix: Vec<(Vec<At>, Slot)>,
    /// Bytes of the state tag (0 when rustc printed none).
    tag: u64,
    /// Each state's own fields.
    states: Vec<Vec<(At, Slot)>>,
    /// Desugared: the states are an enum (tag first) placed inside the prefix struct; native:
    /// they follow the prefix.
    enum_in_prefix: bool,
    align: u64,
}

fn round_up(n: u64, align: u64) -> u64 {
    if align <= 1 { n } else { n.div_ceil(align) * align }
}

fn pow2_dividing(n: u64) -> u64 {
    if n == 0 { u64::MAX } else { 1 << n.trailing_zeros() }
}

/// The alignment rustc printed, or the largest it can be: a power of two dividing the size and
/// the offset, at most the future's.
fn align_of(f: &Future, size: u64, offset: u64, printed: Option<u64>) -> u64 {
    printed.unwrap_or_else(|| pow2_dividing(size).min(pow2_dividing(offset)).min(f.align).max(1))
}

fn overlaps(a: (u64, u64), b: (u64, u64)) -> bool {
    a.0 < b.0 + b.1 && b.0 < a.0 + a.1
}

impl Shape {
    /// Reads the layout problem back from `f`'s printed states.
    pub fn of(f: &Future) -> Shape {
        let slot = |vi: usize, fi: usize| {
            let x = &f.variants[vi].fields[fi];
            Slot { size: x.size, align: align_of(f, x.size, x.offset, x.align) }
        };
        let all: Vec<At> = f
            .variants
            .iter()
            .enumerate()
            .flat_map(|(vi, v)| v.fields.iter().enumerate().filter(|(_, x)| x.size > 0).map(move |(fi, _)| (vi, fi)))
            .collect();
        let field = |(vi, fi): At| &f.variants[vi].fields[fi];
        // One local printed in several states; every `.await` has an `__awaitee` of its own.
        let same = |a: At, b: At| {
            let (x, y) = (field(a), field(b));
            (&x.name, &x.kind, x.offset, x.size) == (&y.name, &y.kind, y.offset, y.size) && (x.name != "__awaitee" || a.0 == b.0)
        };
        let own: Vec<bool> = if f.kind == FutureKind::Desugared {
            all.iter().map(|&a| field(a).kind == "local").collect()
        } else {
            // A state's own locals are where other states' fields are too; they start at the
            // prefix's end, so everything from the first of them on is a state's own.
            let shared = |a: At| {
                let x = field(a);
                x.kind != "upvar"
                    && all.iter().any(|&b| b.0 != a.0 && !same(a, b) && overlaps((x.offset, x.size), (field(b).offset, field(b).size)))
            };
            let start = all.iter().filter(|&&a| shared(a)).map(|&a| field(a).offset).min().unwrap_or(u64::MAX);
            all.iter().map(|&a| field(a).kind != "upvar" && field(a).offset >= start).collect()
        };
        let mut prefix: Vec<(Vec<At>, Slot)> = Vec::new();
        let mut states = vec![Vec::new(); f.variants.len()];
        for (&a, &own) in all.iter().zip(&own) {
            if own {
                states[a.0].push((a, slot(a.0, a.1)));
            } else if let Some((places, _)) = prefix.iter_mut().find(|(places, _)| same(a, places[0])) {
                places.push(a);
            } else {
                prefix.push((vec![a], slot(a.0, a.1)));
            }
        }
        Shape { prefix, tag: f.discriminant, states, enum_in_prefix: f.kind == FutureKind::Desugared, align: f.align }
    }

    /// The size after `change`; `None`: as printed.
    pub fn size(&self, change: Option<Change>) -> u64 {
        let resized = |places: &[At], s: Slot| match change {
            Some(Change::Boxed(c)) if places.contains(&c) => Slot { size: BOX_SIZE, align: BOX_SIZE },
            Some(Change::Resized(c, n)) if places.contains(&c) => Slot { size: n, ..s },
            _ => s,
        };
        let prefix: Vec<Slot> = self.prefix.iter().map(|(places, s)| resized(places, *s)).collect();
        let tag = Slot { size: self.tag, align: self.tag.max(1) };
        let states: Vec<Vec<Slot>> =
            self.states.iter().map(|v| v.iter().map(|&(at, s)| resized(&[at], s)).collect()).collect();
        if self.enum_in_prefix {
            let (enum_size, enum_align) = after(tag.size, tag.align, &states);
            packed(prefix.into_iter().chain([Slot { size: enum_size, align: enum_align }]), self.align.max(enum_align))
        } else {
            let prefix_align = prefix.iter().map(|s| s.align).max().unwrap_or(1).max(tag.align);
            let prefix_size = packed(prefix.into_iter().chain([tag]), prefix_align);
            let (size, align) = after(prefix_size, prefix_align, &states);
            round_up(size, align.max(self.align))
        }
    }
}

/// A struct whose fields rustc sorts by alignment, largest first: no padding between them.
fn packed(fields: impl Iterator<Item = Slot>, align: u64) -> u64 {
    round_up(fields.map(|s| s.size).sum(), align)
}

/// The largest of `states` laid out after `start` bytes aligned to `start_align`, each state's
/// fields smallest alignment first (rustc's order for a struct with a prefix), and the
/// alignment of the whole.
fn after(start: u64, start_align: u64, states: &[Vec<Slot>]) -> (u64, u64) {
    let mut size = start;
    let mut align = start_align;
    for fields in states {
        let mut order: Vec<&Slot> = fields.iter().collect();
        // rustc groups a field by the alignment its size allows (`[u8; 8]` with the 8-aligned).
        order.sort_by_key(|s| s.align.max(s.size).trailing_zeros());
        let mut at = start;
        let mut state_align = start_align;
        for s in order {
            at = round_up(at, s.align) + s.size;
            state_align = state_align.max(s.align);
        }
        size = size.max(round_up(at, state_align));
        align = align.max(state_align);
    }
    (round_up(size, align), align)
}
