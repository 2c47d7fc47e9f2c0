//! The marketplace's background work: verifying submissions, and the periodic sweep that
//! expires stale claims, warns of claims about to expire, approves submissions nobody reviewed
//! in time, re-queues verifications that were lost, and closes tasks past their deadline.
//!
//! Everything here is idempotent. Every state change goes through
//! [`assignments::transition`], a compare-and-set on the current status, so a job delivered
//! twice, late, or to two processes at once changes an assignment at most once. The sweep works
//! in bounded batches with one transaction per assignment, so one bad row cannot hold up the
//! rest; whatever a run leaves undone, the next one picks up.

use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use serde::{Deserialize, Serialize};
use serde_json::json;
use vereda_contracts::jobs::{MarketplaceSweep, VerifySubmission};
use vereda_contracts::marketplace::{self, AssignmentStatus, EntryFacts, SubmissionFacts};
use vereda_contracts::timesheet::Span;
use vereda_store::config::Settings;
use vereda_store::db::{Db, Tx};
use vereda_store::{locks, on_db, on_tx};

use vereda_store::queue;
use vereda_store::transitions::{self, Bind, Move};

/// Rows each part of the sweep handles per run.
pub const SWEEP_BATCH: i64 = 500;
/// Claims expiring within this window get a warning.
pub const EXPIRY_WARNING_SECS: i64 = 2 * 3600;
/// A submission still unverified after this long has lost its verification job.
pub const VERIFICATION_GRACE_SECS: i64 = 120;
/// A lost verification is queued again at most once per this many seconds.
pub const REVERIFY_EVERY_SECS: i64 = 600;
/// The reason recorded on an approval the company did not give.
pub const AUTO_APPROVAL_REASON: &str = "Aprobado automáticamente: la empresa no revisó a tiempo.";

fn now() -> i64 {
    vereda_contracts::time::unix(vereda_contracts::time::now())
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/// What a verification run did; stored by apalis as the job's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyOutcome {
    /// Passed the hard checks: now `verified`, waiting for the company's review.
    Verified,
    /// Failed a hard check: back to the worker as `changes_requested`.
    ChangesRequested,
    /// Not `submitted` (already verified, sent back, or never submitted): nothing to do.
    Skipped,
    /// No such assignment.
    NotFound,
}

/// The assignment and task columns verification reads.
/// A submission as verification reads it, with its task's terms.
#[derive(sqlx::FromRow)]
struct Submission {
    status: String,
    claimed_at: i64,
    submitted_at: Option<i64>,
    deliverable_url: Option<String>,
    pricing_kind: String,
    deliverable_url_required: bool,
    min_minutes: i64,
    max_seconds: Option<i64>,
    review_business_days: i64,
    claim_minutes: i64,
}

/// Verify the submission of `assignment_id` at the instant `now`, in one transaction.
pub async fn verify_submission(
    db: &Db,
    assignment_id: &str,
    now: i64,
) -> anyhow::Result<VerifyOutcome> {
    let mut tx = db.begin().await?;
    let outcome = verify_in_tx(&mut tx, assignment_id, now).await?;
    match outcome {
        VerifyOutcome::Verified | VerifyOutcome::ChangesRequested => tx.commit().await?,
        VerifyOutcome::Skipped | VerifyOutcome::NotFound => tx.rollback().await?,
    }
    Ok(outcome)
}

async fn verify_in_tx(tx: &mut Tx, id: &str, now: i64) -> anyhow::Result<VerifyOutcome> {
    let Some(sub) = read_submission(tx, id).await? else {
        tracing::warn!(assignment = id, "verification of an unknown assignment");
        return Ok(VerifyOutcome::NotFound);
    };
    if sub.status != AssignmentStatus::Submitted.as_str() {
        tracing::debug!(assignment = id, status = %sub.status, "verification skipped: not submitted");
        return Ok(VerifyOutcome::Skipped);
    }
    let entries = submitted_entries(tx, id).await?;
    let verdict = marketplace::verify(&SubmissionFacts {
        deliverable_url: sub.deliverable_url.as_deref(),
        deliverable_url_required: sub.deliverable_url_required,
        hourly: sub.pricing_kind == "hourly",
        min_minutes: sub.min_minutes,
        max_seconds: sub.max_seconds,
        claimed_at: sub.claimed_at,
        entries: &entries,
    });
    if verdict.hard.is_empty() {
        pass(tx, id, &sub, &verdict, now).await
    } else {
        send_back(tx, id, &sub, &verdict, now).await
    }
}

/// The submission, locked on PostgreSQL so concurrent runs for it take turns (on SQLite the
/// write transaction, `BEGIN IMMEDIATE`, already serialises them).
async fn read_submission(tx: &mut Tx, id: &str) -> anyhow::Result<Option<Submission>> {
    let lock = if matches!(tx, Tx::Postgres(..)) {
        " FOR UPDATE OF a"
    } else {
        ""
    };
    let sql = format!(
        "SELECT a.status, a.claimed_at, a.submitted_at, a.deliverable_url, t.pricing_kind, \
         t.deliverable_url_required, t.min_minutes, t.max_seconds, t.review_business_days, \
         t.claim_minutes \
         FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE a.id = $1{lock}"
    );
    Ok(on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await)?)
}

async fn submitted_entries(tx: &mut Tx, id: &str) -> anyhow::Result<Vec<EntryFacts>> {
    let entries: Vec<(i64, i64, String)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT started_at, ended_at, source FROM time_entries \
         WHERE assignment_id = $1 AND deleted_at IS NULL ORDER BY started_at, id"
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await)?;
    Ok(entries
        .into_iter()
        .map(|(started_at, ended_at, source)| EntryFacts {
            started_at,
            ended_at,
            source,
        })
        .collect())
}

/// Hard findings send the work back, with a full claim window to fix it.
async fn send_back(
    tx: &mut Tx,
    id: &str,
    sub: &Submission,
    verdict: &marketplace::Verdict,
    now: i64,
) -> anyhow::Result<VerifyOutcome> {
    let verdict_json = serde_json::to_value(verdict)?;
    let findings = verdict_json.to_string();
    let reason = verdict
        .hard
        .iter()
        .map(|f| f.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let m = Move {
        assignment_id: id,
        from: AssignmentStatus::Submitted,
        to: AssignmentStatus::ChangesRequested,
        actor: None,
        action: "verification_failed",
        reason: Some(&reason),
        details: Some(verdict_json),
        at: now,
    };
    // The worker gets a full claim window to fix the work: a submission made near the end
    // of the window must not expire the moment it comes back.
    let fix_until = now + sub.claim_minutes * 60;
    let set = "findings = $5, reason = $6, \
               expires_at = CASE WHEN expires_at < $7 THEN $7 ELSE expires_at END";
    let binds = [
        Bind::Text(Some(&findings)),
        Bind::Text(Some(&reason)),
        Bind::Int(Some(fix_until)),
    ];
    if !transitions::transition(tx, &m, set, &binds).await? {
        return Ok(VerifyOutcome::Skipped);
    }
    let submitted_at = sub.submitted_at.unwrap_or_default();
    transitions::notify(
        tx,
        "review_outcome",
        id,
        &format!("review_outcome:{id}:verification:{submitted_at}"),
        &json!({
            "decision": "request_changes",
            "by": "verification",
            "reason": reason,
            "findings": verdict.hard,
        }),
        now,
    )
    .await?;
    tracing::info!(
        assignment = id,
        hard = verdict.hard.len(),
        "submission sent back by verification"
    );
    Ok(VerifyOutcome::ChangesRequested)
}

/// No hard finding: the work is verified and waits for the company's review.
async fn pass(
    tx: &mut Tx,
    id: &str,
    sub: &Submission,
    verdict: &marketplace::Verdict,
    now: i64,
) -> anyhow::Result<VerifyOutcome> {
    let verdict_json = serde_json::to_value(verdict)?;
    let findings = verdict_json.to_string();
    let m = Move {
        assignment_id: id,
        from: AssignmentStatus::Submitted,
        to: AssignmentStatus::Verified,
        actor: None,
        action: "verified",
        reason: None,
        details: Some(verdict_json),
        at: now,
    };
    // The end, in Bogotá, of the last of the task's business days (issue 21 §5).
    let days = u32::try_from(sub.review_business_days.clamp(1, 30)).unwrap_or(3);
    let review_due_at = vereda_contracts::business_days::deadline(now, days);
    let set = "verified_at = $5, findings = $6, review_due_at = $7";
    let binds = [
        Bind::Int(Some(now)),
        Bind::Text(Some(&findings)),
        Bind::Int(Some(review_due_at)),
    ];
    if !transitions::transition(tx, &m, set, &binds).await? {
        return Ok(VerifyOutcome::Skipped);
    }
    // The company hears of a submission once it can review it: work sent back by the
    // checks and submitted again is announced once, when it passes.
    let submitted_at = sub.submitted_at;
    transitions::notify(
        tx,
        "submission_received",
        id,
        &format!(
            "submission_received:{id}:{}",
            submitted_at.unwrap_or_default()
        ),
        &json!({ "submitted_at": submitted_at, "review_due_at": review_due_at }),
        now,
    )
    .await?;
    tracing::info!(
        assignment = id,
        soft = verdict.soft.len(),
        "submission verified"
    );
    Ok(VerifyOutcome::Verified)
}

/// The `VerifySubmission` job handler.
pub(crate) async fn run_verification(
    job: VerifySubmission,
    db: Data<Db>,
) -> Result<VerifyOutcome, BoxDynError> {
    Ok(verify_submission(&db, &job.assignment_id, now()).await?)
}

// ---------------------------------------------------------------------------------------------
// The sweep
// ---------------------------------------------------------------------------------------------

/// What one sweep did; stored by apalis as the job's result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepReport {
    pub expired: u64,
    pub expiry_warnings: u64,
    pub auto_approved: u64,
    /// Lost verifications pushed again (a push whose key is already queued counts too).
    pub verifications_requeued: u64,
    pub tasks_closed: u64,
    /// Rows (or whole parts) that failed this time; the next sweep tries them again.
    pub failures: u64,
}

/// One sweep at the instant `now`. Each part runs even if another failed.
pub async fn sweep(db: &Db, settings: &Settings, now: i64) -> SweepReport {
    let mut failures = 0;
    let mut tally = |(done, failed): PartResult| {
        failures += failed;
        done
    };
    let daily_limit_secs = settings.daily_limit_hours * 3600;
    let expired = tally(expire_claims(db, daily_limit_secs, now).await);
    let expiry_warnings = tally(warn_expiring_claims(db, now).await);
    let auto_approved = tally(auto_approve(db, now).await);
    let verifications_requeued = tally(requeue_lost_verifications(db, now).await);
    let tasks_closed = tally(close_tasks_past_deadline(db, now).await);
    SweepReport {
        expired,
        expiry_warnings,
        auto_approved,
        verifications_requeued,
        tasks_closed,
        failures,
    }
}

/// The `MarketplaceSweep` job handler.
pub(crate) async fn run_sweep(
    _job: MarketplaceSweep,
    db: Data<Db>,
    settings: Data<Arc<Settings>>,
) -> Result<SweepReport, BoxDynError> {
    let report = sweep(&db, &settings, now()).await;
    if report != SweepReport::default() {
        tracing::info!(
            expired = report.expired,
            expiry_warnings = report.expiry_warnings,
            auto_approved = report.auto_approved,
            verifications_requeued = report.verifications_requeued,
            tasks_closed = report.tasks_closed,
            failures = report.failures,
            "marketplace sweep done"
        );
    }
    Ok(report)
}

/// Count of rows done and of failures, for one part.
type PartResult = (u64, u64);

fn part_failed(part: &str, e: &dyn std::fmt::Display) -> PartResult {
    tracing::warn!(part, error = %e, "marketplace sweep part failed");
    (0, 1)
}

/// Claims (and work sent back) not submitted by `expires_at` expire; the slot is free again
/// because slots are counted from assignment statuses. A timer still running on the claim
/// stops at the expiry and its time is kept as an entry, as when it stops at the task's cap or
/// the daily limit.
async fn expire_claims(db: &Db, daily_limit_secs: i64, now: i64) -> PartResult {
    let sql = format!(
        "SELECT a.id, a.status, a.worker_id, a.expires_at, t.max_seconds FROM assignments a \
         JOIN tasks t ON t.id = a.task_id WHERE a.status IN {} AND a.expires_at <= $1 \
         ORDER BY a.expires_at, a.id LIMIT $2",
        AssignmentStatus::sql_list(|s| s.can_move_to(AssignmentStatus::Expired))
    );
    type ExpiringRow = (String, String, String, i64, Option<i64>);
    let rows: Vec<ExpiringRow> =
        match on_db!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(now)
            .bind(SWEEP_BATCH)
            .fetch_all(p)
            .await)
        {
            Ok(rows) => rows,
            Err(e) => return part_failed("expire_claims", &e),
        };
    let (mut done, mut failed) = (0, 0);
    for (id, status, worker_id, expires_at, max_seconds) in rows {
        let Some(from) = AssignmentStatus::parse(&status) else {
            continue;
        };
        let m = Move {
            assignment_id: &id,
            from,
            to: AssignmentStatus::Expired,
            actor: None,
            action: "expired",
            reason: None,
            details: None,
            at: now,
        };
        let result = async {
            let mut tx = db.begin().await?;
            // The worker's row first, as every time-tracking write takes it: the timer and
            // the worker's entries cannot change under the check below.
            locks::worker(&mut tx, &worker_id).await?;
            let moved =
                transitions::transition(&mut tx, &m, "ended_at = $5", &[Bind::Int(Some(now))])
                    .await?;
            if moved {
                let claim = ExpiredClaim {
                    assignment_id: &id,
                    worker_id: &worker_id,
                    expires_at,
                    max_seconds,
                    daily_limit_secs,
                };
                keep_timer_until_expiry(&mut tx, &claim, now).await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(moved)
        }
        .await;
        match result {
            Ok(true) => done += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(assignment = %id, error = %e, "expiring a claim failed");
                failed += 1;
            }
        }
    }
    (done, failed)
}

/// A claim that has just expired, as its running timer needs it.
struct ExpiredClaim<'a> {
    assignment_id: &'a str,
    worker_id: &'a str,
    expires_at: i64,
    /// The task's cap on the assignment's time (hourly tasks).
    max_seconds: Option<i64>,
    daily_limit_secs: i64,
}

/// Stop a timer still running on an expired claim where it should have stopped itself (the
/// expiry, or earlier at the cap, the daily limit or the next entry), recording its time as a
/// `timer` entry. Returns the seconds kept. Runs with the worker's row locked.
async fn keep_timer_until_expiry(
    tx: &mut Tx,
    claim: &ExpiredClaim<'_>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let started: Option<i64> = on_tx!(tx, |c| sqlx::query_scalar(
        "DELETE FROM running_timers WHERE worker_id = $1 AND assignment_id = $2 \
         RETURNING started_at"
    )
    .bind(claim.worker_id)
    .bind(claim.assignment_id)
    .fetch_optional(&mut *c)
    .await)?;
    let Some(started) = started else {
        return Ok(0);
    };
    let until = claim.expires_at.max(started);
    let book = vereda_store::logbook::logbook(
        tx,
        claim.worker_id,
        &[claim.assignment_id],
        &[Span::new(started, until)],
        None,
    )
    .await?;
    let limit = book.timer_limit(
        claim.assignment_id,
        started,
        claim.max_seconds,
        claim.daily_limit_secs,
        claim.expires_at,
    );
    let end = limit.at.min(claim.expires_at);
    if end <= started {
        return Ok(0);
    }
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO time_entries (id, assignment_id, worker_id, started_at, ended_at, seconds, \
         source, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'timer', $7, $7)"
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(claim.assignment_id)
    .bind(claim.worker_id)
    .bind(started)
    .bind(end)
    .bind(end - started)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    tracing::info!(
        assignment = claim.assignment_id,
        seconds = end - started,
        "timer stopped at the claim's expiry; its time kept"
    );
    Ok(end - started)
}

/// Workers holding a claim that expires within [`EXPIRY_WARNING_SECS`] are told, once per
/// expiry time (an extended claim can be warned about again).
async fn warn_expiring_claims(db: &Db, now: i64) -> PartResult {
    let result = async {
        let mut tx = db.begin().await?;
        // Claims already warned about for this expiry time are left out, so a batch limit
        // never keeps the sweep from reaching the rest.
        let sql = format!(
            "SELECT a.id, a.task_id, a.expires_at FROM assignments a \
             WHERE a.status IN {} AND a.expires_at > $1 AND a.expires_at <= $2 \
             AND NOT EXISTS (SELECT 1 FROM notification_events n WHERE n.dedupe_key = \
                 'claim_expiring_soon:' || a.id || ':' || CAST(a.expires_at AS TEXT)) \
             ORDER BY a.expires_at, a.id LIMIT $3",
            AssignmentStatus::sql_list(AssignmentStatus::is_active)
        );
        let rows: Vec<(String, String, i64)> = on_tx!(&mut tx, |c| sqlx::query_as(
            sqlx::AssertSqlSafe(sql.as_str())
        )
        .bind(now)
        .bind(now + EXPIRY_WARNING_SECS)
        .bind(SWEEP_BATCH)
        .fetch_all(&mut *c)
        .await)?;
        for (id, task_id, expires_at) in &rows {
            transitions::notify(
                &mut tx,
                "claim_expiring_soon",
                id,
                &format!("claim_expiring_soon:{id}:{expires_at}"),
                &json!({ "task_id": task_id, "expires_at": expires_at }),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(rows.len() as u64)
    }
    .await;
    match result {
        Ok(n) => (n, 0),
        Err(e) => part_failed("warn_expiring_claims", &e),
    }
}

/// Verified work the company did not review by `review_due_at` is approved for its full
/// logged time: silence never leaves a worker unpaid. Hourly work with no time logged can
/// never be approved (it would accrue nothing: a rejection in disguise); such a submission,
/// possible only from before submissions without time were refused, goes back to the worker
/// to log the time and submit again.
async fn auto_approve(db: &Db, now: i64) -> PartResult {
    let rows: Vec<(String, String, i64)> = match on_db!(db, |p| sqlx::query_as(
        "SELECT a.id, t.pricing_kind, t.claim_minutes FROM assignments a \
         JOIN tasks t ON t.id = a.task_id WHERE a.status = 'verified' AND a.review_due_at <= $1 \
         ORDER BY a.review_due_at, a.id LIMIT $2"
    )
    .bind(now)
    .bind(SWEEP_BATCH)
    .fetch_all(p)
    .await)
    {
        Ok(rows) => rows,
        Err(e) => return part_failed("auto_approve", &e),
    };
    let (mut done, mut failed) = (0, 0);
    for (id, pricing, claim_minutes) in rows {
        let result = async {
            let mut tx = db.begin().await?;
            let logged: i64 = on_tx!(&mut tx, |c| sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(seconds), 0) AS BIGINT) FROM time_entries \
                 WHERE assignment_id = $1 AND deleted_at IS NULL"
            )
            .bind(&id)
            .fetch_one(&mut *c)
            .await)?;
            let moved = match marketplace::approved_seconds(
                marketplace::PricingKind::parse(&pricing),
                logged,
                None,
            ) {
                Ok(seconds) => {
                    transitions::approve(
                        &mut tx,
                        &id,
                        None,
                        seconds,
                        Some(AUTO_APPROVAL_REASON),
                        now,
                    )
                    .await?
                }
                Err(_) => send_back_untimed(&mut tx, &id, now + claim_minutes * 60, now).await?,
            };
            tx.commit().await?;
            Ok::<_, anyhow::Error>(moved)
        }
        .await;
        match result {
            Ok(true) => done += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(assignment = %id, error = %e, "auto-approval failed");
                failed += 1;
            }
        }
    }
    (done, failed)
}

/// The reason given to a worker whose hourly submission with no time could not be approved.
pub const NO_TIME_REASON: &str = "No se pudo aprobar automáticamente: la entrega no tiene tiempo \
     registrado y esta tarea paga por horas. Registre el tiempo que trabajó y vuelva a entregar.";

/// Send an unreviewed hourly submission with no time back to its worker (changes requested,
/// with a fresh claim window), instead of approving zero seconds.
async fn send_back_untimed(
    tx: &mut Tx,
    id: &str,
    fix_until: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let m = Move {
        assignment_id: id,
        from: AssignmentStatus::Verified,
        to: AssignmentStatus::ChangesRequested,
        actor: None,
        action: "auto_approval_refused",
        reason: Some(NO_TIME_REASON),
        details: Some(json!({ "logged_seconds": 0 })),
        at: now,
    };
    let set = "reason = $5, review_due_at = NULL, \
               expires_at = CASE WHEN expires_at < $6 THEN $6 ELSE expires_at END";
    let binds = [Bind::Text(Some(NO_TIME_REASON)), Bind::Int(Some(fix_until))];
    if !transitions::transition(tx, &m, set, &binds).await? {
        return Ok(false);
    }
    tracing::warn!(
        assignment = id,
        "hourly submission without time sent back, not approved"
    );
    transitions::notify(
        tx,
        "review_outcome",
        id,
        &format!("review_outcome:{id}:no_time:{now}"),
        &json!({ "decision": "request_changes", "by": "verification", "reason": NO_TIME_REASON }),
        now,
    )
    .await?;
    Ok(true)
}

/// A submission still `submitted` [`VERIFICATION_GRACE_SECS`] after it was made has lost its
/// verification job (pushed after a commit that the process did not survive, or failed for
/// good): queue it again. The key lets each submission be re-queued at most once per
/// [`REVERIFY_EVERY_SECS`], so a backlog is not multiplied by every sweep.
async fn requeue_lost_verifications(db: &Db, now: i64) -> PartResult {
    let rows: Vec<(String, Option<i64>)> = match on_db!(db, |p| sqlx::query_as(
        "SELECT id, submitted_at FROM assignments WHERE status = 'submitted' \
         AND submitted_at <= $1 ORDER BY submitted_at, id LIMIT $2"
    )
    .bind(now - VERIFICATION_GRACE_SECS)
    .bind(SWEEP_BATCH)
    .fetch_all(p)
    .await)
    {
        Ok(rows) => rows,
        Err(e) => return part_failed("requeue_lost_verifications", &e),
    };
    let (mut done, mut failed) = (0, 0);
    for (id, submitted_at) in rows {
        let key = format!(
            "reverify:{id}:{}:{}",
            submitted_at.unwrap_or_default(),
            now / REVERIFY_EVERY_SECS
        );
        let job = VerifySubmission {
            assignment_id: id.clone(),
        };
        match queue::push(db, VerifySubmission::QUEUE, &job, None, Some(&key)).await {
            Ok(_) => done += 1,
            Err(e) => {
                tracing::warn!(assignment = %id, error = %e, "re-queueing verification failed");
                failed += 1;
            }
        }
    }
    (done, failed)
}

/// Open tasks past their deadline close; claims on them are left to expire on their own.
async fn close_tasks_past_deadline(db: &Db, now: i64) -> PartResult {
    let result = on_db!(db, |p| sqlx::query(
        "UPDATE tasks SET status = 'closed', closed_at = $1, updated_at = $1 \
         WHERE id IN (SELECT id FROM tasks WHERE status = 'open' AND deadline IS NOT NULL \
                      AND deadline <= $1 ORDER BY deadline, id LIMIT $2) \
         AND status = 'open'"
    )
    .bind(now)
    .bind(SWEEP_BATCH)
    .execute(p)
    .await
    .map(|r| r.rows_affected()));
    match result {
        Ok(n) => {
            if n > 0 {
                vereda_store::db::marketplace_changed();
            }
            (n, 0)
        }
        Err(e) => part_failed("close_tasks_past_deadline", &e),
    }
}
