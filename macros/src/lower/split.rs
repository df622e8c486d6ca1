//! Splits an expression around the one operand that suspends.
//!
//! rustc evaluates operands left to right, and keeps what it evaluated before an `.await` (an
//! argument, a left operand, a temporary a method call borrowed) alive across the suspension, to
//! the end of the statement. Here each of those becomes a hidden local of the statement's
//! temporary scope, so it can be saved; the operand that suspends stays in place as the hole of a
//! template, and the operands after it run as written once it completes.
//!
//! Input:
//! ```text
//! f(a(), &b(), x.await, c)          make(&log).0.len() + peek(&log).await
//! ```
//! Output (the hidden `let`s are the statement's, see [`Builder::temporary_scope`]):
//! ```text
//! let __temp0 = a(); let __temp1 = b();          let __temp0 = make(&log); let __temp1 = __temp0.0.len();
//! f(__temp0, &__temp1, <hole: x.await>, c)      __temp1 + <hole: peek(&log).await>
//! ```
//! The hidden locals end with the statement's temporary scope, after the template's own
//! temporaries (created later), as rustc orders them. Places (`x`, `&x`, `x.field`) and constants are not evaluated early: after the suspension
//! they name the same thing. In a receiver chain (`Pool::builder().max_size(2).build(m)`), the
//! receivers before the last are moved into their method, not kept (see
//! [`Builder::hoist_places_at`]).

use quote::quote;
use syn::spanned::Spanned;
use syn::{Error, Expr as SynExpr, UnOp};

use super::build::{hole_marker, strip_parens, Builder};
use super::ir::*;
use crate::awaits::expr_awaits;

/// How an operand is used by the expression around it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Operand {
    /// Moved or copied into the operation.
    Value,
    /// Used as a place: a receiver, a field or index base, the operand of `&`, `*` or `==`.
    Place,
}

impl Builder {
    pub(super) fn split(&mut self, expr: &SynExpr) -> syn::Result<Expr> {
        let span = expr.span();
        let mut expr = expr.clone();
        // The first child of a method call is its receiver (a link of a receiver chain).
        let method_call = matches!(&expr, SynExpr::MethodCall(call) if chains(&call.method.to_string()));
        let mut children: Vec<(&mut SynExpr, Operand)> = Vec::new();
        match &mut expr {
            SynExpr::Call(call) => {
                children.push((&mut *call.func, Operand::Place));
                children.extend(call.args.iter_mut().map(|a| (a, Operand::Value)));
            }
            SynExpr::MethodCall(call) => {
                children.push((&mut *call.receiver, Operand::Place));
                children.extend(call.args.iter_mut().map(|a| (a, Operand::Value)));
            }
            SynExpr::Binary(binary) => {
                let role = if is_comparison(&binary.op) { Operand::Place } else { Operand::Value };
                children.push((&mut *binary.left, role));
                children.push((&mut *binary.right, role));
            }
            SynExpr::Unary(unary) => {
                let role = if matches!(unary.op, UnOp::Deref(_)) { Operand::Place } else { Operand::Value };
                children.push((&mut *unary.expr, role));
            }
            SynExpr::Field(field) => children.push((&mut *field.base, Operand::Place)),
            SynExpr::Index(index) => {
                children.push((&mut *index.expr, Operand::Place));
                children.push((&mut *index.index, Operand::Value));
            }
            SynExpr::Tuple(tuple) => children.extend(tuple.elems.iter_mut().map(|e| (e, Operand::Value))),
            SynExpr::Array(array) => children.extend(array.elems.iter_mut().map(|e| (e, Operand::Value))),
            SynExpr::Struct(literal) => {
                children.extend(literal.fields.iter_mut().map(|f| (&mut f.expr, Operand::Value)));
                if let Some(rest) = &mut literal.rest {
                    children.push((&mut **rest, Operand::Place));
                }
            }
            SynExpr::Cast(cast) => children.push((&mut *cast.expr, Operand::Value)),
            SynExpr::Reference(reference) => children.push((&mut *reference.expr, Operand::Place)),
            SynExpr::Range(range) => {
                if let Some(start) = &mut range.start {
                    children.push((&mut **start, Operand::Value));
                }
                if let Some(end) = &mut range.end {
                    children.push((&mut **end, Operand::Value));
                }
            }
            SynExpr::Repeat(repeat) => children.push((&mut *repeat.expr, Operand::Value)),
            SynExpr::Macro(mac) => return self.split_macro(mac),
            other => {
                return Err(Error::new_spanned(other, "unasync does not lower `.await` inside this expression yet"));
            }
        }
        // An `.await` the children do not hold is in a constant (an array's length): rustc
        // refuses it natively, so does this.
        let Some(last) = children.iter().rposition(|(child, _)| expr_awaits(child)) else {
            return Err(Error::new(span, "`.await` is only allowed inside `async` functions and blocks, not in a constant"));
        };
        // Code after the hole that makes temporaries, evaluated before a later `.await` of the
        // statement (this expression is an operand or an awaitee): rustc keeps them to the end of
        // the statement, across that `.await`. The hole's value, then each operand after it,
        // become hidden locals of the statement in evaluation order, as the operands before it:
        //     let __temp0 = <hole>; let __temp1 = make(); let __temp2 = observe(&__temp1, 1);
        //     __temp0 + __temp2
        let spill = self.held_across && children.iter().skip(last + 1).any(|(child, role)| makes_temporaries(child, *role));
        let mut hole = None;
        for (index, (child, role)) in children.into_iter().enumerate() {
            let receiver = method_call && index == 0;
            if index < last {
                *child = self.operand_before(child, role, receiver)?;
            } else if index > last {
                if spill {
                    *child = self.operand_before(child, role, receiver)?;
                }
            } else if spill || role == Operand::Place {
                // Where a place is expected, the value is a temporary of the statement, which
                // may have to outlive a later `.await` of it (`f(&x.await).await`): a hidden
                // local.
                let value = self.held_across(|this| this.expr(child))?;
                let id = self.hoist_ir_local(value);
                *child = self.temporary_place(id);
            } else {
                hole = Some(self.expr(child)?);
                *child = SynExpr::Verbatim(hole_marker());
            }
        }
        let code = self.plain(expr, &[]);
        Ok(match hole {
            Some(hole) => Expr::Template { code, hole: Box::new(hole) },
            None => Expr::Plain(code),
        })
    }

    /// An operand evaluated before the one that suspends: what the template uses in its place
    /// (`receiver`: the receiver of the method call the template makes).
    fn operand_before(&mut self, child: &SynExpr, role: Operand, receiver: bool) -> syn::Result<SynExpr> {
        if is_constant(child, self) {
            return Ok(child.clone());
        }
        if role == Operand::Place && is_local_place(child) {
            return Ok(child.clone());
        }
        if let SynExpr::Reference(reference) = strip_parens(child)
            && is_local_place(&reference.expr)
        {
            // `&x` borrows again after the suspension: the same place.
            return Ok(child.clone());
        }
        if let SynExpr::Reference(reference) = strip_parens(child) {
            // `&value`: the value is a temporary to the end of the statement: a hidden local,
            // borrowed again after the suspension. Under a projection (`&make()[..n]`,
            // `&make().0`) it is the innermost value that is kept (the projection may be unsized).
            let mut borrowed = (*reference.expr).clone();
            if expr_awaits(&borrowed) {
                let value = self.held_across(|this| this.expr(&borrowed))?;
                let id = self.hoist_ir_local(value);
                borrowed = self.temporary_place(id);
            } else if is_projection(&borrowed) {
                let mut hoisted = Vec::new();
                self.place_operand(&mut borrowed, &mut hoisted);
            } else {
                borrowed = self.hoist_value(&borrowed)?.0;
            }
            // A reference expression, not tokens: the walk sees the hidden local it names.
            return Ok(SynExpr::Reference(syn::ExprReference { expr: Box::new(borrowed), ..reference.clone() }));
        }
        if role == Operand::Place && is_projection(child) {
            let mut place = child.clone();
            let mut hoisted = Vec::new();
            self.place_operand(&mut place, &mut hoisted);
            return Ok(place);
        }
        let (value, _) = if expr_awaits(child) {
            let value = self.held_across(|this| this.expr(child))?;
            let id = self.hoist_ir_local(value);
            (self.temporary_place(id), id)
        } else {
            self.hoist_value_at(child, receiver)?
        };
        Ok(value)
    }

    /// Lowers with [`Builder::held_across`] set: `f` builds an expression evaluated before a
    /// later `.await` of the statement.
    pub(super) fn held_across<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        let outer = std::mem::replace(&mut self.held_across, true);
        let result = f(self);
        self.held_across = outer;
        result
    }

    /// Evaluates `expr` (without `.await`) now, into a hidden local: the path to it. The
    /// temporaries `expr` borrows (a value used as a place: `make().len()`) are hidden locals
    /// too, so they live to the end of the statement as they do in rustc.
    pub(super) fn hoist_value(&mut self, expr: &SynExpr) -> syn::Result<(SynExpr, LocalId)> {
        self.hoist_value_at(expr, false)
    }

    /// [`Builder::hoist_value`], `receiver` when the value is a method call's receiver.
    fn hoist_value_at(&mut self, expr: &SynExpr, receiver: bool) -> syn::Result<(SynExpr, LocalId)> {
        let mut value = expr.clone();
        self.hoist_places_at(&mut value, &mut Vec::new(), receiver);
        let id = self.temporary(LocalKind::Temporary);
        self.declare_temporary(id, Expr::Plain(Plain { expr: value, events: Vec::new(), role: super::ir::Role::Value }));
        Ok((self.temporary_place(id), id))
    }

    pub(super) fn hoist_ir_local(&mut self, value: Expr) -> LocalId {
        let id = self.temporary(LocalKind::Temporary);
        self.declare_temporary(id, value);
        id
    }

    /// `let __tempN = value;` in the current temporary scope, with the uses of `value` flowing
    /// into the hidden local.
    fn declare_temporary(&mut self, id: LocalId, value: Expr) {
        let value = match value {
            Expr::Plain(plain) => Expr::Plain(self.plain(plain.expr, &[id])),
            other => other,
        };
        let name = self.locals[id].name.clone();
        self.register_temporary(id);
        self.temporaries.push(Stmt::Let(Let {
            attrs: Vec::new(),
            pat: syn::parse_quote!(mut #name),
            ty: None,
            bindings: vec![id],
            init: Some(value),
            diverge: None,
        }));
    }

    pub(super) fn temporary_place(&self, id: LocalId) -> SynExpr {
        let name = &self.locals[id].name;
        syn::parse_quote!(#name)
    }

    /// Rewrites `expr` (to be evaluated now) so that the temporaries it uses as places are hidden
    /// locals of the statement: `make().len()` becomes `__temp0.len()` after `let __temp0 =
    /// make();`. Returns the rewritten expression and the hidden locals.
    pub(super) fn hoist_temporaries_in(&mut self, expr: &SynExpr) -> syn::Result<(SynExpr, Vec<LocalId>)> {
        let mut expr = expr.clone();
        let mut hoisted = Vec::new();
        self.hoist_places(&mut expr, &mut hoisted);
        Ok((expr, hoisted))
    }

    /// Walks the operands rustc evaluates into temporaries of the enclosing statement (not
    /// inside blocks, closures, branches or loops, which end their temporaries themselves).
    fn hoist_places(&mut self, expr: &mut SynExpr, hoisted: &mut Vec<LocalId>) {
        self.hoist_places_at(expr, hoisted, false);
    }

    /// [`Builder::hoist_places`], `receiver` when `expr`'s value is the receiver of a further
    /// method call (`a().b()` in `a().b().c()`).
    //
    // Input (a receiver chain, `c` the awaited call):
    //     a().b(&g()).c()
    // Output:
    //     let __temp0 = a(); let __temp1 = g(); let __temp2 = moved(__temp0).0.b(&__temp1);
    //     __temp2.c()
    // What the awaitee may borrow is `c`'s receiver, `a().b(..)`: kept to the end of the
    // statement, as rustc keeps it where `c` takes `&self`. `a()` it can borrow only through
    // `b`'s result, where `b` returns a borrow of its receiver (`fn b(&mut self) -> &mut Self`),
    // so `a()` is moved into `b` (a builder step, `fn b(self) -> Self`), through a packed
    // wrapper whose field cannot be borrowed: where `b` borrows its receiver after all, rustc
    // refuses the expansion (E0793, "reference to field of packed struct is unaligned") rather
    // than drop `a()` before the `.await`, where rustc keeps it. The names of methods that borrow
    // their receiver by convention (`clone`, `as_ref`, `arg`, `lock`, ..) keep it as before.
    fn hoist_places_at(&mut self, expr: &mut SynExpr, hoisted: &mut Vec<LocalId>, receiver: bool) {
        match expr {
            SynExpr::MethodCall(call) => {
                let method = call.method.to_string();
                // Moved only where nothing of the statement's is made between the receiver's
                // value and the call (the arguments make no temporaries): the value is then
                // dropped, should an argument panic, before the hidden locals made earlier, as
                // rustc drops the call's operands before the statement's temporaries.
                let moves = receiver
                    && super::walk::moves_chained_receiver(&call.receiver, &method)
                    && !is_projection(&call.receiver)
                    && !call.args.iter().any(|arg| makes_temporaries(arg, Operand::Value));
                if moves {
                    self.hoist_places_at(&mut call.receiver, hoisted, chains(&method));
                    // rustc's error, where `b` borrows the receiver after all, is at `b`.
                    let span = call.method.span();
                    let id = self.temporary(LocalKind::Temporary);
                    self.declare_temporary(id, Expr::Plain(Plain { expr: (*call.receiver).clone(), events: Vec::new(), role: super::ir::Role::Value }));
                    hoisted.push(id);
                    let name = &self.locals[id].name;
                    *call.receiver = syn::parse_quote_spanned!(span=> ::unasync::__private::moved(#name).0);
                } else if super::walk::is_kept_receiver(&call.receiver, &method) || is_projection(&call.receiver) {
                    // A receiver the method consumes is moved into it, not kept as a temporary.
                    self.place_operand_at(&mut call.receiver, hoisted, chains(&method));
                } else {
                    // A receiver the method consumes stays in place, evaluated after the hidden
                    // locals its arguments make: where they make some, the values of its own
                    // chain are not moved either (they are kept, hoisted first).
                    let chained = chains(&method) && !call.args.iter().any(|arg| makes_temporaries(arg, Operand::Value));
                    self.hoist_places_at(&mut call.receiver, hoisted, chained);
                }
                call.args.iter_mut().for_each(|arg| self.hoist_places(arg, hoisted));
            }
            SynExpr::Field(field) => self.place_operand(&mut field.base, hoisted),
            SynExpr::Index(index) => {
                self.place_operand(&mut index.expr, hoisted);
                self.hoist_places(&mut index.index, hoisted);
            }
            SynExpr::Reference(reference) => self.place_operand(&mut reference.expr, hoisted),
            // `*pointer` reads through a pointer value; `*value` of a smart pointer derefs a
            // temporary.
            SynExpr::Unary(unary) if matches!(unary.op, UnOp::Deref(_)) => {
                if super::walk::is_kept_receiver(&unary.expr, "deref") {
                    self.place_operand(&mut unary.expr, hoisted);
                } else {
                    self.hoist_places(&mut unary.expr, hoisted);
                }
            }
            SynExpr::Unary(unary) => self.hoist_places(&mut unary.expr, hoisted),
            SynExpr::Binary(binary) if is_comparison(&binary.op) => {
                self.place_operand(&mut binary.left, hoisted);
                self.place_operand(&mut binary.right, hoisted);
            }
            SynExpr::Binary(binary) => {
                self.hoist_places(&mut binary.left, hoisted);
                self.hoist_places(&mut binary.right, hoisted);
            }
            SynExpr::Call(call) => call.args.iter_mut().for_each(|arg| self.hoist_places(arg, hoisted)),
            SynExpr::Paren(paren) => self.hoist_places_at(&mut paren.expr, hoisted, receiver),
            SynExpr::Range(range) => {
                range.start.iter_mut().for_each(|start| self.hoist_places(start, hoisted));
                range.end.iter_mut().for_each(|end| self.hoist_places(end, hoisted));
            }
            SynExpr::Cast(cast) => self.hoist_places(&mut cast.expr, hoisted),
            SynExpr::Tuple(tuple) => tuple.elems.iter_mut().for_each(|e| self.hoist_places(e, hoisted)),
            SynExpr::Array(array) => array.elems.iter_mut().for_each(|e| self.hoist_places(e, hoisted)),
            SynExpr::Struct(literal) => literal.fields.iter_mut().for_each(|f| self.hoist_places(&mut f.expr, hoisted)),
            _ => {}
        }
    }

    /// An operand used as a place: a projection of a temporary hoists the temporary (the
    /// innermost value), which then lives to the end of the statement.
    pub(super) fn place_operand(&mut self, expr: &mut SynExpr, hoisted: &mut Vec<LocalId>) {
        self.place_operand_at(expr, hoisted, false);
    }

    /// [`Builder::place_operand`], `receiver` when the place is a method call's receiver.
    fn place_operand_at(&mut self, expr: &mut SynExpr, hoisted: &mut Vec<LocalId>, receiver: bool) {
        match expr {
            SynExpr::Paren(paren) => self.place_operand_at(&mut paren.expr, hoisted, receiver),
            SynExpr::Field(field) => self.place_operand(&mut field.base, hoisted),
            SynExpr::Index(index) => {
                self.place_operand(&mut index.expr, hoisted);
                self.hoist_places(&mut index.index, hoisted);
            }
            SynExpr::Unary(unary) if matches!(unary.op, UnOp::Deref(_)) => self.place_operand(&mut unary.expr, hoisted),
            SynExpr::Path(_) | SynExpr::Lit(_) | SynExpr::Reference(_) => self.hoist_places(expr, hoisted),
            // An array or tuple of borrows and literals has nothing to drop, and a hidden local
            // would lose the type the code around expects of it (`&[&x]` as `&[&dyn Debug]`):
            // it stays a temporary (if the awaitee keeps a borrow of it, rustc says so).
            value if holds_only_borrows(value) => {}
            value => {
                self.hoist_places_at(value, hoisted, receiver);
                let id = self.temporary(LocalKind::Temporary);
                self.declare_temporary(id, Expr::Plain(Plain { expr: value.clone(), events: Vec::new(), role: super::ir::Role::Value }));
                hoisted.push(id);
                *value = self.temporary_place(id);
            }
        }
    }

    // ---- macros whose arguments suspend ------------------------------------------------------

    // Input:
    //     println!("{} {}", a, b.await);      assert_eq!(a, 1, "{}", describe().await);
    // Output:
    //     let __temp0 = a; println!("{} {}", __temp0, <hole: b.await>);
    //     match (&a, &1) { (left, right) => if !(*left == *right) {
    //         ::core::assert_eq!(*left, *right, "{}", <hole: describe().await>) } }
    // The macros whose arguments are expressions evaluate them in order, as a call does. An
    // assertion's message is evaluated only when it fails: the lowering asserts again there, so
    // the panic message is the macro's own.
    fn split_macro(&mut self, mac: &syn::ExprMacro) -> syn::Result<Expr> {
        let name = mac.mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if super::polling::polls_futures(&mac.mac) {
            let lowered = super::polling::lower(mac, &mut self.hoisted)?;
            return self.expr(&lowered);
        }
        if name == "matches" {
            return self.expr(&matches_as_match(mac)?);
        }
        // rustc's `format!` is `{ let res = fmt::format(format_args!(..)); res }`: the
        // temporaries of its arguments end with that `let`, before the code around it goes on.
        if name == "format" && !std::mem::take(&mut self.format_scoped) {
            self.format_scoped = true;
            let res = proc_macro2::Ident::new("__unasync_format", proc_macro2::Span::mixed_site());
            let scoped: SynExpr = syn::parse_quote_spanned! {mac.span()=> { let #res = #mac; #res } };
            return self.expr(&scoped);
        }
        let parser = syn::punctuated::Punctuated::<SynExpr, syn::Token![,]>::parse_terminated;
        let supported = matches!(
            name.as_str(),
            "format" | "print" | "println" | "eprint" | "eprintln" | "format_args" | "panic" | "unreachable"
                | "todo" | "unimplemented" | "write" | "writeln" | "vec" | "dbg" | "assert" | "assert_eq"
                | "assert_ne" | "debug_assert" | "debug_assert_eq" | "debug_assert_ne"
        );
        let args = if supported { mac.mac.parse_body_with(parser).ok() } else { None };
        let Some(args) = args else { return Err(unsupported_macro(&mac.mac)) };
        if let Some(assertion) = name.strip_prefix("debug_") {
            // As rustc's expansion: nothing is evaluated without debug assertions.
            let assertion = proc_macro2::Ident::new(assertion, mac.mac.path.span());
            let tokens = &mac.mac.tokens;
            let conditional: SynExpr = syn::parse_quote_spanned! {mac.span()=>
                if ::core::cfg!(debug_assertions) { ::core::#assertion!(#tokens) }
            };
            return self.expr(&conditional);
        }
        let operands = match name.as_str() {
            "assert" => Some(1),
            "assert_eq" | "assert_ne" => Some(2),
            _ => None,
        };
        if let Some(operands) = operands
            && args.iter().skip(operands).any(expr_awaits)
        {
            return self.assertion_message_awaits(mac, &name, &args, operands);
        }
        let mut args: Vec<SynExpr> = args.into_iter().collect();
        let suspends = |arg: &SynExpr| match arg {
            SynExpr::Assign(named) => expr_awaits(&named.right),
            other => expr_awaits(other),
        };
        let Some(last) = args.iter().rposition(suspends) else { return Err(unsupported_macro(&mac.mac)) };
        // Format arguments are borrowed by the macro: an early one is a temporary; `vec!` and
        // `dbg!` take theirs by value.
        let role = if matches!(name.as_str(), "vec" | "dbg") { Operand::Value } else { Operand::Place };
        for arg in args.iter_mut().take(last) {
            let value = match arg {
                SynExpr::Assign(named) => &mut *named.right,
                other => other,
            };
            if !matches!(value, SynExpr::Lit(_)) {
                *value = self.operand_before(value, role, false)?;
            }
        }
        let value = match &mut args[last] {
            SynExpr::Assign(named) => &mut *named.right,
            other => other,
        };
        let hole = self.expr(value)?;
        *value = SynExpr::Verbatim(hole_marker());
        let mut mac = mac.clone();
        mac.mac.tokens = quote!(#(#args),*);
        let code = self.plain(SynExpr::Macro(mac), &[]);
        Ok(Expr::Template { code, hole: Box::new(hole) })
    }

    fn assertion_message_awaits(
        &mut self,
        mac: &syn::ExprMacro,
        name: &str,
        args: &syn::punctuated::Punctuated<SynExpr, syn::Token![,]>,
        operands: usize,
    ) -> syn::Result<Expr> {
        if let Some(operand) = args.iter().take(operands).find(|a| expr_awaits(a)) {
            return Err(Error::new_spanned(
                operand,
                "unasync does not lower `.await` both in an assertion's operands and in its message; compute the operand with `let` first",
            ));
        }
        let span = mac.span();
        let message: Vec<&SynExpr> = args.iter().skip(operands).collect();
        let lowered: SynExpr = match name {
            "assert" => {
                let cond = &args[0];
                syn::parse_quote_spanned! {span=> if !(#cond) { ::core::panic!(#(#message),*) } }
            }
            _ => {
                // As `core::panicking::assert_failed` words it, the message first.
                let (left, right) = (&args[0], &args[1]);
                let op = if name == "assert_eq" { "==" } else { "!=" };
                let Some((SynExpr::Lit(syn::ExprLit { lit: syn::Lit::Str(format), .. }), message_args)) = message.split_first() else {
                    return Err(Error::new_spanned(&mac.mac, "an assertion's message starts with a format string"));
                };
                let format = syn::LitStr::new(
                    &format!("assertion `left {op} right` failed: {}\n  left: {{__left:?}}\n right: {{__right:?}}", format.value()),
                    format.span(),
                );
                let op: proc_macro2::TokenStream = op.parse().expect("an operator");
                let left_name = proc_macro2::Ident::new("left_val", proc_macro2::Span::mixed_site());
                let right_name = proc_macro2::Ident::new("right_val", proc_macro2::Span::mixed_site());
                syn::parse_quote_spanned! {span=>
                    match (&#left, &#right) {
                        (#left_name, #right_name) => if !(*#left_name #op *#right_name) {
                            ::core::panic!(#format, #(#message_args,)* __left = &*#left_name, __right = &*#right_name)
                        }
                    }
                }
            }
        };
        self.expr(&lowered)
    }
}

// Input:
//     matches!(scrutinee, pattern if guard)
// Output (the macro's own expansion):
//     match scrutinee { pattern if guard => true, _ => false }
fn matches_as_match(mac: &syn::ExprMacro) -> syn::Result<SynExpr> {
    struct Matches {
        scrutinee: SynExpr,
        pat: syn::Pat,
        guard: Option<SynExpr>,
    }
    impl syn::parse::Parse for Matches {
        fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
            let scrutinee = input.parse()?;
            input.parse::<syn::Token![,]>()?;
            let pat = syn::Pat::parse_multi_with_leading_vert(input)?;
            let guard = if input.peek(syn::Token![if]) {
                input.parse::<syn::Token![if]>()?;
                Some(input.parse()?)
            } else {
                None
            };
            if input.peek(syn::Token![,]) {
                input.parse::<syn::Token![,]>()?;
            }
            Ok(Matches { scrutinee, pat, guard })
        }
    }
    let Ok(Matches { scrutinee, pat, guard }) = mac.mac.parse_body::<Matches>() else { return Err(unsupported_macro(&mac.mac)) };
    let guard = guard.map(|guard| quote!(if #guard));
    Ok(syn::parse_quote_spanned! {mac.span()=>
        match #scrutinee { #pat #guard => true, _ => false }
    })
}

pub fn unsupported_macro(mac: &syn::Macro) -> Error {
    let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
    let message = match name.as_str() {
        "select" | "join" | "try_join" | "select_biased" => format!(
            "unasync lowers `tokio::join!`, `tokio::try_join!` and `tokio::select!`, named by their path, not this `{name}!`: its futures are polled inside its own expansion; name tokio's by its path, or keep this function native"
        ),
        "stream" | "try_stream" => format!(
            "unasync lowers `async_stream::{name}!` named by that path or bare (`use async_stream::{name};`), not by another path: its `.await`s are the stream's; name it so, or keep this function native"
        ),
        _ => format!("unasync does not lower `.await` inside `{name}!` yet; move the `.await` into a `let` before it"),
    };
    Error::new_spanned(mac, message)
}

/// A literal, or a path that names no body local: evaluating it later gives the same value.
fn is_constant(expr: &SynExpr, builder: &Builder) -> bool {
    match strip_parens(expr) {
        SynExpr::Lit(_) => true,
        SynExpr::Path(path) => match super::walk::local_name(strip_parens(expr)) {
            Some(name) => builder.resolve(&name).is_none(),
            None => path.qself.is_none(),
        },
        SynExpr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => is_constant(&unary.expr, builder),
        _ => false,
    }
}

/// Whether evaluating `expr` (after the hole) makes a temporary the statement keeps: what
/// [`Builder::place_operand`] would hoist (a value used as a place, not a local's place).
fn makes_temporaries(expr: &SynExpr, role: Operand) -> bool {
    fn place(expr: &SynExpr) -> bool {
        match expr {
            SynExpr::Paren(paren) => place(&paren.expr),
            SynExpr::Field(field) => place(&field.base),
            SynExpr::Index(index) => place(&index.expr) || value(&index.index),
            SynExpr::Unary(unary) if matches!(unary.op, UnOp::Deref(_)) => place(&unary.expr),
            SynExpr::Path(_) | SynExpr::Lit(_) => false,
            SynExpr::Reference(_) => value(expr),
            other => !holds_only_borrows(other),
        }
    }
    fn value(expr: &SynExpr) -> bool {
        match expr {
            SynExpr::MethodCall(call) => {
                let receiver = if super::walk::is_kept_receiver(&call.receiver, &call.method.to_string()) || is_projection(&call.receiver) {
                    place(&call.receiver)
                } else {
                    value(&call.receiver)
                };
                receiver || call.args.iter().any(value)
            }
            SynExpr::Field(field) => place(&field.base),
            SynExpr::Index(index) => place(&index.expr) || value(&index.index),
            SynExpr::Reference(reference) => place(&reference.expr),
            SynExpr::Unary(unary) if matches!(unary.op, UnOp::Deref(_)) => {
                if super::walk::is_kept_receiver(&unary.expr, "deref") { place(&unary.expr) } else { value(&unary.expr) }
            }
            SynExpr::Unary(unary) => value(&unary.expr),
            SynExpr::Binary(binary) if is_comparison(&binary.op) => place(&binary.left) || place(&binary.right),
            SynExpr::Binary(binary) => value(&binary.left) || value(&binary.right),
            SynExpr::Call(call) => call.args.iter().any(value),
            SynExpr::Paren(paren) => value(&paren.expr),
            SynExpr::Cast(cast) => value(&cast.expr),
            SynExpr::Tuple(tuple) => tuple.elems.iter().any(value),
            SynExpr::Array(array) => array.elems.iter().any(value),
            SynExpr::Struct(literal) => literal.fields.iter().any(|f| value(&f.expr)),
            _ => false,
        }
    }
    match role {
        Operand::Place => !is_local_place(expr) && place(expr),
        Operand::Value => value(expr),
    }
}

/// Whether the receiver of a method of this name is a link of a receiver chain, whose own
/// receiver [`Builder::hoist_places_at`] may move: not the future of a combinator
/// (`a().b().map_err(f)`, where `b`'s result, the future, may borrow `a()`).
fn chains(method: &str) -> bool {
    !super::walk::is_future_combinator(method)
}

/// A field, index or deref projection (of anything).
fn is_projection(expr: &SynExpr) -> bool {
    match strip_parens(expr) {
        SynExpr::Field(_) | SynExpr::Index(_) => true,
        SynExpr::Unary(unary) => matches!(unary.op, UnOp::Deref(_)),
        _ => false,
    }
}

/// A place rooted at a local, whose evaluation has no effects: `x`, `x.field`, `x[0]`, `*x`.
fn is_local_place(expr: &SynExpr) -> bool {
    match strip_parens(expr) {
        SynExpr::Path(path) => path.qself.is_none(),
        SynExpr::Field(field) => is_local_place(&field.base),
        SynExpr::Index(index) => is_local_place(&index.expr) && matches!(strip_parens(&index.index), SynExpr::Lit(_)),
        SynExpr::Unary(unary) => matches!(unary.op, UnOp::Deref(_)) && is_local_place(&unary.expr),
        _ => false,
    }
}

fn is_comparison(op: &syn::BinOp) -> bool {
    super::walk::is_comparison(op)
}

/// An array or tuple literal of `&place`s, `&literal`s and literals.
fn holds_only_borrows(expr: &SynExpr) -> bool {
    let elems: Vec<&SynExpr> = match expr {
        SynExpr::Array(array) => array.elems.iter().collect(),
        SynExpr::Tuple(tuple) => tuple.elems.iter().collect(),
        _ => return false,
    };
    elems.iter().all(|e| match strip_parens(e) {
        SynExpr::Lit(_) => true,
        SynExpr::Reference(reference) => super::walk::is_place_expr(&reference.expr) || matches!(strip_parens(&reference.expr), SynExpr::Lit(_)),
        other => holds_only_borrows(other),
    })
}
