//! `--format json`: [`Report`] serialized (schema in the README).

use crate::model::{Future, Report, SCHEMA_VERSION};

/// The report as pretty-printed JSON, with a final newline.
pub fn json(futures: &[Future]) -> String {
    let r = Report { schema_version: SCHEMA_VERSION, futures: futures.to_vec() };
    let mut s = serde_json::to_string_pretty(&r).expect("serializable");
    s.push('\n');
    s
}

