#[unasync::desugar]
struct Point {
    x: i32,
}

fn main() {}
