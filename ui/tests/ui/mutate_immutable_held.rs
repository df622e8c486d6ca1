async fn tick() {}

#[unasync::desugar]
async fn f() -> usize {
    let v = Vec::new();
    tick().await;
    v.push(1);
    v.len()
}

fn main() {}
