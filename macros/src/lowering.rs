//! The lowering: an `async fn` body becomes basic blocks over a frame of saved locals.
//!
//! # States
//! As in rustc's `coroutine.rs`, the future is in one of these states:
//! - `Unresumed`: created, never polled. It holds the arguments (rustc's upvars) and nothing
//!   else. Dropping it drops the arguments in declaration order.
//! - `SuspendK`: stopped at the K-th `.await` (in source order). It holds the awaited future
//!   (`__awaitee`) and every local whose scope contains that `.await` and no other; locals in scope
//!   at several `.await`s live in the frame's prefix, outside the enum, so they never move.
//! - `Returned`: finished. Polling it again panics with "`async fn` resumed after completion".
//! - `Panicked`: the body panicked. Everything was dropped while unwinding; polling it again
//!   panics with "`async fn` resumed after panicking".
//!
//! # What is saved across a suspension point
//! Every local in scope at an `.await`, whether or not it is used afterwards: the macro cannot see
//! borrows, so it keeps what rustc keeps for a local that may be borrowed. Values computed before
//! a later `.await` of the same statement (call arguments, operands, receivers) are saved as
//! temporaries, as rustc keeps them. Each saved local has a drop flag, set when it is initialised
//! and cleared when it is moved out or dropped, so partial initialisation (`let x;`), moves and
//! reassignment behave as in rustc. Code between two suspension points that binds locals in no
//! `.await`'s scope runs as ordinary Rust inside one basic block: those locals are never saved.
//!
//! # Poll
//! The resume function is a `match` on the state that picks the basic block to run: the first
//! one for `Unresumed` (it moves the arguments out and binds them as rustc binds them), the block
//! polling the awaitee for `SuspendK`. Blocks end in an edge (a jump that drops the saved locals
//! whose scope it leaves, innermost first), a suspension (`Poll::Pending`, state stays `SuspendK`)
//! or a return (drop every live local in reverse declaration order, state `Returned`,
//! `Poll::Ready`). A panic unwinds through the block, dropping its ordinary locals, then a guard
//! drops every live saved local in reverse declaration order and sets `Panicked`.
//!
//! # Drop
//! Dropping the future drops what is live in its state: the arguments in `Unresumed`; in
//! `SuspendK` every saved local whose flag is set, in reverse declaration order (innermost scope
//! first), which is the order rustc's drop elaboration uses; nothing in `Returned` or `Panicked`.
//!
//! # Known differences from rustc
//! A proc macro sees no types, so three things are approximated, and documented in the README:
//! a temporary auto-referenced by a method call that completes before a later `.await` of the
//! same statement is dropped at that call instead of at the end of the statement; the unmatched
//! rest of a `match`/`if let` scrutinee that is a value is dropped when the arm is chosen; a by-value
//! method call or a by-value pattern binding on a non-`Copy` saved local is rejected by rustc
//! ("cannot move out of a mutable reference"): write `Type::method(local)` or `match {local}`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{BinOp, Block, Error, Expr, Ident, Local, Pat, Stmt, UnOp};

use crate::awaits::{block_awaits, expr_awaits, stmt_awaits};
use crate::input::AsyncFn;
use crate::scope::{internal, Binding, Placement, Scope, Scopes, Slot, SlotKind};
use crate::signature::{self_local, ArgBinding, Signature};

/// The body as basic blocks, with what the frame must hold.
pub struct Lowered {
    pub slots: Vec<Slot>,
    /// For each suspension point, the basic block that resumes it.
    pub resume_blocks: Vec<usize>,
    /// Basic blocks by number, in source order.
    pub blocks: Vec<(usize, TokenStream)>,
    pub edges: Vec<Edge>,
    /// The registers reachable code uses.
    pub registers: Vec<usize>,
    /// Items declared in the body, visible to the whole body.
    pub items: Vec<TokenStream>,
    /// The recursive calls lowered through `Recursion`: the callee and its number of arguments.
    pub recursive_calls: Vec<(syn::Expr, usize)>,
}

/// A jump between basic blocks, with the saved locals whose scope it leaves.
pub struct Edge {
    pub drops: Vec<usize>,
    pub target: usize,
    source: usize,
}

/// How an expression is used where a saved local appears in it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Moved or copied out.
    Value,
    /// Read or borrowed shared.
    PlaceRef,
    /// Mutated, borrowed mutably, or used where the macro cannot tell.
    PlaceMut,
}

pub fn lower(function: &AsyncFn, signature: &Signature) -> syn::Result<Lowered> {
    // The first pass finds the suspension points in each saved local's scope; the second knows
    // where every local lives and emits the code.
    let frame_type = &signature.types.frame;
    let first = Lowerer::new(None, frame_type).run(function, signature)?;
    Lowerer::new(Some(first.slots), frame_type).run(function, signature)
}

pub(crate) struct Target {
    label: Option<String>,
    is_loop: bool,
    lowered: Option<LoweredTarget>,
}

impl Target {
    /// A loop or labeled block of ordinary code: jumps to it stay as written.
    pub(crate) fn ordinary(label: Option<&syn::Label>, is_loop: bool) -> Self {
        Target { label: label.map(|l| l.name.ident.to_string()), is_loop, lowered: None }
    }

    pub(crate) fn matches(&self, label: Option<&syn::Lifetime>, _is_break: bool) -> bool {
        match label {
            Some(label) => self.label.as_deref() == Some(&label.ident.to_string()),
            None => self.is_loop,
        }
    }

    pub(crate) fn is_lowered(&self) -> bool {
        self.lowered.is_some()
    }
}

#[derive(Clone, Copy)]
struct LoweredTarget {
    break_block: usize,
    continue_block: Option<usize>,
    register: Option<usize>,
    depth: usize,
}

struct BasicBlock {
    /// The code, as nested brace groups still open: the last part is innermost.
    parts: Vec<TokenStream>,
    terminated: bool,
    /// When the lowering reached this block: blocks are emitted in source order, so rustc's
    /// inference sees each local's initialisation before its uses.
    started: usize,
    registers: std::collections::BTreeSet<usize>,
    /// An edge already leaves from the middle of this block: what follows may be skipped.
    exited: bool,
}

impl BasicBlock {
    fn new() -> Self {
        BasicBlock {
            parts: vec![TokenStream::new()],
            terminated: false,
            started: 0,
            registers: Default::default(),
            exited: false,
        }
    }

    fn extend(&mut self, tokens: TokenStream) {
        self.parts.last_mut().expect("block parts").extend(tokens);
    }

    fn open(&mut self) {
        self.parts.push(TokenStream::new());
    }

    /// Closes the innermost brace. Its span is the user's, so rustc applies the user's edition
    /// to it (tail expression temporaries differ between editions); spans the macro makes carry
    /// the macro crate's edition.
    fn close(&mut self, span: Span) {
        let inner = self.parts.pop().expect("open brace");
        let mut group = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, inner);
        group.set_span(span);
        self.extend(group.into_token_stream());
    }
}

pub(crate) struct Lowerer {
    /// The saved locals as the first pass found them: where they live, which are dynamic.
    first_pass: Option<Vec<Slot>>,
    /// The generated frame struct, whose associated functions reach the saved locals.
    pub(crate) frame_type: Ident,
    /// The function's name, where a call of it is recursion (see [`crate::recursion`]).
    recursive_name: Option<Ident>,
    recursive_calls: Vec<(syn::Expr, usize)>,
    /// Lowering an operand that is materialised: its `.await`s bind their values to locals.
    awaits_as_locals: bool,
    pub(crate) slots: Vec<Slot>,
    pub(crate) scopes: Scopes,
    pub(crate) targets: Vec<Target>,
    blocks: Vec<BasicBlock>,
    current: usize,
    /// Brace owners (blocks and statements being lowered) and whether their brace is open in the
    /// current basic block. Braces end ordinary Rust locals where the user's scopes end.
    owners: Vec<bool>,
    /// A span of the user's body: braces the lowering adds take the user's edition from it.
    user_span: Span,
    edges: Vec<Edge>,
    registers: Vec<bool>,
    resume_blocks: Vec<usize>,
    items: Vec<TokenStream>,
    next_value: usize,
    next_start: usize,
    /// Lowering an operand that must survive a suspension point: `&value` inside it borrows a
    /// temporary that lives to the end of the statement, so the temporary is saved too.
    hoist_references: bool,
    /// Temporaries saved for a later `.await` whose move-out is not emitted yet, and those whose
    /// move-out is: a consumed temporary is not saved at the suspension points that follow.
    pending_temporaries: Vec<usize>,
    consumed: std::collections::BTreeSet<usize>,
    /// For each suspension point, the basic block that suspends there.
    suspending_blocks: Vec<usize>,
    events: u32,
    /// Inside the user's `unsafe` blocks that contain an `.await`.
    unsafe_depth: usize,
    /// Rewriting code that runs on some paths only, inside one basic block (an arm emitted in
    /// its `match`): moves there are conditional.
    pub(crate) inline_conditional: usize,
}

impl Lowerer {
    fn new(first_pass: Option<Vec<Slot>>, frame_type: &Ident) -> Self {
        Lowerer {
            first_pass,
            frame_type: frame_type.clone(),
            recursive_name: None,
            recursive_calls: Vec::new(),
            awaits_as_locals: false,
            slots: Vec::new(),
            scopes: Scopes::default(),
            targets: Vec::new(),
            blocks: vec![BasicBlock::new()],
            current: 0,
            owners: Vec::new(),
            user_span: Span::call_site(),
            edges: Vec::new(),
            registers: Vec::new(),
            resume_blocks: Vec::new(),
            items: Vec::new(),
            next_value: 0,
            next_start: 0,
            hoist_references: false,
            pending_temporaries: Vec::new(),
            consumed: Default::default(),
            suspending_blocks: Vec::new(),
            events: 0,
            unsafe_depth: 0,
            inline_conditional: 0,
        }
    }

    // Input:
    //     async fn f(a: A, (b, c): (B, C)) -> R { body }
    // Output (basic block 0), the arguments already in their frame fields `a` and `__arg1`:
    //     <a is the body's local `a` when the body suspends, else `let a = a.take()`>
    //     let (b, c) = __arg1.take();      // saved or plain, as any local
    //     <body, its value into a register>
    //     break '__block Exit::Return(<register>)
    // rustc stores each argument twice (captured, then moved into the body's local); here the
    // captured argument is the local.
    fn run(mut self, function: &AsyncFn, signature: &Signature) -> syn::Result<Lowered> {
        crate::recursion::check(function)?;
        self.recursive_name = crate::recursion::recursive_name(function).cloned();
        self.user_span = function.block.brace_token.span.join();
        let body_awaits = block_awaits(&function.block);
        self.scopes.push(Scope::default());
        self.begin_owner();
        for (index, arg) in signature.args.iter().enumerate() {
            let field = unresumed_field(arg).to_string();
            let id = self.declare_slot(&field, SlotKind::Argument, "");
            self.slots[id].argument = true;
            let slot = self.slot(id);
            // SAFETY: arguments are initialised when the future is created.
            let take = quote!(unsafe { #slot.take() });
            match &arg.binding {
                ArgBinding::SelfValue if body_awaits => {
                    self.scopes.bind("self".into(), Binding::Slot(id));
                }
                ArgBinding::SelfValue => {
                    self.mark_taken(id);
                    let local = self_local();
                    self.emit(quote!(let #local = #take;));
                    self.scopes.bind("self".into(), Binding::Plain(Some(local)));
                }
                ArgBinding::Ident { ident, .. } if body_awaits => {
                    self.scopes.bind(ident.to_string(), Binding::Slot(id));
                }
                ArgBinding::Ident { ident, mutable } => {
                    self.mark_taken(id);
                    let mutability = mutable.then(|| quote!(mut));
                    self.emit(quote_spanned!(arg.span=> let #mutability #ident = #take;));
                    self.scopes.bind(ident.to_string(), Binding::Plain(None));
                }
                // `_` keeps the argument alive until the end of the body, as rustc does.
                ArgBinding::Pattern(Pat::Wild(_)) if body_awaits => {}
                ArgBinding::Pattern(Pat::Wild(_)) => {
                    self.mark_taken(id);
                    let local = internal(&format!("__arg{index}"));
                    self.emit(quote!(let #local = #take;));
                }
                ArgBinding::Pattern(pattern) if has_ref_binding(pattern) => {
                    // `ref` bindings borrow the argument, which stays in its field.
                    self.record_place(id);
                    let (renamed, names) = self.pattern_for_slots(pattern, true)?;
                    // SAFETY: the argument is initialised and stays in place to the end.
                    self.emit(quote!(let #renamed = (*unsafe { #slot.place_mut() });));
                    for (name, local) in names {
                        let binding = self.declare_slot(&name, SlotKind::Local, &name);
                        self.init_slot(binding, quote!(#local));
                    }
                }
                ArgBinding::Pattern(pattern) if !body_awaits => {
                    // As rustc: the pattern moves its bindings out of the argument, whose
                    // unmatched rest lives to the end of the body.
                    self.mark_taken(id);
                    let local = internal(&format!("__arg{index}"));
                    self.emit(quote!(let #local = #take;));
                    self.bind_pattern(pattern, quote!(#local), false)?;
                }
                ArgBinding::Pattern(pattern) => {
                    self.mark_taken(id);
                    self.bind_argument_pattern(pattern, take)?;
                }
            }
        }
        let output = self.new_register();
        self.lower_block_contents(&function.block, Some(output))?;
        self.end_owner();
        let scope = self.pop_scope();
        self.drop_scope_slots(&scope);
        let value = self.read_register(output);
        self.terminate(quote!(break '__block ::unasync::__private::Exit::Return(#value);));
        // Blocks no edge reaches (after a loop that never breaks, after a `return`) are left out:
        // the shadow body already has rustc check that code.
        let mut reachable = vec![false; self.blocks.len()];
        let mut pending = vec![0];
        while let Some(block) = pending.pop() {
            if !std::mem::replace(&mut reachable[block], true) {
                pending.extend(self.edges.iter().filter(|edge| edge.source == block).map(|edge| edge.target));
            }
        }
        for slot in &mut self.slots {
            slot.typed = slot.argument || slot.usage.value_blocks.iter().any(|&block| reachable[block]);
        }
        if self.first_pass.is_none() {
            self.find_poll_locals(&reachable);
        } else {
            // The emitted code follows the first pass's decisions; report them.
            let first = self.first_pass.take().expect("first pass");
            for (slot, first) in self.slots.iter_mut().zip(first) {
                slot.awaits = first.awaits;
                slot.dynamic = first.dynamic;
                slot.poll_local = first.poll_local;
                slot.force_prefix = first.force_prefix;
                slot.unresumed = first.unresumed;
            }
        }
        let used_registers: std::collections::BTreeSet<usize> = self
            .blocks
            .iter()
            .zip(&reachable)
            .filter(|(_, reachable)| **reachable)
            .flat_map(|(block, _)| block.registers.iter().copied())
            .collect();
        Ok(Lowered {
            registers: used_registers.into_iter().collect(),
            slots: self.slots,
            resume_blocks: self.resume_blocks,
            blocks: {
                let mut blocks: Vec<(usize, usize, TokenStream)> = self
                    .blocks
                    .into_iter()
                    .enumerate()
                    .filter(|(index, _)| reachable[*index])
                    .map(|(index, mut block)| {
                        assert_eq!(block.parts.len(), 1, "unbalanced braces in a basic block");
                        let code = block.parts.pop().expect("block code");
                        let code = if block.terminated { code } else { quote!(#code ::core::unreachable!()) };
                        (block.started, index, code)
                    })
                    .collect();
                blocks.sort_by_key(|(started, index, _)| (*started, *index));
                blocks.into_iter().map(|(_, index, code)| (index, code)).collect()
            },
            edges: self.edges,
            items: self.items,
            recursive_calls: self.recursive_calls,
        })
    }

    /// A local moved exactly once, never borrowed nor assigned, whose move happens on every path
    /// to each suspension point in its scope, is not live at any of them (rustc does not save
    /// such locals either): it can live on the resume function's stack.
    fn find_poll_locals(&mut self, reachable: &[bool]) {
        let dominators = dominators(self.blocks.len(), reachable, &self.edges);
        // A move in a loop that can run again before the local is given a new value is a copy
        // (rustc rejects it otherwise): the local stays where it is, like a conditional move.
        for slot in &mut self.slots {
            let usage = &mut slot.usage;
            if usage.takes > 0 && runs_again_before(usage.take_block, &usage.value_blocks, &self.edges) {
                usage.conditional_take = true;
            }
        }
        for slot in &mut self.slots {
            // `let x;` assigned only after every suspension point in its scope: no value to save.
            if slot.usage.deferred {
                let initialised = reached_from(self.blocks.len(), &slot.usage.assign_blocks, &self.edges);
                if slot.awaits.iter().all(|&k| !initialised[self.suspending_blocks[k]]) {
                    slot.poll_local = true;
                    slot.dynamic = false;
                    slot.awaits.clear();
                    continue;
                }
            }
            let usage = &slot.usage;
            let candidate = matches!(slot.kind, SlotKind::Local)
                && usage.takes == 1
                && !usage.conditional_take
                && usage.places == 0
                && !usage.assigned;
            if candidate
                && slot.awaits.iter().all(|&k| {
                    let suspending = self.suspending_blocks[k];
                    dominators[suspending].contains(&usage.take_block)
                })
            {
                slot.poll_local = true;
                slot.dynamic = false;
                slot.awaits.clear();
            }
        }
        self.find_early_moves(&dominators);
        self.separate_overlapping_variants();
        self.find_unresumed_arguments(&dominators);
        self.find_static_liveness();
    }

    /// A local moved out once, where no suspension point it is saved at can follow: at each of
    /// them it is certainly live, so its drop flag need not be kept in the frame.
    fn find_static_liveness(&mut self) {
        for slot in &mut self.slots {
            let usage = &slot.usage;
            if !slot.dynamic || usage.takes != 1 || usage.conditional_take || usage.assigned || usage.deferred {
                continue;
            }
            let after_take = reached_from(self.blocks.len(), &[usage.take_block], &self.edges);
            if slot.awaits.iter().all(|&k| !after_take[self.suspending_blocks[k]]) {
                slot.dynamic = false;
            }
        }
    }

    /// Arguments moved out once, before every suspension point and before anything enters a
    /// suspended state's variant: kept in `Unresumed` only, as rustc keeps its upvars, so they
    /// take no room in the other states (rustc's moved-from locals are not saved either).
    fn find_unresumed_arguments(&mut self, dominators: &[std::collections::BTreeSet<usize>]) {
        let first_variant_entry = self
            .slots
            .iter()
            .filter(|slot| matches!(slot.placement(), Placement::Variant(_)))
            .map(|slot| slot.usage.init_event.unwrap_or(0))
            .min()
            .unwrap_or(u32::MAX);
        for slot in &mut self.slots {
            let usage = &slot.usage;
            let moved_first = slot.argument
                && usage.takes == 1
                && !usage.conditional_take
                && usage.places == 0
                && !usage.assigned
                && usage.take_event < first_variant_entry
                && self.suspending_blocks.iter().all(|&block| dominators[block].contains(&usage.take_block));
            if moved_first {
                slot.unresumed = true;
                slot.dynamic = false;
                slot.awaits.clear();
            }
        }
    }

    /// Two locals of different variants live at the same time cannot share the variant part
    /// of the frame: the one that starts first moves to the prefix, until none overlap.
    fn separate_overlapping_variants(&mut self) {
        loop {
            // A local moved out before its later suspension points is dead after the move.
            let interval = |slot: &Slot| {
                let usage = &slot.usage;
                let start = usage.init_event.unwrap_or(0);
                let end = if slot.moved_early { usage.take_event } else { usage.end_event };
                (start, end.max(start))
            };
            let mut conflict = None;
            'search: for (x, first) in self.slots.iter().enumerate() {
                let Placement::Variant(j) = first.placement() else { continue };
                for (y, second) in self.slots.iter().enumerate().skip(x + 1) {
                    let Placement::Variant(k) = second.placement() else { continue };
                    let ((a0, a1), (b0, b1)) = (interval(first), interval(second));
                    if j != k && a0 < b1 && b0 < a1 {
                        conflict = Some(if a0 <= b0 { x } else { y });
                        break 'search;
                    }
                }
            }
            match conflict {
                Some(id) => self.slots[id].force_prefix = true,
                None => break,
            }
        }
    }

    /// A local moved exactly once (as above) but after some suspension points: it is saved only
    /// at those before the move. When that leaves one, the local joins that state's variant,
    /// unless a local of another variant starts while it is still live.
    fn find_early_moves(&mut self, dominators: &[std::collections::BTreeSet<usize>]) {
        for id in 0..self.slots.len() {
            let slot = &self.slots[id];
            let usage = &slot.usage;
            if slot.poll_local
                || !matches!(slot.kind, SlotKind::Local)
                || usage.takes != 1
                || usage.conditional_take
                || usage.places != 0
                || usage.assigned
            {
                continue;
            }
            let before_move: std::collections::BTreeSet<usize> = slot
                .awaits
                .iter()
                .copied()
                .filter(|&k| !dominators[self.suspending_blocks[k]].contains(&usage.take_block))
                .collect();
            if before_move.len() != 1 || before_move == slot.awaits {
                continue;
            }
            let k = *before_move.first().expect("one suspension point");
            let (Some(start), end) = (usage.init_event, usage.take_event) else { continue };
            let conflict = self.slots.iter().enumerate().any(|(other, slot)| {
                other != id
                    && matches!(slot.placement(), Placement::Variant(j) if j != k)
                    && slot.usage.init_event.is_some_and(|event| start < event && event < end)
            });
            if !conflict {
                self.slots[id].awaits = before_move;
                self.slots[id].moved_early = true;
            }
        }
    }

    // ---- basic blocks -------------------------------------------------------------------------

    pub(crate) fn emit(&mut self, tokens: TokenStream) {
        if self.blocks[self.current].terminated {
            // Code after a `return`, `break` or `continue`: unreachable, but rustc still checks it.
            let dead = self.new_block();
            self.start_block(dead);
        }
        if !self.pending_temporaries.is_empty() {
            let mut mentioned = std::collections::BTreeSet::new();
            collect_idents(&tokens, &mut mentioned);
            let slots = &self.slots;
            let (consumed, pending): (Vec<usize>, Vec<usize>) = self
                .pending_temporaries
                .iter()
                .partition(|&&id| mentioned.contains(&slots[id].name.to_string()));
            self.events += 1;
            for &id in &consumed {
                self.slots[id].usage.end_event = self.events;
            }
            self.consumed.extend(consumed);
            self.pending_temporaries = pending;
        }
        self.blocks[self.current].extend(tokens);
    }

    fn new_block(&mut self) -> usize {
        self.blocks.push(BasicBlock::new());
        self.blocks.len() - 1
    }

    fn start_block(&mut self, block: usize) {
        self.current = block;
        self.next_start += 1;
        self.blocks[block].started = self.next_start;
        for open in &mut self.owners {
            *open = true;
            self.blocks[block].open();
        }
    }

    fn terminate(&mut self, exit: TokenStream) {
        if self.blocks[self.current].terminated {
            return;
        }
        let span = self.user_span;
        let block = &mut self.blocks[self.current];
        block.extend(exit);
        for open in self.owners.iter_mut().rev() {
            if *open {
                *open = false;
                block.close(span);
            }
        }
        block.terminated = true;
    }

    fn begin_owner(&mut self) {
        self.emit(TokenStream::new());
        self.owners.push(true);
        self.blocks[self.current].open();
    }

    fn end_owner(&mut self) {
        if self.owners.pop() == Some(true) && !self.blocks[self.current].terminated {
            self.blocks[self.current].close(self.user_span);
            // The brace may end in the block's tail expression (see `tail`).
            self.blocks[self.current].extend(quote!(;));
        }
    }

    // Input:
    //     { let a = ..; x.await; let b = ..; make().len() }     // a saved, b plain
    // Output (the last basic block of the block):
    //     { let __scope_end = ScopeEnd::new(|| <drop a>); let b = ..; __register.write(make().len()) };
    // The block's saved locals are dropped by a guard declared first in the block's brace, so
    // they go after its plain locals, and the temporaries of the tail expression are dropped
    // before all of them (edition 2024) or after (2021) as rustc's own rules for the user's
    // edition decide.
    fn tail(&mut self, value: TokenStream, register: Option<usize>) {
        let value = match register {
            Some(register) => {
                let write = self.write_register(register, value);
                let write: TokenStream = write.into_iter().filter(|t| !matches!(t, proc_macro2::TokenTree::Punct(p) if p.as_char() == ';')).collect();
                write
            }
            None => value,
        };
        let open_here = self.owners.last() == Some(&true) && !self.blocks[self.current].terminated;
        if !open_here || !self.guard_block_slots() {
            self.emit(quote!(#value;));
            return;
        }
        self.emit(value);
    }

    /// Drops the saved locals of the innermost block by a guard in its brace (see `guard_drops`),
    /// when the brace has a part in the current basic block; whether it did.
    fn guard_block_slots(&mut self) -> bool {
        let scope = self.scopes.stack.last().expect("block scope");
        if scope.slots.is_empty() || scope.dropped_by_guard || self.owners.last() != Some(&true) {
            return false;
        }
        let slots: Vec<usize> = scope.slots.iter().rev().copied().collect();
        self.scopes.stack.last_mut().expect("block scope").dropped_by_guard = true;
        self.guard_drops(slots);
        true
    }

    /// Drops `slots` when the current brace ends, after the ordinary locals and temporaries of
    /// the code that follows in it, as rustc orders the end of a scope.
    fn guard_drops(&mut self, slots: Vec<usize>) {
        let drops = self.drop_slots(slots);
        let guard = internal("__scope_end");
        let block = &mut self.blocks[self.current];
        let part = block.parts.last_mut().expect("owner brace");
        // The guard is the first thing in this brace's part of the basic block, so every Rust
        // local and extended temporary that follows in it ends first, as the user's scope
        // orders them. It skips the drops while an awaitee is polled (their unwinding is the
        // unwind guard's, innermost first) and when the future suspends.
        // SAFETY (of the drops): they run when the block's brace ends, where the flags are
        // accurate, or while unwinding through it.
        let declaration = quote! {
            let #guard = ::unasync::__private::ScopeEnd::new(move || if !__suspending.get() { #drops });
        };
        *part = declaration.into_iter().chain(std::mem::take(part)).collect();
    }

    /// Ends a statement's scope: its saved temporaries go when its brace ends, after the
    /// statement's own Rust temporaries, which were created later.
    fn end_statement(&mut self) {
        let scope = self.pop_scope();
        let open_here = self.owners.last() == Some(&true) && !self.blocks[self.current].terminated;
        if !scope.slots.is_empty() && open_here {
            self.guard_drops(scope.slots.iter().rev().copied().collect());
        } else {
            self.drop_scope_slots(&scope);
        }
        self.end_owner();
    }

    /// An edge token: `break '__block Exit::Edge(n)`.
    pub(crate) fn edge_to(&mut self, target: usize, drops: Vec<usize>) -> TokenStream {
        self.edges.push(Edge { drops, target, source: self.current });
        self.blocks[self.current].exited = true;
        let edge = (self.edges.len() - 1) as u32;
        quote!(break '__block ::unasync::__private::Exit::Edge(#edge))
    }

    fn goto(&mut self, target: usize) {
        let edge = self.edge_to(target, Vec::new());
        self.terminate(quote!(#edge;));
    }

    // ---- registers: values carried between basic blocks of one poll -------------------------

    fn new_register(&mut self) -> usize {
        self.registers.push(false);
        self.registers.len() - 1
    }

    pub(crate) fn write_register(&mut self, register: usize, value: TokenStream) -> TokenStream {
        self.registers[register] = true;
        self.blocks[self.current].registers.insert(register);
        let name = register_name(register);
        quote!(#name.write(#value);)
    }

    fn read_register(&mut self, register: usize) -> TokenStream {
        if !self.registers[register] {
            // Never written: every path into this point diverged.
            return quote!(::core::unreachable!());
        }
        self.blocks[self.current].registers.insert(register);
        let name = register_name(register);
        // SAFETY: every edge into this block wrote the register just before jumping here.
        quote!(unsafe { #name.assume_init_read() })
    }

    /// Evaluates a value now, into an ordinary local of the current block.
    fn materialize(&mut self, value: TokenStream) -> TokenStream {
        let name = internal(&format!("__value{}", self.next_value));
        self.next_value += 1;
        self.emit(quote!(let #name = #value;));
        quote!(#name)
    }

    // ---- saved locals -------------------------------------------------------------------------

    fn declare_slot(&mut self, preferred: &str, kind: SlotKind, binding_name: &str) -> usize {
        let taken = |name: &str, slots: &[Slot]| {
            slots.iter().any(|slot| slot.name == name)
                || matches!(name, "enter" | "drop_live" | "unwind" | "new")
                || name.starts_with("enter_")
        };
        // A raw identifier (`r#match`) names a field `match_`, which is not a keyword.
        let base = plain_name(preferred);
        let mut name = base.clone();
        let mut suffix = 1;
        while taken(&name, &self.slots) {
            name = format!("{base}_{suffix}");
            suffix += 1;
        }
        let (dynamic, poll_local, force_prefix) = match &self.first_pass {
            Some(first) => {
                let first = &first[self.slots.len()];
                (first.dynamic, first.poll_local, first.force_prefix)
            }
            None => (false, false, false),
        };
        self.slots.push(Slot {
            name: internal(&name),
            kind,
            awaits: Default::default(),
            argument: false,
            dynamic,
            usage: Default::default(),
            poll_local,
            force_prefix,
            moved_early: false,
            typed: true,
            unresumed: false,
        });
        let id = self.slots.len() - 1;
        let scope = self.scopes.stack.last_mut().expect("no scope");
        scope.slots.push(id);
        if kind == SlotKind::Local {
            scope.bindings.push((binding_name.to_string(), Binding::Slot(id)));
        }
        id
    }

    /// Ends a scope of the lowering, noting when its saved locals stop being live.
    fn pop_scope(&mut self) -> Scope {
        let scope = self.scopes.pop();
        self.events += 1;
        for &id in &scope.slots {
            if !self.consumed.contains(&id) {
                let usage = &mut self.slots[id].usage;
                usage.end_event = usage.end_event.max(self.events);
            }
        }
        scope
    }

    /// The frame accessor of a saved local: `__Frame::name(__this, __live)`.
    pub(crate) fn slot(&self, id: usize) -> TokenStream {
        let name = &self.slots[id].name;
        if self.placement(id) == Placement::PollLocal {
            let pointer = poll_local_pointer(name);
            return quote!(::unasync::__private::Slot::new(#pointer, &raw mut (*__live)[#id]));
        }
        let frame = &self.frame_type;
        quote!(#frame::#name(__this, __live))
    }

    /// The local is moved out here: whether it is live at a suspension point depends on the
    /// path, so its drop flag is saved in the frame.
    pub(crate) fn mark_taken(&mut self, id: usize) {
        self.record_take(id, false);
    }

    pub(crate) fn record_take(&mut self, id: usize, conditional: bool) {
        let current = self.current;
        let exited = self.blocks[current].exited;
        let slot = &mut self.slots[id];
        slot.dynamic = true;
        slot.usage.takes += 1;
        slot.usage.conditional_take |= conditional || exited;
        self.events += 1;
        slot.usage.take_event = self.events;
        slot.usage.take_block = current;
    }

    pub(crate) fn record_place(&mut self, id: usize) {
        self.slots[id].usage.places += 1;
    }

    pub(crate) fn record_assignment(&mut self, id: usize) {
        let current = self.current;
        let usage = &mut self.slots[id].usage;
        usage.assigned = true;
        usage.assign_blocks.push(current);
        usage.value_blocks.push(current);
    }

    /// `local = value` at the local's declaration.
    fn init_slot(&mut self, id: usize, value: TokenStream) {
        let slot = self.slot(id);
        // The value is user code: it runs before, never inside, the `unsafe` block; it may also
        // read saved locals of the state being left.
        let value = self.materialize(value);
        self.events += 1;
        self.slots[id].usage.init_event.get_or_insert(self.events);
        let current = self.current;
        self.slots[id].usage.value_blocks.push(current);
        match self.placement(id) {
            Placement::Variant(k) => {
                let enter = format_ident!("enter_Suspend{}", k);
                let frame = &self.frame_type;
                self.emit(quote! {
                    // SAFETY: no saved local of another state is live here (each lives in the
                    // scope of its only suspension point), so the variant can be switched.
                    unsafe { #frame::#enter(__this); #slot.init(#value) };
                });
            }
            Placement::Prefix | Placement::PollLocal | Placement::Unresumed => {
                // SAFETY: the local's scope starts here: nothing of it is live yet.
                self.emit(quote!(unsafe { #slot.init(#value) };));
            }
        }
    }

    fn placement(&self, id: usize) -> Placement {
        match &self.first_pass {
            Some(first) => first[id].placement(),
            None => Placement::Prefix,
        }
    }

    /// A value that must survive a later `.await` of the same statement.
    fn save_temporary(&mut self, value: TokenStream) -> usize {
        let id = self.declare_slot(&format!("__temp{}", self.slots.len()), SlotKind::Temporary, "");
        self.init_slot(id, value);
        id
    }

    /// A temporary moved out exactly once, where the expression using it is evaluated.
    fn save_moved_temporary(&mut self, value: TokenStream) -> usize {
        let id = self.save_temporary(value);
        self.pending_temporaries.push(id);
        id
    }

    pub(crate) fn drop_slots(&self, slots: impl IntoIterator<Item = usize>) -> TokenStream {
        // The flag is checked first: a local that is not live may belong to a variant the frame
        // has left.
        let drops = slots.into_iter().map(|id| {
            let slot = self.slot(id);
            quote!(if (*__live)[#id] { #slot.drop_if_live(); })
        });
        // SAFETY: the flags say which of these locals are live.
        quote!(unsafe { #(#drops)* })
    }

    fn drop_scope_slots(&mut self, scope: &Scope) {
        if !scope.slots.is_empty() && !scope.dropped_by_guard {
            let drops = self.drop_slots(scope.slots.iter().rev().copied());
            self.emit(drops);
        }
    }

    /// The saved locals a jump to `depth` leaves, innermost first.
    pub(crate) fn slots_above(&self, depth: usize) -> Vec<usize> {
        self.scopes.stack[depth..]
            .iter()
            .flat_map(|scope| scope.slots.iter().copied())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect()
    }

    // ---- blocks and statements ---------------------------------------------------------------

    /// A block that contains an `.await`: its value, if any, goes to `register`.
    fn lower_block(&mut self, block: &Block, register: Option<usize>) -> syn::Result<()> {
        let hoisting = std::mem::replace(&mut self.hoist_references, false);
        self.scopes.push(Scope::default());
        self.begin_owner();
        self.lower_block_contents(block, register)?;
        self.hoist_references = hoisting;
        self.end_owner();
        let scope = self.pop_scope();
        self.drop_scope_slots(&scope);
        Ok(())
    }

    fn lower_block_contents(&mut self, block: &Block, register: Option<usize>) -> syn::Result<()> {
        let count = block.stmts.len();
        for item in block.stmts.iter().filter_map(|stmt| match stmt {
            Stmt::Item(item) => Some(item),
            _ => None,
        }) {
            self.items.push(item.to_token_stream());
        }
        for (index, stmt) in block.stmts.iter().enumerate() {
            let later_awaits = block.stmts[index + 1..].iter().any(stmt_awaits);
            match stmt {
                Stmt::Local(local) => self.lower_local(local, later_awaits)?,
                Stmt::Item(_) => {}
                Stmt::Expr(expr, None) if index + 1 == count => {
                    let value = self.operand(expr, Use::Value)?;
                    self.tail(value, register);
                    return Ok(());
                }
                Stmt::Expr(expr, semi) => {
                    if expr_awaits(expr) {
                        check_attributes(expression_attributes(expr))?;
                        self.scopes.push(Scope::default());
                        self.begin_owner();
                        let value = self.lower_expr(expr, Use::Value)?;
                        self.emit(quote!(#value;));
                        self.end_statement();
                    } else {
                        let mut expr = expr.clone();
                        self.rewrite_expr(&mut expr, Use::Value)?;
                        let semi = semi.map_or_else(|| quote!(;), |s| s.to_token_stream());
                        let statement = self.user_unsafe(quote!(#expr));
                        self.emit(quote!(#statement #semi));
                    }
                }
                Stmt::Macro(mac) => {
                    let mut expr = Expr::Macro(syn::ExprMacro { attrs: mac.attrs.clone(), mac: mac.mac.clone() });
                    if stmt_awaits(stmt) {
                        self.scopes.push(Scope::default());
                        self.begin_owner();
                        let value = self.lower_expr(&expr, Use::Value)?;
                        self.emit(quote!(#value;));
                        self.end_statement();
                    } else {
                        self.rewrite_expr(&mut expr, Use::Value)?;
                        self.emit(quote!(#expr;));
                    }
                }
            }
        }
        // Without a tail expression too, the block's own locals go first when its brace is
        // left, also by an early `return`, `?` or `break` out of it (which diverge here).
        self.guard_block_slots();
        let diverges = block.stmts.last().is_some_and(|stmt| match stmt {
            Stmt::Expr(expr, _) => diverging(expr),
            Stmt::Macro(mac) => diverging_macro(&mac.mac),
            _ => false,
        });
        if let Some(register) = register
            && !diverges
            && !self.blocks[self.current].terminated
        {
            let write = self.write_register(register, quote!(()));
            self.emit(write);
        }
        Ok(())
    }

    // Input:
    //     let x = make(a.await);   // x in scope at a later `.await`
    // Output:
    //     <a.await>; let __value0 = make(__value1); <enter the state x lives in>;
    //     __Frame::x(__this).init(__value0);
    fn lower_local(&mut self, local: &Local, later_awaits: bool) -> syn::Result<()> {
        if !later_awaits && !local.init.as_ref().is_some_and(|init| expr_awaits(&init.expr)) {
            let mut stmt = Stmt::Local(local.clone());
            self.rewrite_stmt(&mut stmt)?;
            self.emit(stmt.to_token_stream());
            return Ok(());
        }
        check_attributes(&local.attrs)?;
        let diverge = match local.init.as_ref().and_then(|init| init.diverge.as_ref()) {
            Some((_, otherwise)) if expr_awaits(otherwise) => {
                return Err(Error::new_spanned(
                    otherwise,
                    "unasync does not lower `.await` in the `else` of `let ... else` yet",
                ));
            }
            Some((else_token, otherwise)) => {
                let mut otherwise = (**otherwise).clone();
                self.rewrite_expr(&mut otherwise, Use::Value)?;
                Some(quote!(#else_token #otherwise))
            }
            None => None,
        };
        let (pattern, ty) = match &local.pat {
            Pat::Type(typed) => (&*typed.pat, Some(&typed.ty)),
            other => (other, None),
        };
        let Some(init) = &local.init else {
            // `let x;` assigned later.
            let Pat::Ident(ident) = pattern else {
                return Err(Error::new_spanned(pattern, "a `let` without initialiser needs a plain name"));
            };
            let name = ident.ident.to_string();
            let id = self.declare_slot(&name, SlotKind::Local, &name);
            self.slots[id].dynamic = true;
            self.slots[id].usage.deferred = true;
            let slot = self.slot(id);
            if let Placement::Variant(k) = self.placement(id) {
                let enter = format_ident!("enter_Suspend{}", k);
                let frame = &self.frame_type;
                // SAFETY: as for any declaration of a local of this state.
                self.emit(quote!(unsafe { #frame::#enter(__this) };));
            }
            if let Some(ty) = ty {
                // SAFETY: only computes the local's address.
                self.emit(quote!(::unasync::__private::Slot::<#ty>::ascribe(unsafe { #slot });));
            }
            return Ok(());
        };
        if later_awaits
            && let Some(ident) = simple_binding(pattern)
            && let Expr::Reference(reference) = strip_parens(&init.expr)
            && !is_place(&reference.expr)
        {
            // `let x = &value;` extends the temporary to the end of the block: it is a hidden
            // local declared just before `x`.
            self.scopes.push(Scope::default());
            self.begin_owner();
            let value = self.operand(&reference.expr, Use::Value)?;
            let register = self.new_register();
            let write = self.write_register(register, value);
            self.emit(write);
            self.end_owner();
            let scope = self.pop_scope();
            self.drop_scope_slots(&scope);
            let value = self.read_register(register);
            let extended = self.declare_slot(&format!("__extended{}", self.slots.len()), SlotKind::Temporary, "");
            self.init_slot(extended, value);
            let slot = self.slot(extended);
            let borrow = match reference.mutability {
                // SAFETY: the hidden local was just initialised and lives as long as `x`.
                Some(_) => quote!(&mut *unsafe { #slot.place_mut() }),
                None => quote!(&*unsafe { #slot.place_ref() }),
            };
            let borrow = match ty {
                Some(ty) => quote!({ let __typed: #ty = #borrow; __typed }),
                None => borrow,
            };
            let name = ident.to_string();
            let id = self.declare_slot(&name, SlotKind::Local, &name);
            self.init_slot(id, borrow);
            return Ok(());
        }
        self.scopes.push(Scope::default());
        self.begin_owner();
        let mut value = if diverge.is_none() && (simple_binding(pattern).is_some() || matches!(pattern, Pat::Wild(_))) {
            self.operand(&init.expr, if matches!(pattern, Pat::Wild(_)) { Use::PlaceMut } else { Use::Value })?
        } else if expr_awaits(&init.expr) {
            self.lower_expr(&init.expr, Use::Value)?
        } else {
            self.operand(&init.expr, Use::PlaceMut)?
        };
        if let Some(ty) = ty {
            value = self.materialize(quote!({ let __typed: #ty = #value; __typed }));
        }
        if matches!(pattern, Pat::Wild(_)) {
            self.emit(quote!(let _ = #value;));
            self.end_owner();
            let scope = self.pop_scope();
            self.drop_scope_slots(&scope);
            return Ok(());
        }
        if later_awaits {
            // The temporaries end before the bindings start: nothing runs in between, and a
            // binding may live in another state's variant than a temporary. The brace ends
            // first, so the Rust temporaries it extended drop before the saved ones, as they
            // were created after them.
            let register = self.new_register();
            let write = self.write_register(register, value);
            self.emit(write);
            self.end_owner();
            let temporaries = self.pop_scope();
            self.drop_scope_slots(&temporaries);
            self.begin_owner();
            let value = self.read_register(register);
            // Parenthesised: a `let`-`else` initialiser cannot end in `}`.
            let value = quote!((#value));
            self.scopes.push(Scope::default());
            self.pattern_to_slots(pattern, value, diverge)?;
            let mut declared = self.pop_scope();
            self.end_owner();
            // The new locals belong to the enclosing block, declared in pattern order.
            let scope = self.scopes.stack.last_mut().expect("no scope");
            scope.slots.append(&mut declared.slots);
            scope.bindings.append(&mut declared.bindings);
        } else {
            // The temporaries of the initialiser end with the statement; the bindings outlive it.
            // The brace ends first: the statement's Rust temporaries, extended to it by a
            // materialised `&value`, were created after its saved ones and drop before them.
            let register = self.new_register();
            let write = self.write_register(register, value);
            self.emit(write);
            self.end_owner();
            let scope = self.pop_scope();
            self.drop_scope_slots(&scope);
            let value = self.read_register(register);
            let mut pattern = pattern.clone();
            self.bind_plain_pattern(&mut pattern);
            let ty = ty.map(|ty| quote!(: #ty));
            self.emit(quote!(let #pattern #ty = #value #diverge;));
        }
        Ok(())
    }

    // Input:
    //     async fn f(Pair { left, right: _ }: Pair)
    // Output:
    //     let Pair { left: __bind_left, right: __rest0 } = <the argument>;
    //     <__rest0 saved first, then left>
    // rustc leaves what `_` matches in the argument until the end of the body, after the
    // bindings: here it moves to hidden locals declared before the bindings (so dropped after
    // them). `..` cannot be named, so it is refused.
    fn bind_argument_pattern(&mut self, pattern: &Pat, value: TokenStream) -> syn::Result<()> {
        let mut renamed = pattern.clone();
        let mut rests = 0;
        name_wildcards(&mut renamed, &mut rests)?;
        let mut names = Vec::new();
        rename_bindings(&mut renamed, &mut names, false)?;
        self.emit(quote!(let #renamed = #value;));
        let (rest, bound): (Vec<_>, Vec<_>) = names.into_iter().partition(|(name, _)| name.starts_with("__rest"));
        for (name, local) in rest.into_iter().rev().chain(bound) {
            let id = self.declare_slot(&name, SlotKind::Local, &name);
            self.init_slot(id, quote!(#local));
        }
        Ok(())
    }

    /// Binds `pattern` from `value` at the start of a scope that contains an `.await` (saved
    /// locals) or not (plain locals).
    fn bind_pattern(&mut self, pattern: &Pat, value: TokenStream, saved: bool) -> syn::Result<()> {
        if saved {
            self.pattern_to_slots(pattern, value, None)?;
        } else {
            let mut pattern = pattern.clone();
            self.bind_plain_pattern(&mut pattern);
            self.emit(quote!(let #pattern = #value;));
        }
        Ok(())
    }

    // Input:
    //     let (a, mut b) = value;          // a and b saved
    // Output:
    //     let (__bind_a, __bind_b) = value;
    //     __Frame::a(__this).init(__bind_a); __Frame::b(__this).init(__bind_b);
    fn pattern_to_slots(&mut self, pattern: &Pat, value: TokenStream, otherwise: Option<TokenStream>) -> syn::Result<()> {
        if let Some(ident) = simple_binding(pattern)
            && otherwise.is_none()
        {
            let name = ident.to_string();
            let id = self.declare_slot(&name, SlotKind::Local, &name);
            self.init_slot(id, value);
            return Ok(());
        }
        let mut renamed = pattern.clone();
        let mut names = Vec::new();
        rename_bindings(&mut renamed, &mut names, false)?;
        self.emit(quote!(let #renamed = #value #otherwise;));
        for (name, local) in names {
            let id = self.declare_slot(&name, SlotKind::Local, &name);
            self.init_slot(id, quote!(#local));
        }
        Ok(())
    }

    /// Registers the bindings of a pattern matched by ordinary Rust code.
    pub(crate) fn bind_plain_pattern(&mut self, pattern: &mut Pat) {
        for name in pattern_bindings(pattern) {
            self.scopes.bind(name, Binding::Plain(None));
        }
    }

    // ---- expressions --------------------------------------------------------------------------

    /// An expression that may or may not contain an `.await`, as a value for the current block.
    fn operand(&mut self, expr: &Expr, use_: Use) -> syn::Result<TokenStream> {
        if self.needs_split(expr) {
            self.lower_expr(expr, use_)
        } else {
            let mut rewritten = expr.clone();
            self.rewrite_expr(&mut rewritten, use_)?;
            if self.unsafe_depth > 0 && use_ != Use::Value && !matches!(strip_parens(expr), Expr::Lit(_)) {
                return Err(Error::new_spanned(
                    expr,
                    "unasync does not lower this place inside an `unsafe` block with `.await` yet; bind it with `let` first",
                ));
            }
            Ok(self.user_unsafe(rewritten.to_token_stream()))
        }
    }

    /// Code the user wrote inside an `unsafe` block keeps that context once lowered.
    fn user_unsafe(&self, code: TokenStream) -> TokenStream {
        if self.unsafe_depth > 0 { quote!(unsafe { #code }) } else { code }
    }

    fn needs_split(&self, expr: &Expr) -> bool {
        expr_awaits(expr) || (self.hoist_references && has_temporary_reference(expr))
    }

    /// An operand that is kept across a suspension point, with the temporaries it borrows.
    fn saved_operand(&mut self, expr: &Expr) -> syn::Result<TokenStream> {
        let hoisting = std::mem::replace(&mut self.hoist_references, true);
        let value = self.operand(expr, Use::Value);
        self.hoist_references = hoisting;
        value
    }

    /// Sub-expressions in evaluation order: those evaluated before the last one that suspends
    /// are saved (they stay alive across the `.await`, as in rustc), places are left in place.
    fn sequence(&mut self, children: &[(&Expr, Use)]) -> syn::Result<Vec<TokenStream>> {
        let last = children.iter().rposition(|(expr, _)| self.needs_split(expr));
        let mut out = Vec::with_capacity(children.len());
        let mut moved_out_earlier = false;
        for (index, &(expr, use_)) in children.iter().enumerate() {
            let lowered = match last {
                Some(last) if index < last => {
                    if (use_ != Use::Value && is_place(expr)) || self.is_constant(expr) || is_borrow_of_named_place(expr) {
                        self.operand(expr, use_)?
                    } else if let Expr::Reference(reference) = strip_parens(expr)
                        && !is_place(&reference.expr)
                    {
                        self.borrow_of_temporary(reference)?
                    } else {
                        let value = self.saved_operand(expr)?;
                        let id = self.save_moved_temporary(value);
                        let slot = self.slot(id);
                        moved_out_earlier = true;
                        // SAFETY: initialised just above; moved out exactly once, here.
                        quote!(unsafe { #slot.take() })
                    }
                }
                Some(last) if index == last => {
                    // The value stays a temporary of the expression, as in rustc: the later
                    // operands are evaluated after it, when it has finished suspending. Unless
                    // earlier operands were moved out of the frame (a `Pending` in between would
                    // drop them): then it is computed first. A materialised value ends its own
                    // temporaries early, so its awaited values are locals of the statement's
                    // brace instead, which end with the statement.
                    let materialized = moved_out_earlier;
                    let outer = self.awaits_as_locals;
                    self.awaits_as_locals |= materialized;
                    let value = self.lower_expr(expr, use_);
                    self.awaits_as_locals = outer;
                    let value = value?;
                    if materialized { self.materialize(value) } else { value }
                }
                _ => {
                    let mut expr = expr.clone();
                    self.rewrite_expr(&mut expr, use_)?;
                    expr.to_token_stream()
                }
            };
            out.push(lowered);
        }
        Ok(out)
    }

    // Input:
    //     &make()          &make().field          &make()[..n]          &*make()
    // Output:
    //     <make() saved as __tempK>; then &(*__tempK) / &(*__tempK).field / &(*__tempK)[..n] / &*(*__tempK)
    // `&value` borrows a temporary that lives to the end of the statement, across the
    // suspension points in it, so the temporary is saved. Under field, index and deref
    // projections the temporary is the innermost value, as in rustc (the projected place may
    // be unsized, `[u8]`, and must not be moved).
    fn borrow_of_temporary(&mut self, reference: &syn::ExprReference) -> syn::Result<TokenStream> {
        let mutable = reference.mutability.is_some();
        let place = self.projected_temporary(&reference.expr, mutable)?;
        let mutability = &reference.mutability;
        Ok(quote!(&#mutability #place))
    }

    fn projected_temporary(&mut self, expr: &Expr, mutable: bool) -> syn::Result<TokenStream> {
        Ok(match strip_parens(expr) {
            Expr::Field(field) if !is_place(&field.base) => {
                let base = self.projected_temporary(&field.base, mutable)?;
                let member = &field.member;
                quote!((#base).#member)
            }
            Expr::Index(index) if !is_place(&index.expr) && is_constant_index(&index.index) => {
                let base = self.projected_temporary(&index.expr, mutable)?;
                let mut position = (*index.index).clone();
                self.rewrite_expr(&mut position, Use::Value)?;
                quote!((#base)[#position])
            }
            Expr::Unary(unary) if matches!(unary.op, UnOp::Deref(_)) && !is_place(&unary.expr) => {
                let base = self.projected_temporary(&unary.expr, mutable)?;
                quote!(*(#base))
            }
            _ => {
                let value = self.operand(expr, Use::Value)?;
                let id = self.save_temporary(value);
                let slot = self.slot(id);
                // SAFETY: initialised just above; it lives to the end of the statement.
                if mutable { quote!((*unsafe { #slot.place_mut() })) } else { quote!((*unsafe { #slot.place_ref() })) }
            }
        })
    }

    /// A literal or a path that names no local: evaluating it later gives the same value, so it
    /// need not be saved across a suspension point (rustc does not save constants either).
    fn is_constant(&self, expr: &Expr) -> bool {
        match strip_parens(expr) {
            Expr::Lit(_) => true,
            Expr::Path(path) => match single_ident(expr) {
                Some(name) => self.scopes.resolve(&name).is_none(),
                None => path.qself.is_none(),
            },
            Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => self.is_constant(&unary.expr),
            _ => false,
        }
    }

    /// An expression containing an `.await`.
    fn lower_expr(&mut self, expr: &Expr, use_: Use) -> syn::Result<TokenStream> {
        Ok(match expr {
            Expr::Await(awaited) => {
                let recursion = self
                    .recursive_name
                    .as_ref()
                    .and_then(|name| crate::recursion::boxed_self_call(&awaited.base, name));
                let future = match recursion {
                    // `Box::pin(f(..))` in `f`: boxed behind an erased type (see `recursion`).
                    Some(call) => {
                        self.recursive_calls.push(((*call.func).clone(), call.args.len()));
                        let erased: Expr = syn::parse_quote_spanned! {awaited.base.span()=>
                            ::unasync::__private::Recursion::new(#call)
                        };
                        self.saved_operand(&erased)?
                    }
                    None => self.saved_operand(&awaited.base)?,
                };
                self.lower_await(future, awaited.await_token.span)?
            }
            Expr::Paren(paren) => {
                let inner = self.operand(&paren.expr, use_)?;
                quote!((#inner))
            }
            Expr::Group(group) => self.operand(&group.expr, use_)?,
            Expr::Call(call) => {
                let mut children = vec![(&*call.func, Use::PlaceMut)];
                children.extend(call.args.iter().map(|arg| (arg, Use::Value)));
                let mut parts = self.sequence(&children)?.into_iter();
                let func = parts.next().expect("callee");
                quote!(#func(#(#parts),*))
            }
            Expr::MethodCall(call) => {
                let mut children = vec![(&*call.receiver, Use::PlaceMut)];
                children.extend(call.args.iter().map(|arg| (arg, Use::Value)));
                let mut parts = self.sequence(&children)?.into_iter();
                let receiver = parts.next().expect("receiver");
                let method = &call.method;
                let turbofish = &call.turbofish;
                quote!((#receiver).#method #turbofish (#(#parts),*))
            }
            Expr::Binary(binary) => match binary.op {
                BinOp::And(_) | BinOp::Or(_) if expr_awaits(&binary.right) => {
                    self.lower_short_circuit(binary)?
                }
                op if is_compound_assignment(&op) => {
                    if expr_awaits(&binary.left) {
                        return Err(Error::new_spanned(
                            &binary.left,
                            "unasync does not lower `.await` on the left of a compound assignment yet",
                        ));
                    }
                    let right = self.lower_expr(&binary.right, Use::Value)?;
                    let mut left = (*binary.left).clone();
                    self.rewrite_expr(&mut left, Use::PlaceMut)?;
                    self.user_unsafe(quote!(#left #op #right))
                }
                op => {
                    let operand_use = if is_comparison(&op) { Use::PlaceRef } else { Use::Value };
                    let parts =
                        self.sequence(&[(&binary.left, operand_use), (&binary.right, operand_use)])?;
                    let (left, right) = (&parts[0], &parts[1]);
                    quote!((#left) #op (#right))
                }
            },
            Expr::Unary(unary) => {
                let operand_use = if matches!(unary.op, UnOp::Deref(_)) { use_ } else { Use::Value };
                let inner = self.operand(&unary.expr, operand_use)?;
                let op = &unary.op;
                quote!(#op (#inner))
            }
            Expr::Field(field) => {
                let base = self.operand(&field.base, use_)?;
                let member = &field.member;
                quote!((#base).#member)
            }
            Expr::Index(index) => {
                let parts = self.sequence(&[(&index.expr, use_), (&index.index, Use::Value)])?;
                let (base, position) = (&parts[0], &parts[1]);
                quote!((#base)[#position])
            }
            Expr::Tuple(tuple) => {
                let children: Vec<_> = tuple.elems.iter().map(|e| (e, Use::Value)).collect();
                let parts = self.sequence(&children)?;
                quote!((#(#parts,)*))
            }
            Expr::Array(array) => {
                let children: Vec<_> = array.elems.iter().map(|e| (e, Use::Value)).collect();
                let parts = self.sequence(&children)?;
                quote!([#(#parts),*])
            }
            Expr::Struct(literal) => {
                let mut children: Vec<_> = literal.fields.iter().map(|f| (&f.expr, Use::Value)).collect();
                if let Some(rest) = &literal.rest {
                    children.push((rest, Use::PlaceMut));
                }
                let mut parts = self.sequence(&children)?.into_iter();
                let fields: Vec<TokenStream> = literal
                    .fields
                    .iter()
                    .map(|field| {
                        let member = &field.member;
                        let value = parts.next().expect("field value");
                        quote!(#member: #value)
                    })
                    .collect();
                let rest = parts.next().map(|rest| quote!(.. #rest));
                let qself_path = struct_path(literal);
                quote!(#qself_path { #(#fields,)* #rest })
            }
            Expr::Cast(cast) => {
                let inner = self.operand(&cast.expr, Use::Value)?;
                let ty = &cast.ty;
                quote!((#inner) as #ty)
            }
            Expr::Reference(reference) if self.hoist_references && !is_place(&reference.expr) => {
                // A temporary borrowed by a value saved across a suspension point.
                self.borrow_of_temporary(reference)?
            }
            Expr::Reference(reference) => {
                let inner = self.operand(&reference.expr, Use::PlaceMut)?;
                let mutability = &reference.mutability;
                quote!(&#mutability (#inner))
            }
            Expr::Range(range) => {
                let children: Vec<_> = range
                    .start
                    .iter()
                    .chain(range.end.iter())
                    .map(|e| (&**e, Use::Value))
                    .collect();
                let mut parts = self.sequence(&children)?.into_iter();
                let start = range.start.as_ref().map(|_| parts.next().expect("start"));
                let end = range.end.as_ref().map(|_| parts.next().expect("end"));
                let limits = &range.limits;
                quote!((#start) #limits (#end))
            }
            Expr::Repeat(repeat) => {
                let value = self.operand(&repeat.expr, Use::Value)?;
                let len = &repeat.len;
                quote!([#value; #len])
            }
            Expr::Try(question) => {
                let value = self.operand(&question.expr, Use::Value)?;
                try_operator(value, question.question_token.span)
            }
            Expr::Assign(assign) => {
                if expr_awaits(&assign.left) {
                    return Err(Error::new_spanned(
                        &assign.left,
                        "unasync does not lower `.await` on the left of an assignment yet",
                    ));
                }
                let value = self.lower_expr(&assign.right, Use::Value)?;
                self.assignment(&assign.left, value)?
            }
            Expr::Block(block) if block.attrs.is_empty() => {
                if block.label.is_some() {
                    return self.lower_labeled_block(block);
                }
                let register = self.new_register();
                self.lower_block(&block.block, Some(register))?;
                self.read_register(register)
            }
            Expr::If(conditional) => self.lower_if(conditional)?,
            Expr::Match(matching) => self.lower_match(matching)?,
            Expr::Loop(looping) => self.lower_loop(looping)?,
            Expr::While(looping) => self.lower_while(looping)?,
            Expr::ForLoop(looping) => self.lower_for(looping)?,
            Expr::Return(ret) => {
                let value = match &ret.expr {
                    Some(value) => self.operand(value, Use::Value)?,
                    None => quote!(()),
                };
                self.terminate(quote!(break '__block ::unasync::__private::Exit::Return(#value);));
                quote!(::core::unreachable!())
            }
            Expr::Break(jump) => {
                let value = match &jump.expr {
                    Some(value) => Some(self.operand(value, Use::Value)?),
                    None => None,
                };
                let exit = self.jump(jump.label.as_ref(), true, value, jump.span())?;
                self.terminate(quote!(#exit;));
                quote!(::core::unreachable!())
            }
            Expr::Macro(mac) => self.lower_macro(&mac.mac)?,
            Expr::Unsafe(block) => {
                // The user's own `unsafe` block: the code it contains keeps its unsafe context.
                self.unsafe_depth += 1;
                let register = self.new_register();
                let lowered = self.lower_block(&block.block, Some(register));
                self.unsafe_depth -= 1;
                lowered?;
                self.read_register(register)
            }
            Expr::Let(binding) => {
                return Err(Error::new(
                    binding.let_token.span,
                    "unasync lowers `let` with an `.await` only as the whole condition of `if` or `while`",
                ));
            }
            other => {
                return Err(Error::new_spanned(
                    other,
                    "unasync does not lower `.await` inside this expression yet",
                ));
            }
        })
    }

    // Input:
    //     println!("{} {}", a.await, b);
    // Output:
    //     <a.await into __value0>; println!("{} {}", __value0, b);
    // The standard macros whose arguments are expressions evaluate them in order, as a call
    // does: their arguments are lowered like a call's.
    fn lower_macro(&mut self, mac: &syn::Macro) -> syn::Result<TokenStream> {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if let Some(assertion) = name.strip_prefix("debug_") {
            // Like rustc's expansion: nothing is evaluated without debug assertions.
            let assertion = Ident::new(assertion, mac.path.segments.last().expect("name").ident.span());
            let tokens = &mac.tokens;
            let conditional: Expr = syn::parse_quote! {
                if ::core::cfg!(debug_assertions) { ::core::#assertion!(#tokens) }
            };
            return self.lower_expr(&conditional, Use::Value);
        }
        let operands = match name.as_str() {
            "assert" => Some(1),
            "assert_eq" | "assert_ne" => Some(2),
            _ => None,
        };
        let (first_use, rest_use) = match name.as_str() {
            "format" | "print" | "println" | "eprint" | "eprintln" | "format_args" | "panic"
            | "unreachable" | "todo" | "unimplemented" => (Use::PlaceRef, Use::PlaceRef),
            "write" | "writeln" => (Use::PlaceMut, Use::PlaceRef),
            "assert" | "debug_assert" => (Use::Value, Use::PlaceRef),
            "assert_eq" | "assert_ne" | "debug_assert_eq" | "debug_assert_ne" => (Use::PlaceRef, Use::PlaceRef),
            "vec" | "dbg" => (Use::Value, Use::Value),
            _ => return Err(unsupported_macro(mac)),
        };
        let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
        let args = mac.parse_body_with(parser).map_err(|_| unsupported_macro(mac))?;
        if let Some(operands) = operands
            && let Some(message) = args.iter().skip(operands).find(|arg| expr_awaits(arg))
        {
            return Err(Error::new_spanned(
                message,
                "unasync does not lower `.await` in an assertion's message yet (rustc evaluates it only when the assertion fails); compute it before",
            ));
        }
        let children: Vec<(&Expr, Use)> = args
            .iter()
            .enumerate()
            .map(|(index, arg)| {
                let use_ = if index == 0 { first_use } else { rest_use };
                match arg {
                    // A named format argument: `name = value`.
                    Expr::Assign(named) => (&*named.right, use_),
                    other => (other, use_),
                }
            })
            .collect();
        let parts = self.sequence(&children)?;
        // The lowered arguments stand behind placeholders while the format string's inline
        // captures (`{x}`) of saved locals become named arguments: rewriting them twice would
        // take the lowering's own code for the user's.
        let placeholders: Vec<Ident> = (0..parts.len()).map(|i| format_ident!("__lowered_argument{}", i)).collect();
        let rebuilt = args.iter().zip(&placeholders).zip(&parts).map(|((arg, placeholder), part)| match arg {
            Expr::Assign(named) => {
                let left = &named.left;
                quote!(#left = #placeholder)
            }
            Expr::Lit(_) => part.clone(),
            _ => quote!(#placeholder),
        });
        let mut mac = mac.clone();
        mac.tokens = quote!(#(#rebuilt),*);
        let mut expr = Expr::Macro(syn::ExprMacro { attrs: Vec::new(), mac });
        self.rewrite_expr(&mut expr, Use::Value)?;
        Ok(substitute_idents(expr.to_token_stream(), &placeholders, &parts))
    }

    // Input:
    //     future.await
    // Output:
    //     <enter SuspendK>; __Frame::__awaiteeK(__this).init(IntoFuture::into_future(future));
    //     break '__block Exit::Edge(to K's resume block)
    //   resume block of K (where polling in `SuspendK` starts), in place of the `.await`:
    //     (match poll_awaitee(__Frame::__awaiteeK(__this), __cx) {
    //         Poll::Ready(value) => { __Frame::__awaiteeK(__this).drop_if_live(); value }
    //         Poll::Pending => return Poll::Pending,
    //     })
    // The output is an expression, as in rustc's lowering: its value is a temporary of the
    // enclosing expression, dropped where the user's edition drops it.
    fn lower_await(&mut self, future: TokenStream, span: Span) -> syn::Result<TokenStream> {
        let k = self.resume_blocks.len();
        self.resume_blocks.push(usize::MAX);
        self.scopes.push(Scope::default());
        let awaitee = self.declare_slot(&format!("__awaitee{k}"), SlotKind::Awaitee, "");
        self.init_slot(awaitee, quote_spanned!(span=> ::core::future::IntoFuture::into_future(#future)));
        self.suspending_blocks.push(self.current);
        // Saved here: every local in scope, but temporaries the awaited expression consumed.
        for id in self.scopes.live_slots().collect::<Vec<_>>() {
            if !self.consumed.contains(&id) {
                self.slots[id].awaits.insert(k);
            }
        }
        let resume = self.new_block();
        self.resume_blocks[k] = resume;
        self.goto(resume);
        self.start_block(resume);
        let slot = self.slot(awaitee);
        let scope = self.pop_scope();
        let frame = &self.frame_type;
        let drop_awaitee = self.drop_slots(scope.slots.iter().rev().copied());
        let poll = quote! {
            // SAFETY: the awaitee was initialised before the first poll of this state and is
            // dropped in place, never moved, so it stays pinned.
            (match { __suspending.set(true); unsafe { ::unasync::__private::poll_awaitee(#slot.value, __cx) } } {
                ::core::task::Poll::Ready(value) => {
                    __suspending.set(false);
                    #drop_awaitee
                    value
                }
                ::core::task::Poll::Pending => {
                    // SAFETY: the flags are accurate at a suspension point.
                    unsafe { #frame::save_live(__this, __live) };
                    __guard.disarm();
                    return ::core::task::Poll::Pending;
                }
            })
        };
        if !self.awaits_as_locals {
            return Ok(poll);
        }
        let value = internal(&format!("__value{}", self.next_value));
        self.next_value += 1;
        self.emit(quote!(let #value = #poll;));
        Ok(quote!(#value))
    }

    fn lower_short_circuit(&mut self, binary: &syn::ExprBinary) -> syn::Result<TokenStream> {
        let left = self.operand(&binary.left, Use::Value)?;
        let register = self.new_register();
        let (evaluate, short) = (self.new_block(), self.new_block());
        let join = self.new_block();
        let to_evaluate = self.edge_to(evaluate, Vec::new());
        let to_short = self.edge_to(short, Vec::new());
        let exit = match binary.op {
            BinOp::And(_) => quote!(if #left { #to_evaluate } else { #to_short }),
            _ => quote!(if #left { #to_short } else { #to_evaluate }),
        };
        self.terminate(quote!(#exit;));
        self.start_block(short);
        let constant = matches!(binary.op, BinOp::Or(_));
        let write = self.write_register(register, quote!(#constant));
        self.emit(write);
        self.goto(join);
        self.start_block(evaluate);
        let right = self.lower_expr(&binary.right, Use::Value)?;
        let write = self.write_register(register, right);
        self.emit(write);
        self.goto(join);
        self.start_block(join);
        Ok(self.read_register(register))
    }

    /// `place = value` where the value is already computed.
    fn assignment(&mut self, left: &Expr, value: TokenStream) -> syn::Result<TokenStream> {
        if let Some(name) = single_ident(left)
            && let Some(crate::scope::Resolved::Slot(id)) = self.scopes.resolve(&name)
        {
            self.record_assignment(id);
            let slot = self.slot(id);
            // SAFETY: the slot belongs to a local in scope; its flag says whether to drop the
            // old value. The value is computed outside the `unsafe` block.
            return Ok(quote!({ let __assigned = #value; unsafe { #slot.assign(__assigned) } }));
        }
        let mut left = left.clone();
        self.rewrite_expr(&mut left, Use::PlaceMut)?;
        Ok(quote!(#left = #value))
    }

    // Input:
    //     if cond { then } else { other }
    // Output:
    //     if cond { Edge(then) } else { Edge(else) }
    //   then:  <then, value into register>; Edge(join)
    //   else:  <other, value into register>; Edge(join)
    //   join:  <register>
    fn lower_if(&mut self, conditional: &syn::ExprIf) -> syn::Result<TokenStream> {
        let register = self.new_register();
        let (then_block, else_block, join) = (self.new_block(), self.new_block(), self.new_block());
        let to_then = self.edge_to(then_block, Vec::new());
        let to_else = self.edge_to(else_block, Vec::new());
        let mut then_scope = None;
        let mut chain = false;
        match strip_parens(&conditional.cond) {
            Expr::Let(binding) => {
                let saved = block_awaits(&conditional.then_branch);
                let scrutinee = self.scrutinee(&binding.expr)?;
                self.scopes.push(Scope::default());
                let pattern = if saved {
                    let (pattern, names) = self.pattern_for_slots(&binding.pat, is_place(&binding.expr))?;
                    let inits = self.bind_saved(names)?;
                    quote!(#pattern => { #inits #to_then })
                } else {
                    let mut pattern = (*binding.pat).clone();
                    self.bind_plain_pattern(&mut pattern);
                    self.inline_conditional += 1;
                    let value = self.branch_value(&conditional.then_branch);
                    self.inline_conditional -= 1;
                    let value = value?;
                    let write = self.write_register(register, value);
                    let to_join = self.edge_to(join, Vec::new());
                    quote!(#pattern => { #write #to_join })
                };
                then_scope = Some(self.pop_scope());
                self.terminate(quote!(match #scrutinee { #pattern _ => #to_else };));
            }
            cond if contains_let(cond) => {
                then_scope = Some(self.lower_let_chain(cond, then_block, else_block)?);
                chain = true;
            }
            cond => {
                let cond = self.condition(cond)?;
                self.terminate(quote!(if #cond { #to_then } else { #to_else };));
            }
        }
        self.start_block(then_block);
        match then_scope {
            Some(scope) if chain || !scope.slots.is_empty() || block_awaits(&conditional.then_branch) => {
                self.scopes.push(scope);
                self.begin_owner();
                self.lower_block_as_branch(&conditional.then_branch, register)?;
                self.end_owner();
                let scope = self.pop_scope();
                self.drop_scope_slots(&scope);
            }
            Some(_) => {}
            None => self.lower_block_as_branch(&conditional.then_branch, register)?,
        }
        self.goto(join);
        self.start_block(else_block);
        match &conditional.else_branch {
            Some((_, other)) => {
                let value = self.operand(other, Use::Value)?;
                let write = self.write_register(register, value);
                self.emit(write);
            }
            None => {
                let write = self.write_register(register, quote!(()));
                self.emit(write);
            }
        }
        self.goto(join);
        self.start_block(join);
        Ok(self.read_register(register))
    }

    // Input:
    //     if let Some(a) = f().await && a > 1 && let Ok(b) = g(a) { then } else { other }
    // Output, one block per condition, each binding saved for the rest of the chain:
    //     match <f().await> { Some(__bind_a) => { a = __bind_a; Edge(next) } _ => Edge(else) }
    //   next: if a > 1 { Edge(next2) } else { Edge(else, dropping a) }
    //   next2: match g(a) { Ok(__bind_b) => { b = __bind_b; Edge(then) } _ => Edge(else, dropping a) }
    // Returns the scope of the bindings, for the `then` branch.
    fn lower_let_chain(&mut self, cond: &Expr, then_block: usize, else_block: usize) -> syn::Result<Scope> {
        let mut conditions = Vec::new();
        flatten_conjunction(cond, &mut conditions);
        self.scopes.push(Scope::default());
        let depth = self.scopes.stack.len() - 1;
        let count = conditions.len();
        for (index, condition) in conditions.into_iter().enumerate() {
            let next = if index + 1 == count { then_block } else { self.new_block() };
            let to_next = self.edge_to(next, Vec::new());
            let drops = self.slots_above(depth);
            let to_else = self.edge_to(else_block, drops);
            match strip_parens(condition) {
                Expr::Let(binding) => {
                    let scrutinee = self.scrutinee(&binding.expr)?;
                    let (pattern, names) = self.pattern_for_slots(&binding.pat, is_place(&binding.expr))?;
                    let inits = self.bind_saved(names)?;
                    self.terminate(quote!(match #scrutinee { #pattern => { #inits #to_next } _ => #to_else };));
                }
                other => {
                    let value = self.operand(other, Use::PlaceRef)?;
                    self.terminate(quote!(if #value { #to_next } else { #to_else };));
                }
            }
            if next != then_block {
                self.start_block(next);
            }
        }
        Ok(self.pop_scope())
    }

    /// An `if`/`while` condition is a temporary scope of its own: what it saved for a later
    /// `.await` is dropped before the branch runs.
    fn condition(&mut self, cond: &Expr) -> syn::Result<TokenStream> {
        if !self.needs_split(cond) {
            return self.operand(cond, Use::PlaceRef);
        }
        self.scopes.push(Scope::default());
        let value = self.operand(cond, Use::Value)?;
        let value = self.materialize(value);
        let scope = self.pop_scope();
        self.drop_scope_slots(&scope);
        Ok(value)
    }

    /// A branch body: lowered if it suspends, else emitted as written.
    fn lower_block_as_branch(&mut self, block: &Block, register: usize) -> syn::Result<()> {
        if block_awaits(block) {
            self.lower_block(block, Some(register))
        } else {
            let value = self.branch_value(block)?;
            let write = self.write_register(register, value);
            self.emit(write);
            Ok(())
        }
    }

    fn branch_value(&mut self, block: &Block) -> syn::Result<TokenStream> {
        let mut expr = Expr::Block(syn::ExprBlock { attrs: Vec::new(), label: None, block: block.clone() });
        self.rewrite_expr(&mut expr, Use::Value)?;
        Ok(expr.to_token_stream())
    }

    /// Declares the saved locals of renamed pattern bindings and moves the bindings into them;
    /// returns that code, for the arm or branch whose pattern matched.
    fn bind_saved(&mut self, names: Vec<(String, Ident)>) -> syn::Result<TokenStream> {
        self.capture(|this| {
            for (name, local) in names {
                let id = this.declare_slot(&name, SlotKind::Local, &name);
                this.init_slot(id, quote!(#local));
            }
            Ok(())
        })
    }

    /// Runs `f` and returns what it emitted instead of emitting it.
    fn capture(&mut self, f: impl FnOnce(&mut Self) -> syn::Result<()>) -> syn::Result<TokenStream> {
        let block = self.current;
        self.blocks[block].open();
        f(self)?;
        assert_eq!(self.current, block, "captured code must not switch blocks");
        Ok(self.blocks[block].parts.pop().expect("captured part"))
    }

    /// A pattern whose bindings move into saved locals: the bindings renamed to fresh locals.
    /// `ref` bindings are allowed when the scrutinee is a place: it outlives the arm.
    fn pattern_for_slots(&mut self, pattern: &Pat, allow_ref: bool) -> syn::Result<(TokenStream, Vec<(String, Ident)>)> {
        let mut renamed = pattern.clone();
        let mut names = Vec::new();
        rename_bindings(&mut renamed, &mut names, allow_ref)?;
        Ok((renamed.to_token_stream(), names))
    }

    /// The scrutinee of `match` or `if let`: a place stays a place, a value is computed now.
    fn scrutinee(&mut self, expr: &Expr) -> syn::Result<TokenStream> {
        if is_place(expr) {
            self.operand(expr, Use::PlaceMut)
        } else {
            let value = self.operand(expr, Use::Value)?;
            Ok(self.materialize(value))
        }
    }

    // Input:
    //     match scrutinee { P1 if guard => a.await, P2 => plain }
    // Output:
    //     match scrutinee {
    //         P1' if guard => { <bindings of P1 into saved locals>; Edge(arm 0) }
    //         P2 => { <plain, value into register>; Edge(join) }
    //     }
    //   arm 0: <a.await into register>; <drop P1's locals>; Edge(join)
    fn lower_match(&mut self, matching: &syn::ExprMatch) -> syn::Result<TokenStream> {
        if !matching.attrs.is_empty() {
            return Err(Error::new_spanned(&matching.attrs[0], "unasync does not lower attributes on a `match` with `.await` yet"));
        }
        let scrutinee = self.scrutinee(&matching.expr)?;
        let register = self.new_register();
        let join = self.new_block();
        let mut arms = TokenStream::new();
        let mut lowered_arms = Vec::new();
        for arm in &matching.arms {
            let (pattern, guard) = match &arm.pat {
                Pat::Guard(guarded) => (&*guarded.pat, Some(&*guarded.guard)),
                other => (other, None),
            };
            if let Some(guard) = guard
                && expr_awaits(guard)
            {
                return Err(Error::new_spanned(guard, "unasync does not lower `.await` in a match guard yet"));
            }
            if !arm.attrs.is_empty() {
                return Err(Error::new_spanned(&arm.attrs[0], "unasync does not lower attributes on match arms with `.await` yet"));
            }
            self.scopes.push(Scope::default());
            if expr_awaits(&arm.body) {
                let (renamed, names) = self.pattern_for_slots(pattern, is_place(&matching.expr))?;
                // The guard sees the bindings under their fresh names.
                for (name, local) in &names {
                    self.scopes.bind(name.clone(), Binding::Plain(Some(local.clone())));
                }
                self.inline_conditional += 1;
                let guard = self.rewrite_guard(guard);
                self.inline_conditional -= 1;
                let guard = guard?;
                let arm_block = self.new_block();
                let to_arm = self.edge_to(arm_block, Vec::new());
                let inits = self.bind_saved(names)?;
                arms.extend(quote!(#renamed #guard => { #inits #to_arm }));
                let scope = self.pop_scope();
                lowered_arms.push((arm_block, scope, &*arm.body));
            } else {
                let mut pattern = pattern.clone();
                self.bind_plain_pattern(&mut pattern);
                // Arms and guards run on some paths only: a move there is conditional.
                self.inline_conditional += 1;
                let guard = self.rewrite_guard(guard);
                let mut body = (*arm.body).clone();
                let rewritten = self.rewrite_expr(&mut body, Use::Value);
                self.inline_conditional -= 1;
                let guard = guard?;
                rewritten?;
                let write = self.write_register(register, body.to_token_stream());
                let to_join = self.edge_to(join, Vec::new());
                arms.extend(quote!(#pattern #guard => { #write #to_join }));
                self.pop_scope();
            }
        }
        self.terminate(quote!(match #scrutinee { #arms };));
        for (block, scope, body) in lowered_arms {
            self.start_block(block);
            // Only one arm runs: its bindings start here, not where every arm's were emitted.
            self.events += 1;
            for &id in &scope.slots {
                self.slots[id].usage.init_event = Some(self.events);
            }
            self.scopes.push(scope);
            self.begin_owner();
            let value = self.lower_expr(body, Use::Value)?;
            let write = self.write_register(register, value);
            self.emit(write);
            self.end_owner();
            let scope = self.pop_scope();
            self.drop_scope_slots(&scope);
            self.goto(join);
        }
        self.start_block(join);
        Ok(self.read_register(register))
    }

    fn rewrite_guard(&mut self, guard: Option<&Expr>) -> syn::Result<Option<TokenStream>> {
        guard
            .map(|guard| {
                let mut guard = guard.clone();
                self.rewrite_expr(&mut guard, Use::PlaceRef)?;
                Ok(quote!(if #guard))
            })
            .transpose()
    }

    fn push_target(&mut self, label: Option<&syn::Label>, is_loop: bool, target: LoweredTarget) {
        self.targets.push(Target {
            label: label.map(|l| l.name.ident.to_string()),
            is_loop,
            lowered: Some(target),
        });
    }

    // Input:
    //     'a: loop { body }
    // Output:
    //     Edge(head)
    //   head: <body>; Edge(head)
    //   after: <register written by `break 'a value`>
    fn lower_loop(&mut self, looping: &syn::ExprLoop) -> syn::Result<TokenStream> {
        let (head, after) = (self.new_block(), self.new_block());
        let register = self.new_register();
        self.goto(head);
        self.start_block(head);
        let depth = self.scopes.stack.len();
        self.push_target(
            looping.label.as_ref(),
            true,
            LoweredTarget { break_block: after, continue_block: Some(head), register: Some(register), depth },
        );
        self.lower_block(&looping.body, None)?;
        self.targets.pop();
        self.goto(head);
        self.start_block(after);
        Ok(self.read_register(register))
    }

    // Input:
    //     while cond { body }              while let P = scrutinee { body }
    // Output:
    //   head: if cond { Edge(body) } else { Edge(after) }
    //         (or: match scrutinee { P' => { <bindings>; Edge(body) } _ => Edge(after) })
    //   body: <body>; <drop P's locals>; Edge(head)
    fn lower_while(&mut self, looping: &syn::ExprWhile) -> syn::Result<TokenStream> {
        let (head, body_block, after) = (self.new_block(), self.new_block(), self.new_block());
        self.goto(head);
        self.start_block(head);
        let to_body = self.edge_to(body_block, Vec::new());
        let to_after = self.edge_to(after, Vec::new());
        self.scopes.push(Scope::default());
        match strip_parens(&looping.cond) {
            Expr::Let(binding) => {
                let scrutinee = self.scrutinee(&binding.expr)?;
                let (pattern, names) = self.pattern_for_slots(&binding.pat, is_place(&binding.expr))?;
                let inits = self.bind_saved(names)?;
                self.terminate(quote!(match #scrutinee { #pattern => { #inits #to_body } _ => #to_after };));
            }
            cond if contains_let(cond) => {
                return Err(Error::new_spanned(cond, "unasync does not lower `let` chains around an `.await` yet"));
            }
            cond => {
                let cond = self.condition(cond)?;
                self.terminate(quote!(if #cond { #to_body } else { #to_after };));
            }
        }
        let bindings = self.pop_scope();
        self.start_block(body_block);
        self.scopes.push(bindings);
        let depth = self.scopes.stack.len() - 1;
        self.push_target(
            looping.label.as_ref(),
            true,
            LoweredTarget { break_block: after, continue_block: Some(head), register: None, depth },
        );
        self.begin_owner();
        self.lower_block_as_unit(&looping.body)?;
        self.end_owner();
        self.targets.pop();
        let scope = self.pop_scope();
        self.drop_scope_slots(&scope);
        self.goto(head);
        self.start_block(after);
        Ok(quote!(()))
    }

    fn lower_block_as_unit(&mut self, block: &Block) -> syn::Result<()> {
        if block_awaits(block) {
            self.lower_block(block, None)
        } else {
            let value = self.branch_value(block)?;
            self.emit(quote!(#value;));
            Ok(())
        }
    }

    // Input:
    //     for P in iterable { body }
    // Output:
    //     __Frame::__iter(__this).init(IntoIterator::into_iter(iterable)); Edge(head)
    //   head: match Iterator::next(&mut iter) { Some(P') => { <bindings>; Edge(body) } None => Edge(after) }
    //   body: <body>; <drop P's locals>; Edge(head)
    //   after: <drop the iterator>
    fn lower_for(&mut self, looping: &syn::ExprForLoop) -> syn::Result<TokenStream> {
        if !block_awaits(&looping.body) {
            // Only the iterable suspends: the loop itself is ordinary code.
            let iterable = self.lower_expr(&looping.expr, Use::Value)?;
            let mut rest = looping.clone();
            rest.expr = Box::new(syn::parse_quote!(__unasync_iterable));
            let mut rest = Expr::ForLoop(rest);
            self.rewrite_expr(&mut rest, Use::Value)?;
            let iterable_local = internal("__iterable");
            let tokens = rest.to_token_stream().into_iter().map(|token| match token {
                proc_macro2::TokenTree::Ident(ident) if ident == "__unasync_iterable" => {
                    proc_macro2::TokenTree::Ident(iterable_local.clone())
                }
                other => other,
            });
            let tokens: TokenStream = tokens.collect();
            return Ok(quote!({ let #iterable_local = #iterable; #tokens }));
        }
        let iterable = self.operand(&looping.expr, Use::Value)?;
        self.scopes.push(Scope::default());
        let iterator = self.declare_slot("__iter", SlotKind::Iterator, "");
        self.init_slot(iterator, quote!(::core::iter::IntoIterator::into_iter(#iterable)));
        let (head, body_block, after) = (self.new_block(), self.new_block(), self.new_block());
        self.goto(head);
        self.start_block(head);
        let to_body = self.edge_to(body_block, Vec::new());
        let to_after = self.edge_to(after, Vec::new());
        let iterator_slot = self.slot(iterator);
        self.scopes.push(Scope::default());
        let (pattern, names) = self.pattern_for_slots(&looping.pat, false)?;
        let inits = self.bind_saved(names)?;
        self.terminate(quote! {
            // SAFETY: the iterator is live for the whole loop.
            match ::core::iter::Iterator::next(unsafe { #iterator_slot.place_mut() }) {
                ::core::option::Option::Some(#pattern) => { #inits #to_body }
                ::core::option::Option::None => #to_after,
            };
        });
        let bindings = self.pop_scope();
        self.start_block(body_block);
        self.scopes.push(bindings);
        let depth = self.scopes.stack.len() - 1;
        self.push_target(
            looping.label.as_ref(),
            true,
            LoweredTarget { break_block: after, continue_block: Some(head), register: None, depth },
        );
        self.begin_owner();
        self.lower_block(&looping.body, None)?;
        self.end_owner();
        self.targets.pop();
        let scope = self.pop_scope();
        self.drop_scope_slots(&scope);
        self.goto(head);
        self.start_block(after);
        let scope = self.pop_scope();
        self.drop_scope_slots(&scope);
        Ok(quote!(()))
    }

    fn lower_labeled_block(&mut self, block: &syn::ExprBlock) -> syn::Result<TokenStream> {
        let after = self.new_block();
        let register = self.new_register();
        let depth = self.scopes.stack.len();
        self.push_target(
            block.label.as_ref(),
            false,
            LoweredTarget { break_block: after, continue_block: None, register: Some(register), depth },
        );
        self.lower_block(&block.block, Some(register))?;
        self.targets.pop();
        self.goto(after);
        self.start_block(after);
        Ok(self.read_register(register))
    }

    /// The exit for `break`/`continue` to a lowered loop or block: write the value, drop the
    /// saved locals the jump leaves, jump. `None` when the target is ordinary Rust code.
    pub(crate) fn jump(
        &mut self,
        label: Option<&syn::Lifetime>,
        is_break: bool,
        value: Option<TokenStream>,
        span: Span,
    ) -> syn::Result<TokenStream> {
        let target = self
            .targets
            .iter()
            .rev()
            .find(|target| target.matches(label, is_break))
            .ok_or_else(|| Error::new(span, "unasync: no loop or labeled block to jump to"))?;
        let Some(lowered) = target.lowered else {
            return Err(Error::new(span, "internal: jump to an ordinary loop reached the lowering"));
        };
        let destination = if is_break {
            lowered.break_block
        } else {
            lowered.continue_block.ok_or_else(|| Error::new(span, "`continue` needs a loop"))?
        };
        let drops = self.slots_above(lowered.depth);
        let write = match (value, lowered.register) {
            (Some(value), Some(register)) => self.write_register(register, value),
            (None, Some(register)) if is_break => self.write_register(register, quote!(())),
            (Some(_), None) => return Err(Error::new(span, "`break` with a value needs `loop` or a labeled block")),
            _ => TokenStream::new(),
        };
        let edge = self.edge_to(destination, drops);
        Ok(quote!({ #write #edge }))
    }
}

pub fn poll_local_name(name: &Ident) -> Ident {
    internal(&format!("__local_{name}"))
}

/// A raw pointer to a stack local: closures (drop guards) copy it instead of moving the local.
pub fn poll_local_pointer(name: &Ident) -> Ident {
    internal(&format!("__local_{name}_ptr"))
}

/// The blocks reachable from any of `starts` (themselves included).
fn reached_from(count: usize, starts: &[usize], edges: &[Edge]) -> Vec<bool> {
    let mut reached = vec![false; count];
    let mut pending = starts.to_vec();
    while let Some(block) = pending.pop() {
        if !std::mem::replace(&mut reached[block], true) {
            pending.extend(edges.iter().filter(|edge| edge.source == block).map(|edge| edge.target));
        }
    }
    reached
}

/// Whether control can come back to `block` without passing through one of `resets`.
fn runs_again_before(block: usize, resets: &[usize], edges: &[Edge]) -> bool {
    // A value given in the same block comes before the move there.
    if resets.contains(&block) {
        return false;
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut pending: Vec<usize> = edges.iter().filter(|edge| edge.source == block).map(|edge| edge.target).collect();
    while let Some(next) = pending.pop() {
        if next == block {
            return true;
        }
        if resets.contains(&next) || !seen.insert(next) {
            continue;
        }
        pending.extend(edges.iter().filter(|edge| edge.source == next).map(|edge| edge.target));
    }
    false
}

/// For each block, the blocks every path from the entry to it passes through (itself included).
fn dominators(count: usize, reachable: &[bool], edges: &[Edge]) -> Vec<std::collections::BTreeSet<usize>> {
    let all: std::collections::BTreeSet<usize> = (0..count).filter(|&b| reachable[b]).collect();
    let mut dominators: Vec<std::collections::BTreeSet<usize>> =
        (0..count).map(|b| if b == 0 { [0].into() } else { all.clone() }).collect();
    let mut changed = true;
    while changed {
        changed = false;
        for block in 1..count {
            if !reachable[block] {
                continue;
            }
            let mut next: Option<std::collections::BTreeSet<usize>> = None;
            for edge in edges.iter().filter(|edge| edge.target == block && reachable[edge.source]) {
                next = Some(match next {
                    None => dominators[edge.source].clone(),
                    Some(set) => set.intersection(&dominators[edge.source]).copied().collect(),
                });
            }
            let mut next = next.unwrap_or_default();
            next.insert(block);
            if next != dominators[block] {
                dominators[block] = next;
                changed = true;
            }
        }
    }
    dominators
}

fn collect_idents(tokens: &TokenStream, into: &mut std::collections::BTreeSet<String>) {
    for token in tokens.clone() {
        match token {
            proc_macro2::TokenTree::Ident(ident) => {
                into.insert(ident.to_string());
            }
            proc_macro2::TokenTree::Group(group) => collect_idents(&group.stream(), into),
            _ => {}
        }
    }
}

/// Whether `&value` appears where its temporary lives to the end of the enclosing statement
/// (not inside blocks, closures, conditions or the lazy half of `&&`/`||`).
fn has_temporary_reference(expr: &Expr) -> bool {
    match strip_parens(expr) {
        Expr::Reference(reference) => !is_place(&reference.expr) || has_temporary_reference(&reference.expr),
        Expr::Call(call) => has_temporary_reference(&call.func) || call.args.iter().any(has_temporary_reference),
        Expr::MethodCall(call) => {
            has_temporary_reference(&call.receiver) || call.args.iter().any(has_temporary_reference)
        }
        Expr::Binary(binary) => match binary.op {
            BinOp::And(_) | BinOp::Or(_) => has_temporary_reference(&binary.left),
            _ => has_temporary_reference(&binary.left) || has_temporary_reference(&binary.right),
        },
        Expr::Unary(unary) => has_temporary_reference(&unary.expr),
        Expr::Field(field) => has_temporary_reference(&field.base),
        Expr::Index(index) => has_temporary_reference(&index.expr) || has_temporary_reference(&index.index),
        Expr::Cast(cast) => has_temporary_reference(&cast.expr),
        Expr::Tuple(tuple) => tuple.elems.iter().any(has_temporary_reference),
        Expr::Array(array) => array.elems.iter().any(has_temporary_reference),
        Expr::Struct(literal) => {
            literal.fields.iter().any(|field| has_temporary_reference(&field.expr))
                || literal.rest.as_deref().is_some_and(has_temporary_reference)
        }
        Expr::Try(question) => has_temporary_reference(&question.expr),
        Expr::Await(awaited) => has_temporary_reference(&awaited.base),
        _ => false,
    }
}

/// Lint attributes on lowered code are checked on the shadow copy of the body, which keeps
/// them; any other attribute (`#[cfg]`, ...) would change what the lowering emits.
fn check_attributes(attrs: &[syn::Attribute]) -> syn::Result<()> {
    for attr in attrs {
        let lint = attr.path().get_ident().is_some_and(|ident| {
            matches!(ident.to_string().as_str(), "allow" | "warn" | "deny" | "forbid" | "expect")
        });
        if !lint {
            return Err(Error::new_spanned(
                attr,
                "unasync does not lower this attribute on code containing `.await` yet; move the code into a function that carries it",
            ));
        }
    }
    Ok(())
}

fn expression_attributes(expr: &Expr) -> &[syn::Attribute] {
    match expr {
        Expr::Await(e) => &e.attrs,
        Expr::Call(e) => &e.attrs,
        Expr::MethodCall(e) => &e.attrs,
        Expr::Assign(e) => &e.attrs,
        Expr::Binary(e) => &e.attrs,
        Expr::Block(e) => &e.attrs,
        Expr::If(e) => &e.attrs,
        Expr::Match(e) => &e.attrs,
        Expr::Loop(e) => &e.attrs,
        Expr::While(e) => &e.attrs,
        Expr::ForLoop(e) => &e.attrs,
        Expr::Macro(e) => &e.attrs,
        Expr::Try(e) => &e.attrs,
        Expr::Return(e) => &e.attrs,
        Expr::Unsafe(e) => &e.attrs,
        _ => &[],
    }
}

/// A statement after which the end of its block is unreachable, so the block has type `!`.
fn diverging(expr: &Expr) -> bool {
    match strip_parens(expr) {
        Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => true,
        Expr::Macro(mac) => diverging_macro(&mac.mac),
        _ => false,
    }
}

fn diverging_macro(mac: &syn::Macro) -> bool {
    mac.path.segments.last().is_some_and(|segment| {
        matches!(segment.ident.to_string().as_str(), "panic" | "unreachable" | "todo" | "unimplemented")
    })
}

/// A register: a value carried from one basic block to another within a poll.
pub fn register_name(register: usize) -> Ident {
    internal(&format!("__register{register}"))
}

/// The field of `Unresumed` that holds an argument.
pub fn unresumed_field(arg: &crate::signature::Arg) -> Ident {
    match &arg.binding {
        ArgBinding::SelfValue => internal("self_"),
        _ => internal(&plain_name(&arg.param.to_string())),
    }
}

/// A name usable as a field and a function: `r#match` becomes `match_`.
fn plain_name(name: &str) -> String {
    match name.strip_prefix("r#") {
        Some(raw) => format!("{raw}_"),
        None => name.to_string(),
    }
}

/// `value?` in the resume function: `return` becomes the block's exit.
pub fn try_operator(value: TokenStream, span: Span) -> TokenStream {
    // The label keeps the expansion's own hygiene: the `?` may come from a `macro_rules!` caller.
    let label = syn::Lifetime::new("'__block", Span::call_site());
    quote_spanned! {span=>
        match ::unasync::__private::branch(#value) {
            ::core::ops::ControlFlow::Continue(value) => value,
            ::core::ops::ControlFlow::Break(residual) => {
                break #label ::unasync::__private::Exit::Return(
                    ::unasync::__private::from_residual(residual),
                )
            }
        }
    }
}

pub fn unsupported_macro(mac: &syn::Macro) -> Error {
    let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
    let message = match name.as_str() {
        "select" | "join" | "try_join" | "select_biased" => format!(
            "unasync does not lower `{name}!` yet: its futures are polled in turn inside one state; keep this function native, or await the futures of `futures::future::{}` instead",
            if name == "try_join" { "try_join" } else if name == "join" { "join" } else { "select" }
        ),
        _ => format!(
            "unasync does not lower `.await` inside `{name}!` yet; move the `.await` into a `let` before it"
        ),
    };
    Error::new_spanned(mac, message)
}

fn struct_path(literal: &syn::ExprStruct) -> TokenStream {
    match &literal.qself {
        None => literal.path.to_token_stream(),
        Some(_) => Expr::Struct(syn::ExprStruct { fields: Default::default(), rest: None, dot2_token: None, ..literal.clone() })
            .to_token_stream()
            .into_iter()
            .take_while(|t| !matches!(t, proc_macro2::TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Brace))
            .collect(),
    }
}

pub fn strip_parens(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(paren) => strip_parens(&paren.expr),
        Expr::Group(group) => strip_parens(&group.expr),
        other => other,
    }
}

/// Gives every `_` of an argument pattern a name, `__rest0`, `__rest1`, ...
fn name_wildcards(pattern: &mut Pat, count: &mut usize) -> syn::Result<()> {
    struct Namer<'a> {
        count: &'a mut usize,
        error: Option<Error>,
    }
    impl syn::visit_mut::VisitMut for Namer<'_> {
        fn visit_pat_mut(&mut self, pattern: &mut Pat) {
            match pattern {
                Pat::Wild(wild) => {
                    let name = Ident::new(&format!("__rest{}", self.count), wild.underscore_token.span);
                    *self.count += 1;
                    *pattern = Pat::Ident(syn::PatIdent {
                        attrs: Vec::new(),
                        by_ref: None,
                        mutability: None,
                        ident: name,
                        subpat: None,
                    });
                }
                Pat::Rest(rest) => {
                    self.error.get_or_insert_with(|| {
                        Error::new(
                            rest.dot2_token.spans[0],
                            "unasync cannot keep what `..` matches in an argument alive to the end of the body; name the fields, or bind the argument and destructure it in the body",
                        )
                    });
                }
                other => syn::visit_mut::visit_pat_mut(self, other),
            }
        }
        fn visit_pat_struct_mut(&mut self, pattern: &mut syn::PatStruct) {
            if let Some(rest) = &pattern.rest {
                self.error.get_or_insert_with(|| {
                    Error::new(
                        rest.dot2_token.spans[0],
                        "unasync cannot keep what `..` matches in an argument alive to the end of the body; name the fields, or bind the argument and destructure it in the body",
                    )
                });
            }
            syn::visit_mut::visit_pat_struct_mut(self, pattern);
        }
        fn visit_expr_mut(&mut self, _: &mut Expr) {}
    }
    let mut namer = Namer { count, error: None };
    syn::visit_mut::VisitMut::visit_pat_mut(&mut namer, pattern);
    match namer.error {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

fn has_ref_binding(pattern: &Pat) -> bool {
    struct Finder(bool);
    impl<'a> syn::visit::Visit<'a> for Finder {
        fn visit_pat_ident(&mut self, ident: &'a syn::PatIdent) {
            self.0 |= ident.by_ref.is_some();
            syn::visit::visit_pat_ident(self, ident);
        }
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_pat(&mut finder, pattern);
    finder.0
}

fn flatten_conjunction<'a>(expr: &'a Expr, into: &mut Vec<&'a Expr>) {
    match strip_parens(expr) {
        Expr::Binary(binary) if matches!(binary.op, BinOp::And(_)) => {
            flatten_conjunction(&binary.left, into);
            flatten_conjunction(&binary.right, into);
        }
        other => into.push(other),
    }
}

fn contains_let(expr: &Expr) -> bool {
    match strip_parens(expr) {
        Expr::Let(_) => true,
        Expr::Binary(binary) if matches!(binary.op, BinOp::And(_)) => {
            contains_let(&binary.left) || contains_let(&binary.right)
        }
        _ => false,
    }
}

/// A place expression whose evaluation has no side effects: it can be evaluated late.
pub fn is_place(expr: &Expr) -> bool {
    match strip_parens(expr) {
        Expr::Path(path) => path.qself.is_none(),
        Expr::Field(field) => is_place(&field.base),
        Expr::Index(index) => is_place(&index.expr) && is_constant_index(&index.index),
        Expr::Unary(unary) => matches!(unary.op, UnOp::Deref(_)) && is_place(&unary.expr),
        _ => false,
    }
}

/// `&x` or `&mut x.field`: the place's address cannot change while it is borrowed, so taking the
/// borrow again after a suspension gives the same reference.
fn is_borrow_of_named_place(expr: &Expr) -> bool {
    fn named(expr: &Expr) -> bool {
        match strip_parens(expr) {
            Expr::Path(path) => path.qself.is_none(),
            Expr::Field(field) => named(&field.base),
            _ => false,
        }
    }
    matches!(strip_parens(expr), Expr::Reference(reference) if named(&reference.expr))
}

/// An index whose evaluation has no effects: a literal, a path, or a range of those (`v[..]`).
fn is_constant_index(index: &Expr) -> bool {
    match strip_parens(index) {
        Expr::Lit(_) | Expr::Path(_) => true,
        Expr::Range(range) => {
            range.start.as_deref().is_none_or(is_constant_index) && range.end.as_deref().is_none_or(is_constant_index)
        }
        _ => false,
    }
}

pub fn single_ident(expr: &Expr) -> Option<String> {
    match strip_parens(expr) {
        Expr::Path(path)
            if path.qself.is_none()
                && path.path.leading_colon.is_none()
                && path.path.segments.len() == 1
                && path.path.segments[0].arguments.is_none() =>
        {
            Some(path.path.segments[0].ident.to_string())
        }
        _ => None,
    }
}

pub fn is_compound_assignment(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::AddAssign(_)
            | BinOp::SubAssign(_)
            | BinOp::MulAssign(_)
            | BinOp::DivAssign(_)
            | BinOp::RemAssign(_)
            | BinOp::BitXorAssign(_)
            | BinOp::BitAndAssign(_)
            | BinOp::BitOrAssign(_)
            | BinOp::ShlAssign(_)
            | BinOp::ShrAssign(_)
    )
}

pub fn is_comparison(op: &BinOp) -> bool {
    matches!(op, BinOp::Eq(_) | BinOp::Ne(_) | BinOp::Lt(_) | BinOp::Le(_) | BinOp::Gt(_) | BinOp::Ge(_))
}

/// `x`, `mut x`: a pattern that binds the whole value by value.
fn simple_binding(pattern: &Pat) -> Option<&Ident> {
    match pattern {
        Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() && is_binding_name(&ident.ident) => {
            Some(&ident.ident)
        }
        _ => None,
    }
}

/// Lowercase identifiers in patterns bind; capitalised ones name constants, unit structs and
/// variants (`None`), as in rustc's resolution of ordinary code.
pub fn is_binding_name(ident: &Ident) -> bool {
    let name = ident.to_string();
    let name = name.trim_start_matches("r#");
    name.starts_with(|c: char| c.is_lowercase() || c == '_')
}

/// The names a pattern binds, in order.
pub fn pattern_bindings(pattern: &Pat) -> Vec<String> {
    struct Collector(Vec<String>);
    impl<'a> syn::visit::Visit<'a> for Collector {
        fn visit_pat_ident(&mut self, ident: &'a syn::PatIdent) {
            if ident.subpat.is_some() || ident.by_ref.is_some() || ident.mutability.is_some() || is_binding_name(&ident.ident) {
                self.0.push(ident.ident.to_string());
            }
            syn::visit::visit_pat_ident(self, ident);
        }
        fn visit_expr(&mut self, _: &'a Expr) {}
    }
    let mut collector = Collector(Vec::new());
    syn::visit::Visit::visit_pat(&mut collector, pattern);
    collector.0
}

/// Renames every binding of a pattern to a fresh local (`x` to `__bind_x`), for patterns whose
/// bindings move into saved locals. `ref` bindings would point into a value that does not
/// survive the block, so they are refused.
fn rename_bindings(pattern: &mut Pat, names: &mut Vec<(String, Ident)>, allow_ref: bool) -> syn::Result<()> {
    struct Renamer<'a> {
        names: &'a mut Vec<(String, Ident)>,
        error: Option<Error>,
        allow_ref: bool,
    }
    impl syn::visit_mut::VisitMut for Renamer<'_> {
        fn visit_pat_ident_mut(&mut self, ident: &mut syn::PatIdent) {
            let binds = ident.subpat.is_some() || ident.by_ref.is_some() || ident.mutability.is_some() || is_binding_name(&ident.ident);
            if binds {
                if let Some(by_ref) = &ident.by_ref
                    && !self.allow_ref
                {
                    self.error.get_or_insert_with(|| {
                        Error::new(by_ref.span, "unasync does not lower a `ref` binding held across an `.await` yet")
                    });
                }
                let name = ident.ident.to_string();
                let local = internal(&format!("__bind_{}", name.trim_start_matches("r#")));
                ident.ident = local.clone();
                if ident.by_ref.is_none() {
                    // `mut x` only matters to the saved local, which is always a place.
                    ident.mutability = None;
                }
                self.names.push((name, local));
            }
            syn::visit_mut::visit_pat_ident_mut(self, ident);
        }
        fn visit_field_pat_mut(&mut self, field: &mut syn::FieldPat) {
            // `Point { x }` binds `x`: spell it `Point { x: __bind_x }`.
            field.colon_token.get_or_insert_with(Default::default);
            syn::visit_mut::visit_field_pat_mut(self, field);
        }
        fn visit_expr_mut(&mut self, _: &mut Expr) {}
    }
    let mut renamer = Renamer { names, error: None, allow_ref };
    syn::visit_mut::VisitMut::visit_pat_mut(&mut renamer, pattern);
    match renamer.error {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// `tokens` with each of `names` replaced by the matching replacement, inside groups too.
fn substitute_idents(tokens: TokenStream, names: &[Ident], replacements: &[TokenStream]) -> TokenStream {
    tokens
        .into_iter()
        .flat_map(|token| -> TokenStream {
            match token {
                proc_macro2::TokenTree::Ident(ident) => match names.iter().position(|name| *name == ident) {
                    Some(index) => replacements[index].clone(),
                    None => proc_macro2::TokenTree::Ident(ident).into(),
                },
                proc_macro2::TokenTree::Group(group) => {
                    let mut replaced = proc_macro2::Group::new(
                        group.delimiter(),
                        substitute_idents(group.stream(), names, replacements),
                    );
                    replaced.set_span(group.span());
                    proc_macro2::TokenTree::Group(replaced).into()
                }
                other => other.into(),
            }
        })
        .collect()
}
