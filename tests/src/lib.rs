//! Black-box test harness: [`spawn_app`] starts the real product (API and in-process worker)
//! on a random port against a fresh database — a SQLite file in a temporary folder, or, when
//! `VEREDA_TEST_POSTGRES_URL` is set, a new PostgreSQL database that is dropped afterwards —
//! and tests talk HTTP to it.

use std::str::FromStr;
use std::time::Duration;

use serde_json::{Value, json};
use vereda_api::startup::{Application, RunOptions};
use vereda_store::config::{Secret, Settings};
use vereda_store::db::Db;

pub mod browser;
pub mod invariants;
pub mod pdf;
pub mod pgcluster;
pub mod programme;
pub mod proxy;
pub mod signing;
pub mod smtp;
pub mod worked_example;

pub const ADMIN_EMAIL: &str = "admin@vereda.test";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const PASSWORD: &str = "a-good-long-password";

use vereda_store::scratch::ScratchDb;
pub use vereda_store::scratch::{test_postgres_url as postgres_admin_url, with_database};

/// A fresh database for one test; dropped (PostgreSQL) or deleted (SQLite) with this value.
pub struct TestDb {
    pub url: String,
    scratch: ScratchDb,
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let dir = tempfile::Builder::new()
            .prefix("vereda-test-")
            .tempdir()
            .expect("temp dir");
        let scratch = ScratchDb::for_tests("vereda_t", dir.path()).await;
        TestDb {
            url: scratch.url.clone(),
            scratch,
            dir,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.scratch.is_postgres()
    }

    /// Settings for an app on this database, with the test admin's credentials.
    pub fn settings(&self) -> Settings {
        let mut s = Settings::for_database(&self.url, self.dir.path()).expect("test settings");
        s.admin_email = Some(ADMIN_EMAIL.to_string());
        s.admin_password = Some(Secret::new(ADMIN_PASSWORD));
        // Sweeps (expiry, auto-approval) every second, so tests see them promptly.
        s.sweep_interval = Duration::from_secs(1);
        s
    }
}

/// A running app.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub first_admin_created: bool,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    // Last, so the database outlives the server's connections to it.
    pub test_db: Option<TestDb>,
}

/// Start the whole product on a fresh database.
pub async fn spawn_app() -> TestApp {
    let test_db = TestDb::new().await;
    let settings = test_db.settings();
    let mut app = spawn_with(settings).await;
    app.test_db = Some(test_db);
    app
}

/// Start the whole product on a fresh database, mailing through a real SMTP server on
/// loopback; returns the settings it runs with.
pub async fn spawn_app_with_smtp() -> (TestApp, smtp::SmtpServer, Settings) {
    with_smtp(None).await
}

/// The same, with the public address links in e-mails and documents point to.
pub async fn spawn_app_with_smtp_at(public_url: &str) -> (TestApp, smtp::SmtpServer, Settings) {
    with_smtp(Some(public_url)).await
}

async fn with_smtp(public_url: Option<&str>) -> (TestApp, smtp::SmtpServer, Settings) {
    let smtp = smtp::SmtpServer::start();
    let test_db = TestDb::new().await;
    let mut settings = test_db.settings();
    settings.smtp_url = Some(Secret::new(smtp.url()));
    if let Some(url) = public_url {
        settings.public_url = url.to_string();
        settings.public_url_configured = true;
    }
    let mut app = spawn_with(settings.clone()).await;
    app.test_db = Some(test_db);
    (app, smtp, settings)
}

/// Start the API alone, with no worker: background steps (verification, expiry) never run,
/// so a test can observe the states before them.
pub async fn spawn_app_without_worker() -> TestApp {
    let test_db = TestDb::new().await;
    let options = RunOptions { with_worker: false };
    let mut app = spawn_with_options(test_db.settings(), options).await;
    app.test_db = Some(test_db);
    app
}

/// Start the product with given settings (e.g. on an existing database).
pub async fn spawn_with(settings: Settings) -> TestApp {
    spawn_with_options(settings, RunOptions { with_worker: true }).await
}

pub async fn spawn_with_options(settings: Settings, options: RunOptions) -> TestApp {
    let app = Application::build(settings, options)
        .await
        .expect("app builds");
    let base = app.base_url();
    let db = app.db().clone();
    let first_admin_created = app.first_admin.is_some();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp {
        base,
        client: http_client(),
        db,
        first_admin_created,
        stop: Some(stop),
        task: Some(task),
        test_db: None,
    }
}

/// The tests' HTTP client: a minute per request at most.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// Talk to a product already running at `base` (another process) on `db`; stopping it is the
/// caller's business.
pub fn attach(base: String, db: Db) -> TestApp {
    TestApp {
        base,
        client: http_client(),
        db,
        first_admin_created: false,
        stop: None,
        task: None,
        test_db: None,
    }
}

/// An HTTP answer, body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    /// The problem `code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
    pub fn field(&self) -> &str {
        self.body["field"].as_str().unwrap_or("")
    }
    /// Assert an RFC 9457 problem with this status, and return self.
    #[track_caller]
    pub fn problem(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "expected {status}, got {}: {}",
            self.status, self.text
        );
        assert!(
            self.content_type.starts_with("application/problem+json"),
            "not problem+json: {} {}",
            self.content_type,
            self.text
        );
        for key in ["type", "title", "status", "detail", "detail_es", "code"] {
            assert!(
                !self.body[key].is_null(),
                "problem without {key}: {}",
                self.text
            );
        }
        assert_eq!(self.body["status"], status);
        self
    }
    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(
            self.status, status,
            "expected {status}, got {}: {}",
            self.status, self.text
        );
        &self.body
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            content_type,
            headers,
            body,
            text,
        }
    }

    fn with_token(req: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(Self::with_token(self.client.get(self.url(path)), token))
            .await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.send(Self::with_token(
            self.client.post(self.url(path)).json(&body),
            token,
        ))
        .await
    }

    /// GET a document (a PDF, an XML): its bytes, after checking the answer is 200.
    pub async fn bytes(&self, path: &str, token: &str) -> Vec<u8> {
        let r = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        r.bytes().await.unwrap().to_vec()
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.send(Self::with_token(
            self.client.patch(self.url(path)).json(&body),
            token,
        ))
        .await
    }

    /// A worker's payable balance as the ledger shows it to finance (negative: owed to her).
    pub async fn payable(&self, finance: &str, worker_id: &str) -> String {
        let r = self
            .get(
                &format!("/v1/ledger/accounts/worker:{worker_id}:payable"),
                Some(finance),
            )
            .await;
        r.ok(200)["balance"].as_str().unwrap().to_string()
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.send(Self::with_token(
            self.client.put(self.url(path)).json(&body),
            token,
        ))
        .await
    }

    /// POST raw bytes with a content type.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Resp {
        let req = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        self.send(Self::with_token(req, token)).await
    }

    /// Sign in and return the token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let r = self
            .post(
                "/v1/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        r.ok(200)["token"].as_str().expect("token").to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Create a finance user; returns its token.
    pub async fn finance_token(&self, admin: &str) -> String {
        let email = format!("finance-{}@vereda.test", short_id());
        self.post(
            "/v1/staff",
            Some(admin),
            json!({"name": "Carolina Finanzas", "email": email, "password": PASSWORD, "role": "finance"}),
        )
        .await
        .ok(201);
        self.login(&email, PASSWORD).await
    }

    /// Create a company with its owner; returns (company id, owner token).
    pub async fn company(&self, admin: &str, name: &str) -> (String, String) {
        let email = format!("owner-{}@empresa.test", short_id());
        let body = self
            .post(
                "/v1/companies",
                Some(admin),
                json!({
                    "name": name,
                    "nit": random_nit(),
                    "billing_email": format!("facturas-{}@empresa.test", short_id()),
                    "owner": {"name": "Andrés Operaciones", "email": email, "password": PASSWORD}
                }),
            )
            .await;
        let id = body.ok(201)["id"].as_str().unwrap().to_string();
        (id, self.login(&email, PASSWORD).await)
    }

    /// Add a reviewer to a company; returns the reviewer's token.
    pub async fn reviewer(&self, owner: &str, company_id: &str) -> String {
        let email = format!("reviewer-{}@empresa.test", short_id());
        self.post(
            &format!("/v1/companies/{company_id}/members"),
            Some(owner),
            json!({"name": "Marta Revisora", "email": email, "password": PASSWORD, "member_role": "reviewer"}),
        )
        .await
        .ok(201);
        self.login(&email, PASSWORD).await
    }

    /// The e-mail address of the account signed in with `token`.
    pub async fn email_of(&self, token: &str) -> String {
        self.get("/v1/me", Some(token)).await.ok(200)["email"]
            .as_str()
            .expect("an e-mail")
            .to_string()
    }

    /// Create a worker with these skills; returns (worker id, token).
    pub async fn worker(&self, admin: &str, skills: &[&str]) -> (String, String) {
        let email = format!("worker-{}@correo.test", short_id());
        let body = self
            .post(
                "/v1/workers",
                Some(admin),
                json!({
                    "name": "Luz Teletrabajadora",
                    "email": email,
                    "password": PASSWORD,
                    "municipality": "Chaparral",
                    "department": "Tolima",
                    "skills": skills,
                    "payout_method": {"kind": "nequi", "phone": "3105551234"},
                    "document_id": "1012345678",
                }),
            )
            .await;
        let id = body.ok(201)["id"].as_str().unwrap().to_string();
        (id, self.login(&email, PASSWORD).await)
    }

    /// Wait for a background job to finish; returns its final state (panics if it does not
    /// finish within a minute).
    pub async fn wait_job(&self, token: &str, job_id: &str) -> Value {
        eventually(Duration::from_secs(60), || async {
            let r = self.get(&format!("/v1/jobs/{job_id}"), Some(token)).await;
            matches!(r.body["status"].as_str(), Some("succeeded" | "failed"))
                .then(|| r.body.clone())
        })
        .await
        .unwrap_or_else(|| panic!("job {job_id} did not finish"))
    }

    /// Start work that answers 202 with a job, and wait for the job to succeed.
    pub async fn run_job(&self, token: &str, path: &str, body: Value) -> Value {
        let r = self.post(path, Some(token), body).await;
        let job_id = r.ok(202)["job_id"].as_str().expect("job_id").to_string();
        let job = self.wait_job(token, &job_id).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        job
    }

    /// A fixed-price task of `owner` at `price` pesos with one slot per worker token, each
    /// claimed, submitted, verified and approved (so each worker earns `price`).
    pub async fn approved_fixed_work(
        &self,
        owner: &str,
        title: &str,
        skill: &str,
        price: i64,
        workers: &[&str],
    ) {
        let task = self
            .post(
                "/v1/tasks",
                Some(owner),
                json!({
                    "title": title, "instructions": "Según la guía.",
                    "category": skill, "required_skills": [skill],
                    "pricing": {"kind": "fixed", "price": price.to_string(), "estimated_hours": "4"},
                    "slots": workers.len(), "claim_minutes": 600, "review_hours": 72
                }),
            )
            .await;
        let task = task.ok(201)["id"].as_str().unwrap().to_string();
        self.post(&format!("/v1/tasks/{task}/publish"), Some(owner), json!({}))
            .await
            .ok(200);
        for token in workers {
            let claim = self
                .post(&format!("/v1/tasks/{task}/claims"), Some(token), json!({}))
                .await;
            let assignment = claim.ok(201)["id"].as_str().unwrap().to_string();
            self.post(
                &format!("/v1/assignments/{assignment}/submission"),
                Some(token),
                json!({"deliverable_url": "https://docs.example/entrega"}),
            )
            .await
            .ok(200);
            eventually(Duration::from_secs(60), || async {
                let r = self
                    .get(&format!("/v1/assignments/{assignment}"), Some(owner))
                    .await;
                (r.body["status"] == "verified").then_some(())
            })
            .await
            .expect("verified");
            self.post(
                &format!("/v1/assignments/{assignment}/review"),
                Some(owner),
                json!({"decision": "approve"}),
            )
            .await
            .ok(200);
        }
    }

    /// Stop the server and worker, and return the database so another app can use it.
    pub async fn stop(mut self) -> Option<TestDb> {
        self.shutdown().await;
        self.test_db.take()
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(20), task).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn short_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

/// A random valid NIT (9 digits and the right check digit).
pub fn random_nit() -> String {
    let n = u64::from_str_radix(&short_id()[..8], 16).unwrap() % 100_000_000 + 800_000_000;
    let digits = n.to_string();
    format!(
        "{digits}-{}",
        vereda_contracts::identity::nit_check_digit(&digits)
    )
}

/// SHA-256 hex, as the server stores tokens.
pub fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

/// Poll `check` until it returns Some or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Parse a URL's port, for the proxy.
pub fn port_of(url: &str) -> Option<u16> {
    let after = url.split("://").nth(1)?;
    let hostport = after.split(['/', '?']).next()?;
    let hostport = hostport.rsplit('@').next()?;
    hostport
        .rsplit_once(':')
        .and_then(|(_, p)| u16::from_str(p).ok())
}
