//! unasync: see what `async fn` compiles to, and make its futures smaller.
//!
//! `#[unasync::desugar]` on an `async fn` replaces it with a plain `fn` that returns an explicit,
//! readable state machine with rustc's own states.
#![no_std]

extern crate alloc;

pub use unasync_macros::desugar;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
