//! `#[unasync::desugar]` together with attributes that rewrite an `async fn` themselves
//! (`#[tracing::instrument]`, `#[tokio::main]`, `#[tokio::test]`), in both orders. Each function is
//! compiled twice from the same tokens, natively and with `#[unasync::desugar]` at the given place
//! among its attributes; both run in the same test and their logs (steps, polls, drops, panics,
//! tracing's spans and events) must be identical.

use std::cell::RefCell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

thread_local! {
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn log(entry: impl Into<String>) {
    LOG.with(|log| log.borrow_mut().push(entry.into()));
}

fn take_log() -> Vec<String> {
    LOG.with(|log| std::mem::take(&mut *log.borrow_mut()))
}

/// Logs its drop, so the logs show drop order on completion, cancellation and panic.
#[derive(Debug)]
pub struct Tracked(&'static str);

impl Drop for Tracked {
    fn drop(&mut self) {
        log(format!("drop {}", self.0));
    }
}

/// Pending once (waking its task), then ready: every `.await` of it is a suspension point.
pub struct Yield {
    name: &'static str,
    pending: bool,
}

pub fn yield_once(name: &'static str) -> Yield {
    Yield {
        name,
        pending: true,
    }
}

impl Future for Yield {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if std::mem::take(&mut self.pending) {
            log(format!("{} pending", self.name));
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            log(format!("{} ready", self.name));
            Poll::Ready(())
        }
    }
}

// Compiling the cases twice is the point.
#[allow(clippy::duplicate_mod)]
#[path = "compose"]
mod native {
    pub use ::unasync::__private::native as desugar;
    pub mod cases;
}

#[allow(clippy::duplicate_mod)]
#[path = "compose"]
mod desugared {
    pub use ::unasync::desugar;
    pub mod cases;
}

use desugared::cases as d;
use native::cases as n;

// ---------------------------------------------------------------------------------------------
// #[tracing::instrument]

/// Logs tracing's span and event callbacks with the same numbering in every run.
struct LogSubscriber {
    next_id: AtomicU64,
}

struct Fields(Vec<String>);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push(format!("{}={:?}", field.name(), value));
    }
}

impl tracing::Subscriber for LogSubscriber {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        // Other tests run on other threads without this subscriber: never cache their answer.
        tracing::subscriber::Interest::sometimes()
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut fields = Fields(Vec::new());
        span.record(&mut fields);
        log(format!(
            "new span {id} {} {}",
            span.metadata().name(),
            fields.0.join(" ")
        ));
        tracing::span::Id::from_u64(id)
    }
    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut fields = Fields(Vec::new());
        values.record(&mut fields);
        log(format!("record {} {}", span.into_u64(), fields.0.join(" ")));
    }
    fn record_follows_from(&self, span: &tracing::span::Id, follows: &tracing::span::Id) {
        log(format!(
            "follows {} {}",
            span.into_u64(),
            follows.into_u64()
        ));
    }
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Fields(Vec::new());
        event.record(&mut fields);
        log(format!(
            "event {} {}",
            event.metadata().level(),
            fields.0.join(" ")
        ));
    }
    fn enter(&self, span: &tracing::span::Id) {
        log(format!("enter {}", span.into_u64()));
    }
    fn exit(&self, span: &tracing::span::Id) {
        log(format!("exit {}", span.into_u64()));
    }
    fn clone_span(&self, span: &tracing::span::Id) -> tracing::span::Id {
        log(format!("clone {}", span.into_u64()));
        span.clone()
    }
    fn try_close(&self, span: tracing::span::Id) -> bool {
        log(format!("close {}", span.into_u64()));
        true
    }
}

/// Runs a future under [`LogSubscriber`], polling it to the end or dropping it after `cancel_after`
/// polls, and returns the log.
fn traced_run<F: Future>(future: impl FnOnce() -> F, cancel_after: Option<usize>) -> Vec<String>
where
    F::Output: std::fmt::Debug,
{
    take_log();
    let subscriber = LogSubscriber {
        next_id: AtomicU64::new(1),
    };
    tracing::subscriber::with_default(subscriber, || {
        let mut future = Box::pin(future());
        let mut cx = Context::from_waker(Waker::noop());
        let mut polls = 0;
        loop {
            if cancel_after == Some(polls) {
                log("cancel");
                drop(future);
                break;
            }
            log(format!("poll {polls}"));
            polls += 1;
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                log(format!("ready {output:?}"));
                drop(future);
                break;
            }
            assert!(polls < 100, "does not terminate");
        }
    });
    take_log()
}

fn assert_same(what: &str, native: &[String], desugared: &[String]) {
    assert_eq!(
        native, desugared,
        "{what}: native (left) and desugared (right) differ"
    );
}

/// The native and the desugared function agree run to the end and cancelled after every number of
/// polls; the full run must show the span entered on each poll.
fn compare_traced<F: Future, G: Future<Output = F::Output>>(
    what: &str,
    native: impl Fn() -> F,
    desugared: impl Fn() -> G,
) where
    F::Output: std::fmt::Debug,
{
    let full = traced_run(&native, None);
    assert_same(what, &full, &traced_run(&desugared, None));
    let polls = full
        .iter()
        .filter(|entry| entry.starts_with("poll "))
        .count();
    let entered = full
        .iter()
        .filter(|entry| entry.starts_with("enter "))
        .count();
    assert!(
        entered >= polls,
        "{what}: the span is not entered on every poll:\n{full:#?}"
    );
    for cancel_after in 0..polls {
        assert_same(
            &format!("{what}, cancelled after {cancel_after} polls"),
            &traced_run(&native, Some(cancel_after)),
            &traced_run(&desugared, Some(cancel_after)),
        );
    }
}

#[test]
fn instrument_above_desugar_enters_the_span_on_every_poll() {
    compare_traced(
        "instrument above",
        || n::instrument_above::steps(4, "a"),
        || d::instrument_above::steps(4, "a"),
    );
}

#[test]
fn instrument_below_desugar_enters_the_span_on_every_poll() {
    compare_traced(
        "instrument below",
        || n::instrument_below::steps(4, "b"),
        || d::instrument_below::steps(4, "b"),
    );
}

#[test]
fn instrument_with_ret_and_err() {
    for x in [1, 2] {
        compare_traced(
            &format!("ret, err, x = {x}"),
            move || n::instrument_ret_err::checked(x),
            move || d::instrument_ret_err::checked(x),
        );
    }
    for x in [0, 5] {
        compare_traced(
            &format!("err, skip_all, x = {x}"),
            move || n::instrument_err_below::checked(x),
            move || d::instrument_err_below::checked(x),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// #[tokio::main] and #[tokio::test]

/// Runs a function that blocks on its own runtime and returns the log, with the panic if it
/// panicked.
fn blocking_run<T: std::fmt::Debug>(run: impl FnOnce() -> T) -> Vec<String> {
    take_log();
    let outcome = catch_unwind(AssertUnwindSafe(run));
    match outcome {
        Ok(output) => log(format!("returned {output:?}")),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            log(format!("panicked: {message}"));
        }
    }
    take_log()
}

fn compare_blocking<T: std::fmt::Debug>(
    what: &str,
    native: impl FnOnce() -> T,
    desugared: impl FnOnce() -> T,
) {
    let native = blocking_run(native);
    assert!(
        native.iter().any(|entry| entry.ends_with(" pending")),
        "{what}: never suspended"
    );
    assert_same(what, &native, &blocking_run(desugared));
}

#[test]
fn tokio_main_above_desugar() {
    compare_blocking(
        "main above",
        || n::main_above::run(3, 4),
        || d::main_above::run(3, 4),
    );
}

#[test]
fn tokio_main_below_desugar() {
    compare_blocking(
        "main below",
        || n::main_below::run(3, 4),
        || d::main_below::run(3, 4),
    );
}

#[test]
fn tokio_main_multi_thread_with_question_mark_and_spawn() {
    compare_blocking(
        "multi-thread main",
        n::main_multi_thread::run,
        d::main_multi_thread::run,
    );
}

#[test]
fn tokio_main_panicking_body() {
    for fail in [false, true] {
        compare_blocking(
            &format!("panicking main, fail = {fail}"),
            || n::main_panics::run(fail),
            || d::main_panics::run(fail),
        );
    }
}

/// The `#[tokio::test]` functions above are tests themselves; called here, their logs are compared.
#[test]
fn tokio_test_functions_agree() {
    compare_blocking("test above", n::test_above::counts, d::test_above::counts);
    compare_blocking("test below", n::test_below::counts, d::test_below::counts);
    compare_blocking(
        "should_panic",
        n::test_should_panic::fails,
        d::test_should_panic::fails,
    );
}

#[test]
fn instrument_on_methods_with_arguments_that_are_not_copy() {
    compare_traced(
        "&mut self, used and unused arguments",
        || async {
            let mut counter = n::instrument_methods::Counter {
                count: 1,
                name: Tracked("counter"),
            };
            counter.step(2, Tracked("used"), Tracked("unused")).await
        },
        || async {
            let mut counter = d::instrument_methods::Counter {
                count: 1,
                name: Tracked("counter"),
            };
            counter.step(2, Tracked("used"), Tracked("unused")).await
        },
    );
    compare_traced(
        "self by value",
        || {
            n::instrument_methods::Counter {
                count: 5,
                name: Tracked("counter"),
            }
            .consume(Tracked("extra"))
        },
        || {
            d::instrument_methods::Counter {
                count: 5,
                name: Tracked("counter"),
            }
            .consume(Tracked("extra"))
        },
    );
}

#[test]
fn instrument_on_a_generic_function() {
    compare_traced(
        "generic",
        || n::instrument_methods::generic(Tracked("value"), 3),
        || d::instrument_methods::generic(Tracked("value"), 3),
    );
}

#[test]
fn instrument_drops_captures_in_rustcs_order() {
    compare_traced(
        "capture order",
        || {
            n::instrument_capture_order::reversed(
                Tracked("first"),
                Tracked("second"),
                Tracked("third"),
            )
        },
        || {
            d::instrument_capture_order::reversed(
                Tracked("first"),
                Tracked("second"),
                Tracked("third"),
            )
        },
    );
}

#[test]
fn instrument_uses_part_of_an_argument() {
    use desugared::cases::instrument_partial_use::Pair as DPair;
    use native::cases::instrument_partial_use::Pair as NPair;
    compare_traced(
        "partial use",
        || n::instrument_partial_use::first(NPair(Tracked("a0"), Tracked("a1")), NPair(Tracked("b0"), Tracked("b1"))),
        || d::instrument_partial_use::first(DPair(Tracked("a0"), Tracked("a1")), DPair(Tracked("b0"), Tracked("b1"))),
    );
}

#[test]
fn instrument_on_async_trait_methods() {
    use desugared::cases::instrument_async_trait::Service as _;
    use native::cases::instrument_async_trait::Service as _;
    compare_traced(
        "instrument above desugar",
        || n::instrument_async_trait::Svc.call(3, Tracked("held")),
        || d::instrument_async_trait::Svc.call(3, Tracked("held")),
    );
    compare_traced(
        "desugar above instrument",
        || n::instrument_async_trait::Svc.other(4),
        || d::instrument_async_trait::Svc.other(4),
    );
}
