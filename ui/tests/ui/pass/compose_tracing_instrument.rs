// `#[tracing::instrument]` above or below `#[unasync::desugar]`: tracing always sees the `async fn`
// and enters its span on every poll; the body it wraps becomes a desugared inner `async fn`.
#![deny(warnings)]

async fn tick() -> u32 {
    1
}

#[tracing::instrument]
#[unasync::desugar]
pub async fn above(x: u32, name: &'static str) -> u32 {
    let y = tick().await;
    x + y + name.len() as u32
}

#[unasync::desugar]
#[tracing::instrument(ret, err, skip(name), fields(extra = 1))]
pub async fn below(x: u32, name: &'static str) -> Result<u32, String> {
    let y = tick().await;
    if name.is_empty() { Err(String::from("empty")) } else { Ok(x + y) }
}

fn main() {
    let _ = above(1, "a");
    let _ = below(1, "a");
}
