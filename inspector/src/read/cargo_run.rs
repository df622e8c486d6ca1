//! Running cargo with the binary itself as `RUSTC_WRAPPER`, and the wrapper mode.
//!
//! `cargo unasync` sets `RUSTC_WRAPPER` to its own executable and `CARGO_UNASYNC_WRAP` to a mode.
//! Cargo then runs `cargo-unasync <rustc> <args..>` for every compiler call; [`wrapper_main`]
//! forwards each call unchanged, except for the primary packages (`CARGO_PRIMARY_PACKAGE`), where
//! it adds `-Zprint-type-sizes` (or runs an extra `-Zunpretty=expanded` pass) with
//! `RUSTC_BOOTSTRAP=1` for that one call only, and streams rustc's stdout to a file. A
//! `RUSTC_WRAPPER` the user had set is chained (`CARGO_UNASYNC_INNER_WRAPPER`). Builds use their
//! own target directory, `<target-dir>/unasync`, so the user's build cache is left alone.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use crate::error::{Error, Exit};

pub const ENV_MODE: &str = "CARGO_UNASYNC_WRAP";
pub const ENV_OUT: &str = "CARGO_UNASYNC_OUT";
pub const ENV_INNER: &str = "CARGO_UNASYNC_INNER_WRAPPER";
/// Marker file the wrapper writes when rustc refused a `-Z` flag.
const REFUSED: &str = "refused-unstable-flag";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    TypeSizes,
    Expanded,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::TypeSizes => "type-sizes",
            Mode::Expanded => "expanded",
        }
    }
}

/// Cargo's package and target selection, passed through.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Selection {
    /// Path to Cargo.toml
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Package(s) to inspect
    #[arg(short = 'p', long = "package", value_name = "SPEC")]
    pub package: Vec<String>,
    /// Only the library target
    #[arg(long)]
    pub lib: bool,
    /// Only the named binary
    #[arg(long, value_name = "NAME")]
    pub bin: Vec<String>,
    /// Only the named test target
    #[arg(long, value_name = "NAME")]
    pub test: Vec<String>,
    /// All targets (lib, bins, tests, benches, examples)
    #[arg(long)]
    pub all_targets: bool,
    /// Space or comma separated features to activate
    #[arg(short = 'F', long, value_name = "FEATURES")]
    pub features: Vec<String>,
    /// Activate all features
    #[arg(long)]
    pub all_features: bool,
    /// Do not activate the `default` feature
    #[arg(long)]
    pub no_default_features: bool,
    /// Build in release mode (layouts are the same; the build is slower)
    #[arg(long, short = 'r')]
    pub release: bool,
}

impl Selection {
    /// Arguments for `cargo build`/`cargo check`.
    pub fn cargo_args(&self) -> Vec<OsString> {
        let mut a: Vec<OsString> = Vec::new();
        if let Some(m) = &self.manifest_path {
            a.push("--manifest-path".into());
            a.push(m.into());
        }
        for p in &self.package {
            a.push("-p".into());
            a.push(p.into());
        }
        if self.lib {
            a.push("--lib".into());
        }
        for b in &self.bin {
            a.push("--bin".into());
            a.push(b.into());
        }
        for t in &self.test {
            a.push("--test".into());
            a.push(t.into());
        }
        if self.all_targets {
            a.push("--all-targets".into());
        }
        for f in &self.features {
            a.push("--features".into());
            a.push(f.into());
        }
        if self.all_features {
            a.push("--all-features".into());
        }
        if self.no_default_features {
            a.push("--no-default-features".into());
        }
        if self.release {
            a.push("--release".into());
        }
        a
    }
}

pub fn cargo_bin() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

fn show(cmd: &Command) -> String {
    let mut s = String::new();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            s.push_str(&format!("{}={} ", k.to_string_lossy(), v.to_string_lossy()));
        }
    }
    s.push_str(&cmd.get_program().to_string_lossy());
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// The workspace facts a build needs.
pub struct Project {
    pub target_dir: PathBuf,
    pub workspace_root: PathBuf,
    /// Packages cargo will treat as primary for this selection.
    pub primary: Vec<String>,
    pub metadata: cargo_metadata::Metadata,
}

pub fn project(sel: &Selection, verbose: bool) -> Result<Project, Error> {
    let mut mc = cargo_metadata::MetadataCommand::new();
    mc.cargo_path(cargo_bin()).no_deps();
    if let Some(m) = &sel.manifest_path {
        mc.manifest_path(m);
    }
    if verbose {
        eprintln!("+ {}", show(&mc.cargo_command()));
    }
    let metadata = mc.exec().map_err(|e| {
        let msg = e.to_string();
        let msg = msg.trim();
        Error::new(Exit::NotCargoProject, format!("not a cargo project (cargo metadata failed):\n{msg}"))
    })?;
    // The package whose manifest was named (cargo metadata without deps has no resolve root).
    let named = sel.manifest_path.as_ref().and_then(|m| m.canonicalize().ok()).and_then(|m| {
        metadata.packages.iter().find(|p| p.manifest_path.as_std_path().canonicalize().ok().as_deref() == Some(m.as_path()))
    });
    let primary: Vec<String> = if !sel.package.is_empty() {
        sel.package.clone()
    } else if let Some(p) = named {
        vec![p.name.to_string()]
    } else if let Some(root) = metadata.root_package() {
        vec![root.name.to_string()]
    } else {
        metadata.workspace_default_packages().iter().map(|p| p.name.to_string()).collect()
    };
    Ok(Project {
        target_dir: metadata.target_directory.as_std_path().join("unasync"),
        workspace_root: metadata.workspace_root.as_std_path().to_path_buf(),
        primary,
        metadata,
    })
}

static WRAPPER_EXE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// For callers of the library that are not the `cargo-unasync` binary (tests): the binary cargo
/// should run as `RUSTC_WRAPPER`. The first call wins.
pub fn set_wrapper_exe(path: PathBuf) {
    let _ = WRAPPER_EXE.set(path);
}

/// The executable cargo runs as `RUSTC_WRAPPER`: this one unless [`set_wrapper_exe`] was called.
pub fn wrapper_exe() -> Result<PathBuf, Error> {
    match WRAPPER_EXE.get() {
        Some(p) => Ok(p.clone()),
        None => std::env::current_exe().map_err(|e| Error::io("locating the cargo-unasync executable", e)),
    }
}

/// Outputs of one build.
pub struct BuildOutput {
    /// One file per primary rustc invocation (stdout of rustc).
    pub files: Vec<PathBuf>,
}

/// Builds the selection with the wrapper in `mode`, returning rustc's captured stdout files.
/// `json_messages`: when set, cargo runs with `--message-format=json` and its stdout is returned
/// through `messages` (used by `compare` to find error spans); otherwise cargo's output goes to
/// the terminal.
pub fn build(
    sel: &Selection,
    proj: &Project,
    mode: Mode,
    verbose: bool,
    messages: Option<&mut String>,
) -> Result<BuildOutput, Error> {
    fs::create_dir_all(&proj.target_dir).map_err(|e| Error::io("creating the target directory", e))?;
    // Our own lock: the clean + build pair must not interleave with another cargo-unasync run.
    let lock = File::create(proj.target_dir.join(".cargo-unasync.lock"))
        .map_err(|e| Error::io("creating the lock file", e))?;
    lock.lock().map_err(|e| Error::io("locking the target directory", e))?;

    let out_dir = proj.target_dir.join("captured").join(format!("{}-{}", mode.as_str(), std::process::id()));
    let _ = fs::remove_dir_all(&out_dir);
    fs::create_dir_all(&out_dir).map_err(|e| Error::io("creating the capture directory", e))?;

    // rustc prints layouts only when it compiles, so the primary packages are always rebuilt
    // (dependencies stay cached in the separate target directory).
    let mut clean = Command::new(cargo_bin());
    clean.arg("clean").arg("--target-dir").arg(&proj.target_dir);
    if let Some(m) = &sel.manifest_path {
        clean.arg("--manifest-path").arg(m);
    }
    for p in &proj.primary {
        clean.arg("-p").arg(p);
    }
    clean.arg("--quiet");
    if verbose {
        eprintln!("+ {}", show(&clean));
    }
    let st = clean.stderr(Stdio::inherit()).stdout(Stdio::null()).status()
        .map_err(|e| Error::io("running cargo clean", e))?;
    if !st.success() {
        return Err(Error::new(Exit::BuildFailed, "cargo clean -p failed (see above)"));
    }

    let self_exe = wrapper_exe()?;
    let mut cmd = Command::new(cargo_bin());
    cmd.arg(match mode {
        Mode::TypeSizes => "build",
        Mode::Expanded => "check",
    });
    cmd.args(sel.cargo_args());
    cmd.arg("--target-dir").arg(&proj.target_dir);
    if messages.is_some() {
        cmd.arg("--message-format=json-diagnostic-rendered-ansi");
    }
    cmd.env("RUSTC_WRAPPER", &self_exe)
        .env(ENV_MODE, mode.as_str())
        .env(ENV_OUT, &out_dir)
        .env("CARGO_INCREMENTAL", "0");
    match std::env::var_os("RUSTC_WRAPPER") {
        Some(w) if !w.is_empty() && Path::new(&w) != self_exe => {
            cmd.env(ENV_INNER, w);
        }
        _ => {
            cmd.env_remove(ENV_INNER);
        }
    }
    if verbose {
        eprintln!("+ {}", show(&cmd));
        cmd.arg("--verbose");
    }
    eprintln!(
        "cargo-unasync: building {} ({}) in {}",
        proj.primary.join(", "),
        match mode {
            Mode::TypeSizes => "-Zprint-type-sizes",
            Mode::Expanded => "-Zunpretty=expanded",
        },
        proj.target_dir.display()
    );
    let status: ExitStatus = if let Some(buf) = messages {
        let out = cmd.stderr(Stdio::inherit()).output().map_err(|e| Error::io("running cargo", e))?;
        buf.push_str(&String::from_utf8_lossy(&out.stdout));
        out.status
    } else {
        cmd.status().map_err(|e| Error::io("running cargo", e))?
    };
    if out_dir.join(REFUSED).exists() {
        return Err(Error::new(
            Exit::FlagRefused,
            "this toolchain refuses the unstable flag even with RUSTC_BOOTSTRAP=1 (see rustc's message above)",
        ));
    }
    let expanded_anyway = mode == Mode::Expanded && has_captures(&out_dir);
    if !status.success() && !expanded_anyway {
        return Err(Error::new(Exit::BuildFailed, "the crate does not compile (rustc's errors are above)"));
    }
    if !status.success() {
        eprintln!("cargo-unasync: the crate does not compile; its macro expansion was captured all the same");
    }
    let mut files: Vec<PathBuf> = fs::read_dir(&out_dir)
        .map_err(|e| Error::io("reading the capture directory", e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt" || x == "rs"))
        .collect();
    files.sort();
    Ok(BuildOutput { files })
}

/// Whether the wrapper captured a non-empty expansion in `dir`.
fn has_captures(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|rd| rd.flatten().any(|e| e.path().extension().is_some_and(|x| x == "rs") && e.metadata().is_ok_and(|m| m.len() > 0)))
}

fn arg_value(args: &[OsString], flag: &str) -> Option<String> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == flag {
            return it.next().map(|v| v.to_string_lossy().into_owned());
        }
        if let Some(v) = a.strip_prefix(&format!("{flag}=")) {
            return Some(v.to_string());
        }
    }
    None
}

/// Runs `cmd`, forwarding its stderr while watching for rustc refusing `-Z`.
fn run_watching(mut cmd: Command, out_dir: &Path) -> std::io::Result<ExitStatus> {
    cmd.stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    let stderr = child.stderr.take().expect("piped");
    let mut refused = false;
    let mut err = std::io::stderr().lock();
    for line in BufReader::new(stderr).split(b'\n') {
        let line = line?;
        let s = String::from_utf8_lossy(&line);
        if s.contains("is only accepted on the nightly compiler") || s.contains("unknown unstable option") {
            refused = true;
        }
        err.write_all(&line)?;
        err.write_all(b"\n")?;
    }
    let st = child.wait()?;
    if refused && !st.success() {
        let _ = fs::write(out_dir.join(REFUSED), "");
    }
    Ok(st)
}

/// Whether this process was started by cargo as our own `RUSTC_WRAPPER`.
pub fn is_wrapper_invocation() -> bool {
    std::env::var_os(ENV_MODE).is_some() && std::env::args_os().nth(1).is_some_and(|a| {
        let a = a.to_string_lossy().into_owned();
        a != "unasync" && !a.starts_with('-')
    })
}

/// The `RUSTC_WRAPPER` mode: `argv[1]` is rustc (or a workspace wrapper), the rest its arguments.
pub fn wrapper_main() -> i32 {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let mode = std::env::var(ENV_MODE).unwrap_or_default();
    let out_dir = PathBuf::from(std::env::var_os(ENV_OUT).unwrap_or_default());
    let base = || {
        let mut c = match std::env::var_os(ENV_INNER) {
            Some(w) if !w.is_empty() => {
                let mut c = Command::new(w);
                c.args(&args);
                c
            }
            _ => {
                let mut c = Command::new(&args[0]);
                c.args(&args[1..]);
                c
            }
        };
        // Never leak our mode into nested tools (build scripts running cargo, etc.).
        c.env_remove(ENV_MODE).env_remove(ENV_OUT).env_remove(ENV_INNER);
        c
    };
    let primary = std::env::var_os("CARGO_PRIMARY_PACKAGE").is_some();
    let probing = args.iter().any(|a| {
        let a = a.to_string_lossy();
        a == "-vV" || a.starts_with("--print") || a == "-"
    });
    let status = if !primary || probing || out_dir.as_os_str().is_empty() {
        base().status()
    } else {
        let crate_name = arg_value(&args, "--crate-name").unwrap_or_else(|| "unknown".into());
        let tag = format!("{crate_name}-{}", std::process::id());
        match mode.as_str() {
            "type-sizes" => (|| {
                let mut c = base();
                c.arg("-Zprint-type-sizes").env("RUSTC_BOOTSTRAP", "1");
                c.stdout(File::create(out_dir.join(format!("{tag}.txt")))?);
                run_watching(c, &out_dir)
            })(),
            "expanded" => (|| {
                // The expansion first: it needs only parsing and macro expansion, so it is
                // captured even when the crate does not type-check (expand --no-layout).
                let mut c = base();
                c.arg("-Zunpretty=expanded").env("RUSTC_BOOTSTRAP", "1");
                c.stdout(File::create(out_dir.join(format!("{tag}.rs")))?);
                let st = run_watching(c, &out_dir)?;
                if !st.success() {
                    return Ok(st);
                }
                // Then the real compile, for the outputs dependent targets need.
                base().status()
            })(),
            _ => base().status(),
        }
    };
    match status {
        Ok(st) => st.code().unwrap_or(101),
        Err(e) => {
            eprintln!("cargo-unasync (rustc wrapper): failed to run {:?}: {e}", args.first());
            101
        }
    }
}
