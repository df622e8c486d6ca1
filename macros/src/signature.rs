//! The plain `fn` that replaces the `async fn`.
//!
//! Input:
//! ```text
//! async fn read(&self, buf: &mut [u8], (a, b): (u8, u8)) -> usize
//! ```
//! Output:
//! ```text
//! fn read<'__life0, '__life1>(&'__life0 self, buf: &'__life1 mut [u8], __arg2: (u8, u8))
//!     -> impl ::core::future::Future<Output = usize>
//!         + ::unasync::__private::Captures<'__life0> + ::unasync::__private::Captures<'__life1>
//! ```
//! Every lifetime is named so the returned future can capture it (an `async fn` future captures
//! all of them, in every edition); patterns become plain parameters and are bound in the body, as
//! rustc does.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::visit_mut::VisitMut;
use syn::{
    FnArg, GenericArgument, GenericParam, Ident, Lifetime, LifetimeParam, Pat, ReceiverKind,
    ReturnType, Type,
};

use crate::impls::Place;
use crate::input::AsyncFn;

pub struct Signature {
    /// The rewritten signature, ready to precede the body.
    pub tokens: TokenStream,
    /// The arguments in order, as the future captures them.
    pub args: Vec<Arg>,
    /// Each argument's type as written (`Self`'s reference for `&self`), where it can be read.
    pub arg_types: Vec<Option<Type>>,
    /// The declared output type, `()` when there is none; `None` when it cannot be written inside
    /// the body (it mentions `impl Trait`).
    pub output: Option<Type>,
    /// The return type as written.
    pub declared_output: ReturnType,
    /// The names of the generated frame struct and state enum.
    pub types: TypeNames,
}

/// The generated types are items, and items are not hygienic: their names carry a hash of the
/// user's signature, so the body can neither name them nor have its own items shadowed by them.
pub struct TypeNames {
    pub frame: Ident,
    pub state: Ident,
}

impl TypeNames {
    pub fn for_signature(sig: &syn::Signature) -> Self {
        // FNV-1a: stable across compilers and runs, so expansions and snapshots are reproducible.
        let hash = sig.to_token_stream().to_string().bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        let suffix = format!("{:08x}", hash as u32);
        TypeNames { frame: format_ident!("__Frame_{}", suffix), state: format_ident!("__State_{}", suffix) }
    }
}

pub struct Arg {
    /// The parameter's name in the rewritten signature.
    pub param: Ident,
    /// How the body binds it.
    pub binding: ArgBinding,
}

pub enum ArgBinding {
    /// `self`, `mut self`, `&self`, `self: Box<Self>`, ...
    SelfValue,
    /// `x: T` or `mut x: T`.
    Ident { ident: Ident, mutable: Option<syn::Token![mut]> },
    /// A destructuring pattern, bound from the parameter at the start of the body.
    Pattern(Pat),
}

pub fn rewrite(function: &AsyncFn, place: Place) -> syn::Result<Signature> {
    let mut sig = function.sig.clone();
    sig.asyncness = None;

    let mut namer = LifetimeNamer { next: 0, added: Vec::new(), named: Vec::new() };
    let mut args = Vec::new();
    let mut self_lifetime: Option<Lifetime> = None;
    let arg_types = function
        .sig
        .inputs
        .iter()
        .map(|input| match input {
            FnArg::Receiver(receiver) => match &receiver.kind {
                ReceiverKind::Reference(_, _, mutability) => Some(syn::parse_quote!(&#mutability Self)),
                ReceiverKind::Typed(_, ty) => Some((**ty).clone()),
                _ => None,
            },
            FnArg::Typed(typed) => Some((*typed.ty).clone()),
        })
        .collect();
    for (index, input) in sig.inputs.iter_mut().enumerate() {
        match input {
            FnArg::Receiver(receiver) => {
                match &mut receiver.kind {
                    ReceiverKind::Reference(_, lifetime, _) => {
                        let named = match lifetime.take() {
                            Some(l) if l.ident != "_" => {
                                namer.name(&l);
                                l
                            }
                            other => namer.fresh(other.map_or(receiver.self_token.span, |l| l.span())),
                        };
                        self_lifetime = Some(named.clone());
                        *lifetime = Some(named);
                    }
                    ReceiverKind::Typed(_, ty) => namer.visit_type_mut(ty),
                    _ => {}
                }
                args.push(Arg {
                    param: Ident::new("self", receiver.self_token.span),
                    binding: ArgBinding::SelfValue,
                });
            }
            FnArg::Typed(typed) => {
                namer.visit_type_mut(&mut typed.ty);
                let span = syn::spanned::Spanned::span(&typed.pat);
                match &mut *typed.pat {
                    Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
                        // `mut` goes to the body's own binding of the parameter (in the
                        // never-run copy and in the state machine); the outer function only
                        // moves the argument into the future.
                        let mutable = ident.mutability.take();
                        args.push(Arg {
                            param: ident.ident.clone(),
                            binding: ArgBinding::Ident { ident: ident.ident.clone(), mutable },
                        });
                    }
                    pattern => {
                        let param = format_ident!("__arg{}", index, span = Span::mixed_site());
                        args.push(Arg {
                            param: param.clone(),
                            binding: ArgBinding::Pattern(pattern.clone()),
                        });
                        *pattern = syn::parse_quote_spanned!(span=> #param);
                    }
                }
            }
        }
    }

    // The output's elided lifetimes, named as elision names them (`&self`'s, or the one input
    // lifetime): left elided next to the named inputs, they would draw rustc's
    // `mismatched_lifetime_syntaxes` warning, which the native signature does not.
    let elided_as = self_lifetime.or_else(|| match (namer.added.as_slice(), namer.named.as_slice()) {
        ([only], []) | ([], [only]) => Some(only.clone()),
        _ => None,
    });
    if let (Some(lifetime), ReturnType::Type(_, ty)) = (elided_as, &mut sig.output) {
        OutputElided(lifetime).visit_type_mut(ty);
    }
    for lifetime in namer.added {
        sig.generics.params.push(GenericParam::Lifetime(LifetimeParam::new(lifetime)));
    }
    // The function's lifetimes, and those of the `impl` the argument types name (`&'a self` in
    // `impl<'a> Bar<'a>`): before edition 2024 the returned `impl Future` captures only the
    // lifetimes its bounds name.
    let mut captured: Vec<Lifetime> = sig
        .generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Lifetime(l) => Some(l.lifetime.clone()),
            _ => None,
        })
        .collect();
    for lifetime in namer.named {
        if !captured.iter().any(|c| c.ident == lifetime.ident) {
            captured.push(lifetime);
        }
    }
    // The impl's lifetimes and type parameters (`impl<'a, T> Conn<'a, T>`), which `self` by value
    // or an associated fn's locals may hold without an argument naming them.
    let (impl_lifetimes, impl_types) = match place {
        Place::InherentImpl(generics) => (
            generics.lifetimes().map(|param| param.lifetime.clone()).collect::<Vec<_>>(),
            generics.type_params().map(|param| param.ident.clone()).collect::<Vec<_>>(),
        ),
        Place::Unknown => (Vec::new(), Vec::new()),
    };
    for lifetime in &impl_lifetimes {
        if !captured.iter().any(|c| c.ident == lifetime.ident) {
            captured.push(lifetime.clone());
        }
    }
    if needs_frame_lifetime(function, place, &captured, !impl_types.is_empty()) {
        captured.push(frame_lifetime(&mut sig, &captured, &impl_types));
    }
    let captures = captured.iter().map(|lifetime| quote!(+ ::unasync::__private::Captures<#lifetime>));
    let (output_tokens, output) = match &sig.output {
        ReturnType::Default => (quote!(()), Some(syn::parse_quote!(()))),
        ReturnType::Type(_, ty) => {
            let nameable = !mentions_impl_trait(ty);
            (quote!(#ty), nameable.then(|| (**ty).clone()))
        }
    };
    let span = function.sig.fn_token.span;
    let future = quote_spanned!(span=> impl ::core::future::Future<Output = #output_tokens> #(#captures)*);
    sig.output = syn::parse2(quote!(-> #future))?;

    let attrs = &function.attrs;
    let vis = &function.vis;
    let defaultness = &function.defaultness;
    Ok(Signature {
        tokens: quote! {
            #(#attrs)*
            #[allow(refining_impl_trait)]
            #vis #defaultness #sig
        },
        args,
        arg_types,
        output,
        declared_output: function.sig.output.clone(),
        types: TypeNames::for_signature(&function.sig),
    })
}

/// Whether the future gets `'__frame`, the lifetime it is valid for: outlived by every lifetime
/// and type parameter of the function, as rustc's own future is.
///
/// The machine's fields name the types of what lives across an `.await`, and the returned
/// `impl Future`'s hidden type may only name lifetimes of the signature. Two kinds of field have
/// no such lifetime: an awaitee borrowing from two arguments (`self.stream.write_all(frame.bytes())`
/// in `fn f(&mut self, frame: &Frame)`: the overlap of both lifetimes, E0700), and a borrow of a
/// generic-typed local (`&item` with `item: S`: `'static` would be the only choice, E0310).
/// `'__frame` is that lifetime. It is early-bound, so the function cannot be used where a
/// higher-ranked `for<'a> AsyncFn(&'a T)` is expected, and it changes the signature, which a
/// trait impl's method must not: only functions known not to be trait items or their impls (an
/// explicit visibility, or a method of an inherent impl the attribute is on) get it, and only when
/// one of the two cases can arise.
fn needs_frame_lifetime(function: &AsyncFn, place: Place, lifetimes: &[Lifetime], impl_types: bool) -> bool {
    let own_signature = matches!(place, Place::InherentImpl(_)) || !matches!(function.vis, syn::Visibility::Inherited);
    let type_parameters = impl_types
        || function.sig.generics.type_params().next().is_some()
        || function.sig.inputs.iter().any(|input| matches!(input, FnArg::Typed(t) if mentions_impl_trait(&t.ty)));
    own_signature && (lifetimes.len() >= 2 || type_parameters)
}

/// Declares `'__frame` with every lifetime and type parameter outliving it (`impl Trait`
/// arguments gain the bound `+ '__frame`), and returns it. A parameter's bound goes where its
/// other bounds are (clippy's `multiple_bound_locations` is the user's lint, not ours).
fn frame_lifetime(sig: &mut syn::Signature, lifetimes: &[Lifetime], impl_types: &[Ident]) -> Lifetime {
    let frame = Lifetime::new("'__frame", Span::mixed_site());
    // Lifetimes and type parameters the impl or the where clause bounds elsewhere go to the where
    // clause.
    let mut in_where_clause = Vec::new();
    for lifetime in lifetimes {
        let bounded = bound_in_where_clause(sig, |p| matches!(p, syn::WherePredicate::Lifetime(l) if l.lifetime.ident == lifetime.ident), &frame);
        match sig.generics.lifetimes_mut().find(|param| param.lifetime.ident == lifetime.ident) {
            _ if bounded => {}
            Some(param) => param.bounds.push(frame.clone()),
            None => in_where_clause.push(quote!(#lifetime: #frame)),
        }
    }
    let types: Vec<Ident> = sig.generics.type_params().map(|param| param.ident.clone()).collect();
    for ty in &types {
        let bounded = bound_in_where_clause(
            sig,
            |p| matches!(p, syn::WherePredicate::Type(t) if matches!(&t.bounded_ty, Type::Path(path) if path.qself.is_none() && path.path.is_ident(ty))),
            &frame,
        );
        if !bounded && let Some(param) = sig.generics.type_params_mut().find(|param| param.ident == *ty) {
            param.bounds.push(syn::TypeParamBound::Lifetime(frame.clone()));
        }
    }
    in_where_clause.extend(impl_types.iter().map(|ty| quote!(#ty: #frame)));
    if !in_where_clause.is_empty() {
        let where_clause = sig.generics.make_where_clause();
        for predicate in in_where_clause {
            where_clause.predicates.push(syn::parse_quote!(#predicate));
        }
    }
    sig.generics.params.push(GenericParam::Lifetime(LifetimeParam::new(frame.clone())));
    // `impl Trait` arguments, also nested (`impl Iterator<Item = impl Display>`); behind a
    // reference in parentheses (`&mut (impl Write + '__frame)`: `&mut impl Write + '__frame` is
    // ambiguous).
    struct BoundImplTrait<'a>(&'a Lifetime);
    impl VisitMut for BoundImplTrait<'_> {
        fn visit_type_impl_trait_mut(&mut self, ty: &mut syn::TypeImplTrait) {
            syn::visit_mut::visit_type_impl_trait_mut(self, ty);
            ty.bounds.push(syn::TypeParamBound::Lifetime(self.0.clone()));
        }
        fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
            if let Type::ImplTrait(_) = &*reference.elem {
                let elem = &reference.elem;
                *reference.elem = syn::parse_quote!((#elem));
            }
            syn::visit_mut::visit_type_reference_mut(self, reference);
        }
    }
    for input in &mut sig.inputs {
        if let FnArg::Typed(typed) = input {
            BoundImplTrait(&frame).visit_type_mut(&mut typed.ty);
        }
    }
    frame
}

/// Adds `: '__frame` to the first where-clause predicate `is_for` selects; whether there was one.
fn bound_in_where_clause(sig: &mut syn::Signature, is_for: impl Fn(&syn::WherePredicate) -> bool, frame: &Lifetime) -> bool {
    let Some(predicate) = sig.generics.where_clause.as_mut().and_then(|w| w.predicates.iter_mut().find(|p| is_for(p))) else {
        return false;
    };
    match predicate {
        syn::WherePredicate::Lifetime(l) => l.bounds.push(frame.clone()),
        syn::WherePredicate::Type(t) => t.bounds.push(syn::TypeParamBound::Lifetime(frame.clone())),
        _ => return false,
    }
    true
}

/// Names the elided lifetimes of the output type (`&T`, `&'_ T`, `Wrap<'_>`) with the lifetime
/// elision gives them, leaving higher-ranked positions (`Fn(&T) -> &U`, `fn(&T)`) alone.
struct OutputElided(Lifetime);

impl VisitMut for OutputElided {
    fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
        if reference.lifetime.as_ref().is_none_or(|l| l.ident == "_") {
            reference.lifetime = Some(Lifetime::new(&self.0.to_string(), reference.and_token.span));
        }
        self.visit_type_mut(&mut reference.elem);
    }
    fn visit_generic_argument_mut(&mut self, argument: &mut GenericArgument) {
        match argument {
            GenericArgument::Lifetime(l) if l.ident == "_" => *l = Lifetime::new(&self.0.to_string(), l.span()),
            other => syn::visit_mut::visit_generic_argument_mut(self, other),
        }
    }
    fn visit_type_fn_ptr_mut(&mut self, _: &mut syn::TypeFnPtr) {}
    fn visit_parenthesized_generic_arguments_mut(&mut self, _: &mut syn::ParenthesizedGenericArguments) {}
    fn visit_type_trait_object_mut(&mut self, _: &mut syn::TypeTraitObject) {}
    fn visit_type_impl_trait_mut(&mut self, _: &mut syn::TypeImplTrait) {}
}

/// Names elided lifetimes in argument types (`&T`, `Foo<'_>`), leaving higher-ranked positions
/// (`Fn(&T)`, `fn(&T)`, `dyn for<'a>`) alone.
struct LifetimeNamer {
    next: usize,
    added: Vec<Lifetime>,
    /// Named lifetimes the argument types use (not `'static`).
    named: Vec<Lifetime>,
}

impl LifetimeNamer {
    fn name(&mut self, lifetime: &Lifetime) {
        if lifetime.ident != "static" && lifetime.ident != "_" && !self.named.iter().any(|l| l.ident == lifetime.ident) {
            self.named.push(lifetime.clone());
        }
    }

    fn fresh(&mut self, span: Span) -> Lifetime {
        let lifetime = Lifetime::new(&format!("'__life{}", self.next), span);
        self.next += 1;
        self.added.push(lifetime.clone());
        lifetime
    }
}

impl VisitMut for LifetimeNamer {
    fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
        match &reference.lifetime {
            Some(l) if l.ident != "_" => self.name(&l.clone()),
            _ => reference.lifetime = Some(self.fresh(reference.and_token.span)),
        }
        self.visit_type_mut(&mut reference.elem);
    }
    fn visit_generic_argument_mut(&mut self, argument: &mut GenericArgument) {
        match argument {
            GenericArgument::Lifetime(l) if l.ident == "_" => *l = self.fresh(l.span()),
            GenericArgument::Lifetime(l) => self.name(&l.clone()),
            other => syn::visit_mut::visit_generic_argument_mut(self, other),
        }
    }
    fn visit_parenthesized_generic_arguments_mut(&mut self, _: &mut syn::ParenthesizedGenericArguments) {}
    fn visit_type_fn_ptr_mut(&mut self, _: &mut syn::TypeFnPtr) {}
    fn visit_type_trait_object_mut(&mut self, object: &mut syn::TypeTraitObject) {
        for bound in &mut object.bounds {
            if let syn::TypeParamBound::Lifetime(l) = bound {
                if l.ident == "_" {
                    *l = self.fresh(l.span());
                } else {
                    self.name(&l.clone());
                }
            }
        }
    }
}

pub fn mentions_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'a> syn::visit::Visit<'a> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'a syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_type(&mut finder, ty);
    finder.0
}

