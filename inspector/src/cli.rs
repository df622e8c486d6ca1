//! Command line.

use std::io::Read;
use std::time::Instant;

use clap::{Parser, Subcommand};

use crate::error::{Error, Exit};
use crate::cmd::inspect::InspectArgs;

#[derive(Debug, Parser)]
#[command(name = "cargo-unasync", bin_name = "cargo unasync", version, about = "See what rustc lays out for your futures")]
pub struct Cli {
    /// Print the exact commands run
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Report every future rustc laid out, largest first, and why each byte is there
    Inspect(InspectArgs),
    /// Print the macro-expanded source of one function next to rustc's layout of its future
    Expand(crate::cmd::expand::ExpandArgs),
    /// Per async fn: rustc's future size against the size of the same fn under #[unasync::desugar]
    /// (built from a scratch copy of the package; your files are not modified)
    Compare(crate::cmd::compare::CompareArgs),
    /// Write each future's layout as an insta `.snap` file in DIR (review with `cargo insta
    /// review`; `--check` fails on a difference)
    Snapshot(crate::cmd::snapshot::SnapshotArgs),
    /// Measure parser throughput on a captured -Zprint-type-sizes file (repeated in memory)
    BenchParse {
        file: std::path::PathBuf,
        /// Repeat the file until the input is at least this many MiB
        #[arg(long, default_value_t = 256)]
        mib: usize,
    },
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `cargo unasync ...` runs `cargo-unasync unasync ...`.
    if args.get(1).is_some_and(|a| a == "unasync") {
        args.remove(1);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { Exit::Usage as i32 } else { 0 };
        }
    };
    match run(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("cargo-unasync: error: {e}");
            e.exit as i32
        }
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Cmd::Inspect(a) => crate::cmd::inspect::run(&a, cli.verbose),
        Cmd::Expand(a) => crate::cmd::expand::run(&a, cli.verbose),
        Cmd::Compare(a) => crate::cmd::compare::run(&a, cli.verbose),
        Cmd::Snapshot(a) => crate::cmd::snapshot::run(&a, cli.verbose),
        Cmd::BenchParse { file, mib } => bench_parse(&file, mib),
    }
}

fn bench_parse(file: &std::path::Path, mib: usize) -> Result<(), Error> {
    let mut sample = Vec::new();
    std::fs::File::open(file)
        .and_then(|mut f| f.read_to_end(&mut sample))
        .map_err(|e| Error::io(&format!("reading {}", file.display()), e))?;
    if sample.is_empty() {
        return Err(Error::new(Exit::NoFutures, "empty sample"));
    }
    let target = mib * 1024 * 1024;
    let mut big = Vec::with_capacity(target + sample.len());
    while big.len() < target {
        big.extend_from_slice(&sample);
    }
    let t = Instant::now();
    let mut n = 0u64;
    let mut bytes = 0u64;
    let lines = crate::parse::layout::parse_reader(&big[..], |f| {
        n += 1;
        bytes += f.size;
    })
    .map_err(|e| Error::io("parsing", e))?;
    let secs = t.elapsed().as_secs_f64();
    let mb = big.len() as f64 / 1e6;
    println!(
        "parsed {mb:.1} MB ({lines} lines, {n} futures) in {secs:.3} s: {:.1} MB/s",
        mb / secs
    );
    Ok(())
}
