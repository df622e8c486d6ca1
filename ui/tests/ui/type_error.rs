async fn tick() -> u32 {
    1
}

#[unasync::desugar]
async fn f() -> u32 {
    let x: u32 = tick().await;
    let s: String = x;
    s.len() as u32
}

fn main() {}
