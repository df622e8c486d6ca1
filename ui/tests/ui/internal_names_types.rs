async fn tick() {}

#[unasync::desugar]
async fn f() {
    tick().await;
    let _: Option<__State> = None;
    let _: Option<__Frame> = None;
}

fn main() {}
