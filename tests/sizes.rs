//! Future sizes: rustc's (native) and ours (desugared) for every fixture, measured in the same
//! run with `size_of`, kept as an insta snapshot so a layout change shows up as a diff.

use unasync_fixtures::{desugared, native};

struct Row {
    name: &'static str,
    native: usize,
    desugared: usize,
    native_option: usize,
    desugared_option: usize,
}

fn rows() -> Vec<Row> {
    native::cases()
        .into_iter()
        .zip(desugared::cases())
        .map(|(n, d)| {
            assert_eq!(n.name, d.name);
            Row {
                name: n.name,
                native: n.size,
                desugared: d.size,
                native_option: n.option_size,
                desugared_option: d.option_size,
            }
        })
        .collect()
}

pub fn table() -> String {
    let rows = rows();
    let mut out = format!(
        "{:<36} {:>8} {:>10} {:>6} {:>14} {:>16}\n",
        "fixture", "rustc", "desugared", "ratio", "Option<rustc>", "Option<desugared>"
    );
    for row in &rows {
        out += &format!(
            "{:<36} {:>8} {:>10} {:>6.3} {:>14} {:>16}\n",
            row.name,
            row.native,
            row.desugared,
            row.desugared as f64 / row.native as f64,
            row.native_option,
            row.desugared_option
        );
    }
    let native: usize = rows.iter().map(|r| r.native).sum();
    let desugared: usize = rows.iter().map(|r| r.desugared).sum();
    out += &format!(
        "{:<36} {:>8} {:>10} {:>6.3}\n",
        "total",
        native,
        desugared,
        desugared as f64 / native as f64
    );
    out
}

#[test]
fn size_table() {
    insta::with_settings!({ snapshot_path => "../snapshots/sizes", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("sizes", table());
    });
}
