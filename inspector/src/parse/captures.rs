//! Capture files to futures: each file parsed, desugared futures assembled, duplicates dropped.

use std::collections::HashSet;
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use crate::error::Error;
use crate::model::Future;
use crate::names::{last_segment, source_path};
use crate::parse::desugared::{self, Sizes};
use crate::parse::layout::parse_reader_raw;
use crate::read::capture_crate;

/// Parses capture files, keeping each type once (several targets may lay out the same future).
/// Desugared futures are assembled from their `Machine`/`__Frame`/`__State` layouts
/// ([`crate::desugared::merge`]), file by file. Each future records the crate that printed it
/// (from the file name, see [`capture_crate`]), and copies of one crate's futures printed by
/// another crate of the build are dropped ([`drop_foreign_copies`]).
pub fn read_files(files: &[PathBuf]) -> Result<Vec<Future>, Error> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for p in files {
        let krate = capture_crate(p);
        let mut mine = Vec::new();
        let mut side = (Vec::new(), Sizes::new());
        let f = File::open(p).map_err(|e| Error::io(&format!("opening {}", p.display()), e))?;
        parse_reader_raw(BufReader::new(f), |fut| mine.push(fut), |r, s| side = (r, s))
            .map_err(|e| Error::io(&format!("reading {}", p.display()), e))?;
        let (mut raw, sizes) = side;
        let mut seen_raw = HashSet::new();
        raw.retain(|r| seen_raw.insert(r.name.clone()));
        desugared::merge(&mut mine, &raw, &sizes);
        for mut fut in mine {
            if seen.insert(fut.ty.clone()) {
                fut.krate = krate.clone();
                out.push(fut);
            }
        }
    }
    drop_foreign_copies(&mut out);
    Ok(out)
}

/// The crate a future's name points into, when it is another crate of the same build: a binary
/// that awaits its library's futures makes rustc print them again, named from outside
/// (`{async fn body of mini_redis::server::Handler::run()}`,
/// `{async block@mini_redis::server::Listener::run::{closure#0}}`) next to the library's own
/// `{async fn body of server::Handler::run()}` and `{async block@src/server.rs:259:26: 259:36}`.
pub fn foreign_crate<'a>(f: &Future, crates: &HashSet<&'a str>) -> Option<&'a str> {
    let name = match (&f.path, &f.location) {
        (Some(p), _) => source_path(p),
        (None, Some(l)) if !l.contains(".rs:") => source_path(l),
        _ => return None,
    };
    let first = name.split("::").next()?;
    let c = crates.get(first).copied()?;
    (f.krate.as_deref() != Some(c)).then_some(c)
}

/// What must be equal for two layouts to be the same future printed twice.
fn fingerprint(f: &Future) -> String {
    let mut s = format!("{:?} {} {} {} {}", f.kind, f.size, f.align, f.discriminant, f.end_padding);
    for v in &f.variants {
        s.push_str(&format!("|{} {}", v.name, v.size));
        for x in &v.fields {
            s.push_str(&format!(" {}:{}:{}@{}", x.name, x.kind, x.size, x.offset));
        }
    }
    s
}

/// Drops the futures a crate printed for another crate of the same build (see [`foreign_crate`])
/// when that crate printed the same layout itself, under its own name (same last path segment for
/// fns; for blocks, named by span there, the layout alone). Futures only the other crate laid out
/// (generic fns it instantiates) stay.
pub fn drop_foreign_copies(futures: &mut Vec<Future>) {
    let crates: HashSet<&str> = futures.iter().filter_map(|f| f.krate.as_deref()).collect();
    let mut own: HashSet<(Option<&str>, String, String)> = HashSet::new();
    for f in futures.iter() {
        if foreign_crate(f, &crates).is_none() {
            let last = f.path.as_deref().map(|p| last_segment(&source_path(p)).to_string());
            own.insert((f.krate.as_deref(), last.unwrap_or_default(), fingerprint(f)));
        }
    }
    let drop: Vec<bool> = futures
        .iter()
        .map(|f| {
            foreign_crate(f, &crates).is_some_and(|c| {
                let last = f.path.as_deref().map(|p| last_segment(&source_path(p)).to_string());
                own.contains(&(Some(c), last.unwrap_or_default(), fingerprint(f)))
            })
        })
        .collect();
    let mut i = 0;
    futures.retain(|_| {
        i += 1;
        !drop[i - 1]
    });
}

