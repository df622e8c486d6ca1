// `?` in a function whose output is neither `()` nor a `Try` type: rustc's one error, at the `?`.
async fn fallible() -> Result<u32, ()> { Ok(1) }

#[unasync::desugar]
async fn f() -> u32 {
    let x = fallible().await?;
    x + 1
}

fn main() {}
