//! Desugared futures (`#[unasync::desugar]`) put back together from rustc's layouts of the
//! `Machine`, `__Frame_<hash>` and `__State_<hash>` types: `samples/rustc-1.95-desugared.txt`,
//! captured from the macro as it was mid-rewrite (see `samples/README.md`). Expected values are
//! read off the sample by hand. `samples/rustc-1.95-inplace.txt`: blocks lowered in place under
//! `#[tracing::instrument]` and `#[async_trait]`.

use cargo_unasync::analyse::prepare;
use cargo_unasync::model::{Future, FutureKind, Gap};
use cargo_unasync::parse::layout::parse_str;
use cargo_unasync::render::{Names, Style, table::detail};

const SAMPLE: &str = include_str!("samples/rustc-1.95-desugared.txt");

fn futures() -> Vec<Future> {
    let mut fs = parse_str(SAMPLE);
    prepare(&mut fs);
    fs
}

fn desugared<'a>(fs: &'a [Future], path: &str) -> &'a Future {
    fs.iter().find(|f| f.kind == FutureKind::Desugared && f.path.as_deref() == Some(path)).unwrap_or_else(|| panic!("no {path}"))
}

fn state<'a>(f: &'a Future, name: &str) -> &'a cargo_unasync::model::Variant {
    f.variants.iter().find(|v| v.name == name).unwrap_or_else(|| panic!("no {name} in {}", f.ty))
}

fn awaitee_type(f: &Future, name: &str) -> Option<String> {
    state(f, name).fields.iter().find(|x| x.name == "__awaitee").and_then(|x| x.ty.clone())
}

#[test]
fn every_desugared_fn_is_one_future_in_rustcs_state_order() {
    let fs = futures();
    let mut paths: Vec<&str> = fs.iter().filter(|f| f.kind == FutureKind::Desugared).filter_map(|f| f.path.as_deref()).collect();
    paths.sort();
    assert_eq!(paths, ["one_await", "pinned", "small_then_large", "two_states"]);
    let f = desugared(&fs, "two_states");
    let names: Vec<&str> = f.variants.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["Unresumed", "Suspend0", "Suspend1", "Returned", "Panicked"]);
    assert_eq!((f.size, f.align), (296, 8));
    // The type-check block the macro writes (`if false { async move { body } }`) is dropped.
    assert!(!fs.iter().any(|f| f.kind == FutureKind::AsyncBlock), "{:#?}", fs.iter().map(|f| &f.ty).collect::<Vec<_>>());
}

#[test]
fn awaitee_types_come_from_the_generated_types_arguments() {
    let fs = futures();
    let leaf = Some("{async fn body of leaf()}".to_string());
    let yield_ = Some("Yield".to_string());
    for (path, s0, s1) in [
        ("two_states", &leaf, &yield_),
        ("pinned", &yield_, &leaf),
        ("small_then_large", &yield_, &leaf),
    ] {
        let f = desugared(&fs, path);
        assert_eq!(&awaitee_type(f, "Suspend0"), s0, "{path}");
        assert_eq!(&awaitee_type(f, "Suspend1"), s1, "{path}");
    }
    assert_eq!(awaitee_type(desugared(&fs, "one_await"), "Suspend0"), leaf);
    // So the chain goes on into the awaited future, and no awaitee is shown as unknown.
    let pinned = desugared(&fs, "pinned");
    let chain: Vec<&str> = pinned.analysis.as_ref().unwrap().awaitee_chain.iter().filter_map(|c| c.ty.as_deref()).collect();
    assert_eq!(chain, ["{async fn body of leaf()}", "Yield"]);
    let out = detail(pinned, &Names::new(&fs), Style { color: false });
    assert!(!out.contains("(type not printed by rustc)"), "{out}");
}

/// The cells of the state tag's row in the detail view.
fn tag_row(f: &Future, fs: &[Future]) -> Vec<String> {
    let out = detail(f, &Names::new(fs), Style { color: false });
    let line = out.lines().find(|l| l.contains("(state tag)")).unwrap_or_else(|| panic!("no tag row:\n{out}"));
    line.split_whitespace().map(String::from).collect()
}

#[test]
fn the_state_tag_is_a_row_of_its_own() {
    let fs = futures();
    // `discriminant: 1 bytes` (4 for one_await, whose only argument is a u32) at the enum's start,
    // which is the frame's start for pinned (`__state` is its first field).
    assert_eq!(tag_row(desugared(&fs, "two_states"), &fs), ["0", "1", "(state", "tag)", "tag"]);
    assert_eq!(tag_row(desugared(&fs, "pinned"), &fs), ["0", "1", "(state", "tag)", "tag"]);
    assert_eq!(tag_row(desugared(&fs, "one_await"), &fs), ["0", "4", "(state", "tag)", "tag"]);
}

fn gaps(f: &Future, name: &str) -> Vec<(u64, u64)> {
    state(f, name).gaps.iter().map(|Gap { offset, size }| (*offset, *size)).collect()
}

#[test]
fn a_states_padding_ends_where_the_state_does() {
    let fs = futures();
    let f = desugared(&fs, "two_states");
    // Unresumed: tag, 7 bytes of padding, `x` at 8; it ends at 16, not at the future's 296.
    assert_eq!((gaps(f, "Unresumed"), state(f, "Unresumed").size), (vec![(1, 7)], 15));
    assert_eq!((gaps(f, "Suspend0"), state(f, "Suspend0").size), (vec![(1, 7)], 183));
    assert_eq!((gaps(f, "Suspend1"), state(f, "Suspend1").size), (vec![(2, 6)], 295));
    assert_eq!((gaps(f, "Returned"), state(f, "Returned").size), (vec![], 0));
    // With a frame around the states, its fields (after the enum) are in every state.
    let p = desugared(&fs, "pinned");
    assert_eq!((gaps(p, "Unresumed"), state(p, "Unresumed").size), (vec![(1, 7), (16, 136)], 223));
    assert_eq!(gaps(p, "Suspend0"), [(2, 150)]);
    assert_eq!(gaps(p, "Returned"), [(1, 151)]);
    let kinds: Vec<(&str, &str, u64)> = state(p, "Returned").fields.iter().map(|x| (x.name.as_str(), x.kind.as_str(), x.offset)).collect();
    assert_eq!(kinds, [("buf", "frame", 152), ("r", "frame", 216)]);
    // The detail view: no padding row under Returned.
    let out = detail(f, &Names::new(&fs), Style { color: false });
    let lines: Vec<&str> = out.lines().map(str::trim_start).collect();
    let at = lines.iter().position(|l| l.starts_with("Returned")).unwrap();
    assert!(lines[at + 1].starts_with("Panicked"), "{out}");
}

const INPLACE: &str = include_str!("samples/rustc-1.95-inplace.txt");

#[test]
fn the_never_run_check_of_a_block_lowered_in_place_is_not_listed() {
    let mut fs = parse_str(INPLACE);
    prepare(&mut fs);
    let mut paths: Vec<(&str, u64)> =
        fs.iter().filter(|f| f.kind == FutureKind::Desugared).filter_map(|f| Some((f.path.as_deref()?, f.size))).collect();
    paths.sort();
    assert_eq!(paths, [("<Client as Store>::fetch", 408), ("Client::get::{closure#0}", 408), ("leaf", 264)]);
    // rustc laid out three async blocks, each the `Native` check of a machine: `leaf`'s at the
    // closure's span, the in-place ones at the span the attribute gave its block
    // (`{async block@src/lib.rs:28:5: 28:39}`, 416 bytes, for `Client::get`).
    let blocks: Vec<&str> = fs.iter().filter(|f| f.kind == FutureKind::AsyncBlock).map(|f| f.ty.as_str()).collect();
    assert!(blocks.is_empty(), "{blocks:?}");
    // tracing's async fn stays: it awaits `Instrumented<Machine<..>>`.
    let get = fs.iter().find(|f| f.kind == FutureKind::AsyncFn && f.path.as_deref() == Some("Client::get")).unwrap();
    assert_eq!(get.size, 520);
}
