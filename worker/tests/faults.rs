//! A billing run survives its worker process being killed (SIGKILL) at seeded random moments:
//! after restarts and a second run, the invoices are exactly those of a clean run — one per
//! company, numbered 1..n without a gap, with the right totals — and the ledger balances.
//! Runs the real `vereda-worker` binary against a SQLite file, and against a throw-away
//! PostgreSQL database when `VEREDA_TEST_POSTGRES_URL` is set.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use vereda_contracts::db::{Db, PoolSettings};
use vereda_contracts::jobs::BillingRun;
use vereda_contracts::money::{Cop, platform_fee, vat};
use vereda_contracts::on_db;
use vereda_contracts::time::{BOGOTA, now, unix};
use vereda_worker::queue;

const COMPANIES: i64 = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billing_survives_killed_workers_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("vereda.db").display());
    scenario(&url, dir.path(), 0x5EED_0001).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billing_survives_killed_workers_on_postgres() {
    let Ok(admin_url) = std::env::var("VEREDA_TEST_POSTGRES_URL") else {
        println!("skipped: VEREDA_TEST_POSTGRES_URL is not set");
        return;
    };
    let name = format!("vereda_ft_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&admin)
        .await
        .unwrap();
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url.as_str(), None), |(b, q)| (b, Some(q)));
    let root = &base[..base.rfind('/').unwrap()];
    let url = match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let outcome = tokio::spawn({
        let (url, path) = (url.clone(), dir.path().to_path_buf());
        async move { scenario(&url, &path, 0x5EED_0002).await }
    })
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// A small seeded generator, so a failing run can be replayed with its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn spawn_worker(url: &str, data_dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_vereda-worker"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("VEREDA_DATABASE_URL", url)
        .env("VEREDA_DATA_DIR", data_dir)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("vereda-worker starts")
}

async fn count(db: &Db, sql: &'static str) -> i64 {
    on_db!(db, |p| sqlx::query_scalar(sql).fetch_one(p).await.unwrap())
}

async fn scenario(url: &str, data_dir: &std::path::Path, seed: u64) {
    println!("seed {seed:#x}");
    let db = Db::connect(url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    let expected = seed_approved_work(&db).await;
    let period_end = now().with_timezone(&BOGOTA).date_naive().to_string();
    let run = BillingRun {
        period_end,
        cycle: None,
    };
    let mut rng = Rng(seed);

    // Three times: start a worker, start a run, kill the worker at a random point of it.
    let mut kills = 0;
    for _ in 0..3 {
        let mut child = spawn_worker(url, data_dir);
        queue::push(&db, BillingRun::QUEUE, &run, None, None)
            .await
            .unwrap();
        let invoiced_before = count(&db, "SELECT COUNT(*) FROM invoices").await;
        let target =
            invoiced_before + 1 + rng.below((COMPANIES - invoiced_before).max(1) as u64 / 2) as i64;
        let deadline = Instant::now() + Duration::from_secs(60);
        while count(&db, "SELECT COUNT(*) FROM invoices").await < target
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let invoiced = count(&db, "SELECT COUNT(*) FROM invoices").await;
        println!("killed with {invoiced} of {COMPANIES} invoiced");
        if invoiced < COMPANIES {
            kills += 1;
        }
    }
    assert!(kills > 0, "no kill landed in the middle of a run");

    // Run again with a healthy worker until every company is invoiced.
    let mut child = spawn_worker(url, data_dir);
    let id = queue::push(&db, BillingRun::QUEUE, &run, None, None)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = queue::job_status(&db, &id)
            .await
            .unwrap()
            .is_some_and(|s| s.state.as_str() == "succeeded");
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // Identical to a clean run.
    let invoices: Vec<(i64, String, i64, i64, i64, i64)> = on_db!(&db, |p| {
        sqlx::query_as(
        "SELECT i.seq, c.name, i.work, i.fee, i.vat, i.total FROM invoices i JOIN companies c ON c.id = i.company_id ORDER BY i.seq"
    )
    .fetch_all(p)
    .await
    .unwrap()
    });
    assert_eq!(invoices.len() as i64, COMPANIES, "one invoice per company");
    for (i, (seq, company, work, fee, vat_, total)) in invoices.iter().enumerate() {
        assert_eq!(*seq, i as i64 + 1, "numbers run without a gap");
        let (w, f, v) = expected[company];
        assert_eq!(
            (*work, *fee, *vat_, *total),
            (w, f, v, w + f + v),
            "{company}"
        );
    }
    let unbalanced = count(
        &db,
        "SELECT COUNT(*) FROM (SELECT entry_id FROM ledger_postings GROUP BY entry_id HAVING SUM(debit) <> SUM(credit)) x",
    )
    .await;
    assert_eq!(unbalanced, 0);
    let accrual_entries = count(
        &db,
        "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'accrual'",
    )
    .await;
    assert_eq!(accrual_entries, COMPANIES, "each assignment accrued once");
    let vat_entries = count(
        &db,
        "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'invoice'",
    )
    .await;
    assert_eq!(vat_entries, COMPANIES);
    db.close().await;
}

/// One approved fixed-price assignment per company, approved an hour ago. Returns each
/// company's expected (work, fee, vat) in centavos.
async fn seed_approved_work(db: &Db) -> std::collections::HashMap<String, (i64, i64, i64)> {
    let t = unix(now());
    let mut expected = std::collections::HashMap::new();
    let worker = uuid::Uuid::now_v7().to_string();
    on_db!(db, |p| {
        sqlx::query(
            "INSERT INTO worker_profiles (id, municipality, department, payout_method, created_at, updated_at) \
             VALUES ($1, 'Chaparral', 'Tolima', '{\"kind\":\"nequi\",\"phone\":\"3105551234\"}', $2, $2)",
        )
        .bind(&worker)
        .bind(t)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
    })
    .unwrap();
    for i in 0..COMPANIES {
        let (company, user, task, assignment) = (
            uuid::Uuid::now_v7().to_string(),
            uuid::Uuid::now_v7().to_string(),
            uuid::Uuid::now_v7().to_string(),
            uuid::Uuid::now_v7().to_string(),
        );
        let name = format!("Empresa {i:03}");
        let price = 100_000 + i * 1_357;
        let work = Cop::pesos(price);
        let fee = platform_fee(work, Decimal::new(20, 2));
        let iva = vat(fee, Decimal::new(19, 2));
        expected.insert(
            name.clone(),
            (work.centavos(), fee.centavos(), iva.centavos()),
        );
        on_db!(db, |p| async {
            sqlx::query(
                "INSERT INTO companies (id, name, nit, billing_email, created_at, updated_at) VALUES ($1, $2, $3, 'f@e.test', $4, $4)",
            )
            .bind(&company)
            .bind(&name)
            .bind(format!("9{i:08}-0"))
            .bind(t)
            .execute(p)
            .await?;
            sqlx::query(
                "INSERT INTO users (id, email, name, password_hash, role, company_id, member_role, created_at, updated_at) \
                 VALUES ($1, $2, 'Owner', 'x', 'company', $3, 'owner', $4, $4)",
            )
            .bind(&user)
            .bind(format!("owner{i}@e.test"))
            .bind(&company)
            .bind(t)
            .execute(p)
            .await?;
            sqlx::query(
                "INSERT INTO tasks (id, company_id, created_by, title, instructions, category, pricing_kind, \
                 price_centavos, estimated_seconds, slots, claim_minutes, review_hours, deliverable_url_required, \
                 min_minutes, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'Etiquetar', 'Guía', 'labelling', 'fixed', $4, 14400, 1, 600, 72, $5, 0, 'closed', $6, $6)",
            )
            .bind(&task)
            .bind(&company)
            .bind(&user)
            .bind(work.centavos())
            .bind(false)
            .bind(t)
            .execute(p)
            .await?;
            sqlx::query(
                "INSERT INTO assignments (id, task_id, worker_id, company_id, status, claimed_at, expires_at, \
                 approved_seconds, approved_at, updated_at) VALUES ($1, $2, $3, $4, 'approved', $5, $5, 0, $6, $6)",
            )
            .bind(&assignment)
            .bind(&task)
            .bind(&worker)
            .bind(&company)
            .bind(t - 7200)
            .bind(t - 3600)
            .execute(p)
            .await
            .map(|_| ())
        }
        .await)
        .unwrap();
    }
    expected
}
