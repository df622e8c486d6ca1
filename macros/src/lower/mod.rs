//! The lowering: an `async fn` body becomes a state machine whose code between two suspension
//! points is ordinary Rust over real locals.
//!
//! # States
//! As in rustc's `coroutine.rs`, the future is in one of these states:
//! - `Unresumed`: created, never polled. It holds the parameters (rustc's upvars). Dropping it
//!   drops them in declaration order.
//! - `SuspendK`: stopped at the K-th `.await` (in source order). It holds the awaited future
//!   (`__awaitee`) and the locals the rest of the body still needs there.
//! - `Returned`: finished. Polling it again panics with "`async fn` resumed after completion".
//! - `Panicked`: the body panicked (or is running): everything was dropped while unwinding;
//!   polling it again panics with "`async fn` resumed after panicking".
//!
//! # What is saved across a suspension point
//! A local in scope at an `.await` that may still hold a value is saved: moved into the state's
//! variant when the future suspends, moved back out when the awaitee completes (not when it is
//! merely polled). Between suspension points it is a real local of the resume function, so
//! moves, partial moves, by-value method calls, `match` bindings, closures and macros naming it
//! are plain Rust, and Rust's own drop flags and unwinding do the rest. A local that something
//! may borrow across a suspension point (the awaitee, another saved local, a temporary of the
//! suspending statement), whose address escapes, or whose value depends on the path, is pinned:
//! it stays at one address in the frame from its declaration to the end of its scope, in its
//! suspension point's variant or in the frame's prefix (rustc's promoted locals), and the code
//! reaches it through a pointer. Values computed before an `.await` of the same statement
//! (operands, temporaries a method call borrowed) are hidden locals of the statement, saved
//! like the others. See [`layout`].
//!
//! # Poll
//! The resume function is `loop { match state { .. } }`. The arm of `Unresumed` runs the body
//! from the start; the arm of `SuspendK` polls the awaitee in place and, when it completes, runs
//! the rest of the body from that `.await`, with the user's scopes rebuilt around it (each
//! saved local declared again in its own scope, so Rust drops it where rustc does). Each arm
//! runs until the body suspends (it writes the next state and continues the loop, which polls
//! the new awaitee at once, as rustc does) or returns (`Continue(output)`: `Machine::poll` writes
//! `Returned` and returns `Poll::Ready`). The state is not written while the body runs: a guard
//! per arm (`__unwind`) writes `Panicked` when it is dropped, which only a panic (the body
//! unwinds: the future is poisoned, the locals are dropped by unwinding) or the return does
//! before the poll writes `Returned`; a suspension forgets it. An arm that always suspends holds
//! the body's statements itself; one that may return wraps them in `return returned({ .. })`.
//! `Returned` and `Panicked` have arms of their own, which panic with rustc's messages.
//!
//! # Drop
//! Dropping the future drops what its state holds: each variant declares its fields in rustc's
//! drop order (the awaitee first, then the locals, innermost scope and latest declaration
//! first). Pinned locals that need dropping are ordered among them by a `Drop` impl.
//!
//! # Stages
//! [`build`] turns the body into the [`ir`] (with [`split`] cutting expressions around their
//! `.await`s, [`polling`] rewriting `join!`/`select!`, and [`walk`] reading plain code); [`flow`] runs the dataflow analyses; [`layout`]
//! decides what each state holds; [`resume`] and [`frame`] emit the code, with [`plain`]
//! rewriting the code without `.await`.

mod build;
mod flow;
mod frame;
mod ir;
mod layout;
mod plain;
mod polling;
mod resume;
mod split;
mod walk;

use proc_macro2::TokenStream;

use crate::input::AsyncFn;
use crate::signature::Signature;

pub fn lower(function: &AsyncFn, signature: &Signature) -> syn::Result<TokenStream> {
    let body = build::build(function, signature)?;
    let facts = flow::analyse(&body);
    let layout = layout::layout(&body, &facts);
    layout::check(&body, &layout)?;
    Ok(frame::emit(function, signature, &body, &facts, &layout))
}

/// The machine as an expression in place of an `async move` block: `function` holds the block's
/// body, `signature` its captured variables as parameters, `native` the never-run copy and
/// `unresumed_drops` the order the block captured them in (see [`frame::Site::Block`]).
pub fn lower_block(function: &AsyncFn, signature: &Signature, native: TokenStream, unresumed_drops: Vec<usize>) -> syn::Result<TokenStream> {
    let body = build::build(function, signature)?;
    let facts = flow::analyse(&body);
    let layout = layout::layout(&body, &facts);
    layout::check(&body, &layout)?;
    let future = frame::emit_future(function, signature, &body, &facts, &layout, frame::Site::Block { native, unresumed_drops });
    Ok(quote::quote!({ #future }))
}

pub use build::strip_parens;
