async fn slot(v: &mut u32) -> &mut u32 {
    v
}

#[unasync::desugar]
async fn f(mut v: u32) -> u32 {
    *slot(&mut v).await += 5;
    v
}

fn main() {}
