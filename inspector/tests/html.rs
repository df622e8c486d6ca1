//! The HTML report in headless Chromium: every future of the demo crate is drawn, the script
//! runs (sorting by `#sort=KEY`), and a screenshot is not blank. Skipped, with the reason
//! printed, when Chromium is absent, unless UNASYNC_REQUIRE_CHROMIUM is set (CI sets it after
//! installing Debian's `chromium`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    let candidates = [std::env::var_os("CHROMIUM").map(PathBuf::from), Some("/usr/bin/chromium".into()), Some("/usr/bin/chromium-browser".into())];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

fn headless(chrome: &Path, profile: &Path) -> Command {
    let mut c = Command::new(chrome);
    c.args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"])
        .args(["--disable-component-update", "--disable-sync", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.display()));
    c
}

fn inspect(format: &str) -> Vec<u8> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/crates/demo/Cargo.toml");
    let o = Command::new(env!("CARGO_BIN_EXE_cargo-unasync"))
        .args(["inspect", "--format", format, "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-demo"))
        .env_remove("RUSTC_WRAPPER")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

#[test]
fn report_renders_in_headless_chromium() {
    let Some(chrome) = chromium() else {
        assert!(std::env::var_os("UNASYNC_REQUIRE_CHROMIUM").is_none(), "UNASYNC_REQUIRE_CHROMIUM is set but no chromium found");
        eprintln!("skipped: no chromium (apt-get install chromium, or set CHROMIUM=path)");
        return;
    };
    let json: serde_json::Value = serde_json::from_slice(&inspect("json")).unwrap();
    let types: Vec<String> = json["futures"].as_array().unwrap().iter().map(|f| f["type"].as_str().unwrap().to_string()).collect();
    let html = inspect("html");
    let text = String::from_utf8(html.clone()).unwrap();
    assert!(!text.contains("http://") && !text.contains("https://") && !text.contains("src=\""), "self-contained: no network");

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("report.html");
    std::fs::write(&page, &html).unwrap();
    let url = format!("file://{}#sort=name", page.display());

    let o = headless(&chrome, &dir.join("profile-dom")).args(["--dump-dom", &url]).output().unwrap();
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(dom.contains("data-ready=\"1\""), "the script ran: {}", String::from_utf8_lossy(&o.stderr));
    assert!(dom.contains("data-sorted=\"name\""), "sorted by #sort=name");
    // Every future has its section, with a byte map holding at least one field box, in the DOM
    // Chromium built (escaped as the page writes attribute values).
    for ty in &types {
        let attr = ty.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
        let at = dom.find(&format!("data-type=\"{attr}\"")).unwrap_or_else(|| panic!("{ty} not drawn"));
        let section = &dom[at..dom[at..].find("</section>").map(|e| at + e).unwrap()];
        assert!(section.contains("<svg class=\"map\""), "{ty}: no byte map");
        assert!(section.contains("class=\"shared\""), "{ty}: no shared-bytes row");
    }
    // Sorted by name: the table's rows in the DOM are in name order.
    let names: Vec<&str> = dom.split("<tr data-size=").skip(1).map(|r| r.split("data-name=\"").nth(1).unwrap().split('"').next().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|a| a.to_lowercase());
    assert_eq!(names.len(), types.len());
    assert_eq!(names.first(), sorted.first(), "{names:?}");

    let shot = dir.join("shot.png");
    let o = headless(&chrome, &dir.join("profile-shot"))
        .arg(format!("--screenshot={}", shot.display()))
        .args(["--window-size=1200,1400", &url])
        .output()
        .unwrap();
    assert!(shot.is_file(), "no screenshot: {}", String::from_utf8_lossy(&o.stderr));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(px).collect();
    let non_white = pixels.iter().filter(|p| p[..3].iter().any(|&c| c < 200)).count();
    let mut colours: Vec<[u8; 3]> = pixels.iter().map(|p| [p[0] & 0xf0, p[1] & 0xf0, p[2] & 0xf0]).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(non_white * 50 > pixels.len(), "screenshot nearly blank: {non_white} of {} pixels drawn", pixels.len());
    assert!(colours.len() >= 8, "screenshot has {} colours", colours.len());
}
