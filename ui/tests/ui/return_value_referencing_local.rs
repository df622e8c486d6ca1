// A tail referencing a local through another local (`r` borrows `s`): rustc's E0515 once.
async fn tick() {}

#[unasync::desugar]
async fn f<'a>(_: &'a u32) -> &'a str {
    let s = String::from("x");
    let r = s.as_str();
    tick().await;
    r
}

fn main() {}
