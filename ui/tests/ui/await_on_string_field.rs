// `.await` on a `String` (a field, cloned) in a method: rustc's one error, at the `.await`.
struct Named {
    name: String,
}

impl Named {
    #[unasync::desugar]
    async fn name_len(&self) -> usize {
        let name = self.name.clone().await;
        name.len()
    }
}

fn main() {}
