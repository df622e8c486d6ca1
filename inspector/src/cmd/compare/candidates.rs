//! The `async fn`s of a source file that get `#[::unasync::desugar]` in the copy, and putting it
//! there without moving a line.

use std::path::{Path, PathBuf};

use syn::spanned::Spanned;
use syn::{Attribute, ImplItem, Item, TraitItem, Visibility};

use crate::read::sources::module_path;

/// An `async fn` that gets the attribute in the copy.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Path relative to the package root: `src/lib.rs`.
    pub file: PathBuf,
    /// Crate-relative path as rustc names the future: `connection::Connection::read_frame`.
    pub path: String,
    /// 1-based line and 0-based char column where the attribute goes.
    pub line: usize,
    pub column: usize,
    /// Lines of the whole fn, attributes included.
    pub first_line: usize,
    pub last_line: usize,
    /// The crate it is compiled in (`mini_redis`, `mini_redis_cli`): rustc names futures
    /// relative to it. Empty when unknown.
    pub krate: String,
    /// The target when it is not the library: `bin mini-redis-cli`.
    pub target: Option<String>,
}

impl Candidate {
    /// How the report names it: the path, and the target when it is not the library.
    pub fn display(&self) -> String {
        match &self.target {
            Some(t) => format!("{} [{t}]", self.path),
            None => self.path.clone(),
        }
    }
}

fn has_desugar(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| a.path().segments.last().is_some_and(|s| s.ident == "desugar"))
}

fn type_name(t: &syn::Type) -> String {
    match t {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default(),
        syn::Type::Reference(r) => type_name(&r.elem),
        _ => "_".into(),
    }
}

struct Collector<'a> {
    file: &'a Path,
    out: Vec<Candidate>,
}

impl Collector<'_> {
    fn push(&mut self, path: String, attrs: &[Attribute], vis: Option<&Visibility>, sig: &syn::Signature, end: usize) {
        if sig.asyncness.is_none() || has_desugar(attrs) {
            return;
        }
        let start = match vis {
            Some(v) if !matches!(v, Visibility::Inherited) => v.span().start(),
            _ => sig
                .constness
                .map(|t| t.span.start())
                .unwrap_or_else(|| sig.asyncness.expect("async").span.start()),
        };
        let first = attrs.iter().map(|a| a.span().start().line).min().unwrap_or(start.line).min(start.line);
        self.out.push(Candidate {
            file: self.file.to_path_buf(),
            path,
            line: start.line,
            column: start.column,
            first_line: first,
            last_line: end,
            krate: String::new(),
            target: None,
        });
    }

    fn items(&mut self, items: &[Item], prefix: &str) {
        let join = |n: &str| if prefix.is_empty() { n.to_string() } else { format!("{prefix}::{n}") };
        for item in items {
            match item {
                Item::Fn(f) => {
                    self.push(join(&f.sig.ident.to_string()), &f.attrs, Some(&f.vis), &f.sig, f.block.brace_token.span.close().end().line)
                }
                Item::Mod(m) => {
                    if let Some((_, inner)) = &m.content {
                        self.items(inner, &join(&m.ident.to_string()));
                    }
                }
                Item::Impl(imp) => {
                    let ty = join(&type_name(&imp.self_ty));
                    for it in &imp.items {
                        if let ImplItem::Fn(f) = it {
                            self.push(format!("{ty}::{}", f.sig.ident), &f.attrs, Some(&f.vis), &f.sig, f.block.brace_token.span.close().end().line);
                        }
                    }
                }
                Item::Trait(tr) => {
                    let ty = join(&tr.ident.to_string());
                    for it in &tr.items {
                        if let TraitItem::Fn(f) = it
                            && let Some(b) = &f.default
                        {
                            self.push(format!("{ty}::{}", f.sig.ident), &f.attrs, None, &f.sig, b.brace_token.span.close().end().line);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// Every candidate in one source file (`rel` is relative to the package root), its module path
/// guessed from the file's place under `src/` ([`module_path`]).
pub fn candidates(rel: &Path, src: &str) -> Vec<Candidate> {
    candidates_in(rel, src, &module_path(rel))
}

/// Every candidate in one source file whose module path is `module` (`` for a crate root).
pub fn candidates_in(rel: &Path, src: &str, module: &str) -> Vec<Candidate> {
    let Ok(file) = syn::parse_file(src) else { return Vec::new() };
    let mut c = Collector { file: rel, out: Vec::new() };
    c.items(&file.items, module);
    c.out
}

/// `src` with `#[::unasync::desugar] ` inserted before each of `cands` (all in this file).
pub fn annotate(src: &str, cands: &[&Candidate]) -> String {
    let mut at: Vec<usize> = Vec::new();
    let mut line_start = 0;
    for (i, line) in src.split_inclusive('\n').enumerate() {
        for c in cands.iter().filter(|c| c.line == i + 1) {
            let off: usize = line.chars().take(c.column).map(char::len_utf8).sum();
            at.push(line_start + off);
        }
        line_start += line.len();
    }
    at.sort_unstable();
    let mut out = String::with_capacity(src.len() + at.len() * 24);
    let mut prev = 0;
    for a in at {
        out.push_str(&src[prev..a]);
        out.push_str("#[::unasync::desugar] ");
        prev = a;
    }
    out.push_str(&src[prev..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotates_after_attributes_on_the_same_line() {
        let src = "#[inline]\npub async fn a() {}\nasync fn b() {}\n#[unasync::desugar]\nasync fn c() {}\ntrait T { async fn d(); async fn e() {} }\nimpl S { pub(crate) async fn f(&self) {} fn g() {} }\n";
        let c = candidates(Path::new("src/m.rs"), src);
        let names: Vec<&str> = c.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(names, ["m::a", "m::b", "m::T::e", "m::S::f"]);
        let out = annotate(src, &c.iter().collect::<Vec<_>>());
        assert_eq!(
            out,
            "#[inline]\n#[::unasync::desugar] pub async fn a() {}\n#[::unasync::desugar] async fn b() {}\n#[unasync::desugar]\nasync fn c() {}\ntrait T { async fn d(); #[::unasync::desugar] async fn e() {} }\nimpl S { #[::unasync::desugar] pub(crate) async fn f(&self) {} fn g() {} }\n"
        );
        assert_eq!((c[0].first_line, c[0].last_line), (1, 2));
    }
}
