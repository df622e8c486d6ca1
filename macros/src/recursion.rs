//! Recursive `async fn`s.
//!
//! A desugared future names the futures it awaits in its frame's type, so awaiting its own
//! future, even boxed, would make an infinite type. The one shape rustc accepts,
//! `Box::pin(f(..)).await`, is lowered by awaiting `unasync::__private::Recursion`, which erases
//! the boxed future's type; it asserts that the erased future is `Send`/`Sync` whenever the
//! function's own future is, which holds only when the call is the function itself with the same
//! type arguments: a free function called by its own name, without type or const parameters.
//! Every other recursion is refused here with an error saying how to write it.

use quote::ToTokens;
use syn::visit::Visit;
use syn::{Error, Expr, ExprCall, FnArg, GenericParam, Ident, Item, UseTree};

use crate::input::AsyncFn;
use crate::lower::strip_parens;
use crate::signature::mentions_impl_trait;

/// The function's name when a call of it in its body means recursion: no item, parameter or
/// local of the body is named like it (`let step = |x| ..; step(1)` calls the closure). A
/// function that both names a local like itself and recurses is left to rustc, which reports
/// the unboxed recursion.
pub fn recursive_name(function: &AsyncFn) -> Option<&Ident> {
    let name = &function.sig.ident;
    let mut shadowing = Shadowing { name, found: false };
    shadowing.visit_block(&function.block);
    function.items.iter().for_each(|item| shadowing.visit_item(item));
    for input in &function.sig.inputs {
        if let FnArg::Typed(typed) = input {
            shadowing.visit_pat(&typed.pat);
        }
    }
    (!shadowing.found).then_some(name)
}

/// Checks every recursive call in the body: each must be `Box::pin(f(..)).await`, in a function
/// whose instances all have the same auto traits.
pub fn check(function: &AsyncFn) -> syn::Result<()> {
    let Some(name) = recursive_name(function) else { return Ok(()) };
    let mut finder = Finder { name, generic: generic_parameter(function), error: None };
    finder.visit_block(&function.block);
    finder.error.map_or(Ok(()), Err)
}

/// The recursive call in `Box::pin(name(..))`, the base of an `.await` the lowering erases.
pub fn boxed_self_call<'a>(base: &'a Expr, name: &Ident) -> Option<&'a ExprCall> {
    let Expr::Call(boxing) = strip_parens(base) else { return None };
    let Expr::Path(path) = strip_parens(&boxing.func) else { return None };
    let segments: Vec<String> = path.path.segments.iter().map(|s| s.ident.to_string()).collect();
    if !segments.ends_with(&["Box".to_owned(), "pin".to_owned()]) || boxing.args.len() != 1 {
        return None;
    }
    match strip_parens(&boxing.args[0]) {
        Expr::Call(call) if calls_by_own_name(call, name) => Some(call),
        _ => None,
    }
}

fn calls_by_own_name(call: &ExprCall, name: &Ident) -> bool {
    matches!(strip_parens(&call.func), Expr::Path(path) if path.qself.is_none() && path.path.is_ident(name))
}

/// A type or const parameter (`impl Trait` arguments included): its instances may differ in
/// `Send`/`Sync`, so the erased future could not inherit the function's auto traits.
fn generic_parameter(function: &AsyncFn) -> Option<String> {
    let declared = function.sig.generics.params.iter().find_map(|param| match param {
        GenericParam::Type(ty) => Some(ty.ident.to_string()),
        GenericParam::Const(constant) => Some(constant.ident.to_string()),
        GenericParam::Lifetime(_) => None,
    });
    declared.or_else(|| {
        function.sig.inputs.iter().find_map(|input| match input {
            FnArg::Typed(typed) if mentions_impl_trait(&typed.ty) => Some(typed.ty.to_token_stream().to_string()),
            _ => None,
        })
    })
}

struct Finder<'a> {
    name: &'a Ident,
    generic: Option<String>,
    error: Option<Error>,
}

impl Finder<'_> {
    fn fail(&mut self, error: Error) {
        self.error.get_or_insert(error);
    }
}

impl<'a> Visit<'a> for Finder<'_> {
    fn visit_expr_await(&mut self, awaited: &'a syn::ExprAwait) {
        if let Some(call) = boxed_self_call(&awaited.base, self.name) {
            if let Some(generic) = &self.generic {
                self.fail(Error::new_spanned(
                    call,
                    format!(
                        "unasync does not lower recursion in a function with a type or const parameter (`{generic}`): \
                         the boxed future of another instance could differ in `Send`/`Sync`; keep this function native"
                    ),
                ));
            }
            // The callee is allowed here; its arguments may recurse too.
            for arg in &call.args {
                self.visit_expr(arg);
            }
            return;
        }
        syn::visit::visit_expr_await(self, awaited);
    }

    fn visit_expr_call(&mut self, call: &'a ExprCall) {
        let self_path = matches!(strip_parens(&call.func), Expr::Path(path)
            if path.qself.is_none()
                && path.path.segments.len() == 2
                && path.path.segments[0].ident == "Self"
                && path.path.segments[1].ident == *self.name);
        if self_path {
            self.fail(Error::new_spanned(
                call,
                "unasync lowers recursion only through a free function called by its own name, as \
                 `Box::pin(f(..)).await`; recurse through a free `async fn`, or keep this function native",
            ));
        } else if matches!(strip_parens(&call.func), Expr::Path(path) if path.path.segments.last().is_some_and(|s| s.ident == *self.name) && path.path.segments.len() == 1)
        {
            self.fail(Error::new_spanned(
                call,
                "recursion in an `async fn` requires boxing, and unasync lowers it only as `Box::pin(f(..)).await` \
                 (a boxed future of this function kept anywhere else would make its state machine contain itself)",
            ));
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'a syn::ExprMethodCall) {
        if call.method == *self.name && matches!(strip_parens(&call.receiver), Expr::Path(p) if p.path.is_ident("self")) {
            self.fail(Error::new_spanned(
                call,
                "unasync lowers recursion only through a free function called by its own name, as \
                 `Box::pin(f(..)).await`; recurse through a free `async fn`, or keep this function native",
            ));
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    // Items in the body have their own scope; a call there is not this function's body.
    fn visit_item(&mut self, _: &'a Item) {}
}

/// An item, a parameter or a local named like the function: the name may then mean it.
struct Shadowing<'a> {
    name: &'a Ident,
    found: bool,
}

impl<'a> Visit<'a> for Shadowing<'_> {
    fn visit_pat_ident(&mut self, binding: &'a syn::PatIdent) {
        self.found |= binding.ident == *self.name;
        syn::visit::visit_pat_ident(self, binding);
    }

    fn visit_item(&mut self, item: &'a Item) {
        match item {
            Item::Fn(nested) => self.found |= nested.sig.ident == *self.name,
            Item::Use(declaration) => self.found |= use_names(&declaration.tree, self.name),
            Item::Static(s) => self.found |= s.ident == *self.name,
            Item::Const(c) => self.found |= c.ident == *self.name,
            _ => {}
        }
    }
}

fn use_names(tree: &UseTree, name: &Ident) -> bool {
    match tree {
        UseTree::Path(path) => use_names(&path.tree, name),
        UseTree::Name(used) => used.ident == *name,
        UseTree::Rename(rename) => rename.rename == *name,
        UseTree::Glob(_) => false,
        UseTree::Group(group) => group.items.iter().any(|tree| use_names(tree, name)),
    }
}
