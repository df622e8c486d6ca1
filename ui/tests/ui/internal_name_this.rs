async fn tick() {}

#[unasync::desugar]
async fn f() {
    tick().await;
    let _ = __this;
}

fn main() {}
