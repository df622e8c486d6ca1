// `#[unasync::desugar]` on the methods of an `#[async_trait]` impl and trait, in a crate that denies
// warnings: the machine in place of async-trait's block adds none.
#![deny(warnings)]

use std::future::ready;

use async_trait::async_trait;

#[async_trait]
trait Store {
    async fn get(&self, k: u32) -> u32;

    #[unasync::desugar]
    async fn twice(&self, k: u32) -> u32 {
        self.get(k).await + self.get(k).await
    }
}

struct Mem;

#[async_trait]
impl Store for Mem {
    #[unasync::desugar]
    async fn get(&self, k: u32) -> u32 {
        ready(k).await + 1
    }
}

struct Generic<T>(T);

#[async_trait]
impl<T: Copy + Into<u32> + Send + Sync> Store for Generic<T> {
    #[unasync::desugar]
    async fn get(&self, k: u32) -> u32 {
        let own: u32 = self.0.into();
        ready(k).await + own
    }
}

#[async_trait(?Send)]
trait Local {
    async fn count(&mut self, step: std::rc::Rc<u32>) -> u32;
}

#[async_trait(?Send)]
impl Local for Mem {
    #[unasync::desugar]
    async fn count(&mut self, step: std::rc::Rc<u32>) -> u32 {
        ready(()).await;
        *step
    }
}

fn main() {
    let _ = Mem.get(1);
    let _ = Mem.twice(1);
    let _ = Generic(2u8).get(1);
    let _ = Mem.count(std::rc::Rc::new(1));
}
