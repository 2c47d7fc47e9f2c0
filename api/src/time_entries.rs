//! Time tracking (issue 4): entries, the timer, offline sync and timesheets.
//!
//! Every write runs in one transaction whose first statement locks the worker's row (a no-op
//! UPDATE; on SQLite the write transaction is exclusive anyway), so a worker's requests take
//! turns: the overlap and cap checks see every entry committed before them, and simultaneous
//! entries can never together break a rule. The assignment's row is locked the same way next,
//! so a submission cannot slip in between the check and the insert. The rules themselves are
//! pure, in `vereda_contracts::timesheet`.
//!
//! A running timer holds all the worker's time from its start on. It stops itself where
//! `Logbook::timer_limit` says (the task's cap, the daily limit, the claim's expiry): every
//! request that touches the worker's time first settles it, recording the entry it would have
//! made had it stopped on time.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde::Deserialize;
use sqlx::AssertSqlSafe;
use vereda_contracts::csvfile::{self, Cell};
use vereda_contracts::identity::Role;
use vereda_contracts::marketplace::{AssignmentStatus, free_text};
use vereda_contracts::offline::{Earlier, Intake, Rejection, Verdict};
use vereda_contracts::time;
use vereda_contracts::timesheet::{
    self, Closed, Entry, FUTURE_SKEW_SECS, Logbook, Rules, Span, StopReason, TimerLimit, Violation,
};
use vereda_store::db::Tx;
use vereda_store::{on_db, on_tx};

use crate::ApiTags;
use crate::accounts::new_id;
use crate::auth::{BearerAuth, Principal};
use crate::body::JsonBody;
use crate::pagination::PageRequest;
use crate::problem::{ApiError, retrying};
use crate::startup::AppState;

/// Most entries one offline batch may carry.
pub const MAX_SYNC_ENTRIES: usize = 500;
/// Longest note on an entry, in characters.
const MAX_NOTE_CHARS: usize = 1000;
/// Longest client id, in characters.
const MAX_CLIENT_ID_CHARS: usize = 100;
/// Longest timesheet, in days.
const MAX_TIMESHEET_DAYS: i64 = 366;

// ---------------------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------------------

/// Time logged on an assignment.
#[derive(Debug, Clone, Object)]
pub struct TimeEntry {
    pub id: String,
    pub assignment_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub seconds: i64,
    /// `timer`, `manual` or `offline`; an entry whose times were edited by hand is `manual`.
    pub source: String,
    #[oai(skip_serializing_if_is_none)]
    pub note: Option<String>,
    /// The id the worker's device gave the entry (offline sync).
    #[oai(skip_serializing_if_is_none)]
    pub client_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub deleted_at: Option<DateTime<Utc>>,
    /// The entry as it was before each edit or deletion, oldest first.
    pub history: Vec<EntryRevision>,
}

/// An earlier version of an entry, and the change that replaced it.
#[derive(Debug, Clone, Object)]
pub struct EntryRevision {
    /// When it was changed.
    pub at: DateTime<Utc>,
    /// `updated` or `deleted`.
    pub action: String,
    pub actor_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub seconds: i64,
    pub source: String,
    #[oai(skip_serializing_if_is_none)]
    pub note: Option<String>,
}

#[derive(Debug, Object)]
pub struct TimeEntryList {
    /// Newest logged first.
    pub items: Vec<TimeEntry>,
    /// All live time on the assignment, whatever the page.
    pub logged_seconds: i64,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct NewTimeEntry {
    /// RFC 3339; kept to the second, in UTC.
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    /// At most 1000 characters; line breaks and tabs are the only control characters allowed.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct TimeEntryChange {
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    /// An empty note removes it. At most 1000 characters; line breaks and tabs are the only
    /// control characters allowed.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct SyncBatch {
    /// At most 500.
    pub entries: Vec<SyncEntry>,
}

/// One entry recorded offline. Times and source are checked entry by entry, so a bad one is
/// rejected on its own instead of failing the batch.
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct SyncEntry {
    /// The device's id for the entry, unique per worker (1–100 characters): an entry already
    /// uploaded under it is a `duplicate`.
    pub client_id: String,
    pub assignment_id: String,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub ended_at: String,
    /// What the device says recorded it (`offline`, `timer` or `manual`). Not believed: every
    /// entry uploaded here is stored as `offline`, so the reviewer sees how it was recorded.
    #[serde(default)]
    pub source: Option<String>,
    /// At most 1000 characters; line breaks and tabs are the only control characters allowed.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Stored now.
    Accepted,
    /// Stored before under this client id; nothing changed.
    Duplicate,
    /// Not stored; `code` and `message` say why.
    Rejected,
}

#[derive(Debug, Object)]
pub struct SyncResult {
    pub client_id: String,
    pub status: SyncStatus,
    /// The stored entry (accepted or duplicate).
    #[oai(skip_serializing_if_is_none)]
    pub entry_id: Option<String>,
    /// The rule broken, e.g. `entry_overlaps` (rejected).
    #[oai(skip_serializing_if_is_none)]
    pub code: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub message: Option<String>,
    /// Why, as a Spanish sentence for the worker (rejected; see the problem's `detail_es`).
    #[oai(skip_serializing_if_is_none)]
    pub detail_es: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub field: Option<String>,
}

#[derive(Debug, Object)]
pub struct SyncReport {
    /// One per entry sent, in the same order.
    pub results: Vec<SyncResult>,
    pub accepted: i64,
    pub duplicates: i64,
    pub rejected: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum TimerStopReason {
    /// The worker stopped it.
    Stopped,
    /// The assignment reached the task's cap of hours.
    TaskCap,
    /// The worker reached the daily limit.
    DailyLimit,
    /// The claim ran out.
    ClaimExpiry,
    /// Another entry begins there.
    NextEntry,
    /// The assignment stopped taking time (submitted, released, expired…); nothing recorded.
    AssignmentClosed,
}

impl From<StopReason> for TimerStopReason {
    fn from(r: StopReason) -> Self {
        match r {
            StopReason::TaskCap => TimerStopReason::TaskCap,
            StopReason::DailyLimit => TimerStopReason::DailyLimit,
            StopReason::ClaimExpiry => TimerStopReason::ClaimExpiry,
            StopReason::NextEntry => TimerStopReason::NextEntry,
        }
    }
}

#[derive(Debug, Object)]
pub struct RunningTimer {
    pub assignment_id: String,
    pub started_at: DateTime<Utc>,
    pub elapsed_seconds: i64,
    /// Where it stops itself unless stopped before.
    pub stops_at: DateTime<Utc>,
    /// What stops it there.
    pub stop_reason: TimerStopReason,
}

#[derive(Debug, Object)]
pub struct StoppedTimer {
    pub assignment_id: String,
    pub started_at: DateTime<Utc>,
    pub stopped_at: DateTime<Utc>,
    pub reason: TimerStopReason,
    /// The time entry it recorded (none when it ran less than a second or its assignment
    /// closed).
    #[oai(skip_serializing_if_is_none)]
    pub entry: Option<TimeEntry>,
}

#[derive(Debug, Object)]
pub struct TimerStatus {
    #[oai(skip_serializing_if_is_none)]
    pub running: Option<RunningTimer>,
    /// Set when the timer had reached its limit and this read stopped it.
    #[oai(skip_serializing_if_is_none)]
    pub stopped: Option<StoppedTimer>,
}

#[derive(Debug, Object)]
pub struct Timesheet {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total_seconds: i64,
    /// Days with time logged, in order (Bogotá calendar).
    pub days: Vec<TimesheetDay>,
    /// Each assignment's time within the period.
    pub assignments: Vec<AssignmentTime>,
}

#[derive(Debug, Object)]
pub struct TimesheetDay {
    pub date: NaiveDate,
    pub total_seconds: i64,
    pub assignments: Vec<DayAssignmentTime>,
}

#[derive(Debug, Object)]
pub struct DayAssignmentTime {
    pub assignment_id: String,
    pub task_title: String,
    pub seconds: i64,
}

#[derive(Debug, Object)]
pub struct AssignmentTime {
    pub assignment_id: String,
    pub task_id: String,
    pub task_title: String,
    pub status: String,
    pub seconds: i64,
}

#[derive(Debug, Object)]
pub struct TaskTime {
    pub task_id: String,
    pub total_seconds: i64,
    pub assignments: Vec<TaskAssignmentTime>,
}

#[derive(Debug, Object)]
pub struct TaskAssignmentTime {
    pub assignment_id: String,
    pub worker_id: String,
    pub status: String,
    pub logged_seconds: i64,
    pub entries: i64,
}

#[derive(ApiResponse)]
pub enum EntryCreated {
    #[oai(status = 201)]
    Created(Json<TimeEntry>),
}

#[derive(ApiResponse)]
pub enum EntryOk {
    #[oai(status = 200)]
    Ok(Json<TimeEntry>),
}

#[derive(ApiResponse)]
pub enum EntryDeleted {
    #[oai(status = 204)]
    Deleted,
}

#[derive(ApiResponse)]
pub enum EntryListOk {
    #[oai(status = 200)]
    Ok(Json<TimeEntryList>),
}

#[derive(ApiResponse)]
pub enum SyncOk {
    #[oai(status = 200)]
    Ok(Json<SyncReport>),
}

#[derive(ApiResponse)]
pub enum TimerStarted {
    #[oai(status = 201)]
    Started(Json<RunningTimer>),
}

#[derive(ApiResponse)]
pub enum TimerStoppedOk {
    #[oai(status = 200)]
    Ok(Json<StoppedTimer>),
}

#[derive(ApiResponse)]
pub enum TimerStatusOk {
    #[oai(status = 200)]
    Ok(Json<TimerStatus>),
}

#[derive(ApiResponse)]
pub enum TimesheetOk {
    #[oai(status = 200)]
    Ok(Json<Timesheet>),
}

#[derive(ApiResponse)]
pub enum TimesheetCsv {
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Csv(
        PlainText<String>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

#[derive(ApiResponse)]
pub enum TaskTimeOk {
    #[oai(status = 200)]
    Ok(Json<TaskTime>),
}

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: String,
    assignment_id: String,
    started_at: i64,
    ended_at: i64,
    seconds: i64,
    source: String,
    client_id: Option<String>,
    note: Option<String>,
    created_at: i64,
    updated_at: i64,
    deleted_at: Option<i64>,
}

const ENTRY_COLUMNS: &str = "id, assignment_id, started_at, ended_at, seconds, source, \
     client_id, note, created_at, updated_at, deleted_at";

impl EntryRow {
    fn span(&self) -> Span {
        Span::new(self.started_at, self.ended_at)
    }

    fn view(self, history: Vec<EntryRevision>) -> TimeEntry {
        let t = time::from_unix;
        TimeEntry {
            id: self.id,
            assignment_id: self.assignment_id,
            started_at: t(self.started_at),
            ended_at: t(self.ended_at),
            seconds: self.seconds,
            source: self.source,
            note: self.note,
            client_id: self.client_id,
            created_at: t(self.created_at),
            updated_at: t(self.updated_at),
            deleted_at: self.deleted_at.map(t),
            history,
        }
    }
}

#[derive(sqlx::FromRow)]
struct RevisionRow {
    entry_id: String,
    action: String,
    at: i64,
    actor_id: String,
    started_at: i64,
    ended_at: i64,
    seconds: i64,
    source: String,
    note: Option<String>,
}

/// Every revision of an assignment's entries, oldest first.
const ASSIGNMENT_REVISIONS: &str = "SELECT r.entry_id, r.action, r.at, r.actor_id, r.started_at, \
     r.ended_at, r.seconds, r.source, r.note FROM time_entry_revisions r \
     JOIN time_entries e ON e.id = r.entry_id WHERE e.assignment_id = $1 ORDER BY r.at, r.id";

impl RevisionRow {
    fn view(self) -> EntryRevision {
        let t = time::from_unix;
        EntryRevision {
            at: t(self.at),
            action: self.action,
            actor_id: self.actor_id,
            started_at: t(self.started_at),
            ended_at: t(self.ended_at),
            seconds: self.seconds,
            source: self.source,
            note: self.note,
        }
    }
}

/// An assignment as time tracking sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Target {
    id: String,
    worker_id: String,
    company_id: String,
    status: String,
    expires_at: i64,
    /// The task's cap on the assignment's time (hourly tasks; none for fixed prices).
    max_seconds: Option<i64>,
}

const TARGET: &str = "SELECT a.id, a.worker_id, a.company_id, a.status, a.expires_at, \
     t.max_seconds FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE a.id = $1";

impl Target {
    fn is_active(&self) -> bool {
        AssignmentStatus::parse(&self.status).is_some_and(AssignmentStatus::is_active)
    }

    /// Time can be logged on it: the worker is still on it and the claim has not run out.
    fn open(&self, now: i64) -> Result<(), Closed> {
        timesheet::open_for_time(&self.status, self.expires_at, now)
    }

    fn check_open(&self, now: i64) -> Result<(), ApiError> {
        self.open(now).map_err(|c| closed(&c))
    }

    /// Its entries can still be changed; otherwise they are locked (409).
    fn check_editable(&self, now: i64) -> Result<(), ApiError> {
        self.check_open(now).map_err(|e| {
            ApiError::conflict(
                "entry_locked",
                format!("This entry can no longer be changed. {}", e.detail),
            )
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct TimerRow {
    assignment_id: String,
    started_at: i64,
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn worker_of(who: &Principal) -> Result<&str, ApiError> {
    who.require(&[Role::Worker])?;
    who.worker_id
        .as_deref()
        .ok_or_else(|| ApiError::internal("worker without profile"))
}

fn rules(state: &AppState, now: i64) -> Rules {
    Rules {
        now,
        window_secs: state.settings.entry_window_days * 86_400,
        daily_limit_secs: state.settings.daily_limit_hours * 3600,
    }
}

/// The answer for a broken rule: 409 for a clash with time already logged, 422 otherwise;
/// either way with the rule's own code and the field at fault.
fn refused(v: &Violation) -> ApiError {
    let mut e = if v.is_conflict() {
        ApiError::conflict(v.code(), v.to_string())
    } else {
        ApiError::rule(v.code(), None, v.to_string())
    };
    e.field = Some(v.field().to_string());
    e.detail_es = Some(v.es().into());
    e
}

/// The answer for an assignment that takes no time now (409).
fn closed(c: &Closed) -> ApiError {
    ApiError::conflict(c.code(), c.to_string())
}

/// The answer for an uploaded entry that is not stored.
fn rejection(r: &Rejection) -> ApiError {
    match r {
        Rejection::UnknownAssignment => ApiError::not_found("assignment"),
        Rejection::Closed(c) => closed(c),
        Rejection::Broke(v) => refused(v),
    }
}

/// A note as typed (none when blank): no control characters but line breaks and tabs.
fn clean_note(field: &str, note: Option<&str>) -> Result<Option<String>, ApiError> {
    free_text(note, MAX_NOTE_CHARS).map_err(|e| ApiError::invalid(field, e.to_string()))
}

/// Lock the worker's row: their time-tracking writes take turns from here to the commit.
async fn lock_worker(tx: &mut Tx, worker_id: &str) -> Result<(), ApiError> {
    vereda_store::locks::worker(tx, worker_id).await?;
    Ok(())
}

/// Lock an assignment's row and read it, so its state cannot change until the commit.
async fn lock_target(tx: &mut Tx, id: &str) -> Result<Option<Target>, ApiError> {
    vereda_store::locks::assignment(tx, id).await?;
    Ok(on_tx!(tx, |c| sqlx::query_as(TARGET)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// The worker's own assignment, locked; 404 if it is someone else's or none.
async fn own_target(tx: &mut Tx, worker_id: &str, id: &str) -> Result<Target, ApiError> {
    lock_target(tx, id)
        .await?
        .filter(|t| t.worker_id == worker_id)
        .ok_or_else(|| ApiError::not_found("assignment"))
}

/// The assignment if the caller may see its time: its worker, its task's company, staff.
async fn visible_target(state: &AppState, who: &Principal, id: &str) -> Result<Target, ApiError> {
    let target: Option<Target> = on_db!(&state.db, |p| sqlx::query_as(TARGET)
        .bind(id)
        .fetch_optional(p)
        .await)?;
    target
        .filter(|t| match who.role {
            Role::Admin | Role::Finance => true,
            Role::Company => who.company_id.as_deref() == Some(t.company_id.as_str()),
            Role::Worker => who.worker_id.as_deref() == Some(t.worker_id.as_str()),
            Role::Funder => false,
        })
        .ok_or_else(|| ApiError::not_found("assignment"))
}

/// What a check of `spans` on `assignments` needs from the worker's live entries (see
/// [`vereda_store::logbook::logbook`], which the claim-expiry sweep uses too).
async fn logbook(
    tx: &mut Tx,
    worker_id: &str,
    assignments: &[&str],
    spans: &[Span],
    except: Option<&str>,
) -> Result<Logbook, ApiError> {
    Ok(vereda_store::logbook::logbook(tx, worker_id, assignments, spans, except).await?)
}

/// What a new entry is checked against: the logbook, with the worker's running timer.
async fn logbook_with_timer(
    tx: &mut Tx,
    worker_id: &str,
    assignments: &[&str],
    spans: &[Span],
    except: Option<&str>,
    timer: Option<&TimerRow>,
    now: i64,
) -> Result<Logbook, ApiError> {
    let book = logbook(tx, worker_id, assignments, spans, except).await?;
    Ok(match timer {
        Some(t) => book.with_timer(&t.assignment_id, t.started_at, now),
        None => book,
    })
}

/// Check a span of new or moved time on the worker's `target` against every rule: on its own
/// first, then against the worker's other entries (all but `except`) and running `timer`.
async fn check_candidate(
    tx: &mut Tx,
    worker_id: &str,
    target: &Target,
    span: Span,
    except: Option<&str>,
    timer: Option<&TimerRow>,
    rules: &Rules,
) -> Result<(), ApiError> {
    rules.check_span(span).map_err(|v| refused(&v))?;
    let book = logbook_with_timer(
        tx,
        worker_id,
        &[&target.id],
        &[span],
        except,
        timer,
        rules.now,
    )
    .await?;
    let candidate = Entry {
        assignment_id: target.id.clone(),
        span,
    };
    book.check(&candidate, target.max_seconds, rules)
        .map_err(|v| refused(&v))
}

struct NewEntry<'a> {
    assignment_id: &'a str,
    worker_id: &'a str,
    span: Span,
    source: &'a str,
    client_id: Option<&'a str>,
    note: Option<&'a str>,
    at: i64,
}

/// Store an entry; None when the worker already has one under its client id.
async fn insert_entry(tx: &mut Tx, e: &NewEntry<'_>) -> Result<Option<EntryRow>, ApiError> {
    let sql = format!(
        "INSERT INTO time_entries (id, assignment_id, worker_id, started_at, ended_at, seconds, \
         source, client_id, note, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
         ON CONFLICT (worker_id, client_id) WHERE client_id IS NOT NULL DO NOTHING \
         RETURNING {ENTRY_COLUMNS}"
    );
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(new_id())
        .bind(e.assignment_id)
        .bind(e.worker_id)
        .bind(e.span.start)
        .bind(e.span.end)
        .bind(e.span.seconds())
        .bind(e.source)
        .bind(e.client_id)
        .bind(e.note)
        .bind(e.at)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Rows per multi-row statement in a sync (10 parameters each, well under both databases'
/// parameter limits).
const CHUNK: usize = 250;

/// Store the accepted entries of a sync batch in multi-row inserts. The worker is locked and
/// the batch's client ids were checked, so a conflict means a bug: it fails the batch.
async fn insert_entries(
    tx: &mut Tx,
    rows: &[NewEntry<'_>],
    ids: &[String],
) -> Result<(), ApiError> {
    for (chunk, ids) in rows.chunks(CHUNK).zip(ids.chunks(CHUNK)) {
        let values = (0..chunk.len())
            .map(|i| {
                let b = i * 10;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9,
                    b + 10,
                    b + 10
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO time_entries (id, assignment_id, worker_id, started_at, ended_at, seconds, \
             source, client_id, note, created_at, updated_at) VALUES {values} \
             ON CONFLICT (worker_id, client_id) WHERE client_id IS NOT NULL DO NOTHING"
        );
        let stored = on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql.as_str()));
            for (e, id) in chunk.iter().zip(ids) {
                q = q
                    .bind(id.as_str())
                    .bind(e.assignment_id)
                    .bind(e.worker_id)
                    .bind(e.span.start)
                    .bind(e.span.end)
                    .bind(e.span.seconds())
                    .bind(e.source)
                    .bind(e.client_id)
                    .bind(e.note)
                    .bind(e.at);
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })?;
        if stored != chunk.len() as u64 {
            return Err(ApiError::internal("client id taken inside a locked batch"));
        }
    }
    Ok(())
}

/// Write an entry's new times, source and note.
async fn store_edit(
    tx: &mut Tx,
    entry_id: &str,
    edit: &timesheet::Edit<'_>,
    note: Option<&str>,
    now: i64,
) -> Result<(), ApiError> {
    vereda_store::exec_one!(
        tx,
        sqlx::query(
            "UPDATE time_entries SET started_at = $1, ended_at = $2, seconds = $3, source = $4, \
         note = $5, updated_at = $6 WHERE id = $7"
        )
        .bind(edit.span.start)
        .bind(edit.span.end)
        .bind(edit.span.seconds())
        .bind(edit.source)
        .bind(note)
        .bind(now)
        .bind(entry_id)
    )?;
    Ok(())
}

async fn own_entry(tx: &mut Tx, worker_id: &str, id: &str) -> Result<EntryRow, ApiError> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM time_entries \
         WHERE id = $1 AND worker_id = $2 AND deleted_at IS NULL"
    );
    let row: Option<EntryRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(id)
        .bind(worker_id)
        .fetch_optional(&mut *c)
        .await)?;
    row.ok_or_else(|| ApiError::not_found("time entry"))
}

/// Keep the entry as it is now in its history, before it changes.
async fn record_revision(
    tx: &mut Tx,
    entry: &EntryRow,
    action: &str,
    actor_id: &str,
    at: i64,
) -> Result<(), ApiError> {
    vereda_store::exec_one!(
        tx,
        sqlx::query(
            "INSERT INTO time_entry_revisions (id, entry_id, action, at, actor_id, started_at, \
         ended_at, seconds, source, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        )
        .bind(new_id())
        .bind(&entry.id)
        .bind(action)
        .bind(at)
        .bind(actor_id)
        .bind(entry.started_at)
        .bind(entry.ended_at)
        .bind(entry.seconds)
        .bind(&entry.source)
        .bind(entry.note.as_deref())
    )?;
    Ok(())
}

async fn revisions(tx: &mut Tx, entry_id: &str) -> Result<Vec<EntryRevision>, ApiError> {
    let rows: Vec<RevisionRow> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT entry_id, action, at, actor_id, started_at, ended_at, seconds, source, note \
         FROM time_entry_revisions WHERE entry_id = $1 ORDER BY at, id"
    )
    .bind(entry_id)
    .fetch_all(&mut *c)
    .await)?;
    Ok(rows.into_iter().map(RevisionRow::view).collect())
}

// ---------------------------------------------------------------------------------------------
// The timer
// ---------------------------------------------------------------------------------------------

enum TimerState {
    Idle,
    Running { timer: TimerRow, limit: TimerLimit },
    Stopped(Box<StoppedTimer>),
}

async fn running_timer(tx: &mut Tx, worker_id: &str) -> Result<Option<TimerRow>, ApiError> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT assignment_id, started_at FROM running_timers WHERE worker_id = $1"
    )
    .bind(worker_id)
    .fetch_optional(&mut *c)
    .await)?)
}

/// Where the timer must stop, given everything else logged.
async fn timer_limit(
    tx: &mut Tx,
    worker_id: &str,
    timer: &TimerRow,
    target: &Target,
    rules: &Rules,
) -> Result<TimerLimit, ApiError> {
    let until = rules.now.max(timer.started_at) + FUTURE_SKEW_SECS;
    let book = logbook(
        tx,
        worker_id,
        &[&target.id],
        &[Span::new(timer.started_at, until)],
        None,
    )
    .await?;
    Ok(book.timer_limit(
        &target.id,
        timer.started_at,
        target.max_seconds,
        rules.daily_limit_secs,
        target.expires_at,
    ))
}

/// Bring the worker's timer up to date: one past its limit is stopped where it should have
/// stopped itself, and one on an assignment that no longer takes time is dropped. Runs after
/// [`lock_worker`].
async fn settle_timer(tx: &mut Tx, worker_id: &str, rules: &Rules) -> Result<TimerState, ApiError> {
    let Some(timer) = running_timer(tx, worker_id).await? else {
        return Ok(TimerState::Idle);
    };
    let target = lock_target(tx, &timer.assignment_id)
        .await?
        .ok_or_else(|| ApiError::internal("timer on a missing assignment"))?;
    if !target.is_active() {
        let stopped = finish_timer(
            tx,
            worker_id,
            &timer,
            timer.started_at,
            TimerStopReason::AssignmentClosed,
            rules.now,
        )
        .await?;
        return Ok(TimerState::Stopped(Box::new(stopped)));
    }
    let limit = timer_limit(tx, worker_id, &timer, &target, rules).await?;
    if limit.at <= rules.now {
        let stopped = finish_timer(
            tx,
            worker_id,
            &timer,
            limit.at,
            limit.reason.into(),
            rules.now,
        )
        .await?;
        return Ok(TimerState::Stopped(Box::new(stopped)));
    }
    Ok(TimerState::Running { timer, limit })
}

/// Settle the worker's timer; the one still running afterwards, if any.
async fn settled_timer(
    tx: &mut Tx,
    worker_id: &str,
    rules: &Rules,
) -> Result<Option<TimerRow>, ApiError> {
    Ok(match settle_timer(tx, worker_id, rules).await? {
        TimerState::Running { timer, .. } => Some(timer),
        TimerState::Idle | TimerState::Stopped(_) => None,
    })
}

/// Stop the timer at `end`, recording its time as a `timer` entry (the limit it was checked
/// against keeps the entry within every rule).
async fn finish_timer(
    tx: &mut Tx,
    worker_id: &str,
    timer: &TimerRow,
    end: i64,
    reason: TimerStopReason,
    now: i64,
) -> Result<StoppedTimer, ApiError> {
    vereda_store::exec!(
        tx,
        sqlx::query("DELETE FROM running_timers WHERE worker_id = $1").bind(worker_id)
    )?;
    let entry = if end > timer.started_at {
        let new = NewEntry {
            assignment_id: &timer.assignment_id,
            worker_id,
            span: Span::new(timer.started_at, end),
            source: "timer",
            client_id: None,
            note: None,
            at: now,
        };
        insert_entry(tx, &new)
            .await?
            .map(|row| row.view(Vec::new()))
    } else {
        None
    };
    Ok(StoppedTimer {
        assignment_id: timer.assignment_id.clone(),
        started_at: time::from_unix(timer.started_at),
        stopped_at: time::from_unix(end.max(timer.started_at)),
        reason,
        entry,
    })
}

fn running_view(timer: &TimerRow, limit: &TimerLimit, now: i64) -> RunningTimer {
    RunningTimer {
        assignment_id: timer.assignment_id.clone(),
        started_at: time::from_unix(timer.started_at),
        elapsed_seconds: (now - timer.started_at).max(0),
        stops_at: time::from_unix(limit.at),
        stop_reason: limit.reason.into(),
    }
}

/// Why a timer cannot start now.
fn cannot_start(reason: StopReason, rules: &Rules) -> ApiError {
    match reason {
        StopReason::TaskCap => ApiError::rule(
            "over_task_cap",
            None,
            "The assignment already has all the time the task allows.",
        ),
        StopReason::DailyLimit => ApiError::rule(
            "over_daily_limit",
            None,
            format!(
                "You have logged today's limit of {} hours.",
                rules.daily_limit_secs / 3600
            ),
        ),
        StopReason::ClaimExpiry => {
            ApiError::conflict("claim_expired", "The claim on this assignment has run out.")
        }
        StopReason::NextEntry => ApiError::conflict(
            "entry_overlaps",
            "One of your time entries covers the present moment.",
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Offline sync
// ---------------------------------------------------------------------------------------------

fn parse_instant(field: &str, raw: &str) -> Result<i64, ApiError> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.timestamp())
        .map_err(|_| {
            ApiError::invalid(
                field,
                "is not an RFC 3339 time such as 2026-03-02T14:05:00Z",
            )
        })
}

/// An entry of a batch, its fields parsed.
struct Candidate {
    span: Span,
    note: Option<String>,
}

fn parse_candidate(e: &SyncEntry) -> Result<Candidate, ApiError> {
    // The device's own word is checked (a value outside these is a bug worth hearing of) but
    // not believed: the entry is stored as `offline`.
    if let Some(source) = e.source.as_deref()
        && !matches!(source, "offline" | "timer" | "manual")
    {
        return Err(ApiError::invalid(
            "source",
            "must be offline, timer or manual",
        ));
    }
    Ok(Candidate {
        span: Span::new(
            parse_instant("started_at", &e.started_at)?,
            parse_instant("ended_at", &e.ended_at)?,
        ),
        note: clean_note("note", e.note.as_deref())?,
    })
}

fn check_client_id(id: &str) -> Result<(), ApiError> {
    let n = id.chars().count();
    if id.trim().is_empty() || n > MAX_CLIENT_ID_CHARS || id.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "client_id",
            format!("must be 1 to {MAX_CLIENT_ID_CHARS} printable characters"),
        ));
    }
    Ok(())
}

fn rejected(client_id: &str, e: ApiError) -> SyncResult {
    SyncResult {
        client_id: client_id.to_string(),
        status: SyncStatus::Rejected,
        entry_id: None,
        code: Some(e.code.to_string()),
        detail_es: Some(crate::problem_es::detail_es(&e)),
        message: Some(e.detail),
        field: e.field,
    }
}

fn stored(client_id: &str, status: SyncStatus, entry_id: String) -> SyncResult {
    SyncResult {
        client_id: client_id.to_string(),
        status,
        entry_id: Some(entry_id),
        code: None,
        message: None,
        detail_es: None,
        field: None,
    }
}

/// Which of `named` are assignments of `worker_id`, read without locking anything.
async fn own_assignments(
    state: &AppState,
    worker_id: &str,
    named: &BTreeSet<&str>,
) -> Result<BTreeSet<String>, ApiError> {
    let named: Vec<&str> = named.iter().copied().collect();
    let mut own = BTreeSet::new();
    for chunk in named.chunks(CHUNK) {
        let marks = (0..chunk.len())
            .map(|i| format!("${}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT id FROM assignments WHERE worker_id = $1 AND id IN ({marks})");
        let found: Vec<String> = on_db!(&state.db, |p| {
            let mut q = sqlx::query_scalar(AssertSqlSafe(sql.as_str())).bind(worker_id);
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(p).await
        })?;
        own.extend(found);
    }
    Ok(own)
}

/// Lock each of the worker's own named assignments once, in id order (`own` is sorted), and
/// say whether it takes time now. One that turned out not to be hers is left out.
async fn lock_named<'a>(
    tx: &mut Tx,
    worker_id: &str,
    own: &'a BTreeSet<String>,
    now: i64,
) -> Result<BTreeMap<&'a str, Result<Target, Closed>>, ApiError> {
    let mut targets = BTreeMap::new();
    for id in own {
        match own_target(tx, worker_id, id).await {
            Ok(t) => {
                let open = t.open(now).map(|()| t);
                targets.insert(id.as_str(), open);
            }
            Err(err) if err.status.is_server_error() => return Err(err),
            Err(_) => {}
        }
    }
    Ok(targets)
}

/// The entries already stored under any of `client_ids`: client id and entry id.
async fn stored_client_ids(
    tx: &mut Tx,
    worker_id: &str,
    client_ids: &[&str],
) -> Result<Vec<(String, String)>, ApiError> {
    let mut stored = Vec::new();
    for chunk in client_ids.chunks(CHUNK) {
        let marks = (0..chunk.len())
            .map(|i| format!("${}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT client_id, id FROM time_entries WHERE worker_id = $1 AND client_id IN ({marks})"
        );
        let found: Vec<(String, String)> = on_tx!(tx, |conn| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(worker_id);
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(&mut *conn).await
        })?;
        stored.extend(found);
    }
    Ok(stored)
}

/// One try of a sync batch, in its own transaction: lock the worker, settle the timer, lock
/// the worker's own named assignments in id order, then decide entry by entry
/// ([`Intake::offer`]) and store the accepted ones.
async fn sync_once(
    state: &AppState,
    worker_id: &str,
    batch: &[SyncEntry],
    parsed: &[Result<Candidate, ApiError>],
    own: &BTreeSet<String>,
    rules: Rules,
) -> Result<Vec<SyncResult>, ApiError> {
    let now = rules.now;
    let mut tx = state.db.begin().await?;
    lock_worker(&mut tx, worker_id).await?;
    let timer = settled_timer(&mut tx, worker_id, &rules).await?;
    let targets = lock_named(&mut tx, worker_id, own, now).await?;
    let open: Vec<&str> = targets
        .iter()
        .filter(|(_, t)| t.is_ok())
        .map(|(a, _)| *a)
        .collect();
    let spans: Vec<Span> = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok())
        .map(|c| c.span)
        .filter(|s| rules.check_span(*s).is_ok())
        .collect();
    let book =
        logbook_with_timer(&mut tx, worker_id, &open, &spans, None, timer.as_ref(), now).await?;
    // The worker is locked, so no entry can appear under these client ids meanwhile.
    let asked: Vec<&str> = batch
        .iter()
        .zip(parsed)
        .filter(|(_, p)| p.is_ok())
        .map(|(e, _)| e.client_id.as_str())
        .collect();
    let stored = stored_client_ids(&mut tx, worker_id, &asked).await?;
    let intake = Intake::new(book, rules, stored);
    let decided = decide_batch(batch, parsed, &targets, intake, worker_id, now)?;
    insert_entries(&mut tx, &decided.fresh, &decided.fresh_ids).await?;
    tx.commit().await?;
    Ok(decided.results)
}

/// A sync batch decided: each entry's result, and the entries to store with their ids.
struct Decided<'a> {
    results: Vec<SyncResult>,
    fresh: Vec<NewEntry<'a>>,
    fresh_ids: Vec<String>,
}

/// Decide a batch's entries in order ([`Intake::offer`]): an entry that did not parse is
/// rejected as it stands; the others by the rules.
fn decide_batch<'a>(
    batch: &'a [SyncEntry],
    parsed: &'a [Result<Candidate, ApiError>],
    targets: &BTreeMap<&str, Result<Target, Closed>>,
    mut intake: Intake,
    worker_id: &'a str,
    now: i64,
) -> Result<Decided<'a>, ApiError> {
    let mut out = Decided {
        results: Vec::with_capacity(batch.len()),
        fresh: Vec::new(),
        fresh_ids: Vec::new(),
    };
    for (e, p) in batch.iter().zip(parsed) {
        let c = match p {
            Ok(c) => c,
            Err(err) => {
                out.results.push(rejected(&e.client_id, err.clone()));
                continue;
            }
        };
        let target = targets
            .get(e.assignment_id.as_str())
            .map(|t| t.as_ref().map(|t| t.max_seconds));
        let result = match intake.offer(&e.client_id, &e.assignment_id, target, c.span) {
            Verdict::Accepted(_) => {
                let entry_id = new_id();
                out.fresh.push(offline_entry(e, c, worker_id, now));
                out.fresh_ids.push(entry_id.clone());
                stored(&e.client_id, SyncStatus::Accepted, entry_id)
            }
            Verdict::Duplicate(Earlier::Stored(id)) => {
                stored(&e.client_id, SyncStatus::Duplicate, id)
            }
            Verdict::Duplicate(Earlier::Accepted(n)) => {
                let id = out.fresh_ids.get(n).cloned();
                let id = id.ok_or_else(|| ApiError::internal("lost entry"))?;
                stored(&e.client_id, SyncStatus::Duplicate, id)
            }
            Verdict::Rejected(r) => rejected(&e.client_id, rejection(&r)),
        };
        out.results.push(result);
    }
    Ok(out)
}

/// An accepted uploaded entry as stored. Time uploaded from a device was recorded offline,
/// whatever the device says: a `timer` or `manual` claim would hide from the reviewer how it
/// was recorded.
fn offline_entry<'a>(
    e: &'a SyncEntry,
    c: &'a Candidate,
    worker_id: &'a str,
    now: i64,
) -> NewEntry<'a> {
    NewEntry {
        assignment_id: &e.assignment_id,
        worker_id,
        span: c.span,
        source: "offline",
        client_id: Some(&e.client_id),
        note: c.note.as_deref(),
        at: now,
    }
}

// ---------------------------------------------------------------------------------------------
// Timesheets
// ---------------------------------------------------------------------------------------------

/// The caller's days `from..=to` (default: this Bogotá month so far), checked.
fn period(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let today = timesheet::bogota_day(time::unix(time::now()));
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| to.with_day(1).unwrap_or(to));
    if from > to {
        return Err(ApiError::invalid("from", "must not be after to"));
    }
    if (to - from).num_days() >= MAX_TIMESHEET_DAYS {
        return Err(ApiError::invalid(
            "to",
            format!("a timesheet covers at most {MAX_TIMESHEET_DAYS} days"),
        ));
    }
    Ok((from, to))
}

#[derive(sqlx::FromRow)]
struct SheetRow {
    assignment_id: String,
    started_at: i64,
    ended_at: i64,
    task_id: String,
    title: String,
    status: String,
}

async fn build_timesheet(
    state: &AppState,
    worker_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Timesheet, ApiError> {
    let rows = sheet_rows(state, worker_id, from, to).await?;
    let mut about: HashMap<String, (String, String, String)> = HashMap::new();
    let mut entries = Vec::with_capacity(rows.len());
    for r in rows {
        about
            .entry(r.assignment_id.clone())
            .or_insert((r.task_id, r.title, r.status));
        entries.push(Entry {
            assignment_id: r.assignment_id,
            span: Span::new(r.started_at, r.ended_at),
        });
    }
    let sheet = timesheet::sheet(&entries, from, to);
    let title = |a: &str| about.get(a).map(|x| x.1.clone()).unwrap_or_default();
    let days = sheet
        .days
        .into_iter()
        .map(|d| TimesheetDay {
            date: d.date,
            total_seconds: d.total_seconds,
            assignments: d
                .assignments
                .into_iter()
                .map(|(assignment_id, seconds)| DayAssignmentTime {
                    task_title: title(&assignment_id),
                    assignment_id,
                    seconds,
                })
                .collect(),
        })
        .collect();
    let assignments = sheet
        .per_assignment
        .into_iter()
        .map(|(assignment_id, seconds)| {
            let (task_id, task_title, status) =
                about.get(&assignment_id).cloned().unwrap_or_default();
            AssignmentTime {
                assignment_id,
                task_id,
                task_title,
                status,
                seconds,
            }
        })
        .collect();
    Ok(Timesheet {
        from,
        to,
        total_seconds: sheet.total_seconds,
        days,
        assignments,
    })
}

/// The worker's live entries touching the days `from..=to`, with their tasks.
async fn sheet_rows(
    state: &AppState,
    worker_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<SheetRow>, ApiError> {
    Ok(on_db!(&state.db, |p| {
        sqlx::query_as(
            "SELECT e.assignment_id, e.started_at, e.ended_at, a.task_id, t.title, a.status \
             FROM time_entries e JOIN assignments a ON a.id = e.assignment_id \
             JOIN tasks t ON t.id = a.task_id \
             WHERE e.worker_id = $1 AND e.deleted_at IS NULL \
             AND e.started_at < $3 AND e.ended_at > $2",
        )
        .bind(worker_id)
        .bind(timesheet::day_start(from))
        .bind(timesheet::day_end(to))
        .fetch_all(p)
        .await
    })?)
}

/// The timesheet as CSV, through the one writer every export uses (task titles defused).
fn timesheet_csv(sheet: &Timesheet) -> String {
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for day in &sheet.days {
        for a in &day.assignments {
            rows.push(vec![
                Cell::text(day.date.to_string()),
                Cell::text(a.task_title.as_str()),
                Cell::text(a.assignment_id.as_str()),
                Cell::from(a.seconds),
                Cell::text(timesheet::hms(a.seconds)),
            ]);
        }
    }
    rows.push(vec![
        Cell::text("Total"),
        Cell::empty(),
        Cell::empty(),
        Cell::from(sheet.total_seconds),
        Cell::text(timesheet::hms(sheet.total_seconds)),
    ]);
    csvfile::write(
        &["fecha", "tarea", "asignacion", "segundos", "duracion"],
        rows,
    )
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

pub struct TimeEntriesApi;

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::TimeTracking")]
impl TimeEntriesApi {
    /// Log time by hand (worker)
    ///
    /// Refused, with the rule's code, when the entry ends before it starts
    /// (`end_not_after_start`), lies in the future (`entry_in_future`, two minutes of skew
    /// allowed), starts before the window (`entry_too_old`), overlaps other time of the worker
    /// (`entry_overlaps`, 409), takes the assignment past the task's cap (`over_task_cap`) or
    /// the worker's day past the daily limit (`over_daily_limit`), or when the assignment is
    /// not claimed or changes-requested (`assignment_not_active`, `claim_expired`, 409).
    #[oai(path = "/assignments/:id/time-entries", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<NewTimeEntry>,
    ) -> Result<EntryCreated, ApiError> {
        let who = &auth.0;
        let worker_id = worker_of(who)?;
        let req = body.0;
        let note = clean_note("note", req.note.as_deref())?;
        let span = Span::new(time::unix(req.started_at), time::unix(req.ended_at));
        let now = time::unix(time::now());
        let rules = rules(&state, now);

        let mut tx = state.db.begin().await?;
        lock_worker(&mut tx, worker_id).await?;
        let target = own_target(&mut tx, worker_id, &id.0).await?;
        target.check_open(now)?;
        let timer = settled_timer(&mut tx, worker_id, &rules).await?;
        check_candidate(
            &mut tx,
            worker_id,
            &target,
            span,
            None,
            timer.as_ref(),
            &rules,
        )
        .await?;
        let new = NewEntry {
            assignment_id: &target.id,
            worker_id,
            span,
            source: "manual",
            client_id: None,
            note: note.as_deref(),
            at: now,
        };
        let row = insert_entry(&mut tx, &new)
            .await?
            .ok_or_else(|| ApiError::internal("entry without client id conflicted"))?;
        tx.commit().await?;
        Ok(EntryCreated::Created(Json(row.view(Vec::new()))))
    }

    /// List an assignment's time (its worker, the task's company, staff)
    ///
    /// With `logged_seconds`, the assignment's live total. `include_deleted=true` also lists
    /// deleted entries (with `deleted_at`); every entry carries its edit history.
    #[oai(path = "/assignments/:id/time-entries", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
        include_deleted: Query<Option<bool>>,
    ) -> Result<EntryListOk, ApiError> {
        let target = visible_target(&state, &auth.0, &id.0).await?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM time_entries WHERE assignment_id = $1 \
             AND ($2 OR deleted_at IS NULL) AND id < $3 ORDER BY id DESC LIMIT $4"
        );
        let rows: Vec<EntryRow> =
            on_db!(&state.db, |p| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(&target.id)
                .bind(include_deleted.0.unwrap_or(false))
                .bind(page.before())
                .bind(page.fetch())
                .fetch_all(p)
                .await)?;
        let logged_seconds: i64 = on_db!(&state.db, |p| sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(seconds), 0) AS BIGINT) FROM time_entries \
             WHERE assignment_id = $1 AND deleted_at IS NULL"
        )
        .bind(&target.id)
        .fetch_one(p)
        .await)?;
        let revisions: Vec<RevisionRow> =
            on_db!(&state.db, |p| sqlx::query_as(ASSIGNMENT_REVISIONS)
                .bind(&target.id)
                .fetch_all(p)
                .await)?;
        let mut history: HashMap<String, Vec<EntryRevision>> = HashMap::new();
        for r in revisions {
            history
                .entry(r.entry_id.clone())
                .or_default()
                .push(r.view());
        }
        let (rows, next_cursor) = page.finish(rows, |r| &r.id);
        let items = rows
            .into_iter()
            .map(|r| {
                let h = history.remove(&r.id).unwrap_or_default();
                r.view(h)
            })
            .collect();
        Ok(EntryListOk::Ok(Json(TimeEntryList {
            items,
            logged_seconds,
            next_cursor,
        })))
    }

    /// Change an entry (worker)
    ///
    /// Only while its assignment is claimed or changes-requested (otherwise `entry_locked`,
    /// 409). New times must keep every rule of a new entry; an entry whose times change by
    /// hand becomes `manual`. The entry as it was is kept in its history.
    #[oai(path = "/time-entries/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<TimeEntryChange>,
    ) -> Result<EntryOk, ApiError> {
        let who = &auth.0;
        let worker_id = worker_of(who)?;
        let req = body.0;
        if req.started_at.is_none() && req.ended_at.is_none() && req.note.is_none() {
            return Err(ApiError::invalid(
                "",
                "send at least one of started_at, ended_at and note",
            ));
        }
        let now = time::unix(time::now());
        let rules = rules(&state, now);

        let mut tx = state.db.begin().await?;
        lock_worker(&mut tx, worker_id).await?;
        let entry = own_entry(&mut tx, worker_id, &id.0).await?;
        let target = own_target(&mut tx, worker_id, &entry.assignment_id).await?;
        target.check_editable(now)?;
        let timer = settled_timer(&mut tx, worker_id, &rules).await?;
        let started = req.started_at.map(time::unix);
        let edit = timesheet::edit(
            entry.span(),
            &entry.source,
            started,
            req.ended_at.map(time::unix),
        );
        if edit.moved {
            let (span, except) = (edit.span, Some(entry.id.as_str()));
            check_candidate(
                &mut tx,
                worker_id,
                &target,
                span,
                except,
                timer.as_ref(),
                &rules,
            )
            .await?;
        }
        let note = match req.note.as_deref() {
            Some(n) => clean_note("note", Some(n))?,
            None => entry.note.clone(),
        };
        record_revision(&mut tx, &entry, "updated", &who.user_id, now).await?;
        store_edit(&mut tx, &entry.id, &edit, note.as_deref(), now).await?;
        let row = own_entry(&mut tx, worker_id, &entry.id).await?;
        let history = revisions(&mut tx, &entry.id).await?;
        tx.commit().await?;
        Ok(EntryOk::Ok(Json(row.view(history))))
    }

    /// Delete an entry (worker)
    ///
    /// Only while its assignment is claimed or changes-requested (otherwise `entry_locked`,
    /// 409). The entry stays in the history, marked deleted.
    #[oai(path = "/time-entries/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<EntryDeleted, ApiError> {
        let who = &auth.0;
        let worker_id = worker_of(who)?;
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        lock_worker(&mut tx, worker_id).await?;
        let entry = own_entry(&mut tx, worker_id, &id.0).await?;
        let target = own_target(&mut tx, worker_id, &entry.assignment_id).await?;
        target.check_editable(now)?;
        record_revision(&mut tx, &entry, "deleted", &who.user_id, now).await?;
        vereda_store::exec_one!(
            &mut tx,
            sqlx::query("UPDATE time_entries SET deleted_at = $1, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&entry.id)
        )?;
        tx.commit().await?;
        Ok(EntryDeleted::Deleted)
    }

    /// Upload entries recorded offline (worker)
    ///
    /// Up to 500 entries, each answered `accepted`, `duplicate` (already uploaded under its
    /// `client_id`; nothing changes) or `rejected` with the rule's `code` and a message. Good
    /// entries are stored even when others are rejected; sending the same batch again, or
    /// several times at once, stores each entry once.
    #[oai(path = "/time-entries/sync", method = "post")]
    async fn sync(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<SyncBatch>,
    ) -> Result<SyncOk, ApiError> {
        let who = &auth.0;
        let worker_id = worker_of(who)?;
        let batch = body.0.entries;
        if batch.len() > MAX_SYNC_ENTRIES {
            return Err(ApiError::invalid(
                "entries",
                format!("a batch holds at most {MAX_SYNC_ENTRIES} entries"),
            ));
        }
        let now = time::unix(time::now());
        let rules = rules(&state, now);
        let parsed: Vec<Result<Candidate, ApiError>> = batch
            .iter()
            .map(|e| {
                check_client_id(&e.client_id)?;
                parse_candidate(e)
            })
            .collect();
        // Whose assignments the batch names, read without locks: only the caller's own are
        // locked below, so a batch naming someone else's can never hold up (or deadlock with)
        // that person's writes. Others' and unknown ones are refused entry by entry.
        let named: BTreeSet<&str> = batch
            .iter()
            .zip(&parsed)
            .filter(|(_, p)| p.is_ok())
            .map(|(e, _)| e.assignment_id.as_str())
            .collect();
        let own = own_assignments(&state, worker_id, &named).await?;
        // The locks come in one order (worker, then the caller's assignments by id), so two
        // syncs cannot deadlock; should PostgreSQL still abort one, it is tried again.
        let results =
            retrying(|| sync_once(&state, worker_id, &batch, &parsed, &own, rules)).await?;

        let count = |s: SyncStatus| results.iter().filter(|r| r.status == s).count() as i64;
        let report = SyncReport {
            accepted: count(SyncStatus::Accepted),
            duplicates: count(SyncStatus::Duplicate),
            rejected: count(SyncStatus::Rejected),
            results,
        };
        tracing::info!(
            accepted = report.accepted,
            duplicates = report.duplicates,
            rejected = report.rejected,
            "offline time synced"
        );
        Ok(SyncOk::Ok(Json(report)))
    }

    /// Start the timer on an assignment (worker)
    ///
    /// One timer per worker: another running answers 409 `timer_running`. It stops itself at
    /// the task's cap of hours, the daily limit or the claim's expiry, whichever comes first
    /// (`stops_at`).
    #[oai(path = "/assignments/:id/timer/start", method = "post")]
    async fn start_timer(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<TimerStarted, ApiError> {
        let who = &auth.0;
        let worker_id = worker_of(who)?;
        let now = time::unix(time::now());
        let rules = rules(&state, now);
        let mut tx = state.db.begin().await?;
        lock_worker(&mut tx, worker_id).await?;
        let target = own_target(&mut tx, worker_id, &id.0).await?;
        target.check_open(now)?;
        if let TimerState::Running { timer, .. } = settle_timer(&mut tx, worker_id, &rules).await? {
            return Err(ApiError::conflict(
                "timer_running",
                format!(
                    "Your timer is already running on assignment {}; stop it first.",
                    timer.assignment_id
                ),
            ));
        }
        let timer = TimerRow {
            assignment_id: target.id.clone(),
            started_at: now,
        };
        let limit = timer_limit(&mut tx, worker_id, &timer, &target, &rules).await?;
        if limit.at <= now {
            return Err(cannot_start(limit.reason, &rules));
        }
        vereda_store::exec_one!(&mut tx, sqlx::query(
            "INSERT INTO running_timers (worker_id, assignment_id, started_at) VALUES ($1, $2, $3)"
        )
        .bind(worker_id)
        .bind(&timer.assignment_id)
        .bind(timer.started_at))?;
        tx.commit().await?;
        Ok(TimerStarted::Started(Json(running_view(
            &timer, &limit, now,
        ))))
    }

    /// Stop the timer on an assignment (worker)
    ///
    /// Records the time as a `timer` entry, up to now or to where the timer stopped itself.
    /// No timer running on this assignment answers 409 `timer_not_running`.
    #[oai(path = "/assignments/:id/timer/stop", method = "post")]
    async fn stop_timer(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<TimerStoppedOk, ApiError> {
        let who = &auth.0;
        let worker_id = worker_of(who)?;
        let now = time::unix(time::now());
        let rules = rules(&state, now);
        let mut tx = state.db.begin().await?;
        lock_worker(&mut tx, worker_id).await?;
        let target = own_target(&mut tx, worker_id, &id.0).await?;
        let stopped = match settle_timer(&mut tx, worker_id, &rules).await? {
            TimerState::Stopped(s) if s.assignment_id == target.id => *s,
            TimerState::Running { timer, .. } if timer.assignment_id == target.id => {
                finish_timer(
                    &mut tx,
                    worker_id,
                    &timer,
                    now,
                    TimerStopReason::Stopped,
                    now,
                )
                .await?
            }
            _ => {
                return Err(ApiError::conflict(
                    "timer_not_running",
                    "No timer of yours is running on this assignment.",
                ));
            }
        };
        tx.commit().await?;
        Ok(TimerStoppedOk::Ok(Json(stopped)))
    }

    /// The caller's running timer (worker)
    ///
    /// A timer that has reached its limit is stopped by this read and shown under `stopped`.
    #[oai(path = "/me/timer", method = "get")]
    async fn my_timer(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<TimerStatusOk, ApiError> {
        let worker_id = worker_of(&auth.0)?;
        let idle = TimerStatus {
            running: None,
            stopped: None,
        };
        let any: Option<i64> = on_db!(&state.db, |p| sqlx::query_scalar(
            "SELECT started_at FROM running_timers WHERE worker_id = $1"
        )
        .bind(worker_id)
        .fetch_optional(p)
        .await)?;
        if any.is_none() {
            return Ok(TimerStatusOk::Ok(Json(idle)));
        }
        let now = time::unix(time::now());
        let rules = rules(&state, now);
        let mut tx = state.db.begin().await?;
        lock_worker(&mut tx, worker_id).await?;
        let status = match settle_timer(&mut tx, worker_id, &rules).await? {
            TimerState::Idle => idle,
            TimerState::Running { timer, limit } => TimerStatus {
                running: Some(running_view(&timer, &limit, now)),
                stopped: None,
            },
            TimerState::Stopped(s) => TimerStatus {
                running: None,
                stopped: Some(*s),
            },
        };
        tx.commit().await?;
        Ok(TimerStatusOk::Ok(Json(status)))
    }

    /// The caller's timesheet (worker)
    ///
    /// Time per Bogotá day and per assignment for the days `from` to `to` (YYYY-MM-DD,
    /// inclusive; by default this month so far), at most 366 days. An entry across midnight
    /// counts on each day for its part.
    #[oai(path = "/me/timesheet", method = "get")]
    async fn my_timesheet(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
    ) -> Result<TimesheetOk, ApiError> {
        let worker_id = worker_of(&auth.0)?;
        let (from, to) = period(from.0, to.0)?;
        let sheet = build_timesheet(&state, worker_id, from, to).await?;
        Ok(TimesheetOk::Ok(Json(sheet)))
    }

    /// The caller's timesheet as CSV (worker)
    ///
    /// One row per day and assignment (`fecha,tarea,asignacion,segundos,duracion`), then the
    /// total.
    #[oai(path = "/me/timesheet/csv", method = "get")]
    async fn my_timesheet_csv(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
    ) -> Result<TimesheetCsv, ApiError> {
        let worker_id = worker_of(&auth.0)?;
        let (from, to) = period(from.0, to.0)?;
        let sheet = build_timesheet(&state, worker_id, from, to).await?;
        Ok(TimesheetCsv::Csv(
            PlainText(timesheet_csv(&sheet)),
            format!("attachment; filename=\"hoja-de-tiempo-{from}-{to}.csv\""),
        ))
    }

    /// Time logged on a task, per assignment (its company, staff)
    #[oai(path = "/tasks/:id/time", method = "get")]
    async fn task_time(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<TaskTimeOk, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Company, Role::Admin, Role::Finance])?;
        let company: Option<String> = on_db!(&state.db, |p| sqlx::query_scalar(
            "SELECT company_id FROM tasks WHERE id = $1"
        )
        .bind(&id.0)
        .fetch_optional(p)
        .await)?;
        let visible = company.is_some_and(|c| {
            who.role != Role::Company || who.company_id.as_deref() == Some(c.as_str())
        });
        if !visible {
            return Err(ApiError::not_found("task"));
        }
        let rows: Vec<(String, String, String, i64, i64)> = on_db!(&state.db, |p| {
            sqlx::query_as(
                "SELECT a.id, a.worker_id, a.status, \
                 CAST(COALESCE(SUM(e.seconds), 0) AS BIGINT), COUNT(e.id) \
                 FROM assignments a LEFT JOIN time_entries e \
                 ON e.assignment_id = a.id AND e.deleted_at IS NULL \
                 WHERE a.task_id = $1 GROUP BY a.id, a.worker_id, a.status ORDER BY a.id",
            )
            .bind(&id.0)
            .fetch_all(p)
            .await
        })?;
        let assignments: Vec<TaskAssignmentTime> = rows
            .into_iter()
            .map(
                |(assignment_id, worker_id, status, logged_seconds, entries)| TaskAssignmentTime {
                    assignment_id,
                    worker_id,
                    status,
                    logged_seconds,
                    entries,
                },
            )
            .collect();
        Ok(TaskTimeOk::Ok(Json(TaskTime {
            task_id: id.0,
            total_seconds: assignments.iter().map(|a| a.logged_seconds).sum(),
            assignments,
        })))
    }
}
