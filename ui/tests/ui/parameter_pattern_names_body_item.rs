// A parameter pattern is resolved outside the body natively; the body's items are moved to the
// scope where unasync binds the parameters, so a pattern naming one of them is refused, at the
// pattern (natively this compiles: `Pair(a, b)` is the outer struct).
pub struct Pair(u32, u32);
pub const LIMIT: u32 = 3;

async fn tick() {}

#[unasync::desugar]
async fn destructured(Pair(a, b): Pair) -> u32 {
    struct Pair(u8);
    let Pair(k) = Pair(3);
    tick().await;
    a + b + u32::from(k)
}

#[unasync::desugar]
async fn binding_named_like_body_const(limit: u32) -> u32 {
    #[allow(non_upper_case_globals)]
    const limit: u32 = 1;
    tick().await;
    limit
}

// Unaffected: the body's item has the name of a parameter's type only.
#[unasync::desugar]
async fn type_only(p: Pair) -> u32 {
    struct Pair(u8);
    tick().await;
    p.0 + p.1 + u32::from(Pair(LIMIT as u8).0)
}

fn main() {}
