async fn tick() -> u32 {
    1
}

#[unasync::desugar]
async fn f() -> u32 {
    #[cfg(all())]
    let x = tick().await;
    x
}

fn main() {}
