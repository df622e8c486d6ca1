//! Runtime support for the code `#[unasync::desugar]` emits. Not public API: names and
//! signatures change without notice.

use alloc::boxed::Box;
use core::convert::Infallible;
use core::future::Future;
use core::marker::PhantomPinned;
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

/// The future a desugared `async fn` returns: the generated frame (states and saved locals) and the
/// generated resume function, a closure that captures nothing.
pub struct Machine<Frame, Resume> {
    frame: Frame,
    resume: Resume,
    _pinned: PhantomPinned,
}

impl<Frame, Resume, Output> Machine<Frame, Resume>
where
    Resume: FnMut(*mut Frame, &mut Context<'_>) -> Poll<Output>,
{
    pub fn new(frame: Frame, resume: Resume) -> Self {
        const {
            assert!(
                size_of::<Resume>() == 0,
                "unasync: the resume function captured a value; this is a bug in unasync"
            )
        };
        Machine { frame, resume, _pinned: PhantomPinned }
    }
}

impl<Frame, Resume, Output> Future for Machine<Frame, Resume>
where
    Resume: FnMut(*mut Frame, &mut Context<'_>) -> Poll<Output>,
{
    type Output = Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        // SAFETY: the frame is never moved out of the pinned machine; the resume function only
        // reaches it through the raw pointer, which stays valid for this call.
        let this = unsafe { self.get_unchecked_mut() };
        (this.resume)(&raw mut this.frame, cx)
    }
}

/// Moves the value out of a saved local (a use of the local by value: a move or a copy).
///
/// # Safety
/// `slot` holds an initialised value and `live` is its drop flag.
#[inline(always)]
pub unsafe fn take<T>(slot: *mut T, live: *mut bool) -> T {
    // SAFETY: guaranteed by the caller; clearing the flag hands the value over to the caller.
    unsafe {
        *live = false;
        slot.read()
    }
}

/// `local = value` on a saved local: drops the old value only if the flag says it is there.
///
/// # Safety
/// `slot` is valid for writes, `live` is its drop flag.
#[inline(always)]
pub unsafe fn assign<T>(slot: *mut T, live: *mut bool, value: T) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        if *live {
            *live = false;
            slot.drop_in_place();
        }
        slot.write(value);
        *live = true;
    }
}

/// Initialises a saved local at its declaration.
///
/// # Safety
/// `slot` is valid for writes and holds nothing live.
#[inline(always)]
pub unsafe fn init<T>(slot: *mut T, live: *mut bool, value: T) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        slot.write(value);
        *live = true;
    }
}

/// Drops a saved local at the end of its scope if its flag says it is there.
///
/// # Safety
/// `live` is the drop flag of `slot`.
#[inline(always)]
pub unsafe fn drop_if_live<T>(slot: *mut T, live: *mut bool) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        if *live {
            *live = false;
            slot.drop_in_place();
        }
    }
}

/// Polls a saved awaitee in place.
///
/// # Safety
/// `awaitee` points to an initialised future inside the pinned frame that is not moved until
/// it is dropped in place.
#[inline(always)]
pub unsafe fn poll_awaitee<F: Future>(awaitee: *mut F, cx: &mut Context<'_>) -> Poll<F::Output> {
    // SAFETY: the frame is pinned and the awaitee is dropped in place, never moved.
    unsafe { Pin::new_unchecked(&mut *awaitee).poll(cx) }
}

/// Runs `on_unwind` if the resume function unwinds: it drops what was live and poisons the state.
pub struct UnwindGuard<F: FnMut()> {
    on_unwind: F,
}

impl<F: FnMut()> UnwindGuard<F> {
    #[inline(always)]
    pub fn new(on_unwind: F) -> Self {
        UnwindGuard { on_unwind }
    }

    /// Normal exit from the resume function.
    #[inline(always)]
    pub fn disarm(self) {
        core::mem::forget(self);
    }
}

impl<F: FnMut()> Drop for UnwindGuard<F> {
    fn drop(&mut self) {
        (self.on_unwind)();
    }
}

/// How control leaves one basic block of the resume function.
pub enum Exit<R> {
    /// Take the numbered edge of the block.
    Edge(u32),
    /// Leave the `async fn` with its output (a `return`, a `?`, or the end of the body).
    Return(R),
}

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

/// A saved local: where its value lives in the pinned frame and where its drop flag lives.
pub struct Slot<T> {
    pub value: *mut T,
    pub live: *mut bool,
}

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Slot<T> {}

impl<T> Slot<T> {
    /// The slot of a field of the frame.
    #[inline(always)]
    pub fn new(value: *mut MaybeUninit<T>, live: *mut bool) -> Self {
        Slot { value: value.cast(), live }
    }

    /// The local as a place the user's code can mutate or borrow mutably.
    ///
    /// # Safety
    /// The local is initialised, and the borrow checker accepted the user's own body, so no other
    /// access to it overlaps with the returned reference.
    #[inline(always)]
    pub unsafe fn place_mut<'a>(self) -> &'a mut T {
        // SAFETY: guaranteed by the caller; the frame is pinned, so the local never moves.
        unsafe { &mut *self.value }
    }

    /// The local as a place the user's code only reads or borrows shared.
    ///
    /// # Safety
    /// As for [`Slot::place_mut`].
    #[inline(always)]
    pub unsafe fn place_ref<'a>(self) -> &'a T {
        // SAFETY: guaranteed by the caller.
        unsafe { &*self.value }
    }

    /// A use of the local by value (a move, or a copy): the frame no longer owns it.
    ///
    /// # Safety
    /// The local is initialised.
    #[inline(always)]
    pub unsafe fn take(self) -> T {
        // SAFETY: guaranteed by the caller.
        unsafe { take(self.value, self.live) }
    }

    /// `local = value`.
    ///
    /// # Safety
    /// The slot belongs to the current state of the frame.
    #[inline(always)]
    pub unsafe fn assign(self, value: T) {
        // SAFETY: guaranteed by the caller.
        unsafe { assign(self.value, self.live, value) }
    }

    /// The declaration `let local = value;`.
    ///
    /// # Safety
    /// The slot belongs to the current state of the frame and holds nothing live.
    #[inline(always)]
    pub unsafe fn init(self, value: T) {
        // SAFETY: guaranteed by the caller.
        unsafe { init(self.value, self.live, value) }
    }

    /// The end of the local's scope.
    ///
    /// # Safety
    /// The slot's flag is accurate.
    #[inline(always)]
    pub unsafe fn drop_if_live(self) {
        // SAFETY: guaranteed by the caller.
        unsafe { drop_if_live(self.value, self.live) }
    }
}

impl<T> Slot<T> {
    /// `let x: T;`: fixes the type of a local declared without a value.
    #[inline(always)]
    pub fn ascribe(_: Self) {}
}

/// Runs its function when the enclosing block ends (normally or by unwinding): the end of a
/// lowered block's scope, ordered against the block's tail temporaries as rustc orders locals.
pub struct ScopeEnd<F: FnMut()> {
    at_end: F,
}

impl<F: FnMut()> ScopeEnd<F> {
    #[inline(always)]
    pub fn new(at_end: F) -> Self {
        ScopeEnd { at_end }
    }
}

impl<F: FnMut()> Drop for ScopeEnd<F> {
    #[inline(always)]
    fn drop(&mut self) {
        (self.at_end)();
    }
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
