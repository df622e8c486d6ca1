//! Snapshot files of a user's futures, in insta's `.snap` format: one file per future, named
//! and written so that unrelated edits change nothing. Names come from the stable name (fn
//! path, `FN::{async block#N}`), lines are relative to the body's first line, spans inside type
//! names lose their line and column, and the names `#[unasync::desugar]` gives its types lose
//! their hash. A desugared fn's snapshot ends with its expansion.

use std::fmt::Write as _;

use crate::model::{Future, FutureKind};
use crate::render::{display_name, type_or_unknown};

/// `{async block@src/lib.rs:72:5: 72:15}` -> `{async block@src/lib.rs}`: a span's numbers
/// move when unrelated code does.
pub fn strip_spans(ty: &str) -> String {
    let mut out = String::with_capacity(ty.len());
    let mut rest = ty;
    while let Some(i) = rest.find(".rs:") {
        out.push_str(&rest[..i + 3]);
        let tail = &rest[i + 3..];
        // `:L:C: L:C` (or `:L:C`): digits, colons and one space.
        let end = tail.find(|c: char| !(c.is_ascii_digit() || c == ':' || c == ' ')).unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `__State_1f2e3d4c` -> `__State_<hash>` (likewise `__Frame_`): the macro names its types
/// from a hash of the signature, which has nothing to do with the layout.
pub fn strip_hashes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = ["__State_", "__Frame_"].iter().filter_map(|p| rest.find(p).map(|i| i + p.len())).min() {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        let ends = !rest[hex..].starts_with(|c: char| c.is_alphanumeric() || c == '_');
        if hex == 8 && ends {
            out.push_str("<hash>");
            rest = &rest[8..];
        }
    }
    out.push_str(rest);
    out
}

/// The file name for a future (without `.snap`): crate and stable name, `::` as `__`, other
/// characters that are not alphanumeric as `_`.
pub fn file_stem(f: &Future) -> String {
    let name = f.stable_name.clone().unwrap_or_else(|| strip_spans(&display_name(f)));
    let raw = format!("{}__{}", f.krate.as_deref().unwrap_or("crate"), name.replace("::", "__"));
    let mut out = String::new();
    for c in raw.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' };
        if !(c == '_' && out.ends_with("__")) {
            out.push(c);
        }
    }
    out.trim_end_matches('_').to_string()
}

fn rel(line: usize, base: Option<usize>) -> String {
    match base {
        Some(b) if line >= b => format!("+{}", line - b),
        _ => "?".to_string(),
    }
}

/// The snapshot's body: size, states with their `.await`, fields with their bindings.
pub fn body(f: &Future) -> String {
    let mut s = String::new();
    let base = f.source.as_ref().map(|s| s.line);
    let kind = match f.kind {
        FutureKind::AsyncFn => "async fn",
        FutureKind::AsyncBlock => "async block",
        FutureKind::AsyncClosure => "async closure",
        FutureKind::Desugared => "#[unasync::desugar] fn",
    };
    let _ = writeln!(s, "{kind} {}", f.stable_name.clone().unwrap_or_else(|| strip_spans(&f.ty)));
    if let Some(src) = &f.source {
        let _ = writeln!(s, "in {} (lines below are relative to its first line)", src.file);
    }
    let _ = writeln!(s, "type: {}", strip_spans(&f.ty));
    let _ = writeln!(s, "size: {} bytes, align {}, state tag {} byte(s)", f.size, f.align, f.discriminant);
    if let Some(a) = &f.analysis {
        let why: Vec<String> = a.breakdown.iter().map(|b| format!("{} {}", b.what.replace('_', " "), b.bytes)).collect();
        let _ = writeln!(s, "largest state: {} ({})", a.largest_variant.as_deref().unwrap_or("-"), why.join(", "));
    }
    for v in &f.variants {
        let at = match (&v.source, &v.awaits) {
            (Some(src), Some(a)) => format!("  at {} {a}", rel(src.line, base)),
            (Some(src), None) => format!("  at {}", rel(src.line, base)),
            _ => String::new(),
        };
        let _ = writeln!(s, "{} {} bytes{at}", v.name, v.size);
        for x in &v.fields {
            let line = x.source.as_ref().map(|src| format!(" ({})", rel(src.line, base))).unwrap_or_default();
            let ty = match (&x.ty, x.name.as_str()) {
                (Some(t), _) => format!(" {}", strip_spans(t)),
                (None, "__awaitee") => format!(" {}", type_or_unknown(None)),
                _ => String::new(),
            };
            let _ = writeln!(s, "  {:>6} {:>6}  {} {}{line}{ty}", x.offset, x.size, x.name, x.kind);
        }
    }
    s
}

/// A whole `.snap` file (insta's format: a YAML header between `---` lines, then the body), with
/// the fn's expansion (pretty-printed) after the layout for a desugared fn. The header has what
/// insta 1.49 writes for a text snapshot (`cargo insta review` rewrites it so on accepting); the
/// body ends with one newline, as insta saves it.
pub fn file(f: &Future, expression: &str, expansion: Option<&str>) -> String {
    let mut body = body(f);
    if let Some(code) = expansion {
        let _ = write!(body, "\nexpansion (rustc -Zunpretty=expanded, pretty-printed):\n{code}");
    }
    let body = strip_hashes(&body);
    // A YAML double-quoted string.
    let expression = expression.replace('\\', "\\\\").replace('"', "\\\"");
    format!("---\nsource: cargo-unasync snapshot\nexpression: \"{expression}\"\n---\n{}\n", body.trim_end())
}

/// The body of an existing `.snap` file (after its header), to compare with a new one.
pub fn stored_body(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    Some(&rest[end + 5..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_go_names_stay() {
        assert_eq!(strip_spans("Instrumented<{async block@src/a.rs:72:5: 72:15}>"), "Instrumented<{async block@src/a.rs}>");
        assert_eq!(strip_spans("{async fn body of a::b()}"), "{async fn body of a::b()}");
        assert_eq!(stored_body("---\nsource: x\n---\nbody\n"), Some("body\n"));
        assert_eq!(
            strip_hashes("Machine<f::__Frame_0a1B2c3d<u8, f::__State_0a1b2c3d>> enum __State_0a1b2c3d<T> __State_0a1b2c3dx __Frame_12"),
            "Machine<f::__Frame_<hash><u8, f::__State_<hash>>> enum __State_<hash><T> __State_0a1b2c3dx __Frame_12"
        );
    }
}
