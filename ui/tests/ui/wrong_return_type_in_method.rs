// A tail of the wrong type in a method, starting with `self`: one error, at the tail.
async fn tick() {}

struct Counter {
    name: String,
}

impl Counter {
    #[unasync::desugar]
    async fn count(&self) -> u32 {
        tick().await;
        self.name.clone()
    }
}

fn main() {}
