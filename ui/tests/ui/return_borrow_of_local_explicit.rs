// A borrow of a local returned by an explicit `return`, after an `.await` and before one:
// rustc's E0515 once each (the machine's `return` is located over the value, as its tail is).
async fn tick() {}

#[unasync::desugar]
async fn after_await(flag: bool) -> &'static str {
    let s = String::from("x");
    tick().await;
    if flag {
        return &s;
    }
    "y"
}

#[unasync::desugar]
async fn before_await(flag: bool) -> &'static str {
    let s = String::from("x");
    if flag {
        return &s[..];
    }
    tick().await;
    "y"
}

fn main() {}
