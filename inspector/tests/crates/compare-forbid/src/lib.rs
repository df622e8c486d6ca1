//! `cargo unasync compare` (tests/compare.rs) on a crate that forbids unsafe code, which the
//! expansion of `#[unasync::desugar]` contains.
#![forbid(unsafe_code)]
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

pub async fn leaf(x: u32) -> u32 {
    yield_now().await;
    x + 1
}

pub async fn twice(x: u32) -> u32 {
    leaf(x).await + leaf(x).await
}
