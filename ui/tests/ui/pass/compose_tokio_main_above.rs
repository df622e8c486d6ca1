// `#[tokio::main]` expands first and hands `#[unasync::desugar]` its non-async `fn`; the body
// becomes a desugared inner `async fn`. Warning-free natively, warning-free here.
#![deny(warnings)]

async fn tick() -> u32 {
    1
}

#[tokio::main]
#[unasync::desugar]
async fn main() {
    let mut total = tick().await;
    total += tick().await;
    assert_eq!(total, 2);
}

#[tokio::test]
#[unasync::desugar]
async fn under_tokio_test() -> Result<(), String> {
    let n: u32 = "1".parse().map_err(|_| String::from("not a number"))?;
    assert_eq!(n + tick().await, 2);
    Ok(())
}
