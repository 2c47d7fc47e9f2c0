//! Moving an assignment from one state to another, with its history row and the events people
//! are told about, inside the caller's transaction. The API (claims, submissions, reviews) and
//! the jobs (verification, expiry, auto-approval) both go through here, so every change is
//! recorded the same way and guarded by the same compare-and-set on the current status.

use crate::db::Tx;
use crate::on_tx;
use serde_json::Value;
use vereda_contracts::jobs::{AccrueAssignment, VerifySubmission};
use vereda_contracts::marketplace::AssignmentStatus;

use crate::queue;

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A state change to record.
pub struct Move<'a> {
    pub assignment_id: &'a str,
    pub from: AssignmentStatus,
    pub to: AssignmentStatus,
    /// The user who made it; `None` for the system (a job).
    pub actor: Option<&'a str>,
    /// A short verb for the history: `claimed`, `submitted`, `approved`, `auto_approved`…
    pub action: &'a str,
    pub reason: Option<&'a str>,
    pub details: Option<Value>,
    pub at: i64,
}

/// Set the assignment's status from `m.from` to `m.to` (and any extra columns in `set`,
/// written as `col = $n` with n from 5, bound in order by `bind`) only if it is still `m.from`, and
/// record the history row. Returns false, changing nothing, when the assignment was no longer
/// in `m.from` — a concurrent or repeated change got there first.
pub async fn transition(
    tx: &mut Tx,
    m: &Move<'_>,
    set: &str,
    bind: &[Bind<'_>],
) -> Result<bool, sqlx::Error> {
    debug_assert!(m.from.can_move_to(m.to), "{:?} → {:?}", m.from, m.to);
    let extra = if set.is_empty() {
        String::new()
    } else {
        format!(", {set}")
    };
    let sql = format!(
        "UPDATE assignments SET status = $1, updated_at = $2{extra} WHERE id = $3 AND status = $4"
    );
    // Extra binds are numbered from $5.
    let changed = on_tx!(tx, |c| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(m.to.as_str())
            .bind(m.at)
            .bind(m.assignment_id)
            .bind(m.from.as_str());
        for b in bind {
            q = match b {
                Bind::Int(v) => q.bind(*v),
                Bind::Text(v) => q.bind(*v),
                Bind::Bool(v) => q.bind(*v),
            };
        }
        q.execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    if changed == 0 {
        return Ok(false);
    }
    // Slots taken follow the status: the task board must hear of it.
    tx.marketplace_changed();
    record_event(tx, m).await?;
    Ok(true)
}

/// A value for one of [`transition`]'s extra columns.
#[derive(Debug, Clone, Copy)]
pub enum Bind<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
    Bool(bool),
}

/// Append the history row of a move (also used for the first one, `claimed`).
pub async fn record_event(tx: &mut Tx, m: &Move<'_>) -> Result<(), sqlx::Error> {
    let details = m.details.as_ref().map(Value::to_string);
    let from = (m.action != "claimed").then(|| m.from.as_str());
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO assignment_events (id, assignment_id, at, actor_id, action, from_status, \
         to_status, reason, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(new_id())
    .bind(m.assignment_id)
    .bind(m.at)
    .bind(m.actor)
    .bind(m.action)
    .bind(from)
    .bind(m.to.as_str())
    .bind(m.reason)
    .bind(details.as_deref())
    .execute(&mut *c)
    .await
    .map(|_| ()))
}

/// Record a fact someone is told about (e-mail later), once per `dedupe_key`.
pub async fn notify(
    tx: &mut Tx,
    kind: &str,
    assignment_id: &str,
    dedupe_key: &str,
    payload: &Value,
    at: i64,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO notification_events (id, kind, assignment_id, dedupe_key, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dedupe_key) DO NOTHING"
    )
    .bind(new_id())
    .bind(kind)
    .bind(assignment_id)
    .bind(dedupe_key)
    .bind(payload.to_string())
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|_| ())
    })
}

/// Queue verification of a submission, in the transaction that recorded it.
pub async fn enqueue_verification(tx: &mut Tx, assignment_id: &str) -> anyhow::Result<String> {
    let job = VerifySubmission {
        assignment_id: assignment_id.to_string(),
    };
    queue::push_in_tx(tx, VerifySubmission::QUEUE, &job, None, None).await
}

/// Approve a verified assignment for `approved_seconds` (hourly) and queue its accrual, in one
/// transaction. Returns false if it was no longer verified (already reviewed or approved by
/// the sweep): the first decision stands.
pub async fn approve(
    tx: &mut Tx,
    assignment_id: &str,
    actor: Option<&str>,
    approved_seconds: i64,
    reason: Option<&str>,
    at: i64,
) -> anyhow::Result<bool> {
    let a = Approval {
        assignment_id,
        from: AssignmentStatus::Verified,
        actor,
        action: if actor.is_none() {
            "auto_approved"
        } else {
            "approved"
        },
        seconds: approved_seconds,
        reason,
        at,
    };
    approve_as(tx, &a).await
}

/// An approval: a reviewer's, the sweep's (no actor), or the platform overturning a
/// rejection (`from` rejected, action `appeal_overturned`).
pub struct Approval<'a> {
    pub assignment_id: &'a str,
    pub from: AssignmentStatus,
    pub actor: Option<&'a str>,
    pub action: &'a str,
    pub seconds: i64,
    pub reason: Option<&'a str>,
    pub at: i64,
}

/// Record an approval and queue its accrual; a paid qualification grants its skill. False
/// when the assignment was no longer in `a.from`.
pub async fn approve_as(tx: &mut Tx, a: &Approval<'_>) -> anyhow::Result<bool> {
    let auto = a.actor.is_none();
    let assignment_id = a.assignment_id;
    let m = Move {
        assignment_id,
        from: a.from,
        to: AssignmentStatus::Approved,
        actor: a.actor,
        action: a.action,
        reason: a.reason,
        details: Some(serde_json::json!({ "approved_seconds": a.seconds })),
        at: a.at,
    };
    // An overturn keeps the company's reason beside the platform's decision (in the history
    // and the appeal); any other approval's reason replaces the last decision's.
    let set = if a.from == AssignmentStatus::Verified {
        "approved_seconds = $5, approved_at = $6, reviewed_at = $7, reviewed_by = $8, \
         reason = $9, auto_approved = $10, ended_at = NULL"
    } else {
        "approved_seconds = $5, approved_at = $6, reviewed_at = $7, reviewed_by = $8, \
         reason = COALESCE(reason, $9), auto_approved = $10, ended_at = NULL"
    };
    let binds = [
        Bind::Int(Some(a.seconds)),
        Bind::Int(Some(a.at)),
        Bind::Int(Some(a.at)),
        Bind::Text(a.actor),
        Bind::Text(a.reason),
        Bind::Bool(auto),
    ];
    if !transition(tx, &m, set, &binds).await? {
        return Ok(false);
    }
    // An overturn is told of by the appeal's own message.
    if a.from == AssignmentStatus::Verified {
        notify(
            tx,
            "review_outcome",
            assignment_id,
            &format!("review_outcome:{assignment_id}:approved"),
            &serde_json::json!({ "decision": "approve", "approved_seconds": a.seconds, "reason": a.reason, "auto": auto }),
            a.at,
        )
        .await?;
    }
    let job = AccrueAssignment {
        assignment_id: assignment_id.to_string(),
    };
    queue::push_in_tx(
        tx,
        AccrueAssignment::QUEUE,
        &job,
        None,
        Some(&format!("accrue:{assignment_id}")),
    )
    .await?;
    crate::fair_work::grant_qualification(tx, assignment_id, a.at).await?;
    close_task_if_done(tx, assignment_id, a.at).await?;
    Ok(true)
}

/// A task whose every slot holds approved work is closed.
async fn close_task_if_done(tx: &mut Tx, assignment_id: &str, at: i64) -> Result<(), sqlx::Error> {
    tx.marketplace_changed();
    on_tx!(tx, |c| sqlx::query(
        "UPDATE tasks SET status = 'closed', closed_at = $1, updated_at = $1 \
         WHERE id = (SELECT task_id FROM assignments WHERE id = $2) AND status = 'open' \
         AND slots <= (SELECT COUNT(*) FROM assignments a WHERE a.task_id = tasks.id \
                       AND a.status = 'approved')"
    )
    .bind(at)
    .bind(assignment_id)
    .execute(&mut *c)
    .await
    .map(|_| ()))
}
