//! Building and running the application: database, migrations, first admin, routes, and the
//! in-process worker. `main.rs` and the test harness both go through [`Application::build`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use poem::http::HeaderValue;
use poem::listener::{Acceptor, Listener, TcpListener};
// No SizeLimit middleware: it refuses requests without Content-Length (411); `JsonBody`
// enforces the limit while reading instead, chunked or not.
use poem::middleware::AddData;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, Server};
use poem_openapi::OpenApiService;
use vereda_store::config::Settings;
use vereda_store::db::{Db, PoolSettings};

use crate::accounts::AccountsApi;
use crate::assignments::AssignmentsApi;
use crate::auth::AuthApi;
use crate::bootstrap::{FirstAdmin, ensure_first_admin};
use crate::companies::CompaniesApi;
use crate::finance::MoneyApi;
use crate::health::HealthApi;
use crate::problem::{ApiError, render_any};
use crate::statements::StatementsApi;
use crate::tasks::TasksApi;
use crate::time_entries::TimeEntriesApi;
use crate::workers::WorkersApi;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    /// Workers' listing pages kept ready (`task_board.rs`).
    pub board: Arc<crate::task_board::TaskBoard>,
    /// Recently checked bearer tokens (`auth.rs`).
    pub tokens: Arc<crate::auth::TokenCache>,
    /// Statement verifications per client address (`statements.rs`).
    pub verifications: Arc<crate::statements::VerifyThrottle>,
}

type Apis = (
    HealthApi,
    AuthApi,
    crate::password_links::PasswordLinksApi,
    AccountsApi,
    CompaniesApi,
    // A tuple takes at most 16; the workers' routes are one element.
    (
        WorkersApi,
        crate::skills::SkillsApi,
        crate::fiscal::FiscalApi,
        crate::data_access::DataAccessApi,
        crate::data_requests::DataRequestsApi,
        crate::consents::ConsentsApi,
        crate::reports::ReportsApi,
    ),
    TasksApi,
    crate::task_batches::TaskBatchesApi,
    (AssignmentsApi, crate::appeals::AppealsApi),
    crate::review_queue::ReviewQueueApi,
    TimeEntriesApi,
    MoneyApi,
    crate::jobs::JobsApi,
    crate::my_money::MyMoneyApi,
    (
        StatementsApi,
        crate::withholding::WithholdingApi,
        crate::resolutions::ResolutionsApi,
        crate::electronic_documents::ElectronicDocumentsApi,
    ),
);

/// The OpenAPI service: every route of the API, documented.
pub fn api_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            HealthApi,
            AuthApi,
            crate::password_links::PasswordLinksApi,
            AccountsApi,
            CompaniesApi,
            (
                WorkersApi,
                crate::skills::SkillsApi,
                crate::fiscal::FiscalApi,
                crate::data_access::DataAccessApi,
                crate::data_requests::DataRequestsApi,
                crate::consents::ConsentsApi,
                crate::reports::ReportsApi,
            ),
            TasksApi,
            crate::task_batches::TaskBatchesApi,
            (AssignmentsApi, crate::appeals::AppealsApi),
            crate::review_queue::ReviewQueueApi,
            TimeEntriesApi,
            MoneyApi,
            crate::jobs::JobsApi,
            crate::my_money::MyMoneyApi,
            (
                StatementsApi,
                crate::withholding::WithholdingApi,
                crate::resolutions::ResolutionsApi,
                crate::electronic_documents::ElectronicDocumentsApi,
            ),
        ),
        "Vereda",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Paid remote IT micro-tasks for rural Colombian teleworkers. Sign in with \
         `POST /v1/auth/login`, then send `Authorization: Bearer <token>`. Errors are \
         `application/problem+json` with a stable `code`.",
    )
}

/// The OpenAPI document as served at `/openapi.json` and committed as `contracts/openapi.json`.
pub fn openapi_json() -> String {
    api_service().spec()
}

/// Whether to run the background worker inside this process.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    pub with_worker: bool,
}

pub struct Application {
    acceptor: poem::listener::TcpAcceptor,
    addr: SocketAddr,
    state: AppState,
    options: RunOptions,
    pub first_admin: Option<FirstAdmin>,
}

impl Application {
    /// Connect, migrate, make sure an admin exists, and bind the listener.
    pub async fn build(mut settings: Settings, options: RunOptions) -> anyhow::Result<Application> {
        if settings.dialect == vereda_store::db::Dialect::Sqlite {
            std::fs::create_dir_all(&settings.data_dir).map_err(|e| {
                anyhow::anyhow!(
                    "cannot create data folder {}: {e}",
                    settings.data_dir.display()
                )
            })?;
        }
        let pool = PoolSettings {
            max_connections: settings.db_max_connections,
            ..PoolSettings::default()
        };
        let db = connect_and_migrate(settings.database_url.expose(), &pool).await?;
        if settings.metrics_token.is_some() {
            // Counting starts with the process; without a token nothing is recorded.
            vereda_store::metrics::install();
        }
        let first_admin = ensure_first_admin(&db, &settings).await?;

        let acceptor = TcpListener::bind(settings.listen).into_acceptor().await?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| anyhow::anyhow!("listener has no address"))?;
        if !settings.public_url_configured {
            // The port actually bound (the configured one may be 0).
            settings.public_url = format!("http://{addr}");
        }
        Ok(Application {
            acceptor,
            addr,
            state: AppState {
                db,
                settings: Arc::new(settings),
                board: Arc::default(),
                tokens: Arc::default(),
                verifications: Arc::default(),
            },
            options,
            first_admin,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// Serve until `shutdown` resolves, then stop the worker and drain requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let worker = self.options.with_worker.then(|| {
            let db = self.state.db.clone();
            let settings = self.state.settings.clone();
            let mut rx = stop_rx.clone();
            tokio::spawn(async move {
                let stop = async move {
                    let _ = rx.wait_for(|s| *s).await;
                };
                if let Err(e) = vereda_worker::run(db, settings, stop).await {
                    tracing::error!(error = %e, "worker stopped with an error");
                }
            })
        });

        if let (Some(schedule), Db::Sqlite(_)) =
            (self.state.settings.backups.clone(), &self.state.db)
        {
            let (db, data_dir) = (self.state.db.clone(), self.state.settings.data_dir.clone());
            let mut rx = stop_rx.clone();
            tokio::spawn(vereda_store::backup::run_schedule(
                db,
                data_dir,
                schedule,
                async move {
                    let _ = rx.wait_for(|s| *s).await;
                },
            ));
        }
        let app = routes(self.state.clone());
        let grace = self.state.settings.shutdown_grace;
        let mut rx = stop_rx;
        let server = Server::new_with_acceptor(self.acceptor).run_with_graceful_shutdown(
            app,
            async move {
                let _ = rx.wait_for(|s| *s).await;
            },
            Some(grace),
        );
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        server.await?;
        if let Some(w) = worker {
            let _ = w.await;
        }
        self.state.db.close().await;
        Ok(())
    }
}

/// Connect and migrate, waiting a little for a database that is still starting (PostgreSQL)
/// or busy with another process's first start (SQLite switching a new file to WAL).
async fn connect_and_migrate(url: &str, pool: &PoolSettings) -> anyhow::Result<Db> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attempt = async {
            let db = Db::connect(url, pool).await?;
            let state = db.migration_state().await?;
            if !state.unknown().is_empty() {
                return Ok(Err(state.unknown()));
            }
            db.migrate().await?;
            Ok::<_, sqlx::Error>(Ok(db))
        };
        match attempt.await {
            Ok(Ok(db)) => return Ok(db),
            Ok(Err(unknown)) => {
                anyhow::bail!(
                    "this database was migrated by a newer Vereda (migrations {unknown:?} are \
                     unknown to this version), which may store things this version would \
                     misread: run that version, or restore a backup this version made"
                )
            }
            Err(e) if transient(&e) && Instant::now() < deadline => {
                tracing::warn!(error = %e, "database not ready yet; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(anyhow::anyhow!("database start-up failed: {e}")),
        }
    }
}

/// Unreachable, or SQLite's "busy"/"locked" (codes 5 and 6, primary or extended).
fn transient(e: &sqlx::Error) -> bool {
    use sqlx::migrate::MigrateError;
    match e {
        sqlx::Error::Migrate(m) => match m.as_ref() {
            MigrateError::Execute(inner) | MigrateError::ExecuteMigration(inner, _) => {
                transient(inner)
            }
            _ => false,
        },
        sqlx::Error::Database(d)
            if d.code()
                .is_some_and(|c| c.parse::<i32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))) =>
        {
            true
        }
        other => vereda_store::db::is_unavailable(other),
    }
}

/// All routes with their middleware.
pub fn routes(state: AppState) -> impl Endpoint {
    let service = api_service();
    let docs = service.swagger_ui();
    let spec = service.spec_endpoint();
    Route::new()
        .nest("/", service)
        .at("/openapi.json", spec)
        .at("/metrics", poem::get(crate::health::metrics))
        .at("/privacidad", poem::get(crate::privacy::notice))
        .nest("/docs", docs)
        .catch_all_error(|err| async move {
            // Keep the matched route on the error's answer, for the request metrics.
            let pattern = err.data::<poem::PathPattern>().cloned();
            let mut resp = render_any(err);
            if let Some(p) = pattern {
                resp.set_data(p);
            }
            resp
        })
        .around(crate::web::serve)
        .around(refuse_nul)
        .around(crate::auth::session_cookie)
        .with(AddData::new(state))
        .around(log_request)
        .around(compress)
}

/// What every answer may run: our own scripts, styles, images (and `data:` images), requests
/// to ourselves; no inline script, no other host, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

/// Swagger UI at `/docs` is one page with its script and styles inline (poem-openapi builds it
/// so, with no network), so it alone may run inline script and style; nothing else loosens.
pub const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
     script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
     connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The security headers of every answer, errors included.
fn security_headers(path: &str, resp: &mut Response) {
    let csp = if path == "/docs" || path.starts_with("/docs/") {
        DOCS_CONTENT_SECURITY_POLICY
    } else {
        CONTENT_SECURITY_POLICY
    };
    let headers = resp.headers_mut();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("content-security-policy", csp),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// Compress an answer with brotli or gzip when the client accepts it and the content is text
/// (JSON, problems, HTML, CSS, JavaScript, CSV, SVG, manifests); PDFs and images are already
/// compressed, and an answer with no body (204, 304, HEAD) or one already encoded is left as is.
async fn compress<E: Endpoint>(next: std::sync::Arc<E>, req: Request) -> poem::Result<Response> {
    use poem::web::{Compress, CompressionAlgo, CompressionLevel};
    let algo = accepted_encoding(&req);
    let head = req.method() == poem::http::Method::HEAD;
    let mut resp = next.call(req).await?.into_response();
    resp.headers_mut().append(
        poem::http::header::VARY,
        HeaderValue::from_static("Accept-Encoding"),
    );
    let compressible = resp
        .headers()
        .get(poem::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.starts_with("text/")
                || ct.contains("json")
                || ct.contains("javascript")
                || ct.contains("xml")
                || ct.starts_with("image/svg")
        });
    let status = resp.status();
    let Some(algo) = algo else {
        return Ok(resp);
    };
    if head
        || !compressible
        || status == poem::http::StatusCode::NO_CONTENT
        || status == poem::http::StatusCode::NOT_MODIFIED
        || resp
            .headers()
            .contains_key(poem::http::header::CONTENT_ENCODING)
    {
        return Ok(resp);
    }
    let algo = match algo {
        "br" => CompressionAlgo::BR,
        _ => CompressionAlgo::GZIP,
    };
    // Quality 5: most of the gain at a small cost in CPU (brotli's default, 11, is far slower).
    Ok(Compress::new(resp, algo)
        .with_quality(CompressionLevel::Precise(5))
        .into_response())
}

/// `br` or `gzip`, whichever the client accepts with the higher weight (brotli on a tie);
/// none when it accepts neither.
#[allow(clippy::float_arithmetic)] // q-values are weights in [0, 1], not money
fn accepted_encoding(req: &Request) -> Option<&'static str> {
    req.headers()
        .get_all(poem::http::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';');
            let coding = parts.next()?.trim().to_ascii_lowercase();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            let (name, rank) = match coding.as_str() {
                "br" => ("br", 2),
                "gzip" | "x-gzip" => ("gzip", 1),
                _ => return None,
            };
            (q > 0.0).then_some((name, (q * 1000.0) as i32, rank))
        })
        .max_by_key(|(_, q, rank)| (*q, *rank))
        .map(|(name, _, _)| name)
}

/// The header carrying a request's id, both ways.
const REQUEST_ID: &str = "x-request-id";

/// One line per request: method, path (no query: cursors and filters stay out of the log),
/// status and time. Bodies, tokens and personal data are never logged.
async fn log_request<E: Endpoint>(next: std::sync::Arc<E>, req: Request) -> poem::Result<Response> {
    use tracing::Instrument as _;
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = Instant::now();
    // Every line logged while answering carries the request's id, and the answer returns it,
    // so a person's report ("it failed at 3:40") finds its lines. A proxy's id is kept when it
    // is a plain token; anything else is replaced.
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or_else(|| uuid::Uuid::now_v7().simple().to_string(), str::to_string);
    let span = tracing::info_span!("request", request_id = %request_id);
    let resp = match next.call(req).instrument(span.clone()).await {
        Ok(r) => r.into_response(),
        Err(e) => render_any(e),
    };
    let _in_request = span.enter();
    let mut resp = resp;
    no_store_personal(&path, &mut resp);
    security_headers(&path, &mut resp);
    if resp.status() == poem::http::StatusCode::METHOD_NOT_ALLOWED
        && let Some(allow) = allowed_methods(&path)
        && let Ok(value) = HeaderValue::from_str(&allow)
    {
        resp.headers_mut().insert(poem::http::header::ALLOW, value);
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert(REQUEST_ID, value);
    }
    let status = resp.status();
    let took = started.elapsed();
    tracing::info!(%method, %path, status = status.as_u16(), ms = took.as_millis() as u64, "request");
    // Labelled by the matched pattern, never the path, so ids do not become label values; what
    // no API route matched is the web app's files, or nothing.
    let route = match resp.data::<poem::PathPattern>() {
        Some(p) => p.0.to_string(),
        None if path == "/v1" || path.starts_with("/v1/") => "unmatched".to_string(),
        None => "web".to_string(),
    };
    vereda_store::metrics::record_request(method.as_str(), &route, status.as_u16(), took);
    Ok(resp)
}

/// Every `/v1` answer may carry a token or personal data (sign-in, profiles, statements,
/// payouts, invoices; even the public statement check names a person, and errors echo what was
/// asked), so none is kept by a browser or proxy cache. What is the same for everyone
/// (`/openapi.json`, `/docs`, health) stays cacheable.
fn no_store_personal(path: &str, resp: &mut Response) {
    if path == "/v1" || path.starts_with("/v1/") {
        resp.headers_mut().insert(
            poem::http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
    }
}

/// A NUL character (`%00`) in the path or the query is refused here, once for every route,
/// with 400 naming the parameter. No id, date, month or filter can contain one, and
/// PostgreSQL cannot even compare text with it: passed on, it made about twenty routes answer
/// 500. (Percent-decoding is one pass, so a decoded NUL comes from a literal `%00` and nothing
/// else; a raw NUL never gets past the HTTP parser, and JSON bodies are `JsonBody`'s.)
async fn refuse_nul<E: Endpoint>(next: std::sync::Arc<E>, req: Request) -> poem::Result<Response> {
    let uri = req.uri();
    let has_nul = |s: &str| {
        s.as_bytes()
            .windows(3)
            .any(|w| w.eq_ignore_ascii_case(b"%00"))
    };
    let mut at_fault = None;
    if has_nul(uri.path()) {
        let segments: Vec<&str> = uri.path().split('/').collect();
        at_fault = Some(
            route_template(uri.path())
                .and_then(|template| {
                    template
                        .iter()
                        .zip(&segments)
                        .find(|(_, s)| has_nul(s))
                        .and_then(|(t, _)| t.strip_prefix('{')?.strip_suffix('}'))
                        .map(str::to_string)
                })
                .unwrap_or_else(|| "path".to_string()),
        );
    } else if let Some(query) = uri.query().filter(|q| has_nul(q)) {
        at_fault = Some(
            query
                .split('&')
                .find(|pair| has_nul(pair))
                .and_then(|pair| pair.split('=').next())
                .filter(|name| !name.is_empty() && !has_nul(name))
                .unwrap_or("query")
                .to_string(),
        );
    }
    if let Some(field) = at_fault {
        let mut e = ApiError::malformed(format!(
            "El parámetro «{field}» contiene un carácter nulo (%00), que ningún valor admite."
        ));
        e.code = "invalid_parameter";
        e.field = Some(field);
        return Ok(e.into_response());
    }
    next.call(req).await.map(IntoResponse::into_response)
}

/// The contract's routes: each template's segments (`{id}` for a parameter) and its methods.
type Routes = Vec<(Vec<String>, String)>;

static ROUTES: std::sync::LazyLock<Routes> = std::sync::LazyLock::new(|| {
    let spec: serde_json::Value =
        serde_json::from_str(&openapi_json()).unwrap_or(serde_json::Value::Null);
    let Some(paths) = spec["paths"].as_object() else {
        return Vec::new();
    };
    paths
        .iter()
        .map(|(template, ops)| {
            let methods: Vec<String> = ops
                .as_object()
                .map(|o| o.keys().map(|m| m.to_uppercase()).collect())
                .unwrap_or_default();
            (
                template.split('/').map(str::to_string).collect(),
                methods.join(", "),
            )
        })
        .collect()
});

/// The documented route a concrete path matches, with its methods. The template with the most
/// literal segments wins, as in the router (`/v1/time-entries/sync` before
/// `/v1/time-entries/{id}`).
fn route_of(path: &str) -> Option<&'static (Vec<String>, String)> {
    let segments: Vec<&str> = path.split('/').collect();
    ROUTES
        .iter()
        .filter(|(template, _)| {
            template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
        })
        .max_by_key(|(template, _)| template.iter().filter(|t| !t.starts_with('{')).count())
}

fn route_template(path: &str) -> Option<&'static [String]> {
    route_of(path).map(|(template, _)| template.as_slice())
}

/// The methods the contract documents for a concrete path, for the `Allow` header that RFC 9110
/// requires on a 405 (poem's router does not add it).
fn allowed_methods(path: &str) -> Option<String> {
    route_of(path).map(|(_, methods)| methods.clone())
}
