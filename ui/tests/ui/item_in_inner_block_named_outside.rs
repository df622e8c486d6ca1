// The body's items are moved to the top of the function: an inner block's `const K` would then
// also be the `K` the code outside that block names, where natively it is the module's (found by
// the adversarial review: 22 desugared, 12 natively). Refused at the item.
const K: u32 = 1;

async fn tick() {}

#[unasync::desugar]
async fn f(v: u32) -> u32 {
    let a = match v {
        K => 10,
        _ => 20,
    };
    let b = {
        const K: u32 = 2;
        tick().await;
        K
    };
    a + b
}

fn main() {}
