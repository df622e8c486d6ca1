//! Compiled twice by `tests/compose.rs`: `super::super::desugar` is `#[unasync::desugar]` in `desugared`
//! and an identity attribute in `native`.

pub mod instrument_above {
    #[allow(unused_imports)]
    use crate::*;

    #[tracing::instrument]
    #[super::super::desugar]
    pub async fn steps(x: u32, label: &'static str) -> u32 {
        let kept = Tracked("kept");
        yield_once("first").await;
        {
            // `info!` is opaque to the lowering: give it a local that no `.await` outlives.
            let shown = label;
            tracing::info!(shown, "between");
        }
        let moved = Tracked("moved");
        yield_once("second").await;
        drop(moved);
        let _ = &kept;
        x + 1
    }
}

pub mod instrument_below {
    #[allow(unused_imports)]
    use crate::*;

    #[super::super::desugar]
    #[tracing::instrument]
    pub async fn steps(x: u32, label: &'static str) -> u32 {
        let kept = Tracked("kept");
        yield_once("first").await;
        {
            // `info!` is opaque to the lowering: give it a local that no `.await` outlives.
            let shown = label;
            tracing::info!(shown, "between");
        }
        let moved = Tracked("moved");
        yield_once("second").await;
        drop(moved);
        let _ = &kept;
        x + 1
    }
}

pub mod instrument_ret_err {
    #[allow(unused_imports)]
    use crate::*;

    #[tracing::instrument(ret, err, level = "debug")]
    #[super::super::desugar]
    pub async fn checked(mut x: u32) -> Result<u32, String> {
        let _guard = Tracked("guard");
        yield_once("check").await;
        x += 1;
        if x > 2 {
            Err(format!("{x} is too large"))
        } else {
            Ok(x)
        }
    }
}

pub mod instrument_err_below {
    #[allow(unused_imports)]
    use crate::*;

    #[super::super::desugar]
    #[tracing::instrument(err, skip_all, fields(extra = 7))]
    pub async fn checked(x: u32) -> Result<u32, String> {
        yield_once("check").await;
        let y: u32 = x.checked_sub(1).ok_or("underflow")?;
        yield_once("after").await;
        Ok(y)
    }
}

pub mod main_above {
    #[allow(unused_imports)]
    use crate::*;

    #[tokio::main(flavor = "current_thread")]
    #[super::super::desugar]
    pub async fn run(x: u32, mut y: u64) -> u64 {
        let kept = Tracked("kept");
        yield_once("first").await;
        y += u64::from(x);
        let moved = Tracked("moved");
        yield_once("second").await;
        drop(moved);
        let _ = &kept;
        y
    }
}

pub mod main_below {
    #[allow(unused_imports)]
    use crate::*;

    #[super::super::desugar]
    #[tokio::main(flavor = "current_thread")]
    pub async fn run(x: u32, mut y: u64) -> u64 {
        // An item of the body has its own `Self`.
        struct Step(u64);
        impl Step {
            fn new(n: u64) -> Self {
                Self(n)
            }
        }
        y += Step::new(0).0;
        let kept = Tracked("kept");
        yield_once("first").await;
        y += u64::from(x);
        let moved = Tracked("moved");
        yield_once("second").await;
        drop(moved);
        let _ = &kept;
        y
    }
}

pub mod main_multi_thread {
    #[allow(unused_imports)]
    use crate::*;

    #[tokio::main]
    #[super::super::desugar]
    pub async fn run() -> Result<u32, String> {
        let _kept = Tracked("kept");
        yield_once("first").await;
        let parsed: u32 = "12".parse().map_err(|_| String::from("not a number"))?;
        let task = tokio::spawn(async move { parsed * 2 });
        let doubled = task.await.map_err(|e| e.to_string())?;
        yield_once("second").await;
        let _: u32 = "x"
            .parse()
            .map_err(|_| format!("{doubled} then not a number"))?;
        Ok(doubled)
    }
}

pub mod main_panics {
    #[allow(unused_imports)]
    use crate::*;

    #[super::super::desugar]
    #[tokio::main(flavor = "current_thread")]
    pub async fn run(fail: bool) -> u32 {
        let _outer = Tracked("outer");
        yield_once("first").await;
        let _inner = Tracked("inner");
        if fail {
            panic!("failed on purpose");
        }
        yield_once("second").await;
        1
    }
}

pub mod test_above {
    #[allow(unused_imports)]
    use crate::*;

    #[tokio::test]
    #[super::super::desugar]
    pub async fn counts() {
        let _kept = Tracked("kept");
        yield_once("first").await;
        let n = async { 40 }.await + 2;
        yield_once("second").await;
        assert_eq!(n, 42);
    }
}

pub mod test_below {
    #[allow(unused_imports)]
    use crate::*;

    #[super::super::desugar]
    #[tokio::test(flavor = "current_thread")]
    pub async fn counts() -> Result<(), String> {
        let _kept = Tracked("kept");
        yield_once("first").await;
        let n: u32 = "42".parse().map_err(|_| String::from("not a number"))?;
        yield_once("second").await;
        assert_eq!(n, 42);
        Ok(())
    }
}

pub mod test_should_panic {
    #[allow(unused_imports)]
    use crate::*;

    #[tokio::test]
    #[super::super::desugar]
    #[should_panic(expected = "failed on purpose")]
    pub async fn fails() {
        let _kept = Tracked("kept");
        yield_once("first").await;
        panic!("failed on purpose");
    }
}

pub mod instrument_methods {
    #[allow(unused_imports)]
    use crate::*;

    pub struct Counter {
        pub count: u32,
        /// Logs when the counter is dropped.
        #[allow(dead_code)]
        pub name: Tracked,
    }

    impl Counter {
        /// `&mut self`, and arguments that are not `Copy`: one the body drops early, one it never
        /// uses (the block does not capture it: it is dropped when the function returns).
        #[tracing::instrument(skip(self, used, _unused))]
        #[super::super::desugar]
        pub async fn step(&mut self, by: u32, used: Tracked, _unused: Tracked) -> u32 {
            let _kept = Tracked("kept");
            yield_once("first").await;
            self.count += by;
            drop(used);
            yield_once("second").await;
            self.count
        }

        /// `self` by value, below the attribute.
        #[super::super::desugar]
        #[tracing::instrument(skip_all)]
        pub async fn consume(self, extra: Tracked) -> u32 {
            let this = self;
            yield_once("consume").await;
            drop(extra);
            yield_once("consumed").await;
            this.count
        }
    }

    /// A generic function: the machine's items name none of its parameters.
    #[tracing::instrument(skip(value))]
    #[super::super::desugar]
    pub async fn generic<T: std::fmt::Debug>(value: T, n: u32) -> String {
        yield_once("generic").await;
        let text = format!("{value:?} {n}");
        yield_once("formatted").await;
        text
    }
}

pub mod instrument_capture_order {
    #[allow(unused_imports)]
    use crate::*;

    /// The body mentions `second` first: rustc's block captures it first, and drops its captures
    /// in that order (unpolled, suspended, and after its locals when it completes).
    #[tracing::instrument(skip_all)]
    #[super::super::desugar]
    pub async fn reversed(first: Tracked, second: Tracked, third: Tracked) -> u32 {
        let _ = &second;
        yield_once("first").await;
        let _ = &third;
        drop(first);
        yield_once("second").await;
        1
    }
}

pub mod instrument_partial_use {
    #[allow(unused_imports)]
    use crate::*;

    pub struct Pair(pub Tracked, pub Tracked);

    /// The body uses only `pair.0` and `other.1`: tracing's edition-2018 block still captures
    /// both arguments whole, so both halves of each drop with the future.
    #[tracing::instrument(skip_all)]
    #[super::super::desugar]
    pub async fn first(pair: Pair, other: Pair) -> usize {
        yield_once("first").await;
        let right = other.1 .0.len();
        yield_once("second").await;
        pair.0 .0.len() + right
    }
}

pub mod instrument_async_trait {
    #[allow(unused_imports)]
    use crate::*;

    #[async_trait::async_trait]
    pub trait Service {
        async fn call(&self, x: u32, held: Tracked) -> u32;
        async fn other(&self, x: u32) -> u32;
    }

    pub struct Svc;

    /// tracing instruments the block async-trait made: the machine takes the inner block's place.
    #[async_trait::async_trait]
    impl Service for Svc {
        #[tracing::instrument(skip(self, held))]
        #[super::super::desugar]
        async fn call(&self, x: u32, held: Tracked) -> u32 {
            let _kept = Tracked("kept");
            yield_once("first").await;
            drop(held);
            yield_once("second").await;
            x + 1
        }

        #[super::super::desugar]
        #[tracing::instrument(skip(self))]
        async fn other(&self, x: u32) -> u32 {
            yield_once("other").await;
            x * 2
        }
    }
}
