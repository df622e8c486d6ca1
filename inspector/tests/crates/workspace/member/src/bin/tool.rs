//! A binary awaiting its library's futures: rustc prints their layouts again from here, named
//! `ws_member::..`; `inspect` keeps the library's own.
use ws_member::inner::Counter;

async fn drive(c: &mut Counter) -> u64 {
    ws_member::two_ticks(1).await as u64 + c.bump().await
}

fn main() {
    let mut c = Counter(0);
    let f = drive(&mut c);
    println!("{}", std::mem::size_of_val(&f));
}
