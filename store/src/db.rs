//! The data layer both processes share: one pool type over SQLite or PostgreSQL, the
//! per-dialect connection settings, and the migrations runner (ours and the queue's).
//!
//! Queries are written once in portable SQL (`$1` placeholders, `RETURNING`, `ON CONFLICT`,
//! integers and text only) and run on either backend through [`on_db!`] / [`on_tx!`], which
//! expand the same expression once per concrete driver, so no `sqlx::Any` is needed.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

/// Which SQL dialect a pool speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A connection pool on one of the two supported databases.
#[derive(Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print connection strings: they can carry passwords.
        write!(f, "Db({:?})", self.dialect())
    }
}

/// An open transaction on either database, with what it changed that caches must hear of.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>, Changed),
    Postgres(Transaction<'static, Postgres>, Changed),
}

/// What a transaction changed that in-process caches and workers depend on; its commit
/// announces it.
#[derive(Debug, Clone, Default)]
pub struct Changed {
    /// The database's [`Db::wake_key`].
    db: usize,
    marketplace: bool,
    /// Queues it pushed jobs onto: their workers in this process are woken on commit.
    queues: Vec<String>,
}

/// Advanced after every committed change to what workers see on the task board (tasks, their
/// skills, slots taken). The API's board cache keeps a page only while this stays put, so a
/// change made in this process is seen by the next listing; changes made by other processes
/// are seen when the cached page ages out (see `api/src/task_board.rs`).
static MARKETPLACE_EPOCH: AtomicU64 = AtomicU64::new(0);

/// The current marketplace epoch (read it before querying what you will cache).
pub fn marketplace_epoch() -> u64 {
    MARKETPLACE_EPOCH.load(Ordering::Acquire)
}

/// Announce a committed marketplace change made outside a [`Tx`] (an autocommit statement).
pub fn marketplace_changed() {
    MARKETPLACE_EPOCH.fetch_add(1, Ordering::AcqRel);
}

/// Run `$body` with `$c` bound to the concrete pool (`&SqlitePool` or `&PgPool`).
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($c) => $body,
            $crate::db::Db::Postgres($c) => $body,
        }
    };
}

/// Run `$body` with `$c` bound to the transaction's concrete connection (an executor).
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t, _) => {
                let $c = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t, _) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// Run a write statement (`sqlx::query(…).bind(…)`) in the transaction `$tx` and give the
/// number of rows it changed. For writes whose count says nothing; where zero rows would mean
/// the row was gone or not in the state expected, use [`exec_one!`].
#[macro_export]
macro_rules! exec {
    ($tx:expr, $query:expr) => {
        $crate::on_tx!($tx, |c| ($query)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))
    };
}

/// Run a write that must change exactly one row in `$tx`: any other count is
/// [`WriteError::Rows`], so a conditional update that found nothing to change is never
/// mistaken for done.
#[macro_export]
macro_rules! exec_one {
    ($tx:expr, $query:expr) => {
        $crate::db::exactly_one($crate::exec!($tx, $query))
    };
}

/// Why a write that had to change one row did not.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("expected one row to change, {0} did")]
    Rows(u64),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// [`exec_one!`]'s check.
pub fn exactly_one(changed: Result<u64, sqlx::Error>) -> Result<(), WriteError> {
    match changed? {
        1 => Ok(()),
        n => Err(WriteError::Rows(n)),
    }
}

/// Pool sizing and timeouts.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// How long a request waits for a connection before it fails with 503.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// Turn Nagle's algorithm off (`TCP_NODELAY`) on every TCP socket of this process; run after
/// each new PostgreSQL connection.
///
/// sqlx 0.9.0 stopped setting `TCP_NODELAY` on its sockets (sqlx issue #4335; the fix, PR
/// #4336, is merged but not released). Without it a message written in more than one piece —
/// any statement with a few hundred parameters, or anything over TLS, which writes records
/// separately — waits for the server's delayed ACK: ~40 ms per statement on Linux. Measured in
/// BENCHMARKS.md: the billing run's accrual batches spent most of their time in these waits.
/// sqlx offers no hook to reach its socket, so this walks our own descriptors; setting the
/// option on a socket that is not TCP fails harmlessly, and every TCP socket of ours (HTTP,
/// SMTP, database) wants it. Remove once a sqlx release sets it again.
pub fn disable_nagle_on_sockets() {
    #[cfg(target_os = "linux")]
    {
        let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
            return;
        };
        for entry in fds.flatten() {
            let Some(fd) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            let is_socket = std::fs::read_link(entry.path())
                .is_ok_and(|t| t.to_string_lossy().starts_with("socket:"));
            if !is_socket {
                continue;
            }
            let one: libc::c_int = 1;
            #[allow(unsafe_code)] // setsockopt has no safe wrapper that takes a raw fd.
            // SAFETY: setsockopt only reads `one` for the length given. `fd` was listed as
            // ours a moment ago; if it was closed (EBADF), reused for something that is not a
            // socket (ENOTSOCK) or is not TCP (EOPNOTSUPP), the call fails and changes nothing.
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::IPPROTO_TCP,
                    libc::TCP_NODELAY,
                    (&one as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                );
            }
        }
    }
}

/// The PostgreSQL advisory-lock key that serialises start-up migrations ("vereda").
const MIGRATION_LOCK_KEY: i64 = 0x7665_7265_6461;

impl Db {
    /// Open a pool for `url` (`sqlite:` or `postgres:`), creating a SQLite file if missing.
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Db, sqlx::Error> {
        match dialect_of(url) {
            Some(Dialect::Sqlite) => {
                let opts = sqlite_options(url)?;
                let pool = SqlitePoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_with(opts)
                    .await?;
                Ok(Db::Sqlite(pool))
            }
            Some(Dialect::Postgres) => {
                let opts = PgConnectOptions::from_str(url)?;
                let pool = PgPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    .after_connect(|_, _| {
                        Box::pin(async {
                            disable_nagle_on_sockets();
                            Ok(())
                        })
                    })
                    // Connect lazily so a process can start (and answer /readyz 503) while
                    // the database is still down; `migrate` waits for it.
                    .connect_lazy_with(opts);
                Ok(Db::Postgres(pool))
            }
            None => Err(sqlx::Error::Configuration(
                "database URL must start with sqlite: or postgres://".into(),
            )),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Begin a write transaction. On SQLite it is `BEGIN IMMEDIATE`, so the write lock is
    /// taken up front and waits on the busy timeout instead of failing mid-transaction with
    /// "database is locked" when two deferred transactions both try to upgrade.
    /// Which database this is within this process (its pool's), so a job's wake-up reaches
    /// only the workers on the database that holds the job: a test process runs many apps.
    pub fn wake_key(&self) -> usize {
        match self {
            Db::Sqlite(p) => std::sync::Arc::as_ptr(&p.connect_options()).addr(),
            Db::Postgres(p) => std::sync::Arc::as_ptr(&p.connect_options()).addr(),
        }
    }

    fn changed(&self) -> Changed {
        Changed {
            db: self.wake_key(),
            ..Changed::default()
        }
    }

    /// A read-only transaction that sees one snapshot of the database from its first read on
    /// (SQLite's deferred `BEGIN` in WAL mode; PostgreSQL's repeatable read): checks that
    /// compare tables must not see a transaction committed between two of their queries.
    pub async fn snapshot(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN").await?, self.changed()),
            Db::Postgres(p) => Tx::Postgres(
                p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await?,
                self.changed(),
            ),
        })
    }

    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?, self.changed()),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?, self.changed()),
        })
    }

    /// A cheap round trip, for readiness.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|_| ()))
    }

    /// Apply our schema and the job queue's, once, even when several processes start together;
    /// right after ours, under the same lock, the steps that fill new columns of existing rows
    /// from rules in Rust ([`crate::backfill`]).
    pub async fn migrate(&self) -> Result<(), sqlx::Error> {
        match self {
            Db::Sqlite(pool) => {
                // sqlx's migrator takes no lock on SQLite, so two processes starting together
                // would both apply the same migration; serialise them with a lock file beside
                // the database.
                let _lock = lock_sqlite_migrations(pool).await?;
                our_sqlite_migrator().run(pool).await?;
                crate::backfill::worker_places_and_payouts(self).await?;
                let mut queue = apalis_sqlite::SqliteStorage::<()>::migrations();
                // apalis records its history in `_sqlx_migrations` by default, which would
                // collide with ours; give it its own table.
                queue.dangerous_set_table_name("_apalis_migrations");
                queue.run(pool).await?;
                Ok(())
            }
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                sqlx::query("SELECT pg_advisory_lock($1)")
                    .bind(MIGRATION_LOCK_KEY)
                    .execute(&mut *conn)
                    .await?;
                let result = async {
                    our_postgres_migrator().run(pool).await?;
                    crate::backfill::worker_places_and_payouts(self).await?;
                    apalis_postgres::PostgresStorage::<()>::migrations()
                        .run(pool)
                        .await?;
                    Ok::<_, sqlx::Error>(())
                }
                .await;
                let unlock = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(MIGRATION_LOCK_KEY)
                    .execute(&mut *conn)
                    .await;
                result?;
                unlock?;
                Ok(())
            }
        }
    }

    pub async fn close(&self) {
        on_db!(self, |p| p.close().await)
    }

    /// Connections open, of which idle, and the most the pool opens (for `/metrics`).
    pub fn pool_use(&self) -> (u32, u32, u32) {
        on_db!(self, |p| (
            p.size(),
            p.num_idle() as u32,
            p.options().get_max_connections()
        ))
    }

    /// Take a connection from the pool and give it back: how long that takes is how long a
    /// request would wait for one now.
    pub async fn acquire_probe(&self) -> Result<(), sqlx::Error> {
        on_db!(self, |p| p.acquire().await.map(drop))
    }
}

impl Tx {
    pub fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(..) => Dialect::Sqlite,
            Tx::Postgres(..) => Dialect::Postgres,
        }
    }

    /// This transaction changes what workers see on the task board; its commit advances
    /// [`marketplace_epoch`].
    pub fn marketplace_changed(&mut self) {
        match self {
            Tx::Sqlite(_, c) | Tx::Postgres(_, c) => c.marketplace = true,
        }
    }

    /// This transaction pushed a job onto `queue`; its commit wakes that queue's workers in
    /// this process.
    pub fn job_pushed(&mut self, queue: &str) {
        let (Tx::Sqlite(_, c) | Tx::Postgres(_, c)) = self;
        if !c.queues.iter().any(|q| q == queue) {
            c.queues.push(queue.to_string());
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let changed = match self {
            Tx::Sqlite(t, c) => t.commit().await.map(|_| c),
            Tx::Postgres(t, c) => t.commit().await.map(|_| c),
        }?;
        // After the commit, never before: a listing that reads the epoch and then the tables
        // must not cache rows older than an epoch it already saw.
        if changed.marketplace {
            marketplace_changed();
        }
        // Likewise a job is visible only once committed: wake its workers now, not before.
        for queue in &changed.queues {
            crate::queue::wake_on(changed.db, queue);
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t, _) => t.rollback().await,
            Tx::Postgres(t, _) => t.rollback().await,
        }
    }
}

/// An exclusive lock on `<database>.migrate-lock`, held until the returned file is dropped.
/// None for in-memory databases.
async fn lock_sqlite_migrations(pool: &SqlitePool) -> Result<Option<std::fs::File>, sqlx::Error> {
    let db_file = pool.connect_options().get_filename().to_path_buf();
    if db_file.as_os_str().is_empty() || db_file.to_string_lossy().contains(":memory:") {
        return Ok(None);
    }
    let lock_path = db_file.with_extension("migrate-lock");
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)?;
    let file = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))??;
    Ok(Some(file))
}

/// Our migrations: those this build knows, and those the database has applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    pub known: Vec<i64>,
    pub applied: Vec<i64>,
}

impl MigrationState {
    /// Applied by a newer Vereda: this build does not know them (it refuses to start).
    pub fn unknown(&self) -> Vec<i64> {
        self.applied
            .iter()
            .filter(|v| !self.known.contains(v))
            .copied()
            .collect()
    }

    /// Known but not applied yet (applied when the product starts).
    pub fn pending(&self) -> Vec<i64> {
        self.known
            .iter()
            .filter(|v| !self.applied.contains(v))
            .copied()
            .collect()
    }
}

impl Db {
    /// Which of our migrations the database has applied (none when it was never migrated).
    pub async fn migration_state(&self) -> Result<MigrationState, sqlx::Error> {
        let migrator = match self {
            Db::Sqlite(_) => our_sqlite_migrator(),
            Db::Postgres(_) => our_postgres_migrator(),
        };
        let known = migrator.iter().map(|m| m.version).collect();
        let sql = "SELECT version FROM _vereda_migrations WHERE success ORDER BY version";
        let applied = match on_db!(self, |p| sqlx::query_scalar::<_, i64>(sql)
            .fetch_all(p)
            .await)
        {
            Ok(v) => v,
            // Never migrated: no history table yet.
            Err(sqlx::Error::Database(e)) if e.message().contains("_vereda_migrations") => {
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        Ok(MigrationState { known, applied })
    }
}

fn our_sqlite_migrator() -> sqlx::migrate::Migrator {
    let mut m = sqlx::migrate!("../migrations/sqlite");
    m.dangerous_set_table_name("_vereda_migrations");
    m
}

fn our_postgres_migrator() -> sqlx::migrate::Migrator {
    let mut m = sqlx::migrate!("../migrations/postgres");
    m.dangerous_set_table_name("_vereda_migrations");
    m
}

/// The dialect a database URL names, if any.
pub fn dialect_of(url: &str) -> Option<Dialect> {
    if url.starts_with("sqlite:") {
        Some(Dialect::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Some(Dialect::Postgres)
    } else {
        None
    }
}

/// Our SQLite settings, set on every connection of the pool: WAL so readers do not block the
/// writer, `synchronous=FULL` so a committed peso survives a power cut, foreign keys on, and a
/// busy timeout so concurrent writers queue instead of failing.
pub fn sqlite_options(url: &str) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(30)))
}

/// True when an error means "the database cannot be reached right now" (as opposed to a bad
/// query): the API answers these with 503 rather than 500.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    matches!(
        err,
        sqlx::Error::PoolTimedOut
            | sqlx::Error::Io(_)
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            // A connection cut during its handshake surfaces as a protocol error.
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed
    ) || matches!(err, sqlx::Error::Database(e) if e.code().is_some_and(|c| {
        // PostgreSQL: admin shutdown, crash shutdown, cannot connect now, too many connections.
        matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
    }))
}
