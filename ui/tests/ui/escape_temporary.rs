// A wrong guess of "movable", through a temporary of the suspending statement: `to_owned` is
// taken to return an owned value, but `Name::to_owned` returns a borrow, kept until the end of
// the statement, across its `.await`.
struct Name(String);

impl Name {
    fn to_owned(&self) -> &str {
        &self.0
    }
}

async fn tick() -> usize {
    1
}

#[unasync::desugar]
async fn f(name: Name) -> usize {
    name.to_owned().len() + tick().await + name.0.len()
}

fn main() {}
