//! Electronic documents over HTTP (issue 19): the XML of an invoice or credit note for whoever
//! sees the document, and for finance the list of documents on their way to DIAN with their
//! states and the answer the provider reports. Made and kept by
//! `vereda_store::electronic_documents`; the answer's rule is
//! `contracts::electronic_documents`.

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use vereda_contracts::electronic_documents::{Answer, DeliveryState};
use vereda_contracts::identity::Role;
use vereda_contracts::time;
use vereda_store::electronic_documents::{self as einvoice, AnswerError, Stored, Unavailable};
use vereda_store::on_db;

use crate::ApiTags;
use crate::auth::{BearerAuth, Principal};
use crate::body::JsonBody;
use crate::finance::{visible_credit_note, visible_invoice};
use crate::pagination::PageRequest;
use crate::problem::ApiError;
use crate::startup::AppState;

/// The XML as stored: the same bytes every time.
#[derive(ApiResponse)]
pub enum XmlOk {
    #[oai(status = 200, content_type = "application/xml")]
    Xml(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
        /// SHA-256 of the body (hex), stored when the document was made.
        #[oai(header = "X-Content-SHA256")]
        String,
    ),
}

impl From<Stored> for XmlOk {
    fn from(d: Stored) -> XmlOk {
        XmlOk::Xml(
            Binary(d.xml.clone()),
            format!("attachment; filename=\"{}\"", d.filename()),
            d.sha256,
        )
    }
}

/// An electronic document and where it is on its way to DIAN.
#[derive(Debug, Object)]
pub struct ElectronicDocument {
    /// The id of the invoice or credit note it is the electronic version of.
    pub subject_id: String,
    /// `invoice`, `credit_note`, `support_document` or `support_adjustment` (nota de ajuste).
    pub kind: String,
    pub number: String,
    /// CUFE (invoice), CUDE (credit note) or CUDS (documento soporte and its notes).
    pub code: String,
    /// DIAN's public lookup of the document by its code.
    pub lookup_url: String,
    pub issued_on: NaiveDate,
    pub signed: bool,
    /// Whether it was validated against the UBL 2.1 schemas (needs `xmllint` on the server).
    pub schema_checked: bool,
    /// `generated`, `signed`, `delivered`, `accepted` or `rejected`.
    pub state: String,
    pub state_es: String,
    /// DIAN's reason for a rejection.
    #[oai(skip_serializing_if_is_none)]
    pub state_reason: Option<String>,
    pub sha256: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct ElectronicDocumentList {
    pub items: Vec<ElectronicDocument>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// DIAN's answer as the provider reported it.
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct ProviderAnswer {
    /// `accepted` or `rejected`.
    pub outcome: String,
    /// DIAN's reason, required for a rejection.
    pub reason: Option<String>,
}

#[derive(ApiResponse)]
pub enum ElectronicDocumentOk {
    #[oai(status = 200)]
    Ok(Json<ElectronicDocument>),
}

#[derive(ApiResponse)]
pub enum ElectronicDocumentListOk {
    #[oai(status = 200)]
    Ok(Json<ElectronicDocumentList>),
}

fn view(state: &AppState, d: Stored) -> ElectronicDocument {
    let delivery = d.delivery_state();
    ElectronicDocument {
        lookup_url: state.settings.einvoice.environment.lookup_url(&d.code),
        issued_on: NaiveDate::parse_from_str(&d.issued_on, "%Y-%m-%d").unwrap_or_default(),
        state_es: delivery.label_es().to_string(),
        state: delivery.as_str().to_string(),
        updated_at: time::from_unix(d.updated_at),
        subject_id: d.subject_id,
        kind: d.kind,
        number: d.number,
        code: d.code,
        signed: d.signed,
        schema_checked: d.schema_checked,
        state_reason: d.state_reason,
        sha256: d.sha256,
    }
}

/// A documento soporte PDF, rendered from what was issued.
#[derive(ApiResponse)]
pub enum PdfOk {
    #[oai(status = 200, content_type = "application/pdf")]
    Pdf(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

/// A documento soporte is seen by the worker it names, finance and admin; else 404. Its kind:
/// `document` or `adjustment`.
async fn visible_support_document(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> Result<String, ApiError> {
    who.require(&[Role::Finance, Role::Admin, Role::Worker])?;
    let row: Option<(String, String)> = on_db!(&state.db, |p| sqlx::query_as(
        "SELECT worker_id, kind FROM support_documents WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(p)
    .await)?;
    match row {
        Some((w, kind)) if who.role != Role::Worker || who.worker_id.as_deref() == Some(&w) => {
            Ok(kind)
        }
        _ => Err(ApiError::not_found("support document")),
    }
}

/// A document with no electronic version, said in Spanish.
fn unavailable(u: Unavailable, what: &str) -> ApiError {
    match u {
        Unavailable::Missing => ApiError::not_found(what),
        Unavailable::NotIssued => ApiError::conflict(
            "credit_note_not_issued",
            "La nota crédito aún se está numerando; intente de nuevo en unos segundos.",
        ),
        Unavailable::NoResolution => ApiError::conflict(
            "no_electronic_document",
            "the invoice was numbered before a DIAN numbering resolution was recorded: it has \
             no electronic document",
        ),
        Unavailable::InvoiceWithout => ApiError::conflict(
            "no_electronic_document",
            "the credit note's invoice has no electronic document, so neither has the note",
        ),
        Unavailable::NotElectronic => {
            let mut e = ApiError::conflict(
                "no_electronic_document",
                "monthly documentos soporte (before weekly ones) and notas de ajuste that \
                 correct no document have no electronic document",
            );
            e.detail_es = Some(
                "Los documentos soporte mensuales (anteriores a los semanales) y las notas de \
                 ajuste que no corrigen un documento no tienen documento electrónico."
                    .into(),
            );
            e
        }
        Unavailable::DocumentWithout => {
            let mut e = ApiError::conflict(
                "no_electronic_document",
                "the nota de ajuste's documento soporte has no electronic document, so neither \
                 has the note",
            );
            e.detail_es = Some(
                "El documento soporte que esta nota corrige no tiene documento electrónico; la \
                 nota tampoco."
                    .into(),
            );
            e
        }
        Unavailable::NoSellerId => {
            let mut e = ApiError::conflict(
                "no_electronic_document",
                "the worker has no cédula on record: DIAN takes no documento soporte without \
                 the seller's id; it is made once she has one",
            );
            e.detail_es = Some(
                "La persona no tiene cédula registrada y la DIAN no recibe un documento soporte \
                 sin la identificación de quien vende. Se genera cuando la registre."
                    .into(),
            );
            e
        }
    }
}

pub struct ElectronicDocumentsApi;

#[OpenApi(tag = "ApiTags::Invoicing")]
impl ElectronicDocumentsApi {
    /// An invoice as DIAN's factura electrónica: UBL 2.1 XML (company members, finance)
    ///
    /// Made once when the invoice is issued under a DIAN numbering resolution (its CUFE
    /// recomputes from its own fields; signed when the platform has a certificate), then the
    /// same bytes every time. 409 `no_electronic_document` for an invoice numbered before a
    /// resolution was recorded.
    #[oai(path = "/v1/invoices/:id/xml", method = "get")]
    async fn invoice_xml(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<XmlOk, ApiError> {
        visible_invoice(&state, &auth.0, &id.0).await?;
        einvoice::for_invoice(&state.db, &state.settings, &id.0)
            .await
            .map_err(ApiError::from_anyhow)?
            .map(XmlOk::from)
            .map_err(|u| unavailable(u, "invoice"))
    }

    /// A credit note as DIAN's nota crédito electrónica: UBL 2.1 XML (company members, finance)
    ///
    /// References its invoice's CUFE; its CUDE recomputes from its own fields.
    #[oai(path = "/v1/credit-notes/:id/xml", method = "get")]
    async fn credit_note_xml(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<XmlOk, ApiError> {
        visible_credit_note(&state, &auth.0, &id.0).await?;
        einvoice::for_credit_note(&state.db, &state.settings, &id.0)
            .await
            .map_err(ApiError::from_anyhow)?
            .map(XmlOk::from)
            .map_err(|u| unavailable(u, "credit note"))
    }

    /// A weekly documento soporte as DIAN's electronic document: UBL 2.1 XML (the worker it
    /// names, finance)
    ///
    /// Made once when the week's document is issued under a DIAN numbering resolution (its
    /// CUDS recomputes from its own fields). A nota de ajuste is a `CreditNote` of type 95
    /// naming its document's CUDS. 409 `no_electronic_document` for a monthly document from
    /// before weeks, one numbered without a resolution, a worker without a cédula, or a note
    /// of such a document.
    #[oai(path = "/v1/support-documents/:id/xml", method = "get")]
    async fn support_document_xml(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<XmlOk, ApiError> {
        let made = if visible_support_document(&state, &auth.0, &id.0).await? == "document" {
            einvoice::for_support_document(&state.db, &state.settings, &id.0).await
        } else {
            einvoice::for_support_adjustment(&state.db, &state.settings, &id.0).await
        };
        made.map_err(ApiError::from_anyhow)?
            .map(XmlOk::from)
            .map_err(|u| unavailable(u, "support document"))
    }

    /// A documento soporte or nota de ajuste as PDF, in Spanish (the worker it names, finance)
    ///
    /// What was bought from her in the week, line by line, with its CUDS, resolution and
    /// DIAN's lookup as a QR code once its electronic document exists.
    #[oai(path = "/v1/support-documents/:id/pdf", method = "get")]
    async fn support_document_pdf(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<PdfOk, ApiError> {
        visible_support_document(&state, &auth.0, &id.0).await?;
        let (filename, pdf) =
            vereda_store::document_files::support_document_pdf(&state.db, &state.settings, &id.0)
                .await
                .map_err(ApiError::from_anyhow)?
                .ok_or_else(|| ApiError::not_found("support document"))?;
        Ok(PdfOk::Pdf(
            Binary(pdf),
            format!("attachment; filename=\"{filename}\""),
        ))
    }

    /// Electronic documents and their way to DIAN (admin, finance)
    ///
    /// Newest first; `?state=` (`generated`, `signed`, `delivered`, `accepted`, `rejected`)
    /// finds what waits for the provider or what DIAN rejected.
    #[oai(path = "/v1/electronic-documents", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(name = "state")] filter: Query<Option<String>>,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
    ) -> Result<ElectronicDocumentListOk, ApiError> {
        auth.0.require(&[Role::Admin, Role::Finance])?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let filter = filter
            .0
            .as_deref()
            .map(|s| {
                DeliveryState::parse(s).ok_or_else(|| {
                    ApiError::invalid(
                        "state",
                        "must be generated, signed, delivered, accepted or rejected",
                    )
                })
            })
            .transpose()?;
        let rows: Vec<Stored> = on_db!(&state.db, |p| sqlx::query_as(
            "SELECT subject_id, kind, number, code, issued_on, xml, sha256, signed, \
             schema_checked, state, state_reason, created_at, updated_at \
             FROM electronic_documents WHERE subject_id < $1 AND ($2 IS NULL OR state = $2) \
             ORDER BY subject_id DESC LIMIT $3"
        )
        .bind(page.before())
        .bind(filter.map(DeliveryState::as_str))
        .bind(page.fetch())
        .fetch_all(p)
        .await)?;
        let (rows, next_cursor) = page.finish(rows, |r| &r.subject_id);
        let items = rows.into_iter().map(|d| view(&state, d)).collect();
        Ok(ElectronicDocumentListOk::Ok(Json(ElectronicDocumentList {
            items,
            next_cursor,
        })))
    }

    /// Record DIAN's answer on a delivered document, as the provider reported it (admin, finance)
    ///
    /// `accepted`, or `rejected` with DIAN's reason. Only a delivered document takes an
    /// answer (409 `document_not_delivered`), and once (409 `document_already_answered`): a
    /// rejected document is corrected by a new one.
    #[oai(path = "/v1/electronic-documents/:id/answer", method = "post")]
    async fn answer(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<ProviderAnswer>,
    ) -> Result<ElectronicDocumentOk, ApiError> {
        auth.0.require(&[Role::Admin, Role::Finance])?;
        let req = body.0;
        let outcome = match req.outcome.as_str() {
            "accepted" => Answer::Accepted,
            "rejected" => Answer::Rejected {
                reason: req.reason.unwrap_or_default(),
            },
            _ => return Err(ApiError::invalid("outcome", "must be accepted or rejected")),
        };
        match einvoice::record_answer(&state.db, &id.0, &outcome, &auth.0.user_id)
            .await
            .map_err(ApiError::from_anyhow)?
        {
            Ok(d) => Ok(ElectronicDocumentOk::Ok(Json(view(&state, d)))),
            Err(AnswerError::Missing) => Err(ApiError::not_found("electronic document")),
            Err(AnswerError::Refused(e)) => {
                let mut problem = match e.field() {
                    Some("reason") => {
                        ApiError::rule(e.code(), e.field(), "a rejection needs DIAN's reason")
                    }
                    _ => ApiError::conflict(e.code(), "the document cannot take this answer"),
                };
                problem.detail_es = Some(e.to_string().into());
                Err(problem)
            }
        }
    }
}
