struct Point {
    x: u32,
    y: String,
}

async fn tick() {}

#[unasync::desugar]
async fn f(Point { x, .. }: Point) -> u32 {
    tick().await;
    x
}

fn main() {}
