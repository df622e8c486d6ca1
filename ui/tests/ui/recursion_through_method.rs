struct Walker;

impl Walker {
    // Compiles natively: recursion through a method.
    #[unasync::desugar]
    async fn walk(&self, n: u32) -> u32 {
        if n == 0 { 0 } else { Box::pin(self.walk(n - 1)).await + 1 }
    }
}

fn main() {}
