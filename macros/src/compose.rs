//! Composition with attributes that rewrite an `async fn` themselves: `#[tokio::main]`,
//! `#[tokio::test]`, `#[tracing::instrument]`, `#[async_trait]` and `#[embassy_executor::task]`.
//!
//! Outer attributes expand first, so whichever of them is above `#[unasync::desugar]` rewrites the
//! function before it. tokio and tracing need to see the `async fn` (tokio refuses a plain `fn`,
//! and tracing enters its span only while a plain `fn` builds the future, not on every poll), so:
//! - above them, `#[unasync::desugar]` moves itself below them and lets them run first;
//! - below them, it finds the `async` block they made of the user's body and lowers it, leaving
//!   their code as they wrote it.
//!
//! `#[async_trait]` on an impl or trait has already turned the method into a plain `fn` returning
//! `Box::pin(async move { .. })`. That block, and tracing's `async move { user }`, are lowered in
//! place (see [`crate::inplace`]): the machine takes the variables the block captures, as the
//! block does, so methods, generics and arguments of any type work.
//!
//! `#[embassy_executor::task]` keeps the user's `async fn`, attributes and all, inside the function
//! that makes the future; its spawner, which also gets the attributes, is left as it is.
//!
//! tokio's block is `async { user }`, which borrows the arguments: it is replaced with a call of
//! a desugared inner `async fn` holding that body. The inner function takes the arguments by
//! value, which is unobservable only for `Copy` arguments, which have no drop glue, so every
//! argument must be `Copy` (checked by rustc, with a message of ours), and methods and generics
//! are refused (an inner function cannot name `Self` or the outer generics).

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    Attribute, Block, Error, Expr, FnArg, GenericParam, ItemFn, Local, Pat, Signature, Stmt,
};

/// `Some` when the item is one of the compositions above, `None` to desugar it as usual.
pub fn expand(args: &TokenStream, item: &TokenStream) -> Option<syn::Result<TokenStream>> {
    if !args.is_empty() {
        return None;
    }
    let mut function = syn::parse2::<ItemFn>(item.clone()).ok()?;
    let call = inner_call(&function.sig);
    if function.sig.asyncness.is_some() {
        if let Some(index) = function.attrs.iter().position(must_see_async_fn) {
            return Some(Ok(run_after(&function, index)));
        }
        tracing_user_block(&mut function.block)?;
        return Some(each_cfg(item, |mut function| {
            let future = tracing_user_block(&mut function.block).expect("tracing's shape");
            lower_in_place(&function.sig, future, "#[tracing::instrument]")
                .map(|()| quote!(#function))
        }));
    }
    if is_async_trait_method(&function.sig)
        && let Some(index) = function.attrs.iter().position(must_see_async_fn)
    {
        // tracing instruments async-trait's block itself: let it run first.
        return Some(Ok(run_after(&function, index)));
    }
    if is_async_trait_method(&function.sig)
        && function
            .sig
            .inputs
            .iter()
            .all(|input| match input {
                FnArg::Receiver(_) => true,
                FnArg::Typed(typed) => matches!(&*typed.pat, Pat::Ident(name) if name.by_ref.is_none() && name.subpat.is_none()),
            })
    {
        async_trait_block(&mut function.block)?;
        return Some(each_cfg(item, lower_async_trait_block));
    }
    if is_embassy_spawner(&function.sig) {
        return Some(Ok(quote!(#function)));
    }
    let user = take_tokio_user_block(&mut function.block, call)?;
    Some(replace_with_inner_fn(
        function,
        user,
        "#[tokio::main] or #[tokio::test]",
    ))
}

/// `lower` applied to the function once per combination of the `cfg`s inside it (see
/// [`crate::cfg`]), or once when it has none.
fn each_cfg(
    item: &TokenStream,
    lower: impl Fn(ItemFn) -> syn::Result<TokenStream>,
) -> syn::Result<TokenStream> {
    let each = |tokens: TokenStream| lower(syn::parse2::<ItemFn>(tokens)?);
    crate::cfg::expand_each(item, each).unwrap_or_else(|| each(item.clone()))
}

/// The message for a plain `fn` that none of the known attributes made: an `async` block in its
/// body suggests that another attribute rewrote the `async fn` first.
pub fn not_async_message(block: &Block) -> &'static str {
    if contains_async_block(block) {
        "#[unasync::desugar] goes on an `async fn`; this function is not async, likely because an \
         attribute above #[unasync::desugar] rewrote the `async fn` first: put #[unasync::desugar] \
         above that attribute, or on an `async fn` of its own that this function calls"
    } else {
        "#[unasync::desugar] goes on an `async fn`; this function is not async"
    }
}

fn must_see_async_fn(attr: &Attribute) -> bool {
    let segments: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    matches!(
        segments
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["tokio", "main" | "test"]
            | ["tracing" | "tracing_attributes", "instrument"]
            | ["instrument"]
    )
}

// Input:
//     #[a] #[tokio::main] #[b] async fn f() { .. }          (under #[unasync::desugar])
// Output:
//     #[a] #[tokio::main] #[::unasync::desugar] #[b] async fn f() { .. }
fn run_after(function: &ItemFn, index: usize) -> TokenStream {
    let (before, after) = function.attrs.split_at(index + 1);
    let ItemFn {
        vis, sig, block, ..
    } = function;
    quote!(#(#before)* #[::unasync::desugar] #(#after)* #vis #sig #block)
}

/// `__unasync_body(a, b)`: the arguments bound to plain names ([`check_supported`] refuses others).
fn inner_call(sig: &Signature) -> Expr {
    let names = sig.inputs.iter().filter_map(|input| match input {
        FnArg::Typed(typed) => match &*typed.pat {
            Pat::Ident(name) => Some(&name.ident),
            _ => None,
        },
        FnArg::Receiver(_) => None,
    });
    syn::parse_quote!(__unasync_body(#(#names),*))
}

// Input (tokio-macros 2.x, `#[tokio::main]` and `#[tokio::test]`):
//     fn f() -> R { let body = async { user }; ..; { ..block_on(body) } }
// Output:
//     fn f() -> R { let body = __unasync_body(); ..; { ..block_on(body) } }, and `{ user }`
fn take_tokio_user_block(block: &mut Block, call: Expr) -> Option<Block> {
    let stmts = &block.stmts;
    let runs_body = mentions(&quote!(#(#stmts)*), "block_on");
    let Some(Stmt::Local(Local {
        pat: Pat::Ident(name),
        init: Some(init),
        ..
    })) = block.stmts.first_mut()
    else {
        return None;
    };
    let shape = runs_body
        && name.ident == "body"
        && name.by_ref.is_none()
        && name.mutability.is_none()
        && init.diverge.is_none()
        && matches!(&*init.expr, Expr::Async(future) if future.capture.is_none());
    if !shape {
        return None;
    }
    take_block(&mut init.expr, call)
}

// Input (embassy-executor-macros 0.8, `#[embassy_executor::task]` above `#[unasync::desugar]`):
//     #[doc(hidden)] fn __f_task(n: u32) -> impl Future<Output = ()> {
//         #[unasync::desugar] async fn __f_task_inner_function(n: u32) { user }
//         { __f_task_inner_function(n) }
//     }
//     #[unasync::desugar] fn f(n: u32) -> Result<SpawnToken<impl Sized>, SpawnError> { <the task pool> }
// Output: the same. embassy copies the user's attributes onto both functions: the inner `async
// fn` is desugared as any other, and the spawner, which holds no `async` code, is left as it is.
/// The spawner `#[embassy_executor::task]` makes, by the `SpawnToken` it returns.
fn is_embassy_spawner(sig: &Signature) -> bool {
    let syn::ReturnType::Type(_, output) = &sig.output else { return false };
    sig.asyncness.is_none() && mentions(&quote!(#output), "SpawnToken")
}

// Input (tracing-attributes 0.1, an instrumented `async fn`), one of:
//     let __tracing_instrument_future = async move { user };
//     let __tracing_instrument_future = async move { let x = async move { user }.await; .. };
//     let __tracing_instrument_future = async move { match async move { user }.await { .. } };
// Output: `async move { user }`, where it is
fn tracing_user_block(block: &mut Block) -> Option<&mut Expr> {
    let future = block.stmts.iter_mut().find_map(|stmt| match stmt {
        Stmt::Local(Local {
            pat: Pat::Ident(name),
            init: Some(init),
            ..
        }) if name.ident == "__tracing_instrument_future" => Some(&mut *init.expr),
        _ => None,
    })?;
    let Expr::Async(outer) = &*future else {
        return None;
    };
    // tracing's blocks are `async move`; anything else is not its expansion.
    outer.capture?;
    let single = outer.block.stmts.len() == 1;
    let wraps = match outer.block.stmts.first() {
        Some(Stmt::Local(Local {
            pat: Pat::Ident(name),
            init: Some(_),
            ..
        })) => name.ident == "x" || name.ident == "__match_scrutinee",
        Some(Stmt::Expr(Expr::Match(_), _)) => single,
        _ => false,
    };
    if !wraps {
        return Some(future);
    }
    let Expr::Async(outer) = future else {
        return None;
    };
    let awaited = match outer.block.stmts.first_mut() {
        Some(Stmt::Local(Local {
            init: Some(init), ..
        })) => &mut *init.expr,
        Some(Stmt::Expr(Expr::Match(matching), _)) => &mut *matching.expr,
        _ => return None,
    };
    match awaited {
        Expr::Await(awaited) if matches!(&*awaited.base, Expr::Async(inner) if inner.capture.is_some()) => {
            Some(&mut *awaited.base)
        }
        _ => None,
    }
}

// Input:  async fn f(&self, mut x: T) -> R { ..; let __tracing_instrument_future = async move { user }; .. }
// Output: the same with the machine in place of `async move { user }` (see `crate::inplace`)
/// Lowers `future`, an `async move` block of the `async fn` `sig`, in place; the block captures
/// the arguments it uses, whole.
fn lower_in_place(sig: &Signature, future: &mut Expr, attribute: &str) -> syn::Result<()> {
    let Expr::Async(block) = future else {
        unreachable!("an `async` block")
    };
    for input in &sig.inputs {
        if let FnArg::Typed(typed) = input
            && !matches!(&*typed.pat, Pat::Ident(name) if name.by_ref.is_none() && name.subpat.is_none())
        {
            return Err(Error::new(
                typed.pat.span(),
                format!(
                    "#[unasync::desugar] under {attribute} needs each argument bound to a plain \
                     name: bind it to a name and destructure it in the body"
                ),
            ));
        }
    }
    let captures =
        crate::inplace::captured_parameters(sig, block).expect("plain names, checked above");
    // tracing-attributes is an edition-2018 crate: the `async move` it writes takes each variable
    // it mentions whole, in every edition of the user's crate (`instrument_uses_part_of_an_argument`
    // in tests/compose.rs pins it against the native function).
    crate::inplace::check_whole_captures(&block.block, &captures, attribute, false)?;
    let output = match &sig.output {
        syn::ReturnType::Default => Some(syn::parse_quote!(())),
        syn::ReturnType::Type(_, ty) => {
            (!crate::signature::mentions_impl_trait(ty)).then(|| (**ty).clone())
        }
    };
    *future = crate::inplace::lower(block, captures, output, sig)?;
    Ok(())
}

/// async-trait 0.1 names the lifetime of the boxed future `'async_trait`.
pub fn is_async_trait_method(sig: &Signature) -> bool {
    sig.asyncness.is_none()
        && sig.generics.params.iter().any(
            |param| matches!(param, GenericParam::Lifetime(l) if l.lifetime.ident == "async_trait"),
        )
}

// Input (async-trait 0.1, `#[async_trait]` on the impl or trait):
//     fn get<'life0, 'async_trait>(&'life0 self, k: u32) -> Pin<Box<dyn Future<Output = u32> + ..>>
//     { Box::pin(async move { let __self = self; let k = k; .. }) }
// Output: the same with the machine in place of `async move { .. }` (see `crate::inplace`)
fn lower_async_trait_block(mut function: ItemFn) -> syn::Result<TokenStream> {
    let sig = &function.sig;
    let Some(future) = async_trait_block(&mut function.block) else {
        unreachable!("async-trait's shape, checked before")
    };
    let Expr::Async(block) = &*future else {
        unreachable!("an `async` block")
    };
    // async-trait binds each pattern argument to `__argN` in the signature.
    let captures = crate::inplace::captured_parameters(sig, block).expect("plain names");
    crate::inplace::check_whole_captures(&block.block, &captures, "#[async_trait]", true)?;
    let output = crate::inplace::boxed_future_output(&sig.output);
    *future = crate::inplace::lower(block, captures, output, sig)?;
    Ok(quote!(#function))
}

/// The `async move` block in `Box::pin(async move { .. })`, the whole body.
fn async_trait_block(block: &mut Block) -> Option<&mut Expr> {
    let [Stmt::Expr(Expr::Call(call), None)] = block.stmts.as_mut_slice() else {
        return None;
    };
    // `Box::pin`, or `::std::boxed::Box::pin` when tracing instrumented the block.
    let boxes = matches!(&*call.func, Expr::Path(path) if path.path.segments.len() >= 2
        && path.path.segments[path.path.segments.len() - 2].ident == "Box"
        && path.path.segments[path.path.segments.len() - 1].ident == "pin");
    if !boxes || call.args.len() != 1 {
        return None;
    }
    let future = call.args.first_mut()?;
    let Expr::Async(outer) = &*future else {
        return None;
    };
    outer.capture?;
    // Input (tracing-attributes 0.1 on async-trait's method):
    //     Box::pin(async move { ..; let __tracing_instrument_future = async move { .. }; .. })
    let instrumented = outer.block.stmts.iter().any(|stmt| {
        matches!(stmt, Stmt::Local(Local { pat: Pat::Ident(name), .. })
            if name.ident == "__tracing_instrument_future")
    });
    if !instrumented {
        return Some(future);
    }
    let Expr::Async(outer) = future else {
        return None;
    };
    tracing_user_block(&mut outer.block)
}

/// Puts `call` where the `async` block was and returns the block's body.
fn take_block(expr: &mut Expr, call: Expr) -> Option<Block> {
    match std::mem::replace(expr, call) {
        Expr::Async(future) => Some(future.block),
        _ => None,
    }
}

// Input:
//     fn f(mut a: A, b: B) -> R { ..; let body = __unasync_body(a, b); .. }, and `{ user }`
// Output:
//     fn f(a: A, b: B) -> R {
//         { /* rustc checks that `a` and `b` are `Copy` */ }
//         /* desugared */ async fn __unasync_body(mut a: A, b: B) -> R { user }
//         ..; let body = __unasync_body(a, b); ..
//     }
fn replace_with_inner_fn(
    mut function: ItemFn,
    user: Block,
    attribute: &str,
) -> syn::Result<TokenStream> {
    check_supported(&function, &user, attribute)?;
    let generics = &function.sig.generics;
    let (inputs, output, where_clause) = (
        &function.sig.inputs,
        &function.sig.output,
        &generics.where_clause,
    );
    let inner = quote_spanned!(user.brace_token.span.join()=>
        async fn __unasync_body #generics (#inputs) #output #where_clause #user
    );
    let inner = crate::try_expand(TokenStream::new(), inner)?;

    let mut checks = Vec::new();
    for input in &mut function.sig.inputs {
        if let FnArg::Typed(typed) = input
            && let Pat::Ident(name) = &mut *typed.pat
        {
            // The outer function only hands the argument on.
            name.mutability = None;
            let ident = &name.ident;
            checks.push(quote_spanned!(typed.ty.span()=> __unasync_copy_argument(&#ident);));
        }
    }
    let mut stmts = Vec::new();
    if !checks.is_empty() {
        let message = format!(
            "an argument of a function under {attribute} and #[unasync::desugar] must be `Copy`"
        );
        let label = "not `Copy`: the desugared body would take it by value and drop it at another time than \
                     rustc; keep this function native and pass a #[unasync::desugar] `async fn` what it needs";
        stmts.push(syn::parse_quote! {
            {
                #[diagnostic::on_unimplemented(message = #message, label = #label)]
                trait __UnasyncCopyArgument {}
                impl<__T: ::core::marker::Copy + ?::core::marker::Sized> __UnasyncCopyArgument for __T {}
                fn __unasync_copy_argument<__T: __UnasyncCopyArgument + ?::core::marker::Sized>(_: &__T) {}
                #(#checks)*
            }
        });
    }
    stmts.push(Stmt::Item(syn::Item::Verbatim(inner)));
    stmts.append(&mut function.block.stmts);
    function.block.stmts = stmts;
    Ok(quote!(#function))
}

fn check_supported(function: &ItemFn, user: &Block, attribute: &str) -> syn::Result<()> {
    let sig = &function.sig;
    if let Some(param) = sig
        .generics
        .params
        .iter()
        .find(|p| !matches!(p, GenericParam::Lifetime(_)))
    {
        return Err(Error::new(
            param.span(),
            format!(
                "#[unasync::desugar] does not support a generic function under {attribute} yet: keep this \
                 function native and call a generic #[unasync::desugar] `async fn` from it"
            ),
        ));
    }
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                return Err(Error::new(
                    receiver.span(),
                    format!(
                        "#[unasync::desugar] does not support a method under {attribute} yet: keep this \
                         method native and call a #[unasync::desugar] `async fn` from it"
                    ),
                ));
            }
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(name) if name.by_ref.is_none() && name.subpat.is_none() => {}
                pattern => {
                    return Err(Error::new(
                        pattern.span(),
                        format!(
                            "#[unasync::desugar] under {attribute} needs each argument bound to a plain \
                             name: bind it to a name and destructure it in the body"
                        ),
                    ));
                }
            },
        }
    }
    if let Some(span) = find_ident(&quote!(#sig), "Self").or_else(|| self_outside_items(user)) {
        return Err(Error::new(
            span,
            format!(
                "#[unasync::desugar] under {attribute} moves the body into an inner `async fn`, where `Self` \
                 is not in scope: name the type instead"
            ),
        ));
    }
    Ok(())
}

/// `Self` in the body, outside the items declared in it (`impl Inner { fn new() -> Self }` has
/// its own `Self`).
fn self_outside_items(block: &Block) -> Option<Span> {
    struct Finder(Option<Span>);
    impl<'a> syn::visit::Visit<'a> for Finder {
        fn visit_item(&mut self, _: &'a syn::Item) {}
        fn visit_ident(&mut self, ident: &'a proc_macro2::Ident) {
            if ident == "Self" && self.0.is_none() {
                self.0 = Some(ident.span());
            }
        }
        fn visit_macro(&mut self, mac: &'a syn::Macro) {
            if self.0.is_none() {
                self.0 = find_ident(&mac.tokens, "Self");
            }
        }
    }
    let mut finder = Finder(None);
    syn::visit::Visit::visit_block(&mut finder, block);
    finder.0
}

fn mentions(tokens: &TokenStream, name: &str) -> bool {
    find_ident(tokens, name).is_some()
}

fn find_ident(tokens: &TokenStream, name: &str) -> Option<Span> {
    tokens.clone().into_iter().find_map(|token| match token {
        TokenTree::Ident(ident) if ident == name => Some(ident.span()),
        TokenTree::Group(group) => find_ident(&group.stream(), name),
        _ => None,
    })
}

fn contains_async_block(block: &Block) -> bool {
    struct Finder(bool);
    impl<'a> syn::visit::Visit<'a> for Finder {
        fn visit_expr_async(&mut self, _: &'a syn::ExprAsync) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_block(&mut finder, block);
    finder.0
}

#[cfg(test)]
mod tests {
    use super::expand;
    use quote::quote;

    fn expanded(item: proc_macro2::TokenStream) -> Option<String> {
        expand(&quote!(), &item).map(|result| result.expect("expands").to_string())
    }

    #[test]
    fn moves_itself_below_the_attributes_that_need_the_async_fn() {
        for attr in [
            quote!(#[tokio::main]),
            quote!(#[tokio::test]),
            quote!(#[tracing::instrument(ret)]),
            quote!(#[instrument]),
        ] {
            let out = expanded(quote!(#[inline] #attr #[allow(unused)] async fn f() {}))
                .expect("composed");
            let expected =
                quote!(#[inline] #attr #[::unasync::desugar] #[allow(unused)] async fn f() {})
                    .to_string();
            assert_eq!(out, expected);
        }
    }

    #[test]
    fn leaves_everything_else_to_the_usual_pipeline() {
        assert!(
            expanded(quote!(
                #[test]
                async fn f() {}
            ))
            .is_none()
        );
        assert!(
            expanded(quote!(
                #[other::main]
                async fn f() {
                    let body = async {};
                }
            ))
            .is_none()
        );
        assert!(
            expanded(quote!(
                fn f() -> u32 {
                    1
                }
            ))
            .is_none()
        );
        // tokio's first statement without its `block_on`.
        assert!(
            expanded(quote!(
                fn f() {
                    let body = async {};
                    drop(body)
                }
            ))
            .is_none()
        );
        assert!(
            expand(
                &quote!(arg),
                &quote!(
                    #[tokio::main]
                    async fn f() {}
                )
            )
            .is_none()
        );
    }

    #[test]
    fn replaces_tokios_async_block_with_a_desugared_inner_fn() {
        let out = expanded(quote! {
            fn f(mut x: u32) -> u32 {
                let body = async { x += 1; x };
                { return tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(body); }
            }
        })
        .expect("composed");
        assert!(
            out.starts_with(&quote!(fn f(x: u32) -> u32).to_string()),
            "{out}"
        );
        assert!(
            out.contains(&quote!(fn __unasync_body(x: u32)).to_string()),
            "{out}"
        );
        // The parameter's `mut` moves to the body's own binding of it.
        assert!(out.contains(&quote!(let mut x = x;).to_string()), "{out}");
        assert!(
            out.contains(&quote!(let body = __unasync_body(x);).to_string()),
            "{out}"
        );
        assert!(
            !out.contains(&quote!(let body = async).to_string()),
            "{out}"
        );
    }

    #[test]
    fn lowers_async_traits_block_in_place() {
        let sig = quote! {
            fn get<'life0, 'async_trait>(&'life0 self, k: u32)
                -> ::core::pin::Pin<Box<dyn ::core::future::Future<Output = u32> + ::core::marker::Send + 'async_trait>>
            where 'life0: 'async_trait, Self: 'async_trait
        };
        let out = expanded(quote! {
            #sig {
                Box::pin(async move {
                    let __self = self;
                    let k = k;
                    let __ret: u32 = { ready(k).await + 1 };
                    #[allow(unreachable_code)]
                    __ret
                })
            }
        })
        .expect("composed");
        // The signature stays as async-trait wrote it, and the machine takes the block's place,
        // with `self` and `k` moved into its first state.
        assert!(
            out.starts_with("fn get < 'life0 , 'async_trait > (& 'life0 self , k : u32)"),
            "{out}"
        );
        assert!(out.contains("Box :: pin ({"), "{out}");
        assert!(out.contains("Machine :: new"), "{out}");
        assert!(out.contains("MaybeUninit :: new (self)"), "{out}");
        assert!(out.contains("MaybeUninit :: new (k)"), "{out}");
    }

    #[test]
    fn refuses_what_an_inner_fn_cannot_hold() {
        let tokio_body = quote!({
            let body = async {};
            rt.block_on(body)
        });
        for (sig, message) in [
            (quote!(fn f<T>(t: T)), "generic function"),
            (quote!(fn f(&self)), "method"),
            (quote!(fn f((a, b): (u8, u8))), "plain name"),
            (quote!(fn f(x: Self)), "`Self`"),
        ] {
            let error = expand(&quote!(), &quote!(#sig #tokio_body))
                .expect("composed")
                .expect_err("refused");
            assert!(error.to_string().contains(message), "{error}");
        }
    }
}
