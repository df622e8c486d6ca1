async fn tick() {}

#[unasync::desugar]
async fn f<'a>(_: &'a u32) -> &'a String {
    let s = String::from("x");
    tick().await;
    &s
}

fn main() {}
