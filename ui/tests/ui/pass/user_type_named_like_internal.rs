// Compiles natively: the user's own `__State` must not be shadowed by the expansion's.
async fn tick() {}

struct __State;

#[unasync::desugar]
async fn f() -> usize {
    tick().await;
    let s: __State = __State;
    std::mem::size_of_val(&s)
}

fn main() {}
