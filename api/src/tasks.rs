//! Tasks: companies post, edit, publish and cancel IT micro-tasks; workers browse the open ones
//! they qualify for. Prices are refused below the legal hourly minimum, and each side sees its
//! own view of the money: the company what a slot costs it in full, the worker what it earns.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Union};
use serde::Deserialize;
use sqlx::AssertSqlSafe;
use vereda_contracts::identity::{MemberRole, Name, Role, Skill};
use vereda_contracts::marketplace::{AssignmentStatus, CATEGORIES, TaskStatus};
use vereda_contracts::money::{self, BelowMinimumWage, Cop, SlotCost};
use vereda_contracts::posting::{
    self, GrowingTerms, PayColumns, PostingRefusal, TaskPay, TermsChange, hours_text,
};
use vereda_contracts::time;
use vereda_store::db::{Dialect, Tx, marketplace_epoch};
use vereda_store::transitions::{Move, notify, transition};
use vereda_store::{on_db, on_tx};

use crate::ApiTags;
use crate::accounts::new_id;
use crate::auth::{BearerAuth, Principal};
use crate::body::{JsonBody, JsonBytes};
use crate::pagination::PageRequest;
use crate::problem::ApiError;
use crate::startup::AppState;
use crate::task_board::PageKey;

#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct HourlyPricing {
    /// Pesos per hour, whole pesos as a decimal string (`"18500"`).
    pub rate: String,
    /// Cap on paid hours per slot, a decimal string (`"10"`, `"2.5"`).
    pub max_hours: String,
}

#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct FixedPricing {
    /// Pesos for the whole slot (`"120000"`).
    pub price: String,
    /// Hours the work should take; with the price it must imply at least the legal hourly
    /// minimum.
    pub estimated_hours: String,
}

/// How a slot is paid.
#[derive(Debug, Clone, Union, Deserialize)]
#[oai(discriminator_name = "kind")]
#[serde(tag = "kind")]
pub enum Pricing {
    #[oai(mapping = "hourly")]
    #[serde(rename = "hourly")]
    Hourly(HourlyPricing),
    #[oai(mapping = "fixed")]
    #[serde(rename = "fixed")]
    Fixed(FixedPricing),
}

#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct Acceptance {
    /// The submission must carry an `https` link to the deliverable (default true).
    #[serde(default = "yes")]
    #[oai(default = "yes")]
    pub deliverable_url_required: bool,
    /// Minimum minutes logged on an hourly task (default 1).
    #[serde(default = "one")]
    #[oai(default = "one")]
    pub min_minutes: i64,
}

fn yes() -> bool {
    true
}
fn one() -> i64 {
    1
}

impl Default for Acceptance {
    fn default() -> Self {
        Acceptance {
            deliverable_url_required: true,
            min_minutes: 1,
        }
    }
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct CreateTask {
    pub title: String,
    pub instructions: String,
    /// support, data-entry, data-cleaning, labelling, qa-testing, content-moderation, other.
    pub category: String,
    #[serde(default)]
    #[oai(default)]
    pub required_skills: Vec<String>,
    pub pricing: Pricing,
    /// Workers who can each take one slot (1–1000).
    pub slots: i64,
    /// Minutes a worker has from claim to submission (10–43200).
    pub claim_minutes: i64,
    /// Colombian business days the company has to review a submission (1–30, default 3):
    /// unreviewed at the end of the last one, in Bogotá, the work is approved automatically.
    #[serde(default)]
    pub review_business_days: Option<i64>,
    /// Deprecated: hours to review (1–720), still accepted and rounded up to whole business
    /// days when `review_business_days` is left out.
    #[serde(default)]
    pub review_hours: Option<i64>,
    #[serde(default)]
    pub deadline: Option<DateTime<Utc>>,
    #[serde(default)]
    pub acceptance: Option<Acceptance>,
    /// Whether a submission gets a rework round before it can be rejected (default true).
    #[serde(default)]
    pub allows_changes: Option<bool>,
    /// Criteria the work is judged on (at most 12, each at most 300 characters); a decision
    /// sending work back names those not met.
    #[serde(default)]
    pub rubric: Option<Vec<String>>,
    /// Only workers whose last 25 decided submissions are at least this share approved
    /// (0–100) may claim; workers with no record yet always may.
    #[serde(default)]
    pub min_record_percent: Option<i64>,
    /// A paid qualification: approving the work grants the worker this skill.
    #[serde(default)]
    pub qualification_skill: Option<String>,
}

/// The fair-work terms of a task (issue 21) as asked, in creation or edit.
pub(crate) struct FairTermsInput<'a> {
    pub allows_changes: Option<bool>,
    pub rubric: Option<&'a [String]>,
    pub min_record_percent: Option<i64>,
    pub qualification_skill: Option<&'a str>,
}

macro_rules! fair_input {
    ($req:expr) => {
        FairTermsInput {
            allows_changes: $req.allows_changes,
            rubric: $req.rubric.as_deref(),
            min_record_percent: $req.min_record_percent,
            qualification_skill: $req.qualification_skill.as_deref(),
        }
    };
}

/// Changes to a task. A draft may change anything; an open task only in ways that cannot hurt
/// workers holding a claim (more slots, a later deadline, more pay, more hours).
#[derive(Debug, Object, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct UpdateTask {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub instructions: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub required_skills: Option<Vec<String>>,
    #[serde(default)]
    pub pricing: Option<Pricing>,
    #[serde(default)]
    pub slots: Option<i64>,
    #[serde(default)]
    pub claim_minutes: Option<i64>,
    #[serde(default)]
    pub review_business_days: Option<i64>,
    /// Deprecated: use `review_business_days`.
    #[serde(default)]
    pub review_hours: Option<i64>,
    #[serde(default)]
    pub deadline: Option<DateTime<Utc>>,
    #[serde(default)]
    pub acceptance: Option<Acceptance>,
    /// Whether a submission gets a rework round before it can be rejected (default true).
    #[serde(default)]
    pub allows_changes: Option<bool>,
    /// Criteria the work is judged on (at most 12, each at most 300 characters); a decision
    /// sending work back names those not met.
    #[serde(default)]
    pub rubric: Option<Vec<String>>,
    /// Only workers whose last 25 decided submissions are at least this share approved
    /// (0–100) may claim; workers with no record yet always may.
    #[serde(default)]
    pub min_record_percent: Option<i64>,
    /// A paid qualification: approving the work grants the worker this skill.
    #[serde(default)]
    pub qualification_skill: Option<String>,
}

/// Pricing as shown back: money as decimal strings of pesos.
#[derive(Debug, Clone, Object)]
pub struct PricingView {
    /// `hourly` or `fixed`.
    pub kind: String,
    #[oai(skip_serializing_if_is_none)]
    pub rate: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub max_hours: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub price: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub estimated_hours: Option<String>,
}

/// What a slot costs the company in full (shown to the company and staff only).
#[derive(Debug, Clone, Object)]
pub struct CostView {
    /// Worker pay at most (rate × max hours, or the price).
    pub work: String,
    /// Platform fee on that pay.
    pub fee: String,
    /// IVA on the fee.
    pub vat: String,
    pub total: String,
    /// The same for every slot together: worker pay, fee (each slot's rounded as its approval
    /// accrues it), IVA on the fees' sum, and the total, as the invoice will bill them.
    pub all_slots_work: String,
    pub all_slots_fee: String,
    pub all_slots_vat: String,
    pub all_slots_total: String,
    /// The margin applied, as a decimal share; shown to platform staff only (as on the
    /// company itself).
    #[oai(skip_serializing_if_is_none)]
    pub margin: Option<String>,
}

/// What the worker earns (shown to workers only).
#[derive(Debug, Clone, Object)]
pub struct EarningsView {
    /// At most this much for one slot, in pesos.
    pub max_earnings: String,
    /// Per hour, for hourly tasks.
    #[oai(skip_serializing_if_is_none)]
    pub rate: Option<String>,
}

#[derive(Debug, Object)]
pub struct Task {
    pub id: String,
    pub company_id: String,
    pub title: String,
    pub instructions: String,
    pub category: String,
    pub required_skills: Vec<String>,
    pub pricing: PricingView,
    pub slots: i64,
    /// Slots not held by anyone now.
    pub slots_free: i64,
    pub claim_minutes: i64,
    /// Business days the company has to review a submission.
    pub review_business_days: i64,
    #[oai(skip_serializing_if_is_none)]
    pub deadline: Option<DateTime<Utc>>,
    pub acceptance: Acceptance,
    /// A submission gets a rework round before it can be rejected.
    pub allows_changes: bool,
    /// The criteria the work is judged on.
    pub rubric: Vec<String>,
    #[oai(skip_serializing_if_is_none)]
    pub min_record_percent: Option<i64>,
    /// Approving the work grants this skill (a paid qualification).
    #[oai(skip_serializing_if_is_none)]
    pub qualification_skill: Option<String>,
    /// `draft`, `open`, `closed` or `cancelled`.
    pub status: String,
    #[oai(skip_serializing_if_is_none)]
    pub cost: Option<CostView>,
    #[oai(skip_serializing_if_is_none)]
    pub earnings: Option<EarningsView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub published_at: Option<DateTime<Utc>>,
    /// The batch the task was made in, when it was (`/v1/task-batches`).
    #[oai(skip_serializing_if_is_none)]
    pub batch_id: Option<String>,
}

/// The pay and slots of a task being written, to see what it would cost before posting it.
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct CostPreviewRequest {
    pub pricing: Pricing,
    /// Workers who can each take one slot (1–1000).
    pub slots: i64,
}

#[derive(ApiResponse)]
pub enum CostOk {
    #[oai(status = 200)]
    Ok(Json<CostView>),
}

#[derive(Debug, Object)]
pub struct TaskList {
    pub items: Vec<Task>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum TaskCreated {
    #[oai(status = 201)]
    Created(Json<Task>),
}

#[derive(ApiResponse)]
pub enum TaskOk {
    #[oai(status = 200)]
    Ok(Json<Task>),
}

#[derive(ApiResponse)]
pub enum TaskListOk {
    #[oai(status = 200)]
    Ok(JsonBytes<TaskList>),
}

impl Pricing {
    /// The pay as typed, parsed by the pure rule (`posting::TaskPay`); 422 naming the part.
    fn parse(&self) -> Result<TaskPay, ApiError> {
        match self {
            Pricing::Hourly(h) => TaskPay::hourly(&h.rate, &h.max_hours),
            Pricing::Fixed(f) => TaskPay::fixed(&f.price, &f.estimated_hours),
        }
        .map_err(|e| ApiError::invalid(e.field, e.to_string()))
    }
}

/// The legal hourly minimum in force today (DESIGN §8).
pub(crate) fn legal_minimum(state: &AppState) -> Result<Cop, ApiError> {
    let today = time::now().with_timezone(&time::BOGOTA).date_naive();
    state
        .settings
        .legal
        .minimum_hourly(today)
        .ok_or_else(|| ApiError::internal("no legal minimum wage configured for today"))
}

/// Refuse pay below the legal hourly minimum in force today (the rule is
/// `money::check_minimum_wage`).
fn check_minimum_wage(pay: TaskPay, state: &AppState) -> Result<(), ApiError> {
    let minimum = legal_minimum(state)?;
    money::check_minimum_wage(pay.terms(), minimum).map_err(|e| below_minimum(e, state))
}

/// The minimum-wage refusal, stating the minimum and where it comes from.
fn below_minimum(e: BelowMinimumWage, state: &AppState) -> ApiError {
    let today = time::now().with_timezone(&time::BOGOTA).date_naive();
    let legal = &state.settings.legal;
    let mut problem = ApiError::rule(
        e.code(),
        Some(e.field()),
        format!(
            "The pay works out to {} per hour, below the legal minimum of {} per hour \
             (SMMLV {} ÷ {} legal monthly hours). Raise the pay to at least the minimum.",
            e.hourly.round_pesos(),
            e.minimum,
            legal.smmlv(today).unwrap_or_default(),
            legal.monthly_hours(today).unwrap_or_default()
        ),
    );
    problem.detail_es = Some(e.to_string().into());
    problem
}

/// A refusal of a pure marketplace rule as a problem: 422 `validation_failed` for a bad value
/// (its detail prefixed by the field), 409 for a clash with the current state, else 422 with
/// the rule's own code. The Spanish comes from the catalogue, by code and field.
pub(crate) fn refused(
    code: &'static str,
    field: Option<&'static str>,
    conflict: bool,
    detail: String,
) -> ApiError {
    if code == "validation_failed" {
        return ApiError::invalid(field.unwrap_or_default(), detail);
    }
    let mut e = if conflict {
        ApiError::conflict(code, detail)
    } else {
        ApiError::rule(code, field, detail)
    };
    e.field = field.map(str::to_string);
    e
}

pub(crate) fn posting_refused(e: PostingRefusal, state: &AppState) -> ApiError {
    match e {
        PostingRefusal::BelowMinimumWage(e) => below_minimum(e, state),
        e => refused(e.code(), e.field(), e.is_conflict(), e.to_string()),
    }
}

fn check_range(field: &str, v: i64, lo: i64, hi: i64) -> Result<i64, ApiError> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(ApiError::invalid(
            field,
            format!("must be between {lo} and {hi}"),
        ))
    }
}

fn parse_category(raw: &str) -> Result<&'static str, ApiError> {
    CATEGORIES
        .iter()
        .find(|c| **c == raw)
        .copied()
        .ok_or_else(|| {
            ApiError::invalid(
                "category",
                format!("must be one of {}", CATEGORIES.join(", ")),
            )
        })
}

fn parse_skills(raw: &[String]) -> Result<BTreeSet<Skill>, ApiError> {
    if raw.len() > 20 {
        return Err(ApiError::invalid("required_skills", "at most 20 skills"));
    }
    raw.iter()
        .enumerate()
        .map(|(i, s)| {
            Skill::parse(s).map_err(|e| ApiError::invalid(format!("required_skills[{i}]"), e))
        })
        .collect()
}

fn parse_text(field: &str, raw: &str, max: usize) -> Result<String, ApiError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ApiError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(s.to_string())
}

fn parse_acceptance(a: Option<&Acceptance>) -> Result<Acceptance, ApiError> {
    let a = a.cloned().unwrap_or_default();
    check_range("acceptance.min_minutes", a.min_minutes, 0, 60_000)?;
    Ok(a)
}

fn parse_deadline(d: Option<DateTime<Utc>>) -> Result<Option<i64>, ApiError> {
    d.map(|d| posting::check_deadline(d.timestamp(), time::unix(time::now())))
        .transpose()
        .map_err(|e| ApiError::invalid("deadline", e.to_string()))
}

#[derive(sqlx::FromRow)]
pub(crate) struct TaskRow {
    pub id: String,
    pub company_id: String,
    pub title: String,
    pub instructions: String,
    pub category: String,
    pub pricing_kind: String,
    pub rate_centavos: Option<i64>,
    pub max_seconds: Option<i64>,
    pub price_centavos: Option<i64>,
    pub estimated_seconds: Option<i64>,
    pub slots: i64,
    pub claim_minutes: i64,
    pub review_business_days: i64,
    pub deadline: Option<i64>,
    pub deliverable_url_required: bool,
    pub allows_changes: bool,
    pub rubric: Option<String>,
    pub min_record_percent: Option<i64>,
    pub qualification_skill: Option<String>,
    pub min_minutes: i64,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: Option<i64>,
    pub taken: i64,
    pub margin_bp: Option<i64>,
    /// Required skills, sorted and comma-joined (skills hold no commas); `None` when none.
    pub skills: Option<String>,
    pub batch_id: Option<String>,
}

/// A correlated subquery giving the sorted, comma-joined `skill`s of `table` whose `key`
/// equals `outer` (`None` when there are none), so a page of rows carries its skills in the
/// same query instead of one more round trip per row.
pub(crate) fn skills_column(d: Dialect, table: &str, key: &str, outer: &str) -> String {
    let agg = match d {
        Dialect::Sqlite => "group_concat(s.skill, ',' ORDER BY s.skill)",
        Dialect::Postgres => "string_agg(s.skill, ',' ORDER BY s.skill)",
    };
    format!("(SELECT {agg} FROM {table} s WHERE s.{key} = {outer})")
}

/// Split a `skills_column` value back into the list.
pub(crate) fn split_skills(joined: Option<&str>) -> Vec<String> {
    joined
        .filter(|j| !j.is_empty())
        .map(|j| j.split(',').map(str::to_string).collect())
        .unwrap_or_default()
}

/// Columns of `TaskRow`, from `tasks t`; `WHERE` reads the slots taken with `taken_expr`. The
/// company's margin is a scalar subquery, not a join: at full scale PostgreSQL joined the
/// listing to `companies` with a nested loop over the whole table.
pub(crate) fn task_select(d: Dialect) -> String {
    let count = format!(
        "SELECT COUNT(*) AS taken FROM assignments a WHERE a.task_id = t.id AND a.status IN {}",
        AssignmentStatus::sql_list(AssignmentStatus::takes_slot)
    );
    // PostgreSQL counts once per task in a LATERAL join that the worker filter reuses. SQLite
    // has no LATERAL: there the filter repeats the subquery, an in-process probe of
    // `assignments_by_task`.
    let (taken, lateral) = match d {
        Dialect::Postgres => (
            "k.taken".to_string(),
            format!(" CROSS JOIN LATERAL ({count}) k"),
        ),
        Dialect::Sqlite => (format!("({count})"), String::new()),
    };
    format!(
        "SELECT t.id, t.company_id, t.title, t.instructions, t.category, t.pricing_kind, \
         t.rate_centavos, t.max_seconds, t.price_centavos, t.estimated_seconds, t.slots, \
         t.claim_minutes, t.review_business_days, t.deadline, t.deliverable_url_required, \
         t.min_minutes, t.allows_changes, t.rubric, t.min_record_percent, t.qualification_skill, \
         t.status, t.created_at, t.updated_at, t.published_at, t.batch_id, {taken} AS taken, \
         (SELECT c.margin_bp FROM companies c WHERE c.id = t.company_id) AS margin_bp, \
         {} AS skills \
         FROM tasks t{lateral}",
        skills_column(d, "task_skills", "task_id", "t.id")
    )
}

/// The task listing's query (public so `vereda-bench` can EXPLAIN exactly this). Binds: $1 the
/// cursor (list ids below it), $2 status, $3 category, $4 skill, $5 company, $6 the worker,
/// $7 rows to fetch; `for_worker` adds the worker's filter.
pub fn list_sql(d: Dialect, for_worker: bool) -> String {
    let mut sql = format!(
        "{} WHERE t.id < $1 AND ($2 IS NULL OR t.status = $2) AND ($3 IS NULL OR t.category = $3) \
         AND ($4 IS NULL OR EXISTS (SELECT 1 FROM task_skills s WHERE s.task_id = t.id AND s.skill = $4)) \
         AND ($5 IS NULL OR t.company_id = $5)",
        task_select(d)
    );
    if for_worker {
        // Open, with a free slot, and no skill the worker lacks. The skills check is a scalar
        // count, not NOT EXISTS: PostgreSQL turns NOT EXISTS into an anti-join that sorts all
        // of task_skills, while a scalar subquery stays a per-task index probe. Written `< 1`,
        // not `0 =`: PostgreSQL guesses 0.5 % of rows pass an equality with a subquery, so at
        // full scale it costed the page at 500k, over `jit_above_cost`, and spent ~1.9 s per
        // request compiling the query (measured with EXPLAIN ANALYZE); an inequality is guessed
        // at a third and the same plan costs 10k, without JIT.
        sql.push_str(&format!(
            " AND t.status = 'open' AND t.slots > {} \
             AND (SELECT COUNT(*) FROM task_skills s WHERE s.task_id = t.id AND NOT EXISTS \
                 (SELECT 1 FROM worker_skills ws WHERE ws.worker_id = $6 AND ws.skill = s.skill)) < 1",
            taken_expr(d)
        ));
    }
    sql.push_str(" ORDER BY t.id DESC LIMIT $7");
    sql
}

/// A worker with more skills than this is listed by `list_sql`'s walk: she may claim much of
/// the board, so the walk discards little, while each branch of `worker_list_sql` reads up to
/// a page.
pub const LEAD_SKILL_BRANCHES_UP_TO: usize = 6;

/// A worker's task listing found from her skills (public so `vereda-bench` can EXPLAIN it):
/// a task she may claim has all its skills among hers, so its `lead_skill` is one of hers or
/// '' (migration 0025). One branch per lead skill reads that index's open tasks newest first,
/// up to a page each; the page is the newest of them all. Binds as `list_sql` (the worker's
/// filter always on), then her `skills` skills from $8.
pub fn worker_list_sql(d: Dialect, skills: usize) -> String {
    let leads = std::iter::once("''".to_string()).chain((0..skills).map(|i| format!("${}", i + 8)));
    let branches: Vec<String> = leads
        .enumerate()
        .map(|(i, lead)| {
            // A task without skills ('' leads) needs no probe of hers.
            let hers = if i == 0 {
                String::new()
            } else {
                " AND (SELECT COUNT(*) FROM task_skills s WHERE s.task_id = t.id AND NOT EXISTS \
                 (SELECT 1 FROM worker_skills ws WHERE ws.worker_id = $6 AND ws.skill = s.skill)) < 1"
                    .to_string()
            };
            format!(
                "SELECT id FROM (SELECT t.id FROM tasks t WHERE t.status = 'open' \
                 AND t.lead_skill = {lead} AND t.id < $1 AND ($2 IS NULL OR t.status = $2) \
                 AND ($3 IS NULL OR t.category = $3) \
                 AND ($4 IS NULL OR EXISTS (SELECT 1 FROM task_skills s WHERE s.task_id = t.id AND s.skill = $4)) \
                 AND ($5 IS NULL OR t.company_id = $5) AND t.slots > {}{hers} \
                 ORDER BY t.id DESC LIMIT $7) b{i}",
                slots_taken("t")
            )
        })
        .collect();
    format!(
        "{} WHERE t.id IN (SELECT id FROM ({}) u ORDER BY id DESC LIMIT $7) ORDER BY t.id DESC",
        task_select(d),
        branches.join(" UNION ALL ")
    )
}

/// The slots taken of task `t` inside a `task_select` query's `WHERE`.
fn taken_expr(d: Dialect) -> String {
    match d {
        Dialect::Postgres => "k.taken".to_string(),
        Dialect::Sqlite => slots_taken("t"),
    }
}

/// The slots taken of task `task`, as a scalar subquery.
fn slots_taken(task: &str) -> String {
    format!(
        "(SELECT COUNT(*) FROM assignments a WHERE a.task_id = {task}.id AND a.status IN {})",
        AssignmentStatus::sql_list(AssignmentStatus::takes_slot)
    )
}

impl TaskRow {
    fn pay(&self) -> TaskPay {
        TaskPay::from_columns(&PayColumns {
            kind: &self.pricing_kind,
            rate_centavos: self.rate_centavos,
            max_seconds: self.max_seconds,
            price_centavos: self.price_centavos,
            estimated_seconds: self.estimated_seconds,
        })
    }

    fn status(&self) -> TaskStatus {
        TaskStatus::parse(&self.status).unwrap_or(TaskStatus::Closed)
    }

    /// The terms a published edit may only grow.
    fn growing_terms(&self) -> GrowingTerms {
        GrowingTerms {
            slots: self.slots,
            deadline: self.deadline,
            claim_minutes: self.claim_minutes,
            pay: self.pay(),
        }
    }

    fn view(self, viewer: &Principal, state: &AppState) -> Task {
        let pay = self.pay();
        let (cost, earnings) = if viewer.role == Role::Worker {
            (None, Some(earnings_view(pay)))
        } else {
            let margin = posting::company_margin(self.margin_bp, state.settings.margin);
            (
                Some(cost_view(pay, self.slots, margin, viewer, state)),
                None,
            )
        };
        Task {
            required_skills: split_skills(self.skills.as_deref()),
            pricing: pricing_view(pay),
            slots_free: (self.slots - self.taken).max(0),
            deadline: self.deadline.map(time::from_unix),
            acceptance: Acceptance {
                deliverable_url_required: self.deliverable_url_required,
                min_minutes: self.min_minutes,
            },
            cost,
            earnings,
            created_at: time::from_unix(self.created_at),
            updated_at: time::from_unix(self.updated_at),
            published_at: self.published_at.map(time::from_unix),
            batch_id: self.batch_id,
            id: self.id,
            company_id: self.company_id,
            title: self.title,
            instructions: self.instructions,
            category: self.category,
            slots: self.slots,
            claim_minutes: self.claim_minutes,
            review_business_days: self.review_business_days,
            allows_changes: self.allows_changes,
            rubric: rubric_list(self.rubric.as_deref()),
            min_record_percent: self.min_record_percent,
            qualification_skill: self.qualification_skill,
            status: self.status,
        }
    }
}

fn pricing_view(pay: TaskPay) -> PricingView {
    match pay {
        TaskPay::Hourly { rate, max_seconds } => PricingView {
            kind: "hourly".into(),
            rate: Some(rate.to_string()),
            max_hours: Some(hours_text(max_seconds)),
            price: None,
            estimated_hours: None,
        },
        TaskPay::Fixed {
            price,
            estimated_seconds,
        } => PricingView {
            kind: "fixed".into(),
            rate: None,
            max_hours: None,
            price: Some(price.to_string()),
            estimated_hours: Some(hours_text(estimated_seconds)),
        },
    }
}

/// What one slot pays the worker at most.
fn earnings_view(pay: TaskPay) -> EarningsView {
    EarningsView {
        max_earnings: pay.max_work().to_string(),
        rate: pay.rate().map(|r| r.to_string()),
    }
}

/// What the task costs the company, by the rule accrual and invoicing use (`posting::
/// cost_preview`), with today's IVA (start-up refuses a table with no IVA for today).
fn cost_view(
    pay: TaskPay,
    slots: i64,
    margin: money::Margin,
    viewer: &Principal,
    state: &AppState,
) -> CostView {
    let today = time::now().with_timezone(&time::BOGOTA).date_naive();
    let vat_rate = state.settings.legal.vat_rate(today).unwrap_or_default();
    let c = posting::cost_preview(pay, slots, margin, vat_rate);
    CostView {
        work: c.one_slot.work.to_string(),
        fee: c.one_slot.fee.to_string(),
        vat: c.one_slot.vat.to_string(),
        total: c.one_slot.total.to_string(),
        all_slots_work: c.all_slots.work.to_string(),
        all_slots_fee: c.all_slots.fee.to_string(),
        all_slots_vat: c.all_slots.vat.to_string(),
        all_slots_total: c.all_slots.total.to_string(),
        margin: viewer.is_staff().then(|| margin.to_string()),
    }
}

pub(crate) async fn fetch_task(state: &AppState, id: &str) -> Result<Option<TaskRow>, ApiError> {
    let sql = format!("{} WHERE t.id = $1", task_select(state.db.dialect()));
    Ok(on_db!(&state.db, |p| sqlx::query_as(AssertSqlSafe(
        sql.as_str()
    ))
    .bind(id)
    .fetch_optional(p)
    .await)?)
}

/// The task if the caller may see it: its company, staff, or a worker when it is open or they
/// have worked on it. Otherwise 404.
async fn visible_task(state: &AppState, who: &Principal, id: &str) -> Result<TaskRow, ApiError> {
    let row = fetch_task(state, id)
        .await?
        .ok_or_else(|| ApiError::not_found("task"))?;
    let visible = match who.role {
        Role::Admin | Role::Finance => true,
        Role::Funder => false,
        Role::Company => who.company_id.as_deref() == Some(row.company_id.as_str()),
        Role::Worker => {
            row.status == "open" || {
                let n: i64 = on_db!(&state.db, |p| sqlx::query_scalar(
                    "SELECT COUNT(*) FROM assignments WHERE task_id = $1 AND worker_id = $2"
                )
                .bind(&row.id)
                .bind(who.worker_id.as_deref())
                .fetch_one(p)
                .await)?;
                n > 0
            }
        }
    };
    if visible {
        Ok(row)
    } else {
        Err(ApiError::not_found("task"))
    }
}

/// The task for a change by its company's owner: 404 for others' tasks, 403 for reviewers and
/// other roles.
async fn owned_task(state: &AppState, who: &Principal, id: &str) -> Result<TaskRow, ApiError> {
    who.require(&[Role::Company])?;
    let row = visible_task(state, who, id).await?;
    if who.member_role != Some(MemberRole::Owner) {
        return Err(ApiError::forbidden(
            "Only the company's owner may change tasks; reviewers review.",
        ));
    }
    Ok(row)
}

/// Write a task's required skills, each one the catalogue holds (422 `unknown_skill` naming
/// `field` otherwise, with the nearest names).
async fn write_skills(
    tx: &mut Tx,
    task_id: &str,
    skills: &BTreeSet<Skill>,
    field: &str,
) -> Result<(), ApiError> {
    crate::skills::check_in_tx(tx, field, skills).await?;
    on_tx!(tx, |c| {
        sqlx::query("DELETE FROM task_skills WHERE task_id = $1")
            .bind(task_id)
            .execute(&mut *c)
            .await?;
        for s in skills {
            sqlx::query("INSERT INTO task_skills (task_id, skill) VALUES ($1, $2)")
                .bind(task_id)
                .bind(s.as_str())
                .execute(&mut *c)
                .await?;
        }
        // The worker's listing finds the task by this one (migration 0025).
        sqlx::query("UPDATE tasks SET lead_skill = $2 WHERE id = $1")
            .bind(task_id)
            .bind(skills.first().map_or("", Skill::as_str))
            .execute(&mut *c)
            .await?;
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(())
}

/// The company of an owner posting work: 403 for reviewers and other roles.
pub(crate) fn posting_company(who: &Principal) -> Result<String, ApiError> {
    who.require(&[Role::Company])?;
    if who.member_role != Some(MemberRole::Owner) {
        return Err(ApiError::forbidden(
            "Only the company's owner may post tasks; reviewers review.",
        ));
    }
    who.company_id
        .clone()
        .ok_or_else(|| ApiError::internal("company user without company"))
}

/// A task's terms as posted (one task, or a batch's template), each field parsed and checked.
#[derive(Clone)]
pub(crate) struct NewTask {
    pub title: Name,
    pub instructions: String,
    pub category: &'static str,
    pub skills: BTreeSet<Skill>,
    pub pay: TaskPay,
    pub slots: i64,
    pub claim_minutes: i64,
    pub review_business_days: i64,
    pub deadline: Option<i64>,
    pub acceptance: Acceptance,
    pub fair: FairTerms,
}

/// The fair-work terms, parsed.
#[derive(Clone, Debug, Default)]
pub(crate) struct FairTerms {
    pub allows_changes: Option<bool>,
    /// As stored: a JSON array.
    pub rubric: Option<String>,
    pub min_record_percent: Option<i64>,
    pub qualification_skill: Option<Skill>,
}

impl FairTerms {
    fn parse(req: &FairTermsInput<'_>) -> Result<FairTerms, ApiError> {
        use vereda_contracts::fair_work::{MAX_CRITERION_CHARS, MAX_RUBRIC_CRITERIA};
        let rubric = match req.rubric {
            None => None,
            Some(list) => {
                if list.len() > MAX_RUBRIC_CRITERIA {
                    return Err(ApiError::invalid(
                        "rubric",
                        format!("must hold at most {MAX_RUBRIC_CRITERIA} criteria"),
                    ));
                }
                let mut out = Vec::new();
                for (i, c) in list.iter().enumerate() {
                    out.push(parse_text(&format!("rubric[{i}]"), c, MAX_CRITERION_CHARS)?);
                }
                Some(serde_json::to_string(&out).map_err(ApiError::internal)?)
            }
        };
        let min_record_percent = req
            .min_record_percent
            .map(|v| check_range("min_record_percent", v, 0, 100))
            .transpose()?;
        let qualification_skill = req
            .qualification_skill
            .map(|s| Skill::parse(s).map_err(|e| ApiError::invalid("qualification_skill", e)))
            .transpose()?;
        Ok(FairTerms {
            allows_changes: req.allows_changes,
            rubric,
            min_record_percent,
            qualification_skill,
        })
    }
}

/// A task's rubric as stored (a JSON array; none is an empty list).
pub(crate) fn rubric_list(stored: Option<&str>) -> Vec<String> {
    stored
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default()
}

/// Business days to review, from the field or the deprecated hours (rounded up to days).
fn review_days(days: Option<i64>, hours: Option<i64>) -> Result<Option<i64>, ApiError> {
    match (days, hours) {
        (Some(d), _) => Ok(Some(check_range("review_business_days", d, 1, 30)?)),
        (None, Some(h)) => {
            let h = check_range("review_hours", h, 1, 720)?;
            Ok(Some(((h + 23) / 24).clamp(1, 30)))
        }
        (None, None) => Ok(None),
    }
}

impl NewTask {
    /// Each field in the request's order (422 naming the first at fault); pay below today's
    /// legal minimum refused.
    pub(crate) fn parse(req: &CreateTask, state: &AppState) -> Result<NewTask, ApiError> {
        let title = Name::parse(&req.title).map_err(|e| ApiError::invalid("title", e))?;
        let instructions = parse_text("instructions", &req.instructions, 20_000)?;
        let category = parse_category(&req.category)?;
        let skills = parse_skills(&req.required_skills)?;
        let pay = req.pricing.parse()?;
        check_minimum_wage(pay, state)?;
        Ok(NewTask {
            title,
            instructions,
            category,
            skills,
            pay,
            slots: check_range("slots", req.slots, 1, 1000)?,
            claim_minutes: check_range("claim_minutes", req.claim_minutes, 10, 43_200)?,
            review_business_days: review_days(req.review_business_days, req.review_hours)?
                .unwrap_or(3),
            deadline: parse_deadline(req.deadline)?,
            acceptance: parse_acceptance(req.acceptance.as_ref())?,
            fair: FairTerms::parse(&fair_input!(req))?,
        })
    }
}

/// What `slots` slots paid `pay` cost the company in full, priced as one amount by the rule
/// invoices use, with today's IVA and the company's margin.
pub(crate) fn slots_cost(
    pay: TaskPay,
    slots: i64,
    margin_bp: Option<i64>,
    state: &AppState,
) -> SlotCost {
    let margin = posting::company_margin(margin_bp, state.settings.margin);
    let today = time::now().with_timezone(&time::BOGOTA).date_naive();
    let vat_rate = state.settings.legal.vat_rate(today).unwrap_or_default();
    posting::cost_preview(pay, slots, margin, vat_rate).all_slots
}

/// Where a batch's task came from: its batch, the file's line, the row's values as JSON.
pub(crate) struct FromBatch<'a> {
    pub batch_id: &'a str,
    pub line: i64,
    pub inputs: &'a str,
}

/// Write a draft task and its skills.
pub(crate) async fn insert_task(
    tx: &mut Tx,
    task: &NewTask,
    id: &str,
    company_id: &str,
    created_by: &str,
    now: i64,
    batch: Option<&FromBatch<'_>>,
) -> Result<(), ApiError> {
    let cols = task.pay.columns();
    vereda_store::exec_one!(
        tx,
        sqlx::query(
            "INSERT INTO tasks (id, company_id, created_by, title, instructions, category, \
             pricing_kind, rate_centavos, max_seconds, price_centavos, estimated_seconds, slots, \
             claim_minutes, review_hours, deadline, deliverable_url_required, min_minutes, status, \
             created_at, updated_at, batch_id, batch_line, batch_inputs, review_business_days, \
             allows_changes, rubric, min_record_percent, qualification_skill) VALUES ($1, $2, $3, \
             $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 'draft', $18, $18, \
             $19, $20, $21, $22, COALESCE($23, TRUE), $24, $25, $26)"
        )
        .bind(id)
        .bind(company_id)
        .bind(created_by)
        .bind(task.title.as_str())
        .bind(&task.instructions)
        .bind(task.category)
        .bind(cols.kind)
        .bind(cols.rate_centavos)
        .bind(cols.max_seconds)
        .bind(cols.price_centavos)
        .bind(cols.estimated_seconds)
        .bind(task.slots)
        .bind(task.claim_minutes)
        // The old column stays filled for readers of the old field.
        .bind(task.review_business_days * 24)
        .bind(task.deadline)
        .bind(task.acceptance.deliverable_url_required)
        .bind(task.acceptance.min_minutes)
        .bind(now)
        .bind(batch.map(|b| b.batch_id))
        .bind(batch.map(|b| b.line))
        .bind(batch.map(|b| b.inputs))
        .bind(task.review_business_days)
        .bind(task.fair.allows_changes)
        .bind(task.fair.rubric.as_deref())
        .bind(task.fair.min_record_percent)
        .bind(task.fair.qualification_skill.as_ref().map(Skill::as_str))
    )?;
    let field = match batch {
        Some(_) => "template.required_skills",
        None => "required_skills",
    };
    write_skills(tx, id, &task.skills, field).await
}

async fn respond(state: &AppState, who: &Principal, id: &str) -> Result<Task, ApiError> {
    let row = fetch_task(state, id)
        .await?
        .ok_or_else(|| ApiError::not_found("task"))?;
    Ok(row.view(who, state))
}

pub struct TasksApi;

#[OpenApi(prefix_path = "/v1/tasks", tag = "ApiTags::Tasks")]
impl TasksApi {
    /// Post a task (company owner)
    ///
    /// Creates a draft. Pay below the legal hourly minimum is refused (422
    /// `below_minimum_wage`, stating the minimum).
    #[oai(path = "/", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<CreateTask>,
    ) -> Result<TaskCreated, ApiError> {
        let who = &auth.0;
        let company_id = posting_company(who)?;
        let task = NewTask::parse(&body.0, &state)?;
        let id = new_id();
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        tx.marketplace_changed();
        insert_task(&mut tx, &task, &id, &company_id, &who.user_id, now, None).await?;
        tx.commit().await?;
        tracing::info!(task_id = %id, company_id = %company_id, "task posted");
        Ok(TaskCreated::Created(Json(respond(&state, who, &id).await?)))
    }

    /// List tasks
    ///
    /// Workers see open tasks with free slots whose required skills they all hold; a company
    /// sees its own tasks in every state; staff see all. Newest first.
    #[oai(path = "/", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
        /// `draft`, `open`, `closed` or `cancelled`.
        status: Query<Option<String>>,
        category: Query<Option<String>>,
        /// Only tasks that require this skill.
        skill: Query<Option<String>>,
    ) -> Result<TaskListOk, ApiError> {
        let who = &auth.0;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let status = match status.0.as_deref() {
            None => None,
            Some(s) => Some(
                TaskStatus::parse(s)
                    .ok_or_else(|| {
                        ApiError::invalid("status", "must be draft, open, closed or cancelled")
                    })?
                    .as_str(),
            ),
        };
        if let Some(c) = category.0.as_deref() {
            parse_category(c)?;
        }
        let company = match who.role {
            Role::Company => who.company_id.clone(),
            _ => None,
        };
        // A worker's page is the same for every worker with the same skills: it may be ready.
        let board_key = (who.role == Role::Worker).then(|| PageKey {
            skills: who.worker_skills.clone(),
            before: page.before().to_string(),
            limit: page.limit,
            status: status.map(str::to_string),
            category: category.0.clone(),
            skill: skill.0.clone(),
        });
        if let Some(key) = &board_key
            && let Some(body) = state.board.get(key)
        {
            return Ok(TaskListOk::Ok(JsonBytes::from_bytes(body)));
        }
        // Read before the query: a change committed meanwhile retires what we build.
        let (epoch, made) = (marketplace_epoch(), std::time::Instant::now());
        let hers = split_skills(who.worker_skills.as_deref());
        let by_lead = who.role == Role::Worker && hers.len() <= LEAD_SKILL_BRANCHES_UP_TO;
        let sql = if by_lead {
            worker_list_sql(state.db.dialect(), hers.len())
        } else {
            list_sql(state.db.dialect(), who.role == Role::Worker)
        };
        let rows: Vec<TaskRow> = on_db!(&state.db, |p| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(page.before())
                .bind(status)
                .bind(category.0.as_deref())
                .bind(skill.0.as_deref())
                .bind(company.as_deref())
                .bind(who.worker_id.as_deref())
                .bind(page.fetch());
            if by_lead {
                for s in &hers {
                    q = q.bind(s.as_str());
                }
            }
            q.fetch_all(p).await
        })?;
        let (rows, next_cursor) = page.finish(rows, |r| &r.id);
        let items = rows.into_iter().map(|r| r.view(who, &state)).collect();
        let answer = JsonBytes::of(&TaskList { items, next_cursor });
        if let Some(key) = board_key {
            state.board.put(key, epoch, made, answer.0.clone());
        }
        Ok(TaskListOk::Ok(answer))
    }

    /// Get a task
    #[oai(path = "/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<TaskOk, ApiError> {
        let row = visible_task(&state, &auth.0, &id.0).await?;
        Ok(TaskOk::Ok(Json(row.view(&auth.0, &state))))
    }

    /// Edit a task (company owner)
    #[oai(path = "/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<UpdateTask>,
    ) -> Result<TaskOk, ApiError> {
        let who = &auth.0;
        let row = owned_task(&state, who, &id.0).await?;
        let req = body.0;
        let status = row.status();
        posting::editable(status, &req.touched()).map_err(|e| posting_refused(e, &state))?;
        let edit = TaskEdit::parse(&req, &state)?;
        posting::check_growth(status, &row.growing_terms(), &edit.terms_change())
            .map_err(|e| posting_refused(e, &state))?;
        store_edit(&state, &row, &edit).await?;
        Ok(TaskOk::Ok(Json(respond(&state, who, &row.id).await?)))
    }

    /// Publish a draft (company owner)
    #[oai(path = "/:id/publish", method = "post")]
    async fn publish(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<TaskOk, ApiError> {
        let who = &auth.0;
        let row = owned_task(&state, who, &id.0).await?;
        let now = time::unix(time::now());
        // The law may have changed since the draft was written: today's minimum applies.
        let minimum = legal_minimum(&state)?;
        posting::check_publication(row.status(), row.pay(), minimum, row.deadline, now)
            .map_err(|e| posting_refused(e, &state))?;
        if !store_publication(&state, &row.id, now).await? {
            return Err(ApiError::conflict(
                "not_a_draft",
                "The task was published or cancelled meanwhile.",
            ));
        }
        tracing::info!(task_id = %row.id, "task published");
        Ok(TaskOk::Ok(Json(respond(&state, who, &row.id).await?)))
    }

    /// Cancel a task (company owner)
    ///
    /// Open claims are released; work already submitted is still reviewed and paid.
    #[oai(path = "/:id/cancel", method = "post")]
    async fn cancel(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<TaskOk, ApiError> {
        let who = &auth.0;
        let row = owned_task(&state, who, &id.0).await?;
        posting::check_cancellation(row.status()).map_err(|e| posting_refused(e, &state))?;
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        tx.marketplace_changed();
        if !store_cancellation(&mut tx, &row.id, now).await? {
            return Err(ApiError::conflict(
                "task_finished",
                "The task was closed meanwhile.",
            ));
        }
        release_open_claims(&mut tx, &row.id, &who.user_id, now).await?;
        tx.commit().await?;
        tracing::info!(task_id = %row.id, "task cancelled");
        Ok(TaskOk::Ok(Json(respond(&state, who, &row.id).await?)))
    }

    /// Preview what a task would cost (company owner)
    ///
    /// One slot and all slots (worker pay at most, platform fee, IVA, total) with the
    /// company's margin and today's IVA, by the rule accrual and invoices use; nothing is
    /// stored. Pay below the legal hourly minimum is refused as on posting (422
    /// `below_minimum_wage`, stating the minimum).
    #[oai(path = "/cost-preview", method = "post")]
    async fn cost_preview(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<CostPreviewRequest>,
    ) -> Result<CostOk, ApiError> {
        let who = &auth.0;
        let company_id = posting_company(who)?;
        let pay = body.0.pricing.parse()?;
        check_minimum_wage(pay, &state)?;
        let slots = check_range("slots", body.0.slots, 1, 1000)?;
        let margin_bp = on_db!(&state.db, |p| sqlx::query_scalar::<_, Option<i64>>(
            "SELECT margin_bp FROM companies WHERE id = $1"
        )
        .bind(&company_id)
        .fetch_optional(p)
        .await)?
        .flatten();
        let margin = posting::company_margin(margin_bp, state.settings.margin);
        Ok(CostOk::Ok(Json(cost_view(pay, slots, margin, who, &state))))
    }
}

impl UpdateTask {
    /// The fields the request changes, by their names in it.
    fn touched(&self) -> Vec<&'static str> {
        [
            ("title", self.title.is_some()),
            ("instructions", self.instructions.is_some()),
            ("category", self.category.is_some()),
            ("required_skills", self.required_skills.is_some()),
            ("pricing", self.pricing.is_some()),
            ("slots", self.slots.is_some()),
            ("claim_minutes", self.claim_minutes.is_some()),
            ("review_hours", self.review_hours.is_some()),
            ("review_business_days", self.review_business_days.is_some()),
            ("deadline", self.deadline.is_some()),
            ("acceptance", self.acceptance.is_some()),
            ("allows_changes", self.allows_changes.is_some()),
            ("rubric", self.rubric.is_some()),
            ("min_record_percent", self.min_record_percent.is_some()),
            ("qualification_skill", self.qualification_skill.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, present)| present.then_some(field))
        .collect()
    }
}

/// An edit, parsed and valid on its own; `None` leaves a field as it is.
struct TaskEdit {
    title: Option<Name>,
    instructions: Option<String>,
    category: Option<&'static str>,
    skills: Option<BTreeSet<Skill>>,
    pay: Option<TaskPay>,
    slots: Option<i64>,
    claim_minutes: Option<i64>,
    review_business_days: Option<i64>,
    deadline: Option<i64>,
    acceptance: Option<Acceptance>,
    fair: FairTerms,
}

impl TaskEdit {
    /// Each field as on creation (422 naming the first at fault, in the request's order).
    fn parse(req: &UpdateTask, state: &AppState) -> Result<TaskEdit, ApiError> {
        let title = req.title.as_deref().map(Name::parse).transpose();
        let title = title.map_err(|e| ApiError::invalid("title", e))?;
        let instructions = req.instructions.as_deref();
        let instructions = instructions
            .map(|s| parse_text("instructions", s, 20_000))
            .transpose()?;
        let category = req.category.as_deref().map(parse_category).transpose()?;
        let skills = req.required_skills.as_deref().map(parse_skills);
        let skills = skills.transpose()?;
        let pay = req.pricing.as_ref().map(Pricing::parse).transpose()?;
        if let Some(pay) = pay {
            check_minimum_wage(pay, state)?;
        }
        let range =
            |field, v: Option<i64>, lo, hi| v.map(|v| check_range(field, v, lo, hi)).transpose();
        Ok(TaskEdit {
            title,
            instructions,
            category,
            skills,
            pay,
            slots: range("slots", req.slots, 1, 1000)?,
            claim_minutes: range("claim_minutes", req.claim_minutes, 10, 43_200)?,
            review_business_days: review_days(req.review_business_days, req.review_hours)?,
            deadline: parse_deadline(req.deadline)?,
            acceptance: req
                .acceptance
                .as_ref()
                .map(|a| parse_acceptance(Some(a)))
                .transpose()?,
            fair: FairTerms::parse(&fair_input!(req))?,
        })
    }

    fn terms_change(&self) -> TermsChange {
        TermsChange {
            slots: self.slots,
            deadline: self.deadline,
            claim_minutes: self.claim_minutes,
            pay: self.pay,
        }
    }
}

/// Write an edit, if the task is still in the status it was read in.
async fn store_edit(state: &AppState, row: &TaskRow, edit: &TaskEdit) -> Result<(), ApiError> {
    let now = time::unix(time::now());
    let cols = edit.pay.map(TaskPay::columns);
    let acceptance = edit.acceptance.as_ref();
    let mut tx = state.db.begin().await?;
    tx.marketplace_changed();
    on_tx!(&mut tx, |c| {
        sqlx::query(
        "UPDATE tasks SET title = COALESCE($1, title), instructions = COALESCE($2, instructions), \
         category = COALESCE($3, category), slots = COALESCE($4, slots), \
         claim_minutes = COALESCE($5, claim_minutes), review_hours = COALESCE($6, review_hours), \
         deadline = COALESCE($7, deadline), \
         deliverable_url_required = COALESCE($8, deliverable_url_required), \
         min_minutes = COALESCE($9, min_minutes), \
         pricing_kind = COALESCE($10, pricing_kind), \
         rate_centavos = CASE WHEN $10 IS NULL THEN rate_centavos ELSE $11 END, \
         max_seconds = CASE WHEN $10 IS NULL THEN max_seconds ELSE $12 END, \
         price_centavos = CASE WHEN $10 IS NULL THEN price_centavos ELSE $13 END, \
         estimated_seconds = CASE WHEN $10 IS NULL THEN estimated_seconds ELSE $14 END, \
         updated_at = $15, review_business_days = COALESCE($18, review_business_days), \
         allows_changes = COALESCE($19, allows_changes), rubric = COALESCE($20, rubric), \
         min_record_percent = COALESCE($21, min_record_percent), \
         qualification_skill = COALESCE($22, qualification_skill) \
         WHERE id = $16 AND status = $17"
    )
    .bind(edit.title.as_ref().map(Name::as_str))
    .bind(edit.instructions.as_deref())
    .bind(edit.category)
    .bind(edit.slots)
    .bind(edit.claim_minutes)
    .bind(edit.review_business_days.map(|d| d * 24))
    .bind(edit.deadline)
    .bind(acceptance.map(|a| a.deliverable_url_required))
    .bind(acceptance.map(|a| a.min_minutes))
    .bind(cols.map(|c| c.kind))
    .bind(cols.and_then(|c| c.rate_centavos))
    .bind(cols.and_then(|c| c.max_seconds))
    .bind(cols.and_then(|c| c.price_centavos))
    .bind(cols.and_then(|c| c.estimated_seconds))
    .bind(now)
    .bind(&row.id)
    .bind(&row.status)
    .bind(edit.review_business_days)
    .bind(edit.fair.allows_changes)
    .bind(edit.fair.rubric.as_deref())
    .bind(edit.fair.min_record_percent)
    .bind(edit.fair.qualification_skill.as_ref().map(Skill::as_str))
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    if let Some(skills) = &edit.skills {
        write_skills(&mut tx, &row.id, skills, "required_skills").await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Open a draft; false when it was no longer a draft.
async fn store_publication(state: &AppState, task_id: &str, now: i64) -> Result<bool, ApiError> {
    let changed = on_db!(&state.db, |p| {
        sqlx::query(
        "UPDATE tasks SET status = 'open', published_at = $1, updated_at = $1 WHERE id = $2 AND status = 'draft'"
    )
    .bind(now)
    .bind(task_id)
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    })?;
    vereda_store::db::marketplace_changed();
    Ok(changed > 0)
}

/// Cancel a draft or open task; false when it had finished meanwhile.
pub(crate) async fn store_cancellation(
    tx: &mut Tx,
    task_id: &str,
    now: i64,
) -> Result<bool, ApiError> {
    let changed = on_tx!(tx, |c| sqlx::query(
        "UPDATE tasks SET status = 'cancelled', closed_at = $1, updated_at = $1 \
         WHERE id = $2 AND status IN ('draft', 'open')"
    )
    .bind(now)
    .bind(task_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(changed > 0)
}

/// Release the active claims on a cancelled task, telling each worker.
pub(crate) async fn release_open_claims(
    tx: &mut Tx,
    task_id: &str,
    actor: &str,
    now: i64,
) -> Result<(), ApiError> {
    let open: Vec<(String, String)> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, status FROM assignments WHERE task_id = $1 AND status IN {}",
        AssignmentStatus::sql_list(AssignmentStatus::is_active)
    )))
    .bind(task_id)
    .fetch_all(&mut *c)
    .await)?;
    for (assignment_id, status) in open {
        let m = Move {
            assignment_id: &assignment_id,
            from: AssignmentStatus::parse(&status).unwrap_or(AssignmentStatus::Claimed),
            to: AssignmentStatus::Released,
            actor: Some(actor),
            action: "task_cancelled",
            reason: Some("La empresa canceló la tarea."),
            details: None,
            at: now,
        };
        let ended = [vereda_store::transitions::Bind::Int(Some(now))];
        if transition(tx, &m, "ended_at = $5", &ended).await? {
            notify(
                tx,
                "claim_cancelled",
                &assignment_id,
                &format!("claim_cancelled:{assignment_id}"),
                &serde_json::json!({ "task_id": task_id }),
                now,
            )
            .await?;
        }
    }
    Ok(())
}
