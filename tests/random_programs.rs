//! Random async programs (a fixed seed), compiled natively and through `#[unasync::desugar]`,
//! must agree: same logs on the full run and when cancelled after every poll count, same panics,
//! same polls after completion or panic, same auto traits. The same programs are compiled as
//! edition 2024 and as edition 2021 (where block and body tail temporaries outlive the block's
//! locals and `if let` scrutinee temporaries live through the `else`).
//!
//! The programs are written into a generated crate built with this test's own settings into
//! `<target dir>/oracle` (so `RUSTFLAGS=-Zsanitizer=address cargo test --target T` checks them under
//! AddressSanitizer too). The soak binary (`cargo run -p unasync-fixtures --release --bin soak`)
//! runs the same oracle on many more programs and shrinks failures.

use std::time::Instant;
use unasync_fixtures::generator::oracle::{FIXED_PROGRAMS, FIXED_SEED, Oracle, Verdict};
use unasync_fixtures::generator::{Avoid, Construct, Counts, batch_avoiding};

/// Constructs the fixed seed does not generate: each is a known difference or refusal listed in
/// the README's "Known differences and limits", with its reason. The soak
/// (`--avoid`) reproduces each one; a construct leaves this list when its fix lands.
const KNOWN_DIFFERENCES: &[Construct] = &[];

/// Programs per generated crate: rustc's coherence checking grows quadratically with the number
/// of impls in one crate, so several small crates build faster than one large one.
const PER_CRATE: usize = 100;

#[test]
fn random_programs_agree() {
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut counts = Counts::default();
    let (mut compared, mut agreed) = (0, 0);
    let mut target = None;
    let avoid = KNOWN_DIFFERENCES.iter().fold(Avoid::NONE, |a, &c| a.with(c));
    for edition in ["2024", "2021"] {
        let oracle = Oracle::for_current_exe("unasync_random_programs_test").with_edition(edition);
        target = oracle.target.clone();
        let mut first = 0;
        while first < FIXED_PROGRAMS {
            let n = PER_CRATE.min(FIXED_PROGRAMS - first);
            let programs = batch_avoiding(FIXED_SEED, first as u64, n, avoid);
            let outcome = oracle.run(&programs).unwrap_or_else(|e| panic!("{e}"));
            for (p, v) in programs.iter().zip(outcome.verdicts) {
                compared += 1;
                match v {
                    Verdict::Agree { .. } => {
                        agreed += 1;
                        counts.merge(&p.counts);
                    }
                    Verdict::Differ(text) | Verdict::CompileError(text) | Verdict::Crash(text) => {
                        failures.push(format!(
                            "program {} (seed {:#x}, edition {edition}):\n{}\ncall: {}\n{text}",
                            p.name, p.seed, p.source, p.call
                        ))
                    }
                }
            }
            first += n;
        }
    }
    println!(
        "random programs: {compared} compared (editions 2024 and 2021), {agreed} agree, {} differ, in {:.1}s (target {:?})",
        failures.len(),
        started.elapsed().as_secs_f64(),
        target
    );
    println!("constructs:\n{counts}");
    assert!(
        failures.is_empty(),
        "{} of {compared} random programs disagree:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    let missing = counts.missing_except(avoid);
    assert!(missing.is_empty(), "not covered: {missing:?}");
}
