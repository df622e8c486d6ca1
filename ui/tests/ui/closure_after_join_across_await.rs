async fn tick() {}

// The code after the `if` is emitted once per path into it: the closure would have two types.
#[unasync::desugar]
async fn f(flag: bool) -> u32 {
    if flag {
        tick().await;
    }
    let add = |k: u32| k + 1;
    tick().await;
    add(1)
}

fn main() {}
