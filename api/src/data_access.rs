//! "Quién consultó mis datos" (issue 22 §4): every answer that shows a worker's personal
//! fields to someone other than her is logged (`record`), and she and the admins can read the
//! log. Companies never see personal fields at all (a display name only), so they never appear.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};
use vereda_contracts::identity::Role;
use vereda_contracts::personal_data::{self, Read};
use vereda_contracts::time;
use vereda_store::data_access::{self, Reader};

use crate::ApiTags;
use crate::auth::{BearerAuth, Principal};
use crate::pagination::PageRequest;
use crate::problem::ApiError;
use crate::startup::AppState;

/// Log that `who` was shown `read`'s fields of `worker_ids` through `route` (the route's
/// pattern, e.g. `GET /v1/workers/{id}`). Her own reads are not logged.
pub(crate) async fn record(
    state: &AppState,
    who: &Principal,
    read: Read,
    route: &str,
    worker_ids: &[&str],
) -> Result<(), ApiError> {
    let others: Vec<&str> = worker_ids
        .iter()
        .copied()
        .filter(|w| who.worker_id.as_deref() != Some(*w))
        .collect();
    let reader = Reader {
        user_id: &who.user_id,
        role: who.role.as_str(),
    };
    let now = time::unix(time::now());
    data_access::record(&state.db, &reader, read, route, &others, now).await?;
    Ok(())
}

/// One read of her personal data.
#[derive(Debug, Object)]
pub struct DataRead {
    pub at: DateTime<Utc>,
    /// Who read: the person's name and role (`admin`, `finance`).
    pub reader_name: String,
    pub reader_role: String,
    /// Through which endpoint, as a pattern (`GET /v1/workers/{id}`).
    pub route: String,
    /// The personal fields it showed: name, email, phone, document_id, place, payout_method,
    /// income.
    pub fields: Vec<String>,
    /// The same, as she reads it ("su nombre, su cédula y sus ingresos").
    pub fields_es: String,
}

#[derive(Debug, Object)]
pub struct DataReadList {
    pub items: Vec<DataRead>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum DataReadListOk {
    #[oai(status = 200)]
    Ok(Json<DataReadList>),
}

#[derive(ApiResponse)]
pub enum DataExportOk {
    /// `{generated_at, worker_id, sections: {profile: [...], assignments: [...], ...}}`:
    /// every row about her, as stored.
    #[oai(status = 200)]
    Ok(Json<serde_json::Value>),
}

#[derive(ApiResponse)]
pub enum DataExportPdfOk {
    #[oai(status = 200, content_type = "application/pdf")]
    Pdf(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

/// Only the worker herself and admins: 404 for another worker, 403 for everyone else.
pub(crate) fn herself_or_admin(
    who: &Principal,
    worker_id: &str,
    what: &str,
) -> Result<(), ApiError> {
    let herself = who.worker_id.as_deref() == Some(worker_id);
    match who.role {
        Role::Admin => Ok(()),
        Role::Worker if herself => Ok(()),
        Role::Worker => Err(ApiError::not_found("worker")),
        Role::Finance | Role::Company | Role::Funder => Err(ApiError::forbidden(format!(
            "Only the worker herself and admins read {what}."
        ))),
    }
}

/// Her copy, for her or an admin (an admin's read is logged for her).
async fn copy_of(
    state: &AppState,
    who: &Principal,
    worker_id: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    herself_or_admin(who, worker_id, "a copy of her data")?;
    let sections = vereda_store::data_export::export(&state.db, worker_id).await?;
    if sections["profile"].as_array().is_none_or(Vec::is_empty) {
        return Err(ApiError::not_found("worker"));
    }
    let route = "GET /v1/workers/{id}/data-export";
    record(state, who, Read::Export, route, &[worker_id]).await?;
    Ok(sections)
}

pub struct DataAccessApi;

#[OpenApi(prefix_path = "/v1/workers", tag = "ApiTags::Workers")]
impl DataAccessApi {
    /// Who read this worker's personal data (the worker, admin)
    ///
    /// Every time someone other than her was shown her personal fields (her profile, a
    /// statement, a certificate, a bank file), newest first: when, who, through which
    /// endpoint and which fields.
    #[oai(path = "/:id/data-access", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
    ) -> Result<DataReadListOk, ApiError> {
        let who = &auth.0;
        herself_or_admin(who, &id.0, "who read her data")?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let rows = data_access::list(&state.db, &id.0, page.before(), page.fetch()).await?;
        let (rows, next_cursor) = page.finish(rows, |r| &r.id);
        Ok(DataReadListOk::Ok(Json(DataReadList {
            items: rows
                .into_iter()
                .map(|r| DataRead {
                    at: time::from_unix(r.at),
                    fields_es: personal_data::fields_es(&r.fields),
                    fields: r.fields.split(',').map(str::to_string).collect(),
                    reader_name: r.reader_name,
                    reader_role: r.reader_role,
                    route: r.route,
                })
                .collect(),
            next_cursor,
        })))
    }

    /// A copy of everything held about a worker (the worker, admin)
    ///
    /// Her profile, account, skills, fiscal profile and social security, every assignment
    /// with its history, time entries, earnings, payouts, statements, documentos soporte,
    /// certificates, appeals, who read her data, account events, e-mail preferences and the
    /// e-mails sent to her: each row as stored. Never a password or token hash. Once her
    /// personal data is deleted, the values kept by law that still identify her (the name and
    /// cédula printed on her documents, her payout details, her e-mails' address and text)
    /// read `(conservado con acceso restringido)`. The same as a PDF she can read:
    /// `/v1/workers/{id}/data-export/pdf`.
    #[oai(path = "/:id/data-export", method = "get")]
    async fn export(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<DataExportOk, ApiError> {
        let sections = copy_of(&state, &auth.0, &id.0).await?;
        Ok(DataExportOk::Ok(Json(serde_json::json!({
            "generated_at": time::now(),
            "worker_id": id.0,
            "sections": sections,
        }))))
    }

    /// A copy of everything held about a worker, as a PDF in Spanish (the worker, admin)
    ///
    /// The sections of the JSON copy in the same order, titled for people, each record as
    /// field and value, instants as Bogotá dates; long values are cut (the JSON copy has them
    /// whole).
    #[oai(path = "/:id/data-export/pdf", method = "get")]
    async fn export_pdf(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<DataExportPdfOk, ApiError> {
        let sections = copy_of(&state, &auth.0, &id.0).await?;
        let name = sections["account"][0]["name"].as_str().unwrap_or_default();
        let today = time::now().with_timezone(&time::BOGOTA).date_naive();
        let ordered: Vec<(&str, &serde_json::Value)> = vereda_store::data_export::SECTIONS
            .iter()
            .filter_map(|(section, _)| Some((*section, sections.get(*section)?)))
            .collect();
        let bytes = vereda_documents::data_copy::data_copy_pdf(
            &state.settings.issuer(),
            name,
            &vereda_contracts::statements::date_es(today),
            &ordered,
        );
        Ok(DataExportPdfOk::Pdf(
            Binary(bytes),
            "attachment; filename=\"copia-de-mis-datos.pdf\"".into(),
        ))
    }
}
