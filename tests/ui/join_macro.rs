// Any macro named `join!`/`select!` polls its futures in turn inside one state.
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
