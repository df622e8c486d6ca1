async fn tick() {}

#[unasync::desugar]
async fn f() -> u32 {
    let x = 1;
    tick().await;
    x = 2;
    x
}

fn main() {}
