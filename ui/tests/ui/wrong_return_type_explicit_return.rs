// An explicit `return` of the wrong type, in a nested block after an `.await` and before one:
// one error each, the never-run copy's (the machine's `return` was a labeled break, reported a
// second time without rustc's note).
async fn tick() {}

#[unasync::desugar]
async fn f(flag: bool) -> u32 {
    tick().await;
    if flag {
        return "after an await";
    }
    1
}

#[unasync::desugar]
async fn g(flag: bool) -> u32 {
    if flag {
        return "before an await";
    }
    tick().await;
    1
}

fn main() {}
