//! Background jobs people start (billing runs, payout batches, bank confirmations, payments,
//! statement runs): one followed by id, and the list finance reads at month end. Where a job
//! stands comes from the queue's own table (`store::queue`); what it is about from
//! `job_requests`, written in the transaction that queued it.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use vereda_contracts::time;
use vereda_store::on_db;
use vereda_store::queue::{self, JobFilter, JobState, ListedJob};

use crate::ApiTags;
use crate::auth::BearerAuth;
use crate::pagination::PageRequest;
use crate::problem::ApiError;
use crate::startup::AppState;

/// The kinds of job people start (`job_requests.kind`).
const KINDS: [&str; 9] = [
    "billing_run",
    "payout_batch",
    "bank_confirmation",
    "payment",
    "payment_reversal",
    "credit_note",
    "statement_run",
    "certificate_run",
    "support_document_run",
];

#[derive(Debug, Object)]
pub struct Progress {
    pub done: i64,
    pub total: i64,
}

#[derive(Debug, Object)]
pub struct Job {
    pub id: String,
    /// `billing_run`, `payout_batch`, `bank_confirmation`, `payment`, `payment_reversal`,
    /// `credit_note`, `statement_run`, `certificate_run` or `support_document_run`.
    pub kind: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    #[oai(skip_serializing_if_is_none)]
    pub subject_id: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub progress: Option<Progress>,
    #[oai(skip_serializing_if_is_none)]
    pub result: Option<serde_json::Value>,
    #[oai(skip_serializing_if_is_none)]
    pub error: Option<String>,
    /// Who started it (in lists).
    #[oai(skip_serializing_if_is_none)]
    pub requested_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
pub enum JobOk {
    #[oai(status = 200)]
    Ok(Json<Job>),
}

#[derive(Debug, Object)]
pub struct JobList {
    pub items: Vec<Job>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum JobListOk {
    #[oai(status = 200)]
    Ok(Json<JobList>),
}

fn progress(done: Option<i64>, total: Option<i64>) -> Option<Progress> {
    match (done, total) {
        (Some(done), Some(total)) => Some(Progress { done, total }),
        _ => None,
    }
}

impl From<ListedJob> for Job {
    fn from(j: ListedJob) -> Job {
        let (result, error) = j.outcome();
        Job {
            id: j.job_id,
            kind: j.kind,
            status: j.state,
            subject_id: j.subject_id,
            progress: progress(j.progress_done, j.progress_total),
            result,
            error,
            requested_by_name: j.requested_by_name,
            created_at: time::from_unix(j.created_at),
        }
    }
}

pub struct JobsApi;

#[OpenApi(prefix_path = "/v1/jobs", tag = "ApiTags::Invoicing")]
impl JobsApi {
    /// Jobs started by people, newest first
    ///
    /// Finance and admin see everyone's; anyone else the jobs they started. Filter by `kind`
    /// (`billing_run`, `payout_batch`, `bank_confirmation`, `payment`, `payment_reversal`,
    /// `credit_note`, `statement_run`, `certificate_run`) and `status` (`queued`, `running`, `succeeded`,
    /// `failed`). Each shows its progress, its result or its last error. Scheduled runs that
    /// nobody started are not listed.
    #[oai(path = "/", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        kind: Query<Option<String>>,
        status: Query<Option<String>>,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
    ) -> Result<JobListOk, ApiError> {
        let who = &auth.0;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let kind = match kind.0.as_deref() {
            None => None,
            Some(k) if KINDS.contains(&k) => Some(k),
            Some(_) => {
                return Err(ApiError::invalid(
                    "kind",
                    format!("must be one of {}", KINDS.join(", ")),
                ));
            }
        };
        let status = status
            .0
            .as_deref()
            .map(|s| {
                JobState::parse(s).ok_or_else(|| {
                    ApiError::invalid("status", "must be queued, running, succeeded or failed")
                })
            })
            .transpose()?;
        let filter = JobFilter {
            kind,
            state: status,
            requested_by: (!who.is_staff()).then_some(who.user_id.as_str()),
            before: page.before(),
            limit: page.fetch(),
        };
        let rows = queue::list_jobs(&state.db, &filter)
            .await
            .map_err(ApiError::from_anyhow)?;
        let (rows, next_cursor) = page.finish(rows, |r| &r.job_id);
        Ok(JobListOk::Ok(Json(JobList {
            items: rows.into_iter().map(Job::from).collect(),
            next_cursor,
        })))
    }

    /// Follow a background job
    #[oai(path = "/:id", method = "get")]
    async fn job(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<JobOk, ApiError> {
        let who = &auth.0;
        #[derive(sqlx::FromRow)]
        struct Request {
            kind: String,
            requested_by: String,
            subject_id: Option<String>,
            progress_done: Option<i64>,
            progress_total: Option<i64>,
            created_at: i64,
            final_state: Option<String>,
            final_result: Option<String>,
        }
        let row: Option<Request> = on_db!(&state.db, |p| sqlx::query_as(
            "SELECT kind, requested_by, subject_id, progress_done, progress_total, created_at, \
             final_state, final_result FROM job_requests WHERE job_id = $1"
        )
        .bind(&id.0)
        .fetch_optional(p)
        .await)?;
        let Some(Request {
            kind,
            requested_by,
            subject_id,
            progress_done: done,
            progress_total: total,
            created_at,
            final_state,
            final_result,
        }) = row
        else {
            return Err(ApiError::not_found("job"));
        };
        if requested_by != who.user_id && !who.is_staff() {
            return Err(ApiError::not_found("job"));
        }
        let status = queue::job_status(&state.db, &id.0)
            .await
            .map_err(ApiError::from_anyhow)?;
        let (state_name, result, error) = match status {
            Some(s) => (s.state.as_str().to_string(), s.result, s.last_error),
            // Housekeeping pruned the queue's row and kept how it ended.
            None if final_state.is_some() => {
                let (result, error) = queue::split_result(final_result.as_deref());
                (final_state.unwrap_or_default(), result, error)
            }
            None => ("queued".to_string(), None, None),
        };
        Ok(JobOk::Ok(Json(Job {
            id: id.0,
            kind,
            status: state_name,
            subject_id,
            progress: progress(done, total),
            result,
            error,
            requested_by_name: None,
            created_at: time::from_unix(created_at),
        })))
    }
}
