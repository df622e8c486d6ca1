// Compiles natively: the recursion goes through `Box::pin`, and the future stays `Send`.
#[unasync::desugar]
async fn f(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        Box::pin(f(n - 1)).await + 1
    }
}

fn require_send<T: Send + Sync>(_: &T) {}

fn main() {
    let future = f(3);
    require_send(&future);
}
