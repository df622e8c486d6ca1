//! Body -> IR: blocks, statements and control flow, with every binding resolved to a [`Local`].
//!
//! Input (a parameter pattern, a `for` with an `.await` in its body):
//! ```text
//! async fn f((a, b): (A, B), log: Log) { for x in items(&log) { g(x).await; } }
//! ```
//! Output (as the IR would print):
//! ```text
//! { let (a, b) = __arg0;                    // parameters bound as rustc binds them
//!   { let mut __iter = IntoIterator::into_iter(items(&log));
//!     loop { match Iterator::next(&mut __iter) { Some(x) => { g(x).await; }, None => break } } } }
//! ```
//! Expressions that suspend are split by [`super::split`].

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::spanned::Spanned;
use syn::{Error, Pat};

use super::ir::*;
use super::walk::{self, At, Handler, Walk};
use crate::awaits::{block_awaits, expr_awaits};
use crate::input::AsyncFn;
use crate::signature::{ArgBinding, Signature};

pub struct Builder {
    pub(super) locals: Vec<Local>,
    pub(super) awaits: Vec<Await>,
    /// Body locals by name, innermost scope last.
    scopes: Vec<Vec<(String, LocalId)>>,
    /// Hidden locals hoisted in the current temporary scope, with their `let`s.
    pub(super) temporaries: Vec<Stmt>,
    /// The index in `scopes` of the current temporary scope, where hidden locals are declared.
    temporary_scope: usize,
    next_temporary: usize,
    /// The function's name, where `Box::pin(f(..)).await` is recursion (see `crate::recursion`).
    pub(super) recursive_name: Option<proc_macro2::Ident>,
    /// The recursive calls lowered through `Recursion`, as `(callee, argument count)`.
    pub(super) recursive_calls: Vec<(syn::Expr, usize)>,
    expr_macros: Vec<String>,
    /// See [`Body::hoisted`].
    pub(super) hoisted: Vec<proc_macro2::TokenStream>,
    /// The `format!` being lowered was put in its own `let` already (see `split_macro`).
    pub(super) format_scoped: bool,
    /// The expression being lowered is evaluated before a later `.await` of its statement (an
    /// operand, an awaitee): the temporaries of its code after its own `.await` must outlive
    /// that later one (see `Builder::split`).
    pub(super) held_across: bool,
}

pub fn build(function: &AsyncFn, signature: &Signature) -> syn::Result<Body> {
    crate::recursion::check(function)?;
    let mut builder = Builder {
        locals: Vec::new(),
        awaits: Vec::new(),
        scopes: vec![Vec::new()],
        temporaries: Vec::new(),
        temporary_scope: 0,
        next_temporary: 0,
        recursive_name: crate::recursion::recursive_name(function).cloned(),
        recursive_calls: Vec::new(),
        expr_macros: Vec::new(),
        hoisted: Vec::new(),
        format_scoped: false,
        held_across: false,
    };
    let mut params = Vec::new();
    let mut stmts = Vec::new();
    let mut root_locals = Vec::new();
    for (index, arg) in signature.args.iter().enumerate() {
        let ty = signature.arg_types.get(index).and_then(Option::as_ref);
        let (trivially_dropped, mutable_reference) = ty.map_or((false, false), type_facts);
        let owning = ty.is_some_and(owning_type);
        let (id, pattern) = match &arg.binding {
            ArgBinding::SelfValue => {
                (builder.declare("self", format_ident!("self_", span = Span::mixed_site()), LocalKind::SelfValue, true), None)
            }
            ArgBinding::Ident { ident, mutable } => (builder.declare(&ident.to_string(), ident.clone(), LocalKind::User, mutable.is_some()), None),
            // As rustc: the parameter is a hidden local, and `let <pattern> = __argN;` follows.
            ArgBinding::Pattern(pattern) => {
                let hidden = format_ident!("__arg{}", index, span = Span::mixed_site());
                (builder.declare(&hidden.to_string(), hidden, LocalKind::Parameter, false), Some(pattern))
            }
        };
        builder.locals[id].trivially_dropped = trivially_dropped;
        builder.locals[id].mutable_reference = mutable_reference;
        builder.locals[id].owning = owning;
        if ty.is_some_and(walk::is_oneshot_sender) {
            builder.locals[id].receiver = ReceiverHint::OneshotSender;
        }
        params.push(id);
        root_locals.push(id);
        stmts.push(Stmt::Param(id));
        if let Some(pattern) = pattern {
            for stmt in builder.parameter_pattern(id, pattern)? {
                if let Stmt::Let(binding) = &stmt {
                    root_locals.extend(binding.bindings.iter().copied());
                }
                stmts.push(stmt);
            }
        }
    }
    let user = builder.block(&function.block, BlockKind::User)?;
    // As rustc's lowering (`{ let <param> = <param>; ..; drop-temps { <body> } }`): the
    // parameters are declared in a block of the expansion around the user's block, whose tail's
    // temporaries end with it (after its locals in edition 2021), before the parameters.
    stmts.push(Stmt::Expr { expr: Expr::Block(user), semi: false });
    let body = Block { stmts, span: Span::call_site(), locals: root_locals, kind: BlockKind::Parameters };
    Ok(Body {
        locals: builder.locals,
        awaits: builder.awaits,
        params,
        block: body,
        recursive_calls: builder.recursive_calls,
        expr_macros: builder.expr_macros,
        hoisted: builder.hoisted,
    })
}

/// What a parameter's written type tells: no drop glue and nothing borrowed from a local
/// (references, raw pointers, primitives), and whether it is `&mut T`.
fn type_facts(ty: &syn::Type) -> (bool, bool) {
    match ty {
        syn::Type::Reference(reference) => (true, reference.mutability.is_some()),
        syn::Type::Ptr(_) => (true, false),
        syn::Type::Path(path) if path.qself.is_none() && path.path.segments.len() == 1 => {
            let name = path.path.segments[0].ident.to_string();
            let primitive = matches!(
                name.as_str(),
                "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" | "i128" | "isize"
                    | "f32" | "f64" | "bool" | "char"
            );
            (primitive, false)
        }
        syn::Type::Paren(paren) => type_facts(&paren.elem),
        _ => (false, false),
    }
}

impl Builder {
    /// A `macro_rules!` of the body names the locals its rules mention: an invocation uses them
    /// (for liveness), found in scope as `name!0`, `name!1`, ..
    fn macro_rules_names(&mut self, item: &syn::Item) {
        let syn::Item::Macro(definition) = item else { return };
        let (Some(name), true) = (&definition.ident, definition.mac.path.is_ident("macro_rules")) else { return };
        if walk::only_expr_fragments(definition.mac.tokens.clone()) {
            self.expr_macros.push(name.to_string());
        } else {
            self.expr_macros.retain(|known| name != known);
        }
        let mut named = Vec::new();
        walk::named_in_tokens(definition.mac.tokens.clone(), &|local| self.resolve(local), &mut named);
        let mut locals: Vec<LocalId> = named.into_iter().map(|(local, _)| local).collect();
        locals.sort_unstable();
        locals.dedup();
        for (index, local) in locals.into_iter().enumerate() {
            self.scopes.last_mut().expect("scope").push((format!("{name}!{index}"), local));
        }
    }
}

/// A type that owns heap data, so is not `Copy`: the standard library's owning containers,
/// smart pointers and strings, and `impl Trait`.
fn owning_type(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(path) => path.path.segments.last().is_some_and(|last| {
            matches!(
                last.ident.to_string().as_str(),
                "Vec" | "String" | "Box" | "Rc" | "Arc" | "HashMap" | "HashSet" | "BTreeMap" | "BTreeSet" | "VecDeque"
                    | "BinaryHeap" | "PathBuf" | "OsString" | "CString"
            )
        }),
        syn::Type::ImplTrait(_) => true,
        syn::Type::Paren(paren) => owning_type(&paren.elem),
        _ => false,
    }
}

impl Builder {
    // Input:
    //     async fn f(.., (a, b): (A, B), Pair { left, right: _ }: Pair)
    // Output:
    //     let (a, b) = __arg1;
    //     let Pair { left: __bind_left, right: __rest0 } = __arg2; let left = __bind_left;
    // rustc leaves what `_` matches in the argument, dropped with it at the end of the body,
    // after the bindings: here it moves to hidden locals declared before them (so dropped after
    // them), and the argument is moved whole, so it is not kept. `..` cannot be named, so it is
    // refused.
    fn parameter_pattern(&mut self, param: LocalId, pattern: &Pat) -> syn::Result<Vec<Stmt>> {
        let mut renamed = pattern.clone();
        let mut rests = 0;
        name_wildcards(&mut renamed, &mut rests)?;
        let hidden = self.locals[param].name.clone();
        let mut init: syn::Expr = syn::parse_quote!(#hidden);
        if rests == 0 {
            let role = walk::pattern_role(pattern);
            let events = self.collect_events(&mut init, &[], role);
            let bindings = self.bind_pattern(pattern);
            return Ok(vec![self.let_from(pattern.clone(), bindings, init, events, role)]);
        }
        // First into hidden names, then each binding: the rests are declared first.
        let mut bound = Vec::new();
        rename_pattern_bindings(&mut renamed, &mut bound);
        let role = walk::pattern_role(&renamed);
        let events = self.collect_events(&mut init, &[], role);
        let hidden_bindings = self.bind_pattern(&renamed);
        for &binding in &hidden_bindings {
            self.locals[binding].kind = LocalKind::Parameter;
        }
        let mut stmts = vec![self.let_from(renamed, hidden_bindings, init, events, Role::Value)];
        for (user, hidden, mutable) in bound {
            let mut init: syn::Expr = syn::parse_quote!(#hidden);
            let events = self.collect_events(&mut init, &[], Role::Value);
            let pat: Pat = if mutable { syn::parse_quote!(mut #user) } else { syn::parse_quote!(#user) };
            let bindings = self.bind_pattern(&pat);
            stmts.push(self.let_from(pat, bindings, init, events, Role::Value));
        }
        Ok(stmts)
    }

    fn let_from(&self, pat: Pat, bindings: Vec<LocalId>, init: syn::Expr, events: Vec<Event>, role: Role) -> Stmt {
        let mut plain = Plain { expr: init, events, role };
        for use_ in plain.uses_mut() {
            use_.flows_into = bindings.clone();
        }
        Stmt::Let(Let { attrs: Vec::new(), pat, ty: None, bindings, init: Some(Expr::Plain(plain)), diverge: None })
    }

    pub(super) fn push_local(&mut self, name: proc_macro2::Ident, kind: LocalKind, mutable: bool) -> LocalId {
        self.locals.push(Local { name, kind, mutable, by_ref: false, trivially_dropped: false, mutable_reference: false, owning: false, declared: None, pinned_by_user: false, deferred: false, receiver: ReceiverHint::None });
        self.locals.len() - 1
    }

    fn declare(&mut self, resolved_as: &str, name: proc_macro2::Ident, kind: LocalKind, mutable: bool) -> LocalId {
        let id = self.push_local(name, kind, mutable);
        self.scopes.last_mut().expect("scope").push((resolved_as.to_string(), id));
        id
    }

    /// A hidden local for a temporary: `__temp3`.
    pub(super) fn temporary(&mut self, kind: LocalKind) -> LocalId {
        let name = match kind {
            LocalKind::Iterator => format_ident!("__iter{}", self.next_temporary, span = Span::mixed_site()),
            _ => format_ident!("__temp{}", self.next_temporary, span = Span::mixed_site()),
        };
        self.next_temporary += 1;
        // A temporary is a mutable place (`v().await.push(1)` borrows it mutably).
        self.push_local(name, kind, true)
    }

    /// Declares the bindings of a pattern in the current scope, in order.
    pub(super) fn bind_pattern(&mut self, pattern: &Pat) -> Vec<LocalId> {
        let mut ids = Vec::new();
        collect_binding_idents(pattern, &mut |ident, mutable, by_ref| {
            let id = self.declare(&ident.to_string(), ident.clone(), LocalKind::User, mutable);
            self.locals[id].by_ref = by_ref;
            // `ref x` is a reference: nothing to drop at the end of its scope (and `ref mut x` is
            // a `&mut`, borrowing through it reborrows `*x`).
            self.locals[id].trivially_dropped = by_ref;
            self.locals[id].mutable_reference = by_ref && mutable;
            ids.push(id);
        });
        ids
    }

    /// Declares a hidden local in the current temporary scope (the statement's).
    pub(super) fn register_temporary(&mut self, id: LocalId) {
        let name = self.locals[id].name.to_string();
        self.scopes[self.temporary_scope].push((name, id));
    }

    pub(super) fn resolve(&self, name: &str) -> Option<LocalId> {
        self.scopes.iter().rev().flat_map(|scope| scope.iter().rev()).find(|(n, _)| n == name).map(|(_, id)| *id)
    }

    /// What plain code does with the body's locals, with where borrows of them may flow.
    pub(super) fn plain(&self, mut expr: syn::Expr, flows_into: &[LocalId]) -> Plain {
        let events = self.collect_events(&mut expr, flows_into, Role::Value);
        Plain { expr, events, role: Role::Value }
    }

    /// A `match` scrutinee: a place no arm moves out of is matched where it is (the arms'
    /// patterns borrow it); otherwise it is moved into the match.
    fn scrutinee(&self, mut expr: syn::Expr, arms: &[syn::Arm]) -> Plain {
        let moves = arms.iter().any(|arm| match &arm.pat {
            Pat::Guard(guarded) => walk::moves_out(&guarded.pat),
            other => walk::moves_out(other),
        });
        let role = if walk::is_place_expr(&expr) && !moves { Role::Place } else { Role::Value };
        let events = self.collect_events(&mut expr, &[], role);
        Plain { expr, events, role }
    }

    /// The place of an assignment: written whole by `=`, read and written by `+=` and the like.
    fn assigned_place(&self, mut expr: syn::Expr, whole: bool) -> Plain {
        let role = if whole { Role::Assigned } else { Role::Place };
        let events = self.collect_events(&mut expr, &[], role);
        Plain { expr, events, role }
    }

    pub(super) fn collect_events(&self, expr: &mut syn::Expr, flows_into: &[LocalId], role: Role) -> Vec<Event> {
        let resolve = |name: &str| self.resolve(name);
        let hints: Vec<ReceiverHint> = self.locals.iter().map(|local| local.receiver).collect();
        let mut walk = Walk::new(&resolve, &hints, Collect::default(), At::default());
        walk.walk(expr, role);
        let mut plain = Plain { expr: syn::Expr::Verbatim(TokenStream::new()), events: walk.into_handler().finish(), role: Role::Value };
        connect_flows(&mut plain, flows_into, self);
        plain.events
    }

    fn push_scope(&mut self) {
        self.scopes.push(Vec::new());
    }

    fn pop_scope(&mut self) -> Vec<LocalId> {
        self.scopes.pop().expect("scope").into_iter().map(|(_, id)| id).collect()
    }

    // ---- blocks and statements ----------------------------------------------------------------

    pub(super) fn block(&mut self, block: &syn::Block, kind: BlockKind) -> syn::Result<Block> {
        self.push_scope();
        let mut stmts = Vec::new();
        let count = block.stmts.len();
        for (index, stmt) in block.stmts.iter().enumerate() {
            let last = index + 1 == count;
            match stmt {
                syn::Stmt::Local(local) => {
                    let later_awaits = block.stmts[index + 1..].iter().any(crate::awaits::stmt_awaits);
                    let local = self.extend_temporary(local, later_awaits, &mut stmts)?;
                    stmts.push(self.let_stmt(&local)?);
                }
                syn::Stmt::Item(item) => {
                    self.macro_rules_names(item);
                    stmts.push(Stmt::Item(item.to_token_stream()));
                }
                syn::Stmt::Expr(expr, semi) => {
                    let tail = last && semi.is_none();
                    let expr = self.statement_expr(expr, !tail)?;
                    stmts.push(Stmt::Expr { expr, semi: !tail });
                }
                syn::Stmt::Macro(mac) if pin_macro(&mac.mac) => {
                    let later_awaits = block.stmts[index + 1..].iter().any(crate::awaits::stmt_awaits);
                    for local in pin_lets(mac)? {
                        let local = self.extend_temporary(&local, later_awaits, &mut stmts)?;
                        stmts.push(self.let_stmt(&local)?);
                    }
                }
                syn::Stmt::Macro(mac) => {
                    let expr = syn::Expr::Macro(syn::ExprMacro { attrs: mac.attrs.clone(), mac: mac.mac.clone() });
                    let tail = last && mac.semi_token.is_none();
                    let expr = self.statement_expr(&expr, !tail)?;
                    stmts.push(Stmt::Expr { expr, semi: !tail });
                }
            }
        }
        let locals = self.pop_scope();
        Ok(Block { stmts, span: block.brace_token.span.join(), locals, kind })
    }

    /// An expression statement, or a block's tail: its own temporary scope.
    fn statement_expr(&mut self, expr: &syn::Expr, statement: bool) -> syn::Result<Expr> {
        if !expr_awaits(expr) {
            return Ok(Expr::Plain(self.plain(expr.clone(), &[])));
        }
        check_attributes(expression_attributes(expr))?;
        if statement {
            self.temporary_scope(expr.span(), false, |this| this.expr(expr))
        } else {
            let tail = self.temporary_scope(expr.span(), true, |this| this.expr(expr))?;
            Ok(match tail {
                // The tail's own: no `__value`, the emission merges it into the block.
                Expr::Block(mut block) if block.kind == BlockKind::Temporaries => {
                    if let Some(Stmt::Expr { expr: Expr::Plain(read), .. }) = block.stmts.last()
                        && let [use_] = read.uses().as_slice()
                        && self.locals[use_.local].name == "__value"
                    {
                        let value_local = use_.local;
                        block.stmts.pop();
                        if let Some(Stmt::Let(value)) = block.stmts.pop() {
                            block.stmts.push(Stmt::Expr { expr: value.init.expect("value"), semi: false });
                        }
                        block.locals.retain(|&l| l != value_local);
                    }
                    block.kind = BlockKind::TailTemporaries;
                    Expr::Block(block)
                }
                other => other,
            })
        }
    }

    // Input:
    //     <an expression that hoisted temporaries>
    // Output:
    //     { let __temp0 = ..; <expression>; }                       (a statement)
    //     { let __temp0 = ..; let __value = <expression>; __value } (a value)
    // The expression's own temporaries end with its own statement, before the hoisted ones
    // (created earlier), in every edition; a value is moved out of the block.
    pub(super) fn temporary_scope(&mut self, span: Span, value: bool, f: impl FnOnce(&mut Self) -> syn::Result<Expr>) -> syn::Result<Expr> {
        let outer = std::mem::take(&mut self.temporaries);
        self.push_scope();
        let outer_scope = std::mem::replace(&mut self.temporary_scope, self.scopes.len() - 1);
        let held_across = std::mem::replace(&mut self.held_across, false);
        let result = f(self);
        self.held_across = held_across;
        self.temporary_scope = outer_scope;
        let mut stmts = std::mem::replace(&mut self.temporaries, outer);
        let expr = match result {
            Ok(expr) => expr,
            Err(error) => {
                self.pop_scope();
                return Err(error);
            }
        };
        if stmts.is_empty() {
            self.pop_scope();
            return Ok(expr);
        }
        if !value {
            stmts.push(Stmt::Expr { expr, semi: true });
        } else if is_borrow(&expr) {
            // `&value` as the block's value would not outlive a binding inside it.
            stmts.push(Stmt::Expr { expr, semi: false });
        } else {
            let id = self.temporary(LocalKind::Temporary);
            let name = proc_macro2::Ident::new("__value", Span::mixed_site());
            self.locals[id].name = name.clone();
            self.scopes.last_mut().expect("scope").push((name.to_string(), id));
            stmts.push(Stmt::Let(Let { attrs: Vec::new(), pat: syn::parse_quote!(#name), ty: None, bindings: vec![id], init: Some(expr), diverge: None }));
            let read = Plain { expr: syn::Expr::Verbatim(quote!(#name)), events: vec![Event::Use(moved(id, Vec::new()))], role: Role::Value };
            stmts.push(Stmt::Expr { expr: Expr::Plain(read), semi: false });
        }
        let locals = self.pop_scope();
        Ok(Expr::Block(Block { stmts, span, locals, kind: BlockKind::Temporaries }))
    }

    // Input:
    //     let r = &make();  ...  x.await;        let p = pin!(make());
    // Output:
    //     let __ext0 = make(); let r = &__ext0;  let mut __ext0 = make(); let p = unsafe { Pin::new_unchecked(&mut __ext0) };
    // rustc extends the temporary of `&value` in a `let` to the end of the block; when an
    // `.await` follows, it is a hidden local declared just before, so it can be kept across.
    // The value of `pin!` is pinned: it never moves.
    fn extend_temporary(&mut self, local: &syn::Local, later_awaits: bool, stmts: &mut Vec<Stmt>) -> syn::Result<syn::Local> {
        let Some(init) = &local.init else { return Ok(local.clone()) };
        if init.diverge.is_some() || !(later_awaits || expr_awaits(&init.expr)) {
            return Ok(local.clone());
        }
        let (value, mutable, pin) = match strip_parens(&init.expr) {
            syn::Expr::Reference(reference) if !walk::is_place_expr(&reference.expr) => {
                ((*reference.expr).clone(), reference.mutability.is_some(), false)
            }
            syn::Expr::Macro(mac) if mac.mac.path.segments.last().is_some_and(|s| s.ident == "pin") => {
                (mac.mac.parse_body::<syn::Expr>()?, true, true)
            }
            _ => return Ok(local.clone()),
        };
        let id = self.temporary(LocalKind::Temporary);
        let name = format_ident!("__ext{}", id, span = Span::mixed_site());
        self.locals[id].name = name.clone();
        self.locals[id].mutable = mutable;
        self.locals[id].pinned_by_user = pin;
        let init_expr = if expr_awaits(&value) {
            self.temporary_scope(value.span(), true, |this| this.expr(&value))?
        } else {
            Expr::Plain(self.plain(value, &[id]))
        };
        self.scopes.last_mut().expect("scope").push((name.to_string(), id));
        let pat: Pat = if mutable { syn::parse_quote!(mut #name) } else { syn::parse_quote!(#name) };
        stmts.push(Stmt::Let(Let { attrs: Vec::new(), pat, ty: None, bindings: vec![id], init: Some(init_expr), diverge: None }));
        let borrow: syn::Expr = match (pin, mutable) {
            // SAFETY (in the expansion): the value is a hidden local the user's code cannot
            // name, so nothing moves it; it is pinned in the frame where it lives across an
            // `.await`.
            (true, _) => syn::parse_quote_spanned!(Span::call_site()=> unsafe { ::core::pin::Pin::new_unchecked(&mut #name) }),
            (false, true) => syn::parse_quote!(&mut #name),
            (false, false) => syn::parse_quote!(&#name),
        };
        let mut extended = local.clone();
        *extended.init.as_mut().expect("init").expr = borrow;
        Ok(extended)
    }

    // Input:
    //     let x = f(a(), g().await);           let r = &make(h().await);
    // Output:
    //     let x = { let __temp0 = a(); f(__temp0, g().await) };
    //     let __temp1 = make(h().await); let r = &__temp1;
    // A temporary the `let` extends to the end of the block is a hidden local declared just
    // before the binding, as rustc's scope for it is.
    fn let_stmt(&mut self, local: &syn::Local) -> syn::Result<Stmt> {
        let (pat, ty) = match &local.pat {
            Pat::Type(typed) => ((*typed.pat).clone(), Some((*typed.ty).clone())),
            other => (other.clone(), None),
        };
        if let Pat::Ident(ident) = &pat
            && local.init.as_ref().is_none_or(|init| init.diverge.is_none())
            && ident.subpat.is_none()
            && ident.by_ref.is_none()
            && ident.mutability.is_none()
            && !walk::is_binding_name(&ident.ident)
        {
            // Irrefutable, so a binding, unless it names a unit struct: which one the tokens do
            // not say, and every other pattern takes a capitalised name for a path.
            return Err(Error::new_spanned(
                &ident.ident,
                format!(
                    "unasync reads a capitalised name in a pattern as a constant, a unit struct or a variant, never as a new local; name the local in snake_case (or write `let _ = ..` if `{}` is a unit struct)",
                    ident.ident
                ),
            ));
        }
        let init_awaits = local.init.as_ref().is_some_and(|init| expr_awaits(&init.expr));
        let diverge_awaits = local.init.as_ref().and_then(|i| i.diverge.as_ref()).is_some_and(|(_, d)| expr_awaits(d));
        if init_awaits || diverge_awaits {
            check_attributes(&local.attrs)?;
        }
        let init = match &local.init {
            None => None,
            Some(init) if !expr_awaits(&init.expr) => {
                // Its events are collected once the bindings exist (below), to flow into them.
                Some(Expr::Plain(Plain { expr: (*init.expr).clone(), events: Vec::new(), role: Role::Value }))
            }
            Some(init) => Some(self.temporary_scope(init.expr.span(), true, |this| this.expr(&init.expr))?),
        };
        let diverge = match local.init.as_ref().and_then(|i| i.diverge.as_ref()) {
            None => None,
            Some((_, otherwise)) if !expr_awaits(otherwise) => Some(Box::new(Expr::Plain(self.plain((**otherwise).clone(), &[])))),
            Some((_, otherwise)) => Some(Box::new(self.temporary_scope(otherwise.span(), true, |this| this.expr(otherwise))?)),
        };
        let bindings = self.bind_pattern(&pat);
        if let ([binding], Some(ty), Pat::Ident(_)) = (bindings.as_slice(), &ty, &pat) {
            let (trivially_dropped, mutable_reference) = type_facts(ty);
            let local = &mut self.locals[*binding];
            local.declared = Some(ty.clone());
            local.trivially_dropped |= trivially_dropped;
            local.mutable_reference |= mutable_reference;
            local.owning = owning_type(ty);
            if walk::is_oneshot_sender(ty) {
                local.receiver = ReceiverHint::OneshotSender;
            }
        }
        // `let (tx, rx) = oneshot::channel();`, `let g = m.lock().await;`
        if let (Some(&first), Some(init)) = (bindings.first(), &local.init) {
            if walk::is_oneshot_channel(&pat, &init.expr) {
                self.locals[first].receiver = ReceiverHint::OneshotSender;
            } else if matches!(&pat, Pat::Ident(_)) && walk::makes_guard(&init.expr) {
                self.locals[first].receiver = ReceiverHint::Guard;
            }
        }
        // `let m = &mut x;`: a `&mut` without a written type, passed on by value (reborrowed) and
        // used again as one.
        if let ([binding], None, Pat::Ident(ident), Some(syn::Expr::Reference(reference))) =
            (bindings.as_slice(), &ty, &pat, local.init.as_ref().map(|init| strip_parens(&init.expr)))
            && reference.mutability.is_some()
            && ident.by_ref.is_none()
        {
            let local = &mut self.locals[*binding];
            local.trivially_dropped = true;
            local.mutable_reference = true;
        }
        if init.is_none() {
            for &binding in &bindings {
                self.locals[binding].deferred = true;
            }
        }
        let role = if local.init.as_ref().is_some_and(|init| walk::is_place_expr(&init.expr)) { walk::pattern_role(&pat) } else { Role::Value };
        let init = init.map(|init| match init {
            Expr::Plain(plain) => {
                let mut expr = plain.expr;
                let events = self.collect_events_before(&mut expr, &bindings, role);
                Expr::Plain(Plain { expr, events, role })
            }
            other => other,
        });
        Ok(Stmt::Let(Let { attrs: local.attrs.clone(), pat, ty, bindings, init, diverge }))
    }

    /// Events of a `let` initialiser, resolved before its own bindings come into scope.
    fn collect_events_before(&mut self, expr: &mut syn::Expr, bindings: &[LocalId], role: Role) -> Vec<Event> {
        let scope = self.scopes.last_mut().expect("scope");
        let hidden: Vec<(String, LocalId)> = scope.iter().filter(|(_, id)| bindings.contains(id)).cloned().collect();
        scope.retain(|(_, id)| !bindings.contains(id));
        let events = self.collect_events(expr, bindings, role);
        self.scopes.last_mut().expect("scope").extend(hidden);
        events
    }

    // ---- expressions that suspend -------------------------------------------------------------

    /// An expression (which may or may not suspend) in the current temporary scope.
    pub(super) fn expr(&mut self, expr: &syn::Expr) -> syn::Result<Expr> {
        if !expr_awaits(expr) {
            return Ok(Expr::Plain(self.plain(expr.clone(), &[])));
        }
        match expr {
            syn::Expr::Paren(paren) => self.expr(&paren.expr),
            syn::Expr::Group(group) => self.expr(&group.expr),
            syn::Expr::Await(awaited) => self.await_expr(awaited),
            syn::Expr::Block(block) if block.attrs.is_empty() => {
                let inner = self.block(&block.block, BlockKind::User)?;
                Ok(match &block.label {
                    Some(label) => Expr::Labeled { label: label.clone(), block: inner },
                    None => Expr::Block(inner),
                })
            }
            syn::Expr::Unsafe(block) => Ok(Expr::Block(self.block(&block.block, BlockKind::Unsafe)?)),
            syn::Expr::If(conditional) => self.if_expr(conditional),
            syn::Expr::Match(matching) => self.match_expr(matching),
            syn::Expr::Loop(looping) => {
                let body = self.block(&looping.body, BlockKind::User);
                Ok(Expr::Loop { label: looping.label.clone(), body: body? })
            }
            syn::Expr::While(looping) => self.while_expr(looping),
            syn::Expr::ForLoop(looping) => self.for_expr(looping),
            syn::Expr::Return(ret) => {
                let value = ret.expr.as_ref().map(|value| self.expr(value)).transpose()?.map(Box::new);
                Ok(Expr::Return { value, span: ret.return_token.span })
            }
            syn::Expr::Break(jump) => {
                let value = jump.expr.as_ref().map(|value| self.expr(value)).transpose()?.map(Box::new);
                Ok(Expr::Break { label: jump.label.clone(), value, span: jump.break_token.span })
            }
            syn::Expr::Try(question) => {
                let operand = Box::new(self.expr(&question.expr)?);
                Ok(Expr::Try { operand, span: question.question_token.span })
            }
            syn::Expr::Assign(assign) => {
                if expr_awaits(&assign.left) {
                    return Err(Error::new_spanned(&assign.left, "unasync does not lower `.await` on the left of an assignment yet; compute the place first"));
                }
                let value = Box::new(self.expr(&assign.right)?);
                let place = self.assigned_place((*assign.left).clone(), true);
                Ok(Expr::Assign { place, op: quote!(=), value })
            }
            syn::Expr::Binary(binary) if walk::is_compound_assignment(&binary.op) => {
                if expr_awaits(&binary.left) {
                    return Err(Error::new_spanned(&binary.left, "unasync does not lower `.await` on the left of a compound assignment yet; compute the place first"));
                }
                let value = Box::new(self.expr(&binary.right)?);
                let place = self.assigned_place((*binary.left).clone(), false);
                let op = binary.op.to_token_stream();
                Ok(Expr::Assign { place, op, value })
            }
            syn::Expr::Binary(binary)
                if matches!(binary.op, syn::BinOp::And(_) | syn::BinOp::Or(_)) && expr_awaits(&binary.right) =>
            {
                // Both operands of `&&`/`||` are temporary scopes of their own.
                let left = Box::new(self.temporary_scope(binary.left.span(), true, |this| this.expr(&binary.left))?);
                let right = Box::new(self.temporary_scope(binary.right.span(), true, |this| this.expr(&binary.right))?);
                Ok(Expr::Lazy { left, and: matches!(binary.op, syn::BinOp::And(_)), right })
            }
            syn::Expr::Let(binding) => Err(Error::new(
                binding.let_token.span,
                "unasync lowers `let` with an `.await` only as a condition of `if` or `while`",
            )),
            _ => self.split(expr),
        }
    }

    // Input:
    //     base.await
    // Output:
    //     Await { base, id: K }    (K in source order)
    fn await_expr(&mut self, awaited: &syn::ExprAwait) -> syn::Result<Expr> {
        let recursion = self
            .recursive_name
            .as_ref()
            .and_then(|name| crate::recursion::boxed_self_call(&awaited.base, name));
        let base = match recursion {
            // `Box::pin(f(..))` in `f`: boxed behind an erased type (see `crate::recursion`).
            Some(call) => {
                self.recursive_calls.push(((*call.func).clone(), call.args.len()));
                let erased: syn::Expr = syn::parse_quote_spanned! {awaited.base.span()=>
                    ::unasync::__private::Recursion::new(#call)
                };
                self.expr(&erased)?
            }
            // What the awaitee borrows from a temporary of the statement (`f(&make()).await`)
            // must outlive its suspension: the temporary is a hidden local.
            // The temporaries of the awaited expression live to the end of the statement, across
            // its suspension (the awaitee may borrow them): hidden locals of the statement.
            None if !expr_awaits(&awaited.base) => {
                let (mut base, _) = self.hoist_temporaries_in(&awaited.base)?;
                let events = self.collect_events(&mut base, &[], Role::Awaited);
                Expr::Plain(Plain { expr: base, events, role: Role::Awaited })
            }
            None => self.held_across(|this| this.expr(&awaited.base))?,
        };
        let id = self.awaits.len();
        self.awaits.push(Await { span: awaited.await_token.span });
        Ok(Expr::Await { base: Box::new(base), id })
    }

    // Input:
    //     if cond { a } else { b }          if let P = scrutinee { a } else { b }
    // Output: the same, with `cond` a temporary scope of its own (rustc drops its temporaries
    // before the branch runs); an `if let` scrutinee keeps its temporaries to the end.
    fn if_expr(&mut self, conditional: &syn::ExprIf) -> syn::Result<Expr> {
        if !conditional.attrs.is_empty() {
            check_attributes(&conditional.attrs)?;
        }
        let mut parts = Vec::new();
        flatten_conjunction(&conditional.cond, &mut parts);
        if contains_let(&conditional.cond) && parts.iter().skip(1).any(|part| expr_awaits(part)) {
            return self.expr(&desugar_let_chain(conditional, &parts));
        }
        self.push_scope();
        let (cond, then_bindings) = match strip_parens(&conditional.cond) {
            cond if contains_let(cond) => self.let_condition(cond, block_awaits(&conditional.then_branch))?,
            cond => (self.temporary_scope(cond.span(), true, |this| this.expr(cond))?, Vec::new()),
        };
        let then = self.block(&conditional.then_branch, BlockKind::User)?;
        self.pop_scope();
        let otherwise = match &conditional.else_branch {
            Some((_, other)) => Some(Box::new(self.expr(other)?)),
            None => None,
        };
        let consumes = self.consumed_by_lets(&conditional.cond);
        Ok(Expr::If { cond: Box::new(cond), bindings: then_bindings, consumes, then, otherwise })
    }

    /// The locals that the `let`s of a condition move out whole when they match.
    fn consumed_by_lets(&self, cond: &syn::Expr) -> Vec<LocalId> {
        let mut parts = Vec::new();
        flatten_conjunction(cond, &mut parts);
        parts
            .iter()
            .filter_map(|part| match strip_parens(part) {
                syn::Expr::Let(binding) if walk::binds_by_value(&binding.pat) => {
                    walk::local_name(strip_parens(&binding.expr)).and_then(|name| self.resolve(&name))
                }
                _ => None,
            })
            .collect()
    }

    /// `let P = e && c && let Q = f`: the condition of an `if` with `let`s, as a template; its
    /// bindings are in scope in the `then` block. Only the first scrutinee may suspend.
    fn let_condition(&mut self, cond: &syn::Expr, branch_awaits: bool) -> syn::Result<(Expr, Vec<LocalId>)> {
        let mut parts = Vec::new();
        flatten_conjunction(cond, &mut parts);
        if let Some(later) = parts.iter().skip(1).find(|part| expr_awaits(part)) {
            return Err(Error::new_spanned(
                later,
                "unasync lowers `.await` in a `let` chain only in its first condition; bind it with `let` before the `if`",
            ));
        }
        let mut bindings = Vec::new();
        let mut code: Option<syn::Expr> = None;
        let mut hole = None;
        for (index, part) in parts.iter().enumerate() {
            let part = match strip_parens(part) {
                syn::Expr::Let(binding) => {
                    let scrutinee = if index == 0 && expr_awaits(&binding.expr) {
                        hole = Some(self.expr(&binding.expr)?);
                        syn::Expr::Verbatim(hole_marker())
                    } else if index == 0 && branch_awaits && !walk::is_place_expr(&binding.expr) && !walk::binds_by_value(&binding.pat) {
                        // The scrutinee's temporaries live across the branch's `.await`s.
                        let (value, _) = self.hoist_value(&binding.expr)?;
                        value
                    } else {
                        (*binding.expr).clone()
                    };
                    let ids = self.bind_pattern(&binding.pat);
                    bindings.extend(ids.iter().copied());
                    syn::Expr::Let(syn::ExprLet { expr: Box::new(scrutinee), ..binding.clone() })
                }
                other => other.clone(),
            };
            code = Some(match code {
                None => part,
                Some(left) => syn::Expr::Binary(syn::ExprBinary {
                    attrs: Vec::new(),
                    left: Box::new(left),
                    op: syn::BinOp::And(Default::default()),
                    right: Box::new(part),
                }),
            });
        }
        let expr = code.expect("a condition");
        // The pattern bindings use what their scrutinee names.
        let mut plain = Plain { expr, events: Vec::new(), role: Role::Value };
        plain.events = self.let_chain_events(&parts, &bindings);
        Ok(match hole {
            Some(hole) => (Expr::Template { code: plain, hole: Box::new(hole) }, bindings),
            None => (Expr::Plain(plain), bindings),
        })
    }

    /// The events of a `let` chain: its scrutinees flow into its bindings. (A later condition
    /// naming an earlier binding is resolved as the body's local of that name, if any.)
    fn let_chain_events(&mut self, parts: &[&syn::Expr], bindings: &[LocalId]) -> Vec<Event> {
        let mut events = Vec::new();
        for part in parts {
            if let syn::Expr::Let(binding) = strip_parens(part)
                && expr_awaits(&binding.expr)
            {
                continue;
            }
            let mut part = (*part).clone();
            events.extend(self.collect_events_before(&mut part, bindings, Role::Value));
        }
        events
    }

    // Input:
    //     match scrutinee { P if guard => a.await, Q => b }
    // Output: the same; a scrutinee that is a value and is borrowed by an arm that suspends is
    // a hidden local of the statement, so it can be kept across the `.await`.
    fn match_expr(&mut self, matching: &syn::ExprMatch) -> syn::Result<Expr> {
        check_attributes(&matching.attrs)?;
        let arms_await = matching.arms.iter().any(|arm| expr_awaits(&arm.body));
        let place = walk::is_place_expr(&matching.expr);
        let scrutinee_local = walk::local_name(strip_parens(&matching.expr)).and_then(|name| self.resolve(&name));
        let scrutinee = if expr_awaits(&matching.expr) {
            if arms_await {
                // The temporaries the scrutinee makes after its last `.await` live to the end of
                // the `match`, across the arms' `.await`s: hidden locals too.
                let value = self.held_across(|this| this.expr(&matching.expr))?;
                let id = self.hoist_ir_local(value);
                let place = self.temporary_place(id);
                Expr::Plain(self.scrutinee(place, &matching.arms))
            } else {
                self.expr(&matching.expr)?
            }
        } else if arms_await && !place && !arms_consume(&matching.arms) {
            // An arm that suspends and leaves part of the scrutinee in it: the scrutinee must
            // be kept across the `.await`, so it is a hidden local.
            let (value, _) = self.hoist_value(&matching.expr)?;
            Expr::Plain(self.scrutinee(value, &matching.arms))
        } else if arms_await && !place {
            // Every arm that suspends moves the whole scrutinee into its bindings
            // (`match observe(&make(), n) { k => { x.await; } }`); the temporaries the scrutinee
            // borrows still live to the end of the `match`, across the arms' `.await`s: hidden
            // locals of the statement.
            let (value, _) = self.hoist_temporaries_in(&matching.expr)?;
            Expr::Plain(self.scrutinee(value, &matching.arms))
        } else {
            Expr::Plain(self.scrutinee((*matching.expr).clone(), &matching.arms))
        };
        let mut arms = Vec::new();
        for arm in &matching.arms {
            let (pat, guard) = match &arm.pat {
                Pat::Guard(guarded) => (&*guarded.pat, Some(&*guarded.guard)),
                other => (other, None),
            };
            if let Some(guard) = guard
                && expr_awaits(guard)
            {
                return Err(Error::new_spanned(guard, "unasync does not lower `.await` in a match guard yet; compute it in the arm"));
            }
            check_attributes(&arm.attrs)?;
            self.push_scope();
            let bindings = self.bind_pattern(pat);
            let guard = guard.map(|guard| self.plain(guard.clone(), &[]));
            let body = if expr_awaits(&arm.body) {
                self.temporary_scope(arm.body.span(), true, |this| this.expr(&arm.body))?
            } else {
                Expr::Plain(self.plain((*arm.body).clone(), &[]))
            };
            self.pop_scope();
            let consumes = walk::binds_by_value(pat);
            arms.push(Arm { pat: pat.clone(), guard, bindings, consumes, body: Box::new(body) });
        }
        // A scrutinee hoisted into a hidden local is that local, named whole.
        let scrutinee_local = scrutinee_local.or(match &scrutinee {
            Expr::Plain(plain) => match plain.uses().as_slice() {
                [use_] if walk::local_name(&plain.expr).is_some() || matches!(plain.expr, syn::Expr::Verbatim(_)) => Some(use_.local),
                _ => None,
            },
            _ => None,
        });
        Ok(Expr::Match { scrutinee: Box::new(scrutinee), scrutinee_local, arms })
    }

    // Input:
    //     'a: while cond { body }                 'a: while let P = e { body }
    // Output (rustc's own desugaring):
    //     'a: loop { if cond { body } else { break } }
    //     'a: loop { match e { P => body, _ => break } }
    fn while_expr(&mut self, looping: &syn::ExprWhile) -> syn::Result<Expr> {
        let body = &looping.body;
        let span = looping.while_token.span;
        let desugared: syn::Expr = match strip_parens(&looping.cond) {
            syn::Expr::Let(binding) if !contains_let(&binding.expr) => {
                let (pat, scrutinee) = (&binding.pat, &binding.expr);
                syn::parse_quote_spanned! {span=> match #scrutinee { #pat => #body, _ => break } }
            }
            cond if contains_let(cond) => {
                return Err(Error::new_spanned(cond, "unasync does not lower a `while` with a `let` chain yet"));
            }
            cond => syn::parse_quote_spanned! {span=> if #cond #body else { break } },
        };
        let inner = self.statement_expr(&desugared, false);
        let inner = inner?;
        let body = Block { stmts: vec![Stmt::Expr { expr: inner, semi: false }], span: looping.body.brace_token.span.join(), locals: Vec::new(), kind: BlockKind::Temporaries };
        Ok(Expr::Loop { label: looping.label.clone(), body })
    }

    // Input:
    //     'a: for P in iterable { body }
    // Output (rustc's desugaring, with the iterator a hidden local):
    //     { let mut __iter = IntoIterator::into_iter(iterable);
    //       'a: loop { match Iterator::next(&mut __iter) { Some(P) => body, None => break } } }
    fn for_expr(&mut self, looping: &syn::ExprForLoop) -> syn::Result<Expr> {
        let span = looping.for_token.span;
        self.push_scope();
        let iterable = if expr_awaits(&looping.expr) {
            self.expr(&looping.expr)?
        } else {
            let (value, _) = self.hoist_temporaries_in(&looping.expr)?;
            Expr::Plain(self.plain(value, &[]))
        };
        let iterator = self.temporary(LocalKind::Iterator);
        self.locals[iterator].mutable = true;
        let iter_name = self.locals[iterator].name.clone();
        let into_iter = |value: TokenStream| -> syn::Expr { syn::parse_quote_spanned!(span=> ::core::iter::IntoIterator::into_iter(#value)) };
        let init = match iterable {
            Expr::Plain(plain) => {
                let value = plain.expr;
                Expr::Plain(self.plain(into_iter(quote!(#value)), &[iterator]))
            }
            other => Expr::Template { code: self.plain(into_iter(hole_marker()), &[iterator]), hole: Box::new(other) },
        };
        self.scopes.last_mut().expect("scope").push((iter_name.to_string(), iterator));
        let (pat, body) = (&looping.pat, &looping.body);
        let next: syn::Expr = syn::parse_quote_spanned! {span=>
            match ::core::iter::Iterator::next(&mut #iter_name) {
                ::core::option::Option::Some(#pat) => #body,
                ::core::option::Option::None => break,
            }
        };
        let matching = self.statement_expr(&next, false);
        let matching = matching?;
        let locals = self.pop_scope();
        let loop_body = Block { stmts: vec![Stmt::Expr { expr: matching, semi: false }], span: looping.body.brace_token.span.join(), locals: Vec::new(), kind: BlockKind::Temporaries };
        let looped = Expr::Loop { label: looping.label.clone(), body: loop_body };
        let declare = Stmt::Let(Let {
            attrs: Vec::new(),
            pat: syn::parse_quote!(mut #iter_name),
            ty: None,
            bindings: vec![iterator],
            init: Some(init),
            diverge: None,
        });
        let locals = locals.into_iter().filter(|id| *id == iterator).collect();
        Ok(Expr::Block(Block {
            stmts: vec![declare, Stmt::Expr { expr: looped, semi: false }],
            span: looping.body.brace_token.span.join(),
            locals,
            kind: BlockKind::ForLoop,
        }))
    }
}

pub(super) fn moved(local: LocalId, flows_into: Vec<LocalId>) -> Use {
    Use { local, kind: UseKind::Move, owned: false, address: false, part: false, flows_into }
}

/// What plain code does with the body's locals, collected by the walk as an event tree.
#[derive(Default)]
pub(super) struct Collect {
    /// The open regions, outermost first, each with the events of its current arm.
    open: Vec<(Option<super::walk::Region>, Vec<Vec<Event>>)>,
    root: Vec<Event>,
}

impl Collect {
    fn push(&mut self, event: Event) {
        match self.open.last_mut() {
            Some((_, arms)) => arms.last_mut().expect("an arm").push(event),
            None => self.root.push(event),
        }
    }

    pub fn finish(self) -> Vec<Event> {
        assert!(self.open.is_empty(), "unbalanced regions in the walk");
        self.root
    }
}

impl Handler for Collect {
    fn local(&mut self, local: LocalId, kind: UseKind, at: &At, _span: Span) -> Option<TokenStream> {
        // A closure keeps what it captures, by reference (the local's own address) or by
        // value, whatever its body computes from it.
        let (owned, address) = if at.in_closure { (false, !at.by_value_capture) } else { (at.owned, at.address) };
        let use_ = Use { local, kind, owned, address, part: at.part && !at.in_closure, flows_into: Vec::new() };
        self.push(Event::Use(use_));
        None
    }

    fn opaque_macro(&mut self, _mac: &mut syn::Macro, named: &[(LocalId, Span)], _at: &At) {
        for (local, _) in named {
            let use_ = Use { local: *local, kind: UseKind::Opaque, owned: false, address: false, part: false, flows_into: Vec::new() };
            self.push(Event::Use(use_));
        }
    }

    fn exit(&mut self, exit: walk::Exit<'_>, _inside: bool) -> Option<TokenStream> {
        let jump = match exit {
            walk::Exit::Return { .. } | walk::Exit::Try { .. } | walk::Exit::Panic => Jump::Return,
            walk::Exit::Break { label, .. } => Jump::Break(label.map(|l| l.ident.to_string())),
            walk::Exit::Continue { label, .. } => Jump::Continue(label.map(|l| l.ident.to_string())),
        };
        self.push(Event::Jump(jump));
        None
    }

    fn open(&mut self, region: super::walk::Region) {
        self.open.push((Some(region), vec![Vec::new()]));
    }

    fn arm(&mut self) {
        self.open.last_mut().expect("open region").1.push(Vec::new());
    }

    fn close(&mut self) {
        let (region, arms) = self.open.pop().expect("open region");
        let event = match region.expect("region") {
            super::walk::Region::Branch => Event::Branch(arms),
            super::walk::Region::Loop { label, may_skip } => Event::Loop { label, may_skip, body: arms.into_iter().flatten().collect() },
            super::walk::Region::Labeled { label } => Event::Labeled { label, body: arms.into_iter().flatten().collect() },
        };
        self.push(event);
    }
}

/// Where borrows may flow in one piece of plain code: into `flows_into` (the locals its value
/// initialises), and from every borrowed local into every local the code mutates.
fn connect_flows(plain: &mut Plain, flows_into: &[LocalId], builder: &Builder) {
    // A local assigned (`label = &owned`) or mutated (`v.push(&x)`) may keep a borrow of what
    // the code uses; mutating a local of a type without borrows (`n += x`) cannot.
    let mutated: Vec<LocalId> = plain
        .uses()
        .iter()
        .filter(|u| {
            u.kind == UseKind::Assign || (matches!(u.kind, UseKind::BorrowMut | UseKind::Opaque) && !builder.locals[u.local].trivially_dropped)
        })
        .map(|u| u.local)
        .collect();
    for use_ in plain.uses_mut() {
        if use_.owned {
            continue;
        }
        let mut into: Vec<LocalId> = flows_into.to_vec();
        into.extend(mutated.iter().copied().filter(|m| *m != use_.local));
        into.sort_unstable();
        into.dedup();
        use_.flows_into = into;
    }
}

/// Renames a pattern's bindings to hidden names (`left` to `__bind_left`), each `(user name,
/// hidden name, mut)`.
fn rename_pattern_bindings(pattern: &mut Pat, bound: &mut Vec<(proc_macro2::Ident, proc_macro2::Ident, bool)>) {
    struct Renamer<'a>(&'a mut Vec<(proc_macro2::Ident, proc_macro2::Ident, bool)>);
    impl syn::visit_mut::VisitMut for Renamer<'_> {
        fn visit_pat_ident_mut(&mut self, ident: &mut syn::PatIdent) {
            let name = ident.ident.to_string();
            if !name.starts_with("__rest") && (ident.mutability.is_some() || walk::is_binding_name(&ident.ident)) {
                let hidden = format_ident!("__bind_{}", name.trim_start_matches("r#"), span = Span::mixed_site());
                self.0.push((ident.ident.clone(), hidden.clone(), ident.mutability.is_some()));
                ident.ident = hidden;
                ident.mutability = None;
            }
            syn::visit_mut::visit_pat_ident_mut(self, ident);
        }
        fn visit_field_pat_mut(&mut self, field: &mut syn::FieldPat) {
            // `Pair { left }` binds `left`: spell it `Pair { left: __bind_left }`.
            field.colon_token.get_or_insert_with(Default::default);
            syn::visit_mut::visit_field_pat_mut(self, field);
        }
        fn visit_expr_mut(&mut self, _: &mut syn::Expr) {}
    }
    syn::visit_mut::VisitMut::visit_pat_mut(&mut Renamer(bound), pattern);
}

/// Gives every `_` of a parameter pattern a name, `__rest0`, `__rest1`, ...
fn name_wildcards(pattern: &mut Pat, count: &mut usize) -> syn::Result<()> {
    struct Namer<'a> {
        count: &'a mut usize,
        error: Option<Error>,
    }
    const REST: &str = "unasync cannot keep what `..` matches in a parameter alive to the end of the body; name the fields, or bind the parameter and destructure it in the body";
    impl syn::visit_mut::VisitMut for Namer<'_> {
        fn visit_pat_mut(&mut self, pattern: &mut Pat) {
            match pattern {
                Pat::Wild(wild) => {
                    let name = proc_macro2::Ident::new(&format!("__rest{}", self.count), Span::mixed_site().located_at(wild.underscore_token.span));
                    *self.count += 1;
                    *pattern = Pat::Ident(syn::PatIdent { attrs: Vec::new(), by_ref: None, mutability: None, ident: name, subpat: None });
                }
                Pat::Rest(rest) => {
                    self.error.get_or_insert_with(|| Error::new(rest.dot2_token.spans[0], REST));
                }
                other => syn::visit_mut::visit_pat_mut(self, other),
            }
        }
        fn visit_pat_struct_mut(&mut self, pattern: &mut syn::PatStruct) {
            if let Some(rest) = &pattern.rest {
                self.error.get_or_insert_with(|| Error::new(rest.dot2_token.spans[0], REST));
            }
            syn::visit_mut::visit_pat_struct_mut(self, pattern);
        }
        fn visit_expr_mut(&mut self, _: &mut syn::Expr) {}
    }
    let mut namer = Namer { count, error: None };
    syn::visit_mut::VisitMut::visit_pat_mut(&mut namer, pattern);
    namer.error.map_or(Ok(()), Err)
}

/// The bindings of a pattern: `(ident, mutable, by_ref)` in order.
pub(super) fn collect_binding_idents(pattern: &Pat, f: &mut dyn FnMut(&proc_macro2::Ident, bool, bool)) {
    struct Collector<'a>(&'a mut dyn FnMut(&proc_macro2::Ident, bool, bool));
    impl<'a> syn::visit::Visit<'a> for Collector<'_> {
        fn visit_pat_ident(&mut self, ident: &'a syn::PatIdent) {
            let binds = ident.subpat.is_some() || ident.by_ref.is_some() || ident.mutability.is_some() || walk::is_binding_name(&ident.ident);
            if binds {
                (self.0)(&ident.ident, ident.mutability.is_some(), ident.by_ref.is_some());
            }
            syn::visit::visit_pat_ident(self, ident);
        }
        fn visit_expr(&mut self, _: &'a syn::Expr) {}
    }
    syn::visit::Visit::visit_pat(&mut Collector(f), pattern);
}

/// The token that stands for the suspending operand of a template.
pub(super) fn hole_marker() -> TokenStream {
    let hole = proc_macro2::Ident::new(HOLE, Span::mixed_site());
    quote!(#hole)
}

pub fn strip_parens(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Paren(paren) => strip_parens(&paren.expr),
        syn::Expr::Group(group) => strip_parens(&group.expr),
        other => other,
    }
}

fn contains_let(expr: &syn::Expr) -> bool {
    match strip_parens(expr) {
        syn::Expr::Let(_) => true,
        syn::Expr::Binary(binary) if matches!(binary.op, syn::BinOp::And(_)) => contains_let(&binary.left) || contains_let(&binary.right),
        _ => false,
    }
}

fn flatten_conjunction<'a>(expr: &'a syn::Expr, into: &mut Vec<&'a syn::Expr>) {
    match strip_parens(expr) {
        syn::Expr::Binary(binary) if matches!(binary.op, syn::BinOp::And(_)) => {
            flatten_conjunction(&binary.left, into);
            flatten_conjunction(&binary.right, into);
        }
        other => into.push(other),
    }
}

// Input:
//     if let P = a && c && let Q = b.await { then } else { other }
// Output:
//     match ('__chain: { let P = a else { break '__chain None }; if !(c) { break '__chain None };
//                        let Q = b.await else { break '__chain None }; Some((p, q)) }) {
//         Some((p, q)) => then, None => other }
// A condition that fails ends the chain's bindings before `else` runs, as rustc's let chains
// do; the `then` branch gets them back from the chain's value.
fn desugar_let_chain(conditional: &syn::ExprIf, parts: &[&syn::Expr]) -> syn::Expr {
    let span = conditional.if_token.span;
    let label = syn::Lifetime::new("'__chain", Span::mixed_site());
    let mut bound = Vec::new();
    let steps = parts.iter().map(|part| match strip_parens(part) {
        syn::Expr::Let(binding) => {
            collect_binding_idents(&binding.pat, &mut |ident, mutable, _| bound.push((ident.clone(), mutable)));
            let (pat, scrutinee) = (&binding.pat, &binding.expr);
            quote!(let #pat = #scrutinee else { break #label (::core::option::Option::None) };)
        }
        cond => quote!(if !(#cond) { break #label (::core::option::Option::None); }),
    });
    let steps: Vec<TokenStream> = steps.collect();
    let values = bound.iter().map(|(ident, _)| ident);
    let patterns = bound.iter().map(|(ident, mutable)| {
        let mutability = mutable.then(|| quote!(mut));
        quote!(#mutability #ident)
    });
    let then = &conditional.then_branch;
    let otherwise = match &conditional.else_branch {
        Some((_, other)) => quote!(#other),
        None => quote!({}),
    };
    syn::parse_quote_spanned! {span=>
        match (#label: { #(#steps)* ::core::option::Option::Some((#(#values,)*)) }) {
            ::core::option::Option::Some((#(#patterns,)*)) => #then,
            ::core::option::Option::None => #otherwise,
        }
    }
}

/// Whether every arm that suspends moves all of its scrutinee into its bindings.
fn arms_consume(arms: &[syn::Arm]) -> bool {
    arms.iter().filter(|arm| expr_awaits(&arm.body)).all(|arm| {
        let pat = match &arm.pat {
            Pat::Guard(guarded) => &*guarded.pat,
            other => other,
        };
        walk::binds_by_value(pat)
    })
}

/// A template whose code is `&value`: as a block's value it must stay the tail.
fn is_borrow(expr: &Expr) -> bool {
    match expr {
        Expr::Template { code, .. } | Expr::Plain(code) => matches!(strip_parens(&code.expr), syn::Expr::Reference(_)),
        _ => false,
    }
}

/// Lint attributes on lowered code are checked on the never-run copy of the body, which keeps
/// them; `#[cfg]` was applied by the caller. Any other attribute would change what is emitted.
pub(super) fn check_attributes(attrs: &[syn::Attribute]) -> syn::Result<()> {
    for attr in attrs {
        // Lint levels, and the tools' attributes (`rustfmt::skip`), mean the same wherever the
        // code ends up. (`cfg`s are gone by now: see `crate::cfg`.)
        let path = attr.path();
        let allowed = path.get_ident().is_some_and(|ident| {
            matches!(ident.to_string().as_str(), "allow" | "warn" | "deny" | "forbid" | "expect")
        }) || path.segments.first().is_some_and(|tool| tool.ident == "rustfmt" || tool.ident == "clippy");
        if !allowed {
            return Err(Error::new_spanned(
                attr,
                "unasync does not lower this attribute on code containing `.await` yet; move the code into a function that carries it",
            ));
        }
    }
    Ok(())
}

fn expression_attributes(expr: &syn::Expr) -> &[syn::Attribute] {
    match expr {
        syn::Expr::Await(e) => &e.attrs,
        syn::Expr::Call(e) => &e.attrs,
        syn::Expr::MethodCall(e) => &e.attrs,
        syn::Expr::Assign(e) => &e.attrs,
        syn::Expr::Binary(e) => &e.attrs,
        syn::Expr::Block(e) => &e.attrs,
        syn::Expr::If(e) => &e.attrs,
        syn::Expr::Match(e) => &e.attrs,
        syn::Expr::Loop(e) => &e.attrs,
        syn::Expr::While(e) => &e.attrs,
        syn::Expr::ForLoop(e) => &e.attrs,
        syn::Expr::Macro(e) => &e.attrs,
        syn::Expr::Try(e) => &e.attrs,
        syn::Expr::Return(e) => &e.attrs,
        syn::Expr::Unsafe(e) => &e.attrs,
        _ => &[],
    }
}

/// `tokio::pin!(x, y);`, `tokio::pin! { let x = f(); }` and `futures::pin_mut!(x);` (or `pin!`/
/// `pin_mut!` imported) as statements.
fn pin_macro(mac: &syn::Macro) -> bool {
    let segments: Vec<String> = mac.path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segments.as_slice() {
        [name] => name == "pin" || name == "pin_mut",
        [.., krate, name] => (krate == "tokio" && name == "pin") || (krate == "futures" && name == "pin_mut"),
        [] => false,
    }
}

// Input:
//     tokio::pin!(fut);              tokio::pin! { let fut = f(); }
// Output (each pins the value where it then stays, to the end of the scope, as the macro does):
//     let mut fut = ::core::pin::pin!(fut);      let mut fut = ::core::pin::pin!(f());
fn pin_lets(mac: &syn::StmtMacro) -> syn::Result<Vec<syn::Local>> {
    struct Pinned(Vec<(syn::Ident, syn::Expr)>);
    impl syn::parse::Parse for Pinned {
        fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
            let mut pinned = Vec::new();
            if input.peek(syn::Token![let]) {
                while !input.is_empty() {
                    input.parse::<syn::Token![let]>()?;
                    let name: syn::Ident = input.parse()?;
                    input.parse::<syn::Token![=]>()?;
                    let value: syn::Expr = input.parse()?;
                    input.parse::<syn::Token![;]>()?;
                    pinned.push((name, value));
                }
            } else {
                for name in syn::punctuated::Punctuated::<syn::Ident, syn::Token![,]>::parse_terminated(input)? {
                    pinned.push((name.clone(), syn::parse_quote!(#name)));
                }
            }
            Ok(Pinned(pinned))
        }
    }
    let Pinned(pinned) = mac.mac.parse_body()?;
    Ok(pinned
        .into_iter()
        .map(|(name, value)| {
            let span = name.span();
            let stmt: syn::Stmt = syn::parse_quote_spanned! {span=> let mut #name = ::core::pin::pin!(#value); };
            match stmt {
                syn::Stmt::Local(local) => local,
                _ => unreachable!("a `let` statement"),
            }
        })
        .collect())
}
