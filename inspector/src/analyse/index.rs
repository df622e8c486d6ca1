//! Finding the layout of an awaited future from the type name a field prints.

use std::collections::HashMap;

use crate::model::Future;
use crate::names::{canonical, last_segment, path_suffix_match, split_args, split_generics, top_level_segments};

/// Lookup from type names (as printed in awaitee fields) to layout entries.
pub struct Index<'a> {
    by_name: HashMap<&'a str, usize>,
    /// By [`canonical`] name: rustc spells one type differently in a layout's name and in a field.
    by_canonical: HashMap<String, Vec<usize>>,
    by_last: HashMap<String, Vec<usize>>,
    futures: &'a [Future],
}

impl<'a> Index<'a> {
    pub fn new(futures: &'a [Future]) -> Self {
        let mut by_name = HashMap::new();
        let mut by_last: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_canonical: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, f) in futures.iter().enumerate() {
            by_name.insert(f.ty.as_str(), i);
            by_canonical.entry(canonical(&f.ty)).or_default().push(i);
            if let Some(p) = &f.path {
                by_last.entry(last_segment(p).to_string()).or_default().push(i);
            }
        }
        Index { by_name, by_canonical, by_last, futures }
    }

    /// Resolves an awaitee type of `size` bytes to a layout entry. A wrapper around one future
    /// (`Instrumented<{async block@..}>`, `Timeout<{async fn body of f()}>`) resolves to the future
    /// it wraps, when exactly one of its generic arguments is a future of the report no larger
    /// than the wrapper.
    pub fn resolve(&self, ty: &str, size: u64) -> Option<&'a Future> {
        self.resolve_sized(ty, size, true).or_else(|| {
            let (base, Some(args)) = split_generics(ty) else { return None };
            if base.starts_with('{') {
                return None;
            }
            let inner: Vec<&Future> = split_args(args)
                .into_iter()
                .filter(|a| a.starts_with('{') || a.contains('<'))
                .filter_map(|a| self.resolve_sized(a, size, false).or_else(|| self.resolve(a, size)))
                .filter(|f| f.size <= size)
                .collect();
            (inner.len() == 1).then(|| inner[0])
        })
    }

    /// `exact`: the entry must have `size` bytes; otherwise at most `size`.
    fn resolve_sized(&self, ty: &str, size: u64, exact: bool) -> Option<&'a Future> {
        if let Some(&i) = self.by_name.get(ty) {
            return Some(&self.futures[i]);
        }
        let fits = |f: &&Future| if exact { f.size == size } else { f.size <= size };
        let same: Vec<&Future> =
            self.by_canonical.get(&canonical(ty)).into_iter().flatten().map(|&i| &self.futures[i]).filter(fits).collect();
        if let [one] = same.as_slice() {
            return Some(one);
        }
        let path = ty.strip_prefix("{async fn body of ")?.strip_suffix("()}")?;
        let same_size = self
            .by_last
            .get(last_segment(path))?
            .iter()
            .map(|&i| &self.futures[i])
            .filter(move |f| if exact { f.size == size } else { f.size <= size });
        // The path as printed, then without its leading segments: a future of another crate of the
        // build is named from outside, through re-exports (`mini_redis::Client::get` for the
        // library's `clients::client::Client::get`), down to `Type::method`.
        let segs = top_level_segments(path);
        let keep = if segs.len() > 1 { 2 } else { 1 };
        for skip in 0..=segs.len().saturating_sub(keep) {
            let short = &path[segs[skip]..];
            let cands: Vec<&Future> = same_size
                .clone()
                .filter(|f| f.path.as_deref().is_some_and(|p| path_suffix_match(p, short)))
                .collect();
            match cands.len() {
                0 => continue,
                1 => return Some(cands[0]),
                _ => return None,
            }
        }
        None
    }
}

