//! What the worker's crash tests share: throw-away PostgreSQL databases, a seeded generator,
//! real `vereda-worker` processes, a small book of approved work, and the DESIGN §4 checks
//! read straight from the database (the worker crate cannot use `vereda-tests`, which
//! depends on it).

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use vereda_contracts::money::{Cop, Margin, platform_fee, vat};
use vereda_contracts::statements::Month;
use vereda_contracts::time::{now, unix};
use vereda_store::db::{Db, PoolSettings};
use vereda_store::on_db;
use vereda_store::queue::{self, JobState};
use vereda_store::scratch::ScratchDb;

/// Run `body` on a fresh PostgreSQL database (skipped without a server), dropping it even
/// when `body` panics.
pub async fn on_postgres<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(pg) = ScratchDb::for_postgres_tests("vereda_ft").await else {
        return;
    };
    // In a task, so the database is dropped before the panic goes on.
    let outcome = tokio::spawn(body(pg.url.clone())).await;
    drop(pg);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// The seed for this run: `VEREDA_FAULT_SEED` (decimal or 0x-hex) to replay a failure, else
/// a fresh one. Printed either way, so a failing run names the seed that replays it.
pub fn seed(test: &str) -> u64 {
    let seed = match std::env::var("VEREDA_FAULT_SEED") {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => s.parse(),
            };
            parsed.expect("VEREDA_FAULT_SEED is a number (decimal or 0x-hex)")
        }
        Err(_) => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            t.as_nanos() as u64 ^ (u64::from(std::process::id()) << 32)
        }
    };
    println!("{test}: seed {seed:#x} (replay with VEREDA_FAULT_SEED={seed:#x})");
    seed
}

/// A small seeded generator (xorshift), so a failing run can be replayed with its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// A real `vereda-worker` process on `url`, killed when dropped (so a failing test leaves
/// no process behind).
pub struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn spawn_worker(url: &str, data_dir: &Path) -> Worker {
    Worker(
        Command::new(env!("CARGO_BIN_EXE_vereda-worker"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("VEREDA_DATABASE_URL", url)
            .env("VEREDA_DATA_DIR", data_dir)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("vereda-worker starts"),
    )
}

/// SIGKILL: no shutdown, no acknowledgement, transactions cut wherever they were.
pub fn kill(mut worker: Worker) {
    worker.0.kill().unwrap();
    worker.0.wait().unwrap();
}

pub async fn count(db: &Db, sql: &'static str) -> i64 {
    on_db!(db, |p| sqlx::query_scalar(sql).fetch_one(p).await.unwrap())
}

pub async fn job_state(db: &Db, id: &str) -> Option<JobState> {
    queue::job_status(db, id).await.unwrap().map(|s| s.state)
}

/// apalis gives the jobs of a dead worker to another once the dead one has missed its
/// heartbeats (a minute with the product's settings, `worker/src/lib.rs`). Rather than wait
/// that long ten times over, date the last heartbeat of every registered worker back an hour; call it only
/// while no worker process is alive. The next process to start re-queues their jobs.
pub async fn age_dead_workers(db: &Db) {
    match db {
        Db::Sqlite(p) => sqlx::query("UPDATE Workers SET last_seen = last_seen - 3600")
            .execute(p)
            .await
            .map(|r| r.rows_affected()),
        Db::Postgres(p) => {
            sqlx::query("UPDATE apalis.workers SET last_seen = last_seen - interval '1 hour'")
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        }
    }
    .unwrap();
}

/// Wait until every job in `ids` has succeeded; panics naming those that did not.
pub async fn wait_all_succeeded(db: &Db, ids: &[String], within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let mut pending = Vec::new();
        for id in ids {
            let s = queue::job_status(db, id).await.unwrap();
            if !s.as_ref().is_some_and(|s| s.state == JobState::Succeeded) {
                pending.push((id.clone(), s));
            }
        }
        if pending.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} jobs did not complete: {pending:#?}",
            pending.len(),
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The book the crash tests work on; [`Book::extend`] adds work to it.
pub struct Book {
    pub companies: i64,
    pub workers: Vec<String>,
    pub assignments: i64,
    /// Each company's expected (work, fee, vat) in centavos.
    pub invoices: HashMap<String, (i64, i64, i64)>,
    /// Each worker's earnings in centavos.
    pub earnings: HashMap<String, i64>,
    /// The closed month the work was approved in.
    pub month: Month,
    /// A finance user (creator of payout batches).
    pub finance: String,
    /// The payout batches made so far (see [`new_batch`]), the last one current.
    pub batches: Vec<String>,
}

/// `companies` companies and `workers` workers, each worker with `per_worker` approved
/// fixed-price assignments (each at another company) approved last month and not yet accrued.
pub async fn seed_book(db: &Db, companies: i64, workers: i64, per_worker: i64) -> Book {
    let mut book = Book {
        companies: 0,
        workers: Vec::new(),
        assignments: 0,
        invoices: HashMap::new(),
        earnings: HashMap::new(),
        month: Month::of(now()).prev(),
        finance: uuid::Uuid::now_v7().to_string(),
        batches: Vec::new(),
    };
    exec(
        db,
        "INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at) \
         VALUES ($1, 'finance@e.test', 'Finanzas', 'x', 'finance', $2, $2)",
        &[&book.finance],
        unix(now()),
    )
    .await;
    book.extend(db, companies, workers, per_worker).await;
    book
}

impl Book {
    /// Add `companies` new companies and `workers` new workers, each new worker with
    /// `per_worker` approved assignments at the new companies (so what is already invoiced,
    /// paid or stated stays as it was), approved last month and not yet accrued.
    pub async fn extend(&mut self, db: &Db, companies: i64, workers: i64, per_worker: i64) {
        let t = unix(now());
        let month = self.month;
        let margin = Margin::from_bp(2000).expect("20 %");
        let mut owners = Vec::new();
        for i in self.companies..self.companies + companies {
            let (company, owner) = (
                uuid::Uuid::now_v7().to_string(),
                uuid::Uuid::now_v7().to_string(),
            );
            let name = format!("Empresa {i:03}");
            exec(
                db,
                "INSERT INTO companies (id, name, nit, billing_email, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'f@e.test', $4, $4)",
                &[&company, &name, &format!("9{i:08}-0")],
                t,
            )
            .await;
            exec(
                db,
                "INSERT INTO users (id, email, name, password_hash, role, company_id, member_role, \
                 created_at, updated_at) VALUES ($1, $2, 'Dueña', 'x', 'company', $3, 'owner', $4, $4)",
                &[&owner, &format!("owner{i}@e.test"), &company],
                t,
            )
            .await;
            owners.push((company, owner, name));
        }
        let first = self.workers.len() as i64;
        let mut per_company: HashMap<String, (Cop, Cop)> = HashMap::new();
        for w in first..first + workers {
            let (worker, user) = (
                uuid::Uuid::now_v7().to_string(),
                uuid::Uuid::now_v7().to_string(),
            );
            exec(
                db,
                "INSERT INTO worker_profiles (id, municipality, department, payout_method, created_at, \
                 updated_at) VALUES ($1, 'Chaparral', 'Tolima', \
                 '{\"kind\":\"nequi\",\"phone\":\"3105551234\"}', $2, $2)",
                &[&worker],
                t,
            )
            .await;
            exec(
                db,
                "INSERT INTO users (id, email, name, password_hash, role, worker_id, created_at, \
                 updated_at) VALUES ($1, $2, 'Luz Teletrabajadora', 'x', 'worker', $3, $4, $4)",
                &[&user, &format!("worker{w}@e.test"), &worker],
                t,
            )
            .await;
            let mut earned = 0;
            for k in 0..per_worker {
                let (company, owner, name) = &owners[((w + k) % companies) as usize];
                let (task, assignment) = (
                    uuid::Uuid::now_v7().to_string(),
                    uuid::Uuid::now_v7().to_string(),
                );
                let price = Cop::pesos(100_000 + w * 1_357 + k * 211);
                // Within the first 27 days of the month, however many workers there are.
                let approved = month.start() + 3600 * (24 + (w + k) % 600);
                on_db!(db, |p| async {
                    sqlx::query(
                        "INSERT INTO tasks (id, company_id, created_by, title, instructions, category, \
                         pricing_kind, price_centavos, estimated_seconds, slots, claim_minutes, \
                         review_hours, deliverable_url_required, min_minutes, status, created_at, \
                         updated_at) VALUES ($1, $2, $3, 'Etiquetar', 'Guía', 'labelling', 'fixed', \
                         $4, 14400, 1, 600, 72, $5, 0, 'closed', $6, $6)",
                    )
                    .bind(&task)
                    .bind(company)
                    .bind(owner)
                    .bind(price.centavos())
                    .bind(false)
                    .bind(approved - 7200)
                    .execute(p)
                    .await?;
                    sqlx::query(
                        "INSERT INTO assignments (id, task_id, worker_id, company_id, status, \
                         claimed_at, expires_at, approved_seconds, approved_at, updated_at) \
                         VALUES ($1, $2, $3, $4, 'approved', $5, $5, 0, $6, $6)",
                    )
                    .bind(&assignment)
                    .bind(&task)
                    .bind(&worker)
                    .bind(company)
                    .bind(approved - 3600)
                    .bind(approved)
                    .execute(p)
                    .await
                    .map(|_| ())
                }
                .await)
                .unwrap();
                earned += price.centavos();
                let e = per_company
                    .entry(name.clone())
                    .or_insert((Cop::ZERO, Cop::ZERO));
                e.0 = e.0 + price;
                e.1 = e.1 + platform_fee(price, margin);
            }
            self.earnings.insert(worker.clone(), earned);
            self.workers.push(worker);
        }
        for (name, (work, fee)) in per_company {
            let iva = vat(fee, Decimal::new(19, 2));
            self.invoices
                .insert(name, (work.centavos(), fee.centavos(), iva.centavos()));
        }
        self.companies += companies;
        self.assignments += workers * per_worker;
    }
}

async fn exec(db: &Db, sql: &'static str, texts: &[&String], t: i64) {
    on_db!(db, |p| {
        let mut q = sqlx::query(sql);
        for s in texts {
            q = q.bind(s.as_str());
        }
        q.bind(t).execute(p).await.map(|r| r.rows_affected())
    })
    .unwrap();
}

/// Open the database as the tests see it, migrated.
pub async fn open(url: &str) -> Db {
    let db = Db::connect(url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    db
}

/// DESIGN §4 and the documents on it: the product's own ledger audit, every check holding.
pub async fn assert_ledger_invariants(db: &Db) {
    let settings = vereda_store::config::Settings::for_database("sqlite::memory:", Path::new("."))
        .expect("default settings");
    let audit = vereda_store::audit::audit(db, &settings)
        .await
        .expect("the audit runs");
    assert!(audit.ok, "ledger audit failed:\n{}", audit.failures());
}

/// Billing done exactly once: every assignment accrued once, one invoice per company with the
/// expected totals, numbered 1..n.
pub async fn assert_billed_once(db: &Db, book: &Book) {
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM accruals").await,
        book.assignments,
        "every assignment accrued"
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM ledger_entries WHERE effect_key LIKE 'accrue:%'"
        )
        .await,
        book.assignments,
        "each assignment accrued once"
    );
    let invoices: Vec<(i64, String, i64, i64, i64, i64)> = on_db!(db, |p| sqlx::query_as(
        "SELECT i.seq, c.name, i.work, i.fee, i.vat, i.total FROM invoices i \
         JOIN companies c ON c.id = i.company_id ORDER BY i.seq"
    )
    .fetch_all(p)
    .await
    .unwrap());
    assert_eq!(
        invoices.len() as i64,
        book.companies,
        "one invoice per company"
    );
    for (i, (seq, company, work, fee, vat_, total)) in invoices.iter().enumerate() {
        assert_eq!(*seq, i as i64 + 1, "numbers run without a gap");
        let (w, f, v) = book.invoices[company];
        assert_eq!(
            (*work, *fee, *vat_, *total),
            (w, f, v, w + f + v),
            "{company}"
        );
    }
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM invoice_lines").await,
        book.assignments,
        "one invoice line per assignment"
    );
}

/// Over all of the book's batches, exactly one line per worker, for all of the worker's
/// earnings, one payout entry per line; every batch ready, its total the sum of its lines.
pub async fn assert_paid_out_once(db: &Db, book: &Book) {
    let lines: Vec<(String, String, i64)> = on_db!(db, |p| sqlx::query_as(
        "SELECT worker_id, batch_id, amount FROM payout_lines"
    )
    .fetch_all(p)
    .await
    .unwrap());
    let mut paid: HashMap<&str, i64> = HashMap::new();
    for (worker, batch, amount) in &lines {
        assert!(
            book.batches.contains(batch),
            "worker {worker}'s line is in an unknown batch {batch}"
        );
        assert!(
            paid.insert(worker.as_str(), *amount).is_none(),
            "worker {worker} has more than one payout line"
        );
        assert_eq!(*amount, book.earnings[worker], "worker {worker}'s line");
    }
    assert_eq!(paid.len(), book.workers.len(), "one payout line per worker");
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'payout'"
        )
        .await,
        book.workers.len() as i64,
        "one payout entry per line"
    );
    let mut paid_total = 0;
    for batch in &book.batches {
        let (status, total): (String, i64) = on_db!(db, |p| sqlx::query_as(
            "SELECT status, total FROM payout_batches WHERE id = $1"
        )
        .bind(batch)
        .fetch_one(p)
        .await
        .unwrap());
        let lines: i64 = lines
            .iter()
            .filter(|(_, b, _)| b == batch)
            .map(|(_, _, a)| a)
            .sum();
        assert_eq!(status, "ready", "batch {batch}");
        assert_eq!(total, lines, "batch {batch}'s total");
        paid_total += total;
    }
    assert_eq!(
        paid_total,
        book.earnings.values().sum::<i64>(),
        "the batches pay all the earnings"
    );
}

/// One statement per worker for the month (version 1: the figures never changed), one e-mail
/// each, and one documento soporte each, numbered 1..n without a gap.
pub async fn assert_statements_once(db: &Db, book: &Book) {
    let month = book.month.to_string();
    let rows: Vec<(String, i64, i64)> = on_db!(db, |p| sqlx::query_as(
        "SELECT worker_id, version, gross FROM statements WHERE month = $1"
    )
    .bind(&month)
    .fetch_all(p)
    .await
    .unwrap());
    assert_eq!(rows.len(), book.workers.len(), "one statement per worker");
    for (worker, version, gross) in &rows {
        assert_eq!(*version, 1, "worker {worker}: equal figures add no version");
        assert_eq!(*gross, book.earnings[worker], "worker {worker}'s gross");
    }
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM outbox_messages WHERE kind = 'statement'"
        )
        .await,
        book.workers.len() as i64,
        "one statement e-mail per version"
    );
    // Documentos soporte are weekly now (`support_run`): a statement run issues none.
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM support_documents").await,
        0,
        "no monthly documento soporte"
    );
}

/// A payout batch to fill, as the API records it; it becomes the book's current batch.
pub async fn new_batch(db: &Db, book: &mut Book) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    exec(
        db,
        "INSERT INTO payout_batches (id, status, created_by, created_at) \
         VALUES ($1, 'building', $2, $3)",
        &[&id, &book.finance],
        unix(now()),
    )
    .await;
    book.batches.push(id.clone());
    id
}
