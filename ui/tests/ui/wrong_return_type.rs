async fn tick() {}

#[unasync::desugar]
async fn f() -> u32 {
    tick().await;
    "not a number"
}

fn main() {}
