//! `compare` on fns whose body another attribute makes into an `async move` block, which
//! `#[unasync::desugar]` then lowers in place: `#[tracing::instrument]` keeps the fn async (its
//! future awaits `Instrumented<block>`), `#[async_trait]` boxes the block.
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

pub async fn leaf(n: u64) -> u64 {
    let buf = [n; 32];
    yield_now().await;
    buf[3]
}

#[tracing::instrument]
pub async fn traced(n: u64) -> u64 {
    let a = leaf(n).await;
    a + leaf(a).await
}

pub struct Client {
    pub base: u64,
}

impl Client {
    #[tracing::instrument(skip(self))]
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
    async fn fetch(&self, key: u64) -> u64 {
        let local = [key; 16];
        leaf(key).await + local[1] + self.base
    }
}
