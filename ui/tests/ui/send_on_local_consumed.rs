// `send` consumes its receiver in some APIs (`oneshot::Sender::send(self)`) and borrows it in
// others (`mpsc::Sender::send(&self)`): on a local, unasync takes it to borrow, so a local that
// `send` consumed is still saved at the next `.await`: E0382 at the argument, "moved due to this
// method call" at `send`. The rewrite moves it into a temporary: `{ reply }.send(1)`.
struct Reply(String);

impl Reply {
    fn send(self, value: u32) -> Result<(), u32> {
        drop(self.0);
        if value > 0 { Ok(()) } else { Err(value) }
    }
}

#[unasync::desugar]
async fn answer(reply: Reply) -> u32 {
    reply.send(1).unwrap();
    std::future::ready(()).await;
    2
}

#[unasync::desugar]
async fn answer_rewritten(reply: Reply) -> u32 {
    { reply }.send(1).unwrap();
    std::future::ready(()).await;
    2
}

fn main() {
    let _ = answer(Reply(String::new()));
    let _ = answer_rewritten(Reply(String::new()));
}
