//! `cargo unasync`: inspect the futures rustc builds for `async fn`s, async blocks and async
//! closures, expand `#[unasync::desugar]` functions, and compare both.
//!
//! One-way stages, each using only the ones before it and the shared leaves ([`model`], the
//! data; [`names`], type-name text; [`error`]):
//! [`read`] (build with the binary as `RUSTC_WRAPPER`, capture rustc's `-Zprint-type-sizes`
//! output; find a crate's source files) -> [`parse`] (rustc's output and the sources into the
//! [`model`]) -> [`analyse`] (why each byte is there, which `.await` holds it) -> [`render`]
//! (table, JSON, editor messages, HTML, snapshots). [`cmd`] and [`cli`] drive them.
//! `tests/layers.rs` checks that no module imports a later stage.
//! The JSON schema and exit codes are documented in the README next to this crate's Cargo.toml.

pub mod analyse;
pub mod cli;
pub mod cmd;
pub mod error;
pub mod model;
pub mod names;
pub mod parse;
pub mod read;
pub mod render;
