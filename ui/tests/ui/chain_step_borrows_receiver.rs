// In a receiver chain `a().b().c().await`, unasync takes `a()` to be moved into `b` (a builder
// step, `fn b(self) -> Self`, as in `Pool::builder().max_size(2).build(m).await`), unless `b`'s
// name says it borrows its receiver (`arg`, `clone`, `get`, `lock`, ..). When `b` borrows it after
// all, rustc keeps `a()` to the end of the statement, across the `.await`, which the expansion
// does not: it refuses to compile (E0793, the receiver is the field of a packed struct), never
// drops `a()` early. The rewrite that compiles binds the start of the chain:
// `let mut opts = Opts::new(); opts.flag(true).open().await`.
struct Opts {
    name: String,
    flag: bool,
}

impl Opts {
    fn new() -> Opts {
        Opts { name: String::from("file"), flag: false }
    }

    // `&mut self -> &mut Self`: the awaitee borrows `Opts::new()`'s temporary.
    fn flag(&mut self, on: bool) -> &mut Self {
        self.flag = on;
        self
    }

    async fn open(&self) -> usize {
        self.name.len() + self.flag as usize
    }

    // `&self` with an owned result: `Opts::new()`'s temporary lives to the end of the statement.
    fn describe(&self) -> Description {
        Description(self.name.clone())
    }
}

struct Description(String);

impl Description {
    async fn print(&self) -> usize {
        self.0.len()
    }
}

#[unasync::desugar]
async fn open_with_flag() -> usize {
    Opts::new().flag(true).open().await
}

#[unasync::desugar]
async fn print_description() -> usize {
    Opts::new().describe().print().await
}

fn main() {}
