async fn tick() -> u32 {
    1
}

#[unasync::desugar]
async fn f() -> u32 {
    fn helper() -> u32 {
        tick().await
    }
    tick().await + helper()
}

fn main() {}
