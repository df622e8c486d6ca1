// The desugared future is `#[must_use]` as rustc's is, and a `#[must_use]` on the function carries
// over; rustc's lint on the unused *awaited output* of a `#[must_use] async fn` does not (line 37).
#![deny(unused_must_use)]

async fn tick() {}

async fn native() -> u32 {
    tick().await;
    1
}

#[unasync::desugar]
async fn desugared() -> u32 {
    tick().await;
    1
}

#[must_use = "the count matters"]
async fn native_marked() -> u32 {
    tick().await;
    2
}

#[must_use = "the count matters"]
#[unasync::desugar]
async fn desugared_marked() -> u32 {
    tick().await;
    2
}

async fn caller() {
    native();
    desugared();
    native_marked();
    desugared_marked();
    native_marked().await;
    desugared_marked().await;
}

fn main() {
    drop(caller());
}
