// A wrong guess of "movable", through a struct field: `clone` is taken to return an owned value,
// but `Handle::clone` returns a borrow, stored in a struct kept across the `.await`.
struct Handle(String);

impl Handle {
    fn clone(&self) -> &str {
        &self.0
    }
}

struct View<'a> {
    text: &'a str,
}

async fn tick() {}

#[unasync::desugar]
async fn f(handle: Handle) -> usize {
    let view = View { text: handle.clone() };
    tick().await;
    view.text.len()
}

fn main() {}
