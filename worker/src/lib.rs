//! Vereda's background jobs, on apalis 1.0.
//!
//! [`run`] starts every job worker on the queue tables of the database it is given and runs
//! them until told to stop. The API process runs it in-process (the embedded default); the
//! `vereda-worker` binary runs it alone, as many times as wanted, on PostgreSQL.
//!
//! Jobs carry ids, never truth, and every handler is idempotent: the queue delivers at least
//! once. [`queue`] is how other code puts jobs on the queue and asks how they went.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use apalis::layers::retry::backoff::{ExponentialBackoff, ExponentialBackoffMaker, MakeBackoff};
use apalis::layers::retry::{BackoffRetryPolicy, HasherRng};
use apalis::prelude::*;
use apalis_cron::CronScheduler;
use vereda_contracts::jobs::{
    AccrueAssignment, ApplyBankConfirmation, BillingRun, BuildPayoutBatch, Housekeeping,
    IssueCreditNote, MarketplaceSweep, PostPayment, VerifySubmission,
};
use vereda_contracts::time::BOGOTA;
use vereda_store::config::Settings;
use vereda_store::db::Db;

pub mod certificate_run;
pub mod email;
pub mod housekeeping;
pub mod invoicing;
pub mod job_metrics;
pub mod ledger_audit;
pub mod marketplace_sweep;
pub mod money_jobs;
pub mod payouts;
pub mod problems;
pub mod schedule;
pub mod statement_run;
pub mod support_run;

/// In-process retries after a failed run, spaced by exponential backoff (2 s doubling, at most
/// a minute, with jitter). A job gets `RETRIES + 1` runs in all ([`queue::MAX_ATTEMPTS`]).
pub const RETRIES: usize = vereda_store::queue::RETRIES;
/// One run of a job longer than this is failed (and retried).
pub const JOB_TIMEOUT: Duration = Duration::from_secs(120);
/// Jobs one worker runs at once.
const CONCURRENCY: usize = 4;
/// Idle workers look for new jobs every second at first, backing off to every 5 s. (apalis
/// would otherwise look only on its 30 s heartbeat.)
const POLL_EVERY: Duration = Duration::from_secs(1);
const POLL_AT_MOST_EVERY: Duration = Duration::from_secs(5);
/// When a worker looks for jobs: at once when a transaction of this process commits one onto
/// its queue (`store::queue::wakeups`) or, on PostgreSQL, when another process's does (its
/// `NOTIFY`, `store::queue::listen_for_other_processes`), and otherwise on the interval, which
/// finds jobs that were due later and what a lost listening connection missed.
fn polling(db: &Db, queue: &str) -> apalis_core::backend::ext::poll_strategy::Strategy {
    apalis_core::backend::ext::poll_strategy::Strategy::new()
        .stream(vereda_store::queue::wakeups(db, queue))
        .interval_with_backoff(POLL_EVERY, BackoffConfig::new(POLL_AT_MOST_EVERY))
}

/// Each worker says it is alive every 10 s; a worker silent for 6 of them (a minute) is taken
/// for dead and its running jobs go back to the queue for another process. apalis's defaults
/// (30 s × 10 on PostgreSQL) left a killed worker's jobs stranded for five minutes. A live but
/// stalled worker whose job is re-run does no harm: every effect is idempotent.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
const MISSED_HEARTBEATS: usize = 6;

/// The same chain of layers for every job worker, outermost first: data, concurrency
/// limit, retries, metrics, then per-run timeout, tracing, and panics turned into errors
/// (the order apalis checks for at start-up).
macro_rules! job_worker {
    ($name:expr, $kind:expr, $backend:expr, $db:expr, $settings:expr, $handler:expr) => {
        WorkerBuilder::new($name)
            .backend($backend)
            .data($db)
            .data($settings)
            .concurrency(CONCURRENCY)
            .retry(retry_policy())
            // Inside the retries, so every attempt counts, timed-out and panicked ones too.
            .layer(job_metrics::JobMetricsLayer::new($kind, $db.wake_key()))
            .timeout(JOB_TIMEOUT)
            .enable_tracing()
            .catch_panic()
            .build($handler)
    };
}

/// Register on `$monitor` the worker of job type `$job` (its queue is `$job::QUEUE`), run by
/// `$handler`, on the storage of `$db`'s dialect; `$name(queue, restarts)` names it. A macro
/// rather than a generic function: the bounds apalis puts on a worker's service and layers
/// would be longer than the code they would save.
macro_rules! queue_worker {
    ($monitor:expr, $db:expr, $settings:expr, $name:expr, $job:ty, $handler:expr) => {
        match $db {
            Db::Sqlite(pool) => {
                let (pool, db, name) = (pool.clone(), $db.clone(), $name.clone());
                let settings: Arc<Settings> = $settings.clone();
                $monitor.register(move |restarts| {
                    let config = apalis_sqlite::Config::default()
                        .queue(<$job>::QUEUE)
                        .heartbeat_interval(HEARTBEAT_EVERY)
                        .missed_heartbeats(MISSED_HEARTBEATS);
                    let storage = apalis_sqlite::SqliteStorage::<$job>::new(&pool)
                        .with_config(config)
                        .poll_with_strategy(polling(&db, <$job>::QUEUE));
                    job_worker!(
                        name(<$job>::QUEUE, restarts),
                        <$job>::QUEUE,
                        paused(storage, restarts),
                        db.clone(),
                        settings.clone(),
                        $handler
                    )
                })
            }
            Db::Postgres(pool) => {
                let (pool, db, name) = (pool.clone(), $db.clone(), $name.clone());
                let settings: Arc<Settings> = $settings.clone();
                $monitor.register(move |restarts| {
                    let config = apalis_postgres::Config::default()
                        .queue(<$job>::QUEUE)
                        .heartbeat_interval(HEARTBEAT_EVERY)
                        .missed_heartbeats(MISSED_HEARTBEATS);
                    let storage = apalis_postgres::PostgresStorage::<$job>::new(&pool)
                        .with_config(config)
                        .poll_with_strategy(polling(&db, <$job>::QUEUE));
                    job_worker!(
                        name(<$job>::QUEUE, restarts),
                        <$job>::QUEUE,
                        paused(storage, restarts),
                        db.clone(),
                        settings.clone(),
                        $handler
                    )
                })
            }
        }
    };
}

/// Run all job workers on `db` until `shutdown` resolves, then stop them, giving running jobs
/// up to `Settings::shutdown_grace` to finish (a job still running then is left for the queue
/// to hand out again: its lock lapses with this process's heartbeat). Does not migrate: call `db.migrate()` first.
///
/// On SQLite the queue uses the pool in `db` itself, so it runs with our pragmas (WAL,
/// `synchronous=FULL`, busy timeout, foreign keys). apalis's `SqliteStorage::setup` is never
/// called: it would switch the pool to `synchronous=OFF`. A second pool on the same file
/// would buy nothing (SQLite has one writer at a time anyway) and would cost a second set of
/// connections to keep configured alike.
pub async fn run(
    db: Db,
    settings: Arc<Settings>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Worker names must be unique across processes (apalis registers each by name and
    // refuses a name that is alive elsewhere), and across restarts within this process.
    let instance = ulid::Ulid::generate().to_string().to_lowercase();
    tracing::info!(dialect = ?settings.dialect, %instance, "job workers starting");

    let monitor = Monitor::new()
        .shutdown_timeout(settings.shutdown_grace)
        // A worker stops for good when its backend fails (say the database went away for a
        // moment). Start it again, after a pause that grows with the restarts.
        .should_restart(|worker, error| {
            if worker.is_shutting_down() {
                return false;
            }
            tracing::warn!(worker = worker.name(), %error, "job worker failed; restarting");
            true
        });

    let monitor = register_queue_workers(monitor, &db, &settings, &instance);
    let monitor = register_statement_and_mail_workers(monitor, &db, &settings, &instance);

    // The clocks for periodic jobs only push jobs, so they need no storage of their own.
    // Housekeeping follows a cron schedule in Bogotá time.
    let clock_db = db.clone();
    let clock_instance = instance.clone();
    let monitor = monitor.register(move |restarts| {
        let clock = CronScheduler::new(schedule::housekeeping_schedule()).with_timezone(BOGOTA);
        WorkerBuilder::new(format!("clock@{clock_instance}#{restarts}"))
            .backend(paused(clock, restarts))
            .data(clock_db.clone())
            .retry(retry_policy())
            .timeout(JOB_TIMEOUT)
            .enable_tracing()
            .catch_panic()
            .build(schedule::on_housekeeping_tick)
    });

    // The marketplace sweep's clock ticks every `sweep_interval`, on the same instants in
    // every process (see `schedule::Every`), so the tick key keeps it to one job per tick.
    let clock_db = db.clone();
    let clock_instance = instance.clone();
    let every = settings.sweep_interval;
    let monitor = monitor.register(move |restarts| {
        let clock = CronScheduler::new(schedule::Every::new(every));
        WorkerBuilder::new(format!("sweep-clock@{clock_instance}#{restarts}"))
            .backend(paused(clock, restarts))
            .data(clock_db.clone())
            .retry(retry_policy())
            .timeout(JOB_TIMEOUT)
            .enable_tracing()
            .catch_panic()
            .build(schedule::on_sweep_tick)
    });

    // Last month's statements: an hourly Bogotá clock asks for them from the 1st at 06:00 on;
    // the month is the job's key (see `statement_run::STATEMENTS_CRON`). In January it asks
    // for last year's certificates too (`certificate_run::enqueue_due`).
    let clock_db = db.clone();
    let clock_instance = instance.clone();
    let monitor = monitor.register(move |restarts| {
        let clock = CronScheduler::new(statement_run::statements_schedule()).with_timezone(BOGOTA);
        WorkerBuilder::new(format!("statements-clock@{clock_instance}#{restarts}"))
            .backend(paused(clock, restarts))
            .data(clock_db.clone())
            .retry(retry_policy())
            .timeout(JOB_TIMEOUT)
            .enable_tracing()
            .catch_panic()
            .build(statement_run::on_statements_tick)
    });

    // The ledger audits itself every morning (Bogotá), one job per tick by its key.
    let clock_db = db.clone();
    let clock_instance = instance.clone();
    let monitor = monitor.register(move |restarts| {
        let clock = CronScheduler::new(ledger_audit::audit_schedule()).with_timezone(BOGOTA);
        WorkerBuilder::new(format!("audit-clock@{clock_instance}#{restarts}"))
            .backend(paused(clock, restarts))
            .data(clock_db.clone())
            .retry(retry_policy())
            .timeout(JOB_TIMEOUT)
            .enable_tracing()
            .catch_panic()
            .build(ledger_audit::on_audit_tick)
    });

    // The e-mail sweep ticks with the marketplace sweep, one job per tick by its key.
    let clock_db = db.clone();
    let clock_instance = instance.clone();
    let monitor = monitor.register(move |restarts| {
        let clock = CronScheduler::new(schedule::Every::new(every));
        WorkerBuilder::new(format!("mail-clock@{clock_instance}#{restarts}"))
            .backend(paused(clock, restarts))
            .data(clock_db.clone())
            .retry(retry_policy())
            .timeout(JOB_TIMEOUT)
            .enable_tracing()
            .catch_panic()
            .build(email::on_mail_tick)
    });

    // Jobs other processes commit wake these workers at once (PostgreSQL); the listener
    // stops with them, however `run` ends.
    struct StopOnDrop(Option<tokio::task::JoinHandle<()>>);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            if let Some(listener) = &self.0 {
                listener.abort();
            }
        }
    }
    let _listener = StopOnDrop(vereda_store::queue::listen_for_other_processes(&db));

    let asked = Arc::new(AtomicBool::new(false));
    let asked_in_signal = asked.clone();
    let signal = async move {
        shutdown.await;
        asked_in_signal.store(true, Ordering::SeqCst);
        tracing::info!("job workers stopping");
        Ok(())
    };
    monitor.run_with_signal(signal).await?;
    if !asked.load(Ordering::SeqCst) {
        anyhow::bail!("job workers stopped before shutdown was asked for");
    }
    tracing::info!("job workers stopped");
    Ok(())
}

/// One worker per queue, on the storage of the dialect at hand. Each storage names its queue
/// explicitly: apalis would otherwise use the Rust type's path, which moves with the code.
fn register_queue_workers(
    monitor: Monitor,
    db: &Db,
    settings: &Arc<Settings>,
    instance: &str,
) -> Monitor {
    let instance = instance.to_string();
    let name = move |queue: &str, restarts: usize| format!("{queue}@{instance}#{restarts}");
    let m = queue_worker!(monitor, db, settings, name, Housekeeping, housekeeping::run);
    let m = queue_worker!(
        m,
        db,
        settings,
        name,
        VerifySubmission,
        marketplace_sweep::run_verification
    );
    let m = queue_worker!(
        m,
        db,
        settings,
        name,
        MarketplaceSweep,
        marketplace_sweep::run_sweep
    );
    let m = queue_worker!(
        m,
        db,
        settings,
        name,
        AccrueAssignment,
        money_jobs::run_accrual
    );
    let m = queue_worker!(m, db, settings, name, BillingRun, money_jobs::run_billing);
    let m = queue_worker!(
        m,
        db,
        settings,
        name,
        BuildPayoutBatch,
        money_jobs::run_payout_batch
    );
    let m = queue_worker!(
        m,
        db,
        settings,
        name,
        ApplyBankConfirmation,
        money_jobs::run_confirmation
    );
    let m = queue_worker!(m, db, settings, name, PostPayment, money_jobs::run_payment);
    queue_worker!(
        m,
        db,
        settings,
        name,
        IssueCreditNote,
        money_jobs::run_credit_note
    )
}

/// The statement and e-mail queues (issue 6).
fn register_statement_and_mail_workers(
    monitor: Monitor,
    db: &Db,
    settings: &Arc<Settings>,
    instance: &str,
) -> Monitor {
    use vereda_contracts::jobs::{BuildCertificates, BuildStatements, MailSweep, SendEmail};
    let instance = instance.to_string();
    let name = move |queue: &str, restarts: usize| format!("{queue}@{instance}#{restarts}");
    let m = queue_worker!(
        monitor,
        db,
        settings,
        name,
        BuildStatements,
        statement_run::run
    );
    let m = queue_worker!(
        m,
        db,
        settings,
        name,
        BuildCertificates,
        certificate_run::run
    );
    let m = queue_worker!(
        m,
        db,
        settings,
        name,
        vereda_contracts::jobs::IssueSupportDocuments,
        support_run::run
    );
    let m = queue_worker!(m, db, settings, name, SendEmail, email::run_send);
    let m = queue_worker!(
        m,
        db,
        settings,
        name,
        vereda_contracts::jobs::LedgerAudit,
        ledger_audit::run
    );
    queue_worker!(m, db, settings, name, MailSweep, email::run_sweep)
}

/// Exponential backoff between in-process retries.
fn retry_policy() -> BackoffRetryPolicy<ExponentialBackoff> {
    let backoff = ExponentialBackoffMaker::new(
        Duration::from_secs(2),
        Duration::from_secs(60),
        0.5,
        HasherRng::default(),
    )
    .expect("constant backoff settings are valid")
    .make_backoff();
    RetryPolicy::retries(RETRIES).with_backoff(backoff)
}

/// A restarted worker waits before touching its backend again (2 s per restart so far, at most
/// 30 s), so a database that is down is not hammered in a tight loop.
fn paused<B>(
    backend: B,
    restarts: usize,
) -> apalis_core::backend::ext::lifecycle::BeforeStart<B, B::Error>
where
    B: Backend,
{
    let pause = Duration::from_secs((restarts as u64 * 2).min(30));
    backend.before_start(move |_| async move {
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        Ok(())
    })
}
