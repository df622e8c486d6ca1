// Compiles natively: the body's own locals named like the expansion's internals (saved across an
// `.await`, poll-local, or plain after the last one) neither break nor shadow the expansion.
async fn tick() {}

#[unasync::desugar]
async fn f(__cx: usize) -> usize {
    let __this = 1usize;
    let __live = 2usize;
    tick().await;
    let __guard = 4usize;
    let __suspending = 5usize;
    let __block = 7usize;
    tick().await;
    let __exit = 8usize;
    let __register0 = 9usize;
    let __output = 10usize;
    let value = 11usize;
    __cx + __this + __live + __guard + __suspending + __block + __exit + __register0 + __output + value
}

fn main() {
    let _ = f(3);
}
