//! A crate's sources, parsed with syn: every async body (async fn, async block, async closure,
//! and the bodies attribute macros wrap in a block) with its suspension points in rustc's
//! numbering, the bindings visible at each, and the ways from one state to the next.
//!
//! rustc numbers a coroutine's suspension points (`Suspend0`, `Suspend1`, ..) in the order MIR
//! building meets them, which is evaluation order: an `.await`'s operand before the `.await`,
//! left before right, a loop's body once. Nested async blocks and closures are coroutines of
//! their own and are skipped. Macros are opaque to syn: their arguments are parsed as
//! expressions when they can be (`assert!(f().await)`); `select!`/`join!`/`try_join!` suspend
//! once at the macro (tokio's and futures' poll a `poll_fn`) and then run the chosen branch;
//! `stream!`/`try_stream!` bodies suspend at each `yield` as well (async-stream sends the value
//! through a channel it awaits).

use std::collections::{BTreeSet, HashMap};

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Attribute, Expr, ImplItem, Item, Pat, Signature, TraitItem};

/// 1-based line and column (in characters), as rustc prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    fn start(s: Span) -> Self {
        let lc = s.start();
        Pos { line: lc.line, column: lc.column + 1 }
    }
    fn end(s: Span) -> Self {
        let lc = s.end();
        Pos { line: lc.line, column: lc.column + 1 }
    }
}

/// A name bound in the source: `let x`, a pattern, an argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub name: String,
    pub at: Pos,
}

/// A suspension point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspension {
    /// The `.await` (its operand's start), the macro, or the `yield`.
    pub at: Pos,
    /// The awaited expression as written, on one line (`self.connection.read_frame()`).
    pub text: String,
    /// Bindings visible there, outermost first (a name may be bound several times).
    pub visible: Vec<Binding>,
    /// When the operand is a plain local (`fut.await`), its name: boxing it means boxing where
    /// that local is bound, so the local shrinks in the states before too.
    pub local: Option<String>,
}

/// Where a state can go: `None` is the return (or the end of the body).
pub type Edge = (Option<usize>, Option<usize>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Fn,
    Block,
    Closure,
}

/// One async body.
#[derive(Debug, Clone)]
pub struct Body {
    pub kind: BodyKind,
    /// The fn it is in, from the crate root: `server::Handler::run` (for a fn, itself).
    pub fn_path: String,
    /// For blocks and closures: its index among the async blocks and closures of `fn_path`
    /// (0-based, source order); names that do not move when unrelated code does.
    pub ordinal: Option<usize>,
    /// Where rustc's span for it starts: the fn's `async` (or visibility), the block's `async`.
    pub start: Pos,
    /// The closing brace.
    pub end: Pos,
    /// The whole item, attributes included, for a fn: spans of attribute macros that wrap the
    /// body in a block (`#[instrument]`, `#[tokio::main]`, `#[async_trait]`) fall inside.
    pub item: (Pos, Pos),
    /// Attributes of a fn that are macros (not `inline`, `doc`, `allow`, ..), then those of its
    /// `impl` or `trait` block (`#[async_trait]`): the body rustc lays out may be theirs rather
    /// than the fn's.
    pub macro_attrs: Vec<(String, Pos)>,
    /// Arguments (fns) or captured bindings visible where the block is (blocks, closures).
    pub upvars: Vec<Binding>,
    pub suspensions: Vec<Suspension>,
    /// From `None` (Unresumed) or `Some(k)` (SuspendK) to `Some(k)` or `None` (Returned).
    pub edges: BTreeSet<Edge>,
}

/// Attributes that are not macros rewriting the body.
const INERT: &[&str] = &[
    "inline", "doc", "allow", "warn", "deny", "forbid", "expect", "cfg", "cfg_attr", "must_use", "cold", "track_caller",
    "deprecated", "desugar", "rustfmt", "clippy", "no_mangle", "export_name", "link_section", "used", "test",
];

fn attr_macros(attrs: &[Attribute]) -> Vec<(String, Pos)> {
    attrs
        .iter()
        .filter_map(|a| {
            let name = a.path().segments.last()?.ident.to_string();
            (!INERT.contains(&name.as_str())).then(|| (name, Pos::start(a.span())))
        })
        .collect()
}

fn one_line(tokens: &TokenStream) -> String {
    let s = tokens.to_string();
    let s = s.replace(" . ", ".").replace(" (", "(").replace("( ", "(").replace(" )", ")").replace(" ,", ",");
    let s = s.replace(" :: ", "::").replace("& ", "&").replace(" ?", "?").replace(" !", "!");
    if s.chars().count() > 80 { format!("{}…", s.chars().take(79).collect::<String>()) } else { s }
}

fn pat_bindings(p: &Pat, out: &mut Vec<Binding>) {
    struct V<'a>(&'a mut Vec<Binding>);
    impl<'ast> Visit<'ast> for V<'_> {
        fn visit_pat_ident(&mut self, i: &'ast syn::PatIdent) {
            let name = i.ident.to_string();
            self.0.push(Binding { name: name.trim_start_matches("r#").to_string(), at: Pos::start(i.ident.span()) });
            syn::visit::visit_pat_ident(self, i);
        }
        // `Foo { a, .. }` and `Some(x)` contain paths that are not bindings; only idents are.
        fn visit_path(&mut self, _: &'ast syn::Path) {}
    }
    V(out).visit_pat(p);
}

/// States (`None` is Unresumed, `Some(k)` SuspendK) the walk can be in.
type States = BTreeSet<Option<usize>>;

/// One branch of an `if`/`match`/`select!`, walked from the same states as the others.
type Arm<'f, W> = Box<dyn Fn(&mut W) + 'f>;

/// The control-flow state of one walk: which states can be where the walk is.
#[derive(Default, Clone)]
struct Flow {
    preds: States,
    /// Per enclosing loop: states reaching a `break`, states reaching a `continue`.
    loops: Vec<(States, States)>,
}

/// Walks one body in evaluation order, numbering its suspension points on the first pass (a
/// loop's body is walked twice to find the way back; the second pass only adds edges).
struct Walker<'a> {
    body: Body,
    scopes: Vec<Vec<Binding>>,
    flow: Flow,
    /// Suspension index by position, so that a second pass finds the same numbers.
    index: HashMap<Pos, usize>,
    recording: bool,
    /// Bodies found inside (blocks, closures), walked after this one.
    nested: &'a mut Vec<(Expr, Vec<Binding>, BodyKind)>,
    /// In a `stream!`/`try_stream!` body, `yield` suspends too.
    yields_suspend: bool,
    /// In a `try_stream!` body, `?` suspends too.
    try_suspends: bool,
    /// The macro of each `Expr::Block` pushed to `nested` (`stream`, `try_stream`), in order.
    stream_macros: Vec<String>,
}

impl<'a> Walker<'a> {
    fn visible(&self) -> Vec<Binding> {
        self.scopes.iter().flatten().cloned().collect()
    }

    fn suspend(&mut self, at: Pos, text: String, local: Option<String>) {
        let k = match self.index.get(&at) {
            Some(&k) => k,
            None if self.recording => {
                let k = self.body.suspensions.len();
                self.index.insert(at, k);
                let visible = self.visible();
                self.body.suspensions.push(Suspension { at, text, visible, local });
                k
            }
            None => return,
        };
        for p in std::mem::take(&mut self.flow.preds) {
            self.body.edges.insert((p, Some(k)));
        }
        self.flow.preds.insert(Some(k));
    }

    fn returns(&mut self) {
        for p in std::mem::take(&mut self.flow.preds) {
            self.body.edges.insert((p, None));
        }
    }

    fn scoped(&mut self, f: impl FnOnce(&mut Self)) {
        self.scopes.push(Vec::new());
        f(self);
        self.scopes.pop();
    }

    fn bind(&mut self, p: &Pat) {
        let mut b = Vec::new();
        pat_bindings(p, &mut b);
        self.scopes.last_mut().expect("a scope").extend(b);
    }

    /// Alternatives from the same point (if/else, match arms): the states after are the union.
    fn branches(&mut self, arms: Vec<&dyn Fn(&mut Self)>, may_skip: bool) {
        let start = self.flow.preds.clone();
        let mut after = if may_skip { start.clone() } else { BTreeSet::new() };
        for arm in arms {
            self.flow.preds = start.clone();
            arm(self);
            after.extend(std::mem::take(&mut self.flow.preds));
        }
        self.flow.preds = after;
    }

    /// A loop: `head` runs before each iteration (a `while` condition, nothing for `loop`), the
    /// body after it; walked twice so the second pass sees the states the first left.
    fn looping(&mut self, head: &dyn Fn(&mut Self), body: &dyn Fn(&mut Self), exits_at_head: bool) {
        let recording = self.recording;
        let mut exits = BTreeSet::new();
        for pass in 0..2 {
            self.flow.loops.push(Default::default());
            head(self);
            if exits_at_head {
                exits.extend(self.flow.preds.iter().copied());
            }
            body(self);
            let (breaks, continues) = self.flow.loops.pop().expect("pushed");
            exits.extend(breaks);
            self.flow.preds.extend(continues);
            if pass == 0 {
                self.recording = false;
            }
        }
        self.recording = recording;
        self.flow.preds = exits;
    }

    /// `select!`, `join!` and the like, and the macros whose arguments are expressions.
    fn mac(&mut self, m: &syn::Macro) {
        let name = m.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        match name.as_str() {
            "select" | "select_biased" => {
                let branches = select_branches(m.tokens.clone());
                for (fut, _) in &branches {
                    if let Ok(e) = syn::parse2::<Expr>(fut.clone()) {
                        self.visit_expr(&e);
                    }
                }
                self.suspend(Pos::start(m.path.span()), format!("{name}!"), None);
                let handlers: Vec<Expr> = branches.iter().filter_map(|(_, h)| syn::parse2::<Expr>(h.clone()).ok()).collect();
                let arms: Vec<Arm<'_, Self>> =
                    handlers.iter().map(|h| Box::new(move |w: &mut Self| w.scoped(|w| w.visit_expr(h))) as Arm<'_, Self>).collect();
                self.branches(arms.iter().map(|a| a.as_ref() as &dyn Fn(&mut Self)).collect(), false);
            }
            "join" | "try_join" => {
                if let Ok(args) = m.parse_body_with(Punctuated::<Expr, syn::Token![,]>::parse_terminated) {
                    args.iter().for_each(|e| self.visit_expr(e));
                }
                self.suspend(Pos::start(m.path.span()), format!("{name}!"), None);
            }
            "stream" | "try_stream" => {
                // A block of its own (a coroutine rustc names after async-stream's source).
                if let Ok(block) = syn::parse2::<syn::Block>(brace(m.tokens.clone())) {
                    let e = Expr::Block(syn::ExprBlock { attrs: Vec::new(), label: None, block });
                    self.nested.push((e, self.visible(), BodyKind::Block));
                    self.stream_macros.push(name);
                }
            }
            _ => {
                if let Ok(args) = m.parse_body_with(Punctuated::<Expr, syn::Token![,]>::parse_terminated) {
                    args.iter().for_each(|e| self.visit_expr(e));
                } else if let Ok(block) = syn::parse2::<syn::Block>(brace(m.tokens.clone())) {
                    self.visit_block(&block);
                }
            }
        }
    }
}

fn brace(tokens: TokenStream) -> TokenStream {
    TokenStream::from(TokenTree::Group(proc_macro2::Group::new(Delimiter::Brace, tokens)))
}

/// `pat = fut (, if cond)? => handler,` ..: (future, handler) token streams of each branch.
fn select_branches(tokens: TokenStream) -> Vec<(TokenStream, TokenStream)> {
    let tts: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let is = |t: &TokenTree, c: char| matches!(t, TokenTree::Punct(p) if p.as_char() == c);
    while i < tts.len() {
        // Up to `=>`: `pattern = future`, or `else`.
        let start = i;
        while i + 1 < tts.len() && !(is(&tts[i], '=') && is(&tts[i + 1], '>')) {
            i += 1;
        }
        if i + 1 >= tts.len() {
            break;
        }
        let head = &tts[start..i];
        let eq = head.iter().position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == '=' && p.spacing() == proc_macro2::Spacing::Alone));
        let fut: TokenStream = match eq {
            Some(e) => {
                let rest = &head[e + 1..];
                let cut = rest.iter().position(|t| is(t, ',')).unwrap_or(rest.len());
                rest[..cut].iter().cloned().collect()
            }
            None => TokenStream::new(),
        };
        i += 2;
        let hstart = i;
        // A braced handler ends at its brace; an expression at the next top-level comma.
        if matches!(tts.get(i), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace) {
            i += 1;
        } else {
            while i < tts.len() && !is(&tts[i], ',') {
                i += 1;
            }
        }
        let handler: TokenStream = tts[hstart..i].iter().cloned().collect();
        if tts.get(i).is_some_and(|t| is(t, ',')) {
            i += 1;
        }
        out.push((fut, handler));
    }
    out
}

impl<'ast> Visit<'ast> for Walker<'_> {
    fn visit_expr_await(&mut self, e: &'ast syn::ExprAwait) {
        self.visit_expr(&e.base);
        let local = match &*e.base {
            Expr::Path(p) if p.path.segments.len() == 1 => Some(p.path.segments[0].ident.to_string()),
            _ => None,
        };
        self.suspend(Pos::start(e.await_token.span), one_line(&e.base.to_token_stream()), local);
    }
    fn visit_expr_async(&mut self, e: &'ast syn::ExprAsync) {
        self.nested.push((Expr::Async(e.clone()), self.visible(), BodyKind::Block));
    }
    fn visit_expr_closure(&mut self, e: &'ast syn::ExprClosure) {
        if e.asyncness.is_some() {
            self.nested.push((Expr::Closure(e.clone()), self.visible(), BodyKind::Closure));
        } else {
            // A closure's body runs elsewhere; async blocks inside it are still bodies.
            let mut inner = Walker {
                body: self.body.clone(),
                scopes: vec![self.visible()],
                flow: Flow::default(),
                index: HashMap::new(),
                recording: false,
                nested: self.nested,
                yields_suspend: false,
                try_suspends: false,
                stream_macros: Vec::new(),
            };
            inner.scoped(|w| {
                e.inputs.iter().for_each(|p| w.bind(p));
                w.visit_expr(&e.body);
            });
        }
    }
    fn visit_item(&mut self, _: &'ast Item) {}
    fn visit_block(&mut self, b: &'ast syn::Block) {
        self.scoped(|w| b.stmts.iter().for_each(|s| w.visit_stmt(s)));
    }
    fn visit_local(&mut self, l: &'ast syn::Local) {
        if let Some(init) = &l.init {
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                let start = self.flow.preds.clone();
                self.visit_expr(diverge);
                self.flow.preds = start;
            }
        }
        self.bind(&l.pat);
    }
    fn visit_stmt_macro(&mut self, m: &'ast syn::StmtMacro) {
        self.mac(&m.mac);
    }
    fn visit_expr_macro(&mut self, m: &'ast syn::ExprMacro) {
        self.mac(&m.mac);
    }
    fn visit_expr_if(&mut self, e: &'ast syn::ExprIf) {
        self.scoped(|w| {
            w.visit_expr(&e.cond);
            let then: &dyn Fn(&mut Self) = &|w: &mut Self| w.visit_block(&e.then_branch);
            match &e.else_branch {
                Some((_, els)) => {
                    let other: &dyn Fn(&mut Self) = &|w: &mut Self| {
                        w.scopes.push(Vec::new());
                        w.visit_expr(els);
                        w.scopes.pop();
                    };
                    w.branches(vec![then, other], false);
                }
                None => w.branches(vec![then], true),
            }
        });
    }
    fn visit_expr_let(&mut self, e: &'ast syn::ExprLet) {
        self.visit_expr(&e.expr);
        self.bind(&e.pat);
    }
    fn visit_expr_match(&mut self, e: &'ast syn::ExprMatch) {
        self.visit_expr(&e.expr);
        let arms: Vec<Arm<'_, Self>> = e
            .arms
            .iter()
            .map(|arm| {
                Box::new(move |w: &mut Self| {
                    w.scoped(|w| {
                        // syn 3 keeps a guard in the pattern (`Pat::Guard`).
                        match &arm.pat {
                            Pat::Guard(g) => {
                                w.bind(&g.pat);
                                w.visit_expr(&g.guard);
                            }
                            p => w.bind(p),
                        }
                        w.visit_expr(&arm.body);
                    })
                }) as Arm<'_, Self>
            })
            .collect();
        self.branches(arms.iter().map(|a| a.as_ref() as &dyn Fn(&mut Self)).collect(), false);
    }
    fn visit_expr_binary(&mut self, e: &'ast syn::ExprBinary) {
        self.visit_expr(&e.left);
        if matches!(e.op, syn::BinOp::And(_) | syn::BinOp::Or(_)) {
            let rhs: &dyn Fn(&mut Self) = &|w: &mut Self| w.visit_expr(&e.right);
            self.branches(vec![rhs], true);
        } else {
            self.visit_expr(&e.right);
        }
    }
    fn visit_expr_loop(&mut self, e: &'ast syn::ExprLoop) {
        self.looping(&|_| {}, &|w: &mut Self| w.visit_block(&e.body), false);
    }
    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        self.scoped(|w| w.looping(&|w: &mut Self| w.visit_expr(&e.cond), &|w: &mut Self| w.visit_block(&e.body), true));
    }
    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        self.visit_expr(&e.expr);
        self.scoped(|w| {
            w.bind(&e.pat);
            w.looping(&|_| {}, &|w: &mut Self| w.visit_block(&e.body), true)
        });
    }
    fn visit_expr_break(&mut self, e: &'ast syn::ExprBreak) {
        if let Some(v) = &e.expr {
            self.visit_expr(v);
        }
        let preds = std::mem::take(&mut self.flow.preds);
        if let Some(l) = self.flow.loops.last_mut() {
            l.0.extend(preds);
        }
    }
    fn visit_expr_continue(&mut self, _: &'ast syn::ExprContinue) {
        let preds = std::mem::take(&mut self.flow.preds);
        if let Some(l) = self.flow.loops.last_mut() {
            l.1.extend(preds);
        }
    }
    fn visit_expr_return(&mut self, e: &'ast syn::ExprReturn) {
        if let Some(v) = &e.expr {
            self.visit_expr(v);
        }
        self.returns();
    }
    fn visit_expr_try(&mut self, e: &'ast syn::ExprTry) {
        self.visit_expr(&e.expr);
        if self.try_suspends {
            // try_stream! sends the error through its channel before returning.
            self.suspend(Pos::start(e.question_token.span), "?".into(), None);
        }
        let keep = self.flow.preds.clone();
        self.returns();
        self.flow.preds = keep;
    }
    fn visit_expr_yield(&mut self, e: &'ast syn::ExprYield) {
        if let Some(v) = &e.expr {
            self.visit_expr(v);
        }
        if self.yields_suspend {
            self.suspend(Pos::start(e.yield_token.span), "yield".into(), None);
        }
    }
}

/// Every async body of one source file. `file_module` is the file's module path from the crate
/// root (`` for the root).
pub fn bodies(src: &str, file_module: &str) -> Vec<Body> {
    let Ok(file) = syn::parse_file(src) else { return Vec::new() };
    let mut out = Vec::new();
    items(&file.items, file_module, &mut out);
    out
}

fn type_name(t: &syn::Type) -> String {
    match t {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default(),
        syn::Type::Reference(r) => type_name(&r.elem),
        _ => "_".into(),
    }
}

fn items(list: &[Item], prefix: &str, out: &mut Vec<Body>) {
    let join = |n: &str| if prefix.is_empty() { n.to_string() } else { format!("{prefix}::{n}") };
    for item in list {
        match item {
            Item::Fn(f) => func(join(&f.sig.ident.to_string()), &f.attrs, &f.vis, &f.sig, &f.block, item.span(), out),
            Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    items(inner, &join(&m.ident.to_string()), out);
                }
            }
            Item::Impl(imp) => {
                let ty = join(&type_name(&imp.self_ty));
                for it in &imp.items {
                    if let ImplItem::Fn(f) = it {
                        let attrs = [&f.attrs[..], &imp.attrs[..]].concat();
                        func(format!("{ty}::{}", f.sig.ident), &attrs, &f.vis, &f.sig, &f.block, it.span(), out);
                    }
                }
            }
            Item::Trait(tr) => {
                let ty = join(&tr.ident.to_string());
                for it in &tr.items {
                    if let TraitItem::Fn(f) = it
                        && let Some(b) = &f.default
                    {
                        let attrs = [&f.attrs[..], &tr.attrs[..]].concat();
                        func(format!("{ty}::{}", f.sig.ident), &attrs, &syn::Visibility::Inherited, &f.sig, b, it.span(), out);
                    }
                }
            }
            _ => {}
        }
    }
}

fn func(path: String, attrs: &[Attribute], vis: &syn::Visibility, sig: &Signature, block: &syn::Block, span: Span, out: &mut Vec<Body>) {
    let mut upvars = Vec::new();
    for input in &sig.inputs {
        match input {
            syn::FnArg::Receiver(r) => upvars.push(Binding { name: "self".into(), at: Pos::start(r.self_token.span) }),
            syn::FnArg::Typed(t) => pat_bindings(&t.pat, &mut upvars),
        }
    }
    let start = match vis {
        syn::Visibility::Inherited => sig.constness.map(|c| c.span).or(sig.asyncness.map(|a| a.span)).unwrap_or(sig.fn_token.span),
        v => v.span(),
    };
    let body = Body {
        kind: BodyKind::Fn,
        fn_path: path,
        ordinal: None,
        start: Pos::start(start),
        end: Pos::end(block.brace_token.span.close()),
        item: (Pos::start(span), Pos::end(span)),
        macro_attrs: attr_macros(attrs),
        upvars,
        suspensions: Vec::new(),
        edges: BTreeSet::new(),
    };
    let expr = Expr::Block(syn::ExprBlock { attrs: Vec::new(), label: None, block: block.clone() });
    // A fn that is not async has no suspension points, but may hold async blocks.
    let walk_own = sig.asyncness.is_some();
    walk(body, &expr, walk_own, false, out);
}

/// Walks `expr` as the body `body` (recorded when `own`), then the bodies nested in it.
fn walk(body: Body, expr: &Expr, own: bool, yields_suspend: bool, out: &mut Vec<Body>) {
    let body_is_try = body.macro_attrs.iter().any(|(m, _)| m == "try_stream");
    let mut nested = Vec::new();
    let fn_path = body.fn_path.clone();
    let mut w = Walker {
        scopes: vec![body.upvars.clone()],
        body,
        flow: Flow::default(),
        index: HashMap::new(),
        recording: true,
        nested: &mut nested,
        yields_suspend,
        try_suspends: yields_suspend && body_is_try,
        stream_macros: Vec::new(),
    };
    w.flow.preds.insert(None);
    match expr {
        Expr::Async(a) => w.visit_block(&a.block),
        Expr::Closure(c) => w.visit_expr(&c.body),
        e => w.visit_expr(e),
    }
    w.returns();
    let mut macros = std::mem::take(&mut w.stream_macros).into_iter();
    let body = w.body;
    if own {
        out.push(body);
    }
    for (e, visible, kind) in nested {
        let ordinal = out.iter().filter(|b| b.fn_path == fn_path && b.ordinal.is_some()).count();
        let (start, end, is_stream) = match &e {
            Expr::Async(a) => (Pos::start(a.async_token.span), Pos::end(a.block.brace_token.span.close()), false),
            // rustc's span of an async closure's body starts at the body, after the arguments.
            Expr::Closure(c) => (Pos::start(c.body.span()), Pos::end(c.body.span()), false),
            Expr::Block(b) => (Pos::start(b.block.brace_token.span.open()), Pos::end(b.block.brace_token.span.close()), true),
            other => (Pos::start(other.span()), Pos::end(other.span()), false),
        };
        let mut upvars = visible;
        if let Expr::Closure(c) = &e {
            c.inputs.iter().for_each(|p| pat_bindings(p, &mut upvars));
        }
        let child = Body {
            kind,
            fn_path: fn_path.clone(),
            ordinal: Some(ordinal),
            start,
            end,
            item: (start, end),
            macro_attrs: if is_stream { macros.next().map(|m| vec![(m, start)]).unwrap_or_default() } else { Vec::new() },
            upvars,
            suspensions: Vec::new(),
            edges: BTreeSet::new(),
        };
        walk(child, &e, true, is_stream, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(b: &Body) -> Vec<usize> {
        b.suspensions.iter().map(|s| s.at.line).collect()
    }

    #[test]
    fn numbering_follows_evaluation_order_and_skips_nested_bodies() {
        let src = r#"
mod m {
    pub struct S;
    impl S {
        pub async fn run(&self, n: u32) -> u32 {
            let a = f(g().await).await;
            let blk = async move {
                h().await
            };
            for i in 0..n {
                x(i).await;
            }
            tokio::select! {
                v = rx.recv() => { y(v).await; }
                _ = stop() => { return 0; }
            }
            assert!(z().await);
            blk.await
        }
    }
}
"#;
        let bs = bodies(src, "");
        let run = bs.iter().find(|b| b.kind == BodyKind::Fn).unwrap();
        assert_eq!(run.fn_path, "m::S::run");
        assert_eq!(lines(run), [6, 6, 11, 13, 14, 17, 18]);
        assert_eq!(run.suspensions[0].text, "g()");
        assert_eq!(run.suspensions[1].text, "f(g().await)");
        assert_eq!(run.suspensions[6].local.as_deref(), Some("blk"));
        let names: Vec<&str> = run.suspensions[2].visible.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["self", "n", "a", "blk", "i"]);
        let blk = bs.iter().find(|b| b.kind == BodyKind::Block).unwrap();
        assert_eq!((blk.fn_path.as_str(), blk.ordinal, blk.start), ("m::S::run", Some(0), Pos { line: 7, column: 23 }));
        assert_eq!(lines(blk), [8]);
        // The loop's await returns to itself; select! goes to its handler's await or returns.
        assert!(run.edges.contains(&(Some(2), Some(2))));
        assert!(run.edges.contains(&(Some(2), Some(3))));
        assert!(run.edges.contains(&(Some(1), Some(3))), "zero iterations");
        assert!(run.edges.contains(&(Some(3), Some(4))));
        assert!(run.edges.contains(&(Some(3), None)), "the return in a select! branch");
        assert!(run.edges.contains(&(Some(6), None)));
        assert!(!run.edges.contains(&(None, Some(1))));
    }
}
