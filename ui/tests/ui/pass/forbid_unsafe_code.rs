// The expansion's own `unsafe` blocks (the frame, the pinned locals) do not trip the user's
// `unsafe_code` lint: they carry the macro's spans.
#![forbid(unsafe_code)]

async fn peek(s: &String) -> usize {
    s.len()
}

#[unasync::desugar]
pub async fn add_one(x: u32) -> u32 {
    std::future::ready(x).await + 1
}

#[unasync::desugar]
pub async fn pinned(s: String) -> usize {
    // `s` is borrowed across the `.await`: it stays in the frame, reached through `unsafe`.
    let n = peek(&s).await;
    n + s.len()
}

fn main() {
    let _ = (add_one(1), pinned(String::new()));
}
