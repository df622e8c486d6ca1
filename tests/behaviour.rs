//! Every fixture runs natively (rustc's lowering) and desugared (`#[unasync::desugar]`): to the end
//! and cancelled after every possible number of polls. The logs must be identical, and the futures
//! must have the same auto traits.

use unasync_fixtures::harness::{Case, End, RESUMED_AFTER_COMPLETION, RESUMED_AFTER_PANICKING, compare_cases, run_case};
use unasync_fixtures::{desugared, native};

fn pairs() -> Vec<(Case, Case)> {
    let native = native::cases();
    let desugared = desugared::cases();
    assert_eq!(
        native.len(),
        desugared.len(),
        "native and desugared case lists differ in length"
    );
    for (n, d) in native.iter().zip(&desugared) {
        assert_eq!(
            (n.name, n.file, n.line),
            (d.name, d.file, d.line),
            "cases do not line up"
        );
    }
    native.into_iter().zip(desugared).collect()
}

fn show(events: &[String]) -> String {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| format!("{i:>4}  {e}\n"))
        .collect()
}

#[test]
fn cases_line_up_and_are_unique() {
    let pairs = pairs();
    assert!(pairs.len() >= 45, "only {} fixtures", pairs.len());
    let mut names: Vec<_> = pairs.iter().map(|(n, _)| n.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "duplicate fixture names");
}

/// Each fixture runs in a child process of this test binary (this same test, with
/// `UNASYNC_FIXTURE` naming the fixture): a fixture whose desugared code aborts the process (a
/// double free under AddressSanitizer) is named in the failure, not lost with the process.
fn each_in_its_own_process(test: &str, edition: &str, pairs: Vec<(Case, Case)>) {
    if let Ok(name) = std::env::var("UNASYNC_FIXTURE") {
        let (n, d) = pairs.iter().find(|(n, _)| n.name == name).unwrap_or_else(|| panic!("no fixture `{name}`"));
        if let Err(failure) = check_fixture(n, d) {
            println!("{failure}");
            std::process::exit(1);
        }
        return;
    }
    let exe = std::env::current_exe().expect("the test binary");
    let mut failures = Vec::new();
    for (n, _) in &pairs {
        let out = std::process::Command::new(&exe)
            .args(["--exact", test, "--nocapture", "--test-threads=1"])
            .env("UNASYNC_FIXTURE", n.name)
            .output()
            .expect("running the test binary");
        if !out.status.success() {
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let shown: String = stdout.lines().filter(|l| !l.starts_with("running ") && !l.is_empty()).collect::<Vec<_>>().join("\n");
            let tail: Vec<&str> = stderr.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect();
            failures.push(format!(
                "fixture `{}` ({}:{}), edition {edition}: child {}\n{shown}\n{}",
                n.name,
                n.file,
                n.line,
                out.status,
                tail.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} fixtures fail:\n\n{}", failures.len(), pairs.len(), failures.join("\n\n"));
}

/// One fixture, both sides: the logs agree to the end and at every cancellation point, it
/// terminates, a `panic_` fixture panics (and is then poisoned), any other completes (and is
/// then `Returned`), and the future is dropped last.
fn check_fixture(n: &Case, d: &Case) -> Result<(), String> {
    let full = compare_cases(n, d).map_err(|mismatch| format!("{}:{}\n{mismatch}", n.file, n.line))?;
    if full.end == End::PollLimit {
        return Err(format!("fixture `{}` does not terminate", n.name));
    }
    for (side, case) in [("native", n), ("desugared", d)] {
        let out = run_case(case.run, None);
        let log = show(&out.events);
        let name = case.name;
        let expect = |ok: bool, what: &str| if ok { Ok(()) } else { Err(format!("{side} fixture `{name}`: {what}:\n{log}")) };
        if name.starts_with("panic_") {
            expect(out.end == End::Panicked, "did not panic")?;
            let panic_line = format!("outer poll #{} -> panic: ", out.polls);
            expect(
                out.events.iter().any(|e| e.starts_with(&panic_line) && (e.contains("body panicked: ") || e.contains("leaf leaf panicked"))),
                "no panic message in its log",
            )?;
            expect(out.events.contains(&format!("poll after panic -> panic: {RESUMED_AFTER_PANICKING}")), "not poisoned")?;
        } else {
            expect(out.end == End::Ready, "did not complete")?;
            expect(out.events.contains(&format!("poll after ready -> panic: {RESUMED_AFTER_COMPLETION}")), "not returned")?;
        }
        expect(out.events.last().map(String::as_str) == Some("dropped"), "not dropped last")?;
    }
    Ok(())
}

#[test]
fn native_and_desugared_logs_agree() {
    let pairs = pairs();
    let panicking = pairs.iter().filter(|(n, _)| n.name.starts_with("panic_")).count();
    assert!(panicking >= 5, "too few panicking fixtures: {panicking}");
    each_in_its_own_process("native_and_desugared_logs_agree", "2024", pairs);
}

/// Cancelling before the first poll drops the arguments (they were moved into the future).
#[test]
fn cancel_before_first_poll_drops_arguments() {
    for (n, d) in pairs()
        .into_iter()
        .filter(|(n, _)| n.name == "tracked_args")
    {
        for (side, case) in [("native", n), ("desugared", d)] {
            let out = run_case(case.run, Some(0));
            assert_eq!(
                out.events,
                [
                    "cancel after 0 polls",
                    "drop arg-a",
                    "drop arg-b",
                    "dropped"
                ],
                "{side} `{}`:\n{}",
                case.name,
                show(&out.events)
            );
        }
    }
}

#[test]
fn auto_traits_agree() {
    let mut failures = Vec::new();
    for (n, d) in pairs() {
        let traits = |c: &Case| (c.is_send, c.is_sync, c.is_unpin);
        if traits(&n) != traits(&d) {
            failures.push(format!(
                "fixture `{}` ({}:{}): native (Send, Sync, Unpin) = {:?}, desugared = {:?}",
                n.name,
                n.file,
                n.line,
                traits(&n),
                traits(&d)
            ));
        }
        assert!(
            !n.is_unpin,
            "native fixture `{}` is Unpin: the probe is broken",
            n.name
        );
    }
    assert!(
        failures.is_empty(),
        "auto traits differ:\n{}",
        failures.join("\n")
    );
}

/// Sanity of the probes: what rustc decides for a few futures.
#[test]
fn native_auto_traits_are_as_expected() {
    let native = native::cases();
    let get = |name: &str| {
        let c = native
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no fixture `{name}`"));
        (c.is_send, c.is_sync)
    };
    assert_eq!(get("three_awaits"), (true, true));
    assert_eq!(get("rc_across_await"), (false, false));
    assert_eq!(get("rc_scoped_before_await"), (true, true));
    // `drop(rc)` moves it out, but its storage is still live across the await: not Send.
    assert_eq!(get("rc_moved_before_await"), (false, false));
    assert_eq!(get("cell_across_await"), (true, false));
    assert_eq!(get("cell_ref_across_await"), (false, false));
    assert_eq!(get("rc_argument"), (false, false));
    // Never borrowed, moved or dead: its storage is not kept.
    assert_eq!(get("rc_moved_unborrowed_before_await"), (true, true));
    assert_eq!(get("raw_pointer_unused_after_await"), (true, true));
    // Borrowed once, dead at the `.await`: kept to the end of its scope.
    assert_eq!(get("raw_pointer_borrowed_before_await"), (false, false));
    assert_eq!(get("cell_borrowed_then_dead"), (true, false));
}

/// The same fixtures compiled as edition 2021 (other temporary scopes and capture rules): the
/// desugared futures must agree with rustc's there too.
#[test]
fn edition_2021_agrees() {
    let native = unasync_fixtures_2021::native::cases();
    let desugared = unasync_fixtures_2021::desugared::cases();
    assert!(native.len() >= 45, "only {} edition 2021 fixtures", native.len());
    assert_eq!(native.len(), desugared.len());
    let traits = |c: &Case| (c.is_send, c.is_sync, c.is_unpin);
    let differ: Vec<&str> = native.iter().zip(&desugared).filter(|(n, d)| traits(n) != traits(d)).map(|(n, _)| n.name).collect();
    assert!(differ.is_empty(), "edition 2021: auto traits differ: {differ:?}");
    each_in_its_own_process("edition_2021_agrees", "2021", native.into_iter().zip(desugared).collect());
}
