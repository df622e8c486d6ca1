// Was refused by an earlier version of the lowering; now lowered and must keep compiling.
async fn tick() -> u32 {
    1
}

#[unasync::desugar]
async fn f() {
    println!("{}", tick().await);
}

fn main() {}
