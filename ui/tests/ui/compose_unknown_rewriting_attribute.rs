// A plain `fn` whose body holds an `async` block: likely an attribute above rewrote the `async fn`.
use std::future::Future;

#[unasync::desugar]
fn rewritten() -> impl Future<Output = u32> {
    async { 1 }
}

fn main() {
    let _ = rewritten();
}
