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

pub mod connection {
    pub struct Connection { pub buf: [u8; 64], pub pos: usize }
    impl Connection {
        pub async fn read_frame(&mut self) -> Option<u8> {
            crate::yield_now().await;
            let b = self.buf[self.pos];
            self.pos += 1;
            Some(b)
        }
    }
}

pub async fn leaf(x: u32) -> u32 {
    yield_now().await;
    x + 1
}

pub async fn big_arg(data: [u8; 1024]) -> u8 {
    let mut sum = 0u8;
    for b in data.iter() { sum = sum.wrapping_add(*b); }
    yield_now().await;
    sum.wrapping_add(data[3])
}

pub async fn middle(x: u32) -> u32 {
    let a = leaf(x).await;
    let buf = [0u8; 100];
    let b = big_arg([1; 1024]).await;
    a + b as u32 + buf[x as usize % 100] as u32
}

pub async fn outer(x: u32, s: String) -> usize {
    let m = middle(x).await;
    let l = leaf(m).await;
    s.len() + l as usize
}

pub async fn generic<T: Clone + Send>(t: T) -> T {
    yield_now().await;
    t.clone()
}

pub async fn use_generic() -> (u8, [u64; 8]) {
    let a = generic(1u8).await;
    let b = generic([7u64; 8]).await;
    (a, b)
}

pub fn async_block(v: Vec<u8>) -> impl Future<Output = usize> {
    async move {
        yield_now().await;
        v.len()
    }
}

pub async fn with_closure() -> u32 {
    let c = async |x: u32| { yield_now().await; x * 2 };
    c(3).await + c(4).await
}

pub async fn no_await(a: u64) -> u64 { a * 2 }

pub async fn drop_flag(s: Option<String>) -> usize {
    let t = s;
    yield_now().await;
    if let Some(t) = t { t.len() } else { 0 }
}

pub async fn run_all() -> usize {
    let mut c = connection::Connection { buf: [0; 64], pos: 0 };
    let _ = c.read_frame().await;
    let o = outer(1, String::new()).await;
    let g = use_generic().await;
    let ab = async_block(vec![1]).await;
    let wc = with_closure().await;
    let na = no_await(5).await;
    let df = drop_flag(None).await;
    o + g.0 as usize + ab + wc as usize + na as usize + df
}

pub fn boxed() -> Pin<Box<dyn Future<Output = usize>>> {
    Box::pin(run_all())
}
