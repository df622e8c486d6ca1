//! `#[unasync::desugar]` on an `impl` block: each `async fn` in it desugared as if the attribute
//! were on it.
//!
//! Input:
//! ```text
//! #[unasync::desugar]
//! impl Conn { async fn write_value(&mut self, frame: &Frame) { .. } fn plain(&self) {} }
//! ```
//! Output:
//! ```text
//! impl Conn { fn write_value<'__life0, '__life1, '__frame>(..) -> impl Future<..> where .. { .. } fn plain(&self) {} }
//! ```
//! On a method the attribute cannot tell an inherent impl from a trait impl, whose methods must
//! keep the trait's signature; on the block it can, so an inherent method's future gets the
//! `'__frame` lifetime when it needs one (see [`crate::signature`]).

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{Error, ImplItem, ItemImpl};

/// Where the function stands, as far as its signature may change.
#[derive(Clone, Copy)]
pub enum Place<'a> {
    /// A method of an inherent impl with these generics: the signature is the function's own.
    InherentImpl(&'a syn::Generics),
    /// Anything else the attribute sees alone: a free fn, or a method of an impl it cannot see.
    Unknown,
}

pub fn expand(args: TokenStream, mut block: ItemImpl) -> syn::Result<TokenStream> {
    if !args.is_empty() {
        return Err(Error::new_spanned(args, "#[unasync::desugar] takes no arguments"));
    }
    if let Some(attr) = block.attrs.iter().find(|attr| attr.path().segments.last().is_some_and(|s| s.ident == "async_trait")) {
        return Err(Error::new_spanned(
            attr,
            "#[async_trait] rewrites this impl's methods after #[unasync::desugar] would: put #[unasync::desugar] on each `async fn` instead",
        ));
    }
    let generics = block.generics.clone();
    let place = if block.trait_.is_some() { Place::Unknown } else { Place::InherentImpl(&generics) };
    let mut desugared = 0;
    for item in &mut block.items {
        let ImplItem::Fn(function) = item else { continue };
        function.attrs.retain(|attr| !is_desugar(attr));
        if function.sig.asyncness.is_none() && !crate::compose::is_async_trait_method(&function.sig) {
            continue;
        }
        let tokens = function.to_token_stream();
        let expanded = crate::expand_fn(TokenStream::new(), tokens.clone(), place)
            .unwrap_or_else(|error| {
                let error = error.to_compile_error();
                quote!(#error #tokens)
            });
        *item = ImplItem::Verbatim(expanded);
        desugared += 1;
    }
    if desugared == 0 {
        return Err(Error::new(
            block.impl_token.span,
            "#[unasync::desugar] on an impl block desugars its `async fn`s, and this one has none",
        ));
    }
    Ok(block.into_token_stream())
}

/// `#[unasync::desugar]` or `#[desugar]` on a method of the block: the block's attribute does
/// its work.
fn is_desugar(attr: &syn::Attribute) -> bool {
    let path = attr.path();
    path.segments.last().is_some_and(|s| s.ident == "desugar")
        && (path.segments.len() == 1 || path.segments.iter().any(|s| s.ident == "unasync"))
}
