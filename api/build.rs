//! Embeds the web app (`../web`) at compile time: every file but the entry points
//! (`index.html`, `sw.js`) gets a content-hashed name (`/js/app.3f2a9c01d2.js`), references
//! between files are rewritten to those names (leaves first, so a change anywhere changes the
//! names of everything that refers to it), and each file is also stored gzip'd.
//! `api/src/web.rs` serves the table this writes to `$OUT_DIR/web_assets.rs`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Served under their own names, never cached without asking (`no-cache`).
const ENTRY_POINTS: [&str; 3] = ["/index.html", "/sw.js", "/verificar.html"];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let web = manifest.join("../web");
    println!("cargo:rerun-if-changed={}", web.display());
    let mut files = BTreeMap::new();
    collect(&web, &web, &mut files);
    for path in files.keys() {
        println!("cargo:rerun-if-changed={}", web.join(&path[1..]).display());
    }

    // Hash leaves first: a file is done once every asset it names is done.
    let mut hashed: BTreeMap<String, String> = BTreeMap::new(); // original → served path
    let mut contents: BTreeMap<String, Vec<u8>> = BTreeMap::new(); // served path → bytes
    let mut pending: Vec<String> = files.keys().cloned().collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut still = Vec::new();
        for path in pending {
            let raw = &files[&path];
            let refs = references(&path, raw, &files);
            // The service worker lists the whole shell, so it comes last.
            let waits_for_shell = path == "/sw.js" && hashed.len() + 1 < files.len();
            if waits_for_shell || refs.iter().any(|r| !hashed.contains_key(r) && *r != path) {
                still.push(path);
                continue;
            }
            let mut body = raw.clone();
            if is_text(&path) {
                let mut text = String::from_utf8(body).expect("web files are UTF-8");
                for r in &refs {
                    if let Some(to) = hashed.get(r) {
                        for (open, close) in [("\"", "\""), ("'", "'"), ("(", ")")] {
                            text = text.replace(
                                &format!("{open}{r}{close}"),
                                &format!("{open}{to}{close}"),
                            );
                        }
                    }
                }
                if path == "/sw.js" {
                    let shell: Vec<String> = std::iter::once("/".to_string())
                        .chain(
                            hashed
                                .values()
                                .filter(|p| !ENTRY_POINTS.contains(&p.as_str()))
                                .cloned(),
                        )
                        .collect();
                    let version =
                        hex(&Sha256::digest(shell.join("\n").as_bytes()))[..10].to_string();
                    text = text
                        .replace("__SHELL__", &format!("{shell:?}"))
                        .replace("__VERSION__", &version);
                }
                body = text.into_bytes();
            }
            let served = if ENTRY_POINTS.contains(&path.as_str()) {
                path.clone()
            } else {
                let digest = hex(&Sha256::digest(&body));
                let (stem, ext) = path.rsplit_once('.').expect("web files have an extension");
                format!("{stem}.{}.{ext}", &digest[..10])
            };
            hashed.insert(path.clone(), served.clone());
            contents.insert(served, body);
        }
        assert!(
            still.len() < before || still.is_empty(),
            "web files refer to each other in a cycle: {still:?}"
        );
        pending = still;
    }

    let out = PathBuf::from(std::env::var("OUT_DIR").expect("out dir"));
    let mut table =
        String::from("/// Every file of `web/`, as served.\nstatic ASSETS: &[Asset] = &[\n");
    for (served, body) in &contents {
        let name = served.trim_start_matches('/').replace(['/', '.'], "_");
        let raw_file = out.join(format!("web_{name}"));
        let gz_file = out.join(format!("web_{name}.gz"));
        std::fs::write(&raw_file, body).expect("write asset");
        // Images are compressed already: no gzip'd copy (empty).
        let gzipped = if is_text(served) {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gz.write_all(body).expect("gzip");
            gz.finish().expect("gzip")
        } else {
            Vec::new()
        };
        std::fs::write(&gz_file, gzipped).expect("write gzip");
        let url = match served.as_str() {
            "/index.html" => "/",
            // The public verification page, at an address fit to print on paper.
            "/verificar.html" => "/verificar",
            other => other,
        };
        let immutable = !ENTRY_POINTS.contains(&served.as_str());
        table.push_str(&format!(
            "    Asset {{ path: {url:?}, content_type: {:?}, immutable: {immutable}, body: include_bytes!({:?}), gzip: include_bytes!({:?}) }},\n",
            content_type(served),
            raw_file.display().to_string(),
            gz_file.display().to_string(),
        ));
    }
    table.push_str("];\n");
    std::fs::write(out.join("web_assets.rs"), table).expect("write table");
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let rel = path
                .strip_prefix(root)
                .expect("under web/")
                .to_string_lossy()
                .replace('\\', "/");
            files.insert(
                format!("/{rel}"),
                std::fs::read(&path).expect("read web file"),
            );
        }
    }
}

/// The other web files this one names, as `"/js/x.js"`, `'/js/x.js'` or `(/icons/x.svg)`.
fn references(path: &str, raw: &[u8], files: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    if !is_text(path) {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(raw);
    files
        .keys()
        .filter(|other| *other != path && !ENTRY_POINTS.contains(&other.as_str()))
        .filter(|other| {
            [("\"", "\""), ("'", "'"), ("(", ")")]
                .iter()
                .any(|(o, c)| text.contains(&format!("{o}{other}{c}")))
        })
        .cloned()
        .collect()
}

fn is_text(path: &str) -> bool {
    [".html", ".js", ".css", ".webmanifest", ".svg", ".json"]
        .iter()
        .any(|e| path.ends_with(e))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, e)| e) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("webmanifest") => "application/manifest+json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
