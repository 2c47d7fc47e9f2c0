//! What fair work (issue 21) reads from the history: the decisions that count for a worker's
//! record and for a company's mass rejections, rework rounds, and qualifications granted on
//! approval. The rules themselves are `vereda_contracts::fair_work`.

use vereda_contracts::fair_work::{self, AppealKind, AppealStatus, Decided, Record};

use crate::db::Tx;
use crate::on_tx;

/// Decisions read at most, newest first: the record needs 25 that count, and a few more
/// cover the overturned and held ones it skips.
const DECISIONS_READ: i64 = 200;

type DecisionRow = (String, bool, Option<String>, Option<String>);

// The decisions that may count (as `contracts::fair_work::decided_from` reads them), each
// with whether a person made it and the assignment's platform review. Written out in full
// for each filter, so every statement can be checked as it is.

/// A worker's, newest first: `$1` the worker, `$2` how many.
const WORKER_DECISIONS: &str = "SELECT e.action, e.actor_id IS NOT NULL AS by_person, ap.kind, ap.status \
     FROM assignment_events e JOIN assignments a ON a.id = e.assignment_id \
     LEFT JOIN appeals ap ON ap.assignment_id = e.assignment_id \
     WHERE e.action IN ('approved', 'auto_approved', 'changes_requested', 'rejected', \
     'rejection_held') \
     AND a.worker_id = $1 ORDER BY e.at DESC, e.id DESC LIMIT $2";

/// A company's since an instant: `$1` the company, `$2` the instant.
const COMPANY_DECISIONS_SINCE: &str = "SELECT e.action, e.actor_id IS NOT NULL AS by_person, ap.kind, ap.status \
     FROM assignment_events e JOIN assignments a ON a.id = e.assignment_id \
     LEFT JOIN appeals ap ON ap.assignment_id = e.assignment_id \
     WHERE e.action IN ('approved', 'auto_approved', 'changes_requested', 'rejected', \
     'rejection_held') \
     AND a.company_id = $1 AND e.at >= $2";

/// On a batch's tasks: `$1` the batch.
const BATCH_DECISIONS: &str = "SELECT e.action, e.actor_id IS NOT NULL AS by_person, ap.kind, ap.status \
     FROM assignment_events e JOIN assignments a ON a.id = e.assignment_id \
     LEFT JOIN appeals ap ON ap.assignment_id = e.assignment_id \
     WHERE e.action IN ('approved', 'auto_approved', 'changes_requested', 'rejected', \
     'rejection_held') \
     AND a.task_id IN (SELECT id FROM tasks WHERE batch_id = $1)";

fn counted(rows: Vec<DecisionRow>) -> Vec<Decided> {
    rows.into_iter()
        .filter_map(|(action, by_person, kind, status)| {
            let review = kind
                .as_deref()
                .and_then(AppealKind::parse)
                .zip(status.as_deref().and_then(AppealStatus::parse));
            fair_work::decided_from(&action, by_person, review)
        })
        .collect()
}

/// The worker's record as companies see it: her last 25 decided submissions that count.
pub async fn worker_record(tx: &mut Tx, worker_id: &str) -> Result<Record, sqlx::Error> {
    let rows: Vec<DecisionRow> = on_tx!(tx, |c| sqlx::query_as(WORKER_DECISIONS)
        .bind(worker_id)
        .bind(DECISIONS_READ)
        .fetch_all(&mut *c)
        .await)?;
    Ok(fair_work::record(&counted(rows)))
}

/// The records of several workers (a page of the review queue), read outside a transaction.
pub async fn worker_records(
    db: &crate::db::Db,
    worker_ids: &[&str],
) -> Result<std::collections::HashMap<String, Record>, sqlx::Error> {
    let mut out = std::collections::HashMap::new();
    for id in worker_ids {
        if out.contains_key(*id) {
            continue;
        }
        let rows: Vec<DecisionRow> = crate::on_db!(db, |p| sqlx::query_as(WORKER_DECISIONS)
            .bind(*id)
            .bind(DECISIONS_READ)
            .fetch_all(p)
            .await)?;
        out.insert(id.to_string(), fair_work::record(&counted(rows)));
    }
    Ok(out)
}

/// A company's decisions since `since` (its Bogotá day), and on the batch `batch_id` if the
/// task came from one: what a new rejection is weighed against.
pub async fn company_decisions(
    tx: &mut Tx,
    company_id: &str,
    since: i64,
    batch_id: Option<&str>,
) -> Result<(Vec<Decided>, Vec<Decided>), sqlx::Error> {
    let day: Vec<DecisionRow> = on_tx!(tx, |c| sqlx::query_as(COMPANY_DECISIONS_SINCE)
        .bind(company_id)
        .bind(since)
        .fetch_all(&mut *c)
        .await)?;
    let batch = match batch_id {
        None => Vec::new(),
        Some(b) => on_tx!(tx, |c| sqlx::query_as(BATCH_DECISIONS)
            .bind(b)
            .fetch_all(&mut *c)
            .await)?,
    };
    Ok((counted(day), counted(batch)))
}

/// Rework rounds a reviewer asked for on the assignment (verification's do not count).
pub async fn rework_rounds(tx: &mut Tx, assignment_id: &str) -> Result<u32, sqlx::Error> {
    let n: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM assignment_events WHERE assignment_id = $1 \
         AND action = 'changes_requested' AND actor_id IS NOT NULL"
    )
    .bind(assignment_id)
    .fetch_one(&mut *c)
    .await)?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Approved work on a paid qualification grants its skill, recorded as coming from the task
/// (a skill the worker already holds keeps its first source).
pub async fn grant_qualification(
    tx: &mut Tx,
    assignment_id: &str,
    at: i64,
) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO worker_skills (worker_id, skill, source, source_task_id, granted_at) \
         SELECT a.worker_id, t.qualification_skill, 'qualification', t.id, $2 \
         FROM assignments a JOIN tasks t ON t.id = a.task_id \
         WHERE a.id = $1 AND t.qualification_skill IS NOT NULL \
         ON CONFLICT (worker_id, skill) DO NOTHING"
    )
    .bind(assignment_id)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))
}
