//! The serde data model shared by the parser, the analysis and the renderers.
//!
//! The JSON produced by `cargo unasync inspect --format json` is exactly [`Report`] serialized;
//! see the crate README for the schema and its stability promise.

use serde::{Deserialize, Serialize};

/// Version of the JSON schema. Bumped only on incompatible changes; fields may be added.
pub const SCHEMA_VERSION: u32 = 1;

/// Which way rustc spelled coroutine type names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormatVersion {
    /// Before 2024: `[async fn body@src/lib.rs:3:17: 5:2]`, fields may be `field`, no field types.
    Brackets,
    /// 2024 and later: `{async fn body of foo()}`, `{async block@src/lib.rs:3:5: 3:15}`.
    Braces,
}

/// What produced the future.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FutureKind {
    AsyncFn,
    AsyncBlock,
    AsyncClosure,
    /// An `async fn` lowered by `#[unasync::desugar]`: the `Machine<__Frame<..>, {closure}>` it
    /// returns, assembled from the `Machine`, `__Frame` and `__State` layouts (see
    /// [`crate::desugared`]).
    Desugared,
}

/// A field rustc laid out inside one state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Name without rustc's leading dot: `x`, `__awaitee`, `.coroutine_field2` (unnamed temporary).
    pub name: String,
    /// `upvar` (captured argument or variable), `local` (saved across an await), `field`.
    pub kind: String,
    pub size: u64,
    /// Byte offset from the start of the future. Reconstructed: rustc prints explicit offsets only
    /// where they go backwards, the rest follow from the sizes and padding lines.
    pub offset: u64,
    /// Alignment when rustc printed it (it prints it only where it caused padding).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub align: Option<u64>,
    /// rustc's type name, when printed (for `__awaitee` and unnamed temporaries, 2024+).
    #[serde(rename = "type")]
    pub ty: Option<String>,
}

/// Bytes of a state not used by its own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub offset: u64,
    pub size: u64,
}

/// One state of the coroutine: `Unresumed`, `Suspend0`.., `Returned`, `Panicked`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub name: String,
    /// As rustc prints it: the state's size without the discriminant.
    pub size: u64,
    pub fields: Vec<Field>,
    /// Sum of rustc's `padding` lines in this state: alignment, the discriminant, and bytes other
    /// states use.
    pub padding: u64,
    pub gaps: Vec<Gap>,
}

impl Variant {
    /// One past the last byte this state's fields use.
    pub fn end(&self) -> u64 {
        self.fields.iter().map(|f| f.offset + f.size).max().unwrap_or(0)
    }
}

/// A coroutine layout printed by rustc.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Future {
    /// rustc's own type name, e.g. `{async fn body of connection::Connection::read_frame()}`.
    #[serde(rename = "type")]
    pub ty: String,
    pub kind: FutureKind,
    /// For async fns (2024+ format): the path as rustc printed it, generics included,
    /// e.g. `connection::Connection::read_frame` or `generic<u8>`.
    pub path: Option<String>,
    /// For blocks, closures and old-format names: `src/lib.rs:63:5: 63:15`.
    pub location: Option<String>,
    pub size: u64,
    pub align: u64,
    /// Size of the discriminant (the state tag) in bytes.
    pub discriminant: u64,
    /// Offset of the discriminant when it is not at the start (desugared futures: the `__State`
    /// tag sits wherever rustc put the `__state` field in the frame).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discriminant_offset: Option<u64>,
    pub end_padding: u64,
    pub variants: Vec<Variant>,
    pub format: FormatVersion,
    /// The crate whose compilation printed this layout (`--crate-name`), when known: a layout
    /// captured by a build (`mini_redis`, `mini_redis_cli`); `None` for `--input` files.
    #[serde(rename = "crate", default, skip_serializing_if = "Option::is_none")]
    pub krate: Option<String>,
    /// Where each byte comes from; filled in by [`crate::analysis`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<crate::analysis::Analysis>,
}

/// A struct or enum layout as rustc printed it, for the types `#[unasync::desugar]` generates.
/// Structs have one variant with an empty name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawLayout {
    pub name: String,
    pub size: u64,
    pub align: u64,
    pub discriminant: u64,
    pub end_padding: u64,
    pub variants: Vec<Variant>,
}

/// What `inspect --format json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub futures: Vec<Future>,
}
