//! Rust type and path names as rustc prints them: splitting generics, dropping them, matching
//! trimmed paths against full ones. Text only; used by every stage.

/// `name<args>` -> (`name`, `Some(args)`); generic arguments only at the end of the name.
pub fn split_generics(name: &str) -> (&str, Option<&str>) {
    if !name.ends_with('>') {
        return (name, None);
    }
    let b = name.as_bytes();
    let mut depth = 0i32;
    for i in (0..b.len()).rev() {
        match b[i] {
            b'>' if i > 0 && b[i - 1] == b'-' => {}
            b'>' => depth += 1,
            b'<' => {
                depth -= 1;
                if depth == 0 {
                    // `<A as B>::f` starts with `<`: not a generic argument list.
                    if i == 0 {
                        return (name, None);
                    }
                    return (&name[..i], Some(&name[i + 1..name.len() - 1]));
                }
            }
            _ => {}
        }
    }
    (name, None)
}

/// Splits at top-level commas (outside `<>`, `()`, `[]`, `{}`), trimming each part.
pub fn split_args(args: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let b = args.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'<' | b'(' | b'[' | b'{' => depth += 1,
            b'>' if i > 0 && b[i - 1] == b'-' => {}
            b'>' | b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => {
                out.push(args[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !args[start..].trim().is_empty() {
        out.push(args[start..].trim());
    }
    out
}

/// `a::b<T>::c<u8>` -> `a::b::c`.
pub fn strip_generics(p: &str) -> String {
    let mut depth = 0;
    let mut s = String::new();
    for c in p.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            _ if depth == 0 => s.push(c),
            _ => {}
        }
    }
    s
}

/// A path as the source spells it, for matching: generics dropped; empty for a path that was
/// all generics (`<A as B>` alone).
fn normalize_path(p: &str) -> String {
    let p = strip_generics(p);
    if p.starts_with("::") || p.is_empty() {
        return String::new();
    }
    p
}

/// The `>` closing the `<` that `rest` follows; `None` if unbalanced.
fn closing_angle(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let mut depth = 1;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'<' => depth += 1,
            b'>' if i > 0 && b[i - 1] == b'-' => {}
            b'>' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `<A as B>::f<T>::g` -> `A::f::g`; anything else: generics dropped.
pub fn source_path(p: &str) -> String {
    if let Some(rest) = p.strip_prefix('<')
        && let Some(i) = closing_angle(rest)
    {
        let inner = &rest[..i];
        let self_ty = inner.split(" as ").next().unwrap_or(inner);
        return normalize_path(&format!("{self_ty}{}", &rest[i + 1..]));
    }
    normalize_path(p)
}

/// `<A as Trait>::f` -> `Trait::f` (where a default trait method's future is listed), generics
/// dropped; `None` for other paths.
pub fn trait_path(p: &str) -> Option<String> {
    let rest = p.strip_prefix('<')?;
    let i = closing_angle(rest)?;
    let (_, tr) = rest[..i].split_once(" as ")?;
    Some(normalize_path(&format!("{tr}{}", &rest[i + 1..])))
}

/// Byte offsets where the `::`-separated segments of `path` start (outside `<..>`).
pub fn top_level_segments(path: &str) -> Vec<usize> {
    let mut depth = 0i32;
    let b = path.as_bytes();
    let mut out = vec![0];
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'<' => depth += 1,
            b'>' => depth -= 1,
            b':' if depth == 0 && i + 1 < b.len() && b[i + 1] == b':' => {
                out.push(i + 2);
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Last path segment, generics included: `Connection::read_frame` -> `read_frame`,
/// `a::Sender<x::Y>::send` -> `send` (generic arguments may hold `::` themselves).
pub fn last_segment(path: &str) -> &str {
    let start = top_level_segments(path).last().copied().unwrap_or(0);
    &path[start..]
}

/// True when `short` equals `long` or is a `::`-boundary suffix of it (rustc trims paths in field
/// types: `Connection::read_frame` for `connection::Connection::read_frame`).
pub fn path_suffix_match(long: &str, short: &str) -> bool {
    long == short || (long.ends_with(short) && long[..long.len() - short.len()].ends_with("::"))
}

/// For the path of a `#[unasync::desugar]` machine lowered in place inside an `async fn`'s own
/// body (`Client::get::{closure#0}`: `#[tracing::instrument]` keeps the fn async and the
/// machine's types are declared in its body, rustc's `{closure#0}` of the fn), the fn's path
/// (`Client::get`); `None` for any other path. Generics are kept as given.
pub fn in_async_fn_body(path: &str) -> Option<&str> {
    let start = *top_level_segments(path).last()?;
    let last = &path[start..];
    let n = last.strip_prefix("{closure#")?.strip_suffix('}')?;
    (start >= 2 && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then(|| &path[..start - 2])
}

/// Whether a type is a future already on the heap: `Pin<Box<..>>` (what `#[async_trait]`
/// methods return) or `Box<..>`, however rustc spells the paths.
pub fn is_boxed(ty: &str) -> bool {
    let base = |t: &str| last_segment(split_generics(t).0).to_string();
    match split_generics(ty) {
        (b, Some(args)) if last_segment(b) == "Pin" => split_args(args).first().is_some_and(|a| base(a) == "Box"),
        (b, Some(_)) => last_segment(b) == "Box",
        _ => false,
    }
}

/// Order of states as rustc prints them for coroutines: `Unresumed`, `Suspend0`.., `Returned`,
/// `Panicked`, then anything else by name.
pub fn state_rank(name: &str) -> (u8, u64, String) {
    match name {
        "Unresumed" => (0, 0, String::new()),
        "Returned" => (2, 0, String::new()),
        "Panicked" => (3, 0, String::new()),
        _ => match suspend_index(name) {
            Some(n) => (1, n as u64, String::new()),
            None => (4, 0, name.to_string()),
        },
    }
}

/// `Suspend3` -> 3.
pub fn suspend_index(name: &str) -> Option<usize> {
    name.strip_prefix("Suspend")?.parse().ok()
}

/// A spelling-independent key for a type name: every path is cut to the segments that are not
/// modules. rustc spells one type differently in different places: `std::marker::Sync` in a
/// layout's own name, `Sync` in a field type; `clients::buffered_client::Command` there,
/// `buffered_client::Command` here. Modules are recognised by convention (a lower-case segment
/// followed by `::` and another identifier); what is left (`Sender<(Command, Box<dyn Error +
/// Send>)>::send`) is the same for every spelling. Locations (`src/lib.rs:3:5: 3:15`) are kept.
pub fn canonical(name: &str) -> String {
    let b = name.as_bytes();
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let ident = &name[start..i];
            let followed_by_path = name[i..].starts_with("::")
                && name[i + 2..].bytes().next().is_some_and(|n| n.is_ascii_alphabetic() || n == b'_');
            let module = followed_by_path && ident.bytes().next().is_some_and(|f| f.is_ascii_lowercase() || f == b'_');
            if module {
                i += 2;
                continue;
            }
            out.push_str(ident);
        } else {
            out.push(c as char);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machines_inside_an_async_fns_body() {
        assert_eq!(in_async_fn_body("clients::client::Client::get::{closure#0}"), Some("clients::client::Client::get"));
        assert_eq!(in_async_fn_body("run<u8>::{closure#1}"), Some("run<u8>"));
        assert_eq!(in_async_fn_body("clients::client::Client::get"), None);
        assert_eq!(in_async_fn_body("{closure#0}"), None);
        assert_eq!(in_async_fn_body("f::{closure@src/lib.rs:1:1: 1:2}"), None);
    }

    #[test]
    fn generics_and_paths() {
        let (b, a) = split_generics("unasync::__private::Machine<a::f::__Frame<u8, V<()>>, {closure@src/lib.rs:1:1: 1:11}>");
        assert_eq!(b, "unasync::__private::Machine");
        assert_eq!(split_args(a.unwrap()), ["a::f::__Frame<u8, V<()>>", "{closure@src/lib.rs:1:1: 1:11}"]);
        assert_eq!(split_generics("<a::D as a::S>::call::__Frame<fn() -> u8>").0, "<a::D as a::S>::call::__Frame");
        assert_eq!(split_generics("<a::D as a::S>::call::__Frame"), ("<a::D as a::S>::call::__Frame", None));
        assert_eq!(source_path("<native::m::D as native::m::S>::call"), "native::m::D::call");
        assert_eq!(source_path("native::b::generic<u8>"), "native::b::generic");
        assert_eq!(trait_path("<net::Conn as Service>::call_twice").as_deref(), Some("Service::call_twice"));
        assert_eq!(last_segment("a::Sender<x::Y>::send"), "send");
        assert!(is_boxed("Pin<Box<dyn Future<Output = u64> + Send>>"));
        assert!(is_boxed("std::pin::Pin<std::boxed::Box<dyn std::future::Future<Output = ()> + std::marker::Send>>"));
        assert!(is_boxed("Box<{async fn body of f()}>"));
        assert!(!is_boxed("Pin<&mut {async fn body of f()}>"));
        assert!(!is_boxed("{async fn body of Box::new()}"));
    }

    #[test]
    fn canonical_spellings_agree() {
        // Spellings taken from mini-redis's build (a layout's name and the field type naming it).
        let full = "{async fn body of tokio::sync::mpsc::Sender<(clients::buffered_client::Command, tokio::sync::oneshot::Sender<std::result::Result<std::option::Option<bytes::bytes::Bytes>, std::boxed::Box<dyn std::error::Error + std::marker::Send + std::marker::Sync>>>)>::send()}";
        let trimmed = "{async fn body of tokio::sync::mpsc::Sender<(buffered_client::Command, tokio::sync::oneshot::Sender<std::result::Result<Option<bytes::Bytes>, Box<dyn std::error::Error + Send + Sync>>>)>::send()}";
        assert_eq!(canonical(full), canonical(trimmed));
        assert_eq!(
            canonical(trimmed),
            "{async fn body of Sender<(Command, Sender<Result<Option<Bytes>, Box<dyn Error + Send + Sync>>>)>::send()}"
        );
        assert_eq!(
            canonical("{async fn body of run<{async fn body of signal::ctrl_c::ctrl_c()}>()}"),
            canonical("{async fn body of mini_redis::server::run<{async fn body of tokio::signal::ctrl_c::ctrl_c()}>()}")
        );
        // Locations and type names are left alone; different types stay different.
        assert_eq!(canonical("{async block@src/lib.rs:3:5: 3:15}"), "{async block@src/lib.rs:3:5: 3:15}");
        assert_ne!(canonical("a::Conn::read"), canonical("a::Conn::write"));
        assert_eq!(canonical("Connection::read_frame"), "Connection::read_frame");
    }
}
