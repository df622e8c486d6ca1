// async-trait requires the boxed future to be `Send`: the desugared machine is `Send` exactly when
// rustc's future for the block is, so holding an `Rc` across an `.await` fails as natively, with
// rustc's notes at the user's lines.
use std::rc::Rc;

#[async_trait::async_trait]
trait Service {
    async fn call(&self, x: u32) -> u32;
}

struct Local;

#[async_trait::async_trait]
impl Service for Local {
    #[unasync::desugar]
    async fn call(&self, x: u32) -> u32 {
        let shared = Rc::new(x);
        std::future::ready(()).await;
        *shared
    }
}

fn main() {}
