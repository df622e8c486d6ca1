//! End-to-end: run the binary on the small crates under tests/crates/ (each build takes well
//! under a second; dependencies: none).

mod common;

use std::path::Path;

use common::{crate_manifest, run, stderr, stdout};

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
fn inspect_keeps_one_copy_of_the_library_futures_a_binary_awaits() {
    let o = run(&["inspect", "--format", "json"], "workspace/member", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let fs = v["futures"].as_array().unwrap();
    let types: Vec<&str> = fs.iter().map(|f| f["type"].as_str().unwrap()).collect();
    // The binary `tool` prints `ws_member::two_ticks` and `ws_member::inner::Counter::bump` again.
    assert!(!types.iter().any(|t| t.contains("ws_member::")), "{types:#?}");
    for t in ["{async fn body of two_ticks()}", "{async fn body of inner::Counter::bump()}", "{async fn body of drive()}"] {
        assert_eq!(types.iter().filter(|x| **x == t).count(), 1, "{t} once: {types:#?}");
    }
    let drive = fs.iter().find(|f| f["type"] == "{async fn body of drive()}").unwrap();
    assert_eq!(drive["crate"], "tool");
    // Its awaitee is named `ws_member::inner::Counter::bump` there; it resolves to the library's entry.
    assert_eq!(drive["analysis"]["awaitee_chain"][0]["resolved"], "{async fn body of inner::Counter::bump()}", "{drive:#}");
    let bump = fs.iter().find(|f| f["type"] == "{async fn body of inner::Counter::bump()}").unwrap();
    assert_eq!(bump["crate"], "ws_member");
}

/// The line of `demo`'s source holding `needle` (found by text, not by the code under test).
fn demo_line(needle: &str) -> u64 {
    let src = std::fs::read_to_string(crate_manifest("demo").with_file_name("src/lib.rs")).unwrap();
    let hits: Vec<usize> = src.lines().enumerate().filter(|(_, l)| l.contains(needle)).map(|(i, _)| i + 1).collect();
    assert_eq!(hits.len(), 1, "{needle} must be on one line");
    hits[0] as u64
}

#[test]
fn every_state_and_named_field_has_its_source_line() {
    let o = run(&["inspect", "--format", "json"], "demo", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let fs = v["futures"].as_array().unwrap();
    for f in fs {
        for s in f["variants"].as_array().unwrap() {
            assert!(s["source"]["line"].is_u64(), "{} {} has no line", f["type"], s["name"]);
            assert_eq!(s["source"]["file"], "src/lib.rs");
        }
    }
    let fut = |ty: &str| fs.iter().find(|f| f["type"] == ty).unwrap_or_else(|| panic!("{ty}"));
    let state = |f: &serde_json::Value, name: &str| f["variants"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap().clone();
    let run_all = fut("{async fn body of run_all()}");
    assert_eq!(run_all["source"]["line"], demo_line("pub async fn run_all()"));
    assert_eq!(state(run_all, "Unresumed")["source"]["line"], demo_line("pub async fn run_all()"));
    assert_eq!(state(run_all, "Suspend0")["source"]["line"], demo_line("let _ = c.read_frame().await;"));
    assert_eq!(state(run_all, "Suspend0")["awaits"], "c.read_frame()");
    let s1 = state(run_all, "Suspend1");
    assert_eq!(s1["source"]["line"], demo_line("let o = outer(1, String::new()).await;"));
    // Two awaits on one line are two states, in evaluation order.
    assert_eq!(state(run_all, "Suspend5")["awaits"], "no_await(5)");
    assert_eq!(state(run_all, "Suspend6")["awaits"], "cases::straight::simple(1)");
    assert_eq!(state(run_all, "Suspend6")["source"]["line"], demo_line("no_await(5).await + cases"));
    // A local saved across an await points at its `let`, the awaitee at the await.
    let s2 = state(run_all, "Suspend2");
    let field = |s: &serde_json::Value, n: &str| s["fields"].as_array().unwrap().iter().find(|x| x["name"] == n).unwrap().clone();
    assert_eq!(field(&s2, "o")["source"]["line"], demo_line("let o = outer("));
    assert_eq!(field(&s2, "c")["source"]["line"], demo_line("let mut c = connection::Connection"));
    assert_eq!(field(&s2, "__awaitee")["source"]["line"], demo_line("let g = use_generic().await;"));
    // An argument (upvar) points at the signature.
    let outer = fut("{async fn body of outer()}");
    assert_eq!(field(&state(outer, "Suspend0"), "s")["source"]["line"], demo_line("pub async fn outer("));
    // Blocks and closures get names that do not move with unrelated code.
    let block = fs.iter().find(|f| f["kind"] == "async_block").unwrap();
    assert_eq!(block["stable_name"], "async_block::{async block#0}");
    let closure = fs.iter().find(|f| f["kind"] == "async_closure").unwrap();
    assert_eq!(closure["stable_name"], "with_closure::{async closure#0}");
    // The state diagram: run_all's states follow each other, the last one returns.
    let edges = run_all["analysis"]["state_edges"].as_array().unwrap();
    assert!(edges.iter().any(|e| e["from"] == "Unresumed" && e["to"] == "Suspend0"));
    assert!(edges.iter().any(|e| e["from"] == "Suspend7" && e["to"] == "Returned"));
}

#[test]
fn editor_mode_prints_cargo_messages_at_the_right_lines() {
    let o = run(&["inspect", "--message-format", "json", "--warn-above", "1000"], "demo", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let msgs: Vec<cargo_metadata::Message> =
        cargo_metadata::Message::parse_stream(&o.stdout[..]).map(|m| m.unwrap()).collect();
    assert!(!msgs.iter().any(|m| matches!(m, cargo_metadata::Message::TextLine(_))), "only JSON on stdout");
    assert!(matches!(msgs.last(), Some(cargo_metadata::Message::BuildFinished(b)) if b.success));
    let diags: Vec<&cargo_metadata::diagnostic::Diagnostic> = msgs
        .iter()
        .filter_map(|m| match m {
            cargo_metadata::Message::CompilerMessage(c) if c.message.code.as_ref().is_some_and(|c| c.code == "unasync::future_size") => {
                assert_eq!(c.target.name, "demo");
                Some(&c.message)
            }
            _ => None,
        })
        .collect();
    let at = |level: cargo_metadata::diagnostic::DiagnosticLevel, line: u64| {
        diags.iter().copied().filter(move |d| d.level == level && d.spans[0].line_start as u64 == line && d.spans[0].file_name == "src/lib.rs")
    };
    use cargo_metadata::diagnostic::DiagnosticLevel::{Note, Warning};
    let note: Vec<_> = at(Note, demo_line("pub async fn run_all()")).collect();
    assert_eq!(note.len(), 1, "{diags:#?}");
    assert!(note[0].message.contains("future of `run_all` is 2400 bytes, largest state Suspend1 (2400 bytes)"), "{}", note[0].message);
    let warn: Vec<_> = at(Warning, demo_line("let o = outer(1, String::new()).await;")).collect();
    assert_eq!(warn.len(), 1, "{diags:#?}");
    assert!(warn[0].message.contains("keeps 2400 bytes"), "{}", warn[0].message);
    assert!(warn[0].children.iter().any(|c| c.message.contains("Box::pin")), "{:#?}", warn[0].children);
    assert!(warn[0].spans[0].text[0].text.contains(".await"));
    // Small states get no warning.
    assert_eq!(at(Warning, demo_line("let _ = c.read_frame().await;")).count(), 0);
    // Every warning points at a line with an .await on it.
    let src = std::fs::read_to_string(crate_manifest("demo").with_file_name("src/lib.rs")).unwrap();
    for d in diags.iter().filter(|d| d.level == Warning) {
        assert!(src.lines().nth(d.spans[0].line_start - 1).unwrap().contains(".await"), "{}", d.message);
    }
}

#[test]
fn expand_no_layout_works_on_a_crate_that_does_not_type_check() {
    let o = run(&["expand", "broken", "--no-layout"], "broken", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("let x: u32 = \"not a number\";"), "{}", stdout(&o));
    assert!(stderr(&o).contains("E0308"), "rustc's error is still shown");
    // With the layout the build must succeed: exit 2 after the expansion.
    let o = run(&["expand", "broken"], "broken", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stdout(&o).contains("async fn broken()"), "{}", stdout(&o));
}
