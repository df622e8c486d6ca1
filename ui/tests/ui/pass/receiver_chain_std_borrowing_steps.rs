// Steps of a receiver chain that std declares `&self` (`repeat`, `to_str`) keep the chain's
// start as a temporary of the statement, as rustc does, rather than move it into the step (the
// builder-step default, see `chain_step_borrows_receiver.rs`).
async fn take(s: &str) -> usize {
    s.len()
}

#[unasync::desugar]
async fn repeated(n: usize) -> usize {
    take(String::from("a").repeat(n).as_str()).await
}

#[unasync::desugar]
async fn joined(dir: std::path::PathBuf) -> usize {
    take(dir.join("x").to_str().unwrap()).await
}

fn main() {
    let _ = (repeated(2), joined(std::path::PathBuf::from("d")));
}
