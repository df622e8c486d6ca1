// Compiles natively: inside the impl, `walk` is the free function, not this associated one. The
// macro cannot tell from the name, so its compile-time check refuses to treat it as recursion.
async fn walk(n: u32) -> u32 {
    n
}

struct Tree;

impl Tree {
    #[unasync::desugar]
    async fn walk(n: u32) -> u32 {
        if n == 0 { 0 } else { Box::pin(walk(n - 1)).await + 1 }
    }
}

fn main() {
    let _ = Tree::walk(1);
}
