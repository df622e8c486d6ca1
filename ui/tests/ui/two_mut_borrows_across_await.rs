async fn tick() {}

#[unasync::desugar]
async fn f() -> u32 {
    let mut v = 1u32;
    let a = &mut v;
    let b = &mut v;
    tick().await;
    *a += 1;
    *b += 1;
    v
}

fn main() {}
