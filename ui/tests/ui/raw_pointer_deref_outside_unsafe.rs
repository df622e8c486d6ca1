async fn tick() {}

#[unasync::desugar]
async fn f(p: *const u32) -> u32 {
    tick().await;
    *p
}

fn main() {}
