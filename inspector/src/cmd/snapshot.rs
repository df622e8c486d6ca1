//! `cargo unasync snapshot DIR`: each future's layout as an insta `.snap` file in DIR, so that
//! `cargo insta review` shows what a code, dependency or toolchain change did to the user's own
//! futures. Like insta: a new or changed snapshot is written next to the old one as
//! `NAME.snap.new` for review; `--accept` writes `NAME.snap` directly (and removes snapshots of
//! futures that are gone); `--check` writes nothing and fails on any difference (for CI).

use std::collections::HashSet;
use std::fs;
use std::path::PathBuf;

use std::collections::HashMap;

use crate::cmd::expand::{Found, expanded_functions, find};
use crate::cmd::inspect::collect;
use crate::error::{Error, Exit};
use crate::model::{Future, FutureKind};
use crate::names::{in_async_fn_body, source_path};
use crate::read::cargo_run::Selection;
use crate::render::snapshot::{file, file_stem, stored_body};

#[derive(Debug, Clone, clap::Args)]
pub struct SnapshotArgs {
    /// Directory of the `.snap` files (created when missing)
    pub dir: PathBuf,
    /// Write nothing; exit 1 if a future is new, changed or gone
    #[arg(long, conflicts_with = "accept")]
    pub check: bool,
    /// Write `.snap` files directly instead of `.snap.new` for review; remove those of futures
    /// that are gone
    #[arg(long)]
    pub accept: bool,
    #[command(flatten)]
    pub selection: Selection,
}

/// The expansion of each desugared fn, pretty-printed, by its future's type (one more build,
/// with `-Zunpretty=expanded`, when there are any). A fn not found in the expansion gets none.
fn expansions(futures: &[Future], sel: &Selection, verbose: bool) -> Result<HashMap<String, String>, Error> {
    let desugared: Vec<&Future> = futures.iter().filter(|f| f.kind == FutureKind::Desugared).collect();
    if desugared.is_empty() {
        return Ok(HashMap::new());
    }
    let fns = expanded_functions(sel, verbose)?;
    let mut out = HashMap::new();
    for f in desugared {
        let Some(path) = f.path.as_deref() else { continue };
        let mine: Vec<Found> =
            fns.iter().filter(|x| f.krate.is_none() || x.krate.is_none() || x.krate == f.krate).cloned().collect();
        // A machine lowered in place inside an async fn's body is that fn's.
        let path = source_path(path);
        let path = in_async_fn_body(&path).unwrap_or(&path);
        if let Ok(found) = find(mine, path) {
            out.insert(f.ty.clone(), found.source());
        }
    }
    Ok(out)
}

pub fn run(args: &SnapshotArgs, verbose: bool) -> Result<(), Error> {
    let futures = collect(&args.selection, verbose)?;
    let expansions = expansions(&futures, &args.selection, verbose)?;
    if !args.check {
        fs::create_dir_all(&args.dir).map_err(|e| Error::io(&format!("creating {}", args.dir.display()), e))?;
    }
    let mut names = HashSet::new();
    let (mut same, mut changed, mut new) = (Vec::new(), Vec::new(), Vec::new());
    for f in &futures {
        // Two futures with one name (a generic fn's instances named alike): number the later.
        let stem = file_stem(f);
        let stem = (1..).map(|i| if i == 1 { stem.clone() } else { format!("{stem}_{i}") }).find(|s| names.insert(s.clone())).expect("a free name");
        let expression = f.stable_name.clone().unwrap_or_else(|| f.ty.clone());
        let text = file(f, &expression, expansions.get(&f.ty).map(String::as_str));
        let snap = args.dir.join(format!("{stem}.snap"));
        let pending = args.dir.join(format!("{stem}.snap.new"));
        let old = fs::read_to_string(&snap).ok();
        let unchanged = old.as_deref().and_then(stored_body) == stored_body(&text);
        match (&old, unchanged) {
            (Some(_), true) => same.push(stem.clone()),
            (Some(_), false) => changed.push(stem.clone()),
            (None, _) => new.push(stem.clone()),
        }
        if args.check {
            continue;
        }
        let write = |p: &PathBuf| fs::write(p, &text).map_err(|e| Error::io(&format!("writing {}", p.display()), e));
        if unchanged {
            let _ = fs::remove_file(&pending);
        } else if args.accept {
            write(&snap)?;
            let _ = fs::remove_file(&pending);
        } else {
            write(&pending)?;
        }
    }
    // Snapshots of futures that are no longer there.
    let mut gone = Vec::new();
    if let Ok(rd) = fs::read_dir(&args.dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".snap")
                && !names.contains(stem)
            {
                gone.push(stem.to_string());
                if args.accept {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
    }
    gone.sort();
    for (what, list) in [("changed", &changed), ("new", &new), ("gone", &gone)] {
        for n in list {
            eprintln!("cargo-unasync: {what}: {n}");
        }
    }
    eprintln!(
        "cargo-unasync: {} futures: {} unchanged, {} changed, {} new, {} gone{}",
        futures.len(),
        same.len(),
        changed.len(),
        new.len(),
        gone.len(),
        if args.check || args.accept || (changed.is_empty() && new.is_empty()) { "" } else { "; review with `cargo insta review`" }
    );
    if args.check && !(changed.is_empty() && new.is_empty() && gone.is_empty()) {
        return Err(Error::new(Exit::SnapshotDiffers, format!("{} snapshot(s) differ from {}", changed.len() + new.len() + gone.len(), args.dir.display())));
    }
    Ok(())
}
