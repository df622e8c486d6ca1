//! Lowering in place: the `async move` block that an attribute such as `#[async_trait]` makes of
//! an `async fn`'s body becomes the state machine, an expression where the block was, and the
//! function around it stays as the attribute wrote it.
//!
//! Input (async-trait 0.1, on `async fn get(&self, k: u32) -> u32 { ready(k).await + 1 }`):
//! ```text
//! fn get<'life0, 'async_trait>(&'life0 self, k: u32)
//!     -> Pin<Box<dyn Future<Output = u32> + Send + 'async_trait>> where ..
//! {
//!     Box::pin(async move { let __self = self; let k = k; let __ret: u32 = { .. }; __ret })
//! }
//! ```
//! Output:
//! ```text
//! fn get<'life0, 'async_trait>(&'life0 self, k: u32) -> Pin<Box<..>> where .. {
//!     Box::pin({
//!         let mut __native = PhantomData;
//!         if false { __native = check_output::<u32, _>(async move { <the block as written> }); loop {} }
//!         enum __State<..> { Unresumed { self_: .., k: .. }, .. }
//!         ..
//!         Machine::new(__State::Unresumed { self_: MaybeUninit::new(self), k: MaybeUninit::new(k) }, ..)
//!     })
//! }
//! ```
//! The block's captured variables play the part of the `async fn`'s parameters: the machine holds
//! them in `Unresumed`, moved in when it is created, as the `async move` block moves them in. The
//! generated items name neither `Self` nor the function's generics (every field's type is a
//! type parameter rustc infers), so they can live in a method's body; the expression around
//! them may name both.
//!
//! A block captures a variable it mentions by value, or only the places it uses (edition 2021's
//! precise captures, decided by the edition of the crate that wrote `async move`: tracing's
//! blocks are edition 2018's): the machine takes the whole variable, so [`check_whole_captures`]
//! refuses a block with precise captures that may use only part of a variable with drop glue
//! (`x.field`, `let (a, _) = x`), or that declares its own variable of the name before using the
//! captured one. async-trait's
//! blocks move each argument whole at their start (`let k = k;`), which the machine does at once
//! ([`bind_at_start`]).

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;
use syn::visit::Visit;
use syn::{Expr, ExprAsync, FnArg, Ident, Pat, ReturnType, Type};

use crate::input::AsyncFn;
use crate::signature::{Arg, ArgBinding, Signature, TypeNames};

/// A variable the block captures, moved into the machine when it is created.
pub struct Capture {
    /// Its name, `self` for the receiver.
    pub name: Ident,
    /// Its type, where it can be read (`&Self` for `&self`).
    pub ty: Option<Type>,
    /// Whether it is bound `mut` outside the block (the block may then assign it).
    pub mutable: bool,
}

impl Capture {
    fn is_self(&self) -> bool {
        self.name == "self"
    }
}

/// The machine for `block`, in place of it: `captures` are what it moves in, in the order it
/// first mentions them; `output` is its output type where it can be written; `hashed` names the
/// generated types (see [`TypeNames`]).
pub fn lower(block: &ExprAsync, captures: Vec<Capture>, output: Option<Type>, hashed: &syn::Signature) -> syn::Result<Expr> {
    let mut body = block.block.clone();
    let bound = bind_at_start(&mut body, &captures);
    let items = crate::items::hoist(&mut body)?;
    let function = AsyncFn {
        attrs: Vec::new(),
        vis: syn::Visibility::Inherited,
        defaultness: None,
        sig: syn::parse_quote!(async fn __unasync_block()),
        block: body,
        items,
    };
    // The order the machine declares them in: the captures the block keeps as they are, last
    // captured first, then those it moves into locals of its own (in the order of their `let`s).
    // The body's end drops them in reverse: the locals first, then the rest in the order the
    // block captured them, as rustc drops a block's locals and then its captured variables.
    let kept = (0..captures.len()).rev().filter(|&index| bound[index].is_none());
    let moved = (0..captures.len()).filter(|&index| bound[index].is_some());
    let order: Vec<usize> = kept.chain(moved).collect();
    let unresumed_drops: Vec<usize> =
        (0..captures.len()).map(|index| order.iter().position(|&declared| declared == index).expect("declared")).collect();
    let args = order
        .iter()
        .map(|&index| {
            let capture = &captures[index];
            let span = capture.name.span();
            let binding = match bound[index].clone() {
                Some((ident, mutable)) => ArgBinding::Ident { ident, mutable },
                None if capture.is_self() => ArgBinding::SelfValue,
                None => {
                    let mutable = capture.mutable.then(|| syn::Token![mut](span));
                    ArgBinding::Ident { ident: capture.name.clone(), mutable }
                }
            };
            Arg { param: capture.name.clone(), binding }
        })
        .collect();
    let check = match &output {
        Some(output) => quote!(::unasync::__private::check_output::<#output, _>),
        None => quote!(::unasync::__private::native_of),
    };
    // The block as written, type-checked and never run: its future gives the machine rustc's
    // auto traits.
    let native = quote! {
        #[allow(unused_assignments)]
        let mut __native = ::core::marker::PhantomData;
        if false {
            __native = #check(#block);
            loop {}
        }
    };
    let signature = Signature {
        tokens: TokenStream::new(),
        args,
        arg_types: order.iter().map(|&index| captures[index].ty.clone()).collect(),
        declared_output: match &output {
            Some(output) => syn::parse_quote!(-> #output),
            None => ReturnType::Default,
        },
        output,
        types: TypeNames::for_signature(hashed),
    };
    let lowered = crate::lower::lower_block(&function, &signature, native, unresumed_drops)?;
    Ok(Expr::Verbatim(lowered))
}

// Input:  async move { if let Some(__ret) = None::<u32> { return __ret; } let mut __self = self; let k = k; .. }
// Output: async move { if let Some(__ret) = None::<u32> { return __ret; } .. }, and [`__self` (mut), `k`]
/// Takes out of `body` the statements at its start that move a captured variable whole into a
/// local of its own, before any other use of it and before any `.await`: the machine binds the
/// local to the captured value at once. It is the same: the captured variable is dead from that
/// `let` on, and the statements before it neither suspend nor use it. Returns, per capture, the
/// local and its `mut`.
fn bind_at_start(body: &mut syn::Block, captures: &[Capture]) -> Vec<Option<(Ident, Option<syn::Token![mut]>)>> {
    let mut bound = vec![None; captures.len()];
    let mut kept = Vec::new();
    let mut open = true;
    for stmt in std::mem::take(&mut body.stmts) {
        if open
            && let syn::Stmt::Local(local) = &stmt
            && local.attrs.is_empty()
            && let Pat::Ident(name) = &local.pat
            && name.by_ref.is_none()
            && name.subpat.is_none()
            && let Some(init) = &local.init
            && init.diverge.is_none()
            && let Expr::Path(value) = &*init.expr
            && value.attrs.is_empty()
            && value.qself.is_none()
            && let Some(index) = captures.iter().position(|c| value.path.is_ident(&c.name))
            && bound[index].is_none()
            && !captures.iter().any(|c| c.name == name.ident && c.name != captures[index].name)
        {
            bound[index] = Some((name.ident.clone(), name.mutability));
            continue;
        }
        let tokens = quote!(#stmt);
        if crate::awaits::stmt_awaits(&stmt) || captures.iter().any(|c| first_mention(&tokens, &c.name.to_string(), &mut 0).is_some()) {
            open = false;
        }
        kept.push(stmt);
    }
    body.stmts = kept;
    bound
}

/// The function's parameters that `block` mentions, in the order it first mentions them, with
/// their types.
pub fn captured_parameters(sig: &syn::Signature, block: &ExprAsync) -> Option<Vec<Capture>> {
    let tokens = quote!(#block);
    let mut captures = Vec::new();
    for input in &sig.inputs {
        let capture = match input {
            FnArg::Receiver(receiver) => {
                let ty: Option<Type> = match &receiver.kind {
                    syn::ReceiverKind::Reference(_, lifetime, mutability) => Some(syn::parse_quote!(&#lifetime #mutability Self)),
                    syn::ReceiverKind::Typed(_, ty) => Some((**ty).clone()),
                    syn::ReceiverKind::Value => Some(syn::parse_quote!(Self)),
                    _ => None,
                };
                let mutable = receiver.mutability.is_some();
                Capture { name: Ident::new("self", receiver.self_token.span), ty, mutable }
            }
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(name) if name.by_ref.is_none() && name.subpat.is_none() => Capture {
                    name: name.ident.clone(),
                    ty: Some((*typed.ty).clone()),
                    mutable: name.mutability.is_some(),
                },
                _ => return None,
            },
        };
        if let Some(position) = first_mention(&tokens, &capture.name.to_string(), &mut 0) {
            captures.push((position, capture));
        }
    }
    captures.sort_by_key(|(position, _)| *position);
    Some(captures.into_iter().map(|(_, capture)| capture).collect())
}

/// The index, in token order, of the first identifier `name` in `tokens`.
fn first_mention(tokens: &TokenStream, name: &str, index: &mut usize) -> Option<usize> {
    for token in tokens.clone() {
        *index += 1;
        match token {
            TokenTree::Ident(ident) if ident == name => return Some(*index),
            TokenTree::Group(group) => {
                if let Some(found) = first_mention(&group.stream(), name, index) {
                    return Some(found);
                }
            }
            TokenTree::Literal(literal) if names_in_format_string(&literal, name) => return Some(*index),
            _ => {}
        }
    }
    None
}

/// Whether `literal` is a string that, as a format string, names `name` (`"{name}"`, `"{name:?}"`):
/// `format!` and the like capture it.
fn names_in_format_string(literal: &proc_macro2::Literal, name: &str) -> bool {
    let text = literal.to_string();
    (text.starts_with('"') || text.starts_with('r'))
        && (text.contains(&format!("{{{name}}}")) || text.contains(&format!("{{{name}:")))
}

/// `T` in a return type `Pin<Box<dyn Future<Output = T> + ..>>`.
pub fn boxed_future_output(output: &ReturnType) -> Option<Type> {
    struct Finder(Option<Type>);
    impl<'a> Visit<'a> for Finder {
        fn visit_assoc_type(&mut self, assoc: &'a syn::AssocType) {
            if self.0.is_none() && assoc.ident == "Output" {
                self.0 = Some(assoc.ty.clone());
            }
        }
    }
    let ReturnType::Type(_, ty) = output else { return None };
    let mut finder = Finder(None);
    finder.visit_type(ty);
    finder.0
}

/// Refuses a block that may capture only part of a variable the machine would take whole:
/// rustc's `async move` block captures the places it uses (a field, `let (a, _) = x`, nothing
/// for `let _ = x`), and leaves the rest of the variable to be dropped with the function. A
/// variable that has no drop glue of its own (a reference) may be used in any way. `what` names
/// the attribute in the messages; `precise` says whether the block captures places (the edition
/// of the tokens `async move` came from is 2021 or later).
pub fn check_whole_captures(block: &syn::Block, captures: &[Capture], what: &str, precise: bool) -> syn::Result<()> {
    for capture in captures {
        let reference = matches!(capture.ty, Some(Type::Reference(_)));
        if reference {
            continue;
        }
        let mut uses = Uses { name: &capture.name, first: None, partial: None };
        uses.visit_block(block);
        let name = &capture.name;
        if let Some(Use::Shadowed(span)) = uses.first {
            return Err(syn::Error::new(
                span,
                format!(
                    "#[unasync::desugar] under {what} takes each argument its body mentions into the state machine \
                     whole, but this binding declares another `{name}` before the body uses the argument: rename it"
                ),
            ));
        }
        if let Some(span) = uses.partial.filter(|_| precise) {
            return Err(syn::Error::new(
                span,
                format!(
                    "#[unasync::desugar] under {what} takes the argument `{name}` into the state machine whole, where \
                     rustc's `async move` block captures only the part used here and leaves the rest to be dropped \
                     with the function: move it whole into a local of another name first (`let whole = {name};`) and use \
                     that, or keep this function native"
                ),
            ));
        }
    }
    Ok(())
}

enum Use {
    Whole,
    Shadowed(proc_macro2::Span),
}

/// The uses of one variable in a block, in source order.
struct Uses<'a> {
    name: &'a Ident,
    first: Option<Use>,
    partial: Option<proc_macro2::Span>,
}

impl Uses<'_> {
    fn is_name(&self, expr: &Expr) -> bool {
        matches!(crate::lower::strip_parens(expr), Expr::Path(path) if path.qself.is_none() && path.path.is_ident(self.name))
    }
    fn partial(&mut self, span: proc_macro2::Span) {
        self.partial.get_or_insert(span);
        self.first.get_or_insert(Use::Whole);
    }
    /// `let PAT = x`, `match x`, `if let PAT = x`: whole only when bound to a plain name.
    fn scrutinee(&mut self, expr: &Expr, pats: &[&Pat]) {
        if self.is_name(expr) && !pats.iter().all(|pat| matches!(pat, Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none())) {
            self.partial(syn::spanned::Spanned::span(expr));
        }
    }
    fn tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (index, token) in tokens.iter().enumerate() {
            match token {
                TokenTree::Ident(ident) if ident == self.name => {
                    // `x.field` or `x.0` (not `x.method(..)`): a place of `x`.
                    let field = match (tokens.get(index + 1), tokens.get(index + 2), tokens.get(index + 3)) {
                        (Some(TokenTree::Punct(dot)), Some(TokenTree::Literal(_)), _) if dot.as_char() == '.' => true,
                        (Some(TokenTree::Punct(dot)), Some(TokenTree::Ident(_)), next) if dot.as_char() == '.' => {
                            !matches!(next, Some(TokenTree::Group(g)) if g.delimiter() == proc_macro2::Delimiter::Parenthesis)
                                && !matches!(next, Some(TokenTree::Punct(p)) if p.as_char() == ':')
                        }
                        _ => false,
                    };
                    let preceded_by_dot = index > 0 && matches!(&tokens[index - 1], TokenTree::Punct(p) if p.as_char() == '.');
                    if preceded_by_dot {
                        continue;
                    }
                    if field {
                        self.partial(ident.span());
                    } else {
                        self.first.get_or_insert(Use::Whole);
                    }
                }
                TokenTree::Group(group) => self.tokens(group.stream()),
                TokenTree::Literal(literal) if names_in_format_string(literal, &self.name.to_string()) => {
                    self.first.get_or_insert(Use::Whole);
                }
                _ => {}
            }
        }
    }
}

impl<'a> Visit<'a> for Uses<'_> {
    fn visit_expr_path(&mut self, path: &'a syn::ExprPath) {
        if path.qself.is_none() && path.path.is_ident(self.name) {
            self.first.get_or_insert(Use::Whole);
        }
    }
    fn visit_expr_field(&mut self, field: &'a syn::ExprField) {
        if self.is_name(&field.base) {
            self.partial(syn::spanned::Spanned::span(field));
            return;
        }
        syn::visit::visit_expr_field(self, field);
    }
    fn visit_local(&mut self, local: &'a syn::Local) {
        // The initializer runs before the pattern binds.
        if let Some(init) = &local.init {
            self.scrutinee(&init.expr, &[&local.pat]);
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
        }
        self.visit_pat(&local.pat);
    }
    fn visit_expr_match(&mut self, matching: &'a syn::ExprMatch) {
        let pats: Vec<&Pat> = matching.arms.iter().map(|arm| &arm.pat).collect();
        self.scrutinee(&matching.expr, &pats);
        syn::visit::visit_expr_match(self, matching);
    }
    fn visit_expr_let(&mut self, binding: &'a syn::ExprLet) {
        self.scrutinee(&binding.expr, &[&binding.pat]);
        self.visit_expr(&binding.expr);
        self.visit_pat(&binding.pat);
    }
    fn visit_expr_assign(&mut self, assign: &'a syn::ExprAssign) {
        // `_ = x` reads nothing.
        if matches!(&*assign.left, Expr::Infer(_)) && self.is_name(&assign.right) {
            self.partial(syn::spanned::Spanned::span(assign));
        }
        syn::visit::visit_expr_assign(self, assign);
    }
    fn visit_pat_ident(&mut self, pat: &'a syn::PatIdent) {
        if pat.ident == *self.name {
            self.first.get_or_insert(Use::Shadowed(pat.ident.span()));
        }
        syn::visit::visit_pat_ident(self, pat);
    }
    fn visit_macro(&mut self, mac: &'a syn::Macro) {
        self.tokens(mac.tokens.clone());
    }
    // Items do not see the variable.
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(tokens: TokenStream) -> ExprAsync {
        syn::parse2(tokens).expect("an async block")
    }

    fn names(captures: &[Capture]) -> Vec<String> {
        captures.iter().map(|capture| capture.name.to_string()).collect()
    }

    #[test]
    fn captures_are_the_mentioned_arguments_in_the_order_of_first_mention() {
        let sig: syn::Signature = syn::parse_quote!(fn f(&self, a: String, b: u32, c: &str, unused: Vec<u8>));
        let future = block(quote!(async move { let _ = b; println!("{c} {}", a); self.go(a).await }));
        assert_eq!(names(&captured_parameters(&sig, &future).expect("plain names")), ["b", "c", "a", "self"]);
        // A pattern argument has no name to capture.
        let sig: syn::Signature = syn::parse_quote!(fn f((a, b): (u8, u8)));
        assert!(captured_parameters(&sig, &future).is_none());
    }

    #[test]
    fn refuses_blocks_that_may_capture_part_of_an_argument() {
        let sig: syn::Signature = syn::parse_quote!(fn f(pair: (String, String), r: &(String, String)));
        for (body, refused) in [
            (quote!(async move { pair.len() + r.0.len() }), false),
            (quote!(async move { let mut whole = pair; whole.0.len() }), false),
            // Conservative: the later `pair` is the local, but the check does not follow scopes.
            (quote!(async move { let pair = pair; pair.0.len() }), true),
            (quote!(async move { format!("{pair:?}") }), false),
            (quote!(async move { pair.0.len() }), true),
            (quote!(async move { let (a, _) = pair; a }), true),
            (quote!(async move { let _ = pair; }), true),
            (quote!(async move { println!("{}", pair.1) }), true),
            (quote!(async move { let pair = 1; pair }), true),
        ] {
            let future = block(body.clone());
            let captures = captured_parameters(&sig, &future).expect("plain names");
            let result = check_whole_captures(&future.block, &captures, "#[attr]", true);
            assert_eq!(result.is_err(), refused, "{body}");
        }
    }
}
