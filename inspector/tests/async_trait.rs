//! End-to-end: `#[async_trait]` methods (tests/crates/asynctrait, async-trait from crates.io).
//! Their bodies are async blocks the macro boxes: they are named after the method, and the
//! futures awaiting them are not told to box them again.

mod common;

use common::{run, stderr, stdout};

fn json() -> serde_json::Value {
    let o = run(&["inspect", "--format", "json"], "asynctrait", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn bodies_are_named_after_the_method_and_boxed_awaitees_get_no_advice() {
    let v = json();
    let fs = v["futures"].as_array().unwrap();
    let by_name = |n: &str| fs.iter().find(|f| f["stable_name"] == n).unwrap_or_else(|| panic!("no {n}: {v:#}"));
    for (name, line) in [("Mem::get::{#[async_trait] body}", 42), ("Store::get_twice::{#[async_trait] body}", 30)] {
        let f = by_name(name);
        assert_eq!(f["kind"], "async_block", "{f:#}");
        assert_eq!(f["wrapped_by"], "async_trait", "{f:#}");
        assert_eq!(f["source"]["line"], line, "{f:#}");
    }
    // Inside the method's body, boxing the large awaitee is still worth it.
    let get = by_name("Mem::get::{#[async_trait] body}");
    assert_eq!(get["analysis"]["box_pin"]["type"], "{async fn body of fill()}", "{get:#}");
    // The callers await `Pin<Box<dyn Future>>`: already boxed. (`once` would otherwise be told to
    // trade its 16-byte fat pointer for an 8-byte box.)
    for name in ["once", "use_store", "direct"] {
        let f = by_name(name);
        let awaitee = &f["analysis"]["awaitee_chain"][0]["type"];
        assert!(awaitee.as_str().unwrap().starts_with("Pin<Box<dyn Future<Output = u64>"), "{f:#}");
        assert!(f["analysis"]["box_pin"].is_null(), "{name}: {:#}", f["analysis"]["box_pin"]);
    }
}

#[test]
fn the_table_and_the_advice_use_the_method_name() {
    let o = run(&["inspect"], "asynctrait", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    // Summary rows, detail headers, chain and advice lines: no `{async block@..}` for the bodies.
    let summary: Vec<&str> = out.lines().take_while(|l| !l.is_empty()).collect();
    assert!(summary.iter().any(|l| l.ends_with(" Mem::get::{#[async_trait] body}")), "{out}");
    assert!(summary.iter().any(|l| l.ends_with(" Store::get_twice::{#[async_trait] body}")), "{out}");
    assert!(!summary.iter().any(|l| l.contains("{async block@")), "{out}");
    assert!(out.contains("\n1200 bytes, align 8  Mem::get::{#[async_trait] body}  {async block@src/lib.rs:42:5: 42:10}\n"), "{out}");
    let advice = out.lines().find(|l| l.trim_start().starts_with("Box::pin the await of {async fn body of fill()}")).unwrap();
    assert!(advice.contains("in Suspend0 of Mem::get::{#[async_trait] body}:"), "{advice}");
    // The filter matches the name too.
    let o = run(&["inspect", "--summary", "Store::get_twice"], "asynctrait", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 2, "{}", stdout(&o));
}
