// `?` on an `Option` in a function returning `Result`: rustc's one error, at the `?`.
async fn lookup(key: u32) -> Option<u32> {
    if key > 0 { Some(key) } else { None }
}

#[unasync::desugar]
async fn f(key: u32) -> Result<u32, String> {
    let value = lookup(key).await?;
    Ok(value + 1)
}

fn main() {}
