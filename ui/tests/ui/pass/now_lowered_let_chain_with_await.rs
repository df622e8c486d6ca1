// Was refused by an earlier version of the lowering; now lowered and must keep compiling.
async fn lookup() -> Option<u32> {
    Some(1)
}

#[unasync::desugar]
async fn f(ready: bool) -> u32 {
    if ready && let Some(x) = lookup().await {
        x
    } else {
        0
    }
}

fn main() {}
