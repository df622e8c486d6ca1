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
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

use crate::input::AsyncFn;
use crate::lowering::{poll_local_name, poll_local_pointer, Lowered};
use crate::scope::Placement;
use crate::signature::{ArgBinding, Signature};

pub fn emit(function: &AsyncFn, signature: &Signature, lowered: &Lowered) -> TokenStream {
    let shadow = shadow(function, signature);
    let frame = &signature.types.frame;
    let state = &signature.types.state;
    let slots = &lowered.slots;
    // One type parameter per local kept in the frame; rustc infers them from the resume function.
    // A local given a value only in unreachable code has nothing to infer its type from: `()`.
    let slot_params: Vec<TokenStream> = (0..slots.len())
        .map(|i| if slots[i].typed { format_ident!("__T{}", i).into_token_stream() } else { quote!(()) })
        .collect();
    let in_frame = |id: &usize| slots[*id].placement() != Placement::PollLocal;
    let frame_ids: Vec<usize> = (0..slots.len()).filter(in_frame).collect();
    let frame_params = frame_ids.iter().filter(|&&id| slots[id].typed).map(|&id| &slot_params[id]);
    let params = quote!(#(#frame_params,)*);
    let variant_params = slots
        .iter()
        .zip(&slot_params)
        .filter(|(slot, _)| slot.typed && matches!(slot.placement(), Placement::Variant(_) | Placement::Unresumed))
        .map(|(_, param)| param);
    let state_params = quote!(#(#variant_params,)*);
    let count = slots.len();
    // Drop flags the frame keeps, one bit each: only locals whose liveness at a suspension point
    // depends on the path. The others are live exactly at the suspension points in their scope.
    let dynamic: Vec<usize> = (0..count).filter(|&id| slots[id].dynamic).collect();
    let flag_bytes = dynamic.len().div_ceil(8);
    let bit = |id: usize| {
        let position = dynamic.iter().position(|&d| d == id).expect("dynamic slot");
        ((position / 8), 1u8 << (position % 8))
    };

    let suspend_variants: Vec<Ident> =
        (0..lowered.resume_blocks.len()).map(|k| format_ident!("Suspend{}", k)).collect();
    let variant_fields: Vec<Vec<(usize, Ident)>> = (0..lowered.resume_blocks.len())
        .map(|k| {
            slots
                .iter()
                .enumerate()
                .filter(|(_, slot)| slot.placement() == Placement::Variant(k))
                .map(|(id, slot)| (id, slot.field()))
                .collect()
        })
        .collect();
    let prefix: Vec<(usize, &Ident)> = slots
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
    // The argument slots are declared in the signature's order.
    let argument_value = |id: usize| {
        let index = slots[..id].iter().filter(|slot| slot.argument).count();
        &signature.args[index].param
    };
    let prefix_inits: Vec<TokenStream> = prefix
        .iter()
        .map(|(id, name)| {
            if slots[*id].argument {
                let value = argument_value(*id);
                quote!(#name: ::core::mem::MaybeUninit::new(#value))
            } else {
                quote!(#name: ::core::mem::MaybeUninit::uninit())
            }
        })
        .collect();
    let unresumed: Vec<usize> = (0..slots.len()).filter(|&id| slots[id].placement() == Placement::Unresumed).collect();
    let unresumed_defs = unresumed.iter().map(|&id| {
        let (name, param) = (slots[id].field(), &slot_params[id]);
        quote!(#name: ::core::mem::MaybeUninit<#param>)
    });
    let unresumed_inits = unresumed.iter().map(|&id| {
        let (name, value) = (slots[id].field(), argument_value(id));
        quote!(#name: ::core::mem::MaybeUninit::new(#value))
    });
    let initial_flags: Vec<u8> = (0..flag_bytes)
        .map(|byte| {
            dynamic
                .iter()
                .filter(|&&id| slots[id].argument && bit(id).0 == byte)
                .fold(0u8, |flags, &id| flags | bit(id).1)
        })
        .collect();
    let flags_def = (flag_bytes > 0).then(|| quote!(__drop_flags: [u8; #flag_bytes],));
    let flags_init = (flag_bytes > 0).then(|| quote!(__drop_flags: [#(#initial_flags),*],));

    let accessors = slots.iter().enumerate().filter(|(id, _)| in_frame(id)).map(|(id, slot)| {
        let name = &slot.name;
        let param = &slot_params[id];
        let value = match slot.placement() {
            Placement::Prefix | Placement::PollLocal => quote!(&raw mut (*this).#name),
            Placement::Variant(k) => {
                let variant = &suspend_variants[k];
                let field = slot.field();
                quote! {
                    match (*this).__state {
                        #state::#variant { ref mut #field, .. } => #field,
                        _ => ::core::unreachable!(),
                    }
                }
            }
            Placement::Unresumed => {
                let field = slot.field();
                quote! {
                    match (*this).__state {
                        #state::Unresumed { ref mut #field, .. } => #field,
                        _ => ::core::unreachable!(),
                    }
                }
            }
        };
        quote! {
            #[inline(always)]
            unsafe fn #name(this: *mut Self, live: *mut [bool; #count]) -> ::unasync::__private::Slot<#param> {
                // SAFETY: guaranteed by the caller; no reference to the whole frame is created.
                unsafe { ::unasync::__private::Slot::new(#value, &raw mut (*live)[#id]) }
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
                    if !::core::matches!((*this).__state, #state::#variant { .. }) {
                        ::core::ptr::write(
                            &raw mut (*this).__state,
                            #state::#variant { #(#names: ::core::mem::MaybeUninit::uninit(),)* },
                        );
                    }
                }
            }
        }
    });
    let drop_live = slots.iter().enumerate().rev().filter(|(id, _)| in_frame(id)).map(|(id, slot)| {
        let name = &slot.name;
        quote! {
            if (*live)[#id] {
                Self::#name(this, live).drop_if_live();
            }
        }
    });
    let drop_arguments = slots.iter().filter(|slot| slot.argument).map(|slot| {
        let name = &slot.name;
        quote!(Self::#name(this, live).drop_if_live();)
    });
    let static_live = suspend_variants.iter().enumerate().map(|(k, variant)| {
        let live = slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| !slot.dynamic && slot.awaits.contains(&k))
            .map(|(id, _)| quote!(live[#id] = true;));
        quote!(#state::#variant { .. } => { #(#live)* })
    });
    let arguments_live = slots
        .iter()
        .enumerate()
        .filter(|(_, slot)| slot.argument && !slot.dynamic)
        .map(|(id, _)| quote!(live[#id] = true;));
    let restore_dynamic = dynamic.iter().map(|&id| {
        let (byte, mask) = bit(id);
        quote!(live[#id] = (*this).__drop_flags[#byte] & #mask != 0;)
    });
    let save_dynamic = dynamic.iter().map(|&id| {
        let (byte, mask) = bit(id);
        quote! {
            if (*live)[#id] {
                (*this).__drop_flags[#byte] |= #mask;
            } else {
                (*this).__drop_flags[#byte] &= !#mask;
            }
        }
    });

    let resume_arms = lowered.resume_blocks.iter().zip(&suspend_variants).map(|(block, variant)| {
        let block = *block as u32;
        quote!(#state::#variant { .. } => #block,)
    });
    let registers = lowered.registers.iter().map(|r| {
        let name = crate::lowering::register_name(*r);
        quote!(let mut #name = ::core::mem::MaybeUninit::uninit();)
    });
    let blocks = lowered.blocks.iter().map(|(index, code)| {
        let index = *index as u32;
        quote!(#index => '__block: { #code })
    });
    let edges = lowered.edges.iter().enumerate().map(|(index, edge)| {
        let index = index as u32;
        let target = edge.target as u32;
        let drops = edge.drops.iter().map(|&id| {
            let slot = access(lowered, frame, id);
            quote!(if (*__live)[#id] { #slot.drop_if_live(); })
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
    // `Recursion` asserts that the boxed future has this future's auto traits: a compile-time
    // check that the callee's future is this very future (an associated function calling a free
    // function of its own name is not recursion).
    let recursion_checks = lowered.recursive_calls.iter().map(|(callee, arity)| {
        let diverging = (0..*arity).map(|_| quote!(loop {}));
        let span = callee.span();
        let check = quote_spanned!(span=> ::unasync::__private::recursion_is_this_future(&__future, #callee(#(#diverging),*)));
        quote! {
            #[allow(unreachable_code)]
            if false {
                #check;
            }
        }
    });
    let poll_locals: Vec<Ident> = slots
        .iter()
        .filter(|slot| slot.placement() == Placement::PollLocal)
        .map(|slot| poll_local_name(&slot.name))
        .collect();
    let poll_local_pointers: Vec<Ident> = slots
        .iter()
        .filter(|slot| slot.placement() == Placement::PollLocal)
        .map(|slot| poll_local_pointer(&slot.name))
        .collect();
    let poll_local_types: Vec<TokenStream> = slots
        .iter()
        .filter(|slot| slot.placement() == Placement::PollLocal)
        .map(|slot| if slot.typed { quote!(_) } else { quote!(()) })
        .collect();
    let drop_all = slots.iter().enumerate().rev().map(|(id, _)| {
        let slot = access(lowered, frame, id);
        quote!(if (*__live)[#id] { #slot.drop_if_live(); })
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
            enum #state<#state_params> {
                Unresumed { #(#unresumed_defs,)* },
                #(#variant_defs,)*
                Returned,
                Panicked,
            }

            #[allow(non_camel_case_types)]
            struct #frame<#params> {
                #(#prefix_defs,)*
                #flags_def
                __state: #state<#state_params>,
            }

            // Each `unsafe fn` below requires `this` to point to the pinned frame and `live` to
            // the live flags of its locals. A local's accessor reaches a `Suspend` variant's
            // field only while the frame is in that variant; `enter_SuspendK` requires that no
            // local of the current variant is live.
            #[allow(non_snake_case, unused_variables, clippy::needless_lifetimes, clippy::missing_safety_doc)]
            impl<#params> #frame<#params> {
                #(#accessors)*
                #(#enters)*

                /// Which locals are live, from the state and the saved drop flags.
                unsafe fn restore_live(this: *mut Self) -> [bool; #count] {
                    let mut live = [false; #count];
                    // SAFETY: guaranteed by the caller.
                    unsafe {
                        match (*this).__state {
                            #state::Unresumed { .. } => { #(#arguments_live)* }
                            #(#static_live)*
                            #state::Returned | #state::Panicked => return live,
                        }
                        #(#restore_dynamic)*
                    }
                    live
                }

                /// Saves the drop flags of the locals whose liveness depends on the path.
                unsafe fn save_live(this: *mut Self, live: *mut [bool; #count]) {
                    // SAFETY: guaranteed by the caller.
                    unsafe { #(#save_dynamic)* }
                }

                /// Drops every live local, innermost first.
                unsafe fn drop_live(this: *mut Self, live: *mut [bool; #count]) {
                    // SAFETY: a set flag means the local is initialised in the current variant.
                    unsafe { #(#drop_live)* }
                }

            }

            impl<#params> ::core::ops::Drop for #frame<#params> {
                fn drop(&mut self) {
                    let this: *mut Self = self;
                    // SAFETY: the future is not being polled, so the state and the saved flags
                    // say exactly what is live.
                    unsafe {
                        let mut live = Self::restore_live(this);
                        let live = &raw mut live;
                        if ::core::matches!((*this).__state, #state::Unresumed { .. }) {
                            // Never polled: the arguments go in declaration order, as rustc's
                            // captured upvars do.
                            #(#drop_arguments)*
                        } else {
                            Self::drop_live(this, live);
                        }
                    }
                }
            }

            // The user's code is linted in the shadow copy above; lints here would repeat them
            // or point at the lowering's own shape.
            #[allow(
                unused_unsafe, unused_parens, unused_braces, unused_mut, unused_variables, redundant_semicolons,
                unused_assignments, unreachable_code, clippy::all
            )]
            let __future = ::unasync::__private::Machine::new(
                #frame {
                    #(#prefix_inits,)*
                    #flags_init
                    __state: #state::Unresumed { #(#unresumed_inits,)* },
                },
                move |__this, __cx| {
                    let mut __block: u32 = match unsafe { &(*__this).__state } {
                        #state::Unresumed { .. } => 0,
                        #(#resume_arms)*
                        #state::Returned => ::unasync::__private::resumed_after_completion(),
                        #state::Panicked => ::unasync::__private::resumed_after_panicking(),
                    };
                    // SAFETY: the frame is pinned and not borrowed elsewhere during this poll.
                    let mut __live_flags = unsafe { #frame::restore_live(__this) };
                    let __live = &raw mut __live_flags;
                    #(
                        let mut #poll_locals = ::core::mem::MaybeUninit::<#poll_local_types>::uninit();
                        let #poll_local_pointers = &raw mut #poll_locals;
                    )*
                    // Drops every live local, innermost first, in the frame or on this stack.
                    // SAFETY: called only where the flags are accurate (they are updated
                    // together with the locals), and the locals are not used afterwards.
                    let __drop_all = move || unsafe { #(#drop_all)* };
                    // Set while an awaitee is polled and while suspending: the guards ending
                    // the user's scopes then leave their locals alone (they stay in the frame,
                    // or the unwind guard drops them, innermost first).
                    let __suspending = &::core::cell::Cell::new(false);
                    // SAFETY: runs only while unwinding out of this function.
                    let __guard = ::unasync::__private::UnwindGuard::new(move || unsafe {
                        __drop_all();
                        ::core::ptr::write(&raw mut (*__this).__state, #state::Panicked);
                    });
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
                    __drop_all();
                    // SAFETY: nothing in the frame is live any more.
                    unsafe { ::core::ptr::write(&raw mut (*__this).__state, #state::Returned) };
                    __guard.disarm();
                    ::core::task::Poll::Ready(__output)
                },
            );
            #(#recursion_checks)*
            __future
        }
    }
}

/// A local's accessor, as the lowering writes it.
fn access(lowered: &Lowered, frame: &Ident, id: usize) -> TokenStream {
    let name = &lowered.slots[id].name;
    if lowered.slots[id].placement() == Placement::PollLocal {
        let pointer = poll_local_pointer(name);
        return quote!(::unasync::__private::Slot::new(#pointer, &raw mut (*__live)[#id]));
    }
    quote!(#frame::#name(__this, __live))
}

/// The body as the user wrote it, in a branch that never runs, so rustc checks it exactly as it
/// checks the `async fn` (moves, borrows, types) and reports errors at the user's own lines.
fn shadow(function: &AsyncFn, signature: &Signature) -> TokenStream {
    let patterns = signature.args.iter().filter_map(|arg| match &arg.binding {
        ArgBinding::Pattern(pattern) => {
            let param = &arg.param;
            // As in rustc's lowering, the pattern binds from the moved argument, which a
            // `ref mut` binding may borrow mutably.
            Some(quote!(#[allow(unused_mut)] let mut #param = #param; let #pattern = #param;))
        }
        _ => None,
    });
    let block = &function.block;
    let (check, declared) = match &signature.output {
        Some(output) => {
            let span = output.span();
            (
                quote!(::unasync::__private::check_output::<#output, _>),
                Some(quote_spanned!(span=> if false { return ::unasync::__private::declared_output::<#output>(); })),
            )
        }
        None => (quote!(::core::mem::drop), None),
    };
    quote! {
        if false {
            #check(async move {
                #declared
                #(#patterns)*
                #block
            });
            loop {}
        }
    }
}
