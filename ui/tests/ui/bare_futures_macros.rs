// A bare `join!` or `select!` is taken to be tokio's; the expansion checks it by invoking it with
// `biased;`, which only tokio's accepts: `futures`' macros fail there, at their name.
use futures::{join, select, FutureExt};

async fn tick() -> u32 {
    1
}

#[unasync::desugar]
async fn joined() -> u32 {
    let (a, b) = join!(tick(), tick());
    a + b
}

#[unasync::desugar]
async fn selected() -> u32 {
    let mut x = Box::pin(tick().fuse());
    let mut y = Box::pin(tick().fuse());
    select! {
        v = x => v,
        v = y => v + 1,
    }
}

fn main() {}
