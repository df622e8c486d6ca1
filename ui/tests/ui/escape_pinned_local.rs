// A wrong guess of "movable", through a pinned local: `into_sent` is taken to consume its
// receiver (the `into_` convention), but `Channel::into_sent` borrows it, and the pinned future
// keeps the borrow across the `.await`.
use std::pin::pin;

struct Channel(u32);

impl Channel {
    async fn into_sent(&self) -> u32 {
        self.0
    }
}

async fn tick() {}

#[unasync::desugar]
async fn f(channel: Channel) -> u32 {
    let sending = pin!(channel.into_sent());
    tick().await;
    sending.await
}

fn main() {}
