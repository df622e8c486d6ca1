//! Misuse of `#[unasync::desugar]` is a compile error at the user's line, never a panic; the
//! expansion compiles with absolute paths, hidden internal names and no new warnings. A package
//! of its own so that trybuild's test crates build only the dependencies they use.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
