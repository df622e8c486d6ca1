// Compiles natively: the recursion goes through `Box::pin`.
#[unasync::desugar]
async fn f(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        Box::pin(f(n - 1)).await + 1
    }
}

fn main() {}
