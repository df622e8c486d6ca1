//! `cargo unasync inspect`: read -> parse -> analyse -> select -> render.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::analyse::source::FileBodies;
use crate::analyse::prepare_with_sources;
use crate::parse::source::bodies;
use crate::read::sources::selection_files;
use crate::error::{Error, Exit};
use crate::model::Future;
use crate::parse::captures::read_files;
use crate::read::cargo_run::{self, Mode, Selection};
use crate::render::messages::{Origin, Texts, messages};
use crate::render::{self, Style};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    /// One self-contained HTML page (byte maps, awaitee trees, state diagrams)
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MessageFormat {
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct InspectArgs {
    /// Only futures whose type name or stable name contains this substring (e.g. `connection::`,
    /// `read_frame`)
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
    /// `json`: cargo's JSON messages instead of a report (cargo's own, then a note per future
    /// and a warning per `.await` over --warn-above), for rust-analyzer's check command
    #[arg(long, value_enum, value_name = "FMT")]
    pub message_format: Option<MessageFormat>,
    /// With --message-format json: warn at each `.await` whose state is larger than BYTES
    #[arg(long, value_name = "BYTES", default_value_t = 1024)]
    pub warn_above: u64,
    /// Read a captured `-Zprint-type-sizes` output instead of building (repeatable); with
    /// `--manifest-path`, that crate's sources give the lines
    #[arg(long, value_name = "FILE")]
    pub input: Vec<PathBuf>,
    #[command(flatten)]
    pub selection: Selection,
}

/// Builds the selection and returns every future rustc laid out, analysed and sorted.
pub fn collect(sel: &Selection, verbose: bool) -> Result<Vec<Future>, Error> {
    collect_with(sel, verbose, None).map(|(f, _)| f)
}

/// [`collect`], with cargo's JSON messages in `messages` when given (see
/// [`cargo_run::build`]); also returns the project.
pub fn collect_with(sel: &Selection, verbose: bool, messages: Option<&mut String>) -> Result<(Vec<Future>, cargo_run::Project), Error> {
    let proj = cargo_run::project(sel, verbose)?;
    let out = cargo_run::build(sel, &proj, Mode::TypeSizes, verbose, messages)?;
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
    prepare_with_sources(&mut futures, &read_sources(&proj.metadata, &proj.primary, sel));
    Ok((futures, proj))
}

/// The async bodies of every source file of the selected targets (files that do not parse are
/// skipped: their futures get no lines).
pub fn read_sources(meta: &cargo_metadata::Metadata, primary: &[String], sel: &Selection) -> Vec<FileBodies> {
    selection_files(meta, primary, sel)
        .into_iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(&f.path).ok()?;
            Some(FileBodies { bodies: bodies(&text, &f.module), krate: f.krate, file: f.file, path: f.path })
        })
        .collect()
}

pub fn style() -> Style {
    Style { color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() }
}

pub fn run(args: &InspectArgs, verbose: bool) -> Result<(), Error> {
    if args.message_format.is_some() {
        return editor(args, verbose);
    }
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
        // Sources only when the crate is named: a capture file says nothing about where it is.
        let files = match &args.selection.manifest_path {
            Some(_) => {
                let proj = cargo_run::project(&args.selection, verbose)?;
                read_sources(&proj.metadata, &proj.primary, &args.selection)
            }
            None => Vec::new(),
        };
        prepare_with_sources(&mut f, &files);
        f
    };
    run_on(futures, args)
}

pub fn run_on(futures: Vec<Future>, args: &InspectArgs) -> Result<(), Error> {
    let total = futures.len();
    // Lines of the table name other futures, filtered out or not.
    let names = render::Names::new(&futures);
    let mut sel: Vec<Future> = match &args.filter {
        Some(s) => futures
            .into_iter()
            .filter(|f| f.ty.contains(s.as_str()) || f.stable_name.as_deref().is_some_and(|n| n.contains(s.as_str())))
            .collect(),
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
        Format::Json => render::json::json(&sel),
        Format::Html => render::html::html(&sel),
        Format::Table => render::table::table(&sel, &names, st, args.summary),
    };
    print!("{text}");
    if let Some(m) = args.max_size {
        if !offenders.is_empty() {
            if args.format == Format::Table {
                println!();
                println!("{}", st_bold(st, &format!("{} future(s) larger than {m} bytes:", offenders.len())));
                for f in &offenders {
                    println!("{}", render::table::offender_line(f, m, st));
                    print!("{}", render::table::detail(f, &names, st));
                }
            } else {
                for f in &offenders {
                    eprintln!("{}", render::table::offender_line(f, m, Style { color: false }));
                    eprint!("{}", render::table::detail(f, &names, Style { color: false }));
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


/// `--message-format json`: cargo's messages passed through (rustc's errors and warnings stay
/// visible in the editor), then ours, then cargo's closing `build-finished`.
fn editor(args: &InspectArgs, verbose: bool) -> Result<(), Error> {
    let mut cargo_out = String::new();
    let result = collect_with(&args.selection, verbose, Some(&mut cargo_out));
    let mut finished = None;
    for line in cargo_out.lines() {
        if line.contains("\"reason\":\"build-finished\"") {
            finished = Some(line.to_string());
        } else {
            println!("{line}");
        }
    }
    let (futures, proj) = match result {
        Ok(r) => r,
        Err(e) => {
            println!("{}", finished.unwrap_or_else(|| r#"{"reason":"build-finished","success":false}"#.into()));
            return Err(e);
        }
    };
    let mut origins = HashMap::new();
    for pkg in proj.metadata.packages.iter().filter(|p| proj.primary.iter().any(|n| *n == p.name.as_str())) {
        for t in &pkg.targets {
            let origin = Origin {
                package_id: pkg.id.repr.clone(),
                manifest_path: pkg.manifest_path.to_string(),
                target: serde_json::to_value(t).unwrap_or_default(),
            };
            origins.entry(t.name.replace('-', "_")).or_insert(origin);
        }
    }
    let root = proj.metadata.workspace_root.as_std_path();
    let mut texts = Texts::new();
    for f in futures.iter().filter_map(|f| f.source.as_ref()) {
        if !texts.contains_key(&f.file)
            && let Ok(t) = std::fs::read_to_string(root.join(&f.file))
        {
            texts.insert(f.file.clone(), t);
        }
    }
    for m in messages(&futures, &origins, &texts, args.warn_above) {
        println!("{m}");
    }
    println!("{}", finished.unwrap_or_else(|| r#"{"reason":"build-finished","success":true}"#.into()));
    Ok(())
}
