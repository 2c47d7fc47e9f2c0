//! Housekeeping: forget sign-in state nobody can use any more.
//!
//! Deletes sign-in tokens that expired or were revoked more than a day ago, and login-throttle
//! rows whose counting window opened more than a day ago and that do not hold a lock. The
//! grace day keeps recent history around for support questions. Also forgets `Idempotency-Key`
//! answers older than a week: a retry comes within minutes or, from a phone that was offline,
//! days — never weeks. Password links are deleted a day after they expire. apalis's finished job
//! rows (done, or failed for good) go after `Settings::job_keep` (30 days by default); a run a
//! person started keeps how it ended in `job_requests` first. For workers whose personal data
//! was deleted, it removes the documents and payout details kept for the law's ten years once
//! they are older (`vereda_store::erasure::retention`, decided from `now` like the rest), and
//! wipes the address of e-mails sent to them since. It also makes and delivers the electronic
//! documents the billing run or the credit-note job left undone. Running it twice in a row deletes nothing
//! the second time.

use apalis::prelude::{BoxDynError, Data};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use vereda_contracts::jobs::Housekeeping;

use vereda_store::config::Settings;
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
    /// Finished job rows older than the keep period.
    #[serde(default)]
    pub job_rows_deleted: u64,
    /// Anonymised workers' statements, certificates and fiscal records past ten years.
    #[serde(default)]
    pub retained_documents_removed: u64,
    /// Anonymised workers' payout details (and documentos soporte's printed name and cédula)
    /// past ten years.
    #[serde(default)]
    pub payout_details_removed: u64,
    /// Anonymised workers' sent e-mails whose address and text were wiped.
    #[serde(default)]
    pub mail_blanked: u64,
    /// Electronic documents made that the billing run or credit-note job had not.
    #[serde(default)]
    pub electronic_documents_produced: u64,
    /// Electronic documents handed to the provider.
    #[serde(default)]
    pub electronic_documents_delivered: u64,
}

/// A run keyed by its month or year (`statements:2026-11`, `certificates:2026`) is pushed again
/// by every clock tick of the month after (or of January): its row is what makes those pushes
/// no-ops, so it stays this long whatever the keep period.
pub const KEYED_RUN_KEEP_SECS: i64 = 400 * 24 * 3600;

/// The sweep itself, at the instant `now` (Unix seconds), pruning job rows finished more than
/// `job_keep_secs` ago.
pub async fn sweep(
    db: &Db,
    now: i64,
    job_keep_secs: i64,
) -> Result<HousekeepingReport, sqlx::Error> {
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
    let job_rows = prune_jobs(db, now - job_keep_secs, now - KEYED_RUN_KEEP_SECS).await?;
    let retained = vereda_store::erasure::retention(db, now).await?;
    Ok(HousekeepingReport {
        tokens_deleted: tokens,
        throttle_rows_deleted: throttle,
        idempotency_keys_deleted: keys,
        password_links_deleted: links,
        job_rows_deleted: job_rows,
        retained_documents_removed: retained.documents_removed,
        payout_details_removed: retained.payout_details_removed,
        mail_blanked: retained.mail_blanked,
        ..HousekeepingReport::default()
    })
}

/// Delete apalis's rows of jobs finished before `cutoff` (keyed monthly and yearly runs: before
/// `keyed_cutoff`), after copying the outcome of the ones people started into `job_requests`,
/// in one transaction. apalis's own `vacuum_before` compares its integer `run_at` with a text
/// date on SQLite (so it deletes every finished row) and runs `VACUUM`; this does neither.
async fn prune_jobs(db: &Db, cutoff: i64, keyed_cutoff: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let deleted = match &mut tx {
        vereda_store::db::Tx::Sqlite(c, _) => {
            sqlx::query(
                "UPDATE job_requests SET \
                 final_state = (SELECT CASE WHEN j.status = 'Done' THEN 'succeeded' ELSE 'failed' END \
                   FROM Jobs j WHERE j.id = job_requests.job_id), \
                 final_result = (SELECT j.last_result FROM Jobs j WHERE j.id = job_requests.job_id) \
                 WHERE final_state IS NULL AND job_id IN (SELECT j.id FROM Jobs j WHERE \
                 (j.status IN ('Done', 'Killed') \
                  OR (j.status = 'Failed' AND j.attempts >= j.max_attempts)) \
                 AND COALESCE(j.done_at, j.run_at) < $1 \
                 AND (j.idempotency_key IS NULL OR COALESCE(j.done_at, j.run_at) < $2 \
                   OR (j.idempotency_key NOT LIKE 'statements:%' \
                     AND j.idempotency_key NOT LIKE 'certificates:%')))",
            )
            .bind(cutoff)
            .bind(keyed_cutoff)
            .execute(&mut **c)
            .await?;
            sqlx::query(
                "DELETE FROM Jobs WHERE id IN (SELECT j.id FROM Jobs j WHERE \
                 (j.status IN ('Done', 'Killed') \
                  OR (j.status = 'Failed' AND j.attempts >= j.max_attempts)) \
                 AND COALESCE(j.done_at, j.run_at) < $1 \
                 AND (j.idempotency_key IS NULL OR COALESCE(j.done_at, j.run_at) < $2 \
                   OR (j.idempotency_key NOT LIKE 'statements:%' \
                     AND j.idempotency_key NOT LIKE 'certificates:%')))",
            )
            .bind(cutoff)
            .bind(keyed_cutoff)
            .execute(&mut **c)
            .await?
            .rows_affected()
        }
        vereda_store::db::Tx::Postgres(c, _) => {
            sqlx::query(
                "UPDATE job_requests SET \
                 final_state = CASE WHEN j.status = 'Done' THEN 'succeeded' ELSE 'failed' END, \
                 final_result = j.last_result::text \
                 FROM apalis.jobs j WHERE j.id = job_requests.job_id \
                 AND job_requests.final_state IS NULL \
                 AND (j.status IN ('Done', 'Killed') \
                  OR (j.status = 'Failed' AND j.attempts >= j.max_attempts)) \
                 AND COALESCE(j.done_at, j.run_at) < to_timestamp($1) \
                 AND (j.idempotency_key IS NULL OR COALESCE(j.done_at, j.run_at) < to_timestamp($2) \
                   OR (j.idempotency_key NOT LIKE 'statements:%' \
                     AND j.idempotency_key NOT LIKE 'certificates:%'))",
            )
            .bind(cutoff as f64)
            .bind(keyed_cutoff as f64)
            .execute(&mut **c)
            .await?;
            sqlx::query(
                "DELETE FROM apalis.jobs j WHERE \
                 (j.status IN ('Done', 'Killed') \
                  OR (j.status = 'Failed' AND j.attempts >= j.max_attempts)) \
                 AND COALESCE(j.done_at, j.run_at) < to_timestamp($1) \
                 AND (j.idempotency_key IS NULL OR COALESCE(j.done_at, j.run_at) < to_timestamp($2) \
                   OR (j.idempotency_key NOT LIKE 'statements:%' \
                     AND j.idempotency_key NOT LIKE 'certificates:%'))",
            )
            .bind(cutoff as f64)
            .bind(keyed_cutoff as f64)
            .execute(&mut **c)
            .await?
            .rows_affected()
        }
    };
    tx.commit().await?;
    Ok(deleted)
}

/// The job handler.
pub(crate) async fn run(
    _job: Housekeeping,
    db: Data<Db>,
    settings: Data<Arc<Settings>>,
) -> Result<HousekeepingReport, BoxDynError> {
    let now = vereda_contracts::time::unix(vereda_contracts::time::now());
    let mut report = sweep(&db, now, settings.job_keep.as_secs() as i64).await?;
    let documents = vereda_store::electronic_documents::sweep(&db, &settings).await?;
    report.electronic_documents_produced = documents.produced;
    report.electronic_documents_delivered = documents.delivered;
    tracing::info!(
        tokens_deleted = report.tokens_deleted,
        throttle_rows_deleted = report.throttle_rows_deleted,
        idempotency_keys_deleted = report.idempotency_keys_deleted,
        password_links_deleted = report.password_links_deleted,
        job_rows_deleted = report.job_rows_deleted,
        retained_documents_removed = report.retained_documents_removed,
        payout_details_removed = report.payout_details_removed,
        mail_blanked = report.mail_blanked,
        electronic_documents_produced = report.electronic_documents_produced,
        electronic_documents_delivered = report.electronic_documents_delivered,
        "housekeeping done"
    );
    Ok(report)
}
