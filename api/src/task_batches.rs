//! Task batches: a company posts many tasks at once from one template and one spreadsheet, sees
//! what they all cost before publishing, publishes or cancels them together, and downloads the
//! results as a spreadsheet. The file's rule (every row checked, a bad one refuses the whole
//! batch) is `contracts::batches`; the tasks are ordinary tasks (`tasks.rs`) that remember
//! their batch, line and values.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::{Deserialize, Serialize};
use vereda_contracts::batches::{self, Batch, Progress, TaskTally, Template};
use vereda_contracts::csvfile::{self, Cell};
use vereda_contracts::identity::{Name, Role};
use vereda_contracts::marketplace::{AssignmentStatus, TaskStatus};
use vereda_contracts::money::Cop;
use vereda_contracts::posting::{self, PayColumns, TaskPay};
use vereda_contracts::time;
use vereda_store::on_db;

use crate::ApiTags;
use crate::accounts::new_id;
use crate::auth::{BearerAuth, Principal};
use crate::body::JsonBody;
use crate::idempotency::IdempotencyKey;
use crate::pagination::PageRequest;
use crate::problem::{ApiError, ProblemItem};
use crate::startup::AppState;
use crate::tasks::{
    CreateTask, FromBatch, NewTask, insert_task, legal_minimum, posting_company, posting_refused,
    release_open_claims, slots_cost, store_cancellation,
};

/// A batch to create: the template (a task's terms, with `${column}` placeholders in title and
/// instructions) and the spreadsheet's text.
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct CreateBatch {
    pub template: CreateTask,
    /// The file's text: UTF-8, comma- or semicolon-separated, a header row naming the
    /// columns, then one row per task (at most 1000).
    pub csv: String,
}

/// What the whole batch costs the company, every slot of every task (pesos).
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct BatchCost {
    pub work: String,
    pub fee: String,
    pub vat: String,
    pub total: String,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct BatchProgress {
    /// Slots of open tasks nobody holds.
    pub open_slots: i64,
    /// Claimed, or sent back for changes.
    pub in_progress: i64,
    /// Delivered, waiting for the checks or the company.
    pub to_review: i64,
    pub approved: i64,
    pub rejected: i64,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct BatchInput {
    pub column: String,
    pub value: String,
}

/// One task as the file made it.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct BatchRow {
    /// The file's line (the header is line 1).
    pub line: i64,
    pub task_id: String,
    pub title: String,
    pub inputs: Vec<BatchInput>,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct TaskBatch {
    pub id: String,
    pub company_id: String,
    /// `draft`, `open` or `cancelled`.
    pub status: String,
    /// The template's title, placeholders unexpanded.
    pub title: String,
    pub task_count: i64,
    pub slots_per_task: i64,
    /// The file's columns, in its order.
    pub columns: Vec<String>,
    pub cost: BatchCost,
    pub progress: BatchProgress,
    /// The first tasks (up to 5), to check the template filled as meant.
    pub preview: Vec<BatchRow>,
    pub created_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub published_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub cancelled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Object)]
pub struct TaskBatchList {
    pub items: Vec<TaskBatch>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum BatchCreated {
    #[oai(status = 201)]
    Created(Json<TaskBatch>),
}

#[derive(ApiResponse)]
pub enum BatchOk {
    #[oai(status = 200)]
    Ok(Json<TaskBatch>),
}

#[derive(ApiResponse)]
pub enum BatchListOk {
    #[oai(status = 200)]
    Ok(Json<TaskBatchList>),
}

#[derive(ApiResponse)]
pub enum ResultsCsv {
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Csv(
        PlainText<String>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

/// Tasks a batch shows to check the template filled as meant.
const PREVIEW_ROWS: usize = 5;

/// A template field's problem, named inside the request (`template.pricing.rate`).
fn in_template(mut e: ApiError) -> ApiError {
    if let Some(f) = e.field.take() {
        if e.detail.starts_with(&format!("{f}:")) {
            e.detail = format!("template.{}", e.detail);
        }
        e.field = Some(format!("template.{f}"));
    }
    e
}

/// A refused file as one problem: the file as a whole (`csv`), or every bad row and column.
fn batch_refused(refusal: Batch) -> ApiError {
    match refusal {
        Batch::Sheet(e) => {
            let field = if matches!(
                e,
                batches::SheetRefusal::UnknownPlaceholder(_)
                    | batches::SheetRefusal::UnclosedPlaceholder
            ) {
                "template"
            } else {
                "csv"
            };
            let mut problem = ApiError::rule(e.code(), Some(field), e.to_string());
            problem.detail_es = Some(capitalised(&e.to_string()).into());
            problem
        }
        Batch::Rows(rows) => {
            let items: Vec<ProblemItem> = rows
                .iter()
                .map(|r| ProblemItem {
                    line: r.line as u64,
                    column: r.column.clone(),
                    detail_es: r.es(),
                })
                .collect();
            let lines: std::collections::BTreeSet<usize> = rows.iter().map(|r| r.line).collect();
            let mut problem = ApiError::rule(
                "invalid_row",
                Some("csv"),
                format!(
                    "{} row(s) of the file are wrong; nothing was created.",
                    lines.len()
                ),
            );
            let mut es = format!(
                "El archivo tiene {} con errores; no se creó ninguna tarea. ",
                if lines.len() == 1 {
                    "1 fila".to_string()
                } else {
                    format!("{} filas", lines.len())
                }
            );
            es.push_str(
                &items
                    .iter()
                    .take(20)
                    .map(|i| i.detail_es.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            if items.len() > 20 {
                es.push_str(&format!(" Y {} errores más.", items.len() - 20));
            }
            problem.detail_es = Some(es.into());
            problem.errors = Some(Box::new(items));
            problem
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

#[derive(sqlx::FromRow)]
struct BatchHead {
    id: String,
    company_id: String,
    title: String,
    columns: String,
    task_count: i64,
    status: String,
    created_at: i64,
    published_at: Option<i64>,
    cancelled_at: Option<i64>,
    margin_bp: Option<i64>,
}

/// One batch's head, by id (a literal each, so tests/tests/queries.rs prepares them).
const HEAD_BY_ID: &str = "SELECT b.id, b.company_id, b.title, b.columns, b.task_count, b.status, \
     b.created_at, b.published_at, b.cancelled_at, \
     (SELECT c.margin_bp FROM companies c WHERE c.id = b.company_id) AS margin_bp \
     FROM task_batches b WHERE b.id = $1";

/// A page of heads: ids below $1, of company $2 (all when null), $3 rows, newest first.
const HEAD_PAGE: &str = "SELECT b.id, b.company_id, b.title, b.columns, b.task_count, b.status, \
     b.created_at, b.published_at, b.cancelled_at, \
     (SELECT c.margin_bp FROM companies c WHERE c.id = b.company_id) AS margin_bp \
     FROM task_batches b WHERE b.id < $1 AND ($2 IS NULL OR b.company_id = $2) \
     ORDER BY b.id DESC LIMIT $3";

#[derive(sqlx::FromRow)]
struct PreviewRow {
    id: String,
    title: String,
    #[sqlx(flatten)]
    pay: StoredPay,
    slots: i64,
    batch_line: Option<i64>,
    batch_inputs: Option<String>,
}

/// A task's pay as its columns store it (both batch reads need it).
#[derive(sqlx::FromRow)]
struct StoredPay {
    pricing_kind: String,
    rate_centavos: Option<i64>,
    max_seconds: Option<i64>,
    price_centavos: Option<i64>,
    estimated_seconds: Option<i64>,
}

impl StoredPay {
    fn pay(&self) -> TaskPay {
        TaskPay::from_columns(&PayColumns {
            kind: &self.pricing_kind,
            rate_centavos: self.rate_centavos,
            max_seconds: self.max_seconds,
            price_centavos: self.price_centavos,
            estimated_seconds: self.estimated_seconds,
        })
    }
}

#[derive(sqlx::FromRow)]
struct TallyRow {
    task_id: String,
    task_status: String,
    slots: i64,
    assignment_status: Option<String>,
    count: i64,
}

/// How far the batch's tasks have got: their assignments counted by status.
async fn progress_of(state: &AppState, batch_id: &str) -> Result<Progress, ApiError> {
    let tallies: Vec<TallyRow> = on_db!(&state.db, |p| {
        sqlx::query_as(
        "SELECT t.id AS task_id, t.status AS task_status, t.slots, a.status AS assignment_status, \
         COUNT(a.id) AS count FROM tasks t LEFT JOIN assignments a ON a.task_id = t.id \
         WHERE t.batch_id = $1 GROUP BY t.id, t.status, t.slots, a.status"
    )
    .bind(batch_id)
    .fetch_all(p)
    .await
    })?;
    let tallies: Vec<TaskTally> = tallies
        .into_iter()
        .map(|t| TaskTally {
            task_id: t.task_id,
            task_status: TaskStatus::parse(&t.task_status).unwrap_or(TaskStatus::Closed),
            slots: t.slots,
            assignment_status: t
                .assignment_status
                .as_deref()
                .and_then(AssignmentStatus::parse),
            count: t.count,
        })
        .collect();
    Ok(batches::progress(&tallies))
}

/// The batch as shown: its head, its first tasks, what it costs and how far it has got.
async fn batch_view(state: &AppState, head: BatchHead) -> Result<TaskBatch, ApiError> {
    let preview: Vec<PreviewRow> = on_db!(&state.db, |p| sqlx::query_as(
        "SELECT id, title, pricing_kind, rate_centavos, max_seconds, price_centavos, \
         estimated_seconds, slots, batch_line, batch_inputs FROM tasks WHERE batch_id = $1 \
         ORDER BY batch_line LIMIT 5"
    )
    .bind(&head.id)
    .fetch_all(p)
    .await)?;
    let progress = progress_of(state, &head.id).await?;
    let columns: Vec<String> = serde_json::from_str(&head.columns).map_err(ApiError::internal)?;
    let first = preview
        .first()
        .ok_or_else(|| ApiError::internal("a batch without tasks"))?;
    let cost = slots_cost(
        first.pay.pay(),
        first.slots * head.task_count,
        head.margin_bp,
        state,
    );
    let Progress {
        open_slots,
        in_progress,
        to_review,
        approved,
        rejected,
    } = progress;
    Ok(TaskBatch {
        slots_per_task: first.slots,
        cost: BatchCost {
            work: cost.work.to_string(),
            fee: cost.fee.to_string(),
            vat: cost.vat.to_string(),
            total: cost.total.to_string(),
        },
        progress: BatchProgress {
            open_slots,
            in_progress,
            to_review,
            approved,
            rejected,
        },
        preview: preview
            .into_iter()
            .map(|r| BatchRow {
                line: r.batch_line.unwrap_or_default(),
                inputs: columns
                    .iter()
                    .zip(row_values(r.batch_inputs.as_deref()))
                    .map(|(column, value)| BatchInput {
                        column: column.clone(),
                        value,
                    })
                    .collect(),
                task_id: r.id,
                title: r.title,
            })
            .collect(),
        columns,
        id: head.id,
        company_id: head.company_id,
        status: head.status,
        title: head.title,
        task_count: head.task_count,
        created_at: time::from_unix(head.created_at),
        published_at: head.published_at.map(time::from_unix),
        cancelled_at: head.cancelled_at.map(time::from_unix),
    })
}

/// A task's stored row values (a JSON array of strings).
fn row_values(stored: Option<&str>) -> Vec<String> {
    stored
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

/// The batch if the caller may see it: its company's members, or staff. Otherwise 404.
async fn visible_batch(state: &AppState, who: &Principal, id: &str) -> Result<BatchHead, ApiError> {
    who.require(&[Role::Company, Role::Admin, Role::Finance])?;
    let head: Option<BatchHead> = on_db!(&state.db, |p| sqlx::query_as(HEAD_BY_ID)
        .bind(id)
        .fetch_optional(p)
        .await)?;
    match head {
        Some(h) if who.is_staff() || who.company_id.as_deref() == Some(h.company_id.as_str()) => {
            Ok(h)
        }
        _ => Err(ApiError::not_found("task batch")),
    }
}

/// The batch for a change by its company's owner (403 for reviewers, 404 for others').
async fn owned_batch(state: &AppState, who: &Principal, id: &str) -> Result<BatchHead, ApiError> {
    posting_company(who)?;
    visible_batch(state, who, id).await
}

async fn respond(state: &AppState, who: &Principal, id: &str) -> Result<TaskBatch, ApiError> {
    let head = visible_batch(state, who, id).await?;
    batch_view(state, head).await
}

pub struct TaskBatchesApi;

#[OpenApi(prefix_path = "/v1/task-batches", tag = "ApiTags::Tasks")]
impl TaskBatchesApi {
    /// Post tasks from a template and a spreadsheet (company owner)
    ///
    /// Every row is checked before anything is created: any bad row refuses the whole batch
    /// (422 `invalid_row`, with `errors` naming each bad row and column in Spanish). The tasks
    /// are created as drafts; the answer shows what the whole batch costs. Send an
    /// `Idempotency-Key` to upload again safely: the same key answers the first response.
    #[oai(path = "/", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<CreateBatch>,
        /// Makes a re-upload harmless: the same key answers the first response again.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
    ) -> Result<BatchCreated, ApiError> {
        let who = &auth.0;
        let company_id = posting_company(who)?;
        let req = body.0;
        let key = IdempotencyKey::from_header(
            idempotency_key.0.as_deref(),
            "task_batch",
            format!("{:?}|{}", req.template, req.csv).as_bytes(),
        )?;
        if let Some(k) = &key
            && let Some((_, body)) = k.replay(&state, &who.user_id).await?
        {
            let b: TaskBatch = serde_json::from_str(&body).map_err(ApiError::internal)?;
            return Ok(BatchCreated::Created(Json(b)));
        }
        let (terms, sheet, rows) = parse_batch(&req, &state)?;
        let id = new_id();
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        tx.marketplace_changed();
        let posted = Posting {
            batch_id: &id,
            company_id: &company_id,
            user_id: &who.user_id,
            now,
        };
        let preview = store_batch(&mut tx, &posted, &terms, &sheet.columns, &rows).await?;
        // The answer is read inside the transaction, so it can be stored with the key.
        let answer = {
            let head: BatchHead = vereda_store::on_tx!(&mut tx, |c| sqlx::query_as(HEAD_BY_ID)
                .bind(&id)
                .fetch_one(&mut *c)
                .await)?;
            let cost = slots_cost(
                terms.pay,
                terms.slots * rows.len() as i64,
                head.margin_bp,
                &state,
            );
            created_view(head, preview, terms.slots, cost, &sheet.columns)
        };
        if let Some(k) = &key {
            let body = serde_json::to_string(&answer).map_err(ApiError::internal)?;
            k.store(&mut tx, &who.user_id, 201, &body).await?;
        }
        tx.commit().await?;
        tracing::info!(batch_id = %id, tasks = rows.len(), "task batch posted");
        Ok(BatchCreated::Created(Json(answer)))
    }

    /// List task batches
    ///
    /// A company's members see its batches; staff see all. Newest first.
    #[oai(path = "/", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
    ) -> Result<BatchListOk, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Company, Role::Admin, Role::Finance])?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let company = (who.role == Role::Company).then(|| who.company_id.clone());
        let heads: Vec<BatchHead> = on_db!(&state.db, |p| sqlx::query_as(HEAD_PAGE)
            .bind(page.before())
            .bind(company.flatten())
            .bind(page.fetch())
            .fetch_all(p)
            .await)?;
        let (heads, next_cursor) = page.finish(heads, |h| &h.id);
        let mut items = Vec::with_capacity(heads.len());
        for head in heads {
            items.push(batch_view(&state, head).await?);
        }
        Ok(BatchListOk::Ok(Json(TaskBatchList { items, next_cursor })))
    }

    /// Get a task batch
    #[oai(path = "/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<BatchOk, ApiError> {
        Ok(BatchOk::Ok(Json(respond(&state, &auth.0, &id.0).await?)))
    }

    /// Publish a batch (company owner)
    ///
    /// Every draft task of the batch opens at once; 409 `not_a_draft` when the batch was
    /// published or cancelled already.
    #[oai(path = "/:id/publish", method = "post")]
    async fn publish(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<BatchOk, ApiError> {
        let who = &auth.0;
        let head = owned_batch(&state, who, &id.0).await?;
        let first = batch_terms(&state, &head.id).await?;
        let now = time::unix(time::now());
        // The law may have changed since the batch was posted: today's minimum applies.
        let status = TaskStatus::parse(&head.status).unwrap_or(TaskStatus::Closed);
        posting::check_publication(
            status,
            first.pay.pay(),
            legal_minimum(&state)?,
            first.deadline,
            now,
        )
        .map_err(|e| posting_refused(e, &state))?;
        let mut tx = state.db.begin().await?;
        tx.marketplace_changed();
        let moved = vereda_store::exec!(
            &mut tx,
            sqlx::query(
                "UPDATE task_batches SET status = 'open', published_at = $1, updated_at = $1 \
                 WHERE id = $2 AND status = 'draft'"
            )
            .bind(now)
            .bind(&head.id)
        )?;
        if moved == 0 {
            let mut e = ApiError::conflict(
                "not_a_draft",
                "The batch was published or cancelled meanwhile.",
            );
            e.detail_es = Some("El lote ya se publicó o se canceló; no se cambió nada.".into());
            return Err(e);
        }
        vereda_store::exec!(
            &mut tx,
            sqlx::query(
                "UPDATE tasks SET status = 'open', published_at = $1, updated_at = $1 \
                 WHERE batch_id = $2 AND status = 'draft'"
            )
            .bind(now)
            .bind(&head.id)
        )?;
        tx.commit().await?;
        tracing::info!(batch_id = %head.id, "task batch published");
        Ok(BatchOk::Ok(Json(respond(&state, who, &head.id).await?)))
    }

    /// Cancel a batch (company owner)
    ///
    /// Every draft or open task of the batch is cancelled and its open claims released; work
    /// already submitted is still reviewed and paid.
    #[oai(path = "/:id/cancel", method = "post")]
    async fn cancel(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<BatchOk, ApiError> {
        let who = &auth.0;
        let head = owned_batch(&state, who, &id.0).await?;
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        tx.marketplace_changed();
        let moved = vereda_store::exec!(
            &mut tx,
            sqlx::query(
                "UPDATE task_batches SET status = 'cancelled', cancelled_at = $1, updated_at = $1 \
                 WHERE id = $2 AND status IN ('draft', 'open')"
            )
            .bind(now)
            .bind(&head.id)
        )?;
        if moved == 0 {
            return Err(ApiError::conflict(
                "already_cancelled",
                "The batch is cancelled already.",
            ));
        }
        let tasks: Vec<String> = vereda_store::on_tx!(&mut tx, |c| {
            sqlx::query_scalar(
            "SELECT id FROM tasks WHERE batch_id = $1 AND status IN ('draft', 'open') ORDER BY id"
        )
        .bind(&head.id)
        .fetch_all(&mut *c)
        .await
        })?;
        for task_id in &tasks {
            if store_cancellation(&mut tx, task_id, now).await? {
                release_open_claims(&mut tx, task_id, &who.user_id, now).await?;
            }
        }
        tx.commit().await?;
        tracing::info!(batch_id = %head.id, tasks = tasks.len(), "task batch cancelled");
        Ok(BatchOk::Ok(Json(respond(&state, who, &head.id).await?)))
    }

    /// The batch's results as a spreadsheet
    ///
    /// One row per assignment (and one for each task nobody took): the row's values as
    /// `Input.<column>`, then the task, the assignment, its status, the deliverable link, the
    /// worker's notes, seconds worked and approved, the reviewer's reason and the amount
    /// earned. Cells a spreadsheet would run as a formula are defused.
    #[oai(path = "/:id/results.csv", method = "get")]
    async fn results(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<ResultsCsv, ApiError> {
        let head = visible_batch(&state, &auth.0, &id.0).await?;
        let columns: Vec<String> =
            serde_json::from_str(&head.columns).map_err(ApiError::internal)?;
        let rows: Vec<ResultRow> = on_db!(&state.db, |p| {
            sqlx::query_as(
            "SELECT t.id AS task_id, t.batch_inputs, a.id AS assignment_id, a.status, \
             a.deliverable_url, a.notes, a.approved_seconds, a.reason, \
             (SELECT CAST(COALESCE(SUM(e.seconds), 0) AS BIGINT) FROM time_entries e \
              WHERE e.assignment_id = a.id AND e.deleted_at IS NULL) AS worked_seconds, \
             (SELECT CAST(SUM(r.work) AS BIGINT) FROM accruals r WHERE r.assignment_id = a.id) AS work \
             FROM tasks t LEFT JOIN assignments a ON a.task_id = t.id \
             WHERE t.batch_id = $1 ORDER BY t.batch_line, a.claimed_at, a.id"
        )
        .bind(&head.id)
        .fetch_all(p)
        .await
        })?;
        let mut header: Vec<String> = columns.iter().map(|c| format!("Input.{c}")).collect();
        header.extend(RESULT_COLUMNS.iter().map(|c| c.to_string()));
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let width = columns.len();
        let out = csvfile::write(&header, rows.into_iter().map(|r| r.cells(width)));
        Ok(ResultsCsv::Csv(
            PlainText(out),
            format!("attachment; filename=\"resultados-lote-{}.csv\"", head.id),
        ))
    }
}

/// The columns after the inputs, in Spanish like the other files a company downloads.
const RESULT_COLUMNS: [&str; 10] = [
    "tarea",
    "asignacion",
    "estado",
    "enlace_entregable",
    "notas",
    "segundos_trabajados",
    "segundos_aprobados",
    "motivo",
    "valor",
    "estado_codigo",
];

#[derive(sqlx::FromRow)]
struct ResultRow {
    task_id: String,
    batch_inputs: Option<String>,
    assignment_id: Option<String>,
    status: Option<String>,
    deliverable_url: Option<String>,
    notes: Option<String>,
    approved_seconds: Option<i64>,
    reason: Option<String>,
    worked_seconds: Option<i64>,
    work: Option<i64>,
}

impl ResultRow {
    fn cells(self, width: usize) -> Vec<Cell> {
        let mut values = row_values(self.batch_inputs.as_deref());
        values.resize(width, String::new());
        let mut cells: Vec<Cell> = values.into_iter().map(Cell::from).collect();
        let status = self.status.as_deref().and_then(AssignmentStatus::parse);
        let taken = self.assignment_id.is_some();
        let opt_text = |s: Option<String>| s.map_or_else(Cell::empty, Cell::from);
        cells.extend([
            Cell::from(self.task_id),
            opt_text(self.assignment_id),
            Cell::text(status.map_or("sin tomar", AssignmentStatus::es)),
            opt_text(self.deliverable_url),
            opt_text(self.notes),
            if taken {
                Cell::from(self.worked_seconds.unwrap_or(0))
            } else {
                Cell::empty()
            },
            self.approved_seconds.map_or_else(Cell::empty, Cell::from),
            opt_text(self.reason),
            self.work
                .map_or_else(Cell::empty, |w| Cell::from(Cop::from_centavos(w))),
            Cell::text(status.map_or("unclaimed", AssignmentStatus::as_str)),
        ]);
        cells
    }
}

/// The template's terms, the file, and every task it makes; any fault refused whole.
fn parse_batch(
    req: &CreateBatch,
    state: &AppState,
) -> Result<(NewTask, batches::Sheet, Vec<batches::BatchTask>), ApiError> {
    let terms = NewTask::parse(&req.template, state).map_err(in_template)?;
    let sheet = batches::read_sheet(&req.csv).map_err(|e| batch_refused(Batch::Sheet(e)))?;
    let template = Template {
        title: terms.title.as_str().to_string(),
        instructions: terms.instructions.clone(),
    };
    let rows = batches::check_batch(&template, &sheet).map_err(batch_refused)?;
    if rows.is_empty() {
        return Err(batch_refused(Batch::Sheet(batches::SheetRefusal::Empty)));
    }
    Ok((terms, sheet, rows))
}

/// Who posts a batch, and when.
struct Posting<'a> {
    batch_id: &'a str,
    company_id: &'a str,
    user_id: &'a str,
    now: i64,
}

/// Write the batch and one draft task per row, in the caller's transaction; the first rows
/// as the answer shows them.
async fn store_batch(
    tx: &mut vereda_store::db::Tx,
    posted: &Posting<'_>,
    terms: &NewTask,
    columns: &[String],
    rows: &[batches::BatchTask],
) -> Result<Vec<BatchRow>, ApiError> {
    let columns = serde_json::to_string(columns).map_err(ApiError::internal)?;
    vereda_store::exec_one!(
        tx,
        sqlx::query(
            "INSERT INTO task_batches (id, company_id, created_by, title, columns, task_count, \
             status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $7)"
        )
        .bind(posted.batch_id)
        .bind(posted.company_id)
        .bind(posted.user_id)
        .bind(terms.title.as_str())
        .bind(&columns)
        .bind(rows.len() as i64)
        .bind(posted.now)
    )?;
    let mut preview = Vec::new();
    for row in rows {
        let values: Vec<&str> = row.inputs.iter().map(|(_, v)| v.as_str()).collect();
        let inputs = serde_json::to_string(&values).map_err(ApiError::internal)?;
        let task = NewTask {
            title: Name::parse(&row.title).map_err(|e| ApiError::invalid("csv", e))?,
            instructions: row.instructions.clone(),
            ..terms.clone()
        };
        let from = FromBatch {
            batch_id: posted.batch_id,
            line: row.line as i64,
            inputs: &inputs,
        };
        let task_id = new_id();
        let (company, user) = (posted.company_id, posted.user_id);
        insert_task(tx, &task, &task_id, company, user, posted.now, Some(&from)).await?;
        if preview.len() < PREVIEW_ROWS {
            preview.push(BatchRow {
                line: row.line as i64,
                task_id,
                title: row.title.clone(),
                inputs: row
                    .inputs
                    .iter()
                    .map(|(column, value)| BatchInput {
                        column: column.clone(),
                        value: value.clone(),
                    })
                    .collect(),
            });
        }
    }
    Ok(preview)
}

/// The terms every task of the batch shares, from its first task.
async fn batch_terms(state: &AppState, batch_id: &str) -> Result<BatchTerms, ApiError> {
    Ok(on_db!(&state.db, |p| sqlx::query_as(
        "SELECT pricing_kind, rate_centavos, max_seconds, price_centavos, estimated_seconds, \
         deadline FROM tasks WHERE batch_id = $1 ORDER BY batch_line LIMIT 1"
    )
    .bind(batch_id)
    .fetch_one(p)
    .await)?)
}

#[derive(sqlx::FromRow)]
struct BatchTerms {
    #[sqlx(flatten)]
    pay: StoredPay,
    deadline: Option<i64>,
}

/// The answer to a new batch, from what was just written (nothing is claimed yet).
fn created_view(
    head: BatchHead,
    preview: Vec<BatchRow>,
    slots: i64,
    cost: vereda_contracts::money::SlotCost,
    columns: &[String],
) -> TaskBatch {
    TaskBatch {
        slots_per_task: slots,
        cost: BatchCost {
            work: cost.work.to_string(),
            fee: cost.fee.to_string(),
            vat: cost.vat.to_string(),
            total: cost.total.to_string(),
        },
        progress: BatchProgress {
            open_slots: 0,
            in_progress: 0,
            to_review: 0,
            approved: 0,
            rejected: 0,
        },
        preview,
        columns: columns.to_vec(),
        id: head.id,
        company_id: head.company_id,
        status: head.status,
        title: head.title,
        task_count: head.task_count,
        created_at: time::from_unix(head.created_at),
        published_at: None,
        cancelled_at: None,
    }
}
