//! Parser and analysis tests over the captured samples; nothing is built.

use cargo_unasync::analyse::analyse_all;
use cargo_unasync::analyse::index::Index;
use cargo_unasync::model::{FormatVersion, Future, FutureKind};
use cargo_unasync::names::path_suffix_match;
use cargo_unasync::parse::layout::{Parser, classify, parse_str};

const NEW: &str = include_str!("samples/rustc-1.95-scratch.txt");
const OLD: &str = include_str!("samples/old-format-hand-converted.txt");

fn find<'a>(fs: &'a [Future], ty: &str) -> &'a Future {
    fs.iter().find(|f| f.ty == ty).unwrap_or_else(|| panic!("{ty} not parsed"))
}

#[test]
fn new_format_finds_every_future_and_only_futures() {
    let fs = parse_str(NEW);
    let mut names: Vec<&str> = fs.iter().map(|f| f.ty.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "{async block@src/lib.rs:63:5: 63:15}",
            "{async closure body@src/lib.rs:70:28: 70:56}",
            "{async fn body of big_arg()}",
            "{async fn body of connection::Connection::read_frame()}",
            "{async fn body of drop_flag()}",
            "{async fn body of generic<[u64; 8]>()}",
            "{async fn body of generic<u8>()}",
            "{async fn body of leaf()}",
            "{async fn body of middle()}",
            "{async fn body of no_await()}",
            "{async fn body of outer()}",
            "{async fn body of run_all()}",
            "{async fn body of use_generic()}",
            "{async fn body of with_closure()}",
        ]
    );
    assert!(fs.iter().all(|f| f.format == FormatVersion::Braces));
}

#[test]
fn header_states_and_fields() {
    let fs = parse_str(NEW);
    let f = find(&fs, "{async fn body of run_all()}");
    assert_eq!((f.size, f.align, f.discriminant, f.end_padding), (2400, 8, 1, 0));
    assert_eq!(f.kind, FutureKind::AsyncFn);
    assert_eq!(f.path.as_deref(), Some("run_all"));
    let names: Vec<&str> = f.variants.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        ["Unresumed", "Suspend0", "Suspend1", "Suspend2", "Suspend3", "Suspend4", "Suspend5", "Suspend6", "Returned", "Panicked"]
    );
    let s1 = &f.variants[2];
    assert_eq!(s1.size, 2399);
    assert_eq!(s1.padding, 104);
    let aw = s1.fields.iter().find(|x| x.name == "__awaitee").unwrap();
    assert_eq!((aw.offset, aw.size, aw.kind.as_str()), (176, 2224, "local"));
    assert_eq!(aw.ty.as_deref(), Some("{async fn body of outer()}"));
    // Every state ends where rustc says: its size plus the discriminant.
    for v in &f.variants {
        if !v.fields.is_empty() {
            assert_eq!(v.end(), v.size + f.discriminant, "{}", v.name);
        }
    }
}

#[test]
fn offsets_follow_padding_and_explicit_offsets() {
    let fs = parse_str(NEW);
    let m = find(&fs, "{async fn body of middle()}");
    let s1 = m.variants.iter().find(|v| v.name == "Suspend1").unwrap();
    let got: Vec<(&str, &str, u64, u64)> =
        s1.fields.iter().map(|x| (x.kind.as_str(), x.name.as_str(), x.offset, x.size)).collect();
    assert_eq!(
        got,
        [("upvar", "x", 0, 4), ("local", "x", 4, 4), ("local", "a", 8, 4), ("local", "__awaitee", 16, 2051), ("local", "buf", 2067, 100)]
    );
    assert_eq!(m.end_padding, 1);
    // A variant whose first field has no explicit offset starts after the discriminant.
    let b = find(&fs, "{async fn body of big_arg()}");
    assert_eq!(b.variants[0].fields[0].offset, 1);
}

#[test]
fn unnamed_temporaries_and_drop_flags() {
    let mut fs = parse_str(NEW);
    analyse_all(&mut fs);
    let d = find(&fs, "{async fn body of drop_flag()}");
    let s0 = &d.variants[1];
    let flag = s0.fields.iter().find(|x| x.name == ".coroutine_field2").unwrap();
    assert_eq!(flag.ty.as_deref(), Some("bool"));
    assert_eq!(d.analysis.as_ref().unwrap().drop_flags, 1);
}

#[test]
fn old_bracket_format() {
    let fs = parse_str(OLD);
    assert_eq!(fs.len(), 3, "closures and wrappers are not futures");
    assert!(fs.iter().all(|f| f.format == FormatVersion::Brackets));
    let outer = &fs[0];
    assert_eq!(outer.ty, "[async fn body@src/lib.rs:40:1: 44:2]");
    assert_eq!(outer.kind, FutureKind::AsyncFn);
    assert_eq!(outer.path, None);
    assert_eq!(outer.location.as_deref(), Some("src/lib.rs:40:1: 44:2"));
    assert_eq!(outer.size, 2224);
    let block = &fs[1];
    assert_eq!(block.kind, FutureKind::AsyncBlock);
    assert_eq!(block.variants[0].name, "Suspend0");
    assert_eq!(block.variants[0].fields[0].kind, "field");
    assert_eq!(block.variants[0].fields[1].offset, 25);
    assert_eq!(block.end_padding, 6);
    // No field types in the old format: analysis still works, the chain stops at the first link.
    let mut fs = fs;
    analyse_all(&mut fs);
    let a = fs[0].analysis.as_ref().unwrap();
    assert_eq!(a.awaitee_chain.len(), 1);
    assert_eq!(a.awaitee_chain[0].ty, None);
    assert_eq!(a.duplicated_args[0].name, "s");
}

#[test]
fn classify_names() {
    assert!(classify("std::mem::MaybeUninit<{async fn body of outer()}>").is_none());
    assert!(classify("{closure@src/lib.rs:1:2: 1:3}").is_none());
    assert!(classify("{async closure@src/lib.rs:70:28: 70:56}").is_none(), "the closure, not its future");
    let (k, f, p, _) = classify("{async fn body of generic<[u64; 8]>()}").unwrap();
    assert_eq!((k, f, p.as_deref()), (FutureKind::AsyncFn, FormatVersion::Braces, Some("generic<[u64; 8]>")));
    let (k, f, _, l) = classify("[async block@src/main.rs:3:5: 5:6]").unwrap();
    assert_eq!((k, f, l.as_deref()), (FutureKind::AsyncBlock, FormatVersion::Brackets, Some("src/main.rs:3:5: 5:6")));
}

#[test]
fn streaming_line_by_line_with_crlf_and_noise() {
    let mut p = Parser::new();
    let mut out = Vec::new();
    p.line("   Compiling scratch v0.1.0");
    for l in NEW.lines() {
        if let Some(f) = p.line(&format!("{l}\r\n")) {
            out.push(f);
        }
    }
    out.extend(p.finish());
    assert_eq!(out, parse_str(NEW));
}

#[test]
fn awaitee_chain_follows_trimmed_paths() {
    let mut fs = parse_str(NEW);
    analyse_all(&mut fs);
    let f = find(&fs, "{async fn body of run_all()}");
    let a = f.analysis.as_ref().unwrap();
    let chain: Vec<(&str, u64)> = a.awaitee_chain.iter().map(|c| (c.ty.as_deref().unwrap(), c.size)).collect();
    assert_eq!(
        chain,
        [
            ("{async fn body of outer()}", 2224),
            ("{async fn body of middle()}", 2168),
            ("{async fn body of big_arg()}", 2051),
            ("Yield", 1),
        ]
    );
    assert_eq!(a.largest_variant.as_deref(), Some("Suspend1"));
    // `Connection::read_frame` (trimmed, in a field) resolves to the crate-relative entry.
    let idx = Index::new(&fs);
    let r = idx.resolve("{async fn body of Connection::read_frame()}", 24).unwrap();
    assert_eq!(r.ty, "{async fn body of connection::Connection::read_frame()}");
    assert!(idx.resolve("{async fn body of Connection::read_frame()}", 25).is_none(), "sizes must agree");
    assert!(path_suffix_match("a::b::c", "b::c"));
    assert!(!path_suffix_match("a::bb::c", "b::c"));
}

#[test]
fn why_each_byte() {
    let mut fs = parse_str(NEW);
    analyse_all(&mut fs);
    for f in &fs {
        let a = f.analysis.as_ref().unwrap();
        let sum: u64 = a.breakdown.iter().map(|b| b.bytes).sum();
        assert_eq!(sum, f.size, "breakdown of {} must add up", f.ty);
    }
    let outer = find(&fs, "{async fn body of outer()}").analysis.clone().unwrap();
    assert_eq!(outer.duplicated_args.len(), 1);
    assert_eq!((outer.duplicated_args[0].name.as_str(), outer.duplicated_args[0].size), ("s", 24));
    let big = find(&fs, "{async fn body of big_arg()}").analysis.clone().unwrap();
    assert!(big.breakdown.iter().any(|b| b.what == "args_twice" && b.bytes == 1024));
    // Boxing the 2224-byte await in run_all leaves the next largest state (Suspend2: 320).
    let run = find(&fs, "{async fn body of run_all()}").analysis.clone().unwrap();
    let b = run.box_pin.unwrap();
    assert_eq!(b.ty.as_deref(), Some("{async fn body of outer()}"));
    assert_eq!((b.new_size, b.saved), (320, 2080));
    // Small awaitees are never worth boxing.
    assert!(find(&fs, "{async fn body of leaf()}").analysis.as_ref().unwrap().box_pin.is_none());
}

#[test]
fn json_report_snapshot() {
    let mut fs = parse_str(NEW);
    cargo_unasync::analyse::prepare(&mut fs);
    fs.truncate(3);
    insta::assert_snapshot!("json_top3", cargo_unasync::render::json::json(&fs));
}

#[test]
fn table_snapshot() {
    let mut fs = parse_str(NEW);
    cargo_unasync::analyse::prepare(&mut fs);
    let st = cargo_unasync::render::Style { color: false };
    insta::assert_snapshot!("summary", cargo_unasync::render::table::summary(&fs, st));
    let outer = fs.iter().find(|f| f.ty == "{async fn body of outer()}").unwrap();
    insta::assert_snapshot!("detail_outer", cargo_unasync::render::table::detail(outer, &cargo_unasync::render::Names::new(&fs), st));
}
