//! The `#[unasync::desugar]` attribute. Use it through the `unasync` crate.
//!
//! The expansion is a pipeline of small steps: [`input`] parses and validates the item,
//! [`signature`] rewrites the signature, [`lowering`] turns the body into basic blocks over a
//! frame of saved locals, and [`emit`] writes the state enum, the frame and the resume function.
#![forbid(unsafe_code)]

mod awaits;
mod compose;
mod emit;
#[cfg(test)]
mod fuzz;
mod input;
mod lowering;
mod recursion;
mod rewrite;
mod scope;
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
    if let Some(composed) = compose::expand(&args, &item) {
        return composed;
    }
    let function = input::parse(args, item)?;
    let signature = signature::rewrite(&function)?;
    let lowered = lowering::lower(&function, &signature)?;
    Ok(emit::emit(&function, &signature, &lowered))
}

/// Leaves the item as written: the fixtures compile each function once through this and once
/// through `desugar`, so both sides come from the same source text.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn native(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
