#[unasync::desugar]
async fn f() -> u32 {
    let x = 5u32;
    x.await
}

fn main() {}
