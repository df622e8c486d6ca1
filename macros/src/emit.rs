//! Emit: the state enum, the frame, its accessors and drop, and the resume function.
//!
//! Input: the lowered body ([`Lowered`]).
//! Output:
//! ```text
//! fn f(a: A) -> impl Future<Output = R> {
//!     if false { check_output::<R, _>(async move { <the body as written> }); loop {} }
//!     enum __State<__A0, __T0, ..> { Unresumed { a: __A0 }, Suspend0 { x: MaybeUninit<__T0>, .. }, .., Returned, Panicked }
//!     struct __Frame<..> { <locals saved at several .awaits>, __drop_flags: [bool; N], __state: __State<..> }
//!     impl __Frame { fn x(this) -> Slot<__T0>; fn enter_Suspend0(this); fn drop_live(this); fn unwind(this) }
//!     Machine::new(__Frame { .., __state: __State::Unresumed { a } }, move |__this, __cx| { <match over basic blocks> })
//! }
//! ```
//! Every type in the frame is a type parameter that rustc infers from the resume function, so
//! locals whose types cannot be written (closures, `async fn` futures) are saved all the same.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::input::AsyncFn;
use crate::lowering::{unresumed_field, Lowered};
use crate::scope::{internal, Placement};
use crate::signature::{ArgBinding, Signature};

pub fn emit(function: &AsyncFn, signature: &Signature, lowered: &Lowered) -> TokenStream {
    let shadow = shadow(function, signature);
    let arg_params: Vec<Ident> = (0..signature.args.len()).map(|i| format_ident!("__A{}", i)).collect();
    let slot_params: Vec<Ident> = (0..lowered.slots.len()).map(|i| format_ident!("__T{}", i)).collect();
    let params = quote!(#(#arg_params,)* #(#slot_params,)*);
    let variant_params = lowered
        .slots
        .iter()
        .zip(&slot_params)
        .filter(|(slot, _)| slot.placement() != Placement::Prefix)
        .map(|(_, param)| param);
    let state_params = quote!(#(#arg_params,)* #(#variant_params,)*);
    let arg_fields: Vec<Ident> = signature.args.iter().map(unresumed_field).collect();
    let arg_values = signature.args.iter().map(|arg| &arg.param);
    let flag_count = lowered.slots.len();

    let suspend_variants: Vec<Ident> =
        (0..lowered.resume_blocks.len()).map(|k| format_ident!("Suspend{}", k)).collect();
    let variant_fields: Vec<Vec<(usize, Ident)>> = (0..lowered.resume_blocks.len())
        .map(|k| {
            lowered
                .slots
                .iter()
                .enumerate()
                .filter(|(_, slot)| slot.placement() == Placement::Variant(k))
                .map(|(id, slot)| (id, slot.field()))
                .collect()
        })
        .collect();
    let prefix: Vec<(usize, &Ident)> = lowered
        .slots
        .iter()
        .enumerate()
        .filter(|(_, slot)| slot.placement() == Placement::Prefix)
        .map(|(id, slot)| (id, &slot.name))
        .collect();

    let variant_defs = suspend_variants.iter().zip(&variant_fields).map(|(variant, fields)| {
        let fields = fields.iter().map(|(id, name)| {
            let param = &slot_params[*id];
            quote!(#name: ::core::mem::MaybeUninit<#param>)
        });
        quote!(#variant { #(#fields,)* })
    });
    let prefix_defs = prefix.iter().map(|(id, name)| {
        let param = &slot_params[*id];
        quote!(#name: ::core::mem::MaybeUninit<#param>)
    });
    let prefix_inits = prefix.iter().map(|(_, name)| quote!(#name: ::core::mem::MaybeUninit::uninit()));

    let accessors = lowered.slots.iter().enumerate().map(|(id, slot)| {
        let name = &slot.name;
        let param = &slot_params[id];
        let value = match slot.placement() {
            Placement::Prefix => quote!(&raw mut (*this).#name),
            Placement::Variant(k) => {
                let variant = &suspend_variants[k];
                let field = slot.field();
                quote! {
                    match (*this).__state {
                        __State::#variant { ref mut #field, .. } => #field,
                        _ => ::core::unreachable!(),
                    }
                }
            }
        };
        quote! {
            #[inline(always)]
            unsafe fn #name(this: *mut Self) -> ::unasync::__private::Slot<#param> {
                // SAFETY: guaranteed by the caller; no reference to the whole frame is created.
                unsafe { ::unasync::__private::Slot::new(#value, &raw mut (*this).__drop_flags[#id]) }
            }
        }
    });
    let enters = suspend_variants.iter().zip(&variant_fields).map(|(variant, fields)| {
        let enter = format_ident!("enter_{}", variant);
        let names = fields.iter().map(|(_, name)| name);
        quote! {
            #[inline(always)]
            unsafe fn #enter(this: *mut Self) {
                // SAFETY: guaranteed by the caller: overwriting the variant drops nothing live.
                unsafe {
                    if !::core::matches!((*this).__state, __State::#variant { .. }) {
                        ::core::ptr::write(
                            &raw mut (*this).__state,
                            __State::#variant { #(#names: ::core::mem::MaybeUninit::uninit(),)* },
                        );
                    }
                }
            }
        }
    });
    let drop_live = lowered.slots.iter().enumerate().rev().map(|(id, slot)| {
        let name = &slot.name;
        quote! {
            if (*this).__drop_flags[#id] {
                Self::#name(this).drop_if_live();
            }
        }
    });

    let resume_arms = lowered.resume_blocks.iter().zip(&suspend_variants).map(|(block, variant)| {
        let block = *block as u32;
        quote!(__State::#variant { .. } => #block,)
    });
    let registers = lowered.registers.iter().map(|r| {
        let name = internal(&format!("__register{r}"));
        quote!(let mut #name = ::core::mem::MaybeUninit::uninit();)
    });
    let blocks = lowered.blocks.iter().map(|(index, code)| {
        let index = *index as u32;
        quote!(#index => '__block: { #code })
    });
    let edges = lowered.edges.iter().enumerate().map(|(index, edge)| {
        let index = index as u32;
        let target = edge.target as u32;
        let drops = edge.drops.iter().map(|id| {
            let name = &lowered.slots[*id].name;
            quote!(__Frame::#name(__this).drop_if_live();)
        });
        if edge.drops.is_empty() {
            quote!(#index => #target,)
        } else {
            quote! {
                #index => {
                    // SAFETY: the flags say which of the locals this jump leaves are live.
                    unsafe { #(#drops)* }
                    #target
                }
            }
        }
    });
    let exit_type = match &signature.output {
        Some(output) => quote!(::unasync::__private::Exit<#output>),
        None => quote!(::unasync::__private::Exit<_>),
    };
    let items = &lowered.items;
    let sig = &signature.tokens;

    quote! {
        #sig {
            #(#items)*
            #shadow

            #[allow(non_camel_case_types, dead_code, clippy::large_enum_variant)]
            enum __State<#state_params> {
                Unresumed { #(#arg_fields: #arg_params,)* },
                #(#variant_defs,)*
                Returned,
                Panicked,
            }

            #[allow(non_camel_case_types)]
            struct __Frame<#params> {
                #(#prefix_defs,)*
                __drop_flags: [bool; #flag_count],
                __state: __State<#state_params>,
            }

            // Each `unsafe fn` below requires `this` to point to the pinned frame. A local's
            // accessor reaches a `Suspend` variant's field only while the frame is in that
            // variant; `enter_SuspendK` requires that no local of the current variant is live.
            #[allow(non_snake_case, clippy::needless_lifetimes, clippy::missing_safety_doc)]
            impl<#params> __Frame<#params> {
                #(#accessors)*
                #(#enters)*

                /// Drops every live saved local, innermost first.
                ///
                /// # Safety
                /// `this` points to the frame and its drop flags are accurate.
                unsafe fn drop_live(this: *mut Self) {
                    // SAFETY: a set flag means the local is initialised in the current variant.
                    unsafe { #(#drop_live)* }
                }

                /// The resume function unwound: drop what was live and poison the future.
                ///
                /// # Safety
                /// As for `drop_live`.
                unsafe fn unwind(this: *mut Self) {
                    // SAFETY: guaranteed by the caller; afterwards nothing in the frame is live.
                    unsafe {
                        Self::drop_live(this);
                        ::core::ptr::write(&raw mut (*this).__state, __State::Panicked);
                    }
                }
            }

            impl<#params> ::core::ops::Drop for __Frame<#params> {
                fn drop(&mut self) {
                    // SAFETY: the flags are accurate whenever the future is not being polled;
                    // the arguments of `Unresumed` are dropped by the enum's own drop glue.
                    unsafe { Self::drop_live(self) }
                }
            }

            #[allow(unused_unsafe, unreachable_code, clippy::never_loop, clippy::diverging_sub_expression)]
            let __future = ::unasync::__private::Machine::new(
                __Frame {
                    #(#prefix_inits,)*
                    __drop_flags: [false; #flag_count],
                    __state: __State::Unresumed { #(#arg_fields: #arg_values,)* },
                },
                move |__this, __cx| {
                    let mut __block: u32 = match unsafe { &(*__this).__state } {
                        __State::Unresumed { .. } => 0,
                        #(#resume_arms)*
                        __State::Returned => ::unasync::__private::resumed_after_completion(),
                        __State::Panicked => ::unasync::__private::resumed_after_panicking(),
                    };
                    // SAFETY: runs only while unwinding out of this function, when the flags
                    // are accurate (they are updated together with the locals).
                    let __guard = ::unasync::__private::UnwindGuard::new(move || unsafe { __Frame::unwind(__this) });
                    #(#registers)*
                    let __output = loop {
                        let __exit: #exit_type = match __block {
                            #(#blocks)*
                            _ => ::core::unreachable!(),
                        };
                        __block = match __exit {
                            ::unasync::__private::Exit::Return(output) => break output,
                            ::unasync::__private::Exit::Edge(edge) => match edge {
                                #(#edges)*
                                _ => ::core::unreachable!(),
                            },
                        };
                    };
                    // SAFETY: the body finished: whatever is still live is dropped, the future
                    // is done.
                    unsafe {
                        __Frame::drop_live(__this);
                        ::core::ptr::write(&raw mut (*__this).__state, __State::Returned);
                    }
                    __guard.disarm();
                    ::core::task::Poll::Ready(__output)
                },
            );
            __future
        }
    }
}

/// The body as the user wrote it, in a branch that never runs, so rustc checks it exactly as it
/// checks the `async fn` (moves, borrows, types) and reports errors at the user's own lines.
fn shadow(function: &AsyncFn, signature: &Signature) -> TokenStream {
    let patterns = signature.args.iter().filter_map(|arg| match &arg.binding {
        ArgBinding::Pattern(pattern) => {
            let param = &arg.param;
            Some(quote!(let #pattern = #param;))
        }
        _ => None,
    });
    let block = &function.block;
    let check = match &signature.output {
        Some(output) => quote!(::unasync::__private::check_output::<#output, _>),
        None => quote!(::core::mem::drop),
    };
    quote! {
        if false {
            #check(async move {
                #(#patterns)*
                #block
            });
            loop {}
        }
    }
}
