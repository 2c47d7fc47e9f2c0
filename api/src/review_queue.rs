//! The reviewer's queue (issue 17 §3): a company's submissions waiting for a decision, oldest
//! submitted first (a queue, not a feed), each with what deciding needs in one answer — the
//! deliverable link, the worker's notes, the automatic checks' findings and the time entries —
//! so the screen draws its timeline without a request per item.
//!
//! Reviewers never see a worker's personal data: the queue names the worker by
//! `review::display_name` (first name and an initial) and by nothing else — no id, document,
//! phone, e-mail or municipality.
//!
//! Work still being checked automatically (`submitted`) is listed too, marked as such, so the
//! reviewer knows it is coming; it cannot be decided yet (409 `verification_pending`).

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use vereda_contracts::identity::Role;
use vereda_contracts::marketplace::Verdict;
use vereda_contracts::review::display_name;
use vereda_contracts::time;
use vereda_store::on_db;

use crate::ApiTags;
use crate::assignments::{FindingView, Findings};
use crate::auth::BearerAuth;
use crate::problem::ApiError;
use crate::startup::AppState;

/// Items per page unless `limit` says otherwise, and the most a page holds (each item carries
/// its time entries).
pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 50;

/// One stretch of time the worker logged.
#[derive(Debug, Clone, Object)]
pub struct QueueTimeEntry {
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub seconds: i64,
    /// timer, manual or offline.
    pub source: String,
    /// The worker's note on this stretch.
    #[oai(skip_serializing_if_is_none)]
    pub note: Option<String>,
}

/// A submission waiting for a decision.
#[derive(Debug, Clone, Object)]
pub struct QueueItem {
    pub assignment_id: String,
    pub task_id: String,
    pub task_title: String,
    /// hourly (fewer hours may be approved) or fixed.
    pub pricing_kind: String,
    pub company_id: String,
    /// The worker's first name and the initial of the last word of the name ("Luz T."):
    /// nothing else about the worker is shown to the company.
    pub worker_name: String,
    /// `verified`: waiting for a decision; `submitted`: still being checked automatically
    /// (it can be decided once verified).
    pub status: String,
    pub submitted_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub verified_at: Option<DateTime<Utc>>,
    /// Undecided by then, the work is approved automatically (set once verified).
    #[oai(skip_serializing_if_is_none)]
    pub review_due_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub deliverable_url: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub notes: Option<String>,
    /// Seconds logged when submitted.
    pub logged_seconds: i64,
    /// What the automatic checks found (empty lists before they ran).
    pub findings: Findings,
    /// The time entries, oldest first.
    pub time_entries: Vec<QueueTimeEntry>,
    /// The task's criteria; a send-back names those not met by index.
    pub rubric: Vec<String>,
    /// The task gives a rework round: until one was asked for (`rework_rounds` 0), the work
    /// can only be sent back for changes, unless it is not original.
    pub allows_changes: bool,
    /// Rework rounds already asked for on this assignment.
    pub rework_rounds: i64,
    /// The worker's record: her last 25 decided submissions (overturned and held rejections
    /// never count).
    pub worker_record: WorkerRecord,
}

/// What companies see of a worker's past: her last 25 decided submissions.
#[derive(Debug, Clone, Copy, Object, Default)]
pub struct WorkerRecord {
    pub approved: u32,
    pub changes_requested: u32,
    pub rejected: u32,
}

#[derive(Debug, Object)]
pub struct ReviewQueue {
    pub items: Vec<QueueItem>,
    /// Submissions ready for a decision (verified) in the whole queue, not just this page.
    pub waiting: i64,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum ReviewQueueOk {
    #[oai(status = 200)]
    Ok(Json<ReviewQueue>),
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: String,
    task_id: String,
    task_title: String,
    pricing_kind: String,
    company_id: String,
    worker_name: String,
    status: String,
    submitted_at: i64,
    verified_at: Option<i64>,
    review_due_at: Option<i64>,
    deliverable_url: Option<String>,
    notes: Option<String>,
    logged_seconds: Option<i64>,
    findings: Option<String>,
    worker_id: String,
    rubric: Option<String>,
    allows_changes: bool,
    rework_rounds: i64,
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    assignment_id: String,
    started_at: Option<i64>,
    ended_at: Option<i64>,
    seconds: Option<i64>,
    source: Option<String>,
    note: Option<String>,
}

/// One page of the queue: `$1` the company (NULL: every company), `$2`/`$3` the cursor
/// (submitted_at, id) of the last item seen, `$4` how many.
const PAGE: &str = "SELECT a.id, a.task_id, t.title AS task_title, t.pricing_kind, \
     a.company_id, u.name AS worker_name, a.status, a.submitted_at, a.verified_at, \
     a.review_due_at, a.deliverable_url, a.notes, a.logged_seconds, a.findings, a.worker_id, \
     t.rubric, t.allows_changes, (SELECT COUNT(*) FROM assignment_events e \
       WHERE e.assignment_id = a.id AND e.action = 'changes_requested' \
       AND e.actor_id IS NOT NULL) AS rework_rounds \
     FROM assignments a JOIN tasks t ON t.id = a.task_id \
     JOIN users u ON u.worker_id = a.worker_id \
     WHERE a.status IN ('submitted', 'verified') AND ($1 IS NULL OR a.company_id = $1) \
     AND (a.submitted_at > $2 OR (a.submitted_at = $2 AND a.id > $3)) \
     ORDER BY a.submitted_at, a.id LIMIT $4";

/// The time entries of the same page, one row per entry and one with NULLs for an item
/// without any, so the answer also says which items the page holds now: an item decided
/// between the two statements is left out rather than shown without its time.
const PAGE_ENTRIES: &str = "SELECT q.id AS assignment_id, e.started_at, e.ended_at, e.seconds, \
     e.source, e.note FROM (SELECT a.id, a.submitted_at FROM assignments a \
     WHERE a.status IN ('submitted', 'verified') AND ($1 IS NULL OR a.company_id = $1) \
     AND (a.submitted_at > $2 OR (a.submitted_at = $2 AND a.id > $3)) \
     ORDER BY a.submitted_at, a.id LIMIT $4) q \
     LEFT JOIN time_entries e ON e.assignment_id = q.id AND e.deleted_at IS NULL \
     ORDER BY q.submitted_at, q.id, e.started_at, e.id";

const WAITING: &str = "SELECT COUNT(*) FROM assignments \
     WHERE status = 'verified' AND ($1 IS NULL OR company_id = $1)";

/// Where a page starts: after the (submitted_at, assignment id) of the last item seen.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    submitted_at: i64,
    id: String,
}

impl Cursor {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}", self.submitted_at, self.id))
    }

    fn decode(raw: &str) -> Option<Cursor> {
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
        let (at, id) = text.split_once('.')?;
        uuid::Uuid::parse_str(id).ok()?;
        Some(Cursor {
            submitted_at: at.parse().ok()?,
            id: id.to_string(),
        })
    }

    /// Before every item: nothing was submitted at `i64::MIN`.
    fn start() -> Cursor {
        Cursor {
            submitted_at: i64::MIN,
            id: String::new(),
        }
    }
}

fn findings(raw: Option<&str>) -> Findings {
    let v = raw
        .and_then(|f| serde_json::from_str::<Verdict>(f).ok())
        .unwrap_or_default();
    let view = |list: Vec<vereda_contracts::marketplace::Finding>| {
        list.into_iter()
            .map(|f| FindingView {
                code: f.code,
                message: f.message,
            })
            .collect()
    };
    Findings {
        hard: view(v.hard),
        soft: view(v.soft),
    }
}

impl ItemRow {
    fn view(self, time_entries: Vec<QueueTimeEntry>, record: WorkerRecord) -> QueueItem {
        let t = time::from_unix;
        QueueItem {
            assignment_id: self.id,
            task_id: self.task_id,
            task_title: self.task_title,
            pricing_kind: self.pricing_kind,
            company_id: self.company_id,
            worker_name: display_name(&self.worker_name),
            status: self.status,
            submitted_at: t(self.submitted_at),
            verified_at: self.verified_at.map(t),
            review_due_at: self.review_due_at.map(t),
            deliverable_url: self.deliverable_url,
            notes: self.notes,
            logged_seconds: self.logged_seconds.unwrap_or(0),
            findings: findings(self.findings.as_deref()),
            time_entries,
            rubric: crate::tasks::rubric_list(self.rubric.as_deref()),
            allows_changes: self.allows_changes,
            rework_rounds: self.rework_rounds,
            worker_record: record,
        }
    }
}

/// Each item's entries by assignment id; an item the second statement no longer found in the
/// queue has no key.
fn entries_by_item(rows: Vec<EntryRow>) -> HashMap<String, Vec<QueueTimeEntry>> {
    let mut by_item: HashMap<String, Vec<QueueTimeEntry>> = HashMap::new();
    for r in rows {
        let list = by_item.entry(r.assignment_id).or_default();
        if let (Some(s), Some(e), Some(seconds), Some(source)) =
            (r.started_at, r.ended_at, r.seconds, r.source)
        {
            list.push(QueueTimeEntry {
                started_at: time::from_unix(s),
                ended_at: time::from_unix(e),
                seconds,
                source,
                note: r.note,
            });
        }
    }
    by_item
}

pub struct ReviewQueueApi;

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Assignments")]
impl ReviewQueueApi {
    /// The review queue (company owner or reviewer; staff)
    ///
    /// Submissions waiting for a decision, oldest submitted first, with the deliverable link,
    /// the worker's notes, the automatic checks' findings and the time entries. The worker is
    /// named by first name and initial only. A company's members see its queue; staff see
    /// every company's, or one with `company_id`. Decide with
    /// `POST /v1/assignments/{id}/review`.
    #[oai(path = "/review-queue", method = "get")]
    async fn queue(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// 1–50 items (default 20).
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Staff: only this company's queue. A company's members may name only their own.
        company_id: Query<Option<String>>,
    ) -> Result<ReviewQueueOk, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Company, Role::Admin, Role::Finance])?;
        let limit = limit.0.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match cursor.0.as_deref() {
            None | Some("") => Cursor::start(),
            Some(c) => Cursor::decode(c)
                .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor from this API"))?,
        };
        let company = match who.role {
            Role::Company => {
                let own = who
                    .company_id
                    .clone()
                    .ok_or_else(|| ApiError::internal("company member without company"))?;
                if company_id.0.as_deref().is_some_and(|c| c != own) {
                    return Err(ApiError::not_found("company"));
                }
                Some(own)
            }
            _ => company_id.0.filter(|c| !c.is_empty()),
        };
        let company = company.as_deref();
        let fetch = limit + 1;
        let rows: Vec<ItemRow> = on_db!(&state.db, |p| sqlx::query_as(PAGE)
            .bind(company)
            .bind(after.submitted_at)
            .bind(after.id.as_str())
            .bind(fetch)
            .fetch_all(p)
            .await)?;
        let entry_rows: Vec<EntryRow> = on_db!(&state.db, |p| sqlx::query_as(PAGE_ENTRIES)
            .bind(company)
            .bind(after.submitted_at)
            .bind(after.id.as_str())
            .bind(fetch)
            .fetch_all(p)
            .await)?;
        let waiting: i64 = on_db!(&state.db, |p| sqlx::query_scalar(WAITING)
            .bind(company)
            .fetch_one(p)
            .await)?;

        let more = rows.len() as i64 > limit;
        let mut rows = rows;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| {
                Cursor {
                    submitted_at: r.submitted_at,
                    id: r.id.clone(),
                }
                .encode()
            })
        } else {
            None
        };
        let mut entries = entries_by_item(entry_rows);
        let workers: Vec<&str> = rows.iter().map(|r| r.worker_id.as_str()).collect();
        let records = vereda_store::fair_work::worker_records(&state.db, &workers).await?;
        let items = rows
            .into_iter()
            .filter_map(|r| {
                let e = entries.remove(&r.id)?;
                let record = records
                    .get(&r.worker_id)
                    .map(|r| WorkerRecord {
                        approved: r.approved,
                        changes_requested: r.changes_requested,
                        rejected: r.rejected,
                    })
                    .unwrap_or_default();
                Some(r.view(e, record))
            })
            .collect();
        Ok(ReviewQueueOk::Ok(Json(ReviewQueue {
            items,
            waiting,
            next_cursor,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_nothing_else_passes_for_one() {
        let c = Cursor {
            submitted_at: 1_764_950_400,
            id: "0193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        for bad in [
            "",
            "!!",
            "MTIz",
            &URL_SAFE_NO_PAD.encode("x.0193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b"),
            &URL_SAFE_NO_PAD.encode("12.not-a-uuid"),
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_item_without_entries_is_kept_and_one_gone_from_the_page_is_not() {
        let rows = vec![
            EntryRow {
                assignment_id: "a".into(),
                started_at: None,
                ended_at: None,
                seconds: None,
                source: None,
                note: None,
            },
            EntryRow {
                assignment_id: "b".into(),
                started_at: Some(100),
                ended_at: Some(160),
                seconds: Some(60),
                source: Some("timer".into()),
                note: None,
            },
        ];
        let by = entries_by_item(rows);
        assert_eq!(by["a"].len(), 0);
        assert_eq!(by["b"][0].seconds, 60);
        assert!(!by.contains_key("c"));
    }
}
