struct Service;

impl Service {
    #[tracing::instrument(skip(self))]
    #[unasync::desugar]
    async fn handle(&self, x: u32) -> u32 {
        x
    }
}

fn main() {
    let _ = Service.handle(1);
}
