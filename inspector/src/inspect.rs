//! `cargo unasync inspect`: read -> parse -> select -> render.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, IsTerminal};
use std::path::{Path, PathBuf};

use crate::analysis::analyse_all;
use crate::cargo_run::{self, Mode, Selection};
use crate::error::{Error, Exit};
use crate::model::Future;
use crate::parser::parse_reader_raw;
use crate::render::{self, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct InspectArgs {
    /// Only futures whose type name contains this substring (e.g. `connection::`, `read_frame`)
    pub filter: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Show only the N largest futures
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// CI gate: exit 1, printing each offender's breakdown, if a future is larger than BYTES
    #[arg(long, value_name = "BYTES")]
    pub max_size: Option<u64>,
    /// Table: one line per future, no per-state breakdown
    #[arg(long)]
    pub summary: bool,
    /// Read a captured `-Zprint-type-sizes` output instead of building (repeatable)
    #[arg(long, value_name = "FILE")]
    pub input: Vec<PathBuf>,
    #[command(flatten)]
    pub selection: Selection,
}

/// The crate a capture file belongs to: the wrapper writes rustc's stdout for `--crate-name X`
/// to `X-<pid>.txt` (`X-<pid>.rs` for expanded sources). `None` for other file names.
pub fn capture_crate(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    let (name, pid) = stem.rsplit_once('-')?;
    let ok = !name.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| name.to_string())
}

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
        let mut raw = Vec::new();
        let mut seen_raw = HashSet::new();
        let f = File::open(p).map_err(|e| Error::io(&format!("opening {}", p.display()), e))?;
        parse_reader_raw(
            BufReader::new(f),
            |fut| mine.push(fut),
            |r| {
                if seen_raw.insert(r.name.clone()) {
                    raw.push(r);
                }
            },
        )
        .map_err(|e| Error::io(&format!("reading {}", p.display()), e))?;
        crate::desugared::merge(&mut mine, &raw);
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
        (Some(p), _) => crate::desugared::source_path(p),
        (None, Some(l)) if !l.contains(".rs:") => crate::desugared::source_path(l),
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
            let last = f.path.as_deref().map(|p| last_segment(&crate::desugared::source_path(p)).to_string());
            own.insert((f.krate.as_deref(), last.unwrap_or_default(), fingerprint(f)));
        }
    }
    let drop: Vec<bool> = futures
        .iter()
        .map(|f| {
            foreign_crate(f, &crates).is_some_and(|c| {
                let last = f.path.as_deref().map(|p| last_segment(&crate::desugared::source_path(p)).to_string());
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

fn last_segment(p: &str) -> &str {
    p.rsplit("::").next().unwrap_or(p)
}

/// Builds the selection and returns every future rustc laid out, analysed and sorted.
pub fn collect(sel: &Selection, verbose: bool) -> Result<Vec<Future>, Error> {
    let proj = cargo_run::project(sel, verbose)?;
    let out = cargo_run::build(sel, &proj, Mode::TypeSizes, verbose, None)?;
    if verbose {
        for f in &out.files {
            eprintln!("cargo-unasync: captured {}", f.display());
        }
    }
    let mut futures = read_files(&out.files)?;
    if !verbose && let Some(dir) = out.files.first().and_then(|f| f.parent()) {
        let _ = std::fs::remove_dir_all(dir);
    }
    if futures.is_empty() {
        return Err(Error::new(
            Exit::NoFutures,
            format!(
                "rustc laid out no futures in {}: it has no async fn, async block or async closure that \
                 gets compiled (generic async fns appear only when instantiated; unused ones in a binary are not compiled)",
                proj.primary.join(", ")
            ),
        ));
    }
    prepare(&mut futures);
    Ok(futures)
}

/// Analysis and the canonical order: largest first, then by name.
pub fn prepare(futures: &mut [Future]) {
    analyse_all(futures);
    futures.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.ty.cmp(&b.ty)));
}

pub fn style() -> Style {
    Style { color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() }
}

pub fn run(args: &InspectArgs, verbose: bool) -> Result<(), Error> {
    let futures = if args.input.is_empty() {
        collect(&args.selection, verbose)?
    } else {
        let mut f = read_files(&args.input)?;
        if f.is_empty() {
            return Err(Error::new(
                Exit::NoFutures,
                format!("no future layouts in {}", args.input.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")),
            ));
        }
        prepare(&mut f);
        f
    };
    run_on(futures, args)
}

pub fn run_on(futures: Vec<Future>, args: &InspectArgs) -> Result<(), Error> {
    let total = futures.len();
    let mut sel: Vec<Future> = match &args.filter {
        Some(s) => futures.into_iter().filter(|f| f.ty.contains(s.as_str())).collect(),
        None => futures,
    };
    if sel.is_empty() {
        return Err(Error::new(
            Exit::NoFutures,
            format!("none of the {total} futures matches `{}`", args.filter.as_deref().unwrap_or("")),
        ));
    }
    let offenders: Vec<Future> = match args.max_size {
        Some(m) => sel.iter().filter(|f| f.size > m).cloned().collect(),
        None => Vec::new(),
    };
    if let Some(n) = args.top {
        sel.truncate(n);
    }
    let st = style();
    let text = match args.format {
        Format::Json => render::json(&sel),
        Format::Table => render::table(&sel, st, args.summary),
    };
    print!("{text}");
    if let Some(m) = args.max_size {
        if !offenders.is_empty() {
            if args.format == Format::Table {
                println!();
                println!("{}", st_bold(st, &format!("{} future(s) larger than {m} bytes:", offenders.len())));
                for f in &offenders {
                    println!("{}", render::offender_line(f, m, st));
                    print!("{}", render::detail(f, st));
                }
            } else {
                for f in &offenders {
                    eprintln!("{}", render::offender_line(f, m, Style { color: false }));
                    eprint!("{}", render::detail(f, Style { color: false }));
                }
            }
            return Err(Error::new(Exit::SizeGate, format!("{} future(s) exceed --max-size {m}", offenders.len())));
        }
        eprintln!("cargo-unasync: all {} futures are within {m} bytes", sel.len());
    }
    Ok(())
}

fn st_bold(st: Style, s: &str) -> String {
    if st.color { format!("\x1b[1m{s}\x1b[0m") } else { s.to_string() }
}

/// Used by `expand`: futures belonging to the fn at `path` (rustc may print trimmed paths;
/// `<T as Trait>::f` matches `T::f`), native and desugared, sorted by type name.
pub fn futures_for_path<'a>(futures: &'a [Future], path: &str) -> Vec<&'a Future> {
    let path = crate::desugared::source_path(path);
    let mut v: Vec<&Future> = futures
        .iter()
        .filter(|f| {
            f.path.as_deref().is_some_and(|p| {
                let p = crate::desugared::source_path(p);
                crate::analysis::path_suffix_match(&path, &p) || crate::analysis::path_suffix_match(&p, &path)
            })
        })
        .collect();
    v.sort_by(|a, b| a.ty.cmp(&b.ty));
    v
}

/// The fixtures convention: `desugared::X` and `native::X` are the same source compiled twice.
/// Returns the other one's path, if `path` has such a segment.
pub fn twin_path(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.split("::").collect();
    let i = segs.iter().position(|s| *s == "desugared" || *s == "native")?;
    let mut t: Vec<String> = segs.iter().map(|s| s.to_string()).collect();
    t[i] = if segs[i] == "desugared" { "native" } else { "desugared" }.to_string();
    Some(t.join("::"))
}

/// `a::b<T>::c<u8>` -> `a::b::c`.
pub fn strip_generics(p: &str) -> String {
    let mut depth = 0;
    let mut s = String::new();
    for c in p.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            _ if depth == 0 => s.push(c),
            _ => {}
        }
    }
    s
}

