//! The futures `tokio::join!`, `tokio::try_join!` and `tokio::select!` poll, as one awaitee of the
//! state machine. The macros themselves await inside their expansion, so the machine would have
//! to await them in an `async` block, which stores what it takes twice (its captures, then the
//! macro's own copy); these hold the futures once, as tokio's expansion does, and poll them as it
//! does (tokio 1.54: `join!` starts one future later on each poll unless `biased;`, `select!`
//! checks the task's budget, then starts at a random branch unless `biased;`, and disables a
//! branch that completes or whose pattern does not match). The fixtures compare them with tokio's
//! macros at every cancellation point (`fixtures/src/cases/selects.rs`).
//!
//! Input (the machine's code; see the macro's `lower/polling.rs`):
//! ```text
//! let (__future0, __future1) = (maybe_done(a), maybe_done(b));
//! join((__future0, __future1), false).await
//! select2([false, !(open)], (rx.recv(), tick()), (|o| match o { Some(v) => true, _ => false }, |o| match o { () => true, _ => false }), false, thread_rng_n, poll_budget_available).await
//! ```

use core::future::{Future, IntoFuture};
use core::pin::Pin;
use core::task::{Context, Poll};

/// A future of `join!`, then its output once it completed (the future is dropped then, in
/// place), then nothing once the output was taken.
pub enum MaybeDone<F: Future> {
    Future(F),
    Done(F::Output),
    Gone,
}

/// `join!`'s `maybe_done($e)`: each future is made and converted before the next is evaluated.
#[inline(always)]
pub fn maybe_done<F: IntoFuture>(future: F) -> MaybeDone<F::IntoFuture> {
    MaybeDone::Future(future.into_future())
}

impl<F: Future> MaybeDone<F> {
    /// Polls the future unless it completed: whether it has.
    #[inline]
    fn poll_done(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        // SAFETY: the future is never moved out of the pinned `MaybeDone`; when it completes it is
        // dropped in place by the assignment of its output.
        let this = unsafe { self.get_unchecked_mut() };
        let output = match this {
            // SAFETY: see above.
            MaybeDone::Future(future) => match unsafe { Pin::new_unchecked(future) }.poll(cx) {
                Poll::Ready(output) => output,
                Poll::Pending => return false,
            },
            MaybeDone::Done(_) => return true,
            MaybeDone::Gone => panic!("MaybeDone polled after value taken"),
        };
        *this = MaybeDone::Done(output);
        true
    }

    fn output_mut(&mut self) -> Option<&mut F::Output> {
        match self {
            MaybeDone::Done(output) => Some(output),
            _ => None,
        }
    }

    fn take_output(&mut self) -> Option<F::Output> {
        match self {
            MaybeDone::Done(_) => {}
            MaybeDone::Future(_) | MaybeDone::Gone => return None,
        }
        match core::mem::replace(self, MaybeDone::Gone) {
            MaybeDone::Done(output) => Some(output),
            _ => unreachable!(),
        }
    }
}

/// `join!` (`TRY` false) and `try_join!` (`TRY` true) over a tuple of [`MaybeDone`]s: `next` is
/// tokio's rotator, the future polled first on the next poll.
pub struct Join<Futures, const TRY: bool> {
    futures: Futures,
    next: u32,
    biased: bool,
}

/// `join((maybe_done(a), maybe_done(b)), biased)`.
#[inline(always)]
pub fn join<Futures>(futures: Futures, biased: bool) -> Join<Futures, false> {
    Join { futures, next: 0, biased }
}

/// `try_join((maybe_done(a), maybe_done(b)), biased)`: every output a `Result` of one error type.
#[inline(always)]
pub fn try_join<Futures>(futures: Futures, biased: bool) -> Join<Futures, true> {
    Join { futures, next: 0, biased }
}

impl<Futures, const TRY: bool> Join<Futures, TRY> {
    /// tokio's `Rotator::num_skip` (0 when biased): where this poll starts.
    fn skip(&mut self, count: u32) -> u32 {
        if self.biased {
            return 0;
        }
        let skip = self.next;
        self.next += 1;
        if self.next == count {
            self.next = 0;
        }
        skip
    }
}

/// What `try_join!` needs of an output: a `Result`.
pub trait TryOutput {
    type Ok;
    type Err;
    fn is_err(&self) -> bool;
    fn into_result(self) -> Result<Self::Ok, Self::Err>;
}

impl<T, E> TryOutput for Result<T, E> {
    type Ok = T;
    type Err = E;
    fn is_err(&self) -> bool {
        Result::is_err(self)
    }
    fn into_result(self) -> Result<T, E> {
        self
    }
}

/// Polls a `Join`'s futures in tokio's order (from `skip(count)` on, wrapping around), running
/// `$on_done` with `$future`, its `MaybeDone`, for each one that has completed; evaluates to
/// whether any is still pending.
macro_rules! poll_rotated {
    ($this:ident, $cx:ident, $count:literal, $future:ident => $on_done:block, $($index:tt),+) => {{
        let skip = $this.skip($count);
        let mut pending = false;
        for index in (skip..$count).chain(0..skip) {
            match index {
                $($index => {
                    let $future = &mut $this.futures.$index;
                    // SAFETY: the futures are never moved out of the pinned `Join`.
                    if !unsafe { Pin::new_unchecked(&mut *$future) }.poll_done($cx) {
                        pending = true;
                    } else $on_done
                })+
                _ => unreachable!(),
            }
        }
        pending
    }};
}

macro_rules! joins {
    ($( ($count:literal; $($f:ident $index:tt),+) )*) => {$(
        impl<$($f: Future),+> Future for Join<($(MaybeDone<$f>,)+), false> {
            type Output = ($($f::Output,)+);

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                // SAFETY: the futures are never moved out of the pinned `Join`.
                let this = unsafe { self.get_unchecked_mut() };
                if poll_rotated!(this, cx, $count, _future => {}, $($index),+) {
                    return Poll::Pending;
                }
                Poll::Ready(($(this.futures.$index.take_output().expect("expected completed future"),)+))
            }
        }

        impl<Error, $($f: Future),+> Future for Join<($(MaybeDone<$f>,)+), true>
        where
            $($f::Output: TryOutput<Err = Error>,)+
        {
            type Output = Result<($(<$f::Output as TryOutput>::Ok,)+), Error>;

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                // SAFETY: the futures are never moved out of the pinned `Join`.
                let this = unsafe { self.get_unchecked_mut() };
                let pending = poll_rotated!(this, cx, $count, future => {
                    if future.output_mut().expect("expected completed future").is_err() {
                        let error = future.take_output().expect("expected completed future").into_result();
                        return Poll::Ready(Err(error.err().unwrap()));
                    }
                }, $($index),+);
                if pending {
                    return Poll::Pending;
                }
                Poll::Ready(Ok(($(
                    this.futures.$index.take_output().expect("expected completed future").into_result().ok().expect("expected Ok(_)"),
                )+)))
            }
        }
    )*};
}

joins! {
    (1; F0 0)
    (2; F0 0, F1 1)
    (3; F0 0, F1 1, F2 2)
    (4; F0 0, F1 1, F2 2, F3 3)
    (5; F0 0, F1 1, F2 2, F3 3, F4 4)
    (6; F0 0, F1 1, F2 2, F3 3, F4 4, F5 5)
    (7; F0 0, F1 1, F2 2, F3 3, F4 4, F5 5, F6 6)
    (8; F0 0, F1 1, F2 2, F3 3, F4 4, F5 5, F6 6, F7 7)
}

/// The branch of a `select!` that won, holding its future's output, or `Else` when every
/// branch is disabled: `match select2(..).await { Selected::B0(<pattern>) => <handler>, .. }`.
/// The branches a `select!` does not have are `()`.
pub enum Selected<B0 = (), B1 = (), B2 = (), B3 = (), B4 = (), B5 = (), B6 = (), B7 = ()> {
    B0(B0),
    B1(B1),
    B2(B2),
    B3(B3),
    B4(B4),
    B5(B5),
    B6(B6),
    B7(B7),
    Else,
}

/// `select!` over a tuple of futures: `checks` are its branches' patterns
/// (`|out: &_| match out { Some(v) => true, _ => false }`, closures that capture nothing:
/// zero-sized), `disabled` a bit per branch, `rng` and `budget` tokio's `thread_rng_n`
/// and `poll_budget_available` (function items, zero-sized).
pub struct Select<Futures, Checks, Rng, Budget> {
    futures: Futures,
    checks: Checks,
    disabled: u8,
    biased: bool,
    rng: Rng,
    budget: Budget,
}

/// A `select!` branch's pattern check as a function pointer, its argument typed by the branch's
/// future: for a pattern that types the value (`Some(v)`), which rustc must see the type of where
/// the closure is written.
#[inline(always)]
pub fn check_pointer<F: IntoFuture>(_: &F, check: fn(&F::Output) -> bool) -> fn(&F::Output) -> bool {
    check
}

macro_rules! selects {
    ($( ($name:ident; $count:literal; $($f:ident $c:ident $b:ident $index:tt),+) )*) => {$(
        /// `select!` of this many branches: `disabled` are its negated preconditions, evaluated
        /// first.
        #[inline(always)]
        pub fn $name<$($f: IntoFuture, $c: Fn(&$f::Output) -> bool,)+ Rng, Budget>(
            disabled: [bool; $count],
            futures: ($($f,)+),
            checks: ($($c,)+),
            biased: bool,
            rng: Rng,
            budget: Budget,
        ) -> Select<($($f::IntoFuture,)+), ($($c,)+), Rng, Budget> {
            let mut mask = 0;
            for (branch, disabled) in disabled.into_iter().enumerate() {
                if disabled {
                    mask |= 1 << branch;
                }
            }
            Select { futures: ($(futures.$index.into_future(),)+), checks, disabled: mask, biased, rng, budget }
        }

        impl<$($f: Future, $c: Fn(&$f::Output) -> bool,)+ Rng: FnMut(u32) -> u32, Budget: FnMut(&mut Context<'_>) -> Poll<()>> Future
            for Select<($($f,)+), ($($c,)+), Rng, Budget>
        {
            type Output = Selected<$($f::Output),+>;

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                // SAFETY: the futures are never moved out of the pinned `Select`.
                let this = unsafe { self.get_unchecked_mut() };
                if (this.budget)(cx).is_pending() {
                    return Poll::Pending;
                }
                let mut pending = false;
                let start = if this.biased { 0 } else { (this.rng)($count) };
                for offset in 0..$count {
                    // (`select1`'s `% 1`: tokio's expansion computes it too.)
                    #[allow(clippy::modulo_one)]
                    let branch = (start + offset) % $count;
                    let mask = 1 << branch;
                    if this.disabled & mask == mask {
                        continue;
                    }
                    match branch {
                        $($index => {
                            // SAFETY: as above.
                            let output = match unsafe { Pin::new_unchecked(&mut this.futures.$index) }.poll(cx) {
                                Poll::Ready(output) => output,
                                Poll::Pending => {
                                    pending = true;
                                    continue;
                                }
                            };
                            this.disabled |= mask;
                            if !(this.checks.$index)(&output) {
                                continue;
                            }
                            return Poll::Ready(Selected::$b(output));
                        })+
                        _ => unreachable!(),
                    }
                }
                if pending {
                    Poll::Pending
                } else {
                    Poll::Ready(Selected::Else)
                }
            }
        }
    )*};
}

selects! {
    (select1; 1; F0 C0 B0 0)
    (select2; 2; F0 C0 B0 0, F1 C1 B1 1)
    (select3; 3; F0 C0 B0 0, F1 C1 B1 1, F2 C2 B2 2)
    (select4; 4; F0 C0 B0 0, F1 C1 B1 1, F2 C2 B2 2, F3 C3 B3 3)
    (select5; 5; F0 C0 B0 0, F1 C1 B1 1, F2 C2 B2 2, F3 C3 B3 3, F4 C4 B4 4)
    (select6; 6; F0 C0 B0 0, F1 C1 B1 1, F2 C2 B2 2, F3 C3 B3 3, F4 C4 B4 4, F5 C5 B5 5)
    (select7; 7; F0 C0 B0 0, F1 C1 B1 1, F2 C2 B2 2, F3 C3 B3 3, F4 C4 B4 4, F5 C5 B5 5, F6 C6 B6 6)
    (select8; 8; F0 C0 B0 0, F1 C1 B1 1, F2 C2 B2 2, F3 C3 B3 3, F4 C4 B4 4, F5 C5 B5 5, F6 C6 B6 6, F7 C7 B7 7)
}
