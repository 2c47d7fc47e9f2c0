//! `vereda-bench`: start the real product (API + in-process worker) on a fresh database, load
//! it, drive it over HTTP with concurrent clients and print rates, ratios to physical
//! references measured in the same run, and the query plans that matter. See BENCHMARKS.md.
//!
//! Bulk data is inserted with SQL (accounts use Argon2id by design, ~50 ms each, so loading
//! 20,000 workers through the API would measure only password hashing); bench users get
//! bearer tokens written straight into `auth_tokens` (stored as SHA-256, as the server does).
//! Everything measured goes through HTTP or, for the money runs, through the real jobs started
//! over HTTP and followed at `GET /v1/jobs/{id}`.
// Timings and rates are measurements, not money.
#![allow(clippy::float_arithmetic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{Datelike, TimeZone};
use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use vereda_api::startup::{Application, RunOptions};
use vereda_store::config::{Secret, Settings};
use vereda_store::db::{Db, PoolSettings};
use vereda_store::scratch::ScratchDb;
use vereda_store::{on_db, on_tx};
use vereda_tests::{TestApp, attach, sha256_hex};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DbKind {
    Sqlite,
    Postgres,
}

/// What a `--serve` process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Role {
    /// API and in-process worker (`vereda-api`).
    All,
    /// API alone (`vereda-api --no-worker`).
    Api,
    /// Job workers alone (`vereda-worker`).
    Worker,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ScaleKind {
    Small,
    Full,
}

/// Benchmark Vereda end to end on SQLite or PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "vereda-bench")]
struct Args {
    /// Which database to run on.
    #[arg(long, value_enum, default_value = "sqlite")]
    db: DbKind,
    /// PostgreSQL server (a fresh database is created under it and dropped afterwards).
    #[arg(long, env = "VEREDA_BENCH_DATABASE_URL")]
    database_url: Option<String>,
    /// `small` (a few minutes on 2 cores) or `full` (1,000 companies, 20,000 workers,
    /// 100,000 tasks, 1,000,000 time entries).
    #[arg(long, value_enum, default_value = "small")]
    scale: ScaleKind,
    /// Concurrent HTTP clients (and database clients for the ceiling).
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Seconds for each timed phase (ceiling, healthz, listing); default by scale.
    #[arg(long)]
    seconds: Option<u64>,
    /// Keep the PostgreSQL database (or SQLite folder) afterwards, for inspection.
    #[arg(long)]
    keep: bool,
    /// API processes, each sent every Nth request in turn (PostgreSQL only above 1).
    #[arg(long, default_value_t = 1)]
    api_processes: usize,
    /// Worker-only processes (PostgreSQL only); with any, the API processes run no worker.
    #[arg(long, default_value_t = 0)]
    worker_processes: usize,
    /// Internal: be the server process on this database URL and data folder, print
    /// `listening <base url>` (a worker: `ready`) and serve until standard input closes.
    #[arg(long, hide = true, num_args = 2, value_names = ["URL", "DIR"])]
    serve: Option<Vec<String>>,
    /// Internal: what the `--serve` process runs.
    #[arg(long, hide = true, value_enum, default_value = "all")]
    serve_role: Role,
}

/// How the product runs: `api` API processes, and `workers` worker-only processes (with
/// none, each API process runs its own worker, as `vereda-api` does by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    api: usize,
    workers: usize,
}

impl Layout {
    /// One process, API and worker: the layout every run before issue 23 §6 measured.
    fn is_single(self) -> bool {
        self.api == 1 && self.workers == 0
    }

    fn describe(self) -> String {
        let plural =
            |n: usize, what: &str| format!("{n} {what} process{}", if n == 1 { "" } else { "es" });
        if self.is_single() {
            "1 process (API + in-process worker)".to_string()
        } else if self.workers == 0 {
            format!(
                "{} (each with its in-process worker), round-robin per request",
                plural(self.api, "API")
            )
        } else {
            format!(
                "{} (no worker), {}, round-robin per request",
                plural(self.api, "API"),
                plural(self.workers, "worker")
            )
        }
    }
}

/// How much to load and how much to do.
#[derive(Debug, Clone, Copy)]
struct Scale {
    companies: usize,
    workers: usize,
    open_tasks: usize,
    /// Approved assignments (each on its own closed task) for the money runs.
    approved: usize,
    /// Time entries seeded on the approved assignments.
    entries: usize,
    claims: usize,
    /// Offline-sync batches (of 100) per client.
    sync_batches: usize,
    seconds: u64,
}

impl Scale {
    fn of(kind: ScaleKind) -> Scale {
        match kind {
            ScaleKind::Small => Scale {
                companies: 50,
                workers: 2_000,
                open_tasks: 5_000,
                approved: 5_000,
                entries: 20_000,
                claims: 3_000,
                sync_batches: 8,
                seconds: 8,
            },
            ScaleKind::Full => Scale {
                companies: 1_000,
                workers: 20_000,
                open_tasks: 50_000,
                approved: 50_000,
                entries: 1_000_000,
                claims: 20_000,
                sync_batches: 40,
                seconds: 20,
            },
        }
    }
}

/// The task category of every bench task (categories are not skills; the listing does not
/// filter by them).
const CATEGORY: &str = "data-entry";
/// The skills catalogue the bench seeds from: the product's own eight (migration 0014) and
/// twelve more, inserted into `skills` like staff would add them. Each worker holds 1–4 of
/// them and each open task requires 1–2, drawn with [`Rng`] from a fixed seed.
const SKILLS: [&str; 20] = [
    "content-moderation",
    "customer-support",
    "data-cleaning",
    "data-entry",
    "labelling",
    "qa-testing",
    "sql",
    "support",
    "transcription",
    "translation",
    "spreadsheets",
    "web-research",
    "image-tagging",
    "audio-review",
    "survey-coding",
    "bookkeeping",
    "geotagging",
    "product-catalogue",
    "document-scanning",
    "sentiment-review",
];
/// The catalogue's own (migration 0014); the rest of [`SKILLS`] is added by the seed.
const CATALOGUE_SKILLS: usize = 8;
const NEW_SKILL_LABELS: [&str; 12] = [
    "Transcripción",
    "Traducción",
    "Hojas de cálculo",
    "Búsqueda en la web",
    "Etiquetado de imágenes",
    "Revisión de audio",
    "Codificación de encuestas",
    "Contabilidad básica",
    "Georreferenciación",
    "Catálogo de productos",
    "Digitalización de documentos",
    "Análisis de sentimiento",
];
/// The seed of every random choice in the bench (skills): runs are comparable.
const SEED: u64 = 0x5645_5245_4441; // "VEREDA"
/// Pages a listing client follows (`next_cursor`) before starting over as the next worker.
const LISTING_PAGES: usize = 3;
/// Small jobs of each kind in the job-latency phase (one after another).
const JOB_RUNS: usize = 30;
/// A kind stops early (with the runs it has) once its runs took this long in all.
const JOB_KIND_BUDGET: Duration = Duration::from_secs(90);
/// How often the job-latency phase polls `GET /v1/jobs/{id}`.
const JOB_POLL: Duration = Duration::from_millis(2);
/// The bearer token of `GET /metrics` in the bench's server (`VEREDA_METRICS_TOKEN`).
const METRICS_TOKEN: &str = "vereda-bench-metrics-token";
/// 18,500 COP per hour, in centavos.
const RATE: i64 = 1_850_000;
const SYNC_BATCH: usize = 100;

fn main() -> Result<()> {
    // Malloc tuned before the runtime's threads start: see vereda_store::memory.
    vereda_store::memory::run(bench())
}

async fn bench() -> Result<()> {
    let args = Args::parse();
    if let Some(serve) = &args.serve {
        return serve_product(&serve[0], std::path::Path::new(&serve[1]), args.serve_role).await;
    }
    let layout = Layout {
        api: args.api_processes,
        workers: args.worker_processes,
    };
    if layout.api == 0 {
        bail!("--api-processes must be at least 1");
    }
    if !layout.is_single() && args.db != DbKind::Postgres {
        bail!(
            "--api-processes above 1 and --worker-processes need --db postgres: SQLite is one process"
        );
    }
    let mut scale = Scale::of(args.scale);
    if let Some(s) = args.seconds {
        scale.seconds = s;
    }
    let clients = args.clients.max(1);
    if scale.workers < clients * 2 {
        bail!("too many clients for this scale");
    }

    // A fresh database.
    let dir = tempfile::Builder::new().prefix("vereda-bench-").tempdir()?;
    let scratch = match args.db {
        DbKind::Sqlite => ScratchDb::sqlite(dir.path()),
        DbKind::Postgres => {
            let admin = args
                .database_url
                .clone()
                .context("--db postgres needs --database-url postgres://…")?;
            ScratchDb::postgres(&admin, "vereda_bench")
                .await
                .context("create a database under --database-url")?
        }
    };
    let result = run(&args, layout, scale, clients, &scratch.url, dir.path()).await;
    if args.keep {
        let kept = match scratch.name() {
            Some(name) => format!("PostgreSQL database {name}"),
            None => format!("{}", dir.path().display()),
        };
        eprintln!("kept: {kept}");
        scratch.keep();
        std::mem::forget(dir);
    }
    result
}

/// One line of the results table.
struct Row {
    name: String,
    value: String,
    note: String,
}

fn row(name: &str, value: String, note: impl Into<String>) -> Row {
    Row {
        name: name.to_string(),
        value,
        note: note.into(),
    }
}

/// The rows so far. Each is printed (and flushed) the moment its phase ends, so a long run
/// that dies or is killed still leaves the figures it reached; the table is repeated at the end.
struct Results {
    rows: Vec<Row>,
    /// The server processes, whose memory each row reports.
    api_pids: Vec<u32>,
    worker_pids: Vec<u32>,
}

impl Results {
    fn push(&mut self, r: Row) {
        use std::io::Write;
        // The largest of these processes, in MB.
        let kb = |pids: &[u32], f| {
            pids.iter()
                .filter_map(|pid| status_kb_of(&format!("/proc/{pid}/status"), f))
                .max()
                .unwrap_or(0) as f64
                / 1024.0
        };
        let memory = if self.api_pids.len() == 1 && self.worker_pids.is_empty() {
            let (hwm, rss) = (kb(&self.api_pids, "VmHWM"), kb(&self.api_pids, "VmRSS"));
            format!("server RSS {rss:.0} MB, peak so far {hwm:.0} MB")
        } else {
            let mut m = format!(
                "largest API process RSS {:.0} MB, peak so far {:.0} MB",
                kb(&self.api_pids, "VmRSS"),
                kb(&self.api_pids, "VmHWM")
            );
            if !self.worker_pids.is_empty() {
                m.push_str(&format!(
                    "; largest worker process RSS {:.0} MB, peak so far {:.0} MB",
                    kb(&self.worker_pids, "VmRSS"),
                    kb(&self.worker_pids, "VmHWM")
                ));
            }
            m
        };
        println!(
            "[{}] | {} | {} | {} ({memory})",
            chrono::Utc::now().format("%H:%M:%S"),
            r.name,
            r.value,
            r.note
        );
        let _ = std::io::stdout().flush();
        self.rows.push(r);
    }
}

fn header(args: &Args, layout: Layout, scale: Scale, clients: usize, version: &str) -> String {
    let mut h = format!(
        "machine:  {}\ndatabase: {version} ({:?})\nscale:    {:?} — {} companies, {} workers, {} open tasks + {} closed, {} approved assignments, {} seeded time entries; {clients} clients",
        machine(),
        args.db,
        args.scale,
        scale.companies,
        scale.workers,
        scale.open_tasks + clients,
        scale.approved,
        scale.approved,
        scale.entries
    );
    // The one-process layout keeps the header earlier runs printed.
    if !layout.is_single() {
        h.push_str(&format!("\nprocesses: {}", layout.describe()));
    }
    h
}

async fn run(
    args: &Args,
    layout: Layout,
    scale: Scale,
    clients: usize,
    url: &str,
    dir: &std::path::Path,
) -> Result<()> {
    let rss_before = proc_status_kb("VmRSS").unwrap_or(0);
    let settings = bench_settings(url, dir)?;
    // The product runs in its own processes (this binary with `--serve`), so its memory is
    // measured apart from the bench's clients and seed data.
    let product = Product::start(url, dir, layout).await?;
    let db = Db::connect(
        url,
        &PoolSettings {
            max_connections: settings.db_max_connections,
            ..PoolSettings::default()
        },
    )
    .await?;
    // One per API process, for its /metrics; job phases, bytes and the audit use the first.
    let apis: Vec<TestApp> = product
        .api
        .iter()
        .map(|s| attach(s.base.clone(), db.clone()))
        .collect();
    let app = &apis[0];
    let front = Front::new(product.api.iter().map(|s| s.base.clone()).collect());
    let version = db_version(&db).await?;
    eprintln!(
        "vereda-bench: {:?} {} at scale {:?}, {clients} clients, pool {} connections; {}",
        args.db,
        version,
        args.scale,
        settings.db_max_connections,
        layout.describe()
    );

    println!("== Vereda benchmark (rows print as each phase ends) ==");
    println!("{}", header(args, layout, scale, clients, &version));
    let started = Instant::now();
    let seed = seed(&db, scale, clients).await?;
    println!(
        "[{}] seeded in {:.0} s",
        chrono::Utc::now().format("%H:%M:%S"),
        started.elapsed().as_secs_f64()
    );
    let mut rows = Results {
        rows: Vec::new(),
        api_pids: product.api.iter().filter_map(|s| s.child.id()).collect(),
        worker_pids: product
            .workers
            .iter()
            .filter_map(|s| s.child.id())
            .collect(),
    };

    // 1. The database's own ceiling for a pgbench -N sized transaction.
    let ceiling = db_ceiling(&db, clients, scale.seconds).await?;
    rows.push(row(
        "db ceiling (update+insert+select tx)",
        format!("{:.0} tx/s", ceiling),
        format!(
            "{clients} tasks, server's own pool ({} conns), Db::begin()",
            settings.db_max_connections
        ),
    ));

    // 2. HTTP ceiling, then task listing.
    let health = timed_http(
        app,
        &front,
        clients,
        scale.seconds,
        "GET /healthz",
        |_, _| ("/healthz".to_string(), None),
    )
    .await?;
    let before = scrape_metrics(&apis).await?;
    let (listing, pages) = listing(app, &front, &seed, clients, scale.seconds).await?;
    let after = scrape_metrics(&apis).await?;
    let hits = after.value(vereda_store::metrics::TASK_BOARD_HITS, &[])
        - before.value(vereda_store::metrics::TASK_BOARD_HITS, &[]);
    let misses = after.value(vereda_store::metrics::TASK_BOARD_MISSES, &[])
        - before.value(vereda_store::metrics::TASK_BOARD_MISSES, &[]);
    rows.push(row(
        "GET /healthz",
        format!("{:.0} req/s", health.rate),
        health.latency(),
    ));
    rows.push(row(
        &format!("task listing, up to {LISTING_PAGES} pages of 50 (worker)"),
        format!("{:.0} req/s", listing.rate),
        format!(
            "{}; ratio to /healthz {:.3} (target >= 0.25); requests for page 1, 2, …: {}",
            listing.latency(),
            listing.rate / health.rate,
            pages.map(|n| n.to_string()).join("/")
        ),
    ));
    rows.push(row(
        "task board hit rate (listing phase)",
        if hits + misses > 0.0 {
            format!("{:.1} %", 100.0 * hits / (hits + misses))
        } else {
            "n/a".to_string()
        },
        format!(
            "{hits:.0} hits, {misses:.0} misses (/metrics deltas of {} and {}); {} distinct skill sets among {} workers",
            vereda_store::metrics::TASK_BOARD_HITS,
            vereda_store::metrics::TASK_BOARD_MISSES,
            seed.skill_sets,
            seed.worker_ids.len()
        ),
    ));
    if listing.errors > 0 || health.errors > 0 {
        eprintln!(
            "warning: {} listing and {} healthz requests failed",
            listing.errors, health.errors
        );
    }

    // 3. Claims.
    let claims = claims(app, &front, &seed, scale, clients).await?;
    rows.push(row(
        "claims (POST /v1/tasks/{id}/claims)",
        format!("{:.0} claims/s", claims.rate),
        format!(
            "{} ok, {} failed; {}; ratio to db ceiling {:.3} (target >= 0.5)",
            claims.ok,
            claims.errors,
            claims.latency(),
            claims.rate / ceiling
        ),
    ));

    // 4. Offline sync.
    let sync = sync(app, &front, &seed, scale, clients).await?;
    rows.push(row(
        "offline sync (batches of 100)",
        format!("{:.0} entries/s", sync.rate),
        format!(
            "{} entries accepted, {} batches failed; {} per batch",
            sync.ok,
            sync.errors,
            sync.latency()
        ),
    ));

    // 5. Money runs, through the real jobs.
    let today = chrono::Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive();
    let billing = run_job(
        app,
        &seed.finance_token,
        "/v1/billing-runs",
        json!({"period_end": today.to_string()}),
        "billing run",
    )
    .await?;
    let lines = count(&db, "SELECT COUNT(*) FROM invoice_lines").await?;
    let invoices = count(&db, "SELECT COUNT(*) FROM invoices").await?;
    let accrued = billing.result["result"]["accrued"].as_i64().unwrap_or(-1);
    // The work itself, as the job's own progress shows it: from first seen running (if never
    // seen, from the POST: pick-up included) to its last invoice.
    let work = billing
        .work_done
        .map(|d| d - billing.queued)
        .unwrap_or(billing.elapsed);
    // Progress first seen at the end (within a poll of it): accrual and invoicing were not
    // seen apart.
    let apart = billing
        .first_progress
        .filter(|t| billing.queued + work > *t + Duration::from_millis(40));
    let accrual_note = match apart {
        None if billing.first_progress.is_some() => format!(
            "work {:.2} s = {lines} lines at {:.0}/s ({accrued} accrued; accrual and invoicing not seen apart: the first progress seen already read done); then {:.2} s until the queue marked it succeeded",
            work.as_secs_f64(),
            lines as f64 / work.as_secs_f64().max(1e-6),
            (billing.elapsed - billing.queued - work).as_secs_f64()
        ),
        Some(t) => format!(
            "work {:.2} s = {lines} lines at {:.0}/s: accruing {accrued} (batches of 500) {:.2} s ({:.0}/s), invoicing {:.2} s ({:.0} lines/s); then {:.2} s until the queue marked it succeeded",
            work.as_secs_f64(),
            lines as f64 / work.as_secs_f64().max(1e-6),
            (t - billing.queued).as_secs_f64(),
            accrued as f64 / (t - billing.queued).as_secs_f64().max(1e-6),
            (billing.queued + work - t).as_secs_f64(),
            lines as f64 / (billing.queued + work - t).as_secs_f64().max(1e-6),
            (billing.elapsed - billing.queued - work).as_secs_f64()
        ),
        None => format!("{accrued} accrued in the run"),
    };
    rows.push(row(
        "billing run",
        format!(
            "{:.0} assignments/s",
            lines as f64 / billing.elapsed.as_secs_f64()
        ),
        format!(
            "{lines} lines, {invoices} invoices in {:.2} s (first seen running after {:.2} s); {accrual_note}; target >= 5,000/s on PostgreSQL",
            billing.elapsed.as_secs_f64(),
            billing.queued.as_secs_f64()
        ),
    ));

    let payout = run_job(
        app,
        &seed.finance_token,
        "/v1/payout-batches",
        json!({}),
        "payout batch",
    )
    .await?;
    let paid = count(&db, "SELECT COUNT(*) FROM payout_lines").await?;
    rows.push(row(
        "payout batch",
        format!(
            "{:.0} workers/s",
            paid as f64 / payout.elapsed.as_secs_f64()
        ),
        format!(
            "{paid} lines in {:.2} s (first seen running after {:.2} s)",
            payout.elapsed.as_secs_f64(),
            payout.queued.as_secs_f64()
        ),
    ));

    let month = today.format("%Y-%m").to_string();
    let statements = run_job(
        app,
        &seed.finance_token,
        "/v1/statement-runs",
        json!({"month": month}),
        "statement run",
    )
    .await;
    match statements {
        Ok(st) => {
            let n = count_bind(
                &db,
                "SELECT COUNT(*) FROM statements WHERE month = $1",
                &month,
            )
            .await?;
            rows.push(row(
                "statement run",
                format!("{:.0} workers/s", n as f64 / st.elapsed.as_secs_f64()),
                format!(
                    "{n} statements for {month} in {:.2} s (first seen running after {:.2} s; provisional month; e-mails sent afterwards, not timed); target 20,000 in < 60 s",
                    st.elapsed.as_secs_f64(),
                    st.queued.as_secs_f64()
                ),
            ));
        }
        Err(e) => rows.push(row("statement run", "n/a".into(), format!("{e:#}"))),
    }

    // 6. Job latency: many small jobs of every kind a person starts, one after another.
    job_latency(&apis, layout, &db, &seed, &mut rows).await?;

    // 7. Bytes on the wire, as sent with and without compression.
    wire_bytes(app, &seed, clients, &mut rows).await?;

    // The books after all that: the product's own audit, timed (it reads the whole ledger).
    // Its own client: at full scale on SQLite, behind the e-mail backlog, it took over the test
    // client's 60 s, and a failed audit must still leave the memory rows and plans.
    let started = Instant::now();
    let audit = async {
        let r = reqwest::Client::builder()
            .timeout(Duration::from_secs(30 * 60))
            .build()?
            .get(app.url("/v1/ledger/audit"))
            .bearer_auth(&seed.finance_token)
            .send()
            .await?;
        let status = r.status().as_u16();
        Ok::<_, reqwest::Error>((status, r.text().await?))
    }
    .await;
    let took = started.elapsed().as_secs_f64();
    let audit_ok = matches!(&audit, Ok((200, text))
        if serde_json::from_str::<Value>(text).is_ok_and(|b| b["ok"] == true));
    rows.push(row(
        "ledger audit",
        format!("{} in {took:.2} s", if audit_ok { "ok" } else { "FAILED" }),
        match &audit {
            _ if audit_ok => {
                "GET /v1/ledger/audit: every invariant holds after the runs".to_string()
            }
            Ok((status, text)) => format!("GET /v1/ledger/audit answered {status}: {text}"),
            Err(e) => format!("GET /v1/ledger/audit: {e}"),
        },
    ));

    if layout.is_single() {
        let server = &product.api[0];
        let server_hwm = server.status_kb("VmHWM").unwrap_or(0);
        let server_rss = server.status_kb("VmRSS").unwrap_or(0);
        rows.push(row(
            "peak RSS (VmHWM) of the server",
            format!("{:.0} MB", server_hwm as f64 / 1024.0),
            format!(
                "the product's own process (API + worker), {:.0} MB at the end; target < 200 MB at full",
                server_rss as f64 / 1024.0
            ),
        ));
    } else {
        let what = if layout.workers == 0 {
            "API + worker"
        } else {
            "API, no worker"
        };
        rows.push(memory_row(
            "peak RSS (VmHWM) of an API process",
            &product.api,
            &format!("{} API processes ({what})", layout.api),
        ));
        if layout.workers > 0 {
            rows.push(memory_row(
                "peak RSS (VmHWM) of a worker process",
                &product.workers,
                &format!("{} worker-only processes", layout.workers),
            ));
        }
    }
    let hwm = proc_status_kb("VmHWM").unwrap_or(0);
    rows.push(row(
        "peak RSS (VmHWM) of the bench",
        format!("{:.0} MB", hwm as f64 / 1024.0),
        format!(
            "{clients} HTTP clients and the seed data, not the server (before start: {:.0} MB)",
            rss_before as f64 / 1024.0
        ),
    ));

    let plans = explain_plans(&db, &seed).await?;
    product.stop().await;

    // Results.
    println!();
    println!("== Vereda benchmark ==");
    println!("{}", header(args, layout, scale, clients, &version));
    println!();
    let rows = rows.rows;
    let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(10);
    let v = rows.iter().map(|r| r.value.len()).max().unwrap_or(10);
    println!("| {:w$} | {:>v$} | notes", "measure", "rate");
    println!("|-{}-|-{}-|------", "-".repeat(w), "-".repeat(v));
    for r in &rows {
        println!("| {:w$} | {:>v$} | {}", r.name, r.value, r.note);
    }
    println!();
    println!("== query plans ==");
    for (name, plan) in plans {
        println!("-- {name}");
        for line in plan {
            println!("   {line}");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The server process

fn bench_settings(url: &str, dir: &std::path::Path) -> Result<Settings> {
    let mut settings = Settings::for_database(url, dir)?;
    settings.admin_email = Some("admin@bench.test".into());
    settings.admin_password = Some(Secret::new("admin-password-for-bench"));
    // As an operator runs it: `GET /metrics` on, so the bench reads the server's own counters
    // (the task board's hits, the job pick-up histogram). Every request is counted as well.
    settings.metrics_token = Some(Secret::new(METRICS_TOKEN));
    Ok(settings)
}

/// `--serve`: the product exactly as `vereda-api` (role `all`: API and in-process worker;
/// `api`: as `--no-worker`) or `vereda-worker` (role `worker`) runs it, default settings,
/// until the bench closes our standard input (or dies).
async fn serve_product(url: &str, dir: &std::path::Path, role: Role) -> Result<()> {
    use std::io::Write;
    use tokio::io::AsyncReadExt;
    let stdin_closed = async {
        let mut sink = Vec::new();
        let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    };
    let settings = bench_settings(url, dir)?;
    if role == Role::Worker {
        // As worker/src/main.rs does: connect, migrate, run the workers.
        let db = Db::connect(
            url,
            &PoolSettings {
                max_connections: settings.db_max_connections,
                ..PoolSettings::default()
            },
        )
        .await?;
        db.migrate().await?;
        println!("ready");
        std::io::stdout().flush()?;
        let result = vereda_worker::run(db.clone(), Arc::new(settings), stdin_closed).await;
        db.close().await;
        return result;
    }
    let with_worker = role == Role::All;
    let app = Application::build(settings, RunOptions { with_worker }).await?;
    println!("listening {}", app.base_url());
    std::io::stdout().flush()?;
    app.run_until(stdin_closed).await
}

/// The product's processes: API processes (the clients' round-robin) and worker-only ones.
struct Product {
    api: Vec<Server>,
    workers: Vec<Server>,
}

impl Product {
    async fn start(url: &str, dir: &std::path::Path, layout: Layout) -> Result<Product> {
        let role = if layout.workers == 0 {
            Role::All
        } else {
            Role::Api
        };
        // One after another: each start migrates (safe at once on PostgreSQL, but simpler to
        // read when one fails).
        let mut api = Vec::new();
        for _ in 0..layout.api {
            api.push(Server::start(url, dir, role).await?);
        }
        let mut workers = Vec::new();
        for _ in 0..layout.workers {
            workers.push(Server::start(url, dir, Role::Worker).await?);
        }
        Ok(Product { api, workers })
    }

    /// Every process at once (each gets its shutdown grace).
    async fn stop(self) {
        let stops: Vec<_> = self
            .api
            .into_iter()
            .chain(self.workers)
            .map(|s| tokio::spawn(s.stop()))
            .collect();
        for s in stops {
            let _ = s.await;
        }
    }
}

/// The product in a child process.
struct Server {
    child: tokio::process::Child,
    /// Where it listens; empty for a worker-only process.
    base: String,
}

impl Server {
    async fn start(url: &str, dir: &std::path::Path, role: Role) -> Result<Server> {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .arg("--serve")
            .arg(url)
            .arg(dir)
            .arg("--serve-role")
            .arg(role.to_possible_value().context("role name")?.get_name())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("start the server process")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let base = loop {
            match lines.next_line().await? {
                Some(l) if l.starts_with("listening ") => {
                    break l["listening ".len()..].to_string();
                }
                Some(l) if role == Role::Worker && l == "ready" => break String::new(),
                Some(_) => continue,
                None => bail!("the server process ({role:?}) ended before it was ready"),
            }
        };
        Ok(Server { child, base })
    }

    /// A field of the server's /proc status, in kB.
    fn status_kb(&self, field: &str) -> Option<u64> {
        let pid = self.child.id()?;
        status_kb_of(&format!("/proc/{pid}/status"), field)
    }

    async fn stop(mut self) {
        drop(self.child.stdin.take());
        if tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// A row of the largest peak (VmHWM) among `servers`, with each one's.
fn memory_row(name: &str, servers: &[Server], what: &str) -> Row {
    let mb = |kb: u64| kb as f64 / 1024.0;
    let peaks: Vec<u64> = servers
        .iter()
        .map(|s| s.status_kb("VmHWM").unwrap_or(0))
        .collect();
    let rss = servers
        .iter()
        .filter_map(|s| s.status_kb("VmRSS"))
        .max()
        .unwrap_or(0);
    row(
        name,
        format!("{:.0} MB", mb(peaks.iter().copied().max().unwrap_or(0))),
        format!(
            "the largest of {what} (each: {} MB), largest {:.0} MB at the end; target < 200 MB at full",
            peaks
                .iter()
                .map(|&k| format!("{:.0}", mb(k)))
                .collect::<Vec<_>>()
                .join("/"),
            mb(rss)
        ),
    )
}

/// The clients' load balancer: each request goes to the next API process in turn (not each
/// client: a worker's listing pages follow `next_cursor` across processes).
#[derive(Clone)]
struct Front {
    bases: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
}

impl Front {
    fn new(bases: Vec<String>) -> Front {
        Front {
            bases: Arc::new(bases),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The base URL for the next request.
    fn base(&self) -> &str {
        // One process: no shared counter between the clients, as before multi-process runs.
        if self.bases.len() == 1 {
            return &self.bases[0];
        }
        &self.bases[self.next.fetch_add(1, Ordering::Relaxed) % self.bases.len()]
    }
}

// ---------------------------------------------------------------------------------------------
// Seeding

struct Seed {
    /// Bearer tokens of all workers, indexed like `worker_ids`.
    worker_tokens: Vec<String>,
    worker_ids: Vec<String>,
    /// How many skills each worker holds, indexed like `worker_ids`.
    worker_skills: Vec<usize>,
    /// Distinct skill sets among the workers (a board page is kept per skill set).
    skill_sets: usize,
    open_tasks: Vec<String>,
    /// One claimed assignment per client, for offline sync: (worker index, assignment id).
    sync_assignments: Vec<(usize, String)>,
    finance_token: String,
    company_ids: Vec<String>,
}

#[derive(Clone)]
enum V {
    T(String),
    I(i64),
    B(bool),
    /// NULL text.
    N,
    /// NULL integer.
    NI,
}

fn t(s: impl Into<String>) -> V {
    V::T(s.into())
}

/// Insert rows in multi-row statements, one transaction per chunk.
async fn insert(
    db: &Db,
    pb: &ProgressBar,
    table: &str,
    cols: &[&str],
    rows: Vec<Vec<V>>,
) -> Result<()> {
    let per = (30_000 / cols.len()).min(1_000);
    for chunk in rows.chunks(per) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
        let mut n = 0;
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for j in 0..cols.len() {
                if j > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                sql.push_str(&format!("${n}"));
            }
            sql.push(')');
        }
        let mut tx = db.begin().await?;
        on_tx!(&mut tx, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for r in chunk {
                for v in r {
                    q = match v {
                        V::T(s) => q.bind(s.clone()),
                        V::I(x) => q.bind(*x),
                        V::B(x) => q.bind(*x),
                        V::N => q.bind(None::<String>),
                        V::NI => q.bind(None::<i64>),
                    };
                }
            }
            q.execute(&mut *c).await.map(|_| ())
        })?;
        tx.commit().await?;
        pb.inc(chunk.len() as u64);
    }
    Ok(())
}

fn id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(
            "{msg:40} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec})",
        )
        .expect("template"),
    );
    pb.set_message(what.to_string());
    pb
}

/// A small deterministic generator (SplitMix64): the same seed gives the same skills on every
/// run, so runs stay comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// `k` distinct items of `from` (all of them if it has fewer).
    fn choose(&mut self, from: &[usize], k: usize) -> Vec<usize> {
        let mut pool = from.to_vec();
        let k = k.min(pool.len());
        for i in 0..k {
            let j = i + self.below(pool.len() - i);
            pool.swap(i, j);
        }
        pool.truncate(k);
        pool
    }
}

/// The worker who makes claim `j` (the claims phase and the seed agree on it): never one of
/// the first `clients` (the sync workers), round robin over the rest.
fn claimant(j: usize, clients: usize, workers: usize) -> usize {
    clients + j % (workers - clients)
}

async fn seed(db: &Db, s: Scale, clients: usize) -> Result<Seed> {
    let now = vereda_contracts::time::unix(vereda_contracts::time::now());

    // Skills, as indices into SKILLS: 1–4 per worker; 1–2 per task. A task someone claims
    // (claims phase) or works on (sync, money runs) requires only skills its worker holds;
    // the other open tasks draw theirs from the whole catalogue.
    let mut rng = Rng(SEED);
    let all: Vec<usize> = (0..SKILLS.len()).collect();
    let worker_skills: Vec<Vec<usize>> = (0..s.workers)
        .map(|_| {
            let k = 1 + rng.below(4);
            rng.choose(&all, k)
        })
        .collect();
    let skills_of_worker = |rng: &mut Rng, w: usize| {
        let k = 1 + rng.below(2);
        rng.choose(&worker_skills[w], k)
    };
    let money_skills: Vec<Vec<usize>> = (0..s.approved)
        .map(|i| skills_of_worker(&mut rng, i % s.workers))
        .collect();
    let sync_skills: Vec<Vec<usize>> = (0..clients)
        .map(|c| skills_of_worker(&mut rng, c))
        .collect();
    let open_skills: Vec<Vec<usize>> = (0..s.open_tasks)
        .map(|j| {
            if j < s.claims {
                skills_of_worker(&mut rng, claimant(j, clients, s.workers))
            } else {
                let k = 1 + rng.below(2);
                rng.choose(&all, k)
            }
        })
        .collect();
    let worker_skill_rows: usize = worker_skills.iter().map(Vec::len).sum();
    let task_skill_rows: usize = money_skills
        .iter()
        .chain(&sync_skills)
        .chain(&open_skills)
        .map(Vec::len)
        .sum();

    let total = (SKILLS.len() - CATALOGUE_SKILLS)
        + s.companies * 2
        + s.workers * 3
        + worker_skill_rows
        + 2
        + (s.open_tasks + clients + s.approved)
        + task_skill_rows
        + s.approved
        + clients
        + s.entries;
    let pb = bar(total as u64, "seeding (SQL)");
    let payout = r#"{"kind":"nequi","phone":"3105551234"}"#;

    insert(
        db,
        &pb,
        "skills",
        &["name", "label", "active", "created_at", "updated_at"],
        SKILLS[CATALOGUE_SKILLS..]
            .iter()
            .zip(NEW_SKILL_LABELS)
            .map(|(name, label)| vec![t(*name), t(label), V::B(true), V::I(now), V::I(now)])
            .collect(),
    )
    .await?;

    let company_ids: Vec<String> = (0..s.companies).map(|_| id()).collect();
    let owner_ids: Vec<String> = (0..s.companies).map(|_| id()).collect();
    insert(
        db,
        &pb,
        "companies",
        &[
            "id",
            "name",
            "nit",
            "billing_email",
            "created_at",
            "updated_at",
        ],
        company_ids
            .iter()
            .enumerate()
            .map(|(i, c)| {
                vec![
                    t(c),
                    t(format!("Empresa {i:05}")),
                    t(format!("9{i:08}-0")),
                    t(format!("facturas{i}@empresa.test")),
                    V::I(now),
                    V::I(now),
                ]
            })
            .collect(),
    )
    .await?;
    insert(
        db,
        &pb,
        "users",
        &[
            "id",
            "email",
            "name",
            "password_hash",
            "role",
            "company_id",
            "member_role",
            "worker_id",
            "created_at",
            "updated_at",
        ],
        owner_ids
            .iter()
            .zip(&company_ids)
            .enumerate()
            .map(|(i, (u, c))| {
                vec![
                    t(u),
                    t(format!("owner{i}@empresa.test")),
                    t("Dueño"),
                    t("x"),
                    t("company"),
                    t(c),
                    t("owner"),
                    V::N,
                    V::I(now),
                    V::I(now),
                ]
            })
            .collect(),
    )
    .await?;

    let worker_ids: Vec<String> = (0..s.workers).map(|_| id()).collect();
    let worker_users: Vec<String> = (0..s.workers).map(|_| id()).collect();
    insert(
        db,
        &pb,
        "worker_profiles",
        &[
            "id",
            "municipality",
            "department",
            "payout_method",
            "created_at",
            "updated_at",
        ],
        worker_ids
            .iter()
            .map(|w| {
                vec![
                    t(w),
                    t("Chaparral"),
                    t("Tolima"),
                    t(payout),
                    V::I(now),
                    V::I(now),
                ]
            })
            .collect(),
    )
    .await?;
    insert(
        db,
        &pb,
        "worker_skills",
        &["worker_id", "skill"],
        worker_ids
            .iter()
            .zip(&worker_skills)
            .flat_map(|(w, skills)| skills.iter().map(move |&k| vec![t(w), t(SKILLS[k])]))
            .collect(),
    )
    .await?;
    insert(
        db,
        &pb,
        "users",
        &[
            "id",
            "email",
            "name",
            "password_hash",
            "role",
            "company_id",
            "member_role",
            "worker_id",
            "created_at",
            "updated_at",
        ],
        worker_users
            .iter()
            .zip(&worker_ids)
            .enumerate()
            .map(|(i, (u, w))| {
                vec![
                    t(u),
                    t(format!("worker{i}@correo.test")),
                    t("Luz Teletrabajadora"),
                    t("x"),
                    t("worker"),
                    V::N,
                    V::N,
                    t(w),
                    V::I(now),
                    V::I(now),
                ]
            })
            .collect(),
    )
    .await?;
    let finance_user = id();
    insert(
        db,
        &pb,
        "users",
        &[
            "id",
            "email",
            "name",
            "password_hash",
            "role",
            "created_at",
            "updated_at",
        ],
        vec![vec![
            t(&finance_user),
            t("finanzas@bench.test"),
            t("Carolina Finanzas"),
            t("x"),
            t("finance"),
            V::I(now),
            V::I(now),
        ]],
    )
    .await?;
    let token_of = |user: &str| format!("vrd_bench_{user}");
    let expires = now + 30 * 86_400;
    let mut token_rows: Vec<Vec<V>> = worker_users
        .iter()
        .map(|u| vec![t(sha256_hex(&token_of(u))), t(u), V::I(now), V::I(expires)])
        .collect();
    token_rows.push(vec![
        t(sha256_hex(&token_of(&finance_user))),
        t(&finance_user),
        V::I(now),
        V::I(expires),
    ]);
    insert(
        db,
        &pb,
        "auth_tokens",
        &["token_hash", "user_id", "created_at", "expires_at"],
        token_rows,
    )
    .await?;

    // Tasks: open ones to list and claim, one per sync client, and closed ones with approved
    // work for the money runs.
    let task_cols = [
        "id",
        "company_id",
        "created_by",
        "title",
        "instructions",
        "category",
        "pricing_kind",
        "rate_centavos",
        "max_seconds",
        "slots",
        "claim_minutes",
        "review_hours",
        "deliverable_url_required",
        "min_minutes",
        "status",
        "created_at",
        "updated_at",
        "published_at",
        "lead_skill",
    ];
    // As the API's write_skills keeps it (migration 0025): the first of the task's skills.
    let lead = |skills: &[usize]| skills.iter().map(|&k| SKILLS[k]).min().unwrap_or("");
    let task_row = |tid: &str, i: usize, status: &str, skills: &[usize]| {
        let c = i % s.companies;
        vec![
            t(tid),
            t(&company_ids[c]),
            t(&owner_ids[c]),
            t(format!("Digitar formularios lote {i}")),
            t("Digitar los formularios escaneados en la hoja compartida."),
            t(CATEGORY),
            t("hourly"),
            V::I(RATE),
            V::I(10_000 * 3600),
            V::I(1),
            V::I(2880),
            V::I(72),
            V::B(false),
            V::I(0),
            t(status),
            V::I(now),
            V::I(now),
            V::I(now),
            t(lead(skills)),
        ]
    };
    let open_tasks: Vec<String> = (0..s.open_tasks).map(|_| id()).collect();
    let sync_tasks: Vec<String> = (0..clients).map(|_| id()).collect();
    let money_tasks: Vec<String> = (0..s.approved).map(|_| id()).collect();
    let mut rows = Vec::new();
    for (i, x) in money_tasks.iter().enumerate() {
        rows.push(task_row(x, i, "closed", &money_skills[i]));
    }
    for (i, x) in sync_tasks.iter().enumerate() {
        rows.push(task_row(x, i, "open", &sync_skills[i]));
    }
    for (i, x) in open_tasks.iter().enumerate() {
        rows.push(task_row(x, i, "open", &open_skills[i]));
    }
    insert(db, &pb, "tasks", &task_cols, rows).await?;
    let skill_rows = money_tasks
        .iter()
        .zip(&money_skills)
        .chain(sync_tasks.iter().zip(&sync_skills))
        .chain(open_tasks.iter().zip(&open_skills))
        .flat_map(|(x, skills)| skills.iter().map(move |&k| vec![t(x), t(SKILLS[k])]))
        .collect();
    insert(db, &pb, "task_skills", &["task_id", "skill"], skill_rows).await?;

    // Approved assignments (round robin over the workers, 30 min to 2 h each) and their time.
    let per_assignment = (s.entries / s.approved.max(1)).max(1);
    let mut a_rows = Vec::with_capacity(s.approved);
    let mut e_rows = Vec::with_capacity(s.entries);
    let day = 86_400;
    for (i, task) in money_tasks.iter().enumerate() {
        let a = id();
        let w = i % s.workers;
        let c = i % s.companies;
        let seconds = 1_800 + (i as i64 * 37) % 5_400;
        // Work done 40–45 days ago, approved two minutes ago (inside this month).
        let start = now - 45 * day + (i / s.workers) as i64 * 4 * 3600;
        a_rows.push(vec![
            t(&a),
            t(task),
            t(&worker_ids[w]),
            t(&company_ids[c]),
            t("approved"),
            V::I(start),
            V::I(start + 2 * day),
            V::I(start + 3 * 3600),
            V::I(seconds),
            V::I(seconds),
            V::I(now - 120),
            V::I(now - 120),
        ]);
        let piece = seconds / per_assignment as i64;
        for k in 0..per_assignment {
            let b = start + k as i64 * (piece + 1);
            e_rows.push(vec![
                t(id()),
                t(&a),
                t(&worker_ids[w]),
                V::I(b),
                V::I(b + piece),
                V::I(piece),
                t("timer"),
                V::I(b + piece),
                V::I(b + piece),
            ]);
        }
    }
    let a_cols = [
        "id",
        "task_id",
        "worker_id",
        "company_id",
        "status",
        "claimed_at",
        "expires_at",
        "submitted_at",
        "logged_seconds",
        "approved_seconds",
        "approved_at",
        "updated_at",
    ];
    insert(db, &pb, "assignments", &a_cols, a_rows).await?;
    // Claimed assignments for the sync clients: worker c, claimed 20 days ago, open 30 more.
    let mut sync_assignments = Vec::new();
    let mut s_rows = Vec::new();
    for (c, task) in sync_tasks.iter().enumerate() {
        let a = id();
        s_rows.push(vec![
            t(&a),
            t(task),
            t(&worker_ids[c]),
            t(&company_ids[c % s.companies]),
            t("claimed"),
            V::I(now - 20 * day),
            V::I(now + 30 * day),
            V::NI,
            V::NI,
            V::NI,
            V::NI,
            V::I(now),
        ]);
        sync_assignments.push((c, a));
    }
    insert(db, &pb, "assignments", &a_cols, s_rows).await?;
    insert(
        db,
        &pb,
        "time_entries",
        &[
            "id",
            "assignment_id",
            "worker_id",
            "started_at",
            "ended_at",
            "seconds",
            "source",
            "created_at",
            "updated_at",
        ],
        e_rows,
    )
    .await?;
    pb.finish();
    if let Db::Postgres(p) = db {
        sqlx::query("ANALYZE").execute(p).await?;
    }
    Ok(Seed {
        worker_tokens: worker_users.iter().map(|u| token_of(u)).collect(),
        worker_ids,
        worker_skills: worker_skills.iter().map(Vec::len).collect(),
        skill_sets: worker_skills
            .iter()
            .map(|k| {
                let mut k = k.clone();
                k.sort_unstable();
                k
            })
            .collect::<std::collections::HashSet<_>>()
            .len(),
        open_tasks,
        sync_assignments,
        finance_token: token_of(&finance_user),
        company_ids,
    })
}

// ---------------------------------------------------------------------------------------------
// Measurements

/// The database's ceiling: `clients` tasks each committing "update one row, read one row,
/// insert one row" (pgbench -N) through the server's own pool, for `seconds`.
async fn db_ceiling(db: &Db, clients: usize, seconds: u64) -> Result<f64> {
    const ACCOUNTS: i64 = 100_000;
    match db {
        Db::Sqlite(p) => {
            sqlx::query("CREATE TABLE bench_accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL, filler TEXT NOT NULL)")
                .execute(p)
                .await?;
            sqlx::query("CREATE TABLE bench_history (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, delta INTEGER NOT NULL, at INTEGER NOT NULL)")
                .execute(p)
                .await?;
            sqlx::query(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) \
                 INSERT INTO bench_accounts SELECT i, 0, printf('%80s', '') FROM n",
            )
            .execute(p)
            .await?;
        }
        Db::Postgres(p) => {
            sqlx::query("CREATE TABLE bench_accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL, filler TEXT NOT NULL)")
                .execute(p)
                .await?;
            sqlx::query("CREATE TABLE bench_history (id BIGSERIAL PRIMARY KEY, account_id BIGINT NOT NULL, delta BIGINT NOT NULL, at BIGINT NOT NULL)")
                .execute(p)
                .await?;
            sqlx::query(
                "INSERT INTO bench_accounts SELECT i, 0, repeat(' ', 80) FROM generate_series(1, 100000) i",
            )
            .execute(p)
            .await?;
            sqlx::query("ANALYZE bench_accounts").execute(p).await?;
        }
    }
    let done = Arc::new(AtomicU64::new(0));
    let pb = timed_bar(seconds, "db ceiling (pgbench -N shape)");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut handles = Vec::new();
    for c in 0..clients {
        let db = db.clone();
        let done = done.clone();
        handles.push(tokio::spawn(async move {
            let mut x = (c as i64 + 1) * 7_919;
            while Instant::now() < deadline {
                x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
                let account = x % ACCOUNTS + 1;
                let delta = x % 5_000 - 2_500;
                let mut tx = db.begin().await?;
                on_tx!(&mut tx, |c| async {
                    sqlx::query("UPDATE bench_accounts SET balance = balance + $1 WHERE id = $2")
                        .bind(delta)
                        .bind(account)
                        .execute(&mut *c)
                        .await?;
                    let _: i64 =
                        sqlx::query_scalar("SELECT balance FROM bench_accounts WHERE id = $1")
                            .bind(account)
                            .fetch_one(&mut *c)
                            .await?;
                    sqlx::query(
                        "INSERT INTO bench_history (account_id, delta, at) VALUES ($1, $2, $3)",
                    )
                    .bind(account)
                    .bind(delta)
                    .bind(x)
                    .execute(&mut *c)
                    .await
                    .map(|_| ())
                }
                .await)?;
                tx.commit().await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    tick(&pb, deadline).await;
    for h in handles {
        h.await??;
    }
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    pb.finish_with_message(format!("db ceiling: {rate:.0} tx/s"));
    Ok(rate)
}

fn timed_bar(seconds: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(seconds * 10);
    pb.set_style(
        ProgressStyle::with_template("{msg:40} [{elapsed_precise}] {wide_bar} {percent}%")
            .expect("template"),
    );
    pb.set_message(what.to_string());
    pb
}

async fn tick(pb: &ProgressBar, deadline: Instant) {
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        pb.inc(1);
    }
}

/// Rate and latencies of one HTTP phase.
struct Measured {
    rate: f64,
    ok: u64,
    errors: u64,
    latencies: Vec<Duration>,
}

impl Measured {
    fn latency(&self) -> String {
        let mut l = self.latencies.clone();
        if l.is_empty() {
            return "no samples".into();
        }
        l.sort();
        let p = |q: f64| l[((l.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
        format!("p50 {:.1} ms, p99 {:.1} ms", p(0.5), p(0.99))
    }
}

/// `clients` loops sending GETs chosen by `pick(client, i)` for `seconds`.
async fn timed_http<F>(
    app: &TestApp,
    front: &Front,
    clients: usize,
    seconds: u64,
    what: &str,
    pick: F,
) -> Result<Measured>
where
    F: Fn(usize, usize) -> (String, Option<String>) + Send + Sync + 'static,
{
    let pick = Arc::new(pick);
    let pb = timed_bar(seconds, what);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut handles = Vec::new();
    for c in 0..clients {
        let client = app.client.clone();
        let front = front.clone();
        let pick = pick.clone();
        handles.push(tokio::spawn(async move {
            let (mut ok, mut errors, mut lat) = (0u64, 0u64, Vec::new());
            let mut i = 0;
            while Instant::now() < deadline {
                let (path, token) = pick(c, i);
                i += 1;
                let mut req = client.get(format!("{}{path}", front.base()));
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                let t0 = Instant::now();
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        ok += 1;
                        lat.push(t0.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (ok, errors, lat)
        }));
    }
    tick(&pb, deadline).await;
    let mut m = Measured {
        rate: 0.0,
        ok: 0,
        errors: 0,
        latencies: Vec::new(),
    };
    for h in handles {
        let (ok, errors, lat) = h.await?;
        m.ok += ok;
        m.errors += errors;
        m.latencies.extend(lat);
    }
    m.rate = m.ok as f64 / started.elapsed().as_secs_f64();
    pb.finish_with_message(format!("{what}: {:.0}/s", m.rate));
    Ok(m)
}

/// `scale.claims` claims on distinct open tasks, by workers other than the sync ones, each by
/// the worker the seed chose the task's skills for ([`claimant`]).
async fn claims(
    app: &TestApp,
    front: &Front,
    seed: &Seed,
    scale: Scale,
    clients: usize,
) -> Result<Measured> {
    let n = scale.claims.min(seed.open_tasks.len());
    let pb = bar(n as u64, "claims");
    let tasks = Arc::new(seed.open_tasks.clone());
    let tokens = Arc::new(seed.worker_tokens.clone());
    let workers = seed.worker_tokens.len();
    let started = Instant::now();
    let mut handles = Vec::new();
    for c in 0..clients {
        let (client, front, tasks, tokens, pb) = (
            app.client.clone(),
            front.clone(),
            tasks.clone(),
            tokens.clone(),
            pb.clone(),
        );
        handles.push(tokio::spawn(async move {
            let (mut ok, mut errors, mut lat) = (0u64, 0u64, Vec::new());
            let mut first_error = None;
            for j in (c..n).step_by(clients) {
                // The seed gave task j only skills this worker holds.
                let token = &tokens[claimant(j, clients, workers)];
                let t0 = Instant::now();
                let r = client
                    .post(format!("{}/v1/tasks/{}/claims", front.base(), tasks[j]))
                    .bearer_auth(token)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let _ = r.bytes().await;
                        ok += 1;
                        lat.push(t0.elapsed());
                    }
                    Ok(r) => {
                        errors += 1;
                        if first_error.is_none() {
                            first_error = Some(format!(
                                "{} {}",
                                r.status(),
                                r.text().await.unwrap_or_default()
                            ));
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e.to_string());
                    }
                }
                pb.inc(1);
            }
            (ok, errors, lat, first_error)
        }));
    }
    let mut m = Measured {
        rate: 0.0,
        ok: 0,
        errors: 0,
        latencies: Vec::new(),
    };
    for h in handles {
        let (ok, errors, lat, first) = h.await?;
        m.ok += ok;
        m.errors += errors;
        m.latencies.extend(lat);
        if let Some(e) = first {
            pb.println(format!("claim failed: {e}"));
        }
    }
    m.rate = m.ok as f64 / started.elapsed().as_secs_f64();
    pb.finish_with_message(format!("claims: {:.0}/s", m.rate));
    Ok(m)
}

fn rfc(t: i64) -> String {
    vereda_contracts::time::from_unix(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Each client uploads `sync_batches` batches of 100 offline entries for its own assignment.
/// Entries are 30 s long every 36 s; a batch covers one hour, eight batches a Bogotá day
/// (06:00–14:00), counting back from yesterday, inside the 14-day window and the daily limit.
async fn sync(
    app: &TestApp,
    front: &Front,
    seed: &Seed,
    scale: Scale,
    clients: usize,
) -> Result<Measured> {
    let total = (clients * scale.sync_batches) as u64;
    let pb = bar(total, "offline sync batches");
    let today = chrono::Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive();
    let mut handles = Vec::new();
    let started = Instant::now();
    for (w, assignment) in seed.sync_assignments.iter().cloned() {
        let token = seed.worker_tokens[w].clone();
        let (client, front, pb) = (app.client.clone(), front.clone(), pb.clone());
        let batches = scale.sync_batches;
        handles.push(tokio::spawn(async move {
            let (mut ok, mut errors, mut lat) = (0u64, 0u64, Vec::new());
            let mut first_error = None;
            for b in 0..batches {
                let day = today - chrono::Days::new(1 + (b / 8) as u64);
                let start = vereda_contracts::time::BOGOTA
                    .from_local_datetime(&day.and_hms_opt(6 + (b % 8) as u32, 0, 0).unwrap())
                    .single()
                    .map(|t| t.timestamp())
                    .unwrap_or(0);
                let entries: Vec<Value> = (0..SYNC_BATCH)
                    .map(|k| {
                        let s = start + k as i64 * 36;
                        json!({"client_id": format!("tel-{b}-{k}"), "assignment_id": assignment,
                               "started_at": rfc(s), "ended_at": rfc(s + 30), "source": "offline"})
                    })
                    .collect();
                let t0 = Instant::now();
                let r = client
                    .post(format!("{}/v1/time-entries/sync", front.base()))
                    .bearer_auth(&token)
                    .json(&json!({ "entries": entries }))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let body: Value = r.json().await.unwrap_or(Value::Null);
                        let accepted = body["accepted"].as_u64().unwrap_or(0);
                        ok += accepted;
                        lat.push(t0.elapsed());
                        if accepted < SYNC_BATCH as u64 && first_error.is_none() {
                            first_error = Some(format!("batch partly rejected: {body}"));
                        }
                    }
                    Ok(r) => {
                        errors += 1;
                        first_error.get_or_insert(format!(
                            "{} {}",
                            r.status(),
                            r.text().await.unwrap_or_default()
                        ));
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e.to_string());
                    }
                }
                pb.inc(1);
            }
            (ok, errors, lat, first_error)
        }));
    }
    let mut m = Measured {
        rate: 0.0,
        ok: 0,
        errors: 0,
        latencies: Vec::new(),
    };
    for h in handles {
        let (ok, errors, lat, first) = h.await?;
        m.ok += ok;
        m.errors += errors;
        m.latencies.extend(lat);
        if let Some(e) = first {
            pb.println(format!("sync: {}", truncate(&e, 300)));
        }
    }
    m.rate = m.ok as f64 / started.elapsed().as_secs_f64();
    pb.finish_with_message(format!("offline sync: {:.0} entries/s", m.rate));
    Ok(m)
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

struct JobRun {
    /// From the POST until the job was first seen `running`: the queue's pick-up (an idle
    /// worker polls every 1–5 s). Zero when it was never seen `running` (apalis-sqlite can
    /// show a running job as queued until it ends); then the pick-up counts as work.
    queued: Duration,
    /// From the POST to `succeeded` (±20 ms), queue pick-up included.
    elapsed: Duration,
    /// When the job first reported progress (for a billing run: accrual done, invoicing
    /// begins), from the POST.
    first_progress: Option<Duration>,
    /// When its progress first read `done == total` (a billing run's last invoice committed),
    /// from the POST: the end of the work, before apalis marks the job succeeded.
    work_done: Option<Duration>,
    result: Value,
}

/// Start a job over HTTP and follow it at `GET /v1/jobs/{id}` every 20 ms.
async fn run_job(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Value,
    what: &str,
) -> Result<JobRun> {
    let pb = ProgressBar::new(1);
    pb.set_style(
        ProgressStyle::with_template("{msg:40} [{elapsed_precise}] {wide_bar} {pos}/{len}")
            .expect("template"),
    );
    pb.set_message(what.to_string());
    let started = Instant::now();
    let r = app.post(path, Some(token), body).await;
    if r.status != 202 {
        pb.abandon();
        bail!("{path} answered {}: {}", r.status, truncate(&r.text, 300));
    }
    let job_id = r.body["job_id"].as_str().context("job_id")?.to_string();
    let (mut first_progress, mut running, mut work_done) = (None, None, None);
    loop {
        let j = app.get(&format!("/v1/jobs/{job_id}"), Some(token)).await;
        let seen = started.elapsed();
        let progress = j.body.get("progress").filter(|p| !p.is_null());
        if j.body["status"] == "running" {
            running.get_or_insert(seen);
        }
        if let Some(p) = progress {
            first_progress.get_or_insert(seen);
            if p["total"].as_u64().unwrap_or(0) > 0 && p["done"] == p["total"] {
                work_done.get_or_insert(seen);
            }
            let total = p["total"].as_u64().unwrap_or(1).max(1);
            pb.set_length(total);
            pb.set_position(p["done"].as_u64().unwrap_or(0));
        }
        match j.body["status"].as_str() {
            Some("succeeded") => {
                let (queued, elapsed) = (running.unwrap_or_default(), seen);
                pb.finish_with_message(format!("{what}: {:.2} s", elapsed.as_secs_f64()));
                return Ok(JobRun {
                    queued,
                    elapsed,
                    work_done,
                    first_progress,
                    result: j.body,
                });
            }
            Some("failed") => {
                pb.abandon();
                bail!("{what} failed: {}", truncate(&j.text, 500));
            }
            _ => {}
        }
        if started.elapsed() > Duration::from_secs(3_600) {
            bail!("{what} did not finish within an hour");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Listing as people list

/// `clients` loops for `seconds`, each as one worker after another (the next of all the
/// workers' tokens each time): the first page of `GET /v1/tasks?limit=50`, then up to
/// [`LISTING_PAGES`] in all by following `next_cursor`. Every page is one request in the
/// rate and the latencies. Also returns how many first, second and third pages were read.
async fn listing(
    app: &TestApp,
    front: &Front,
    seed: &Seed,
    clients: usize,
    seconds: u64,
) -> Result<(Measured, [u64; LISTING_PAGES])> {
    let tokens = Arc::new(seed.worker_tokens.clone());
    let pb = timed_bar(seconds, "GET /v1/tasks, 3 pages (workers)");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut handles = Vec::new();
    for c in 0..clients {
        let (client, front, tokens) = (app.client.clone(), front.clone(), tokens.clone());
        handles.push(tokio::spawn(async move {
            let (mut ok, mut errors, mut lat) = (0u64, 0u64, Vec::new());
            let mut pages = [0u64; LISTING_PAGES];
            let mut round = 0;
            'workers: while Instant::now() < deadline {
                let token = &tokens[(clients + c + round * clients) % tokens.len()];
                round += 1;
                let mut cursor: Option<String> = None;
                for page in pages.iter_mut() {
                    if Instant::now() >= deadline {
                        break 'workers;
                    }
                    let base = front.base();
                    let url = match &cursor {
                        None => format!("{base}/v1/tasks?limit=50"),
                        Some(k) => format!("{base}/v1/tasks?limit=50&cursor={k}"),
                    };
                    let t0 = Instant::now();
                    match client.get(url).bearer_auth(token).send().await {
                        Ok(r) if r.status().is_success() => match r.bytes().await {
                            Ok(body) => {
                                ok += 1;
                                lat.push(t0.elapsed());
                                *page += 1;
                                cursor = next_cursor(&body);
                                if cursor.is_none() {
                                    break;
                                }
                            }
                            Err(_) => {
                                errors += 1;
                                break;
                            }
                        },
                        _ => {
                            errors += 1;
                            break;
                        }
                    }
                }
            }
            (ok, errors, lat, pages)
        }));
    }
    tick(&pb, deadline).await;
    let mut m = Measured {
        rate: 0.0,
        ok: 0,
        errors: 0,
        latencies: Vec::new(),
    };
    let mut pages = [0u64; LISTING_PAGES];
    for h in handles {
        let (ok, errors, lat, p) = h.await?;
        m.ok += ok;
        m.errors += errors;
        m.latencies.extend(lat);
        for (sum, n) in pages.iter_mut().zip(p) {
            *sum += n;
        }
    }
    m.rate = m.ok as f64 / started.elapsed().as_secs_f64();
    pb.finish_with_message(format!("listing: {:.0}/s", m.rate));
    Ok((m, pages))
}

/// A task page's `next_cursor`, read off the end of the body (the field comes last) without
/// parsing the 40 kB page; the whole page is parsed only if the tail does not say.
fn next_cursor(body: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"\"next_cursor\":\"";
    let tail = &body[body.len().saturating_sub(256)..];
    if let Some(at) = tail.windows(KEY.len()).rposition(|w| w == KEY) {
        let rest = &tail[at + KEY.len()..];
        let end = rest.iter().position(|&b| b == b'"')?;
        return std::str::from_utf8(&rest[..end]).ok().map(str::to_string);
    }
    let v: Value = serde_json::from_slice(body).ok()?;
    v["next_cursor"].as_str().map(str::to_string)
}

// ---------------------------------------------------------------------------------------------
// The server's own numbers (`GET /metrics`)

/// One sample of a scrape: name, labels, value.
type Sample = (String, Vec<(String, String)>, f64);

/// A scrape of `GET /metrics` on every API process: every sample, by process. Counters and
/// histograms are each process's own, so they add up over the processes; the gauges read from
/// the database at scrape time (queue, outbox) are the same in each, so they are read from
/// the first.
struct Metrics(Vec<Vec<Sample>>);

/// Whether sample labels `l` include all of `labels`.
fn has_labels(l: &[(String, String)], labels: &[(&str, &str)]) -> bool {
    labels
        .iter()
        .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
}

impl Metrics {
    /// The sum over the processes of the sample `name` whose labels include all of `labels`
    /// (a counter), 0 where there is none (a counter appears at its first increment).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter_map(|p| {
                p.iter()
                    .find(|(n, l, _)| n == name && has_labels(l, labels))
                    .map(|s| s.2)
            })
            .sum()
    }

    /// The sum of the samples `name` whose labels include all of `labels` (a counter over its
    /// other labels), over the processes.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .flatten()
            .filter(|(n, l, _)| n == name && has_labels(l, labels))
            .map(|s| s.2)
            .sum()
    }

    /// The gauge `name` whose labels include all of `labels`, as the first process read it, if
    /// its scrape has it.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.0
            .first()?
            .iter()
            .find(|(n, l, _)| n == name && has_labels(l, labels))
            .map(|s| s.2)
    }

    /// The values of label `label` on the samples named `name`, each once, in order.
    fn label_values(&self, name: &str, label: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .0
            .iter()
            .flatten()
            .filter(|(n, _, _)| n == name)
            .filter_map(|(_, l, _)| l.iter().find(|(k, _)| k == label).map(|(_, v)| v.clone()))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The cumulative buckets `(le, count)` of histogram `name` whose labels include all of
    /// `labels`, by `le`, added up over the processes (they share the bucket bounds).
    fn buckets(&self, name: &str, labels: &[(&str, &str)]) -> Vec<(f64, f64)> {
        let bucket = format!("{name}_bucket");
        let mut out: Vec<(f64, f64)> = Vec::new();
        for (_, l, v) in self
            .0
            .iter()
            .flatten()
            .filter(|(n, l, _)| *n == bucket && has_labels(l, labels))
        {
            let Some((_, le)) = l.iter().find(|(k, _)| k == "le") else {
                continue;
            };
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                match le.parse() {
                    Ok(le) => le,
                    Err(_) => continue,
                }
            };
            match out.iter_mut().find(|(b, _)| *b == le) {
                Some(b) => b.1 += v,
                None => out.push((le, *v)),
            }
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }
}

/// `GET /metrics` on every API process.
async fn scrape_metrics(apis: &[TestApp]) -> Result<Metrics> {
    let mut out = Vec::new();
    for app in apis {
        let r = app.get("/metrics", Some(METRICS_TOKEN)).await;
        if r.status != 200 {
            bail!(
                "GET {}/metrics answered {}: {}",
                app.base,
                r.status,
                truncate(&r.text, 300)
            );
        }
        out.push(parse_prometheus(&r.text));
    }
    Ok(Metrics(out))
}

/// The Prometheus text format's samples (`name{k="v",…} value`), comments skipped.
fn parse_prometheus(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, labels, rest) = match line.find('{') {
            Some(open) => {
                let mut labels = Vec::new();
                let mut chars = line[open + 1..].char_indices();
                let mut end = None;
                let (mut key, mut value, mut in_value) = (String::new(), String::new(), false);
                while let Some((i, ch)) = chars.next() {
                    match (in_value, ch) {
                        (false, '}') => {
                            end = Some(open + 1 + i + 1);
                            break;
                        }
                        (false, '=') => {}
                        (false, ',') => {}
                        (false, '"') => in_value = true,
                        (false, ch) => key.push(ch),
                        (true, '\\') => match chars.next() {
                            Some((_, 'n')) => value.push('\n'),
                            Some((_, other)) => value.push(other),
                            None => {}
                        },
                        (true, '"') => {
                            labels.push((
                                std::mem::take(&mut key).trim().to_string(),
                                std::mem::take(&mut value),
                            ));
                            in_value = false;
                        }
                        (true, ch) => value.push(ch),
                    }
                }
                let Some(end) = end else { continue };
                (&line[..open], labels, &line[end..])
            }
            None => match line.split_once(' ') {
                Some((name, rest)) => (name, Vec::new(), rest),
                None => continue,
            },
        };
        let Some(value) = rest
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok())
        else {
            continue;
        };
        out.push((name.trim().to_string(), labels, value));
    }
    out
}

/// The upper bound of the bucket holding quantile `q` of the observations between two scrapes
/// (cumulative bucket counts, `after - before`), or `None` with no observations.
fn bucket_quantile(before: &[(f64, f64)], after: &[(f64, f64)], q: f64) -> Option<f64> {
    let delta: Vec<(f64, f64)> = after
        .iter()
        .map(|&(le, n)| {
            let was = before
                .iter()
                .find(|(b, _)| *b == le)
                .map_or(0.0, |&(_, n)| n);
            (le, n - was)
        })
        .collect();
    let total = delta.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = (q * total).ceil().max(1.0);
    delta.iter().find(|(_, n)| *n >= rank).map(|&(le, _)| le)
}

/// A bucket bound for people: `≤ 10 ms`, `≤ 2.5 s`, `> 120 s`.
fn bound(le: f64, last_finite: f64) -> String {
    if le.is_infinite() {
        format!("> {}", seconds_text(last_finite))
    } else {
        format!("≤ {}", seconds_text(le))
    }
}

fn seconds_text(s: f64) -> String {
    let (v, unit) = if s < 1.0 {
        (s * 1000.0, "ms")
    } else {
        (s, "s")
    };
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {unit}")
}

// ---------------------------------------------------------------------------------------------
// Job latency: many small jobs

/// One kind of job a person starts: its name in the rows and, for run `i`, where to POST and
/// what.
struct JobKind {
    name: &'static str,
    start: Box<dyn Fn(usize) -> (String, Value) + Send + Sync>,
    note: String,
}

/// Where one small job's time went, from just before its POST.
struct JobSample {
    /// First seen in any state past `queued` (running, succeeded), and whether that state was
    /// `running`.
    picked: Duration,
    seen_running: bool,
    /// First seen `succeeded`.
    done: Duration,
}

/// [`JOB_RUNS`] small jobs of each kind, one after another, each followed every
/// [`JOB_POLL`]; the server's own pick-up histogram read before and after.
async fn job_latency(
    apis: &[TestApp],
    layout: Layout,
    db: &Db,
    seed: &Seed,
    rows: &mut Results,
) -> Result<()> {
    let app = &apis[0];
    let today = chrono::Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive();
    let period_end = today.to_string();
    let first_of_month = today.with_day(1).context("first of the month")?;
    let last_month = (first_of_month - chrono::Days::new(1))
        .format("%Y-%m")
        .to_string();
    let last_year = today.year() - 1;
    let invoices: Vec<String> = on_db!(db, |p| sqlx::query_scalar(
        "SELECT id FROM invoices ORDER BY id"
    )
    .fetch_all(p)
    .await)?;
    let mut kinds = vec![
        JobKind {
            name: "billing run",
            start: Box::new(move |_| {
                (
                    "/v1/billing-runs".to_string(),
                    json!({"period_end": period_end}),
                )
            }),
            note: "the period of the first run again: nothing left to accrue or invoice".into(),
        },
        JobKind {
            name: "payout batch",
            start: Box::new(|_| ("/v1/payout-batches".to_string(), json!({}))),
            note: "nobody owed any more: an empty batch (the owed-workers query still runs)"
                .into(),
        },
        JobKind {
            name: "statement run",
            start: Box::new(move |_| {
                (
                    "/v1/statement-runs".to_string(),
                    json!({"month": last_month}),
                )
            }),
            note: "last month, which has no work or payouts: no worker to build (a repeat of this month's run would rebuild every worker's figures)".into(),
        },
        JobKind {
            name: "certificate run",
            start: Box::new(move |_| {
                (
                    "/v1/certificate-runs".to_string(),
                    json!({"year": last_year}),
                )
            }),
            note: format!(
                "{last_year}, which has no payout lines: no worker to build (this year's run would take every worker with a payout line, one transaction each)"
            ),
        },
    ];
    if !invoices.is_empty() {
        let n = invoices.len();
        kinds.push(JobKind {
            name: "payment",
            start: Box::new(move |i| {
                (
                    format!("/v1/invoices/{}/payments", invoices[i % n]),
                    json!({
                        "amount": "1",
                        "paid_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        "reference": format!("BENCH-{i:05}"),
                    }),
                )
            }),
            note: format!("1 peso on one of the {n} invoices each, posted to the ledger"),
        });
    }
    let pb = bar(
        (kinds.len() * JOB_RUNS) as u64,
        &format!("job latency ({JOB_RUNS} of each kind)"),
    );
    // The earlier phases leave work behind: statement e-mails in the outbox, and invoices and
    // payouts that the e-mail sweep (every 60 s) turns into ~one e-mail per worker. Each small
    // job would queue behind them, so wait (up to 10 min) for a sweep to have run since (two
    // if a job was running at the start: that sweep may have begun before the money runs
    // ended) and then for the queue to have nothing waiting or running and the outbox nothing
    // pending.
    let quiet = Instant::now();
    let mut quiet_note = String::new();
    let sweep = [("kind", "vereda.mail-sweep")];
    let runs = vereda_store::metrics::JOB_RUNS;
    // Worker-only processes serve no /metrics: then the queue's own table says.
    let sweeps = async |m: &Metrics| -> Result<f64> {
        if layout.workers == 0 {
            return Ok(m.sum(runs, &sweep));
        }
        let n: i64 = on_db!(db, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM apalis.jobs WHERE job_type = $1 AND status = 'Done'"
        )
        .bind(vereda_contracts::jobs::MailSweep::QUEUE)
        .fetch_one(p)
        .await)?;
        Ok(n as f64)
    };
    let first = scrape_metrics(apis).await?;
    let sweeps_needed = sweeps(&first).await?
        + if first.get("vereda_jobs", &[("state", "running")]) > Some(0.0) {
            2.0
        } else {
            1.0
        };
    loop {
        let m = scrape_metrics(apis).await?;
        let swept = sweeps(&m).await? >= sweeps_needed;
        let [waiting, running, pending] = [
            m.get("vereda_jobs", &[("state", "waiting")]),
            m.get("vereda_jobs", &[("state", "running")]),
            m.get("vereda_emails", &[("state", "pending")]),
        ];
        // A gauge the scrape could not read (`vereda_scrape_error`) is absent: not quiet.
        let quiet_now = swept && [waiting, running, pending].iter().all(|v| *v == Some(0.0));
        if quiet_now || quiet.elapsed() > Duration::from_secs(600) {
            pb.suspend(|| {
                eprintln!(
                    "job latency: started after {:.1} s waiting for an e-mail sweep and an empty queue (swept: {swept}; jobs waiting {waiting:?}, running {running:?}; e-mails pending {pending:?})",
                    quiet.elapsed().as_secs_f64()
                )
            });
            if !quiet_now {
                quiet_note = format!(
                    "; NOT QUIET after 10 min (swept: {swept}, jobs waiting {waiting:?}, running {running:?}, e-mails pending {pending:?})"
                );
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let waited = quiet.elapsed();
    let before = scrape_metrics(apis).await?;
    for kind in &kinds {
        let started = Instant::now();
        let mut samples = Vec::new();
        let mut failure = None;
        for i in 0..JOB_RUNS {
            if started.elapsed() > JOB_KIND_BUDGET {
                break;
            }
            let (path, body) = (kind.start)(i);
            match small_job(app, &seed.finance_token, &path, body).await {
                Ok(s) => samples.push(s),
                Err(e) => {
                    failure = Some(format!("{e:#}"));
                    break;
                }
            }
            pb.inc(1);
        }
        if samples.is_empty() {
            rows.push(row(
                &format!("job latency: {}", kind.name),
                "n/a".into(),
                failure.unwrap_or_default(),
            ));
            continue;
        }
        let n = samples.len();
        let done = percentiles(samples.iter().map(|s| s.done).collect());
        let picked = percentiles(samples.iter().map(|s| s.picked).collect());
        let running = samples.iter().filter(|s| s.seen_running).count();
        let pickup = if running == 0 {
            format!(
                "pick-up not observable: never seen running in {n} runs (queued until succeeded)"
            )
        } else {
            format!(
                "pick-up (to first seen running or later) p50 {:.1} ms, p99 {:.1} ms, seen running in {running} of {n}",
                picked.0, picked.1
            )
        };
        rows.push(row(
            &format!("job latency: {}", kind.name),
            format!("p50 {:.1} ms", done.0),
            format!(
                "request to succeeded visible p50 {:.1} ms, p99 {:.1} ms; {pickup}; {n} runs one after another, polled every {} ms, after {:.0} s waiting for an e-mail sweep and an empty queue{quiet_note}; {}{}",
                done.0,
                done.1,
                JOB_POLL.as_millis(),
                waited.as_secs_f64(),
                kind.note,
                failure
                    .map(|e| format!("; STOPPED: {}", truncate(&e, 200)))
                    .unwrap_or_default()
            ),
        ));
    }
    pb.finish_with_message("job latency");
    let pickup = vereda_store::metrics::JOB_PICKUP;
    if layout.workers > 0 {
        // The histograms are recorded where a job runs; the API processes run none.
        rows.push(row(
            "job pick-up (server histogram)",
            "n/a".into(),
            format!(
                "n/a (worker processes serve no /metrics): {pickup} is recorded by the process that runs the job; the client-measured latencies above stand"
            ),
        ));
        return Ok(());
    }
    let after = scrape_metrics(apis).await?;
    let job_kinds = after.label_values(&format!("{pickup}_bucket"), "kind");
    if job_kinds.is_empty() {
        rows.push(row(
            "job pick-up (server histogram)",
            "n/a".into(),
            format!("no {pickup} on /metrics"),
        ));
    }
    let run = vereda_store::metrics::JOB_RUN_DURATION;
    for kind in job_kinds {
        let by_kind = [("kind", kind.as_str())];
        let (b, a) = (
            before.buckets(pickup, &by_kind),
            after.buckets(pickup, &by_kind),
        );
        // How long its runs took (the work, as the worker timed it), to tell the work from
        // the queue in "request to succeeded visible".
        let ok_runs = [("kind", kind.as_str()), ("outcome", "ok")];
        let (rb, ra) = (before.buckets(run, &ok_runs), after.buckets(run, &ok_runs));
        let runs = match (
            bucket_quantile(&rb, &ra, 0.5),
            bucket_quantile(&rb, &ra, 0.99),
        ) {
            (Some(p50), Some(p99)) => {
                let last = ra
                    .iter()
                    .rev()
                    .find(|(le, _)| le.is_finite())
                    .map_or(0.0, |x| x.0);
                format!(
                    "; its runs took p50 {}, p99 {} ({run})",
                    bound(p50, last),
                    bound(p99, last)
                )
            }
            _ => String::new(),
        };
        let last_finite = a
            .iter()
            .rev()
            .find(|(le, _)| le.is_finite())
            .map_or(0.0, |x| x.0);
        let count = a.last().map_or(0.0, |x| x.1) - b.last().map_or(0.0, |x| x.1);
        let name = format!("job pick-up (server histogram): {kind}");
        match (
            bucket_quantile(&b, &a, 0.5),
            bucket_quantile(&b, &a, 0.99),
        ) {
            (Some(p50), Some(p99)) => rows.push(row(
                &name,
                format!("p50 {}", bound(p50, last_finite)),
                format!(
                    "p99 {}; {count:.0} pick-ups during the job-latency phase ({pickup} bucket deltas, {} buckets, finest ≤ {}){runs}",
                    bound(p99, last_finite),
                    a.len(),
                    a.first().map_or("?".into(), |x| seconds_text(x.0))
                ),
            )),
            _ => rows.push(row(
                &name,
                "no pick-ups".into(),
                format!(
                    "none during the job-latency phase ({:.0} since the server started)",
                    a.last().map_or(0.0, |x| x.1)
                ),
            )),
        }
    }
    Ok(())
}

/// p50 and p99 in milliseconds (the same rank rule as [`Measured::latency`]).
fn percentiles(mut l: Vec<Duration>) -> (f64, f64) {
    l.sort();
    let p = |q: f64| l[((l.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
    (p(0.5), p(0.99))
}

/// Start one job and follow it every [`JOB_POLL`] until it succeeds.
async fn small_job(app: &TestApp, token: &str, path: &str, body: Value) -> Result<JobSample> {
    let started = Instant::now();
    let r = app.post(path, Some(token), body).await;
    if r.status != 202 {
        bail!("{path} answered {}: {}", r.status, truncate(&r.text, 300));
    }
    let job_id = r.body["job_id"].as_str().context("job_id")?.to_string();
    let (mut picked, mut seen_running) = (None, false);
    loop {
        let j = app.get(&format!("/v1/jobs/{job_id}"), Some(token)).await;
        let seen = started.elapsed();
        match j.body["status"].as_str() {
            Some("queued") => {}
            Some("running") => {
                picked.get_or_insert(seen);
                seen_running = true;
            }
            Some("succeeded") => {
                return Ok(JobSample {
                    picked: picked.unwrap_or(seen),
                    seen_running,
                    done: seen,
                });
            }
            Some("failed") => bail!("{path}: job failed: {}", truncate(&j.text, 300)),
            _ => bail!(
                "GET /v1/jobs/{job_id} answered {}: {}",
                j.status,
                truncate(&j.text, 300)
            ),
        }
        if seen > Duration::from_secs(120) {
            bail!("{path}: job {job_id} not done after 120 s");
        }
        tokio::time::sleep(JOB_POLL).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Bytes on the wire

/// Body bytes of each answer as sent (`Accept-Encoding` absent, `gzip`, `br`), read raw.
async fn wire_bytes(app: &TestApp, seed: &Seed, clients: usize, rows: &mut Results) -> Result<()> {
    // No automatic decompression, whatever features reqwest has elsewhere in the build.
    let raw = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .no_zstd()
        .build()?;
    let worker = clients;
    let token = seed.worker_tokens[worker].clone();

    let listing = sizes(&raw, &app.base, "/v1/tasks?limit=50", Some(&token)).await?;
    rows.push(bytes_row(
        "bytes: GET /v1/tasks?limit=50 (worker)",
        &listing,
        &format!(
            "a worker holding {} skill(s), first page",
            seed.worker_skills[worker]
        ),
    ));
    let spec = sizes(&raw, &app.base, "/openapi.json", None).await?;
    rows.push(bytes_row("bytes: GET /openapi.json", &spec, ""));
    let docs = sizes(&raw, &app.base, "/docs", None).await?;
    rows.push(bytes_row("bytes: GET /docs (Swagger UI)", &docs, ""));

    // The web app's first screen: `/`, then every script and style it names, and the ones
    // those name (modules import modules; two modules add a style sheet), each once.
    let index = raw
        .get(format!("{}/", app.base))
        .send()
        .await?
        .text()
        .await?;
    let mut queue = asset_refs(&index);
    let mut seen: Vec<String> = Vec::new();
    let mut total = sizes(&raw, &app.base, "/", None).await?;
    while let Some(path) = queue.pop() {
        // The service worker is registered once the screen is up, and what it fetches then
        // (its precache of the whole shell) is not the first screen's.
        if seen.contains(&path) || path == "/sw.js" {
            continue;
        }
        let text = raw
            .get(format!("{}{path}", app.base))
            .send()
            .await?
            .text()
            .await?;
        queue.extend(asset_refs(&text));
        let s = sizes(&raw, &app.base, &path, None).await?;
        total.add(&s);
        seen.push(path);
    }
    let js = seen.iter().filter(|p| p.ends_with(".js")).count();
    let css = seen.iter().filter(|p| p.ends_with(".css")).count();
    rows.push(bytes_row(
        "bytes: web app first screen",
        &total,
        &format!(
            "GET / + {js} scripts + {css} style sheets, as a cold browser fetches them (not /sw.js and its precache)"
        ),
    ));
    Ok(())
}

/// Body bytes of one answer per encoding asked, and the encodings answered.
struct Sizes {
    identity: u64,
    gzip: u64,
    br: u64,
    /// What the server said it used (`Content-Encoding`) when asked for gzip, then br.
    answered: Vec<String>,
    files: usize,
}

impl Sizes {
    fn add(&mut self, o: &Sizes) {
        self.identity += o.identity;
        self.gzip += o.gzip;
        self.br += o.br;
        self.files += o.files;
        for a in &o.answered {
            if !self.answered.contains(a) {
                self.answered.push(a.clone());
            }
        }
    }
}

async fn sizes(
    raw: &reqwest::Client,
    base: &str,
    path: &str,
    token: Option<&str>,
) -> Result<Sizes> {
    let mut out = Sizes {
        identity: 0,
        gzip: 0,
        br: 0,
        answered: Vec::new(),
        files: 1,
    };
    for enc in [None, Some("gzip"), Some("br")] {
        let mut req = raw.get(format!("{base}{path}"));
        if let Some(e) = enc {
            req = req.header("accept-encoding", e);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await?;
        if !r.status().is_success() {
            bail!("GET {path} answered {}", r.status());
        }
        let used = r
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("identity")
            .to_string();
        let n = r.bytes().await?.len() as u64;
        match enc {
            None => out.identity = n,
            Some("gzip") => out.gzip = n,
            Some(_) => out.br = n,
        }
        if let Some(e) = enc
            && used != e
        {
            out.answered.push(format!("asked {e}, got {used}"));
        }
    }
    Ok(out)
}

fn bytes_row(name: &str, s: &Sizes, what: &str) -> Row {
    let pct = |n: u64| 100.0 * n as f64 / s.identity.max(1) as f64;
    let mut note = format!(
        "gzip {} B ({:.1} %), br {} B ({:.1} %); bodies only, headers not counted",
        thousands(s.gzip),
        pct(s.gzip),
        thousands(s.br),
        pct(s.br)
    );
    if !s.answered.is_empty() {
        note.push_str(&format!(" ({})", s.answered.join(", ")));
    }
    if !what.is_empty() {
        note = format!("{what}; {note}");
    }
    row(
        name,
        format!("{} B uncompressed", thousands(s.identity)),
        note,
    )
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The scripts and style sheets a page or module names: every quoted `"/….js"` or
/// `'/….css'` (a quote, a slash, no space, the same quote).
fn asset_refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    for (i, &q) in bytes.iter().enumerate() {
        if (q != b'"' && q != b'\'') || bytes.get(i + 1) != Some(&b'/') {
            continue;
        }
        let Some(len) = bytes[i + 1..].iter().position(|&b| b == q) else {
            continue;
        };
        let piece = &text[i + 1..i + 1 + len];
        if !piece.starts_with("//")
            && (piece.ends_with(".js") || piece.ends_with(".css"))
            && !piece.contains(char::is_whitespace)
        {
            out.push(piece.to_string());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Plans, machine, helpers

async fn explain_plans(db: &Db, seed: &Seed) -> Result<Vec<(String, Vec<String>)>> {
    let worker = &seed.worker_ids[seed.worker_ids.len() - 1];
    let company = &seed.company_ids[0];
    let account = format!("worker:{worker}:payable");
    let hers: Vec<String> = on_db!(db, |p| sqlx::query_scalar(
        "SELECT skill FROM worker_skills WHERE worker_id = $1 ORDER BY skill"
    )
    .bind(worker)
    .fetch_all(p)
    .await)?;
    // The server's own SQL, with the first page's binds inlined (highest placeholder first).
    let mut listing = vereda_api::tasks::worker_list_sql(db.dialect(), hers.len());
    for (i, skill) in hers.iter().enumerate().rev() {
        listing = listing.replace(&format!("${}", i + 8), &format!("'{skill}'"));
    }
    let queries = vec![
        (
            "task listing for a worker (GET /v1/tasks, first page of 50)",
            listing
                .replace("$7", "51")
                .replace("$6", &format!("'{worker}'"))
                .replace("$5", "NULL")
                .replace("$4", "NULL")
                .replace("$3", "NULL")
                .replace("$2", "NULL")
                .replace("$1", "'~'"),
        ),
        (
            "workers list (GET /v1/workers, first page of 50)",
            vereda_api::workers::list_sql(db.dialect())
                .replace("$3", "51")
                .replace("$2", "NULL")
                .replace("$1", "'~'"),
        ),
        (
            "assignments by company (GET /v1/assignments as a company)",
            format!(
                "SELECT a.id, t.title FROM assignments a JOIN tasks t ON t.id = a.task_id \
                 WHERE a.company_id = '{company}' AND a.id < 'zzzz' ORDER BY a.id DESC LIMIT 51"
            ),
        ),
        (
            "accruals uninvoiced by company (billing run claims them)",
            format!(
                "UPDATE accruals SET invoice_id = 'x' WHERE company_id = '{company}' AND invoice_id IS NULL AND approved_at < 9999999999"
            ),
        ),
        (
            "companies with uninvoiced accruals (billing run)",
            "SELECT DISTINCT x.company_id FROM accruals x JOIN companies c ON c.id = x.company_id \
             WHERE x.invoice_id IS NULL AND x.approved_at < 9999999999 ORDER BY x.company_id"
                .to_string(),
        ),
        (
            "approved assignments not yet accrued (accrue_pending)",
            // The ids query of `invoicing::accrue_pending` (its window), binds inlined.
            "SELECT a.id FROM assignments a WHERE a.status = 'approved' \
             AND a.accrued_at IS NULL AND a.approved_at < 9999999999 AND a.id > '' \
             ORDER BY a.id LIMIT 20000"
                .to_string(),
        ),
        (
            "ledger_postings balance of one account",
            format!(
                "SELECT CAST(COALESCE(SUM(credit - debit), 0) AS BIGINT) FROM ledger_postings WHERE account = '{account}'"
            ),
        ),
        (
            "workers owed (payout batch)",
            // The query of `payouts::build_batch`, the minimum inlined.
            "SELECT w.id FROM worker_profiles w \
             WHERE (SELECT COALESCE(SUM(p.credit - p.debit), 0) FROM ledger_postings p \
                    WHERE p.account = 'worker:' || w.id || ':payable') >= 1000000 ORDER BY w.id"
                .to_string(),
        ),
        (
            "a worker's time entries (overlap check)",
            format!(
                "SELECT id FROM time_entries WHERE worker_id = '{worker}' AND deleted_at IS NULL \
                 AND started_at < 9999999999 AND ended_at > 0"
            ),
        ),
    ];
    let mut out = Vec::new();
    for (name, sql) in queries {
        let plan: Vec<String> = match db {
            Db::Sqlite(p) => {
                let rows: Vec<(i64, i64, i64, String)> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                        .fetch_all(p)
                        .await?;
                rows.into_iter().map(|r| r.3).collect()
            }
            Db::Postgres(p) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")))
                    .fetch_all(p)
                    .await?
            }
        };
        out.push((name.to_string(), plan));
    }
    Ok(out)
}

async fn db_version(db: &Db) -> Result<String> {
    Ok(match db {
        Db::Sqlite(p) => format!(
            "SQLite {}",
            sqlx::query_scalar::<_, String>("SELECT sqlite_version()")
                .fetch_one(p)
                .await?
        ),
        Db::Postgres(p) => {
            sqlx::query_scalar::<_, String>("SELECT version()")
                .fetch_one(p)
                .await?
        }
    })
}

async fn count(db: &Db, sql: &'static str) -> Result<i64> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(p)
        .await)?)
}

async fn count_bind(db: &Db, sql: &'static str, v: &str) -> Result<i64> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>(sql)
        .bind(v)
        .fetch_one(p)
        .await)?)
}

/// A field of /proc/self/status, in kB.
fn proc_status_kb(field: &str) -> Option<u64> {
    status_kb_of("/proc/self/status", field)
}

fn status_kb_of(path: &str, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(path).ok()?;
    s.lines()
        .find(|l| l.starts_with(&format!("{field}:")))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "{cores} cores ({cpu}), {:.1} GiB RAM, {} {}",
        mem as f64 / 1024.0 / 1024.0,
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}
