//! rustc's errors in the desugared copy, from cargo's JSON messages: which function each one
//! keeps native, and what to tell the user about it.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::cmd::compare::Candidate;

/// A place in a source file: the file as rustc names it, and a 1-based line.
pub type Place = (String, usize);

/// One error of a failed build of the copy.
#[derive(Debug, Clone)]
pub struct CompileError {
    /// Where the `#[..desugar]` attributes were whose expansions the error's spans (or its
    /// notes' spans) come from, in the order met.
    pub expansions: Vec<Place>,
    /// Every span, to map to the function holding it: primary spans first, then the others,
    /// each followed by the macro expansions it comes from, then the notes' spans.
    pub spans: Vec<Place>,
    /// The message's first line and where rustc reports it; for a lint made an error, what made
    /// it one first (the message alone, "usage of an `unsafe` block" at a line without one,
    /// hides it).
    pub text: String,
}

fn place(s: &Value) -> Option<Place> {
    Some((s["file_name"].as_str()?.to_string(), s["line_start"].as_u64()? as usize))
}

/// Whether a macro expansion is `#[unasync::desugar]` (however the path is written).
fn is_desugar(expansion: &Value) -> bool {
    expansion["macro_decl_name"].as_str().is_some_and(|n| n.starts_with("#[") && n.trim_end_matches(']').ends_with("desugar"))
}

/// The span's place, then those of the expansions it comes from; the places of `#[..desugar]`
/// attributes met on the way go to `expansions`.
fn walk(span: &Value, spans: &mut Vec<Place>, expansions: &mut Vec<Place>) {
    let mut s = span;
    loop {
        spans.extend(place(s));
        let e = &s["expansion"];
        if !e["span"].is_object() {
            break;
        }
        if is_desugar(e) {
            expansions.extend(place(&e["span"]));
        }
        s = &e["span"];
    }
}

/// `#![forbid(unsafe_code)]` at src/lib.rs:3: what set a lint's level, from rustc's note "the
/// lint level is defined here" (rustc adds it to the first error of each lint only).
fn lint_level(m: &Value) -> Option<String> {
    let note = m["children"].as_array()?.iter().find(|c| c["message"] == "the lint level is defined here")?;
    let s = note["spans"].as_array()?.first()?;
    let (file, line) = place(s)?;
    let attr = s["text"][0]["text"].as_str().unwrap_or("").trim();
    Some(format!("`{attr}` at {file}:{line}"))
}

/// A lint's name (`unsafe_code`), as opposed to an error code (`E0277`).
fn lint_name(m: &Value) -> Option<&str> {
    let code = m["code"]["code"].as_str()?;
    let is_error_code = code.len() == 5 && code.starts_with('E') && code[1..].bytes().all(|b| b.is_ascii_digit());
    (!is_error_code).then_some(code)
}

/// Every error of a failed build, from cargo's JSON messages, in order.
pub fn errors(messages: &str) -> Vec<CompileError> {
    let mut out = Vec::new();
    let mut levels: HashMap<String, String> = HashMap::new();
    for line in messages.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else { continue };
        if v["reason"] != "compiler-message" || v["message"]["level"] != "error" {
            continue;
        }
        let m = &v["message"];
        let (mut spans, mut expansions) = (Vec::new(), Vec::new());
        let all: Vec<&Value> = m["spans"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
        for s in all.iter().filter(|s| s["is_primary"] == true).chain(all.iter().filter(|s| s["is_primary"] != true)) {
            walk(s, &mut spans, &mut expansions);
        }
        for c in m["children"].as_array().into_iter().flatten() {
            for s in c["spans"].as_array().into_iter().flatten() {
                walk(s, &mut spans, &mut expansions);
            }
        }
        let first = m["message"].as_str().unwrap_or("?").lines().next().unwrap_or("?");
        let at = spans.first().map(|(f, l)| format!(" ({f}:{l})")).unwrap_or_default();
        let mut text = format!("{first}{at}");
        if let Some(lint) = lint_name(m) {
            if let Some(level) = lint_level(m) {
                levels.insert(lint.to_string(), level);
            }
            let set_by = levels.get(lint).cloned().unwrap_or_else(|| "the build's flags".to_string());
            let cause = match lint {
                "unsafe_code" => format!("the expansion of #[unasync::desugar] uses `unsafe`, which {set_by} forbids"),
                _ => format!("lint `{lint}` is an error by {set_by}"),
            };
            text = format!("{cause}: {text}");
        }
        out.push(CompileError { expansions, spans, text });
    }
    out
}

/// The candidate to keep native for `e`, among those `open(i)` allows: the one whose
/// `#[..desugar]` expansion the error comes from (rustc reports a callee's future that is not
/// `Send` at the caller, and names the callee's expansion in a note), else the first one a span
/// lies in, primary spans first. `root` is the copy's directory (rustc names files under it
/// relative to it or absolute).
pub fn blame(e: &CompileError, cands: &[Candidate], root: &Path, open: impl Fn(usize) -> bool) -> Option<usize> {
    let holding = |(file, line): &Place| {
        let f = Path::new(file);
        let f = f.strip_prefix(root).unwrap_or(f);
        cands.iter().enumerate().position(|(i, c)| open(i) && c.file == f && (c.first_line..=c.last_line).contains(line))
    };
    e.expansions.iter().find_map(holding).or_else(|| e.spans.iter().find_map(holding))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::compare::candidates;

    /// The candidates of a test crate's `src/lib.rs`, as `compare` finds them.
    fn cands(krate: &str) -> Vec<Candidate> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/crates").join(krate);
        candidates(Path::new("src/lib.rs"), &std::fs::read_to_string(dir.join("src/lib.rs")).unwrap())
    }

    fn sample(name: &str) -> String {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples").join(name)).unwrap()
    }

    #[test]
    fn an_error_reported_in_the_caller_keeps_the_callee_native() {
        // tests/crates/compare-caller with both fns desugared: `raw`'s future is not `Send`,
        // rustc reports it in `caller`, at `assert_send(raw(1))`.
        let cands = cands("compare-caller");
        let errs = errors(&sample("cargo-1.95-send-error-in-caller.jsonl"));
        assert_eq!(errs.len(), 1, "{errs:#?}");
        let caller_line = cands.iter().find(|c| c.path == "caller").unwrap();
        assert!(errs[0].text.starts_with("`*const u32` cannot be sent between threads safely (src/lib.rs:"), "{}", errs[0].text);
        let (_, reported) = &errs[0].spans[0];
        assert!((caller_line.first_line..=caller_line.last_line).contains(reported), "rustc reports it in the caller");
        let i = blame(&errs[0], &cands, Path::new("/nowhere"), |_| true).unwrap();
        assert_eq!(cands[i].path, "raw");
        // Once `raw` is native, nothing else is blamed for it.
        assert_eq!(blame(&errs[0], &cands, Path::new("/nowhere"), |j| j != i).map(|j| cands[j].path.as_str()), Some("caller"));
    }

    #[test]
    fn a_forbidden_lint_says_what_forbids_it() {
        // tests/crates/compare-forbid with both fns desugared under `#![forbid(unsafe_code)]`:
        // rustc notes where the lint level is set on the first error only.
        let errs = errors(&sample("cargo-1.95-forbid-unsafe-code.jsonl"));
        assert_eq!(errs.len(), 3);
        for e in &errs {
            assert!(
                e.text.starts_with("the expansion of #[unasync::desugar] uses `unsafe`, which `#![forbid(unsafe_code)]` at src/lib.rs:3 forbids: usage of an `unsafe` block (src/lib.rs:"),
                "{}",
                e.text
            );
        }
        let cands = cands("compare-forbid");
        let blamed: Vec<&str> = errs.iter().map(|e| cands[blame(e, &cands, Path::new("/x"), |_| true).unwrap()].path.as_str()).collect();
        assert_eq!(blamed, ["leaf", "twice", "twice"]);
    }
}
