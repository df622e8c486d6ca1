// `self.inner.commit().await`: unasync takes the awaitee to borrow `self.inner` (so `self` stays
// in place), the most common case. When `Inner::commit` takes `self` by value, the field is
// moved out of `self` while the rest of `self` lives across the `.await`, which the expansion
// cannot do: a compile error. The rewrite that compiles moves `self` apart first:
// `let Tx { inner } = self; inner.commit().await`.
struct Inner(u32);

impl Inner {
    async fn commit(self) -> u32 {
        self.0
    }
}

struct Tx {
    inner: Inner,
}

impl Tx {
    #[unasync::desugar]
    async fn commit(self) -> u32 {
        self.inner.commit().await
    }
}

fn main() {}
