//! A worker's fiscal profile and her monthly PILA payments (issue 20 §2): what the withholding
//! rule reads about her (`contracts::fiscal`, `contracts::withholding`). She, finance and
//! admin read and change them; every change of the profile is kept (the newest row is in force).

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use vereda_contracts::fiscal::{Contribution, FiscalProfile, FiscalRefusal};
use vereda_contracts::money::Cop;
use vereda_contracts::statements::Month;
use vereda_contracts::time;
use vereda_store::db::Tx;
use vereda_store::{on_db, on_tx};

use crate::ApiTags;
use crate::accounts::new_id;
use crate::auth::BearerAuth;
use crate::body::JsonBody;
use crate::problem::ApiError;
use crate::startup::AppState;
use crate::statements::visible_worker;
use vereda_contracts::personal_data::Read;

/// 422 naming the field, with the rule's Spanish sentence.
fn refused(e: FiscalRefusal) -> ApiError {
    let mut problem = ApiError::invalid(e.field(), e.to_string());
    problem.detail_es = Some(e.es().into());
    problem
}

#[derive(Debug, Object)]
pub struct FiscalProfileVersion {
    /// `services` (servicios) or `honorarios`.
    pub concept: String,
    /// She files an income-tax return.
    pub declarante: bool,
    /// She signed the statement of having hired fewer than two workers (art. 383 applies).
    pub fewer_than_two_workers: bool,
    /// When she signed it (Bogotá date).
    #[oai(skip_serializing_if_is_none)]
    pub statement_signed_on: Option<NaiveDate>,
    /// ARL risk class, 1 to 5.
    #[oai(skip_serializing_if_is_none)]
    pub arl_class: Option<i64>,
    pub changed_by_name: String,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct FiscalProfileView {
    pub worker_id: String,
    /// False while none is on file: she is then treated as a non-filer paid for services,
    /// without the statement (the rule that withholds the most).
    pub on_file: bool,
    pub concept: String,
    pub declarante: bool,
    pub fewer_than_two_workers: bool,
    #[oai(skip_serializing_if_is_none)]
    pub statement_signed_on: Option<NaiveDate>,
    #[oai(skip_serializing_if_is_none)]
    pub arl_class: Option<i64>,
    /// Every version, newest first.
    pub history: Vec<FiscalProfileVersion>,
}

#[derive(ApiResponse)]
pub enum FiscalProfileOk {
    #[oai(status = 200)]
    Ok(Json<FiscalProfileView>),
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct FiscalProfileChange {
    /// `services` or `honorarios`.
    pub concept: String,
    pub declarante: bool,
    /// True when she states she hired fewer than two workers; the statement is dated today
    /// (kept when it was already signed).
    pub fewer_than_two_workers: bool,
    pub arl_class: Option<i64>,
}

#[derive(Debug, Object)]
pub struct SocialSecurityMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// The PILA form number.
    pub planilla: String,
    pub health: String,
    pub pension: String,
    pub recorded_by_name: String,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct SocialSecurityList {
    /// Newest month first.
    pub items: Vec<SocialSecurityMonth>,
}

#[derive(ApiResponse)]
pub enum SocialSecurityListOk {
    #[oai(status = 200)]
    Ok(Json<SocialSecurityList>),
}

#[derive(ApiResponse)]
pub enum SocialSecurityOk {
    #[oai(status = 200)]
    Ok(Json<SocialSecurityMonth>),
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct SocialSecurityPayment {
    /// The PILA form number (digits).
    pub planilla: String,
    /// Health contribution paid, whole pesos (`0` if none).
    pub health: String,
    /// Pension contribution paid, whole pesos.
    pub pension: String,
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    concept: String,
    declarante: bool,
    statement_signed_on: Option<String>,
    arl_class: Option<i64>,
    changed_by_name: String,
    changed_at: i64,
}

impl From<VersionRow> for FiscalProfileVersion {
    fn from(r: VersionRow) -> Self {
        FiscalProfileVersion {
            fewer_than_two_workers: r.statement_signed_on.is_some(),
            statement_signed_on: r.statement_signed_on.and_then(|d| d.parse().ok()),
            concept: r.concept,
            declarante: r.declarante,
            arl_class: r.arl_class,
            changed_by_name: r.changed_by_name,
            changed_at: time::from_unix(r.changed_at),
        }
    }
}

const HISTORY: &str = "SELECT f.concept, f.declarante, f.statement_signed_on, f.arl_class, \
     u.name AS changed_by_name, f.changed_at FROM fiscal_profiles f \
     JOIN users u ON u.id = f.changed_by WHERE f.worker_id = $1 ORDER BY f.id DESC";

async fn history(tx: &mut Tx, worker_id: &str) -> Result<Vec<VersionRow>, ApiError> {
    Ok(on_tx!(tx, |c| sqlx::query_as(HISTORY)
        .bind(worker_id)
        .fetch_all(&mut *c)
        .await)?)
}

fn view(worker_id: &str, rows: Vec<VersionRow>) -> FiscalProfileView {
    let history: Vec<FiscalProfileVersion> = rows.into_iter().map(Into::into).collect();
    let fallback = FiscalProfile::default();
    match history.first() {
        Some(now) => FiscalProfileView {
            worker_id: worker_id.to_string(),
            on_file: true,
            concept: now.concept.clone(),
            declarante: now.declarante,
            fewer_than_two_workers: now.fewer_than_two_workers,
            statement_signed_on: now.statement_signed_on,
            arl_class: now.arl_class,
            history,
        },
        None => FiscalProfileView {
            worker_id: worker_id.to_string(),
            on_file: false,
            concept: fallback.concept.as_str().to_string(),
            declarante: fallback.declarante,
            fewer_than_two_workers: fallback.fewer_than_two_workers,
            statement_signed_on: None,
            arl_class: None,
            history,
        },
    }
}

#[derive(sqlx::FromRow)]
struct MonthRow {
    month: String,
    planilla: String,
    health: i64,
    pension: i64,
    recorded_by_name: String,
    recorded_at: i64,
}

impl From<MonthRow> for SocialSecurityMonth {
    fn from(r: MonthRow) -> Self {
        SocialSecurityMonth {
            month: r.month,
            planilla: r.planilla,
            health: Cop::from_centavos(r.health).to_string(),
            pension: Cop::from_centavos(r.pension).to_string(),
            recorded_by_name: r.recorded_by_name,
            recorded_at: time::from_unix(r.recorded_at),
        }
    }
}

const MONTHS: &str = "SELECT s.month, s.planilla, s.health, s.pension, u.name AS recorded_by_name, \
     s.recorded_at FROM social_security_payments s JOIN users u ON u.id = s.recorded_by \
     WHERE s.worker_id = $1 ORDER BY s.month DESC";

pub struct FiscalApi;

#[OpenApi(prefix_path = "/v1/workers", tag = "ApiTags::Workers")]
impl FiscalApi {
    /// A worker's fiscal profile, with its history (the worker, finance, admin)
    #[oai(path = "/:id/fiscal-profile", method = "get")]
    async fn profile(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<FiscalProfileOk, ApiError> {
        visible_worker(&state, &auth.0, &id.0).await?;
        let route = "GET /v1/workers/{id}/fiscal-profile";
        crate::data_access::record(&state, &auth.0, Read::Fiscal, route, &[&id.0]).await?;
        let rows: Vec<VersionRow> = on_db!(&state.db, |p| sqlx::query_as(HISTORY)
            .bind(&id.0)
            .fetch_all(p)
            .await)?;
        Ok(FiscalProfileOk::Ok(Json(view(&id.0, rows))))
    }

    /// Change a worker's fiscal profile (the worker, finance, admin)
    ///
    /// Concept (servicios or honorarios), whether she files income tax, the statement of
    /// having hired fewer than two workers, and her ARL risk class. A change is a new version;
    /// sending what is already in force changes nothing.
    #[oai(path = "/:id/fiscal-profile", method = "put")]
    async fn change_profile(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<FiscalProfileChange>,
    ) -> Result<FiscalProfileOk, ApiError> {
        let who = &auth.0;
        visible_worker(&state, who, &id.0).await?;
        let req = body.0;
        let profile = FiscalProfile::parse(
            &req.concept,
            req.declarante,
            req.fewer_than_two_workers,
            req.arl_class,
        )
        .map_err(refused)?;
        let now = time::now();
        let today = now.with_timezone(&time::BOGOTA).date_naive().to_string();
        let mut tx = state.db.begin().await?;
        // One change at a time per worker: the newest version is read and written under her row.
        vereda_store::locks::worker(&mut tx, &id.0).await?;
        if vereda_store::erasure::anonymised(&mut tx, &id.0).await? {
            return Err(crate::data_requests::anonymised());
        }
        let rows = history(&mut tx, &id.0).await?;
        let current = rows.first();
        let signed_on = match (profile.fewer_than_two_workers, current) {
            (false, _) => None,
            (true, Some(c)) if c.statement_signed_on.is_some() => c.statement_signed_on.clone(),
            (true, _) => Some(today),
        };
        let arl = profile.arl_class.map(|a| i64::from(a.get()));
        let unchanged = current.is_some_and(|c| {
            c.concept == profile.concept.as_str()
                && c.declarante == profile.declarante
                && c.statement_signed_on == signed_on
                && c.arl_class == arl
        });
        if !unchanged {
            on_tx!(&mut tx, |c| sqlx::query(
                "INSERT INTO fiscal_profiles (id, worker_id, concept, declarante, \
                 statement_signed_on, arl_class, changed_by, changed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            )
            .bind(new_id())
            .bind(&id.0)
            .bind(profile.concept.as_str())
            .bind(profile.declarante)
            .bind(&signed_on)
            .bind(arl)
            .bind(&who.user_id)
            .bind(time::unix(now))
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        }
        let rows = history(&mut tx, &id.0).await?;
        tx.commit().await?;
        Ok(FiscalProfileOk::Ok(Json(view(&id.0, rows))))
    }

    /// A worker's monthly social-security (PILA) payments, newest first (the worker, finance,
    /// admin)
    #[oai(path = "/:id/social-security", method = "get")]
    async fn social_security(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<SocialSecurityListOk, ApiError> {
        visible_worker(&state, &auth.0, &id.0).await?;
        let route = "GET /v1/workers/{id}/social-security";
        crate::data_access::record(&state, &auth.0, Read::Fiscal, route, &[&id.0]).await?;
        let rows: Vec<MonthRow> = on_db!(&state.db, |p| sqlx::query_as(MONTHS)
            .bind(&id.0)
            .fetch_all(p)
            .await)?;
        Ok(SocialSecurityListOk::Ok(Json(SocialSecurityList {
            items: rows.into_iter().map(Into::into).collect(),
        })))
    }

    /// Declare a month's PILA payment (the worker, finance, admin)
    ///
    /// The planilla number and the health and pension contributions paid for `month`
    /// (`YYYY-MM`, not after the current month). Declaring the month again replaces it.
    #[oai(path = "/:id/social-security/:month", method = "put")]
    async fn declare_month(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        month: Path<String>,
        body: JsonBody<SocialSecurityPayment>,
    ) -> Result<SocialSecurityOk, ApiError> {
        let who = &auth.0;
        visible_worker(&state, who, &id.0).await?;
        let month = Month::parse(&month.0)
            .ok_or_else(|| ApiError::invalid("month", "must be a month YYYY-MM"))?;
        let now = time::now();
        if month > Month::of(now) {
            return Err(refused(FiscalRefusal::FutureMonth));
        }
        let req = body.0;
        let paid =
            Contribution::parse(&req.planilla, &req.health, &req.pension).map_err(refused)?;
        let mut tx = state.db.begin().await?;
        vereda_store::locks::worker(&mut tx, &id.0).await?;
        if vereda_store::erasure::anonymised(&mut tx, &id.0).await? {
            return Err(crate::data_requests::anonymised());
        }
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO social_security_payments (worker_id, month, planilla, health, pension, \
             recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (worker_id, month) DO UPDATE SET planilla = excluded.planilla, \
             health = excluded.health, pension = excluded.pension, \
             recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at"
        )
        .bind(&id.0)
        .bind(month.to_string())
        .bind(&paid.planilla)
        .bind(paid.health.centavos())
        .bind(paid.pension.centavos())
        .bind(&who.user_id)
        .bind(time::unix(now))
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        let rows: Vec<MonthRow> = on_tx!(&mut tx, |c| sqlx::query_as(MONTHS)
            .bind(&id.0)
            .fetch_all(&mut *c)
            .await)?;
        let declared = month.to_string();
        let row = rows
            .into_iter()
            .find(|r| r.month == declared)
            .ok_or_else(|| ApiError::internal("the month just declared is not there"))?;
        tx.commit().await?;
        Ok(SocialSecurityOk::Ok(Json(row.into())))
    }
}
