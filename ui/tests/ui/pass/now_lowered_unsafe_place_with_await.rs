async fn tick() -> u32 {
    1
}

#[unasync::desugar]
async fn f(p: *mut u32) -> u32 {
    let mut v = 1u32;
    unsafe {
        *p += tick().await;
        v += *p;
    }
    v
}

fn main() {}
