//! Teleworkers' profiles: personal data under Colombian habeas-data law, so only the worker
//! themself, admin and finance may read them (DESIGN §3). Anyone else gets 404.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Union};
use serde::{Deserialize, Serialize};
use sqlx::AssertSqlSafe;
use vereda_contracts::batches;
use vereda_contracts::cohorts::{self, Column, FileRefusal, Graduate, Refusal, RowRefusal};
use vereda_contracts::identity::{DocumentId, MobilePhone, Name, Role, Skill};
use vereda_contracts::places::{Place, PlaceRefusal, divipola};
use vereda_contracts::profiles::{self, AccountKind, Asked, Editor, Payout, ProfileRefusal};
use vereda_contracts::time;
use vereda_store::db::{Dialect, Tx};
use vereda_store::{on_db, on_tx};

use crate::ApiTags;
use crate::accounts::{Membership, NewLogin, insert_user, invite_if_needed, new_id};
use crate::auth::{BearerAuth, Principal, check_current_password};
use crate::body::{CsvBody, JsonBody};
use crate::consents::given_at_enrolment;
use crate::idempotency::IdempotencyKey;
use crate::pagination::PageRequest;
use crate::problem::{ApiError, ProblemItem};
use crate::skills::{active_names, check_listed, sentence};
use crate::startup::AppState;
use crate::tasks::{skills_column, split_skills};
use vereda_contracts::personal_data::Read;

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

/// The payout method of a worker whose personal data was deleted: nothing is left of it.
/// Shown, never accepted.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct ErasedPayout {}

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
    /// Her personal data was deleted (read only: refused as input).
    #[oai(mapping = "erased")]
    #[serde(rename = "erased")]
    Erased(ErasedPayout),
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
                let number = profiles::account_number(&b.account_number)
                    .map_err(|e| ApiError::invalid(at("account_number"), e))?;
                PayoutMethod::Bank(BankAccount {
                    bank: bank.into_string(),
                    account_type: b.account_type,
                    account_number: number,
                })
            }
            PayoutMethod::BreB(k) => PayoutMethod::BreB(BreBKey {
                key: profiles::breb_key(&k.key).map_err(|e| ApiError::invalid(at("key"), e))?,
            }),
            PayoutMethod::Erased(_) => return Err(erased_refused(field)),
        })
    }

    /// Where the money goes, as the pure rules see it (nowhere, once erased).
    fn destination(&self) -> Option<Payout> {
        Some(match self {
            PayoutMethod::Nequi(w) => Payout::Nequi {
                phone: w.phone.clone(),
            },
            PayoutMethod::Daviplata(w) => Payout::Daviplata {
                phone: w.phone.clone(),
            },
            PayoutMethod::Bank(b) => Payout::Bank {
                bank: b.bank.clone(),
                account_type: match b.account_type {
                    AccountType::Savings => AccountKind::Savings,
                    AccountType::Checking => AccountKind::Checking,
                },
                account_number: b.account_number.clone(),
            },
            PayoutMethod::BreB(k) => Payout::BreB { key: k.key.clone() },
            PayoutMethod::Erased(_) => return None,
        })
    }

    /// A method checked by the pure rules (an imported row's).
    fn of(p: &Payout) -> PayoutMethod {
        match p {
            Payout::Nequi { phone } => PayoutMethod::Nequi(WalletAccount {
                phone: phone.clone(),
            }),
            Payout::Daviplata { phone } => PayoutMethod::Daviplata(DaviplataAccount {
                phone: phone.clone(),
            }),
            Payout::Bank {
                bank,
                account_type,
                account_number,
            } => PayoutMethod::Bank(BankAccount {
                bank: bank.clone(),
                account_type: match account_type {
                    AccountKind::Savings => AccountType::Savings,
                    AccountKind::Checking => AccountType::Checking,
                },
                account_number: account_number.clone(),
            }),
            Payout::BreB { key } => PayoutMethod::BreB(BreBKey { key: key.clone() }),
        }
    }
}

/// `erased` is what an anonymised profile reads back, never a method to pay to: 422 naming
/// the field, in words she understands.
fn erased_refused(field: &str) -> ApiError {
    let mut e = ApiError::invalid(
        field,
        "\"erased\" is shown for a worker whose data was deleted; it is not a payout method",
    );
    e.detail_es = Some(
        "Ese medio de pago no existe: «erased» solo aparece en el perfil de una persona cuyos \
         datos se suprimieron. Elija Nequi, Daviplata, una cuenta bancaria o una llave Bre-B."
            .into(),
    );
    e
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
    pub(crate) fn as_str(self) -> &'static str {
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
    /// The programme group she told the admin enrolling her, having been read the consent
    /// text (`GET /v1/consent-policy`): recorded as her assisted consent, naming the admin.
    /// Leave it out unless she said yes; she can change or withdraw it herself
    /// (`/v1/workers/{id}/consent`).
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
    /// As DANE's DIVIPOLA names it.
    pub municipality: String,
    pub department: String,
    /// DANE's five-digit code; absent only for a place recorded before places were checked
    /// that matches none (to be corrected).
    #[oai(skip_serializing_if_is_none)]
    pub municipality_code: Option<String>,
    /// DANE's two-digit code (likewise).
    #[oai(skip_serializing_if_is_none)]
    pub department_code: Option<String>,
    pub skills: Vec<String>,
    pub payout_method: PayoutMethod,
    #[oai(skip_serializing_if_is_none)]
    pub document_id: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub phone: Option<String>,
    /// Staff only (on one worker): the other workers paid to the same phone or account, a
    /// mistake or one person behind two accounts, worth a look before the next payout.
    #[oai(skip_serializing_if_is_none)]
    pub duplicate_payout: Option<Vec<PayoutTwin>>,
    /// False once her account is deactivated (sign-in refused; staff may reactivate it with
    /// `POST /v1/users/{user_id}/reactivate`).
    pub active: bool,
    /// When her account was deactivated (absent while active).
    #[oai(skip_serializing_if_is_none)]
    pub deactivated_at: Option<DateTime<Utc>>,
    /// When her personal data was deleted at her request (Ley 1581): the profile then shows
    /// what is left, a name that says so, places `(suprimido)` and payout method `erased`,
    /// and can no longer be changed. Absent otherwise.
    #[oai(skip_serializing_if_is_none)]
    pub anonymised_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Another worker paid to the same phone or account.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct PayoutTwin {
    pub worker_id: String,
    pub name: String,
    /// Its line in the same imported file, when it came with it.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<i64>,
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

/// One worker an import created.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct ImportedWorker {
    /// The file's line (the header is line 1).
    pub line: i64,
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub municipality: String,
    pub municipality_code: String,
    pub department: String,
    pub department_code: String,
}

/// A created worker paid to the same phone or account as others.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct DuplicatePayout {
    pub line: i64,
    pub worker_id: String,
    pub shared_with: Vec<PayoutTwin>,
}

/// What an import did: every row a worker, each invited by e-mail to choose her password.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct WorkerImport {
    pub created: i64,
    pub workers: Vec<ImportedWorker>,
    /// Rows paid to the same phone or account as another worker of the file or already on
    /// file: created all the same, and worth a look before the next payout.
    pub duplicate_payout: Vec<DuplicatePayout>,
}

#[derive(ApiResponse)]
pub enum ImportCreated {
    #[oai(status = 201)]
    Created(Json<WorkerImport>),
}

/// A refused import file as one problem (422 on `csv`): the file as a whole, or every bad
/// row and column in `errors`.
fn import_refused(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::File(f) => {
            let mut problem = ApiError::rule(f.code(), Some("csv"), f.es());
            problem.detail_es = Some(sentence(&f.es()).into());
            problem
        }
        Refusal::Rows(rows) => {
            let items: Vec<ProblemItem> = rows
                .iter()
                .map(|r| ProblemItem {
                    line: r.line as u64,
                    column: r.column.clone(),
                    detail_es: r.es(),
                })
                .collect();
            let lines: BTreeSet<usize> = rows.iter().map(|r| r.line).collect();
            let mut problem = ApiError::rule(
                "invalid_row",
                Some("csv"),
                format!(
                    "{} row(s) of the file are wrong; no account was created.",
                    lines.len()
                ),
            );
            let mut es = if lines.len() == 1 {
                "El archivo tiene 1 fila con errores; no se creó ninguna cuenta.".to_string()
            } else {
                format!(
                    "El archivo tiene {} filas con errores; no se creó ninguna cuenta.",
                    lines.len()
                )
            };
            for item in items.iter().take(20) {
                es.push(' ');
                es.push_str(&item.detail_es);
            }
            if items.len() > 20 {
                es.push_str(&format!(" Y {} errores más.", items.len() - 20));
            }
            problem.detail_es = Some(es.into());
            problem.errors = Some(Box::new(items));
            problem
        }
    }
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

/// A place not in DANE's list: 422 naming the field, the nearest names in Spanish.
fn place_refused(e: &PlaceRefusal) -> ApiError {
    let mut problem = ApiError::rule(e.code(), Some(e.field()), e.detail());
    problem.detail_es = Some(sentence(&e.es()).into());
    problem
}

/// The place a municipality and department name (each first checked as text).
fn check_place(municipality: &str, department: &str) -> Result<Place<'static>, ApiError> {
    let municipality = parse_place("municipality", municipality)?;
    let department = parse_place("department", department)?;
    divipola()
        .place(&municipality, &department)
        .map_err(|e| place_refused(&e))
}

#[derive(sqlx::FromRow)]
struct WorkerRow {
    id: String,
    user_id: String,
    name: String,
    email: String,
    municipality: String,
    department: String,
    municipality_code: Option<String>,
    department_code: Option<String>,
    payout_method: String,
    payout_key: Option<String>,
    document_id: Option<String>,
    phone: Option<String>,
    created_at: i64,
    updated_at: i64,
    /// Sorted, comma-joined skills (see `tasks::skills_column`).
    skills: Option<String>,
    /// Her account's (`users.deactivated_at`).
    deactivated_at: Option<i64>,
    anonymised_at: Option<i64>,
}

/// The workers query, skills included, so a page is one query rather than one per worker.
fn worker_select(d: Dialect) -> String {
    format!(
        "SELECT w.id, u.id AS user_id, u.name, u.email, w.municipality, \
         w.department, w.municipality_code, w.department_code, w.payout_method, w.payout_key, \
         w.document_id, w.phone, w.created_at, \
         w.updated_at, {} AS skills, u.deactivated_at, w.anonymised_at FROM worker_profiles w \
         JOIN users u ON u.worker_id = w.id",
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
            municipality_code: r.municipality_code,
            department_code: r.department_code,
            skills,
            document_id: r.document_id,
            phone: r.phone,
            duplicate_payout: None,
            active: r.deactivated_at.is_none(),
            deactivated_at: r.deactivated_at.map(time::from_unix),
            anonymised_at: r.anonymised_at.map(time::from_unix),
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
    let key = row.payout_key.clone();
    let mut worker = load_workers(vec![row])?.remove(0);
    if who.is_staff() {
        let twins: Vec<(String, String)> = match key {
            Some(key) => on_db!(&state.db, |p| sqlx::query_as(TWINS)
                .bind(&key)
                .fetch_all(p)
                .await)?,
            None => Vec::new(),
        };
        worker.duplicate_payout = Some(
            twins
                .into_iter()
                .filter(|(id, _)| *id != worker.id)
                .map(|(worker_id, name)| PayoutTwin {
                    worker_id,
                    name,
                    line: None,
                })
                .collect(),
        );
    }
    Ok(worker)
}

/// The workers paid to one destination (`payout_key`), with their names, oldest first.
const TWINS: &str = "SELECT w.id, u.name FROM worker_profiles w JOIN users u \
     ON u.worker_id = w.id WHERE w.payout_key = $1 ORDER BY w.id";

/// A new worker's profile row, its place and payout destination checked.
struct NewProfile<'a> {
    id: &'a str,
    document_id: Option<&'a str>,
    place: Place<'static>,
    phone: Option<&'a str>,
    payout: &'a PayoutMethod,
    now: i64,
}

async fn insert_profile(tx: &mut Tx, p: &NewProfile<'_>) -> Result<(), ApiError> {
    let payout_json = serde_json::to_string(p.payout).map_err(ApiError::internal)?;
    let payout_key = p.payout.destination().map(|d| d.duplicate_key());
    vereda_store::exec_one!(
        tx,
        sqlx::query(
            "INSERT INTO worker_profiles (id, document_id, municipality, department, \
             municipality_code, department_code, phone, payout_method, payout_key, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)"
        )
        .bind(p.id)
        .bind(p.document_id)
        .bind(&p.place.municipality.name)
        .bind(&p.place.department.name)
        .bind(&p.place.municipality.code)
        .bind(&p.place.department.code)
        .bind(p.phone)
        .bind(&payout_json)
        .bind(&payout_key)
        .bind(p.now)
    )?;
    Ok(())
}

async fn replace_skills(
    tx: &mut vereda_store::db::Tx,
    worker_id: &str,
    skills: &BTreeSet<Skill>,
) -> Result<(), ApiError> {
    // Skills kept keep their source (training, or the paid qualification that granted it).
    on_tx!(tx, |c| {
        let held: Vec<String> =
            sqlx::query_scalar("SELECT skill FROM worker_skills WHERE worker_id = $1")
                .bind(worker_id)
                .fetch_all(&mut *c)
                .await?;
        for gone in held
            .iter()
            .filter(|h| !skills.iter().any(|s| s.as_str() == *h))
        {
            sqlx::query("DELETE FROM worker_skills WHERE worker_id = $1 AND skill = $2")
                .bind(worker_id)
                .bind(gone)
                .execute(&mut *c)
                .await?;
        }
        for s in skills {
            sqlx::query(
                "INSERT INTO worker_skills (worker_id, skill) VALUES ($1, $2) \
                 ON CONFLICT (worker_id, skill) DO NOTHING",
            )
            .bind(worker_id)
            .bind(s.as_str())
            .execute(&mut *c)
            .await?;
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
        let place = check_place(&req.municipality, &req.department)?;
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
        check_listed("skills", &req.skills, &active_names(&state.db).await?)?;
        let hash = login.password_hash().await?;

        let worker_id = new_id();
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        let profile = NewProfile {
            id: &worker_id,
            document_id: document_id.as_ref().map(DocumentId::as_str),
            place,
            phone: phone.as_ref().map(MobilePhone::as_str),
            payout: &payout,
            now,
        };
        insert_profile(&mut tx, &profile).await?;
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
        if let Some(group) = req.programme_group {
            given_at_enrolment(&mut tx, &worker_id, group.as_str(), &auth.0.user_id, now).await?;
        }
        tx.commit().await?;
        tracing::info!(worker_id = %worker_id, by = %auth.0.user_id, "worker created");
        Ok(WorkerCreated::Created(Json(
            visible_worker(&state, &auth.0, &worker_id).await?,
        )))
    }

    /// Import a cohort of workers from a spreadsheet (admin)
    ///
    /// A CSV file (UTF-8, with or without BOM; comma- or semicolon-separated, as Excel in
    /// Spanish saves it), a header row naming the columns, one worker a row, at most 1000:
    /// `name`, `email`, `document_id` (cédula), `phone`, `municipality`, `department`,
    /// `skills` (separated by `|` or spaces), `payout_kind` (`nequi`, `daviplata`, `bank` or
    /// `bre-b`), `payout_phone` (Nequi and Daviplata; else `phone`), `payout_bank`,
    /// `payout_account_type` (`savings` or `checking`), `payout_account_number`, `payout_key`
    /// (Bre-B) and `programme_group` (`youth`, `woman_head_of_household`,
    /// `conflict_victim`); Spanish headers are read too (`nombre`, `correo`, `cedula`,
    /// `celular`, `municipio`, `departamento`, `habilidades`, `medio_pago`, `banco`,
    /// `tipo_cuenta`, `numero_cuenta`, `llave`, `grupo`). Places are checked against DANE's
    /// DIVIPOLA and skills against the catalogue.
    ///
    /// Every row is checked before anything is created: a file with any bad row, an e-mail
    /// repeated or already taken, is refused whole (422 `invalid_row`, with `errors` naming
    /// each bad row and column in Spanish). Otherwise every worker is created in one
    /// transaction and invited by e-mail to choose her password (the link lasts 7 days). The
    /// answer flags rows paid to the same phone or account as another worker
    /// (`duplicate_payout`). Send an `Idempotency-Key` to upload again safely.
    #[oai(path = "/import", method = "post")]
    async fn import(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: CsvBody,
        /// Makes a re-upload harmless: the same key answers the first response again.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
    ) -> Result<ImportCreated, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Admin])?;
        let text = body.0;
        let key = IdempotencyKey::from_header(
            idempotency_key.0.as_deref(),
            "worker_import",
            text.as_bytes(),
        )?;
        if let Some(k) = &key
            && let Some((_, body)) = k.replay(&state, &who.user_id).await?
        {
            let answer: WorkerImport = serde_json::from_str(&body).map_err(ApiError::internal)?;
            return Ok(ImportCreated::Created(Json(answer)));
        }
        let sheet = batches::read_sheet(&text)
            .map_err(|e| import_refused(Refusal::File(FileRefusal::Sheet(e))))?;
        let catalogue = active_names(&state.db).await?;
        let graduates = cohorts::check_cohort(&sheet, &catalogue).map_err(import_refused)?;

        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        refuse_taken_emails(&mut tx, &sheet, &graduates).await?;
        let mut workers = Vec::with_capacity(graduates.len());
        for g in &graduates {
            workers.push(create_graduate(&state, &mut tx, g, who, now).await?);
        }
        let duplicate_payout = shared_payouts(&mut tx, &graduates, &workers).await?;
        let answer = WorkerImport {
            created: workers.len() as i64,
            workers,
            duplicate_payout,
        };
        if let Some(k) = &key {
            let body = serde_json::to_string(&answer).map_err(ApiError::internal)?;
            k.store(&mut tx, &who.user_id, 201, &body).await?;
        }
        tx.commit().await?;
        tracing::info!(workers = answer.created, by = %who.user_id, "workers imported");
        Ok(ImportCreated::Created(Json(answer)))
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
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        crate::data_access::record(&state, &auth.0, Read::Profile, "GET /v1/workers", &ids).await?;
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
        let worker = visible_worker(&state, &auth.0, &id.0).await?;
        let route = "GET /v1/workers/{id}";
        crate::data_access::record(&state, &auth.0, Read::Profile, route, &[&worker.id]).await?;
        Ok(WorkerOk::Ok(Json(worker)))
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
        if current.anonymised_at.is_some() {
            return Err(crate::data_requests::anonymised());
        }
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
        let change = ProfileChange::parse(req, &current)?;
        if let Some(raw) = &change.skills_raw {
            check_listed("skills", raw, &active_names(&state.db).await?)?;
        }
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
        let worker = visible_worker(&state, who, &current.id).await?;
        let route = "PATCH /v1/workers/{id}";
        crate::data_access::record(&state, who, Read::Profile, route, &[&worker.id]).await?;
        Ok(WorkerOk::Ok(Json(worker)))
    }
}

/// Refuse the whole import when any row's e-mail already has an account, naming every such
/// row (read in the import's transaction, so what it creates cannot clash).
async fn refuse_taken_emails(
    tx: &mut Tx,
    sheet: &batches::Sheet,
    graduates: &[Graduate],
) -> Result<(), ApiError> {
    let column = cohorts::header(sheet, Column::Email);
    let mut taken = Vec::new();
    for g in graduates {
        let found: Option<String> = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT id FROM users WHERE email = $1"
        )
        .bind(g.email.as_str())
        .fetch_optional(&mut *c)
        .await)?;
        if found.is_some() {
            taken.push(RowRefusal {
                line: g.line,
                column: Some(column.clone()),
                problem: format!("ya hay una cuenta con el correo «{}»", g.email.as_str()),
            });
        }
    }
    if taken.is_empty() {
        Ok(())
    } else {
        Err(import_refused(Refusal::Rows(taken)))
    }
}

/// Create one imported worker (profile, skills, account without a password) and queue her
/// invitation, in the import's transaction.
async fn create_graduate(
    state: &AppState,
    tx: &mut Tx,
    g: &Graduate,
    by: &Principal,
    now: i64,
) -> Result<ImportedWorker, ApiError> {
    let worker_id = new_id();
    let payout = PayoutMethod::of(&g.payout);
    let place = divipola()
        .by_code(&g.municipality.code)
        .ok_or_else(|| ApiError::internal("a checked place is not in DIVIPOLA"))?;
    let profile = NewProfile {
        id: &worker_id,
        document_id: g.document_id.as_ref().map(DocumentId::as_str),
        place,
        phone: g.phone.as_ref().map(MobilePhone::as_str),
        payout: &payout,
        now,
    };
    insert_profile(tx, &profile).await?;
    if let Some(group) = g.programme_group {
        given_at_enrolment(tx, &worker_id, group, &by.user_id, now).await?;
    }
    replace_skills(tx, &worker_id, &g.skills).await?;
    let login = NewLogin {
        name: g.name.clone(),
        email: g.email.clone(),
        password: None,
    };
    let hash = login.password_hash().await?;
    let user_id = insert_user(
        tx,
        &login,
        &hash,
        Membership::Worker {
            worker_id: &worker_id,
        },
        "csv",
    )
    .await?;
    invite_if_needed(state, tx, &login, &user_id, Role::Worker, by).await?;
    Ok(ImportedWorker {
        line: g.line as i64,
        id: worker_id,
        user_id,
        name: g.name.as_str().to_string(),
        email: g.email.as_str().to_string(),
        municipality: place.municipality.name.clone(),
        municipality_code: place.municipality.code.clone(),
        department: place.department.name.clone(),
        department_code: place.department.code.clone(),
    })
}

/// The imported workers paid where another worker is (of the file or already on file), read
/// in the import's transaction after its rows were written.
async fn shared_payouts(
    tx: &mut Tx,
    graduates: &[Graduate],
    workers: &[ImportedWorker],
) -> Result<Vec<DuplicatePayout>, ApiError> {
    let line_of: BTreeMap<&str, i64> = workers.iter().map(|w| (w.id.as_str(), w.line)).collect();
    let mut groups: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for g in graduates {
        let key = g.payout.duplicate_key();
        if groups.contains_key(&key) {
            continue;
        }
        let twins: Vec<(String, String)> = on_tx!(tx, |c| sqlx::query_as(TWINS)
            .bind(&key)
            .fetch_all(&mut *c)
            .await)?;
        groups.insert(key, twins);
    }
    let mut out = Vec::new();
    for (g, w) in graduates.iter().zip(workers) {
        let group = &groups[&g.payout.duplicate_key()];
        let shared_with: Vec<PayoutTwin> = group
            .iter()
            .filter(|(id, _)| *id != w.id)
            .map(|(id, name)| PayoutTwin {
                worker_id: id.clone(),
                name: name.clone(),
                line: line_of.get(id.as_str()).copied(),
            })
            .collect();
        if !shared_with.is_empty() {
            out.push(DuplicatePayout {
                line: w.line,
                worker_id: w.id.clone(),
                shared_with,
            });
        }
    }
    Ok(out)
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
    /// The new place: the municipality and department sent, the one not sent as on file.
    place: Option<Place<'static>>,
    phone: Option<MobilePhone>,
    document_id: Option<DocumentId>,
    payout: Option<PayoutMethod>,
    /// The payout method as stored, to compare with the one on file.
    payout_json: Option<String>,
    /// Where its money lands (`Payout::duplicate_key`).
    payout_key: Option<String>,
    skills: Option<BTreeSet<Skill>>,
    /// The skills as sent, to name the one the catalogue lacks by its place.
    skills_raw: Option<Vec<String>>,
    current_password: Option<String>,
}

impl ProfileChange {
    fn parse(req: UpdateWorker, current: &Worker) -> Result<ProfileChange, ApiError> {
        let name = req
            .name
            .as_deref()
            .map(Name::parse)
            .transpose()
            .map_err(|e| ApiError::invalid("name", e))?;
        let place = if req.municipality.is_some() || req.department.is_some() {
            Some(check_place(
                req.municipality.as_deref().unwrap_or(&current.municipality),
                req.department.as_deref().unwrap_or(&current.department),
            )?)
        } else {
            None
        };
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
        let payout_key = payout
            .as_ref()
            .and_then(PayoutMethod::destination)
            .map(|d| d.duplicate_key());
        let skills = req
            .skills
            .as_deref()
            .map(|s| parse_skills("skills", s))
            .transpose()?;
        Ok(ProfileChange {
            name,
            place,
            phone,
            document_id,
            payout,
            payout_json,
            payout_key,
            skills,
            skills_raw: req.skills,
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
             document_id = COALESCE($5, document_id), updated_at = $6, \
             municipality_code = COALESCE($8, municipality_code), \
             department_code = COALESCE($9, department_code), \
             payout_key = COALESCE($10, payout_key) WHERE id = $7",
        )
        .bind(change.place.map(|p| p.municipality.name.as_str()))
        .bind(change.place.map(|p| p.department.name.as_str()))
        .bind(change.phone.as_ref().map(MobilePhone::as_str))
        .bind(change.payout_json.as_deref())
        .bind(change.document_id.as_ref().map(DocumentId::as_str))
        .bind(now)
        .bind(worker_id)
        .bind(change.place.map(|p| p.municipality.code.as_str()))
        .bind(change.place.map(|p| p.department.code.as_str()))
        .bind(change.payout_key.as_deref())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_erased_payout_method_reads_back_and_is_never_accepted() {
        let stored = vereda_store::erasure::ERASED_PAYOUT;
        let method: PayoutMethod = serde_json::from_str(stored).unwrap();
        assert!(matches!(method, PayoutMethod::Erased(_)));
        assert_eq!(serde_json::to_string(&method).unwrap(), stored);
        assert!(method.destination().is_none());
        let refused = method.parse("payout_method").unwrap_err();
        assert_eq!(
            (refused.code, refused.field.as_deref()),
            ("validation_failed", Some("payout_method"))
        );
        assert!(refused.detail_es.unwrap().contains("Elija Nequi"));
    }
}
