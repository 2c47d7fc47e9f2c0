//! Consent to sensitive data (issue 22 §1): the text she is asked (`GET /v1/consent-policy`),
//! her consent and what she gave under it (`/v1/workers/{id}/consent`), its withdrawal, and
//! the programme groups staff keep (`/v1/programme-groups`). The rule is
//! `contracts::consent`; the ledger is the `consents` table, only ever added to. Nothing that
//! decides access to work reads these tables.

use crate::accounts::new_id;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use rust_decimal::Decimal;
use serde::Deserialize;
use vereda_contracts::consent::{self, Action, Answer, Channel, Group};
use vereda_contracts::identity::{Name, Role};
use vereda_contracts::money::Cop;
use vereda_contracts::personal_data::Read;
use vereda_contracts::time;
use vereda_store::db::Tx;
use vereda_store::{on_db, on_tx};

use crate::ApiTags;
use crate::auth::{BearerAuth, NoContent, Principal};
use crate::body::JsonBody;
use crate::data_access::{herself_or_admin, record};
use crate::problem::ApiError;
use crate::startup::AppState;

/// The refusal as a problem naming its field, with her sentence.
fn refused(e: &consent::Refusal) -> ApiError {
    let mut problem = if e.is_conflict() {
        ApiError::conflict(e.code(), e.detail())
    } else {
        ApiError::rule(e.code(), Some(e.field()), e.detail())
    };
    problem.field = Some(e.field().into());
    problem.detail_es = Some(e.es().into());
    problem
}

/// A programme group.
#[derive(Debug, Object)]
pub struct ProgrammeGroupEntry {
    /// e.g. `woman_head_of_household`.
    pub code: String,
    /// In Spanish, e.g. `Mujer cabeza de hogar`.
    pub label: String,
    /// False once retired: kept where it is, refused on new answers.
    pub active: bool,
}

#[derive(sqlx::FromRow)]
struct GroupRow {
    code: String,
    label: String,
    active: bool,
}

impl From<GroupRow> for ProgrammeGroupEntry {
    fn from(r: GroupRow) -> Self {
        ProgrammeGroupEntry {
            code: r.code,
            label: r.label,
            active: r.active,
        }
    }
}

const GROUPS: &str = "SELECT code, label, active FROM programme_groups ORDER BY label";

async fn groups_tx(tx: &mut Tx) -> Result<Vec<GroupRow>, ApiError> {
    Ok(on_tx!(tx, |c| sqlx::query_as(GROUPS)
        .fetch_all(&mut *c)
        .await)?)
}

/// What she is asked, and why.
#[derive(Debug, Object)]
pub struct ConsentPolicy {
    /// The date the text took effect; send it back with her answer.
    pub version: String,
    /// Word for word what she is shown.
    pub text: String,
    /// sha256 of `text`, hex; send it back with her answer.
    pub text_hash: String,
    /// `impact_reports`.
    pub purpose: String,
    /// The purpose as she reads it.
    pub purpose_es: String,
    /// The groups she may say she belongs to (active ones).
    pub groups: Vec<ProgrammeGroupEntry>,
}

/// A row of her consent ledger.
#[derive(Debug, Object)]
pub struct ConsentEvent {
    /// `given` or `withdrawn`.
    pub action: String,
    pub policy_version: String,
    pub text_hash: String,
    /// `app` (herself) or `assisted` (staff recorded her answer).
    pub channel: String,
    /// Who helped her, when someone did.
    #[oai(skip_serializing_if_is_none)]
    pub helped_by: Option<String>,
    pub at: DateTime<Utc>,
}

/// Her consent now, what she gave under it, and its history.
#[derive(Debug, Object)]
pub struct ConsentState {
    pub worker_id: String,
    /// True while her latest row is `given`.
    pub consenting: bool,
    /// True when she consented to an older text than the one in force (ask her again).
    pub asked_again: bool,
    /// Her household's monthly income before joining, whole pesos, when given.
    #[oai(skip_serializing_if_is_none)]
    pub baseline_monthly_income: Option<String>,
    /// Group codes, sorted. (Groups staff recorded before consent was kept are listed here
    /// too, and count in no report until she consents.)
    pub groups: Vec<String>,
    /// Oldest first.
    pub history: Vec<ConsentEvent>,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct GiveConsent {
    /// The `version` of the text she was shown.
    pub policy_version: String,
    /// The `text_hash` of the text she was shown.
    pub text_hash: String,
    /// Whole pesos a month, e.g. `"650000"`; leave it out if she prefers not to say.
    #[serde(default)]
    pub baseline_monthly_income: Option<String>,
    /// Group codes; empty if she prefers not to say.
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(ApiResponse)]
pub enum ConsentPolicyOk {
    #[oai(status = 200)]
    Ok(Json<ConsentPolicy>),
}

#[derive(ApiResponse)]
pub enum ConsentStateOk {
    #[oai(status = 200)]
    Ok(Json<ConsentState>),
}

#[derive(sqlx::FromRow)]
struct EventRow {
    action: String,
    policy_version: String,
    text_hash: String,
    channel: String,
    helped_by: Option<String>,
    at: i64,
}

async fn state_of(tx: &mut Tx, worker_id: &str) -> Result<ConsentState, ApiError> {
    let rows: Vec<EventRow> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT c.action, c.policy_version, c.text_hash, c.channel, u.name AS helped_by, c.at \
         FROM consents c LEFT JOIN users u ON u.id = c.helped_by \
         WHERE c.worker_id = $1 AND c.purpose = $2 ORDER BY c.at, c.id"
    )
    .bind(worker_id)
    .bind(consent::PURPOSE)
    .fetch_all(&mut *c)
    .await)?;
    let baseline: Option<String> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT monthly_income FROM worker_baselines WHERE worker_id = $1"
    )
    .bind(worker_id)
    .fetch_optional(&mut *c)
    .await)?;
    let groups: Vec<String> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT group_code FROM worker_groups WHERE worker_id = $1 ORDER BY group_code"
    )
    .bind(worker_id)
    .fetch_all(&mut *c)
    .await)?;
    let consenting = consent::consenting(rows.iter().map(|r| r.action.as_str()));
    let asked_again = consenting
        && rows
            .last()
            .is_some_and(|r| r.policy_version != consent::POLICY_VERSION);
    Ok(ConsentState {
        worker_id: worker_id.into(),
        consenting,
        asked_again,
        baseline_monthly_income: baseline,
        groups,
        history: rows
            .into_iter()
            .map(|r| ConsentEvent {
                action: r.action,
                policy_version: r.policy_version,
                text_hash: r.text_hash,
                channel: r.channel,
                helped_by: r.helped_by,
                at: time::from_unix(r.at),
            })
            .collect(),
    })
}

/// Append a ledger row.
async fn append(
    tx: &mut Tx,
    worker_id: &str,
    action: Action,
    channel: Channel,
    helped_by: Option<&str>,
    now: i64,
) -> Result<(), ApiError> {
    vereda_store::exec_one!(
        tx,
        sqlx::query(
            "INSERT INTO consents (id, worker_id, purpose, action, policy_version, text_hash, \
             channel, helped_by, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(new_id())
        .bind(worker_id)
        .bind(consent::PURPOSE)
        .bind(action.as_str())
        .bind(consent::POLICY_VERSION)
        .bind(consent::text_hash())
        .bind(channel.as_str())
        .bind(helped_by)
        .bind(now)
    )?;
    Ok(())
}

/// Forget what she gave (on withdrawal, and before a new answer replaces it).
async fn forget(tx: &mut Tx, worker_id: &str) -> Result<(), ApiError> {
    on_tx!(tx, |c| {
        sqlx::query("DELETE FROM worker_groups WHERE worker_id = $1")
            .bind(worker_id)
            .execute(&mut *c)
            .await?;
        sqlx::query("DELETE FROM worker_baselines WHERE worker_id = $1")
            .bind(worker_id)
            .execute(&mut *c)
            .await?;
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(())
}

/// Record her answer as given (replacing any earlier one) with a `given` row.
async fn keep(
    tx: &mut Tx,
    worker_id: &str,
    answer: &Answer,
    channel: Channel,
    helped_by: Option<&str>,
    now: i64,
) -> Result<(), ApiError> {
    forget(tx, worker_id).await?;
    for g in &answer.groups {
        vereda_store::exec_one!(
            tx,
            sqlx::query("INSERT INTO worker_groups (worker_id, group_code) VALUES ($1, $2)")
                .bind(worker_id)
                .bind(g)
        )?;
    }
    if let Some(b) = answer.baseline {
        vereda_store::exec_one!(
            tx,
            sqlx::query(
                "INSERT INTO worker_baselines (worker_id, monthly_income, updated_at) \
                 VALUES ($1, $2, $3)"
            )
            .bind(worker_id)
            .bind(b.to_string())
            .bind(now)
        )?;
    }
    append(tx, worker_id, Action::Given, channel, helped_by, now).await
}

/// Staff enrolling a worker recorded the group she gave them, having read her the text in
/// force: her assisted consent, with the staff member named.
pub(crate) async fn given_at_enrolment(
    tx: &mut Tx,
    worker_id: &str,
    group: &str,
    helped_by: &str,
    now: i64,
) -> Result<(), ApiError> {
    let answer = Answer {
        baseline: None,
        groups: vec![group.into()],
    };
    keep(
        tx,
        worker_id,
        &answer,
        Channel::Assisted,
        Some(helped_by),
        now,
    )
    .await
}

/// The channel of an answer: hers, or an admin's on her behalf.
fn channel_of(who: &Principal, worker_id: &str) -> (Channel, Option<String>) {
    if who.worker_id.as_deref() == Some(worker_id) {
        (Channel::App, None)
    } else {
        (Channel::Assisted, Some(who.user_id.clone()))
    }
}

async fn worker_exists(tx: &mut Tx, worker_id: &str) -> Result<(), ApiError> {
    if vereda_store::locks::worker(tx, worker_id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("worker"))
    }
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct NewProgrammeGroup {
    /// Lower-case letters, digits and underscores, 2–40 characters, e.g. `indigenous`.
    pub code: String,
    /// Its name for people, in Spanish, e.g. `Población indígena`.
    pub label: String,
}

#[derive(Debug, Object)]
pub struct ProgrammeGroupList {
    pub items: Vec<ProgrammeGroupEntry>,
}

#[derive(ApiResponse)]
pub enum ProgrammeGroupListOk {
    #[oai(status = 200)]
    Ok(Json<ProgrammeGroupList>),
}

#[derive(ApiResponse)]
pub enum ProgrammeGroupSaved {
    #[oai(status = 201)]
    Created(Json<ProgrammeGroupEntry>),
    /// It was there (perhaps retired): active again, with this label.
    #[oai(status = 200)]
    Ok(Json<ProgrammeGroupEntry>),
}

fn bad_code(raw: &str) -> ApiError {
    let mut e = ApiError::invalid(
        "code",
        "lower-case letters, digits and underscores, 2 to 40 characters",
    );
    let shown: String = raw.trim().chars().take(40).collect();
    e.detail_es = Some(
        format!(
            "El código «{shown}» no sirve: escríbalo con letras minúsculas sin tildes, números y \
             guiones bajos, de 2 a 40 caracteres, por ejemplo poblacion_indigena."
        )
        .into(),
    );
    e
}

fn parse_code(raw: &str) -> Result<String, ApiError> {
    let ok = (2..=40).contains(&raw.len())
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(raw.into())
    } else {
        Err(bad_code(raw))
    }
}

pub struct ConsentsApi;

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Workers")]
impl ConsentsApi {
    /// The consent text a worker is asked (no sign-in needed)
    ///
    /// Her household's monthly income before joining and her programme groups are sensitive
    /// data, asked only with this text and its one purpose. Send `version` and `text_hash`
    /// back with her answer, so the ledger says what she read.
    #[oai(path = "/consent-policy", method = "get")]
    async fn policy(&self, state: Data<&AppState>) -> Result<ConsentPolicyOk, ApiError> {
        let rows: Vec<GroupRow> = on_db!(&state.db, |p| sqlx::query_as(GROUPS).fetch_all(p).await)?;
        Ok(ConsentPolicyOk::Ok(Json(ConsentPolicy {
            version: consent::POLICY_VERSION.into(),
            text: consent::POLICY_TEXT.into(),
            text_hash: consent::text_hash(),
            purpose: consent::PURPOSE.into(),
            purpose_es: consent::PURPOSE_ES.into(),
            groups: rows
                .into_iter()
                .filter(|g| g.active)
                .map(ProgrammeGroupEntry::from)
                .collect(),
        })))
    }

    /// Her consent and what she gave under it (the worker herself, admin)
    #[oai(path = "/workers/:id/consent", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<ConsentStateOk, ApiError> {
        herself_or_admin(&auth.0, &id.0, "a worker's consent")?;
        let mut tx = state.db.begin().await?;
        let answer = {
            worker_exists(&mut tx, &id.0).await?;
            state_of(&mut tx, &id.0).await?
        };
        tx.commit().await?;
        record(
            &state,
            &auth.0,
            Read::Consent,
            "GET /v1/workers/{id}/consent",
            &[&id.0],
        )
        .await?;
        Ok(ConsentStateOk::Ok(Json(answer)))
    }

    /// Give consent, with what she chooses to give (the worker herself; admin on her behalf)
    ///
    /// Each item is optional (but not both): `baseline_monthly_income`, `groups`. The answer
    /// replaces an earlier one. By an admin, the row is `assisted` and names the admin.
    /// 409 `policy_changed` / `policy_text_mismatch` when she answered another text than the
    /// one in force; 409 `worker_anonymised` once her personal data was deleted. Her answer
    /// never changes which tasks she may take.
    #[oai(path = "/workers/:id/consent", method = "post")]
    async fn give(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<GiveConsent>,
    ) -> Result<ConsentStateOk, ApiError> {
        herself_or_admin(&auth.0, &id.0, "a worker's consent")?;
        let req = body.0;
        let baseline: Option<Decimal> = req
            .baseline_monthly_income
            .as_deref()
            .map(|raw| {
                Cop::parse_whole_pesos_or_zero(raw)
                    .map(Cop::amount)
                    .map_err(|e| refused_baseline(e.to_string()))
            })
            .transpose()?;
        let (channel, helped_by) = channel_of(&auth.0, &id.0);
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        worker_exists(&mut tx, &id.0).await?;
        if vereda_store::erasure::anonymised(&mut tx, &id.0).await? {
            return Err(crate::data_requests::anonymised());
        }
        let catalogue: Vec<Group> = groups_tx(&mut tx)
            .await?
            .into_iter()
            .map(|g| Group {
                code: g.code,
                active: g.active,
            })
            .collect();
        let answer = consent::check_answer(
            &req.policy_version,
            &req.text_hash,
            baseline,
            &req.groups,
            &catalogue,
        )
        .map_err(|e| refused(&e))?;
        keep(&mut tx, &id.0, &answer, channel, helped_by.as_deref(), now).await?;
        let out = state_of(&mut tx, &id.0).await?;
        tx.commit().await?;
        tracing::info!(worker_id = %id.0, channel = channel.as_str(), "consent given");
        Ok(ConsentStateOk::Ok(Json(out)))
    }

    /// Withdraw consent (the worker herself; admin on her behalf)
    ///
    /// Appends a `withdrawn` row and deletes her income before joining and her groups at once:
    /// she is in no later impact report. 409 `no_consent` when there is nothing to withdraw.
    #[oai(path = "/workers/:id/consent/withdrawal", method = "post")]
    async fn withdraw(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<ConsentStateOk, ApiError> {
        herself_or_admin(&auth.0, &id.0, "a worker's consent")?;
        let (channel, helped_by) = channel_of(&auth.0, &id.0);
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        worker_exists(&mut tx, &id.0).await?;
        let before = state_of(&mut tx, &id.0).await?;
        if !before.consenting
            && before.groups.is_empty()
            && before.baseline_monthly_income.is_none()
        {
            let mut e = ApiError::conflict(
                "no_consent",
                "There is no consent to withdraw and nothing held under one.",
            );
            e.detail_es = Some(
                "No hay una autorización que retirar: Vereda no guarda sus grupos ni su ingreso \
                 anterior."
                    .into(),
            );
            return Err(e);
        }
        forget(&mut tx, &id.0).await?;
        append(
            &mut tx,
            &id.0,
            Action::Withdrawn,
            channel,
            helped_by.as_deref(),
            now,
        )
        .await?;
        let out = state_of(&mut tx, &id.0).await?;
        tx.commit().await?;
        tracing::info!(worker_id = %id.0, channel = channel.as_str(), "consent withdrawn");
        Ok(ConsentStateOk::Ok(Json(out)))
    }

    /// The programme groups (admin)
    ///
    /// Retired ones only with `include_retired=true`. Workers read the active ones in
    /// `GET /v1/consent-policy`.
    #[oai(path = "/programme-groups", method = "get")]
    async fn groups(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        include_retired: Query<Option<bool>>,
    ) -> Result<ProgrammeGroupListOk, ApiError> {
        auth.0.require(&[Role::Admin])?;
        let all = include_retired.0.unwrap_or(false);
        let rows: Vec<GroupRow> = on_db!(&state.db, |p| sqlx::query_as(GROUPS).fetch_all(p).await)?;
        Ok(ProgrammeGroupListOk::Ok(Json(ProgrammeGroupList {
            items: rows
                .into_iter()
                .filter(|g| all || g.active)
                .map(ProgrammeGroupEntry::from)
                .collect(),
        })))
    }

    /// Add a programme group (admin)
    ///
    /// 201 when new; one already there (retired or not) is made active with the label sent
    /// (200).
    #[oai(path = "/programme-groups", method = "post")]
    async fn add_group(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<NewProgrammeGroup>,
    ) -> Result<ProgrammeGroupSaved, ApiError> {
        auth.0.require(&[Role::Admin])?;
        let req = body.0;
        let code = parse_code(&req.code)?;
        let label = Name::parse(&req.label)
            .ok()
            .filter(|l| l.as_str().chars().count() <= 80)
            .ok_or_else(|| {
                let mut e = ApiError::invalid("label", "1 to 80 characters");
                e.detail_es = Some(
                    "Escriba el nombre del grupo para mostrar: de 1 a 80 caracteres, por ejemplo \
                     Población indígena."
                        .into(),
                );
                e
            })?;
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        let existed: Option<i64> = on_tx!(&mut tx, |c| sqlx::query_scalar(
            "SELECT created_at FROM programme_groups WHERE code = $1"
        )
        .bind(&code)
        .fetch_optional(&mut *c)
        .await)?;
        vereda_store::exec_one!(
            &mut tx,
            sqlx::query(
                "INSERT INTO programme_groups (code, label, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4) ON CONFLICT (code) DO UPDATE SET \
                 label = excluded.label, active = excluded.active, updated_at = excluded.updated_at"
            )
            .bind(&code)
            .bind(label.as_str())
            .bind(true)
            .bind(now)
        )?;
        tx.commit().await?;
        tracing::info!(group = %code, by = %auth.0.user_id, "programme group saved");
        let saved = Json(ProgrammeGroupEntry {
            code,
            label: label.as_str().into(),
            active: true,
        });
        Ok(match existed {
            None => ProgrammeGroupSaved::Created(saved),
            Some(_) => ProgrammeGroupSaved::Ok(saved),
        })
    }

    /// Retire a programme group (admin)
    ///
    /// Workers who gave it keep it; new answers are refused it.
    #[oai(path = "/programme-groups/:code", method = "delete")]
    async fn retire_group(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        code: Path<String>,
    ) -> Result<NoContent, ApiError> {
        auth.0.require(&[Role::Admin])?;
        let mut tx = state.db.begin().await?;
        let found = vereda_store::exec!(
            &mut tx,
            sqlx::query(
                "UPDATE programme_groups SET active = $1, \
                 updated_at = CASE WHEN active THEN $2 ELSE updated_at END WHERE code = $3"
            )
            .bind(false)
            .bind(time::unix(time::now()))
            .bind(&code.0)
        )?;
        if found == 0 {
            return Err(ApiError::not_found("programme group"));
        }
        tx.commit().await?;
        Ok(NoContent::Done)
    }
}

fn refused_baseline(detail: String) -> ApiError {
    let e = consent::Refusal::BaselineOutOfRange;
    let mut problem = ApiError::rule(e.code(), Some(e.field()), detail);
    problem.detail_es = Some(e.es().into());
    problem
}
