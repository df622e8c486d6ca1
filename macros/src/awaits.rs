//! Where the `.await`s are: the lowering splits only code that contains one.

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;
use syn::{Block, Expr, Stmt};

/// Whether evaluating this expression may suspend: an `.await` outside closures, async blocks and
/// nested items (those are futures of their own), including one inside macro arguments.
pub fn expr_awaits(expr: &Expr) -> bool {
    let mut finder = Finder { found: false };
    finder.visit_expr(expr);
    finder.found
}

pub fn stmt_awaits(stmt: &Stmt) -> bool {
    let mut finder = Finder { found: false };
    finder.visit_stmt(stmt);
    finder.found
}

pub fn block_awaits(block: &Block) -> bool {
    block.stmts.iter().any(stmt_awaits)
}

pub fn tokens_await(tokens: &TokenStream) -> bool {
    let mut previous_dot = false;
    for token in tokens.clone() {
        match token {
            TokenTree::Ident(ident) if previous_dot && ident == "await" => return true,
            TokenTree::Group(group) if tokens_await(&group.stream()) => return true,
            TokenTree::Punct(punct) => {
                previous_dot = punct.as_char() == '.';
                continue;
            }
            _ => {}
        }
        previous_dot = false;
    }
    false
}

/// `async_stream`'s `stream!` and `try_stream!` (bare or by that crate's path): its body is an
/// `async move` block of its own (`AsyncStream::new(rx, async move { .. })`), whose `.await`s
/// and `yield`s suspend the stream, not the function. Read as such a block by the lowering
/// (`walk`); a macro of another crate by that name whose `.await` belongs to the function
/// would leave that `.await` in the resume function, where rustc refuses it (E0728).
pub fn is_stream_macro(mac: &syn::Macro) -> bool {
    let segments: Vec<String> = mac.path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segments.as_slice() {
        [name] => name == "stream" || name == "try_stream",
        [krate, name] => krate == "async_stream" && (name == "stream" || name == "try_stream"),
        _ => false,
    }
}

struct Finder {
    found: bool,
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_expr_await(&mut self, _: &'ast syn::ExprAwait) {
        self.found = true;
    }
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        // A stream's `.await`s are its own, as an async block's are.
        if is_stream_macro(mac) {
            return;
        }
        // `join!`/`select!` await inside their own expansion.
        let polls_futures = mac.path.segments.last().is_some_and(|segment| {
            matches!(segment.ident.to_string().as_str(), "select" | "join" | "try_join" | "select_biased")
        });
        self.found |= polls_futures || tokens_await(&mac.tokens);
    }
}
