//! Functions with rustc's (and clippy's) warnings in their bodies: the attribute must neither add
//! nor remove one (issue 14, 8). `tests/lints.rs` builds this crate natively and desugared and
//! compares the diagnostics.
#![allow(dead_code)]
#![warn(clippy::pedantic)]

async fn tick() {}

#[cfg_attr(desugared, unasync::desugar)]
pub async fn reassign(mut n: u32) -> u32 {
    tick().await;
    n = 5;
    tick().await;
    n
}

#[cfg_attr(desugared, unasync::desugar)]
pub async fn unused_params(x: u32, mut y: u32) -> u32 {
    tick().await;
    1
}

#[cfg_attr(desugared, unasync::desugar)]
pub async fn unused_locals() -> u32 {
    let z = 3;
    let mut w = 4;
    tick().await;
    let (a, b) = (1, 2);
    a
}

#[cfg_attr(desugared, unasync::desugar)]
pub async fn unreachable_after_return(flag: bool) -> u32 {
    if flag {
        return 1;
    }
    tick().await;
    return 2;
    #[allow(unreachable_code)]
    3
}

#[cfg_attr(desugared, unasync::desugar)]
pub async fn unused_results(v: &mut Vec<u32>) {
    tick().await;
    v.iter().map(|x| x + 1);
    Ok::<u32, ()>(1);
}

#[cfg_attr(desugared, unasync::desugar)]
pub async fn names(BadName: u32) -> u32 {
    let also_bad = BadName + 1;
    tick().await;
    also_bad
}

#[cfg_attr(desugared, unasync::desugar)]
pub async fn no_await(x: u32) -> u32 {
    x + 1
}

#[cfg_attr(desugared, unasync::desugar)]
pub async fn needless_return(x: u32) -> u32 {
    tick().await;
    return x;
}

/// Returns an error when `x` is zero.
#[cfg_attr(desugared, unasync::desugar)]
pub async fn fallible(x: u32) -> Result<u32, String> {
    tick().await;
    if x == 0 { Err("zero".into()) } else { Ok(x) }
}

pub struct Named {
    name: String,
}

impl Named {
    /// The output's elided lifetime is `self`'s: no `mismatched_lifetime_syntaxes` (found by a
    /// new user).
    #[cfg_attr(desugared, unasync::desugar)]
    pub async fn name_ref(&self) -> &str {
        tick().await;
        &self.name
    }

    /// One input lifetime, elided in the output too.
    #[cfg_attr(desugared, unasync::desugar)]
    pub async fn first<'a>(&self, words: &'a [String]) -> &str {
        tick().await;
        let _ = words;
        &self.name
    }
}

#[cfg_attr(desugared, unasync::desugar)]
pub async fn longest(words: &[String]) -> &str {
    tick().await;
    words.first().map_or("", |w| w.as_str())
}

/// A view borrowing its input, named `'_` in the outputs below.
pub struct View<'a>(pub &'a str);

/// On an impl block: a body of one expression draws no `unused_braces` (found by a helper
/// writing adversarial inputs), and `View<'_>` no `mismatched_lifetime_syntaxes` (bb8's
/// `Pool::get`).
pub struct Single(pub u8, pub String);

#[cfg_attr(desugared, unasync::desugar)]
impl Single {
    pub async fn first(&self) -> u8 {
        self.0
    }

    pub async fn nothing(&self) {}

    pub async fn view(&self) -> View<'_> {
        tick().await;
        View(&self.1)
    }
}

pub struct D(pub u32);

impl Drop for D {
    fn drop(&mut self) {}
}

// An argument named `_y` is moved into the state machine by the expansion, not used by the user
// (clippy's `used_underscore_binding`).
#[cfg_attr(desugared, unasync::desugar)]
pub async fn underscore_argument(_y: D, x: D) -> u32 {
    tick().await;
    x.0
}

#[cfg_attr(desugared, unasync::desugar)]
pub async fn underscore_local_across_await(n: u32) -> u32 {
    let _guard = D(n);
    tick().await;
    let m = u64::from(n) as u32;
    m
}

#[cfg_attr(desugared, unasync::desugar)]
pub async fn slice_argument(v: &Vec<u32>) -> usize {
    tick().await;
    v.len()
}

// The body's inner attributes annotate the function (found by the adversarial helper: refused
// as "an inner attribute is not permitted in this context").
#[cfg_attr(desugared, unasync::desugar)]
pub async fn inner_allow(n: u32) -> u32 {
    #![allow(unused_variables)]
    let unused = 5;
    tick().await;
    n
}

pub struct Inner(u32);

impl Inner {
    #[cfg_attr(desugared, unasync::desugar)]
    pub async fn inner_attributes_on_method(&self) -> u32 {
        #![allow(unused_mut)]
        #![warn(clippy::cast_possible_truncation)]
        let mut kept = self.0;
        tick().await;
        u64::from(kept) as u32
    }
}
