//! The serde data model every stage shares: what [`crate::parse`] makes of rustc's output,
//! what [`crate::analyse`] adds, what [`crate::render`] prints. Data only: this module uses no
//! other module of the crate.
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
    /// rustc's type name, when printed (for `__awaitee` and unnamed temporaries, 2024+); for a
    /// desugared future's `__awaitee`, the future its `.await` calls when the source names it.
    #[serde(rename = "type")]
    pub ty: Option<String>,
    /// Where the value comes from in the source: the binding (`let x`, a pattern, an argument)
    /// for named locals and upvars, the `.await` for `__awaitee`. Filled in by
    /// [`crate::analyse::source`]; absent when the sources were not read or do not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLoc>,
}

/// A place in the crate's sources. `file` is as rustc names it (relative to the package for the
/// crate's own files, absolute for dependencies); `line` and `column` are 1-based, the column in
/// characters, as in rustc's messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourceLoc {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for SourceLoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Bytes of a state not used by its own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub offset: u64,
    pub size: u64,
}

/// One state of the coroutine: `Unresumed`, `Suspend0`.., `Returned`, `Panicked`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub name: String,
    /// As rustc prints it: the state's size without the discriminant.
    pub size: u64,
    pub fields: Vec<Field>,
    /// Sum of rustc's `padding` lines in this state: alignment, the discriminant, and bytes other
    /// states use.
    pub padding: u64,
    pub gaps: Vec<Gap>,
    /// Where the coroutine is in this state: the `.await` for `SuspendK` (the K-th suspension
    /// point in rustc's numbering), the body's start for `Unresumed`, its end for `Returned`
    /// and `Panicked`. Filled in by [`crate::analyse::source`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLoc>,
    /// The awaited expression as written (`self.connection.read_frame()`), for `SuspendK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaits: Option<String>,
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
    /// The body in the source: the fn's signature or the block's first token, when found by
    /// [`crate::analyse::source`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLoc>,
    /// A name that does not move when unrelated code moves: the fn path for fns
    /// (`server::Handler::run`), `FN::{async block#N}` for the N-th async block of a fn (0-based,
    /// in source order), `FN::{#[ATTR] body}` for a fn body an attribute macro turned into a
    /// block (`Mem::get::{#[async_trait] body}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable_name: Option<String>,
    /// The attribute macro that moved a fn's body into this async block (`async_trait`,
    /// `instrument`), when the sources say so; the block is then named after the fn
    /// (`Mem::get::{#[async_trait] body}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapped_by: Option<String>,
    /// Where each byte comes from; filled in by [`crate::analyse`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<Analysis>,
}

/// Bytes of the largest state by category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bytes {
    /// `awaitee`, `args_twice`, `upvars`, `locals`, `padding`, `discriminant`, `end_padding`.
    pub what: String,
    pub bytes: u64,
}

/// An argument rustc keeps twice: the captured `upvar` and the moved `local` copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicatedArg {
    pub name: String,
    pub size: u64,
    /// States holding both the upvar and the local copy.
    pub variants: Vec<String>,
}

/// One awaited future in the chain of largest awaitees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLink {
    /// The future holding the awaitee.
    pub future: String,
    pub variant: String,
    /// The awaitee's type (as printed inside `future`); `null` when rustc printed none.
    #[serde(rename = "type")]
    pub ty: Option<String>,
    pub size: u64,
    /// The layout entry the awaitee resolved to, when it is a future in the report.
    pub resolved: Option<String>,
}

/// Where one `Box::pin` shrinks the outermost future the most.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoxPin {
    /// The future whose source should `Box::pin` the await.
    pub in_future: String,
    pub variant: String,
    /// The awaited future's type to box.
    #[serde(rename = "type")]
    pub ty: Option<String>,
    pub awaitee_size: u64,
    /// Estimated size of the outermost future afterwards, in bytes.
    pub new_size: u64,
    pub saved: u64,
    /// The `.await` to change, when the sources were read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLoc>,
}

/// A way from one state to the next: the coroutine suspends at `to`'s `.await` (or returns)
/// after being resumed in `from`. Derived from the source's control flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateEdge {
    pub from: String,
    pub to: String,
}

/// What [`crate::analyse`] finds out about one future.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analysis {
    /// The state that determines the size.
    pub largest_variant: Option<String>,
    /// Bytes of the largest state by category; sums to `size`.
    pub breakdown: Vec<Bytes>,
    pub duplicated_args: Vec<DuplicatedArg>,
    /// Largest awaited future first, then the largest awaitee inside it, and so on.
    pub awaitee_chain: Vec<ChainLink>,
    /// `bool` temporaries saved across awaits (`.coroutine_fieldN: bool`): almost always drop flags.
    pub drop_flags: u64,
    pub box_pin: Option<BoxPin>,
    /// The state diagram, when the sources were read; empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub state_edges: Vec<StateEdge>,
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
