//! A worker's requests about her data (issue 22 §3; Ley 1581 arts. 14–15): she (or an admin on
//! her behalf) files a consulta (a copy) or a reclamo (a correction); admins see each with its
//! legal deadline in Colombian business days, may extend it once with a reason, and answer in
//! writing. She is told of each step by e-mail. The rules are `contracts::personal_data`.
//!
//! A reclamo for deletion (supresión) is answered when it is filed: in one transaction that
//! holds her row, either something still ties her to the platform (open work, money owed or
//! on its way, an open appeal, a documento soporte to issue) and nothing is written, or the
//! request is recorded as answered, her confirmation is queued to her address, and her
//! personal data is anonymised (`vereda_store::erasure`).

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use vereda_contracts::identity::Role;
use vereda_contracts::marketplace::free_text;
use vereda_contracts::personal_data::{
    self, DeletionBlocked, MAX_REQUEST_CHARS, RequestKind, RequestRefusal, request_due,
};
use vereda_contracts::time;
use vereda_store::db::Tx;
use vereda_store::outbox::{self, NewMessage};
use vereda_store::{on_db, on_tx};

use crate::ApiTags;
use crate::accounts::new_id;
use crate::auth::BearerAuth;
use crate::body::JsonBody;
use crate::idempotency::IdempotencyKey;
use crate::pagination::PageRequest;
use crate::problem::ApiError;
use crate::startup::AppState;
use crate::tasks::refused;

/// A request about a worker's data.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize)]
pub struct DataRequest {
    pub id: String,
    pub worker_id: String,
    /// The worker's name (staff answer her by name).
    pub worker_name: String,
    /// `copy` (a consulta: 10 business days, extendable by 5), `correction` (a reclamo: 15,
    /// extendable by 8) or `deletion` (a reclamo, answered when filed).
    pub kind: String,
    #[oai(skip_serializing_if_is_none)]
    pub detail: Option<String>,
    pub filed_at: DateTime<Utc>,
    /// The legal deadline (the end of a Colombian business day in Bogotá).
    pub due_at: DateTime<Utc>,
    /// Open past its deadline.
    pub overdue: bool,
    #[oai(skip_serializing_if_is_none)]
    pub extended_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub extension_reason: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub answered_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub answer: Option<String>,
}

#[derive(Debug, Object)]
pub struct DataRequestList {
    pub items: Vec<DataRequest>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct NewDataRequest {
    /// What she asks for: `copy`, `correction` or `deletion`.
    pub request: String,
    /// What to correct and what it should say (required for a correction; at most 4000
    /// characters).
    #[serde(default)]
    pub detail: Option<String>,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct RequestExtension {
    /// Why more time is needed; the worker reads it.
    pub reason: String,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct RequestAnswer {
    /// The written answer the worker reads (at most 4000 characters).
    pub answer: String,
}

#[derive(ApiResponse)]
pub enum DataRequestCreated {
    #[oai(status = 201)]
    Created(Json<DataRequest>),
}

#[derive(ApiResponse)]
pub enum DataRequestOk {
    #[oai(status = 200)]
    Ok(Json<DataRequest>),
}

#[derive(ApiResponse)]
pub enum DataRequestListOk {
    #[oai(status = 200)]
    Ok(Json<DataRequestList>),
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    worker_id: String,
    worker_name: String,
    worker_email: String,
    user_id: String,
    kind: String,
    detail: Option<String>,
    filed_at: i64,
    due_at: i64,
    extended_at: Option<i64>,
    extension_reason: Option<String>,
    answered_at: Option<i64>,
    answer: Option<String>,
}

const BY_ID: &str = "SELECT r.id, r.worker_id, u.name AS worker_name, u.email AS worker_email, \
     u.id AS user_id, r.kind, r.detail, r.filed_at, r.due_at, r.extended_at, r.extension_reason, \
     r.answered_at, r.answer FROM data_requests r JOIN users u ON u.worker_id = r.worker_id \
     WHERE r.id = $1";

/// `$1` the cursor, `$2` a worker (NULL: all), `$3` 1 for open ones only, `$4` now for overdue
/// ones only, `$6` 1 for answered ones only (each NULL: no filter), `$5` rows to fetch.
const PAGE: &str = "SELECT r.id, r.worker_id, u.name AS worker_name, u.email AS worker_email, \
     u.id AS user_id, r.kind, r.detail, r.filed_at, r.due_at, r.extended_at, r.extension_reason, \
     r.answered_at, r.answer FROM data_requests r JOIN users u ON u.worker_id = r.worker_id \
     WHERE r.id < $1 AND ($2 IS NULL OR r.worker_id = $2) \
     AND ($3 IS NULL OR r.answered_at IS NULL) \
     AND ($4 IS NULL OR (r.answered_at IS NULL AND r.due_at < $4)) \
     AND ($6 IS NULL OR r.answered_at IS NOT NULL) \
     ORDER BY r.id DESC LIMIT $5";

impl Row {
    fn view(self, now: i64) -> DataRequest {
        let t = time::from_unix;
        DataRequest {
            overdue: self.answered_at.is_none() && now > self.due_at,
            id: self.id,
            worker_id: self.worker_id,
            worker_name: self.worker_name,
            kind: self.kind,
            detail: self.detail,
            filed_at: t(self.filed_at),
            due_at: t(self.due_at),
            extended_at: self.extended_at.map(t),
            extension_reason: self.extension_reason,
            answered_at: self.answered_at.map(t),
            answer: self.answer,
        }
    }

    fn kind(&self) -> RequestKind {
        RequestKind::parse(&self.kind).unwrap_or(RequestKind::Copy)
    }
}

fn now() -> i64 {
    time::unix(time::now())
}

fn request_refused(e: RequestRefusal) -> ApiError {
    let conflict = e.field().is_none();
    let mut problem = refused(e.code(), e.field(), conflict, e.to_string());
    problem.detail_es = e.es().map(Into::into);
    problem
}

fn text(field: &'static str, raw: Option<&str>) -> Result<Option<String>, ApiError> {
    free_text(raw, MAX_REQUEST_CHARS).map_err(|e| ApiError::invalid(field, e.to_string()))
}

/// The request as written in `tx` (the answer stored with an idempotency key).
async fn fetch_in(tx: &mut Tx, id: &str) -> Result<Row, ApiError> {
    let row: Option<Row> = on_tx!(tx, |c| sqlx::query_as(BY_ID)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?;
    row.ok_or_else(|| ApiError::internal("data request vanished"))
}

async fn fetch(state: &AppState, id: &str) -> Result<Row, ApiError> {
    let row: Option<Row> = on_db!(&state.db, |p| sqlx::query_as(BY_ID)
        .bind(id)
        .fetch_optional(p)
        .await)?;
    row.ok_or_else(|| ApiError::not_found("data request"))
}

/// A deletion refused: 409 on `request`, every reason in Spanish.
fn deletion_refused(e: DeletionBlocked) -> ApiError {
    let mut problem = ApiError::conflict("deletion_blocked", e.to_string());
    problem.field = Some(e.field().into());
    problem.detail_es = Some(e.es().into());
    problem
}

/// 409 for a change to a worker whose personal data was deleted (the catalogue's sentence).
pub(crate) fn anonymised() -> ApiError {
    ApiError::conflict(
        "worker_anonymised",
        "This worker's personal data was deleted: her profile and account stay as they are.",
    )
}

/// Tell the worker of a step, in the step's transaction: the message's id (none when it was
/// written before).
async fn tell(
    tx: &mut Tx,
    row: &Row,
    step: &str,
    content: vereda_documents::mail::Content,
    at: i64,
) -> Result<Option<String>, ApiError> {
    let m = NewMessage {
        dedupe_key: format!("data_request:{}:{step}", row.id),
        kind: "data_request",
        recipient: &row.worker_email,
        user_id: Some(&row.user_id),
        content,
        attachment: None,
    };
    outbox::enqueue(tx, m, at)
        .await
        .map_err(ApiError::from_anyhow)
}

/// Delete her personal data, in the filing's transaction after nothing tied her: her
/// confirmation (the answer, to her address and name) is queued first, then she is
/// anonymised and, with her, her sessions; her consent to sensitive data ends, withdrawn by
/// her or by the admin who filed for her (`who`).
async fn delete_personal_data(
    state: &AppState,
    who: &crate::auth::Principal,
    tx: &mut Tx,
    request_id: &str,
    answer: &str,
    now: i64,
) -> Result<(), ApiError> {
    let row = fetch_in(tx, request_id).await?;
    let content = vereda_documents::mail::data_request_update(
        &state.settings.issuer(),
        &row.worker_name,
        RequestKind::Deletion.label_es(),
        Some(answer),
        None,
    );
    let confirmation = tell(tx, &row, "answered", content, now).await?;
    let helped_by =
        (who.worker_id.as_deref() != Some(row.worker_id.as_str())).then_some(who.user_id.as_str());
    let erased = vereda_store::erasure::anonymise(
        tx,
        &row.worker_id,
        confirmation.as_deref(),
        helped_by,
        now,
    )
    .await?;
    if !erased {
        return Err(anonymised());
    }
    Ok(())
}

pub struct DataRequestsApi;

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Workers")]
impl DataRequestsApi {
    /// File a request about a worker's data (the worker, or an admin on her behalf)
    ///
    /// A copy of her data (`copy`, a consulta: answered within 10 Colombian business days), a
    /// correction (`correction`, a reclamo: within 15; say what to correct in `detail`), or the
    /// deletion of her personal data (`deletion`, a reclamo answered at once).
    ///
    /// A deletion is refused, with nothing written, while something still ties her to the
    /// platform: 409 `deletion_blocked` on `request`, each reason in `detail_es` (a task in
    /// course, money owed or on its way to her, an open appeal, a documento soporte still to
    /// issue). Otherwise the request comes back answered: her name, cédula, phone, e-mail,
    /// place, payout method, skills, password and sessions are deleted (her account is closed;
    /// her profile then reads `anonymised_at`), a confirmation goes to her address, and the
    /// accounting records the law keeps ten years stay, readable by admins only. 409
    /// `worker_anonymised` once her data was deleted.
    #[oai(path = "/workers/:id/data-requests", method = "post")]
    async fn file(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        /// Makes retries safe: the same key answers the first response again.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<NewDataRequest>,
    ) -> Result<DataRequestCreated, ApiError> {
        let who = &auth.0;
        let req = body.0;
        let kind = RequestKind::parse(&req.request)
            .ok_or_else(|| ApiError::invalid("request", "must be copy, correction or deletion"))?;
        let detail = text("detail", req.detail.as_deref())?;
        personal_data::check_request(kind, detail.as_deref()).map_err(request_refused)?;
        crate::data_access::herself_or_admin(who, &id.0, "requests about her data")?;
        let fingerprint = format!("{}\n{}", kind.as_str(), detail.as_deref().unwrap_or(""));
        let key = IdempotencyKey::from_header(
            idempotency_key.0.as_deref(),
            &format!("data-request:{}", id.0),
            fingerprint.as_bytes(),
        )?;
        if let Some(k) = &key
            && let Some((_, body)) = k.replay(&state, &who.user_id).await?
        {
            let r: DataRequest = serde_json::from_str(&body).map_err(ApiError::internal)?;
            return Ok(DataRequestCreated::Created(Json(r)));
        }
        let now = now();
        let request_id = new_id();
        let mut tx = state.db.begin().await?;
        // Her row first: what ties her is read, and her data deleted, with it held.
        if !vereda_store::locks::worker(&mut tx, &id.0).await? {
            return Err(ApiError::not_found("worker"));
        }
        let anonymised_at: Option<i64> = on_tx!(&mut tx, |c| sqlx::query_scalar(
            "SELECT anonymised_at FROM worker_profiles WHERE id = $1"
        )
        .bind(&id.0)
        .fetch_one(&mut *c)
        .await)?;
        if anonymised_at.is_some() {
            return Err(anonymised());
        }
        let deletion = kind == RequestKind::Deletion;
        if deletion {
            let ties =
                vereda_store::erasure::ties(&mut tx, &id.0, state.settings.min_payout).await?;
            personal_data::check_deletion(ties).map_err(deletion_refused)?;
        }
        // A deletion is answered at once: the answer says what went and what the law keeps.
        let answer = deletion.then(|| {
            let today = time::from_unix(now)
                .with_timezone(&time::BOGOTA)
                .date_naive();
            personal_data::deletion_answer_es(today)
        });
        vereda_store::exec_one!(
            &mut tx,
            sqlx::query(
                "INSERT INTO data_requests (id, worker_id, kind, detail, filed_by, filed_at, \
                 due_at, answered_at, answer) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            )
            .bind(&request_id)
            .bind(&id.0)
            .bind(kind.as_str())
            .bind(detail.as_deref())
            .bind(&who.user_id)
            .bind(now)
            .bind(request_due(kind, now))
            .bind(deletion.then_some(now))
            .bind(answer.as_deref())
        )?;
        if let Some(answer) = &answer {
            delete_personal_data(&state, who, &mut tx, &request_id, answer, now).await?;
        }
        let answer = fetch_in(&mut tx, &request_id).await?.view(now);
        if let Some(k) = &key {
            let body = serde_json::to_string(&answer).map_err(ApiError::internal)?;
            k.store(&mut tx, &who.user_id, 201, &body).await?;
        }
        tx.commit().await?;
        if deletion {
            // Her sessions are gone: no process may keep believing a token of hers.
            state.tokens.forget_all();
            tracing::info!(worker_id = %id.0, "personal data deleted");
        }
        tracing::info!(request_id = %request_id, kind = kind.as_str(), "data request filed");
        Ok(DataRequestCreated::Created(Json(answer)))
    }

    /// List requests about workers' data (admin: all; a worker: her own)
    ///
    /// Newest first. `open=true`: not answered yet; `overdue=true`: open past the deadline;
    /// `answered=true`: answered ones.
    #[oai(path = "/data-requests", method = "get")]
    #[allow(clippy::too_many_arguments)] // the request's extractors, one per query parameter
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
        open: Query<Option<bool>>,
        overdue: Query<Option<bool>>,
        answered: Query<Option<bool>>,
    ) -> Result<DataRequestListOk, ApiError> {
        let who = &auth.0;
        let worker = match who.role {
            Role::Admin => None,
            // A worker account always has its profile; never read all for want of one.
            Role::Worker => Some(
                who.worker_id
                    .clone()
                    .ok_or_else(|| ApiError::internal("worker without profile"))?,
            ),
            Role::Finance | Role::Company | Role::Funder => {
                return Err(ApiError::forbidden(
                    "Requests about a worker's data are for her and the admins.",
                ));
            }
        };
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let now = now();
        let rows: Vec<Row> = on_db!(&state.db, |p| sqlx::query_as(PAGE)
            .bind(page.before())
            .bind(worker.as_deref())
            .bind(open.0.unwrap_or(false).then_some(1_i64))
            .bind(overdue.0.unwrap_or(false).then_some(now))
            .bind(page.fetch())
            .bind(answered.0.unwrap_or(false).then_some(1_i64))
            .fetch_all(p)
            .await)?;
        let (rows, next_cursor) = page.finish(rows, |r| &r.id);
        Ok(DataRequestListOk::Ok(Json(DataRequestList {
            items: rows.into_iter().map(|r| r.view(now)).collect(),
            next_cursor,
        })))
    }

    /// Extend a request's deadline, once, with a reason (admin)
    ///
    /// Five more business days for a copy, eight for a correction. 409 `request_extended` or
    /// `request_answered`.
    #[oai(path = "/data-requests/:id/extension", method = "post")]
    async fn extend(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<RequestExtension>,
    ) -> Result<DataRequestOk, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Admin])?;
        let reason = text("reason", Some(&body.0.reason))?;
        let row = fetch(&state, &id.0).await?;
        let due = personal_data::extend(
            row.kind(),
            row.due_at,
            row.answered_at.is_some(),
            row.extended_at.is_some(),
            reason.as_deref(),
        )
        .map_err(request_refused)?;
        let reason = reason.unwrap_or_default();
        let now = now();
        let mut tx = state.db.begin().await?;
        let changed = on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE data_requests SET due_at = $1, extended_at = $2, extended_by = $3, \
             extension_reason = $4 WHERE id = $5 AND extended_at IS NULL AND answered_at IS NULL"
        )
        .bind(due)
        .bind(now)
        .bind(&who.user_id)
        .bind(&reason)
        .bind(&row.id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        if changed == 0 {
            // Answered or extended meanwhile: say which.
            let now_row = fetch_in(&mut tx, &row.id).await?;
            return Err(request_refused(if now_row.answered_at.is_some() {
                RequestRefusal::AlreadyAnswered
            } else {
                RequestRefusal::AlreadyExtended
            }));
        }
        let content = vereda_documents::mail::data_request_update(
            &state.settings.issuer(),
            &row.worker_name,
            row.kind().label_es(),
            None,
            Some((due, &reason)),
        );
        tell(&mut tx, &row, "extended", content, now).await?;
        tx.commit().await?;
        Ok(DataRequestOk::Ok(Json(
            fetch(&state, &row.id).await?.view(now),
        )))
    }

    /// Answer a request in writing (admin)
    ///
    /// The worker reads the answer in the app and by e-mail. 409 `request_answered`.
    #[oai(path = "/data-requests/:id/answer", method = "post")]
    async fn answer(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<RequestAnswer>,
    ) -> Result<DataRequestOk, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Admin])?;
        let answer = text("answer", Some(&body.0.answer))?
            .ok_or(RequestRefusal::TextRequired("answer"))
            .map_err(request_refused)?;
        let row = fetch(&state, &id.0).await?;
        let now = now();
        let mut tx = state.db.begin().await?;
        let changed = on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE data_requests SET answered_at = $1, answered_by = $2, answer = $3 \
             WHERE id = $4 AND answered_at IS NULL"
        )
        .bind(now)
        .bind(&who.user_id)
        .bind(&answer)
        .bind(&row.id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(request_refused(RequestRefusal::AlreadyAnswered));
        }
        let content = vereda_documents::mail::data_request_update(
            &state.settings.issuer(),
            &row.worker_name,
            row.kind().label_es(),
            Some(&answer),
            None,
        );
        tell(&mut tx, &row, "answered", content, now).await?;
        tx.commit().await?;
        Ok(DataRequestOk::Ok(Json(
            fetch(&state, &row.id).await?.view(now),
        )))
    }
}
