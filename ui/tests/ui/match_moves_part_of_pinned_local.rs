async fn tick() {}

async fn peek(_s: &String) {}

#[unasync::desugar]
async fn f(which: u32) -> usize {
    let x = (String::from("a"), String::from("b"));
    peek(&x.0).await;
    match x {
        (a, _) if which == 0 => {
            tick().await;
            a.len()
        }
        _ => 0,
    }
}

fn main() {}
