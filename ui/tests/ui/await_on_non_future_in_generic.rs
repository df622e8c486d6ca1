// `.await` on a value of a generic type that is not a future, after an `.await`: one error.
async fn tick() {}

#[unasync::desugar]
async fn f<T: Clone>(items: Vec<T>) -> usize {
    tick().await;
    let first = items.first().cloned().await;
    items.len()
}

fn main() {}
