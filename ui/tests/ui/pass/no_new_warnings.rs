// Desugared fns that are warning-free natively must stay warning-free.
#![deny(warnings)]
#![deny(unused_mut, unused_variables, unused_unsafe, unreachable_code, unused_assignments)]
#![deny(dead_code, unused_must_use, unused_parens, unused_braces, non_snake_case, non_camel_case_types)]

async fn tick() -> u32 {
    1
}

#[deny(unused_mut, unused_variables, unused_unsafe, unreachable_code)]
pub mod checked {
    use super::tick;

    #[unasync::desugar]
    pub async fn straight(a: u32, b: u32) -> u32 {
        let x = tick().await;
        let y = tick().await;
        a + b + x + y
    }

    #[unasync::desugar]
    pub async fn with_mut(mut acc: u32) -> u32 {
        let mut n = 0;
        while n < 3 {
            acc += tick().await;
            n += 1;
        }
        acc
    }

    #[unasync::desugar]
    pub async fn branches(v: Option<u32>) -> u32 {
        match v {
            Some(x) => x + tick().await,
            None => {
                tick().await;
                0
            }
        }
    }

    #[unasync::desugar]
    pub async fn early_return(v: u32) -> u32 {
        if v == 0 {
            return tick().await;
        }
        let s = String::from("kept");
        tick().await;
        s.len() as u32 + v
    }

    #[unasync::desugar]
    pub async fn no_await(x: u32) -> u32 {
        x * 2
    }

    #[unasync::desugar]
    pub async fn loops(limit: u32) -> u32 {
        let mut total = 0;
        for i in 0..limit {
            if i % 2 == 0 {
                continue;
            }
            total += tick().await;
        }
        loop {
            if tick().await > 0 {
                break total;
            }
        }
    }

    #[unasync::desugar]
    pub async fn question(v: Option<u32>) -> Option<u32> {
        let x = v?;
        let y = tick().await;
        Some(x + y)
    }

    #[unasync::desugar]
    pub async fn unit_fn(_ignored: u32) {
        tick().await;
    }

    #[unasync::desugar]
    pub async fn with_unsafe(p: *const u32) -> u32 {
        let x = tick().await;
        // SAFETY: the caller passes a valid pointer.
        let y = unsafe { *p + x };
        tick().await;
        x + y
    }

    #[unasync::desugar]
    pub async fn forever(log: &mut Vec<u32>) -> u32 {
        loop {
            log.push(tick().await);
        }
    }

    #[unasync::desugar]
    pub async fn fails(x: u32) -> u32 {
        let kept = String::from("kept");
        tick().await;
        if x > 10 {
            panic!("too big: {}", kept);
        }
        x + kept.len() as u32
    }

    #[unasync::desugar]
    pub async fn unfinished(x: u32) -> u32 {
        tick().await;
        if x > 0 {
            return x;
        }
        todo!()
    }

    #[unasync::desugar]
    pub async fn labeled(values: Vec<u32>) -> u32 {
        let found = 'search: {
            for v in values {
                if tick().await + v > 3 {
                    break 'search v;
                }
            }
            0
        };
        let _ignored = tick().await;
        let (mut a, b) = (found, 1);
        a += b;
        a
    }

    pub struct Service {
        pub calls: u32,
    }

    impl Service {
        #[unasync::desugar]
        pub async fn call(&mut self, by: u32) -> u32 {
            self.calls += by;
            tick().await;
            self.calls
        }
    }
}

fn main() {
    let _ = checked::straight(1, 2);
    let _ = checked::with_mut(1);
    let _ = checked::branches(Some(1));
    let _ = checked::early_return(1);
    let _ = checked::no_await(1);
    let _ = checked::loops(4);
    let _ = checked::question(Some(1));
    let _ = checked::unit_fn(1);
    let _ = checked::with_unsafe(&1);
    let _ = checked::forever(&mut Vec::new());
    let _ = checked::fails(1);
    let _ = checked::unfinished(1);
    let _ = checked::labeled(vec![1]);
    let mut s = checked::Service { calls: 0 };
    let _ = s.call(1);
}
