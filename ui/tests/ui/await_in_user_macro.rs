macro_rules! twice {
    ($e:expr) => {
        $e * 2
    };
}

async fn tick() -> u32 {
    1
}

#[unasync::desugar]
async fn f() -> u32 {
    twice!(tick().await)
}

fn main() {}
