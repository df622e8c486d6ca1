// Issue 14 (2): items with a global effect, written in the body, exist once: a `#[no_mangle]`
// function (twice would not link) and a `#[used]` static.
use std::sync::atomic::{AtomicU32, Ordering};

async fn tick() {}

#[unasync::desugar]
pub async fn exported(flag: bool) -> u32 {
    #[unsafe(no_mangle)]
    extern "C" fn unasync_ui_exported_once() -> u32 {
        7
    }
    #[used]
    static SEEN: AtomicU32 = AtomicU32::new(0);
    if flag {
        tick().await;
    } else {
        tick().await;
    }
    SEEN.fetch_add(1, Ordering::Relaxed);
    unasync_ui_exported_once()
}

fn main() {
    let _ = exported(true);
}
