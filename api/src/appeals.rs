//! Appeals to the platform (issue 21 §2–3): a worker appeals a rejection or hours cut, or a
//! company's mass rejection is held; platform staff (not the company) uphold or overturn it,
//! in writing, within five Colombian business days. An overturn approves the work through
//! the same path as any approval, so it accrues, is invoiced and is paid. The rules are
//! `vereda_contracts::fair_work`; this is parsing, authorisation and the store.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde::{Deserialize, Serialize};
use vereda_contracts::business_days;
use vereda_contracts::fair_work::{
    self, AppealKind, AppealRefusal, AppealStatus, MAX_APPEAL_CHARS, Verdict, VerdictRefusal,
};
use vereda_contracts::identity::Role;
use vereda_contracts::jobs::AccrueAssignment;
use vereda_contracts::marketplace::{AssignmentStatus, PricingKind, free_text};
use vereda_contracts::money::{Cop, hourly_earnings};
use vereda_contracts::review::display_name;
use vereda_contracts::time;
use vereda_store::db::Tx;
use vereda_store::transitions::{Approval, Move, approve_as, notify, record_event};
use vereda_store::unique_keys::{UniqueKey, unique_key};
use vereda_store::{on_db, on_tx};

use crate::ApiTags;
use crate::accounts::new_id;
use crate::assignments::{Row, visible};
use crate::auth::{BearerAuth, Principal};
use crate::body::JsonBody;
use crate::pagination::PageRequest;
use crate::problem::ApiError;
use crate::startup::AppState;
use crate::tasks::refused;

/// A platform review: a worker's appeal, or a rejection held as part of a mass rejection.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct Appeal {
    pub id: String,
    pub assignment_id: String,
    pub task_title: String,
    pub worker_id: String,
    /// The worker's name: as the company sees her ("Luz T."), in full for platform staff.
    pub worker_name: String,
    pub company_id: String,
    /// `rejection` (appealed), `cut` (fewer hours approved than logged, appealed) or `held`
    /// (a mass rejection held for review).
    pub kind: String,
    /// `open`, `upheld` or `overturned`.
    pub status: String,
    /// The worker's words (absent for a held rejection).
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<String>,
    pub filed_at: DateTime<Utc>,
    /// The platform decides by then (5 Colombian business days).
    pub due_at: DateTime<Utc>,
    /// Open past its due time.
    pub overdue: bool,
    #[oai(skip_serializing_if_is_none)]
    pub decided_at: Option<DateTime<Utc>>,
    /// The platform's written decision, which the worker and the company read.
    #[oai(skip_serializing_if_is_none)]
    pub decision: Option<String>,
    /// Seconds approved by an overturn.
    #[oai(skip_serializing_if_is_none)]
    pub paid_seconds: Option<i64>,
}

#[derive(Debug, Object)]
pub struct AppealList {
    pub items: Vec<Appeal>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct NewAppeal {
    /// Why the decision is unfair, in the worker's words (at most 4000 characters).
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Uphold,
    Overturn,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct AppealDecision {
    pub outcome: Outcome,
    /// The platform's reasons, which the worker and the company read (at most 4000
    /// characters).
    pub decision: String,
    /// Overturning an hourly task's decision: the seconds to pay, up to those logged (all
    /// of them when left out; more than already approved for a cut). Refused otherwise.
    #[serde(default)]
    pub paid_seconds: Option<i64>,
}

#[derive(ApiResponse)]
pub enum AppealCreated {
    #[oai(status = 201)]
    Created(Json<Appeal>),
}

#[derive(ApiResponse)]
pub enum AppealOk {
    #[oai(status = 200)]
    Ok(Json<Appeal>),
}

#[derive(ApiResponse)]
pub enum AppealListOk {
    #[oai(status = 200)]
    Ok(Json<AppealList>),
}

#[derive(sqlx::FromRow)]
struct AppealRow {
    id: String,
    assignment_id: String,
    task_title: String,
    worker_name: String,
    company_id: String,
    worker_id: String,
    kind: String,
    status: String,
    reason: Option<String>,
    filed_at: i64,
    due_at: i64,
    decided_at: Option<i64>,
    decision: Option<String>,
    paid_seconds: Option<i64>,
}

// An appeal with its task's title and its worker's name, by assignment, by id, and a page.
const BY_ASSIGNMENT: &str = "SELECT ap.id, ap.assignment_id, t.title AS task_title, u.name AS worker_name, \
     ap.company_id, ap.worker_id, ap.kind, ap.status, ap.reason, ap.filed_at, ap.due_at, \
     ap.decided_at, ap.decision, ap.paid_seconds FROM appeals ap \
     JOIN assignments a ON a.id = ap.assignment_id JOIN tasks t ON t.id = a.task_id \
     JOIN users u ON u.worker_id = ap.worker_id \
     WHERE ap.assignment_id = $1";

const BY_ID: &str = "SELECT ap.id, ap.assignment_id, t.title AS task_title, u.name AS worker_name, \
     ap.company_id, ap.worker_id, ap.kind, ap.status, ap.reason, ap.filed_at, ap.due_at, \
     ap.decided_at, ap.decision, ap.paid_seconds FROM appeals ap \
     JOIN assignments a ON a.id = ap.assignment_id JOIN tasks t ON t.id = a.task_id \
     JOIN users u ON u.worker_id = ap.worker_id \
     WHERE ap.id = $1";

/// `$1` the cursor, `$2` a worker, `$3` a company, `$4` a status, `$5` now for overdue ones
/// only (each NULL for no filter), `$6` rows to fetch.
const PAGE: &str = "SELECT ap.id, ap.assignment_id, t.title AS task_title, u.name AS worker_name, \
     ap.company_id, ap.worker_id, ap.kind, ap.status, ap.reason, ap.filed_at, ap.due_at, \
     ap.decided_at, ap.decision, ap.paid_seconds FROM appeals ap \
     JOIN assignments a ON a.id = ap.assignment_id JOIN tasks t ON t.id = a.task_id \
     JOIN users u ON u.worker_id = ap.worker_id \
     WHERE ap.id < $1 AND ($2 IS NULL OR ap.worker_id = $2) \
     AND ($3 IS NULL OR ap.company_id = $3) AND ($4 IS NULL OR ap.status = $4) \
     AND ($5 IS NULL OR (ap.status = 'open' AND ap.due_at < $5)) \
     ORDER BY ap.id DESC LIMIT $6";

impl AppealRow {
    /// The appeal as `who` sees it (`None`: the assignment's own view, names as companies
    /// see them).
    fn view(self, now: i64, who: Option<&Principal>) -> Appeal {
        let t = time::from_unix;
        let staff = who.is_some_and(|w| matches!(w.role, Role::Admin | Role::Finance));
        Appeal {
            worker_id: self.worker_id,
            overdue: self.status == AppealStatus::Open.as_str() && now > self.due_at,
            id: self.id,
            assignment_id: self.assignment_id,
            task_title: self.task_title,
            worker_name: if staff {
                self.worker_name
            } else {
                display_name(&self.worker_name)
            },
            company_id: self.company_id,
            kind: self.kind,
            status: self.status,
            reason: self.reason,
            filed_at: t(self.filed_at),
            due_at: t(self.due_at),
            decided_at: self.decided_at.map(t),
            decision: self.decision,
            paid_seconds: self.paid_seconds,
        }
    }

    fn kind(&self) -> AppealKind {
        AppealKind::parse(&self.kind).unwrap_or(AppealKind::Rejection)
    }
}

fn now() -> i64 {
    time::unix(time::now())
}

/// The platform review of an assignment, if any (for the assignment's own view).
pub(crate) async fn of_assignment(
    state: &AppState,
    who: Option<&Principal>,
    assignment_id: &str,
) -> Result<Option<Appeal>, ApiError> {
    let row: Option<AppealRow> = on_db!(&state.db, |p| sqlx::query_as(BY_ASSIGNMENT)
        .bind(assignment_id)
        .fetch_optional(p)
        .await)?;
    Ok(row.map(|r| r.view(now(), who)))
}

async fn fetch(state: &AppState, id: &str) -> Result<Option<AppealRow>, ApiError> {
    Ok(on_db!(&state.db, |p| sqlx::query_as(BY_ID)
        .bind(id)
        .fetch_optional(p)
        .await)?)
}

/// The appeal if the caller may see it: its worker, its company's people, staff; else 404.
async fn visible_appeal(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> Result<AppealRow, ApiError> {
    let row = fetch(state, id)
        .await?
        .ok_or_else(|| ApiError::not_found("appeal"))?;
    let ok = match who.role {
        Role::Admin | Role::Finance => true,
        Role::Company => who.company_id.as_deref() == Some(row.company_id.as_str()),
        Role::Worker => who.worker_id.as_deref() == Some(row.worker_id.as_str()),
        Role::Funder => false,
    };
    if ok {
        Ok(row)
    } else {
        Err(ApiError::not_found("appeal"))
    }
}

/// Hold a rejection just recorded for the platform's review, in the review's transaction;
/// the company is told why.
pub(crate) async fn hold(tx: &mut Tx, row: &Row, now: i64) -> Result<(), ApiError> {
    let due_at = business_days::deadline(now, fair_work::DECISION_BUSINESS_DAYS);
    let id = new_id();
    vereda_store::exec_one!(
        tx,
        sqlx::query(
            "INSERT INTO appeals (id, assignment_id, worker_id, company_id, kind, filed_at, \
             due_at, status) VALUES ($1, $2, $3, $4, 'held', $5, $6, 'open')"
        )
        .bind(&id)
        .bind(&row.id)
        .bind(&row.worker_id)
        .bind(&row.company_id)
        .bind(now)
        .bind(due_at)
    )?;
    notify(
        tx,
        "rejection_held",
        &row.id,
        &format!("rejection_held:{id}"),
        &serde_json::json!({ "kind": "held", "due_at": due_at }),
        now,
    )
    .await?;
    Ok(())
}

fn appeal_refused(e: AppealRefusal) -> ApiError {
    refused(e.code(), e.field(), e.is_conflict(), e.to_string())
}

fn verdict_refused(e: VerdictRefusal) -> ApiError {
    let conflict = matches!(e, VerdictRefusal::AlreadyDecided);
    refused(e.code(), e.field(), conflict, e.to_string())
}

fn long_text(field: &str, text: &str) -> Result<String, ApiError> {
    free_text(Some(text), MAX_APPEAL_CHARS)
        .map_err(|e| ApiError::invalid(field, e.to_string()))
        .map(Option::unwrap_or_default)
}

pub struct AppealsApi;

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Assignments")]
impl AppealsApi {
    /// Appeal a decision to the platform (worker)
    ///
    /// A rejection, or an approval for fewer hours than logged, within 15 Colombian business
    /// days of the decision; once per assignment. Platform staff decide, not the company, within
    /// 5 business days. 409 `not_appealable`, `already_appealed` or `appeal_too_late`.
    #[oai(path = "/assignments/:id/appeal", method = "post")]
    async fn appeal(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<NewAppeal>,
    ) -> Result<AppealCreated, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Worker])?;
        let reason = long_text("reason", &body.0.reason)?;
        let row = visible(&state, who, &id.0).await?;
        let now = now();
        let kind = fair_work::check_appeal(&row.appeal_facts(), Some(&reason), now)
            .map_err(appeal_refused)?;
        let due_at = business_days::deadline(now, fair_work::DECISION_BUSINESS_DAYS);
        let appeal_id = new_id();
        let mut tx = state.db.begin().await?;
        let inserted = on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO appeals (id, assignment_id, worker_id, company_id, kind, reason, \
             filed_by, filed_at, due_at, status) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, \
             'open' WHERE NOT EXISTS (SELECT 1 FROM appeals WHERE assignment_id = $2)"
        )
        .bind(&appeal_id)
        .bind(&row.id)
        .bind(&row.worker_id)
        .bind(&row.company_id)
        .bind(kind.as_str())
        .bind(&reason)
        .bind(&who.user_id)
        .bind(now)
        .bind(due_at)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()));
        match inserted {
            Ok(1) => {}
            Ok(_) => return Err(appeal_refused(AppealRefusal::AlreadyAppealed)),
            Err(e) if unique_key(&e) == Some(UniqueKey::OneAppealPerAssignment) => {
                return Err(appeal_refused(AppealRefusal::AlreadyAppealed));
            }
            Err(e) => return Err(e.into()),
        }
        let status = row.status();
        let m = Move {
            assignment_id: &row.id,
            from: status,
            to: status,
            actor: Some(&who.user_id),
            action: "appealed",
            reason: Some(&reason),
            details: Some(serde_json::json!({ "appeal_id": appeal_id, "kind": kind.as_str() })),
            at: now,
        };
        record_event(&mut tx, &m).await?;
        notify(
            &mut tx,
            "appeal_filed",
            &row.id,
            &format!("appeal_filed:{appeal_id}"),
            &serde_json::json!({ "kind": kind.as_str(), "reason": reason, "due_at": due_at }),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(appeal_id = %appeal_id, assignment_id = %row.id, "appeal filed");
        let appeal = fetch(&state, &appeal_id)
            .await?
            .ok_or_else(|| ApiError::internal("appeal vanished"))?;
        Ok(AppealCreated::Created(Json(appeal.view(now, Some(who)))))
    }

    /// List appeals and held rejections
    ///
    /// Staff see all, a company those on its work, a worker her own; newest first. `status`:
    /// open, upheld or overturned; `overdue=true`: open past their due time.
    #[oai(path = "/appeals", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
        status: Query<Option<String>>,
        overdue: Query<Option<bool>>,
    ) -> Result<AppealListOk, ApiError> {
        let who = &auth.0;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        if let Some(s) = status.0.as_deref()
            && AppealStatus::parse(s).is_none()
        {
            return Err(ApiError::invalid(
                "status",
                "must be open, upheld or overturned",
            ));
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
        let now = now();
        // Overdue: open, and its due time passed (`$5` is now, or NULL for no filter).
        let overdue_before = overdue.0.unwrap_or(false).then_some(now);
        let rows: Vec<AppealRow> = on_db!(&state.db, |p| sqlx::query_as(PAGE)
            .bind(page.before())
            .bind(worker.as_deref())
            .bind(company.as_deref())
            .bind(status.0.as_deref())
            .bind(overdue_before)
            .bind(page.fetch())
            .fetch_all(p)
            .await)?;
        let (rows, next_cursor) = page.finish(rows, |r| &r.id);
        Ok(AppealListOk::Ok(Json(AppealList {
            items: rows.into_iter().map(|r| r.view(now, Some(who))).collect(),
            next_cursor,
        })))
    }

    /// Get an appeal
    #[oai(path = "/appeals/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<AppealOk, ApiError> {
        let row = visible_appeal(&state, &auth.0, &id.0).await?;
        Ok(AppealOk::Ok(Json(row.view(now(), Some(&auth.0)))))
    }

    /// Decide an appeal or a held rejection (admin)
    ///
    /// Uphold, or overturn: the work is approved for `paid_seconds` (hourly; all logged when
    /// left out) or its price, accrues, is invoiced to the company and paid to the worker. The
    /// written decision is in the assignment's history and e-mailed to both. 409
    /// `already_decided`.
    #[oai(path = "/appeals/:id/decision", method = "post")]
    async fn decide(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<AppealDecision>,
    ) -> Result<AppealOk, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Admin])?;
        let req = body.0;
        let decision = long_text("decision", &req.decision)?;
        let appeal = visible_appeal(&state, who, &id.0).await?;
        let assignment = visible(&state, who, &appeal.assignment_id).await?;
        let facts = assignment.appeal_facts();
        let verdict = match req.outcome {
            Outcome::Uphold => Verdict::Uphold,
            Outcome::Overturn => Verdict::Overturn,
        };
        let kind = appeal.kind();
        let open = appeal.status == AppealStatus::Open.as_str();
        let seconds = fair_work::check_verdict(
            kind,
            &facts,
            open,
            verdict,
            Some(&decision),
            req.paid_seconds,
        )
        .map_err(verdict_refused)?;
        let now = now();
        let status = match verdict {
            Verdict::Uphold => AppealStatus::Upheld,
            Verdict::Overturn => AppealStatus::Overturned,
        };
        let mut tx = state.db.begin().await?;
        let changed = vereda_store::exec!(
            &mut tx,
            sqlx::query(
                "UPDATE appeals SET status = $1, decided_at = $2, decided_by = $3, \
                 decision = $4, paid_seconds = $5 WHERE id = $6 AND status = 'open'"
            )
            .bind(status.as_str())
            .bind(now)
            .bind(&who.user_id)
            .bind(&decision)
            .bind(seconds.filter(|_| verdict == Verdict::Overturn))
            .bind(&appeal.id)
        )?;
        if changed == 0 {
            return Err(verdict_refused(VerdictRefusal::AlreadyDecided));
        }
        let paid = match seconds {
            Some(s) => Some(overturn(&mut tx, &assignment, kind, who, s, &decision, now).await?),
            None => {
                let st = assignment.status();
                let m = Move {
                    assignment_id: &assignment.id,
                    from: st,
                    to: st,
                    actor: Some(&who.user_id),
                    action: "appeal_upheld",
                    reason: Some(&decision),
                    details: Some(serde_json::json!({ "appeal_id": appeal.id })),
                    at: now,
                };
                record_event(&mut tx, &m).await?;
                None
            }
        };
        notify(
            &mut tx,
            "appeal_decided",
            &assignment.id,
            &format!("appeal_decided:{}", appeal.id),
            &serde_json::json!({
                "kind": kind.as_str(),
                "overturned": verdict == Verdict::Overturn,
                "decision": decision,
                "paid_centavos": paid.map(Cop::centavos),
            }),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(appeal_id = %appeal.id, outcome = status.as_str(), "appeal decided");
        let row = visible_appeal(&state, who, &appeal.id).await?;
        Ok(AppealOk::Ok(Json(row.view(now, Some(who)))))
    }
}

/// Overturn the decision on `a`: a rejection becomes an approval for `seconds`, through the
/// approval's own path (accrual, invoice, payout); a cut is approved for `seconds` instead,
/// and the accrual pays the restored hours as the assignment's part 1. What the overturn
/// earns the worker is returned.
async fn overturn(
    tx: &mut Tx,
    a: &Row,
    kind: AppealKind,
    who: &Principal,
    seconds: i64,
    decision: &str,
    now: i64,
) -> Result<Cop, ApiError> {
    let changed = if kind == AppealKind::Cut {
        restore_hours(tx, a, who, seconds, decision, now).await?
    } else {
        let approval = Approval {
            assignment_id: &a.id,
            from: AssignmentStatus::Rejected,
            actor: Some(&who.user_id),
            action: "appeal_overturned",
            seconds,
            reason: Some(decision),
            at: now,
        };
        approve_as(tx, &approval)
            .await
            .map_err(ApiError::from_anyhow)?
    };
    if !changed {
        return Err(ApiError::conflict(
            "state_changed",
            "The assignment changed meanwhile; reload it and try again.",
        ));
    }
    let (pricing, rate, price): (String, Option<i64>, Option<i64>) = on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT pricing_kind, rate_centavos, price_centavos FROM tasks WHERE id = $1",
        )
        .bind(&a.task_id)
        .fetch_one(&mut *c)
        .await
    })?;
    let earned = |s: i64| match PricingKind::parse(&pricing) {
        PricingKind::Hourly => hourly_earnings(s, Cop::from_centavos(rate.unwrap_or(0))),
        PricingKind::Fixed => Cop::from_centavos(price.unwrap_or(0)),
    };
    Ok(match kind {
        AppealKind::Cut => earned(seconds) - earned(a.approved_seconds.unwrap_or(0)),
        AppealKind::Rejection | AppealKind::Held => earned(seconds),
    })
}

/// Approve more of an approved assignment's hours, and queue the accrual of the difference
/// (its own job key: the approval's job may be long gone). False when it is no longer an
/// approval for fewer seconds.
async fn restore_hours(
    tx: &mut Tx,
    a: &Row,
    who: &Principal,
    seconds: i64,
    decision: &str,
    now: i64,
) -> Result<bool, ApiError> {
    let changed = vereda_store::exec!(
        tx,
        sqlx::query(
            "UPDATE assignments SET approved_seconds = $1, accrued_at = NULL, updated_at = $2 \
             WHERE id = $3 AND status = 'approved' AND approved_seconds < $1"
        )
        .bind(seconds)
        .bind(now)
        .bind(&a.id)
    )?;
    if changed == 0 {
        return Ok(false);
    }
    let m = Move {
        assignment_id: &a.id,
        from: AssignmentStatus::Approved,
        to: AssignmentStatus::Approved,
        actor: Some(&who.user_id),
        action: "appeal_overturned",
        reason: Some(decision),
        details: Some(serde_json::json!({
            "approved_seconds": seconds,
            "before": a.approved_seconds,
        })),
        at: now,
    };
    record_event(tx, &m).await?;
    let job = AccrueAssignment {
        assignment_id: a.id.clone(),
    };
    vereda_store::queue::push_in_tx(
        tx,
        AccrueAssignment::QUEUE,
        &job,
        None,
        Some(&format!("accrue:{}:restored", a.id)),
    )
    .await
    .map_err(ApiError::from_anyhow)?;
    Ok(true)
}
