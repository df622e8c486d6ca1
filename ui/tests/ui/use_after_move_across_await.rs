async fn tick() {}

fn consume(_: String) {}

#[unasync::desugar]
async fn f() -> usize {
    let s = String::from("x");
    consume(s);
    tick().await;
    s.len()
}

fn main() {}
