//! Runtime support for the code `#[unasync::desugar]` emits. Not public API: names and
//! signatures change without notice.

use alloc::boxed::Box;
#[path = "polling.rs"]
mod polling;
pub use polling::*;

use core::convert::Infallible;
use core::future::{Future, IntoFuture};
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
/// function, a closure that captures nothing and returns `Continue(output)` when the body
/// returns, `Break(Suspended)` when it is pending (so `?` on [`PollAwaitee::poll`] returns it).
///
/// `Native` is the type of the never-run copy of the body, the future rustc builds for it:
/// holding it as `PhantomData` gives the machine rustc's auto traits (what rustc's future keeps
/// across an `.await` and the machine does not, a local in scope but dead, still counts), and
/// rustc's own notes (the value, the `.await`) when it is not `Send`.
pub struct Machine<Frame, Resume, Native> {
    _native: PhantomData<Native>,
    frame: Frame,
    resume: Resume,
    _pinned: PhantomPinned,
}

impl<F: Frame, Resume, Output, Native> Machine<F, Resume, Native>
where
    Resume: FnMut(*mut F, *mut F::State, &mut Cx<'_, '_, F>) -> ControlFlow<Suspended, Output>,
{
    #[inline(always)]
    pub fn new(frame: F, resume: Resume, native: PhantomData<Native>) -> Self {
        const {
            assert!(
                size_of::<Resume>() == 0,
                "unasync: the resume function captured a value; this is a bug in unasync"
            )
        };
        Machine { _native: native, frame, resume, _pinned: PhantomPinned }
    }

    /// [`Machine::new`] where the output type can be written (not `impl Trait`): the resume
    /// function's output is the never-run copy's (`Native`'s), so the body's value is checked
    /// against the declared type as the copy's is, and a mistake there is rustc's one error
    /// (see `first_return` in the macro's `frame.rs`).
    #[inline(always)]
    pub fn new_as_native(frame: F, resume: Resume, native: PhantomData<Native>) -> Self
    where
        Native: Future<Output = Output>,
    {
        Self::new(frame, resume, native)
    }
}

impl<F: Frame, Resume, Output, Native> Future for Machine<F, Resume, Native>
where
    Resume: FnMut(*mut F, *mut F::State, &mut Cx<'_, '_, F>) -> ControlFlow<Suspended, Output>,
{
    type Output = Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        // SAFETY: the frame is never moved out of the pinned machine; the resume function
        // reaches it only through these pointers, valid for the call.
        let this = unsafe { self.get_unchecked_mut() };
        let frame = &raw mut this.frame;
        // SAFETY: `frame` is valid.
        let state = unsafe { F::state(frame) };
        match (this.resume)(frame, state, &mut Cx { frame, cx }) {
            ControlFlow::Continue(output) => {
                // SAFETY: `state` is valid; the body returned, what the state held is gone.
                unsafe { state.write(F::ended(false)) };
                Poll::Ready(output)
            }
            ControlFlow::Break(Suspended) => Poll::Pending,
        }
    }
}

/// The resume function returned `Break(Suspended)`: the future is pending. (Not `Option`: a `?`
/// on an `Option` that the lowering cannot see, in a macro of the body, must not compile into a
/// return from the resume function, which would read as pending.)
pub struct Suspended;

/// The resume function's context (`__cx`): the task's, and the frame, which an awaitee's poll
/// that panics drops whole.
pub struct Cx<'a, 'b, F> {
    frame: *mut F,
    cx: &'a mut Context<'b>,
}

impl<F: Frame> Cx<'_, '_, F> {
    /// A guard that poisons the frame (see [`Poison`]): `let __unwind = unsafe { __cx.poison() };`
    ///
    /// # Safety
    /// The guard does not outlive the resume function's call.
    #[inline(always)]
    pub unsafe fn poison(&self) -> Poison<F> {
        // SAFETY: the frame is valid during the call, guaranteed by the caller.
        unsafe { Poison::new(self.frame) }
    }

    /// Enters the `Suspend` variant `next` (holding the awaitee and the saved locals) as the
    /// future suspends, or before, where the variant holds pinned locals: it is written over the
    /// state without dropping it (its content was moved out or dropped), and the guards of what
    /// stays in the frame (the poison guard, the kept locals) are forgotten:
    /// `unsafe { __cx.suspend(__next, (__unwind, x)) };`
    ///
    /// # Safety
    /// Nothing in the current state needs dropping.
    #[inline(always)]
    pub unsafe fn suspend<Guards>(&self, next: F::State, guards: Guards) {
        // SAFETY: the frame is valid during the call; its state holds nothing to drop,
        // guaranteed by the caller.
        unsafe { F::state(self.frame).write(next) };
        core::mem::forget(guards);
    }
}

/// The generated frame: the state enum, or a struct holding it after the prefix (the locals
/// that stay at one address across several suspension points).
///
/// # Safety
/// `ended` returns states that hold nothing; `state` points to the frame's state.
pub unsafe trait Frame {
    /// The state enum: `Unresumed`, `Suspend0..N`, `Returned`, `Panicked`.
    type State;
    /// `Panicked` if `panicked`, else `Returned` (a function, not two constants: a constant would
    /// be copied whole, every byte of the largest variant, where writing the state needs only the
    /// tag; the argument is a constant wherever it is called).
    fn ended(panicked: bool) -> Self::State;
    /// # Safety
    /// `this` points to a frame. (A pointer, not `&mut self`: the locals in the prefix are
    /// borrowed through their own pointers meanwhile.)
    unsafe fn state(this: *mut Self) -> *mut Self::State;
}

/// Writes `Panicked` when dropped, without dropping what the state held: the frame is
/// poisoned when the body unwinds (the arm's guard, `__unwind`), or when the locals of a
/// variant entered early are gone. The state the body resumed from stays meanwhile (its content
/// moved out): the normal path writes no state until the body suspends (the guard forgotten)
/// or returns (the guard dropped, then `Returned` written over `Panicked`).
pub struct Poison<F: Frame>(*mut F::State);

impl<F: Frame> Poison<F> {
    /// # Safety
    /// `frame` stays valid while the guard lives.
    #[inline(always)]
    pub unsafe fn new(frame: *mut F) -> Self {
        // SAFETY: guaranteed by the caller.
        Poison(unsafe { F::state(frame) })
    }
}

impl<F: Frame> Drop for Poison<F> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: guaranteed by `new`; what the state held was dropped by its own guards.
        unsafe { self.0.write(F::ended(true)) }
    }
}

/// The body returned `value`: `return returned({ <body> })`, whose expected type, the body's,
/// is the resume function's output (see [`Machine::new`]). The arm's poison guard writes
/// `Panicked` as the arm ends, and [`Machine::poll`](Future::poll) then `Returned`.
#[inline(always)]
pub fn returned<T>(value: T) -> ControlFlow<Suspended, T> {
    ControlFlow::Continue(value)
}

/// Polls the awaitee of the state the future is suspended in, where it is pinned:
/// `let (__awaited, __unwind) = unsafe { __awaitee.poll(__cx) }?;` (`Break(Suspended)`, pending,
/// is returned by `?`). If the poll panics, everything the frame holds is dropped (the awaitee
/// first, then the saved locals, rustc's cleanup order) and the frame is poisoned.
///
/// When it completes: its output, and the guard that poisons the frame if the rest of the body
/// unwinds (see [`Poison`]).
pub trait PollAwaitee {
    type Output;
    /// # Safety
    /// `cx` is the pinned frame's, suspended with `self` (its awaitee) initialised in its state.
    unsafe fn poll<F: Frame>(&mut self, cx: &mut Cx<'_, '_, F>) -> ControlFlow<Suspended, (Self::Output, Poison<F>)>;

    /// The value of the `.await`, `output`, once the awaitee is dropped where it was pinned.
    ///
    /// # Safety
    /// The awaitee is initialised, and not used afterwards.
    unsafe fn leave<T>(&mut self, output: T) -> T;
}

impl<A: Future> PollAwaitee for MaybeUninit<A> {
    type Output = A::Output;

    #[inline(always)]
    unsafe fn poll<F: Frame>(&mut self, cx: &mut Cx<'_, '_, F>) -> ControlFlow<Suspended, (A::Output, Poison<F>)> {
        let frame = cx.frame;
        struct DropFrame<F: Frame>(*mut F);
        impl<F: Frame> Drop for DropFrame<F> {
            fn drop(&mut self) {
                // SAFETY: unwinding out of the poll: the state is whole; after its drop the frame
                // holds nothing live.
                unsafe {
                    core::ptr::drop_in_place(self.0);
                    F::state(self.0).write(F::ended(true));
                }
            }
        }
        let guard = DropFrame(frame);
        // SAFETY: the awaitee is in the pinned frame and is dropped in place, never moved.
        let poll = unsafe { Pin::new_unchecked(self.assume_init_mut()) }.poll(cx.cx);
        core::mem::forget(guard);
        match poll {
            // SAFETY: guaranteed by the caller.
            Poll::Ready(output) => ControlFlow::Continue((output, unsafe { Poison::new(frame) })),
            Poll::Pending => ControlFlow::Break(Suspended),
        }
    }

    #[inline(always)]
    unsafe fn leave<T>(&mut self, output: T) -> T {
        // SAFETY: guaranteed by the caller.
        unsafe { self.assume_init_drop() };
        output
    }
}

/// The operand of an `.await`: `Awaited(x).into_awaitee()` is `IntoFuture::into_future(x)`
/// ([`IntoAwaitee`]), in the `MaybeUninit` its state field holds, when `x` is `IntoFuture`, and else, chosen by method resolution's autoref
/// step, a future that never completes, of any output ([`NotIntoFuture`]). Rustc rejects such an
/// `.await` in the never-run copy of the body, at the user's `.await`, before it checks the
/// machine, so the fallback only keeps the machine from reporting the same mistake again (the
/// output it leaves to inference is not reported either, after an error).
pub struct Awaited<T>(pub T);

/// The traits whose methods the resume function calls, imported unnamed
/// (`use ::unasync::__private::prelude::*;`): nothing the user's code could name.
pub mod prelude {
    pub use super::{InFrameSlot as _, IntoAwaitee as _, NotIntoFuture as _, PollAwaitee as _};
}

/// The awaitee comes in the `MaybeUninit` that the state's field holds it in, as the field is
/// written: `Suspend0 { __awaitee, .. }`.
pub trait IntoAwaitee {
    type Awaitee;
    fn into_awaitee(self) -> MaybeUninit<Self::Awaitee>;
}

impl<T: IntoFuture> IntoAwaitee for Awaited<T> {
    type Awaitee = T::IntoFuture;
    #[inline(always)]
    fn into_awaitee(self) -> MaybeUninit<T::IntoFuture> {
        MaybeUninit::new(self.0.into_future())
    }
}

pub trait NotIntoFuture {
    fn into_awaitee<Output>(self) -> MaybeUninit<NotAFuture<Output>>;
}

impl<T> NotIntoFuture for &Awaited<T> {
    fn into_awaitee<Output>(self) -> MaybeUninit<NotAFuture<Output>> {
        // Where the never-run copy accepted the `.await` and the machine did not (the two
        // disagree on a type), the build fails here, once the machine is instantiated.
        #[allow(clippy::let_unit_value)]
        let () = NotAFuture::<T>::IN_THE_MACHINE;
        unreachable!("`.await` on a value that is not a future is refused by rustc")
    }
}

/// See [`Awaited`]: never made.
pub struct NotAFuture<Output>(PhantomData<Output>);

impl<T> NotAFuture<T> {
    const IN_THE_MACHINE: () = panic!("unasync: the state machine awaits a value that is not a future where the never-run copy of the body awaits a future; this is a bug in unasync, please report it");
}

impl<Output> Future for NotAFuture<Output> {
    type Output = Output;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Output> {
        unreachable!("`.await` on a value that is not a future is refused by rustc")
    }
}

/// A reference into the frame that a non-`move` `async` block of the body captures
/// (`Upvar(x.get())`, then `let x = x.into_inner();` first in the block): a value that is not
/// `Copy`, moved into the block, so that edition 2018, which captures whole variables, captures
/// the reference and not a borrow of the resume function's local holding it.
pub struct Upvar<T>(pub T);

impl<T> Upvar<T> {
    #[inline(always)]
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// A local that stays at one address in the frame (something may borrow it across a
/// suspension point): a pointer to its slot, and its drop flag when it may be moved out. The
/// guard drops it in place at the end of its scope; when the future suspends, the guard is
/// forgotten and the local stays in the frame.
///
/// The body reads and borrows it as `*x` where the borrow stays in the statement (`Deref`), and
/// through `get` where the borrow may be kept across a suspension point (by the awaitee, or by
/// another local), which the guard's own lifetime would not allow. (The body names the local
/// only as `*x` or through these methods, so they cannot shadow the local's own methods.)
pub struct InFrame<T> {
    value: *mut T,
    /// Null when the local cannot be moved out (it is initialised for its whole scope).
    live: *mut bool,
}

/// `slot.kept()`: [`InFrame::new`] as a method of the slot, for the resume function's
/// most frequent line (a kept local named again after a suspension point).
pub trait InFrameSlot<T> {
    /// # Safety
    /// As for [`InFrame::new`].
    unsafe fn kept(self) -> InFrame<T>;
}

impl<T> InFrameSlot<T> for *mut MaybeUninit<T> {
    #[inline(always)]
    unsafe fn kept(self) -> InFrame<T> {
        // SAFETY: guaranteed by the caller.
        unsafe { InFrame::new(self) }
    }
}

impl<T> InFrame<T> {
    /// The local's slot, holding its value (initialised before).
    ///
    /// # Safety
    /// `slot` is in the pinned frame and initialised while the guard lives.
    #[inline(always)]
    pub unsafe fn new(slot: *mut MaybeUninit<T>) -> Self {
        InFrame { value: slot.cast(), live: core::ptr::null_mut() }
    }

    /// A local that may be moved out, with its drop flag.
    ///
    /// # Safety
    /// `slot` is in the pinned frame, `live` its flag, set; the guard is dereferenced (`*x`)
    /// only while the local is initialised.
    #[inline(always)]
    pub unsafe fn new_flagged(slot: *mut MaybeUninit<T>, live: *mut bool) -> Self {
        InFrame { value: slot.cast(), live }
    }

    /// The declaration `let x = value;`.
    ///
    /// # Safety
    /// As for `new`, the slot holding no live value yet.
    #[inline(always)]
    pub unsafe fn init(slot: *mut MaybeUninit<T>, value: T) -> Self {
        // SAFETY: guaranteed by the caller.
        unsafe {
            slot.cast::<T>().write(value);
            Self::new(slot)
        }
    }

    /// The declaration `let x = value;` of a local that may be moved out.
    ///
    /// # Safety
    /// As for `new_flagged`, the slot holding no live value yet.
    #[inline(always)]
    pub unsafe fn init_flagged(slot: *mut MaybeUninit<T>, live: *mut bool, value: T) -> Self {
        // SAFETY: guaranteed by the caller.
        unsafe {
            slot.cast::<T>().write(value);
            *live = true;
            Self::new_flagged(slot, live)
        }
    }

    /// The declaration `let x;`: no value yet.
    ///
    /// # Safety
    /// `slot` is in the pinned frame; `live` is its flag.
    #[inline(always)]
    pub unsafe fn uninit(slot: *mut MaybeUninit<T>, live: *mut bool) -> Self {
        // SAFETY: guaranteed by the caller.
        unsafe {
            *live = false;
            Self::new_flagged(slot, live)
        }
    }

    /// The local as a place read or borrowed shared, for a borrow the guard's lifetime cannot
    /// carry (kept across a suspension point).
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

    /// `if let P = x` where `P` binds all of `x` by value: moved out (the flag cleared) when
    /// `matches` says the pattern matches, else left in place.
    ///
    /// # Safety
    /// It is initialised.
    #[inline(always)]
    pub unsafe fn take_if(&self, matches: impl FnOnce(&T) -> bool) -> Option<T> {
        // SAFETY: guaranteed by the caller.
        unsafe { if matches(&*self.value) { Some(self.take()) } else { None } }
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

/// `*x` in a statement: the guard exists only while the local is initialised (a local that may
/// be moved out is reached through `get`, never `Deref`), and its borrows end with the guard.
impl<T> core::ops::Deref for InFrame<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the constructors' contract: the local is initialised while the guard is
        // dereferenced.
        unsafe { &*self.value }
    }
}

impl<T> core::ops::DerefMut for InFrame<T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`.
        unsafe { &mut *self.value }
    }
}

impl<T> Drop for InFrame<T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the end of the local's scope (or unwinding through it): it is dropped in place
        // if it holds a value (a no-op for types without drop glue).
        unsafe {
            if self.live.is_null() || *self.live {
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
pub fn witness<S, T: ?Sized, F: FnOnce(&mut S) -> &mut PhantomData<T>>(_state: *mut S, _local: &T, _field: F) {}

/// Stands for `&T` in a state's witness fields: `Send` and `Sync` exactly when `&T` is (when
/// `T: Sync`), without the reference's lifetime (a `ref` binding borrows a temporary of the
/// statement, which the state's type cannot name).
pub struct SharedRef<T: ?Sized>(PhantomData<*const T>);

// SAFETY: a marker, never constructed: the auto traits of `&T`.
unsafe impl<T: ?Sized + Sync> Send for SharedRef<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Sync> Sync for SharedRef<T> {}

/// [`witness`] for a `ref` binding: the field stands for `&T`.
#[inline(always)]
pub fn witness_ref<S, T: ?Sized, F: FnOnce(&mut S) -> &mut PhantomData<SharedRef<T>>>(_state: *mut S, _local: &T, _field: F) {}

/// `?` on stable: the first half of the unstable `Try` trait (`branch`), for the types `?` is
/// used on in `async fn` bodies. The residual is returned through rustc's own `?`, in a closure
/// returning the body's output (`FromResidual`, `From` on the error), so a residual the output
/// does not accept is rustc's error at the user's `?`, the never-run copy's, reported once.
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

/// Type-checks an attribute's `async` block (`#[async_trait]`'s) as rustc would, against the
/// output `R`, in a branch that never runs; its future's type (see [`Machine`]).
#[inline(always)]
pub fn check_output<R, F: Future<Output = R>>(_: F) -> PhantomData<F> {
    PhantomData
}

/// The type of the never-run copy's future. A declared output is checked by the copy's first
/// `return` ([`declared_output`]), as rustc checks an `async fn`'s.
#[inline(always)]
pub fn native_of<F: Future>(_: F) -> PhantomData<F> {
    PhantomData
}

/// A value of the declared output type, returned first in the never-run copy of the body: an
/// async block takes its output type from its first `return`, so the user's own returns and tail
/// are then checked against the signature, with rustc's errors at the user's lines.
#[inline(always)]
pub fn declared_output<R>() -> R {
    unreachable!("called only in a branch that never runs")
}

/// Polled again after it returned (state `Returned`): rustc's panic, "`async fn` resumed after
/// completion" (the state stays as it is).
#[cold]
#[track_caller]
pub fn after_return() -> ! {
    panic!("`async fn` resumed after completion")
}

/// A state no code enters (an `.await` in unreachable code keeps its number, as in rustc): its
/// arm gives the resume function's `match` one arm per state, a jump table without a range check.
#[cold]
pub fn unreachable_state() -> ! {
    unreachable!("unasync: a state no code enters was resumed")
}

/// Polled again after it panicked (state `Panicked`): rustc's panic, "`async fn` resumed after
/// panicking" (the state stays as it is).
#[cold]
#[track_caller]
pub fn after_panic() -> ! {
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

/// `tail` with `kept` as a temporary of the expression, made before the temporaries of `tail`:
/// the hoisted temporaries of a block's tail resumed after its last `.await` (rustc drops them
/// where it drops that tail's temporaries, by the user's edition).
#[inline(always)]
pub fn keep<K, T>(_kept: &K, tail: T) -> T {
    tail
}

/// A value moved into a method of a receiver chain (`Pool::builder()` in
/// `Pool::builder().max_size(2).build(m).await`), written `moved(value).0.max_size(2)`: the
/// field of a packed struct can be moved out of but not borrowed, so where the method borrows
/// its receiver after all (`fn max_size(&mut self) -> &mut Self`), rustc refuses the expansion
/// (E0793 "reference to field of packed struct is unaligned") rather than let the value be
/// dropped before the statement's `.await` (rustc keeps a borrowed temporary to the end of the
/// statement). A type of alignment 1 can be borrowed there all the same: the assertion refuses
/// it when it has drop glue (the one case where dropping it earlier could be seen).
#[repr(C, packed)]
pub struct Moved<T>(pub T);

#[inline(always)]
pub fn moved<T>(value: T) -> Moved<T> {
    const {
        assert!(
            align_of::<T>() > 1 || !core::mem::needs_drop::<T>(),
            "unasync: a value of alignment 1 with drop glue is the receiver of a method in a receiver chain with an `.await`; call the method as a path (`Type::method(value)`) or bind the value with `let`"
        )
    };
    Moved(value)
}

