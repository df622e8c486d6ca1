//! End-to-end: run the binary on the small crates under tests/crates/ (each build takes well
//! under a second; dependencies: none).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn crate_manifest(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/crates").join(name).join("Cargo.toml")
}

fn run(args: &[&str], crate_name: &str, env: &[(&str, &str)]) -> Output {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("e2e-{crate_name}"));
    let mut c = Command::new(env!("CARGO_BIN_EXE_cargo-unasync"));
    c.args(args).env("CARGO_TARGET_DIR", &target).env_remove("RUSTC_WRAPPER").env("NO_COLOR", "1");
    if crate_name != "-" {
        c.arg("--manifest-path").arg(crate_manifest(crate_name));
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("running cargo-unasync")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn inspect_json_schema() {
    let o = run(&["inspect", "--format", "json"], "demo", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    let fs = v["futures"].as_array().unwrap();
    assert!(fs.len() >= 14);
    let sizes: Vec<u64> = fs.iter().map(|f| f["size"].as_u64().unwrap()).collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "largest first");
    assert_eq!(fs[0]["type"], "{async fn body of run_all()}");
    let simple = fs.iter().find(|f| f["type"] == "{async fn body of cases::straight::simple()}").unwrap();
    for key in ["size", "align", "variants", "analysis"] {
        assert!(!simple[key].is_null(), "{key}");
    }
    let field = &simple["variants"][1]["fields"][0];
    for key in ["name", "kind", "size", "offset", "type"] {
        assert!(field.get(key).is_some(), "{key}");
    }
    assert!(stderr(&o).contains("building demo"), "progress on stderr");
}

#[test]
fn inspect_table_top_filter_and_cargo_subcommand_form() {
    let o = run(&["unasync", "inspect", "--summary", "--top", "2", "generic"], "demo", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("SIZE"));
    assert!(lines[1].contains("{async fn body of use_generic()}"));
    assert!(lines[2].contains("{async fn body of generic<[u64; 8]>()}"));
    assert!(!out.contains('\x1b'), "no colors when not a terminal");
}

#[test]
fn max_size_gate() {
    let o = run(&["inspect", "--max-size", "1000", "--summary"], "demo", &[]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("4 future(s) larger than 1000 bytes"), "{out}");
    assert!(out.contains("too large: run_all() is 2400 bytes"));
    assert!(out.contains("Box::pin"), "offenders get their breakdown");
    let o = run(&["inspect", "--max-size", "100000", "--summary"], "demo", &[]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn verbose_prints_commands_and_user_wrapper_is_chained() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("user-wrapper");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("calls.log");
    let _ = std::fs::remove_file(&log);
    let script = dir.join("wrap.sh");
    std::fs::write(&script, format!("#!/bin/sh\necho \"$@\" >> {}\nexec \"$@\"\n", log.display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let o = run(&["inspect", "--summary", "-v"], "demo", &[("RUSTC_WRAPPER", script.to_str().unwrap())]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("+ cargo") || stderr(&o).contains("+ "), "{}", stderr(&o));
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(calls.contains("--crate-name demo"), "{calls}");
    assert!(calls.contains("-Zprint-type-sizes"));
}

#[test]
fn crate_that_does_not_compile_exits_2_with_rustc_errors() {
    let o = run(&["inspect"], "broken", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("E0308"), "{}", stderr(&o));
    assert!(stderr(&o).contains("does not compile"));
}

#[test]
fn no_futures_exits_5() {
    let o = run(&["inspect"], "nofutures", &[]);
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("no futures"));
    assert!(stdout(&o).is_empty(), "no silent empty report");
}

#[test]
fn filter_matching_nothing_exits_5() {
    let o = run(&["inspect", "no_such_fn_anywhere"], "demo", &[]);
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("matches"));
}

#[test]
fn not_a_cargo_project_exits_3() {
    let o = run(&["inspect", "--manifest-path", "/nonexistent/Cargo.toml"], "-", &[]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("not a cargo project"));
}

#[cfg(unix)]
#[test]
fn toolchain_refusing_the_flag_exits_4() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("refuse-wrapper");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("refuse.sh");
    // RUSTC_BOOTSTRAP=-1 makes even a nightly compiler behave as stable.
    std::fs::write(&script, "#!/bin/sh\nRUSTC_BOOTSTRAP=-1 exec \"$@\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = run(&["inspect"], "nofutures", &[("RUSTC_WRAPPER", script.to_str().unwrap())]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("refuses"));
}

#[test]
fn usage_error_exits_64() {
    let o = run(&["inspect", "--format", "yaml"], "-", &[]);
    assert_eq!(o.status.code(), Some(64));
}

#[test]
fn input_file_needs_no_build() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples/old-format-hand-converted.txt");
    let o = run(&["inspect", "--summary", "--input", sample.to_str().unwrap()], "-", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("[async fn body@src/lib.rs:40:1: 44:2]"));
}

/// The workspace's fixtures crate, when it builds (other work may have it broken for a while).
#[test]
fn workspace_fixtures_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("Cargo.toml");
    let o = run(
        &["inspect", "--format", "json", "-p", "unasync-fixtures", "--manifest-path", root.to_str().unwrap()],
        "-",
        &[],
    );
    match o.status.code() {
        Some(0) => {
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert!(!v["futures"].as_array().unwrap().is_empty());
        }
        Some(2) | Some(5) => eprintln!("fixtures crate does not build or has no futures yet; skipped"),
        other => panic!("unexpected exit {other:?}: {}", stderr(&o)),
    }
}

#[test]
fn expand_prints_the_function_and_its_layout() {
    let o = run(&["expand", "cases::straight::simple"], "demo", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("fn simple(x: u64) -> u64"), "{out}");
    assert!(out.contains("{async fn body of cases::straight::simple()}"), "{out}");
    // A trimmed path works too, methods come with their impl block.
    let o = run(&["expand", "Connection::read_frame", "--no-layout"], "demo", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("impl Connection {"));
    let o = run(&["expand", "cases::nope"], "demo", &[]);
    assert_eq!(o.status.code(), Some(6));
}

#[test]
fn compare_desugars_a_copy_and_reports_sizes() {
    let manifest = crate_manifest("compare");
    let lib = std::fs::read_to_string(manifest.with_file_name("src/lib.rs")).unwrap();
    let o = run(&["compare"], "compare", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let row = |name: &str| -> Vec<String> {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row {name}:\n{out}"))
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    // rustc keeps the 512-byte argument twice; the desugared frame once.
    assert_eq!(row("big_arg")[1..3], ["1026", "514"], "{out}");
    assert_eq!(row("net::Conn::read")[1..3], ["24", "16"], "{out}");
    assert_eq!(row("Service::call_twice")[1..3], ["64", "64"], "{out}");
    let guarded = row("guarded").join(" ");
    assert!(guarded.contains("stays native: unasync does not lower `.await` in a match guard yet (src/lib.rs:45)"), "{out}");
    assert!(!out.contains("\nalready "), "fns already carrying the attribute are skipped:\n{out}");
    assert!(row("TOTAL").join(" ").contains("8 of 9 functions"), "{out}");
    // The user's files are untouched.
    assert_eq!(std::fs::read_to_string(manifest.with_file_name("src/lib.rs")).unwrap(), lib);
    assert!(!std::fs::read_to_string(&manifest).unwrap().contains("/work"));
}
