#[unasync::desugar]
mod inner {
    pub async fn f() {}
}

fn main() {}
