//! Assignments: a worker's claim on one slot of a task, and everything after it — release,
//! submission, review, extension — with its history.
//!
//! Exactly one claim wins a free slot however many arrive at once: the claim transaction first
//! locks the task's row (a no-op UPDATE, portable; on SQLite the transaction is `BEGIN
//! IMMEDIATE`), then counts the slots held, then inserts. A partial unique index keeps a worker
//! to one live assignment per task.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde::{Deserialize, Serialize};
use sqlx::AssertSqlSafe;
use vereda_contracts::claims::{self, ClaimFacts, ClaimRefusal, SubmitRefusal};
use vereda_contracts::fair_work::{self, AppealFacts, ReasonCode};
use vereda_contracts::identity::{MemberRole, Role};
use vereda_contracts::marketplace::{
    AssignmentStatus, PricingKind, TaskStatus, Verdict, check_submission, deliverable_link,
    free_text,
};
use vereda_contracts::review::{self, Outcome, ReviewAsk, ReviewRefusal, Terms};
use vereda_contracts::time;
use vereda_store::db::{Dialect, Tx};
use vereda_store::transitions::{
    Bind, Move, approve, enqueue_verification, notify, record_event, transition,
};
use vereda_store::unique_keys::{UniqueKey, unique_key};
use vereda_store::{on_db, on_tx};

use crate::ApiTags;
use crate::accounts::new_id;
use crate::auth::{BearerAuth, Principal};
use crate::body::JsonBody;
use crate::idempotency::IdempotencyKey;
use crate::pagination::PageRequest;
use crate::problem::ApiError;
use crate::startup::AppState;
use crate::tasks::refused;

/// One change in an assignment's life.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    /// The user who made the change; absent when the system did (verification, expiry,
    /// auto-approval).
    #[oai(skip_serializing_if_is_none)]
    pub actor_id: Option<String>,
    pub action: String,
    #[oai(skip_serializing_if_is_none)]
    pub from_status: Option<String>,
    pub to_status: String,
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<String>,
}

/// What verification found: hard findings sent the work back; soft ones are for the reviewer.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct Findings {
    pub hard: Vec<FindingView>,
    pub soft: Vec<FindingView>,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct FindingView {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct Assignment {
    pub id: String,
    pub task_id: String,
    pub task_title: String,
    pub worker_id: String,
    pub company_id: String,
    /// claimed, submitted, verified, changes_requested, approved, rejected, released, expired.
    pub status: String,
    pub claimed_at: DateTime<Utc>,
    /// When the claim lapses if not submitted.
    pub expires_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub submitted_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub deliverable_url: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub notes: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub verified_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub findings: Option<Findings>,
    /// Unreviewed by then, the work is approved automatically.
    #[oai(skip_serializing_if_is_none)]
    pub review_due_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub reviewed_at: Option<DateTime<Utc>>,
    /// The reason of the last decision (rejection, changes, fewer hours), for the worker.
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<String>,
    /// The code of the last send-back (`incomplete`, `not_original`…).
    #[oai(skip_serializing_if_is_none)]
    pub reason_code: Option<String>,
    /// The rubric's criteria the last send-back named as not met.
    #[oai(skip_serializing_if_is_none)]
    pub criteria_not_met: Option<Vec<String>>,
    /// Seconds logged when submitted.
    #[oai(skip_serializing_if_is_none)]
    pub logged_seconds: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub approved_seconds: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub approved_at: Option<DateTime<Utc>>,
    pub auto_approved: bool,
    /// Until when the worker may appeal the decision to the platform (a rejection, or fewer
    /// hours approved than logged; 15 business days); absent when she cannot (any more).
    #[oai(skip_serializing_if_is_none)]
    pub appealable_until: Option<DateTime<Utc>>,
    /// The platform's review of this assignment: the worker's appeal, or a held rejection.
    #[oai(skip_serializing_if_is_none)]
    pub appeal: Option<crate::appeals::Appeal>,
    /// Every change, oldest first (on single reads; empty in lists).
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Object)]
pub struct AssignmentList {
    pub items: Vec<Assignment>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct Submission {
    /// Link to the work: an `https://` URL (no plain `http`, spaces or control characters),
    /// at most 2000 characters; required when the task says so (`deliverable_missing`).
    #[serde(default)]
    pub deliverable_url: Option<String>,
    /// At most 5000 characters; line breaks and tabs are the only control characters allowed.
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
    RequestChanges,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct Review {
    pub decision: Decision,
    /// Required to reject, to request changes, or to approve fewer seconds than logged; the
    /// worker reads it. At most 2000 characters; line breaks and tabs are the only control
    /// characters allowed.
    #[serde(default)]
    pub reason: Option<String>,
    /// Approve fewer seconds than logged: hourly tasks only, from 1 to the seconds logged
    /// (approving 0 is a rejection: `zero_approval`). Refused on fixed-price tasks
    /// (`fixed_price_seconds`), which pay their price and count the logged hours.
    #[serde(default)]
    pub approved_seconds: Option<i64>,
    /// Required to reject or request changes: `instructions_not_followed`, `incomplete`,
    /// `wrong_output`, `not_original`, `deliverable_unreachable` or `other`. On a task that
    /// allows changes, the first send-back must request changes (`rework_first`) unless the
    /// work is `not_original`.
    #[serde(default)]
    pub reason_code: Option<String>,
    /// The task's rubric criteria not met, as indexes (0-based) into its `rubric`.
    #[serde(default)]
    pub criteria_not_met: Option<Vec<i64>>,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct Extension {
    /// Minutes to add to the claim's time limit (1–43200).
    pub minutes: i64,
}

#[derive(ApiResponse)]
pub enum AssignmentCreated {
    #[oai(status = 201)]
    Created(Json<Assignment>),
}

#[derive(ApiResponse)]
pub enum AssignmentOk {
    #[oai(status = 200)]
    Ok(Json<Assignment>),
}

#[derive(ApiResponse)]
pub enum AssignmentListOk {
    #[oai(status = 200)]
    Ok(Json<AssignmentList>),
}

#[derive(sqlx::FromRow)]
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) task_id: String,
    pub(crate) task_title: String,
    pub(crate) worker_id: String,
    pub(crate) company_id: String,
    pub(crate) status: String,
    pub(crate) claimed_at: i64,
    pub(crate) expires_at: i64,
    pub(crate) submitted_at: Option<i64>,
    pub(crate) deliverable_url: Option<String>,
    pub(crate) notes: Option<String>,
    pub(crate) verified_at: Option<i64>,
    pub(crate) findings: Option<String>,
    pub(crate) review_due_at: Option<i64>,
    pub(crate) reviewed_at: Option<i64>,
    pub(crate) reason: Option<String>,
    pub(crate) logged_seconds: Option<i64>,
    pub(crate) approved_seconds: Option<i64>,
    pub(crate) approved_at: Option<i64>,
    pub(crate) auto_approved: bool,
    pub(crate) reason_code: Option<String>,
    pub(crate) criteria_not_met: Option<String>,
    pub(crate) pricing_kind: String,
    pub(crate) appealed: bool,
}

const SELECT: &str = "SELECT a.id, a.task_id, t.title AS task_title, a.worker_id, a.company_id, \
     a.status, a.claimed_at, a.expires_at, a.submitted_at, a.deliverable_url, a.notes, \
     a.verified_at, a.findings, a.review_due_at, a.reviewed_at, a.reason, a.logged_seconds, \
     a.approved_seconds, a.approved_at, a.auto_approved, a.reason_code, a.criteria_not_met, \
     t.pricing_kind, EXISTS (SELECT 1 FROM appeals ap WHERE ap.assignment_id = a.id) AS appealed \
     FROM assignments a JOIN tasks t ON t.id = a.task_id";

impl Row {
    fn view(self, history: Vec<HistoryEntry>) -> Assignment {
        let appealable_until = self.appealable_until();
        let findings = self
            .findings
            .as_deref()
            .and_then(|f| serde_json::from_str::<Verdict>(f).ok())
            .map(|v| Findings {
                hard: v
                    .hard
                    .into_iter()
                    .map(|f| FindingView {
                        code: f.code,
                        message: f.message,
                    })
                    .collect(),
                soft: v
                    .soft
                    .into_iter()
                    .map(|f| FindingView {
                        code: f.code,
                        message: f.message,
                    })
                    .collect(),
            });
        let t = time::from_unix;
        Assignment {
            id: self.id,
            task_id: self.task_id,
            task_title: self.task_title,
            worker_id: self.worker_id,
            company_id: self.company_id,
            status: self.status,
            claimed_at: t(self.claimed_at),
            expires_at: t(self.expires_at),
            submitted_at: self.submitted_at.map(t),
            deliverable_url: self.deliverable_url,
            notes: self.notes,
            verified_at: self.verified_at.map(t),
            findings,
            review_due_at: self.review_due_at.map(t),
            reviewed_at: self.reviewed_at.map(t),
            reason: self.reason,
            logged_seconds: self.logged_seconds,
            approved_seconds: self.approved_seconds,
            approved_at: self.approved_at.map(t),
            auto_approved: self.auto_approved,
            appealable_until: appealable_until.map(t),
            appeal: None,
            reason_code: self.reason_code,
            criteria_not_met: self
                .criteria_not_met
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok()),
            history,
        }
    }

    /// What an appeal of this assignment is judged on.
    pub(crate) fn appeal_facts(&self) -> AppealFacts {
        AppealFacts {
            status: self.status(),
            pricing: PricingKind::parse(&self.pricing_kind),
            logged_seconds: self.logged_seconds.unwrap_or(0),
            approved_seconds: self.approved_seconds,
            decided_at: self.reviewed_at,
            appealed: self.appealed,
        }
    }

    /// Until when the worker may still appeal, if she may at all.
    fn appealable_until(&self) -> Option<i64> {
        let f = self.appeal_facts();
        if f.appealed {
            return None;
        }
        let (_, until) = fair_work::appealable_until(&f)?;
        (time::unix(time::now()) <= until).then_some(until)
    }

    pub(crate) fn status(&self) -> AssignmentStatus {
        AssignmentStatus::parse(&self.status).unwrap_or(AssignmentStatus::Expired)
    }
}

async fn fetch(state: &AppState, id: &str) -> Result<Option<Row>, ApiError> {
    let sql = format!("{SELECT} WHERE a.id = $1");
    Ok(on_db!(&state.db, |p| sqlx::query_as(AssertSqlSafe(
        sql.as_str()
    ))
    .bind(id)
    .fetch_optional(p)
    .await)?)
}

#[derive(sqlx::FromRow)]
struct EventRow {
    at: i64,
    actor_id: Option<String>,
    action: String,
    from_status: Option<String>,
    to_status: String,
    reason: Option<String>,
}

async fn history(state: &AppState, id: &str) -> Result<Vec<HistoryEntry>, ApiError> {
    let rows: Vec<EventRow> = on_db!(&state.db, |p| sqlx::query_as(
        "SELECT at, actor_id, action, from_status, to_status, reason FROM assignment_events \
         WHERE assignment_id = $1 ORDER BY at, id"
    )
    .bind(id)
    .fetch_all(p)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|e| HistoryEntry {
            at: time::from_unix(e.at),
            actor_id: e.actor_id,
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            reason: e.reason,
        })
        .collect())
}

/// The assignment if the caller may see it (its worker, its task's company, staff); else 404.
pub(crate) async fn visible(state: &AppState, who: &Principal, id: &str) -> Result<Row, ApiError> {
    let row = fetch(state, id)
        .await?
        .ok_or_else(|| ApiError::not_found("assignment"))?;
    let ok = match who.role {
        Role::Admin | Role::Finance => true,
        Role::Company => who.company_id.as_deref() == Some(row.company_id.as_str()),
        Role::Worker => who.worker_id.as_deref() == Some(row.worker_id.as_str()),
        Role::Funder => false,
    };
    if ok {
        Ok(row)
    } else {
        Err(ApiError::not_found("assignment"))
    }
}

/// The caller's own assignment, for a worker action (403 for other roles, 404 for others').
async fn own(state: &AppState, who: &Principal, id: &str) -> Result<Row, ApiError> {
    who.require(&[Role::Worker])?;
    visible(state, who, id).await
}

pub(crate) async fn respond(state: &AppState, id: &str) -> Result<Assignment, ApiError> {
    let row = fetch(state, id)
        .await?
        .ok_or_else(|| ApiError::not_found("assignment"))?;
    let h = history(state, id).await?;
    let mut view = row.view(h);
    view.appeal = crate::appeals::of_assignment(state, None, id).await?;
    Ok(view)
}

fn moved_meanwhile() -> ApiError {
    ApiError::conflict(
        "state_changed",
        "The assignment changed meanwhile; reload it and try again.",
    )
}

/// Longest submission note, in characters.
const MAX_NOTES_CHARS: usize = 5000;

fn claim_refused(e: ClaimRefusal) -> ApiError {
    refused(e.code(), e.field(), e.is_conflict(), e.to_string())
}

fn submit_refused(e: SubmitRefusal) -> ApiError {
    refused(e.code(), None, true, e.to_string())
}

fn review_refused(e: ReviewRefusal) -> ApiError {
    refused(e.code(), e.field(), e.is_conflict(), e.to_string())
}

async fn logged_seconds(tx: &mut Tx, assignment_id: &str) -> Result<i64, ApiError> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(seconds), 0) AS BIGINT) FROM time_entries \
         WHERE assignment_id = $1 AND deleted_at IS NULL"
    )
    .bind(assignment_id)
    .fetch_one(&mut *c)
    .await)?)
}

pub struct AssignmentsApi;

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Assignments")]
impl AssignmentsApi {
    /// Claim a slot (worker)
    ///
    /// 201 with the assignment, or 409 when the task is full or not open. Send an
    /// `Idempotency-Key` to retry safely: the same key answers the first response again.
    #[oai(path = "/tasks/:id/claims", method = "post")]
    async fn claim(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        /// Makes retries safe: the same key answers the first response again.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
    ) -> Result<AssignmentCreated, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Worker])?;
        let worker_id = who
            .worker_id
            .clone()
            .ok_or_else(|| ApiError::internal("worker without profile"))?;
        let key = IdempotencyKey::from_header(
            idempotency_key.0.as_deref(),
            &format!("claim:{}", id.0),
            b"",
        )?;
        if let Some(k) = &key
            && let Some((_, body)) = k.replay(&state, &who.user_id).await?
        {
            let a: Assignment = serde_json::from_str(&body).map_err(ApiError::internal)?;
            return Ok(AssignmentCreated::Created(Json(a)));
        }

        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        let task = lock_task(&mut tx, state.db.dialect(), &id.0, &worker_id)
            .await?
            .ok_or_else(|| ApiError::not_found("task"))?;
        claims::open_for_claims(task.status).map_err(claim_refused)?;
        if let Some(min) = task.min_record_percent {
            let record = vereda_store::fair_work::worker_record(&mut tx, &worker_id).await?;
            let min = u32::try_from(min).unwrap_or(100);
            if !record.meets(min) {
                return Err(claim_refused(ClaimRefusal::RecordBelowMinimum {
                    min,
                    has: record.approved_percent(),
                }));
            }
        }
        let claim = NewClaim {
            id: new_id(),
            task_id: &id.0,
            worker_id: &worker_id,
            user_id: &who.user_id,
            company_id: &task.company_id,
            now,
            expires_at: claims::claim_expiry(now, task.claim_minutes, task.deadline),
            slots: task.slots,
        };
        insert_claim(&mut tx, &state, &claim).await?;
        // The answer is built inside the transaction so it can be stored with the key; every
        // field is known here, so it is not read back.
        let answer = claim.view(task.title);
        if let Some(k) = &key {
            let body = serde_json::to_string(&answer).map_err(ApiError::internal)?;
            k.store(&mut tx, &who.user_id, 201, &body).await?;
        }
        tx.commit().await?;
        tracing::info!(assignment_id = %claim.id, task_id = %id.0, "slot claimed");
        Ok(AssignmentCreated::Created(Json(answer)))
    }

    /// List assignments
    ///
    /// A worker sees their own; a company those on its tasks; staff all. Newest first.
    #[oai(path = "/assignments", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
        status: Query<Option<String>>,
        task_id: Query<Option<String>>,
    ) -> Result<AssignmentListOk, ApiError> {
        let who = &auth.0;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        if let Some(s) = status.0.as_deref()
            && AssignmentStatus::parse(s).is_none()
        {
            return Err(ApiError::invalid("status", "is not an assignment status"));
        }
        let (worker, company) = match who.role {
            Role::Worker => (who.worker_id.clone(), None),
            Role::Company => (None, who.company_id.clone()),
            Role::Admin | Role::Finance => (None, None),
            Role::Funder => {
                return Err(ApiError::forbidden(
                    "A funder account reads the impact report only.",
                ));
            }
        };
        let sql = format!(
            "{SELECT} WHERE a.id < $1 AND ($2 IS NULL OR a.worker_id = $2) \
             AND ($3 IS NULL OR a.company_id = $3) AND ($4 IS NULL OR a.status = $4) \
             AND ($5 IS NULL OR a.task_id = $5) ORDER BY a.id DESC LIMIT $6"
        );
        let rows: Vec<Row> = on_db!(&state.db, |p| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(page.before())
            .bind(worker.as_deref())
            .bind(company.as_deref())
            .bind(status.0.as_deref())
            .bind(task_id.0.as_deref())
            .bind(page.fetch())
            .fetch_all(p)
            .await)?;
        let (rows, next_cursor) = page.finish(rows, |r| &r.id);
        let mut items = Vec::with_capacity(rows.len());
        for r in rows {
            // Few assignments are ever appealed: their appeal is read one by one.
            let appeal = if r.appealed {
                crate::appeals::of_assignment(&state, None, &r.id).await?
            } else {
                None
            };
            let mut view = r.view(Vec::new());
            view.appeal = appeal;
            items.push(view);
        }
        Ok(AssignmentListOk::Ok(Json(AssignmentList {
            items,
            next_cursor,
        })))
    }

    /// Get an assignment with its history
    #[oai(path = "/assignments/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<AssignmentOk, ApiError> {
        let row = visible(&state, &auth.0, &id.0).await?;
        Ok(AssignmentOk::Ok(Json(respond(&state, &row.id).await?)))
    }

    /// Give the slot back (worker)
    #[oai(path = "/assignments/:id/release", method = "post")]
    async fn release(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<AssignmentOk, ApiError> {
        let who = &auth.0;
        let row = own(&state, who, &id.0).await?;
        let from = row.status();
        if !from.can_move_to(AssignmentStatus::Released) {
            return Err(ApiError::conflict(
                "not_releasable",
                format!("An assignment that is {} cannot be released.", row.status),
            ));
        }
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        let m = Move {
            assignment_id: &row.id,
            from,
            to: AssignmentStatus::Released,
            actor: Some(&who.user_id),
            action: "released",
            reason: None,
            details: None,
            at: now,
        };
        if !transition(&mut tx, &m, "ended_at = $5", &[Bind::Int(Some(now))]).await? {
            return Err(moved_meanwhile());
        }
        // Time on a slot given back is not paid: a timer still running on it just stops.
        vereda_store::exec!(
            &mut tx,
            sqlx::query("DELETE FROM running_timers WHERE assignment_id = $1").bind(&row.id)
        )?;
        tx.commit().await?;
        Ok(AssignmentOk::Ok(Json(respond(&state, &row.id).await?)))
    }

    /// Submit the work (worker)
    ///
    /// Refused at once (422) when the task requires a deliverable link and none is sent
    /// (`deliverable_missing`), or when an hourly task has no time logged (`no_time_logged`).
    /// The submission is then verified automatically in the background: hard problems send it
    /// back as `changes_requested` with reasons; otherwise it becomes `verified` and waits for
    /// review.
    #[oai(path = "/assignments/:id/submission", method = "post")]
    async fn submit(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<Submission>,
    ) -> Result<AssignmentOk, ApiError> {
        let who = &auth.0;
        let row = own(&state, who, &id.0).await?;
        let req = body.0;
        let url = deliverable_link(req.deliverable_url.as_deref())
            .map_err(|e| ApiError::invalid("deliverable_url", e.to_string()))?;
        let url = url.as_deref();
        let notes = free_text(req.notes.as_deref(), MAX_NOTES_CHARS)
            .map_err(|e| ApiError::invalid("notes", e.to_string()))?;
        let notes = notes.as_deref();
        let from = row.status();
        let now = time::unix(time::now());
        claims::submittable(from, row.expires_at, now).map_err(submit_refused)?;
        let mut tx = state.db.begin().await?;
        let at = read_for_submission(&mut tx, &row).await?;
        if at.timer_running {
            return Err(submit_refused(SubmitRefusal::TimerRunning));
        }
        // What the worker can put right at once is refused now, not accepted and bounced later.
        check_submission(at.pricing, at.url_required, url, at.logged)
            .map_err(|r| ApiError::rule(r.code(), r.field(), r.to_string()))?;
        let m = Move {
            assignment_id: &row.id,
            from,
            to: AssignmentStatus::Submitted,
            actor: Some(&who.user_id),
            action: "submitted",
            reason: None,
            details: Some(serde_json::json!({ "logged_seconds": at.logged })),
            at: now,
        };
        store_submission(&mut tx, &m, url, notes, at.logged).await?;
        tx.commit().await?;
        Ok(AssignmentOk::Ok(Json(respond(&state, &row.id).await?)))
    }

    /// Review a submission (company owner or reviewer)
    ///
    /// Approve (optionally fewer seconds than logged on an hourly task, with a reason), reject
    /// (reason required) or request changes (reason required). Approving 0 seconds is refused:
    /// that is a rejection, which needs a reason. A submission still being verified answers
    /// 409.
    #[oai(path = "/assignments/:id/review", method = "post")]
    async fn review(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<Review>,
    ) -> Result<AssignmentOk, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Company])?;
        let row = visible(&state, who, &id.0).await?;
        if !matches!(
            who.member_role,
            Some(MemberRole::Owner | MemberRole::Reviewer)
        ) {
            return Err(ApiError::forbidden(
                "Only the company's owner or reviewers review work.",
            ));
        }
        let req = body.0;
        review::reviewable(row.status()).map_err(review_refused)?;
        let reason_code = match req.reason_code.as_deref() {
            None => None,
            Some(c) => Some(ReasonCode::parse(c).ok_or_else(|| {
                ApiError::invalid(
                    "reason_code",
                    "must be one of instructions_not_followed, incomplete, wrong_output, \
                     not_original, deliverable_unreachable, other",
                )
            })?),
        };
        let ask = ReviewAsk {
            decision: match req.decision {
                Decision::Approve => review::Decision::Approve,
                Decision::Reject => review::Decision::Reject,
                Decision::RequestChanges => review::Decision::RequestChanges,
            },
            reason: req.reason.as_deref(),
            approved_seconds: req.approved_seconds,
            reason_code,
            criteria_not_met: req.criteria_not_met.as_deref().unwrap_or(&[]),
        };
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        // One company's rejections are weighed one at a time (mass rejections, issue 21 §3).
        vereda_store::locks::company(&mut tx, &row.company_id).await?;
        let task = task_terms(&mut tx, &row.task_id).await?;
        let rubric = crate::tasks::rubric_list(task.rubric.as_deref());
        let terms = Terms {
            pricing: task.pricing,
            logged: row.logged_seconds.unwrap_or(0),
            allows_changes: task.allows_changes,
            rework_rounds: vereda_store::fair_work::rework_rounds(&mut tx, &row.id).await?,
            rubric: &rubric,
        };
        let mut outcome = review::decide(&terms, &ask).map_err(review_refused)?;
        if let Outcome::SendBack(back) = &outcome
            && back.ends()
            && mass_rejection(&mut tx, &row, task.batch_id.as_deref(), now).await?
        {
            outcome = Outcome::SendBack(back.clone().held());
        }
        store_review(
            &mut tx,
            &row,
            &who.user_id,
            &outcome,
            task.claim_minutes,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(AssignmentOk::Ok(Json(respond(&state, &row.id).await?)))
    }

    /// Extend a claim (company owner or reviewer)
    #[oai(path = "/assignments/:id/extend", method = "post")]
    async fn extend(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<Extension>,
    ) -> Result<AssignmentOk, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Company])?;
        let row = visible(&state, who, &id.0).await?;
        let minutes = body.0.minutes;
        let now = time::unix(time::now());
        let new_expiry = claims::extended_expiry(row.status(), row.expires_at, now, minutes)
            .map_err(|e| refused(e.code(), e.field(), true, e.to_string()))?;
        let mut tx = state.db.begin().await?;
        let from = row.status();
        let m = Move {
            assignment_id: &row.id,
            from,
            to: from,
            actor: Some(&who.user_id),
            action: "extended",
            reason: None,
            details: Some(serde_json::json!({ "minutes": minutes })),
            at: now,
        };
        let changed = on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE assignments SET expires_at = $1, updated_at = $2 WHERE id = $3 AND status = $4"
        )
        .bind(new_expiry)
        .bind(now)
        .bind(&row.id)
        .bind(from.as_str())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            return Err(moved_meanwhile());
        }
        record_event(&mut tx, &m).await?;
        tx.commit().await?;
        Ok(AssignmentOk::Ok(Json(respond(&state, &row.id).await?)))
    }
}

/// The claim rules as scalar subqueries on task `t` and worker `w` (placeholders): slots
/// taken, the worker's active claims, and required skills the worker lacks.
fn claim_counts(t: &str, w: &str) -> [String; 3] {
    [
        format!(
            "(SELECT COUNT(*) FROM assignments WHERE task_id = {t} AND status IN {})",
            AssignmentStatus::sql_list(AssignmentStatus::takes_slot)
        ),
        format!(
            "(SELECT COUNT(*) FROM assignments WHERE worker_id = {w} AND status IN {})",
            AssignmentStatus::sql_list(AssignmentStatus::is_active)
        ),
        format!(
            "(SELECT COUNT(*) FROM task_skills s WHERE s.task_id = {t} AND NOT EXISTS \
             (SELECT 1 FROM worker_skills ws WHERE ws.worker_id = {w} AND ws.skill = s.skill))"
        ),
    ]
}

/// Why a claim's guarded insert wrote nothing (the rare path, so it may cost queries): the
/// same checks, counted, judged by `claims::why_refused`.
async fn refuse_claim(tx: &mut Tx, claim: &NewClaim<'_>, state: &AppState) -> ApiError {
    match claim_facts(tx, claim, state).await {
        Ok(facts) => claim_refused(claims::why_refused(&facts)),
        Err(e) => e.into(),
    }
}

async fn claim_facts(
    tx: &mut Tx,
    claim: &NewClaim<'_>,
    state: &AppState,
) -> Result<ClaimFacts, sqlx::Error> {
    let [taken, active, missing] = claim_counts("$1", "$2");
    let (taken, active, missing): (i64, i64, i64) = on_tx!(tx, |c| {
        sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {taken}, {active}, {missing}"
        )))
        .bind(claim.task_id)
        .bind(claim.worker_id)
        .fetch_one(&mut *c)
        .await
    })?;
    let missing_skills: Vec<String> = if missing > 0 {
        on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT skill FROM task_skills WHERE task_id = $1 AND skill NOT IN \
             (SELECT skill FROM worker_skills WHERE worker_id = $2) ORDER BY skill"
        )
        .bind(claim.task_id)
        .bind(claim.worker_id)
        .fetch_all(&mut *c)
        .await)?
    } else {
        Vec::new()
    };
    Ok(ClaimFacts {
        status: TaskStatus::Open,
        slots: claim.slots,
        taken,
        active,
        max_active: state.settings.max_active_assignments,
        missing_skills,
    })
}

/// The task a claim is for, as read under its lock.
struct ClaimedTask {
    status: TaskStatus,
    min_record_percent: Option<i64>,
    slots: i64,
    claim_minutes: i64,
    deadline: Option<i64>,
    company_id: String,
    title: String,
}

/// Lock and read the task, and lock the worker's row (`NO KEY UPDATE`, the lock an UPDATE
/// takes, so foreign-key checks elsewhere do not wait on it): concurrent claims on the task
/// queue on the first, the worker's own simultaneous claims on other tasks on the second
/// (always task first, then worker, so two claims cannot deadlock). SQLite needs no row
/// locks: `BEGIN IMMEDIATE` already runs one writer at a time.
async fn lock_task(
    tx: &mut Tx,
    d: Dialect,
    task_id: &str,
    worker_id: &str,
) -> Result<Option<ClaimedTask>, ApiError> {
    let lock = match d {
        Dialect::Postgres => {
            "SELECT t.status, t.slots, t.claim_minutes, t.deadline, t.company_id, t.title, \
             t.min_record_percent FROM tasks t, worker_profiles w WHERE t.id = $1 AND w.id = $2 \
             FOR NO KEY UPDATE"
        }
        Dialect::Sqlite => {
            "SELECT t.status, t.slots, t.claim_minutes, t.deadline, t.company_id, t.title, \
             t.min_record_percent FROM tasks t WHERE t.id = $1 AND $2 IS NOT NULL"
        }
    };
    type TaskRow = (String, i64, i64, Option<i64>, String, String, Option<i64>);
    let task: Option<TaskRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(lock))
        .bind(task_id)
        .bind(worker_id)
        .fetch_optional(&mut *c)
        .await)?;
    Ok(task.map(
        |(status, slots, claim_minutes, deadline, company_id, title, min_record_percent)| {
            ClaimedTask {
                status: TaskStatus::parse(&status).unwrap_or(TaskStatus::Closed),
                min_record_percent,
                slots,
                claim_minutes,
                deadline,
                company_id,
                title,
            }
        },
    ))
}

/// A claim about to be written.
struct NewClaim<'a> {
    id: String,
    task_id: &'a str,
    worker_id: &'a str,
    user_id: &'a str,
    company_id: &'a str,
    now: i64,
    expires_at: i64,
    slots: i64,
}

impl NewClaim<'_> {
    /// The assignment as written, with its one history entry.
    fn view(&self, task_title: String) -> Assignment {
        let row = Row {
            id: self.id.clone(),
            task_id: self.task_id.to_string(),
            task_title,
            worker_id: self.worker_id.to_string(),
            company_id: self.company_id.to_string(),
            status: AssignmentStatus::Claimed.as_str().to_string(),
            claimed_at: self.now,
            expires_at: self.expires_at,
            submitted_at: None,
            deliverable_url: None,
            notes: None,
            verified_at: None,
            findings: None,
            review_due_at: None,
            reviewed_at: None,
            reason: None,
            logged_seconds: None,
            approved_seconds: None,
            approved_at: None,
            auto_approved: false,
            reason_code: None,
            criteria_not_met: None,
            pricing_kind: String::new(),
            appealed: false,
        };
        row.view(vec![HistoryEntry {
            at: time::from_unix(self.now),
            actor_id: Some(self.user_id.to_string()),
            action: "claimed".into(),
            from_status: None,
            to_status: "claimed".into(),
            reason: None,
        }])
    }
}

/// Write the claim if the rules allow it, else refuse it with the reason.
///
/// The three checks and the insert in one statement: the row is written only when the task
/// has a free slot, the worker is under the limit of active claims and holds every required
/// skill (`claims::check_claim`, in SQL). It runs after the locks, so on PostgreSQL (READ
/// COMMITTED: a fresh snapshot per statement) it sees every claim committed before ours. On
/// PostgreSQL the history row is written by the same statement; SQLite has no writing CTEs.
async fn insert_claim(tx: &mut Tx, state: &AppState, claim: &NewClaim<'_>) -> Result<(), ApiError> {
    let d = state.db.dialect();
    let [taken, active, missing] = claim_counts("$2", "$3");
    let insert = format!(
        "INSERT INTO assignments (id, task_id, worker_id, company_id, status, claimed_at, \
         expires_at, updated_at) SELECT $1, $2, $3, $4, 'claimed', $5, $6, $5 \
         WHERE {taken} < $7 AND {active} < $8 AND {missing} < 1"
    );
    let sql = match d {
        Dialect::Postgres => format!(
            "WITH a AS ({insert} RETURNING id) INSERT INTO assignment_events (id, \
             assignment_id, at, actor_id, action, from_status, to_status, reason, details) \
             SELECT $9, a.id, $5, $10, 'claimed', NULL, 'claimed', NULL, NULL FROM a"
        ),
        Dialect::Sqlite => insert,
    };
    let inserted = on_tx!(tx, |c| {
        let mut q = sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(&claim.id)
            .bind(claim.task_id)
            .bind(claim.worker_id)
            .bind(claim.company_id)
            .bind(claim.now)
            .bind(claim.expires_at)
            .bind(claim.slots)
            .bind(state.settings.max_active_assignments);
        if d == Dialect::Postgres {
            q = q.bind(new_id()).bind(claim.user_id);
        }
        q.execute(&mut *c).await.map(|r| r.rows_affected())
    });
    match inserted {
        Ok(0) => return Err(refuse_claim(tx, claim, state).await),
        Ok(_) => tx.marketplace_changed(),
        Err(e) if unique_key(&e) == Some(UniqueKey::OneLiveClaimPerWorkerAndTask) => {
            return Err(claim_refused(ClaimRefusal::AlreadyClaimed));
        }
        Err(e) => return Err(e.into()),
    }
    if d == Dialect::Sqlite {
        let m = Move {
            assignment_id: &claim.id,
            from: AssignmentStatus::Claimed,
            to: AssignmentStatus::Claimed,
            actor: Some(claim.user_id),
            action: "claimed",
            reason: None,
            details: None,
            at: claim.now,
        };
        record_event(tx, &m).await?;
    }
    Ok(())
}

/// What submitting is judged on, read after locking the worker.
struct AtSubmission {
    timer_running: bool,
    logged: i64,
    pricing: PricingKind,
    url_required: bool,
}

async fn read_for_submission(tx: &mut Tx, row: &Row) -> Result<AtSubmission, ApiError> {
    // Same lock order as time tracking (worker, then assignment), so no entry can commit
    // between the sum below and the status change.
    vereda_store::locks::worker(tx, &row.worker_id).await?;
    let timer: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM running_timers WHERE assignment_id = $1"
    )
    .bind(&row.id)
    .fetch_one(&mut *c)
    .await)?;
    let logged = logged_seconds(tx, &row.id).await?;
    let (pricing, url_required): (String, bool) = on_tx!(tx, |c| sqlx::query_as(
        "SELECT pricing_kind, deliverable_url_required FROM tasks WHERE id = $1"
    )
    .bind(&row.task_id)
    .fetch_one(&mut *c)
    .await)?;
    Ok(AtSubmission {
        timer_running: timer > 0,
        logged,
        pricing: PricingKind::parse(&pricing),
        url_required,
    })
}

/// Record the submission and queue its verification.
async fn store_submission(
    tx: &mut Tx,
    m: &Move<'_>,
    url: Option<&str>,
    notes: Option<&str>,
    logged: i64,
) -> Result<(), ApiError> {
    let set = "submitted_at = $5, deliverable_url = $6, notes = $7, logged_seconds = $8, \
               verified_at = NULL, review_due_at = NULL, findings = NULL";
    let binds = [
        Bind::Int(Some(m.at)),
        Bind::Text(url),
        Bind::Text(notes),
        Bind::Int(Some(logged)),
    ];
    if !transition(tx, m, set, &binds).await? {
        return Err(moved_meanwhile());
    }
    // The company is told once verification passes it (worker/src/marketplace.rs).
    enqueue_verification(tx, m.assignment_id)
        .await
        .map_err(ApiError::from_anyhow)?;
    Ok(())
}

/// The task's terms a review is judged on.
struct ReviewedTask {
    pricing: PricingKind,
    claim_minutes: i64,
    allows_changes: bool,
    rubric: Option<String>,
    batch_id: Option<String>,
}

async fn task_terms(tx: &mut Tx, task_id: &str) -> Result<ReviewedTask, ApiError> {
    type TermsRow = (String, i64, bool, Option<String>, Option<String>);
    let (pricing, claim_minutes, allows_changes, rubric, batch_id): TermsRow =
        on_tx!(tx, |c| sqlx::query_as(
            "SELECT pricing_kind, claim_minutes, allows_changes, rubric, batch_id FROM tasks \
             WHERE id = $1"
        )
        .bind(task_id)
        .fetch_one(&mut *c)
        .await)?;
    Ok(ReviewedTask {
        pricing: PricingKind::parse(&pricing),
        claim_minutes,
        allows_changes,
        rubric,
        batch_id,
    })
}

/// Whether a rejection of `row` now would be one of a mass rejection by its company: more
/// than 30 % of at least five decided submissions today (Bogotá) or on the task's batch.
async fn mass_rejection(
    tx: &mut Tx,
    row: &Row,
    batch_id: Option<&str>,
    now: i64,
) -> Result<bool, ApiError> {
    let today =
        vereda_contracts::timesheet::day_start(vereda_contracts::timesheet::bogota_day(now));
    let (day, batch) =
        vereda_store::fair_work::company_decisions(tx, &row.company_id, today, batch_id).await?;
    Ok(
        fair_work::hold_rejection(&day)
            || (batch_id.is_some() && fair_work::hold_rejection(&batch)),
    )
}

/// Record a review's outcome: an approval through the accrual's path (`approve`), a
/// rejection or a request for changes as a move the worker is told of.
async fn store_review(
    tx: &mut Tx,
    row: &Row,
    reviewer: &str,
    outcome: &Outcome,
    claim_minutes: i64,
    now: i64,
) -> Result<(), ApiError> {
    let back = match outcome {
        Outcome::Approve { seconds, reason } => {
            let approved = approve(
                tx,
                &row.id,
                Some(reviewer),
                *seconds,
                reason.as_deref(),
                now,
            )
            .await
            .map_err(ApiError::from_anyhow)?;
            return if approved {
                Ok(())
            } else {
                Err(moved_meanwhile())
            };
        }
        Outcome::SendBack(back) => back,
    };
    let criteria = (!back.criteria.is_empty())
        .then(|| serde_json::to_string(&back.criteria))
        .transpose()
        .map_err(ApiError::internal)?;
    let m = Move {
        assignment_id: &row.id,
        from: AssignmentStatus::Verified,
        to: back.to,
        actor: Some(reviewer),
        action: back.action,
        reason: Some(&back.reason),
        details: Some(serde_json::json!({
            "reason_code": back.code.as_str(),
            "criteria_not_met": back.criteria,
        })),
        at: now,
    };
    let set = "reviewed_at = $5, reviewed_by = $6, reason = $7, expires_at = $8, ended_at = $9, \
               reason_code = $10, criteria_not_met = $11";
    let binds = [
        Bind::Int(Some(now)),
        Bind::Text(Some(reviewer)),
        Bind::Text(Some(&back.reason)),
        Bind::Int(Some(back.expires_at(row.expires_at, now, claim_minutes))),
        Bind::Int(back.ends().then_some(now)),
        Bind::Text(Some(back.code.as_str())),
        Bind::Text(criteria.as_deref()),
    ];
    if !transition(tx, &m, set, &binds).await? {
        return Err(moved_meanwhile());
    }
    let action = back.action;
    if action == "rejection_held" {
        crate::appeals::hold(tx, row, now).await?;
    }
    notify(
        tx,
        "review_outcome",
        &row.id,
        &format!("review_outcome:{}:{action}:{now}", row.id),
        &serde_json::json!({
            "decision": action,
            "reason": back.reason,
            "reason_code": back.code.as_str(),
            "criteria_not_met": back.criteria,
        }),
        now,
    )
    .await?;
    Ok(())
}
