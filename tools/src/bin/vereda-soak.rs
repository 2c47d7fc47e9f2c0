//! `vereda-soak`: minutes of mixed load on the real product, then the ledger invariants, the
//! number of server errors and the memory curve. Not part of CI (issue 8, item 7).
//!
//! Companies post and publish tasks; workers browse, claim, log time and submit; owners approve
//! (some they send back for changes); finance runs billing, payout batches, bank confirmations
//! and statement runs on a cadence. All over HTTP against the API with its in-process worker,
//! on a fresh SQLite file or a fresh PostgreSQL database (`--database-url` names the server).
//! Exits non-zero on any 5xx, any unexpected answer or a broken invariant.
// Timings and rates are measurements, not money.
#![allow(clippy::float_arithmetic)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{Duration as Span, Utc};
use clap::Parser;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use vereda_store::db::Dialect;
use vereda_store::on_db;
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::{TestApp, spawn_app};

#[derive(Parser)]
#[command(
    name = "vereda-soak",
    about = "Mixed load for minutes; invariants and memory after"
)]
struct Args {
    /// sqlite or postgres.
    #[arg(long, default_value = "sqlite")]
    db: String,
    /// PostgreSQL server under which a throw-away database is created (with --db postgres).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    database_url: String,
    /// How long the mixed load runs.
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// Worker clients running at once.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Companies posting work.
    #[arg(long, default_value_t = 4)]
    companies: usize,
    /// Seconds between two finance cycles (billing, payouts, confirmations).
    #[arg(long, default_value_t = 45)]
    finance_every: u64,
}

/// Answers seen, by "action status".
#[derive(Default)]
struct Tally(std::sync::Mutex<BTreeMap<String, u64>>);

impl Tally {
    fn add(&self, action: &str, status: u16) {
        *self
            .0
            .lock()
            .unwrap()
            .entry(format!("{action} {status}"))
            .or_default() += 1;
    }
    fn server_errors(&self) -> u64 {
        let map = self.0.lock().unwrap();
        map.iter()
            .filter(|(k, _)| k.rsplit(' ').next().is_some_and(|s| s.starts_with('5')))
            .map(|(_, n)| n)
            .sum()
    }
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn today() -> String {
    Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string()
}

struct Company {
    owner: String,
}

/// A worker client: its token and where its logbook has reached (entries go forward from 13
/// days ago, one minute every three: 8 h a day at most, far from the daily limit, never
/// overlapping, and room for over 6,000 entries before reaching the present).
struct Worker {
    token: String,
    next_start: chrono::DateTime<Utc>,
}

fn main() {
    let args = Args::parse();
    // The test harness reads the database from the environment: set it before the runtime
    // starts any thread (setting the environment is unsafe only while others may read it).
    #[allow(unsafe_code)]
    match args.db.as_str() {
        "sqlite" => unsafe { std::env::remove_var("VEREDA_TEST_POSTGRES_URL") },
        "postgres" => unsafe { std::env::set_var("VEREDA_TEST_POSTGRES_URL", &args.database_url) },
        other => {
            eprintln!("vereda-soak: --db must be sqlite or postgres, not {other}");
            std::process::exit(2);
        }
    }
    tokio::runtime::Runtime::new()
        .expect("tokio runtime")
        .block_on(soak(args));
}

async fn soak(args: Args) {
    let app = Arc::new(spawn_app().await);
    eprintln!(
        "soak: {} on {}, {} clients for {} min",
        app.base, args.db, args.clients, args.minutes
    );
    let tally = Arc::new(Tally::default());
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let mut companies = Vec::new();
    for i in 0..args.companies {
        let (_, owner) = app.company(&admin, &format!("Empresa Soak {i}")).await;
        companies.push(Company { owner });
    }
    let companies = Arc::new(companies);
    let start_rss = rss_kb();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.minutes * 60.0);

    // Memory, every 5 s.
    let samples = Arc::new(Mutex::new(Vec::<(f64, u64)>::new()));
    let sampler = {
        let (samples, stop) = (samples.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                samples
                    .lock()
                    .await
                    .push((started.elapsed().as_secs_f64(), rss_kb()));
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        })
    };

    // The soak's own skill, so its tasks go only to its workers (skills come from the
    // catalogue since issue 18).
    app.post(
        "/v1/skills",
        Some(&admin),
        json!({"name": "soak", "label": "Prueba de carga"}),
    )
    .await;
    let mut clients = Vec::new();
    for i in 0..args.clients {
        let (_, token) = app.worker(&admin, &["soak"]).await;
        let worker = Worker {
            token,
            next_start: Utc::now() - Span::days(13),
        };
        let (app, tally, companies, stop) =
            (app.clone(), tally.clone(), companies.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            worker_loop(i, worker, &app, &tally, &companies, &stop).await
        }));
    }
    let finance_loop = {
        let (app, tally, stop, finance) =
            (app.clone(), tally.clone(), stop.clone(), finance.clone());
        let every = Duration::from_secs(args.finance_every);
        tokio::spawn(async move { finance_loop(&app, &tally, &finance, every, &stop).await })
    };

    let mut last = Instant::now();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if last.elapsed() >= Duration::from_secs(30) {
            last = Instant::now();
            eprintln!(
                "soak: {:>4.0} s, RSS {} MB, answers {}",
                started.elapsed().as_secs_f64(),
                rss_kb() / 1024,
                tally.0.lock().unwrap().values().sum::<u64>()
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.expect("client");
    }
    finance_loop.await.expect("finance");
    sampler.await.expect("sampler");

    // One last billing run and payout so the books are closed for the check.
    let period_end = today();
    app.run_job(
        &finance,
        "/v1/billing-runs",
        json!({ "period_end": period_end }),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_ledger_invariants(&app.db).await;
    let tb = app.get("/v1/ledger/trial-balance", Some(&finance)).await;
    let balanced = tb.body["balanced"] == true;

    // Where the work stands, and the queue's state: a backlog here means jobs fell behind.
    let by_status: Vec<(String, i64)> = on_db!(&app.db, |p| sqlx::query_as(
        "SELECT status, COUNT(*) FROM assignments GROUP BY status ORDER BY status"
    )
    .fetch_all(p)
    .await)
    .expect("assignments by status");
    println!("\nAssignments by status at the end: {by_status:?}");
    let jobs_sql = match app.db.dialect() {
        Dialect::Sqlite => {
            "SELECT job_type, status, COUNT(*), CAST(MAX(attempts) AS BIGINT) FROM Jobs GROUP BY job_type, status ORDER BY job_type, status"
        }
        Dialect::Postgres => {
            "SELECT job_type, status::text, COUNT(*), CAST(MAX(attempts) AS BIGINT) FROM apalis.jobs GROUP BY job_type, status ORDER BY job_type, status"
        }
    };
    let jobs: Vec<(String, String, i64, i64)> =
        on_db!(&app.db, |p| sqlx::query_as(sqlx::AssertSqlSafe(jobs_sql))
            .fetch_all(p)
            .await)
        .expect("jobs by queue");
    println!("Jobs by queue and status (count, most attempts):");
    for (queue, status, n, attempts) in jobs {
        println!("  {queue:<40} {status:<10} {n:>7} {attempts:>3}");
    }

    let samples = samples.lock().await.clone();
    let minute = |from: f64, to: f64| {
        let v: Vec<u64> = samples
            .iter()
            .filter(|(t, _)| *t >= from && *t < to)
            .map(|(_, r)| *r)
            .collect();
        v.iter().sum::<u64>() / v.len().max(1) as u64
    };
    let total = samples.last().map_or(0.0, |s| s.0);
    let peak = samples.iter().map(|s| s.1).max().unwrap_or(0);
    println!(
        "\n## Soak result (vereda on {}, {} clients, {:.1} min)",
        args.db, args.clients, args.minutes
    );
    println!("| answers | count |\n| --- | ---: |");
    for (k, n) in tally.0.lock().unwrap().iter() {
        println!("| {k} | {n} |");
    }
    println!(
        "\nRSS (server + soak clients, one process): before load {} MB; mean of the first minute {} MB; \
         mean of the last minute {} MB; peak {} MB",
        start_rss / 1024,
        minute(0.0, 60.0) / 1024,
        minute(total - 60.0, total + 1.0) / 1024,
        peak / 1024
    );
    println!("Trial balance balanced: {balanced}; ledger invariants: hold");
    let errors = tally.server_errors();
    let unexpected = tally
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("unexpected"))
        .map(|(_, n)| *n)
        .sum::<u64>();
    println!("Server errors (5xx): {errors}; unexpected answers: {unexpected}");
    let app = Arc::try_unwrap(app).ok().expect("clients done");
    app.stop().await;
    if errors > 0 || unexpected > 0 || !balanced {
        std::process::exit(1);
    }
}

/// A worker's day, over and over: browse, claim, log time, submit; the owner of the task
/// reviews what is verified. Statuses other than the ones a real client expects are tallied as
/// `unexpected …`.
async fn worker_loop(
    i: usize,
    mut w: Worker,
    app: &TestApp,
    tally: &Tally,
    companies: &[Company],
    stop: &AtomicBool,
) {
    let mut n = i;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let company = &companies[n % companies.len()];
        // Keep work on offer: the company posts and publishes a task now and then.
        if n.is_multiple_of(3) {
            let r = app
                .post(
                    "/v1/tasks",
                    Some(&company.owner),
                    json!({
                        "title": format!("Tarea soak {n}"), "instructions": "Revisar y corregir.",
                        "category": "data-cleaning", "required_skills": ["soak"],
                        "pricing": {"kind": "hourly", "rate": "18500", "max_hours": "2"},
                        "slots": 3, "claim_minutes": 600, "review_hours": 72
                    }),
                )
                .await;
            check(tally, "post task", r.status, &[201]);
            if let Some(id) = r.body["id"].as_str() {
                let r = app
                    .post(
                        &format!("/v1/tasks/{id}/publish"),
                        Some(&company.owner),
                        json!({}),
                    )
                    .await;
                check(tally, "publish", r.status, &[200]);
            }
        }
        // Browse and claim the first open task.
        let list = app.get("/v1/tasks?limit=20", Some(&w.token)).await;
        check(tally, "list tasks", list.status, &[200]);
        if let Some(task) = list.body["items"]
            .as_array()
            .and_then(|items| items.get(n % items.len().max(1)))
            .and_then(|t| t["id"].as_str())
        {
            let r = app
                .send(
                    app.client
                        .post(app.url(&format!("/v1/tasks/{task}/claims")))
                        .bearer_auth(&w.token),
                )
                .await;
            // 409: full, already claimed, or at the active-claims limit — all fine under load.
            check(tally, &with_code("claim", &r), r.status, &[201, 409]);
        }
        // Work on what is claimed (or sent back): log a minute and submit.
        let mut open = Vec::new();
        for status in ["claimed", "changes_requested"] {
            let path = format!("/v1/assignments?status={status}&limit=10");
            let mine = app.get(&path, Some(&w.token)).await;
            check(tally, "my assignments", mine.status, &[200]);
            open.extend(mine.body["items"].as_array().cloned().unwrap_or_default());
        }
        for a in open {
            let id = a["id"].as_str().unwrap();
            let start = w.next_start;
            w.next_start += Span::minutes(3);
            let r = app
                .post(
                    &format!("/v1/assignments/{id}/time-entries"),
                    Some(&w.token),
                    json!({"started_at": start.to_rfc3339(),
                           "ended_at": (start + Span::minutes(1)).to_rfc3339()}),
                )
                .await;
            check(tally, "time entry", r.status, &[201]);
            let r = app
                .post(
                    &format!("/v1/assignments/{id}/submission"),
                    Some(&w.token),
                    json!({"deliverable_url": format!("https://docs.example/soak/{id}")}),
                )
                .await;
            check(tally, "submit", r.status, &[200]);
        }
        // The company reviews what verification passed: approve most, send some back.
        let verified = app
            .get(
                "/v1/assignments?status=verified&limit=10",
                Some(&company.owner),
            )
            .await;
        check(tally, "review queue", verified.status, &[200]);
        for (k, a) in verified.body["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let id = a["id"].as_str().unwrap();
            let body = if (n + k).is_multiple_of(5) {
                json!({"decision": "request_changes", "reason": "Falta una columna.", "reason_code": "incomplete"})
            } else {
                json!({"decision": "approve"})
            };
            let r = app
                .post(
                    &format!("/v1/assignments/{id}/review"),
                    Some(&company.owner),
                    body,
                )
                .await;
            // 409: another client of the same company reviewed it first.
            check(tally, &with_code("review", &r), r.status, &[200, 409]);
        }
    }
}

/// Finance on a cadence: a billing run, a payout batch, its export and the bank's answer
/// (everything paid), and every third cycle the month's statements.
async fn finance_loop(
    app: &TestApp,
    tally: &Tally,
    finance: &str,
    every: Duration,
    stop: &AtomicBool,
) {
    let mut cycle: u32 = 0;
    let mut next = Instant::now() + every;
    while !stop.load(Ordering::Relaxed) {
        if Instant::now() < next {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        next = Instant::now() + every;
        cycle += 1;
        let job = app
            .run_job(
                finance,
                "/v1/billing-runs",
                json!({ "period_end": today() }),
            )
            .await;
        check(tally, "billing run", job_status(&job), &[200]);
        let job = app.run_job(finance, "/v1/payout-batches", json!({})).await;
        check(tally, "payout batch", job_status(&job), &[200]);
        if let Some(batch) = job["subject_id"].as_str() {
            let b = app
                .get(&format!("/v1/payout-batches/{batch}"), Some(finance))
                .await;
            check(tally, "batch", b.status, &[200]);
            let r = app
                .get(&format!("/v1/payout-batches/{batch}/export"), Some(finance))
                .await;
            check(tally, "export", r.status, &[200]);
            let mut file = String::from("reference,amount,status,date\n");
            for line in b.body["lines"].as_array().cloned().unwrap_or_default() {
                file += &format!(
                    "{},{},paid,{}\n",
                    line["reference"].as_str().unwrap_or_default(),
                    line["amount"].as_str().unwrap_or_default(),
                    today()
                );
            }
            let r = app
                .post_raw(
                    &format!("/v1/payout-batches/{batch}/confirmations"),
                    Some(finance),
                    "text/csv",
                    file.into_bytes(),
                )
                .await;
            check(tally, "confirmations", r.status, &[202]);
            if let Some(job) = r.body["job_id"].as_str() {
                let job = app.wait_job(finance, job).await;
                check(tally, "confirmations job", job_status(&job), &[200]);
            }
        }
        if cycle.is_multiple_of(3) {
            let month = vereda_contracts::statements::Month::of(Utc::now()).to_string();
            let job = app
                .run_job(finance, "/v1/statement-runs", json!({ "month": month }))
                .await;
            check(tally, "statement run", job_status(&job), &[200]);
        }
    }
}

/// An action's name with the problem's code when it was refused, e.g. `claim (too_many_active)`.
fn with_code(action: &str, r: &vereda_tests::Resp) -> String {
    match r.body["code"].as_str() {
        Some(code) if r.status >= 400 => format!("{action} ({code})"),
        _ => action.to_string(),
    }
}

/// A finished job as a status: 200 when it succeeded, 500 when it failed.
fn job_status(job: &Value) -> u16 {
    if job["status"] == "succeeded" {
        200
    } else {
        500
    }
}

fn check(tally: &Tally, action: &str, status: u16, expected: &[u16]) {
    if expected.contains(&status) {
        tally.add(action, status);
    } else {
        tally.add(&format!("unexpected {action}"), status);
    }
}
