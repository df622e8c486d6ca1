//! The resume function: one arm per state, each running the body from where that state stopped
//! until the next suspension point or the end.
//!
//! Input:
//! ```text
//! async fn f(log: Log) -> u32 { let x = a(&log).await; { let t = T; b(&t).await; } x }
//! ```
//! Output (`log` and `t` are borrowed by the awaitees: `log` stays in the frame's prefix, `t` in
//! `Suspend1`'s variant; `x` is a real local, moved into `Suspend1` and out again):
//! ```text
//! '__resume: loop { match unsafe { &mut *__state } {
//!     __State::Unresumed {} => {                               // from the start
//!         let __unwind = unsafe { __cx.poison() };             // `Panicked` if the body unwinds
//!         let mut log = unsafe { (<log's slot>).kept() }; // drops it at the end of its scope
//!         // An arm that always suspends: the body's statements are the arm's.
//!         let __awaitee = Awaited(a(&*log.get())).into_awaitee();
//!         let __next = Suspend0 { __awaitee };
//!         unsafe { __cx.suspend(__next, (__unwind, log)) }; continue '__resume;
//!     }
//!     __State::Suspend0 { __awaitee, .. } => {                 // from the first .await
//!         let (__awaited, __unwind) = unsafe { __awaitee.poll(__cx) }?;  // `Break`: pending
//!         let mut log = unsafe { (<log's slot>).kept() };
//!         let x = unsafe { __awaitee.leave(__awaited) };      // dropped in place
//!         <enter Suspend1>; let t = unsafe { InFrame::init(<t's slot in Suspend1>, T) };
//!         let __awaitee = Awaited(b(&*t.get())).into_awaitee();
//!         <write Suspend1's __awaitee and x>; forget((__unwind, log, t)); continue '__resume;
//!     }
//!     __State::Suspend1 { __awaitee, x, .. } => {
//!         let (__awaited, __unwind) = unsafe { __awaitee.poll(__cx) }?;
//!         return returned({                // `'__body: {` where a `?` breaks to it
//!             let mut log = unsafe { (<log's slot>).kept() };
//!             let x = unsafe { x.assume_init_read() };
//!             { let t = unsafe { (<t's slot>).kept() }; unsafe { __awaitee.leave(__awaited) }; }
//!             x
//!         });    // `Continue(x)`: `__unwind` writes `Panicked` as it drops, `Machine::poll` `Returned`
//!     }
//!     ..
//! } }
//! ```
//! Code that follows an `.await` reached from several entries (after an `if`, in a loop) is
//! emitted in each of them: the arms are ordinary structured Rust, with no jumps between them.
//! A loop resumed in its body runs the rest of that iteration in a labeled block, then the loop
//! itself (`'__loop: { '__iteration: { <rest> } loop { <body> } }`): `continue` in the rest goes
//! to the end of `'__iteration`, `break` to the end of `'__loop`.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};

use super::flow::Facts;
use super::ir::*;
use super::layout::{Home, Layout, Placement};
use super::plain::{self, body_label, JumpTarget};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forward,
    Resume(AwaitId),
}

/// Emitted code, and whether it never completes (it always suspends, returns or jumps).
pub struct Code {
    pub tokens: TokenStream,
    pub diverges: bool,
    /// A suspension's statements without their braces, for a statement that is nothing else:
    /// they end the block (`continue '__resume`), so they need no scope of their own.
    bare: Option<TokenStream>,
}

impl Code {
    fn plain(tokens: TokenStream) -> Self {
        Code { tokens, diverges: false, bare: None }
    }
    fn diverging(tokens: TokenStream) -> Self {
        Code { tokens, diverges: true, bare: None }
    }
}

pub struct Emitter<'a> {
    pub body: &'a Body,
    pub layout: &'a Layout,
    /// The emitted name of each local: its binding as written for an ordinary local, a pointer
    /// to its frame slot for a pinned one, `self_` for `self`.
    pub names: Vec<Ident>,
    /// Whether the emitted name is not the binding as written (a shadowed local, see `new`).
    pub renamed: Vec<bool>,
    pub state: Ident,
    /// Names resolvable in plain code at this point of the emission.
    scopes: Vec<Vec<(String, LocalId)>>,
    /// Pinned locals whose guard is in scope (forgotten when the future suspends), and whether a
    /// poison guard is in scope (a variant entered early).
    guards: Vec<Vec<Guard>>,
    jumps: Vec<JumpTarget>,
    next_label: usize,
    /// The suspension points the code emitted since the last call of `take_suspensions`
    /// suspends at.
    suspensions: std::collections::BTreeSet<AwaitId>,
    /// Emitting a block's tail whose hoisted temporaries go back into temporaries.
    rematerialize: bool,
    /// The same for the temporaries pinned in the frame (their guards).
    rematerialize_pinned: bool,
    /// The poison guard of this block may still go into a rematerialized temporary.
    poison_bundle: std::cell::Cell<bool>,
    /// The emitted code named the edition (see `frame::edition_probe`).
    pub names_edition: std::cell::Cell<bool>,
    /// The emitted code picks statements by edition (see `frame::by_edition`).
    pub picks_edition: std::cell::Cell<bool>,
    /// The same by the edition's closure captures (see `frame::by_captures`).
    pub picks_captures: std::cell::Cell<bool>,
    /// The hoisted temporaries the plain code emitted for a block's tail moved back into
    /// temporaries (see `plain::Context::named`).
    named_temporaries: std::cell::RefCell<Vec<LocalId>>,
    /// Emitting plain code whose borrows end with it: a statement whose value is discarded
    /// (not an awaitee, which the state keeps).
    contained: bool,
    /// Else, a function that gives the body's value the bounds of the declared `impl Trait`
    /// (`-> impl Fn(u32) -> u32`: a closure's parameter types).
    pub expect: Option<Ident>,
    /// Every suspension point some emitted code suspends at (its variant is written).
    pub emitted: std::collections::BTreeSet<AwaitId>,
    /// The locals the code emitted so far assigns whole (see `statements`).
    assigned: std::cell::RefCell<Vec<LocalId>>,
    /// See [`plain::Context::unbound`].
    unbound: Vec<LocalId>,
    /// The hoisted temporary of a block's tail whose `let` is being emitted, to be declared
    /// first in the block in edition 2021 (see `statements`).
    late_assign: Option<LocalId>,
    /// The hoisted temporaries of the block being emitted declared so (see `statements`).
    early_declared: Vec<LocalId>,
    /// The same redeclared from the state, with their values (see `redeclare_late`).
    early_redeclared: Vec<TokenStream>,
    /// The pinned hoisted temporary whose guard `declare_pinned` declares so, and whether it is
    /// redeclared (`true`) or made (see `statements`).
    late_guard: Option<(LocalId, bool)>,
    /// The block about to be emitted is the tail of the one being emitted (not the parameters'
    /// block): the temporaries its tail hoists are declared first in that one in edition 2021,
    /// as rustc's end with those of the statement the chain of tails is in.
    chain_tail: bool,
    /// The `let`s of a closure emitted so far (see `let_stmt`).
    closure_lets: std::collections::BTreeSet<usize>,
    /// The user's block, the body's tail (see `block`).
    user_block: Option<*const Block>,
    /// The block whose statements were emitted last diverged before its tail expression, or
    /// has none.
    ended_before_tail: bool,
}

/// What a pinned local's slot holds when its guard is made.
enum Slot {
    /// Its declaration, with this value.
    Init(TokenStream),
    /// Its declaration without a value (`let x;`).
    Empty,
    /// A resumed scope: whatever it held when the future suspended (its flag says).
    Kept,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Guard {
    Local(LocalId),
    /// The variant of a pinned local is the state while it lives (see `enter_early`).
    Poison,
    /// The arm's guard: the body runs on the state it resumed from (its content moved out),
    /// which becomes `Panicked` only if the body unwinds, as rustc's cleanup does.
    Unwind,
}

impl<'a> Emitter<'a> {
    pub fn new(body: &'a Body, facts: &'a Facts, layout: &'a Layout, state: Ident) -> Self {
        // A local shadowed by a later one of the same name while both are in scope at a
        // suspension point must still be named there (to be saved): it takes its field's name,
        // which the user's code cannot see.
        let mut shadowed = vec![false; body.locals.len()];
        for scope in &facts.in_scope {
            for (index, &local) in scope.iter().enumerate() {
                let name = resolution_name(&body.locals[local]);
                shadowed[local] |= scope[index + 1..].iter().any(|&later| resolution_name(&body.locals[later]) == name);
            }
        }
        let reserved = |id: LocalId| super::layout::RESERVED.contains(&body.locals[id].name.to_string().as_str());
        let renamed: Vec<bool> = (0..body.locals.len())
            .map(|id| (shadowed[id] || reserved(id)) && !matches!(layout.locals[id], Placement::Pinned { .. }))
            .collect();
        let names = body
            .locals
            .iter()
            .enumerate()
            .map(|(id, local)| match layout.locals[id] {
                Placement::Pinned { .. } => layout.names.fields[id].clone(),
                _ if renamed[id] => layout.names.fields[id].clone(),
                _ => local.name.clone(),
            })
            .collect();
        Emitter { body, layout, names, renamed, state, scopes: Vec::new(), guards: Vec::new(), jumps: Vec::new(), next_label: 0, suspensions: Default::default(), rematerialize: false, rematerialize_pinned: false, poison_bundle: Default::default(), names_edition: Default::default(), picks_edition: Default::default(), picks_captures: Default::default(), named_temporaries: Default::default(), contained: false, expect: None, emitted: Default::default(), assigned: Default::default(), unbound: Vec::new(), closure_lets: Default::default(), late_assign: None, early_declared: Vec::new(), early_redeclared: Vec::new(), late_guard: None, chain_tail: false, user_block: None, ended_before_tail: false }
    }

    // ---- entries ------------------------------------------------------------------------------

    /// The arm of `Unresumed`: the parameters leave the state (where the body declares them),
    /// the body runs from the start.
    pub fn unresumed(&mut self) -> TokenStream {
        let state = self.state.clone();
        let fields: Vec<Ident> = self.movable_params().map(|p| self.layout.names.fields[p].clone()).collect();
        let body = self.root(Mode::Forward);
        let arm = self.arm_block(quote! {
            let __unwind = unsafe { __cx.poison() };
            #body
        });
        quote!(#state::Unresumed { #(#fields,)* } => #arm)
    }

    /// A parameter, where the body declares it.
    fn param(&mut self, param: LocalId, mode: Mode) -> TokenStream {
        match mode {
            Mode::Forward if !self.layout.pinned(param) => {
                let name = self.names[param].clone();
                let field = &self.layout.names.fields[param];
                let hidden = self.body.locals[param].kind == LocalKind::Parameter;
                // A pattern parameter is bound from the hidden one, which `ref mut` may borrow.
                let mutability = (self.body.locals[param].mutable || hidden).then(|| quote!(mut));
                let value = self.take_field(field);
                self.declare_name(param);
                let witness = self.witness(param);
                quote!(let #mutability #name = #value; #witness)
            }
            _ => self.redeclare(param, mode),
        }
    }

    /// The arm of `Suspend K`: poll the awaitee where it is pinned; when it completes, run the
    /// rest of the body from the `.await`.
    pub fn suspended(&mut self, k: AwaitId) -> TokenStream {
        let state = self.state.clone();
        let variant = format_ident!("Suspend{}", k);
        let fields = self.variant_fields(k);
        let body = self.root(Mode::Resume(k));
        let arm = self.arm_block(quote! {
            let (__awaited, __unwind) = unsafe { __awaitee.poll(__cx) }?;
            #body
        });
        quote!(#state::#variant { #(#fields,)* .. } => #arm)
    }

    /// An arm's braces, located at the user's body: where the arm's statements are the body's
    /// (see `root`), rustc's "dropped here" points at the body's closing brace.
    fn arm_block(&self, tokens: TokenStream) -> proc_macro2::Group {
        let mut braces = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, tokens);
        braces.set_span(Span::call_site().located_at(self.user_span()));
        braces
    }

    fn user_span(&self) -> Span {
        match self.body.block.stmts.last() {
            Some(Stmt::Expr { expr: Expr::Block(user), .. }) => user.span,
            _ => self.body.block.span,
        }
    }

    /// The suspension points the arms emitted since the last call reach.
    pub fn take_suspensions(&mut self) -> std::collections::BTreeSet<AwaitId> {
        std::mem::take(&mut self.suspensions)
    }

    fn movable_params(&self) -> impl Iterator<Item = LocalId> + '_ {
        self.body.params.iter().copied().filter(|&p| !self.layout.pinned(p))
    }

    /// The body's block, the value of `return returned({ .. })` (labeled `'__body` where a `return`
    /// or `?` breaks to it): the future completes.
    fn root(&mut self, mode: Mode) -> TokenStream {
        self.scopes = vec![Vec::new()];
        self.guards = vec![vec![Guard::Unwind]];
        self.jumps.clear();
        let expect = self.expect.clone();
        // The parameters, then the user's block with its own braces (rustc drops its tail's
        // temporaries by the user's edition); the labeled block is the expansion's, whose tail's
        // temporaries end with it, before the parameters, as rustc's `drop-temps`.
        self.user_block = match self.body.block.stmts.last() {
            Some(Stmt::Expr { expr: Expr::Block(user), .. }) => Some(user as *const Block),
            _ => None,
        };
        let code = self.contents(&self.body.block, mode);
        let contents = code.tokens;
        // An arm that always suspends or returns (a `return` leaves the resume function
        // itself), where no `?` breaks to `'__body`: its statements are the arm's.
        if code.diverges && !names_body_label(&contents) {
            return contents;
        }
        // Its label and braces are located at the user's (rustc's messages point at the body's
        // end), with the expansion's edition (2024 tail temporaries).
        let user_span = self.user_span();
        // `'__body`, where a `?` of the body breaks to it.
        let label = names_body_label(&contents).then(|| {
            let label = syn::Lifetime::new("'__body", Span::mixed_site().located_at(user_span));
            quote!(#label:)
        });
        let mut braces = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, contents);
        braces.set_span(Span::call_site().located_at(user_span));
        // The value returned is located at the body's tail where it has one without `.await`,
        // as the never-run copy's: rustc's error for a borrow of a local that the tail returns
        // is then the copy's ("cannot return reference to local variable"), reported once.
        let (first, last) = tail_span(&self.body.block).unwrap_or((Span::call_site(), Span::call_site()));
        let returned = quote_spanned!(first=> ::unasync::__private::returned);
        let value = match expect {
            Some(expect) => quote!(#expect(#label #braces)),
            None => quote!(#label #braces),
        };
        let mut args = proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, value);
        args.set_span(last);
        quote! {
            // The body's expected type is the resume function's output, the never-run copy's
            // (`Box::new(5)` in `-> Box<dyn Display>`, as natively; see `Machine::new`).
            return #returned #args;
        }
    }

    // ---- blocks and statements ----------------------------------------------------------------

    /// The statements of a block (without braces). In resume mode, the locals declared before
    /// the statement that suspended are declared again first, from the state.
    fn contents(&mut self, block: &Block, mode: Mode) -> Code {
        // A tail that hoisted temporaries: they are this block's locals, declared before the
        // tail, and the tail moves them back into temporaries where they were, so rustc drops
        // them by the user's edition (after the block's locals in 2021, before in 2024).
        if let Some(Stmt::Expr { expr: Expr::Block(tail), semi: false }) = block.stmts.last()
            && tail.kind == BlockKind::TailTemporaries
        {
            let mut stmts: Vec<&Stmt> = block.stmts[..block.stmts.len() - 1].iter().collect();
            stmts.extend(tail.stmts.iter());
            return self.statements(&stmts, mode, Some(&tail.locals), true);
        }
        let stmts: Vec<&Stmt> = block.stmts.iter().collect();
        self.statements(&stmts, mode, None, block.kind != BlockKind::Parameters)
    }

    /// `chains`: a block that is this one's tail ends its tail's temporaries with this one's
    /// (not so for the parameters' block, whose tail is the user's block).
    fn statements(&mut self, stmts: &[&Stmt], mode: Mode, hoisted: Option<&[LocalId]>, chains: bool) -> Code {
        let pass_up = std::mem::take(&mut self.chain_tail);
        let rematerialize = hoisted.is_some();
        // A block inside a statement: the statement's own code around it is emitted after.
        let outer = (self.rematerialize, self.rematerialize_pinned, self.poison_bundle.get());
        let outer_named = std::mem::take(&mut *self.named_temporaries.borrow_mut());
        self.scopes.push(Vec::new());
        self.guards.push(Vec::new());
        // Declarations without a value (`let x;`), kept only if the code after them names the
        // local: nothing else would give it a type in this arm.
        let mut parts: Vec<(TokenStream, Option<LocalId>)> = Vec::new();
        let assigned_before = self.assigned.borrow().len();
        let mut out = TokenStream::new();
        let start = match mode {
            Mode::Forward => 0,
            Mode::Resume(k) => stmts.iter().position(|s| stmt_has(s, k)).expect("the resumed statement"),
        };
        // Edition 2021 drops a block tail's temporaries after the block's locals. Where the tail
        // may still suspend (an arm of a `match` with an `.await`, a path that then does not
        // take it), its hoisted temporaries cannot become temporaries again (see `keep_tail`):
        // in 2021 they are declared first in the block, before its locals, and given their
        // value where they are made; in 2024 they are declared there. (Those pinned in a
        // variant stay where they are made: their guards must end before its poison guard.)
        let early: Vec<LocalId> = match (hoisted, stmts.last()) {
            (Some(hoisted), Some(tail)) => {
                let awaits = self.body.awaits.len();
                // Resumed in the tail, they are declared again from the state: first in 2021
                // too, where the tail may leave the block early (`return`, `break`, `?`, a
                // panic) and drop them with its locals, after them.
                let tail_suspends = match mode {
                    Mode::Resume(_) if start + 1 == stmts.len() => true,
                    _ => (0..awaits).any(|j| stmt_has(tail, j)),
                };
                hoisted
                    .iter()
                    .copied()
                    .filter(|&l| {
                        tail_suspends
                            && self.body.locals[l].kind == LocalKind::Temporary
                            && !matches!(self.layout.locals[l], Placement::Pinned { home: Home::Variant(_), .. })
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        let outer_early = (std::mem::take(&mut self.early_declared), std::mem::take(&mut self.early_redeclared));
        parts.push((std::mem::take(&mut out), None));
        if let Mode::Resume(k) = mode {
            for stmt in &stmts[..start] {
                match stmt {
                    Stmt::Let(local) => {
                        for &binding in &local.bindings {
                            if early.contains(&binding) && self.layout.pinned(binding) {
                                self.late_guard = Some((binding, true));
                                parts.push((self.redeclare(binding, mode), None));
                                self.late_guard = None;
                                continue;
                            }
                            if early.contains(&binding) && self.layout.states[k].saved.contains(&binding) {
                                parts.push((self.redeclare_late(binding), None));
                                continue;
                            }
                            let deferred = self.unsaved_movable(binding, k).then_some(binding);
                            parts.push((self.redeclare(binding, mode), deferred));
                        }
                    }
                    Stmt::Item(item) if is_macro_rules(item) => parts.push((self.item(item), None)),
                    Stmt::Param(param) => {
                        let deferred = self.unsaved_movable(*param, k).then_some(*param);
                        parts.push((self.redeclare(*param, mode), deferred));
                    }
                    _ => {}
                }
            }
        }
        let mut diverges = false;
        let mut tail_reached = false;
        let mut marks = Vec::new();
        let last = stmts.len().saturating_sub(1);
        for (index, stmt) in stmts.iter().enumerate().skip(start) {
            let mode = if index == start { mode } else { Mode::Forward };
            tail_reached |= index == last && matches!(stmt, Stmt::Expr { semi: false, .. });
            // A hoisted temporary goes back into a temporary only where the code emitted for the
            // statement suspends no more: before a suspension it is still to be saved (a tail
            // `f(make().trim().to_owned()).await` keeps `make()` across its `.await`), and a
            // suspension forgets the guards of the pinned ones.
            // In edition 2021 that temporary outlives the block's locals, and the poison guard
            // of the variant holding it (see `enter_early`) must outlive it: declared in this
            // block, it goes into the first such temporary (see `plain::Context::poison`).
            let poison_here = self.guards.last().is_some_and(|g| g.contains(&Guard::Poison));
            let suspends_no_more = match mode {
                Mode::Resume(k) => !suspends_after(stmt, k, self.body.awaits.len()),
                Mode::Forward => (0..self.body.awaits.len()).all(|j| !stmt_has(stmt, j)),
            };
            self.rematerialize = rematerialize && index == last && suspends_no_more;
            self.rematerialize_pinned = self.rematerialize && (poison_here || !self.poison_in_scope());
            self.poison_bundle.set(self.rematerialize_pinned && poison_here);
            // Resumed in the tail: the hoisted temporaries it no longer names (see `keep_tail`).
            let keep = match (mode, stmt, hoisted) {
                (Mode::Resume(k), Stmt::Expr { semi: false, .. }, Some(hoisted)) if self.rematerialize && suspends_no_more => {
                    let declared: Vec<LocalId> = stmts[..start].iter().filter_map(|s| match s {
                        Stmt::Let(local) => Some(local.bindings.clone()),
                        _ => None,
                    }).flatten().collect();
                    let kept: Vec<LocalId> = hoisted.iter().copied().filter(|&l| {
                        declared.contains(&l)
                            && self.body.locals[l].kind == LocalKind::Temporary
                            && match self.layout.locals[l] {
                                Placement::Pinned { flagged, .. } => !flagged && self.rematerialize_pinned,
                                _ => self.layout.states[k].saved.contains(&l),
                            }
                    }).collect();
                    // The poison guard goes into the first temporary of the tail: the others
                    // end before it.
                    let poison = kept.iter().any(|&l| self.layout.pinned(l)) && self.poison_bundle.replace(false);
                    Some((kept, poison))
                }
                _ => None,
            };
            self.named_temporaries.borrow_mut().clear();
            let deferred = match stmt {
                Stmt::Let(Let { init: None, bindings, .. }) if bindings.len() == 1 && !self.layout.pinned(bindings[0]) => {
                    Some(bindings[0])
                }
                _ => None,
            };
            let mark = self.assigned.borrow().len();
            self.late_assign = match stmt {
                Stmt::Let(local) if local.bindings.len() == 1 && early.contains(&local.bindings[0]) && local.init.is_some() && local.diverge.is_none() => {
                    Some(local.bindings[0])
                }
                _ => None,
            };
            self.chain_tail = chains
                && index == last
                && matches!(stmt, Stmt::Expr { expr: Expr::Block(_) | Expr::Labeled { .. }, semi: false });
            let mut code = self.stmt(stmt, mode);
            self.late_assign = None;
            self.chain_tail = false;
            if let Some((kept, poison)) = keep
                && !code.diverges
            {
                code.tokens = self.keep_tail(&kept, poison, code.tokens);
            }
            self.rematerialize = false;
            self.rematerialize_pinned = false;
            self.poison_bundle.set(false);
            parts.push((code.tokens, deferred));
            marks.push(mark);
            if code.diverges {
                diverges = true;
                break;
            }
        }
        (self.rematerialize, self.rematerialize_pinned) = (outer.0, outer.1);
        self.poison_bundle.set(outer.2);
        let early_declared = std::mem::replace(&mut self.early_declared, outer_early.0);
        let early_redeclared = std::mem::replace(&mut self.early_redeclared, outer_early.1);
        if pass_up {
            // This block is the tail of the one around it: declared first there.
            self.early_declared.extend(early_declared);
            self.early_redeclared.extend(early_redeclared);
        } else if !early_declared.is_empty() || !early_redeclared.is_empty() {
            let names = early_declared.iter().map(|&l| &self.names[l]);
            let first = super::frame::by_edition(TokenStream::new(), quote!(#(#early_redeclared)* #(let mut #names;)*));
            parts.insert(0, (first, None));
        }
        self.ended_before_tail = diverges && !tail_reached;
        self.named_temporaries.borrow_mut().extend(outer_named);
        self.scopes.pop();
        self.guards.pop();
        // A declaration without a value is kept if the code after it (in this block, in this
        // arm) assigns the local: nothing else would give it a type here.
        let assigned = self.assigned.borrow()[assigned_before..].to_vec();
        let prefix_parts = parts.len() - marks.len();
        for (index, (tokens, deferred)) in parts.into_iter().enumerate() {
            let keep = match deferred {
                Some(local) => {
                    let after = if index < prefix_parts { 0 } else { marks[index - prefix_parts] - assigned_before };
                    assigned[after.min(assigned.len())..].contains(&local)
                }
                None => true,
            };
            if keep {
                out.extend(tokens);
            }
        }
        Code { tokens: out, diverges, bare: None }
    }

    /// The bindings of a branch resumed at `k`, declared again (`declared`): one not saved
    /// there is declared without a value only if the code emitted since `mark` assigns it, as in
    /// `statements` (nothing else would give it a type in this arm: E0282).
    fn kept_bindings(&self, declared: Vec<(LocalId, TokenStream)>, mark: usize, k: AwaitId) -> TokenStream {
        let assigned = self.assigned.borrow()[mark..].to_vec();
        declared
            .into_iter()
            .filter(|(binding, _)| !self.unsaved_movable(*binding, k) || assigned.contains(binding))
            .map(|(_, tokens)| tokens)
            .collect()
    }

    /// A local not saved at `k`, declared again without a value.
    fn unsaved_movable(&self, local: LocalId, k: AwaitId) -> bool {
        !self.layout.pinned(local) && !self.layout.states[k].saved.contains(&local)
    }

    fn block(&mut self, block: &Block, mode: Mode) -> Code {
        let contents = self.contents(block, mode);
        // The user's block, left before its tail (it suspends, returns or jumps): no tail
        // temporaries to drop by the user's edition, and its locals end before the parameters
        // in the body's block as in their own. Its braces would only indent the arm.
        if self.user_block == Some(block as *const Block) && contents.diverges && self.ended_before_tail {
            return contents;
        }
        Code { tokens: self.braced(block, contents.tokens), diverges: contents.diverges, bare: None }
    }

    /// `{ tokens }` with the block's own braces (the user's span: rustc applies the user's
    /// edition to its tail), or `unsafe { .. }` for the user's `unsafe` block.
    fn braced(&self, block: &Block, tokens: TokenStream) -> TokenStream {
        let mut group = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, tokens);
        group.set_span(block.span);
        match block.kind {
            BlockKind::Unsafe => quote_spanned!(block.span=> unsafe #group),
            _ => group.into_token_stream(),
        }
    }

    fn stmt(&mut self, stmt: &Stmt, mode: Mode) -> Code {
        match stmt {
            Stmt::Let(local) => self.let_stmt(local, mode),
            Stmt::Expr { expr, semi } => {
                self.contained = *semi && matches!(expr, Expr::Plain(_));
                let code = self.expr(expr, mode);
                self.contained = false;
                if let Some(bare) = code.bare {
                    return Code::diverging(bare);
                }
                let semi = semi.then(|| quote!(;));
                let tokens = code.tokens;
                Code { tokens: quote!(#tokens #semi), diverges: code.diverges, bare: None }
            }
            Stmt::Item(item) if is_macro_rules(item) => Code::plain(self.item(item)),
            Stmt::Item(_) => Code::plain(TokenStream::new()),
            Stmt::Param(param) => Code::plain(self.param(*param, mode)),
        }
    }

    /// A `macro_rules!` of the body, where its scope starts: `self` in it is `self_`.
    fn item(&self, item: &TokenStream) -> TokenStream {
        match self.self_local() {
            Some(local) => plain::rename_self(item.clone(), &self.names[local]),
            None => item.clone(),
        }
    }

    fn self_local(&self) -> Option<LocalId> {
        self.body.params.iter().copied().find(|&p| self.body.locals[p].kind == LocalKind::SelfValue)
    }

    // Input:
    //     let (a, b) = init;            // b pinned
    // Output:
    //     let (a, __init_b) = init; <enter b's state>; let b = unsafe { InFrame::init(<b's slot>, __init_b) };
    fn let_stmt(&mut self, local: &Let, mode: Mode) -> Code {
        let late = self.late_assign.take();
        // A closure is a new type each time its expression is written: emitted once per path
        // into the code after a join (or a split loop), it would give one state field two
        // types. Refused, with the rewrites that give it one type.
        if let Some(Expr::Plain(plain)) = &local.init
            && let syn::Expr::Closure(closure) = super::strip_parens(&plain.expr)
            && local.ty.is_none()
            && local.bindings.iter().any(|&b| self.layout.states.iter().any(|state| state.in_scope.contains(&b)))
            && !self.closure_lets.insert(local as *const Let as usize)
        {
            let message = "unasync emits the code after an `.await` once per path that reaches it (after an `if`, `match` or loop with an `.await`), and a closure expression has a new type each time it is written, so this closure local, in scope at a later `.await`, would have two types; declare it before that `if`, `match` or loop, or give it one type: `let f: Box<dyn Fn(..) -> ..> = Box::new(|..| ..);`";
            let span = syn::spanned::Spanned::span(closure);
            let pat = &local.pat;
            return Code { tokens: quote_spanned!(span=> let #pat = ::core::compile_error!(#message);), diverges: false, bare: None };
        }
        let init = match (&local.init, mode) {
            (Some(init), Mode::Resume(k)) if expr_has(init, k) => Some(self.expr(init, mode)),
            (Some(init), _) => match mode {
                Mode::Resume(k) if local.diverge.as_ref().is_some_and(|d| expr_has(d, k)) => {
                    // Resumed in the `else` of `let`-`else`: it diverges.
                    let code = self.expr(local.diverge.as_ref().expect("else"), mode);
                    return Code::diverging(code.tokens);
                }
                _ => Some(self.expr(init, Mode::Forward)),
            },
            (None, _) => None,
        };
        if let Some(init) = &init
            && init.diverges
        {
            if let Some(bare) = &init.bare {
                return Code::diverging(bare.clone());
            }
            let tokens = &init.tokens;
            return Code::diverging(quote!(#tokens;));
        }
        let diverge = local.diverge.as_ref().map(|diverge| {
            let code = self.expr(diverge, Mode::Forward);
            let tokens = code.tokens;
            quote!(else #tokens)
        });
        let pinned: Vec<LocalId> = local.bindings.iter().copied().filter(|&b| self.layout.pinned(b)).collect();
        let mut pat = local.pat.clone();
        rename_bindings(&mut pat, &local.bindings, &self.names, &pinned, &self.renamed);
        let ty = local.ty.as_ref().map(|ty| quote!(: #ty));
        let attrs = &local.attrs;
        let mut out = match &init {
            // A `let`-`else` initialiser may not end with `}`.
            Some(init) if diverge.is_some() => {
                let tokens = &init.tokens;
                quote!(#(#attrs)* let #pat #ty = (#tokens) #diverge;)
            }
            // A hoisted temporary of a block's tail, declared first in the block in edition 2021
            // (see `statements`).
            Some(init) if pinned.is_empty() && let Some(binding) = late => {
                let tokens = &init.tokens;
                let name = &self.names[binding];
                self.early_declared.push(binding);
                self.picks_edition.set(true);
                let declare = super::frame::by_edition(quote!(let mut #name;), TokenStream::new());
                quote!(#declare #name = #tokens;)
            }
            Some(init) => {
                let tokens = &init.tokens;
                quote!(#(#attrs)* let #pat #ty = #tokens;)
            }
            None if pinned.is_empty() => quote!(#(#attrs)* let #pat #ty;),
            None => TokenStream::new(),
        };
        for &binding in &local.bindings {
            if pinned.contains(&binding) {
                let slot = match &init {
                    Some(_) => {
                        let value = pinned_init_name(&self.names[binding]);
                        Slot::Init(quote!(#value))
                    }
                    None => Slot::Empty,
                };
                self.late_guard = late.filter(|&l| l == binding).map(|l| (l, false));
                out.extend(self.declare_pinned(binding, slot));
                self.late_guard = None;
            } else {
                self.declare_name(binding);
                if init.is_some() {
                    out.extend(self.witness(binding));
                }
            }
        }
        Code::plain(out)
    }

    fn declare_name(&mut self, local: LocalId) {
        let name = resolution_name(&self.body.locals[local]);
        self.scopes.last_mut().expect("scope").push((name, local));
    }

    /// Ties the type of a local to the `PhantomData` fields that stand for it where it holds
    /// no value (see [`super::layout`]), where it is declared with a value.
    fn witness(&self, local: LocalId) -> TokenStream {
        let Some(k) = self.layout.states.iter().position(|state| state.witnesses.contains(&local)) else {
            return TokenStream::new();
        };
        let state = &self.state;
        let variant = format_ident!("Suspend{}", k);
        let field = &self.layout.names.fields[local];
        let name = &self.names[local];
        // A `ref` binding no state stores stands for its referent, without the borrow's
        // lifetime (see `SharedRef`); `ref mut` for its referent itself (`&mut T` has `T`'s auto
        // traits). Stored somewhere, its type parameter is the reference.
        let unsaved = self.layout.locals[local] == Placement::Unsaved;
        let (function, value) = match (self.body.locals[local].by_ref, self.body.locals[local].mutable) {
            (true, false) if unsaved => (quote!(witness_ref), quote!(#name)),
            (true, true) if unsaved => (quote!(witness), quote!(&*#name)),
            _ => (quote!(witness), quote!(&#name)),
        };
        quote! {
            ::unasync::__private::#function(__state, #value, |__s| match __s {
                #state::#variant { #field, .. } => #field,
                _ => ::core::unreachable!(),
            });
        }
    }

    /// A pinned local's guard, for its slot in the frame.
    fn declare_pinned(&mut self, local: LocalId, value: Slot) -> TokenStream {
        let Placement::Pinned { home, flagged } = self.layout.locals[local] else { unreachable!("pinned") };
        let mut out = TokenStream::new();
        if let Home::Variant(k) = home
            && !self.poison_in_scope()
        {
            // The variant holds this local from now on: the future enters it early; the guard
            // poisons the frame if the body unwinds (or when the variant's locals are gone).
            out.extend(self.enter_early(k));
        }
        let slot = self.slot_pointer(local, home);
        let flag = self.flag_pointer(local, home);
        let name = &self.names[local];
        let ty = self.body.locals[local].declared.as_ref().map(|ty| quote!(: ::unasync::__private::InFrame<#ty>));
        let guard = match (value, flagged) {
            (Slot::Init(value), false) => quote!(unsafe { ::unasync::__private::InFrame::init(#slot, #value) }),
            (Slot::Init(value), true) => quote!(unsafe { ::unasync::__private::InFrame::init_flagged(#slot, #flag, #value) }),
            (Slot::Empty, _) => quote!(unsafe { ::unasync::__private::InFrame::uninit(#slot, #flag) }),
            (Slot::Kept, false) => quote!(unsafe { (#slot).kept() }),
            (Slot::Kept, true) => quote!(unsafe { ::unasync::__private::InFrame::new_flagged(#slot, #flag) }),
        };
        // A hoisted temporary of a block's tail declared first in the block in edition 2021
        // (see `statements`): made here, or redeclared with its slot.
        match self.late_guard.take().filter(|&(l, _)| l == local) {
            Some((_, false)) => {
                self.early_declared.push(local);
                self.picks_edition.set(true);
                out.extend(super::frame::by_edition(quote!(let mut #name #ty;), TokenStream::new()));
                out.extend(quote!(#name = #guard;));
            }
            Some((_, true)) => {
                self.early_redeclared.push(quote!(let mut #name #ty = #guard;));
                self.picks_edition.set(true);
                out.extend(super::frame::by_edition(quote!(let mut #name #ty = #guard;), TokenStream::new()));
            }
            None => out.extend(quote!(let mut #name #ty = #guard;)),
        }
        self.declare_name(local);
        self.guards.last_mut().expect("scope").push(Guard::Local(local));
        out
    }

    // Input: the tail of a block, resumed after its last `.await`, whose hoisted temporaries
    // `__temp0`, `__temp1` it no longer names
    // Output:
    //     ::unasync::__private::keep(&(__temp1, __temp0, <the poison guard in edition 2021>), <tail>)
    // They are temporaries of the tail again, made before its own: rustc drops them after those,
    // where the user's edition drops a tail's temporaries (after the block's locals in 2021).
    fn keep_tail(&mut self, kept: &[LocalId], poison: bool, tail: TokenStream) -> TokenStream {
        let named = self.named_temporaries.borrow().clone();
        let mut parts: Vec<TokenStream> = kept.iter().rev().filter(|l| !named.contains(l)).map(|&l| self.names[l].to_token_stream()).collect();
        if poison {
            self.names_edition.set(true);
            let edition_2024 = super::frame::edition_2024();
            parts.push(quote!(if #edition_2024 { ::core::option::Option::None } else { ::core::option::Option::Some(__poison) }));
        }
        if parts.is_empty() {
            return tail;
        }
        quote!(::unasync::__private::keep(&(#(#parts,)*), #tail))
    }

    fn poison_in_scope(&self) -> bool {
        self.guards.iter().flatten().any(|g| *g == Guard::Poison)
    }

    /// Enters the variant of `Suspend K` before its `.await`, its fields not yet written.
    fn enter_early(&mut self, k: AwaitId) -> TokenStream {
        let state = &self.state;
        let variant = format_ident!("Suspend{}", k);
        let fields = self.variant_field_inits(k);
        self.guards.last_mut().expect("scope").push(Guard::Poison);
        quote! {
            unsafe { __cx.suspend(#state::#variant { #(#fields,)* }, ()) };
            let __poison = unsafe { __cx.poison() };
        }
    }

    /// A hoisted temporary of a block's tail saved at the suspension point, declared again where a resumed
    /// scope starts: first in the block in edition 2021 (see `statements`).
    // Output:
    //     <first in the block> __unasync_by_edition!(const {}, {} { let mut __temp0 = <field>; });
    //     <here>               __unasync_by_edition!(const {}, { let mut __temp0 = <field>; } {});
    // Declared with its value in both (a `let` without one would shadow the field it reads).
    fn redeclare_late(&mut self, local: LocalId) -> TokenStream {
        let name = self.names[local].clone();
        self.declare_name(local);
        let value = self.take_field(&self.layout.names.fields[local]);
        self.early_redeclared.push(quote!(let mut #name = #value;));
        self.picks_edition.set(true);
        super::frame::by_edition(quote!(let mut #name = #value;), TokenStream::new())
    }

    /// A local declared again where a resumed scope starts.
    fn redeclare(&mut self, local: LocalId, mode: Mode) -> TokenStream {
        match self.layout.locals[local] {
            Placement::Pinned { home, .. } => {
                let needs_poison = matches!(home, Home::Variant(_)) && !self.poison_in_scope();
                let mut out = TokenStream::new();
                if needs_poison {
                    // Resumed with a pinned local in the variant: the variant stays while it lives.
                    self.guards.last_mut().expect("scope").push(Guard::Poison);
                    out.extend(quote!(let __poison = unsafe { __cx.poison() };));
                }
                out.extend(self.declare_pinned(local, Slot::Kept));
                out
            }
            _ => {
                let Mode::Resume(k) = mode else {
                    self.declare_name(local);
                    return TokenStream::new();
                };
                let name = self.names[local].clone();
                let mutability = (self.body.locals[local].mutable
                    || matches!(self.body.locals[local].kind, LocalKind::Iterator | LocalKind::Parameter))
                .then(|| quote!(mut));
                self.declare_name(local);
                if self.layout.states[k].saved.contains(&local) {
                    let value = self.take_field(&self.layout.names.fields[local]);
                    quote!(let #mutability #name = #value;)
                } else if self.assigned_later(local) {
                    let ty = self.body.locals[local].declared.as_ref().map(|ty| quote!(: #ty));
                    quote!(let #mutability #name #ty;)
                } else {
                    TokenStream::new()
                }
            }
        }
    }

    fn assigned_later(&self, local: LocalId) -> bool {
        let mut assigned = false;
        super::flow::visit_plain(&self.body.block, &mut |plain| {
            assigned |= plain.uses().iter().any(|u| u.local == local && u.kind == UseKind::Assign);
        });
        assigned
    }

    // ---- expressions --------------------------------------------------------------------------

    fn expr(&mut self, expr: &Expr, mode: Mode) -> Code {
        match expr {
            Expr::Plain(plain) => Code { tokens: self.plain(plain), diverges: !plain.completes(), bare: None },
            Expr::Await { base, id } => {
                if mode == Mode::Resume(*id) {
                    return Code::plain(self.resumed_value());
                }
                // Emitted a second time (a loop's next iterations, the code after a join), a
                // closure or `async` block written in the awaitee is a second type for the one
                // state field: refused, with the rewrite.
                if self.emitted.contains(id)
                    && let Some(span) = literal_with_own_type(base)
                {
                    let message = "unasync emits the code before this `.await` once per path that reaches it (a loop's first iteration and the next ones, each arm of an `if` or `match` before it), and a closure or `async` block has a new type each time it is written, so the awaited future would have two types; bind the closure to a local before the loop or branch (`let add = |c| c + 1;`), or keep this function native";
                    return Code::diverging(quote_spanned!(span=> ::core::compile_error!(#message)));
                }
                let base = self.expr(base, mode);
                if base.diverges {
                    return base;
                }
                let bare = self.suspend(*id, base.tokens);
                Code { tokens: quote!({ #bare }), diverges: true, bare: Some(bare) }
            }
            Expr::Template { code, hole } => self.template(code, hole, mode),
            Expr::Block(block) => self.block(block, mode),
            Expr::Labeled { label, block } => {
                let target = JumpTarget::new(Some(label.name.ident.to_string()), false, None, None);
                let broken = target.broken.clone();
                self.jumps.push(target);
                let code = self.block(block, mode);
                self.jumps.pop();
                let tokens = code.tokens;
                Code { tokens: quote!(#label #tokens), diverges: code.diverges && !broken.get(), bare: None }
            }
            Expr::If { cond, bindings, consumes, then, otherwise } => self.if_expr(cond, bindings, consumes, then, otherwise.as_deref(), mode),
            Expr::Match { scrutinee, scrutinee_local, arms } => self.match_expr(scrutinee, *scrutinee_local, arms, mode),
            Expr::Loop { label, body, .. } => self.loop_expr(label.as_ref(), body, mode),
            Expr::Break { label, value, span } => {
                let value = match value {
                    Some(value) => {
                        let code = self.expr(value, mode);
                        if code.diverges {
                            return code;
                        }
                        Some(code.tokens)
                    }
                    None => None,
                };
                let target = self.jump_target(label.as_ref(), true);
                if let Some(target) = &target {
                    target.broken.set(true);
                }
                let to = match target.and_then(|t| t.break_to) {
                    Some(to) => quote!(#to),
                    None => quote!(#label),
                };
                Code::diverging(plain::break_with(&to, value, *span))
            }
            Expr::Return { value, span } => {
                let value = match value {
                    Some(value) => {
                        let code = self.expr(value, mode);
                        if code.diverges {
                            return code;
                        }
                        code.tokens
                    }
                    None => quote!(()),
                };
                Code::diverging(plain::break_with(&body_label(), Some(value), *span))
            }
            Expr::Try { operand, span } => {
                let operand = self.expr(operand, mode);
                if operand.diverges {
                    return operand;
                }
                Code::plain(plain::try_operator(operand.tokens, *span))
            }
            Expr::Assign { place, op, value } => {
                let value = self.expr(value, mode);
                if value.diverges {
                    return value;
                }
                let value = value.tokens;
                let assigned = single_local(place);
                if let Some(local) = assigned
                    && op.to_string() == "="
                    && self.layout.flagged(local)
                {
                    let name = &self.names[local];
                    return Code::plain(quote!({ let __assigned = #value; unsafe { #name.set(__assigned) } }));
                }
                if let Some(local) = assigned
                    && op.to_string() == "="
                {
                    self.assigned.borrow_mut().push(local);
                }
                let place = self.plain(place);
                Code::plain(quote!(#place #op (#value)))
            }
            Expr::Lazy { left, and, right } => {
                if let Mode::Resume(k) = mode
                    && expr_has(right, k)
                {
                    return self.expr(right, mode);
                }
                let left = self.expr(left, mode);
                if left.diverges {
                    return left;
                }
                let right = self.expr(right, Mode::Forward);
                let (left, right) = (left.tokens, right.tokens);
                Code::plain(if *and {
                    quote!(if #left { #right } else { false })
                } else {
                    quote!(if #left { true } else { #right })
                })
            }
        }
    }

    fn template(&mut self, code: &Plain, hole: &Expr, mode: Mode) -> Code {
        let hole = self.expr(hole, mode);
        if hole.diverges {
            return hole;
        }
        let code = self.plain(code);
        Code::plain(fill_hole(code, hole.tokens))
    }

    fn if_expr(&mut self, cond: &Expr, bindings: &[LocalId], consumes: &[LocalId], then: &Block, otherwise: Option<&Expr>, mode: Mode) -> Code {
        if let Mode::Resume(k) = mode {
            if block_has(then, k) {
                // Resumed in the `then` branch: its `let` bindings come back, then the branch.
                self.scopes.push(Vec::new());
                self.guards.push(Vec::new());
                let mark = self.assigned.borrow().len();
                let declared: Vec<(LocalId, TokenStream)> = bindings.iter().map(|&b| (b, self.redeclare(b, mode))).collect();
                let then = self.block(then, mode);
                let out = self.kept_bindings(declared, mark, k);
                self.scopes.pop();
                self.guards.pop();
                let tokens = then.tokens;
                return Code { tokens: quote!({ #out #tokens }), diverges: then.diverges, bare: None };
            }
            if let Some(otherwise) = otherwise
                && expr_has(otherwise, k)
            {
                let code = self.expr(otherwise, mode);
                return match otherwise {
                    // An `else if` is an `if` of its own.
                    Expr::If { .. } => code,
                    _ => Code { tokens: terminating(code.tokens), diverges: code.diverges, bare: None },
                };
            }
        }
        let pinned: Vec<LocalId> = bindings.iter().copied().filter(|&b| self.layout.pinned(b)).collect();
        // A pinned local that a `let` binds all of by value: moved out of its slot only when the
        // pattern matches (its flag cleared), left in place otherwise.
        let taken: Vec<(String, Ident)> = consumes
            .iter()
            .filter(|&&local| self.layout.flagged(local) && self.body.locals[local].kind != LocalKind::Temporary)
            .map(|&local| (self.body.locals[local].name.to_string(), self.names[local].clone()))
            .collect();
        let rename = |code: &Plain| {
            let mut code = code.clone();
            rename_condition(&mut code.expr, bindings, &self.names, &pinned, &self.renamed);
            take_matching(&mut code.expr, &taken);
            code
        };
        let cond = match cond {
            Expr::Plain(code) => {
                let code = rename(code);
                Code { tokens: self.plain(&code), diverges: !code.completes(), bare: None }
            }
            Expr::Template { code, hole } => {
                let code = rename(code);
                self.template(&code, hole, mode)
            }
            other => self.expr(other, mode),
        };
        if cond.diverges {
            return cond;
        }
        self.scopes.push(Vec::new());
        self.guards.push(Vec::new());
        let mut prelude = TokenStream::new();
        for &binding in bindings {
            prelude.extend(self.bind_pattern_local(binding));
        }
        let then_code = self.block(then, Mode::Forward);
        self.scopes.pop();
        self.guards.pop();
        let else_code = otherwise.map(|o| self.expr(o, Mode::Forward));
        let cond_tokens = cond.tokens;
        let then_tokens = then_code.tokens;
        let then_tokens = if prelude.is_empty() { then_tokens } else { quote!({ #prelude #then_tokens }) };
        let diverges = then_code.diverges && else_code.as_ref().is_some_and(|e| e.diverges);
        let tokens = match else_code {
            Some(else_code) => {
                let else_tokens = else_code.tokens;
                let else_tokens = match otherwise {
                    Some(Expr::If { .. } | Expr::Block(_)) => else_tokens,
                    _ => quote!({ #else_tokens }),
                };
                quote!(if #cond_tokens #then_tokens else #else_tokens)
            }
            None => quote!(if #cond_tokens #then_tokens),
        };
        Code { tokens, diverges, bare: None }
    }

    /// A pattern binding (of `match`, `if let`) that is pinned: moved into its frame slot.
    fn bind_pattern_local(&mut self, local: LocalId) -> TokenStream {
        if self.layout.pinned(local) {
            let value = pinned_init_name(&self.names[local]);
            self.declare_pinned(local, Slot::Init(quote!(#value)))
        } else {
            self.declare_name(local);
            self.witness(local)
        }
    }

    fn match_expr(&mut self, scrutinee: &Expr, scrutinee_local: Option<LocalId>, arms: &[Arm], mode: Mode) -> Code {
        // A pinned local moved into the match (by an arm that binds all of it by value): an arm
        // that binds nothing puts it back, so it is dropped where its scope ends, as natively.
        let moved = scrutinee_local.filter(|&local| {
            matches!(scrutinee, Expr::Plain(plain) if plain.role == Role::Value)
                && self.layout.flagged(local)
                && self.body.locals[local].kind != LocalKind::Temporary
        });
        if let Mode::Resume(k) = mode
            && let Some(arm) = arms.iter().find(|arm| expr_has(&arm.body, k))
        {
            // Resumed in an arm: its bindings come back, then the rest of the arm.
            self.scopes.push(Vec::new());
            self.guards.push(Vec::new());
            let mark = self.assigned.borrow().len();
            let declared: Vec<(LocalId, TokenStream)> = arm.bindings.iter().map(|&b| (b, self.redeclare(b, mode))).collect();
            let body = self.expr(&arm.body, mode);
            let out = self.kept_bindings(declared, mark, k);
            self.scopes.pop();
            self.guards.pop();
            let tokens = body.tokens;
            return Code { tokens: quote!({ #out #tokens }), diverges: body.diverges, bare: None };
        }
        let scrutinee = self.expr(scrutinee, mode);
        if scrutinee.diverges {
            return scrutinee;
        }
        let mut tokens = TokenStream::new();
        let mut diverges = true;
        for arm in arms {
            self.scopes.push(Vec::new());
            self.guards.push(Vec::new());
            let pinned: Vec<LocalId> = arm.bindings.iter().copied().filter(|&b| self.layout.pinned(b)).collect();
            let mut pat = arm.pat.clone();
            rename_bindings(&mut pat, &arm.bindings, &self.names, &pinned, &self.renamed);
            let mut prelude = TokenStream::new();
            if let Some(local) = moved
                && arm.bindings.is_empty()
                && !arm.consumes
            {
                let name = &self.names[local];
                let whole = Ident::new("__whole", Span::mixed_site());
                pat = syn::parse_quote!(#whole @ (#pat));
                prelude.extend(quote!(unsafe { #name.set(#whole) };));
            }
            for &binding in &arm.bindings {
                prelude.extend(self.bind_pattern_local(binding));
            }
            // The guard runs before the pinned bindings move into their slots.
            let guard = arm.guard.as_ref().map(|guard| {
                self.unbound = pinned.clone();
                let guard = self.plain(guard);
                self.unbound.clear();
                quote!(if #guard)
            });
            let body = self.expr(&arm.body, Mode::Forward);
            diverges &= body.diverges;
            self.scopes.pop();
            self.guards.pop();
            let body = body.tokens;
            tokens.extend(quote!(#pat #guard => { #prelude #body })); 
        }
        let scrutinee = scrutinee.tokens;
        Code { tokens: quote!(match #scrutinee { #tokens }), diverges: diverges && !arms.is_empty(), bare: None }
    }

    // Input:
    //     'l: loop { body }                    (resumed at an `.await` in body)
    // Output:
    //     '__loop0: { '__iteration0: { <rest of body> } 'l: loop { body } }
    /// A loop ends only where the emitted code breaks out of it: one whose emitted body always
    /// suspends or returns first has type `!`, and nothing after it is emitted.
    fn loop_expr(&mut self, label: Option<&syn::Label>, body: &Block, mode: Mode) -> Code {
        let name = label.map(|l| l.name.ident.to_string());
        if let Mode::Resume(_) = mode {
            let n = self.next_label;
            self.next_label += 1;
            let whole = syn::Lifetime::new(&format!("'__loop{n}"), Span::mixed_site());
            let iteration = syn::Lifetime::new(&format!("'__iteration{n}"), Span::mixed_site());
            let target = JumpTarget::new(name.clone(), true, Some(whole.clone()), Some(iteration.clone()));
            let rest_broken = target.broken.clone();
            let rest_continued = target.continued.clone();
            self.jumps.push(target);
            let rest = self.block(body, mode);
            self.jumps.pop();
            let rest_tokens = rest.tokens;
            if rest.diverges && !rest_continued.get() {
                return Code { tokens: quote!(#whole: { #rest_tokens }), diverges: !rest_broken.get(), bare: None };
            }
            let target = JumpTarget::new(name, true, None, None);
            let full_broken = target.broken.clone();
            self.jumps.push(target);
            let full = self.block(body, Mode::Forward);
            self.jumps.pop();
            let full_tokens = full.tokens;
            let diverges = !rest_broken.get() && !full_broken.get();
            return Code { tokens: quote!(#whole: { #iteration: { #rest_tokens } #label loop #full_tokens }), diverges, bare: None };
        }
        let target = JumpTarget::new(name, true, None, None);
        let broken = target.broken.clone();
        self.jumps.push(target);
        let full = self.block(body, Mode::Forward);
        self.jumps.pop();
        let full_tokens = full.tokens;
        Code { tokens: quote!(#label loop #full_tokens), diverges: !broken.get(), bare: None }
    }

    fn jump_target(&self, label: Option<&syn::Lifetime>, is_break: bool) -> Option<JumpTarget> {
        self.jumps
            .iter()
            .rev()
            .find(|target| match label {
                Some(label) => target.label.as_deref() == Some(&label.ident.to_string()),
                None => target.is_loop,
            })
            .filter(|target| is_break || target.is_loop)
            .cloned()
    }

    fn plain(&mut self, plain: &Plain) -> TokenStream {
        let scopes = &self.scopes;
        let resolve = |name: &str| scopes.iter().rev().flat_map(|s| s.iter().rev()).find(|(n, _)| n == name).map(|(_, id)| *id);
        let cx = plain::Context {
            body: self.body,
            layout: self.layout,
            names: &self.names,
            renamed: &self.renamed,
            jumps: &self.jumps,
            resolve: &resolve,
            rematerialize: self.rematerialize,
            rematerialize_pinned: self.rematerialize_pinned,
            poison: &self.poison_bundle,
            names_edition: &self.names_edition,
            picks_captures: &self.picks_captures,
            named: &self.named_temporaries,
            contained: self.contained,
            assigned: &self.assigned,
            unbound: &self.unbound,
        };
        plain::rewrite(&cx, plain)
    }

    // ---- suspension points --------------------------------------------------------------------

    // Input:
    //     <awaitee>.await                  (at suspension point K, x and y saved)
    // Output (in braces where the `.await` is part of a larger statement):
    //     let __awaitee = Awaited(<awaitee>).into_awaitee();     (IntoFuture::into_future)
    //     let __next = Suspend_K { __awaitee, x, y };
    //     unsafe { __cx.suspend(__next, <the guards kept>) }; continue '__resume;
    fn suspend(&mut self, k: AwaitId, awaitee: TokenStream) -> TokenStream {
        self.suspensions.insert(k);
        self.emitted.insert(k);
        let span = self.body.awaits[k].span;
        // What stays in the frame: its guards are forgotten.
        let kept: Vec<TokenStream> = self
            .guards
            .iter()
            .flatten()
            .map(|guard| match guard {
                Guard::Local(local) => self.names[*local].to_token_stream(),
                Guard::Poison => quote!(__poison),
                Guard::Unwind => quote!(__unwind),
            })
            .collect();
        let kept = quote!((#(#kept,)*));
        let state = &self.state;
        let variant = format_ident!("Suspend{}", k);
        let resume = resume_label();
        let store = if self.layout.entered_early(k) {
            // The variant holds pinned locals already: the rest is written in place.
            let pointer = self.variant_field(k, &format_ident!("__awaitee", span = Span::mixed_site()));
            let mut writes = vec![quote!(*#pointer = __awaitee;)];
            for &local in &self.layout.states[k].saved {
                let name = &self.names[local];
                writes.push(self.write_field(k, &self.layout.names.fields[local], quote!(#name)));
            }
            quote!(::core::mem::forget(#kept); unsafe { #(#writes)* })
        } else {
            let wrap = |value: TokenStream| quote!(::core::mem::MaybeUninit::new(#value));
            let mut fields = vec![quote!(__awaitee)];
            for &local in &self.layout.states[k].saved {
                let field = &self.layout.names.fields[local];
                let name = &self.names[local];
                let value = wrap(quote!(#name));
                fields.push(quote!(#field: #value));
            }
            for &local in &self.layout.states[k].witnesses {
                let field = &self.layout.names.fields[local];
                fields.push(quote!(#field: ::core::marker::PhantomData));
            }
            quote! {
                let __next = #state::#variant { #(#fields,)* };
                unsafe { __cx.suspend(__next, #kept) };
            }
        };
        // `IntoFuture::into_future(<awaitee>)`, or where the awaitee is not a future (rustc's
        // error at the never-run copy's `.await`), a placeholder: the mistake is reported once.
        let into_future = quote_spanned!(span=> ::unasync::__private::Awaited(#awaitee).into_awaitee());
        quote! {
            let __awaitee = #into_future;
            #store
            continue #resume;
        }
    }

    /// The value of the `.await` the arm resumed at: the awaitee is dropped where it was pinned.
    fn resumed_value(&self) -> TokenStream {
        quote!(unsafe { __awaitee.leave(__awaited) })
    }

    // ---- the frame ----------------------------------------------------------------------------

    /// The pattern of a `Suspend K` arm: the fields it reads.
    fn variant_fields(&self, k: AwaitId) -> Vec<TokenStream> {
        let mut fields = vec![quote!(__awaitee)];
        let state = &self.layout.states[k];
        for &local in state.saved.iter().chain(&state.pinned) {
            let field = &self.layout.names.fields[local];
            fields.push(quote!(#field));
        }
        for &local in &state.pinned {
            if self.layout.flagged(local) {
                let flag = flag_field(&self.layout.names.fields[local]);
                fields.push(quote!(#flag));
            }
        }
        fields
    }

    /// The fields of a variant entered early, none written yet.
    fn variant_field_inits(&self, k: AwaitId) -> Vec<TokenStream> {
        let uninit = quote!(::core::mem::MaybeUninit::uninit());
        let mut fields = vec![quote!(__awaitee: #uninit)];
        let state = &self.layout.states[k];
        for &local in state.saved.iter().chain(&state.pinned) {
            let field = &self.layout.names.fields[local];
            fields.push(quote!(#field: #uninit));
        }
        for &local in &state.pinned {
            if self.layout.flagged(local) {
                let flag = flag_field(&self.layout.names.fields[local]);
                fields.push(quote!(#flag: false));
            }
        }
        for &local in &state.witnesses {
            let field = &self.layout.names.fields[local];
            fields.push(quote!(#field: ::core::marker::PhantomData));
        }
        fields
    }

    /// `field.write(value)` into the variant of `Suspend K`, which the future is in.
    fn write_field(&self, k: AwaitId, field: &Ident, value: TokenStream) -> TokenStream {
        let pointer = self.variant_field(k, field);
        quote!((*#pointer).write(#value);)
    }

    /// A pointer to a field of the variant of `Suspend K`, which the future is in.
    fn variant_field(&self, k: AwaitId, field: &Ident) -> TokenStream {
        let state = &self.state;
        let variant = format_ident!("Suspend{}", k);
        quote! {
            (match &mut *__state {
                #state::#variant { #field, .. } => &raw mut *#field,
                _ => ::core::hint::unreachable_unchecked(),
            })
        }
    }

    fn slot_pointer(&self, local: LocalId, home: Home) -> TokenStream {
        let field = &self.layout.names.fields[local];
        match home {
            Home::Prefix => quote!(&raw mut (*__frame).#field),
            Home::Variant(k) => {
                let pointer = self.variant_field(k, field);
                quote!(#pointer)
            }
        }
    }

    fn flag_pointer(&self, local: LocalId, home: Home) -> TokenStream {
        let flag = flag_field(&self.layout.names.fields[local]);
        match home {
            Home::Prefix => quote!(&raw mut (*__frame).#flag),
            Home::Variant(k) => self.variant_field(k, &flag),
        }
    }

    fn take_field(&self, field: &Ident) -> TokenStream {
        quote!(unsafe { #field.assume_init_read() })
    }
}

pub fn resume_label() -> syn::Lifetime {
    syn::Lifetime::new("'__resume", Span::mixed_site())
}

pub fn flag_field(field: &Ident) -> Ident {
    Ident::new(&format!("{field}_live"), field.span())
}

/// The name a pinned binding of a pattern is bound to before it moves into its frame slot.
pub fn pinned_init_name(name: &Ident) -> Ident {
    let name = super::layout::field_name(&name.to_string());
    Ident::new(&format!("__init_{name}"), Span::mixed_site())
}

/// The name plain code resolves a local by.
pub fn resolution_name(local: &Local) -> String {
    match local.kind {
        LocalKind::SelfValue => "self".to_string(),
        _ => local.name.to_string(),
    }
}

/// Renames the bindings of a pattern: a pinned one to its `__init_` name (it moves into its
/// frame slot next), a renamed one (shadowed, see [`Emitter::new`]) to its name.
fn rename_bindings(pat: &mut syn::Pat, bindings: &[LocalId], names: &[Ident], pinned: &[LocalId], renamed: &[bool]) {
    if pinned.is_empty() && bindings.iter().all(|&b| !renamed[b]) {
        return;
    }
    syn::visit_mut::VisitMut::visit_pat_mut(&mut Renamer { bindings, names, pinned, renamed, index: 0 }, pat);
}

/// The `let` patterns of an `if` condition (a `let` chain), their bindings renamed in order.
fn rename_condition(cond: &mut syn::Expr, bindings: &[LocalId], names: &[Ident], pinned: &[LocalId], renamed: &[bool]) {
    fn walk(expr: &mut syn::Expr, renamer: &mut Renamer<'_>) {
        match expr {
            syn::Expr::Binary(binary) if matches!(binary.op, syn::BinOp::And(_)) => {
                walk(&mut binary.left, renamer);
                walk(&mut binary.right, renamer);
            }
            syn::Expr::Paren(paren) => walk(&mut paren.expr, renamer),
            syn::Expr::Let(binding) => syn::visit_mut::VisitMut::visit_pat_mut(renamer, &mut binding.pat),
            _ => {}
        }
    }
    if pinned.is_empty() && bindings.iter().all(|&b| !renamed[b]) {
        return;
    }
    walk(cond, &mut Renamer { bindings, names, pinned, renamed, index: 0 });
}

/// `let P = x` on a pinned local `x` that `P` binds all of by value:
/// `let Some(P) = unsafe { x.take_if(|__v| matches!(*__v, P')) }`, `P'` being `P` without its
/// bindings, so the local leaves its slot only when the pattern matches.
fn take_matching(cond: &mut syn::Expr, taken: &[(String, Ident)]) {
    if taken.is_empty() {
        return;
    }
    match cond {
        syn::Expr::Binary(binary) if matches!(binary.op, syn::BinOp::And(_)) => {
            take_matching(&mut binary.left, taken);
            take_matching(&mut binary.right, taken);
        }
        syn::Expr::Paren(paren) => take_matching(&mut paren.expr, taken),
        syn::Expr::Let(binding) => {
            let Some(name) = super::walk::local_name(super::strip_parens(&binding.expr)) else { return };
            let Some((_, slot)) = taken.iter().find(|(written, _)| *written == name) else { return };
            if !super::walk::binds_by_value(&binding.pat) {
                return;
            }
            let pat = &binding.pat;
            let mut test = (**pat).clone();
            struct Unbind;
            impl syn::visit_mut::VisitMut for Unbind {
                fn visit_pat_mut(&mut self, pat: &mut syn::Pat) {
                    if let syn::Pat::Ident(ident) = pat
                        && ident.by_ref.is_none()
                        && (ident.subpat.is_some() || ident.mutability.is_some() || super::walk::is_binding_name(&ident.ident))
                    {
                        *pat = match ident.subpat.take() {
                            Some((_, sub)) => *sub,
                            None => syn::Pat::Wild(syn::PatWild { attrs: Vec::new(), underscore_token: Default::default() }),
                        };
                        self.visit_pat_mut(pat);
                        return;
                    }
                    syn::visit_mut::visit_pat_mut(self, pat);
                }
            }
            syn::visit_mut::VisitMut::visit_pat_mut(&mut Unbind, &mut test);
            let scrutinee: syn::Expr = syn::Expr::Verbatim(quote! {
                unsafe { #slot.take_if(|__v| ::core::matches!(*__v, #test)) }
            });
            let new_pat: syn::Pat = syn::parse_quote!(::core::option::Option::Some(#pat));
            *binding.pat = new_pat;
            *binding.expr = scrutinee;
        }
        _ => {}
    }
}

/// Gives each binding of a pattern, in order, its emitted name: `__init_x` for a pinned local
/// (moved into its slot after), the field's name for a renamed one.
struct Renamer<'a> {
    bindings: &'a [LocalId],
    names: &'a [Ident],
    pinned: &'a [LocalId],
    renamed: &'a [bool],
    index: usize,
}

impl syn::visit_mut::VisitMut for Renamer<'_> {
    fn visit_pat_ident_mut(&mut self, ident: &mut syn::PatIdent) {
        let binds = ident.subpat.is_some() || ident.by_ref.is_some() || ident.mutability.is_some() || super::walk::is_binding_name(&ident.ident);
        if binds {
            if let Some(&local) = self.bindings.get(self.index) {
                if self.pinned.contains(&local) {
                    ident.ident = pinned_init_name(&self.names[local]);
                    ident.mutability = None;
                } else if self.renamed[local] {
                    ident.ident = self.names[local].clone();
                }
            }
            self.index += 1;
        }
        syn::visit_mut::visit_pat_ident_mut(self, ident);
    }
    fn visit_field_pat_mut(&mut self, field: &mut syn::FieldPat) {
        field.colon_token.get_or_insert_with(Default::default);
        syn::visit_mut::visit_field_pat_mut(self, field);
    }
    fn visit_expr_mut(&mut self, _: &mut syn::Expr) {}
}

/// Replaces the template's hole with the suspending operand's code.
fn fill_hole(code: TokenStream, hole: TokenStream) -> TokenStream {
    code.into_iter()
        .flat_map(|token| -> TokenStream {
            match token {
                TokenTree::Ident(ident) if ident == HOLE => quote!((#hole)),
                TokenTree::Group(group) => {
                    let mut filled = proc_macro2::Group::new(group.delimiter(), fill_hole(group.stream(), hole.clone()));
                    filled.set_span(group.span());
                    TokenTree::Group(filled).into()
                }
                other => other.into(),
            }
        })
        .collect()
}

fn single_local(place: &Plain) -> Option<LocalId> {
    match (&place.expr, place.uses().as_slice()) {
        (syn::Expr::Path(_), [use_]) => Some(use_.local),
        _ => None,
    }
}

fn is_macro_rules(item: &TokenStream) -> bool {
    let mut tokens = item.clone().into_iter();
    matches!((tokens.next(), tokens.next()), (Some(TokenTree::Ident(m)), Some(TokenTree::Punct(p))) if m == "macro_rules" && p.as_char() == '!')
}

// ---- where the suspension points are -------------------------------------------------------

pub fn expr_has(expr: &Expr, k: AwaitId) -> bool {
    match expr {
        Expr::Plain(_) => false,
        Expr::Await { base, id } => *id == k || expr_has(base, k),
        Expr::Template { hole, .. } => expr_has(hole, k),
        Expr::Block(block) | Expr::Labeled { block, .. } | Expr::Loop { body: block, .. } => block_has(block, k),
        Expr::If { cond, then, otherwise, .. } => {
            expr_has(cond, k) || block_has(then, k) || otherwise.as_ref().is_some_and(|o| expr_has(o, k))
        }
        Expr::Match { scrutinee, arms, .. } => expr_has(scrutinee, k) || arms.iter().any(|arm| expr_has(&arm.body, k)),
        Expr::Break { value, .. } | Expr::Return { value, .. } => value.as_ref().is_some_and(|v| expr_has(v, k)),
        Expr::Try { operand, .. } => expr_has(operand, k),
        Expr::Assign { value, .. } => expr_has(value, k),
        Expr::Lazy { left, right, .. } => expr_has(left, k) || expr_has(right, k),
    }
}

pub fn block_has(block: &Block, k: AwaitId) -> bool {
    block.stmts.iter().any(|stmt| stmt_has(stmt, k))
}

/// Whether the code of `stmt` resumed at its `.await` `k` may suspend again: at an `.await`
/// evaluated after it (ids are in evaluation order), or at an earlier one or `k` itself that a
/// loop inside the statement runs again. The earlier `.await`s of the statement are not emitted
/// after `k`.
fn suspends_after(stmt: &Stmt, k: AwaitId, awaits: usize) -> bool {
    fn loop_again(expr: &Expr, k: AwaitId, j: AwaitId) -> bool {
        match expr {
            Expr::Plain(_) => false,
            Expr::Loop { body, .. } if block_has(body, k) && block_has(body, j) => true,
            Expr::Await { base, .. } => loop_again(base, k, j),
            Expr::Template { hole, .. } => loop_again(hole, k, j),
            Expr::Block(block) | Expr::Labeled { block, .. } | Expr::Loop { body: block, .. } => {
                block.stmts.iter().any(|s| stmt_loop_again(s, k, j))
            }
            Expr::If { cond, then, otherwise, .. } => {
                loop_again(cond, k, j)
                    || then.stmts.iter().any(|s| stmt_loop_again(s, k, j))
                    || otherwise.as_ref().is_some_and(|o| loop_again(o, k, j))
            }
            Expr::Match { scrutinee, arms, .. } => loop_again(scrutinee, k, j) || arms.iter().any(|arm| loop_again(&arm.body, k, j)),
            Expr::Break { value, .. } | Expr::Return { value, .. } => value.as_ref().is_some_and(|v| loop_again(v, k, j)),
            Expr::Try { operand, .. } => loop_again(operand, k, j),
            Expr::Assign { value, .. } => loop_again(value, k, j),
            Expr::Lazy { left, right, .. } => loop_again(left, k, j) || loop_again(right, k, j),
        }
    }
    fn stmt_loop_again(stmt: &Stmt, k: AwaitId, j: AwaitId) -> bool {
        match stmt {
            Stmt::Let(local) => {
                local.init.as_ref().is_some_and(|i| loop_again(i, k, j)) || local.diverge.as_ref().is_some_and(|d| loop_again(d, k, j))
            }
            Stmt::Expr { expr, .. } => loop_again(expr, k, j),
            Stmt::Item(_) | Stmt::Param(_) => false,
        }
    }
    // `j == k`: a loop in the statement around the `.await` it resumed at suspends there again.
    (0..awaits).any(|j| stmt_has(stmt, j) && (j > k || stmt_loop_again(stmt, k, j)))
}

fn stmt_has(stmt: &Stmt, k: AwaitId) -> bool {
    match stmt {
        Stmt::Let(local) => local.init.as_ref().is_some_and(|i| expr_has(i, k)) || local.diverge.as_ref().is_some_and(|d| expr_has(d, k)),
        Stmt::Expr { expr, .. } => expr_has(expr, k),
        Stmt::Item(_) | Stmt::Param(_) => false,
    }
}

/// The first and last tokens' spans of the tail of the user's block (the last statement of the
/// body's block), where it is plain code.
fn tail_span(body: &Block) -> Option<(Span, Span)> {
    let Some(Stmt::Expr { expr: Expr::Block(user), .. }) = body.stmts.last() else { return None };
    let Some(Stmt::Expr { expr: Expr::Plain(tail), semi: false }) = user.stmts.last() else { return None };
    value_span(&tail.expr)
}

/// The spans of a value's first and last tokens: `returned(..)` located over them reads, to
/// rustc's messages, as the value itself.
pub(super) fn value_span(value: &impl ToTokens) -> Option<(Span, Span)> {
    let tokens: Vec<TokenTree> = value.to_token_stream().into_iter().collect();
    Some((first_span(tokens.first()?), last_span(tokens.last()?)))
}

fn first_span(token: &TokenTree) -> Span {
    match token {
        TokenTree::Group(group) => group.span_open(),
        other => other.span(),
    }
}

fn last_span(token: &TokenTree) -> Span {
    match token {
        TokenTree::Group(group) => group.span_close(),
        other => other.span(),
    }
}

/// The span of a closure or `async` block whose type the awaitee's type likely names: the
/// awaitee itself (`async { .. }.await`) or an argument of the awaited call or of a method of its
/// receiver chain (`call(i, |c| c + 1)`, `conn.and_then(|c| async { .. })`). One nested deeper
/// (`f(x.unwrap_or_else(|| ..))`) is usually consumed before the future is made.
fn literal_with_own_type(expr: &Expr) -> Option<Span> {
    fn literal(expr: &syn::Expr) -> Option<Span> {
        match super::strip_parens(expr) {
            syn::Expr::Closure(closure) => Some(syn::spanned::Spanned::span(closure)),
            syn::Expr::Async(block) => Some(syn::spanned::Spanned::span(block)),
            _ => None,
        }
    }
    fn awaitee(expr: &syn::Expr) -> Option<Span> {
        let expr = super::strip_parens(expr);
        literal(expr).or_else(|| match expr {
            syn::Expr::Call(call) => call.args.iter().find_map(literal),
            syn::Expr::MethodCall(call) => call.args.iter().find_map(literal).or_else(|| awaitee(&call.receiver)),
            _ => None,
        })
    }
    match expr {
        Expr::Plain(plain) => awaitee(&plain.expr),
        Expr::Await { base, .. } => literal_with_own_type(base),
        _ => None,
    }
}

/// Whether `tokens` name the label `'__body` (the `break '__body` of a `?`).
fn names_body_label(tokens: &TokenStream) -> bool {
    let mut quote_before = false;
    tokens.clone().into_iter().any(|token| {
        let found = match &token {
            TokenTree::Group(group) => names_body_label(&group.stream()),
            TokenTree::Ident(ident) => quote_before && ident == "__body",
            _ => false,
        };
        quote_before = matches!(&token, TokenTree::Punct(p) if p.as_char() == '\'');
        found
    })
}

// Input: the `else` block of an `if`, resumed inside it (a plain block there)
// Output:
//     match () { () => <code> }
// rustc ends the temporaries of a branch's tail with the branch (a terminating scope), in both
// editions, after its locals in 2021; a plain block in a block's tail would keep them to the end
// of the enclosing statement in edition 2021 (`{ let b = ..; if c { 0 } else { f(&make(),
// x.await) } }` dropped `make()` after `b`). An arm of a `match` is a terminating scope too.
fn terminating(code: TokenStream) -> TokenStream {
    quote!(match () { () => #code })
}
