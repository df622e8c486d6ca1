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
    assert_eq!(row("Service::call_twice")[1..3], ["64", "56"], "{out}");
    let guarded = row("guarded").join(" ");
    assert!(guarded.contains("stays native: unasync does not lower `.await` in a match guard yet (src/lib.rs:45)"), "{out}");
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

