//! `#[unasync::desugar]` on the methods of an `#[async_trait]` impl or trait: async-trait turns
//! each `async fn` into a plain `fn` returning `Box::pin(async move { .. })`, and the attribute
//! lowers that block in place. Each case is compiled twice from the same tokens, natively and
//! desugared, and both are driven by the fixtures' executor to the end and cancelled after every
//! number of polls: their logs (polls, drops, outputs, panics) must be identical.

// Compiling the cases twice is the point.
#[allow(clippy::duplicate_mod)]
#[path = "async_trait"]
mod native {
    pub use ::unasync::__private::native as desugar;
    pub mod cases;
}

#[allow(clippy::duplicate_mod)]
#[path = "async_trait"]
mod desugared {
    pub use ::unasync::desugar;
    pub mod cases;
}

use unasync_fixtures::harness::{BoxFuture, End, Log, compare};

type Run = fn(&Log) -> BoxFuture;

/// Both sides agree run to the end and cancelled after every number of polls (0 included: the
/// arguments dropped unpolled); the full run suspends and shows `expected` among its events.
fn check(name: &str, native: Run, desugared: Run, end: End, expected: &[&str]) {
    let full = compare(name, native, desugared).unwrap_or_else(|mismatch| panic!("{mismatch}"));
    assert_eq!(full.end, end, "{name}: {:#?}", full.events);
    assert!(full.polls > 1, "{name} never suspended: {:#?}", full.events);
    for event in expected {
        assert!(
            full.events.iter().any(|e| e == event),
            "{name}: no `{event}` in {:#?}",
            full.events
        );
    }
}

macro_rules! cases {
    ($($(#[$doc:meta])* $name:ident => $end:ident, [$($event:expr),*];)*) => {$(
        $(#[$doc])*
        #[test]
        fn $name() {
            check(stringify!($name), native::cases::$name, desugared::cases::$name, End::$end, &[$($event),*]);
        }
    )*};
}

cases! {
    /// `&self`, a `Copy` argument, the output.
    get => Ready, ["outer poll #2 -> Ready(\"42\")"];
    /// `&mut self`; a non-`Copy` argument used and dropped early, one never used (dropped when the
    /// block ends).
    put => Ready, ["drop used", "drop unused", "touch local"];
    /// A destructured argument and a `_` argument.
    pair => Ready, ["drop b", "drop a", "drop ignored"];
    /// `?` in the body.
    fallible_ok => Ready, ["drop guard"];
    fallible_err => Ready, ["drop guard"];
    /// A panic: the arguments and locals dropped while unwinding, then the poisoned future.
    panics => Panicked, ["drop kept", "drop inner"];
    /// `self` by value.
    by_value => Ready, [];
    /// A default method of an `#[async_trait]` trait.
    default_steps => Ready, ["touch held", "drop held", "drop later"];
    /// A method of a generic impl.
    generic => Ready, ["outer poll #3 -> Ready(\"\\\"five: 5\\\"\")"];
    /// `#[cfg]` in the body.
    configured => Ready, ["outer poll #3 -> Ready(\"1\")"];
    /// `#[async_trait(?Send)]`: an `Rc` held across an `.await`.
    not_send => Ready, ["outer poll #2 -> Ready(\"4\")"];
}
