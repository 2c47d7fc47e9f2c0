//! Tasks: companies post, edit, publish and cancel IT micro-tasks; workers browse the open ones
//! they qualify for. Prices are refused below the legal hourly minimum, and each side sees its
//! own view of the money: the company what a slot costs it in full, the worker what it earns.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Union};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;
use sqlx::AssertSqlSafe;
use vereda_contracts::identity::{MemberRole, Name, Role, Skill};
use vereda_contracts::marketplace::{AssignmentStatus, CATEGORIES, TaskStatus};
use vereda_contracts::money::{Cop, Margin, PayTerms, check_minimum_wage, slot_cost};
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
    /// Hours the company has to review a submission before it is approved automatically
    /// (1–720).
    pub review_hours: i64,
    #[serde(default)]
    pub deadline: Option<DateTime<Utc>>,
    #[serde(default)]
    pub acceptance: Option<Acceptance>,
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
    pub review_hours: Option<i64>,
    #[serde(default)]
    pub deadline: Option<DateTime<Utc>>,
    #[serde(default)]
    pub acceptance: Option<Acceptance>,
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
    /// The same for every slot together.
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
    pub review_hours: i64,
    #[oai(skip_serializing_if_is_none)]
    pub deadline: Option<DateTime<Utc>>,
    pub acceptance: Acceptance,
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

/// The parsed, valid money side of a task.
#[derive(Debug, Clone, Copy)]
enum ParsedPricing {
    Hourly { rate: Cop, max_seconds: i64 },
    Fixed { price: Cop, estimated_seconds: i64 },
}

fn parse_hours(field: &str, raw: &str) -> Result<i64, ApiError> {
    let h = Decimal::from_str(raw.trim())
        .ok()
        .filter(|_| {
            raw.chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ' ')
        })
        .ok_or_else(|| {
            ApiError::invalid(field, "must be a decimal number of hours such as \"2.5\"")
        })?;
    let secs = h * Decimal::from(3600);
    if h <= Decimal::ZERO || h > Decimal::from(1000) {
        return Err(ApiError::invalid(
            field,
            "must be more than 0 and at most 1000 hours",
        ));
    }
    if secs.fract() != Decimal::ZERO {
        return Err(ApiError::invalid(
            field,
            "must be a whole number of seconds",
        ));
    }
    // At most 1000 h and whole seconds (checked above), so it fits.
    secs.to_i64()
        .ok_or_else(|| ApiError::invalid(field, "is out of range"))
}

fn parse_money(field: &str, raw: &str) -> Result<Cop, ApiError> {
    Cop::parse_whole_pesos(raw).map_err(|e| ApiError::invalid(field, e.to_string()))
}

fn hours_text(seconds: i64) -> String {
    (Decimal::from(seconds) / Decimal::from(3600))
        .normalize()
        .to_string()
}

impl Pricing {
    fn parse(&self) -> Result<ParsedPricing, ApiError> {
        Ok(match self {
            Pricing::Hourly(h) => ParsedPricing::Hourly {
                rate: parse_money("pricing.rate", &h.rate)?,
                max_seconds: parse_hours("pricing.max_hours", &h.max_hours)?,
            },
            Pricing::Fixed(f) => ParsedPricing::Fixed {
                price: parse_money("pricing.price", &f.price)?,
                estimated_seconds: parse_hours("pricing.estimated_hours", &f.estimated_hours)?,
            },
        })
    }
}

impl ParsedPricing {
    /// The most one slot pays the worker.
    fn max_work(self) -> Cop {
        match self {
            ParsedPricing::Hourly { rate, max_seconds } => {
                vereda_contracts::money::hourly_earnings(max_seconds, rate)
            }
            ParsedPricing::Fixed { price, .. } => price,
        }
    }

    /// The terms the minimum-wage rule judges.
    fn terms(self) -> PayTerms {
        match self {
            ParsedPricing::Hourly { rate, .. } => PayTerms::Hourly { rate },
            ParsedPricing::Fixed {
                price,
                estimated_seconds,
            } => PayTerms::Fixed {
                price,
                estimated_seconds,
            },
        }
    }

    /// Refuse pay below the legal hourly minimum in force today (DESIGN §8; the rule is
    /// `money::check_minimum_wage`).
    fn check_minimum_wage(self, state: &AppState) -> Result<(), ApiError> {
        let today = time::now().with_timezone(&time::BOGOTA).date_naive();
        let legal = &state.settings.legal;
        let Some(minimum) = legal.minimum_hourly(today) else {
            return Err(ApiError::internal(
                "no legal minimum wage configured for today",
            ));
        };
        check_minimum_wage(self.terms(), minimum).map_err(|e| {
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
        })
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
    match d {
        None => Ok(None),
        Some(d) => {
            let t = d.timestamp();
            let now = time::unix(time::now());
            if t <= now {
                return Err(ApiError::invalid("deadline", "must be in the future"));
            }
            if t > now + 5 * 366 * 86_400 {
                return Err(ApiError::invalid("deadline", "must be within five years"));
            }
            Ok(Some(t))
        }
    }
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
    pub review_hours: i64,
    pub deadline: Option<i64>,
    pub deliverable_url_required: bool,
    pub min_minutes: i64,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: Option<i64>,
    pub taken: i64,
    pub margin_bp: Option<i64>,
    /// Required skills, sorted and comma-joined (skills hold no commas); `None` when none.
    pub skills: Option<String>,
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
         t.claim_minutes, t.review_hours, t.deadline, t.deliverable_url_required, t.min_minutes, \
         t.status, t.created_at, t.updated_at, t.published_at, {taken} AS taken, \
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

/// The slots taken of task `t` inside a `task_select` query's `WHERE`.
fn taken_expr(d: Dialect) -> String {
    match d {
        Dialect::Postgres => "k.taken".to_string(),
        Dialect::Sqlite => format!(
            "(SELECT COUNT(*) FROM assignments a WHERE a.task_id = t.id AND a.status IN {})",
            AssignmentStatus::sql_list(AssignmentStatus::takes_slot)
        ),
    }
}

impl TaskRow {
    fn pricing(&self) -> ParsedPricing {
        match self.pricing_kind.as_str() {
            "hourly" => ParsedPricing::Hourly {
                rate: Cop::from_centavos(self.rate_centavos.unwrap_or(0)),
                max_seconds: self.max_seconds.unwrap_or(0),
            },
            _ => ParsedPricing::Fixed {
                price: Cop::from_centavos(self.price_centavos.unwrap_or(0)),
                estimated_seconds: self.estimated_seconds.unwrap_or(1),
            },
        }
    }

    fn view(self, viewer: &Principal, state: &AppState) -> Task {
        let skills = split_skills(self.skills.as_deref());
        let pricing = self.pricing();
        let pricing_view = match pricing {
            ParsedPricing::Hourly { rate, max_seconds } => PricingView {
                kind: "hourly".into(),
                rate: Some(rate.to_string()),
                max_hours: Some(hours_text(max_seconds)),
                price: None,
                estimated_hours: None,
            },
            ParsedPricing::Fixed {
                price,
                estimated_seconds,
            } => PricingView {
                kind: "fixed".into(),
                rate: None,
                max_hours: None,
                price: Some(price.to_string()),
                estimated_hours: Some(hours_text(estimated_seconds)),
            },
        };
        let max_work = pricing.max_work();
        let (cost, earnings) = if viewer.role == Role::Worker {
            let rate = match pricing {
                ParsedPricing::Hourly { rate, .. } => Some(rate.to_string()),
                ParsedPricing::Fixed { .. } => None,
            };
            (
                None,
                Some(EarningsView {
                    max_earnings: max_work.to_string(),
                    rate,
                }),
            )
        } else {
            // The same margin and IVA lookup that accrual and invoicing use, so the company
            // is billed what it was shown (start-up refuses a table with no IVA for today).
            let margin = self
                .margin_bp
                .and_then(Margin::from_bp)
                .unwrap_or(state.settings.margin);
            let today = time::now().with_timezone(&time::BOGOTA).date_naive();
            let vat_rate = state.settings.legal.vat_rate(today).unwrap_or_default();
            let one = slot_cost(max_work, margin, vat_rate);
            let all = slot_cost(
                Cop::new(max_work.amount() * Decimal::from(self.slots)),
                margin,
                vat_rate,
            );
            (
                Some(CostView {
                    work: one.work.to_string(),
                    fee: one.fee.to_string(),
                    vat: one.vat.to_string(),
                    total: one.total.to_string(),
                    all_slots_total: all.total.to_string(),
                    margin: viewer.is_staff().then(|| margin.to_string()),
                }),
                None,
            )
        };
        Task {
            id: self.id,
            company_id: self.company_id,
            title: self.title,
            instructions: self.instructions,
            category: self.category,
            required_skills: skills,
            pricing: pricing_view,
            slots: self.slots,
            slots_free: (self.slots - self.taken).max(0),
            claim_minutes: self.claim_minutes,
            review_hours: self.review_hours,
            deadline: self.deadline.map(time::from_unix),
            acceptance: Acceptance {
                deliverable_url_required: self.deliverable_url_required,
                min_minutes: self.min_minutes,
            },
            status: self.status,
            cost,
            earnings,
            created_at: time::from_unix(self.created_at),
            updated_at: time::from_unix(self.updated_at),
            published_at: self.published_at.map(time::from_unix),
        }
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

async fn write_skills(
    tx: &mut Tx,
    task_id: &str,
    skills: &BTreeSet<Skill>,
) -> Result<(), ApiError> {
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
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(())
}

fn pricing_columns(
    p: ParsedPricing,
) -> (
    &'static str,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
) {
    match p {
        ParsedPricing::Hourly { rate, max_seconds } => (
            "hourly",
            Some(rate.centavos()),
            Some(max_seconds),
            None,
            None,
        ),
        ParsedPricing::Fixed {
            price,
            estimated_seconds,
        } => (
            "fixed",
            None,
            None,
            Some(price.centavos()),
            Some(estimated_seconds),
        ),
    }
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
        who.require(&[Role::Company])?;
        if who.member_role != Some(MemberRole::Owner) {
            return Err(ApiError::forbidden(
                "Only the company's owner may post tasks; reviewers review.",
            ));
        }
        let company_id = who
            .company_id
            .clone()
            .ok_or_else(|| ApiError::internal("company user without company"))?;
        let req = body.0;
        let title = Name::parse(&req.title).map_err(|e| ApiError::invalid("title", e))?;
        let instructions = parse_text("instructions", &req.instructions, 20_000)?;
        let category = parse_category(&req.category)?;
        let skills = parse_skills(&req.required_skills)?;
        let pricing = req.pricing.parse()?;
        pricing.check_minimum_wage(&state)?;
        let slots = check_range("slots", req.slots, 1, 1000)?;
        let claim_minutes = check_range("claim_minutes", req.claim_minutes, 10, 43_200)?;
        let review_hours = check_range("review_hours", req.review_hours, 1, 720)?;
        let deadline = parse_deadline(req.deadline)?;
        let acceptance = parse_acceptance(req.acceptance.as_ref())?;
        let (kind, rate, max_seconds, price, estimated) = pricing_columns(pricing);

        let id = new_id();
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        tx.marketplace_changed();
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO tasks (id, company_id, created_by, title, instructions, category, \
             pricing_kind, rate_centavos, max_seconds, price_centavos, estimated_seconds, slots, \
             claim_minutes, review_hours, deadline, deliverable_url_required, min_minutes, status, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             $13, $14, $15, $16, $17, 'draft', $18, $18)"
        )
        .bind(&id)
        .bind(&company_id)
        .bind(&who.user_id)
        .bind(title.as_str())
        .bind(&instructions)
        .bind(category)
        .bind(kind)
        .bind(rate)
        .bind(max_seconds)
        .bind(price)
        .bind(estimated)
        .bind(slots)
        .bind(claim_minutes)
        .bind(review_hours)
        .bind(deadline)
        .bind(acceptance.deliverable_url_required)
        .bind(acceptance.min_minutes)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        write_skills(&mut tx, &id, &skills).await?;
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
        let sql = list_sql(state.db.dialect(), who.role == Role::Worker);
        let rows: Vec<TaskRow> =
            on_db!(&state.db, |p| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(page.before())
                .bind(status)
                .bind(category.0.as_deref())
                .bind(skill.0.as_deref())
                .bind(company.as_deref())
                .bind(who.worker_id.as_deref())
                .bind(page.fetch())
                .fetch_all(p)
                .await)?;
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
        let status = TaskStatus::parse(&row.status).unwrap_or(TaskStatus::Closed);
        let published_conflict = |field: &str, why: &str| {
            let mut e =
                ApiError::conflict("task_published", format!("The task is published: {why}."));
            e.field = Some(field.to_string());
            e
        };
        match status {
            TaskStatus::Draft => {}
            TaskStatus::Open => {
                for (field, present) in [
                    ("title", req.title.is_some()),
                    ("instructions", req.instructions.is_some()),
                    ("category", req.category.is_some()),
                    ("required_skills", req.required_skills.is_some()),
                    ("acceptance", req.acceptance.is_some()),
                    ("review_hours", req.review_hours.is_some()),
                ] {
                    if present {
                        return Err(published_conflict(
                            field,
                            "only slots, deadline, claim time and pay can grow",
                        ));
                    }
                }
            }
            TaskStatus::Closed | TaskStatus::Cancelled => {
                return Err(ApiError::conflict(
                    "task_finished",
                    format!("The task is {}.", row.status),
                ));
            }
        }

        let title = req
            .title
            .as_deref()
            .map(Name::parse)
            .transpose()
            .map_err(|e| ApiError::invalid("title", e))?;
        let instructions = req
            .instructions
            .as_deref()
            .map(|s| parse_text("instructions", s, 20_000))
            .transpose()?;
        let category = req.category.as_deref().map(parse_category).transpose()?;
        let skills = req
            .required_skills
            .as_deref()
            .map(parse_skills)
            .transpose()?;
        let pricing = req.pricing.as_ref().map(Pricing::parse).transpose()?;
        if let Some(p) = pricing {
            p.check_minimum_wage(&state)?;
        }
        let slots = req
            .slots
            .map(|s| check_range("slots", s, 1, 1000))
            .transpose()?;
        let claim_minutes = req
            .claim_minutes
            .map(|m| check_range("claim_minutes", m, 10, 43_200))
            .transpose()?;
        let review_hours = req
            .review_hours
            .map(|h| check_range("review_hours", h, 1, 720))
            .transpose()?;
        let deadline = parse_deadline(req.deadline)?;
        let acceptance = req
            .acceptance
            .as_ref()
            .map(|a| parse_acceptance(Some(a)))
            .transpose()?;

        if status == TaskStatus::Open {
            if let Some(s) = slots
                && s < row.slots
            {
                return Err(published_conflict(
                    "slots",
                    "slots can be added, not removed",
                ));
            }
            if let (Some(new), Some(old)) = (deadline, row.deadline)
                && new < old
            {
                return Err(published_conflict(
                    "deadline",
                    "the deadline can move later, not earlier",
                ));
            }
            if let Some(m) = claim_minutes
                && m < row.claim_minutes
            {
                return Err(published_conflict(
                    "claim_minutes",
                    "claim time can grow, not shrink",
                ));
            }
            if let Some(p) = pricing {
                let worse = match (p, row.pricing()) {
                    (
                        ParsedPricing::Hourly { rate, max_seconds },
                        ParsedPricing::Hourly {
                            rate: r0,
                            max_seconds: m0,
                        },
                    ) => rate < r0 || max_seconds < m0,
                    (
                        ParsedPricing::Fixed { price, .. },
                        ParsedPricing::Fixed { price: p0, .. },
                    ) => price < p0,
                    _ => true,
                };
                if worse {
                    return Err(published_conflict(
                        "pricing",
                        "pay can go up, not down or change kind",
                    ));
                }
            }
        }

        let now = time::unix(time::now());
        let cols = pricing.map(pricing_columns);
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
             updated_at = $15 WHERE id = $16 AND status = $17"
        )
        .bind(title.as_ref().map(Name::as_str))
        .bind(instructions.as_deref())
        .bind(category)
        .bind(slots)
        .bind(claim_minutes)
        .bind(review_hours)
        .bind(deadline)
        .bind(acceptance.as_ref().map(|a| a.deliverable_url_required))
        .bind(acceptance.as_ref().map(|a| a.min_minutes))
        .bind(cols.map(|c| c.0))
        .bind(cols.and_then(|c| c.1))
        .bind(cols.and_then(|c| c.2))
        .bind(cols.and_then(|c| c.3))
        .bind(cols.and_then(|c| c.4))
        .bind(now)
        .bind(&row.id)
        .bind(&row.status)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if let Some(skills) = &skills {
            write_skills(&mut tx, &row.id, skills).await?;
        }
        tx.commit().await?;
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
        if row.status != "draft" {
            return Err(ApiError::conflict(
                "not_a_draft",
                format!("The task is {}, not a draft.", row.status),
            ));
        }
        // The law may have changed since the draft was written.
        row.pricing().check_minimum_wage(&state)?;
        let now = time::unix(time::now());
        if row.deadline.is_some_and(|d| d <= now) {
            let mut e = ApiError::conflict(
                "deadline_passed",
                "The deadline has passed; move it before publishing.",
            );
            e.field = Some("deadline".into());
            return Err(e);
        }
        let changed = on_db!(&state.db, |p| {
            sqlx::query(
            "UPDATE tasks SET status = 'open', published_at = $1, updated_at = $1 WHERE id = $2 AND status = 'draft'"
        )
        .bind(now)
        .bind(&row.id)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        vereda_store::db::marketplace_changed();
        if changed == 0 {
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
        if row.status != "draft" && row.status != "open" {
            return Err(ApiError::conflict(
                "task_finished",
                format!("The task is already {}.", row.status),
            ));
        }
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        tx.marketplace_changed();
        let changed = on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE tasks SET status = 'cancelled', closed_at = $1, updated_at = $1 \
             WHERE id = $2 AND status IN ('draft', 'open')"
        )
        .bind(now)
        .bind(&row.id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(ApiError::conflict(
                "task_finished",
                "The task was closed meanwhile.",
            ));
        }
        let open: Vec<(String, String)> =
            on_tx!(&mut tx, |c| sqlx::query_as(AssertSqlSafe(format!(
                "SELECT id, status FROM assignments WHERE task_id = $1 AND status IN {}",
                AssignmentStatus::sql_list(AssignmentStatus::is_active)
            )))
            .bind(&row.id)
            .fetch_all(&mut *c)
            .await)?;
        for (assignment_id, status) in open {
            let from = AssignmentStatus::parse(&status).unwrap_or(AssignmentStatus::Claimed);
            let m = Move {
                assignment_id: &assignment_id,
                from,
                to: AssignmentStatus::Released,
                actor: Some(&who.user_id),
                action: "task_cancelled",
                reason: Some("La empresa canceló la tarea."),
                details: None,
                at: now,
            };
            if transition(
                &mut tx,
                &m,
                "ended_at = $5",
                &[vereda_store::transitions::Bind::Int(Some(now))],
            )
            .await?
            {
                notify(
                    &mut tx,
                    "claim_cancelled",
                    &assignment_id,
                    &format!("claim_cancelled:{assignment_id}"),
                    &serde_json::json!({ "task_id": row.id }),
                    now,
                )
                .await?;
            }
        }
        tx.commit().await?;
        tracing::info!(task_id = %row.id, "task cancelled");
        Ok(TaskOk::Ok(Json(respond(&state, who, &row.id).await?)))
    }
}
