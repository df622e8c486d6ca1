// A `select!` emitted once per path (here a loop's first iteration and the next ones) would be
// two types: its patterns are checked by closures. Refused at the `select!`.
async fn tick() {}

#[unasync::desugar]
async fn f(n: u32) -> u32 {
    let mut total = 0;
    for _ in 0..n {
        total += tokio::select! {
            biased;
            () = tick() => 1,
            () = tick() => 2,
        };
    }
    total
}

fn main() {}
