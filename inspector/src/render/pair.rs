//! A native future beside a desugared one, state by state and field by field (`expand` on the
//! fixtures' `native::X`/`desugared::X` twins).

use std::fmt::Write as _;

use crate::model::{Future, Variant};
use crate::names::state_rank;
use crate::render::{Style, Table, display_name};

/// Rows of one state: fields and padding in offset order.
fn state_rows(f: &Future, v: &Variant) -> Vec<[String; 5]> {
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
                (d, Some(o)) => format!("state tag {d} byte(s) at offset {o}"),
                (d, None) => format!("state tag {d} byte(s)"),
            };
            (display_name(f), format!("{} bytes, align {}, {disc}", f.size, f.align))
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
    names.sort_by_key(|n| state_rank(n));
    let mut t = Table::new(&[false, true, true, false, false, false, false, true, true, false, false]);
    t.row(
        ["STATE", "OFF", "BYTES", "FIELD", "KIND", "TYPE", "|", "OFF", "BYTES", "FIELD", "KIND"]
            .map(String::from)
            .to_vec(),
    );
    fn find<'a>(f: Option<&'a Future>, name: &str) -> Option<(&'a Future, &'a Variant)> {
        f.and_then(|f| f.variants.iter().find(|v| v.name == name).map(|v| (f, v)))
    }
    for name in &names {
        let nv = find(native, name);
        let dv = find(desugared, name);
        let used = |x: Option<(&Future, &Variant)>| {
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
