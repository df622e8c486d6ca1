//! Dataflow over the body: which locals are initialised, moved, used later and borrowed at each
//! suspension point. The facts feed [`super::layout`], which decides what each state holds.
//!
//! The body becomes a control-flow graph whose nodes hold events in evaluation order: uses of
//! locals (from plain code, whose branches, loops and jumps are part of the graph), their
//! initialisation, the end of their scope, flows of borrows from one local into another, and
//! the suspension points. Each awaitee is a pseudo-local (numbered after the locals): what its
//! expression borrows, it keeps borrowed across its suspension point. Four analyses run to a
//! fixpoint:
//!
//! - maybe-initialised (forward): initialised on some path, not moved since;
//! - maybe-moved (forward): moved (or declared without a value) on some path, not given one since;
//! - live (backward): used later on some path before being given a new value;
//! - may-borrow (forward): for each local, the locals it may hold a borrow of (`let r = &x;`
//!   makes `x` borrowed by `r`; `let s = r;` passes that on).
//!
//! These are syntactic approximations of rustc's MIR analyses: a wrong guess is a compile error
//! in the expansion (rustc's borrow checker sees the real locals), never a dangling borrow.

use super::ir::*;

/// What the analyses found at each suspension point.
pub struct Facts {
    /// Per suspension point: the locals in scope there, outermost scope first, each scope in
    /// declaration order (reversed, rustc's drop order).
    pub in_scope: Vec<Vec<LocalId>>,
    /// The same in edition 2021's order, where it differs: the temporaries hoisted from a
    /// block's tail outlive the block's locals (and those of the blocks whose tail it is), as
    /// temporaries of the enclosing statement.
    pub in_scope_2021: Vec<Option<Vec<LocalId>>>,
    /// Per suspension point and local (by position in `in_scope`): initialised on some path.
    pub maybe_init: Vec<Set>,
    /// Moved, or not yet given a value, on some path.
    pub maybe_moved: Vec<Set>,
    /// Used after the suspension point on some path, before a new value.
    pub live: Vec<Set>,
    /// The locals a borrow of which may be alive across the suspension point.
    pub borrowed: Vec<Set>,
    /// Per suspension point: the locals borrowed on some path since their declaration, alive
    /// or not (rustc's `MaybeBorrowedLocals`, which only the end of the local's scope clears).
    pub ever_borrowed: Vec<Set>,
    /// Locals whose address escapes the borrow checker (`&raw`, `as *const`): never moved.
    pub raw_address: Set,
    /// Locals moved out somewhere (a move of a local in the frame needs a drop flag).
    pub moved_somewhere: Set,
    /// Per suspension point: whether any path reaches it.
    pub reachable: Vec<bool>,
}

/// A set of locals (and awaitee pseudo-locals).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Set(Vec<u64>);

impl Set {
    pub fn new(size: usize) -> Self {
        Set(vec![0; size.div_ceil(64).max(1)])
    }
    pub fn contains(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
    pub fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    pub fn remove(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
    /// Adds `other`; whether anything changed.
    pub fn union(&mut self, other: &Set) -> bool {
        let mut changed = false;
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            let new = *a | *b;
            changed |= new != *a;
            *a = new;
        }
        changed
    }
}

#[derive(Clone, Debug)]
enum Ev {
    Use(Use),
    /// A new value whole (a binding, `x = v`).
    Init(LocalId),
    /// A new value is about to be computed for it: what it borrowed is forgotten.
    Reset(LocalId),
    /// Declared without a value (`let x;`).
    Uninit(LocalId),
    /// `into` may now hold a borrow of each `(local, borrowed)` source, or (not borrowed) what
    /// that source holds.
    Flow { from: Vec<(LocalId, bool)>, into: LocalId },
    /// The end of its scope.
    Dead(LocalId),
    Suspend(AwaitId),
}

struct Node {
    events: Vec<Ev>,
    succ: Vec<usize>,
}

struct Target {
    label: Option<String>,
    is_loop: bool,
    break_to: usize,
    continue_to: Option<usize>,
    /// The number of open scopes outside the target: a jump ends the ones above.
    depth: usize,
}

struct Graph<'a> {
    body: &'a Body,
    nodes: Vec<Node>,
    current: usize,
    exit: usize,
    targets: Vec<Target>,
    /// Locals of the open scopes, outermost first.
    scopes: Vec<Vec<LocalId>>,
    /// Per open scope: where edition 2021 puts its locals if it holds a block tail's hoisted
    /// temporaries (before the locals of that scope: the statement's, see `Facts::in_scope_2021`),
    /// and the scope its own tail's temporaries would go before.
    hosts: Vec<(Option<usize>, usize)>,
    /// Evaluating the tail of the innermost block, outside any scope that ends temporaries
    /// (a branch, a loop body, a condition, a statement).
    in_tail: bool,
    in_scope: Vec<Vec<LocalId>>,
    in_scope_2021: Vec<Option<Vec<LocalId>>>,
}

impl<'a> Graph<'a> {
    fn node(&mut self) -> usize {
        self.nodes.push(Node { events: Vec::new(), succ: Vec::new() });
        self.nodes.len() - 1
    }

    fn edge(&mut self, from: usize, to: usize) {
        self.nodes[from].succ.push(to);
    }

    fn push(&mut self, event: Ev) {
        self.nodes[self.current].events.push(event);
    }

    /// Continues at a fresh node reached from the current one.
    fn then(&mut self) {
        let next = self.node();
        self.edge(self.current, next);
        self.current = next;
    }

    /// A jump: the scopes above `depth` end on the way; the code after it is unreachable.
    fn jump(&mut self, to: usize, depth: usize) {
        let ends: Vec<LocalId> = self.scopes[depth..].iter().rev().flat_map(|scope| scope.iter().rev().copied()).collect();
        for local in ends {
            self.push(Ev::Dead(local));
        }
        self.edge(self.current, to);
        self.current = self.node();
    }

    fn find_target(&self, label: Option<&str>, is_break: bool) -> Option<usize> {
        self.targets.iter().rposition(|t| match label {
            Some(label) => t.label.as_deref() == Some(label),
            None => t.is_loop,
        })
        .filter(|&i| is_break || self.targets[i].continue_to.is_some())
    }

    fn do_jump(&mut self, jump: &Jump) {
        match jump {
            Jump::Return => {
                let exit = self.exit;
                self.jump(exit, 0);
            }
            Jump::Break(label) | Jump::Continue(label) => {
                let is_break = matches!(jump, Jump::Break(_));
                match self.find_target(label.as_deref(), is_break) {
                    Some(index) => {
                        let target = &self.targets[index];
                        let to = if is_break { target.break_to } else { target.continue_to.expect("loop") };
                        let depth = target.depth;
                        self.jump(to, depth);
                    }
                    // A jump out of the body (rustc reports it): nothing follows.
                    None => self.current = self.node(),
                }
            }
        }
    }

    // ---- plain code ---------------------------------------------------------------------------

    fn events(&mut self, events: &[Event]) {
        for event in events {
            match event {
                Event::Use(use_) => self.push(Ev::Use(use_.clone())),
                Event::Branch(arms) => {
                    let start = self.current;
                    let join = self.node();
                    for arm in arms {
                        self.current = self.node();
                        self.edge(start, self.current);
                        self.events(arm);
                        self.edge(self.current, join);
                    }
                    if arms.len() < 2 {
                        self.edge(start, join);
                    }
                    self.current = join;
                }
                Event::Loop { label, may_skip, body } => {
                    let head = self.node();
                    let after = self.node();
                    self.edge(self.current, head);
                    if *may_skip {
                        self.edge(head, after);
                    }
                    self.targets.push(Target { label: label.clone(), is_loop: true, break_to: after, continue_to: Some(head), depth: self.scopes.len() });
                    self.current = head;
                    self.then();
                    self.events(body);
                    self.edge(self.current, head);
                    self.targets.pop();
                    self.current = after;
                }
                Event::Labeled { label, body } => {
                    let after = self.node();
                    self.targets.push(Target { label: Some(label.clone()), is_loop: false, break_to: after, continue_to: None, depth: self.scopes.len() });
                    self.events(body);
                    self.edge(self.current, after);
                    self.targets.pop();
                    self.current = after;
                }
                Event::Jump(jump) => self.do_jump(jump),
            }
        }
    }

    /// The locals whose borrows a plain value may carry: `(local, borrowed)`.
    fn plain_sources(&self, plain: &Plain) -> Vec<(LocalId, bool)> {
        plain.uses().into_iter().filter(|u| !u.owned).map(|u| (u.local, u.borrows_itself(&self.body.locals[u.local]))).collect()
    }


    // ---- the IR -------------------------------------------------------------------------------

    /// Walks an expression; returns where its value's borrows may come from.
    fn expr(&mut self, expr: &Expr) -> Vec<(LocalId, bool)> {
        match expr {
            Expr::Plain(plain) => {
                self.events(&plain.events);
                self.plain_sources(plain)
            }
            Expr::Await { base, id } => {
                let awaitee = self.body.locals.len() + id;
                self.push(Ev::Reset(awaitee));
                let from = self.expr(base);
                self.push(Ev::Flow { from, into: awaitee });
                self.push(Ev::Suspend(*id));
                self.in_scope[*id] = self.scopes.iter().flatten().copied().collect();
                self.in_scope_2021[*id] = self.order_2021();
                // The output may hold what the awaitee borrowed.
                vec![(awaitee, false)]
            }
            Expr::Template { code, hole } => {
                let mut from = self.expr(hole);
                self.events(&code.events);
                from.extend(self.plain_sources(code));
                from
            }
            Expr::Block(block) => self.block(block),
            Expr::Labeled { label, block } => {
                let after = self.node();
                self.targets.push(Target { label: Some(label.name.ident.to_string()), is_loop: false, break_to: after, continue_to: None, depth: self.scopes.len() });
                let from = self.block(block);
                self.edge(self.current, after);
                self.targets.pop();
                self.current = after;
                from
            }
            Expr::If { cond, bindings, consumes, then, otherwise } => {
                // The condition and the branches end their temporaries themselves.
                let in_tail = std::mem::replace(&mut self.in_tail, false);
                let cond_from = self.expr(cond);
                let start = self.current;
                let join = self.node();
                self.current = self.node();
                self.edge(start, self.current);
                self.push_scope(bindings.clone());
                for &consumed in consumes {
                    self.push(Ev::Use(moved_whole(consumed)));
                }
                // A local a `let` moves out whole flows its value into the bindings, not a
                // borrow of itself (as a consuming `match` arm).
                let binding_from: Vec<(LocalId, bool)> =
                    cond_from.iter().map(|&(source, itself)| (source, itself && !consumes.contains(&source))).collect();
                for &binding in bindings {
                    self.push(Ev::Flow { from: binding_from.clone(), into: binding });
                    self.push(Ev::Init(binding));
                }
                let mut from = self.block(then);
                self.end_scope();
                self.edge(self.current, join);
                self.current = self.node();
                self.edge(start, self.current);
                if let Some(otherwise) = otherwise {
                    from.extend(self.expr(otherwise));
                }
                self.edge(self.current, join);
                self.current = join;
                self.in_tail = in_tail;
                from
            }
            Expr::Match { scrutinee, scrutinee_local, arms } => {
                // A local matched by value is moved by the arms that bind all of it (below), not
                // by the `match`: an arm matching a unit variant, or binding `Copy` fields, leaves
                // it in place, to be dropped at the end of its scope.
                let scrutinee_from = match (&**scrutinee, scrutinee_local) {
                    (Expr::Plain(plain), Some(local)) if is_whole_move_of(plain, *local) => {
                        self.push(Ev::Use(Use { kind: UseKind::Borrow, part: true, ..moved_whole(*local) }));
                        vec![(*local, false)]
                    }
                    _ => self.expr(scrutinee),
                };
                // The arms end their temporaries themselves.
                let in_tail = std::mem::replace(&mut self.in_tail, false);
                let start = self.current;
                let join = self.node();
                let mut from = Vec::new();
                for arm in arms {
                    self.current = self.node();
                    self.edge(start, self.current);
                    self.push_scope(arm.bindings.clone());
                    // A pattern that binds all of a local by value moves it into the bindings,
                    // with what it borrowed; any other pattern borrows it.
                    let arm_from = match (scrutinee_local, arm.consumes) {
                        (Some(local), true) => {
                            self.push(Ev::Use(moved_whole(*local)));
                            vec![(*local, false)]
                        }
                        _ => scrutinee_from.clone(),
                    };
                    for &binding in &arm.bindings {
                        let from = if self.body.locals[binding].by_ref {
                            scrutinee_from.iter().map(|&(source, _)| (source, true)).collect()
                        } else {
                            arm_from.clone()
                        };
                        self.push(Ev::Reset(binding));
                        self.push(Ev::Flow { from, into: binding });
                        self.push(Ev::Init(binding));
                    }
                    if let Some(guard) = &arm.guard {
                        self.events(&guard.events);
                    }
                    from.extend(self.expr(&arm.body));
                    self.end_scope();
                    self.edge(self.current, join);
                }
                self.current = join;
                self.in_tail = in_tail;
                from
            }
            Expr::Loop { label, body, .. } => {
                let head = self.node();
                let after = self.node();
                self.edge(self.current, head);
                self.targets.push(Target { label: label.as_ref().map(|l| l.name.ident.to_string()), is_loop: true, break_to: after, continue_to: Some(head), depth: self.scopes.len() });
                self.current = head;
                self.then();
                let in_tail = std::mem::replace(&mut self.in_tail, false);
                self.block(body);
                self.in_tail = in_tail;
                self.edge(self.current, head);
                self.targets.pop();
                self.current = after;
                Vec::new()
            }
            Expr::Break { label, value, .. } => {
                if let Some(value) = value {
                    self.expr(value);
                }
                self.do_jump(&Jump::Break(label.as_ref().map(|l| l.ident.to_string())));
                Vec::new()
            }
            Expr::Return { value, .. } => {
                if let Some(value) = value {
                    self.expr(value);
                }
                self.do_jump(&Jump::Return);
                Vec::new()
            }
            Expr::Try { operand, .. } => {
                let from = self.expr(operand);
                let start = self.current;
                let join = self.node();
                self.edge(start, join);
                self.current = self.node();
                self.edge(start, self.current);
                self.do_jump(&Jump::Return);
                self.current = join;
                from
            }
            Expr::Assign { place, value, op } => {
                let assigned = single_local(place);
                let whole = op.to_string() == "=";
                if let (Some(local), true) = (assigned, whole) {
                    self.push(Ev::Reset(local));
                }
                let from = self.expr(value);
                match (assigned, whole) {
                    (Some(local), true) => {
                        self.push(Ev::Flow { from, into: local });
                        self.push(Ev::Init(local));
                    }
                    _ => {
                        self.events(&place.events);
                        for use_ in place.uses() {
                            self.push(Ev::Flow { from: from.clone(), into: use_.local });
                        }
                    }
                }
                Vec::new()
            }
            Expr::Lazy { left, right, .. } => {
                let in_tail = std::mem::replace(&mut self.in_tail, false);
                self.expr(left);
                let start = self.current;
                let join = self.node();
                self.edge(start, join);
                self.current = self.node();
                self.edge(start, self.current);
                self.expr(right);
                self.edge(self.current, join);
                self.current = join;
                self.in_tail = in_tail;
                Vec::new()
            }
        }
    }

    fn block(&mut self, block: &Block) -> Vec<(LocalId, bool)> {
        // In edition 2021 the temporaries of a block's tail end with those of the expression the
        // block is part of: a tail of the enclosing block too, up to a statement.
        let index = self.scopes.len();
        let chain = match self.hosts.last() {
            Some(&(_, parent)) if self.in_tail => parent,
            _ => index,
        };
        let host = (block.kind == BlockKind::TailTemporaries).then_some(chain);
        self.hosts.push((host, chain));
        self.scopes.push(Vec::new());
        let outer_tail = self.in_tail;
        let mut from = Vec::new();
        let count = block.stmts.len();
        for (position, stmt) in block.stmts.iter().enumerate() {
            // The tail of the parameters' block is the user's block, whose temporaries end there.
            self.in_tail = position + 1 == count
                && matches!(stmt, Stmt::Expr { semi: false, .. })
                && block.kind != BlockKind::Parameters;
            match stmt {
                Stmt::Let(local) => self.let_stmt(local),
                Stmt::Expr { expr, semi } => {
                    let value = self.expr(expr);
                    if !semi {
                        from = value;
                    }
                }
                Stmt::Item(_) => {}
                Stmt::Param(param) => {
                    self.scopes.last_mut().expect("scope").push(*param);
                    self.push(Ev::Init(*param));
                }
            }
        }
        self.in_tail = outer_tail;
        self.end_scope();
        from
    }

    /// The locals in scope in edition 2021's order (see `Facts::in_scope_2021`), if it differs.
    fn order_2021(&self) -> Option<Vec<LocalId>> {
        let moved = |scope: usize| matches!(self.hosts[scope].0, Some(host) if host < scope && !self.scopes[scope].is_empty());
        if !(0..self.scopes.len()).any(moved) {
            return None;
        }
        let mut order = Vec::new();
        for (index, scope) in self.scopes.iter().enumerate() {
            for later in index..self.scopes.len() {
                if moved(later) && self.hosts[later].0 == Some(index) {
                    order.extend(self.scopes[later].iter().copied());
                }
            }
            if !moved(index) {
                order.extend(scope.iter().copied());
            }
        }
        Some(order)
    }

    fn let_stmt(&mut self, local: &Let) {
        for &binding in &local.bindings {
            self.push(Ev::Reset(binding));
        }
        match &local.init {
            Some(init) => {
                let from = self.expr(init);
                if let Some(diverge) = &local.diverge {
                    let start = self.current;
                    let join = self.node();
                    self.edge(start, join);
                    self.current = self.node();
                    self.edge(start, self.current);
                    self.expr(diverge);
                    self.current = join;
                }
                let scope = self.scopes.last_mut().expect("scope");
                scope.extend(local.bindings.iter().copied());
                for &binding in &local.bindings {
                    // A `ref` binding borrows the place it matched.
                    let from = if self.body.locals[binding].by_ref {
                        from.iter().map(|&(source, _)| (source, true)).collect()
                    } else {
                        from.clone()
                    };
                    self.push(Ev::Flow { from, into: binding });
                    self.push(Ev::Init(binding));
                }
            }
            None => {
                self.scopes.last_mut().expect("scope").extend(local.bindings.iter().copied());
                for &binding in &local.bindings {
                    self.push(Ev::Uninit(binding));
                }
            }
        }
    }

    /// A scope of pattern bindings (of `if let`, a `match` arm).
    fn push_scope(&mut self, locals: Vec<LocalId>) {
        self.hosts.push((None, self.scopes.len()));
        self.scopes.push(locals);
    }

    fn end_scope(&mut self) {
        self.hosts.pop();
        let scope = self.scopes.pop().expect("scope");
        for &local in scope.iter().rev() {
            self.push(Ev::Dead(local));
        }
    }
}

/// Whether the code is the local itself, moved whole (`match c { .. }`).
fn is_whole_move_of(plain: &Plain, local: LocalId) -> bool {
    matches!(plain.events.as_slice(), [Event::Use(use_)] if use_.local == local && use_.kind == UseKind::Move && !use_.part)
}

fn moved_whole(local: LocalId) -> Use {
    Use { local, kind: UseKind::Move, owned: false, address: false, part: false, flows_into: Vec::new() }
}

/// The local a plain place names whole: `x` in `x = value`.
fn single_local(place: &Plain) -> Option<LocalId> {
    match (&place.expr, place.uses().as_slice()) {
        (syn::Expr::Path(_), [use_]) => Some(use_.local),
        _ => None,
    }
}

pub fn analyse(body: &Body) -> Facts {
    let locals = body.locals.len();
    let size = locals + body.awaits.len();
    let mut graph = Graph {
        body,
        nodes: Vec::new(),
        current: 0,
        exit: 0,
        targets: Vec::new(),
        scopes: Vec::new(),
        hosts: Vec::new(),
        in_tail: false,
        in_scope: vec![Vec::new(); body.awaits.len()],
        in_scope_2021: vec![None; body.awaits.len()],
    };
    let entry = graph.node();
    graph.exit = graph.node();
    graph.current = entry;
    // The parameters are declared by the body's first statements.
    graph.push_scope(Vec::new());
    graph.block(&body.block);
    let exit = graph.exit;
    graph.edge(graph.current, exit);

    let raw_address = collect(body, size, |u| u.kind == UseKind::RawAddress);
    // A consuming method call, or a closure body moving what it captures (or copying it).
    let moved_somewhere = collect(body, size, |u| matches!(u.kind, UseKind::Move | UseKind::ConsumingCall | UseKind::Opaque));
    let nodes = graph.nodes;
    let in_scope = graph.in_scope;
    let in_scope_2021 = graph.in_scope_2021;

    // Forward: (maybe-init, maybe-moved, borrows per local, ever borrowed), at the entry of
    // each node.
    let empty = || (Set::new(size), Set::new(size), vec![Set::new(size); size], Set::new(size));
    let mut entry_states = vec![None; nodes.len()];
    let mut start = empty();
    for &param in &body.params {
        start.0.insert(param);
    }
    entry_states[entry] = Some(start);
    let mut pending = vec![entry];
    let awaits = body.awaits.len();
    let mut at_suspend: Vec<Option<Forward>> = vec![None; awaits];
    while let Some(node) = pending.pop() {
        let Some(mut state) = entry_states[node].clone() else { continue };
        for event in &nodes[node].events {
            forward(&mut state, event, body);
            if let Ev::Suspend(k) = event {
                match &mut at_suspend[*k] {
                    Some(known) => {
                        known.0.union(&state.0);
                        known.1.union(&state.1);
                        for (a, b) in known.2.iter_mut().zip(&state.2) {
                            a.union(b);
                        }
                        known.3.union(&state.3);
                    }
                    slot => *slot = Some(state.clone()),
                }
            }
        }
        for &next in &nodes[node].succ {
            let changed = match &mut entry_states[next] {
                Some(known) => {
                    let mut changed = known.0.union(&state.0);
                    changed |= known.1.union(&state.1);
                    for (a, b) in known.2.iter_mut().zip(&state.2) {
                        changed |= a.union(b);
                    }
                    changed |= known.3.union(&state.3);
                    changed
                }
                slot => {
                    *slot = Some(state.clone());
                    true
                }
            };
            if changed {
                pending.push(next);
            }
        }
    }

    // Backward: live locals at the exit of each node.
    let mut preds = vec![Vec::new(); nodes.len()];
    for (index, node) in nodes.iter().enumerate() {
        for &next in &node.succ {
            preds[next].push(index);
        }
    }
    let mut live_in = vec![Set::new(size); nodes.len()];
    let mut live_at_suspend = vec![Set::new(size); awaits];
    let mut pending: Vec<usize> = (0..nodes.len()).collect();
    while let Some(node) = pending.pop() {
        let mut live = Set::new(size);
        for &next in &nodes[node].succ {
            live.union(&live_in[next]);
        }
        for event in nodes[node].events.iter().rev() {
            if let Ev::Suspend(k) = event {
                live_at_suspend[*k].union(&live);
            }
            backward(&mut live, event);
        }
        if live_in[node].union(&live) {
            pending.extend(preds[node].iter().copied());
        }
    }

    let mut maybe_init = Vec::new();
    let mut maybe_moved = Vec::new();
    let mut borrowed = Vec::new();
    let mut ever_borrowed = Vec::new();
    let reachable = at_suspend.iter().map(Option::is_some).collect();
    for (k, state) in at_suspend.into_iter().enumerate() {
        let (init, moved, borrows, ever) = state.unwrap_or_else(empty);
        let mut across = borrows[locals + k].clone();
        for (local, local_borrows) in borrows.iter().enumerate().take(locals) {
            // A user's local moved away (a reference copied: `observe(x, ..)`), borrowed since
            // its declaration and still in scope, keeps its type in the state (see `layout`'s
            // witnesses), and with it the
            // lifetime of what it borrowed: the state's type is used everywhere in the machine,
            // so that borrow must stay valid as one held across the suspension point. (A `ref`
            // binding's witness stands for its referent, without the borrow.)
            let info = &body.locals[local];
            let witness = moved.contains(local)
                && ever.contains(local)
                && !info.by_ref
                && !info.deferred
                && !matches!(info.kind, LocalKind::Temporary | LocalKind::Iterator)
                && in_scope[k].contains(&local);
            if init.contains(local) || (moved.contains(local) && live_at_suspend[k].contains(local)) || witness {
                across.union(local_borrows);
            }
        }
        maybe_init.push(init);
        maybe_moved.push(moved);
        borrowed.push(across);
        ever_borrowed.push(ever);
    }
    Facts { in_scope, in_scope_2021, maybe_init, maybe_moved, live: live_at_suspend, borrowed, ever_borrowed, raw_address, moved_somewhere, reachable }
}

fn collect(body: &Body, size: usize, keep: impl Fn(&Use) -> bool) -> Set {
    let mut set = Set::new(size);
    visit_plain(&body.block, &mut |plain| {
        for use_ in plain.uses() {
            if keep(use_) {
                set.insert(use_.local);
            }
        }
    });
    set
}

/// Calls `f` on every piece of plain code in the block.
pub fn visit_plain(block: &Block, f: &mut dyn FnMut(&Plain)) {
    visit_exprs(block, &mut |expr| match expr {
        Expr::Plain(plain) | Expr::Template { code: plain, .. } | Expr::Assign { place: plain, .. } => f(plain),
        Expr::Match { arms, .. } => arms.iter().filter_map(|arm| arm.guard.as_ref()).for_each(&mut *f),
        _ => {}
    });
}

/// The forward dataflow's state: maybe-init, maybe-moved, borrows per local, ever borrowed.
type Forward = (Set, Set, Vec<Set>, Set);

fn forward(state: &mut Forward, event: &Ev, body: &Body) {
    let (init, moved, borrows, ever) = state;
    match event {
        Ev::Use(use_) => {
            let local = use_.local;
            if use_.borrows_itself(&body.locals[local]) {
                ever.insert(local);
            }
            let consumes = match use_.kind {
                UseKind::Move => !body.locals[local].mutable_reference,
                UseKind::ConsumingCall => true,
                _ => false,
            };
            // The graph has the branches of plain code, so a move is on every path through
            // its node.
            if consumes {
                moved.insert(local);
                init.remove(local);
            }
            if use_.kind == UseKind::Assign {
                // The old value's borrows are not forgotten: the new value's flowed in before
                // (`label = &owned` uses `owned` first), and they are kept together.
                init.insert(local);
                moved.remove(local);
            }
            for &into in &use_.flows_into {
                let mut carried = borrows[local].clone();
                if use_.borrows_itself(&body.locals[local]) {
                    carried.insert(local);
                }
                borrows[into].union(&carried);
            }
        }
        Ev::Init(local) => {
            init.insert(*local);
            moved.remove(*local);
        }
        Ev::Uninit(local) => {
            init.remove(*local);
            moved.insert(*local);
        }
        Ev::Reset(local) => borrows[*local] = Set::new(borrows.len()),
        Ev::Flow { from, into } => {
            let mut carried = borrows[*into].clone();
            for &(source, itself) in from {
                carried.union(&borrows[source].clone());
                if itself {
                    carried.insert(source);
                }
            }
            borrows[*into] = carried;
        }
        Ev::Dead(local) => {
            init.remove(*local);
            moved.remove(*local);
            ever.remove(*local);
            borrows[*local] = Set::new(borrows.len());
        }
        Ev::Suspend(_) => {}
    }
}

fn backward(live: &mut Set, event: &Ev) {
    match event {
        Ev::Use(use_) => match use_.kind {
            UseKind::Assign => live.remove(use_.local),
            _ => live.insert(use_.local),
        },
        Ev::Init(local) | Ev::Dead(local) | Ev::Uninit(local) => live.remove(*local),
        Ev::Reset(_) | Ev::Flow { .. } | Ev::Suspend(_) => {}
    }
}
