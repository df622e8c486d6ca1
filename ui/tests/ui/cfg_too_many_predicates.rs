// One expansion per combination of the `cfg` predicates inside the function: at most 4 of them.
async fn tick() {}

#[unasync::desugar]
async fn f() {
    #[cfg(feature = "a")]
    tick().await;
    #[cfg(feature = "b")]
    tick().await;
    #[cfg(feature = "c")]
    tick().await;
    #[cfg(feature = "d")]
    tick().await;
    #[cfg(feature = "e")]
    tick().await;
}

fn main() {}
