//! `cargo unasync`: inspect the futures rustc builds for `async fn`s, async blocks and async
//! closures, expand `#[unasync::desugar]` functions, and compare both.
//!
//! The pipeline is read -> parse -> select -> render over the serde model in [`model`]:
//! [`cargo_run`] builds with the binary itself as `RUSTC_WRAPPER`, [`parser`] streams rustc's
//! `-Zprint-type-sizes` output, [`analysis`] explains each byte, [`render`] prints.
//! The JSON schema and exit codes are documented in the README next to this crate's Cargo.toml.

pub mod analysis;
pub mod cargo_run;
pub mod cli;
pub mod compare;
pub mod desugared;
pub mod error;
pub mod expand;
pub mod inspect;
pub mod model;
pub mod parser;
pub mod render;
