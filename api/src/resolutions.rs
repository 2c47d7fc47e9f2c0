//! DIAN numbering resolutions (issue 19 §3): admin records the resolution DIAN issued for a
//! kind of document; from then on documents of that kind are numbered under it (prefix and
//! consecutive, refused outside its range or dates). Admin and finance list them with how much
//! of each range is used and what to ask DIAN for. The rule is `contracts::resolutions`.

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use vereda_contracts::identity::Role;
use vereda_contracts::resolutions::{DocumentKind, Resolution, ResolutionRefusal};
use vereda_contracts::time;
use vereda_store::on_db;
use vereda_store::resolutions::Recorded;

use crate::ApiTags;
use crate::auth::BearerAuth;
use crate::body::JsonBody;
use crate::problem::ApiError;
use crate::startup::AppState;

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct NewResolution {
    /// `invoice`, `credit_note`, `support_document` or `support_adjustment`.
    pub kind: String,
    /// DIAN's number for the resolution, e.g. `18760000001`.
    pub number: String,
    /// 1 to 4 letters or digits printed before the consecutive, e.g. `SETP`.
    pub prefix: String,
    /// First authorised number.
    pub from: i64,
    /// Last authorised number.
    pub to: i64,
    /// First day it may be used (Bogotá).
    pub valid_from: NaiveDate,
    /// Last day it may be used (Bogotá).
    pub valid_until: NaiveDate,
    /// DIAN's technical key (invoices only; it enters every CUFE).
    pub technical_key: Option<String>,
}

/// A recorded resolution with how much of it is used.
#[derive(Debug, Object)]
pub struct ResolutionEntry {
    pub id: String,
    pub kind: String,
    pub number: String,
    pub prefix: String,
    pub from: i64,
    pub to: i64,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    /// Whether a technical key is on file (the key itself is never shown again).
    pub has_technical_key: bool,
    /// The newest invoice resolution: the one invoices are numbered under now.
    pub in_use: bool,
    /// The last consecutive issued in its range, if any.
    pub last_issued: Option<i64>,
    /// Numbers left in its range.
    pub left: i64,
    /// What to ask DIAN for before numbering stops, in Spanish.
    pub warnings_es: Vec<String>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct ResolutionList {
    pub items: Vec<ResolutionEntry>,
}

#[derive(ApiResponse)]
pub enum ResolutionCreated {
    #[oai(status = 201)]
    Created(Json<ResolutionEntry>),
}

#[derive(ApiResponse)]
pub enum ResolutionListOk {
    #[oai(status = 200)]
    Ok(Json<ResolutionList>),
}

/// A refusal of the rule as a 422 naming its field.
fn refused(e: &ResolutionRefusal) -> ApiError {
    ApiError::rule(e.code(), e.field(), e.to_string())
}

/// The last consecutive issued per document counter.
async fn counters(state: &AppState) -> Result<Vec<(String, i64)>, ApiError> {
    Ok(on_db!(&state.db, |p| sqlx::query_as(
        "SELECT name, last_value FROM document_counters"
    )
    .fetch_all(p)
    .await)?)
}

fn entry(
    r: Recorded,
    in_use: bool,
    counters: &[(String, i64)],
    today: NaiveDate,
) -> ResolutionEntry {
    let res = &r.resolution;
    let last = counters
        .iter()
        .find(|(name, _)| name == res.kind.as_str())
        .map(|(_, v)| *v)
        .filter(|v| (res.from..=res.to).contains(v));
    let warnings_es = if in_use {
        res.warnings(last.unwrap_or(res.from - 1), today)
            .iter()
            .map(|w| w.message_es(res.kind))
            .collect()
    } else {
        Vec::new()
    };
    ResolutionEntry {
        left: res.to - last.unwrap_or(res.from - 1),
        id: r.id,
        kind: res.kind.as_str().to_string(),
        number: res.number.clone(),
        prefix: res.prefix.clone(),
        from: res.from,
        to: res.to,
        valid_from: res.valid_from,
        valid_until: res.valid_until,
        has_technical_key: res.technical_key.is_some(),
        in_use,
        last_issued: last,
        warnings_es,
        recorded_at: time::from_unix(r.recorded_at),
    }
}

/// The kinds numbered under their recorded resolution so far: invoices and documentos
/// soporte (credit notes need none; notas de ajuste keep their own series).
fn numbered_under_resolutions(kind: DocumentKind) -> bool {
    matches!(kind, DocumentKind::Invoice | DocumentKind::SupportDocument)
}

pub struct ResolutionsApi;

#[OpenApi(prefix_path = "/v1/numbering-resolutions", tag = "ApiTags::Invoicing")]
impl ResolutionsApi {
    /// Record a DIAN numbering resolution (admin)
    ///
    /// From now on invoices are numbered under an `invoice` resolution, and weekly documentos
    /// soporte under a `support_document` one: its prefix and consecutive, from its first
    /// number, refused outside its range or dates (without one, documentos soporte use the
    /// configured range). Resolutions of the other kinds are recorded and listed.
    #[oai(path = "/", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<NewResolution>,
    ) -> Result<ResolutionCreated, ApiError> {
        auth.0.require(&[Role::Admin])?;
        let req = body.0;
        let kind = DocumentKind::parse(&req.kind).ok_or_else(|| {
            ApiError::invalid(
                "kind",
                "must be invoice, credit_note, support_document or support_adjustment",
            )
        })?;
        let resolution = Resolution {
            kind,
            number: req.number.trim().to_string(),
            prefix: req.prefix.trim().to_string(),
            from: req.from,
            to: req.to,
            valid_from: req.valid_from,
            valid_until: req.valid_until,
            technical_key: req
                .technical_key
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty()),
        };
        if resolution.number.is_empty()
            || resolution.number.len() > 40
            || !resolution.number.chars().all(|c| c.is_ascii_digit())
        {
            return Err(ApiError::invalid(
                "number",
                "DIAN's resolution number, digits only",
            ));
        }
        resolution.check().map_err(|e| refused(&e))?;
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        let id = vereda_store::resolutions::record(&mut tx, &resolution, &auth.0.user_id, now)
            .await
            .map_err(ApiError::from_anyhow)?;
        tx.commit().await?;
        let counters = counters(&state).await?;
        let today = vereda_contracts::timesheet::bogota_day(now);
        Ok(ResolutionCreated::Created(Json(entry(
            Recorded {
                id,
                resolution,
                recorded_by: auth.0.user_id.clone(),
                recorded_at: now,
            },
            numbered_under_resolutions(kind),
            &counters,
            today,
        ))))
    }

    /// Numbering resolutions (admin, finance)
    ///
    /// Newest first, each with the numbers used and left, and for those in use what to ask
    /// DIAN for (80 % of the range used, 30 days or fewer left).
    #[oai(path = "/", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<ResolutionListOk, ApiError> {
        auth.0.require(&[Role::Admin, Role::Finance])?;
        let all = vereda_store::resolutions::list(&state.db)
            .await
            .map_err(ApiError::from_anyhow)?;
        let counters = counters(&state).await?;
        let today = vereda_contracts::timesheet::bogota_day(time::unix(time::now()));
        let mut seen = std::collections::HashSet::new();
        let items = all
            .into_iter()
            .map(|r| {
                // Newest first: the first of each kind is the one in use (only invoices are
                // numbered under a recorded resolution so far).
                let in_use =
                    seen.insert(r.resolution.kind) && numbered_under_resolutions(r.resolution.kind);
                entry(r, in_use, &counters, today)
            })
            .collect();
        Ok(ResolutionListOk::Ok(Json(ResolutionList { items })))
    }
}
