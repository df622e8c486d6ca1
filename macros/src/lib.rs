//! The `#[unasync::desugar]` attribute. Use it through the `unasync` crate.
//!
//! The expansion is a pipeline of small steps ([`impls`] runs it on each `async fn` of an `impl`
//! block): [`cfg`] lowers each combination of the `cfg`s
//! inside the function, [`input`] parses and validates the item,
//! [`items`] takes the body's items out of it, [`signature`] rewrites the signature, and [`lower`]
//! turns the body into a state machine (its module docs describe the states, what is saved, poll
//! and drop).
#![forbid(unsafe_code)]

mod awaits;
mod cfg;
mod compose;
mod impls;
#[cfg(test)]
mod fuzz;
mod inplace;
mod input;
mod items;
mod lower;
mod recursion;
mod signature;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;

/// Rewrites an `async fn` into a plain `fn` returning an explicit state machine with rustc's
/// states (`Unresumed`, `Suspend0..N`, `Returned`, `Panicked`).
#[proc_macro_attribute]
pub fn desugar(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = TokenStream2::from(item);
    match try_expand(args.into(), item.clone()) {
        Ok(expanded) => expanded.into(),
        Err(error) => {
            // Keep the user's item so one mistake does not cascade into unresolved names.
            let error = error.to_compile_error();
            quote::quote!(#error #item).into()
        }
    }
}

fn try_expand(args: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    match syn::parse2::<syn::ItemImpl>(item.clone()) {
        Ok(block) => impls::expand(args, block),
        Err(_) => expand_fn(args, item, impls::Place::Unknown),
    }
}

fn expand_fn(args: TokenStream2, item: TokenStream2, place: impls::Place) -> syn::Result<TokenStream2> {
    if let Some(composed) = compose::expand(&args, &item) {
        return composed;
    }
    if let Some(variants) = cfg::expand_each(&item, |variant| expand_one(args.clone(), variant, place)) {
        return variants;
    }
    expand_one(args, item, place)
}

fn expand_one(args: TokenStream2, item: TokenStream2, place: impls::Place) -> syn::Result<TokenStream2> {
    let mut function = input::parse(args, item)?;
    function.items = items::hoist(&mut function.block)?;
    items::check_parameters(&function.sig, &function.items)?;
    let signature = signature::rewrite(&function, place)?;
    lower::lower(&function, &signature)
}

/// Leaves the item as written: the fixtures compile each function once through this and once
/// through `desugar`, so both sides come from the same source text.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn native(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
