//! `--format html`: one self-contained page (no network): a sortable table of the futures, and
//! per future a byte map of its states, the tree of awaited futures and the state diagram. The
//! pictures are SVG written here; the page's script only sorts the table (`#sort=KEY` in the
//! address sorts on load, as a click on a column header does).

use std::fmt::Write as _;

use crate::analyse::index::Index;
use crate::model::{Future, Variant};
use crate::names::suspend_index;
use crate::render::{display_name, type_or_unknown};

const STYLE: &str = r#"
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px}h2{font-size:16px;margin:28px 0 6px;font-family:monospace}
table.futures{border-collapse:collapse}table.futures td,table.futures th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left}
table.futures th{cursor:pointer;background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.map rect.field{stroke:#fff;stroke-width:.5}.map text{font:11px monospace}.awaitee{fill:#d9822b}.local{fill:#4a78c2}
.upvar{fill:#5aa469}.frame{fill:#8a63b5}.machine{fill:#8a63b5}.field-other{fill:#999}.tag{fill:#222}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
ul.tree{font-family:monospace;font-size:12px}.diagram text{font:11px monospace}.diagram .node{fill:#eef;stroke:#557}
.diagram path{fill:none;stroke:#557;marker-end:url(#arrow)}
"#;

const SCRIPT: &str = r#"
function sortBy(key){const t=document.querySelector('table.futures tbody');if(!t)return;
const rows=[...t.rows];const num=rows.every(r=>!isNaN(parseFloat(r.dataset[key])));
rows.sort((a,b)=>num?parseFloat(b.dataset[key])-parseFloat(a.dataset[key]):a.dataset[key].localeCompare(b.dataset[key]));
rows.forEach(r=>t.appendChild(r));document.body.dataset.sorted=key;}
document.querySelectorAll('table.futures th[data-key]').forEach(th=>th.addEventListener('click',()=>sortBy(th.dataset.key)));
const m=location.hash.match(/sort=(\w+)/);if(m)sortBy(m[1]);document.body.dataset.ready='1';
"#;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn class(kind: &str, name: &str) -> &'static str {
    match (kind, name) {
        (_, "__awaitee") => "awaitee",
        ("upvar", _) => "upvar",
        ("frame", _) => "frame",
        ("machine", _) => "machine",
        ("local", _) => "local",
        _ => "field-other",
    }
}

/// Each state as a row over the same byte axis: fields as boxes at their offsets, padding
/// hatched; the top row shades each byte by how many states use it (bytes shared between states
/// are the dark ones).
fn byte_map(f: &Future) -> String {
    let width = 860.0;
    let x0 = 110.0;
    let scale = if f.size == 0 { 0.0 } else { width / f.size as f64 };
    let row = 20.0;
    let h = row * (f.variants.len() as f64 + 1.0) + 24.0;
    let mut s = String::new();
    let _ = write!(s, r#"<svg class="map" width="{}" height="{h}">"#, x0 + width + 10.0);
    s.push_str(r##"<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#bbb" stroke-width="3"/></pattern></defs>"##);
    // Shared bytes: boundaries of every field, then the number of states covering each piece.
    let mut cuts: Vec<u64> = vec![0, f.size];
    for v in &f.variants {
        for x in &v.fields {
            cuts.extend([x.offset, x.offset + x.size]);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    let _ = write!(s, r#"<text x="0" y="14">shared by</text>"#);
    for w in cuts.windows(2) {
        let n = f.variants.iter().filter(|v| v.fields.iter().any(|x| x.offset <= w[0] && w[1] <= x.offset + x.size)).count();
        if n == 0 {
            continue;
        }
        let shade = 230 - (200 * n / f.variants.len().max(1)) as u32;
        let _ = write!(
            s,
            r#"<rect class="shared" x="{:.1}" y="2" width="{:.1}" height="16" fill="rgb({shade},{shade},{shade})"><title>bytes {}..{}: used by {n} state(s)</title></rect>"#,
            x0 + w[0] as f64 * scale,
            ((w[1] - w[0]) as f64 * scale).max(0.5),
            w[0],
            w[1]
        );
    }
    for (i, v) in f.variants.iter().enumerate() {
        let y = row * (i as f64 + 1.0) + 2.0;
        let _ = write!(s, r#"<text x="0" y="{:.1}">{}</text>"#, y + 13.0, esc(&v.name));
        for g in &v.gaps {
            let _ = write!(
                s,
                r#"<rect class="padding" x="{:.1}" y="{y:.1}" width="{:.1}" height="16" fill="url(#hatch)"><title>padding {} bytes at {}</title></rect>"#,
                x0 + g.offset as f64 * scale,
                (g.size as f64 * scale).max(0.5),
                g.size,
                g.offset
            );
        }
        // Drawn only where its offset is known (desugared futures; rustc does not print it).
        if let (Some(o), true) = (f.discriminant_offset, f.discriminant > 0) {
            let _ = write!(s, r#"<rect class="tag" x="{:.1}" y="{y:.1}" width="{:.1}" height="16"><title>state tag</title></rect>"#, x0 + o as f64 * scale, (f.discriminant as f64 * scale).max(1.0));
        }
        for x in &v.fields {
            let line = x.source.as_ref().map(|s| format!(", line {}", s.line)).unwrap_or_default();
            let _ = write!(
                s,
                r#"<rect class="field {}" x="{:.1}" y="{y:.1}" width="{:.1}" height="16"><title>{} ({}): {} bytes at {}{line}</title></rect>"#,
                class(&x.kind, &x.name),
                x0 + x.offset as f64 * scale,
                (x.size as f64 * scale).max(0.5),
                esc(&x.name),
                esc(&x.kind),
                x.size,
                x.offset
            );
        }
    }
    let _ = write!(s, r#"<text x="{x0}" y="{:.1}">0</text><text x="{:.1}" y="{:.1}" text-anchor="end">{} bytes</text></svg>"#, h - 4.0, x0 + width, h - 4.0, f.size);
    s
}

fn tree(f: &Future, index: &Index<'_>, depth: usize, seen: &mut Vec<String>, out: &mut String) {
    out.push_str("<ul class=\"tree\">");
    for v in &f.variants {
        for a in v.fields.iter().filter(|x| x.name == "__awaitee") {
            let line = v.source.as_ref().map(|s| format!(" line {}", s.line)).unwrap_or_default();
            let _ = write!(out, "<li>{} bytes <b>{}</b> in {}{line}", a.size, esc(type_or_unknown(a.ty.as_deref())), esc(&v.name));
            let next = a.ty.as_deref().and_then(|t| index.resolve(t, a.size));
            if let Some(n) = next.filter(|n| depth < 6 && !seen.contains(&n.ty)) {
                seen.push(n.ty.clone());
                tree(n, index, depth + 1, seen, out);
                seen.pop();
            }
            out.push_str("</li>");
        }
    }
    out.push_str("</ul>");
}

/// States top to bottom; an edge per way from one to the next, forward ones on the right, back
/// ones (loops) on the left, labelled with the line of the `.await` they reach.
fn diagram(f: &Future) -> String {
    let Some(a) = f.analysis.as_ref().filter(|a| !a.state_edges.is_empty()) else {
        return "<p>(no state diagram: the sources were not read or the states could not be numbered)</p>".into();
    };
    let states: Vec<&Variant> = f.variants.iter().filter(|v| v.name != "Panicked").collect();
    let pos = |name: &str| states.iter().position(|v| v.name == name);
    let (x, w, step) = (160.0, 170.0, 40.0);
    let h = step * states.len() as f64 + 10.0;
    let mut s = format!(r#"<svg class="diagram" width="520" height="{h}">"#);
    s.push_str(r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#557"/></marker></defs>"##);
    for (i, v) in states.iter().enumerate() {
        let y = step * i as f64 + 8.0;
        let label = match &v.source {
            Some(src) if suspend_index(&v.name).is_some() => format!("{} · line {}", v.name, src.line),
            _ => v.name.clone(),
        };
        let _ = write!(s, r#"<rect class="node" x="{x}" y="{y}" width="{w}" height="24" rx="5"/><text x="{}" y="{}" text-anchor="middle">{}</text>"#, x + w / 2.0, y + 16.0, esc(&label));
    }
    for e in &a.state_edges {
        let (Some(i), Some(j)) = (pos(&e.from), pos(&e.to)) else { continue };
        let (y1, y2) = (step * i as f64 + 20.0, step * j as f64 + 20.0);
        let bend = 30.0 + 12.0 * (j as f64 - i as f64).abs();
        let d = if j > i {
            let xr = x + w;
            format!("M{xr},{y1} C{},{y1} {},{y2} {xr},{y2}", xr + bend, xr + bend)
        } else {
            format!("M{x},{y1} C{},{y1} {},{y2} {x},{y2}", x - bend, x - bend)
        };
        let _ = write!(s, r#"<path class="edge" d="{d}"><title>{} -> {}</title></path>"#, esc(&e.from), esc(&e.to));
    }
    s.push_str("</svg>");
    s
}

/// The whole page.
pub fn html(futures: &[Future]) -> String {
    let index = Index::new(futures);
    let mut out = String::new();
    let _ = write!(out, "<!doctype html><html><head><meta charset=\"utf-8\"><title>cargo unasync: {} futures</title><style>{STYLE}</style></head><body>", futures.len());
    let _ = write!(out, "<h1>{} futures, largest first</h1>", futures.len());
    out.push_str(r#"<table class="futures"><thead><tr><th data-key="size">SIZE</th><th data-key="states">STATES</th><th data-key="largest">LARGEST</th><th data-key="source">SOURCE</th><th data-key="name">FUTURE</th></tr></thead><tbody>"#);
    for (i, f) in futures.iter().enumerate() {
        let name = f.stable_name.clone().unwrap_or_else(|| display_name(f));
        let largest = f.analysis.as_ref().and_then(|a| a.largest_variant.clone()).unwrap_or_default();
        let src = f.source.as_ref().map(|s| s.to_string()).unwrap_or_default();
        let _ = write!(
            out,
            r##"<tr data-size="{}" data-states="{}" data-largest="{}" data-source="{}" data-name="{}"><td class="num">{}</td><td class="num">{}</td><td>{}</td><td>{}</td><td><a href="#f{i}">{}</a></td></tr>"##,
            f.size,
            f.variants.len(),
            esc(&largest),
            esc(&src),
            esc(&name),
            f.size,
            f.variants.len(),
            esc(&largest),
            esc(&src),
            esc(&name)
        );
    }
    out.push_str("</tbody></table>");
    out.push_str(r#"<p class="legend">fields:<span class="awaitee" style="background:#d9822b"></span>awaited future<span style="background:#4a78c2"></span>local<span style="background:#5aa469"></span>argument/capture<span style="background:#8a63b5"></span>desugared frame<span style="background:repeating-linear-gradient(45deg,#bbb 0 3px,#fff 3px 6px)"></span>padding</p>"#);
    for (i, f) in futures.iter().enumerate() {
        let name = f.stable_name.clone().unwrap_or_else(|| display_name(f));
        let _ = write!(out, r#"<section class="future" id="f{i}" data-type="{}"><h2>{} — {} bytes</h2>"#, esc(&f.ty), esc(&name), f.size);
        if let Some(src) = &f.source {
            let _ = write!(out, "<p>{} · <code>{}</code></p>", esc(&src.to_string()), esc(&f.ty));
        }
        out.push_str(&byte_map(f));
        out.push_str("<h3>awaited futures</h3>");
        tree(f, &index, 0, &mut vec![f.ty.clone()], &mut out);
        out.push_str("<h3>states</h3>");
        out.push_str(&diagram(f));
        out.push_str("</section>");
    }
    let _ = writeln!(out, "<script>{SCRIPT}</script></body></html>");
    out
}
