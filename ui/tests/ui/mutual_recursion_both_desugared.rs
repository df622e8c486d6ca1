// Compiles natively, and with the attribute on either function alone; with it on both, each
// machine names the other's future in its frame (through the `Box`), a type that contains
// itself: rustc's E0720. Keep one function of the cycle native (README, limits).
#[unasync::desugar]
async fn ping(n: u32) -> u32 {
    if n == 0 { 0 } else { Box::pin(pong(n - 1)).await + 1 }
}

#[unasync::desugar]
async fn pong(n: u32) -> u32 {
    if n == 0 { 0 } else { ping(n - 1).await + 1 }
}

fn main() {
    let _ = (ping(1), pong(1));
}
