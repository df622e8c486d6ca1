async fn lookup() -> Option<u32> {
    Some(1)
}

#[unasync::desugar]
async fn f() {
    let x = lookup().await?;
    let _ = x;
}

fn main() {}
