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

#[test]
fn never_larger_than_rustc() {
    let larger: Vec<String> = rows()
        .iter()
        .filter(|row| row.desugared > row.native)
        .map(|row| format!("{}: {} > {}", row.name, row.desugared, row.native))
        .collect();
    assert!(larger.is_empty(), "larger than rustc's:\n{}", larger.join("\n"));
}

#[test]
fn total_at_most_ninety_percent_of_rustc() {
    let ratio = total_ratio(&rows());
    assert!(ratio <= 0.90, "total ratio {ratio:.3}");
}

#[test]
fn large_argument_is_stored_once() {
    let rows = rows();
    let large = row(&rows, "large_arg");
    assert!(large.native >= 2 * 8192, "rustc stores it twice: {}", large.native);
    assert!(large.desugared <= 8194 + 4, "desugared: {}", large.desugared);
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
