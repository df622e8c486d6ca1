//! The `Box::pin` estimate against rustc: `samples/rustc-1.95-box-pin.rs` compiled as is and
//! with `--cfg boxed` (each `boxed!(..)` await `Box::pin`ned). The estimate made on the first
//! build's layouts must be the second build's size.

use cargo_unasync::analyse::box_pin::candidates;
use cargo_unasync::analyse::index::Index;
use cargo_unasync::analyse::prepare;
use cargo_unasync::analyse::relayout::Shape;
use cargo_unasync::model::Future;
use cargo_unasync::parse::layout::parse_str;

const PLAIN: &str = include_str!("samples/rustc-1.95-box-pin.txt");
const BOXED: &str = include_str!("samples/rustc-1.95-box-pin-boxed.txt");
const DESUGARED: &str = include_str!("samples/rustc-1.95-desugared.txt");

fn size_in(text: &str, ty: &str) -> u64 {
    // The header line as rustc printed it, read without the parser under test.
    let head = format!("print-type-size type: `{ty}`: ");
    let line = text.lines().find(|l| l.starts_with(&head)).unwrap_or_else(|| panic!("{ty} not in the sample"));
    line[head.len()..].split(' ').next().unwrap().parse().unwrap()
}

fn analysed(text: &str) -> Vec<Future> {
    let mut fs = parse_str(text);
    prepare(&mut fs);
    fs
}

fn future<'a>(fs: &'a [Future], ty: &str) -> &'a Future {
    fs.iter().find(|f| f.ty == ty).unwrap_or_else(|| panic!("{ty}"))
}

#[test]
fn the_estimate_is_the_size_of_the_boxed_build() {
    let fs = analysed(PLAIN);
    // (future, the await `boxed!` wraps, size of the boxed build as measured: 2026-11-30, rustc 1.95.0)
    for (ty, awaitee, measured) in [
        ("{async fn body of upvars_around()}", "{async fn body of big()}", 80),
        ("{async fn body of several()}", "{async fn body of big()}", 256),
        ("{async fn body of middle()}", "{async fn body of big()}", 40),
        ("{async fn body of small_await()}", "{async fn body of middle()}", 352),
    ] {
        assert_eq!(size_in(BOXED, ty), measured, "the boxed sample");
        let f = future(&fs, ty);
        assert_eq!(f.size, size_in(PLAIN, ty));
        let b = f.analysis.as_ref().unwrap().box_pin.clone().unwrap_or_else(|| panic!("no advice for {ty}"));
        assert_eq!(b.ty.as_deref(), Some(awaitee), "{ty}");
        assert_eq!(b.in_future, ty);
        assert_eq!((b.new_size, b.saved), (measured, f.size - measured), "{ty}");
    }
}

#[test]
fn the_scratch_sample_against_its_await_boxed_by_hand() {
    // Measured 2026-11-30, rustc 1.95.0: `rustc-1.95-scratch.rs` compiled with one await
    // changed to `Box::pin(..).await` at a time.
    let fs = analysed(include_str!("samples/rustc-1.95-scratch.txt"));
    let middle = future(&fs, "{async fn body of middle()}");
    let b = middle.analysis.as_ref().unwrap().box_pin.clone().unwrap();
    // `Box::pin(big_arg([1; 1024])).await`: 2168 bytes (align 4) -> 128 (align 8: the pointer's).
    assert_eq!((b.ty.as_deref(), b.new_size), (Some("{async fn body of big_arg()}"), 128));
    // `Box::pin(c(3)).await` or `Box::pin(c(4)).await`: 20 -> 24 bytes (the pointer is 8-aligned,
    // the other state keeps its 12-byte awaitee): no advice.
    let with_closure = future(&fs, "{async fn body of with_closure()}");
    assert_eq!(with_closure.size, 20);
    assert_eq!(with_closure.analysis.as_ref().unwrap().box_pin, None);
}

#[test]
fn the_estimate_for_a_desugared_future_is_the_size_of_its_boxed_build() {
    // `pinned` (a frame around the states): its `boxed!(leaf(r[0])).await`; measured 88 bytes.
    let fs = analysed(DESUGARED);
    let f = fs.iter().find(|f| f.path.as_deref() == Some("pinned")).unwrap();
    let b = f.analysis.as_ref().unwrap().box_pin.clone().unwrap();
    assert_eq!(b.ty.as_deref(), Some("{async fn body of leaf()}"));
    let boxed = "unasync::__private::Machine<pinned::__Frame_f665893d<[u64; 8], &[u64; 8], u64, Yield, std::pin::Pin<std::boxed::Box<{async fn body of leaf()}>>>, {closure@src/lib.rs:53:1: 53:20}>";
    assert_eq!(size_in(include_str!("samples/rustc-1.95-desugared-boxed.txt"), boxed), 88);
    assert_eq!((f.size, b.new_size), (224, 88));
}

#[test]
fn boxing_deeper_down_the_chain_shrinks_the_futures_above() {
    let fs = analysed(PLAIN);
    let outer = future(&fs, "{async fn body of outer()}");
    let deep = candidates(outer, &Index::new(&fs))
        .into_iter()
        .find(|c| c.in_future == "{async fn body of middle()}")
        .expect("the await of big() in middle() is a candidate for outer()");
    // `boxed!` boxes that await in middle(); outer() is unchanged and holds the smaller middle().
    assert_eq!(deep.new_size, size_in(BOXED, "{async fn body of outer()}"));
    assert_eq!(deep.new_size, 112);
}

#[test]
fn replaying_the_layout_gives_rustcs_size_for_every_sampled_future() {
    let samples = [
        PLAIN,
        BOXED,
        include_str!("samples/rustc-1.95-scratch.txt"),
        DESUGARED,
        include_str!("samples/rustc-1.95-desugared-boxed.txt"),
    ];
    let mut n = 0;
    for text in samples {
        for f in parse_str(text) {
            assert_eq!(Shape::of(&f).size(None), f.size, "{}", f.ty);
            n += 1;
        }
    }
    assert!(n > 20, "{n} futures");
}
