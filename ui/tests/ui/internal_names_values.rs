async fn tick() {}

#[unasync::desugar]
async fn f() {
    tick().await;
    let _ = (__awaitee, __block, __value0, __register0);
}

fn main() {}
