//! The queue end to end, on a real database: push jobs (inside a caller's transaction, by
//! key, delayed), run the real worker monitor, and watch the housekeeping job do its work.
//! Runs on a fresh SQLite file, and on a throw-away PostgreSQL database when
//! `VEREDA_TEST_POSTGRES_URL` names a server (e.g. postgres://postgres@127.0.0.1:5432/postgres).

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use vereda_contracts::jobs::Housekeeping;
use vereda_contracts::time::{now, unix};
use vereda_store::config::Settings;
use vereda_store::db::{Db, PoolSettings};
use vereda_store::on_db;
use vereda_store::queue::{self, JobState, JobStatus};
use vereda_store::scratch::{ScratchDb, test_postgres_url};
use vereda_worker::{housekeeping, schedule};

const DAY: i64 = 24 * 3600;
const PATIENCE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn housekeeping_runs_from_the_queue_on_sqlite() {
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

    // The queue ran on our pool without touching its pragmas (apalis's `setup` would have
    // set synchronous=OFF). Hold several connections at once so more than one is checked.
    let Db::Sqlite(pool) = &db else {
        unreachable!()
    };
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = pool.acquire().await.unwrap();
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(sync, 2, "PRAGMA synchronous must stay FULL (2)");
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(journal, "wal");
        held.push(conn);
    }
    drop(held);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn housekeeping_runs_from_the_queue_on_postgres() {
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

    let settings = Arc::new(Settings::for_database(url, data_dir).unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let monitor = tokio::spawn(vereda_worker::run(db.clone(), settings, async move {
        let _ = stopped.await;
    }));

    // A fact and its job commit together: the token is inserted in the same transaction.
    let mut tx = db.begin().await.unwrap();
    vereda_store::on_tx!(&mut tx, |c| sqlx::query(
        "INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at) \
         VALUES ('expired-in-tx', 'u1', $1, $2)"
    )
    .bind(t - 4 * DAY)
    .bind(t - 3 * DAY)
    .execute(c)
    .await
    .unwrap()
    .rows_affected());
    // A password link that expired three days ago (issue 15), gone with them.
    vereda_store::on_tx!(&mut tx, |c| sqlx::query(
        "INSERT INTO password_links (token_hash, user_id, purpose, created_at, expires_at) \
         VALUES ('expired-link', 'u1', 'reset', $1, $2)"
    )
    .bind(t - 4 * DAY)
    .bind(t - 3 * DAY)
    .execute(c)
    .await
    .unwrap()
    .rows_affected());
    let first = queue::push_in_tx(
        &mut tx,
        Housekeeping::QUEUE,
        &Housekeeping::default(),
        None,
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // A push whose transaction rolls back leaves no job behind.
    let mut tx = db.begin().await.unwrap();
    let ghost = queue::push_in_tx(
        &mut tx,
        Housekeeping::QUEUE,
        &Housekeeping::default(),
        None,
        None,
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(queue::job_status(&db, &ghost).await.unwrap(), None);

    let done = wait_until_finished(&db, &first).await;
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");
    assert_eq!(done.queue, Housekeeping::QUEUE);
    assert_eq!(done.attempts, 1, "{done:?}");
    assert_eq!(done.max_attempts, queue::MAX_ATTEMPTS as i64);
    assert_eq!(done.last_error, None);
    assert_eq!(
        done.result,
        Some(
            serde_json::json!({"tokens_deleted": 3, "throttle_rows_deleted": 2, "idempotency_keys_deleted": 1, "password_links_deleted": 1, "job_rows_deleted": 0, "retained_documents_removed": 0, "payout_details_removed": 0, "mail_blanked": 0, "electronic_documents_produced": 0, "electronic_documents_delivered": 0})
        ),
        "{done:?}"
    );
    assert!(done.done_at.is_some());
    assert_remaining(&db).await;

    // Pushing the same job again is harmless: without a key it runs again and deletes
    // nothing more; with a key it is queued once, however often it is pushed (this is how
    // every worker process's cron clock can push the same tick).
    let again = queue::push(
        &db,
        Housekeeping::QUEUE,
        &Housekeeping::default(),
        None,
        None,
    )
    .await
    .unwrap();
    let tick = (t as u64 / 600) * 600;
    let by_tick = schedule::enqueue_housekeeping(&db, tick).await.unwrap();
    let by_tick_again = schedule::enqueue_housekeeping(&db, tick).await.unwrap();
    assert_eq!(by_tick, by_tick_again);
    assert_eq!(jobs_with_key(&db, &schedule::tick_key(tick)).await, 1);

    // Two transactions racing to push one key: the second waits for the first to commit
    // (PostgreSQL: on the unique index; SQLite: on the write lock), then answers the first's
    // job, and its own transaction stays usable and commits.
    let mut first_tx = db.begin().await.unwrap();
    let winner = queue::push_in_tx(
        &mut first_tx,
        Housekeeping::QUEUE,
        &Housekeeping::default(),
        None,
        Some("race"),
    )
    .await
    .unwrap();
    let db2 = db.clone();
    let racer = tokio::spawn(async move {
        let mut tx = db2.begin().await.unwrap();
        let id = queue::push_in_tx(
            &mut tx,
            Housekeeping::QUEUE,
            &Housekeeping::default(),
            None,
            Some("race"),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        id
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    first_tx.commit().await.unwrap();
    let loser = within(PATIENCE, racer).await.unwrap().unwrap();
    assert_eq!(winner, loser);
    assert_eq!(jobs_with_key(&db, "race").await, 1);

    for id in [&again, &by_tick, &winner] {
        let done = wait_until_finished(&db, id).await;
        assert_eq!(done.state, JobState::Succeeded, "{done:?}");
        assert_eq!(
            done.result,
            Some(
                serde_json::json!({"tokens_deleted": 0, "throttle_rows_deleted": 0, "idempotency_keys_deleted": 0, "password_links_deleted": 0, "job_rows_deleted": 0, "retained_documents_removed": 0, "payout_details_removed": 0, "mail_blanked": 0, "electronic_documents_produced": 0, "electronic_documents_delivered": 0})
            )
        );
    }
    // Once its job has run, the key still answers the same job rather than queueing anew.
    assert_eq!(
        schedule::enqueue_housekeeping(&db, tick).await.unwrap(),
        by_tick
    );
    assert_remaining(&db).await;

    // A delayed job waits.
    let later = queue::push(
        &db,
        Housekeeping::QUEUE,
        &Housekeeping::default(),
        Some(Duration::from_secs(3600)),
        None,
    )
    .await
    .unwrap();
    let waiting = queue::job_status(&db, &later).await.unwrap().unwrap();
    assert_eq!(waiting.state, JobState::Queued);
    assert_eq!(waiting.attempts, 0);
    assert!(waiting.run_at >= t + 3600, "{waiting:?}");

    assert_eq!(
        queue::job_status(&db, "01ARZ3NDEKTSV4RRFFQ69G5FAV")
            .await
            .unwrap(),
        None
    );

    prunes_finished_job_rows(&db, t, &first, &again).await;

    // Shutdown is prompt and clean.
    stop.send(()).unwrap();
    let ran = tokio::time::timeout(PATIENCE, monitor)
        .await
        .expect("the monitor stops within its shutdown timeout")
        .unwrap();
    ran.unwrap();
}

/// Housekeeping a month and more later: finished rows go, a run a person started still says
/// how it ended, a waiting job and a monthly run's key stay.
async fn prunes_finished_job_rows(db: &Db, t: i64, followed: &str, unfollowed: &str) {
    on_db!(db, |p| sqlx::query(
        "INSERT INTO job_requests (job_id, kind, requested_by, created_at) \
         VALUES ($1, 'housekeeping', 'u1', $2)"
    )
    .bind(followed)
    .bind(t)
    .execute(p)
    .await
    .unwrap()
    .rows_affected());
    let monthly = queue::push(
        db,
        Housekeeping::QUEUE,
        &Housekeeping::default(),
        None,
        Some("statements:2026-11"),
    )
    .await
    .unwrap();
    wait_until_finished(db, &monthly).await;
    let before = finished_rows(db).await;
    assert!(before >= 4, "{before} finished rows");

    let keep = 30 * DAY;
    // Within the keep period nothing goes.
    let report = housekeeping::sweep(db, t + keep - 3600, keep)
        .await
        .unwrap();
    assert_eq!(report.job_rows_deleted, 0);
    let report = housekeeping::sweep(db, t + keep + 3600, keep)
        .await
        .unwrap();
    // (The worker's clocks may finish more sweep jobs meanwhile: at least these went.)
    assert!(
        report.job_rows_deleted >= before as u64 - 1,
        "all but the monthly run's"
    );
    assert_eq!(queue::job_status(db, unfollowed).await.unwrap(), None);
    assert_eq!(queue::job_status(db, followed).await.unwrap(), None);
    assert!(queue::job_status(db, &monthly).await.unwrap().is_some());
    // The month's key still dedupes: pushing it again answers the kept job.
    let again = queue::push(
        db,
        Housekeeping::QUEUE,
        &Housekeeping::default(),
        None,
        Some("statements:2026-11"),
    )
    .await
    .unwrap();
    assert_eq!(again, monthly);

    let listed = queue::list_jobs(
        db,
        &queue::JobFilter {
            before: "~",
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].job_id, followed);
    assert_eq!(listed[0].state, "succeeded");
    let (result, error) = listed[0].outcome();
    assert_eq!(error, None);
    assert_eq!(result.unwrap()["tokens_deleted"], 3);

    // After a year the monthly run's row goes too; the delayed job, not finished, never does.
    housekeeping::sweep(db, t + 500 * DAY, keep).await.unwrap();
    assert_eq!(queue::job_status(db, &monthly).await.unwrap(), None);
    assert_eq!(finished_rows(db).await, 0);
    let waiting: i64 = on_db!(db, |p| sqlx::query_scalar(match db {
        Db::Sqlite(_) => "SELECT COUNT(*) FROM Jobs WHERE status = 'Pending'",
        Db::Postgres(_) => "SELECT COUNT(*) FROM apalis.jobs WHERE status = 'Pending'",
    })
    .fetch_one(p)
    .await
    .unwrap());
    assert!(waiting >= 1);
}

async fn finished_rows(db: &Db) -> i64 {
    on_db!(db, |p| sqlx::query_scalar(match db {
        Db::Sqlite(_) => "SELECT COUNT(*) FROM Jobs WHERE status IN ('Done', 'Killed', 'Failed')",
        Db::Postgres(_) => {
            "SELECT COUNT(*) FROM apalis.jobs WHERE status IN ('Done', 'Killed', 'Failed')"
        }
    })
    .fetch_one(p)
    .await
    .unwrap())
}

/// A user with tokens and throttle rows of every kind, relative to `t`.
async fn seed(db: &Db, t: i64) {
    on_db!(db, |p| {
        sqlx::query(
            "INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at) \
             VALUES ('u1', 'admin@example.co', 'Admin', 'x', 'admin', $1, $1)",
        )
        .bind(t)
        .execute(p)
        .await
        .unwrap();
        // (hash, expires_at, revoked_at)
        let tokens = [
            ("expired", t - 2 * DAY, None),
            ("revoked-long-ago", t + DAY, Some(t - 2 * DAY)),
            ("expired-recently", t - 3600, None),
            ("revoked-recently", t + DAY, Some(t - 3600)),
            ("fresh", t + DAY, None),
        ];
        for (hash, expires_at, revoked_at) in tokens {
            sqlx::query(
                "INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at, revoked_at) \
                 VALUES ($1, 'u1', $2, $3, $4)",
            )
            .bind(hash)
            .bind(t - 3 * DAY)
            .bind(expires_at)
            .bind(revoked_at)
            .execute(p)
            .await
            .unwrap();
        }
        // Idempotency-Key answers: one past the week, one within it.
        for (key, created_at) in [("week-old", t - 8 * DAY), ("recent-retry", t - 6 * DAY)] {
            sqlx::query(
                "INSERT INTO idempotency_keys (user_id, key, route, request_hash, status, response, created_at) \
                 VALUES ('u1', $1, 'claim:t1', 'h', 201, '{}', $2)",
            )
            .bind(key)
            .bind(created_at)
            .execute(p)
            .await
            .unwrap();
        }
        // (email hash, window_start, locked_until)
        let throttle = [
            ("stale", t - 2 * DAY, None),
            ("stale-lock-expired", t - 2 * DAY, Some(t - DAY - 60)),
            ("stale-but-locked", t - 2 * DAY, Some(t + 3600)),
            ("recent", t - 3600, None),
        ];
        for (hash, window_start, locked_until) in throttle {
            sqlx::query(
                "INSERT INTO login_throttle (email_hash, failures, window_start, locked_until) \
                 VALUES ($1, 5, $2, $3)",
            )
            .bind(hash)
            .bind(window_start)
            .bind(locked_until)
            .execute(p)
            .await
            .unwrap();
        }
    });
}

/// What housekeeping must leave: everything within the grace day, live locks, and
/// Idempotency-Key answers younger than a week.
async fn assert_remaining(db: &Db) {
    let tokens: Vec<String> = on_db!(db, |p| sqlx::query_scalar(
        "SELECT token_hash FROM auth_tokens ORDER BY token_hash"
    )
    .fetch_all(p)
    .await
    .unwrap());
    assert_eq!(tokens, ["expired-recently", "fresh", "revoked-recently"]);
    let throttle: Vec<String> = on_db!(db, |p| sqlx::query_scalar(
        "SELECT email_hash FROM login_throttle ORDER BY email_hash"
    )
    .fetch_all(p)
    .await
    .unwrap());
    assert_eq!(throttle, ["recent", "stale-but-locked"]);
    let keys: Vec<String> = on_db!(db, |p| sqlx::query_scalar(
        "SELECT key FROM idempotency_keys ORDER BY key"
    )
    .fetch_all(p)
    .await
    .unwrap());
    assert_eq!(keys, ["recent-retry"]);
}

async fn jobs_with_key(db: &Db, key: &str) -> i64 {
    let sql = match db {
        Db::Sqlite(_) => "SELECT COUNT(*) FROM Jobs WHERE job_type = $1 AND idempotency_key = $2",
        Db::Postgres(_) => {
            "SELECT COUNT(*) FROM apalis.jobs WHERE job_type = $1 AND idempotency_key = $2"
        }
    };
    on_db!(db, |p| sqlx::query_scalar(sql)
        .bind(Housekeeping::QUEUE)
        .bind(key)
        .fetch_one(p)
        .await
        .unwrap())
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

async fn within<T>(limit: Duration, f: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(limit, f).await.ok()
}

/// A push wakes its queue's workers in this process when, and only when, its transaction
/// commits (a job is invisible before): no waiting for the next poll. Other queues are not
/// woken; a rolled-back push wakes nobody.
#[tokio::test]
async fn a_committed_push_wakes_its_queue_at_once() {
    use futures::{FutureExt, StreamExt};
    let dir = tempfile::tempdir().unwrap();
    let pg = ScratchDb::for_postgres_tests("vereda_wk").await;
    let url = match &pg {
        Some(pg) => pg.url.clone(),
        None => format!("sqlite:{}", dir.path().join("vereda.db").display()),
    };
    let db = Db::connect(&url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    let (mine, other) = ("vereda.test-wake", "vereda.test-other");
    let mut woken = queue::wakeups(&db, mine);
    let job = Housekeeping {};

    let mut tx = db.begin().await.unwrap();
    queue::push_in_tx(&mut tx, mine, &job, None, None)
        .await
        .unwrap();
    assert!(
        woken.next().now_or_never().is_none(),
        "woken before the commit"
    );
    tx.rollback().await.unwrap();
    assert!(woken.next().now_or_never().is_none(), "woken by a rollback");

    queue::push(&db, other, &job, None, None).await.unwrap();
    assert!(
        woken.next().now_or_never().is_none(),
        "woken by another queue"
    );
    // The same queue on another database (a test process runs many apps) is not ours either.
    let elsewhere = Db::connect(
        &format!("sqlite:{}", dir.path().join("elsewhere.db").display()),
        &PoolSettings::default(),
    )
    .await
    .unwrap();
    elsewhere.migrate().await.unwrap();
    queue::push(&elsewhere, mine, &job, None, None)
        .await
        .unwrap();
    assert!(
        woken.next().now_or_never().is_none(),
        "woken by another database"
    );

    let mut tx = db.begin().await.unwrap();
    queue::push_in_tx(&mut tx, mine, &job, None, None)
        .await
        .unwrap();
    queue::push_in_tx(&mut tx, mine, &job, None, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        woken.next().now_or_never(),
        Some(Some(())),
        "not woken by the commit"
    );
    // And again a little later, for a worker that was already fetching when it came.
    assert_eq!(
        within(Duration::from_secs(5), woken.next()).await,
        Some(Some(())),
        "no repeat"
    );
    db.close().await;
}

/// On PostgreSQL a job another process commits wakes this process's workers too: apalis's
/// trigger sends `NOTIFY` and one listener per process turns it into the queue's wake-up. The
/// "other process" here is a plain connection that pushes with apalis's own query (no
/// `Tx::job_pushed`). Only jobs due now, and only their own queue, wake; a listening connection
/// that is killed is made again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_another_process_commits_wakes_this_ones_workers() {
    use futures::{FutureExt, StreamExt};
    let Some(pg) = ScratchDb::for_postgres_tests("vereda_wl").await else {
        println!("skipped: PostgreSQL only (SQLite has no other process to hear)");
        return;
    };
    let db = Db::connect(&pg.url, &PoolSettings::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let Db::Postgres(pool) = &db else {
        unreachable!()
    };
    let (mine, other) = ("vereda.test-listen", "vereda.test-listen-other");
    let mut woken = queue::wakeups(&db, mine);
    let listener = queue::listen_for_other_processes(&db).expect("a listener on PostgreSQL");
    assert!(
        heard(pool, mine, &mut woken).await,
        "another process's job never woke us"
    );

    // Let what the unheard pushes before may still bring arrive, then: another queue's job,
    // and one due in an hour, wake nobody.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while woken.next().now_or_never().is_some() {}
    push_elsewhere(pool, other, false).await;
    push_elsewhere(pool, mine, true).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        woken.next().now_or_never().is_none(),
        "woken by another queue's job or by one not due"
    );

    // The listening connection is killed: the listener connects again and hears again.
    let killed: i64 = sqlx::query_scalar(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(killed, 1, "one listening connection");
    assert!(
        heard(pool, mine, &mut woken).await,
        "not heard after its connection was lost"
    );

    listener.abort();
    db.close().await;
}

/// Push a job as another process would: apalis's own query on a plain connection.
async fn push_elsewhere(pool: &sqlx::PgPool, queue: &str, later: bool) {
    use apalis_core::task::builder::TaskBuilder;
    let mut task = TaskBuilder::new(serde_json::to_vec(&Housekeeping {}).unwrap());
    if later {
        task = task.run_at_timestamp(u64::try_from(unix(now())).unwrap() + 3600);
    }
    let mut conn = pool.acquire().await.unwrap();
    apalis_postgres::queries::push_tasks(&mut *conn, queue, vec![task.build()])
        .await
        .unwrap();
}

/// Until the listener has said `LISTEN` a push goes unheard: push until one is heard.
async fn heard(pool: &sqlx::PgPool, queue: &str, woken: &mut queue::Wakeups) -> bool {
    use futures::StreamExt;
    within(PATIENCE, async {
        loop {
            push_elsewhere(pool, queue, false).await;
            if within(Duration::from_secs(1), woken.next()).await.is_some() {
                return;
            }
        }
    })
    .await
    .is_some()
}
