//! Putting jobs on the queue and asking how they went, on either database.
//!
//! The queue lives in apalis's own tables (SQLite `Jobs`, PostgreSQL `apalis.jobs`), in the same
//! database as our facts, so a fact and the job that follows from it can commit together:
//! [`push_in_tx`] writes the job inside the caller's transaction with apalis's own
//! `queries::push_tasks`, never through a second connection.
//!
//! Idempotency keys are unique per queue for as long as apalis keeps the job row: pushing a
//! key that is already there adds nothing and answers the id of the job that has it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::db::{Db, Tx};
use crate::unique_keys::{UniqueKey, unique_key};
use anyhow::Context as _;
use apalis_core::task::builder::TaskBuilder;
use apalis_core::task::task_id::TaskId;
use serde::Serialize;
use ulid::Ulid;

/// How often a job is tried in all before it is given up as failed: the first run plus the
/// in-process retries of the worker ([`RETRIES`]). Sweeps pick up what fails for good.
pub const MAX_ATTEMPTS: usize = RETRIES + 1;

/// In-process retries after a failed run (the worker's retry layer uses it).
pub const RETRIES: usize = 4;

/// The workers of each queue in this process, by database ([`Db::wake_key`]) and queue,
/// waiting to be told a job was committed onto it.
type Subscriber = (usize, String, tokio::sync::mpsc::Sender<()>);
static WAKEUPS: std::sync::Mutex<Vec<Subscriber>> = std::sync::Mutex::new(Vec::new());

/// A queue's wake-ups, as a stream a worker polls on (with its interval as the fallback for
/// jobs due later). Wake-ups that come while one is pending are merged into it.
///
/// Each wake-up comes again [`AGAIN_AFTER`] later: apalis's worker takes a wake-up that
/// arrives while it is already fetching as that fetch's, and that fetch may have started
/// before the job (or the run's outcome, see `vereda_worker::job_metrics`) was there to see;
/// it would then wait for the interval. The repeats find it.
pub struct Wakeups {
    rx: tokio::sync::mpsc::Receiver<()>,
    /// The next repeat and which of [`AGAIN_AFTER`] it is.
    again: Option<(std::pin::Pin<Box<tokio::time::Sleep>>, usize)>,
}

/// When a wake-up comes again, after the one before it.
const AGAIN_AFTER: [Duration; 2] = [Duration::from_millis(25), Duration::from_millis(225)];

impl futures::Stream for Wakeups {
    type Item = ();

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<()>> {
        use std::task::Poll;
        let this = self.get_mut();
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(())) => {
                this.again = Some((Box::pin(tokio::time::sleep(AGAIN_AFTER[0])), 0));
                return Poll::Ready(Some(()));
            }
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        let Some((timer, i)) = &mut this.again else {
            return Poll::Pending;
        };
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        match AGAIN_AFTER.get(*i + 1) {
            Some(next) => {
                let at = timer.deadline() + *next;
                timer.as_mut().reset(at);
                *i += 1;
            }
            None => this.again = None,
        }
        Poll::Ready(Some(()))
    }
}

/// Subscribe to the wake-ups of `queue` on `db` (one per worker; dropped with it).
pub fn wakeups(db: &Db, queue: &str) -> Wakeups {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    if let Ok(mut subscribers) = WAKEUPS.lock() {
        subscribers.push((db.wake_key(), queue.to_string(), tx));
    }
    Wakeups { rx, again: None }
}

/// Tell the workers of `queue` on `db` in this process to look at their queue now.
pub fn wake(db: &Db, queue: &str) {
    wake_on(db.wake_key(), queue);
}

/// [`wake`] by the database's [`Db::wake_key`].
pub fn wake_on(db: usize, queue: &str) {
    if let Ok(mut subscribers) = WAKEUPS.lock() {
        subscribers.retain(|(_, _, tx)| !tx.is_closed());
        for (d, q, tx) in subscribers.iter() {
            if *d == db && q == queue {
                // Full means a wake-up is already pending: the worker will poll anyway.
                let _ = tx.try_send(());
            }
        }
    }
}

/// Wake this process's workers when another process commits a job, on PostgreSQL: apalis's
/// own trigger on `apalis.jobs` sends `NOTIFY "apalis::job::insert"` with the job's queue for
/// every job due now (a job due later is found by the interval). One connection per process
/// listens, outside the pool (it is held for good), and reconnects after a pause when it is
/// lost; what was committed meanwhile is found by the interval. On SQLite there is no other
/// process to hear: `None`.
pub fn listen_for_other_processes(db: &Db) -> Option<tokio::task::JoinHandle<()>> {
    let Db::Postgres(pool) = db else {
        return None;
    };
    let options = pool.connect_options().as_ref().clone();
    let key = db.wake_key();
    Some(tokio::spawn(async move {
        let mut pause = Duration::from_millis(250);
        loop {
            let started = std::time::Instant::now();
            if let Err(error) = listen(key, &options).await {
                tracing::warn!(%error, "listening for other processes' jobs failed; retrying");
            }
            // A listener that ran a while failed anew: start again from the shortest pause.
            if started.elapsed() > Duration::from_secs(30) {
                pause = Duration::from_millis(250);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }))
}

/// Listen until reconnecting fails: wake the queue each notification names.
async fn listen(key: usize, options: &sqlx::postgres::PgConnectOptions) -> anyhow::Result<()> {
    #[derive(serde::Deserialize)]
    struct Inserted {
        job_type: String,
    }
    // A pool of one, only for its reconnecting (as `PgListener::connect` builds), with our
    // connection options (TLS, `TCP_NODELAY`) rather than a URL.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_with(options.clone())
        .await?;
    let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
    listener.listen("apalis::job::insert").await?;
    loop {
        // `None`: the connection was lost and made again; what came meanwhile is the
        // interval's to find.
        if let Some(n) = listener.try_recv().await?
            && let Ok(job) = serde_json::from_str::<Inserted>(n.payload())
        {
            wake_on(key, &job.job_type);
        }
    }
}

/// Push one job onto `queue` inside the caller's transaction; it becomes visible to workers
/// when (and only if) the transaction commits. Returns the job's id, or, when
/// `idempotency_key` is already taken on this queue, the id of the job that holds it.
pub async fn push_in_tx<T: Serialize>(
    tx: &mut Tx,
    queue: &str,
    payload: &T,
    run_after: Option<Duration>,
    idempotency_key: Option<&str>,
) -> anyhow::Result<String> {
    let args = serde_json::to_vec(payload).context("encoding job payload")?;
    let id = Ulid::generate();
    let mut task = TaskBuilder::new(args)
        .task_id(TaskId::from_ulid(id))
        .max_attempts(MAX_ATTEMPTS);
    if let Some(delay) = run_after {
        task = task.run_at_timestamp(unix_now() + delay.as_secs());
    }
    if let Some(key) = idempotency_key {
        task = task.idempotency_key(key);
    }
    let task = task.build();
    tx.job_pushed(queue);

    match tx {
        Tx::Sqlite(t, _) => {
            // apalis-sqlite inserts with ON CONFLICT (job_type, idempotency_key) DO NOTHING,
            // so a duplicate key is silently skipped; look up whose job it is afterwards.
            apalis_sqlite::queries::push_tasks(&mut **t, queue, &[task])
                .await
                .with_context(|| format!("pushing a job on {queue}"))?;
            if let Some(key) = idempotency_key {
                return find_sqlite(t, queue, key).await;
            }
        }
        Tx::Postgres(t, _) => {
            // apalis-postgres has no ON CONFLICT: a duplicate key is a unique violation, which
            // would abort the caller's whole transaction. So: answer an existing job without
            // inserting, and guard the insert with a savepoint for the race where another
            // transaction commits the same key between our look-up and our insert.
            if let Some(key) = idempotency_key
                && let Some(existing) = find_postgres(t, queue, key).await?
            {
                return Ok(existing);
            }
            sqlx::query("SAVEPOINT vereda_push")
                .execute(&mut **t)
                .await?;
            let pushed = apalis_postgres::queries::push_tasks(&mut **t, queue, vec![task]).await;
            match (pushed, idempotency_key) {
                (Ok(()), _) => {
                    sqlx::query("RELEASE SAVEPOINT vereda_push")
                        .execute(&mut **t)
                        .await?;
                }
                (Err(apalis_postgres::Error::Database(e)), Some(key))
                    if unique_key(&e) == Some(UniqueKey::QueueIdempotency) =>
                {
                    sqlx::query("ROLLBACK TO SAVEPOINT vereda_push")
                        .execute(&mut **t)
                        .await?;
                    return find_postgres(t, queue, key)
                        .await?
                        .with_context(|| format!("job with key {key:?} on {queue} vanished"));
                }
                (Err(e), _) => {
                    return Err(e).with_context(|| format!("pushing a job on {queue}"));
                }
            }
        }
    }
    Ok(id.to_string())
}

/// Push many jobs in the caller's transaction with one statement. Only for idempotency keys
/// that are new by construction (derived from ids made in this transaction): there is no
/// look-up and no savepoint per job, so a key that already existed would fail the
/// transaction on PostgreSQL.
pub async fn push_new_in_tx<T: Serialize>(
    tx: &mut Tx,
    queue: &str,
    jobs: &[(T, String)],
) -> anyhow::Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let mut tasks = Vec::with_capacity(jobs.len());
    for (payload, key) in jobs {
        let args = serde_json::to_vec(payload).context("encoding job payload")?;
        tasks.push(
            TaskBuilder::new(args)
                .task_id(TaskId::from_ulid(Ulid::generate()))
                .max_attempts(MAX_ATTEMPTS)
                .idempotency_key(key)
                .build(),
        );
    }
    tx.job_pushed(queue);
    match tx {
        Tx::Sqlite(t, _) => apalis_sqlite::queries::push_tasks(&mut **t, queue, &tasks)
            .await
            .with_context(|| format!("pushing jobs on {queue}"))?,
        Tx::Postgres(t, _) => apalis_postgres::queries::push_tasks(&mut **t, queue, tasks)
            .await
            .with_context(|| format!("pushing jobs on {queue}"))?,
    }
    Ok(())
}

/// Push one job in a transaction of its own, for callers that have no fact to commit with it.
pub async fn push<T: Serialize>(
    db: &Db,
    queue: &str,
    payload: &T,
    run_after: Option<Duration>,
    idempotency_key: Option<&str>,
) -> anyhow::Result<String> {
    let mut tx = db.begin().await?;
    let id = push_in_tx(&mut tx, queue, payload, run_after, idempotency_key).await?;
    tx.commit().await?;
    Ok(id)
}

async fn find_sqlite(
    t: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    queue: &str,
    key: &str,
) -> anyhow::Result<String> {
    sqlx::query_scalar("SELECT id FROM Jobs WHERE job_type = $1 AND idempotency_key = $2")
        .bind(queue)
        .bind(key)
        .fetch_one(&mut **t)
        .await
        .with_context(|| format!("looking up job with key {key:?} on {queue}"))
}

async fn find_postgres(
    t: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    queue: &str,
    key: &str,
) -> anyhow::Result<Option<String>> {
    sqlx::query_scalar("SELECT id FROM apalis.jobs WHERE job_type = $1 AND idempotency_key = $2")
        .bind(queue)
        .bind(key)
        .fetch_optional(&mut **t)
        .await
        .with_context(|| format!("looking up job with key {key:?} on {queue}"))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Where a job stands, in the words the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting to run: new, claimed by a worker but not started, or failed with attempts left.
    Queued,
    Running,
    Succeeded,
    /// Failed with no attempts left, or killed.
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
        }
    }
}

/// One job as apalis recorded it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobStatus {
    pub id: String,
    /// The queue name (apalis's `job_type` column).
    pub queue: String,
    pub state: JobState,
    /// Runs started so far (apalis's `attempts`), and how many are allowed.
    pub attempts: i64,
    pub max_attempts: i64,
    /// What the last successful run returned (the handler's output as JSON).
    pub result: Option<serde_json::Value>,
    /// The error message of the last failed run, if the last run failed.
    pub last_error: Option<String>,
    /// Unix seconds: when the job is (or was) due, and when its last run ended.
    pub run_at: i64,
    pub done_at: Option<i64>,
}

type JobRow = (
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    i64,
    Option<i64>,
);

/// The queue at a glance, for `vereda-api check`: jobs waiting their turn, running, and given up
/// on (failed with no attempt left), with when the oldest waiting one was due.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Depth {
    pub waiting: i64,
    pub running: i64,
    pub given_up: i64,
    pub oldest_due: Option<i64>,
}

pub async fn depth(db: &Db) -> anyhow::Result<Depth> {
    let row: (i64, i64, i64, Option<i64>) = match db {
        Db::Sqlite(p) => {
            sqlx::query_as(
                "SELECT \
                 COALESCE(SUM(CASE WHEN status IN ('Pending', 'Queued') \
                   OR (status = 'Failed' AND attempts < max_attempts) THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN status = 'Running' THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN status = 'Killed' \
                   OR (status = 'Failed' AND attempts >= max_attempts) THEN 1 ELSE 0 END), 0), \
                 MIN(CASE WHEN status IN ('Pending', 'Queued') THEN run_at END) FROM Jobs",
            )
            .fetch_one(p)
            .await?
        }
        Db::Postgres(p) => {
            sqlx::query_as(
                "SELECT \
                 COUNT(*) FILTER (WHERE status IN ('Pending', 'Queued') \
                   OR (status = 'Failed' AND attempts < max_attempts)), \
                 COUNT(*) FILTER (WHERE status = 'Running'), \
                 COUNT(*) FILTER (WHERE status = 'Killed' \
                   OR (status = 'Failed' AND attempts >= max_attempts)), \
                 extract(epoch FROM MIN(run_at) FILTER (WHERE status IN ('Pending', 'Queued')))::bigint \
                 FROM apalis.jobs",
            )
            .fetch_one(p)
            .await?
        }
    };
    Ok(Depth {
        waiting: row.0,
        running: row.1,
        given_up: row.2,
        oldest_due: row.3,
    })
}

/// Look a job up by id in apalis's table. `None` when there is no such job (or apalis has
/// vacuumed it away).
pub async fn job_status(db: &Db, task_id: &str) -> anyhow::Result<Option<JobStatus>> {
    let row: Option<JobRow> =
        match db {
            Db::Sqlite(p) => sqlx::query_as(
                "SELECT id, job_type, status, attempts, max_attempts, last_result, run_at, done_at \
                 FROM Jobs WHERE id = $1",
            )
            .bind(task_id)
            .fetch_optional(p)
            .await?,
            Db::Postgres(p) => {
                // Timestamps are timestamptz and the result is jsonb here; bring both to the
                // SQLite shapes (Unix seconds, JSON text).
                sqlx::query_as(
                    "SELECT id, job_type, status, attempts::bigint, max_attempts::bigint, \
                 last_result::text, extract(epoch FROM run_at)::bigint, \
                 extract(epoch FROM done_at)::bigint \
                 FROM apalis.jobs WHERE id = $1",
                )
                .bind(task_id)
                .fetch_optional(p)
                .await?
            }
        };
    let Some((id, queue, status, attempts, max_attempts, last_result, run_at, done_at)) = row
    else {
        return Ok(None);
    };
    let state = match status.as_str() {
        "Pending" | "Queued" => JobState::Queued,
        "Running" => JobState::Running,
        "Done" => JobState::Succeeded,
        // apalis fetches a failed job again while it has attempts left.
        "Failed" if attempts < max_attempts => JobState::Queued,
        "Failed" | "Killed" => JobState::Failed,
        other => anyhow::bail!("job {id} has a status apalis never writes: {other:?}"),
    };
    let (result, last_error) = split_result(last_result.as_deref());
    Ok(Some(JobStatus {
        id,
        queue,
        state,
        attempts,
        max_attempts,
        result,
        last_error,
        run_at,
        done_at,
    }))
}

impl JobState {
    pub fn parse(s: &str) -> Option<JobState> {
        [
            JobState::Queued,
            JobState::Running,
            JobState::Succeeded,
            JobState::Failed,
        ]
        .into_iter()
        .find(|j| j.as_str() == s)
    }
}

/// Which person-started jobs to list (`job_requests`), newest first.
#[derive(Debug, Clone, Default)]
pub struct JobFilter<'a> {
    pub kind: Option<&'a str>,
    pub state: Option<JobState>,
    /// Only the jobs this user started (`None`: everyone's).
    pub requested_by: Option<&'a str>,
    /// Job ids below this one (a page's cursor); ids are ULIDs, so this is older.
    pub before: &'a str,
    pub limit: i64,
}

/// A person-started job with where it stands.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ListedJob {
    pub job_id: String,
    pub kind: String,
    pub requested_by: String,
    /// The name of the person who started it.
    pub requested_by_name: Option<String>,
    pub subject_id: Option<String>,
    pub progress_done: Option<i64>,
    pub progress_total: Option<i64>,
    pub created_at: i64,
    /// `JobState::as_str`, worked out in SQL as `job_status` does, so it can be filtered on.
    pub state: String,
    pub last_result: Option<String>,
}

impl ListedJob {
    /// The last run's output and error, as `job_status` splits them.
    pub fn outcome(&self) -> (Option<serde_json::Value>, Option<String>) {
        split_result(self.last_result.as_deref())
    }
}

/// Jobs people started, with their state from apalis's table, filtered in SQL (one query).
/// A request whose job apalis has not written yet reads as queued, as `job_status` says; one
/// whose row housekeeping pruned reads as it ended (`job_requests.final_state`).
pub async fn list_jobs(db: &Db, filter: &JobFilter<'_>) -> anyhow::Result<Vec<ListedJob>> {
    let state = filter.state.map(JobState::as_str);
    Ok(match db {
        Db::Sqlite(p) => {
            // The same statement on both databases but for apalis's table and its types.
            sqlx::query_as(
                "SELECT * FROM (SELECT r.job_id, r.kind, r.requested_by, \
                 u.name AS requested_by_name, r.subject_id, r.progress_done, r.progress_total, \
                 r.created_at, CASE WHEN j.id IS NULL THEN COALESCE(r.final_state, 'queued') \
                 WHEN j.status = 'Running' THEN 'running' \
                 WHEN j.status = 'Done' THEN 'succeeded' \
                 WHEN j.status = 'Killed' OR (j.status = 'Failed' AND j.attempts >= j.max_attempts) \
                 THEN 'failed' ELSE 'queued' END AS state, \
                 COALESCE(j.last_result, r.final_result) AS last_result \
                 FROM job_requests r LEFT JOIN Jobs j ON j.id = r.job_id \
                 LEFT JOIN users u ON u.id = r.requested_by \
                 WHERE r.job_id < $1 AND ($2 IS NULL OR r.kind = $2) \
                 AND ($3 IS NULL OR r.requested_by = $3)) listed \
                 WHERE ($4 IS NULL OR state = $4) ORDER BY job_id DESC LIMIT $5",
            )
            .bind(filter.before)
            .bind(filter.kind)
            .bind(filter.requested_by)
            .bind(state)
            .bind(filter.limit)
            .fetch_all(p)
            .await?
        }
        Db::Postgres(p) => {
            sqlx::query_as(
                "SELECT * FROM (SELECT r.job_id, r.kind, r.requested_by, \
                 u.name AS requested_by_name, r.subject_id, r.progress_done, r.progress_total, \
                 r.created_at, CASE WHEN j.id IS NULL THEN COALESCE(r.final_state, 'queued') \
                 WHEN j.status = 'Running' THEN 'running' \
                 WHEN j.status = 'Done' THEN 'succeeded' \
                 WHEN j.status = 'Killed' OR (j.status = 'Failed' AND j.attempts >= j.max_attempts) \
                 THEN 'failed' ELSE 'queued' END AS state, \
                 COALESCE(j.last_result::text, r.final_result) AS last_result \
                 FROM job_requests r LEFT JOIN apalis.jobs j ON j.id = r.job_id \
                 LEFT JOIN users u ON u.id = r.requested_by \
                 WHERE r.job_id < $1 AND ($2 IS NULL OR r.kind = $2) \
                 AND ($3 IS NULL OR r.requested_by = $3)) listed \
                 WHERE ($4 IS NULL OR state = $4) ORDER BY job_id DESC LIMIT $5",
            )
            .bind(filter.before)
            .bind(filter.kind)
            .bind(filter.requested_by)
            .bind(state)
            .bind(filter.limit)
            .fetch_all(p)
            .await?
        }
    })
}

/// apalis stores a run's outcome as a serialised `Result`: `{"Ok": <output>}` or
/// `{"Err": "<message>"}`. Anything else is kept as an error text, so nothing is hidden.
pub fn split_result(raw: Option<&str>) -> (Option<serde_json::Value>, Option<String>) {
    let Some(raw) = raw else {
        return (None, None);
    };
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::Object(mut m)) if m.len() == 1 => {
            if let Some(ok) = m.remove("Ok") {
                return (Some(ok), None);
            }
            match m.remove("Err") {
                Some(serde_json::Value::String(e)) => (None, Some(e)),
                Some(other) => (None, Some(other.to_string())),
                None => (None, Some(raw.to_string())),
            }
        }
        _ => (None, Some(raw.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_split_into_output_and_error() {
        let (ok, err) = split_result(Some(r#"{"Ok":{"tokens_deleted":2}}"#));
        assert_eq!(ok, Some(serde_json::json!({"tokens_deleted": 2})));
        assert_eq!(err, None);

        let (ok, err) = split_result(Some(r#"{"Err":"database is locked"}"#));
        assert_eq!(ok, None);
        assert_eq!(err.as_deref(), Some("database is locked"));

        assert_eq!(split_result(None), (None, None));
        assert_eq!(split_result(Some("garbage")).1.as_deref(), Some("garbage"));
    }
}
