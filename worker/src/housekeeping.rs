//! Housekeeping: forget sign-in state nobody can use any more.
//!
//! Deletes sign-in tokens that expired or were revoked more than a day ago, and login-throttle
//! rows whose counting window opened more than a day ago and that do not hold a lock. The
//! grace day keeps recent history around for support questions. Also forgets `Idempotency-Key`
//! answers older than a week: a retry comes within minutes or, from a phone that was offline,
//! days — never weeks. Password links are deleted a day after they expire. Running it twice in a row deletes nothing the second time.

use apalis::prelude::{BoxDynError, Data};
use serde::{Deserialize, Serialize};
use vereda_contracts::jobs::Housekeeping;
use vereda_store::db::Db;
use vereda_store::on_db;

/// How long expired state is kept before it is deleted.
pub const GRACE_SECS: i64 = 24 * 3600;
/// How long a stored `Idempotency-Key` answer is replayed.
pub const IDEMPOTENCY_KEEP_SECS: i64 = 7 * 24 * 3600;

/// What one run deleted; stored by apalis as the job's result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HousekeepingReport {
    pub tokens_deleted: u64,
    pub throttle_rows_deleted: u64,
    #[serde(default)]
    pub idempotency_keys_deleted: u64,
    /// Password links (reset, invitation) expired more than a day ago.
    #[serde(default)]
    pub password_links_deleted: u64,
}

/// The sweep itself, at the instant `now` (Unix seconds).
pub async fn sweep(db: &Db, now: i64) -> Result<HousekeepingReport, sqlx::Error> {
    let cutoff = now - GRACE_SECS;
    let tokens = on_db!(db, |p| sqlx::query(
        "DELETE FROM auth_tokens \
         WHERE expires_at < $1 OR (revoked_at IS NOT NULL AND revoked_at < $1)"
    )
    .bind(cutoff)
    .execute(p)
    .await?
    .rows_affected());
    let throttle = on_db!(db, |p| sqlx::query(
        "DELETE FROM login_throttle \
         WHERE window_start < $1 AND (locked_until IS NULL OR locked_until < $2)"
    )
    .bind(cutoff)
    .bind(now)
    .execute(p)
    .await?
    .rows_affected());
    let keys = on_db!(db, |p| sqlx::query(
        "DELETE FROM idempotency_keys WHERE created_at < $1"
    )
    .bind(now - IDEMPOTENCY_KEEP_SECS)
    .execute(p)
    .await?
    .rows_affected());
    let links = on_db!(db, |p| sqlx::query(
        "DELETE FROM password_links WHERE expires_at < $1"
    )
    .bind(cutoff)
    .execute(p)
    .await?
    .rows_affected());
    Ok(HousekeepingReport {
        tokens_deleted: tokens,
        throttle_rows_deleted: throttle,
        idempotency_keys_deleted: keys,
        password_links_deleted: links,
    })
}

/// The job handler.
pub(crate) async fn run(
    _job: Housekeeping,
    db: Data<Db>,
) -> Result<HousekeepingReport, BoxDynError> {
    let now = vereda_contracts::time::unix(vereda_contracts::time::now());
    let report = sweep(&db, now).await?;
    tracing::info!(
        tokens_deleted = report.tokens_deleted,
        throttle_rows_deleted = report.throttle_rows_deleted,
        idempotency_keys_deleted = report.idempotency_keys_deleted,
        password_links_deleted = report.password_links_deleted,
        "housekeeping done"
    );
    Ok(report)
}
