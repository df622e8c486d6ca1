// `#[unasync::desugar]` on impl blocks, in a crate that denies warnings: an inherent impl whose
// futures need `'__frame` (an awaitee borrowing two arguments, a borrowed generic-typed local),
// a trait impl whose methods keep the trait's signature, an `#[async_trait]` impl the attribute
// follows, and a method still carrying its own attribute.
#![deny(warnings)]

use std::future::{ready, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

pub struct WriteAll<'a>(&'a mut Vec<u8>, &'a [u8]);

impl Future for WriteAll<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        let bytes = self.1;
        self.0.extend_from_slice(bytes);
        Poll::Ready(())
    }
}

pub struct Conn {
    out: Vec<u8>,
}

#[unasync::desugar]
impl Conn {
    async fn write_value(&mut self, frame: &[u8]) -> usize {
        WriteAll(&mut self.out, frame).await;
        self.out.len()
    }

    #[unasync::desugar]
    async fn hold<S: AsRef<str>>(&self, item: S) -> usize {
        let r = &item;
        ready(()).await;
        r.as_ref().len()
    }

    fn plain(&self) -> usize {
        self.out.len()
    }
}

trait Service {
    async fn call(&self, a: &u32, b: &u32) -> u32;
}

#[unasync::desugar]
impl Service for Conn {
    async fn call(&self, a: &u32, b: &u32) -> u32 {
        ready(*a).await + *b + self.plain() as u32
    }
}

#[async_trait::async_trait]
trait Store {
    async fn get(&self, k: u32) -> u32;
}

#[async_trait::async_trait]
#[unasync::desugar]
impl Store for Conn {
    async fn get(&self, k: u32) -> u32 {
        ready(k).await + 1
    }
}

fn main() {
    let mut conn = Conn { out: Vec::new() };
    let _ = conn.write_value(b"ab");
    let _ = conn.hold("x");
    let _ = conn.call(&1, &2);
    let _ = conn.get(3);
}
