//! Backups of the embedded (SQLite) product, and restoring them.
//!
//! A backup is one tar file: `vereda.db`, a consistent copy of the database made with
//! `VACUUM INTO` on a connection of the running product's pool (a read transaction: writers go
//! on meanwhile, in WAL mode, and what they commit after the copy began is simply not in it),
//! and the data folder's `outbox/` (e-mails written to files when no SMTP server is set).
//! Invoices, statements and certificates are stored in the database itself. The archive is
//! written beside its destination and renamed into place once complete, so a backup that is
//! there is whole.
//!
//! Restoring never destroys: a database already in the data folder is refused unless forced,
//! and, forced, it is moved aside (`vereda.db.before-restore-<time>`) rather than overwritten.
//! PostgreSQL is backed up with its own tools (ARCHITECTURE.md, "Backups").

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::config::{BackupSchedule, Settings};
use crate::db::{Db, Dialect};

/// The database's name inside an archive.
const DB_ENTRY: &str = "vereda.db";
/// The outbox folder's name inside an archive and in the data folder.
const OUTBOX: &str = "outbox";
/// Scheduled backups are named `vereda-backup-<UTC time>.tar`; the time sorts as text.
const SCHEDULED_PREFIX: &str = "vereda-backup-";

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub outbox_files: usize,
}

/// The SQLite file a settings' database URL names (an error on PostgreSQL).
pub fn sqlite_file(settings: &Settings) -> anyhow::Result<PathBuf> {
    if settings.dialect != Dialect::Sqlite {
        bail!(
            "backup and restore are for the embedded SQLite database; back PostgreSQL up with \
             pg_dump or base backups and WAL archiving (ARCHITECTURE.md, \"Backups\")"
        );
    }
    let options = crate::db::sqlite_options(settings.database_url.expose())?;
    Ok(options.get_filename().to_path_buf())
}

/// Copy the running database and the outbox into the archive `to` (replacing a file there).
pub async fn backup(db: &Db, data_dir: &Path, to: &Path) -> anyhow::Result<BackupReport> {
    let Db::Sqlite(pool) = db else {
        bail!("backup is for the embedded SQLite database (PostgreSQL: pg_dump)");
    };
    let dir = to
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let stem = to
        .file_name()
        .map_or_else(|| "backup".into(), |n| n.to_string_lossy().to_string());
    let copy = dir.join(format!(".{stem}.db-partial"));
    let partial = dir.join(format!(".{stem}.partial"));
    let _ = std::fs::remove_file(&copy);
    sqlx::query("VACUUM INTO $1")
        .bind(copy.to_string_lossy().to_string())
        .execute(pool)
        .await
        .context("copying the database (VACUUM INTO)")?;

    let (copy2, partial2, outbox) = (copy.clone(), partial.clone(), data_dir.join(OUTBOX));
    let outbox_files = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let file = File::create(&partial2)
            .with_context(|| format!("cannot write {}", partial2.display()))?;
        let mut tar = tar::Builder::new(file);
        tar.append_path_with_name(&copy2, DB_ENTRY)?;
        let mut files = 0;
        if outbox.is_dir() {
            tar.append_dir_all(OUTBOX, &outbox)?;
            files = std::fs::read_dir(&outbox)?.count();
        }
        let file = tar.into_inner()?;
        file.sync_all()?;
        Ok(files)
    })
    .await??;
    let _ = std::fs::remove_file(&copy);
    std::fs::rename(&partial, to)
        .with_context(|| format!("cannot move the backup into {}", to.display()))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    let bytes = std::fs::metadata(to)?.len();
    Ok(BackupReport {
        path: to.to_path_buf(),
        bytes,
        outbox_files,
    })
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    pub database: PathBuf,
    /// Where the database that was there before went (forced restores only).
    pub moved_aside: Option<PathBuf>,
    pub outbox_files: usize,
}

/// Put the archive `from` in place as the database file `db_file` and the outbox of
/// `data_dir`. The archive is checked first (it must hold a database that passes SQLite's
/// integrity check); a database already at `db_file` is refused unless `force`, and then moved
/// aside with its outbox. Never run it on a database a running product uses.
pub async fn restore(
    from: &Path,
    db_file: &Path,
    data_dir: &Path,
    force: bool,
) -> anyhow::Result<RestoreReport> {
    if db_file.exists() && !force {
        bail!(
            "{} already holds a database; restoring over it would replace everything in it. \
             Stop the product, then run restore again with --force (the current database is \
             kept beside it as vereda.db.before-restore-<time>)",
            db_file.display()
        );
    }
    let dir = db_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    std::fs::create_dir_all(&dir)?;
    std::fs::create_dir_all(data_dir)?;
    let staging = tempfile::Builder::new()
        .prefix(".vereda-restore-")
        .tempdir_in(&dir)?;
    let (archive, into) = (from.to_path_buf(), staging.path().to_path_buf());
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let file =
            File::open(&archive).with_context(|| format!("cannot read {}", archive.display()))?;
        tar::Archive::new(file)
            .unpack(&into)
            .with_context(|| format!("{} is not a Vereda backup", archive.display()))
    })
    .await??;
    let restored = staging.path().join(DB_ENTRY);
    if !restored.is_file() {
        bail!(
            "{} holds no {DB_ENTRY}: not a Vereda backup",
            from.display()
        );
    }
    check_integrity(&restored).await?;

    let moved_aside = if db_file.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let aside = dir.join(format!("vereda.db.before-restore-{stamp}"));
        std::fs::rename(db_file, &aside)?;
        for suffix in ["-wal", "-shm"] {
            let side = PathBuf::from(format!("{}{suffix}", db_file.display()));
            if side.exists() {
                std::fs::rename(&side, format!("{}{suffix}", aside.display()))?;
            }
        }
        let outbox = data_dir.join(OUTBOX);
        if outbox.exists() {
            std::fs::rename(
                &outbox,
                data_dir.join(format!("{OUTBOX}.before-restore-{stamp}")),
            )?;
        }
        Some(aside)
    } else {
        None
    };
    std::fs::rename(&restored, db_file)?;
    let mut outbox_files = 0;
    let staged_outbox = staging.path().join(OUTBOX);
    if staged_outbox.is_dir() {
        let outbox = data_dir.join(OUTBOX);
        if outbox.exists() {
            // No database was here but an outbox was: keep its files, add the backup's.
            for entry in std::fs::read_dir(&staged_outbox)? {
                let entry = entry?;
                std::fs::rename(entry.path(), outbox.join(entry.file_name()))?;
                outbox_files += 1;
            }
        } else {
            outbox_files = std::fs::read_dir(&staged_outbox)?.count();
            std::fs::rename(&staged_outbox, &outbox)?;
        }
    }
    Ok(RestoreReport {
        database: db_file.to_path_buf(),
        moved_aside,
        outbox_files,
    })
}

/// SQLite's own integrity check on a database file, opened read-only.
async fn check_integrity(file: &Path) -> anyhow::Result<()> {
    use sqlx::ConnectOptions as _;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .connect()
        .await
        .with_context(|| format!("cannot open the backed-up database {}", file.display()))?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?;
    if verdict != "ok" {
        bail!("the backed-up database is damaged: {verdict}");
    }
    Ok(())
}

/// Make a scheduled backup if the newest in the folder is `every` old or more (or there is
/// none), then delete the oldest beyond `keep`. Returns the backup made, if any. Decided from
/// the folder, so a restart neither skips a backup nor makes one early.
pub async fn scheduled_once(
    db: &Db,
    data_dir: &Path,
    schedule: &BackupSchedule,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Option<BackupReport>> {
    let newest = scheduled_backups(&schedule.dir)?.last().cloned();
    let due = match &newest {
        None => true,
        Some((taken, _)) => {
            now.signed_duration_since(*taken)
                .to_std()
                .unwrap_or_default()
                >= schedule.every
        }
    };
    if !due {
        return Ok(None);
    }
    let name = format!("{SCHEDULED_PREFIX}{}.tar", now.format("%Y%m%dT%H%M%SZ"));
    let report = backup(db, data_dir, &schedule.dir.join(name)).await?;
    let all = scheduled_backups(&schedule.dir)?;
    for (_, old) in all.iter().take(all.len().saturating_sub(schedule.keep)) {
        std::fs::remove_file(old)?;
    }
    Ok(Some(report))
}

/// The scheduled backups in `dir`, oldest first, with the time in their names.
fn scheduled_backups(dir: &Path) -> anyhow::Result<Vec<(chrono::DateTime<chrono::Utc>, PathBuf)>> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e.into()),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(stamp) = name
            .strip_prefix(SCHEDULED_PREFIX)
            .and_then(|s| s.strip_suffix(".tar"))
        else {
            continue;
        };
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ") {
            found.push((t.and_utc(), entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// Run scheduled backups until `stop` resolves: look every minute whether one is due. A
/// failure is logged and tried again at the next look.
pub async fn run_schedule(
    db: Db,
    data_dir: PathBuf,
    schedule: BackupSchedule,
    stop: impl Future<Output = ()>,
) {
    let looks = async {
        loop {
            match scheduled_once(&db, &data_dir, &schedule, chrono::Utc::now()).await {
                Ok(Some(r)) => tracing::info!(
                    path = %r.path.display(),
                    bytes = r.bytes,
                    outbox_files = r.outbox_files,
                    "scheduled backup made"
                ),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "scheduled backup failed"),
            }
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
    };
    tokio::select! {
        () = looks => {}
        () = stop => {}
    }
}
