use std::rc::Rc;

async fn tick() {}

#[unasync::desugar]
async fn f() -> usize {
    let shared = Rc::new(5usize);
    tick().await;
    *shared
}

fn require_send(_: impl Send) {}

fn main() {
    require_send(f());
}
