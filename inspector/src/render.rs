//! Table and JSON renderers.

use std::fmt::Write as _;

use crate::analysis::short_name;
use crate::model::{Future, Report, SCHEMA_VERSION};

/// ANSI styling, off unless stdout is a terminal (and `NO_COLOR` is unset).
#[derive(Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }
}

/// Left/right aligned columns; widths from the plain text, styling applied afterwards.
struct Table {
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

impl Table {
    fn new(right: &[bool]) -> Self {
        Table { rows: Vec::new(), right: right.to_vec() }
    }
    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
    fn render(&self, indent: &str, out: &mut String, header_style: impl Fn(&str) -> String) {
        let n = self.right.len();
        let mut w = vec![0; n];
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(n) {
                w[i] = w[i].max(c.chars().count());
            }
        }
        for (ri, r) in self.rows.iter().enumerate() {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate().take(n) {
                let pad = w[i] - c.chars().count();
                let last = i + 1 == r.len();
                if self.right[i] {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(c);
                } else {
                    line.push_str(c);
                    if !last {
                        line.push_str(&" ".repeat(pad));
                    }
                }
                if !last {
                    line.push_str("  ");
                }
            }
            let line = line.trim_end().to_string();
            let _ = writeln!(out, "{indent}{}", if ri == 0 { header_style(&line) } else { line });
        }
    }
}

/// One line per future.
pub fn summary(futures: &[Future], st: Style) -> String {
    let mut t = Table::new(&[true, true, true, false, true, true, true, true, false]);
    t.row(
        ["SIZE", "ALIGN", "STATES", "LARGEST", "AWAITEE", "ARGS×2", "PADDING", "BOX SAVES", "FUTURE"]
            .map(String::from)
            .to_vec(),
    );
    for f in futures {
        let a = f.analysis.as_ref();
        let get = |w: &str| {
            a.and_then(|a| a.breakdown.iter().find(|b| b.what == w)).map(|b| b.bytes).unwrap_or(0)
        };
        t.row(vec![
            f.size.to_string(),
            f.align.to_string(),
            f.variants.len().to_string(),
            a.and_then(|a| a.largest_variant.clone()).unwrap_or_default(),
            get("awaitee").to_string(),
            get("args_twice").to_string(),
            (get("padding") + get("end_padding")).to_string(),
            a.and_then(|a| a.box_pin.as_ref()).map(|b| b.saved.to_string()).unwrap_or_else(|| "-".into()),
            crate::desugared::display_name(f),
        ]);
    }
    let mut out = String::new();
    t.render("", &mut out, |s| st.bold(s));
    out
}

/// The full breakdown of one future.
pub fn detail(f: &Future, st: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  {}",
        st.bold(&format!("{} bytes, align {}", f.size, f.align)),
        st.bold(&f.ty)
    );
    if f.kind == crate::model::FutureKind::Desugared {
        let _ = writeln!(
            out,
            "  #[unasync::desugar] of {}: kinds `frame` = __Frame prefix (in every state), `local` = __State variant field",
            f.path.as_deref().unwrap_or("?")
        );
    }
    if let Some(a) = &f.analysis {
        if let Some(lv) = &a.largest_variant {
            let parts: Vec<String> = a.breakdown.iter().map(|b| format!("{} {}", b.what.replace('_', " "), b.bytes)).collect();
            let _ = writeln!(out, "  why: largest state {lv}: {}", parts.join(", "));
        }
        for d in &a.duplicated_args {
            let _ = writeln!(
                out,
                "  {} `{}` ({} bytes) stored twice, as upvar and local, in {}",
                st.yellow("argument"),
                d.name,
                d.size,
                d.variants.join(", ")
            );
        }
        if a.drop_flags > 0 {
            let _ = writeln!(out, "  drop flags saved in the largest state: {}", a.drop_flags);
        }
        if !a.awaitee_chain.is_empty() {
            let _ = writeln!(out, "  awaitee chain:");
            for (i, c) in a.awaitee_chain.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "  {}└ {} bytes  {}  {}",
                    "  ".repeat(i + 1),
                    c.size,
                    c.ty,
                    st.dim(&format!("(awaited in {} of {})", c.variant, c.future))
                );
            }
        }
        if let Some(b) = &a.box_pin {
            let _ = writeln!(
                out,
                "  {} the await of {} ({} bytes) in {} of {}: {} -> ~{} bytes, saves ~{} bytes",
                st.yellow("Box::pin"),
                b.ty,
                b.awaitee_size,
                b.variant,
                b.in_future,
                f.size,
                b.new_size,
                b.saved
            );
        }
    }
    let mut t = Table::new(&[false, true, true, true, false, false, false]);
    t.row(["STATE", "SIZE", "OFFSET", "BYTES", "FIELD", "KIND", "TYPE"].map(String::from).to_vec());
    if f.discriminant > 0 {
        let off = f.discriminant_offset.map(|o| o.to_string()).unwrap_or_default();
        t.row(vec!["(discriminant)".into(), String::new(), off, f.discriminant.to_string()]);
    }
    for v in &f.variants {
        t.row(vec![v.name.clone(), v.size.to_string()]);
        let mut gaps = v.gaps.iter().peekable();
        for fld in &v.fields {
            while let Some(g) = gaps.peek() {
                if g.offset + g.size <= fld.offset {
                    t.row(vec![String::new(), String::new(), g.offset.to_string(), g.size.to_string(), "(padding)".into()]);
                    gaps.next();
                } else {
                    break;
                }
            }
            t.row(vec![
                String::new(),
                String::new(),
                fld.offset.to_string(),
                fld.size.to_string(),
                fld.name.clone(),
                fld.kind.clone(),
                fld.ty.clone().unwrap_or_default(),
            ]);
        }
    }
    if f.end_padding > 0 {
        t.row(vec!["(end padding)".into(), String::new(), String::new(), f.end_padding.to_string()]);
    }
    t.render("  ", &mut out, |s| st.dim(s));
    out
}

/// The table format: a summary line per future, then the breakdown of each.
pub fn table(futures: &[Future], st: Style, summary_only: bool) -> String {
    let mut out = summary(futures, st);
    if !summary_only {
        for f in futures {
            out.push('\n');
            out.push_str(&detail(f, st));
        }
    }
    out
}

pub fn json(futures: &[Future]) -> String {
    let r = Report { schema_version: SCHEMA_VERSION, futures: futures.to_vec() };
    let mut s = serde_json::to_string_pretty(&r).expect("serializable");
    s.push('\n');
    s
}

/// `size exceeded` report line.
pub fn offender_line(f: &Future, max: u64, st: Style) -> String {
    format!("{} {} is {} bytes (> {max})", st.red("too large:"), short_name(f), f.size)
}

/// Rows of one state: fields and padding in offset order.
fn state_rows(f: &Future, v: &crate::model::Variant) -> Vec<[String; 5]> {
    let mut rows: Vec<(u64, u8, [String; 5])> = Vec::new();
    for g in &v.gaps {
        rows.push((g.offset, 0, [g.offset.to_string(), g.size.to_string(), "(padding)".into(), String::new(), String::new()]));
    }
    for x in &v.fields {
        rows.push((
            x.offset,
            1,
            [x.offset.to_string(), x.size.to_string(), x.name.clone(), x.kind.clone(), x.ty.clone().unwrap_or_default()],
        ));
    }
    let _ = f;
    rows.sort_by_key(|r| (r.0, r.1));
    rows.into_iter().map(|r| r.2).collect()
}

fn head(f: Option<&Future>) -> (String, String) {
    match f {
        None => ("(none)".into(), String::new()),
        Some(f) => {
            let disc = match (f.discriminant, f.discriminant_offset) {
                (0, _) => "no discriminant (niche)".to_string(),
                (d, Some(o)) => format!("discriminant {d} at {o}"),
                (d, None) => format!("discriminant {d}"),
            };
            (crate::desugared::display_name(f), format!("{} bytes, align {}, {disc}", f.size, f.align))
        }
    }
}

/// One native future beside one desugared future: sizes, then state by state, field by field.
pub fn pair(native: Option<&Future>, desugared: Option<&Future>, st: Style) -> String {
    let mut out = String::new();
    let (nn, nh) = head(native);
    let (dn, dh) = head(desugared);
    let _ = writeln!(out, "native:    {nn}");
    let _ = writeln!(out, "           {nh}");
    let _ = writeln!(out, "desugared: {dn}");
    let _ = writeln!(out, "           {dh}");
    if let (Some(n), Some(d)) = (native, desugared) {
        let ratio = if n.size == 0 { "-".to_string() } else { format!("{:.2}", d.size as f64 / n.size as f64) };
        let _ = writeln!(out, "size: {} -> {} bytes (desugared/native = {ratio})", n.size, d.size);
    }
    let mut names: Vec<String> = Vec::new();
    for f in native.iter().chain(desugared.iter()) {
        for v in &f.variants {
            if !names.contains(&v.name) {
                names.push(v.name.clone());
            }
        }
    }
    names.sort_by_key(|n| crate::desugared::state_rank(n));
    let mut t = Table::new(&[false, true, true, false, false, false, false, true, true, false, false]);
    t.row(
        ["STATE", "OFF", "BYTES", "FIELD", "KIND", "TYPE", "|", "OFF", "BYTES", "FIELD", "KIND"]
            .map(String::from)
            .to_vec(),
    );
    fn find<'a>(f: Option<&'a Future>, name: &str) -> Option<(&'a Future, &'a crate::model::Variant)> {
        f.and_then(|f| f.variants.iter().find(|v| v.name == name).map(|v| (f, v)))
    }
    for name in &names {
        let nv = find(native, name);
        let dv = find(desugared, name);
        let used = |x: Option<(&Future, &crate::model::Variant)>| {
            x.map(|(_, v)| format!("{} used", v.fields.iter().map(|f| f.size).sum::<u64>())).unwrap_or_else(|| "-".into())
        };
        t.row(vec![
            name.clone(),
            String::new(),
            used(nv),
            String::new(),
            String::new(),
            String::new(),
            "|".into(),
            String::new(),
            used(dv),
        ]);
        let nr = nv.map(|(f, v)| state_rows(f, v)).unwrap_or_default();
        let dr = dv.map(|(f, v)| state_rows(f, v)).unwrap_or_default();
        for i in 0..nr.len().max(dr.len()) {
            let mut row = vec![String::new()];
            match nr.get(i) {
                Some(r) => row.extend(r.iter().cloned()),
                None => row.extend(std::iter::repeat_n(String::new(), 5)),
            }
            row.push("|".into());
            if let Some(r) = dr.get(i) {
                row.extend(r[..4].iter().cloned());
            }
            t.row(row);
        }
    }
    t.render("", &mut out, |s| st.dim(s));
    out
}

/// Every native instance beside every desugared instance (paired in order; generic fns may have
/// several of each).
pub fn side_by_side(native: &[&Future], desugared: &[&Future], st: Style) -> String {
    let mut out = String::new();
    for i in 0..native.len().max(desugared.len()) {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&pair(native.get(i).copied(), desugared.get(i).copied(), st));
    }
    out
}
