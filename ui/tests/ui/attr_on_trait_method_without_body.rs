trait Service {
    #[unasync::desugar]
    async fn call(&self) -> u32;
}

fn main() {}
