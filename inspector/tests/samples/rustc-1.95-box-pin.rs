// Box::pin estimates (tests/parser.rs). Compiled twice: as is, and with `--cfg boxed`, where
// each `boxed!(..)` operand is `Box::pin`ned. The estimate made on the plain build's layouts
// must give the boxed build's sizes.
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

/// A large future: its buffer lives across the await.
pub async fn big(n: u64) -> u64 {
    let buf = [n; 256];
    yield_now().await;
    buf[(n % 256) as usize]
}

/// One state holds locals of its own, so rustc puts every field in the prefix and sorts it by
/// alignment: the arguments end up around the awaitee (mini-redis's `#[instrument]` blocks).
/// Keeping the other states' extent would save nothing here.
pub async fn upvars_around(key: &str, value: [u64; 4], flag: bool) -> u64 {
    boxed!(big(value[1])).await + key.len() as u64 + flag as u64
}

/// Several states with locals of their own: they overlap after the prefix (`a` lives across
/// every await, so it is in the prefix).
pub async fn several(x: u64) -> u64 {
    let a = [x; 8];
    yield_now().await;
    let b = boxed!(big(x)).await;
    let c = [b; 20];
    yield_now().await;
    a[1] + c[2]
}

/// The awaitee of `outer`, whose own awaitee is boxed: `outer` shrinks through it.
pub async fn middle(x: u64) -> u64 {
    let pad = [x as u32; 3];
    let r = boxed!(big(x)).await;
    yield_now().await;
    r + pad[1] as u64
}

pub async fn outer(x: u64, s: String) -> u64 {
    let m = middle(x).await;
    yield_now().await;
    m + s.len() as u64
}

/// A small awaitee next to a larger state: boxing it saves little.
pub async fn small_await(x: u64) -> u64 {
    let big_local = [x; 40];
    yield_now().await;
    let r = boxed!(middle(x)).await;
    r + big_local[3]
}
