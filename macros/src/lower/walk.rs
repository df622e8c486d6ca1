//! One walk over code without `.await`, used twice: while building the IR it collects how the
//! code uses the body's locals ([`Use`]); at emission it rewrites the code where the state
//! machine needs it (a local that lives in the frame, `self`, `return`, `?`, a jump out of a
//! loop the emission split).
//!
//! The walk resolves names as rustc does for locals: a name bound inside the code (a `let`, a
//! pattern, a closure parameter) shadows the body's local of that name; items and macros that
//! define items are not entered. How a local is used follows from where it appears:
//!
//! | where                                   | use                       |
//! |-----------------------------------------|---------------------------|
//! | `f(x)`, `let y = x`, `x + 1`, `move` closure | `Move`               |
//! | `&x`, `x.f`, `x[i]`, `x == y`, `*x`, `x.len()` | `Borrow`           |
//! | `&mut x`, `x.f = v`, `x += 1`, `x.push(v)` | `BorrowMut`            |
//! | `x = v`                                 | `Assign`                  |
//! | `x.into_iter()` (a consuming name)      | `ConsumingCall`           |
//! | inside a macro rustc expands later      | `Opaque`                  |
//! | `&raw const x`, `addr_of!(x)`, `&x as *const _` | `RawAddress`      |

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{BinOp, Expr, Pat, Stmt, UnOp};

use super::ir::{LocalId, ReceiverHint, UseKind};

/// What the walk does at the places the state machine cares about.
pub trait Handler {
    /// A path naming a body local. Returns the code that replaces it, if any.
    fn local(&mut self, local: LocalId, kind: UseKind, at: &At, span: Span) -> Option<TokenStream>;
    /// `return value` / `value?` / `break` / `continue`, outside closures and async blocks.
    /// `inside`: the jump goes to a loop or labeled block of the walked code itself. Returns the
    /// replacement, if any.
    fn exit(&mut self, _exit: Exit<'_>, _inside: bool) -> Option<TokenStream> {
        None
    }
    /// `local = value` (the value already walked). Returns the replacement of the whole
    /// assignment, if any.
    fn assign(&mut self, _local: LocalId, _value: &syn::Expr) -> Option<TokenStream> {
        None
    }
    /// Control flow of the walked code: the events that follow, until the matching `close`, are
    /// in `region`; `arm` starts the next alternative of a branch.
    fn open(&mut self, _region: Region) {}
    fn arm(&mut self) {}
    fn close(&mut self) {}
    /// A macro the walk cannot see into, and the body locals its tokens name.
    fn opaque_macro(&mut self, _mac: &mut syn::Macro, _named: &[(LocalId, Span)], _at: &At) {}
    /// A closure or async block was walked: code to run where it is created (before it), if
    /// any (see [`Prelude`]).
    fn closure_prelude(&mut self, _kind: Capturing) -> Option<Prelude> {
        None
    }
}

/// What [`Handler::closure_prelude`] is asked about.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Capturing {
    /// A `move` closure or block: it captures by value in every edition.
    Moving,
    /// A non-`move` closure.
    Closure,
    /// A non-`move` `async` block.
    AsyncBlock,
}

/// Code around a closure or async block.
pub struct Prelude {
    /// Before it, where it is created.
    pub before: TokenStream,
    /// First in the async block.
    pub first: TokenStream,
    /// The closure is made `move` in editions that capture whole variables (see
    /// `frame::by_captures`): all it names are references bound in `before`.
    pub move_before_2021: bool,
}

/// A region of control flow in plain code.
#[derive(Clone, Debug)]
pub enum Region {
    /// One of the arms runs (`if`, `match`, `&&`, `||`, `?`); an empty arm runs nothing.
    Branch,
    /// Runs repeatedly; `may_skip` when it may also run zero times (`while`, `for`).
    Loop { label: Option<String>, may_skip: bool },
    /// A labeled block, the target of `break 'label`.
    Labeled { label: String },
}

/// Where in the plain code a use is.
#[derive(Clone, Default)]
pub struct At {
    /// Inside a branch, a loop body, the right of `&&`/`||`, a match arm: may not run.
    pub conditional: bool,
    /// The use's value does not end up in the result: `x.len()`, `x == y`.
    pub owned: bool,
    /// The use is `&x` or `&mut x` itself (the local's address, not a reborrow through it).
    pub address: bool,
    /// The base of a part read by value (`x.f`, `x[i]`): see [`super::ir::Use::part`].
    pub part: bool,
    /// Inside a closure or async block body (its uses happen at its creation, as captures).
    pub in_closure: bool,
    /// Inside a `move` closure or `async move` block: every local named is captured by value.
    pub by_value_capture: bool,
}

pub enum Exit<'a> {
    Return { value: Option<&'a Expr>, span: Span },
    Try { operand: &'a Expr, span: Span },
    Break { label: Option<&'a syn::Lifetime>, value: Option<&'a Expr>, span: Span },
    Continue { label: Option<&'a syn::Lifetime>, span: Span },
    /// `panic!`, `unreachable!`, `todo!` or `unimplemented!`: the code after it never runs (its
    /// type is `!`, so an arm of the emitted code where every path ends so leaves nothing after
    /// it to type-check against `!`).
    Panic,
}

/// Method names taken to consume their receiver (`self` by value), whatever the receiver: the
/// conversions (`into_*`) and the combinators of `Option`, `Result` and `Iterator`. A guess from
/// the name: a wrong guess on a local is a compile error where the local is used again (moved
/// twice, or used after a move), and otherwise a `&self` method of one of these names on a local
/// with a side-effecting `Drop`, not used after the next `.await`, drops it there, not later (the
/// README's limits).
const CONSUMING_METHODS: &[&str] = &[
    "unwrap", "expect", "unwrap_or", "unwrap_or_else", "unwrap_or_default", "unwrap_err", "expect_err",
    "ok", "err", "map", "map_err", "and_then", "or_else", "ok_or", "ok_or_else", "unwrap_unchecked",
    "collect", "sum", "product", "fold", "for_each", "zip", "chain", "filter", "filter_map", "flat_map",
    "flatten", "enumerate", "skip", "step_by", "rev", "peekable", "fuse", "inspect", "cloned", "copied",
    "partition", "reduce", "try_fold", "try_for_each", "boxed", "unzip", "into_boxed_slice", "into_bytes",
    "into_string",
];

/// Names that consume the receiver in one common API and borrow it in another, taken to
/// consume a temporary receiver only: a local keeps its value (it is borrowed), so where the
/// method consumed it after all, saving it at a later `.await` is E0382, a compile error, never a
/// local dropped early. `send` is `oneshot::Sender::send(self)` and reqwest's, but
/// `mpsc::Sender::send(&self)` in std, tokio, crossbeam and flume (a sender dropped early
/// disconnects its receivers); `join` is `JoinHandle::join(self)` and `Path::join(&self)`;
/// `last`, `max`, `min`, `count` are `Iterator`'s and slices' or collections' `&self` methods;
/// `wait` is `Child::wait(&mut self)` and `Barrier::wait(&self)`; `finish` is `Hasher::finish(&self)`.
const CONSUMING_TEMPORARY_METHODS: &[&str] = &["send", "join", "last", "max", "min", "count", "wait", "finish"];

/// Names that consume the receiver when the call is the awaited expression itself
/// (`tx.commit().await`, `resp.json().await`: sqlx's and tokio-postgres's transactions,
/// reqwest's `Response`), on a local too. A wrong guess there is a compile error (E0597/E0505)
/// where the awaitee borrows the local, as such a method's future does; a `&self` method of one
/// of these names whose future borrows nothing of it drops the local at the suspension point
/// (the README's limits). Elsewhere, as [`CONSUMING_TEMPORARY_METHODS`] (`s.bytes()` is
/// `str::bytes(&self)`).
const CONSUMING_AWAITED_METHODS: &[&str] = &["commit", "rollback", "json", "text", "bytes", "build"];

/// A type naming `oneshot::Sender` (tokio's, futures', the `oneshot` crate's).
pub fn is_oneshot_sender(ty: &syn::Type) -> bool {
    let syn::Type::Path(path) = ty else { return false };
    let names: Vec<String> = path.path.segments.iter().map(|s| s.ident.to_string()).collect();
    matches!(names.as_slice(), [.., module, last] if module == "oneshot" && last == "Sender")
}

/// `let (tx, rx) = oneshot::channel();` (any path ending so, with or without turbofish).
pub fn is_oneshot_channel(pat: &Pat, init: &Expr) -> bool {
    let Pat::Tuple(tuple) = strip_type(pat) else { return false };
    let Expr::Call(call) = super::strip_parens(init) else { return false };
    let Expr::Path(func) = &*call.func else { return false };
    let names: Vec<String> = func.path.segments.iter().map(|s| s.ident.to_string()).collect();
    tuple.elems.len() == 2
        && matches!(strip_type(&tuple.elems[0]), Pat::Ident(_))
        && matches!(names.as_slice(), [.., module, last] if module == "oneshot" && last == "channel")
}

/// A guard: `x.lock()`, `x.borrow()`, `x.read()`, .. and their `try_`/`blocking_`/`_owned` forms,
/// awaited, unwrapped or with `?` (see [`ReceiverHint::Guard`]).
pub fn makes_guard(init: &Expr) -> bool {
    match super::strip_parens(init) {
        Expr::Await(awaited) => makes_guard(&awaited.base),
        Expr::Try(question) => makes_guard(&question.expr),
        Expr::MethodCall(call) if matches!(call.method.to_string().as_str(), "unwrap" | "expect") => makes_guard(&call.receiver),
        Expr::MethodCall(call) => {
            let method = call.method.to_string();
            let base = method.strip_prefix("try_").or_else(|| method.strip_prefix("blocking_")).unwrap_or(&method);
            let base = base.strip_suffix("_owned").unwrap_or(base);
            matches!(base, "lock" | "borrow" | "borrow_mut" | "read" | "write")
        }
        _ => false,
    }
}

/// Whether `name` is taken to consume a local receiver; `awaited`: the call is the operand of an
/// `.await`.
pub fn is_consuming_method(name: &str, awaited: bool) -> bool {
    name.starts_with("into_") || CONSUMING_METHODS.contains(&name) || (awaited && CONSUMING_AWAITED_METHODS.contains(&name))
}

/// A method whose result is a raw pointer: `Copy`, nothing of it outlives its use.
fn is_pointer_method(name: &str) -> bool {
    matches!(
        name,
        "as_ptr" | "as_mut_ptr" | "cast" | "cast_mut" | "cast_const" | "add" | "sub" | "offset" | "byte_add" | "byte_sub"
            | "wrapping_add" | "wrapping_sub" | "wrapping_offset"
    )
}

/// A method whose result is a view of its receiver (a reference or a borrowing iterator):
/// nothing to drop, so nothing of it needs keeping to the end of the statement (keeping it
/// would only keep a borrow in the state).
fn is_view_method(name: &str) -> bool {
    matches!(
        name,
        "as_ref" | "as_mut" | "as_str" | "as_slice" | "as_mut_slice" | "as_bytes" | "as_deref" | "as_deref_mut"
            | "iter" | "iter_mut" | "chars" | "bytes" | "lines" | "keys" | "values" | "get" | "get_mut"
            | "first" | "last" | "trim" | "split" | "windows" | "chunks"
    )
}

/// A method receiver that is a value kept as a temporary of the statement (a `&self` method
/// borrows it): not a place, not a receiver the method consumes by its name, not a smart
/// pointer built for a `self: Box<Self>`-style method (`Arc::new(x).m()`), not a raw pointer
/// (`Copy`, nothing to keep: `v.as_ptr().add(1)`).
pub fn is_kept_receiver(receiver: &Expr, method: &str) -> bool {
    if consumes_temporary(method) || is_place_expr(receiver) || matches!(receiver, Expr::Lit(_)) {
        return false;
    }
    match receiver {
        Expr::Call(call) => !["new", "pin", "new_unchecked"].iter().any(|ctor| {
            ["Box", "Arc", "Rc", "Pin"].iter().any(|ty| path_ends_with(&call.func, &[ty, ctor]))
        }),
        Expr::MethodCall(call) => !is_pointer_method(&call.method.to_string()) && !is_view_method(&call.method.to_string()),
        Expr::Paren(inner) => is_kept_receiver(&inner.expr, method),
        _ => true,
    }
}

/// Method names taken to borrow their receiver in a receiver chain (see
/// [`moves_chained_receiver`]): the `&mut self -> &mut Self` builders (std's and tokio's
/// `Command` and `OpenOptions`, redis's `Cmd` and `Pipeline`), guards (`lock`, `borrow`), and
/// the `&self` request methods of HTTP clients (`Client::new().post(url)`, an owned builder), and
/// std's `&self` methods of strings and paths.
const BORROWING_CHAIN_METHODS: &[&str] = &[
    "arg", "args", "env", "envs", "env_remove", "env_clear", "current_dir", "stdin", "stdout", "stderr",
    "kill_on_drop", "uid", "gid", "process_group", "read", "write", "append", "truncate", "create",
    "create_new", "mode", "custom_flags", "recursive", "cursor_arg", "ignore", "atomic", "lock", "try_lock",
    "borrow", "borrow_mut", "deref", "deref_mut", "by_ref", "get_ref", "get_mut", "as_pin_mut", "post",
    "put", "patch", "delete", "head", "request",
    // std's `&self` methods of `str`, `String` and `Path` with an owned or borrowed result
    // (`String::from("a").repeat(n).as_str()`, `dir.join(x).to_str()`).
    "to_str", "to_string_lossy", "repeat", "replace", "replacen", "to_path_buf", "display", "file_name",
    "file_stem", "extension", "strip_prefix", "strip_suffix", "trim_start", "trim_end", "trim_matches",
    "split_whitespace", "to_ascii_lowercase", "to_ascii_uppercase",
];

/// Calls that make a builder whose methods borrow it (`&mut self -> &mut Self`), whatever their
/// names: redis's `pipe()` and `cmd(..)` (`redis::pipe().set(k, v).get(k)`), `Command::new`,
/// `OpenOptions::new`.
fn makes_borrowing_builder(receiver: &Expr) -> bool {
    let Expr::Call(call) = receiver else { return false };
    let Expr::Path(path) = &*call.func else { return false };
    let names: Vec<String> = path.path.segments.iter().map(|s| s.ident.to_string()).collect();
    match names.as_slice() {
        [.., last] if last == "pipe" || last == "cmd" => true,
        [.., ty, ctor] => {
            matches!(ty.as_str(), "Command" | "OpenOptions" | "DirBuilder" | "Pipeline" | "Cmd") && matches!(ctor.as_str(), "new" | "with_capacity")
        }
        _ => false,
    }
}

/// Future and stream combinators (`FutureExt`, `TryFutureExt`, tokio's `timeout`, tracing's
/// `instrument`): in `a().b().map_err(f).await`, `b`'s result is the future awaited, which may
/// borrow `a()` (`async fn b(&self)`), so `a()` is kept (see [`moves_chained_receiver`]).
pub fn is_future_combinator(name: &str) -> bool {
    matches!(
        name,
        "map" | "map_ok" | "map_err" | "map_ok_or_else" | "map_into" | "err_into" | "ok_into" | "and_then" | "or_else"
            | "then" | "inspect" | "inspect_ok" | "inspect_err" | "boxed" | "boxed_local" | "fuse" | "shared"
            | "catch_unwind" | "remote_handle" | "left_future" | "right_future" | "into_stream" | "flatten"
            | "flatten_stream" | "try_flatten" | "unit_error" | "never_error" | "instrument" | "in_current_span"
            | "with_current_subscriber" | "timeout" | "timeout_at" | "with_timeout" | "into_future" | "now_or_never"
    )
}

/// In a receiver chain `a().b(..).c(..)`, whether `a()`, the receiver of `b` (itself the
/// receiver of a further call), is taken to be moved into `b` (a builder step, `fn b(self) ->
/// Self`) rather than borrowed by it: a call, method call or `?` that [`is_kept_receiver`] would
/// keep, not a builder whose methods borrow it by convention, and `b` not a name that borrows
/// its receiver by convention (a view, an owned result of a `&self` method such as `clone`, a
/// `&mut self -> &mut Self` builder step, a guard, an HTTP client's request). The emission checks
/// the guess: a receiver so moved cannot be borrowed (see `split::hoist_places_at`).
///
/// Counted by syntax (not by type) in the awaited expressions of tokio, axum, reqwest, sqlx,
/// realworld-axum-sqlx, redis-rs, lemmy, bb8, mini-redis and AWS's Rust SDK examples (13319
/// `.await`s, 2604 files): 2281 such receivers, 1787 moved (`bind` 213, `region` 160, `set`,
/// `values`, `select`, `body`, `bucket`, `key`, `max_size`, ..), 494 kept (`arg` 299, `get` 72,
/// `ignore`, `post`, `read`, `clone`, .., and those of steps whose arguments make temporaries).
pub fn moves_chained_receiver(receiver: &Expr, method: &str) -> bool {
    let value = match receiver {
        Expr::Paren(inner) => &*inner.expr,
        other => other,
    };
    matches!(value, Expr::Call(_) | Expr::MethodCall(_) | Expr::Try(_))
        && is_kept_receiver(receiver, method)
        && !makes_borrowing_builder(value)
        && !has_owned_result(method)
        // `values` is a builder step in receiver chains (diesel's `insert_into(t).values(v)`,
        // AWS's `Filter::builder().name(n).values(v)`), not `HashMap::values`.
        && (method == "values" || !is_view_method(method))
        && !BORROWING_CHAIN_METHODS.contains(&method)
}

/// Method names whose result holds nothing borrowed from the receiver: a local initialised
/// from `x.len()` does not keep `x` borrowed.
const OWNED_RESULT_METHODS: &[&str] = &[
    "len", "is_empty", "clone", "to_string", "to_owned", "to_vec", "capacity", "is_some", "is_none",
    "is_ok", "is_err", "contains", "contains_key", "starts_with", "ends_with", "eq", "ne", "cmp",
    "partial_cmp", "hash", "count", "sum", "product", "to_lowercase", "to_uppercase", "abs", "pow",
    "min", "max", "as_secs", "as_millis", "elapsed", "now", "parse", "is_ascii", "touch", "name_len",
];

/// tokio's `*_owned` methods (`acquire_owned`, `lock_owned`, `read_owned`, `write_owned` and their
/// `try_`/`_many_` forms) take `self: Arc<Self>`: on a temporary receiver
/// (`self.sem.clone().acquire_owned().await`), taken to move it (where the method borrows after
/// all, rustc says E0716 at the temporary). Not on a local: bb8's `Pool::get_owned(&self)`
/// borrows, and a local taken as moved would be dropped early, silently.
fn consumes_temporary(name: &str) -> bool {
    is_consuming_method(name, true)
        || CONSUMING_TEMPORARY_METHODS.contains(&name)
        || (name.ends_with("_owned") && name != "to_owned")
}

pub fn has_owned_result(name: &str) -> bool {
    OWNED_RESULT_METHODS.contains(&name)
}

/// How the walk sees a place: what a path there is used as.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ctx {
    Value,
    Borrow,
    Mut,
    Assign,
    Consume,
    Raw,
}

/// The walk over one piece of plain code.
pub struct Walk<'r, H> {
    /// Resolves a name to a body local, outside any binding of the code itself.
    resolve: &'r dyn Fn(&str) -> Option<LocalId>,
    handler: H,
    /// Names bound inside the walked code, innermost last: they shadow the body's locals.
    inner: Vec<Vec<String>>,
    at: At,
    /// Loops and labeled blocks inside the walked code: jumps to them stay as written.
    targets: Vec<(Option<String>, bool)>,
    /// Inside a closure or async block: `return`, `?` and jumps are its own.
    closure_depth: usize,
    /// Per local, what its declaration says of its methods.
    hints: &'r [ReceiverHint],
    /// The expression walked next is the operand of an `.await` (see [`super::ir::Role::Awaited`]).
    awaited: bool,
}

impl<'r, H: Handler> Walk<'r, H> {
    pub fn new(resolve: &'r dyn Fn(&str) -> Option<LocalId>, hints: &'r [ReceiverHint], handler: H, at: At) -> Self {
        Walk { resolve, hints, handler, inner: Vec::new(), at, targets: Vec::new(), closure_depth: 0, awaited: false }
    }

    pub fn into_handler(self) -> H {
        self.handler
    }

    /// Walks `expr` used as its role says.
    pub fn walk(&mut self, expr: &mut Expr, role: super::ir::Role) {
        let ctx = match role {
            super::ir::Role::Value => Ctx::Value,
            super::ir::Role::Place => Ctx::Mut,
            super::ir::Role::Assigned => Ctx::Assign,
            super::ir::Role::Awaited => {
                self.awaited = true;
                Ctx::Value
            }
        };
        self.expr(expr, ctx);
    }

    fn resolve(&self, name: &str) -> Option<LocalId> {
        if self.inner.iter().any(|scope| scope.iter().any(|n| n == name)) {
            return None;
        }
        (self.resolve)(name)
    }

    /// A branch whose arms the closures walk, one arm each.
    fn branch(&mut self, arms: Vec<&mut dyn FnMut(&mut Self)>) {
        // Inside a closure, uses are captures made at its creation: no control flow.
        let structured = self.closure_depth == 0;
        if structured {
            self.handler.open(Region::Branch);
        }
        let before = std::mem::replace(&mut self.at.conditional, true);
        for (index, arm) in arms.into_iter().enumerate() {
            if index > 0 && structured {
                self.handler.arm();
            }
            arm(self);
        }
        self.at.conditional = before;
        if structured {
            self.handler.close();
        }
    }

    fn region<R>(&mut self, region: Region, f: impl FnOnce(&mut Self) -> R) -> R {
        let structured = self.closure_depth == 0;
        if structured {
            self.handler.open(region);
        }
        let before = std::mem::replace(&mut self.at.conditional, true);
        let result = f(self);
        self.at.conditional = before;
        if structured {
            self.handler.close();
        }
        result
    }

    fn owned<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        let before = std::mem::replace(&mut self.at.owned, true);
        let result = f(self);
        self.at.owned = before;
        result
    }

    fn scoped<R>(&mut self, names: Vec<String>, f: impl FnOnce(&mut Self) -> R) -> R {
        self.inner.push(names);
        let result = f(self);
        self.inner.pop();
        result
    }

    fn path(&mut self, expr: &mut Expr, ctx: Ctx) {
        let Some(name) = local_name(expr) else { return };
        let Some(local) = self.resolve(&name) else { return };
        let kind = match ctx {
            Ctx::Value => UseKind::Move,
            Ctx::Borrow => UseKind::Borrow,
            Ctx::Mut => UseKind::BorrowMut,
            Ctx::Assign => UseKind::Assign,
            Ctx::Consume => UseKind::ConsumingCall,
            Ctx::Raw => UseKind::RawAddress,
        };
        let kind = captured_kind(&self.at, kind);
        let span = expr.span();
        if let Some(replacement) = self.handler.local(local, kind, &self.at, span) {
            *expr = Expr::Verbatim(replacement);
        }
    }

    fn expr(&mut self, expr: &mut Expr, ctx: Ctx) {
        let awaited = std::mem::take(&mut self.awaited);
        match expr {
            Expr::Path(_) => self.path(expr, ctx),
            Expr::Paren(inner) => {
                self.awaited = awaited;
                self.expr(&mut inner.expr, ctx)
            }
            Expr::Group(inner) => {
                self.awaited = awaited;
                self.expr(&mut inner.expr, ctx)
            }
            Expr::Reference(reference) => {
                let inner = if reference.mutability.is_some() { Ctx::Mut } else { Ctx::Borrow };
                let address = std::mem::replace(&mut self.at.address, local_name(super::strip_parens(&reference.expr)).is_some());
                self.expr(&mut reference.expr, inner);
                self.at.address = address;
            }
            Expr::RawAddr(raw) => self.expr(&mut raw.expr, Ctx::Raw),
            Expr::Cast(cast) => {
                let to_pointer = matches!(&*cast.ty, syn::Type::Ptr(_));
                match &mut *cast.expr {
                    Expr::Reference(reference) if to_pointer => self.expr(&mut reference.expr, Ctx::Raw),
                    inner if to_pointer => self.expr(inner, Ctx::Raw),
                    // A cast to a number holds no borrow of its operand.
                    inner => self.owned(|w| w.expr(inner, Ctx::Value)),
                }
            }
            Expr::Call(call) => {
                // Calling a closure held in a local borrows it (`Fn`, `FnMut`).
                self.expr(&mut call.func, Ctx::Mut);
                // An `Iterator::next` item borrows nothing from the `&mut` the call takes, nor
                // does the runtime's `check_pointer` (a function pointer) from the futures of
                // the `select!` it types (see `polling::select`).
                let owned = path_ends_with(&call.func, &["Iterator", "next"]) || path_ends_with(&call.func, &["__private", "check_pointer"]);
                for arg in &mut call.args {
                    if owned {
                        self.owned(|w| w.expr(arg, Ctx::Value));
                    } else {
                        self.expr(arg, Ctx::Value);
                    }
                }
            }
            Expr::MethodCall(call) => {
                let method = call.method.to_string();
                // A hidden temporary of the statement (a receiver the split made a local) is a temporary.
                let temporary = local_name(&call.receiver).is_some_and(|name| name.starts_with("__temp"));
                let hint = local_name(&call.receiver)
                    .and_then(|name| self.resolve(&name))
                    .and_then(|local| self.hints.get(local).copied())
                    .unwrap_or_default();
                let consumes = match hint {
                    ReceiverHint::Guard => false,
                    ReceiverHint::OneshotSender if method == "send" => true,
                    _ => is_consuming_method(&method, awaited) || (temporary && consumes_temporary(&method)),
                };
                let receiver = if consumes { Ctx::Consume } else { Ctx::Mut };
                if has_owned_result(&method) {
                    self.owned(|w| w.expr(&mut call.receiver, receiver));
                } else {
                    self.expr(&mut call.receiver, receiver);
                }
                for arg in &mut call.args {
                    self.expr(arg, Ctx::Value);
                }
            }
            Expr::Field(field) => {
                let base = match ctx {
                    Ctx::Value | Ctx::Borrow | Ctx::Consume => Ctx::Borrow,
                    Ctx::Assign => Ctx::Mut,
                    other => other,
                };
                // A field copied or moved out holds no borrow of the local it is part of (nor
                // does a field of that field).
                let part = (matches!(ctx, Ctx::Value | Ctx::Consume) || (self.at.part && ctx == Ctx::Borrow)) && projects_local(&field.base);
                let before = std::mem::replace(&mut self.at.part, part);
                self.expr(&mut field.base, base);
                self.at.part = before;
            }
            Expr::Index(index) => {
                let base = match ctx {
                    Ctx::Value | Ctx::Borrow => Ctx::Borrow,
                    Ctx::Assign | Ctx::Consume => Ctx::Mut,
                    other => other,
                };
                self.expr(&mut index.expr, base);
                self.expr(&mut index.index, Ctx::Value);
            }
            Expr::Unary(unary) => {
                let inner = match unary.op {
                    UnOp::Deref(_) => match ctx {
                        Ctx::Value | Ctx::Borrow => Ctx::Borrow,
                        Ctx::Raw => Ctx::Raw,
                        _ => Ctx::Mut,
                    },
                    _ => Ctx::Value,
                };
                self.expr(&mut unary.expr, inner);
            }
            Expr::Assign(assign) => {
                self.expr(&mut assign.right, Ctx::Value);
                if let Some(local) = local_name(super::strip_parens(&assign.left)).and_then(|name| self.resolve(&name))
                    && let Some(replacement) = self.handler.assign(local, &assign.right)
                {
                    // The use is still seen (for collecting), then the whole assignment replaced.
                    let at = self.at.clone();
                    let _ = self.handler.local(local, UseKind::Assign, &at, assign.left.span());
                    *expr = Expr::Verbatim(replacement);
                    return;
                }
                self.expr(&mut assign.left, Ctx::Assign);
            }
            Expr::Binary(binary) => {
                let (left, right) = match binary.op {
                    op if is_comparison(&op) => (Ctx::Borrow, Ctx::Borrow),
                    op if is_compound_assignment(&op) => (Ctx::Mut, Ctx::Value),
                    _ => (Ctx::Value, Ctx::Value),
                };
                if is_comparison(&binary.op) {
                    self.owned(|w| w.expr(&mut binary.left, left));
                } else {
                    self.expr(&mut binary.left, left);
                }
                match binary.op {
                    BinOp::And(_) | BinOp::Or(_) => {
                        self.branch(vec![&mut |w: &mut Self| w.expr(&mut binary.right, right), &mut |_: &mut Self| {}]);
                    }
                    op if is_comparison(&op) => self.owned(|w| w.expr(&mut binary.right, right)),
                    _ => self.expr(&mut binary.right, right),
                }
            }
            Expr::Block(block) => match &block.label {
                Some(label) => {
                    let name = label.name.ident.to_string();
                    self.targets.push((Some(name.clone()), false));
                    self.region(Region::Labeled { label: name }, |w| w.block(&mut block.block));
                    self.targets.pop();
                }
                None => self.block(&mut block.block),
            },
            Expr::Unsafe(block) => self.block(&mut block.block),
            Expr::Const(block) => self.block(&mut block.block),
            Expr::If(conditional) => {
                // `if let` bindings are in scope in the `then` branch only; a pattern that binds
                // all of a place by value moves it there.
                let names = let_bindings(&conditional.cond);
                let mut consumed = let_consumed_places(&conditional.cond);
                self.inner.push(Vec::new());
                self.expr(&mut conditional.cond, Ctx::Borrow);
                self.inner.pop();
                let (then, other) = (&mut conditional.then_branch, &mut conditional.else_branch);
                self.branch(vec![
                    &mut |w: &mut Self| {
                        for place in &mut consumed {
                            w.expr(place, Ctx::Value);
                        }
                        w.scoped(names.clone(), |w| w.block(then));
                    },
                    &mut |w: &mut Self| {
                        if let Some((_, other)) = other {
                            w.expr(other, Ctx::Value);
                        }
                    },
                ]);
            }
            // The move by the pattern is the `if`'s or `while`'s (in the branch that matched).
            Expr::Let(binding) => {
                let place = is_place_expr(&binding.expr);
                let ctx = if place { Ctx::Borrow } else { Ctx::Value };
                // A pattern that binds all of a place by value moves (or copies) its parts into
                // the bindings: they hold no borrow of the local it is part of.
                let part = place && binds_by_value(&binding.pat) && projects_local(&binding.expr);
                let part = self.at.part || part;
                let before = std::mem::replace(&mut self.at.part, part);
                self.expr(&mut binding.expr, ctx);
                self.at.part = before;
            }
            Expr::Match(matching) => {
                let place = is_place_expr(&matching.expr);
                // A place scrutinee is moved by an arm whose pattern binds all of it by value.
                self.expr(&mut matching.expr, if place { Ctx::Borrow } else { Ctx::Value });
                let scrutinee = (*matching.expr).clone();
                let mut arms: Vec<WalkArm<'_, Self>> = Vec::new();
                for arm in &mut matching.arms {
                    let mut scrutinee = scrutinee.clone();
                    arms.push(Box::new(move |w: &mut Self| {
                        let (pat, guard) = match &mut arm.pat {
                            Pat::Guard(guarded) => (&*guarded.pat, Some(&mut guarded.guard)),
                            other => (&*other, None),
                        };
                        if place && binds_by_value(pat) {
                            w.expr(&mut scrutinee, Ctx::Value);
                        }
                        w.scoped(pattern_names(pat), |w| {
                            if let Some(guard) = guard {
                                w.expr(guard, Ctx::Borrow);
                            }
                            w.expr(&mut arm.body, Ctx::Value);
                        });
                    }));
                }
                self.branch(arms.iter_mut().map(|arm| &mut **arm as &mut dyn FnMut(&mut Self)).collect());
            }
            Expr::Loop(looping) => {
                let label = looping.label.as_ref().map(|l| l.name.ident.to_string());
                self.targets.push((label.clone(), true));
                self.region(Region::Loop { label, may_skip: false }, |w| w.block(&mut looping.body));
                self.targets.pop();
            }
            Expr::While(looping) => {
                let label = looping.label.as_ref().map(|l| l.name.ident.to_string());
                self.targets.push((label.clone(), true));
                let names = let_bindings(&looping.cond);
                let mut consumed = let_consumed_places(&looping.cond);
                self.region(Region::Loop { label, may_skip: true }, |w| {
                    w.inner.push(Vec::new());
                    w.expr(&mut looping.cond, Ctx::Borrow);
                    w.inner.pop();
                    for place in &mut consumed {
                        w.expr(place, Ctx::Value);
                    }
                    w.scoped(names, |w| w.block(&mut looping.body));
                });
                self.targets.pop();
            }
            Expr::ForLoop(looping) => {
                self.expr(&mut looping.expr, Ctx::Value);
                let label = looping.label.as_ref().map(|l| l.name.ident.to_string());
                self.targets.push((label.clone(), true));
                let names = pattern_names(&looping.pat);
                self.region(Region::Loop { label, may_skip: true }, |w| w.scoped(names, |w| w.block(&mut looping.body)));
                self.targets.pop();
            }
            Expr::Closure(closure) => {
                let by_value = closure.capture.is_some();
                let names = closure.inputs.iter().flat_map(pattern_names).collect();
                self.capture(by_value, names, |w| w.expr(&mut closure.body, Ctx::Value));
                self.wrap_closure(expr);
            }
            Expr::Async(block) => {
                let by_value = block.capture.is_some();
                self.capture(by_value, Vec::new(), |w| w.block(&mut block.block));
                self.wrap_closure(expr);
            }
            Expr::Return(ret) => {
                if let Some(value) = &mut ret.expr {
                    self.expr(value, Ctx::Value);
                }
                if self.closure_depth == 0 {
                    let span = ret.return_token.span;
                    if let Some(replacement) = self.handler.exit(Exit::Return { value: ret.expr.as_deref(), span }, false) {
                        *expr = Expr::Verbatim(replacement);
                    }
                }
            }
            Expr::Try(question) => {
                self.expr(&mut question.expr, Ctx::Value);
                if self.closure_depth == 0 {
                    let span = question.question_token.span;
                    self.handler.open(Region::Branch);
                    self.handler.arm();
                    let replacement = self.handler.exit(Exit::Try { operand: &question.expr, span }, false);
                    self.handler.close();
                    if let Some(replacement) = replacement {
                        *expr = Expr::Verbatim(replacement);
                    }
                }
            }
            Expr::Break(jump) => {
                if let Some(value) = &mut jump.expr {
                    self.expr(value, Ctx::Value);
                }
                if self.closure_depth == 0 {
                    let inside = self.targets_inside(jump.label.as_ref(), true);
                    let exit = Exit::Break { label: jump.label.as_ref(), value: jump.expr.as_deref(), span: jump.break_token.span };
                    if let Some(replacement) = self.handler.exit(exit, inside) {
                        *expr = Expr::Verbatim(replacement);
                    }
                }
            }
            Expr::Continue(jump) if self.closure_depth == 0 => {
                let inside = self.targets_inside(jump.label.as_ref(), false);
                let exit = Exit::Continue { label: jump.label.as_ref(), span: jump.continue_token.span };
                if let Some(replacement) = self.handler.exit(exit, inside) {
                    *expr = Expr::Verbatim(replacement);
                }
            }
            Expr::Struct(literal) => {
                for field in &mut literal.fields {
                    if field.colon_token.is_none() {
                        // `S { x }` names the local `x`: spell it `S { x: x }` so it can be replaced.
                        field.colon_token = Some(Default::default());
                    }
                    self.expr(&mut field.expr, Ctx::Value);
                }
                if let Some(rest) = &mut literal.rest {
                    self.expr(rest, Ctx::Borrow);
                }
            }
            Expr::Macro(mac) if crate::awaits::is_stream_macro(&mac.mac) => {
                // Read as the `async move` block it makes (see `is_stream_macro`).
                if let Ok(stmts) = mac.mac.parse_body_with(syn::Block::parse_within) {
                    let mut block = syn::Block { brace_token: Default::default(), stmts };
                    self.capture(true, Vec::new(), |w| w.block(&mut block));
                    let stmts = &block.stmts;
                    mac.mac.tokens = quote::quote!(#(#stmts)*);
                    self.wrap_closure(expr);
                } else {
                    self.mac(&mut mac.mac);
                }
            }
            Expr::Yield(value) => {
                if let Some(value) = &mut value.expr {
                    self.expr(value, Ctx::Value);
                }
            }
            Expr::Macro(mac) => self.mac(&mut mac.mac),
            Expr::Array(array) => array.elems.iter_mut().for_each(|e| self.expr(e, Ctx::Value)),
            Expr::Tuple(tuple) => tuple.elems.iter_mut().for_each(|e| self.expr(e, Ctx::Value)),
            Expr::Repeat(repeat) => self.expr(&mut repeat.expr, Ctx::Value),
            Expr::Range(range) => {
                if let Some(start) = &mut range.start {
                    self.expr(start, Ctx::Value);
                }
                if let Some(end) = &mut range.end {
                    self.expr(end, Ctx::Value);
                }
            }
            Expr::Await(awaited) => self.expr(&mut awaited.base, Ctx::Value),
            Expr::TryBlock(block) => self.block(&mut block.block),
            _ => {}
        }
    }

    /// A closure or async block: its uses are captures, made when it is created. A nested
    /// `move` makes the captures of the closure around it by value too.
    fn capture(&mut self, by_value: bool, names: Vec<String>, f: impl FnOnce(&mut Self)) {
        let targets = std::mem::take(&mut self.targets);
        self.closure_depth += 1;
        let at = self.at.clone();
        self.at.in_closure = true;
        self.at.by_value_capture |= by_value;
        self.inner.push(names);
        f(self);
        self.inner.pop();
        self.at = at;
        self.closure_depth -= 1;
        self.targets = targets;
    }

    fn wrap_closure(&mut self, expr: &mut Expr) {
        let kind = match expr {
            Expr::Async(block) if block.capture.is_none() => Capturing::AsyncBlock,
            Expr::Closure(closure) if closure.capture.is_none() => Capturing::Closure,
            _ => Capturing::Moving,
        };
        if self.closure_depth != 0 {
            return;
        }
        let Some(Prelude { before, first, move_before_2021 }) = self.handler.closure_prelude(kind) else { return };
        if let Expr::Async(block) = expr
            && !first.is_empty()
        {
            let first: syn::Block = syn::parse_quote!({ #first });
            block.block.stmts.splice(0..0, first.stmts);
        }
        let closure = if let Expr::Closure(closure) = expr
            && move_before_2021
        {
            let mut moving = closure.clone();
            moving.capture = Some(Default::default());
            let (closure, moving) = (closure.to_token_stream(), moving.to_token_stream());
            quote::quote!(__unasync_by_captures!(_ | _, {#closure} {#moving}))
        } else {
            expr.to_token_stream()
        };
        *expr = Expr::Verbatim(quote::quote!({ #before #closure }));
    }

    fn targets_inside(&self, label: Option<&syn::Lifetime>, _is_break: bool) -> bool {
        match label {
            Some(label) => {
                let name = label.ident.to_string();
                self.targets.iter().any(|(l, _)| l.as_deref() == Some(&name))
            }
            // A `break` or `continue` without a label goes to the innermost loop.
            None => self.targets.iter().any(|(_, is_loop)| *is_loop),
        }
    }

    pub fn block(&mut self, block: &mut syn::Block) {
        self.inner.push(Vec::new());
        for stmt in &mut block.stmts {
            self.stmt(stmt);
        }
        self.inner.pop();
    }

    fn stmt(&mut self, stmt: &mut Stmt) {
        match stmt {
            Stmt::Local(local) => {
                if let Some(init) = &mut local.init {
                    let ctx = match strip_type(&local.pat) {
                        Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => Ctx::Value,
                        Pat::Wild(_) => Ctx::Borrow,
                        pattern if binds_by_value(pattern) => Ctx::Value,
                        _ => Ctx::Borrow,
                    };
                    let ctx = if is_place_expr(&init.expr) { ctx } else { Ctx::Value };
                    self.expr(&mut init.expr, ctx);
                    if let Some((_, diverge)) = &mut init.diverge {
                        self.branch(vec![&mut |w: &mut Self| w.expr(diverge, Ctx::Value), &mut |_: &mut Self| {}]);
                    }
                }
                let names = pattern_names(&local.pat);
                self.inner.last_mut().expect("block scope").extend(names);
            }
            Stmt::Item(_) => {}
            Stmt::Expr(expr, _) => self.expr(expr, Ctx::Value),
            Stmt::Macro(mac) => self.mac(&mut mac.mac),
        }
    }

    /// The standard macros whose arguments are expressions are walked as expressions; others are
    /// handed to the handler with the locals their tokens name.
    fn mac(&mut self, mac: &mut syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        let arg_ctx = match name.as_str() {
            "format" | "print" | "println" | "eprint" | "eprintln" | "format_args" | "panic" | "unreachable"
            | "todo" | "unimplemented" | "assert" | "assert_eq" | "assert_ne" | "debug_assert"
            | "debug_assert_eq" | "debug_assert_ne" | "write" | "writeln" => Some(Ctx::Borrow),
            "vec" | "dbg" => Some(Ctx::Value),
            "addr_of" | "addr_of_mut" => Some(Ctx::Raw),
            "matches" => None,
            _ => None,
        };
        if let Some(ctx) = arg_ctx {
            let parser = Punctuated::<Expr, syn::Token![,]>::parse_terminated;
            if let Ok(mut args) = mac.parse_body_with(parser) {
                let formats = !matches!(name.as_str(), "vec" | "dbg" | "addr_of" | "addr_of_mut");
                // What these macros return holds nothing of their arguments (only
                // `format_args!`, `vec!` and `dbg!` keep them).
                let owned = !matches!(name.as_str(), "format_args" | "vec" | "dbg" | "addr_of" | "addr_of_mut");
                let owned = self.at.owned || owned;
                let before = std::mem::replace(&mut self.at.owned, owned);
                let named: Vec<String> = args
                    .iter()
                    .filter_map(|arg| match arg {
                        Expr::Assign(named) => local_name(&named.left),
                        _ => None,
                    })
                    .collect();
                let mut captured = Vec::new();
                for (index, arg) in args.iter_mut().enumerate() {
                    let ctx = if matches!(name.as_str(), "write" | "writeln") && index == 0 { Ctx::Mut } else { ctx };
                    match arg {
                        Expr::Assign(assigned) if formats => self.expr(&mut assigned.right, ctx),
                        Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(format), .. }) if formats => {
                            captured.extend(self.inline_captures(format, &named));
                        }
                        other => self.expr(other, ctx),
                    }
                }
                self.at.owned = before;
                if matches!(name.as_str(), "panic" | "unreachable" | "todo" | "unimplemented") && self.closure_depth == 0 {
                    self.handler.exit(Exit::Panic, false);
                }
                let mut tokens = args.to_token_stream();
                if !captured.is_empty() {
                    // `{x}` of a local the state machine renames: an explicit named argument.
                    if !args.empty_or_trailing() {
                        tokens.extend(quote::quote!(,));
                    }
                    let captured = captured.into_iter().map(|(ident, value)| quote::quote!(#ident = #value));
                    tokens.extend(quote::quote!(#(#captured),*));
                }
                mac.tokens = tokens;
                return;
            }
        }
        // tokio's `join!`/`select!` in an `async` block of the body (the body's own are lowered):
        // what they name is read as in any expression.
        if super::polling::polls_futures(mac) && super::polling::visit_operands(mac, |expr| self.expr(expr, Ctx::Value)) {
            return;
        }
        let mut named = Vec::new();
        self.named_in_tokens(mac.tokens.clone(), &mut named);
        // A `macro_rules!` of the body: the locals its rules name (see `macro_rules_names`).
        for index in 0.. {
            match self.resolve(&format!("{name}!{index}")) {
                Some(local) => named.push((local, mac.path.span())),
                None => break,
            }
        }
        if !named.is_empty() {
            let at = self.at.clone();
            self.handler.opaque_macro(mac, &named, &at);
        }
    }

    /// `{x}` in a format string borrows the local `x`: the named arguments to add where the
    /// handler replaces it.
    fn inline_captures(&mut self, format: &syn::LitStr, named: &[String]) -> Vec<(proc_macro2::Ident, TokenStream)> {
        let mut added: Vec<(proc_macro2::Ident, TokenStream)> = Vec::new();
        for name in inline_capture_names(&format.value()) {
            if named.contains(&name) || added.iter().any(|(ident, _)| *ident == name) {
                continue;
            }
            if let Some(local) = self.resolve(&name) {
                let at = self.at.clone();
                let kind = captured_kind(&at, UseKind::Borrow);
                if let Some(replacement) = self.handler.local(local, kind, &at, format.span()) {
                    added.push((proc_macro2::Ident::new(&name, format.span()), replacement));
                }
            }
        }
        added
    }

    fn named_in_tokens(&self, tokens: TokenStream, named: &mut Vec<(LocalId, Span)>) {
        named_in_tokens(tokens, &|name| self.resolve(name), named);
    }
}

/// The walk of one `match` arm, run after the scrutinee's.
type WalkArm<'a, W> = Box<dyn FnMut(&mut W) + 'a>;

/// How a use inside a closure or async block uses the local: a closure captures what it names
/// when it is created, by value under `move`; else by reference, or by value when the body
/// moves a non-`Copy` local (which cannot be told from a copy here).
fn captured_kind(at: &At, kind: UseKind) -> UseKind {
    match (at.in_closure, at.by_value_capture, kind) {
        (true, true, UseKind::RawAddress) => UseKind::RawAddress,
        (true, true, _) => UseKind::Move,
        (true, false, UseKind::Move | UseKind::ConsumingCall) => UseKind::Opaque,
        (_, _, kind) => kind,
    }
}

/// Whether the rules of a `macro_rules!` (its tokens: `(matcher) => { .. }; ..`) take only
/// `$e:expr` fragments, at least one.
pub fn only_expr_fragments(rules: TokenStream) -> bool {
    fn fragments(matcher: TokenStream, kinds: &mut Vec<String>) {
        let tokens: Vec<TokenTree> = matcher.into_iter().collect();
        for (index, token) in tokens.iter().enumerate() {
            match token {
                TokenTree::Punct(dollar) if dollar.as_char() == '$' => {
                    if let (Some(TokenTree::Ident(_)), Some(TokenTree::Punct(colon)), Some(TokenTree::Ident(kind))) =
                        (tokens.get(index + 1), tokens.get(index + 2), tokens.get(index + 3))
                        && colon.as_char() == ':'
                    {
                        kinds.push(kind.to_string());
                    }
                }
                TokenTree::Group(group) => fragments(group.stream(), kinds),
                _ => {}
            }
        }
    }
    let mut kinds = Vec::new();
    let mut expect_matcher = true;
    for token in rules {
        match token {
            TokenTree::Group(group) if expect_matcher => {
                fragments(group.stream(), &mut kinds);
                expect_matcher = false;
            }
            TokenTree::Punct(semi) if semi.as_char() == ';' => expect_matcher = true,
            _ => {}
        }
    }
    !kinds.is_empty() && kinds.iter().all(|kind| kind == "expr")
}

/// The body locals that tokens name (not as a field or path segment), with their spans.
pub fn named_in_tokens(tokens: TokenStream, resolve: &dyn Fn(&str) -> Option<LocalId>, named: &mut Vec<(LocalId, Span)>) {
    let mut previous_dot = false;
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (index, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Ident(ident) if !previous_dot => {
                let path_segment = matches!(tokens.get(index + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':')
                    && matches!(tokens.get(index + 2), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                if !path_segment && let Some(local) = resolve(&ident.to_string()) {
                    named.push((local, ident.span()));
                }
            }
            TokenTree::Group(group) => named_in_tokens(group.stream(), resolve, named),
            TokenTree::Literal(literal) => {
                if let Ok(format) = syn::parse2::<syn::LitStr>(literal.to_token_stream()) {
                    for name in inline_capture_names(&format.value()) {
                        if let Some(local) = resolve(&name) {
                            named.push((local, literal.span()));
                        }
                    }
                }
            }
            _ => {}
        }
        previous_dot = matches!(token, TokenTree::Punct(p) if p.as_char() == '.');
    }
}

/// A local, or fields of it: `x`, `x.a.b`, `(x.a)`.
fn projects_local(expr: &Expr) -> bool {
    match expr {
        Expr::Path(_) => local_name(expr).is_some(),
        Expr::Field(field) => projects_local(&field.base),
        Expr::Paren(paren) => projects_local(&paren.expr),
        _ => false,
    }
}

/// The name of a plain local path: `x`, `self`, `r#match`.
pub fn local_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(path)
            if path.qself.is_none()
                && path.path.leading_colon.is_none()
                && path.path.segments.len() == 1
                && path.path.segments[0].arguments.is_none() =>
        {
            Some(path.path.segments[0].ident.to_string())
        }
        _ => None,
    }
}

/// A path expression whose last segments are `segments`.
pub fn path_ends_with(expr: &Expr, segments: &[&str]) -> bool {
    match expr {
        Expr::Path(path) => {
            let names: Vec<String> = path.path.segments.iter().map(|s| s.ident.to_string()).collect();
            names.len() >= segments.len() && names[names.len() - segments.len()..].iter().zip(segments).all(|(a, b)| a == b)
        }
        _ => false,
    }
}

pub fn strip_type(pat: &Pat) -> &Pat {
    match pat {
        Pat::Type(typed) => &typed.pat,
        other => other,
    }
}

/// A place expression: a local, or a field, index or deref projection of one.
pub fn is_place_expr(expr: &Expr) -> bool {
    match expr {
        Expr::Path(_) => true,
        Expr::Paren(inner) => is_place_expr(&inner.expr),
        Expr::Group(inner) => is_place_expr(&inner.expr),
        Expr::Field(field) => is_place_expr(&field.base),
        Expr::Index(index) => is_place_expr(&index.expr),
        Expr::Unary(unary) => matches!(unary.op, UnOp::Deref(_)),
        _ => false,
    }
}

/// Whether matching a place against this pattern moves all of the place out (every part is
/// bound by value, or is a literal or unit variant): the place is then consumed.
pub fn binds_by_value(pat: &Pat) -> bool {
    fn all(pat: &Pat, binds: &mut bool) -> bool {
        match pat {
            Pat::Ident(ident) => {
                if ident.by_ref.is_some() {
                    return false;
                }
                if is_binding_name(&ident.ident) {
                    *binds = true;
                }
                ident.subpat.as_ref().is_none_or(|(_, sub)| all(sub, binds))
            }
            Pat::Tuple(tuple) => tuple.elems.iter().all(|p| all(p, binds)),
            Pat::TupleStruct(tuple) => tuple.elems.iter().all(|p| all(p, binds)),
            Pat::Struct(strukt) => strukt.rest.is_none() && strukt.fields.iter().all(|f| all(&f.pat, binds)),
            Pat::Slice(slice) => slice.elems.iter().all(|p| all(p, binds)),
            Pat::Or(or) => or.cases.iter().all(|p| all(p, binds)),
            Pat::Paren(paren) => all(&paren.pat, binds),
            Pat::Type(typed) => all(&typed.pat, binds),
            Pat::Lit(_) | Pat::Range(_) | Pat::Path(_) => true,
            Pat::Wild(_) | Pat::Rest(_) | Pat::Reference(_) => false,
            _ => false,
        }
    }
    let mut binds = false;
    all(pat, &mut binds) && binds
}

/// Whether matching a place against this pattern may move some of it out: a binding by value
/// (of a type that may not be `Copy`) outside a `&` pattern.
pub fn moves_out(pat: &Pat) -> bool {
    match pat {
        Pat::Ident(ident) => {
            (ident.by_ref.is_none() && is_binding_name(&ident.ident)) || ident.subpat.as_ref().is_some_and(|(_, sub)| moves_out(sub))
        }
        Pat::Tuple(tuple) => tuple.elems.iter().any(moves_out),
        Pat::TupleStruct(tuple) => tuple.elems.iter().any(moves_out),
        Pat::Struct(strukt) => strukt.fields.iter().any(|f| moves_out(&f.pat)),
        Pat::Slice(slice) => slice.elems.iter().any(moves_out),
        Pat::Or(or) => or.cases.iter().any(moves_out),
        Pat::Paren(paren) => moves_out(&paren.pat),
        Pat::Type(typed) => moves_out(&typed.pat),
        Pat::Reference(_) | Pat::Lit(_) | Pat::Range(_) | Pat::Path(_) | Pat::Wild(_) | Pat::Rest(_) => false,
        _ => true,
    }
}

/// Lowercase identifiers in patterns bind; capitalised ones name constants, unit structs and
/// variants (`None`), as rustc resolves them in ordinary code.
pub fn is_binding_name(ident: &proc_macro2::Ident) -> bool {
    let name = ident.to_string();
    let name = name.trim_start_matches("r#");
    name.starts_with(|c: char| c.is_lowercase() || c == '_') && name != "_"
}

/// How a `let` pattern uses a place it is matched against: moved out by a pattern that binds
/// it all by value, else used in place (borrowed by `ref` bindings, or partly moved).
pub fn pattern_role(pat: &Pat) -> super::ir::Role {
    match strip_type(pat) {
        Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => super::ir::Role::Value,
        pattern if binds_by_value(pattern) => super::ir::Role::Value,
        _ => super::ir::Role::Place,
    }
}

/// The names a pattern binds, in order.
pub fn pattern_names(pat: &Pat) -> Vec<String> {
    pattern_idents(pat).into_iter().map(|ident| ident.to_string()).collect()
}

/// The binding identifiers of a pattern, in order.
pub fn pattern_idents(pat: &Pat) -> Vec<proc_macro2::Ident> {
    struct Collector(Vec<proc_macro2::Ident>);
    impl<'a> syn::visit::Visit<'a> for Collector {
        fn visit_pat_ident(&mut self, ident: &'a syn::PatIdent) {
            if ident.subpat.is_some() || ident.by_ref.is_some() || ident.mutability.is_some() || is_binding_name(&ident.ident) {
                self.0.push(ident.ident.clone());
            }
            syn::visit::visit_pat_ident(self, ident);
        }
        fn visit_expr(&mut self, _: &'a Expr) {}
    }
    let mut collector = Collector(Vec::new());
    syn::visit::Visit::visit_pat(&mut collector, pat);
    collector.0
}

/// The names `let` conditions of an `if`/`while` bind (`if let P = e && let Q = f`).
fn let_bindings(cond: &Expr) -> Vec<String> {
    match cond {
        Expr::Let(binding) => pattern_names(&binding.pat),
        Expr::Binary(binary) if matches!(binary.op, BinOp::And(_)) => {
            let mut names = let_bindings(&binary.left);
            names.extend(let_bindings(&binary.right));
            names
        }
        Expr::Paren(inner) => let_bindings(&inner.expr),
        _ => Vec::new(),
    }
}

/// The places the `let`s of a condition move out whole when they match.
fn let_consumed_places(cond: &Expr) -> Vec<Expr> {
    match cond {
        Expr::Let(binding) if is_place_expr(&binding.expr) && binds_by_value(&binding.pat) => vec![(*binding.expr).clone()],
        Expr::Binary(binary) if matches!(binary.op, BinOp::And(_)) => {
            let mut places = let_consumed_places(&binary.left);
            places.extend(let_consumed_places(&binary.right));
            places
        }
        Expr::Paren(inner) => let_consumed_places(&inner.expr),
        _ => Vec::new(),
    }
}

/// Names captured inline by a format string: `{x}`, `{x:?}`.
pub fn inline_capture_names(format: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
            }
            '{' => {
                let name: String = chars.clone().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if name.starts_with(|c: char| c.is_alphabetic() || c == '_') && name != "_" {
                    names.push(name);
                }
            }
            _ => {}
        }
    }
    names
}

pub fn is_compound_assignment(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::AddAssign(_)
            | BinOp::SubAssign(_)
            | BinOp::MulAssign(_)
            | BinOp::DivAssign(_)
            | BinOp::RemAssign(_)
            | BinOp::BitXorAssign(_)
            | BinOp::BitAndAssign(_)
            | BinOp::BitOrAssign(_)
            | BinOp::ShlAssign(_)
            | BinOp::ShrAssign(_)
    )
}

pub fn is_comparison(op: &BinOp) -> bool {
    matches!(op, BinOp::Eq(_) | BinOp::Ne(_) | BinOp::Lt(_) | BinOp::Le(_) | BinOp::Gt(_) | BinOp::Ge(_))
}
