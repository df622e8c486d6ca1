// rustc-1.95-inplace.txt is the layout of this crate: bodies lowered in place by
// #[unasync::desugar] under #[tracing::instrument] and #[async_trait].
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

#[unasync::desugar]
pub async fn leaf(n: u64) -> u64 {
    let buf = [n; 32];
    yield_now().await;
    buf[3]
}

pub struct Client {
    pub base: u64,
}

impl Client {
    #[tracing::instrument(skip(self))]
    #[unasync::desugar]
    pub async fn get(&mut self, key: u64) -> u64 {
        let big = [key; 16];
        leaf(key).await + big[1] + self.base
    }
}

#[async_trait::async_trait]
pub trait Store: Sync {
    async fn fetch(&self, key: u64) -> u64;
}

#[async_trait::async_trait]
impl Store for Client {
    #[unasync::desugar]
    async fn fetch(&self, key: u64) -> u64 {
        let local = [key; 16];
        leaf(key).await + local[1] + self.base
    }
}
