// `async_stream::stream!` reached by another path (a renamed crate): not known as the stream
// macro, refused with the paths that are.
use async_stream as streams;

async fn tick() -> u32 {
    1
}

#[unasync::desugar]
async fn f() -> usize {
    let s = streams::stream! {
        yield tick().await;
    };
    let _ = s;
    0
}

fn main() {}
