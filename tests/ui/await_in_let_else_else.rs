async fn lookup() -> Option<u32> {
    Some(1)
}

async fn fallback() -> u32 {
    0
}

#[unasync::desugar]
async fn f() -> u32 {
    let Some(x) = lookup().await else {
        let _ = fallback().await;
        return 0;
    };
    x
}

fn main() {}
