async fn tick() {}

#[unasync::desugar]
async fn f() -> usize {
    tick().await;
    self.len()
}

fn main() {}
