//! A small DevTools-protocol client for the browser tests: starts Debian's `chromium`
//! (or `$VEREDA_CHROMIUM`) headless with a temporary profile and `--remote-debugging-port=0`,
//! reads the DevTools address from its stderr, and drives pages over one WebSocket.
//!
//! When no Chromium is found, [`Browser::launch`] prints a notice and returns `None` (the test
//! then passes without doing anything), unless `VEREDA_REQUIRE_BROWSER=1`, when it panics.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{Mutex, broadcast, mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, String>>>>>;

/// The DevTools connection shared by a browser's pages.
struct Conn {
    out: mpsc::UnboundedSender<String>,
    pending: Pending,
    events: broadcast::Sender<Value>,
    next_id: AtomicU64,
}

impl Conn {
    async fn call(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> anyhow::Result<Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let (tx, rx) = oneshot::channel();
        self.pending.lock().await.insert(id, tx);
        self.out
            .send(msg.to_string())
            .map_err(|_| anyhow::anyhow!("browser connection closed"))?;
        match tokio::time::timeout(Duration::from_secs(90), rx).await {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(e))) => Err(anyhow::anyhow!("{method}: {e}")),
            Ok(Err(_)) => Err(anyhow::anyhow!("{method}: browser connection closed")),
            Err(_) => Err(anyhow::anyhow!("{method}: no answer in 90 s")),
        }
    }
}

/// A headless Chromium, killed when dropped.
pub struct Browser {
    child: tokio::process::Child,
    conn: Arc<Conn>,
    _profile: tempfile::TempDir,
}

/// Where Chromium is: `$VEREDA_CHROMIUM`, else the first of Debian's names on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("VEREDA_CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

pub fn browser_required() -> bool {
    std::env::var("VEREDA_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

impl Browser {
    /// Start Chromium, or say why not (see the module's notes).
    pub async fn launch(test: &str) -> Option<Browser> {
        let Some(exe) = find_chromium() else {
            if browser_required() {
                panic!(
                    "{test}: no Chromium found (install Debian's `chromium` or set VEREDA_CHROMIUM) \
                     and VEREDA_REQUIRE_BROWSER=1"
                );
            }
            // Straight to stderr, past the test harness's capture, so it shows in every run.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "NOTICE {test}: skipped, no Chromium found (install Debian's `chromium` or set \
                 VEREDA_CHROMIUM; VEREDA_REQUIRE_BROWSER=1 makes this a failure)"
            );
            return None;
        };
        Some(Self::start(&exe).await.expect("start Chromium"))
    }

    async fn start(exe: &Path) -> anyhow::Result<Browser> {
        let profile = tempfile::Builder::new()
            .prefix("vereda-chromium-")
            .tempdir()?;
        let mut child = tokio::process::Command::new(exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--remote-debugging-port=0",
                "--remote-debugging-address=127.0.0.1",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-features=Translate,MediaRouter,OptimizationHints",
                "--metrics-recording-only",
                "--mute-audio",
                "--hide-scrollbars",
                "--lang=es-CO",
                "--window-size=360,740",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stderr = child.stderr.take().expect("stderr piped");
        let mut lines = BufReader::new(stderr).lines();
        let ws_url = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(i) = line.find("ws://") {
                    return Ok::<_, anyhow::Error>(line[i..].trim().to_string());
                }
            }
            anyhow::bail!("Chromium exited before printing its DevTools address")
        })
        .await
        .map_err(|_| anyhow::anyhow!("Chromium printed no DevTools address in 60 s"))??;
        // Keep reading its stderr so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        let (ws, _) = tokio_tungstenite::connect_async(ws_url.as_str()).await?;
        let (mut sink, mut stream) = ws.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(text) = out_rx.recv().await {
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let (events, _) = broadcast::channel(4096);
        let conn = Arc::new(Conn {
            out,
            pending: pending.clone(),
            events: events.clone(),
            next_id: AtomicU64::new(1),
        });
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(text) = msg else { continue };
                let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                if let Some(id) = v["id"].as_u64() {
                    if let Some(tx) = pending.lock().await.remove(&id) {
                        let answer = if v["error"].is_null() {
                            Ok(v["result"].clone())
                        } else {
                            Err(v["error"].to_string())
                        };
                        let _ = tx.send(answer);
                    }
                } else {
                    let _ = events.send(v);
                }
            }
            pending.lock().await.clear();
        });
        Ok(Browser {
            child,
            conn,
            _profile: profile,
        })
    }

    /// A new tab, with the domains the tests use enabled.
    pub async fn new_page(&self) -> Page {
        let target = self
            .conn
            .call(None, "Target.createTarget", json!({"url": "about:blank"}))
            .await
            .expect("create tab");
        let target_id = target["targetId"].as_str().expect("targetId").to_string();
        let attached = self
            .conn
            .call(
                None,
                "Target.attachToTarget",
                json!({"targetId": target_id, "flatten": true}),
            )
            .await
            .expect("attach to tab");
        let session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        let page = Page {
            conn: self.conn.clone(),
            session,
            bytes: Arc::new(AtomicU64::new(0)),
            requests: Arc::new(AtomicU64::new(0)),
            errors: Arc::new(std::sync::Mutex::new(Vec::new())),
        };
        for domain in ["Page.enable", "Runtime.enable", "Network.enable"] {
            page.cmd(domain, json!({})).await.expect(domain);
        }
        page.watch();
        page
    }

    pub async fn close(mut self) {
        let _ = self.conn.call(None, "Browser.close", json!({})).await;
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        let _ = self.child.kill().await;
    }
}

/// One tab.
pub struct Page {
    conn: Arc<Conn>,
    session: String,
    bytes: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
    errors: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Page {
    pub async fn cmd(&self, method: &str, params: Value) -> anyhow::Result<Value> {
        self.conn.call(Some(&self.session), method, params).await
    }

    /// Background: count bytes on the wire, accept dialogs, keep uncaught script errors.
    fn watch(&self) {
        let mut rx = self.conn.events.subscribe();
        let session = self.session.clone();
        let bytes = self.bytes.clone();
        let requests = self.requests.clone();
        let errors = self.errors.clone();
        let conn = self.conn.clone();
        tokio::spawn(async move {
            loop {
                let ev = match rx.recv().await {
                    Ok(ev) => ev,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => break,
                };
                if ev["sessionId"].as_str() != Some(session.as_str()) {
                    continue;
                }
                match ev["method"].as_str().unwrap_or("") {
                    "Network.loadingFinished" => {
                        let n = ev["params"]["encodedDataLength"].as_f64().unwrap_or(0.0);
                        bytes.fetch_add(n as u64, Ordering::Relaxed);
                        requests.fetch_add(1, Ordering::Relaxed);
                    }
                    "Page.javascriptDialogOpening" => {
                        let conn = conn.clone();
                        let session = session.clone();
                        tokio::spawn(async move {
                            let _ = conn
                                .call(
                                    Some(&session),
                                    "Page.handleJavaScriptDialog",
                                    json!({"accept": true}),
                                )
                                .await;
                        });
                    }
                    "Runtime.exceptionThrown" => {
                        let d = &ev["params"]["exceptionDetails"];
                        let text = d["exception"]["description"]
                            .as_str()
                            .or(d["text"].as_str())
                            .unwrap_or("")
                            .to_string();
                        errors.lock().unwrap().push(text);
                    }
                    _ => {}
                }
            }
        });
    }

    /// Uncaught script errors seen so far.
    pub fn script_errors(&self) -> Vec<String> {
        self.errors.lock().unwrap().clone()
    }

    /// Bytes received on the wire (compressed, headers included) since the last reset.
    pub fn transferred_bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    pub fn reset_transferred_bytes(&self) {
        self.bytes.store(0, Ordering::Relaxed);
    }

    /// Requests finished since the last reset.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn reset_request_count(&self) {
        self.requests.store(0, Ordering::Relaxed);
    }

    /// Load `url` and wait for its load event.
    pub async fn goto(&self, url: &str) {
        let mut rx = self.conn.events.subscribe();
        let r = self
            .cmd("Page.navigate", json!({"url": url}))
            .await
            .expect("navigate");
        if let Some(e) = r["errorText"].as_str() {
            panic!("navigate to {url}: {e}");
        }
        self.wait_load(&mut rx).await;
    }

    /// Start loading `url` without waiting for its load event.
    pub async fn navigate(&self, url: &str) {
        let r = self
            .cmd("Page.navigate", json!({"url": url}))
            .await
            .expect("navigate");
        if let Some(e) = r["errorText"].as_str() {
            panic!("navigate to {url}: {e}");
        }
    }

    /// Reload and wait for the load event.
    pub async fn reload(&self) {
        let mut rx = self.conn.events.subscribe();
        self.cmd("Page.reload", json!({"ignoreCache": false}))
            .await
            .expect("reload");
        self.wait_load(&mut rx).await;
    }

    async fn wait_load(&self, rx: &mut broadcast::Receiver<Value>) {
        let session = self.session.clone();
        let found = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match rx.recv().await {
                    Ok(ev)
                        if ev["sessionId"].as_str() == Some(session.as_str())
                            && (ev["method"] == "Page.loadEventFired"
                                || ev["method"] == "Page.frameStoppedLoading") =>
                    {
                        return;
                    }
                    Ok(ev) => {
                        // VEREDA_CDP_DEBUG=1: show what the page did while a load was awaited.
                        if std::env::var("VEREDA_CDP_DEBUG").is_ok() {
                            eprintln!(
                                "cdp event {} {}",
                                ev["method"],
                                ev["params"]
                                    .to_string()
                                    .chars()
                                    .take(200)
                                    .collect::<String>()
                            );
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => return,
                }
            }
        })
        .await;
        assert!(found.is_ok(), "page did not load within 60 s");
    }

    /// Evaluate JavaScript (promises awaited) and return its value as JSON.
    pub async fn try_eval(&self, js: &str) -> anyhow::Result<Value> {
        let r = self
            .cmd(
                "Runtime.evaluate",
                json!({"expression": js, "awaitPromise": true, "returnByValue": true, "userGesture": true}),
            )
            .await?;
        if !r["exceptionDetails"].is_null() {
            let d = &r["exceptionDetails"];
            anyhow::bail!(
                "{}",
                d["exception"]["description"]
                    .as_str()
                    .unwrap_or(d["text"].as_str().unwrap_or("script error"))
            );
        }
        Ok(r["result"]["value"].clone())
    }

    #[track_caller]
    pub fn eval(&self, js: &str) -> impl Future<Output = Value> + '_ {
        let js = js.to_string();
        async move {
            self.try_eval(&js)
                .await
                .unwrap_or_else(|e| panic!("evaluate {js}: {e}"))
        }
    }

    /// Wait until `condition` (a JS expression) is truthy; panics after `timeout`, showing
    /// what the page says.
    pub async fn wait_until(&self, condition: &str, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Ok(v) = self.try_eval(&format!("!!({condition})")).await
                && v == json!(true)
            {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                let text = self.text().await;
                panic!(
                    "waited {timeout:?} for {condition}; the page says:\n{text}\nscript errors: {:?}",
                    self.script_errors()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn wait_for(&self, selector: &str) {
        self.wait_until(
            &format!("document.querySelector({})", js_str(selector)),
            Duration::from_secs(30),
        )
        .await;
    }

    pub async fn wait_for_text(&self, text: &str) {
        self.wait_until(
            &format!(
                "document.body && document.body.innerText.includes({})",
                js_str(text)
            ),
            Duration::from_secs(30),
        )
        .await;
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.try_eval("document.body ? document.body.innerText : ''")
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Click the element `selector` names (it must exist).
    pub async fn click(&self, selector: &str) {
        self.wait_for(selector).await;
        self.eval(&format!(
            "document.querySelector({}).click()",
            js_str(selector)
        ))
        .await;
    }

    /// Click the button or link whose text contains `text`.
    pub async fn click_text(&self, text: &str) {
        let find = format!(
            "[...document.querySelectorAll('button, a, summary')].find(e => e.innerText.includes({}))",
            js_str(text)
        );
        self.wait_until(&find, Duration::from_secs(30)).await;
        self.eval(&format!("{find}.click()")).await;
    }

    /// Focus a field, clear it and type `text` as keyboard input.
    pub async fn type_into(&self, selector: &str, text: &str) {
        self.wait_for(selector).await;
        self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); e.focus(); e.value = ''; }})()",
            js_str(selector)
        ))
        .await;
        self.cmd("Input.insertText", json!({"text": text}))
            .await
            .expect("type");
    }

    /// Set a field's value as a person would leave it (date and time pickers).
    pub async fn set_value(&self, selector: &str, value: &str) {
        self.wait_for(selector).await;
        self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); e.value = {}; \
             e.dispatchEvent(new Event('input', {{bubbles: true}})); \
             e.dispatchEvent(new Event('change', {{bubbles: true}})); }})()",
            js_str(selector),
            js_str(value)
        ))
        .await;
    }

    /// A phone: 360×740 CSS pixels, touch, mobile viewport.
    pub async fn emulate_phone(&self) {
        self.cmd(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": true}),
        )
        .await
        .expect("device metrics");
        self.cmd(
            "Emulation.setTouchEmulationEnabled",
            json!({"enabled": true}),
        )
        .await
        .expect("touch");
    }

    /// A common cheap Android phone: 390×844 CSS pixels, touch.
    pub async fn emulate_android(&self) {
        self.cmd(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true}),
        )
        .await
        .expect("device metrics");
        self.cmd(
            "Emulation.setTouchEmulationEnabled",
            json!({"enabled": true}),
        )
        .await
        .expect("touch");
    }

    /// Cut the network (or bring it back) for this tab and every service worker.
    pub async fn set_offline(&self, offline: bool) {
        let conditions = json!({
            "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1
        });
        self.cmd("Network.emulateNetworkConditions", conditions.clone())
            .await
            .expect("network conditions");
        for session in self.worker_sessions().await {
            let _ = self
                .conn
                .call(Some(&session), "Network.enable", json!({}))
                .await;
            let _ = self
                .conn
                .call(
                    Some(&session),
                    "Network.emulateNetworkConditions",
                    conditions.clone(),
                )
                .await;
        }
    }

    /// Sessions on the browser's service workers (attached on first use).
    async fn worker_sessions(&self) -> Vec<String> {
        let Ok(targets) = self.conn.call(None, "Target.getTargets", json!({})).await else {
            return Vec::new();
        };
        let mut sessions = Vec::new();
        for t in targets["targetInfos"].as_array().into_iter().flatten() {
            if t["type"] != "service_worker" {
                continue;
            }
            if let Ok(a) = self
                .conn
                .call(
                    None,
                    "Target.attachToTarget",
                    json!({"targetId": t["targetId"], "flatten": true}),
                )
                .await
                && let Some(s) = a["sessionId"].as_str()
            {
                sessions.push(s.to_string());
            }
        }
        sessions
    }

    /// A slow phone on a poor connection: 1.6 Mbps down, 750 kbps up, 150 ms round trip,
    /// CPU 4× slower.
    pub async fn emulate_slow_phone(&self) {
        self.cmd(
            "Network.emulateNetworkConditions",
            json!({"offline": false, "latency": 150,
                   "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8}),
        )
        .await
        .expect("throttle network");
        self.cmd("Emulation.setCPUThrottlingRate", json!({"rate": 4}))
            .await
            .expect("throttle CPU");
    }

    /// No throttling (network or CPU).
    pub async fn emulate_fast(&self) {
        self.cmd(
            "Network.emulateNetworkConditions",
            json!({"offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
        )
        .await
        .expect("unthrottle network");
        self.cmd("Emulation.setCPUThrottlingRate", json!({"rate": 1}))
            .await
            .expect("unthrottle CPU");
    }

    /// Forget the HTTP cache (cookies stay).
    pub async fn clear_cache(&self) {
        self.cmd("Network.clearBrowserCache", json!({}))
            .await
            .expect("clear cache");
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self, path: &Path) {
        let r = self
            .cmd(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": false}),
            )
            .await
            .expect("screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap_or(""))
            .expect("screenshot is base64");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot folder");
        }
        std::fs::write(path, png).expect("write screenshot");
    }

    /// Run axe-core (vendored under tests/vendor) on the page; returns the serious and
    /// critical violations as "rule: help (targets)".
    pub async fn axe_violations(&self) -> Vec<String> {
        static AXE: &str = include_str!("../vendor/axe-core-4.14.1/axe.min.js");
        let loaded = self.try_eval("typeof axe !== 'undefined'").await.ok() == Some(json!(true));
        if !loaded {
            self.eval(&format!("{AXE};true")).await;
        }
        let v = self
            .eval(
                "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations\
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')\
                 .map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(' ')).join(', ')})`))",
            )
            .await;
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    }
}

/// A JavaScript string literal.
pub fn js_str(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

/// Where screenshots go: the build folder, so a test run leaves the checkout alone;
/// `VEREDA_SCREENS_DIR=docs/screens` (from the workspace root) refreshes the committed ones.
pub fn screens_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    match std::env::var_os("VEREDA_SCREENS_DIR") {
        Some(dir) => root.join(dir),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| root.join("target"), PathBuf::from)
            .join("screens"),
    }
}

/// Screenshot the screen as `name` and check it with axe-core.
pub async fn check_screen(page: &Page, name: &str) {
    // Let fonts, focus and live regions settle.
    tokio::time::sleep(Duration::from_millis(300)).await;
    page.screenshot(&screens_dir().join(format!("{name}.png")))
        .await;
    let violations = page.axe_violations().await;
    assert!(violations.is_empty(), "axe-core on {name}: {violations:#?}");
    let errors = page.script_errors();
    assert!(errors.is_empty(), "script errors on {name}: {errors:#?}");
}

// ---------------------------------------------------------------------------------------------
// The office screens (company, staff, finance): desktop first, every screen also on a phone
// ---------------------------------------------------------------------------------------------

/// A desktop window (1280×900, no touch).
pub async fn desktop(page: &Page) {
    page.cmd(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
    )
    .await
    .expect("device metrics");
    page.cmd(
        "Emulation.setTouchEmulationEnabled",
        json!({"enabled": false}),
    )
    .await
    .expect("touch");
}

/// A browser on the app's front page, on a desktop; `None` without Chromium (see `launch`).
pub async fn open_office(test: &str, base: &str) -> Option<(Browser, Page)> {
    let browser = Browser::launch(test).await?;
    let page = browser.new_page().await;
    desktop(&page).await;
    page.goto(&format!("{base}/")).await;
    Some((browser, page))
}

/// Sign in through the form.
pub async fn sign_in(page: &Page, email: &str, password: &str) {
    page.wait_for("#signin").await;
    page.type_into("#email", email).await;
    page.type_into("#password", password).await;
    page.click("#signin button[type=submit]").await;
}

/// Go to a screen of the app, as a link would.
pub async fn go(page: &Page, hash: &str) {
    page.eval(&format!("location.hash = {}", js_str(hash)))
        .await;
}

/// Screenshot the screen as `<name>-escritorio` and `<name>-celular` with `selector` (what the
/// screenshot is about) scrolled into view, each checked with axe-core; nothing may be wider
/// than the phone (a table scrolls inside its own region).
pub async fn check_office_screen(page: &Page, name: &str, selector: &str) {
    let scroll = format!(
        "document.querySelector({}).scrollIntoView({{block: 'start'}}); true",
        js_str(selector)
    );
    page.eval(&scroll).await;
    check_screen(page, &format!("{name}-escritorio")).await;
    page.emulate_phone().await;
    page.eval(&scroll).await;
    check_screen(page, &format!("{name}-celular")).await;
    let wide = page
        .eval("document.documentElement.scrollWidth > window.innerWidth + 1")
        .await;
    assert_eq!(wide, json!(false), "{name} scrolls sideways on a phone");
    desktop(page).await;
}

/// Put a file from disk into a file input, as a person choosing it would.
pub async fn choose_file(page: &Page, selector: &str, path: &std::path::Path) {
    page.wait_for(selector).await;
    let found = page
        .cmd(
            "Runtime.evaluate",
            json!({"expression": format!("document.querySelector({})", js_str(selector))}),
        )
        .await
        .expect("find the file input");
    let object_id = found["result"]["objectId"]
        .as_str()
        .expect("the input's object id")
        .to_string();
    page.cmd(
        "DOM.setFileInputFiles",
        json!({"files": [path.display().to_string()], "objectId": object_id}),
    )
    .await
    .expect("set the file");
}

/// Fetch a link's address in the page (with the page's sign-in cookie): status, content type
/// and the body as base64.
pub async fn fetch_link(page: &Page, selector: &str) -> (u16, String, Vec<u8>) {
    page.wait_for(selector).await;
    let r = page
        .eval(&format!(
            "(async () => {{ const a = document.querySelector({}); const r = await fetch(a.href); \
             const b = new Uint8Array(await r.arrayBuffer()); let s = ''; \
             for (const x of b) s += String.fromCharCode(x); \
             return {{status: r.status, type: r.headers.get('content-type') || '', body: btoa(s)}}; }})()",
            js_str(selector)
        ))
        .await;
    let body = base64::engine::general_purpose::STANDARD
        .decode(r["body"].as_str().unwrap_or(""))
        .expect("base64");
    (
        r["status"].as_u64().unwrap_or(0) as u16,
        r["type"].as_str().unwrap_or("").to_string(),
        body,
    )
}
