async fn tick() {}

fn make() -> Option<String> {
    Some(String::from("x"))
}

#[unasync::desugar]
async fn f() -> usize {
    match make() {
        Some(ref s) => {
            tick().await;
            s.len()
        }
        None => 0,
    }
}

fn main() {}
