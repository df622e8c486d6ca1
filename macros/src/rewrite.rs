//! Code without `.await` runs as written, except where it names a saved local, leaves the async
//! fn (`return`, `?`), or jumps to a loop the lowering split into basic blocks.
//!
//! Input:
//! ```text
//! if buf.len() > n { return Err(e); }        // buf saved, inside a lowered loop
//! ```
//! Output:
//! ```text
//! if (*unsafe { __Frame::buf(__this).place_mut() }).len() > n {
//!     break '__block Exit::Return(Err(e));
//! }
//! ```

use proc_macro2::{TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{BinOp, Error, Expr, Stmt, UnOp};

use crate::lowering::{is_comparison, is_compound_assignment, pattern_bindings, single_ident, try_operator, Lowerer, Use};
use crate::scope::{Binding, Resolved, Scope};

impl Lowerer {
    pub(crate) fn rewrite_expr(&mut self, expr: &mut Expr, use_: Use) -> syn::Result<()> {
        let mut rewriter = Rewriter { error: None, in_closure: 0, conditional: self.inline_conditional, captures: None, lowerer: self };
        rewriter.expr(expr, use_);
        rewriter.finish()
    }

    /// A `let` with no `.await` whose bindings are ordinary locals.
    pub(crate) fn rewrite_stmt(&mut self, stmt: &mut Stmt) -> syn::Result<()> {
        let mut rewriter = Rewriter { error: None, in_closure: 0, conditional: self.inline_conditional, captures: None, lowerer: self };
        rewriter.stmt(stmt);
        rewriter.finish()
    }
}

struct Rewriter<'a> {
    lowerer: &'a mut Lowerer,
    error: Option<Error>,
    /// Inside a closure or async block: `return`, `?` and jumps are its own.
    in_closure: usize,
    /// Inside code that may not run on every path through the statement (a branch, a loop
    /// body, the right of `&&`/`||`).
    conditional: usize,
    /// A dry run over a closure or async block: the saved locals it captures, and how it uses
    /// them. Nothing is recorded in the lowering.
    captures: Option<Vec<(usize, String, Use)>>,
}

impl Rewriter<'_> {
    fn finish(self) -> syn::Result<()> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    fn fail(&mut self, error: Error) {
        match &mut self.error {
            Some(existing) => existing.combine(error),
            None => self.error = Some(error),
        }
    }

    fn push_scope(&mut self, barrier: bool) {
        self.lowerer.scopes.push(Scope { barrier, ..Scope::default() });
    }

    fn pop_scope(&mut self) {
        self.lowerer.scopes.pop();
    }

    fn bind_pattern(&mut self, pattern: &syn::Pat) {
        for name in pattern_bindings(pattern) {
            self.lowerer.scopes.bind(name, Binding::Plain(None));
        }
    }

    /// A path naming a local: the saved local's place or value, or the plain local's name.
    fn local(&mut self, expr: &mut Expr, use_: Use) {
        let Some(name) = single_ident(expr) else { return };
        let span = expr.span();
        match self.lowerer.scopes.resolve(&name) {
            Some(Resolved::Slot(id)) => {
                if use_ == Use::Value {
                    self.record_take(id);
                } else {
                    self.record_place(id);
                }
                let slot = self.lowerer.slot(id);
                let tokens = match use_ {
                    // SAFETY: the borrow checker accepted the user's body, so the local is
                    // initialised here and this use does not overlap another.
                    Use::Value => quote::quote_spanned!(span=> (unsafe { #slot.take() })),
                    Use::PlaceRef => quote::quote_spanned!(span=> (*unsafe { #slot.place_ref() })),
                    Use::PlaceMut => quote::quote_spanned!(span=> (*unsafe { #slot.place_mut() })),
                };
                *expr = Expr::Verbatim(tokens);
            }
            Some(Resolved::Plain(Some(rename))) => {
                let rename = proc_macro2::Ident::new(&rename.to_string(), rename.span().located_at(span));
                *expr = Expr::Verbatim(quote!(#rename));
            }
            Some(Resolved::Deref(reference)) => {
                let reference = proc_macro2::Ident::new(&reference.to_string(), reference.span().located_at(span));
                *expr = Expr::Verbatim(quote!((*#reference)));
            }
            Some(Resolved::CapturedSlot(id)) => match &mut self.captures {
                Some(captures) => captures.push((id, name, use_)),
                None => self.fail(Error::new(span, format!("internal: capture of `{name}` was not bound"))),
            },
            Some(Resolved::Plain(None)) | None => {}
        }
    }

    fn expr(&mut self, expr: &mut Expr, use_: Use) {
        match expr {
            Expr::Path(_) => self.local(expr, use_),
            Expr::Paren(paren) => self.expr(&mut paren.expr, use_),
            Expr::Group(group) => self.expr(&mut group.expr, use_),
            Expr::Reference(reference) => {
                let inner = if reference.mutability.is_some() { Use::PlaceMut } else { Use::PlaceRef };
                self.expr(&mut reference.expr, inner);
            }
            Expr::RawAddr(raw) => {
                let inner = match raw.mutability {
                    syn::PointerMutability::Mut(_) => Use::PlaceMut,
                    _ => Use::PlaceRef,
                };
                self.expr(&mut raw.expr, inner);
            }
            Expr::Call(call) => {
                // Calling a closure held in a local borrows it (`Fn`, `FnMut`); an `FnOnce` call
                // would move it, which rustc then refuses through the borrow.
                self.expr(&mut call.func, Use::PlaceMut);
                for arg in &mut call.args {
                    self.expr(arg, Use::Value);
                }
            }
            Expr::MethodCall(call) => {
                self.expr(&mut call.receiver, Use::PlaceMut);
                for arg in &mut call.args {
                    self.expr(arg, Use::Value);
                }
            }
            Expr::Field(field) => {
                let base = if use_ == Use::Value { Use::PlaceRef } else { use_ };
                self.expr(&mut field.base, base);
            }
            Expr::Index(index) => {
                let base = if use_ == Use::Value { Use::PlaceRef } else { use_ };
                self.expr(&mut index.expr, base);
                self.expr(&mut index.index, Use::Value);
            }
            Expr::Assign(assign) => {
                self.expr(&mut assign.right, Use::Value);
                let slot = single_ident(&assign.left).and_then(|name| match self.lowerer.scopes.resolve(&name) {
                    Some(Resolved::Slot(id)) => Some(id),
                    _ => None,
                });
                match slot {
                    Some(id) => {
                        if self.captures.is_none() {
                            self.lowerer.record_assignment(id);
                        }
                        let slot = self.lowerer.slot(id);
                        let value = &assign.right;
                        // SAFETY: the local is in scope; its flag says whether to drop the old
                        // value. The value is computed outside the `unsafe` block.
                        *expr = Expr::Verbatim(quote!({ let __assigned = #value; unsafe { #slot.assign(__assigned) } }));
                    }
                    None => self.expr(&mut assign.left, Use::PlaceMut),
                }
            }
            Expr::Binary(binary) => {
                let (left, right) = match binary.op {
                    op if is_comparison(&op) => (Use::PlaceRef, Use::PlaceRef),
                    op if is_compound_assignment(&op) => (Use::PlaceMut, Use::Value),
                    _ => (Use::Value, Use::Value),
                };
                self.expr(&mut binary.left, left);
                let lazy = matches!(binary.op, BinOp::And(_) | BinOp::Or(_));
                self.conditional += usize::from(lazy);
                self.expr(&mut binary.right, right);
                self.conditional -= usize::from(lazy);
            }
            Expr::Unary(unary) => {
                let inner = if matches!(unary.op, UnOp::Deref(_)) {
                    if use_ == Use::Value { Use::PlaceRef } else { use_ }
                } else {
                    Use::Value
                };
                self.expr(&mut unary.expr, inner);
            }
            Expr::Match(matching) => {
                self.expr(&mut matching.expr, Use::PlaceMut);
                self.conditional += 1;
                for arm in &mut matching.arms {
                    self.push_scope(false);
                    let (pattern, guard) = match &mut arm.pat {
                        syn::Pat::Guard(guarded) => (&*guarded.pat, Some(&mut guarded.guard)),
                        other => (&*other, None),
                    };
                    let pattern = pattern.clone();
                    self.bind_pattern(&pattern);
                    if let Some(guard) = guard {
                        self.expr(guard, Use::PlaceRef);
                    }
                    self.expr(&mut arm.body, Use::Value);
                    self.pop_scope();
                }
                self.conditional -= 1;
            }
            Expr::Let(binding) => {
                self.expr(&mut binding.expr, Use::PlaceMut);
                let pattern = (*binding.pat).clone();
                self.bind_pattern(&pattern);
            }
            Expr::If(conditional) => {
                self.push_scope(false);
                self.expr(&mut conditional.cond, Use::PlaceRef);
                self.conditional += 1;
                self.block(&mut conditional.then_branch);
                self.pop_scope();
                if let Some((_, other)) = &mut conditional.else_branch {
                    self.expr(other, Use::Value);
                }
                self.conditional -= 1;
            }
            Expr::While(looping) => {
                self.conditional += 1;
                self.push_target(looping.label.as_ref(), true);
                self.push_scope(false);
                self.expr(&mut looping.cond, Use::PlaceRef);
                self.block(&mut looping.body);
                self.pop_scope();
                self.lowerer.targets.pop();
                self.conditional -= 1;
            }
            Expr::Loop(looping) => {
                self.conditional += 1;
                self.push_target(looping.label.as_ref(), true);
                self.block(&mut looping.body);
                self.lowerer.targets.pop();
                self.conditional -= 1;
            }
            Expr::ForLoop(looping) => {
                self.expr(&mut looping.expr, Use::Value);
                self.conditional += 1;
                self.push_target(looping.label.as_ref(), true);
                self.push_scope(false);
                let pattern = (*looping.pat).clone();
                self.bind_pattern(&pattern);
                self.block(&mut looping.body);
                self.pop_scope();
                self.lowerer.targets.pop();
                self.conditional -= 1;
            }
            Expr::Block(block) => {
                // After a `break 'label`, the rest of a labeled block may not run.
                let labeled = usize::from(block.label.is_some());
                if labeled == 1 {
                    self.push_target(block.label.as_ref(), false);
                }
                self.conditional += labeled;
                self.block(&mut block.block);
                self.conditional -= labeled;
                if labeled == 1 {
                    self.lowerer.targets.pop();
                }
            }
            Expr::Unsafe(block) => self.block(&mut block.block),
            Expr::Const(block) => self.block(&mut block.block),
            Expr::Closure(_) | Expr::Async(_) => self.capturing(expr),
            Expr::Return(ret) if self.in_closure == 0 => {
                let value = match &mut ret.expr {
                    Some(value) => {
                        self.expr(value, Use::Value);
                        value.to_token_stream()
                    }
                    None => quote!(()),
                };
                *expr = Expr::Verbatim(quote!(break '__block ::unasync::__private::Exit::Return(#value)));
            }
            Expr::Try(question) if self.in_closure == 0 => {
                self.expr(&mut question.expr, Use::Value);
                let value = question.expr.to_token_stream();
                *expr = Expr::Verbatim(try_operator(value, question.question_token.span));
            }
            Expr::Break(jump) => {
                if let Some(value) = &mut jump.expr {
                    self.expr(value, Use::Value);
                }
                if self.in_closure == 0 && self.targets_lowered(jump.label.as_ref(), true) {
                    let value = jump.expr.as_ref().map(|v| v.to_token_stream());
                    match self.lowerer.jump(jump.label.as_ref(), true, value, jump.break_token.span) {
                        Ok(tokens) => *expr = Expr::Verbatim(tokens),
                        Err(error) => self.fail(error),
                    }
                }
            }
            Expr::Continue(jump) => {
                if self.in_closure == 0 && self.targets_lowered(jump.label.as_ref(), false) {
                    match self.lowerer.jump(jump.label.as_ref(), false, None, jump.continue_token.span) {
                        Ok(tokens) => *expr = Expr::Verbatim(tokens),
                        Err(error) => self.fail(error),
                    }
                }
            }
            Expr::Struct(literal) => {
                for field in &mut literal.fields {
                    if field.colon_token.is_none() {
                        // `S { x }` names the local `x`.
                        field.colon_token = Some(Default::default());
                    }
                    self.expr(&mut field.expr, Use::Value);
                }
                if let Some(rest) = &mut literal.rest {
                    self.expr(rest, Use::PlaceMut);
                }
            }
            Expr::Macro(mac) => self.mac(&mut mac.mac),
            other => syn::visit_mut::visit_expr_mut(self, other),
        }
    }

    fn record_take(&mut self, id: usize) {
        if self.captures.is_none() {
            self.lowerer.record_take(id, self.conditional > 0);
        }
    }

    fn record_place(&mut self, id: usize) {
        if self.captures.is_none() {
            self.lowerer.record_place(id);
        }
    }

    /// The body of a closure or async block, which runs later, on its own.
    fn capture_body(&mut self, expr: &mut Expr) {
        let targets = std::mem::take(&mut self.lowerer.targets);
        self.in_closure += 1;
        self.push_scope(true);
        match expr {
            Expr::Closure(closure) => {
                for input in &closure.inputs {
                    self.bind_pattern(input);
                }
                self.expr(&mut closure.body, Use::Value);
            }
            Expr::Async(block) => self.block(&mut block.block),
            _ => unreachable!("capture_body takes closures and async blocks"),
        }
        self.pop_scope();
        self.in_closure -= 1;
        self.lowerer.targets = targets;
    }

    // Input:
    //     let f = |n| buf.len() + n;          // buf saved across an `.await`
    //     let g = move || consume(t);          // t saved
    // Output:
    //     let f = { let __capture_buf = unsafe { buf_slot.place_ref() }; |n| (*__capture_buf).len() + n };
    //     let g = { let t = unsafe { t_slot.take() }; move || consume(t) };
    // A closure captures a saved local by reference (shared, or mutable when it mutates it) or,
    // with `move`, by value, as rustc's capture analysis does for the uses that are visible.
    fn capturing(&mut self, expr: &mut Expr) {
        if self.captures.is_some() {
            // Inside another closure's dry run: only collect.
            return self.capture_body(expr);
        }
        let by_value = match &*expr {
            Expr::Closure(closure) => closure.capture.is_some(),
            Expr::Async(block) => block.capture.is_some(),
            _ => false,
        };
        let mut dry = expr.clone();
        let saved = self.captures.replace(Vec::new());
        let errors = self.error.take();
        self.capture_body(&mut dry);
        let captures = std::mem::replace(&mut self.captures, saved).unwrap_or_default();
        self.error = errors;

        let mut order: Vec<(usize, String)> = Vec::new();
        for (id, name, _) in &captures {
            if !order.iter().any(|(seen, _)| seen == id) {
                order.push((*id, name.clone()));
            }
        }
        let mut bindings = TokenStream::new();
        self.push_scope(false);
        for (id, name) in order {
            let slot = self.lowerer.slot(id);
            if by_value {
                self.record_take(id);
                // The body's uses are renamed to this hygienic local: its own name could not be
                // rebuilt with the right hygiene inside a `macro_rules!` expansion.
                let local = if name == "self" {
                    crate::scope::internal("__self_capture")
                } else {
                    crate::scope::internal(&format!("__moved_{}", name.trim_start_matches("r#")))
                };
                // SAFETY: the local is initialised (the borrow checker accepted the move).
                bindings.extend(quote!(let #local = unsafe { #slot.take() };));
                self.lowerer.scopes.bind(name, Binding::Plain(Some(local)));
            } else {
                self.record_place(id);
                let mutable = captures.iter().any(|(c, _, use_)| *c == id && *use_ == Use::PlaceMut);
                let reference = crate::scope::internal(&format!("__capture_{}", name.trim_start_matches("r#")));
                let place = if mutable { quote!(place_mut) } else { quote!(place_ref) };
                // SAFETY: as for any use of the local: the borrow checker accepted the closure.
                bindings.extend(quote!(let #reference = unsafe { #slot.#place() };));
                self.lowerer.scopes.bind(name, Binding::Deref(reference));
            }
        }
        self.capture_body(expr);
        self.pop_scope();
        if !bindings.is_empty() {
            let closure = expr.to_token_stream();
            *expr = Expr::Verbatim(quote!({ #bindings #closure }));
        }
    }

    fn targets_lowered(&self, label: Option<&syn::Lifetime>, is_break: bool) -> bool {
        self.lowerer
            .targets
            .iter()
            .rev()
            .find(|target| target.matches(label, is_break))
            .is_some_and(|target| target.is_lowered())
    }

    fn push_target(&mut self, label: Option<&syn::Label>, is_loop: bool) {
        self.lowerer.targets.push(crate::lowering::Target::ordinary(label, is_loop));
    }

    fn block(&mut self, block: &mut syn::Block) {
        self.push_scope(false);
        for stmt in &mut block.stmts {
            self.stmt(stmt);
        }
        self.pop_scope();
    }

    fn stmt(&mut self, stmt: &mut Stmt) {
        match stmt {
            Stmt::Local(local) => {
                let pattern = match &local.pat {
                    syn::Pat::Type(typed) => &*typed.pat,
                    other => other,
                };
                let use_ = match pattern {
                    syn::Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => Use::Value,
                    _ => Use::PlaceMut,
                };
                if let Some(init) = &mut local.init {
                    self.expr(&mut init.expr, use_);
                    if let Some((_, diverge)) = &mut init.diverge {
                        self.expr(diverge, Use::Value);
                    }
                }
                let pattern = local.pat.clone();
                self.bind_pattern(&pattern);
            }
            Stmt::Item(_) => {}
            Stmt::Expr(expr, _) => self.expr(expr, Use::Value),
            Stmt::Macro(mac) => self.mac(&mut mac.mac),
        }
    }

    /// Standard macros whose arguments are expressions are rewritten like expressions; any other
    /// macro must not name a saved local, since its expansion cannot be seen from here.
    fn mac(&mut self, mac: &mut syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        let (format_index, first_use) = match name.as_str() {
            "format" | "print" | "println" | "eprint" | "eprintln" | "format_args" | "panic"
            | "unreachable" | "todo" | "unimplemented" => (Some(0), Use::PlaceRef),
            "write" | "writeln" => (Some(1), Use::PlaceMut),
            "assert" | "debug_assert" => (Some(1), Use::PlaceRef),
            "assert_eq" | "assert_ne" | "debug_assert_eq" | "debug_assert_ne" => (Some(2), Use::PlaceRef),
            "vec" | "dbg" => (None, Use::Value),
            _ => {
                self.check_opaque_macro(mac);
                return;
            }
        };
        let parser = Punctuated::<Expr, syn::Token![,]>::parse_terminated;
        let Ok(mut args) = mac.parse_body_with(parser) else {
            self.check_opaque_macro(mac);
            return;
        };
        let arg_use = if format_index.is_some() { Use::PlaceRef } else { Use::Value };
        let named: Vec<String> = args
            .iter()
            .filter_map(|arg| match arg {
                Expr::Assign(assign) => single_ident(&assign.left),
                _ => None,
            })
            .collect();
        let mut captures = Vec::new();
        for (index, arg) in args.iter_mut().enumerate() {
            if Some(index) == format_index {
                if let Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(literal), .. }) = arg {
                    for name in inline_captures(&literal.value()) {
                        if !named.contains(&name) && !captures.iter().any(|(n, _)| n == &name) {
                            captures.push((name, literal.span()));
                        }
                    }
                }
                continue;
            }
            match arg {
                Expr::Assign(assign) if format_index.is_some() => self.expr(&mut assign.right, Use::PlaceRef),
                other if index == 0 && format_index != Some(0) => self.expr(other, first_use),
                other => self.expr(other, arg_use),
            }
        }
        let mut extra = Vec::new();
        for (name, span) in captures {
            let mut value = Expr::Verbatim(proc_macro2::Ident::new(&name, span).into_token_stream());
            value = syn::parse2(value.to_token_stream()).unwrap_or(value);
            let before = value.to_token_stream().to_string();
            self.local(&mut value, Use::PlaceRef);
            if value.to_token_stream().to_string() != before {
                let ident = proc_macro2::Ident::new(&name, span);
                extra.push(quote!(#ident = #value));
            }
        }
        let mut tokens = args.to_token_stream();
        if !extra.is_empty() {
            if !args.empty_or_trailing() {
                tokens.extend(quote!(,));
            }
            tokens.extend(quote!(#(#extra),*));
        }
        mac.tokens = tokens;
    }

    fn check_opaque_macro(&mut self, mac: &syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if let Some(local) = self.mentioned_local(mac.tokens.clone()) {
            self.fail(Error::new_spanned(
                mac,
                format!(
                    "unasync cannot see inside `{name}!`, and it uses `{local}`, a local held across an `.await`; bind what it needs with `let` first"
                ),
            ));
        }
    }

    fn mentioned_local(&self, tokens: TokenStream) -> Option<String> {
        for token in tokens {
            match token {
                TokenTree::Ident(ident) => {
                    let name = ident.to_string();
                    if matches!(
                        self.lowerer.scopes.resolve(&name),
                        Some(Resolved::Slot(_) | Resolved::Plain(Some(_)) | Resolved::Deref(_) | Resolved::CapturedSlot(_))
                    ) {
                        return Some(name);
                    }
                }
                TokenTree::Group(group) => {
                    if let Some(found) = self.mentioned_local(group.stream()) {
                        return Some(found);
                    }
                }
                _ => {}
            }
        }
        None
    }
}

impl VisitMut for Rewriter<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        self.expr(expr, Use::Value);
    }
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        self.block(block);
    }
    fn visit_stmt_mut(&mut self, stmt: &mut Stmt) {
        self.stmt(stmt);
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    fn visit_pat_mut(&mut self, _: &mut syn::Pat) {}
    fn visit_type_mut(&mut self, _: &mut syn::Type) {}
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        self.mac(mac);
    }
}

/// Names captured inline by a format string: `{x}`, `{x:?}`.
fn inline_captures(format: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
            }
            '{' => {
                let name: String = chars.clone().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if name.starts_with(|c: char| c.is_alphabetic() || c == '_') && name != "_" {
                    names.push(name);
                }
            }
            _ => {}
        }
    }
    names
}
