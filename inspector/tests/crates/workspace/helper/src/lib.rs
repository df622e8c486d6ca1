//! Not a primary package: `ws-member` depends on it through `[workspace.dependencies]`.
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub const VALUE: u32 = 1;

struct Yield(bool);

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

pub async fn tick() {
    Yield(false).await
}
