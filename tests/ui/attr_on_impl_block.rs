struct S;

#[unasync::desugar]
impl S {
    async fn f(&self) {}
}

fn main() {}
