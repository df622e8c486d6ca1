// Compiles natively; another instance's future could differ in `Send`, so unasync refuses it.
#[unasync::desugar]
async fn f<T: Clone>(value: T, n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        Box::pin(f(value.clone(), n - 1)).await + 1
    }
}

fn main() {}
