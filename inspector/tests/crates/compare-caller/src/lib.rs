//! `cargo unasync compare` (tests/compare.rs): an error that desugaring one fn causes in its
//! caller keeps that fn native, not the caller.
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

/// Desugared, it keeps the raw pointer across the `.await` (a known limit, see the README), so
/// its future is not `Send` where rustc's is.
pub async fn raw(v: u32) -> u32 {
    let p: *const u32 = &v;
    let n = unsafe { *p.add(0) };
    yield_now().await;
    n
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

/// Needs `raw`'s future to be `Send`: rustc reports the error here.
pub async fn caller() -> u32 {
    assert_send(raw(1)).await + 1
}
