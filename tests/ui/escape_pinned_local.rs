// A wrong guess of "movable", through a pinned local: `send` is taken to consume its receiver,
// but `Channel::send` borrows it, and the pinned future keeps the borrow across the `.await`.
use std::pin::pin;

struct Channel(u32);

impl Channel {
    async fn send(&self) -> u32 {
        self.0
    }
}

async fn tick() {}

#[unasync::desugar]
async fn f(channel: Channel) -> u32 {
    let sending = pin!(channel.send());
    tick().await;
    sending.await
}

fn main() {}
