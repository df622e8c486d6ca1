// `#[tracing::instrument]` on methods and generic functions, with arguments that are not `Copy`:
// the `async move` block tracing makes of the body is lowered in place, so it may name `Self` and
// the generics, and takes the arguments it uses as the block does.
#![deny(warnings)]

struct Service {
    base: u32,
}

impl Service {
    #[tracing::instrument(skip(self))]
    #[unasync::desugar]
    async fn handle(&self, x: u32) -> u32 {
        std::future::ready(()).await;
        self.base + x
    }

    #[unasync::desugar]
    #[tracing::instrument(skip_all)]
    async fn rename(&mut self, name: String, _unused: Vec<u8>) -> Self {
        std::future::ready(()).await;
        self.base += name.len() as u32;
        Self { base: self.base }
    }
}

#[tracing::instrument(skip(items))]
#[unasync::desugar]
async fn count<T: Clone>(items: Vec<T>, mut extra: usize) -> usize {
    std::future::ready(()).await;
    extra += items.clone().len();
    extra
}

fn main() {
    let mut service = Service { base: 1 };
    let _ = service.handle(1);
    let _ = service.rename(String::new(), Vec::new());
    let _ = count(vec![1u8], 2);
}
