// rustc's `async move` block captures only `pair.0` here and leaves `pair.1` to be dropped when the
// function returns; the desugared block would take `pair` whole: refused, not changed.
struct Pair(String, String);

#[tracing::instrument(skip_all)]
#[unasync::desugar]
async fn first(pair: Pair) -> usize {
    std::future::ready(()).await;
    pair.0.len()
}

fn main() {
    let _ = first(Pair(String::new(), String::new()));
}
