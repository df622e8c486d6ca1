//! Items declared in the body (`struct`, `impl`, `fn`, `use`, `static`, ..) are moved out of it,
//! to the top of the function the expansion emits, once.
//!
//! Input:
//! ```text
//! async fn f() { impl Tag for D {} .. { fn helper() {} .. } }
//! ```
//! Output:
//! ```text
//! fn f() -> impl Future { impl Tag for D {} fn helper() {} <never-run copy> <state machine> }
//! ```
//! The expansion holds the body twice (the never-run copy that rustc checks, and the state
//! machine), and the machine's code after an `.await` reached from several places once per
//! place: an `impl`, a `#[no_mangle]` function or a `#[used]` static emitted each time would be
//! defined several times. Items are visible in their whole block, so the body still names them.
//! `macro_rules!` stays where it is: its scope is textual.

use std::collections::BTreeMap;

use syn::visit_mut::VisitMut;
use syn::{Error, Item, Stmt};

/// Takes the items out of `block`, in order.
pub fn hoist(block: &mut syn::Block) -> syn::Result<Vec<Item>> {
    let whole = mentions(quote::ToTokens::to_token_stream(&*block));
    let mut hoister = Hoister { items: Vec::new(), depth: 0, whole, outside: None };
    hoister.visit_block_mut(block);
    // Two items of one name, in different blocks of the body, would collide at the top.
    let mut seen: BTreeMap<String, &Item> = BTreeMap::new();
    for item in &hoister.items {
        if let Some(name) = item_name(item)
            && let Some(_) = seen.insert(name.to_string(), item)
        {
            return Err(Error::new(
                name.span(),
                format!("unasync moves the items of an `async fn` body to one scope, where two named `{name}` would collide; rename one"),
            ));
        }
    }
    // At the top, an item of an inner block would also be what the code outside that block
    // names so, where natively the name means something else (an outer item, a binding).
    if let Some(name) = hoister.outside {
        return Err(Error::new(
            name.span(),
            format!("unasync moves the items of an `async fn` body to its top, where `{name}`, declared in an inner block, would also be what the code outside that block names `{name}`; rename it, or declare it at the top of the body"),
        ));
    }
    Ok(hoister.items)
}

/// A parameter pattern naming an item of the body (`async fn f(Pair(a, b): Pair) { struct
/// Pair(u8); .. }`): natively the pattern is resolved outside the body, to the outer `Pair`;
/// here it is bound inside the function the items are moved to, where it would name the body's.
/// Refused, with the rename that keeps both.
pub fn check_parameters(sig: &syn::Signature, items: &[Item]) -> syn::Result<()> {
    use syn::visit::Visit;
    struct Names<'a> {
        items: &'a [Item],
        clash: Option<syn::Ident>,
    }
    impl Names<'_> {
        fn path(&mut self, path: &syn::Path, ident_pattern: bool) {
            let Some(first) = path.segments.first() else { return };
            if path.leading_colon.is_some() || self.clash.is_some() {
                return;
            }
            let named = self.items.iter().filter_map(|item| item_name(item).map(|name| (item, name)));
            for (item, name) in named {
                // A binding is a path only where it names a constant, a static or a unit struct.
                let in_patterns = !ident_pattern || matches!(item, Item::Const(_) | Item::Static(_) | Item::Struct(_));
                if *name == first.ident && in_patterns {
                    self.clash = Some(first.ident.clone());
                    return;
                }
            }
        }
    }
    impl<'ast> Visit<'ast> for Names<'_> {
        fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
            if pat.subpat.is_none() {
                self.path(&pat.ident.clone().into(), true);
            }
            syn::visit::visit_pat_ident(self, pat);
        }
        fn visit_path(&mut self, path: &'ast syn::Path) {
            self.path(path, false);
        }
        // The parameter's type is resolved outside the body, as natively.
        fn visit_type(&mut self, _: &'ast syn::Type) {}
    }
    let mut names = Names { items, clash: None };
    for input in &sig.inputs {
        if let syn::FnArg::Typed(typed) = input {
            names.visit_pat(&typed.pat);
        }
    }
    match names.clash {
        Some(used) => Err(Error::new(
            used.span(),
            format!("this parameter pattern names `{used}`, and an item of the body is named so too: unasync moves the body's items to the scope where the parameters are bound, where `{used}` would be the body's; rename the body's item"),
        )),
        None => Ok(()),
    }
}

struct Hoister {
    items: Vec<Item>,
    /// 0 in the body's own block.
    depth: usize,
    /// How often the body names each identifier.
    whole: BTreeMap<String, usize>,
    /// An item of an inner block that the body names outside that block.
    outside: Option<syn::Ident>,
}

impl VisitMut for Hoister {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let inside = if self.depth > 0 { mentions(quote::ToTokens::to_token_stream(&*block)) } else { BTreeMap::new() };
        self.depth += 1;
        let stmts = std::mem::take(&mut block.stmts);
        for stmt in stmts {
            match stmt {
                Stmt::Item(item) if !is_macro_rules(&item) => {
                    if self.depth > 1
                        && self.outside.is_none()
                        && let Some(name) = item_name(&item)
                        && self.whole.get(&name.to_string()) > inside.get(&name.to_string())
                    {
                        self.outside = Some(name.clone());
                    }
                    self.items.push(item);
                }
                mut other => {
                    self.visit_stmt_mut(&mut other);
                    block.stmts.push(other);
                }
            }
        }
        self.depth -= 1;
    }

    // An item's own body is emitted once, with the item.
    fn visit_item_mut(&mut self, _: &mut Item) {}
}

fn is_macro_rules(item: &Item) -> bool {
    matches!(item, Item::Macro(m) if m.mac.path.is_ident("macro_rules"))
}

/// The name an item declares in its scope (not `impl` blocks, `use` and the like).
fn item_name(item: &Item) -> Option<&syn::Ident> {
    match item {
        Item::Const(i) => Some(&i.ident),
        Item::Enum(i) => Some(&i.ident),
        Item::Fn(i) => Some(&i.sig.ident),
        Item::Mod(i) => Some(&i.ident),
        Item::Static(i) => Some(&i.ident),
        Item::Struct(i) => Some(&i.ident),
        Item::Trait(i) => Some(&i.ident),
        Item::Type(i) => Some(&i.ident),
        Item::Union(i) => Some(&i.ident),
        _ => None,
    }
}

/// How often each identifier occurs in `tokens`, macro arguments included.
fn mentions(tokens: proc_macro2::TokenStream) -> BTreeMap<String, usize> {
    fn count(tokens: proc_macro2::TokenStream, into: &mut BTreeMap<String, usize>) {
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Ident(ident) => *into.entry(ident.to_string()).or_default() += 1,
                proc_macro2::TokenTree::Group(group) => count(group.stream(), into),
                _ => {}
            }
        }
    }
    let mut into = BTreeMap::new();
    count(tokens, &mut into);
    into
}
