// Items move to one scope: two of one name in different blocks of the body collide there.
async fn tick() {}

#[unasync::desugar]
async fn f() -> u32 {
    let a = {
        fn helper() -> u32 {
            1
        }
        helper()
    };
    tick().await;
    let b = {
        fn helper() -> u32 {
            2
        }
        helper()
    };
    a + b
}

fn main() {}
