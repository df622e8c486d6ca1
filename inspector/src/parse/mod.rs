//! Stage 2, parse: rustc's `-Zprint-type-sizes` output into [`crate::model`] futures
//! ([`layout`] line by line, [`desugared`] for `#[unasync::desugar]` types, [`captures`] per
//! capture file).

pub mod captures;
pub mod desugared;
pub mod layout;
pub mod source;
