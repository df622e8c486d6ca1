//! Future sizes, rustc's against ours, measured in the same run: the table is an insta snapshot
//! (a layout change shows up as a diff) and the size goals are checked on the same numbers.

use unasync_fixtures::sizes::{Row, rows, table, total_ratio};

fn row<'a>(rows: &'a [Row], name: &str) -> &'a Row {
    rows.iter().find(|row| row.name == name).unwrap_or_else(|| panic!("no fixture `{name}`"))
}

#[test]
fn size_table() {
    insta::with_settings!({ snapshot_path => "../snapshots/sizes", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("sizes", table(&rows()));
    });
}

/// Fixtures whose future is larger than rustc's, each with its cause (the README's "Sizes"). The
/// test fails on any other, and on one of these that is no longer larger (then it leaves the list).
const KNOWN_LARGER: &[&str] = &[
    // A local of a type the tokens do not show (`let c = f(m).await;`, a `&mut u32`), dead before
    // a later `.await` but in scope across it: it may have drop glue, to run at the end of its
    // scope, so the state keeps it; rustc knows it has none and does not.
    "mut_ref_local_passed_on",
];

#[test]
fn never_larger_than_rustc() {
    let rows = rows();
    let larger: Vec<String> = rows
        .iter()
        .filter(|row| row.desugared > row.native && !KNOWN_LARGER.contains(&row.name))
        .map(|row| format!("{}: {} > {}", row.name, row.desugared, row.native))
        .collect();
    assert!(larger.is_empty(), "larger than rustc's:\n{}", larger.join("\n"));
    for name in KNOWN_LARGER {
        let row = row(&rows, name);
        assert!(row.desugared > row.native, "{name} is no longer larger than rustc's: take it out of KNOWN_LARGER");
    }
}

/// Issue 13's goal is a total of at most 0.70 of rustc's. It held (0.698) until the fixtures of
/// tokio's macros, `async_stream`'s and embassy's were added on 2026-12-01: each no larger than
/// rustc's, most between 0.7 and 0.97, they lift the total to 0.703 (0.696 without them). The goal
/// is not met over them (README, "Sizes"); this bound, 0.705, fails on a change that loses
/// 133 bytes over the fixtures, while every row's size is pinned by the snapshot above.
#[test]
fn total_at_most_0_705_of_rustc() {
    let ratio = total_ratio(&rows());
    assert!(ratio <= 0.705, "total ratio {ratio:.4}");
}

/// Where rustc keeps a value twice (an argument in the upvars and in the body's local, an awaitee
/// moved into the awaiting call), ours keeps it once: at most a little over half of rustc's.
#[test]
fn values_rustc_stores_twice_are_stored_once() {
    let rows = rows();
    for name in ["future_as_arg", "moved_into_await", "large_arg", "large_chain", "tracked_args"] {
        let row = row(&rows, name);
        assert!(row.desugared <= row.native / 2 + 64, "{name}: {} bytes, rustc {}", row.desugared, row.native);
    }
}

/// Locals dropped before every `.await` take no room in any state: issue 13's `f`, `g`, `h`
/// (a small argument used after the `.await`, a `String` and a 1 KiB local dropped before it) hold
/// their awaitee (a 24-byte `Pend`) and at most 8 bytes more (a `u32` or `bool` saved, the tag).
#[test]
fn locals_dead_at_every_await_take_no_room() {
    let rows = rows();
    let awaitee = std::mem::size_of::<unasync_fixtures::desugared::sizes::Pend>();
    for name in ["small_arg_after_await", "string_dropped_before_await", "big_dropped_before_await"] {
        let row = row(&rows, name);
        assert!(row.desugared <= awaitee + 8, "{name}: {} bytes (awaitee {awaitee}), rustc {}", row.desugared, row.native);
    }
}

#[test]
fn wrappers_cost_a_byte_each() {
    let rows = rows();
    let leaf = row(&rows, "ready_unit").desugared;
    let chain = row(&rows, "wrap4").desugared;
    assert!(chain <= leaf + 4, "4 wrappers: {chain}, leaf: {leaf}");
}

#[test]
fn option_of_a_desugared_future_is_free() {
    for row in rows() {
        assert_eq!(row.desugared_option, row.desugared, "{}: no niche", row.name);
    }
}
