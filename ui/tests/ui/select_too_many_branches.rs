// `select!` and `join!` of more futures than the runtime has variants for (8): refused at the
// macro, with the advice to keep the function native.
async fn ready(n: u32) -> u32 {
    n
}

#[unasync::desugar]
async fn nine_branches() -> u32 {
    tokio::select! {
        a = ready(1) => a,
        b = ready(2) => b,
        c = ready(3) => c,
        d = ready(4) => d,
        e = ready(5) => e,
        f = ready(6) => f,
        g = ready(7) => g,
        h = ready(8) => h,
        i = ready(9) => i,
    }
}

#[unasync::desugar]
async fn nine_joined() -> u32 {
    let (a, b, c, d, e, f, g, h, i) = tokio::join!(ready(1), ready(2), ready(3), ready(4), ready(5), ready(6), ready(7), ready(8), ready(9));
    a + b + c + d + e + f + g + h + i
}

fn main() {}
