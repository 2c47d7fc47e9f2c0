//! Teleworkers' profiles: personal data under Colombian habeas-data law, so only the worker
//! themself, admin and finance may read them (DESIGN §3). Anyone else gets 404.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Union};
use serde::{Deserialize, Serialize};
use sqlx::AssertSqlSafe;
use vereda_contracts::identity::{DocumentId, MobilePhone, Name, Role, Skill};
use vereda_contracts::profiles::{self, Asked, Editor, ProfileRefusal};
use vereda_contracts::time;
use vereda_store::db::Dialect;
use vereda_store::{on_db, on_tx};

use crate::ApiTags;
use crate::accounts::{Membership, NewLogin, insert_user, invite_if_needed, new_id};
use crate::auth::{BearerAuth, Principal, check_current_password};
use crate::body::JsonBody;
use crate::pagination::PageRequest;
use crate::problem::ApiError;
use crate::startup::AppState;
use crate::tasks::{skills_column, split_skills};

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct WalletAccount {
    /// Colombian mobile number, 10 digits starting with 3.
    pub phone: String,
}

/// A Daviplata wallet. Its own type, so the OpenAPI union gets one schema per `kind` (a
/// shared type made poem-openapi register `nequi` and `daviplata` under one name, and the
/// contract then refused `nequi`).
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct DaviplataAccount {
    /// Colombian mobile number, 10 digits starting with 3.
    pub phone: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum AccountType {
    Savings,
    Checking,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct BankAccount {
    pub bank: String,
    pub account_type: AccountType,
    pub account_number: String,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct BreBKey {
    /// Bre-B key: cédula, phone, e-mail or alias.
    pub key: String,
}

/// How the worker is paid.
#[derive(Debug, Clone, Union, Serialize, Deserialize)]
#[oai(discriminator_name = "kind")]
#[serde(tag = "kind")]
pub enum PayoutMethod {
    #[oai(mapping = "nequi")]
    #[serde(rename = "nequi")]
    Nequi(WalletAccount),
    #[oai(mapping = "daviplata")]
    #[serde(rename = "daviplata")]
    Daviplata(DaviplataAccount),
    #[oai(mapping = "bank")]
    #[serde(rename = "bank")]
    Bank(BankAccount),
    #[oai(mapping = "bre-b")]
    #[serde(rename = "bre-b")]
    BreB(BreBKey),
}

impl PayoutMethod {
    /// Check and normalise (phones to 10 digits, trimmed text).
    fn parse(self, field: &str) -> Result<PayoutMethod, ApiError> {
        let at = |f: &str| format!("{field}.{f}");
        Ok(match self {
            PayoutMethod::Nequi(w) => PayoutMethod::Nequi(WalletAccount {
                phone: MobilePhone::parse(&w.phone)
                    .map_err(|e| ApiError::invalid(at("phone"), e))?
                    .as_str()
                    .into(),
            }),
            PayoutMethod::Daviplata(w) => PayoutMethod::Daviplata(DaviplataAccount {
                phone: MobilePhone::parse(&w.phone)
                    .map_err(|e| ApiError::invalid(at("phone"), e))?
                    .as_str()
                    .into(),
            }),
            PayoutMethod::Bank(b) => {
                let bank = Name::parse(&b.bank).map_err(|e| ApiError::invalid(at("bank"), e))?;
                let number: String = b
                    .account_number
                    .chars()
                    .filter(|c| !matches!(c, ' ' | '-'))
                    .collect();
                if !(6..=20).contains(&number.len()) || !number.chars().all(|c| c.is_ascii_digit())
                {
                    return Err(ApiError::invalid(
                        at("account_number"),
                        "must be 6 to 20 digits",
                    ));
                }
                PayoutMethod::Bank(BankAccount {
                    bank: bank.into_string(),
                    account_type: b.account_type,
                    account_number: number,
                })
            }
            PayoutMethod::BreB(k) => {
                let key = k.key.trim();
                if key.is_empty() || key.chars().count() > 100 || key.chars().any(char::is_control)
                {
                    return Err(ApiError::invalid(
                        at("key"),
                        "must be 1 to 100 printable characters",
                    ));
                }
                PayoutMethod::BreB(BreBKey {
                    key: key.to_string(),
                })
            }
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ProgrammeGroup {
    Youth,
    WomanHeadOfHousehold,
    ConflictVictim,
}

impl ProgrammeGroup {
    fn as_str(self) -> &'static str {
        match self {
            ProgrammeGroup::Youth => "youth",
            ProgrammeGroup::WomanHeadOfHousehold => "woman_head_of_household",
            ProgrammeGroup::ConflictVictim => "conflict_victim",
        }
    }
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct CreateWorker {
    pub name: String,
    pub email: String,
    /// At least 12 characters. Leave it out to e-mail an invitation instead: a link, valid 7
    /// days, with which the person chooses her own password.
    #[oai(skip_serializing_if_is_none)]
    pub password: Option<String>,
    pub municipality: String,
    pub department: String,
    /// Skills earned in training, e.g. `data-entry`.
    pub skills: Vec<String>,
    pub payout_method: PayoutMethod,
    /// Cédula de ciudadanía.
    #[serde(default)]
    pub document_id: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// Self-declared, used only in aggregate reports.
    #[serde(default)]
    pub programme_group: Option<ProgrammeGroup>,
}

#[derive(Debug, Object, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct UpdateWorker {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub municipality: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub payout_method: Option<PayoutMethod>,
    #[serde(default)]
    pub programme_group: Option<ProgrammeGroup>,
    /// Admin only (skills are earned in training).
    #[serde(default)]
    pub skills: Option<Vec<String>>,
    /// Admin only.
    #[serde(default)]
    pub document_id: Option<String>,
    /// The worker's own password: needed when she changes her payout method (wrong guesses
    /// are limited as for sign-in). Staff changing it on her behalf send none.
    #[serde(default)]
    pub current_password: Option<String>,
}

/// A worker's profile, with personal data (shown only to the worker, admin and finance).
#[derive(Debug, Object)]
pub struct Worker {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub municipality: String,
    pub department: String,
    pub skills: Vec<String>,
    pub payout_method: PayoutMethod,
    #[oai(skip_serializing_if_is_none)]
    pub document_id: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub phone: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub programme_group: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct WorkerList {
    pub items: Vec<Worker>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum WorkerCreated {
    #[oai(status = 201)]
    Created(Json<Worker>),
}

#[derive(ApiResponse)]
pub enum WorkerOk {
    #[oai(status = 200)]
    Ok(Json<Worker>),
}

#[derive(ApiResponse)]
pub enum WorkerListOk {
    #[oai(status = 200)]
    Ok(Json<WorkerList>),
}

fn parse_skills(field: &str, raw: &[String]) -> Result<BTreeSet<Skill>, ApiError> {
    if raw.len() > 50 {
        return Err(ApiError::invalid(field, "at most 50 skills"));
    }
    raw.iter()
        .enumerate()
        .map(|(i, s)| Skill::parse(s).map_err(|e| ApiError::invalid(format!("{field}[{i}]"), e)))
        .collect()
}

fn parse_place(field: &str, raw: &str) -> Result<String, ApiError> {
    Name::parse(raw)
        .map(Name::into_string)
        .map_err(|e| ApiError::invalid(field, e))
}

#[derive(sqlx::FromRow)]
struct WorkerRow {
    id: String,
    user_id: String,
    name: String,
    email: String,
    municipality: String,
    department: String,
    payout_method: String,
    document_id: Option<String>,
    phone: Option<String>,
    programme_group: Option<String>,
    created_at: i64,
    updated_at: i64,
    /// Sorted, comma-joined skills (see `tasks::skills_column`).
    skills: Option<String>,
}

/// The workers query, skills included, so a page is one query rather than one per worker.
fn worker_select(d: Dialect) -> String {
    format!(
        "SELECT w.id, u.id AS user_id, u.name, u.email, w.municipality, \
         w.department, w.payout_method, w.document_id, w.phone, w.programme_group, w.created_at, \
         w.updated_at, {} AS skills FROM worker_profiles w JOIN users u ON u.worker_id = w.id",
        skills_column(d, "worker_skills", "worker_id", "w.id")
    )
}

/// The workers listing's query (public so `vereda-bench` can EXPLAIN it). Binds: $1 the
/// cursor, $2 a skill or NULL, $3 rows to fetch.
pub fn list_sql(d: Dialect) -> String {
    format!(
        "{} WHERE w.id < $1 AND ($2 IS NULL OR EXISTS \
         (SELECT 1 FROM worker_skills s WHERE s.worker_id = w.id AND s.skill = $2)) \
         ORDER BY w.id DESC LIMIT $3",
        worker_select(d)
    )
}

fn load_workers(rows: Vec<WorkerRow>) -> Result<Vec<Worker>, ApiError> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let skills = split_skills(r.skills.as_deref());
        out.push(Worker {
            payout_method: serde_json::from_str(&r.payout_method).map_err(ApiError::internal)?,
            id: r.id,
            user_id: r.user_id,
            name: r.name,
            email: r.email,
            municipality: r.municipality,
            department: r.department,
            skills,
            document_id: r.document_id,
            phone: r.phone,
            programme_group: r.programme_group,
            created_at: time::from_unix(r.created_at),
            updated_at: time::from_unix(r.updated_at),
        });
    }
    Ok(out)
}

/// The worker if the caller may read their personal data; 404 otherwise (including for
/// companies and other workers, so ids cannot be probed).
async fn visible_worker(state: &AppState, who: &Principal, id: &str) -> Result<Worker, ApiError> {
    let allowed = who.is_staff() || who.worker_id.as_deref() == Some(id);
    if !allowed {
        return Err(ApiError::not_found("worker"));
    }
    let sql = format!("{} WHERE w.id = $1", worker_select(state.db.dialect()));
    let row: Option<WorkerRow> =
        on_db!(&state.db, |p| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(id)
            .fetch_optional(p)
            .await)?;
    let row = row.ok_or_else(|| ApiError::not_found("worker"))?;
    Ok(load_workers(vec![row])?.remove(0))
}

async fn replace_skills(
    tx: &mut vereda_store::db::Tx,
    worker_id: &str,
    skills: &BTreeSet<Skill>,
) -> Result<(), ApiError> {
    on_tx!(tx, |c| {
        sqlx::query("DELETE FROM worker_skills WHERE worker_id = $1")
            .bind(worker_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())?;
        for s in skills {
            sqlx::query("INSERT INTO worker_skills (worker_id, skill) VALUES ($1, $2)")
                .bind(worker_id)
                .bind(s.as_str())
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())?;
        }
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(())
}

pub struct WorkersApi;

#[OpenApi(prefix_path = "/v1/workers", tag = "ApiTags::Workers")]
impl WorkersApi {
    /// Create a worker with profile and skills (admin)
    #[oai(path = "/", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<CreateWorker>,
    ) -> Result<WorkerCreated, ApiError> {
        auth.0.require(&[Role::Admin])?;
        let req = body.0;
        let login = NewLogin::parse("", &req.name, &req.email, req.password.as_deref())?;
        let municipality = parse_place("municipality", &req.municipality)?;
        let department = parse_place("department", &req.department)?;
        let skills = parse_skills("skills", &req.skills)?;
        let payout = req.payout_method.parse("payout_method")?;
        let document_id = req
            .document_id
            .as_deref()
            .map(DocumentId::parse)
            .transpose()
            .map_err(|e| ApiError::invalid("document_id", e))?;
        let phone = req
            .phone
            .as_deref()
            .map(MobilePhone::parse)
            .transpose()
            .map_err(|e| ApiError::invalid("phone", e))?;
        let hash = login.password_hash().await?;

        let worker_id = new_id();
        let now = time::unix(time::now());
        let payout_json = serde_json::to_string(&payout).map_err(ApiError::internal)?;
        let mut tx = state.db.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO worker_profiles (id, document_id, municipality, department, phone, \
             payout_method, programme_group, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)"
        )
        .bind(&worker_id)
        .bind(document_id.as_ref().map(DocumentId::as_str))
        .bind(&municipality)
        .bind(&department)
        .bind(phone.as_ref().map(MobilePhone::as_str))
        .bind(&payout_json)
        .bind(req.programme_group.map(ProgrammeGroup::as_str))
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        replace_skills(&mut tx, &worker_id, &skills).await?;
        let user_id = insert_user(
            &mut tx,
            &login,
            &hash,
            Membership::Worker {
                worker_id: &worker_id,
            },
            "email",
        )
        .await?;
        invite_if_needed(&state, &mut tx, &login, &user_id, Role::Worker, &auth.0).await?;
        tx.commit().await?;
        tracing::info!(worker_id = %worker_id, by = %auth.0.user_id, "worker created");
        Ok(WorkerCreated::Created(Json(
            visible_worker(&state, &auth.0, &worker_id).await?,
        )))
    }

    /// List workers (admin, finance)
    #[oai(path = "/", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
        /// Only workers holding this skill.
        skill: Query<Option<String>>,
    ) -> Result<WorkerListOk, ApiError> {
        auth.0.require(&[Role::Admin, Role::Finance])?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let sql = list_sql(state.db.dialect());
        let rows: Vec<WorkerRow> =
            on_db!(&state.db, |p| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(page.before())
                .bind(skill.0.as_deref())
                .bind(page.fetch())
                .fetch_all(p)
                .await)?;
        let (rows, next_cursor) = page.finish(rows, |r| &r.id);
        Ok(WorkerListOk::Ok(Json(WorkerList {
            items: load_workers(rows)?,
            next_cursor,
        })))
    }

    /// Get a worker's profile (the worker, admin, finance)
    #[oai(path = "/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<WorkerOk, ApiError> {
        Ok(WorkerOk::Ok(Json(
            visible_worker(&state, &auth.0, &id.0).await?,
        )))
    }

    /// Update a worker's profile
    ///
    /// The worker may change their contact, place and payout method; skills and cédula are
    /// changed by admin.
    #[oai(path = "/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<UpdateWorker>,
    ) -> Result<WorkerOk, ApiError> {
        let who = &auth.0;
        let current = visible_worker(&state, who, &id.0).await?;
        let editor = Editor::of(
            who.role,
            who.worker_id.as_deref() == Some(current.id.as_str()),
        );
        let req = body.0;
        let asked = Asked {
            skills: req.skills.is_some(),
            document_id: req.document_id.is_some(),
            payout_method: req.payout_method.is_some(),
            current_password: req.current_password.is_some(),
        };
        profiles::may_change(editor, &asked).map_err(profile_refused)?;
        let change = ProfileChange::parse(req)?;
        let current_json =
            serde_json::to_string(&current.payout_method).map_err(ApiError::internal)?;
        let plan = profiles::plan(editor, &asked, change.payout_json.as_deref(), &current_json)
            .map_err(profile_refused)?;
        // Checked after the fields parse, so a typo does not cost her an attempt.
        if plan.check_password
            && let Some(password) = change.current_password.as_deref()
        {
            check_current_password(&state, &who.user_id, password, "current_password").await?;
        }
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        store_change(&mut tx, &current.id, &change, now).await?;
        if plan.payout_changes
            && let Some(method) = &change.payout
        {
            payout_method_changed(&state, &mut tx, &current, method, who, now).await?;
        }
        if let Some(skills) = &change.skills {
            replace_skills(&mut tx, &current.id, skills).await?;
        }
        tx.commit().await?;
        // Signed-in principals carry the name and skills.
        state.tokens.forget_all();
        Ok(WorkerOk::Ok(Json(
            visible_worker(&state, who, &current.id).await?,
        )))
    }
}

/// A refused profile change as the API answers it.
fn profile_refused(r: ProfileRefusal) -> ApiError {
    match r {
        ProfileRefusal::NotYours => {
            ApiError::forbidden("Only the worker or an admin may change this profile.")
        }
        ProfileRefusal::StaffOnly { field } => {
            let mut e = ApiError::forbidden("Skills and cédula are recorded by programme staff.");
            e.field = Some(field.into());
            e
        }
        ProfileRefusal::PasswordNeeded => ApiError::invalid(
            "current_password",
            "escriba su contraseña actual para cambiar el medio de pago",
        ),
    }
}

/// A profile change, its fields parsed (422 naming the first that does not).
struct ProfileChange {
    name: Option<Name>,
    municipality: Option<String>,
    department: Option<String>,
    phone: Option<MobilePhone>,
    document_id: Option<DocumentId>,
    payout: Option<PayoutMethod>,
    /// The payout method as stored, to compare with the one on file.
    payout_json: Option<String>,
    programme_group: Option<ProgrammeGroup>,
    skills: Option<BTreeSet<Skill>>,
    current_password: Option<String>,
}

impl ProfileChange {
    fn parse(req: UpdateWorker) -> Result<ProfileChange, ApiError> {
        let name = req
            .name
            .as_deref()
            .map(Name::parse)
            .transpose()
            .map_err(|e| ApiError::invalid("name", e))?;
        let place = |field: &str, raw: Option<&str>| raw.map(|m| parse_place(field, m)).transpose();
        let municipality = place("municipality", req.municipality.as_deref())?;
        let department = place("department", req.department.as_deref())?;
        let phone = req
            .phone
            .as_deref()
            .map(MobilePhone::parse)
            .transpose()
            .map_err(|e| ApiError::invalid("phone", e))?;
        let document_id = req
            .document_id
            .as_deref()
            .map(DocumentId::parse)
            .transpose()
            .map_err(|e| ApiError::invalid("document_id", e))?;
        let payout = req
            .payout_method
            .map(|m| m.parse("payout_method"))
            .transpose()?;
        let payout_json = payout
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(ApiError::internal)?;
        let skills = req
            .skills
            .as_deref()
            .map(|s| parse_skills("skills", s))
            .transpose()?;
        Ok(ProfileChange {
            name,
            municipality,
            department,
            phone,
            document_id,
            payout,
            payout_json,
            programme_group: req.programme_group,
            skills,
            current_password: req.current_password,
        })
    }
}

/// Write a profile change (fields not sent stay as they are).
async fn store_change(
    tx: &mut vereda_store::db::Tx,
    worker_id: &str,
    change: &ProfileChange,
    now: i64,
) -> Result<(), ApiError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE worker_profiles SET municipality = COALESCE($1, municipality), \
             department = COALESCE($2, department), phone = COALESCE($3, phone), \
             payout_method = COALESCE($4, payout_method), \
             programme_group = COALESCE($5, programme_group), \
             document_id = COALESCE($6, document_id), updated_at = $7 WHERE id = $8",
        )
        .bind(change.municipality.as_deref())
        .bind(change.department.as_deref())
        .bind(change.phone.as_ref().map(MobilePhone::as_str))
        .bind(change.payout_json.as_deref())
        .bind(change.programme_group.map(ProgrammeGroup::as_str))
        .bind(change.document_id.as_ref().map(DocumentId::as_str))
        .bind(now)
        .bind(worker_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())?;
        sqlx::query(
            "UPDATE users SET name = COALESCE($1, name), updated_at = $2 WHERE worker_id = $3",
        )
        .bind(change.name.as_ref().map(Name::as_str))
        .bind(now)
        .bind(worker_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// A new payout destination: the next payout to it waits [`PAYOUT_HOLD_SECS`] (the batch
/// reads `payout_method_changed_at`), the change is audited with who made it, and her address
/// on file is told, in the same transaction.
///
/// [`PAYOUT_HOLD_SECS`]: vereda_contracts::accounts::PAYOUT_HOLD_SECS
async fn payout_method_changed(
    state: &AppState,
    tx: &mut vereda_store::db::Tx,
    worker: &Worker,
    method: &PayoutMethod,
    by: &Principal,
    now: i64,
) -> Result<(), ApiError> {
    let event_id = new_id();
    on_tx!(tx, |c| {
        sqlx::query("UPDATE worker_profiles SET payout_method_changed_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&worker.id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())?;
        sqlx::query(
            "INSERT INTO account_events (id, user_id, kind, actor_id, created_at) \
             VALUES ($1, $2, 'payout_method_changed', $3, $4)",
        )
        .bind(&event_id)
        .bind(&worker.user_id)
        .bind(&by.user_id)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    let method = serde_json::to_value(method).map_err(ApiError::internal)?;
    let by_staff = by.worker_id.as_deref() != Some(worker.id.as_str());
    let content = vereda_documents::mail::payout_method_changed(
        &state.settings.issuer(),
        &worker.name,
        &method,
        now,
        by_staff,
    );
    let message = vereda_store::outbox::NewMessage {
        dedupe_key: format!("payout_method_changed:{event_id}"),
        kind: "payout_method_changed",
        recipient: &worker.email,
        user_id: Some(&worker.user_id),
        content,
        attachment: None,
    };
    vereda_store::outbox::enqueue(tx, message, now)
        .await
        .map_err(ApiError::from_anyhow)?;
    tracing::info!(worker_id = %worker.id, by = %by.user_id, "payout method changed");
    Ok(())
}
