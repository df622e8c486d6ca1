//! tokio's `join!`, `try_join!` and `select!`: their `.await` is inside their expansion, which
//! the attribute does not see, so the machine awaits the futures of the runtime that poll as
//! tokio's expansion does (`unasync::__private::{join, try_join, select2, ..}`, each one awaitee
//! holding the futures once); `select!`'s handlers become the arms of a `match` of the machine,
//! so they `.await`, `return`, `?`, `break` and name any local as natively.
//!
//! Input:
//! ```text
//! let (a, b) = tokio::join!(f(&x), g());
//! tokio::select! { biased; Some(v) = rx.recv(), if open => handle(v).await, n = tick() => n }
//! ```
//! Output (then lowered as any `.await` and `match`; `__check0` bound first in the resume function,
//! `let __check0 = |__out: &_| match __out { n => true, _ => false };`):
//! ```text
//! let (a, b) = { let (__future0, __future1) = (maybe_done(f(&x)), maybe_done(g())); join((__future0, __future1), false).await };
//! match {
//!     let __disabled0: bool = !(open);
//!     let __futures = (rx.recv(), tick());
//!     let __checks = (check_pointer(&__futures.0, |__out| match __out { Some(v) => true, _ => false }), __check0);
//!     select2([__disabled0, false], __futures, __checks, true, tokio::macros::support::thread_rng_n, ..).await
//! } {
//!     Selected::B0(Some(v)) => handle(v).await,
//!     Selected::B1(n) => n,
//!     Selected::Else => panic!("all branches are disabled and there is no else branch"),
//!     _ => unreachable!(),
//! }
//! ```
//! As in tokio's expansion: the preconditions are evaluated first, then every future (in a `let`
//! of their own, whose temporaries end there); the branch's pattern, without `ref` and `mut`,
//! tests a reference to a completed branch's value (a closure bound once at the top of the resume
//! function where the pattern is a binding or `_`, a function pointer typed by the future
//! otherwise: one type wherever the machine writes the `select!`); the winning value is matched against the written
//! pattern once the futures are dropped, so what it leaves unbound is dropped after the handler.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Error, Expr, Pat, Token};

/// The branches the runtime's `Selected` has variants for (`B0..B7`).
const MAX_BRANCHES: usize = 8;

/// Whether this is `tokio::join!`, `tokio::try_join!` or `tokio::select!`: named by its path,
/// or bare (`use tokio::select;`), which [`tokio_guard`] checks at compile time.
pub fn polls_futures(mac: &syn::Macro) -> bool {
    let segments: Vec<String> = mac.path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segments.as_slice() {
        [name] => mac.path.leading_colon.is_none() && matches!(name.as_str(), "join" | "try_join" | "select"),
        [.., krate, name] => krate == "tokio" && matches!(name.as_str(), "join" | "try_join" | "select"),
        _ => false,
    }
}

/// For a bare `select!`, `join!` or `try_join!`, a statement that compiles only if the name is
/// tokio's macro: it is invoked, in an `async` block that is never polled, with `biased;`, which
/// tokio's accepts and `futures::select!`, `futures::join!` and `futures::try_join!` refuse
/// (`futures` has `select_biased!` instead). Nothing for a macro named by its path.
fn tokio_guard(mac: &syn::Macro) -> TokenStream {
    if mac.path.segments.len() > 1 {
        return TokenStream::new();
    }
    let path = &mac.path;
    let name = path.segments[0].ident.to_string();
    let span = Span::mixed_site();
    // Another macro's error at `biased;` points at the user's macro name.
    let at = path.segments[0].ident.span();
    let biased = quote_spanned!(at=> biased;);
    let invocation = if name == "select" {
        quote_spanned!(span=> #path! { #biased _ = ::core::future::pending::<()>() => {} })
    } else {
        quote_spanned!(span=> #path!(#biased ::core::future::ready::<::core::result::Result<(), ()>>(::core::result::Result::Ok(()))))
    };
    quote_spanned! {span=>
        #[allow(clippy::let_underscore_future)]
        let _ = async { #invocation };
    }
}

/// The macro as an expression the lowering handles (see the module doc).
/// `hoisted` receives `select!`'s pattern checks (see [`select`]).
pub fn lower(mac: &syn::ExprMacro, hoisted: &mut Vec<TokenStream>) -> syn::Result<Expr> {
    let name = mac.mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
    if name == "select" {
        return select(mac, hoisted);
    }
    let Joined { biased, futures } = mac.mac.parse_body()?;
    if futures.is_empty() || futures.len() > MAX_BRANCHES {
        return Err(Error::new_spanned(&mac.mac, format!(
            "unasync lowers `{name}!` of 1 to {MAX_BRANCHES} futures (as many as its runtime polls together), and this one has {}; keep this function native (without `#[unasync::desugar]`)",
            futures.len()
        )));
    }
    let span = mac.span();
    let names: Vec<syn::Ident> = (0..futures.len()).map(|k| format_ident!("__future{}", k, span = Span::mixed_site())).collect();
    let constructor = format_ident!("{}", name, span = span);
    let biased = biased.is_some();
    let guard = tokio_guard(&mac.mac);
    Ok(syn::parse_quote_spanned! {span=>
        {
            #guard
            let (#(#names,)*) = (#(::unasync::__private::maybe_done(#futures),)*);
            ::unasync::__private::#constructor((#(#names,)*), #biased).await
        }
    })
}

/// Visits the expressions of a `tokio::join!`, `try_join!` or `select!` left in plain code (in an
/// `async` block of the body), in the order tokio evaluates them, and writes the macro's tokens
/// again: the walk then sees the locals they name as in any expression. False (nothing visited)
/// when they are not of the macro's grammar.
pub fn visit_operands(mac: &mut syn::Macro, mut visit: impl FnMut(&mut Expr)) -> bool {
    let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
    if name == "select" {
        let Ok(mut select) = mac.parse_body::<Select>() else { return false };
        for precondition in select.branches.iter_mut().filter_map(|b| b.precondition.as_mut()) {
            visit(precondition);
        }
        for branch in &mut select.branches {
            visit(&mut branch.future);
        }
        for branch in &mut select.branches {
            visit(&mut branch.handler);
        }
        if let Some((_, handler)) = &mut select.otherwise {
            visit(handler);
        }
        let biased = &select.biased.map(|semi| quote!(biased #semi));
        let branches = select.branches.iter().map(|Branch { pat, future, precondition, handler }| {
            let precondition = precondition.as_ref().map(|c| quote!(, if #c));
            quote!(#pat = #future #precondition => #handler,)
        });
        let otherwise = select.otherwise.as_ref().map(|(token, handler)| quote!(#token => #handler,));
        mac.tokens = quote!(#biased #(#branches)* #otherwise);
    } else {
        let Ok(Joined { biased, mut futures }) = mac.parse_body::<Joined>() else { return false };
        futures.iter_mut().for_each(&mut visit);
        let biased = biased.map(|semi| quote!(biased #semi));
        mac.tokens = quote!(#biased #(#futures),*);
    }
    true
}

/// `join!`'s arguments: `biased;`, then the futures.
struct Joined {
    biased: Option<Token![;]>,
    futures: Vec<Expr>,
}

impl Parse for Joined {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let biased = parse_biased(input)?;
        let futures = syn::punctuated::Punctuated::<Expr, Token![,]>::parse_terminated(input)?;
        Ok(Joined { biased, futures: futures.into_iter().collect() })
    }
}

fn parse_biased(input: ParseStream) -> syn::Result<Option<Token![;]>> {
    if input.peek(syn::Ident) && input.peek2(Token![;]) && input.fork().parse::<syn::Ident>()? == "biased" {
        input.parse::<syn::Ident>()?;
        return Ok(Some(input.parse()?));
    }
    Ok(None)
}

struct Branch {
    pat: Pat,
    future: Expr,
    precondition: Option<Expr>,
    handler: Expr,
}

struct Select {
    biased: Option<Token![;]>,
    branches: Vec<Branch>,
    otherwise: Option<(Token![else], Expr)>,
}

impl Parse for Select {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let biased = parse_biased(input)?;
        let mut branches = Vec::new();
        let mut otherwise = None;
        while !input.is_empty() {
            if input.peek(Token![else]) {
                let token: Token![else] = input.parse()?;
                input.parse::<Token![=>]>()?;
                otherwise = Some((token, handler(input)?));
                continue;
            }
            let pat = Pat::parse_multi_with_leading_vert(input)?;
            input.parse::<Token![=]>()?;
            let future: Expr = input.parse()?;
            let precondition = if input.peek(Token![,]) && input.peek2(Token![if]) {
                input.parse::<Token![,]>()?;
                input.parse::<Token![if]>()?;
                Some(input.parse()?)
            } else {
                None
            };
            input.parse::<Token![=>]>()?;
            branches.push(Branch { pat, future, precondition, handler: handler(input)? });
        }
        Ok(Select { biased, branches, otherwise })
    }
}

/// A handler: a block, its comma optional, or an expression and a comma (none after the last).
fn handler(input: ParseStream) -> syn::Result<Expr> {
    let handler = if input.peek(syn::token::Brace) {
        Expr::Block(input.parse()?)
    } else {
        let expr: Expr = input.parse()?;
        if !input.is_empty() && !input.peek(Token![,]) {
            return Err(input.error("expected `,` after the handler"));
        }
        expr
    };
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
    }
    Ok(handler)
}

/// A branch's pattern check is a closure bound once at the top of the resume function (`hoisted`)
/// where the pattern is a binding or `_`: zero-sized, and one type wherever the emission writes the
/// `select!` (a loop's first iteration and the next ones), so the awaitee has one type. Other
/// patterns are checked by function pointers typed by their future.
fn select(mac: &syn::ExprMacro, hoisted: &mut Vec<TokenStream>) -> syn::Result<Expr> {
    let Select { biased, branches, otherwise } = mac.mac.parse_body().map_err(|e| {
        Error::new(e.span(), format!("unasync reads `select!` as tokio's (`biased;`, `pattern = future, if precondition => handler`, `else => handler`): {e}"))
    })?;
    let handlers = branches.iter().map(|b| &b.handler).chain(otherwise.as_ref().map(|(_, h)| h));
    if let Some(item) = handlers.filter_map(item_in).next() {
        return Err(Error::new(
            item,
            "unasync lowers `select!`'s handlers as the body's own code, after the body's items were moved to its top, and cannot move this one from inside the macro; declare it at the top of the body",
        ));
    }
    if branches.is_empty() || branches.len() > MAX_BRANCHES {
        return Err(Error::new_spanned(
            &mac.mac,
            format!(
                "unasync lowers `select!` with 1 to {MAX_BRANCHES} branches (its runtime has a variant for each), and this one has {}; keep this function native (without `#[unasync::desugar]`)",
                branches.len()
            ),
        ));
    }
    let span = mac.span();
    let private = quote_spanned!(span=> ::unasync::__private);
    let krate = krate(&mac.mac.path);
    let out = syn::Ident::new("__out", Span::mixed_site());
    let futures = syn::Ident::new("__futures", Span::mixed_site());
    let checks_name = syn::Ident::new("__checks", Span::mixed_site());
    let constructor = format_ident!("select{}", branches.len(), span = span);
    let mut preconditions = Vec::new();
    let mut disabled = Vec::new();
    let mut checks = Vec::new();
    let mut pointers = false;
    let mut arms = Vec::new();
    for (k, Branch { pat, precondition, handler, .. }) in branches.iter().enumerate() {
        match precondition {
            // tokio's `if !$c { disabled |= mask }`: a `&bool` is a condition too.
            Some(condition) => {
                let name = format_ident!("__disabled{}", k, span = Span::mixed_site());
                preconditions.push(quote!(let #name: bool = !(#condition);));
                disabled.push(quote!(#name));
            }
            None => disabled.push(quote!(false)),
        }
        let mut test = pat.clone();
        only_test(&mut test);
        // A `match`, not `matches!`: the lowering sees the pattern's bindings as bindings.
        if untyped(&test) {
            let check = format_ident!("__check{}", hoisted.len(), span = Span::mixed_site());
            hoisted.push(quote_spanned!(span=> let #check = |#out: &_| match #out { #test => true, _ => false };));
            checks.push(quote!(#check));
        } else {
            pointers = true;
            // A pattern that types its value needs that type where the closure is written: a
            // function pointer typed by the branch's future (8 bytes).
            let index = syn::Index::from(k);
            checks.push(quote_spanned!(span=> #private::check_pointer(&#futures.#index, |#out| match #out { #test => true, _ => false })));
        }
        let variant = format_ident!("B{}", k, span = span);
        arms.push(quote!(#private::Selected::#variant(#pat) => #handler,));
    }
    let otherwise = match &otherwise {
        Some((_, handler)) => quote!(#handler),
        None => quote!(::core::panic!("all branches are disabled and there is no else branch")),
    };
    // A function pointer typed by a future is made before the futures move into the `select!`.
    let (checks_let, checks_arg) = if pointers {
        (quote!(let #checks_name = (#(#checks,)*);), quote!(#checks_name))
    } else {
        (quote!(), quote!((#(#checks,)*)))
    };
    let values = branches.iter().map(|b| &b.future);
    let biased = biased.is_some();
    // The value is matched as a temporary of the `match`, as tokio's `output` is: a binding by
    // `ref` and one by value in the same pattern, or `x @ Some(_)`, are plain Rust.
    let guard = tokio_guard(&mac.mac);
    // One value wherever the machine writes the `select!` (a loop's head is written twice): a
    // stand-in function declared in each copy would be a type of its own.
    let budget = format_ident!("__budget{}", hoisted.len(), span = Span::mixed_site());
    let probe = budget_check(&krate);
    hoisted.push(quote_spanned!(span=> let #budget = #probe;));
    Ok(syn::parse_quote_spanned! {span=>
        match {
            #guard
            #(#preconditions)*
            let #futures = (#(#values,)*);
            #checks_let
            #private::#constructor(
                [#(#disabled),*],
                #futures,
                #checks_arg,
                #biased,
                #krate::macros::support::thread_rng_n,
                #budget,
            )
            .await
        } {
            #(#arms)*
            #private::Selected::Else => #otherwise,
            _ => ::core::unreachable!(),
        }
    })
}

/// tokio's `select!` checks the task's coop budget before polling its branches from 1.44
/// (`macros::support::poll_budget_available`); before, it has no such function and no check.
/// The glob import of the inner block shadows the outer block's stand-in where tokio has the
/// function, so one expansion serves both (mini-redis locks tokio 1.32).
fn budget_check(krate: &TokenStream) -> TokenStream {
    let span = Span::mixed_site();
    quote_spanned! {span=>
        {
            #[allow(dead_code)]
            fn poll_budget_available(_: &mut ::core::task::Context<'_>) -> ::core::task::Poll<()> {
                ::core::task::Poll::Ready(())
            }
            {
                #[allow(unused_imports)]
                use #krate::macros::support::*;
                poll_budget_available
            }
        }
    }
}

/// The path of the crate that exports the macro (`tokio`, `::tokio`; `::tokio` for a bare name).
fn krate(path: &syn::Path) -> TokenStream {
    if path.segments.len() == 1 {
        return quote_spanned!(path.span()=> ::tokio);
    }
    let mut krate = path.clone();
    krate.segments.pop();
    krate.segments.pop_punct();
    quote!(#krate)
}

/// Where an item is declared in `expr` (`const K: u32 = 4;` in a handler's block).
fn item_in(expr: &Expr) -> Option<Span> {
    struct Find(Option<Span>);
    impl<'ast> syn::visit::Visit<'ast> for Find {
        fn visit_item(&mut self, item: &'ast syn::Item) {
            let macro_rules = matches!(item, syn::Item::Macro(m) if m.mac.path.is_ident("macro_rules"));
            if self.0.is_none() && !macro_rules {
                self.0 = Some(item.span());
            }
        }
    }
    let mut find = Find(None);
    syn::visit::Visit::visit_expr(&mut find, expr);
    find.0
}

/// Whether the pattern says nothing of its value's type (a binding, `_`): its check, a closure
/// written before the value's type is known, then takes that type from its use. Any other pattern
/// would type the closure's argument itself, wrongly for an output that is a reference (`Some(v)`
/// matching a `&Option<u32>` through default binding modes).
fn untyped(pat: &Pat) -> bool {
    match pat {
        Pat::Wild(_) => true,
        // A capitalised name is a unit variant or a constant (`None`), as rustc resolves it.
        Pat::Ident(ident) => {
            ident.subpat.is_none() && ident.ident.to_string().trim_start_matches("r#").starts_with(|c: char| c.is_lowercase() || c == '_')
        }
        Pat::Paren(paren) => untyped(&paren.pat),
        _ => false,
    }
}

/// The pattern as tokio's `select_priv_clean_pattern!` makes it, to test a reference to the
/// value: no `ref` or `mut` (its bindings, unused, bind by reference).
fn only_test(pat: &mut Pat) {
    struct Test;
    impl syn::visit_mut::VisitMut for Test {
        fn visit_pat_ident_mut(&mut self, ident: &mut syn::PatIdent) {
            ident.by_ref = None;
            ident.mutability = None;
            syn::visit_mut::visit_pat_ident_mut(self, ident);
        }
        fn visit_pat_reference_mut(&mut self, reference: &mut syn::PatReference) {
            reference.mutability = None;
            syn::visit_mut::visit_pat_reference_mut(self, reference);
        }
    }
    syn::visit_mut::VisitMut::visit_pat_mut(&mut Test, pat);
}
