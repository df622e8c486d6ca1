//! Names in the body: which binding a path refers to, and which locals are saved in the frame.

use std::collections::BTreeSet;

use proc_macro2::{Ident, Span};

/// A local that lives in the frame because it is in scope at a suspension point.
#[derive(Clone)]
pub struct Slot {
    /// The field and accessor name: the user's name, made unique.
    pub name: Ident,
    pub kind: SlotKind,
    /// The suspension points inside the local's scope.
    pub awaits: BTreeSet<usize>,
    /// An argument: stored in the frame from the start, dropped in declaration order if the
    /// future never ran.
    pub argument: bool,
    /// Whether it is live at a suspension point depends on the path taken (it may have been
    /// moved out, or declared without a value): its drop flag is kept in the frame.
    pub dynamic: bool,
    /// Use counts the first pass records, to find locals moved away before every suspension
    /// point in their scope: those live on the resume function's stack, not in the frame.
    pub usage: Usage,
    pub poll_local: bool,
    /// Live together with a local of another state's variant: kept in the prefix instead.
    pub force_prefix: bool,
    /// Moved out, on every path, before all but one of the suspension points in its scope.
    pub moved_early: bool,
    /// Given a value in reachable code: only then does a value fix its type. A local given a
    /// value only in code no jump reaches (after a `break` out of its block) is typed `()`.
    pub typed: bool,
    /// See [`Placement::Unresumed`].
    pub unresumed: bool,
}

#[derive(Clone, Default)]
pub struct Usage {
    pub takes: u32,
    /// A move that may not happen on every path through its basic block.
    pub conditional_take: bool,
    pub places: u32,
    pub assigned: bool,
    pub take_block: usize,
    /// Declared without a value (`let x;`), and the blocks that assign it.
    pub deferred: bool,
    pub assign_blocks: Vec<usize>,
    /// The basic blocks that give it a value (initialise or assign).
    pub value_blocks: Vec<usize>,
    /// Where the lowering met the first initialisation and the move (an order of events).
    pub init_event: Option<u32>,
    pub take_event: u32,
    /// When it stops being live: consumed (a temporary) or its scope ended (the last time).
    pub end_event: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SlotKind {
    /// A `let` binding, a pattern binding or an argument.
    Local,
    /// A value computed before a later `.await` of the same statement.
    Temporary,
    /// The future of one `.await`.
    Awaitee,
    /// The iterator of a `for` loop.
    Iterator,
    /// An argument as the future captured it; the body's local when the body binds it by name.
    Argument,
}

/// Where a saved local lives, decided after the first lowering pass.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Placement {
    /// In scope at several suspension points: a field of the frame that never moves (rustc's
    /// promoted locals).
    Prefix,
    /// In scope at exactly one suspension point: a field of that state's variant, overlapping
    /// with the locals of the other states.
    Variant(usize),
    /// Never live at a suspension point (moved away before each one in its scope): a local of
    /// the resume function, like rustc's locals that are not saved.
    PollLocal,
    /// An argument moved out before the state first changes: a field of `Unresumed`, as rustc
    /// keeps its upvars, overlapping with the locals of every other state.
    Unresumed,
}

impl Slot {
    /// The field's name in the frame: every state calls its awaited future `__awaitee`, as
    /// rustc does.
    pub fn field(&self) -> Ident {
        match self.kind {
            SlotKind::Awaitee => Ident::new("__awaitee", self.name.span()),
            _ => self.name.clone(),
        }
    }

    pub fn placement(&self) -> Placement {
        if self.unresumed {
            return Placement::Unresumed;
        }
        if self.poll_local || (!self.argument && self.awaits.is_empty()) {
            return Placement::PollLocal;
        }
        if self.argument || self.force_prefix {
            // Initialised while the future is still `Unresumed`, or overlapping in time with
            // a local of another variant.
            return Placement::Prefix;
        }
        match (self.awaits.len(), self.awaits.first()) {
            (1, Some(&k)) => Placement::Variant(k),
            _ => Placement::Prefix,
        }
    }
}

#[derive(Clone)]
pub enum Binding {
    Slot(usize),
    /// An ordinary Rust local of the resume function, possibly renamed.
    Plain(Option<Ident>),
    /// A reference to a saved local, bound for a closure or async block that captures it by
    /// reference: the local is `*ident`.
    Deref(Ident),
}

#[derive(Default)]
pub struct Scope {
    pub bindings: Vec<(String, Binding)>,
    /// Saved locals declared in this scope, in declaration order.
    pub slots: Vec<usize>,
    /// A closure or async block: its body runs later, outside this frame's control flow.
    pub barrier: bool,
    /// Its saved locals are dropped by a guard at the end of the block's tail (see
    /// `Lowerer::tail`), not by code after it.
    pub dropped_by_guard: bool,
}

pub enum Resolved {
    Slot(usize),
    Plain(Option<Ident>),
    Deref(Ident),
    /// A saved local reached from inside a closure or async block.
    CapturedSlot(usize),
}

#[derive(Default)]
pub struct Scopes {
    pub stack: Vec<Scope>,
}

impl Scopes {
    pub fn push(&mut self, scope: Scope) {
        self.stack.push(scope);
    }

    pub fn pop(&mut self) -> Scope {
        self.stack.pop().expect("scope stack underflow")
    }

    pub fn bind(&mut self, name: String, binding: Binding) {
        self.stack.last_mut().expect("no scope").bindings.push((name, binding));
    }

    pub fn resolve(&self, name: &str) -> Option<Resolved> {
        let mut crossed_barrier = false;
        for scope in self.stack.iter().rev() {
            if let Some((_, binding)) = scope.bindings.iter().rev().find(|(n, _)| n == name) {
                return Some(match binding {
                    Binding::Slot(id) if crossed_barrier => Resolved::CapturedSlot(*id),
                    Binding::Slot(id) => Resolved::Slot(*id),
                    Binding::Plain(rename) => Resolved::Plain(rename.clone()),
                    Binding::Deref(reference) => Resolved::Deref(reference.clone()),
                });
            }
            crossed_barrier |= scope.barrier;
        }
        None
    }

    /// Every saved local in scope, outermost first.
    pub fn live_slots(&self) -> impl Iterator<Item = usize> + '_ {
        self.stack.iter().flat_map(|scope| scope.slots.iter().copied())
    }

}

/// Identifiers the expansion introduces are resolved at the macro's own site, so user code can
/// neither see nor shadow them.
pub fn internal(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}
