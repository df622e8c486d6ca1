// A `?` or `return` written inside a macro the body calls is not visible to the attribute (it
// sees the macro call, not its expansion): a compile error at it, never a silent `Pending`.
async fn tick() {}

macro_rules! get {
    ($e:expr) => {
        $e?
    };
}

#[unasync::desugar]
async fn f(o: Option<u32>) -> Option<u32> {
    tick().await;
    let v = get!(o);
    Some(v + 1)
}

fn main() {}
