// A cycle of `async fn`s through `Box::pin` compiles with the attribute on one of them: the
// native one's future is rustc's, which does not name what it holds.
#[unasync::desugar]
async fn ping(n: u32) -> u32 {
    if n == 0 { 0 } else { Box::pin(pong(n - 1)).await + 1 }
}

async fn pong(n: u32) -> u32 {
    if n == 0 { 0 } else { ping(n - 1).await + 1 }
}

fn main() {
    let _ = (ping(1), pong(1));
}
