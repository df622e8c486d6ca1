//! rustc's errors, from cargo's JSON messages, as spans to blame a function for.

/// Every error of a failed build, from cargo's JSON messages, in order: the spans to map to a
/// function (file, line: primary spans first, then the others, each followed by the macro
/// expansions it comes from, then the notes' spans) and the message (its first line, with the
/// first span).
pub fn errors(messages: &str) -> Vec<(Vec<(String, usize)>, String)> {
    let mut out = Vec::new();
    for line in messages.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if v["reason"] != "compiler-message" || v["message"]["level"] != "error" {
            continue;
        }
        let m = &v["message"];
        let mut spans = Vec::new();
        let mut push_span = |s: &serde_json::Value| {
            let mut s = s;
            loop {
                if let (Some(f), Some(l)) = (s["file_name"].as_str(), s["line_start"].as_u64()) {
                    spans.push((f.to_string(), l as usize));
                }
                if s["expansion"]["span"].is_object() {
                    s = &s["expansion"]["span"];
                } else {
                    break;
                }
            }
        };
        let all: Vec<&serde_json::Value> = m["spans"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
        for s in all.iter().filter(|s| s["is_primary"] == true).chain(all.iter().filter(|s| s["is_primary"] != true)) {
            push_span(s);
        }
        for c in m["children"].as_array().into_iter().flatten() {
            for s in c["spans"].as_array().into_iter().flatten() {
                push_span(s);
            }
        }
        let text = m["message"].as_str().unwrap_or("?").lines().next().unwrap_or("?").to_string();
        let at = spans.first().map(|(f, l)| format!(" ({f}:{l})")).unwrap_or_default();
        out.push((spans, format!("{text}{at}")));
    }
    out
}

/// The first error of a failed build (see [`errors`]).
pub fn first_error(messages: &str) -> Option<(Vec<(String, usize)>, String)> {
    errors(messages).into_iter().next()
}

