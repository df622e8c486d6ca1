//! Parse and validate: the attribute takes no arguments and goes on an `async fn` with a body.

use proc_macro2::TokenStream;
use syn::spanned::Spanned;
use syn::{Attribute, Block, Error, Item, Signature, Visibility};

/// An `async fn` the attribute accepted: a free function, an inherent method or a trait impl
/// method (they share one shape).
pub struct AsyncFn {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub defaultness: Option<syn::Token![default]>,
    pub sig: Signature,
    pub block: Block,
    /// The items of the body, taken out of it (see [`crate::items`]).
    pub items: Vec<Item>,
}

pub fn parse(args: TokenStream, item: TokenStream) -> syn::Result<AsyncFn> {
    if !args.is_empty() {
        return Err(Error::new_spanned(
            args,
            "#[unasync::desugar] takes no arguments",
        ));
    }
    let function = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(f)) => AsyncFn {
            attrs: f.attrs,
            vis: f.vis,
            defaultness: None,
            sig: f.sig,
            block: *f.block,
            items: Vec::new(),
        },
        Ok(other) if !matches!(other, Item::Verbatim(_)) => {
            return Err(Error::new(
                item_span(&other),
                "#[unasync::desugar] goes on an `async fn`, not on this item",
            ));
        }
        Ok(_) | Err(_) => match syn::parse2::<syn::ImplItemFn>(item.clone()) {
            Ok(f) => AsyncFn {
                attrs: f.attrs,
                vis: f.vis,
                defaultness: f.modifiers.defaultness,
                sig: f.sig,
                block: f.block,
                items: Vec::new(),
            },
            Err(_) => match syn::parse2::<syn::TraitItemFn>(item) {
                Ok(f) if f.default.is_none() => {
                    return Err(Error::new(
                        f.sig.span(),
                        "#[unasync::desugar] needs a function body: put it on the `async fn` in the trait impl",
                    ));
                }
                Ok(f) => AsyncFn {
                    attrs: f.attrs,
                    vis: Visibility::Inherited,
                    defaultness: None,
                    sig: f.sig,
                    block: f.default.expect("checked above"),
                    items: Vec::new(),
                },
                Err(error) => return Err(error),
            },
        },
    };
    let mut function = function;
    // syn lists the body's inner attributes (`#![allow(..)]`) with the function's: they annotate
    // the function, as the outer attributes of the fn the attribute writes.
    for attr in &mut function.attrs {
        attr.style = syn::AttrStyle::Outer;
    }
    validate(&function.sig, &function.block)?;
    Ok(function)
}

fn validate(sig: &Signature, block: &Block) -> syn::Result<()> {
    if sig.asyncness.is_none() {
        return Err(Error::new(sig.fn_token.span, crate::compose::not_async_message(block)));
    }
    if let Some(constness) = &sig.constness {
        return Err(Error::new(constness.span, "an `async fn` cannot be `const`"));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(Error::new(variadic.span(), "variadic functions cannot be async"));
    }
    if let Some(abi) = &sig.abi {
        return Err(Error::new(
            abi.span(),
            "#[unasync::desugar] does not support `extern` async fns",
        ));
    }
    Ok(())
}

fn item_span(item: &Item) -> proc_macro2::Span {
    match item {
        Item::Struct(s) => s.struct_token.span,
        Item::Enum(e) => e.enum_token.span,
        Item::Mod(m) => m.mod_token.span,
        Item::Impl(i) => i.impl_token.span,
        Item::Trait(t) => t.trait_token.span,
        other => other.span(),
    }
}
