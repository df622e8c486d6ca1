// A closure written in an awaitee inside a loop: the code before the `.await` is emitted for the
// first iteration and for the next ones, two closure types for one state field. Refused, with the
// rewrite (found on bb8's `add_connection`).
async fn call<F: FnOnce(u32) -> u32>(v: u32, f: F) -> u32 {
    f(v)
}

#[unasync::desugar]
async fn sum() -> u32 {
    let mut s = 0;
    for i in 0..3 {
        s += call(i, |c| c + 1).await;
    }
    s
}

fn main() {
    let _ = sum();
}
