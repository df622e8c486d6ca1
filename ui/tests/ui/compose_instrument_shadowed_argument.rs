// The body declares its own `name` before using the argument: rustc's block does not capture the
// argument, the desugared one would take it. Refused: rename the binding.
#[tracing::instrument(skip_all)]
#[unasync::desugar]
async fn greet(name: String) -> usize {
    let name = "local";
    std::future::ready(()).await;
    name.len()
}

fn main() {
    let _ = greet(String::new());
}
