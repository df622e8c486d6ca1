#[unasync::desugar]
async extern "C" fn f() -> u32 {
    1
}

fn main() {}
