// The desugared body would own `name` and drop it when it finishes, where tokio's `async` block
// borrows it and the function drops it after shutting its runtime down: refused, not changed.
#[tokio::main(flavor = "current_thread")]
#[unasync::desugar]
async fn run(name: String) -> usize {
    name.len()
}

fn main() {
    run(String::new());
}
