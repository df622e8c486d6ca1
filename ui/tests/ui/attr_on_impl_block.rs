// On an impl block the attribute desugars its `async fn`s; one with none is a mistake.
struct S;

#[unasync::desugar]
impl S {
    fn f(&self) {}
}

fn main() {}
