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

/// Programs of the fixed seed (their index) that still fail for causes no construct above
/// isolates. p112 (edition 2021 only): a block used as an operand of a statement with a later
/// `.await` (`acc += f({ let b = ..; observe(&make(), 1) }).await;`) keeps its tail's temporaries
/// to the end of the statement in edition 2021, across that `.await`; the lowering drops them
/// before it suspends (in the README's limits). Replay one with `soak --first K --programs 1`
/// and the constructs below as `--avoid`.
const KNOWN_PROGRAMS: &[u64] = &[112];

/// Constructs the fixed seed does not generate: each is a known difference or refusal listed in
/// the README's "Known differences and limits", with its reason. The soak
/// (`--avoid`) reproduces each one; a construct leaves this list when its fix lands.
const KNOWN_DIFFERENCES: &[Construct] = &[
    // C: part of a local kept at one address moved out (E0507/E0382).
    Construct::PartialMove,
    Construct::PartialMoveThenAwait,
    Construct::PatternPartialMove,
    Construct::ArrayDestructure,
    Construct::IntoInner,
    // M: by-value bindings of a local kept at one address; G2: guards on `&mut` bindings; `ref
    // mut` bindings in a match on such a local.
    Construct::MatchLocalByValue,
    Construct::IfLetMove,
    Construct::MatchDestructure,
    Construct::MatchGuard,
    Construct::MatchRefBinding,
    Construct::LetElseLocal,
    // D/E: closures capturing by value a local kept at one address.
    Construct::ClosureRef,
    Construct::ClosureMut,
    Construct::ClosureMove,
    Construct::ClosureOnce,
    // (Generated only with the closures above.)
    Construct::ClosureCall,
    Construct::ClosureAcrossAwait,
    // S: a `&mut` local passed to an awaited call, then used again.
    Construct::GetMutAcrossAwait,
    // B: the unmatched rest of an awaited scrutinee dropped when the arm is chosen.
    Construct::MatchAwaitedRest,
    Construct::IfLetAwaitedRest,
    // J: `if let` scrutinee temporaries around the `else` (edition 2021).
    Construct::IfLetTemp,
    // U: a name rebound with another type in a loop body, the outer one borrowed later.
    Construct::Shadow,
];

/// Programs per generated crate: rustc's coherence checking grows quadratically with the number
/// of impls in one crate, so several small crates build faster than one large one.
const PER_CRATE: usize = 100;

#[test]
fn random_programs_agree() {
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut counts = Counts::default();
    let (mut compared, mut agreed) = (0, 0);
    // `UNASYNC_RANDOM_PROGRAMS` runs fewer (CI's AddressSanitizer pass), never more than the
    // fixed seed's.
    let count = std::env::var("UNASYNC_RANDOM_PROGRAMS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .map_or(FIXED_PROGRAMS, |n| n.min(FIXED_PROGRAMS));
    let mut target = None;
    let avoid = KNOWN_DIFFERENCES.iter().fold(Avoid::NONE, |a, &c| a.with(c));
    for edition in ["2024", "2021"] {
        let oracle = Oracle::for_current_exe("unasync_random_programs_test").with_edition(edition);
        target = oracle.target.clone();
        let mut first = 0;
        while first < count {
            let n = PER_CRATE.min(count - first);
            let programs = batch_avoiding(FIXED_SEED, first as u64, n, avoid);
            let outcome = oracle.run(&programs).unwrap_or_else(|e| panic!("{e}"));
            for (p, v) in programs.iter().zip(outcome.verdicts) {
                if KNOWN_PROGRAMS.iter().any(|&k| p.name == format!("p{k}")) {
                    continue;
                }
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
    // Every construct the generator knows comes up in the whole fixed seed.
    let missing = counts.missing_except(avoid);
    assert!(count < FIXED_PROGRAMS || missing.is_empty(), "not covered: {missing:?}");
}
