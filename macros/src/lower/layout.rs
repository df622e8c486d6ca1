//! What each state holds, and where.
//!
//! A local in scope at a suspension point is, there:
//! - **saved** when it may still hold a value (to be used, or dropped at the end of its scope):
//!   moved into the state's variant when the future suspends and back out when the awaitee
//!   completes. Between suspension points it is an ordinary Rust local.
//! - **pinned** when a borrow of it may be alive across a suspension point (the awaitee, another
//!   saved local or a temporary of the statement may hold one), when its address escapes the
//!   borrow checker, or when whether it holds a value depends on the path (then it has a drop
//!   flag). It stays at one address in the frame from its declaration to the end of its scope:
//!   in the variant of its one suspension point, which the future enters when the local is
//!   declared, or, live across several, in the frame's prefix, outside the enum, as rustc's
//!   promoted locals are. The code reaches it through a pointer.
//! - neither (moved away, or never given a value, and not used again): not stored. Where it was
//!   borrowed since its declaration its type is (a `PhantomData` field), so that the future is
//!   `Send` and `Sync` exactly when rustc's is: rustc keeps the storage of a local once borrowed
//!   to the end of its scope (`MaybeBorrowedLocals`), and its coroutine witness is what it keeps.
//!
//! The variant's fields are declared in rustc's drop order (the awaitee, then the locals,
//! innermost scope and latest declaration first), so dropping the future while it is suspended
//! drops them as rustc does. A frame with pinned locals that need dropping orders them among
//! the others by a `Drop` impl instead.

use std::collections::BTreeSet;

use proc_macro2::{Ident, Span};
use quote::format_ident;

use super::flow::Facts;
use super::ir::*;

pub struct Layout {
    pub locals: Vec<Placement>,
    /// Per suspension point.
    pub states: Vec<State>,
    /// Pinned locals in the prefix, in declaration order.
    pub prefix: Vec<LocalId>,
    /// Field and type parameter names, per local, and per awaitee.
    pub names: Names,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Placement {
    /// Never in a state.
    Unsaved,
    /// An ordinary Rust local, moved into the states where it is saved.
    Movable,
    /// At a fixed address in the frame; `flagged` when it has a drop flag.
    Pinned { home: Home, flagged: bool },
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Home {
    Prefix,
    Variant(AwaitId),
}

pub struct State {
    /// Movable locals moved into this state, in declaration order.
    pub saved: Vec<LocalId>,
    /// Pinned locals whose home is this state's variant, in declaration order.
    pub pinned: Vec<LocalId>,
    /// Locals in scope here whose type only is kept (see the module docs).
    pub witnesses: Vec<LocalId>,
    /// Every local in scope, in declaration order (outermost scope first).
    pub in_scope: Vec<LocalId>,
    /// The same in edition 2021's order, where it differs (see `Facts::in_scope_2021`).
    pub in_scope_2021: Option<Vec<LocalId>>,
    /// Pinned locals in scope here that may hold no value (their flag decides the drop).
    pub maybe_moved: Vec<LocalId>,
}

pub struct Names {
    pub fields: Vec<Ident>,
    pub params: Vec<Ident>,
    pub awaitee_params: Vec<Ident>,
}

impl Layout {
    pub fn pinned(&self, local: LocalId) -> bool {
        matches!(self.locals[local], Placement::Pinned { .. })
    }

    pub fn flagged(&self, local: LocalId) -> bool {
        matches!(self.locals[local], Placement::Pinned { flagged: true, .. })
    }

    /// The states whose variant has pinned locals: entered when the first is declared.
    pub fn entered_early(&self, k: AwaitId) -> bool {
        !self.states[k].pinned.is_empty()
    }
}

/// A `match` that moves part of a pinned local out, in an arm, while another arm leaves the
/// rest in it: the local stays at its address, where nothing can be moved out of part of it
/// (a whole local is moved out through its drop flag). Refused, with the rewrite that moves it
/// into the match whole.
pub fn check(body: &Body, layout: &Layout) -> syn::Result<()> {
    let mut refused = None;
    visit_exprs(&body.block, &mut |expr| {
        if let Expr::Match { scrutinee, scrutinee_local: Some(local), arms } = expr
            && let Expr::Plain(plain) = &**scrutinee
            && plain.role == Role::Value
            && layout.flagged(*local)
            && body.locals[*local].kind != LocalKind::Temporary
            && arms.iter().any(|arm| !arm.consumes && !arm.bindings.is_empty())
            && refused.is_none()
        {
            let name = &body.locals[*local].name;
            refused = Some(syn::Error::new_spanned(
                &plain.expr,
                format!(
                    "unasync keeps `{name}` at one address (it is borrowed across an `.await`), and cannot move part of it out in one arm while another arm leaves it in place; write `match {{ {name} }} {{ .. }}` to move it into the match whole (what is left is dropped at the end of the `match`), or bind its parts by reference"
                ),
            ));
        }
    });
    refused.map_or(Ok(()), Err)
}

pub fn layout(body: &Body, facts: &Facts) -> Layout {
    let count = body.locals.len();
    let mut awaits_of: Vec<Vec<AwaitId>> = vec![Vec::new(); count];
    for (k, scope) in facts.in_scope.iter().enumerate() {
        for &local in scope {
            awaits_of[local].push(k);
        }
    }
    let in_any_state = |local: LocalId| !awaits_of[local].is_empty() || body.params.contains(&local);

    // Which locals must stay at one address.
    let mut pinned = vec![false; count];
    let mut flagged = vec![false; count];
    for local in 0..count {
        if !in_any_state(local) {
            continue;
        }
        let trivial = body.locals[local].trivially_dropped;
        let borrowed = facts.borrowed.iter().any(|set| set.contains(local));
        let raw = facts.raw_address.contains(local) && !awaits_of[local].is_empty();
        // Whether it holds a value at a suspension point depends on the path, and it must be
        // dropped if it does: only a flag can say.
        let path_dependent = !trivial
            && awaits_of[local]
                .iter()
                .any(|&k| facts.maybe_init[k].contains(local) && facts.maybe_moved[k].contains(local));
        let by_user = body.locals[local].pinned_by_user && !awaits_of[local].is_empty();
        pinned[local] = borrowed || raw || path_dependent || by_user;
        flagged[local] = pinned[local]
            && !trivial
            && (facts.moved_somewhere.contains(local)
                || awaits_of[local].iter().any(|&k| facts.maybe_moved[k].contains(local)));
    }

    let saved_at = |local: LocalId, k: AwaitId| {
        let trivial = body.locals[local].trivially_dropped;
        let live = facts.live[k].contains(local);
        let init = facts.maybe_init[k].contains(local);
        let moved = facts.maybe_moved[k].contains(local);
        // A value that needs no drop is kept only if used later.
        if trivial { live } else { init || (moved && live) }
    };

    let mut locals = vec![Placement::Unsaved; count];
    let mut prefix = Vec::new();
    for local in 0..count {
        if pinned[local] {
            let home = match awaits_of[local].as_slice() {
                [k] if !body.params.contains(&local) && !body.locals[local].trivially_dropped => Home::Variant(*k),
                _ => Home::Prefix,
            };
            if home == Home::Prefix {
                prefix.push(local);
            }
            locals[local] = Placement::Pinned { home, flagged: flagged[local] };
        } else if awaits_of[local].iter().any(|&k| saved_at(local, k)) || body.params.contains(&local) {
            locals[local] = Placement::Movable;
        }
    }

    let states = facts
        .in_scope
        .iter()
        .enumerate()
        .map(|(k, scope)| {
            if !facts.reachable[k] {
                // No path reaches it: the variant holds nothing.
                return State { saved: Vec::new(), pinned: Vec::new(), witnesses: Vec::new(), in_scope: Vec::new(), in_scope_2021: None, maybe_moved: Vec::new() };
            }
            let in_scope_2021 = facts.in_scope_2021[k].clone();
            let mut state = State { saved: Vec::new(), pinned: Vec::new(), witnesses: Vec::new(), in_scope: scope.clone(), in_scope_2021, maybe_moved: Vec::new() };
            for &local in scope {
                match locals[local] {
                    Placement::Pinned { home, flagged } => {
                        if home == Home::Variant(k) {
                            state.pinned.push(local);
                        }
                        if flagged && facts.maybe_moved[k].contains(local) {
                            state.maybe_moved.push(local);
                        }
                    }
                    _ if saved_at(local, k) => state.saved.push(local),
                    // rustc keeps the storage of a user's local in scope that was borrowed on
                    // some path since its declaration, moved or dead (`let n = rc.len();
                    // drop(rc);`): its type counts for `Send` and `Sync`. Its temporaries end
                    // with their expression. (A local declared without a value has no value
                    // to take its type from where it is declared: not counted.)
                    _ if !matches!(body.locals[local].kind, LocalKind::Temporary | LocalKind::Iterator)
                        && !body.locals[local].deferred
                        && facts.ever_borrowed[k].contains(local) =>
                    {
                        state.witnesses.push(local)
                    }
                    _ => {}
                }
            }
            state
        })
        .collect();

    let names = names(body);
    Layout { locals, states, prefix, names }
}

/// Field names (the local's, made unique) and type parameter names (its capitalised).
/// The resume function's own names: a local of the body named so is emitted under its field's
/// name (`__state_1`), so that it neither shadows them nor takes the awaitee's field.
pub const RESERVED: [&str; 8] = ["__frame", "__state", "__cx", "__unwind", "__awaited", "__awaitee", "__poison", "__next"];

fn names(body: &Body) -> Names {
    // Field names, each distinct: `n1`, then `n1_1` for a second `n1` (unless a local `n1_1` took
    // it, then `n1_2`, ..).
    let mut taken: BTreeSet<String> = RESERVED.iter().map(|name| name.to_string()).collect();
    let mut unique = |base: String| -> String {
        let name = std::iter::once(base.clone())
            .chain((1..).map(|n| format!("{base}_{n}")))
            .find(|candidate| !taken.contains(candidate))
            .expect("a free name");
        taken.insert(name.clone());
        name
    };
    let mut fields = Vec::new();
    let mut params = Vec::new();
    // Type parameter names, each distinct (`N1`, `N12` for a second `n1` unless a local `n12`
    // took it, then `N13`, ..); `Await0..` are the awaitees'.
    let mut param_names: BTreeSet<String> = (0..body.awaits.len()).map(|k| format!("Await{k}")).collect();
    for local in &body.locals {
        let name = field_name(&local.name.to_string());
        let plain = name.trim_start_matches('_').to_string();
        let field = unique(name);
        fields.push(Ident::new(&field, Span::mixed_site()));
        let base = camel(&plain);
        let param = std::iter::once(base.clone())
            .chain((2..).map(|n| format!("{base}{n}")))
            .find(|candidate| !param_names.contains(candidate))
            .expect("a free name");
        param_names.insert(param.clone());
        params.push(format_ident!("{}", param, span = Span::mixed_site()));
    }
    let awaitee_params = (0..body.awaits.len()).map(|k| format_ident!("Await{}", k, span = Span::mixed_site())).collect();
    Names { fields, params, awaitee_params }
}

/// A field name for a local: its own; a raw identifier's without `r#`, `_` added when that is
/// a keyword (`r#match` is `match_`).
pub fn field_name(name: &str) -> String {
    match name.strip_prefix("r#") {
        Some(raw) => format!("{raw}_"),
        None => name.to_string(),
    }
}

/// `log` -> `Log`, `__temp3` -> `Temp3`, `read_buf` -> `ReadBuf`.
fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) || out == "Self" {
        out.insert(0, 'T');
    }
    out
}
