//! Plain code at emission: ordinary Rust over real locals, rewritten only where the state
//! machine needs it.
//!
//! Input:
//! ```text
//! if buf.len() > n { return Err(e?); }          // `buf` pinned (borrowed across an .await)
//! ```
//! Output:
//! ```text
//! if (*unsafe { buf.get() }).len() > n {
//!     return returned({ Err(match branch(e) { Continue(v) => v, Break(r) => break '__body (move || match r? {})() }) });
//! }
//! ```
//! - a pinned local is reached through its frame slot ([`InFrame`](crate)): `get` to read or
//!   borrow, `get_mut` to mutate, `take` to move out, `set` to assign;
//! - `self` is the local `self_` (a closure cannot bind `self`);
//! - `return` returns `returned(value)` from the resume function (its value checked as the
//!   body's tail is: a wrong type is rustc's one error, the never-run copy's); `?` leaves the
//!   body's labeled block, whose value the resume function returns;
//! - `break`/`continue` to a loop the emission split (the first, resumed iteration and the
//!   loop that follows) go to the matching label of the split;
//! - a macro naming a pinned local sees it as a reference bound just before the code.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};

use super::ir::*;
use super::layout::{Layout, Placement};
use super::walk::{At, Capturing, Exit, Handler, Prelude, Walk};

/// A loop or labeled block the emitted code is inside, for the jumps of plain code.
#[derive(Clone)]
pub struct JumpTarget {
    pub label: Option<String>,
    pub is_loop: bool,
    /// Where `break` goes when the loop is split (`None`: as written).
    pub break_to: Option<syn::Lifetime>,
    /// Where `continue` goes when the loop is split.
    pub continue_to: Option<syn::Lifetime>,
    /// Whether the emitted code breaks out of it: a loop nothing breaks out of never ends.
    pub broken: std::rc::Rc<std::cell::Cell<bool>>,
    /// Whether the emitted code continues it.
    pub continued: std::rc::Rc<std::cell::Cell<bool>>,
}

impl JumpTarget {
    pub fn new(label: Option<String>, is_loop: bool, break_to: Option<syn::Lifetime>, continue_to: Option<syn::Lifetime>) -> Self {
        JumpTarget { label, is_loop, break_to, continue_to, broken: Default::default(), continued: Default::default() }
    }
}

/// What plain code needs from the emission.
pub struct Context<'a> {
    pub body: &'a Body,
    pub layout: &'a Layout,
    /// The names the emitted code gives each local (its own, or a pointer to its frame slot).
    pub names: &'a [Ident],
    /// Whether a local's emitted name is not its binding as written.
    pub renamed: &'a [bool],
    pub jumps: &'a [JumpTarget],
    pub resolve: &'a dyn Fn(&str) -> Option<LocalId>,
    /// A block's tail: its hoisted temporaries are moved back into temporaries (`{ __temp0 }`).
    pub rematerialize: bool,
    /// The same for a pinned temporary's guard: the code emitted suspends no more.
    pub rematerialize_pinned: bool,
    /// The block's poison guard (`__poison`) is still to go into the first of those temporaries:
    /// in edition 2021 they outlive the block, and the variant holding them must stay.
    pub poison: &'a std::cell::Cell<bool>,
    /// Set when the emitted code names the edition (see `frame::edition_probe`).
    pub names_edition: &'a std::cell::Cell<bool>,
    /// Set when the emitted code picks statements by the edition's closure captures.
    pub picks_captures: &'a std::cell::Cell<bool>,
    /// The hoisted temporaries moved back into temporaries, recorded here.
    pub named: &'a std::cell::RefCell<Vec<LocalId>>,
    /// A statement whose value is discarded: the borrows it makes end with it.
    pub contained: bool,
    /// The locals the emitted code assigns whole, recorded here.
    pub assigned: &'a std::cell::RefCell<Vec<LocalId>>,
    /// Pinned bindings of a `match` arm whose guard is being emitted: not in their slot yet,
    /// named by their binding (see `pinned_init_name`).
    pub unbound: &'a [LocalId],
}

pub fn body_label() -> syn::Lifetime {
    syn::Lifetime::new("'__body", Span::mixed_site())
}

/// The emitted code of plain code.
pub fn rewrite(cx: &Context<'_>, plain: &Plain) -> TokenStream {
    let mut expr = plain.expr.clone();
    // A pinned local named once, in a use whose borrow ends with the statement, is reached as
    // `*x` through its guard (named twice, a mutable use would conflict with the other borrow of
    // the guard, where rustc's two-phase borrows accept `v.push(v.len())`).
    // (A use whose borrow flows into a local, `label = &x`, outlives the statement.)
    let mut count = vec![0usize; cx.body.locals.len()];
    for use_ in plain.uses() {
        count[use_.local] += if use_.flows_into.is_empty() { 1 } else { 2 };
    }
    let once: Vec<bool> = count.iter().map(|&n| n == 1).collect();
    let hints: Vec<super::ir::ReceiverHint> = cx.body.locals.iter().map(|local| local.receiver).collect();
    let mut walk = Walk::new(cx.resolve, &hints, Rewrite { cx, once, shadows: Vec::new(), captured: Vec::new(), names_unpinned: false }, At::default());
    walk.walk(&mut expr, plain.role);
    let rewrite = walk.into_handler();
    let code = expr.to_token_stream();
    if rewrite.shadows.is_empty() {
        return code;
    }
    // A macro cannot see the frame: the pinned locals it names are references bound here.
    let shadows = rewrite.shadows.iter().map(|(ident, local)| {
        let slot = &cx.names[*local];
        quote!(let #ident = unsafe { #slot.get_mut() };)
    });
    // A macro statement stays a statement (its expansion may be statements: `let _ = ..;`).
    if cx.contained && matches!(expr, syn::Expr::Macro(_)) {
        return quote!({ #(#shadows)* #code; });
    }
    // As the block's tail, an expression that starts with a block-like one (`if c { a } else
    // { b } > 1`) would end at its braces: parenthesised.
    let code = if !is_block_like(&expr) && starts_with_block(&expr) { quote!((#code)) } else { code };
    quote!({ #(#shadows)* #code })
}

/// Whether the expression's first token starts a block-like expression (`if`, `match`, a block,
/// a loop), which ends a statement at its closing brace.
fn starts_with_block(expr: &syn::Expr) -> bool {
    use syn::Expr;
    match expr {
        Expr::Binary(binary) => starts_with_block(&binary.left),
        Expr::MethodCall(call) => starts_with_block(&call.receiver),
        Expr::Field(field) => starts_with_block(&field.base),
        Expr::Index(index) => starts_with_block(&index.expr),
        Expr::Cast(cast) => starts_with_block(&cast.expr),
        Expr::Try(question) => starts_with_block(&question.expr),
        Expr::Await(awaited) => starts_with_block(&awaited.base),
        Expr::Call(call) => starts_with_block(&call.func),
        Expr::Range(range) => range.start.as_deref().is_some_and(starts_with_block),
        Expr::Assign(assign) => starts_with_block(&assign.left),
        other => is_block_like(other),
    }
}

fn is_block_like(expr: &syn::Expr) -> bool {
    use syn::Expr;
    matches!(
        expr,
        Expr::If(_) | Expr::Match(_) | Expr::Block(_) | Expr::Unsafe(_) | Expr::Loop(_) | Expr::While(_)
            | Expr::ForLoop(_) | Expr::Const(_) | Expr::TryBlock(_)
    )
}

struct Rewrite<'c, 'a> {
    cx: &'c Context<'a>,
    /// Per local: named once in this code.
    once: Vec<bool>,
    /// Pinned locals named in macros: `(the name as the macro writes it, local)`.
    shadows: Vec<(Ident, LocalId)>,
    /// Pinned locals a closure or async block captures, bound where it is created: moved out
    /// of the frame for `move`, else a reference into the frame (the closure captures a
    /// reborrow of it, not the resume function's guard).
    captured: Vec<Captured>,
    /// The closure or async block being walked names a local that is not pinned.
    names_unpinned: bool,
}

struct Captured {
    name: Ident,
    local: LocalId,
    by_value: bool,
    mutable: bool,
}

impl Rewrite<'_, '_> {
    fn jump_target(&self, label: Option<&syn::Lifetime>, is_break: bool) -> Option<&JumpTarget> {
        self.cx.jumps.iter().rev().find(|target| match label {
            Some(label) => target.label.as_deref() == Some(&label.ident.to_string()),
            None => target.is_loop,
        })
        .filter(|target| is_break || target.is_loop)
    }
}

impl Handler for Rewrite<'_, '_> {
    fn local(&mut self, local: LocalId, kind: UseKind, at: &At, span: Span) -> Option<TokenStream> {
        if kind == UseKind::Assign {
            self.cx.assigned.borrow_mut().push(local);
        }
        let name = &self.cx.names[local];
        if self.cx.unbound.contains(&local) {
            let binding = super::resume::pinned_init_name(name);
            return Some(quote_spanned!(span=> #binding));
        }
        if at.in_closure && !self.cx.layout.pinned(local) {
            self.names_unpinned = true;
        }
        match self.cx.layout.locals[local] {
            Placement::Pinned { flagged, .. } => {
                if at.in_closure {
                    let plain = super::layout::field_name(&name.to_string());
                    let captured = Ident::new(&format!("__captured_{plain}"), Span::mixed_site());
                    let mutable = !matches!(kind, UseKind::Borrow | UseKind::Move);
                    match self.captured.iter_mut().find(|c| c.local == local) {
                        Some(existing) => existing.mutable |= mutable,
                        None => {
                            // A closure that moves a local of an owning type captures it by
                            // value: it leaves the frame. (Used by value, a local of an unknown
                            // type may be `Copy`, captured by reference.)
                            let by_value = at.by_value_capture || (kind == UseKind::Opaque && flagged && self.cx.body.locals[local].owning);
                            self.captured.push(Captured { name: captured.clone(), local, by_value, mutable })
                        }
                    }
                    let by_value = self.captured.iter().any(|c| c.local == local && c.by_value);
                    return Some(if by_value { quote!(#captured) } else { quote!((*#captured)) });
                }
                let trivially_dropped = self.cx.body.locals[local].trivially_dropped;
                let by_guard = !flagged && self.once[local] && (at.owned || self.cx.contained);
                // A temporary of a block's tail: its guard goes back into a temporary (see
                // `Context::rematerialize`), which drops the local where rustc drops it. Reached
                // through the guard's `Deref`: no borrow of it outlives that temporary.
                if self.cx.rematerialize_pinned && !flagged && self.cx.body.locals[local].kind == LocalKind::Temporary {
                    self.cx.named.borrow_mut().push(local);
                    if self.cx.poison.replace(false) {
                        self.cx.names_edition.set(true);
                        let edition_2024 = super::frame::edition_2024();
                        let poison = quote!(__poison);
                        return Some(quote_spanned!(span=> (*({ (#name, if #edition_2024 { ::core::option::Option::None } else { ::core::option::Option::Some(#poison) }) }).0)));
                    }
                    return Some(quote_spanned!(span=> (*({ #name }))));
                }
                let mutable_reference = self.cx.body.locals[local].mutable_reference;
                Some(match kind {
                    // A `&mut` moved (`f(r)`) may be reborrowed or moved, as `f` expects: it stays
                    // in the frame, so it is reborrowed, which serves both (natively it is not
                    // used after a move).
                    UseKind::Move if mutable_reference && !flagged => {
                        let get_mut = if by_guard { quote!(#name) } else { guard_access(name, "get_mut") };
                        quote_spanned!(span=> (&mut **#get_mut))
                    }
                    UseKind::Borrow | UseKind::BorrowMut if by_guard => quote_spanned!(span=> (*#name)),
                    UseKind::Move if trivially_dropped && by_guard => quote_spanned!(span=> (*#name)),
                    UseKind::Move | UseKind::ConsumingCall if flagged => {
                        let take = guard_access(name, "take");
                        quote_spanned!(span=> (#take))
                    }
                    UseKind::Move if trivially_dropped => {
                        let get = guard_access(name, "get");
                        quote_spanned!(span=> (*#get))
                    }
                    UseKind::Borrow => {
                        let get = guard_access(name, "get");
                        quote_spanned!(span=> (*#get))
                    }
                    _ => {
                        let get_mut = guard_access(name, "get_mut");
                        quote_spanned!(span=> (*#get_mut))
                    }
                })
            }
            _ if self.cx.rematerialize && self.cx.body.locals[local].kind == LocalKind::Temporary && !at.in_closure => {
                self.cx.named.borrow_mut().push(local);
                Some(quote_spanned!(span=> ({ #name })))
            }
            // `self`, and a local renamed (it is shadowed where it must be saved). In parentheses
            // located at the user's name, so an expression starting with it spans the user's
            // expression (its name keeps the expansion's hygiene): rustc's error there is the
            // never-run copy's, reported once.
            _ if self.cx.renamed[local] || self.cx.body.locals[local].kind == LocalKind::SelfValue => {
                Some(quote_spanned!(span=> (#name)))
            }
            _ => None,
        }
    }

    fn assign(&mut self, local: LocalId, value: &syn::Expr) -> Option<TokenStream> {
        if !self.cx.layout.flagged(local) {
            return None;
        }
        // The old value is dropped only if the flag says it is there.
        let name = &self.cx.names[local];
        Some(quote!({ let __assigned = #value; unsafe { #name.set(__assigned) } }))
    }

    fn exit(&mut self, exit: Exit<'_>, inside: bool) -> Option<TokenStream> {
        match exit {
            // `return` leaves the resume function, its value checked and located as the body's
            // tail is: a value of the wrong type, or a borrow of a local, gets rustc's error
            // once, the never-run copy's.
            Exit::Return { value, span } => {
                let (first, last) = value.and_then(super::resume::value_span).unwrap_or((span, span));
                let value = value.map_or_else(|| quote!(()), ToTokens::to_token_stream);
                let mut args = proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, quote!({ #value }));
                args.set_span(last);
                Some(quote_spanned!(first=> return ::unasync::__private::returned #args))
            }
            Exit::Try { operand, span } => Some(try_operator(operand.to_token_stream(), span)),
            Exit::Break { label, value, span } if !inside => {
                let target = self.jump_target(label, true)?;
                target.broken.set(true);
                let to = target.break_to.as_ref()?;
                Some(break_with(to, value.map(ToTokens::to_token_stream), span))
            }
            Exit::Continue { label, span } if !inside => {
                let target = self.jump_target(label, false)?;
                target.continued.set(true);
                let to = target.continue_to.as_ref()?;
                Some(quote_spanned!(span=> break #to))
            }
            _ => None,
        }
    }

    fn opaque_macro(&mut self, mac: &mut syn::Macro, named: &[(LocalId, Span)], _at: &At) {
        for (local, _) in named {
            let written = &self.cx.body.locals[*local];
            if written.kind == LocalKind::SelfValue && !self.cx.layout.pinned(*local) {
                let renamed = &self.cx.names[*local];
                mac.tokens = rename_self(mac.tokens.clone(), renamed);
            } else if !self.cx.layout.pinned(*local) && self.cx.renamed[*local] {
                mac.tokens = rename_ident(mac.tokens.clone(), &written.name.to_string(), &self.cx.names[*local]);
            } else if self.cx.layout.pinned(*local) {
                let written = find_ident(&mac.tokens, &self.cx.body.locals[*local].name.to_string())
                    .unwrap_or_else(|| self.cx.body.locals[*local].name.clone());
                if self.cx.body.locals[*local].kind == LocalKind::SelfValue {
                    let shadow = Ident::new("__self_in_macro", Span::mixed_site());
                    mac.tokens = rename_self(mac.tokens.clone(), &shadow);
                    if !self.shadows.iter().any(|(_, l)| l == local) {
                        self.shadows.push((shadow, *local));
                    }
                } else {
                    if let Some(tokens) = deref_in_expressions(self.cx.body, mac, &written) {
                        mac.tokens = tokens;
                    }
                    if !self.shadows.iter().any(|(_, l)| l == local) {
                        self.shadows.push((written, *local));
                    }
                }
            }
        }
    }

    fn closure_prelude(&mut self, kind: Capturing) -> Option<Prelude> {
        let names_unpinned = std::mem::take(&mut self.names_unpinned);
        if self.captured.is_empty() {
            return None;
        }
        let inside = kind == Capturing::AsyncBlock;
        let (mut bindings, mut wrapped, mut unwrapped) = (TokenStream::new(), TokenStream::new(), TokenStream::new());
        for captured in self.captured.drain(..) {
            let (binding, slot) = (&captured.name, &self.cx.names[captured.local]);
            let access = match (captured.by_value, captured.mutable) {
                (true, _) if self.cx.body.locals[captured.local].trivially_dropped => quote!(*#slot.get()),
                (true, _) => quote!(#slot.take()),
                (false, true) => quote!(#slot.get_mut()),
                (false, false) => quote!(#slot.get()),
            };
            bindings.extend(quote!(let #binding = unsafe { #access };));
            if inside && !captured.by_value {
                wrapped.extend(quote!(let #binding = ::unasync::__private::Upvar(unsafe { #access });));
                unwrapped.extend(quote!(let #binding = #binding.into_inner();));
            } else {
                wrapped.extend(quote!(let #binding = unsafe { #access };));
            }
        }
        // Before edition 2021 a closure or block captures the whole variable, by reference where
        // it is not moved: a reference to the resume function's local, which it may outlive.
        // Moved into the block in a wrapper, the reference itself is captured (and stored twice
        // where it is live across an `.await` of the block, so only there); a closure naming
        // only such references is made `move` (it cannot move a wrapper out and be called again).
        let move_before_2021 = kind == Capturing::Closure && !names_unpinned;
        if unwrapped.is_empty() {
            if move_before_2021 {
                self.cx.picks_captures.set(true);
            }
            return Some(Prelude { before: bindings, first: TokenStream::new(), move_before_2021 });
        }
        self.cx.picks_captures.set(true);
        Some(Prelude {
            before: super::frame::by_captures(bindings, wrapped),
            first: super::frame::by_captures(TokenStream::new(), unwrapped),
            move_before_2021: false,
        })
    }
}

/// A `macro_rules!` of the body that takes only expressions (`check!(flag)`): the
/// reference the shadow binds is dereferenced where the tokens name it (`check!((*flag))`),
/// so the macro sees the local's place, as natively. (Other macros may take the name as an
/// identifier: they see the reference.)
fn deref_in_expressions(body: &Body, mac: &syn::Macro, name: &Ident) -> Option<TokenStream> {
    use syn::punctuated::Punctuated;
    use syn::visit_mut::VisitMut;
    struct Deref<'n> {
        body: &'n Body,
        name: &'n Ident,
    }
    impl VisitMut for Deref<'_> {
        fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
            if let syn::Expr::Path(path) = expr
                && path.qself.is_none()
                && path.path.is_ident(self.name)
            {
                let name = self.name;
                *expr = syn::parse_quote_spanned!(name.span()=> (*#name));
                return;
            }
            syn::visit_mut::visit_expr_mut(self, expr);
        }
        fn visit_field_value_mut(&mut self, field: &mut syn::FieldValue) {
            // `S { flag }`: the shorthand is written out, `S { flag: (*flag) }`.
            if field.colon_token.is_none() && matches!(&field.member, syn::Member::Named(member) if member == self.name) {
                field.colon_token = Some(syn::Token![:](self.name.span()));
            }
            syn::visit_mut::visit_field_value_mut(self, field);
        }
        // A nested invocation of such a macro too; other macros keep the reference.
        fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
            if let Some(tokens) = deref_in_expressions(self.body, mac, self.name) {
                mac.tokens = tokens;
            }
        }
    }
    let macro_name = mac.path.get_ident()?.to_string();
    if !body.expr_macros.contains(&macro_name) {
        return None;
    }
    let mut args = mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated).ok()?;
    args.iter_mut().for_each(|arg| Deref { body, name }.visit_expr_mut(arg));
    Some(args.to_token_stream())
}

/// `unsafe { x.method() }` on a pinned local's guard, with the expansion's spans: the user's
/// `unsafe_code` lint is for the user's own `unsafe` (the parentheses around it carry the user's
/// span, for rustc's messages).
fn guard_access(name: &Ident, method: &str) -> TokenStream {
    let method = Ident::new(method, Span::mixed_site());
    quote!(unsafe { #name.#method() })
}

/// `value?` in the resume function: the residual leaves the body's labeled block, converted
/// by rustc's own `?` in a closure returning the body's output type (`FromResidual`, which
/// stable code cannot name). That `?` carries the user's span: where the output does not
/// accept the residual, rustc's error at the never-run copy's `?` is for the same bound at the
/// same place, and rustc reports it once.
pub fn try_operator(value: TokenStream, span: Span) -> TokenStream {
    let body = body_label();
    quote_spanned! {span=>
        match ::unasync::__private::branch(#value) {
            ::core::ops::ControlFlow::Continue(value) => value,
            ::core::ops::ControlFlow::Break(residual) => {
                break #body ((move || match residual? {})())
            }
        }
    }
}

/// `break 'label value`, the value in parentheses: syn (so the inspector) reads
/// `break 'label ::path` as a labeled loop.
pub fn break_with(label: &impl ToTokens, value: Option<TokenStream>, span: Span) -> TokenStream {
    match value {
        Some(value) => quote_spanned!(span=> break #label (#value)),
        None => quote_spanned!(span=> break #label),
    }
}

/// `self` (not `self::path`) in macro tokens, renamed.
pub fn rename_self(tokens: TokenStream, to: &Ident) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = TokenStream::new();
    for (index, token) in tokens.iter().enumerate() {
        let path = matches!(tokens.get(index + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':');
        match token {
            TokenTree::Ident(ident) if ident == "self" && !path => {
                let renamed = Ident::new(&to.to_string(), ident.span().resolved_at(to.span()));
                out.extend(quote!(#renamed));
            }
            TokenTree::Group(group) => {
                let mut renamed = proc_macro2::Group::new(group.delimiter(), rename_self(group.stream(), to));
                renamed.set_span(group.span());
                out.extend(std::iter::once(TokenTree::Group(renamed)));
            }
            other => out.extend(std::iter::once(other.clone())),
        }
    }
    out
}

/// `name` (not as a path segment or field) in macro tokens, renamed.
fn rename_ident(tokens: TokenStream, name: &str, to: &Ident) -> TokenStream {
    let mut previous_dot = false;
    tokens
        .into_iter()
        .map(|token| {
            let renamed = match &token {
                TokenTree::Ident(ident) if ident == name && !previous_dot => {
                    TokenTree::Ident(Ident::new(&to.to_string(), ident.span().resolved_at(to.span())))
                }
                TokenTree::Group(group) => {
                    let mut renamed = proc_macro2::Group::new(group.delimiter(), rename_ident(group.stream(), name, to));
                    renamed.set_span(group.span());
                    TokenTree::Group(renamed)
                }
                other => other.clone(),
            };
            previous_dot = matches!(&token, TokenTree::Punct(p) if p.as_char() == '.');
            renamed
        })
        .collect()
}

fn find_ident(tokens: &TokenStream, name: &str) -> Option<Ident> {
    for token in tokens.clone() {
        match token {
            TokenTree::Ident(ident) if ident == name => return Some(ident),
            TokenTree::Group(group) => {
                if let Some(found) = find_ident(&group.stream(), name) {
                    return Some(found);
                }
            }
            _ => {}
        }
    }
    None
}
