// `#[unasync::desugar]` above `#[tokio::main]` moves itself below it, so tokio still sees the
// `async fn` it requires.
#![deny(warnings)]

async fn tick() -> u32 {
    1
}

#[unasync::desugar]
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut total = tick().await;
    total += tick().await;
    assert_eq!(total, 2);
}

#[unasync::desugar]
#[tokio::test]
async fn under_tokio_test() {
    assert_eq!(tick().await, 1);
}
