//! A workspace member for `cargo unasync compare` (tests/e2e.rs): its manifest inherits its
//! fields, dependencies and lints from the workspace.

pub mod inner;

/// rustc keeps the 256-byte argument twice; the desugared frame once.
pub async fn big_arg(buf: [u8; 256]) -> u8 {
    helper::tick().await;
    buf[0]
}

pub async fn two_ticks(n: u32) -> u32 {
    helper::tick().await;
    helper::tick().await;
    n + helper::VALUE
}
