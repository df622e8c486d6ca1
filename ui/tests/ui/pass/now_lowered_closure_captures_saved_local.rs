// Was refused by an earlier version of the lowering; now lowered and must keep compiling.
async fn tick() {}

#[unasync::desugar]
async fn f() -> usize {
    let name = String::from("x");
    tick().await;
    let len = || name.len();
    tick().await;
    len()
}

fn main() {}
