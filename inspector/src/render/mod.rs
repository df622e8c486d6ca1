//! Stage 5, render: the analysed model as text for a person (table, side by side), JSON for
//! tools, cargo's diagnostic messages for editors, an HTML report, snapshot files.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::model::{Future, FutureKind};

pub mod html;
pub mod json;
pub mod messages;
pub mod pair;
pub mod snapshot;
pub mod table;

/// ANSI styling, off unless stdout is a terminal (and `NO_COLOR` is unset).
#[derive(Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn paint(&self, code: &str, s: &str) -> String {
        if self.color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    }
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    pub fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    pub fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }
}

/// Left/right aligned columns; widths from the plain text, styling applied afterwards.
pub struct Table {
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

impl Table {
    pub fn new(right: &[bool]) -> Self {
        Table { rows: Vec::new(), right: right.to_vec() }
    }
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
    pub fn render(&self, indent: &str, out: &mut String, header_style: impl Fn(&str) -> String) {
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

/// Short human name: `read_frame()` style for fns, `async block@src/lib.rs:3:5` otherwise.
pub fn short_name(f: &Future) -> String {
    if let Some(name) = macro_body_name(f) {
        return name.to_string();
    }
    match (&f.path, f.kind) {
        (Some(p), _) => format!("{p}()"),
        (None, FutureKind::AsyncFn) => format!("async fn@{}", f.location.as_deref().unwrap_or("?")),
        (None, FutureKind::AsyncBlock) => format!("async block@{}", f.location.as_deref().unwrap_or("?")),
        (None, FutureKind::AsyncClosure) => format!("async closure@{}", f.location.as_deref().unwrap_or("?")),
        (None, FutureKind::Desugared) => format!("#[desugar] fn@{}", f.location.as_deref().unwrap_or("?")),
    }
}

/// A fn's body that an attribute macro moved into an async block is named after the fn
/// (`Mem::get::{#[async_trait] body}`): rustc's `{async block@..}` says nothing of it.
fn macro_body_name(f: &Future) -> Option<&str> {
    f.wrapped_by.as_ref().and(f.stable_name.as_deref())
}

/// The future's name in tables: rustc's type, `#[desugar] PATH()` for desugared futures, the
/// fn's name for a body an attribute macro moved into a block.
pub fn display_name(f: &Future) -> String {
    match (f.kind, &f.path, macro_body_name(f)) {
        (FutureKind::Desugared, Some(p), _) => format!("#[desugar] {p}()"),
        (_, _, Some(name)) => name.to_string(),
        _ => f.ty.clone(),
    }
}

/// Display names by rustc's type name, for lines that name another future (the awaitee
/// chain, the `Box::pin` advice); a type not in the report is shown as is.
pub struct Names(HashMap<String, String>);

impl Names {
    pub fn new(futures: &[Future]) -> Self {
        Names(futures.iter().map(|f| (f.ty.clone(), display_name(f))).collect())
    }
    pub fn of(&self, ty: &str) -> String {
        self.0.get(ty).cloned().unwrap_or_else(|| ty.to_string())
    }
}

/// A field's type, or what to say when rustc printed none (struct fields, old rustc).
pub fn type_or_unknown(ty: Option<&str>) -> &str {
    ty.unwrap_or("(type not printed by rustc)")
}
