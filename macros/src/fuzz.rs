//! Fuzzing the macro's entry point with mangled token streams: it must answer with tokens (an
//! expansion or a `compile_error!`), never panic.
//!
//! The seeds are the fixtures' async fns (`fixtures/src/cases/*.rs`, read at test time). Each input
//! is a seed with a few mutations applied to its token tree (drop, duplicate or swap tokens,
//! replace identifiers, insert `.await` or small snippets, wrap tokens in a group, unwrap or
//! re-delimit a group, truncate a group, splice a subtree from another seed). `try_expand` runs
//! under `catch_unwind`; every panic is minimised (greedy token deletion that keeps the same panic
//! location) and reported with its message.
//!
//! `cargo test -p unasync-macros` runs a fixed, fast number of inputs. The soak test is ignored by
//! default:
//!
//! ```text
//! UNASYNC_FUZZ_ITERATIONS=100000 UNASYNC_FUZZ_SEED=1 \
//!     cargo test -p unasync-macros --release fuzz::soak -- --ignored --nocapture
//! ```

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// Inputs of the fast run in `cargo test`.
const QUICK_ITERATIONS: u64 = 5_000;
/// An expansion taking longer than this is reported as a hang (the process aborts with the input).
const HANG_LIMIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Randomness: SplitMix64, enough for mutations, reproducible from a seed.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("fits")
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------------------------
// A token tree that can be edited in place.

#[derive(Clone)]
enum Tok {
    Leaf(TokenTree),
    Group(Delimiter, Vec<Tok>),
}

fn to_toks(stream: TokenStream) -> Vec<Tok> {
    stream
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(group) => Tok::Group(group.delimiter(), to_toks(group.stream())),
            leaf => Tok::Leaf(leaf),
        })
        .collect()
}

fn to_stream(toks: &[Tok]) -> TokenStream {
    toks.iter()
        .map(|tok| match tok {
            Tok::Leaf(leaf) => leaf.clone(),
            Tok::Group(delimiter, inner) => TokenTree::Group(Group::new(*delimiter, to_stream(inner))),
        })
        .collect()
}

fn count(toks: &[Tok]) -> usize {
    toks.iter()
        .map(|tok| match tok {
            Tok::Leaf(_) => 1,
            Tok::Group(_, inner) => 1 + count(inner),
        })
        .sum()
}

fn depth(toks: &[Tok]) -> usize {
    toks.iter()
        .map(|tok| match tok {
            Tok::Leaf(_) => 0,
            Tok::Group(_, inner) => 1 + depth(inner),
        })
        .max()
        .unwrap_or(0)
}

/// Every token sequence of the tree (the top level and each group's contents), as paths of group
/// indices from the top.
fn sequences(toks: &[Tok], path: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    out.push(path.clone());
    for (i, tok) in toks.iter().enumerate() {
        if let Tok::Group(_, inner) = tok {
            path.push(i);
            sequences(inner, path, out);
            path.pop();
        }
    }
}

fn sequence_mut<'a>(toks: &'a mut Vec<Tok>, path: &[usize]) -> &'a mut Vec<Tok> {
    match path.split_first() {
        None => toks,
        Some((&first, rest)) => match &mut toks[first] {
            Tok::Group(_, inner) => sequence_mut(inner, rest),
            Tok::Leaf(_) => unreachable!("paths lead to groups"),
        },
    }
}

/// A random token sequence of the tree, weighted by its length so every token is equally likely.
fn random_sequence<'a>(rng: &mut Rng, toks: &'a mut Vec<Tok>) -> &'a mut Vec<Tok> {
    let mut paths = Vec::new();
    sequences(toks, &mut Vec::new(), &mut paths);
    let weights: Vec<usize> = paths
        .iter()
        .map(|path| sequence_mut(toks, path).len() + 1)
        .collect();
    let mut target = rng.below(weights.iter().sum());
    let mut chosen = 0;
    for (i, weight) in weights.iter().enumerate() {
        if target < *weight {
            chosen = i;
            break;
        }
        target -= weight;
    }
    sequence_mut(toks, &paths[chosen])
}

fn random_subtree(rng: &mut Rng, toks: &[Tok]) -> Vec<Tok> {
    let mut toks = toks.to_vec();
    let sequence = random_sequence(rng, &mut toks).clone();
    if sequence.is_empty() {
        return Vec::new();
    }
    let start = rng.below(sequence.len());
    let len = 1 + rng.below((sequence.len() - start).min(6));
    sequence[start..start + len].to_vec()
}

// ---------------------------------------------------------------------------------------------
// Mutations.

const IDENTS: &[&str] = &[
    "x", "y", "log", "self", "Self", "async", "await", "let", "mut", "ref", "match", "if", "else",
    "loop", "while", "for", "in", "break", "continue", "return", "move", "unsafe", "fn", "impl",
    "dyn", "struct", "enum", "const", "static", "yield", "gen", "try", "box", "where", "crate",
    "super", "as", "_", "r#match", "u32", "String", "Some", "None", "Ok", "Err", "drop", "println",
    "vec", "format", "__this", "__cx", "__Frame", "__State", "__awaitee", "__block", "__value0",
    "__register0", "__bind_x", "Unresumed", "Suspend0", "Returned", "Panicked",
];

const SNIPPETS: &[&str] = &[
    ".await",
    ".await.await",
    "?",
    ";",
    "=",
    "+=",
    "let x =",
    "let mut y = 1;",
    "let _ =",
    "'a:",
    "break 'a",
    "continue 'a",
    "break",
    "continue",
    "return",
    "..",
    "..=",
    "&",
    "&mut",
    "*",
    "!",
    "-",
    "|| ()",
    "move |x| x.await",
    "async move { x.await }",
    "async { }",
    "unsafe { }",
    "loop { break; }",
    "if x.await { }",
    "match x.await { _ => {} }",
    "while let Some(v) = x.await { }",
    "for v in x.await { }",
    "let Some(z) = x.await else { return; };",
    "let (a, ref b) = x.await;",
    "println!(\"{}\", x.await)",
    "#[allow(unused)]",
    "#[cfg(any())]",
    "r#await",
    "'label",
    "1",
    "\"text\"",
    "b'x'",
    "1.5e3",
    "()",
    "[]",
    "{}",
    "<T>",
    "::",
    "::<u32>",
    "as u8",
    "=>",
    ",",
    "yield",
    "x.await = 1",
    "*x.await += 1",
    "async fn inner() {}",
    "fn inner() { x.await }",
    "struct S;",
    "impl S {}",
    "macro_rules! m { () => {} }",
    "const C: u32 = 1;",
];

fn snippet(rng: &mut Rng) -> Vec<Tok> {
    let text = rng.pick(SNIPPETS);
    to_toks(text.parse().expect("snippet tokenises"))
}

fn ident(rng: &mut Rng) -> TokenTree {
    let name = rng.pick(IDENTS);
    match name.strip_prefix("r#") {
        Some(raw) => TokenTree::Ident(Ident::new_raw(raw, Span::call_site())),
        None => TokenTree::Ident(Ident::new(name, Span::call_site())),
    }
}

fn delimiter(rng: &mut Rng) -> Delimiter {
    *rng.pick(&[Delimiter::Parenthesis, Delimiter::Brace, Delimiter::Bracket, Delimiter::None])
}

fn mutate(rng: &mut Rng, toks: &mut Vec<Tok>, seeds: &[Vec<Tok>]) {
    let kind = rng.below(13);
    // Splicing needs the donor before borrowing a sequence of `toks`.
    let donor = if kind == 12 {
        let other = rng_pick_seed(rng, seeds);
        random_subtree(rng, other)
    } else {
        Vec::new()
    };
    let sequence = random_sequence(rng, toks);
    let len = sequence.len();
    let at = rng.below(len + 1);
    match kind {
        // Drop a token, or a run of tokens.
        0 if len > 0 => {
            let at = at.min(len - 1);
            let run = if rng.chance(80) { 1 } else { 5 };
            let n = 1 + rng.below((len - at).min(run));
            sequence.drain(at..at + n);
        }
        // Duplicate a token.
        1 if len > 0 => {
            let at = at.min(len - 1);
            let copy = sequence[at].clone();
            sequence.insert(at, copy);
        }
        // Swap two tokens (often neighbours).
        2 if len > 1 => {
            let a = rng.below(len);
            let b = if rng.chance(70) { (a + 1) % len } else { rng.below(len) };
            sequence.swap(a, b);
        }
        // Replace an identifier.
        3 => {
            let idents: Vec<usize> = (0..len)
                .filter(|&i| matches!(sequence[i], Tok::Leaf(TokenTree::Ident(_))))
                .collect();
            if let Some(&i) = idents.get(rng.below(idents.len().max(1))) {
                sequence[i] = Tok::Leaf(ident(rng));
            }
        }
        // Insert `.await` after a token.
        4 => {
            let tail = to_toks(quote::quote!(.await));
            sequence.splice(at..at, tail);
        }
        // Insert a snippet.
        5 => {
            let inserted = snippet(rng);
            sequence.splice(at..at, inserted);
        }
        // Wrap a run of tokens in a group.
        6 if len > 0 => {
            let at = at.min(len - 1);
            let n = 1 + rng.below((len - at).min(8));
            let inner: Vec<Tok> = sequence.drain(at..at + n).collect();
            sequence.insert(at, Tok::Group(delimiter(rng), inner));
        }
        // Unwrap a group.
        7 => {
            let groups: Vec<usize> = (0..len).filter(|&i| matches!(sequence[i], Tok::Group(..))).collect();
            if let Some(&i) = groups.get(rng.below(groups.len().max(1)))
                && let Tok::Group(_, inner) = sequence.remove(i)
            {
                sequence.splice(i..i, inner);
            }
        }
        // Change a group's delimiter.
        8 => {
            let groups: Vec<usize> = (0..len).filter(|&i| matches!(sequence[i], Tok::Group(..))).collect();
            if let Some(&i) = groups.get(rng.below(groups.len().max(1)))
                && let Tok::Group(delim, _) = &mut sequence[i]
            {
                *delim = delimiter(rng);
            }
        }
        // Truncate the sequence.
        9 => sequence.truncate(at),
        // Replace a token by a random punctuation or literal.
        10 if len > 0 => {
            let at = at.min(len - 1);
            let leaf = match rng.below(3) {
                0 => {
                    let spacing = if rng.chance(50) { Spacing::Alone } else { Spacing::Joint };
                    let ch = *rng.pick(&[';', ',', '.', '=', '&', '*', '?', '!', '#', '\'', ':', '<', '>', '|', '@']);
                    TokenTree::Punct(Punct::new(ch, spacing))
                }
                1 => TokenTree::Literal(Literal::u32_suffixed(7)),
                _ => TokenTree::Literal(Literal::string("s")),
            };
            sequence[at] = Tok::Leaf(leaf);
        }
        // Empty a group.
        11 => {
            let groups: Vec<usize> = (0..len).filter(|&i| matches!(sequence[i], Tok::Group(..))).collect();
            if let Some(&i) = groups.get(rng.below(groups.len().max(1)))
                && let Tok::Group(_, inner) = &mut sequence[i]
            {
                inner.clear();
            }
        }
        // Splice tokens from another seed.
        12 => {
            sequence.splice(at..at, donor);
        }
        _ => {}
    }
}

fn rng_pick_seed<'a>(rng: &mut Rng, seeds: &'a [Vec<Tok>]) -> &'a [Tok] {
    &seeds[rng.below(seeds.len())]
}

// ---------------------------------------------------------------------------------------------
// Seeds.

/// The fixtures' async fns (free functions and methods), without their `#[desugar]` attribute,
/// and a few hand-written ones.
fn seeds() -> Vec<Vec<Tok>> {
    struct Collect(Vec<TokenStream>);
    impl<'ast> syn::visit::Visit<'ast> for Collect {
        fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
            if item.sig.asyncness.is_some() {
                let mut item = item.clone();
                item.attrs.retain(|attr| !is_ours(attr));
                self.0.push(quote::ToTokens::to_token_stream(&item));
            }
            syn::visit::visit_item_fn(self, item);
        }
        fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
            if item.sig.asyncness.is_some() {
                let mut item = item.clone();
                item.attrs.retain(|attr| !is_ours(attr));
                self.0.push(quote::ToTokens::to_token_stream(&item));
            }
            syn::visit::visit_impl_item_fn(self, item);
        }
    }
    fn is_ours(attr: &syn::Attribute) -> bool {
        attr.path().segments.last().is_some_and(|s| s.ident == "desugar" || s.ident == "native")
    }

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/src/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    files.sort();
    let mut collect = Collect(Vec::new());
    for path in &files {
        let text = std::fs::read_to_string(path).expect("fixture source");
        let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
        syn::visit::Visit::visit_file(&mut collect, &file);
    }
    let extra = [
        "async fn empty() {}",
        "async fn one(x: u32) -> u32 { tick().await; x }",
        "async fn methods(&mut self, a: String) -> usize { self.go(&a).await; a.len() }",
        "async fn generic<T: Clone>(t: T) -> T where T: Send { let u = t.clone(); tick().await; u }",
        "async fn nested(x: Option<u32>) -> u32 { loop { match x { Some(v) => { if v > 1 { break v; } tick().await; } None => return 0 } } }",
    ];
    let mut seeds: Vec<Vec<Tok>> = collect.0.into_iter().map(to_toks).collect();
    assert!(seeds.len() >= 40, "only {} seeds in {}", seeds.len(), dir.display());
    seeds.extend(extra.iter().map(|text| to_toks(text.parse().expect("extra seed"))));
    seeds
}

// ---------------------------------------------------------------------------------------------
// Running inputs.

thread_local! {
    /// Set while this thread runs an input: the panic hook records instead of printing.
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// Where the last recorded panic happened.
    static LOCATION: RefCell<String> = const { RefCell::new(String::new()) };
}

fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
                LOCATION.with(|cell| *cell.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
}

struct Panic {
    location: String,
    message: String,
}

fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

/// Runs the macro on one input: `Err` when it panicked.
fn run(args: &TokenStream, item: &TokenStream) -> Result<Option<TokenStream>, Panic> {
    QUIET.with(|quiet| quiet.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(|| crate::try_expand(args.clone(), item.clone())));
    QUIET.with(|quiet| quiet.set(false));
    match result {
        Ok(Ok(expansion)) => Ok(Some(expansion)),
        Ok(Err(_)) => Ok(None),
        Err(payload) => Err(Panic {
            location: LOCATION.with(|cell| cell.borrow().clone()),
            message: payload_message(&*payload),
        }),
    }
}

/// Greedy minimisation: delete tokens, unwrap groups and empty groups while the input still
/// panics at the same place.
fn minimise(args: &TokenStream, toks: &[Tok], location: &str) -> Vec<Tok> {
    fn candidates(toks: &[Tok]) -> Vec<Vec<Tok>> {
        let mut out = Vec::new();
        for i in 0..toks.len() {
            let mut without = toks.to_vec();
            without.remove(i);
            out.push(without);
            if let Tok::Group(_, inner) = &toks[i] {
                let mut unwrapped = toks.to_vec();
                unwrapped.splice(i..=i, inner.clone());
                out.push(unwrapped);
                for smaller in candidates(inner) {
                    let mut replaced = toks.to_vec();
                    if let Tok::Group(_, slot) = &mut replaced[i] {
                        *slot = smaller;
                    }
                    out.push(replaced);
                }
            }
        }
        out
    }
    let mut current = toks.to_vec();
    let mut budget = 20_000;
    'outer: loop {
        for candidate in candidates(&current) {
            if budget == 0 {
                break 'outer;
            }
            budget -= 1;
            if let Err(panic) = run(args, &to_stream(&candidate))
                && panic.location == location
            {
                current = candidate;
                continue 'outer;
            }
        }
        break;
    }
    current
}

struct Report {
    inputs: u64,
    expanded: u64,
    refused: u64,
    unparsable: u64,
    panics: Vec<(Panic, String, String)>,
    elapsed: Duration,
    /// The slowest expansion, and its input.
    slowest: (Duration, String),
    /// Time spent inside `try_expand`.
    in_macro: Duration,
}

/// Whether an expansion is valid Rust syntax (an item or an associated fn), so rustc reports
/// errors at the user's code rather than a syntax error inside the expansion.
fn parses(expansion: &TokenStream) -> bool {
    syn::parse2::<syn::File>(expansion.clone()).is_ok() || syn::parse2::<syn::ImplItemFn>(expansion.clone()).is_ok()
}

/// `syntax_every`: check that one expansion in this many is valid syntax (parsing a large
/// expansion costs more than expanding it).
fn fuzz(iterations: u64, seed: u64, syntax_every: u64) -> Report {
    install_hook();
    let seeds = seeds();
    // A watchdog: an expansion that never returns aborts the process with its input.
    let started = Arc::new(AtomicU64::new(0));
    let current: Arc<std::sync::Mutex<String>> = Arc::default();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clock = Instant::now();
    {
        let (started, current, done) = (started.clone(), current.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(250));
                let since = started.load(Ordering::Relaxed);
                let now = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
                if since != 0 && now.saturating_sub(since) > u64::try_from(HANG_LIMIT.as_millis()).unwrap_or(u64::MAX) {
                    eprintln!("fuzz: try_expand did not return within {HANG_LIMIT:?} on:\n{}", current.lock().map(|s| s.clone()).unwrap_or_default());
                    std::process::abort();
                }
            }
        });
    }

    let mut report = Report { inputs: 0, expanded: 0, refused: 0, unparsable: 0, panics: Vec::new(), elapsed: Duration::ZERO, slowest: (Duration::ZERO, String::new()), in_macro: Duration::ZERO };
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..iterations {
        let mut rng = Rng::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut toks = rng_pick_seed(&mut rng, &seeds).to_vec();
        let mutations = 1 + rng.below(4);
        for _ in 0..mutations {
            mutate(&mut rng, &mut toks, &seeds);
        }
        // Keep inputs shallow and bounded: syn's recursive descent must not overflow the stack.
        if depth(&toks) > 48 || count(&toks) > 4_000 {
            continue;
        }
        let args = if rng.chance(2) { to_stream(&snippet(&mut rng)) } else { TokenStream::new() };
        let item = to_stream(&toks);
        *current.lock().expect("watchdog lock") = format!("iteration {i} (seed {seed}):\n{item}");
        started.store(u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX).max(1), Ordering::Relaxed);
        let one = Instant::now();
        let result = run(&args, &item);
        started.store(0, Ordering::Relaxed);
        report.in_macro += one.elapsed();
        if one.elapsed() > report.slowest.0 {
            report.slowest = (one.elapsed(), item.to_string());
        }
        report.inputs += 1;
        match result {
            Ok(Some(expansion)) => {
                report.expanded += 1;
                if report.expanded.is_multiple_of(syntax_every) && !parses(&expansion) {
                    report.unparsable += 1;
                    if report.unparsable <= 3 {
                        eprintln!("fuzz: expansion is not valid syntax (iteration {i}, seed {seed}):\n  input: {item}");
                    }
                }
            }
            Ok(None) => report.refused += 1,
            Err(panic) => {
                if seen.insert(panic.location.clone()) {
                    let minimal = to_stream(&minimise(&args, &toks, &panic.location));
                    report.panics.push((panic, format!("iteration {i}, seed {seed}, args `{args}`"), minimal.to_string()));
                } else {
                    report.panics.push((panic, format!("iteration {i}"), String::new()));
                }
            }
        }
    }
    done.store(true, Ordering::Relaxed);
    report.elapsed = clock.elapsed();
    report
}

fn summary(report: &Report) -> String {
    let mut text = format!(
        "{} inputs in {:.1?} ({:.1?} in try_expand): {} expanded, {} refused with an error, {} checked expansions not valid syntax, {} panics\n",
        report.inputs,
        report.elapsed,
        report.in_macro,
        report.expanded,
        report.refused,
        report.unparsable,
        report.panics.len()
    );
    text.push_str(&format!("slowest input ({:.1?}): {}\n", report.slowest.0, report.slowest.1));
    for (panic, origin, minimal) in &report.panics {
        if !minimal.is_empty() {
            text.push_str(&format!(
                "\npanic at {}: {}\n  first seen: {origin}\n  minimal input: {minimal}\n",
                panic.location, panic.message
            ));
        }
    }
    text
}

#[test]
fn quick() {
    let report = fuzz(QUICK_ITERATIONS, 0x5EED, 8);
    let text = summary(&report);
    eprintln!("{text}");
    assert!(report.expanded > 0 && report.refused > 0, "the mutations should produce both: {text}");
    assert!(report.panics.is_empty(), "try_expand panicked:\n{text}");
}

/// `UNASYNC_FUZZ_ITERATIONS` (default 100000) inputs from `UNASYNC_FUZZ_SEED` (default 1).
#[test]
#[ignore = "soak: run with --ignored, UNASYNC_FUZZ_ITERATIONS and UNASYNC_FUZZ_SEED"]
fn soak() {
    let var = |name: &str, default: u64| {
        std::env::var(name).ok().map_or(default, |v| v.parse().unwrap_or_else(|_| panic!("{name} must be a number")))
    };
    let report = fuzz(var("UNASYNC_FUZZ_ITERATIONS", 100_000), var("UNASYNC_FUZZ_SEED", 1), 1);
    let text = summary(&report);
    eprintln!("{text}");
    assert!(report.panics.is_empty(), "try_expand panicked:\n{text}");
}

#[test]
fn seeds_expand() {
    // Unmutated, every seed from the fixtures expands (the fixtures compile through the macro).
    let seeds = seeds();
    install_hook();
    let mut failures = Vec::new();
    for seed in &seeds {
        match run(&TokenStream::new(), &to_stream(seed)) {
            Ok(Some(_)) => {}
            Ok(None) => {}
            Err(panic) => failures.push(format!("{}: {}", panic.location, panic.message)),
        }
    }
    assert!(failures.is_empty(), "seeds panicked: {failures:?}");
}

