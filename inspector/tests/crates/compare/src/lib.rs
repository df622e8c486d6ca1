//! Plain async fns for `cargo unasync compare` (tests/e2e.rs).
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub mod net;

pub struct Yield(bool);
impl Future for Yield {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
pub fn yield_now() -> Yield {
    Yield(false)
}

pub async fn leaf(x: u32) -> u32 {
    yield_now().await;
    x + 1
}

/// The argument is stored once by the desugaring, twice by rustc.
pub async fn big_arg(data: [u8; 512]) -> u8 {
    yield_now().await;
    data[3]
}

pub async fn chain(x: u32) -> u32 {
    let a = leaf(x).await;
    let b = big_arg([1; 512]).await;
    a + b as u32
}

/// Not lowered by the macro (an `.await` in a match guard): stays native in the copy.
pub async fn guarded(x: Option<u32>) -> u32 {
    match x {
        Some(v) if leaf(v).await > 3 => v,
        _ => 0,
    }
}

/// Already desugared: left alone.
#[unasync::desugar]
pub async fn already(x: u32) -> u32 {
    leaf(x).await
}

pub(crate) trait Service {
    /// No body: nothing to desugar.
    async fn call(&self, x: u32) -> u32;
    async fn call_twice(&self, x: u32) -> u32 {
        let a = self.call(x).await;
        a + self.call(a).await
    }
}

pub async fn driver() -> u32 {
    let s = net::Conn { pos: 1 };
    s.call_twice(2).await + guarded(Some(7)).await + chain(1).await + already(1).await
}
