//! The table `compare` prints.

use std::fmt::Write as _;

/// One row of the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub function: String,
    pub rustc: Option<u64>,
    pub desugared: Option<u64>,
    /// Why the function stayed native in the copy.
    pub error: Option<String>,
    /// Desugared in the copy, but the copy did not compile for another reason.
    pub not_built: bool,
}

/// The table `compare` prints.
pub fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    let w = rows.iter().map(|r| r.function.chars().count()).max().unwrap_or(8).max(8);
    let _ = writeln!(out, "{:<w$}  {:>6}  {:>9}  {:>6}  NOTE", "FUNCTION", "RUSTC", "DESUGARED", "RATIO");
    let (mut tn, mut td, mut n) = (0, 0, 0);
    let opt = |x: Option<u64>| x.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
    for r in rows {
        let ratio = match (r.rustc, r.desugared) {
            (Some(a), Some(b)) if a > 0 => {
                tn += a;
                td += b;
                n += 1;
                // A grown function is marked where the eye reads the ratio.
                format!("{:.2}{}", b as f64 / a as f64, if b > a { "!" } else { "" })
            }
            _ => "-".into(),
        };
        let note = match (&r.error, r.rustc, r.desugared) {
            (Some(e), _, _) => format!("stays native: {e}"),
            (None, _, _) if r.not_built => "not measured: the desugared copy does not compile (see below)".into(),
            (None, None, _) => {
                "rustc laid out no async fn body for it (generic and not instantiated, unused, or rewritten by another attribute such as #[tokio::main])".into()
            }
            (None, _, None) => "no desugared layout (never instantiated?)".into(),
            (None, Some(a), Some(b)) if b > a => format!("LARGER than rustc's by {} bytes", b - a),
            _ => String::new(),
        };
        let _ = writeln!(out, "{:<w$}  {:>6}  {:>9}  {:>6}  {note}", r.function, opt(r.rustc), opt(r.desugared), ratio);
    }
    let ratio = if tn > 0 { format!("{:.2}", td as f64 / tn as f64) } else { "-".into() };
    let native = rows.iter().filter(|r| r.error.is_some()).count();
    let _ = writeln!(
        out,
        "{:<w$}  {:>6}  {:>9}  {:>6}  {n} of {} functions desugared and measured ({native} stay native)",
        "TOTAL",
        tn,
        td,
        ratio,
        rows.len()
    );
    out.lines().map(|l| l.trim_end().to_string() + "\n").collect()
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_that_grew_is_marked() {
        let row = |f: &str, a, b| Row { function: f.into(), rustc: Some(a), desugared: Some(b), error: None, not_built: false };
        let out = render(&[row("grew", 32, 40), row("shrank", 40, 32)]);
        let grew = out.lines().find(|l| l.starts_with("grew")).unwrap();
        assert!(grew.contains("1.25!") && grew.contains("LARGER than rustc's by 8 bytes"), "{out}");
        let shrank = out.lines().find(|l| l.starts_with("shrank")).unwrap();
        assert!(shrank.contains("0.80") && !shrank.contains('!') && !shrank.contains("LARGER"), "{out}");
    }
}
