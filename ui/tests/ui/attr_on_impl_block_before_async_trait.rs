// `#[async_trait]` would rewrite the methods after the attribute made them plain fns.
use async_trait::async_trait;

#[async_trait]
trait Store {
    async fn get(&self) -> u32;
}

struct Mem;

#[unasync::desugar]
#[async_trait]
impl Store for Mem {
    async fn get(&self) -> u32 {
        std::future::ready(1).await
    }
}

fn main() {}
