// Compiles natively: the boxed recursive future is kept in a local before it is awaited.
#[unasync::desugar]
async fn f(n: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    let below = Box::pin(f(n - 1));
    below.await + 1
}

fn main() {}
