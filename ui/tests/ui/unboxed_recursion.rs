#[unasync::desugar]
async fn f(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        f(n - 1).await + 1
    }
}

fn main() {}
