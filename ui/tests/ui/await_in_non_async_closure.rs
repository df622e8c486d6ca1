async fn tick() -> u32 {
    1
}

#[unasync::desugar]
async fn f() -> u32 {
    let c = || tick().await;
    c()
}

fn main() {}
