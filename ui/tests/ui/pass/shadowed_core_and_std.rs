// Modules named `core` and `std` at the use site must not capture the expansion's paths.
#![allow(dead_code)]

mod core {}
mod std {}

async fn tick() -> u32 {
    1
}

struct Counter {
    n: u32,
}

impl Counter {
    #[unasync::desugar]
    async fn bump(&mut self) -> u32 {
        self.n += tick().await;
        self.n
    }
}

#[unasync::desugar]
async fn sum(values: Vec<u32>) -> Result<u32, String> {
    let mut total = 0;
    for v in values {
        total += v + tick().await;
    }
    let parsed: Option<u32> = Some(total);
    let checked = parsed.ok_or_else(|| String::from("none"))?;
    Ok(checked)
}

mod nested {
    mod core {}
    mod std {}

    #[unasync::desugar]
    pub async fn inner(x: u32) -> u32 {
        super::tick().await + x
    }
}

fn main() {
    let _ = sum(vec![1, 2]);
    let _ = nested::inner(1);
    let mut c = Counter { n: 0 };
    let _ = c.bump();
}
