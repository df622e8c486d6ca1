// A capitalised `let` binding would be read as a unit struct's pattern: the local would not be
// saved, and dropped at the `.await` instead of at the end of its scope. Refused at the name.
struct D;

impl Drop for D {
    fn drop(&mut self) {}
}

async fn tick() {}

#[allow(non_snake_case)]
#[unasync::desugar]
async fn f() {
    let Guard = D;
    tick().await;
}

fn main() {}
