//! The marketplace's background work end to end, on a real database and the real worker
//! monitor: verification of submissions (bad ones go back to the worker, good ones wait for
//! review, repeated deliveries change nothing), and the periodic sweep (expiry, warnings,
//! auto-approval with its accrual job, lost verifications, task deadlines), run by two worker
//! monitors at once as two processes would. Runs on a fresh SQLite file, and on a throw-away
//! PostgreSQL database when `VEREDA_TEST_POSTGRES_URL` names a server.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use vereda_contracts::jobs::{AccrueAssignment, MarketplaceSweep, VerifySubmission};
use vereda_contracts::time::{now, unix};
use vereda_store::config::Settings;
use vereda_store::db::{Db, PoolSettings};
use vereda_store::on_db;
use vereda_store::queue::{self, JobState, JobStatus};
use vereda_store::scratch::{ScratchDb, test_postgres_url};
use vereda_worker::marketplace_sweep::AUTO_APPROVAL_REASON;

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;
const PATIENCE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn marketplace_jobs_on_sqlite() {
    // The suite runs once per database: with a PostgreSQL server named, this pass is
    // PostgreSQL's (the SQLite pass, without it, runs this one).
    if test_postgres_url().is_some() {
        println!("skipped: this is the PostgreSQL pass");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("vereda.db").display());
    let db = Db::connect(&url, &PoolSettings::default()).await.unwrap();
    scenario(db.clone(), &url, dir.path()).await;
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn marketplace_jobs_on_postgres() {
    let Some(pg) = ScratchDb::for_postgres_tests("vereda_wt").await else {
        return;
    };
    // Dropped (the database with it) however the scenario ends, a panic included.
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&pg.url, &PoolSettings::default())
        .await
        .unwrap();
    scenario(db.clone(), &pg.url, dir.path()).await;
    db.close().await;
}

/// The same story on either database.
async fn scenario(db: Db, url: &str, data_dir: &Path) {
    db.migrate().await.unwrap();
    let t = unix(now());
    seed(&db, t).await;

    // Two monitors on one database, as two worker processes would run, sweeping every second.
    let mut settings = Settings::for_database(url, data_dir).unwrap();
    settings.sweep_interval = Duration::from_secs(1);
    let settings = Arc::new(settings);
    let mut monitors = Vec::new();
    for _ in 0..2 {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(vereda_worker::run(
            db.clone(),
            settings.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        monitors.push((stop, handle));
    }

    // --- Verification, pushed the way the API will push it.
    let bad = push_verification(&db, "a-bad").await;
    let good_1 = push_verification(&db, "a-good").await;
    let good_2 = push_verification(&db, "a-good").await;

    let bad_done = wait_until_finished(&db, &bad).await;
    assert_eq!(bad_done.state, JobState::Succeeded, "{bad_done:?}");
    assert_eq!(bad_done.result, Some(json!("changes_requested")));
    let a = assignment(&db, "a-bad").await;
    assert_eq!(a.status, "changes_requested");
    assert_eq!(
        a.reason.as_deref(),
        Some("El enlace al entregable debe empezar por https://.")
    );
    let findings: Value = serde_json::from_str(a.findings.as_deref().unwrap()).unwrap();
    assert_eq!(
        findings["hard"][0]["code"], "deliverable_not_https",
        "{findings}"
    );
    // Sent back near the end of its claim window, it gets a full window (3 days) to fix it.
    assert!(a.expires_at >= t + 3 * DAY, "{a:?}");
    assert_eq!(events(&db, "a-bad", "verification_failed").await, 1);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM notification_events WHERE kind = 'review_outcome' \
             AND assignment_id = 'a-bad' AND dedupe_key = $1",
            &format!("review_outcome:a-bad:verification:{t}"),
        )
        .await,
        1
    );

    let mut outcomes = Vec::new();
    for id in [&good_1, &good_2] {
        let done = wait_until_finished(&db, id).await;
        assert_eq!(done.state, JobState::Succeeded, "{done:?}");
        outcomes.push(done.result.unwrap());
    }
    outcomes.sort_by_key(Value::to_string);
    assert_eq!(outcomes, [json!("skipped"), json!("verified")]);
    // Once more after it ran: nothing changes.
    let good_3 = push_verification(&db, "a-good").await;
    let done = wait_until_finished(&db, &good_3).await;
    assert_eq!(done.result, Some(json!("skipped")), "{done:?}");
    let a = assignment(&db, "a-good").await;
    assert_eq!(a.status, "verified");
    let verified_at = a.verified_at.unwrap();
    assert!(verified_at >= t);
    // Three business days (the default), to the end of the last one in Bogotá.
    assert_eq!(
        a.review_due_at,
        Some(vereda_contracts::business_days::deadline(verified_at, 3))
    );
    let findings: Value = serde_json::from_str(a.findings.as_deref().unwrap()).unwrap();
    assert_eq!(findings["hard"], json!([]));
    assert_eq!(findings["soft"][0]["code"], "manual_entries", "{findings}");
    assert_eq!(events(&db, "a-good", "verified").await, 1);
    // Verified, it is news for the company: once, however often verification ran.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM notification_events WHERE assignment_id = $1",
            "a-good"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM notification_events WHERE kind = 'submission_received' \
             AND assignment_id = 'a-good' AND dedupe_key LIKE $1",
            "submission_received:a-good:%",
        )
        .await,
        1
    );

    // --- The sweep, on its own clock.
    eventually(
        "the sweep expires, approves, re-verifies and closes",
        || async {
            assignment(&db, "a-expire").await.status == "expired"
                && assignment(&db, "a-approve").await.status == "approved"
                && assignment(&db, "a-lost").await.status == "verified"
                && task_status(&db, "t-deadline").await == "closed"
                && count(
                    &db,
                    "SELECT COUNT(*) FROM notification_events WHERE assignment_id = $1",
                    "a-warn",
                )
                .await
                    == 1
        },
    )
    .await;

    // A claim past its time expires, with its history row; the slot is free again.
    let a = assignment(&db, "a-expire").await;
    assert!(a.ended_at.is_some_and(|e| e >= t), "{a:?}");
    let history: Vec<(String, Option<String>, String, Option<String>)> =
        on_db!(&db, |p| sqlx::query_as(
            "SELECT action, from_status, to_status, actor_id FROM assignment_events \
             WHERE assignment_id = 'a-expire'"
        )
        .fetch_all(p)
        .await
        .unwrap());
    assert_eq!(
        history,
        [(
            "expired".to_string(),
            Some("claimed".to_string()),
            "expired".to_string(),
            None
        )]
    );

    // Verified work nobody reviewed in time is approved for all its logged time (not the
    // deleted entry), the worker is told, and the accrual is queued once.
    let a = assignment(&db, "a-approve").await;
    assert!(a.auto_approved, "{a:?}");
    assert_eq!(a.approved_seconds, Some(3_000));
    assert_eq!(a.reason.as_deref(), Some(AUTO_APPROVAL_REASON));
    assert_eq!(events(&db, "a-approve", "auto_approved").await, 1);
    let payload: String = on_db!(&db, |p| sqlx::query_scalar(
        "SELECT payload FROM notification_events WHERE kind = 'review_outcome' \
         AND assignment_id = 'a-approve' AND dedupe_key = 'review_outcome:a-approve:approved'"
    )
    .fetch_one(p)
    .await
    .unwrap());
    let payload: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload["auto"], true, "{payload}");
    assert_eq!(payload["approved_seconds"], 3_000, "{payload}");
    assert_eq!(
        jobs(&db, AccrueAssignment::QUEUE, "accrue:a-approve").await,
        1
    );
    let accrual: String = on_db!(&db, |p| sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM {} WHERE job_type = $1",
        jobs_table(&db)
    )))
    .bind(AccrueAssignment::QUEUE)
    .fetch_one(p)
    .await
    .unwrap());
    // The money worker consumes it: the approved work is accrued, once.
    let deadline = std::time::Instant::now() + PATIENCE;
    while std::time::Instant::now() < deadline
        && queue::job_status(&db, &accrual)
            .await
            .unwrap()
            .map(|s| s.state)
            != Some(JobState::Succeeded)
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let accrual = queue::job_status(&db, &accrual).await.unwrap().unwrap();
    assert_eq!(accrual.state, JobState::Succeeded, "{accrual:?}");
    let accrued: i64 = on_db!(&db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM accruals WHERE assignment_id = 'a-approve'"
    )
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!(accrued, 1);
    // Its only slot holds approved work: the task is done.
    assert_eq!(task_status(&db, "t-approve").await, "closed");

    // A submission whose verification job was lost is verified after all.
    assert_eq!(events(&db, "a-lost", "verified").await, 1);

    // A claim about to expire is warned about once, however many sweeps see it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let expires = t + HOUR;
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM notification_events WHERE kind = 'claim_expiring_soon' \
             AND dedupe_key = $1",
            &format!("claim_expiring_soon:a-warn:{expires}"),
        )
        .await,
        1
    );
    assert_eq!(assignment(&db, "a-warn").await.status, "claimed");
    // Work sent back is not warned about while its (renewed) claim is far from expiring.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM notification_events WHERE kind = 'claim_expiring_soon' \
             AND assignment_id = $1",
            "a-bad",
        )
        .await,
        0
    );
    assert_eq!(task_status(&db, "t-future").await, "open");
    // Nothing ran twice: one history row per change, one approval.
    assert_eq!(events(&db, "a-expire", "expired").await, 1);
    assert_eq!(events(&db, "a-approve", "auto_approved").await, 1);

    // Two clocks ticking every second made one sweep job per tick, and every sweep that ran
    // succeeded without failures.
    let sweeps: Vec<(Option<String>, String, Option<String>)> =
        on_db!(&db, |p| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT idempotency_key, status, {} FROM {} WHERE job_type = $1",
            match &db {
                Db::Sqlite(_) => "last_result",
                Db::Postgres(_) => "last_result::text",
            },
            jobs_table(&db)
        )))
        .bind(MarketplaceSweep::QUEUE)
        .fetch_all(p)
        .await
        .unwrap());
    assert!(sweeps.len() >= 3, "{sweeps:?}");
    let mut keys: Vec<_> = sweeps.iter().map(|s| s.0.clone().unwrap()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), sweeps.len(), "one job per tick");
    for (key, status, result) in &sweeps {
        assert!(key.as_ref().unwrap().starts_with("sweep:"));
        assert_ne!(status, "Failed", "{key:?}: {result:?}");
        if status == "Done" {
            let r: Value = serde_json::from_str(result.as_deref().unwrap()).unwrap();
            assert_eq!(r["Ok"]["failures"], 0, "{r}");
        }
    }

    for (stop, handle) in monitors {
        stop.send(()).unwrap();
        let ran = tokio::time::timeout(PATIENCE, handle)
            .await
            .expect("the monitor stops within its shutdown timeout")
            .unwrap();
        ran.unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Seed
// ---------------------------------------------------------------------------------------------

/// A value to bind.
#[derive(Debug, Clone, Copy)]
enum V<'a> {
    I(i64),
    T(&'a str),
    B(bool),
    /// NULL for an integer column, and for a text column (PostgreSQL wants the type).
    NoI,
    NoT,
}

async fn exec(db: &Db, sql: &str, binds: &[V<'_>]) {
    on_db!(db, |p| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = match *b {
                V::I(v) => q.bind(v),
                V::T(v) => q.bind(v),
                V::B(v) => q.bind(v),
                V::NoI => q.bind(None::<i64>),
                V::NoT => q.bind(None::<&str>),
            };
        }
        q.execute(p).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    })
}

/// A company with its owner, a worker, and tasks and assignments in every state the jobs
/// look at, relative to `t`.
async fn seed(db: &Db, t: i64) {
    use V::*;
    exec(
        db,
        "INSERT INTO companies (id, name, nit, billing_email, created_at, updated_at) \
         VALUES ('c1', 'Datos del Sur SAS', '900123456-7', 'facturas@example.co', $1, $1)",
        &[I(t)],
    )
    .await;
    exec(
        db,
        "INSERT INTO users (id, email, name, password_hash, role, company_id, member_role, \
         created_at, updated_at) VALUES ('u-owner', 'owner@example.co', 'Dueña', 'x', \
         'company', 'c1', 'owner', $1, $1)",
        &[I(t)],
    )
    .await;
    exec(
        db,
        "INSERT INTO worker_profiles (id, municipality, department, payout_method, created_at, \
         updated_at) VALUES ('w1', 'Silvia', 'Cauca', '{\"kind\":\"nequi\"}', $1, $1)",
        &[I(t)],
    )
    .await;
    exec(
        db,
        "INSERT INTO users (id, email, name, password_hash, role, worker_id, created_at, \
         updated_at) VALUES ('u-worker', 'worker@example.co', 'Trabajadora', 'x', 'worker', \
         'w1', $1, $1)",
        &[I(t)],
    )
    .await;

    // (task id, deadline)
    let tasks = [
        ("t-expire", None),
        ("t-approve", None),
        ("t-bad", None),
        ("t-good", None),
        ("t-warn", None),
        ("t-lost", None),
        ("t-deadline", Some(t - 10)),
        ("t-future", Some(t + DAY)),
    ];
    for (id, deadline) in tasks {
        exec(
            db,
            "INSERT INTO tasks (id, company_id, created_by, title, instructions, category, \
             pricing_kind, rate_centavos, max_seconds, slots, claim_minutes, review_hours, \
             deadline, deliverable_url_required, min_minutes, status, created_at, updated_at, \
             published_at) VALUES ($1, 'c1', 'u-owner', 'Limpiar datos', 'Ver hoja', \
             'data-cleaning', 'hourly', 1850000, 36000, 1, 4320, 72, $2, $3, 1, 'open', $4, $4, $4)",
            &[T(id), deadline.map_or(NoI, I), B(true), I(t - 5 * DAY)],
        )
        .await;
    }

    // (id, task, status, claimed_at, expires_at, submitted_at, deliverable, verified_at,
    //  review_due_at)
    type Row<'a> = (
        &'a str,
        &'a str,
        &'a str,
        i64,
        i64,
        Option<i64>,
        Option<&'a str>,
        Option<i64>,
        Option<i64>,
    );
    let https = Some("https://docs.example.co/hoja");
    let rows: [Row; 6] = [
        (
            "a-expire",
            "t-expire",
            "claimed",
            t - 2 * HOUR,
            t - 60,
            None,
            None,
            None,
            None,
        ),
        (
            "a-approve",
            "t-approve",
            "verified",
            t - 5 * DAY,
            t - 4 * DAY,
            Some(t - 4 * DAY),
            https,
            Some(t - 4 * DAY),
            Some(t - 60),
        ),
        (
            "a-bad",
            "t-bad",
            "submitted",
            t - 50 * 60,
            t + 60,
            Some(t),
            Some("http://docs.example.co/hoja"),
            None,
            None,
        ),
        (
            "a-good",
            "t-good",
            "submitted",
            t - 2 * HOUR,
            t + HOUR,
            Some(t),
            https,
            None,
            None,
        ),
        (
            "a-warn",
            "t-warn",
            "claimed",
            t - 10 * 60,
            t + HOUR,
            None,
            None,
            None,
            None,
        ),
        (
            "a-lost",
            "t-lost",
            "submitted",
            t - 2 * HOUR,
            t - 60,
            Some(t - 10 * 60),
            https,
            None,
            None,
        ),
    ];
    for (id, task, status, claimed_at, expires_at, submitted_at, url, verified_at, due) in rows {
        exec(
            db,
            "INSERT INTO assignments (id, task_id, worker_id, company_id, status, claimed_at, \
             expires_at, submitted_at, deliverable_url, verified_at, review_due_at, updated_at) \
             VALUES ($1, $2, 'w1', 'c1', $3, $4, $5, $6, $7, $8, $9, $4)",
            &[
                T(id),
                T(task),
                T(status),
                I(claimed_at),
                I(expires_at),
                submitted_at.map_or(NoI, I),
                url.map_or(NoT, T),
                verified_at.map_or(NoI, I),
                due.map_or(NoI, I),
            ],
        )
        .await;
    }

    // (id, assignment, started_at, seconds, source, deleted)
    let entries = [
        ("e1", "a-approve", t - 5 * DAY + 100, 1_000, "timer", false),
        (
            "e2",
            "a-approve",
            t - 5 * DAY + 2_000,
            2_000,
            "manual",
            false,
        ),
        ("e3", "a-approve", t - 5 * DAY + 5_000, 500, "timer", true),
        ("e4", "a-bad", t - 40 * 60, 600, "timer", false),
        ("e5", "a-good", t - HOUR, 900, "manual", false),
        ("e6", "a-lost", t - HOUR, 700, "timer", false),
    ];
    for (id, assignment, started_at, seconds, source, deleted) in entries {
        exec(
            db,
            "INSERT INTO time_entries (id, assignment_id, worker_id, started_at, ended_at, \
             seconds, source, created_at, updated_at, deleted_at) \
             VALUES ($1, $2, 'w1', $3, $4, $5, $6, $4, $4, $7)",
            &[
                T(id),
                T(assignment),
                I(started_at),
                I(started_at + seconds),
                I(seconds),
                T(source),
                if deleted { I(t) } else { NoI },
            ],
        )
        .await;
    }
}

// ---------------------------------------------------------------------------------------------
// Reading back
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Assignment {
    status: String,
    reason: Option<String>,
    findings: Option<String>,
    verified_at: Option<i64>,
    review_due_at: Option<i64>,
    approved_seconds: Option<i64>,
    auto_approved: bool,
    ended_at: Option<i64>,
    expires_at: i64,
}

type AssignmentRow = (
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    bool,
    Option<i64>,
    i64,
);

async fn assignment(db: &Db, id: &str) -> Assignment {
    let r: AssignmentRow = on_db!(db, |p| sqlx::query_as(
        "SELECT status, reason, findings, verified_at, review_due_at, approved_seconds, \
         auto_approved, ended_at, expires_at FROM assignments WHERE id = $1"
    )
    .bind(id)
    .fetch_one(p)
    .await
    .unwrap());
    Assignment {
        status: r.0,
        reason: r.1,
        findings: r.2,
        verified_at: r.3,
        review_due_at: r.4,
        approved_seconds: r.5,
        auto_approved: r.6,
        ended_at: r.7,
        expires_at: r.8,
    }
}

async fn task_status(db: &Db, id: &str) -> String {
    on_db!(db, |p| sqlx::query_scalar(
        "SELECT status FROM tasks WHERE id = $1"
    )
    .bind(id)
    .fetch_one(p)
    .await
    .unwrap())
}

/// History rows of `assignment` with `action`.
async fn events(db: &Db, assignment: &str, action: &str) -> i64 {
    on_db!(db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM assignment_events WHERE assignment_id = $1 AND action = $2"
    )
    .bind(assignment)
    .bind(action)
    .fetch_one(p)
    .await
    .unwrap())
}

/// A `COUNT(*)` with one text parameter.
async fn count(db: &Db, sql: &str, arg: &str) -> i64 {
    on_db!(db, |p| sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(arg)
        .fetch_one(p)
        .await
        .unwrap())
}

fn jobs_table(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => "Jobs",
        Db::Postgres(_) => "apalis.jobs",
    }
}

/// Jobs on `queue` with idempotency key `key`.
async fn jobs(db: &Db, queue: &str, key: &str) -> i64 {
    let sql = format!(
        "SELECT COUNT(*) FROM {} WHERE job_type = $1 AND idempotency_key = $2",
        jobs_table(db)
    );
    on_db!(db, |p| sqlx::query_scalar(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(queue)
    .bind(key)
    .fetch_one(p)
    .await
    .unwrap())
}

async fn push_verification(db: &Db, assignment_id: &str) -> String {
    let job = VerifySubmission {
        assignment_id: assignment_id.to_string(),
    };
    queue::push(db, VerifySubmission::QUEUE, &job, None, None)
        .await
        .unwrap()
}

/// Poll a job until it has succeeded or failed for good, or fail the test after `PATIENCE`.
async fn wait_until_finished(db: &Db, id: &str) -> JobStatus {
    let finished = async {
        loop {
            if let Some(s) = queue::job_status(db, id).await.unwrap()
                && matches!(s.state, JobState::Succeeded | JobState::Failed)
            {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    within(PATIENCE, finished)
        .await
        .unwrap_or_else(|| panic!("job {id} did not finish within {PATIENCE:?}"))
}

/// Poll `check` until it holds, or fail the test after `PATIENCE`.
async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let polled = async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    within(PATIENCE, polled)
        .await
        .unwrap_or_else(|| panic!("not within {PATIENCE:?}: {what}"));
}

async fn within<T>(limit: Duration, f: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(limit, f).await.ok()
}
