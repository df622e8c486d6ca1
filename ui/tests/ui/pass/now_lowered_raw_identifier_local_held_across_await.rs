// Compiles natively: a raw identifier naming a local held across an `.await`.
async fn tick() {}

#[unasync::desugar]
async fn f() -> u32 {
    let r#match = 1u32;
    tick().await;
    r#match + 1
}

fn main() {}
