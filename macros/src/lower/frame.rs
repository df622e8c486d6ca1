//! The emitted function: the never-run copy of the body, the state enum, the frame, and the
//! machine that polls it.
//!
//! Input: the analysed body and its [`Layout`].
//! Output:
//! ```text
//! fn f(log: Log) -> impl Future<Output = u32> {
//!     if false { native_of(async move { if false { return declared_output::<u32>(); } <the body as written> }); loop {} }
//!     enum __State<Log, Await0, X> {
//!         Unresumed { log: Log },
//!         Suspend0 { __awaitee: Await0, log: Log },     // fields in rustc's drop order
//!         Returned,
//!         Panicked,
//!     }
//!     unsafe impl<..> Frame for __State<..> { /* write Panicked / Returned */ }
//!     Machine::new_as_native(__State::Unresumed { log }, move |__frame, __state, __cx| { <the resume function> }, __native)
//! }
//! ```
//! Every field's type is a type parameter that rustc infers from the resume function, so locals
//! whose types cannot be written (closures, `async fn` futures) are saved all the same. Locals
//! pinned across several suspension points live in a struct around the enum, their prefix.
//! The resume function's output is the never-run copy's (`new_as_native`, where the output can
//! be written): a mistake the copy reports is not checked a second time against the declared type.

use std::collections::BTreeSet;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::ir::*;
use super::layout::{Home, Layout, Placement};
use super::resume::{flag_field, resume_label, Emitter};
use crate::input::AsyncFn;
use crate::signature::{ArgBinding, Signature};

/// Where the machine is emitted.
pub enum Site {
    /// The body of the plain `fn` that replaces the `async fn`.
    Function,
    /// An expression in place of an `async move` block, whose captured variables are the
    /// parameters: `native` is the never-run copy (the block as written), defining `__native`;
    /// `unresumed_drops` the parameters' indices in the order the block captured them, the order
    /// they are dropped in when it is never polled.
    Block { native: TokenStream, unresumed_drops: Vec<usize> },
}

pub fn emit(function: &AsyncFn, signature: &Signature, body: &Body, facts: &super::flow::Facts, layout: &Layout) -> TokenStream {
    let sig = &signature.tokens;
    let future = emit_future(function, signature, body, facts, layout, Site::Function);
    quote!(#sig { #future })
}

/// The statements that build the future, then the future: the function's body, or the block
/// expression that replaces an `async move` block (see [`Site`]).
pub fn emit_future(function: &AsyncFn, signature: &Signature, body: &Body, facts: &super::flow::Facts, layout: &Layout, site: Site) -> TokenStream {
    let names = &layout.names;
    let state = &signature.types.state;
    let frame_struct = &signature.types.frame;
    let wrap = |param: &Ident| quote!(::core::mem::MaybeUninit<#param>);

    // The resume function: an arm per state, in an order where each state's fields are written
    // (their types inferred) before an arm reads them.
    let mut emitter = Emitter::new(body, facts, layout, state.clone());
    let expect = expect_bounds(signature, &function.sig.generics);
    emitter.expect = expect.as_ref().map(|(name, _)| name.clone());
    let expect_fn = expect.map(|(name, bounds)| {
        let future = format_ident!("{}_future", name);
        quote! {
            fn #name<T: #bounds>(value: T) -> T { value }
            fn #future<F: ::core::future::Future<Output = T>, T: #bounds>(_: F) -> ::core::marker::PhantomData<F> {
                ::core::marker::PhantomData
            }
        }
    });
    let mut arms = vec![emitter.unresumed()];
    let mut reached: BTreeSet<AwaitId> = emitter.take_suspensions();
    let mut order = Vec::new();
    let mut pending: Vec<AwaitId> = reached.iter().copied().collect();
    while let Some(k) = pending.first().copied() {
        pending.remove(0);
        order.push(k);
        let arm = emitter.suspended(k);
        arms.push(arm);
        for next in emitter.take_suspensions() {
            if reached.insert(next) {
                pending.push(next);
            }
        }
    }
    // The states no code enters (an `.await` in unreachable code keeps its number, as in rustc)
    // share one arm, so the `match` has an arm per state.
    let unentered = (reached.len() < body.awaits.len()).then(|| quote!(_ => ::unasync::__private::unreachable_state(),));
    // The state enum: a variant per state, each field a type parameter.
    let mut state_params: Vec<Ident> = Vec::new();
    let mut use_param = |param: &Ident| {
        if !state_params.contains(param) {
            state_params.push(param.clone());
        }
    };
    let movable_params: Vec<LocalId> = body.params.iter().copied().filter(|&p| !layout.pinned(p)).collect();
    let unresumed_fields: Vec<TokenStream> = movable_params
        .iter()
        .map(|&p| {
            use_param(&names.params[p]);
            let (field, ty) = (&names.fields[p], wrap(&names.params[p]));
            quote!(#field: #ty)
        })
        .collect();
    let mut variants = Vec::new();
    for (k, shape) in layout.states.iter().enumerate() {
        if !emitter.emitted.contains(&k) {
            // No code suspends there: the future is never in this state.
            let variant = format_ident!("Suspend{}", k);
            variants.push(quote!(#variant {}));
            continue;
        }
        let awaitee = &names.awaitee_params[k];
        use_param(awaitee);
        let mut fields = vec![{
            let ty = wrap(awaitee);
            quote!(__awaitee: #ty)
        }];
        // rustc's drop order: the awaitee, then the locals, innermost and latest first.
        for &local in shape.in_scope.iter().rev() {
            let (field, param) = (&names.fields[local], &names.params[local]);
            if shape.saved.contains(&local) {
                use_param(param);
                let ty = wrap(param);
                fields.push(quote!(#field: #ty));
            } else if shape.pinned.contains(&local) {
                use_param(param);
                fields.push(quote!(#field: ::core::mem::MaybeUninit<#param>));
                if layout.flagged(local) {
                    let flag = flag_field(field);
                    fields.push(quote!(#flag: bool));
                }
            } else if shape.witnesses.contains(&local) && !layout.pinned(local) {
                use_param(param);
                let stands_for = match (body.locals[local].by_ref, body.locals[local].mutable) {
                    (true, false) if layout.locals[local] == Placement::Unsaved => quote!(::unasync::__private::SharedRef<#param>),
                    _ => quote!(#param),
                };
                fields.push(quote!(#field: ::core::marker::PhantomData<#stands_for>));
            }
        }
        let variant = format_ident!("Suspend{}", k);
        variants.push(quote!(#variant { #(#fields,)* }));
    }
    let state_type = quote!(#state<#(#state_params),*>);

    // The prefix: pinned locals live across several states, at one address.
    let prefix_params: Vec<&Ident> = layout.prefix.iter().map(|&l| &names.params[l]).collect();
    let prefix_fields = layout.prefix.iter().map(|&local| {
        let (field, param) = (&names.fields[local], &names.params[local]);
        let flag = layout.flagged(local).then(|| {
            let flag = flag_field(field);
            quote!(#flag: bool,)
        });
        quote!(#field: ::core::mem::MaybeUninit<#param>, #flag)
    });
    let has_prefix = !layout.prefix.is_empty();
    let (frame_type, frame_generics, frame_def) = if has_prefix {
        let generics = quote!(#(#prefix_params,)* #(#state_params),*);
        let def = quote! {
            #[allow(non_camel_case_types)]
            struct #frame_struct<#generics> {
                #(#prefix_fields)*
                __state: #state_type,
            }
        };
        (quote!(#frame_struct<#generics>), generics, def)
    } else {
        (state_type.clone(), quote!(#(#state_params),*), TokenStream::new())
    };
    let state_of = if has_prefix { quote!(unsafe { &raw mut (*this).__state }) } else { quote!(this) };
    let frame_impl = quote! {
        // SAFETY: `Returned` and `Panicked` hold nothing.
        unsafe impl<#frame_generics> ::unasync::__private::Frame for #frame_type {
            type State = #state_type;
            fn ended(panicked: bool) -> Self::State { if panicked { Self::State::Panicked } else { Self::State::Returned } }
            unsafe fn state(this: *mut Self) -> *mut Self::State { #state_of }
        }
    };
    let unresumed_drops: Vec<LocalId> = match &site {
        Site::Function => body.params.clone(),
        Site::Block { unresumed_drops, .. } => unresumed_drops.iter().map(|&index| body.params[index]).collect(),
    };
    let (drop_impl, drop_by_edition) = drop_impl(body, &emitter.emitted, layout, state, &frame_type, &frame_generics, has_prefix, &unresumed_drops);
    let edition = edition_probe(function, drop_by_edition || emitter.names_edition.get(), emitter.picks_edition.get(), emitter.picks_captures.get());

    let resume = resume_label();
    // The resume function's first `return`, never taken, located where the never-run copy's
    // first `return` is (at the declared output): rustc's note on a returned value of the
    // wrong type ("return type inferred to be `u32` here") is then the copy's, and rustc
    // reports the machine's error, identical to the copy's, once.
    let constructor = if signature.output.is_some() { format_ident!("new_as_native") } else { format_ident!("new") };
    let first_return = signature.output.as_ref().map(|output| {
        let span = output.span();
        let pending = quote_spanned!(span=> ::core::ops::ControlFlow::Break(::unasync::__private::Suspended));
        quote!(if false { return #pending; })
    });

    let initial_state = {
        let values = movable_params.iter().map(|&p| {
            let field = &names.fields[p];
            let value = param_value(signature, body, p);
            quote!(#field: ::core::mem::MaybeUninit::new(#value))
        });
        quote!(#state::Unresumed { #(#values,)* })
    };
    let initial_frame = if has_prefix {
        let slots = layout.prefix.iter().map(|&local| {
            let field = &names.fields[local];
            let is_param = body.params.contains(&local);
            let value = if is_param {
                let value = param_value(signature, body, local);
                quote!(::core::mem::MaybeUninit::new(#value))
            } else {
                quote!(::core::mem::MaybeUninit::uninit())
            };
            let flag = layout.flagged(local).then(|| {
                let flag = flag_field(field);
                quote!(#flag: #is_param,)
            });
            quote!(#field: #value, #flag)
        });
        quote!(#frame_struct { #(#slots)* __state: #initial_state })
    } else {
        initial_state
    };

    let shadow = match site {
        Site::Function => shadow(function, signature, emitter.expect.as_ref()),
        Site::Block { native, .. } => native,
    };
    let function_items = &function.items;
    let hoisted = &body.hoisted;
    let recursion_checks = body.recursive_calls.iter().map(|(callee, arity)| {
        let diverging = (0..*arity).map(|_| quote!(loop {}));
        let span = callee.span();
        let check = quote_spanned!(span=> ::unasync::__private::recursion_is_this_future(&__future, #callee(#(#diverging),*)));
        quote!(#[allow(unreachable_code)] if false { #check; })
    });
    quote! {
            #shadow
            #(#function_items)*
            #expect_fn
            #edition
            #[allow(non_camel_case_types, dead_code, clippy::large_enum_variant)]
            enum #state<#(#state_params),*> {
                Unresumed { #(#unresumed_fields,)* },
                #(#variants,)*
                Returned,
                Panicked,
            }
            #frame_def
            #frame_impl
            #drop_impl
            // The user's code is linted in the never-run copy above; lints here would repeat
            // them or point at the state machine's own shape.
            #[allow(unused, clippy::all, clippy::used_underscore_binding)]
            let __future = ::unasync::__private::Machine::#constructor(#initial_frame, move |__frame, __state, __cx| {
                #first_return
                use ::unasync::__private::prelude::*;
                #(#hoisted)*
                #resume: loop {
                    match unsafe { &mut *__state } {
                        #(#arms)*
                        #state::Returned => ::unasync::__private::after_return(),
                        #state::Panicked => ::unasync::__private::after_panic(),
                        #unentered
                    }
                }
            }, __native);
            #(#recursion_checks)*
            __future
    }
}

// Input:  -> impl Fn(u32) -> u32 + Send
// Output: fn __expect_<hash><T: Fn(u32) -> u32 + Send>(value: T) -> T { value }
/// A function through which the body's value takes the bounds of a declared `impl Trait`
/// output, where they name none of the function's generics or lifetimes (an inner function
/// cannot): `None` otherwise, or when the output can be written as a type.
fn expect_bounds(signature: &Signature, generics: &syn::Generics) -> Option<(Ident, TokenStream)> {
    let syn::ReturnType::Type(_, output) = &signature.declared_output else { return None };
    let syn::Type::ImplTrait(bounds) = &**output else { return None };
    let generic_names: Vec<String> = generics
        .params
        .iter()
        .map(|param| match param {
            syn::GenericParam::Type(ty) => ty.ident.to_string(),
            syn::GenericParam::Lifetime(l) => l.lifetime.ident.to_string(),
            syn::GenericParam::Const(c) => c.ident.to_string(),
        })
        .collect();
    let mut local = true;
    fn names(tokens: TokenStream, generic_names: &[String], local: &mut bool) {
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Ident(ident) => *local &= ident != "Self" && ident != "impl" && !generic_names.contains(&ident.to_string()),
                proc_macro2::TokenTree::Punct(p) if p.as_char() == '\'' => {}
                proc_macro2::TokenTree::Group(group) => names(group.stream(), generic_names, local),
                _ => {}
            }
        }
    }
    let kept: Vec<&syn::TypeParamBound> = bounds
        .bounds
        .iter()
        .filter(|bound| match bound {
            syn::TypeParamBound::Lifetime(l) => {
                local &= l.ident == "static";
                false
            }
            syn::TypeParamBound::PreciseCapture(_) => false,
            _ => true,
        })
        .collect();
    names(quote!(#(#kept)+*), &generic_names, &mut local);
    let name = format_ident!("__expect_{}", signature.types.state.to_string().trim_start_matches("__State_"));
    local.then(|| (name, quote!(#(#kept)+*)))
}

/// The value a parameter is moved into the future with: the outer function's own parameter.
fn param_value(signature: &Signature, body: &Body, local: LocalId) -> TokenStream {
    let index = body.params.iter().position(|&p| p == local).expect("a parameter");
    let param = &signature.args[index].param;
    quote!(#param)
}

// Input: a frame with pinned locals that need dropping (fields `MaybeUninit`).
// Output:
//     impl Drop for __Frame { fn drop(&mut self) { match state {
//         Suspend1 { __awaitee, y, .. } => { drop __awaitee; drop y; if x_live { drop x } }  ..
//     } } }
// Dropping the future drops what its state holds, in rustc's order, the pinned locals among
// the others.
#[allow(clippy::too_many_arguments)]
fn drop_impl(body: &Body, emitted: &BTreeSet<AwaitId>, layout: &Layout, state: &Ident, frame_type: &TokenStream, generics: &TokenStream, has_prefix: bool, unresumed_order: &[LocalId]) -> (TokenStream, bool) {
    let edition_2024 = edition_2024();
    let mut by_edition = false;
    let names = &layout.names;
    let state_place = if has_prefix { quote!(&mut self.__state) } else { quote!(self) };
    // Each drop is an expression (no `;`): an arm with one drop is written `=> x.drop(),`.
    let drop_local = |local: LocalId| -> Option<TokenStream> {
        let field = &names.fields[local];
        match layout.locals[local] {
            Placement::Pinned { home, flagged } => {
                if body.locals[local].trivially_dropped {
                    return None;
                }
                let (slot, flag) = match home {
                    Home::Prefix => {
                        let flag = flag_field(field);
                        (quote!(self.#field), quote!(self.#flag))
                    }
                    Home::Variant(_) => {
                        let flag = flag_field(field);
                        (quote!((*#field)), quote!(*#flag))
                    }
                };
                Some(if flagged { quote!(if #flag { #slot.assume_init_drop(); }) } else { quote!(#slot.assume_init_drop()) })
            }
            _ => Some(quote!(#field.assume_init_drop())),
        }
    };
    let unresumed_fields: Vec<&Ident> = body.params.iter().filter(|&&p| !layout.pinned(p)).map(|&p| &names.fields[p]).collect();
    // Never polled: the parameters go in declaration order, as rustc's captured upvars do (an
    // `async` block's in the order it captured them).
    let unresumed_drops: Vec<TokenStream> = unresumed_order.iter().filter_map(|&p| drop_local(p)).collect();
    // Per suspended state: its pattern's fields, its drops, and its drops in edition 2021 where
    // they differ (the temporaries of a block's tail end after its locals there).
    struct Suspended {
        variant: Ident,
        fields: Vec<TokenStream>,
        drops: Vec<TokenStream>,
        drops_2021: Option<Vec<TokenStream>>,
    }
    let suspended: Vec<Suspended> = layout
        .states
        .iter()
        .enumerate()
        .filter(|(k, _)| emitted.contains(k))
        .map(|(k, shape)| {
            let mut fields = vec![quote!(__awaitee)];
            let drops_in = |order: &[LocalId]| -> Vec<TokenStream> {
                let mut drops = vec![quote!(__awaitee.assume_init_drop())];
                for &local in order.iter().rev() {
                    if shape.saved.contains(&local) || layout.pinned(local) {
                        drops.extend(drop_local(local));
                    }
                }
                drops
            };
            for &local in shape.in_scope.iter().rev() {
                let field = &names.fields[local];
                if shape.saved.contains(&local) {
                    fields.push(quote!(#field));
                } else if shape.pinned.contains(&local) {
                    fields.push(quote!(#field));
                    if layout.flagged(local) {
                        let flag = flag_field(field);
                        fields.push(quote!(#flag));
                    }
                }
            }
            let drops = drops_in(&shape.in_scope);
            let drops_2021 = shape.in_scope_2021.as_deref().map(drops_in).filter(|other| texts(other) != texts(&drops));
            Suspended { variant: format_ident!("Suspend{}", k), fields, drops, drops_2021 }
        })
        .collect();
    // What every live state drops last (the parameters and locals in the prefix, mostly) is
    // dropped once after the `match`: the order is the same.
    let mut lists: Vec<&Vec<TokenStream>> = vec![&unresumed_drops];
    for Suspended { drops, drops_2021, .. } in &suspended {
        lists.push(drops);
        lists.extend(drops_2021);
    }
    // Only drops of the prefix (`self.x`): a field of a variant is bound by each arm's pattern.
    let in_prefix = |drop: &TokenStream| drop.clone().into_iter().take(2).any(|t| matches!(&t, proc_macro2::TokenTree::Ident(i) if i == "self"));
    let common = (0..=lists.iter().map(|l| l.len()).min().unwrap_or(0))
        .rev()
        .find(|&n| {
            let suffix = texts(&lists[0][lists[0].len() - n..]);
            lists[0][lists[0].len() - n..].iter().all(in_prefix) && lists.iter().all(|l| texts(&l[l.len() - n..]) == suffix)
        })
        .unwrap_or(0);
    let arm = |drops: &[TokenStream]| -> TokenStream {
        let drops = &drops[..drops.len() - common];
        match drops {
            [] => quote!({}),
            [one] => quote!(#one,),
            _ => quote!({ #(#drops;)* }),
        }
    };
    let unresumed_arm = arm(&unresumed_drops);
    let suspended_arms = suspended.iter().map(|Suspended { variant, fields, drops, drops_2021 }| match drops_2021 {
        Some(drops_2021) => {
            by_edition = true;
            let (drops, drops_2021) = (&drops[..drops.len() - common], &drops_2021[..drops_2021.len() - common]);
            quote! {
                #variant { #(#fields,)* .. } => if #edition_2024 { #(#drops;)* } else { #(#drops_2021;)* }
            }
        }
        None => {
            let arm = arm(drops);
            quote!(#variant { #(#fields,)* .. } => #arm)
        }
    });
    let suspended_arms: Vec<TokenStream> = suspended_arms.collect();
    let (rest, after) = if common == 0 {
        (quote!(_ => {}), TokenStream::new())
    } else {
        let after = &unresumed_drops[unresumed_drops.len() - common..];
        (quote!(_ => return,), quote!(#(#after;)*))
    };
    let tokens = quote! {
        impl<#generics> ::core::ops::Drop for #frame_type {
            fn drop(&mut self) {
                // The fields bound below are locals' names, lowercase (`walk::is_binding_name`):
                // none is a variant's.
                use #state::*;
                // SAFETY: the future is not running: its state says exactly what is live, and
                // each flag whether its local holds a value.
                unsafe {
                    match #state_place {
                        Unresumed { #(#unresumed_fields,)* } => #unresumed_arm
                        #(#suspended_arms)*
                        #rest
                    }
                    #after
                }
            }
        }
    };
    (tokens, by_edition)
}

fn texts(tokens: &[TokenStream]) -> Vec<String> {
    tokens.iter().map(ToString::to_string).collect()
}

// Output:
//     macro_rules! __unasync_edition_2024 { ($e:expr) => { true }; ($($t:tt)*) => { false } }
//     const __UNASYNC_EDITION_2024: bool = __unasync_edition_2024!(const {});
//     macro_rules! __unasync_by_edition {
//         ($e:expr, {$($a:tt)*} {$($b:tt)*}) => { $($a)* };
//         (const {}, {$($a:tt)*} {$($b:tt)*}) => { $($b)* };
//     }
// rustc's temporary scopes differ between editions 2021 and 2024 (a block's tail, an `if let`
// scrutinee), and a proc macro is not told the edition. A `macro_rules!` parses its fragments by
// the edition of its definition's spans, here the user's body's: `const {}` is an `expr` in
// edition 2024 only. `__unasync_by_edition!` picks statements by edition at compile time, where
// a run-time test cannot (where a `let` is, see [`by_edition`]).
//     macro_rules! __unasync_by_captures {
//         ($p:pat, {$($a:tt)*} {$($b:tt)*}) => { $($a)* };
//         (_ | _, {$($a:tt)*} {$($b:tt)*}) => { $($b)* };
//     }
// Closures capture whole variables before edition 2021, places from it; `_ | _` is a `pat`
// from edition 2021 (see [`by_captures`]).
// (Each only where the emitted code uses it: `constant`, `picks`, `captures`.)
fn edition_probe(function: &AsyncFn, constant: bool, picks: bool, captures: bool) -> TokenStream {
    let span = function.block.brace_token.span.open();
    let mut out = TokenStream::new();
    if constant {
        let edition_2024 = edition_2024();
        out.extend(quote_spanned! {span=>
            macro_rules! __unasync_edition_2024 { ($e:expr) => { true }; ($($t:tt)*) => { false } }
        });
        out.extend(quote!(const #edition_2024: bool = __unasync_edition_2024!(const {});));
    }
    if picks {
        out.extend(quote_spanned! {span=>
            macro_rules! __unasync_by_edition {
                ($e:expr, {$($a:tt)*} {$($b:tt)*}) => { $($a)* };
                (const {}, {$($a:tt)*} {$($b:tt)*}) => { $($b)* };
            }
        });
    }
    if captures {
        out.extend(quote_spanned! {span=>
            macro_rules! __unasync_by_captures {
                ($p:pat, {$($a:tt)*} {$($b:tt)*}) => { $($a)* };
                (_ | _, {$($a:tt)*} {$($b:tt)*}) => { $($b)* };
            }
        });
    }
    out
}

/// Statements: `from_2021` where closures capture places (edition 2021 on), `in_2018` where they
/// capture whole variables (see [`edition_probe`]); the emitter that writes it sets its
/// `picks_captures`.
pub fn by_captures(from_2021: TokenStream, in_2018: TokenStream) -> TokenStream {
    quote!(__unasync_by_captures!(_ | _, {#from_2021} {#in_2018});)
}

/// Statements: `in_2024` in edition 2024, `in_2021` before (see [`edition_probe`]); the emitter
/// that writes it sets its `picks_edition`.
pub fn by_edition(in_2024: TokenStream, in_2021: TokenStream) -> TokenStream {
    quote!(__unasync_by_edition!(const {}, {#in_2024} {#in_2021});)
}

/// Whether the user's code is edition 2024 (see [`edition_probe`]).
pub fn edition_2024() -> Ident {
    Ident::new("__UNASYNC_EDITION_2024", proc_macro2::Span::call_site())
}

/// The body as the user wrote it, in a branch that never runs, so rustc checks it exactly as it
/// checks the `async fn` (moves, borrows, types) and reports errors at the user's own lines.
fn shadow(function: &AsyncFn, signature: &Signature, expect: Option<&Ident>) -> TokenStream {
    let patterns = signature.args.iter().filter_map(|arg| match &arg.binding {
        ArgBinding::Pattern(pattern) => {
            let param = &arg.param;
            // As in rustc's lowering, the pattern binds from the moved argument, which a
            // `ref mut` binding may borrow mutably.
            Some(quote!(#[allow(unused_mut)] let mut #param = #param; let #pattern = #param;))
        }
        // As in rustc's lowering, the body has its own binding of the argument: its type may
        // borrow for less than the argument's (`label = &local;`), and `mut` is its own.
        // The argument's use there is the expansion's, as rustc's is (clippy lints a use of `_y`).
        ArgBinding::Ident { ident, mutable } => {
            let allow = ident.to_string().starts_with('_').then(|| quote!(#[allow(clippy::used_underscore_binding)]));
            Some(quote!(#allow let #mutable #ident = #ident;))
        }
        ArgBinding::SelfValue => None,
    });
    // A body of one expression (`{ self.0 }`) is the copy's tail block: rustc's `unused_braces`
    // would call its braces unnecessary, which it does not for the `async fn`. Braces made by a
    // macro are not linted.
    let mut block = function.block.clone();
    if let [syn::Stmt::Expr(_, None)] = block.stmts.as_slice() {
        block.brace_token = syn::token::Brace(proc_macro2::Span::call_site());
    }
    let (check, declared) = match &signature.output {
        Some(output) => {
            let span = output.span();
            (
                quote!(::unasync::__private::native_of),
                Some(quote_spanned!(span=> if false { return ::unasync::__private::declared_output::<#output>(); })),
            )
        }
        None => match expect {
            Some(name) => {
                let future = format_ident!("{}_future", name);
                (quote!(#future), None)
            }
            None => (quote!(::unasync::__private::native_of), None),
        },
    };
    // The copy's future is rustc's own for this body: its type goes into the machine's (as
    // `PhantomData`), which so has rustc's auto traits, and rustc's notes when it is not `Send`.
    quote! {
        #[allow(unused_assignments)]
        let mut __native = ::core::marker::PhantomData;
        if false {
            __native = #check(async move {
                #declared
                #(#patterns)*
                #block
            });
            loop {}
        }
    }
}
