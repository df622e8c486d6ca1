// A bare `join!` is taken to be tokio's and checked by a call with `biased;`: a macro of the
// user's own by that name rejects it at its name.
macro_rules! join {
    ($a:expr, $b:expr) => {
        ($a.await, $b.await)
    };
}

async fn tick() -> u32 {
    1
}

#[unasync::desugar]
async fn f() -> u32 {
    let (a, b) = join!(tick(), tick());
    a + b
}

fn main() {}
