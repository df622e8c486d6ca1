//! The scratch copy's manifest: standalone, absolute paths, what a workspace member inherits
//! written out, `unasync` available.

use std::path::Path;

use crate::error::{Error, Exit};

/// The workspace a member package inherits from (`workspace = true`): the root manifest and its
/// directory (paths in it are relative to that directory).
pub struct WorkspaceRoot<'a> {
    pub manifest: &'a toml::Table,
    pub dir: &'a Path,
}

impl WorkspaceRoot<'_> {
    fn section(&self, key: &str) -> Option<&toml::Table> {
        self.manifest.get("workspace")?.as_table()?.get(key)?.as_table()
    }
}

fn inherits(v: &toml::Value) -> bool {
    v.as_table().and_then(|t| t.get("workspace")).and_then(|w| w.as_bool()) == Some(true)
}

fn absolutize_path(v: &mut toml::Value, base: &Path) {
    if let Some(t) = v.as_table_mut()
        && let Some(toml::Value::String(p)) = t.get_mut("path")
        && Path::new(p.as_str()).is_relative()
    {
        *p = base.join(&*p).to_string_lossy().into_owned();
    }
}

/// `name = { workspace = true, features = [..], optional = true }` with the workspace's entry
/// for `name`: its fields (a relative `path` made absolute against the workspace root), plus the
/// member's `features` (added) and other keys (`optional`, ...).
fn inherit_dep(name: &str, member: &toml::Table, ws: &WorkspaceRoot<'_>) -> Result<toml::Value, Error> {
    let base = ws.section("dependencies").and_then(|d| d.get(name)).ok_or_else(|| {
        Error::new(
            Exit::NotCargoProject,
            format!(
                "compare: dependency `{name}` is inherited (`workspace = true`) but {} has no [workspace.dependencies] entry for it",
                ws.dir.join("Cargo.toml").display()
            ),
        )
    })?;
    let mut t = match base {
        toml::Value::String(v) => {
            let mut t = toml::Table::new();
            t.insert("version".into(), v.clone().into());
            t
        }
        toml::Value::Table(t) => t.clone(),
        other => {
            return Err(Error::new(Exit::NotCargoProject, format!("compare: [workspace.dependencies] {name} = {other} is not a dependency")));
        }
    };
    let mut v = toml::Value::Table(std::mem::take(&mut t));
    absolutize_path(&mut v, ws.dir);
    let t = v.as_table_mut().expect("a table");
    for (k, mv) in member {
        match k.as_str() {
            "workspace" => {}
            "features" => {
                let mut fs: Vec<toml::Value> = t.get("features").and_then(|f| f.as_array()).cloned().unwrap_or_default();
                for f in mv.as_array().into_iter().flatten() {
                    if !fs.contains(f) {
                        fs.push(f.clone());
                    }
                }
                t.insert("features".into(), toml::Value::Array(fs));
            }
            _ => {
                t.insert(k.clone(), mv.clone());
            }
        }
    }
    Ok(v)
}

/// Makes relative `path` dependencies absolute against `base` and resolves inherited ones.
fn absolutize_deps(t: &mut toml::Table, base: &Path, ws: Option<&WorkspaceRoot<'_>>) -> Result<(), Error> {
    for key in ["dependencies", "dev-dependencies", "build-dependencies", "dev_dependencies", "build_dependencies"] {
        if let Some(toml::Value::Table(deps)) = t.get_mut(key) {
            for (name, d) in deps.iter_mut() {
                if inherits(d) {
                    let Some(ws) = ws else {
                        return Err(Error::new(
                            Exit::NotCargoProject,
                            format!("compare: dependency `{name}` is inherited (`workspace = true`) but the package is in no workspace"),
                        ));
                    };
                    let member = d.as_table().cloned().unwrap_or_default();
                    *d = inherit_dep(name, &member, ws)?;
                } else {
                    absolutize_path(d, base);
                }
            }
        }
    }
    if let Some(toml::Value::Table(targets)) = t.get_mut("target") {
        for (_, tt) in targets.iter_mut() {
            if let toml::Value::Table(tt) = tt {
                absolutize_deps(tt, base, ws)?;
            }
        }
    }
    Ok(())
}

/// Keys of `[package]` whose value is a path relative to the manifest.
const PACKAGE_PATHS: [&str; 3] = ["readme", "license-file", "build"];

/// The copy's manifest: standalone workspace, absolute paths, `unasync` available, and what the
/// package inherits from its workspace (`ws`: `[workspace.package]` fields, `[workspace.dependencies]`,
/// `[workspace.lints]`; the workspace's `[patch]` and `resolver` are carried over too) written out.
pub fn rewrite_manifest(
    text: &str,
    pkg: &cargo_metadata::Package,
    pkg_dir: &Path,
    unasync: &Path,
    ws: Option<&WorkspaceRoot<'_>>,
) -> Result<String, Error> {
    let mut t: toml::Table = text
        .parse()
        .map_err(|e| Error::new(Exit::NotCargoProject, format!("compare: cannot parse {}: {e}", pkg_dir.join("Cargo.toml").display())))?;
    if let Some(toml::Value::Table(p)) = t.get_mut("package") {
        p.remove("workspace");
        let inherited: Vec<String> = p.iter().filter(|(_, v)| inherits(v)).map(|(k, _)| k.clone()).collect();
        for k in inherited {
            let from_ws = ws.and_then(|w| w.section("package")).and_then(|wp| wp.get(&k)).cloned();
            match (k.as_str(), from_ws) {
                (_, Some(mut v)) => {
                    if PACKAGE_PATHS.contains(&k.as_str())
                        && let toml::Value::String(s) = &mut v
                        && Path::new(s.as_str()).is_relative()
                    {
                        *s = ws.expect("found in it").dir.join(&*s).to_string_lossy().into_owned();
                    }
                    p.insert(k, v);
                }
                ("version", None) => {
                    p.insert(k, pkg.version.to_string().into());
                }
                ("edition", None) => {
                    p.insert(k, pkg.edition.as_str().into());
                }
                _ => {
                    p.remove(&k);
                }
            }
        }
        // The copy lives elsewhere: paths relative to the package become absolute.
        for k in PACKAGE_PATHS {
            if let Some(toml::Value::String(s)) = p.get_mut(k)
                && Path::new(s.as_str()).is_relative()
            {
                *s = pkg_dir.join(&*s).to_string_lossy().into_owned();
            }
        }
    }
    absolutize_deps(&mut t, pkg_dir, ws)?;
    if t.get("lints").is_some_and(inherits) {
        match ws.and_then(|w| w.section("lints")) {
            Some(l) => t.insert("lints".into(), toml::Value::Table(l.clone())),
            None => t.remove("lints"),
        };
    }
    let has_unasync = pkg.dependencies.iter().any(|d| d.name == "unasync" || d.rename.as_deref() == Some("unasync"));
    if !has_unasync {
        let deps = t.entry("dependencies").or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(deps) = deps {
            let mut d = toml::Table::new();
            d.insert("path".into(), unasync.to_string_lossy().into_owned().into());
            deps.insert("unasync".into(), toml::Value::Table(d));
        }
    }
    let mut workspace = toml::Table::new();
    if let Some(w) = ws {
        if let Some(r) = w.manifest.get("workspace").and_then(|x| x.get("resolver")) {
            workspace.insert("resolver".into(), r.clone());
        }
        // `[patch]` only applies at the root: the copy is its own root now.
        if let Some(toml::Value::Table(patch)) = w.manifest.get("patch")
            && !t.contains_key("patch")
        {
            let mut patch = patch.clone();
            for (_, src) in patch.iter_mut() {
                if let toml::Value::Table(src) = src {
                    for (_, d) in src.iter_mut() {
                        absolutize_path(d, w.dir);
                    }
                }
            }
            t.insert("patch".into(), toml::Value::Table(patch));
        }
    }
    t.remove("workspace");
    t.insert("workspace".into(), toml::Value::Table(workspace));
    toml::to_string(&t).map_err(|e| Error::new(Exit::Internal, format!("compare: writing the manifest: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inherited_manifest_fields_are_written_out() {
        let root: toml::Table = r#"
            [workspace]
            members = ["m"]
            resolver = "2"
            [workspace.package]
            version = "1.2.3"
            edition = "2021"
            readme = "README.md"
            [workspace.dependencies]
            tokio = { version = "1", features = ["rt"] }
            serde = "1"
            local = { path = "crates/local" }
            [workspace.lints.clippy]
            all = "warn"
            [patch.crates-io]
            foo = { path = "patches/foo" }
        "#
        .parse()
        .unwrap();
        let ws = WorkspaceRoot { manifest: &root, dir: Path::new("/ws") };
        let member = r#"
            [package]
            name = "m"
            version.workspace = true
            edition.workspace = true
            readme.workspace = true
            rust-version.workspace = true
            [dependencies]
            tokio = { workspace = true, features = ["macros"], optional = true }
            serde.workspace = true
            local.workspace = true
            [target.'cfg(unix)'.dev-dependencies]
            serde = { workspace = true }
            [lints]
            workspace = true
        "#;
        let meta = r#"{"name":"m","version":"1.2.3","id":"m 1.2.3","source":null,"dependencies":[],"targets":[],
            "features":{},"manifest_path":"/ws/m/Cargo.toml","edition":"2021","metadata":null,"license":null,
            "license_file":null,"description":null,"authors":[],"categories":[],"keywords":[],"readme":null,
            "repository":null,"homepage":null,"documentation":null,"links":null,"publish":null,"default_run":null,
            "rust_version":null}"#;
        let pkg: cargo_metadata::Package = serde_json::from_str(meta).unwrap();
        let out = rewrite_manifest(member, &pkg, Path::new("/ws/m"), Path::new("/u"), Some(&ws)).unwrap();
        let t: toml::Table = out.parse().unwrap();
        let p = &t["package"];
        assert_eq!(p["version"].as_str(), Some("1.2.3"));
        assert_eq!(p["edition"].as_str(), Some("2021"));
        assert_eq!(p["readme"].as_str(), Some("/ws/README.md"));
        assert!(p.get("rust-version").is_none(), "{out}");
        let d = &t["dependencies"];
        assert_eq!(d["tokio"]["version"].as_str(), Some("1"));
        assert_eq!(d["tokio"]["features"].as_array().unwrap().len(), 2);
        assert_eq!(d["tokio"]["optional"].as_bool(), Some(true));
        assert_eq!(d["serde"]["version"].as_str(), Some("1"));
        assert_eq!(d["local"]["path"].as_str(), Some("/ws/crates/local"));
        assert_eq!(d["unasync"]["path"].as_str(), Some("/u"));
        assert_eq!(t["target"]["cfg(unix)"]["dev-dependencies"]["serde"]["version"].as_str(), Some("1"));
        assert_eq!(t["lints"]["clippy"]["all"].as_str(), Some("warn"));
        assert_eq!(t["patch"]["crates-io"]["foo"]["path"].as_str(), Some("/ws/patches/foo"));
        assert_eq!(t["workspace"]["resolver"].as_str(), Some("2"));
        assert!(!out.contains("workspace = true"), "{out}");
        // Outside a workspace, an inherited dependency is an error that says so.
        let e = rewrite_manifest(member, &pkg, Path::new("/ws/m"), Path::new("/u"), None).unwrap_err();
        assert!(e.message.contains("in no workspace"), "{}", e.message);
    }
}
