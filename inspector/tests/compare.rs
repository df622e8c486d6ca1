//! End-to-end: `cargo unasync compare` on the crates under tests/crates/. The macro is being
//! rewritten in this workspace, so the tests assert on the table's structure, exit codes and the
//! messages `compare` writes, not on the exact expansion.

mod common;

use std::path::Path;

use common::{crate_manifest, row, run, stderr, stdout};

#[test]
fn compare_desugars_a_copy_and_reports_sizes() {
    let manifest = crate_manifest("compare");
    let lib = std::fs::read_to_string(manifest.with_file_name("src/lib.rs")).unwrap();
    let o = run(&["compare"], "compare", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let row = |name: &str| row(&out, name);
    // rustc keeps the 512-byte argument twice; the desugared frame once.
    assert_eq!(row("big_arg")[1..3], ["1026", "514"], "{out}");
    assert_eq!(row("net::Conn::read")[1..3], ["24", "16"], "{out}");
    let call_twice = row("Service::call_twice");
    let (rustc, desugared): (u64, u64) = (call_twice[1].parse().unwrap(), call_twice[2].parse().unwrap());
    assert!(rustc == 64 && desugared <= rustc, "{out}");
    let guarded = row("guarded").join(" ");
    assert!(guarded.contains("stays native: unasync does not lower `.await` in a match guard yet; compute it in the arm (src/lib.rs:45)"), "{out}");
    assert!(!out.contains("\nalready "), "fns already carrying the attribute are skipped:\n{out}");
    assert!(row("TOTAL").join(" ").contains("8 of 9 functions"), "{out}");
    // The user's files are untouched.
    assert_eq!(std::fs::read_to_string(manifest.with_file_name("src/lib.rs")).unwrap(), lib);
    assert!(!std::fs::read_to_string(&manifest).unwrap().contains("/work"));
}


#[test]
fn compare_a_workspace_member_with_inherited_fields_and_dependencies() {
    let manifest = crate_manifest("workspace/member");
    let before = std::fs::read_to_string(&manifest).unwrap();
    let o = run(&["compare"], "workspace/member", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let row = |name: &str| row(&out, name);
    let sizes = |name: &str| -> (u64, u64) {
        let r = row(name);
        (r[1].parse().unwrap_or_else(|_| panic!("{out}")), r[2].parse().unwrap_or_else(|_| panic!("{out}")))
    };
    let (rustc, ours) = sizes("big_arg");
    assert!(rustc > 512 && ours < rustc, "the argument is stored once:\n{out}");
    sizes("two_ticks");
    sizes("inner::Counter::bump");
    // The binary's own async fn, named with its target.
    assert!(out.lines().any(|l| l.starts_with("drive [bin tool]")), "{out}");
    assert!(row("TOTAL").join(" ").contains("4 of 4 functions"), "{out}");
    // The copy's manifest has what the member inherited written out, paths absolute.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-workspace/member");
    let copy = std::fs::read_to_string(target.join("unasync/compare/ws-member/Cargo.toml")).unwrap();
    let t: toml::Table = copy.parse().unwrap();
    assert_eq!(t["package"]["version"].as_str(), Some("0.3.0"), "{copy}");
    assert_eq!(t["package"]["edition"].as_str(), Some("2024"), "{copy}");
    assert_eq!(t["package"]["license"].as_str(), Some("MIT"), "{copy}");
    let helper = t["dependencies"]["helper"]["path"].as_str().unwrap();
    assert!(Path::new(helper).is_absolute() && Path::new(helper).join("Cargo.toml").exists(), "{copy}");
    assert_eq!(t["lints"]["rust"]["missing_debug_implementations"].as_str(), Some("warn"), "{copy}");
    assert!(!copy.contains("workspace = true"), "{copy}");
    // The user's manifest is untouched.
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), before);
}


#[test]
fn fns_lowered_in_place_under_instrument_and_async_trait_are_measured() {
    // `#[tracing::instrument]` keeps the fn async, the machine's types are declared in its body
    // (`Client::get::{closure#0}::__Frame_..`): the row compares the fn's future both ways
    // (`{async fn body of Client::get()}`, holding `Instrumented<..>` and the span). An
    // `#[async_trait]` method has no async fn body: rustc's boxed block against the machine.
    let o = run(&["compare"], "compare-inplace", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for name in ["traced", "Client::get", "Client::fetch", "leaf"] {
        let r = row(&out, name);
        let sizes: Vec<u64> = r[1..3].iter().filter_map(|x| x.parse().ok()).collect();
        assert_eq!(sizes.len(), 2, "{name} is measured both ways:\n{out}\n{}", stderr(&o));
        assert!(!r.join(" ").contains("stays native"), "{out}");
    }
    // The fn's future holds the span next to the machine: larger than the machine of `leaf`,
    // which `traced` awaits.
    for name in ["traced", "Client::get"] {
        assert!(desugared(&out, name).unwrap() > desugared(&out, "leaf").unwrap() + 40, "{out}");
    }
    assert!(!out.contains("no desugared layout"), "{out}");
    assert!(row(&out, "TOTAL").join(" ").contains("4 of 4 functions desugared and measured"), "{out}");
}

/// A row's desugared size, `None` for `-`.
fn desugared(out: &str, name: &str) -> Option<u64> {
    row(out, name)[2].parse().ok()
}

#[test]
fn an_error_reported_in_a_caller_keeps_the_callee_native_not_the_caller() {
    // Desugared, `raw` keeps a raw pointer across its `.await` (a limit of the macro), so its
    // future is not `Send`; rustc reports that in `caller`, which needs it to be.
    let o = run(&["compare"], "compare-caller", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let caller = row(&out, "caller").join(" ");
    assert!(!caller.contains("stays native"), "{out}\n{}", stderr(&o));
    assert!(desugared(&out, "caller").is_some(), "{out}");
    // `raw` is measured, or stays native for the error in its caller (if the macro keeps the pointer).
    let raw = row(&out, "raw").join(" ");
    assert!(desugared(&out, "raw").is_some() || raw.contains("stays native: `*const u32` cannot be sent between threads safely"), "{out}");
}

#[test]
fn an_error_outside_every_async_fn_still_prints_the_table_and_exits_8() {
    // The package includes `../../notes.txt`, outside its directory: the copy has no such file.
    let o = run(&["compare"], "outside/pkg", &[]);
    assert_eq!(o.status.code(), Some(8), "{}", stderr(&o));
    let out = stdout(&o);
    for name in ["leaf", "twice"] {
        let r = row(&out, name);
        assert!(r[1].parse::<u64>().is_ok(), "rustc's size is there: {out}");
        assert_eq!(r[2], "-", "{out}");
        let note = r[4..].join(" ");
        assert!(note.starts_with("not measured: the desugared copy does not compile") || note.starts_with("stays native:"), "{out}");
    }
    row(&out, "TOTAL");
    let err = stderr(&o);
    let last = err.lines().last().unwrap();
    assert!(last.starts_with("cargo-unasync: error: compare: the desugared copy ("), "{err}");
    assert!(last.contains("the error is outside every async fn") && last.contains("notes.txt"), "{err}");
}

#[test]
fn a_crate_forbidding_unsafe_code_is_told_why_its_fns_stay_native() {
    let o = run(&["compare"], "compare-forbid", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for name in ["leaf", "twice"] {
        let r = row(&out, name).join(" ");
        // Measured if the expansion ever has no `unsafe`; otherwise the cause comes first.
        assert!(
            desugared(&out, name).is_some()
                || r.contains("stays native: the expansion of #[unasync::desugar] uses `unsafe`, which `#![forbid(unsafe_code)]` at src/lib.rs:3 forbids: "),
            "{out}"
        );
    }
}
