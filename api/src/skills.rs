//! The skills catalogue programme staff keep (issue 18 §1): the skills a worker may hold and a
//! task may require. Anyone signed in reads it (the app offers its names); admin adds a skill
//! or retires one. A retired skill stays on the workers and tasks that have it and is refused
//! on new ones. The rule (known or not, nearest names) is `contracts::skills`.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use vereda_contracts::identity::{Name, Role, Skill};
use vereda_contracts::skills::{UnknownSkill, check_known, first_unknown};
use vereda_contracts::time;
use vereda_store::db::{Db, Tx};
use vereda_store::{on_db, on_tx};

use crate::ApiTags;
use crate::auth::{BearerAuth, NoContent};
use crate::body::JsonBody;
use crate::problem::ApiError;
use crate::startup::AppState;

/// The catalogue's active names, sorted.
const ACTIVE_NAMES: &str = "SELECT name FROM skills WHERE active ORDER BY name";

/// The catalogue's active names (for a check before a transaction).
pub(crate) async fn active_names(db: &Db) -> Result<Vec<String>, ApiError> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, String>(
        ACTIVE_NAMES
    )
    .fetch_all(p)
    .await)?)
}

/// The catalogue's active names, read in `tx`.
pub(crate) async fn active_names_tx(tx: &mut Tx) -> Result<Vec<String>, ApiError> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar::<_, String>(
        ACTIVE_NAMES
    )
    .fetch_all(&mut *c)
    .await)?)
}

/// 422 `unknown_skill` naming `field`, its Spanish sentence offering the nearest names.
pub(crate) fn refused(field: &str, e: &UnknownSkill) -> ApiError {
    let mut problem = ApiError::rule(e.code(), Some(field), e.detail());
    problem.detail_es = Some(sentence(&e.es()).into());
    problem
}

/// `«x» no está…; ¿quiso decir «y»?` → `«x» no está…; ¿quiso decir «y»?` with a capital and
/// the full stop a sentence needs.
pub(crate) fn sentence(end: &str) -> String {
    let mut c = end.chars();
    let Some(first) = c.next() else {
        return String::new();
    };
    let stop = if end.ends_with(['?', '.']) { "" } else { "." };
    format!("{}{}{stop}", first.to_uppercase(), c.as_str())
}

/// Refuse the first skill of `raw` (a request's list, already parsed) the catalogue does not
/// hold, naming it as `field[i]`.
pub(crate) fn check_listed<S: AsRef<str>>(
    field: &str,
    raw: &[String],
    catalogue: &[S],
) -> Result<(), ApiError> {
    for (i, r) in raw.iter().enumerate() {
        if let Ok(skill) = Skill::parse(r)
            && let Err(e) = check_known(&skill, catalogue)
        {
            return Err(refused(&format!("{field}[{i}]"), &e));
        }
    }
    Ok(())
}

/// Refuse, inside `tx`, a skill of `skills` the catalogue does not hold, naming `field`.
pub(crate) async fn check_in_tx(
    tx: &mut Tx,
    field: &str,
    skills: &BTreeSet<Skill>,
) -> Result<(), ApiError> {
    if skills.is_empty() {
        return Ok(());
    }
    let catalogue = active_names_tx(tx).await?;
    match first_unknown(skills, &catalogue) {
        Some((_, e)) => Err(refused(field, &e)),
        None => Ok(()),
    }
}

/// 422 on `name`, saying in Spanish how a skill's tag is written.
fn bad_name(raw: &str, detail: &str) -> ApiError {
    let mut e = ApiError::invalid("name", detail);
    let shown: String = raw.trim().chars().take(40).collect();
    let how = "con letras minúsculas sin tildes, números y guiones, de 2 a 40 caracteres, por \
               ejemplo excel-avanzado";
    e.detail_es = Some(if shown.is_empty() {
        format!("Escriba la etiqueta de la habilidad {how}.").into()
    } else {
        format!("La etiqueta «{shown}» no sirve: escríbala {how}.").into()
    });
    e
}

/// 422 on `label`, in Spanish.
fn bad_label(detail: &str) -> ApiError {
    let mut e = ApiError::invalid("label", detail);
    e.detail_es = Some(
        "Escriba el nombre para mostrar de la habilidad: de 1 a 80 caracteres, por ejemplo \
         Excel avanzado."
            .into(),
    );
    e
}

/// A skill of the catalogue.
#[derive(Debug, Object)]
pub struct SkillEntry {
    /// The tag workers and tasks carry, e.g. `data-entry`.
    pub name: String,
    /// Its name for people, in Spanish.
    pub label: String,
    /// False once retired: kept where it is, refused on new workers and tasks.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct SkillRow {
    name: String,
    label: String,
    active: bool,
    created_at: i64,
    updated_at: i64,
}

impl From<SkillRow> for SkillEntry {
    fn from(r: SkillRow) -> SkillEntry {
        SkillEntry {
            name: r.name,
            label: r.label,
            active: r.active,
            created_at: time::from_unix(r.created_at),
            updated_at: time::from_unix(r.updated_at),
        }
    }
}

#[derive(Debug, Object)]
pub struct SkillList {
    pub items: Vec<SkillEntry>,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct NewSkill {
    /// Lower-case letters, digits and dashes, 2–40 characters, e.g. `excel`.
    pub name: String,
    /// Its name for people, in Spanish, e.g. `Hojas de cálculo (Excel)`.
    pub label: String,
}

#[derive(ApiResponse)]
pub enum SkillSaved {
    /// Added to the catalogue.
    #[oai(status = 201)]
    Created(Json<SkillEntry>),
    /// It was there (perhaps retired): active again, with this label.
    #[oai(status = 200)]
    Ok(Json<SkillEntry>),
}

#[derive(ApiResponse)]
pub enum SkillListOk {
    #[oai(status = 200)]
    Ok(Json<SkillList>),
}

const ONE: &str = "SELECT name, label, active, created_at, updated_at FROM skills WHERE name = $1";

pub struct SkillsApi;

#[OpenApi(prefix_path = "/v1/skills", tag = "ApiTags::Workers")]
impl SkillsApi {
    /// The skills catalogue (anyone signed in)
    ///
    /// The skills a worker may hold and a task may require, by name. Retired ones only with
    /// `include_retired=true`.
    #[oai(path = "/", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        _auth: BearerAuth,
        /// Also the retired skills.
        include_retired: Query<Option<bool>>,
    ) -> Result<SkillListOk, ApiError> {
        let all = include_retired.0.unwrap_or(false);
        let rows: Vec<SkillRow> = on_db!(&state.db, |p| sqlx::query_as(
            "SELECT name, label, active, created_at, updated_at FROM skills \
             WHERE active OR $1 ORDER BY name"
        )
        .bind(all)
        .fetch_all(p)
        .await)?;
        Ok(SkillListOk::Ok(Json(SkillList {
            items: rows.into_iter().map(SkillEntry::from).collect(),
        })))
    }

    /// Add a skill to the catalogue (admin)
    ///
    /// 201 when new; a skill already there (retired or not) is made active with the label
    /// sent (200).
    #[oai(path = "/", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<NewSkill>,
    ) -> Result<SkillSaved, ApiError> {
        auth.0.require(&[Role::Admin])?;
        let req = body.0;
        let name = Skill::parse(&req.name).map_err(|e| bad_name(&req.name, e))?;
        let label = Name::parse(&req.label).map_err(bad_label)?;
        if label.as_str().chars().count() > 80 {
            return Err(bad_label("at most 80 characters"));
        }
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        let existed: Option<i64> = on_tx!(&mut tx, |c| sqlx::query_scalar(
            "SELECT created_at FROM skills WHERE name = $1"
        )
        .bind(name.as_str())
        .fetch_optional(&mut *c)
        .await)?;
        vereda_store::exec_one!(
            &mut tx,
            sqlx::query(
                "INSERT INTO skills (name, label, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4) ON CONFLICT (name) DO UPDATE SET \
                 label = excluded.label, active = excluded.active, updated_at = excluded.updated_at"
            )
            .bind(name.as_str())
            .bind(label.as_str())
            .bind(true)
            .bind(now)
        )?;
        let saved: SkillRow = on_tx!(&mut tx, |c| sqlx::query_as(ONE)
            .bind(name.as_str())
            .fetch_one(&mut *c)
            .await)?;
        tx.commit().await?;
        tracing::info!(skill = name.as_str(), by = %auth.0.user_id, "skill saved");
        let saved = Json(SkillEntry::from(saved));
        Ok(match existed {
            None => SkillSaved::Created(saved),
            Some(_) => SkillSaved::Ok(saved),
        })
    }

    /// Retire a skill (admin)
    ///
    /// Workers and tasks that have it keep it; new ones are refused it. Retiring again
    /// changes nothing; add it again with `POST /v1/skills`.
    #[oai(path = "/:name", method = "delete")]
    async fn retire(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        name: Path<String>,
    ) -> Result<NoContent, ApiError> {
        auth.0.require(&[Role::Admin])?;
        let mut tx = state.db.begin().await?;
        let found = vereda_store::exec!(
            &mut tx,
            sqlx::query(
                "UPDATE skills SET active = $1, \
                 updated_at = CASE WHEN active THEN $2 ELSE updated_at END WHERE name = $3"
            )
            .bind(false)
            .bind(time::unix(time::now()))
            .bind(&name.0)
        )?;
        if found == 0 {
            return Err(ApiError::not_found("skill"));
        }
        tx.commit().await?;
        tracing::info!(skill = %name.0, by = %auth.0.user_id, "skill retired");
        Ok(NoContent::Done)
    }
}
