async fn allowed(_: u32) -> bool {
    true
}

#[unasync::desugar]
async fn f(v: Option<u32>) -> u32 {
    match v {
        Some(x) if allowed(x).await => x,
        _ => 0,
    }
}

fn main() {}
