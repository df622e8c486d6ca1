// A wrong guess of "movable", through a closure: `len` is taken to return an owned value, but
// `Text::len` returns a borrow of the text, which the closure keeps across the `.await`.
struct Text(String);

impl Text {
    fn len(&self) -> &str {
        &self.0
    }
}

async fn tick() {}

#[unasync::desugar]
async fn f(text: Text) -> usize {
    let view = text.len();
    let show = move || view.len();
    tick().await;
    show()
}

fn main() {}
