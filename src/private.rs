//! Runtime support for the code `#[unasync::desugar]` emits. Not public API: names and
//! signatures change without notice.

use alloc::boxed::Box;
use core::convert::Infallible;
use core::future::Future;
use core::marker::{PhantomData, PhantomPinned};
use core::mem::MaybeUninit;
use core::ops::ControlFlow;
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll};

pub use unasync_macros::native;

/// Names a lifetime in `impl Future + Captures<'a>` without requiring anything of it, so the
/// returned future captures exactly the lifetimes an `async fn` future captures, in every edition.
pub trait Captures<'a> {}
impl<T: ?Sized> Captures<'_> for T {}

/// The future a desugared `async fn` returns: the generated frame (the state enum, and the
/// locals that stay at one address across several suspension points) and the generated resume
/// function, a closure that captures nothing.
pub struct Machine<Frame, Resume> {
    frame: Frame,
    resume: Resume,
    _pinned: PhantomPinned,
}

impl<F: Frame, Resume, Output> Machine<F, Resume>
where
    Resume: FnMut(*mut F, &mut Context<'_>) -> Poll<Output>,
{
    #[inline(always)]
    pub fn new(frame: F, resume: Resume) -> Self {
        const {
            assert!(
                size_of::<Resume>() == 0,
                "unasync: the resume function captured a value; this is a bug in unasync"
            )
        };
        Machine { frame, resume, _pinned: PhantomPinned }
    }
}

impl<F: Frame, Resume, Output> Future for Machine<F, Resume>
where
    Resume: FnMut(*mut F, &mut Context<'_>) -> Poll<Output>,
{
    type Output = Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        // SAFETY: the frame is never moved out of the pinned machine; the resume function
        // reaches it only through this pointer, valid for the call.
        let this = unsafe { self.get_unchecked_mut() };
        (this.resume)(&raw mut this.frame, cx)
    }
}

/// The generated frame: the state enum, or a struct holding it.
///
/// # Safety
/// `poison` and `complete` write the `Panicked` and `Returned` states without dropping
/// anything.
pub unsafe trait Frame {
    /// Enters `Panicked`: the body is running (or unwound), nothing in the state is live.
    ///
    /// # Safety
    /// `this` points to the frame; nothing in its state needs dropping.
    unsafe fn poison(this: *mut Self);
    /// Enters `Returned`.
    ///
    /// # Safety
    /// As for `poison`.
    unsafe fn complete(this: *mut Self);
}

/// Writes `Panicked` when dropped: normally overwritten by the next state the body enters,
/// it leaves the frame poisoned when the body unwinds.
pub struct Poison<F: Frame>(*mut F);

impl<F: Frame> Poison<F> {
    /// # Safety
    /// `frame` stays valid while the guard lives.
    #[inline(always)]
    pub unsafe fn new(frame: *mut F) -> Self {
        Poison(frame)
    }

    /// The body returned: the frame is `Returned` (what the state held was moved out or dropped).
    #[inline(always)]
    pub fn complete(self) {
        let frame = self.0;
        core::mem::forget(self);
        // SAFETY: guaranteed by `new`.
        unsafe { F::complete(frame) }
    }
}

impl<F: Frame> Drop for Poison<F> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: guaranteed by `new`; what the state held was dropped by its own guards.
        unsafe { F::poison(self.0) }
    }
}

/// Polls the awaitee of the state the future is suspended in, where it is pinned. If the poll
/// panics, everything the state holds is dropped (the awaitee first, then the saved locals,
/// rustc's cleanup order) and the frame is poisoned.
///
/// # Safety
/// `frame` is the pinned frame, suspended with `awaitee` initialised in its state.
#[inline(always)]
pub unsafe fn poll_awaitee<F: Frame, A: Future>(frame: *mut F, awaitee: *mut A, cx: &mut Context<'_>) -> Poll<A::Output> {
    struct DropState<F: Frame>(*mut F);
    impl<F: Frame> Drop for DropState<F> {
        fn drop(&mut self) {
            // SAFETY: unwinding out of the poll: the state is whole; after its drop the frame
            // holds nothing live.
            unsafe {
                core::ptr::drop_in_place(self.0);
                F::poison(self.0);
            }
        }
    }
    let guard = DropState(frame);
    // SAFETY: the awaitee is in the pinned frame and is dropped in place, never moved.
    let poll = unsafe { Pin::new_unchecked(&mut *awaitee) }.poll(cx);
    core::mem::forget(guard);
    poll
}

/// Moves a saved local out of the state it was saved in.
///
/// # Safety
/// `field` is initialised and not used again before the state changes.
#[inline(always)]
pub unsafe fn take<T>(field: *mut T) -> T {
    // SAFETY: guaranteed by the caller.
    unsafe { field.read() }
}

/// Enters a state, without dropping the previous one (whose content was moved out or dropped).
///
/// # Safety
/// Nothing in the current state needs dropping.
#[inline(always)]
pub unsafe fn suspend<S>(state: *mut S, next: S) {
    // SAFETY: guaranteed by the caller.
    unsafe { state.write(next) }
}

/// A local that stays at one address in the frame (something may borrow it across a
/// suspension point): a pointer to its slot, and its drop flag when it may be moved out. The
/// guard drops it in place at the end of its scope; when the future suspends, the guard is
/// forgotten and the local stays in the frame.
pub struct InFrame<T> {
    value: *mut T,
    /// Null when the local cannot be moved out (it is initialised for its whole scope).
    live: *mut bool,
    /// Whether the end of its scope drops it (not for types without drop glue, such as
    /// references).
    drops: bool,
}

impl<T> InFrame<T> {
    /// The local's slot, holding its value (initialised now, or already).
    ///
    /// # Safety
    /// `slot` is in the pinned frame and initialised; `live`, if not null, is its flag (set).
    #[inline(always)]
    pub unsafe fn new(slot: *mut MaybeUninit<T>, live: *mut bool, drops: bool) -> Self {
        InFrame { value: slot.cast(), live, drops }
    }

    /// The declaration `let x = value;`.
    ///
    /// # Safety
    /// As for `new`, with the slot not holding a live value.
    #[inline(always)]
    pub unsafe fn init(slot: *mut MaybeUninit<T>, live: *mut bool, drops: bool, value: T) -> Self {
        // SAFETY: guaranteed by the caller.
        unsafe {
            slot.cast::<T>().write(value);
            if !live.is_null() {
                *live = true;
            }
        }
        InFrame { value: slot.cast(), live, drops }
    }

    /// The declaration `let x;`: no value yet.
    ///
    /// # Safety
    /// `slot` is in the pinned frame; `live` is its flag.
    #[inline(always)]
    pub unsafe fn uninit(slot: *mut MaybeUninit<T>, live: *mut bool, drops: bool) -> Self {
        // SAFETY: guaranteed by the caller.
        unsafe { *live = false };
        InFrame { value: slot.cast(), live, drops }
    }

    /// The local as a place read or borrowed shared.
    ///
    /// # Safety
    /// It is initialised, and rustc accepted the user's body (the never-run copy), so no use
    /// overlaps a conflicting one.
    #[inline(always)]
    pub unsafe fn get<'a>(&self) -> &'a T {
        // SAFETY: guaranteed by the caller.
        unsafe { &*self.value }
    }

    /// The local as a place mutated or borrowed mutably.
    ///
    /// # Safety
    /// As for `get`.
    #[inline(always)]
    pub unsafe fn get_mut<'a>(&self) -> &'a mut T {
        // SAFETY: guaranteed by the caller.
        unsafe { &mut *self.value }
    }

    /// A use by value: a move (the flag is cleared) or a copy.
    ///
    /// # Safety
    /// It is initialised.
    #[inline(always)]
    pub unsafe fn take(&self) -> T {
        // SAFETY: guaranteed by the caller.
        unsafe {
            if !self.live.is_null() {
                *self.live = false;
            }
            self.value.read()
        }
    }

    /// `x = value`: the old value is dropped if there is one.
    ///
    /// # Safety
    /// The flag, if any, is accurate.
    #[inline(always)]
    pub unsafe fn set(&self, value: T) {
        // SAFETY: guaranteed by the caller.
        unsafe {
            if self.live.is_null() || *self.live {
                if !self.live.is_null() {
                    *self.live = false;
                }
                self.value.drop_in_place();
            }
            self.value.write(value);
            if !self.live.is_null() {
                *self.live = true;
            }
        }
    }
}

impl<T> Drop for InFrame<T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the end of the local's scope (or unwinding through it): it is dropped in place
        // if it holds a value.
        unsafe {
            if self.drops && (self.live.is_null() || *self.live) {
                if !self.live.is_null() {
                    *self.live = false;
                }
                self.value.drop_in_place();
            }
        }
    }
}

/// Fixes the type of a state's `PhantomData` field to a local's: a state keeps the type of a
/// local in scope that holds no value there, so the future is `Send`/`Sync` exactly when
/// rustc's is (its coroutine witness counts every local in scope). Nothing runs.
#[inline(always)]
pub fn witness<S, T, F: FnOnce(&mut S) -> &mut PhantomData<T>>(_state: *mut S, _local: &T, _field: F) {}

/// `?` on stable: the two halves of the unstable `Try` trait, for the types `?` is used on in
/// `async fn` bodies.
pub trait Branch {
    type Output;
    type Residual;
    fn branch(self) -> ControlFlow<Self::Residual, Self::Output>;
}

impl<T, E> Branch for Result<T, E> {
    type Output = T;
    type Residual = Result<Infallible, E>;
    #[inline(always)]
    fn branch(self) -> ControlFlow<Self::Residual, T> {
        match self {
            Ok(value) => ControlFlow::Continue(value),
            Err(error) => ControlFlow::Break(Err(error)),
        }
    }
}

impl<T> Branch for Option<T> {
    type Output = T;
    type Residual = Option<Infallible>;
    #[inline(always)]
    fn branch(self) -> ControlFlow<Self::Residual, T> {
        match self {
            Some(value) => ControlFlow::Continue(value),
            None => ControlFlow::Break(None),
        }
    }
}

#[inline(always)]
pub fn branch<T: Branch>(value: T) -> ControlFlow<T::Residual, T::Output> {
    value.branch()
}

pub trait FromResidual<R> {
    fn from_residual(residual: R) -> Self;
}

impl<T, E, F: From<E>> FromResidual<Result<Infallible, E>> for Result<T, F> {
    #[inline(always)]
    fn from_residual(residual: Result<Infallible, E>) -> Self {
        match residual {
            Err(error) => Err(From::from(error)),
        }
    }
}

impl<T> FromResidual<Option<Infallible>> for Option<T> {
    #[inline(always)]
    fn from_residual(_: Option<Infallible>) -> Self {
        None
    }
}

#[inline(always)]
pub fn from_residual<T: FromResidual<R>, R>(residual: R) -> T {
    T::from_residual(residual)
}

/// Type-checks the user's body as rustc would, in a branch that never runs.
#[inline(always)]
pub fn check_output<R, F: Future<Output = R>>(_: F) {}

/// A value of the declared output type, returned first in the never-run copy of the body: an
/// async block takes its output type from its first `return`, so the user's own returns and tail
/// are then checked against the signature, with rustc's errors at the user's lines.
#[inline(always)]
pub fn declared_output<R>() -> R {
    unreachable!("called only in a branch that never runs")
}

#[cold]
#[track_caller]
pub fn resumed_after_completion() -> ! {
    panic!("`async fn` resumed after completion")
}

#[cold]
#[track_caller]
pub fn resumed_after_panicking() -> ! {
    panic!("`async fn` resumed after panicking")
}

/// The awaited future of a recursive call, `Box::pin(f(..)).await` in `f` itself.
///
/// A desugared future names the futures it awaits in its frame's type, so holding its own
/// future there would make an infinite type; rustc's futures escape this by not naming what
/// they hold across an `.await`. `Recursion` erases the type: one thin pointer, as
/// `Pin<Box<F>>` is, to a heap block that starts with the functions polling and dropping it.
pub struct Recursion<Output> {
    block: NonNull<RecursionHeader<Output>>,
}

struct RecursionHeader<Output> {
    poll: unsafe fn(NonNull<RecursionHeader<Output>>, &mut Context<'_>) -> Poll<Output>,
    drop: unsafe fn(NonNull<RecursionHeader<Output>>),
}

/// The heap block: the header first (`repr(C)`), so a pointer to the block is a pointer to it.
#[repr(C)]
struct RecursionBlock<F: Future> {
    header: RecursionHeader<F::Output>,
    future: F,
}

impl<Output> Recursion<Output> {
    /// Boxes `future`, as the user's `Box::pin` does, behind the erased pointer.
    pub fn new<F: Future<Output = Output>>(future: F) -> Self {
        let block = Box::new(RecursionBlock {
            header: RecursionHeader { poll: poll_block::<F>, drop: drop_block::<F> },
            future,
        });
        Recursion { block: NonNull::from(Box::leak(block)).cast() }
    }
}

/// # Safety
/// `block` points to a live `RecursionBlock<F>` that is never moved.
unsafe fn poll_block<F: Future>(block: NonNull<RecursionHeader<F::Output>>, cx: &mut Context<'_>) -> Poll<F::Output> {
    // SAFETY: the block was made by `Recursion::new::<F>` and stays where it was allocated until
    // `drop_block`, so the future in it is pinned.
    unsafe {
        let block = block.cast::<RecursionBlock<F>>().as_ptr();
        Pin::new_unchecked(&mut (*block).future).poll(cx)
    }
}

/// # Safety
/// `block` points to a live `RecursionBlock<F>`, not used afterwards.
unsafe fn drop_block<F: Future>(block: NonNull<RecursionHeader<F::Output>>) {
    // SAFETY: the block was allocated by `Box::new` in `Recursion::new::<F>`; dropping the box
    // drops the future in place, then frees it.
    drop(unsafe { Box::from_raw(block.cast::<RecursionBlock<F>>().as_ptr()) });
}

impl<Output> Future for Recursion<Output> {
    type Output = Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        // SAFETY: the block is live until `drop`, and its header was written for its future.
        unsafe { (self.block.as_ref().poll)(self.block, cx) }
    }
}

impl<Output> Drop for Recursion<Output> {
    fn drop(&mut self) {
        // SAFETY: the block is live, and not used after this.
        unsafe { (self.block.as_ref().drop)(self.block) }
    }
}

/// Compiles only if the recursive call's future is `this` future's type: the guard behind the
/// `Send`/`Sync` of [`Recursion`].
#[inline(always)]
pub fn recursion_is_this_future<F>(_this: &F, _call: F) {}

// SAFETY: the macro makes a `Recursion` only of the future of the function it is awaited in,
// called by its own name, with the same type arguments (the function has no type or const
// parameters; `recursion_is_this_future` checks at compile time that the callee's future is the
// function's own), and keeps it only in that function's frame. Sending or sharing the erased future
// therefore means sending or sharing a future of that same type, which is `Send` (`Sync`)
// exactly when the other things in its frame are: rustc decides an `async fn`'s auto traits
// through recursion the same way, coinductively.
unsafe impl<Output> Send for Recursion<Output> {}
// SAFETY: as for `Send`.
unsafe impl<Output> Sync for Recursion<Output> {}
