// A wrong guess of "movable", through the awaitee: `commit` is taken to consume its receiver
// (as most `commit`s do), but `Inner::commit` borrows it, and so does the future it returns,
// which the state keeps across the `.await`. rustc refuses the expansion: a compile error, never
// a dangling reference. Natively this compiles; the rewrite that says the receiver is borrowed,
// `Inner::commit(&inner).await`, compiles with the attribute too.
struct Inner(u32);

impl Inner {
    async fn commit(&self) -> u32 {
        self.0
    }
}

#[unasync::desugar]
async fn f(inner: Inner) -> u32 {
    inner.commit().await
}

fn main() {}
