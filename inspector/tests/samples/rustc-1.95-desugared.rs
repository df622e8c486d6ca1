// Desugared futures for the inspector's tests (tests/desugared.rs, tests/box_pin.rs), built with
// the macro of /work/main as it was on 2026-11-30 (commit 2d84ab8 and work in progress). Compiled
// as is and with `--cfg boxed` (the `boxed!(..)` await `Box::pin`ned).
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub struct Yield(bool);
impl Future for Yield {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 { Poll::Ready(()) } else { self.0 = true; cx.waker().wake_by_ref(); Poll::Pending }
    }
}
pub fn yield_now() -> Yield { Yield(false) }

#[cfg(boxed)]
macro_rules! boxed { ($e:expr) => { Box::pin($e) } }
#[cfg(not(boxed))]
macro_rules! boxed { ($e:expr) => { $e } }

pub async fn leaf(x: u64) -> u64 {
    let buf = [x; 16];
    yield_now().await;
    buf[1]
}

/// A local kept across both awaits (in every state), a larger one across the second only.
#[unasync::desugar]
pub async fn two_states(x: u64) -> u64 {
    let kept = [x; 4];
    let a = leaf(x).await;
    let big = [a; 32];
    yield_now().await;
    kept[1] + big[2]
}

/// Only one await: no local of its own in other states.
#[unasync::desugar]
pub async fn one_await(x: u32) -> u32 {
    leaf(x as u64).await as u32 + x
}

/// A small state next to a large one: the small one ends early.
#[unasync::desugar]
pub async fn small_then_large(flag: bool) -> u64 {
    yield_now().await;
    let r = leaf(flag as u64).await;
    r + 1
}

/// A local borrowed across two awaits stays at one address: in the frame around the states.
#[unasync::desugar]
pub async fn pinned(x: u64) -> u64 {
    let buf = [x; 8];
    let r = &buf;
    yield_now().await;
    let a = boxed!(leaf(r[0])).await;
    a + r[1]
}
