// Was refused by an earlier version of the lowering; now lowered and must keep compiling.
async fn tick() -> u32 {
    1
}

#[unasync::desugar]
async fn f(p: *const u32) -> u32 {
    unsafe { *p + tick().await }
}

fn main() {}
