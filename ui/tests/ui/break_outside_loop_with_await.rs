async fn tick() {}

#[unasync::desugar]
async fn f() {
    tick().await;
    break;
}

fn main() {}
