//! `#[cfg]` and `#[cfg_attr]` inside the function, where rustc evaluates them only after this
//! attribute ran.
//!
//! Input:
//! ```text
//! async fn f(#[cfg(feature = "a")] x: u8) { #[cfg(unix)] let y = g().await; .. }
//! ```
//! Output: one expansion per combination of the predicates, each under the `cfg` that selects
//! it (rustc keeps exactly one):
//! ```text
//! #[cfg(all(feature = "a", unix))] fn f(x: u8) -> impl Future { <with x, with y> }
//! #[cfg(all(feature = "a", not(unix)))] fn f(x: u8) -> impl Future { <with x> }
//! ..
//! ```
//! A conditional statement or arm can hold an `.await`, a local or a parameter: which states
//! the machine has depends on it, so each combination is lowered on its own.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::visit_mut::VisitMut;
use syn::{Attribute, Error, Meta};

/// At most this many distinct predicates: the expansion is written once per combination.
const MAX_PREDICATES: usize = 4;

/// Expands `item` once per combination of the `cfg` predicates written inside it, with
/// `expand`, each under the `cfg` that selects it; `None` when it has none.
pub fn expand_each(item: &TokenStream, expand: impl Fn(TokenStream) -> syn::Result<TokenStream>) -> Option<syn::Result<TokenStream>> {
    let Ok(parsed) = syn::parse2::<syn::ImplItemFn>(item.clone()) else { return None };
    let mut collector = Collector { predicates: Vec::new() };
    collector.visit_impl_item_fn_mut(&mut parsed.clone());
    let predicates = collector.predicates;
    if predicates.is_empty() {
        return None;
    }
    if predicates.len() > MAX_PREDICATES {
        return Some(Err(Error::new_spanned(
            &predicates[MAX_PREDICATES],
            format!("unasync lowers a function once per combination of the `cfg` predicates inside it, and takes at most {MAX_PREDICATES}; move some conditional code into a function of its own"),
        )));
    }
    let mut out = TokenStream::new();
    for combination in 0..(1u32 << predicates.len()) {
        let holds = |index: usize| combination & (1 << index) != 0;
        let mut variant = parsed.clone();
        Applier { predicates: &predicates, holds: &holds }.visit_impl_item_fn_mut(&mut variant);
        let expanded = match expand(variant.into_token_stream()) {
            Ok(expanded) => expanded,
            Err(error) => return Some(Err(error)),
        };
        let conditions = predicates.iter().enumerate().map(|(index, predicate)| {
            if holds(index) { quote!(#predicate) } else { quote!(not(#predicate)) }
        });
        out.extend(quote!(#[cfg(all(#(#conditions),*))] #expanded));
    }
    Some(Ok(out))
}

/// The predicate of `#[cfg(P)]`, or of `#[cfg_attr(P, ..)]`.
fn predicate(attr: &Attribute) -> Option<TokenStream> {
    let Meta::List(list) = &attr.meta else { return None };
    if list.path.is_ident("cfg") {
        return Some(list.tokens.clone());
    }
    if list.path.is_ident("cfg_attr") {
        let mut tokens = list.tokens.clone().into_iter();
        let predicate: TokenStream = tokens.by_ref().take_while(|t| !matches!(t, proc_macro2::TokenTree::Punct(p) if p.as_char() == ',')).collect();
        return Some(predicate);
    }
    None
}

/// Every distinct predicate inside the function (its own attributes excluded: rustc evaluated
/// them before this attribute ran), in order. Items in the body are left to rustc.
struct Collector {
    predicates: Vec<TokenStream>,
}

impl VisitMut for Collector {
    fn visit_attribute_mut(&mut self, attr: &mut Attribute) {
        if let Some(predicate) = predicate(attr)
            && !self.predicates.iter().any(|p| p.to_string() == predicate.to_string())
        {
            self.predicates.push(predicate);
        }
    }
    fn visit_impl_item_fn_mut(&mut self, function: &mut syn::ImplItemFn) {
        self.visit_signature_mut(&mut function.sig);
        self.visit_block_mut(&mut function.block);
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Applies one combination: what a false `cfg` is on goes, a true one's attribute goes; a
/// `cfg_attr` becomes its attributes, or nothing.
struct Applier<'a> {
    predicates: &'a [TokenStream],
    holds: &'a dyn Fn(usize) -> bool,
}

impl Applier<'_> {
    fn holds(&self, predicate: &TokenStream) -> bool {
        let index = self.predicates.iter().position(|p| p.to_string() == predicate.to_string()).expect("collected");
        (self.holds)(index)
    }

    /// Whether what the attributes are on stays; rewrites them.
    fn keep(&self, attrs: &mut Vec<Attribute>) -> bool {
        let mut keep = true;
        let mut out = Vec::new();
        for attr in attrs.drain(..) {
            match (&attr.meta, predicate(&attr)) {
                (Meta::List(list), Some(predicate)) if list.path.is_ident("cfg") => keep &= self.holds(&predicate),
                (Meta::List(list), Some(predicate)) => {
                    if self.holds(&predicate) {
                        let metas = list
                            .parse_args_with(syn::punctuated::Punctuated::<Meta, syn::Token![,]>::parse_terminated)
                            .map(|metas| metas.into_iter().skip(1).collect::<Vec<_>>())
                            .unwrap_or_default();
                        out.extend(metas.into_iter().map(|meta| syn::parse_quote!(#[#meta])));
                    }
                }
                _ => out.push(attr),
            }
        }
        *attrs = out;
        keep
    }
}

impl VisitMut for Applier<'_> {
    fn visit_impl_item_fn_mut(&mut self, function: &mut syn::ImplItemFn) {
        let inputs = std::mem::take(&mut function.sig.inputs);
        for mut input in inputs {
            let attrs = match &mut input {
                syn::FnArg::Receiver(receiver) => &mut receiver.attrs,
                syn::FnArg::Typed(typed) => &mut typed.attrs,
            };
            if self.keep(attrs) {
                function.sig.inputs.push(input);
            }
        }
        self.visit_block_mut(&mut function.block);
    }

    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let stmts = std::mem::take(&mut block.stmts);
        for mut stmt in stmts {
            let keep = match &mut stmt {
                syn::Stmt::Local(local) => self.keep(&mut local.attrs),
                syn::Stmt::Expr(expr, _) => expr_attrs(expr).is_none_or(|attrs| self.keep(attrs)),
                syn::Stmt::Macro(mac) => self.keep(&mut mac.attrs),
                syn::Stmt::Item(_) => true,
            };
            if keep {
                self.visit_stmt_mut(&mut stmt);
                block.stmts.push(stmt);
            }
        }
    }

    fn visit_expr_match_mut(&mut self, matching: &mut syn::ExprMatch) {
        self.visit_expr_mut(&mut matching.expr);
        let arms = std::mem::take(&mut matching.arms);
        for mut arm in arms {
            if self.keep(&mut arm.attrs) {
                self.visit_arm_mut(&mut arm);
                matching.arms.push(arm);
            }
        }
    }

    fn visit_expr_struct_mut(&mut self, literal: &mut syn::ExprStruct) {
        let fields = std::mem::take(&mut literal.fields);
        for mut field in fields {
            if self.keep(&mut field.attrs) {
                self.visit_field_value_mut(&mut field);
                literal.fields.push(field);
            }
        }
        if let Some(rest) = &mut literal.rest {
            self.visit_expr_mut(rest);
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// The outer attributes of an expression statement, where it has them.
fn expr_attrs(expr: &mut syn::Expr) -> Option<&mut Vec<Attribute>> {
    use syn::Expr::*;
    Some(match expr {
        Array(e) => &mut e.attrs,
        Assign(e) => &mut e.attrs,
        Async(e) => &mut e.attrs,
        Await(e) => &mut e.attrs,
        Binary(e) => &mut e.attrs,
        Block(e) => &mut e.attrs,
        Call(e) => &mut e.attrs,
        Closure(e) => &mut e.attrs,
        ForLoop(e) => &mut e.attrs,
        If(e) => &mut e.attrs,
        Loop(e) => &mut e.attrs,
        Macro(e) => &mut e.attrs,
        Match(e) => &mut e.attrs,
        MethodCall(e) => &mut e.attrs,
        Path(e) => &mut e.attrs,
        Return(e) => &mut e.attrs,
        Unsafe(e) => &mut e.attrs,
        While(e) => &mut e.attrs,
        _ => return None,
    })
}
