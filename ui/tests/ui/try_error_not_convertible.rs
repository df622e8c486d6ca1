// `?` whose error type does not convert into the output's: rustc's one error, at the `?`.
#[derive(Debug)]
struct ParseError;

async fn parse(text: &str) -> Result<u32, ParseError> {
    text.parse().map_err(|_| ParseError)
}

#[unasync::desugar]
async fn f(text: String) -> Result<u32, String> {
    let value = parse(&text).await?;
    Ok(value * 2)
}

fn main() {}
