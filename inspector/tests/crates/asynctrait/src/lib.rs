//! `#[async_trait]` methods for the inspector's end-to-end tests: their bodies are async blocks
//! that the macro already boxes (`Pin<Box<dyn Future>>`).
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;

pub struct Yield(bool);
impl Future for Yield {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 { Poll::Ready(()) } else { self.0 = true; cx.waker().wake_by_ref(); Poll::Pending }
    }
}
pub fn yield_now() -> Yield { Yield(false) }

/// A large plain future, awaited inside an `#[async_trait]` body.
pub async fn fill(n: u64) -> u64 {
    let buf = [n; 128];
    yield_now().await;
    buf[3]
}

#[async_trait]
pub trait Store: Sync {
    async fn get(&self, key: u64) -> u64;

    /// A default method: its body is boxed too.
    async fn get_twice(&self, key: u64) -> u64 {
        let a = self.get(key).await;
        a + self.get(a).await
    }
}

pub struct Mem {
    pub base: u64,
}

#[async_trait]
impl Store for Mem {
    async fn get(&self, key: u64) -> u64 {
        let local = [key; 16];
        fill(key).await + local[1] + self.base
    }
}

/// Awaits the boxed futures: boxing them again saves nothing.
pub async fn use_store(s: &dyn Store) -> u64 {
    let keep = [7u64; 32];
    let a = s.get(1).await;
    let b = s.get_twice(a).await;
    a + b + keep[2]
}

/// One await of a boxed future: boxing it again would only trade one pointer for another.
pub async fn once(s: &dyn Store) -> u64 {
    s.get(3).await
}

/// Calls the default method on the concrete type, so that its body is compiled.
pub async fn direct(m: &Mem) -> u64 {
    m.get_twice(2).await
}
