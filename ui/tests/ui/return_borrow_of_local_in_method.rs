// A method returning a borrow of its local held across an `.await`: rustc's E0515 once.
async fn tick() {}

struct Store {
    key: u32,
}

impl Store {
    #[unasync::desugar]
    async fn name(&self) -> &str {
        let name = format!("{}", self.key);
        tick().await;
        &name
    }
}

fn main() {}
