// An item declared in a `select!` handler: the handler is lowered as the body's code after the
// body's items were moved to its top, and this one, inside the macro, was not; after the inner
// `.await` the pattern would name the module's `K` (found by the adversarial review: 100
// desugared, 4 natively). Refused at the item.
use tokio::select;

const K: u32 = 1;

async fn value(n: u32) -> u32 {
    n
}

#[unasync::desugar]
async fn f() -> u32 {
    select! {
        biased;
        x = value(1) => {
            const K: u32 = 4;
            select! {
                biased;
                Some(K) = async { Some(x) } => 100,
                Some(y) = async { Some(4u32) } => y,
            }
        }
    }
}

fn main() {}
