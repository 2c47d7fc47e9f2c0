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
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::TimeZone;
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
    /// Internal: be the server process (API + worker) on this database URL and data folder,
    /// print `listening <base url>` and serve until standard input closes.
    #[arg(long, hide = true, num_args = 2, value_names = ["URL", "DIR"])]
    serve: Option<Vec<String>>,
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

const SKILL: &str = "data-entry";
/// 18,500 COP per hour, in centavos.
const RATE: i64 = 1_850_000;
const SYNC_BATCH: usize = 100;

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(serve) = &args.serve {
        return serve_product(&serve[0], std::path::Path::new(&serve[1])).await;
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
    let result = run(&args, scale, clients, &scratch.url, dir.path()).await;
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
    /// The server process, whose memory each row reports.
    server_pid: Option<u32>,
}

impl Results {
    fn push(&mut self, r: Row) {
        use std::io::Write;
        let kb = |f| {
            self.server_pid
                .and_then(|pid| status_kb_of(&format!("/proc/{pid}/status"), f))
                .unwrap_or(0) as f64
                / 1024.0
        };
        let (hwm, rss) = (kb("VmHWM"), kb("VmRSS"));
        println!(
            "[{}] | {} | {} | {} (server RSS {rss:.0} MB, peak so far {hwm:.0} MB)",
            chrono::Utc::now().format("%H:%M:%S"),
            r.name,
            r.value,
            r.note
        );
        let _ = std::io::stdout().flush();
        self.rows.push(r);
    }
}

fn header(args: &Args, scale: Scale, clients: usize, version: &str) -> String {
    format!(
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
    )
}

async fn run(
    args: &Args,
    scale: Scale,
    clients: usize,
    url: &str,
    dir: &std::path::Path,
) -> Result<()> {
    let rss_before = proc_status_kb("VmRSS").unwrap_or(0);
    let settings = bench_settings(url, dir)?;
    // The product runs in its own process (this binary with `--serve`), so its memory is
    // measured apart from the bench's clients and seed data.
    let server = Server::start(url, dir).await?;
    let db = Db::connect(
        url,
        &PoolSettings {
            max_connections: settings.db_max_connections,
            ..PoolSettings::default()
        },
    )
    .await?;
    let app = attach(server.base.clone(), db.clone());
    let version = db_version(&db).await?;
    eprintln!(
        "vereda-bench: {:?} {} at scale {:?}, {clients} clients, pool {} connections",
        args.db, version, args.scale, settings.db_max_connections
    );

    println!("== Vereda benchmark (rows print as each phase ends) ==");
    println!("{}", header(args, scale, clients, &version));
    let started = Instant::now();
    let seed = seed(&db, scale, clients).await?;
    println!(
        "[{}] seeded in {:.0} s",
        chrono::Utc::now().format("%H:%M:%S"),
        started.elapsed().as_secs_f64()
    );
    let mut rows = Results {
        rows: Vec::new(),
        server_pid: server.child.id(),
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
    let health = timed_http(&app, clients, scale.seconds, "GET /healthz", |_, _| {
        ("/healthz".to_string(), None)
    })
    .await?;
    let tokens = seed.worker_tokens.clone();
    let listing = timed_http(
        &app,
        clients,
        scale.seconds,
        "GET /v1/tasks?limit=50 (worker)",
        move |c, i| {
            let t = &tokens[(clients + c + i * clients) % tokens.len()];
            ("/v1/tasks?limit=50".to_string(), Some(t.clone()))
        },
    )
    .await?;
    rows.push(row(
        "GET /healthz",
        format!("{:.0} req/s", health.rate),
        health.latency(),
    ));
    rows.push(row(
        "task listing, page of 50 (worker)",
        format!("{:.0} req/s", listing.rate),
        format!(
            "{}; ratio to /healthz {:.3} (target >= 0.25)",
            listing.latency(),
            listing.rate / health.rate
        ),
    ));
    if listing.errors > 0 || health.errors > 0 {
        eprintln!(
            "warning: {} listing and {} healthz requests failed",
            listing.errors, health.errors
        );
    }

    // 3. Claims.
    let claims = claims(&app, &seed, scale, clients).await?;
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
    let sync = sync(&app, &seed, scale, clients).await?;
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
        &app,
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
    let accrual_note = match billing.first_progress {
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
        &app,
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
        &app,
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

    // The books after all that: the product's own audit, timed (it reads the whole ledger).
    let started = Instant::now();
    let audit = app.get("/v1/ledger/audit", Some(&seed.finance_token)).await;
    let took = started.elapsed().as_secs_f64();
    let audit_ok = audit.status == 200 && audit.body["ok"] == true;
    rows.push(row(
        "ledger audit",
        format!("{} in {took:.2} s", if audit_ok { "ok" } else { "FAILED" }),
        if audit_ok {
            "GET /v1/ledger/audit: every invariant holds after the runs".to_string()
        } else {
            format!(
                "GET /v1/ledger/audit answered {}: {}",
                audit.status, audit.text
            )
        },
    ));

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
    server.stop().await;

    // Results.
    println!();
    println!("== Vereda benchmark ==");
    println!("{}", header(args, scale, clients, &version));
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
    Ok(settings)
}

/// `--serve`: the product exactly as `vereda-api` runs it (API and in-process worker, default
/// settings), until the bench closes our standard input (or dies).
async fn serve_product(url: &str, dir: &std::path::Path) -> Result<()> {
    use tokio::io::AsyncReadExt;
    let app =
        Application::build(bench_settings(url, dir)?, RunOptions { with_worker: true }).await?;
    println!("listening {}", app.base_url());
    use std::io::Write;
    std::io::stdout().flush()?;
    app.run_until(async {
        let mut sink = Vec::new();
        let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    })
    .await
}

/// The product in a child process.
struct Server {
    child: tokio::process::Child,
    base: String,
}

impl Server {
    async fn start(url: &str, dir: &std::path::Path) -> Result<Server> {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .arg("--serve")
            .arg(url)
            .arg(dir)
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
                Some(_) => continue,
                None => bail!("the server process ended before it listened"),
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

// ---------------------------------------------------------------------------------------------
// Seeding

struct Seed {
    /// Bearer tokens of all workers, indexed like `worker_ids`.
    worker_tokens: Vec<String>,
    worker_ids: Vec<String>,
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

async fn seed(db: &Db, s: Scale, clients: usize) -> Result<Seed> {
    let now = vereda_contracts::time::unix(vereda_contracts::time::now());
    let total = s.companies * 2
        + s.workers * 4
        + 2
        + (s.open_tasks + clients + s.approved) * 2
        + s.approved
        + clients
        + s.entries;
    let pb = bar(total as u64, "seeding (SQL)");
    let payout = r#"{"kind":"nequi","phone":"3105551234"}"#;

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
        worker_ids.iter().map(|w| vec![t(w), t(SKILL)]).collect(),
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
    ];
    let task_row = |tid: &str, i: usize, status: &str| {
        let c = i % s.companies;
        vec![
            t(tid),
            t(&company_ids[c]),
            t(&owner_ids[c]),
            t(format!("Digitar formularios lote {i}")),
            t("Digitar los formularios escaneados en la hoja compartida."),
            t(SKILL),
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
        ]
    };
    let open_tasks: Vec<String> = (0..s.open_tasks).map(|_| id()).collect();
    let sync_tasks: Vec<String> = (0..clients).map(|_| id()).collect();
    let money_tasks: Vec<String> = (0..s.approved).map(|_| id()).collect();
    let mut rows = Vec::new();
    for (i, x) in money_tasks.iter().enumerate() {
        rows.push(task_row(x, i, "closed"));
    }
    for (i, x) in sync_tasks.iter().enumerate() {
        rows.push(task_row(x, i, "open"));
    }
    for (i, x) in open_tasks.iter().enumerate() {
        rows.push(task_row(x, i, "open"));
    }
    insert(db, &pb, "tasks", &task_cols, rows).await?;
    let skill_rows = money_tasks
        .iter()
        .chain(&sync_tasks)
        .chain(&open_tasks)
        .map(|x| vec![t(x), t(SKILL)])
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
        let base = app.base.clone();
        let pick = pick.clone();
        handles.push(tokio::spawn(async move {
            let (mut ok, mut errors, mut lat) = (0u64, 0u64, Vec::new());
            let mut i = 0;
            while Instant::now() < deadline {
                let (path, token) = pick(c, i);
                i += 1;
                let mut req = client.get(format!("{base}{path}"));
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

/// `scale.claims` claims on distinct open tasks, by workers other than the sync ones.
async fn claims(app: &TestApp, seed: &Seed, scale: Scale, clients: usize) -> Result<Measured> {
    let n = scale.claims.min(seed.open_tasks.len());
    let pb = bar(n as u64, "claims");
    let tasks = Arc::new(seed.open_tasks.clone());
    let tokens = Arc::new(seed.worker_tokens.clone());
    let pool = seed.worker_tokens.len() - clients;
    let started = Instant::now();
    let mut handles = Vec::new();
    for c in 0..clients {
        let (client, base, tasks, tokens, pb) = (
            app.client.clone(),
            app.base.clone(),
            tasks.clone(),
            tokens.clone(),
            pb.clone(),
        );
        handles.push(tokio::spawn(async move {
            let (mut ok, mut errors, mut lat) = (0u64, 0u64, Vec::new());
            let mut first_error = None;
            for j in (c..n).step_by(clients) {
                let token = &tokens[clients + j % pool];
                let t0 = Instant::now();
                let r = client
                    .post(format!("{base}/v1/tasks/{}/claims", tasks[j]))
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
async fn sync(app: &TestApp, seed: &Seed, scale: Scale, clients: usize) -> Result<Measured> {
    let total = (clients * scale.sync_batches) as u64;
    let pb = bar(total, "offline sync batches");
    let today = chrono::Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive();
    let mut handles = Vec::new();
    let started = Instant::now();
    for (w, assignment) in seed.sync_assignments.iter().cloned() {
        let token = seed.worker_tokens[w].clone();
        let (client, base, pb) = (app.client.clone(), app.base.clone(), pb.clone());
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
                    .post(format!("{base}/v1/time-entries/sync"))
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
// Plans, machine, helpers

async fn explain_plans(db: &Db, seed: &Seed) -> Result<Vec<(String, Vec<String>)>> {
    let worker = &seed.worker_ids[seed.worker_ids.len() - 1];
    let company = &seed.company_ids[0];
    let account = format!("worker:{worker}:payable");
    let queries = vec![
        (
            "task listing for a worker (GET /v1/tasks, first page of 50)",
            // The server's own SQL, with the first page's binds inlined.
            vereda_api::tasks::list_sql(db.dialect(), true)
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
