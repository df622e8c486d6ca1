//! The table format: one summary line per future, then each future's states and fields.

use std::fmt::Write as _;

use crate::model::Future;
use crate::render::{Names, Style, Table, display_name, short_name, type_or_unknown};

/// One line per future.
pub fn summary(futures: &[Future], st: Style) -> String {
    let mut t = Table::new(&[true, true, true, false, true, true, true, true, false, false]);
    t.row(
        ["SIZE", "ALIGN", "STATES", "LARGEST", "AWAITEE", "ARGS×2", "PADDING", "BOX SAVES", "SOURCE", "FUTURE"]
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
            f.source.as_ref().map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            display_name(f),
        ]);
    }
    let mut out = String::new();
    t.render("", &mut out, |s| st.bold(s));
    out
}

/// The full breakdown of one future; `names` names the futures its lines mention.
pub fn detail(f: &Future, names: &Names, st: Style) -> String {
    let mut out = String::new();
    let name = display_name(f);
    let _ = writeln!(
        out,
        "{}  {}{}",
        st.bold(&format!("{} bytes, align {}", f.size, f.align)),
        st.bold(&name),
        if name == f.ty { String::new() } else { st.dim(&format!("  {}", f.ty)) }
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
                    c.ty.as_deref().map(|t| names.of(t)).unwrap_or_else(|| type_or_unknown(None).to_string()),
                    st.dim(&format!("(awaited in {} of {})", c.variant, names.of(&c.future)))
                );
            }
        }
        if let Some(b) = &a.box_pin {
            let _ = writeln!(
                out,
                "  {} the await of {} ({} bytes) in {} of {}: {} -> ~{} bytes, saves ~{} bytes",
                st.yellow("Box::pin"),
                b.ty.as_deref().map(|t| names.of(t)).unwrap_or_else(|| type_or_unknown(None).to_string()),
                b.awaitee_size,
                b.variant,
                names.of(&b.in_future),
                f.size,
                b.new_size,
                b.saved
            );
        }
    }
    let mut t = Table::new(&[false, true, true, true, false, false, true, false]);
    t.row(["STATE", "SIZE", "OFFSET", "BYTES", "FIELD", "KIND", "LINE", "TYPE"].map(String::from).to_vec());
    if f.discriminant > 0 {
        // rustc does not print where a coroutine's tag is (somewhere in the prefix's padding).
        let off = f.discriminant_offset.map(|o| o.to_string()).unwrap_or_default();
        t.row(vec![String::new(), String::new(), off, f.discriminant.to_string(), "(state tag)".into(), "tag".into()]);
    }
    for v in &f.variants {
        let at = match (&v.source, &v.awaits) {
            (Some(s), Some(a)) if a.starts_with("the body") || a.ends_with('!') || a == "yield" || a == "?" => format!("{s}  {a}"),
            (Some(s), Some(a)) => format!("{s}  {a}.await"),
            (Some(s), None) => s.to_string(),
            (None, _) => String::new(),
        };
        t.row(vec![v.name.clone(), v.size.to_string(), String::new(), String::new(), String::new(), String::new(), String::new(), at]);
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
            let ty = match (&fld.ty, fld.name.as_str()) {
                (Some(t), _) => t.clone(),
                (None, "__awaitee") => type_or_unknown(None).to_string(),
                (None, _) => String::new(),
            };
            t.row(vec![
                String::new(),
                String::new(),
                fld.offset.to_string(),
                fld.size.to_string(),
                fld.name.clone(),
                fld.kind.clone(),
                fld.source.as_ref().map(|s| s.line.to_string()).unwrap_or_default(),
                ty,
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
pub fn table(futures: &[Future], names: &Names, st: Style, summary_only: bool) -> String {
    let mut out = summary(futures, st);
    if !summary_only {
        for f in futures {
            out.push('\n');
            out.push_str(&detail(f, names, st));
        }
    }
    out
}

/// `size exceeded` report line.
pub fn offender_line(f: &Future, max: u64, st: Style) -> String {
    format!("{} {} is {} bytes (> {max})", st.red("too large:"), short_name(f), f.size)
}

