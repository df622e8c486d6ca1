//! End-to-end: `cargo unasync snapshot DIR` on a crate written here, edited between runs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use cargo_unasync::analyse::prepare;
use cargo_unasync::parse::layout::parse_str;
use cargo_unasync::render::snapshot::{file, stored_body};
use common::{run, stderr};

/// The crate's library: `grows` holds a `[u8; BUF]`; `HEADER` goes first (moving every line).
fn lib(buf: usize, header: &str) -> String {
    let src = r#"pub struct Yield(bool);
impl std::future::Future for Yield {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 { std::task::Poll::Ready(()) } else { self.0 = true; cx.waker().wake_by_ref(); std::task::Poll::Pending }
    }
}

pub async fn small(x: u32) -> u32 {
    let a = [x; 4];
    Yield(false).await;
    a[1]
}

pub async fn grows(x: u8) -> u8 {
    let buf = [x; BUF];
    Yield(false).await;
    async { Yield(false).await }.await;
    buf[3]
}

#[unasync::desugar]
pub async fn lowered(x: u64) -> u64 {
    let kept = [x; 4];
    Yield(false).await;
    kept[1]
}
"#;
    format!("{header}{}", src.replace("BUF", &buf.to_string()))
}

struct Crate {
    dir: PathBuf,
}

impl Crate {
    fn new() -> Crate {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("snapcrate");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let unasync = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let manifest = format!(
            "[package]\nname = \"snapcrate\"\nversion = \"0.1.0\"\nedition = \"2024\"\n[workspace]\n[dependencies]\nunasync = {{ path = {:?} }}\n",
            unasync.display().to_string()
        );
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        Crate { dir }
    }

    fn write(&self, src: &str) {
        std::fs::write(self.dir.join("src/lib.rs"), src).unwrap();
    }

    fn snaps(&self) -> PathBuf {
        self.dir.join("futures")
    }

    fn snapshot(&self, extra: &[&str]) -> Output {
        let (snaps, manifest) = (self.snaps(), self.dir.join("Cargo.toml"));
        let mut args = vec!["snapshot", snaps.to_str().unwrap(), "--manifest-path", manifest.to_str().unwrap()];
        args.extend_from_slice(extra);
        run(&args, "-", &[])
    }

    fn files(&self, suffix: &str) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.snaps())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(suffix))
            .collect();
        v.sort();
        v
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.snaps().join(name)).unwrap()
    }
}

/// Whether `text` has a generated type name with its hash left in (`__State_0a1b2c3d`).
fn has_hash(text: &str) -> bool {
    ["__State_", "__Frame_"].iter().any(|p| {
        text.match_indices(p).any(|(i, _)| {
            let rest = &text[i + p.len()..];
            rest.len() >= 8 && rest.bytes().take(8).all(|b| b.is_ascii_hexdigit())
        })
    })
}

#[test]
fn snapshot_then_an_edit_that_grows_one_future_changes_only_its_snapshot() {
    let c = Crate::new();
    c.write(&lib(100, ""));
    let o = c.snapshot(&["--accept"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        c.files(".snap"),
        ["snapcrate__grows.snap", "snapcrate__grows__async_block_0.snap", "snapcrate__lowered.snap", "snapcrate__small.snap"]
    );
    let grows = c.read("snapcrate__grows.snap");
    assert!(grows.starts_with("---\nsource: cargo-unasync snapshot\nexpression: \"grows\"\n"), "{grows}");
    assert!(grows.contains("Suspend0 ") && grows.contains("at +2 Yield(false)"), "{grows}");
    assert!(!grows.contains("expansion"), "only desugared fns have one:\n{grows}");

    // The desugared fn: its layout, then its expansion, pretty-printed, the hashes in the
    // generated types' names replaced.
    let lowered = c.read("snapcrate__lowered.snap");
    assert!(lowered.contains("\n---\n#[unasync::desugar] fn lowered\n"), "{lowered}");
    let (layout, expansion) = lowered.split_once("\nexpansion (rustc -Zunpretty=expanded, pretty-printed):\n").expect(&lowered);
    assert!(layout.contains("\nsize: ") && layout.contains("\nUnresumed "), "{lowered}");
    assert!(expansion.contains("fn lowered(x: u64)"), "{expansion}");
    assert!(expansion.contains("let kept = [x; 4];"), "the body as written is in the expansion:\n{expansion}");
    assert!(expansion.contains("__State_<hash>"), "{expansion}");
    assert!(!has_hash(&lowered), "{lowered}");
    assert_eq!(c.snapshot(&["--check"]).status.code(), Some(0), "unchanged");

    // Unrelated lines above everything, and one future grows: only its snapshot differs.
    c.write(&lib(300, "// a comment\n// moving every line\n"));
    let o = c.snapshot(&["--check"]);
    assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
    assert!(stderr(&o).contains("changed: snapcrate__grows\n"), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 changed, 0 new, 0 gone"), "{}", stderr(&o));
    assert!(!c.snaps().join("snapcrate__grows.snap.new").exists(), "--check writes nothing");
    let o = c.snapshot(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(c.files(".snap.new"), ["snapcrate__grows.snap.new"], "what `cargo insta review` will show");
    let new = c.read("snapcrate__grows.snap.new");
    assert!(grows.contains("buf local (+1)") && new.contains("buf local (+1)"));
    assert!(new.contains("   300  buf local"), "{new}");
}

#[test]
fn insta_reads_the_files_as_written() {
    // insta's own reader (the `insta` crate `cargo insta` is built on, same version) on files
    // written for the futures of a sample, with an expression that needs quoting and escaping.
    let mut fs = parse_str(include_str!("samples/rustc-1.95-desugared.txt"));
    prepare(&mut fs);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("insta-format");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, f) in fs.iter().enumerate() {
        let expression = format!(r#"Mem::get::{{#[async_trait] body}} "{i}" C:\src"#);
        let text = file(f, &expression, Some("fn x() {}\n"));
        let path = dir.join(format!("x__{i}.snap"));
        std::fs::write(&path, &text).unwrap();
        let snap = insta::Snapshot::from_file(&path).unwrap();
        assert_eq!(snap.metadata().expression(), Some(expression.as_str()));
        assert_eq!(snap.metadata().source(), Some("cargo-unasync snapshot"));
        // What insta compares and saves: the body, trailing whitespace trimmed, then a newline.
        let contents = snap.contents().as_text().unwrap().to_string();
        assert_eq!(format!("{contents}\n"), stored_body(&text).unwrap());
    }
}
