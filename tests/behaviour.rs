//! Every fixture runs natively (rustc's lowering) and desugared (`#[unasync::desugar]`): to the end
//! and cancelled after every possible number of polls. The logs must be identical, and the futures
//! must have the same auto traits.

use unasync_fixtures::harness::{
    Case, End, Outcome, RESUMED_AFTER_COMPLETION, RESUMED_AFTER_PANICKING, compare_cases, run_case,
};
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

#[test]
fn native_and_desugared_logs_agree() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (n, d) in pairs() {
        match compare_cases(&n, &d) {
            Ok(full) => {
                assert_ne!(
                    full.end,
                    End::PollLimit,
                    "fixture `{}` does not terminate",
                    n.name
                );
                checked += 1;
            }
            Err(mismatch) => failures.push(format!("{}:{}\n{mismatch}", n.file, n.line)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ ({checked} agree):\n\n{}",
        failures.len(),
        failures.len() + checked,
        failures.join("\n")
    );
}

fn full_runs(case: &Case) -> Outcome {
    run_case(case.run, None)
}

/// The harness must observe panics and the poisoned / completed states, otherwise agreement of the
/// logs proves nothing about them.
#[test]
fn panics_and_resumption_are_observed() {
    let mut panicking = 0;
    for (n, d) in pairs() {
        for (side, case) in [("native", &n), ("desugared", &d)] {
            let out = full_runs(case);
            let log = show(&out.events);
            let name = case.name;
            if name.starts_with("panic_") {
                panicking += 1;
                assert_eq!(
                    out.end,
                    End::Panicked,
                    "{side} fixture `{name}` did not panic:\n{log}"
                );
                let panic_line = format!("outer poll #{} -> panic: ", out.polls);
                assert!(
                    out.events.iter().any(|e| e.starts_with(&panic_line)
                        && (e.contains("body panicked: ") || e.contains("leaf leaf panicked"))),
                    "{side} fixture `{name}`: no panic message in its log:\n{log}"
                );
                let resumed = format!("poll after panic -> panic: {RESUMED_AFTER_PANICKING}");
                assert!(
                    out.events.contains(&resumed),
                    "{side} fixture `{name}`: no `{resumed}` in its log:\n{log}"
                );
            } else {
                assert_eq!(
                    out.end,
                    End::Ready,
                    "{side} fixture `{name}` did not complete:\n{log}"
                );
                let resumed = format!("poll after ready -> panic: {RESUMED_AFTER_COMPLETION}");
                assert!(
                    out.events.contains(&resumed),
                    "{side} fixture `{name}`: no `{resumed}` in its log:\n{log}"
                );
            }
            assert_eq!(
                out.events.last().map(String::as_str),
                Some("dropped"),
                "{side} `{name}`:\n{log}"
            );
        }
    }
    assert!(panicking >= 2 * 5, "too few panicking fixtures");
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
}

/// The same fixtures compiled as edition 2021 (other temporary scopes and capture rules): the
/// desugared futures must agree with rustc's there too.
#[test]
fn edition_2021_agrees() {
    let native = unasync_fixtures_2021::native::cases();
    let desugared = unasync_fixtures_2021::desugared::cases();
    assert!(native.len() >= 45, "only {} edition 2021 fixtures", native.len());
    assert_eq!(native.len(), desugared.len());
    let mut failures = Vec::new();
    for (n, d) in native.iter().zip(&desugared) {
        if let Err(mismatch) = compare_cases(n, d) {
            failures.push(format!("{}:{}\n{mismatch}", n.file, n.line));
        }
        if (n.is_send, n.is_sync, n.is_unpin) != (d.is_send, d.is_sync, d.is_unpin) {
            failures.push(format!("{}: auto traits differ", n.name));
        }
    }
    assert!(failures.is_empty(), "edition 2021:\n{}", failures.join("\n"));
}
