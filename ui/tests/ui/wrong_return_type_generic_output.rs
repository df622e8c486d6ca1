// A tail of the wrong type under a generic output written in several tokens: one error.
async fn tick() {}

#[unasync::desugar]
async fn f<T: Default>(len: usize) -> Vec<T> {
    tick().await;
    if len == 0 { Vec::new() } else { T::default() }
}

fn main() {}
