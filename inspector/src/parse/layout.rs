//! Streaming parser for rustc's `-Zprint-type-sizes` output.
//!
//! The parser is fed one line at a time and keeps only the type being parsed, so memory stays flat
//! however large the output. Non-future types are skipped without being stored. Lines that do not
//! start with `print-type-size` (cargo or compiler chatter) are ignored.
//!
//! Both spellings of coroutine names are understood (see [`FormatVersion`]):
//! - 2024 and later: `{async fn body of foo()}`, `{async block@src/lib.rs:3:5: 3:15}`,
//!   `{async closure body@src/lib.rs:1:2: 3:4}`;
//! - before: `[async fn body@src/lib.rs:3:17: 5:2]`, `[async block@..]`, `[async closure body@..]`,
//!   with `field` as well as `upvar`/`local` kinds and no field types.

use std::io::BufRead;

use crate::model::{Field, FormatVersion, Future, FutureKind, Gap, RawLayout, Variant};
use crate::parse::desugared::{self, Sizes};

const PREFIX: &str = "print-type-size ";

/// Classifies a rustc type name; `None` when it is not a future body.
pub fn classify(name: &str) -> Option<(FutureKind, FormatVersion, Option<String>, Option<String>)> {
    if let Some(rest) = name.strip_prefix("{async fn body of ") {
        let inner = rest.strip_suffix('}')?;
        let path = inner.strip_suffix("()").unwrap_or(inner);
        return Some((FutureKind::AsyncFn, FormatVersion::Braces, Some(path.to_string()), None));
    }
    let (inner, fmt) = if let Some(i) = name.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        (i, FormatVersion::Braces)
    } else if let Some(i) = name.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        (i, FormatVersion::Brackets)
    } else {
        return None;
    };
    let (head, loc) = inner.split_once('@')?;
    let kind = match head {
        "async fn body" => FutureKind::AsyncFn,
        "async block" | "static async block" => FutureKind::AsyncBlock,
        "async closure body" => FutureKind::AsyncClosure,
        _ => return None,
    };
    Some((kind, fmt, None, Some(loc.to_string())))
}

/// Parses `NAME`: N bytes, alignment: N bytes` (the part after `type: `).
fn parse_type_header(rest: &str) -> Option<(&str, u64, u64)> {
    let rest = rest.strip_prefix('`')?;
    let idx = rest.rfind("`: ")?;
    let name = &rest[..idx];
    let tail = &rest[idx + 3..];
    let (size, tail) = tail.split_once(" bytes, alignment: ")?;
    let align = tail.strip_suffix(" bytes")?;
    Some((name, size.trim().parse().ok()?, align.trim().parse().ok()?))
}

fn bytes(s: &str) -> Option<u64> {
    s.trim().strip_suffix(" bytes")?.trim().parse().ok()
}

struct Pending {
    fut: Future,
    /// A `#[unasync::desugar]` type (`Machine`, `__Frame`, `__State`), kept as a [`RawLayout`].
    raw: bool,
    /// Next free offset in the current variant (rustc's `min_offset`).
    cursor: u64,
    /// Padding announced before the next field.
    pad: u64,
}

/// Line-by-line parser. Call [`Parser::line`] for each line and [`Parser::finish`] at the end.
#[derive(Default)]
pub struct Parser {
    cur: Option<Pending>,
    lines: u64,
    /// Layouts of the types `#[unasync::desugar]` generates, collected as they end (few and small).
    raw: Vec<RawLayout>,
    /// Size of every type printed from the first desugared type on (rustc prints larger types
    /// first, so these include every type of their fields; the generic
    /// arguments of the generated types name their fields' types; see [`desugared`]).
    sizes: Sizes,
}

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of lines seen.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The desugared types' layouts seen so far, and the sizes of the types printed
    /// (see [`desugared`]).
    pub fn take_raw(&mut self) -> (Vec<RawLayout>, Sizes) {
        (std::mem::take(&mut self.raw), std::mem::take(&mut self.sizes))
    }

    /// Feeds one line; returns a future whose layout ended just before this line.
    pub fn line(&mut self, line: &str) -> Option<Future> {
        self.lines += 1;
        let line = line.trim_end_matches(['\n', '\r']);
        let body = line.strip_prefix(PREFIX)?;
        let trimmed = body.trim_start();
        if let Some(rest) = trimmed.strip_prefix("type: ") {
            let done = self.finish();
            let Some((name, size, align)) = parse_type_header(rest) else { return done };
            let classified = classify(name);
            let raw = classified.is_none() && desugared::is_desugared_type(name);
            if raw || !self.raw.is_empty() {
                self.sizes.insert(name.to_string(), size);
            }
            if classified.is_some() || raw {
                let (kind, format, path, location) =
                    classified.unwrap_or((FutureKind::Desugared, FormatVersion::Braces, None, None));
                self.cur = Some(Pending {
                    raw,
                    fut: Future {
                        ty: name.to_string(),
                        kind,
                        path,
                        location,
                        size,
                        align,
                        discriminant: 0,
                        discriminant_offset: None,
                        end_padding: 0,
                        variants: Vec::new(),
                        format,
                        krate: None,
                        source: None,
                        stable_name: None,
                        wrapped_by: None,
                        analysis: None,
                    },
                    cursor: 0,
                    pad: 0,
                });
            }
            return done;
        }
        let p = self.cur.as_mut()?;
        if let Some(rest) = trimmed.strip_prefix("discriminant: ") {
            p.fut.discriminant = bytes(rest).unwrap_or(0);
        } else if let Some(rest) = trimmed.strip_prefix("variant `") {
            let (name, size) = rest.split_once("`: ")?;
            p.fut.variants.push(Variant { name: name.to_string(), size: bytes(size).unwrap_or(0), ..Variant::default() });
            p.cursor = p.fut.discriminant;
            p.pad = 0;
        } else if let Some(rest) = trimmed.strip_prefix("end padding: ") {
            p.fut.end_padding = bytes(rest).unwrap_or(0);
        } else if let Some(rest) = trimmed.strip_prefix("padding: ") {
            let n = bytes(rest).unwrap_or(0);
            p.pad += n;
            if let Some(v) = p.fut.variants.last_mut() {
                v.padding += n;
                v.gaps.push(Gap { offset: p.cursor, size: n });
            }
        } else if let Some((kind, rest)) = trimmed.split_once(" `") {
            if !matches!(kind, "upvar" | "local" | "field") {
                return None;
            }
            let (name, rest) = rest.split_once("`: ")?;
            let name = name.strip_prefix('.').unwrap_or(name);
            let (attrs, ty) = match rest.split_once(", type: ") {
                Some((a, t)) => (a, Some(t.to_string())),
                None => (rest, None),
            };
            let mut size = 0;
            let mut offset = None;
            let mut align = None;
            for (i, part) in attrs.split(", ").enumerate() {
                if i == 0 {
                    size = bytes(part).unwrap_or(0);
                } else if let Some(o) = part.strip_prefix("offset: ") {
                    offset = bytes(o);
                } else if let Some(a) = part.strip_prefix("alignment: ") {
                    align = bytes(a);
                }
            }
            let offset = offset.unwrap_or(p.cursor + p.pad);
            p.pad = 0;
            p.cursor = offset + size;
            if p.fut.variants.is_empty() {
                // A struct-like layout; coroutines always print variants, but be lenient.
                p.fut.variants.push(Variant::default());
            }
            let v = p.fut.variants.last_mut().expect("pushed above");
            v.fields.push(Field { name: name.to_string(), kind: kind.to_string(), size, offset, align, ty, source: None });
        }
        None
    }

    /// Ends the stream, returning the future still being parsed, if any.
    pub fn finish(&mut self) -> Option<Future> {
        let p = self.cur.take()?;
        if p.raw {
            let f = p.fut;
            self.raw.push(RawLayout {
                name: f.ty,
                size: f.size,
                align: f.align,
                discriminant: f.discriminant,
                end_padding: f.end_padding,
                variants: f.variants,
            });
            return None;
        }
        Some(p.fut)
    }
}

/// Parses a whole stream, calling `sink` for each future as soon as its layout is complete.
pub fn parse_reader<R: BufRead>(r: R, sink: impl FnMut(Future)) -> std::io::Result<u64> {
    parse_reader_raw(r, sink, |_, _| {})
}

/// [`parse_reader`], also handing over the layouts of `#[unasync::desugar]` types (`Machine`,
/// `__Frame`, `__State`) to `raw_sink` at the end, with the sizes of the types printed.
pub fn parse_reader_raw<R: BufRead>(
    mut r: R,
    mut sink: impl FnMut(Future),
    raw_sink: impl FnOnce(Vec<RawLayout>, Sizes),
) -> std::io::Result<u64> {
    let mut parser = Parser::new();
    let mut buf = String::new();
    loop {
        buf.clear();
        if r.read_line(&mut buf)? == 0 {
            break;
        }
        if let Some(f) = parser.line(&buf) {
            sink(f);
        }
    }
    if let Some(f) = parser.finish() {
        sink(f);
    }
    let lines = parser.lines();
    let (raw, sizes) = parser.take_raw();
    raw_sink(raw, sizes);
    Ok(lines)
}

/// Convenience: every future in `text`, desugared ones included (assembled from their
/// `Machine`/`__Frame`/`__State` layouts), minus the never-run type-check blocks of desugared fns.
pub fn parse_str(text: &str) -> Vec<Future> {
    let mut out = Vec::new();
    let mut side = (Vec::new(), Sizes::new());
    parse_reader_raw(text.as_bytes(), |f| out.push(f), |r, s| side = (r, s)).expect("reading from memory");
    desugared::merge(&mut out, &side.0, &side.1);
    out
}
