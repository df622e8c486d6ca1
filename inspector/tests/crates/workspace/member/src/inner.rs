pub struct Counter(pub u64);

impl Counter {
    pub async fn bump(&mut self) -> u64 {
        helper::tick().await;
        self.0 += 1;
        self.0
    }
}
