// Issue 14 (3): the names the expansion gives pattern parameters (`__argN`) are not reachable from
// the body, as natively (E0425): a tuple pattern, a `_` parameter, a `ref mut` binding.
#[unasync::desugar]
async fn tuple(x: u32, (a, _, _c): (u32, u32, u32), _: u32) -> u32 {
    let _ = (x, a, _c);
    assert_eq!(__arg1, (1, 2, 3));
    __arg2
}

#[unasync::desugar]
async fn by_ref_mut(ref mut y: u32) -> u32 {
    *y += 1;
    __arg0
}

fn main() {}
