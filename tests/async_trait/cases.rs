//! Compiled twice by `tests/async_trait.rs`: `super::desugar` is `#[unasync::desugar]` in
//! `desugared` and an identity attribute in `native`.

use std::rc::Rc;

use async_trait::async_trait;
use unasync_fixtures::harness::{
    BoxFuture, Log, Tracked, boxed, fail_after, panic_after, value_after, yield_n,
};

use super::desugar;

#[async_trait]
pub trait Store {
    async fn get(&self, log: Log, k: u32) -> u32;
    async fn put(&mut self, log: Log, used: Tracked, unused: Tracked) -> usize;
    async fn pair(&self, log: Log, (a, b): (Tracked, Tracked), _: Tracked) -> String;
    async fn fallible(&self, log: Log, fail: bool) -> Result<u32, String>;
    async fn panics(&self, log: Log, kept: Tracked) -> u32;
    async fn by_value(self, log: Log) -> u32
    where
        Self: Sized;
    async fn configured(&self, log: Log) -> u32;

    /// A default method, desugared in the trait.
    #[desugar]
    async fn default_steps(&self, log: Log, mut n: u32, held: Tracked) -> u32 {
        yield_n(&log, "default a", 1).await;
        n += self.base();
        held.touch();
        let later = Tracked::new(&log, "later");
        yield_n(&log, "default b", 2).await;
        drop(later);
        n
    }

    fn base(&self) -> u32;
}

#[derive(Clone, Copy)]
pub struct Mem;

/// The receiver of the `&self` methods: the futures borrow it for `'static`.
static MEM: Mem = Mem;

#[async_trait]
impl Store for Mem {
    #[desugar]
    async fn get(&self, log: Log, k: u32) -> u32 {
        value_after(&log, "get", 1, k).await + 1
    }

    #[desugar]
    async fn put(&mut self, log: Log, used: Tracked, unused: Tracked) -> usize {
        let _ = &unused;
        let local = Tracked::new(&log, "local");
        yield_n(&log, "put", 2).await;
        used.touch();
        let n = used.len();
        drop(used);
        yield_n(&log, "put again", 1).await;
        local.touch();
        n
    }

    #[desugar]
    async fn pair(&self, log: Log, (a, b): (Tracked, Tracked), _: Tracked) -> String {
        yield_n(&log, "pair", 1).await;
        drop(b);
        yield_n(&log, "pair again", 1).await;
        a.name().to_owned()
    }

    #[desugar]
    async fn fallible(&self, log: Log, fail: bool) -> Result<u32, String> {
        let _guard = Tracked::new(&log, "guard");
        let x = if fail {
            fail_after::<u32>(&log, "leaf", 1).await.map_err(|e| e.0)?
        } else {
            value_after(&log, "leaf", 1, 7).await
        };
        yield_n(&log, "after", 1).await;
        Ok(x)
    }

    #[desugar]
    async fn panics(&self, log: Log, kept: Tracked) -> u32 {
        let _inner = Tracked::new(&log, "inner");
        yield_n(&log, "before", 1).await;
        kept.touch();
        panic_after(&log, "boom", 1).await;
        1
    }

    #[desugar]
    async fn by_value(self, log: Log) -> u32 {
        yield_n(&log, "by value", 1).await;
        3
    }

    /// `#[cfg]` inside the body: lowered once per combination.
    #[desugar]
    async fn configured(&self, log: Log) -> u32 {
        #[cfg(not(any()))]
        let n = value_after(&log, "on", 1, 1).await;
        #[cfg(any())]
        let n = value_after(&log, "off", 2, 2).await;
        yield_n(&log, "configured", 1).await;
        n
    }

    fn base(&self) -> u32 {
        10
    }
}

/// A generic impl: the generated items sit in a generic method and name none of its parameters.
#[derive(Clone, Copy)]
pub struct Wrapper<T>(pub T);

static WRAPPED: Wrapper<u8> = Wrapper(5);

#[async_trait]
pub trait Describe {
    async fn describe(&self, log: Log, label: String) -> String;
}

#[async_trait]
impl<T: std::fmt::Debug + Copy + Send + Sync + 'static> Describe for Wrapper<T> {
    #[desugar]
    async fn describe(&self, log: Log, label: String) -> String {
        let copy: T = self.0;
        yield_n(&log, "describe", 1).await;
        let text = format!("{label}: {copy:?}");
        yield_n(&log, "described", 1).await;
        text
    }
}

/// `?Send`: the future holds an `Rc` across an `.await`.
#[async_trait(?Send)]
pub trait Local {
    async fn shared(&self, log: Log, value: Rc<u32>) -> u32;
}

#[async_trait(?Send)]
impl Local for Mem {
    #[desugar]
    async fn shared(&self, log: Log, value: Rc<u32>) -> u32 {
        let other = Rc::clone(&value);
        yield_n(&log, "shared", 1).await;
        *other + Rc::strong_count(&value) as u32
    }
}

pub fn get(log: &Log) -> BoxFuture {
    boxed(MEM.get(log.clone(), 41))
}

pub fn put(log: &Log) -> BoxFuture {
    let (used, unused) = (Tracked::new(log, "used"), Tracked::new(log, "unused"));
    let log = log.clone();
    boxed(async move {
        let mut mem = Mem;
        mem.put(log, used, unused).await
    })
}

pub fn pair(log: &Log) -> BoxFuture {
    let pair = (Tracked::new(log, "a"), Tracked::new(log, "b"));
    boxed(MEM.pair(log.clone(), pair, Tracked::new(log, "ignored")))
}

pub fn fallible_ok(log: &Log) -> BoxFuture {
    boxed(MEM.fallible(log.clone(), false))
}

pub fn fallible_err(log: &Log) -> BoxFuture {
    boxed(MEM.fallible(log.clone(), true))
}

pub fn panics(log: &Log) -> BoxFuture {
    boxed(MEM.panics(log.clone(), Tracked::new(log, "kept")))
}

pub fn by_value(log: &Log) -> BoxFuture {
    boxed(Mem.by_value(log.clone()))
}

pub fn default_steps(log: &Log) -> BoxFuture {
    boxed(MEM.default_steps(log.clone(), 1, Tracked::new(log, "held")))
}

pub fn generic(log: &Log) -> BoxFuture {
    boxed(WRAPPED.describe(log.clone(), String::from("five")))
}

pub fn not_send(log: &Log) -> BoxFuture {
    boxed(MEM.shared(log.clone(), Rc::new(2)))
}

pub fn configured(log: &Log) -> BoxFuture {
    boxed(MEM.configured(log.clone()))
}
