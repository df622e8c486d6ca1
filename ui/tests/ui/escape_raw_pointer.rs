// A raw pointer escapes the borrow checker, so a local whose address is taken stays at one
// address in the future (`&raw`, `addr_of!`, `as *const`, `as_ptr`): nothing is refused, and the
// behaviour fixture `raw_address_kept` (also under AddressSanitizer in CI) reads through such
// pointers after the `.await`. Here
// the pointer is dereferenced outside `unsafe`: the user's error, reported once.
async fn tick() {}

#[unasync::desugar]
async fn f() -> u8 {
    let x = [7u8; 4];
    let p = x.as_ptr();
    tick().await;
    *p
}

fn main() {}
