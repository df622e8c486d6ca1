//! `--message-format json`: cargo's JSON messages (what `cargo check --message-format json`
//! prints), so that an editor's rust-analyzer, running this as its check command, shows future
//! sizes where the code is: a note at each async fn and block with its total size and largest
//! state, a warning at each `.await` whose state is over the threshold, with the "why" and the
//! `Box::pin` estimate as children.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::model::{Future, SourceLoc};
use crate::render::short_name;

/// What a message needs to know about the crate a future belongs to, as cargo names it.
pub struct Origin {
    pub package_id: String,
    pub manifest_path: String,
    /// cargo's target object (`cargo_metadata::Target` serialized).
    pub target: Value,
}

/// The text of the crate's files, by the name rustc uses in spans.
pub type Texts = HashMap<String, String>;

/// A span over the source line at `at`, from its column to the end of the token or line.
fn span(at: &SourceLoc, texts: &Texts, label: Option<String>) -> Value {
    let text = texts.get(&at.file);
    let line = text.and_then(|t| t.lines().nth(at.line.saturating_sub(1))).unwrap_or("");
    let line_start: usize = text.map(|t| t.split_inclusive('\n').take(at.line.saturating_sub(1)).map(str::len).sum()).unwrap_or(0);
    let col0 = at.column.saturating_sub(1);
    let start_byte: usize = line.chars().take(col0).map(char::len_utf8).sum();
    // Up to the end of the line's first statement-ish chunk: the line's end, without `;`.
    let end_char = line.chars().count().max(col0 + 1);
    let end_byte: usize = line.len().max(start_byte + 1);
    json!({
        "file_name": at.file,
        "byte_start": line_start + start_byte,
        "byte_end": line_start + end_byte,
        "line_start": at.line,
        "line_end": at.line,
        "column_start": at.column,
        "column_end": end_char + 1,
        "is_primary": true,
        "text": [{"text": line, "highlight_start": at.column, "highlight_end": end_char + 1}],
        "label": label,
        "suggested_replacement": null,
        "suggestion_applicability": null,
        "expansion": null,
    })
}

fn child(level: &str, message: String) -> Value {
    json!({"message": message, "code": null, "level": level, "spans": [], "children": [], "rendered": null})
}

fn diagnostic(level: &str, message: String, at: &SourceLoc, texts: &Texts, children: Vec<Value>) -> Value {
    let mut rendered = format!("{level}: {message}\n  --> {}:{}:{}\n", at.file, at.line, at.column);
    for c in &children {
        rendered.push_str(&format!("  = {}: {}\n", c["level"].as_str().unwrap_or(""), c["message"].as_str().unwrap_or("")));
    }
    json!({
        "$message_type": "diagnostic",
        "message": message,
        "code": {"code": "unasync::future_size", "explanation": null},
        "level": level,
        "spans": [span(at, texts, None)],
        "children": children,
        "rendered": rendered,
    })
}

fn wrap(origin: &Origin, message: Value) -> String {
    json!({
        "reason": "compiler-message",
        "package_id": origin.package_id,
        "manifest_path": origin.manifest_path,
        "target": origin.target,
        "message": message,
    })
    .to_string()
}

/// One JSON line per message for every future with a source location and a known crate:
/// a note at its start, a warning at each `.await` whose state (with the tag) is larger than
/// `warn_above` bytes.
pub fn messages(futures: &[Future], origins: &HashMap<String, Origin>, texts: &Texts, warn_above: u64) -> Vec<String> {
    let mut out = Vec::new();
    for f in futures {
        let (Some(at), Some(origin)) = (&f.source, f.krate.as_ref().and_then(|k| origins.get(k))) else { continue };
        let name = f.stable_name.clone().unwrap_or_else(|| short_name(f));
        let a = f.analysis.as_ref();
        let largest = a.and_then(|a| a.largest_variant.as_deref()).and_then(|n| f.variants.iter().find(|v| v.name == n));
        let where_largest = largest
            .map(|v| match &v.source {
                Some(s) => format!(", largest state {} ({} bytes) at line {}", v.name, v.size + f.discriminant, s.line),
                None => format!(", largest state {} ({} bytes)", v.name, v.size + f.discriminant),
            })
            .unwrap_or_default();
        let note = format!("future of `{name}` is {} bytes{where_largest}", f.size);
        out.push(wrap(origin, diagnostic("note", note, at, texts, Vec::new())));
        let why: Vec<String> = a.map(|a| a.breakdown.iter().map(|b| format!("{} {}", b.what.replace('_', " "), b.bytes)).collect()).unwrap_or_default();
        for v in &f.variants {
            let (Some(vat), Some(_)) = (&v.source, &v.awaits) else { continue };
            let bytes = v.size + f.discriminant;
            if bytes <= warn_above {
                continue;
            }
            let held: Vec<String> = v.fields.iter().filter(|x| x.size > 0).map(|x| format!("`{}` {}", x.name, x.size)).collect();
            let mut children = vec![child("note", format!("state {} holds {}", v.name, held.join(", ")))];
            if largest.is_some_and(|l| l.name == v.name) && !why.is_empty() {
                children.push(child("note", format!("why {} bytes: {}", f.size, why.join(", "))));
            }
            if let Some(b) = a.and_then(|a| a.box_pin.as_ref()).filter(|b| b.in_future == f.ty && b.variant == v.name) {
                children.push(child(
                    "help",
                    format!("`Box::pin` this future: {} -> ~{} bytes (saves ~{})", f.size, b.new_size, b.saved),
                ));
            }
            let msg = format!("this `.await` keeps {bytes} bytes in the future of `{name}` ({}, over {warn_above})", v.name);
            out.push(wrap(origin, diagnostic("warning", msg, vat, texts, children)));
        }
    }
    out
}
