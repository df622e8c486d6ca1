//! The body as the lowering sees it: a tree of blocks, statements and expressions in which every
//! binding is a numbered [`Local`] and every `.await` a numbered suspension point.
//!
//! Code without an `.await` stays a [`Expr::Plain`] syn expression (with the uses of locals it
//! contains recorded for the analyses). An expression with an `.await` is split so that at most
//! one of its operands suspends: the operands evaluated before it are moved into temporaries
//! (hidden locals declared by `let` in a block around the statement), and the rest stays a
//! [`Expr::Template`], plain code with a hole where the suspending operand goes. A `while`,
//! `while let` and `for` that suspend are desugared as rustc desugars them, into `loop` and
//! `match`, so the emission knows three loops less.

use proc_macro2::{Span, TokenStream};
use syn::{Label, Lifetime, Pat};

pub type LocalId = usize;
pub type AwaitId = usize;

pub struct Body {
    /// The recursive calls lowered through `Recursion`, as `(callee, argument count)`.
    pub recursive_calls: Vec<(syn::Expr, usize)>,
    pub locals: Vec<Local>,
    /// The suspension points, numbered in source order as rustc numbers its `SuspendK` states.
    pub awaits: Vec<Await>,
    /// The parameters of the `async fn`, in order: what `Unresumed` holds.
    pub params: Vec<LocalId>,
    pub block: Block,
    /// The `macro_rules!` of the body whose every fragment is an `$e:expr`: an invocation's
    /// tokens are expressions.
    pub expr_macros: Vec<String>,
    /// Statements the resume function runs first on every poll (`let __check0 = |..| ..;`):
    /// what the code needs one type of, however often the emission writes the code that uses it.
    pub hoisted: Vec<proc_macro2::TokenStream>,
}

pub struct Local {
    /// The name as written (with its span: the user's code resolves it), or a hidden name.
    pub name: proc_macro2::Ident,
    pub kind: LocalKind,
    pub mutable: bool,
    /// `ref` / `ref mut` binding: a reference into its scrutinee.
    pub by_ref: bool,
    /// Its type is known to have no drop glue and no lifetime that ties it to another local
    /// (a parameter typed `&T`, `&mut T` or a primitive): it needs no drop at scope end.
    pub trivially_dropped: bool,
    /// Its type is known to be `&mut T`: borrowing through it is a reborrow of `*x` that keeps
    /// `x` itself borrowed.
    pub mutable_reference: bool,
    /// Its type is known to own its value (`Vec`, `String`, `Box`, ..: not `Copy`): a closure
    /// that uses it by value moves it in.
    pub owning: bool,
    /// Its type as written (`let x: T`, a single binding), for where it is declared again without
    /// a value.
    pub declared: Option<syn::Type>,
    /// The value of `pin!`: it must never move, whatever borrows it.
    pub pinned_by_user: bool,
    /// Declared without a value (`let x;`).
    pub deferred: bool,
    /// What its declaration says of the methods called on it by name.
    pub receiver: ReceiverHint,
}

/// What a local's declaration says of the methods called on it, where their names alone would
/// guess wrong (see `walk::is_consuming_method`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ReceiverHint {
    #[default]
    None,
    /// A oneshot sender (its type as written names `oneshot::Sender`, or it is the first binding
    /// of `let (tx, rx) = oneshot::channel();`): its `send` consumes it.
    OneshotSender,
    /// A guard (`let g = m.lock().await;`, `c.borrow()`, `l.read().unwrap()`): a method of the
    /// value behind it, named as consuming (`g.unwrap_or(0)`, `g.map(..)` on a `Copy` `Option`),
    /// copies that value out through `Deref` and leaves the guard in place.
    Guard,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LocalKind {
    /// A binding of the user's: `let`, a pattern of `match`, `if let`, `for`, a parameter.
    User,
    /// A parameter the `async fn` takes with a pattern other than a plain name (`(a, b): T`,
    /// `_: T`): bound by `let <pattern> = __argN;` at the start of the body, as rustc does.
    Parameter,
    /// An operand or temporary evaluated before a later `.await` of the same statement.
    Temporary,
    /// The iterator of a desugared `for`.
    Iterator,
    /// `self`, renamed (a closure cannot bind `self`).
    SelfValue,
}

pub struct Await {
    pub span: Span,
}

/// A block: its statements, the last possibly a tail expression.
pub struct Block {
    pub stmts: Vec<Stmt>,
    /// The span of the braces: the user's for their own blocks, so that rustc applies the
    /// user's edition to the temporaries of the block's tail.
    pub span: Span,
    /// The locals whose scope is this block (declared by its `let`s), in declaration order.
    pub locals: Vec<LocalId>,
    pub kind: BlockKind,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BlockKind {
    /// Braces the user wrote.
    User,
    /// A block the lowering adds around a statement to scope its temporaries.
    Temporaries,
    /// The temporaries of a block's tail: emitted as part of that block (see `resume`).
    TailTemporaries,
    /// A desugared `for`: its iterator, a binding of rustc's desugaring (not a temporary), ends
    /// with the loop in every edition, also where the loop is a block's tail.
    ForLoop,
    /// The user's `unsafe { .. }` block containing an `.await`.
    Unsafe,
    /// The body's outermost block: the parameters, then the user's block as its tail (whose
    /// temporaries end with it, as in rustc's lowering).
    Parameters,
}

// `Let` is the common statement and is built once per statement: boxing it would cost more.
#[allow(clippy::large_enum_variant)]
pub enum Stmt {
    /// `let pattern (: ty)? = init (else { .. })?;` or `let x;`.
    Let(Let),
    /// An expression statement; `semi` when followed by `;`. The last statement of a block
    /// without `;` is the block's value.
    Expr { expr: Expr, semi: bool },
    /// An item declared in the body (emitted once, outside the state machine).
    Item(TokenStream),
    /// A parameter of the `async fn`, declared where rustc declares it (the body's first
    /// statements, in order, each pattern parameter followed by its `let`).
    Param(LocalId),
}

pub struct Let {
    pub attrs: Vec<syn::Attribute>,
    /// The pattern as written: its bindings are `bindings`, in order.
    pub pat: Pat,
    pub ty: Option<syn::Type>,
    pub bindings: Vec<LocalId>,
    pub init: Option<Expr>,
    pub diverge: Option<Box<Expr>>,
}

pub enum Expr {
    /// Code without a suspension point, as written.
    Plain(Plain),
    /// `base.await`.
    Await { base: Box<Expr>, id: AwaitId },
    /// Plain code with one operand that may suspend: `code` contains [`HOLE`] where it goes.
    Template { code: Plain, hole: Box<Expr> },
    Block(Block),
    Labeled { label: Label, block: Block },
    /// `if cond { .. } else { .. }`; with `let`s in `cond`, `bindings` are theirs (in scope in
    /// `then`) and `consumes` the locals whose value their patterns move out whole.
    If { cond: Box<Expr>, bindings: Vec<LocalId>, consumes: Vec<LocalId>, then: Block, otherwise: Option<Box<Expr>> },
    /// `match`; `scrutinee_local` when the scrutinee is a local named whole (an arm whose
    /// pattern binds all of it by value moves it).
    Match { scrutinee: Box<Expr>, scrutinee_local: Option<LocalId>, arms: Vec<Arm> },
    Loop { label: Option<Label>, body: Block },
    Break { label: Option<Lifetime>, value: Option<Box<Expr>>, span: Span },
    Return { value: Option<Box<Expr>>, span: Span },
    /// `operand?` where the operand suspends.
    Try { operand: Box<Expr>, span: Span },
    /// `place = value` or `place op= value` where the value suspends and the place is plain.
    Assign { place: Plain, op: TokenStream, value: Box<Expr> },
    /// `a && b` / `a || b` where `b` suspends.
    Lazy { left: Box<Expr>, and: bool, right: Box<Expr> },
}

pub struct Arm {
    pub pat: Pat,
    pub guard: Option<Plain>,
    pub bindings: Vec<LocalId>,
    /// The pattern binds all of the scrutinee by value: the arm moves it.
    pub consumes: bool,
    pub body: Box<Expr>,
}

/// A syn expression without `.await`, and what it does with the body's locals.
#[derive(Clone)]
pub struct Plain {
    pub expr: syn::Expr,
    pub events: Vec<Event>,
    /// How the code's value is used.
    pub role: Role,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    Value,
    /// A place a pattern binds by reference (`let ref x = place;`, `let (a, _) = place;`).
    Place,
    /// The place of an assignment (`x` in `x = v`, `x.f` in `x.f += v`).
    Assigned,
    /// The operand of an `.await`, a value: a method call there may consume a local receiver by
    /// a name that only does so awaited (see `walk::is_consuming_method`).
    Awaited,
}

/// What plain code does, in evaluation order, with its control flow.
#[derive(Clone, Debug)]
pub enum Event {
    Use(Use),
    /// One of the arms runs.
    Branch(Vec<Vec<Event>>),
    /// Runs repeatedly, zero times too when `may_skip`.
    Loop { label: Option<String>, may_skip: bool, body: Vec<Event> },
    /// A labeled block: `break 'label` goes to its end.
    Labeled { label: String, body: Vec<Event> },
    /// `return`, `?` (as one arm of a branch), `break`, `continue`.
    Jump(Jump),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Jump {
    Return,
    Break(Option<String>),
    Continue(Option<String>),
}

/// One mention of a local in plain code.
#[derive(Clone, Debug)]
pub struct Use {
    pub local: LocalId,
    pub kind: UseKind,
    /// Its value does not end up in the code's result (`x.len()`, `x == y`).
    pub owned: bool,
    /// `&x` itself: the local's own address, not a reborrow through it.
    pub address: bool,
    /// A part read by value (`x.f`, `x[i]` copied or moved out): the value carries what `x`
    /// borrows, never a borrow of `x` itself.
    pub part: bool,
    /// The use flows into these locals: a borrow of it (or a value holding one) may be stored
    /// there (`let r = &x;`, `v.push(&x)`), so they keep it borrowed while they are live.
    pub flows_into: Vec<LocalId>,
}

impl Use {
    /// Whether the use borrows the local itself (not only a value it holds or points to).
    pub fn borrows_itself(&self, local: &Local) -> bool {
        match self.kind {
            _ if self.part => false,
            UseKind::Move | UseKind::ConsumingCall | UseKind::Assign => local.mutable_reference,
            // Through a shared reference, `x.f` and `x.m()` reborrow what it points to.
            UseKind::Borrow if local.trivially_dropped && !local.mutable_reference => self.address,
            _ => true,
        }
    }
}

impl Plain {
    /// Whether the code can finish normally: the same events the dataflow reads, so code that
    /// follows a plain expression is emitted exactly where the analyses see it reachable.
    pub fn completes(&self) -> bool {
        /// Whether the events can fall through, and the jumps that leave them.
        fn flow(events: &[Event]) -> (bool, Vec<&Jump>) {
            let mut exits = Vec::new();
            for event in events {
                let falls = match event {
                    Event::Use(_) => true,
                    Event::Jump(jump) => {
                        exits.push(jump);
                        false
                    }
                    Event::Branch(arms) => {
                        let mut falls = arms.len() < 2;
                        for arm in arms {
                            let (arm_falls, arm_exits) = flow(arm);
                            falls |= arm_falls;
                            exits.extend(arm_exits);
                        }
                        falls
                    }
                    Event::Loop { label, may_skip, body } => {
                        let (_, inner) = flow(body);
                        let mut broken = *may_skip;
                        for jump in inner {
                            let (Jump::Break(target) | Jump::Continue(target)) = jump else {
                                exits.push(jump);
                                continue;
                            };
                            if target.is_none() || target == label {
                                broken |= matches!(jump, Jump::Break(_));
                            } else {
                                exits.push(jump);
                            }
                        }
                        broken
                    }
                    Event::Labeled { label, body } => {
                        let (mut falls, inner) = flow(body);
                        for jump in inner {
                            if let Jump::Break(Some(target)) = jump
                                && target == label
                            {
                                falls = true;
                            } else {
                                exits.push(jump);
                            }
                        }
                        falls
                    }
                };
                if !falls {
                    return (false, exits);
                }
            }
            (true, exits)
        }
        flow(&self.events).0
    }

    /// Every use, in order, whatever the control flow.
    pub fn uses(&self) -> Vec<&Use> {
        fn collect<'a>(events: &'a [Event], into: &mut Vec<&'a Use>) {
            for event in events {
                match event {
                    Event::Use(use_) => into.push(use_),
                    Event::Branch(arms) => arms.iter().for_each(|arm| collect(arm, into)),
                    Event::Loop { body, .. } | Event::Labeled { body, .. } => collect(body, into),
                    Event::Jump(_) => {}
                }
            }
        }
        let mut uses = Vec::new();
        collect(&self.events, &mut uses);
        uses
    }

    pub fn uses_mut(&mut self) -> Vec<&mut Use> {
        fn collect<'a>(events: &'a mut [Event], into: &mut Vec<&'a mut Use>) {
            for event in events {
                match event {
                    Event::Use(use_) => into.push(use_),
                    Event::Branch(arms) => arms.iter_mut().for_each(|arm| collect(arm, into)),
                    Event::Loop { body, .. } | Event::Labeled { body, .. } => collect(body, into),
                    Event::Jump(_) => {}
                }
            }
        }
        let mut uses = Vec::new();
        collect(&mut self.events, &mut uses);
        uses
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UseKind {
    /// Moved or copied out whole: `f(x)`, `let y = x;`, `x + 1`.
    Move,
    /// Borrowed or read in place: `&x`, `x.field`, `x[i]`, `x == y`, `x.len()`.
    Borrow,
    /// Mutated or borrowed mutably in place: `&mut x`, `x.field = v`, `x += 1`, `x.push(v)`.
    BorrowMut,
    /// Given a new value whole: `x = value` (the old value is dropped first).
    Assign,
    /// `x.method()` taking `self` by value, judged by the method's name (`into_iter`, `unwrap`):
    /// consumes `x` if the guess is right; rustc reports the other case.
    ConsumingCall,
    /// Inside a macro, where the use cannot be seen: any of the above.
    Opaque,
    /// Its address escapes the borrow checker (`&raw`, `addr_of!`, `as *const _`): the local
    /// must never move.
    RawAddress,
}

/// The placeholder for the suspending operand in a [`Expr::Template`].
pub const HOLE: &str = "__unasync_hole";

/// Calls `f` on every expression of the block, outer before inner, in source order.
pub fn visit_exprs<'a>(block: &'a Block, f: &mut dyn FnMut(&'a Expr)) {
    fn expr<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
        f(e);
        match e {
            Expr::Plain(_) => {}
            Expr::Await { base, .. } => expr(base, f),
            Expr::Template { hole, .. } => expr(hole, f),
            Expr::Block(b) | Expr::Labeled { block: b, .. } | Expr::Loop { body: b, .. } => visit_exprs(b, f),
            Expr::If { cond, then, otherwise, .. } => {
                expr(cond, f);
                visit_exprs(then, f);
                if let Some(o) = otherwise {
                    expr(o, f);
                }
            }
            Expr::Match { scrutinee, arms, .. } => {
                expr(scrutinee, f);
                arms.iter().for_each(|arm| expr(&arm.body, f));
            }
            Expr::Break { value, .. } | Expr::Return { value, .. } => {
                if let Some(v) = value {
                    expr(v, f);
                }
            }
            Expr::Try { operand, .. } => expr(operand, f),
            Expr::Assign { value, .. } => expr(value, f),
            Expr::Lazy { left, right, .. } => {
                expr(left, f);
                expr(right, f);
            }
        }
    }
    for stmt in &block.stmts {
        match stmt {
            Stmt::Let(local) => {
                if let Some(init) = &local.init {
                    expr(init, f);
                }
                if let Some(diverge) = &local.diverge {
                    expr(diverge, f);
                }
            }
            Stmt::Expr { expr: e, .. } => expr(e, f),
            Stmt::Item(_) | Stmt::Param(_) => {}
        }
    }
}
