// The user's own `unsafe` still trips the lint, once, at the user's line.
#![forbid(unsafe_code)]

#[unasync::desugar]
pub async fn f(x: u32) -> u32 {
    let y = unsafe { std::ptr::read(&x) };
    std::future::ready(y).await + 1
}

fn main() {}
