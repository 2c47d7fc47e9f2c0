//! Monthly income statements, their documents and public verification, documentos soporte,
//! invoice PDFs, the e-mail outbox for admin and people's mail preferences (issue 6).
//!
//! Statements are built by the worker's statement run; here they are started,
//! read and rendered. A worker's statements are for that worker, finance and admin; anyone
//! else gets 404, so ids cannot be probed.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json, PlainText};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde::Deserialize;
use vereda_contracts::csvfile::{self, Cell};
use vereda_contracts::identity::Role;
use vereda_contracts::jobs::BuildStatements;
use vereda_contracts::money::Cop;
use vereda_contracts::money_states::OutboxStatus;
use vereda_contracts::statements::{Month, normalize_code, social_security_note_es};
use vereda_contracts::statements::{StoredStatement, SupportDocument};
use vereda_contracts::{throttle, time};
use vereda_store::document_files;
use vereda_store::on_db;
use vereda_store::stored_statements as statements;

use crate::ApiTags;
use crate::auth::{BearerAuth, NoContent, Principal};
use crate::body::JsonBody;
use crate::finance::{Accepted, CsvOk, DocumentOk};
use crate::pagination::PageRequest;
use crate::problem::ApiError;
use crate::startup::AppState;
use vereda_contracts::personal_data::{self, Read};

fn pesos(centavos: i64) -> String {
    Cop::from_centavos(centavos).to_string()
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct NewStatementRun {
    /// Bogotá month, `YYYY-MM`; the month in course gives provisional statements.
    pub month: String,
}

#[derive(Debug, Object)]
pub struct CompanyIncome {
    pub company_id: String,
    pub company_name: String,
    pub assignments: i64,
    pub seconds: i64,
    pub gross: String,
}

#[derive(Debug, Object)]
pub struct Comparisons {
    /// The legal monthly minimum wage in force in the month.
    pub smmlv: String,
    /// Gross ÷ SMMLV, e.g. `0.0277`.
    pub share_of_smmlv: String,
    /// Gross per hour worked; absent without logged time.
    #[oai(skip_serializing_if_is_none)]
    pub effective_hourly: Option<String>,
    pub minimum_hourly: String,
    pub rural_baseline: String,
    /// Gross ÷ rural baseline.
    pub share_of_baseline: String,
}

#[derive(Debug, Object)]
pub struct SocialSecurity {
    /// Whether an independent worker with this income must contribute (income ≥ 1 SMMLV).
    pub required: bool,
    /// Contribution base: 40% of income, never below one SMMLV.
    pub ibc: String,
    pub health: String,
    pub pension: String,
    pub arl: String,
    pub total: String,
    /// The PILA planilla she declared for the month, with what it paid (issue 20 §4).
    #[oai(skip_serializing_if_is_none)]
    pub declared_planilla: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub declared_health: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub declared_pension: Option<String>,
    /// The same, said plainly in Spanish, with the declaration compared.
    pub note: String,
}

#[derive(Debug, Object)]
pub struct SupportDocumentView {
    pub id: String,
    /// `DS-1` (documento soporte) or `NA-1` (nota de ajuste).
    pub number: String,
    /// `document` or `adjustment`.
    pub kind: String,
    pub worker_id: String,
    pub month: String,
    pub amount: String,
    /// Bogotá date, `YYYY-MM-DD`.
    pub issued_on: String,
    /// The ISO week it documents, Monday to Sunday (`YYYY-MM-DD`); none for the monthly
    /// documents issued before weeks.
    #[oai(skip_serializing_if_is_none)]
    pub week_start: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub week_end: Option<String>,
    /// Its CUDS, once its electronic document is made.
    #[oai(skip_serializing_if_is_none)]
    pub cuds: Option<String>,
    /// A nota de ajuste: the number of the documento soporte it corrects, and why.
    #[oai(skip_serializing_if_is_none)]
    pub corrects: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<String>,
}

impl From<SupportDocument> for SupportDocumentView {
    fn from(d: SupportDocument) -> Self {
        SupportDocumentView {
            id: d.id,
            number: d.number,
            kind: d.kind,
            worker_id: d.worker_id,
            month: d.month,
            amount: d.amount.to_string(),
            issued_on: d.issued_on,
            week_start: d.week_start,
            week_end: d.week_end,
            cuds: d.code,
            corrects: d.corrects,
            reason: d.reason,
        }
    }
}

/// A worker's income statement for a Bogotá month (one version of it).
#[derive(Debug, Object)]
pub struct Statement {
    pub worker_id: String,
    pub month: String,
    /// Built while the month was in course.
    pub provisional: bool,
    pub seconds: i64,
    /// Hours worked, two decimals.
    pub hours: String,
    pub assignments_approved: i64,
    /// Earnings of work approved in the month.
    pub gross: String,
    /// Paid to her in the month before withholding: the payout lines batched in the month
    /// that had not failed at its close.
    pub paid_gross: String,
    /// Withheld from those payments (retención en la fuente; negative when an excess
    /// withheld earlier was given back).
    pub withholding: String,
    /// What those payments sent her: `paid_gross − withholding`.
    pub net: String,
    /// Payouts confirmed by the bank during the month, net of withholding.
    pub paid_out: String,
    /// Earned and not yet sent, at the close of the month.
    pub pending: String,
    pub by_company: Vec<CompanyIncome>,
    pub comparisons: Comparisons,
    pub social_security: SocialSecurity,
    pub support_documents: Vec<SupportDocumentView>,
    /// Give this to a bank: the page `/verificar/{code}` (and `GET /v1/statements/verify/{code}`)
    /// confirms the figures.
    pub verification_code: String,
    pub generated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<StoredStatement> for Statement {
    fn from(s: StoredStatement) -> Self {
        let note = social_security_note_es(&s.figures);
        let f = s.figures;
        let (cmp, ss) = (f.comparisons, f.social_security);
        Statement {
            worker_id: f.worker_id,
            month: f.month,
            provisional: f.provisional,
            seconds: f.seconds,
            hours: f.hours.to_string(),
            assignments_approved: f.assignments_approved,
            gross: f.gross.to_string(),
            paid_gross: f.paid_gross.to_string(),
            withholding: f.withholding.to_string(),
            net: f.net.to_string(),
            paid_out: f.paid_out.to_string(),
            pending: f.pending.to_string(),
            by_company: f
                .by_company
                .into_iter()
                .map(|c| CompanyIncome {
                    company_id: c.company_id,
                    company_name: c.company_name,
                    assignments: c.assignments,
                    seconds: c.seconds,
                    gross: c.gross.to_string(),
                })
                .collect(),
            comparisons: Comparisons {
                smmlv: cmp.smmlv.to_string(),
                share_of_smmlv: cmp.share_of_smmlv.to_string(),
                effective_hourly: cmp.effective_hourly.map(|c| c.to_string()),
                minimum_hourly: cmp.minimum_hourly.to_string(),
                rural_baseline: cmp.rural_baseline.to_string(),
                share_of_baseline: cmp.share_of_baseline.to_string(),
            },
            social_security: SocialSecurity {
                required: ss.required,
                ibc: ss.ibc.to_string(),
                health: ss.health.to_string(),
                pension: ss.pension.to_string(),
                arl: ss.arl.to_string(),
                total: ss.total.to_string(),
                declared_planilla: ss.declared.as_ref().map(|d| d.planilla.clone()),
                declared_health: ss.declared.as_ref().map(|d| d.health.to_string()),
                declared_pension: ss.declared.as_ref().map(|d| d.pension.to_string()),
                note,
            },
            support_documents: s.support_documents.into_iter().map(Into::into).collect(),
            verification_code: s.verification_code,
            generated_at: time::from_unix(s.generated_at),
            version: s.version,
        }
    }
}

#[derive(Debug, Object)]
pub struct StatementSummary {
    pub id: String,
    pub month: String,
    pub version: i64,
    pub provisional: bool,
    pub gross: String,
    pub net: String,
    pub verification_code: String,
    pub generated_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct StatementList {
    /// Every version, newest first.
    pub items: Vec<StatementSummary>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// What the public verification answers: enough to match the paper, nothing more.
#[derive(Debug, Object)]
pub struct VerifiedStatement {
    /// `statement` (a monthly income statement) or `certificate` (a yearly certificate of
    /// income and withholdings: `month` is then the year, `gross` what was paid and `net` what
    /// reached her after `withheld`).
    pub kind: String,
    /// The worker's name as printed on this version.
    pub name: String,
    pub month: String,
    pub gross: String,
    pub net: String,
    #[oai(skip_serializing_if_is_none)]
    pub withheld: Option<String>,
    /// Which version of the month's statement the code belongs to (1, 2, …).
    pub version: i64,
    /// `provisional` (made while the month was in course) or `final`.
    pub status: String,
    /// True when a later version of the same month replaced this one.
    pub superseded: bool,
    /// The month's newest version (equal to `version` unless superseded).
    pub latest_version: i64,
    /// The same, said for a person (Spanish).
    pub summary: String,
}

#[derive(Debug, Object)]
pub struct SupportDocumentList {
    pub items: Vec<SupportDocumentRow>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object)]
pub struct SupportDocumentRow {
    #[oai(flatten)]
    pub document: SupportDocumentView,
    pub worker_name: String,
    /// The worker's cédula, when on file.
    #[oai(skip_serializing_if_is_none)]
    pub worker_document_id: Option<String>,
}

#[derive(Debug, Object)]
pub struct OutboxMessage {
    /// Also the message's Message-ID.
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    /// `pending`, `sending`, `sent` or `failed` (for good).
    pub status: String,
    pub attempts: i64,
    #[oai(skip_serializing_if_is_none)]
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Object)]
pub struct OutboxList {
    pub items: Vec<OutboxMessage>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object)]
pub struct EmailPreferences {
    /// Reminders and marketplace news (claims about to expire, cancelled tasks, new
    /// submissions). Statements, payouts, review outcomes and invoices are always sent.
    pub non_essential: bool,
    /// Company members only: how news of submissions ready for review arrives (while
    /// `non_essential` is on).
    #[oai(skip_serializing_if_is_none)]
    pub submissions: Option<SubmissionMail>,
}

/// How a company member hears of submissions ready for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SubmissionMail {
    /// One e-mail per submission, naming the task and the worker.
    Each,
    /// One e-mail an hour listing the submissions of the hour before (the default).
    Digest,
}

impl SubmissionMail {
    fn as_str(self) -> &'static str {
        match self {
            SubmissionMail::Each => "each",
            SubmissionMail::Digest => "digest",
        }
    }

    fn parse(s: &str) -> SubmissionMail {
        if s == "each" {
            SubmissionMail::Each
        } else {
            SubmissionMail::Digest
        }
    }
}

/// A change of e-mail preferences: send what changes.
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct EmailPreferencesChange {
    #[serde(default)]
    pub non_essential: Option<bool>,
    /// Company members only: `each` or `digest`.
    #[serde(default)]
    pub submissions: Option<SubmissionMail>,
}

#[derive(ApiResponse)]
pub enum StatementOk {
    #[oai(status = 200)]
    Ok(Json<Statement>),
}

#[derive(ApiResponse)]
pub enum StatementListOk {
    #[oai(status = 200)]
    Ok(Json<StatementList>),
}

#[derive(ApiResponse)]
pub enum VerifiedOk {
    #[oai(status = 200)]
    Ok(Json<VerifiedStatement>),
}

#[derive(ApiResponse)]
pub enum SupportDocumentsOk {
    #[oai(status = 200)]
    Ok(Json<SupportDocumentList>),
}

#[derive(ApiResponse)]
pub enum OutboxOk {
    #[oai(status = 200)]
    Ok(Json<OutboxList>),
}

#[derive(ApiResponse)]
pub enum PreferencesOk {
    #[oai(status = 200)]
    Ok(Json<EmailPreferences>),
}

/// What `who` has chosen (no row: everything on, submissions as a digest).
async fn stored_preferences(
    state: &AppState,
    who: &Principal,
) -> Result<EmailPreferences, ApiError> {
    let stored: Option<(bool, String)> = on_db!(&state.db, |p| sqlx::query_as(
        "SELECT non_essential, submissions FROM email_preferences WHERE user_id = $1"
    )
    .bind(&who.user_id)
    .fetch_optional(p)
    .await)?;
    let (non_essential, submissions) = match stored {
        Some((n, s)) => (n, SubmissionMail::parse(&s)),
        None => (true, SubmissionMail::Digest),
    };
    Ok(EmailPreferences {
        non_essential,
        submissions: (who.role == Role::Company).then_some(submissions),
    })
}

/// A PDF document.
#[derive(ApiResponse)]
pub enum PdfOk {
    #[oai(status = 200, content_type = "application/pdf")]
    Pdf(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

/// 404 unless the caller is the worker, finance or admin (and the worker exists); 403 for all
/// but admins once her personal data was deleted (her records are kept under restricted access).
pub(crate) async fn visible_worker(
    state: &AppState,
    who: &Principal,
    worker_id: &str,
) -> Result<(), ApiError> {
    if !(who.is_staff() || who.worker_id.as_deref() == Some(worker_id)) {
        return Err(ApiError::not_found("worker"));
    }
    let found: Option<(String, Option<i64>)> = on_db!(&state.db, |p| sqlx::query_as(
        "SELECT id, anonymised_at FROM worker_profiles WHERE id = $1"
    )
    .bind(worker_id)
    .fetch_optional(p)
    .await)?;
    match found {
        None => Err(ApiError::not_found("worker")),
        Some((_, Some(_))) if who.role != Role::Admin => Err(restricted()),
        Some(_) => Ok(()),
    }
}

/// Her records once her personal data was deleted: kept by law, for admins only.
pub(crate) fn restricted() -> ApiError {
    let mut e = ApiError::forbidden(
        "This worker's personal data was deleted: her records are kept by law for admins only.",
    );
    e.detail_es = Some(
        "Los datos personales de esta persona se suprimieron: sus documentos se conservan por \
         ley con acceso restringido, y solo un administrador puede consultarlos."
            .into(),
    );
    e
}

fn parse_month(field: &str, raw: &str) -> Result<Month, ApiError> {
    Month::parse(raw).ok_or_else(|| ApiError::invalid(field, "must be a month YYYY-MM"))
}

/// The statement the caller asked for, after checking they may see it.
async fn visible_statement(
    state: &AppState,
    who: &Principal,
    worker_id: &str,
    month: &str,
    version: Option<i64>,
) -> Result<StoredStatement, ApiError> {
    visible_worker(state, who, worker_id).await?;
    let month = parse_month("month", month)?;
    statements::load(&state.db, worker_id, month, version)
        .await
        .map_err(ApiError::from_anyhow)?
        .ok_or_else(|| ApiError::not_found("statement"))
}

/// A row of a statement's CSV: section, concept, value.
type CsvRow = (&'static str, String, String);

fn yes_no(b: bool) -> String {
    if b { "si" } else { "no" }.to_string()
}

/// The summary: who, which month, and the month's figures.
fn summary_rows(s: &StoredStatement) -> Vec<CsvRow> {
    let f = &s.figures;
    let row = |key: &str, value: String| ("resumen", key.to_string(), value);
    vec![
        row("mes", f.month.clone()),
        row("version", s.version.to_string()),
        row("provisional", yes_no(f.provisional)),
        row("trabajador", s.worker_name.clone()),
        row("cedula", s.document_id.clone().unwrap_or_default()),
        row("segundos", f.seconds.to_string()),
        row("horas", f.hours.to_string()),
        row("trabajos_aprobados", f.assignments_approved.to_string()),
        row("ingreso_bruto", f.gross.to_string()),
        row("pagado_en_el_mes", f.paid_gross.to_string()),
        row("retencion", f.withholding.to_string()),
        row("pagado_neto", f.net.to_string()),
        row("confirmado_por_el_banco", f.paid_out.to_string()),
        row("pendiente_de_pago", f.pending.to_string()),
    ]
}

/// The comparisons with the legal minimums, and social security.
fn comparison_rows(s: &StoredStatement) -> Vec<CsvRow> {
    let (cmp, ss) = (&s.figures.comparisons, &s.figures.social_security);
    let row = |section, key: &str, value: String| (section, key.to_string(), value);
    let effective = cmp.effective_hourly.map(|c| c.to_string());
    vec![
        row("comparacion", "smmlv", cmp.smmlv.to_string()),
        row(
            "comparacion",
            "proporcion_smmlv",
            cmp.share_of_smmlv.to_string(),
        ),
        row(
            "comparacion",
            "valor_hora_efectivo",
            effective.unwrap_or_default(),
        ),
        row(
            "comparacion",
            "minimo_por_hora",
            cmp.minimum_hourly.to_string(),
        ),
        row(
            "comparacion",
            "linea_base_rural",
            cmp.rural_baseline.to_string(),
        ),
        row(
            "comparacion",
            "proporcion_linea_base",
            cmp.share_of_baseline.to_string(),
        ),
        row("seguridad_social", "obligatoria", yes_no(ss.required)),
        row("seguridad_social", "ibc", ss.ibc.to_string()),
        row("seguridad_social", "salud", ss.health.to_string()),
        row("seguridad_social", "pension", ss.pension.to_string()),
        row("seguridad_social", "arl", ss.arl.to_string()),
        row("seguridad_social", "total", ss.total.to_string()),
    ]
}

fn statement_csv(s: &StoredStatement) -> String {
    let mut rows = summary_rows(s);
    for c in &s.figures.by_company {
        rows.push(("empresa", c.company_name.clone(), c.gross.to_string()));
    }
    rows.extend(comparison_rows(s));
    for d in &s.support_documents {
        rows.push(("documento_soporte", d.number.clone(), d.amount.to_string()));
    }
    rows.push(("verificacion", "codigo".into(), s.verification_code.clone()));
    // Values are numbers where they are (amounts, hours, shares) and text otherwise; a company
    // or worker name is text and is defused.
    csvfile::write(
        &["seccion", "concepto", "valor"],
        rows.into_iter().map(|(section, key, value)| {
            let text = matches!(
                key.as_str(),
                "mes" | "provisional" | "trabajador" | "cedula" | "obligatoria" | "codigo"
            );
            let value = if text {
                Cell::text(value)
            } else {
                Cell::number(value)
            };
            [Cell::text(section), Cell::text(key), value]
        }),
    )
}

/// A code that is no statement's may be a yearly certificate's.
async fn verify_certificate(state: &AppState, code: &str) -> Result<VerifiedOk, ApiError> {
    type Row = (String, i64, i64, i64, i64, i64);
    let row: Option<Row> = on_db!(&state.db, |p| sqlx::query_as(
        "SELECT c.worker_name, c.year, c.paid, c.withheld, c.version, \
         (SELECT MAX(l.version) FROM withholding_certificates l \
          WHERE l.worker_id = c.worker_id AND l.year = c.year) \
         FROM withholding_certificates c WHERE c.verification_code = $1"
    )
    .bind(code)
    .fetch_optional(p)
    .await)?;
    let (name, year, paid, withheld, version, latest_version) =
        row.ok_or_else(|| ApiError::not_found("statement"))?;
    let superseded = latest_version > version;
    let mut summary = format!(
        "Certificado de ingresos y retenciones de {name}, año {year}, versión {version}: \
         pagos {}, retención en la fuente {}, neto recibido {}.",
        Cop::from_centavos(paid).to_es_co(),
        Cop::from_centavos(withheld).to_es_co(),
        Cop::from_centavos(paid - withheld).to_es_co()
    );
    if superseded {
        summary.push_str(&format!(
            " Fue reemplazado por la versión {latest_version}: pida a la persona el certificado \
             más reciente."
        ));
    }
    Ok(VerifiedOk::Ok(Json(VerifiedStatement {
        kind: "certificate".to_string(),
        name,
        month: year.to_string(),
        gross: pesos(paid),
        net: pesos(paid - withheld),
        withheld: Some(pesos(withheld)),
        version,
        status: "final".to_string(),
        superseded,
        latest_version,
        summary,
    })))
}

/// Statement lookups per client address, in memory: a bank clerk checks a few codes, a
/// guesser many. The counting rule is the sign-in throttle's (`contracts::throttle`), without
/// a lock: over the limit, lookups are refused until the window ends.
#[derive(Default)]
pub struct VerifyThrottle {
    counters: std::sync::Mutex<std::collections::HashMap<String, throttle::Counter>>,
}

/// Lookups allowed per address per window ([`throttle::WINDOW_SECS`]).
const VERIFY_POLICY: throttle::Policy = throttle::Policy {
    max: 60,
    locks: false,
};

impl VerifyThrottle {
    /// Count a lookup from `address`; the refusal when it is one too many.
    fn count(&self, address: &str, now: i64) -> Option<throttle::Refusal> {
        let mut counters = self
            .counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if counters.len() > 10_000 {
            counters.retain(|_, c| !c.is_stale(now));
        }
        let prev = counters.get(address).copied();
        let next = throttle::Counter::count(prev, VERIFY_POLICY, now);
        counters.insert(address.to_string(), next);
        next.refusal(VERIFY_POLICY, now)
    }
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct NewSupportDocumentRun {
    /// The newest ISO week to document, by its Monday (`YYYY-MM-DD`); it must have ended.
    pub week: String,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct NewAnnulment {
    /// Why, in Spanish, as the nota de ajuste will say it (10 to 500 characters), e.g.
    /// "Cédula de la vendedora errada".
    pub reason: String,
}

#[derive(Debug, Object)]
pub struct Annulled {
    /// The nota de ajuste that annuls it.
    pub adjustment: SupportDocumentView,
    /// The week's run that issues it again, with the worker's data as they are now: follow
    /// it at `GET /v1/jobs/{job_id}`.
    pub job_id: String,
}

#[derive(ApiResponse)]
pub enum AnnulledOk {
    #[oai(status = 201)]
    Created(Json<Annulled>),
}

pub struct StatementsApi;

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Statements")]
impl StatementsApi {
    /// Build statements for a month now (finance)
    ///
    /// One statement per worker with income or payouts in the month. The month in course gives
    /// provisional statements. Figures equal to the last version add nothing; changed figures
    /// add a new version (old ones stay readable), e-mailed to the worker with its PDF.
    /// Documentos soporte are weekly (`POST /v1/support-document-runs`). 202 with the job to
    /// follow.
    #[oai(path = "/statement-runs", method = "post")]
    async fn statement_run(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<NewStatementRun>,
    ) -> Result<Accepted, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Finance, Role::Admin])?;
        let month = parse_month("month", &body.0.month)?;
        if month > Month::of(time::now()) {
            return Err(ApiError::invalid("month", "must not be in the future"));
        }
        if state.settings.legal.smmlv(month.first_day()).is_none() {
            return Err(ApiError::invalid(
                "month",
                "has no legal minimum wage configured to compare with",
            ));
        }
        let job = BuildStatements {
            month: month.to_string(),
        };
        let subject = month.to_string();
        let started = crate::finance::start_job(
            &state,
            who,
            "statement_run",
            BuildStatements::QUEUE,
            &job,
            Some(&subject),
            None,
            async |_| Ok(()),
        )
        .await?;
        Ok(Accepted::Started(Json(started)))
    }

    /// Issue the documentos soporte of the weeks up to one now (finance)
    ///
    /// What the Monday run does for last week: each worker's documento soporte for a week
    /// with purchases, or a nota de ajuste for a week that changed (eight weeks back), then
    /// their electronic documents. For a worker the Monday run left out (say, a numbering
    /// range used up, since renewed). Nothing is issued twice. 202 with the job to follow.
    #[oai(path = "/support-document-runs", method = "post")]
    async fn support_document_run(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<NewSupportDocumentRun>,
    ) -> Result<Accepted, ApiError> {
        use vereda_contracts::jobs::IssueSupportDocuments;
        use vereda_contracts::support_weeks::Week;
        let who = &auth.0;
        who.require(&[Role::Finance, Role::Admin])?;
        let week = Week::parse(body.0.week.trim())
            .ok_or_else(|| ApiError::invalid("week", "must be a Monday, YYYY-MM-DD"))?;
        if week.end() > time::unix(time::now()) {
            return Err(ApiError::invalid(
                "week",
                "must have ended: a week is documented from the Monday after",
            ));
        }
        let job = IssueSupportDocuments {
            week: week.to_string(),
        };
        let subject = week.to_string();
        let started = crate::finance::start_job(
            &state,
            who,
            "support_document_run",
            IssueSupportDocuments::QUEUE,
            &job,
            Some(&subject),
            None,
            async |_| Ok(()),
        )
        .await?;
        Ok(Accepted::Started(Json(started)))
    }

    /// Annul a weekly documento soporte with a nota de ajuste, and issue it again (finance)
    ///
    /// For a document that is wrong as issued (say, the worker's cédula, since corrected):
    /// a nota de ajuste (type 95, concept 2) takes off all it still stood for, then the
    /// week's run issues a new documento soporte with her data as they are now. Correct her
    /// data first. 409 `already_annulled`; 409 `not_a_weekly_document` for a nota de ajuste
    /// or a monthly document; 409 `worker_erased` once her personal data was deleted. 201
    /// with the note and the run to follow.
    #[oai(path = "/support-documents/:id/annulment", method = "post")]
    async fn annul_support_document(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<NewAnnulment>,
    ) -> Result<AnnulledOk, ApiError> {
        use vereda_contracts::jobs::IssueSupportDocuments;
        use vereda_contracts::support_weeks::Week;
        let who = &auth.0;
        who.require(&[Role::Finance, Role::Admin])?;
        let reason = body.0.reason.trim().to_string();
        if !(10..=500).contains(&reason.chars().count()) {
            return Err(ApiError::invalid(
                "reason",
                "must say why the document is annulled, in 10 to 500 characters",
            ));
        }
        type Row = (String, String, Option<String>, String, Option<i64>);
        let row: Option<Row> = on_db!(&state.db, |p| sqlx::query_as(
            "SELECT d.kind, d.worker_id, d.week_start, d.number, w.anonymised_at \
             FROM support_documents d JOIN worker_profiles w ON w.id = d.worker_id \
             WHERE d.id = $1"
        )
        .bind(&id.0)
        .fetch_optional(p)
        .await)?;
        let Some((kind, worker, week_start, document, erased)) = row else {
            return Err(ApiError::not_found("support document"));
        };
        let week = match (kind.as_str(), week_start.as_deref().and_then(Week::parse)) {
            ("document", Some(week)) => week,
            _ => {
                return Err(ApiError::conflict(
                    "not_a_weekly_document",
                    "only a weekly documento soporte is annulled",
                ));
            }
        };
        // Issued again, it would name nobody: her documents stay as they were issued.
        if erased.is_some() {
            return Err(ApiError::conflict(
                "worker_erased",
                "the worker's personal data was deleted: her documents stay as issued",
            ));
        }
        let note_id = uuid::Uuid::now_v7().to_string();
        let now = time::unix(time::now());
        let today = vereda_contracts::timesheet::bogota_day(now);
        let mut issued = None;
        let job = IssueSupportDocuments {
            week: week.to_string(),
        };
        let started = crate::finance::start_job(
            &state,
            who,
            "support_document_run",
            IssueSupportDocuments::QUEUE,
            &job,
            Some(&week.to_string()),
            None,
            async |tx| {
                let note = vereda_worker::support_run::annul(
                    tx, &id.0, &note_id, &worker, week, &reason, today, now,
                )
                .await
                .map_err(ApiError::from_anyhow)?;
                issued = Some(note.ok_or_else(|| {
                    ApiError::conflict(
                        "already_annulled",
                        "the documento soporte was already annulled",
                    )
                })?);
                Ok(())
            },
        )
        .await?;
        let (number, amount) = issued.ok_or_else(|| ApiError::internal("no note was issued"))?;
        Ok(AnnulledOk::Created(Json(Annulled {
            adjustment: SupportDocumentView {
                id: note_id,
                number,
                kind: "adjustment".into(),
                worker_id: worker,
                month: week.statement_month().to_string(),
                amount: pesos(amount),
                issued_on: today.to_string(),
                week_start: Some(week.to_string()),
                week_end: Some(week.sunday().to_string()),
                cuds: None,
                corrects: Some(document),
                reason: Some(reason),
            },
            job_id: started.job_id,
        })))
    }

    /// A worker's statements, every version, newest first
    #[oai(path = "/workers/:id/statements", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        month: Query<Option<String>>,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
    ) -> Result<StatementListOk, ApiError> {
        visible_worker(&state, &auth.0, &id.0).await?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        crate::data_access::record(
            &state,
            &auth.0,
            Read::Statement,
            "GET /v1/workers/{id}/statements",
            &[&id.0],
        )
        .await?;
        let month = month
            .0
            .as_deref()
            .map(|m| parse_month("month", m).map(|m| m.to_string()))
            .transpose()?;
        type Row = (String, String, i64, bool, i64, i64, String, i64);
        let rows: Vec<Row> = on_db!(&state.db, |p| {
            sqlx::query_as(
            "SELECT id, month, version, provisional, gross, net, verification_code, generated_at \
             FROM statements WHERE worker_id = $1 AND id < $2 AND ($3 IS NULL OR month = $3) \
             ORDER BY id DESC LIMIT $4"
        )
        .bind(&id.0)
        .bind(page.before())
        .bind(month.as_deref())
        .bind(page.fetch())
        .fetch_all(p)
        .await
        })?;
        let (rows, next_cursor) = page.finish(rows, |r| &r.0);
        let items = rows
            .into_iter()
            .map(
                |(id, month, version, provisional, gross, net, code, at)| StatementSummary {
                    id,
                    month,
                    version,
                    provisional,
                    gross: pesos(gross),
                    net: pesos(net),
                    verification_code: code,
                    generated_at: time::from_unix(at),
                },
            )
            .collect();
        Ok(StatementListOk::Ok(Json(StatementList {
            items,
            next_cursor,
        })))
    }

    /// A worker's statement for a month (the newest version, or `?version=`)
    #[oai(path = "/workers/:id/statements/:month", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        month: Path<String>,
        version: Query<Option<i64>>,
    ) -> Result<StatementOk, ApiError> {
        let s = visible_statement(&state, &auth.0, &id.0, &month.0, version.0).await?;
        let route = "GET /v1/workers/{id}/statements/{month}";
        crate::data_access::record(&state, &auth.0, Read::Statement, route, &[&id.0]).await?;
        Ok(StatementOk::Ok(Json(s.into())))
    }

    /// A statement as CSV (`seccion,concepto,valor`)
    #[oai(path = "/workers/:id/statements/:month/csv", method = "get")]
    async fn csv(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        month: Path<String>,
        version: Query<Option<i64>>,
    ) -> Result<CsvOk, ApiError> {
        let s = visible_statement(&state, &auth.0, &id.0, &month.0, version.0).await?;
        let route = "GET /v1/workers/{id}/statements/{month}/csv";
        crate::data_access::record(&state, &auth.0, Read::Statement, route, &[&id.0]).await?;
        let filename = format!(
            "attachment; filename=\"certificado-ingresos-{}-v{}.csv\"",
            s.figures.month, s.version
        );
        Ok(CsvOk::Csv(PlainText(statement_csv(&s)), filename))
    }

    /// A statement as PDF, in Spanish, with its verification code
    #[oai(path = "/workers/:id/statements/:month/pdf", method = "get")]
    async fn pdf(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        month: Path<String>,
        version: Query<Option<i64>>,
    ) -> Result<PdfOk, ApiError> {
        let s = visible_statement(&state, &auth.0, &id.0, &month.0, version.0).await?;
        let route = "GET /v1/workers/{id}/statements/{month}/pdf";
        crate::data_access::record(&state, &auth.0, Read::Statement, route, &[&id.0]).await?;
        let filename = format!(
            "attachment; filename=\"{}\"",
            vereda_documents::statement_filename(&s)
        );
        let pdf = vereda_documents::statement_pdf(&state.settings.issuer(), &s);
        Ok(PdfOk::Pdf(Binary(pdf), filename))
    }

    /// Verify a statement by its code (no sign-in)
    ///
    /// For a bank or anyone shown the paper: answers the worker's name, the month, gross and
    /// net income of that version, and nothing else.
    ///
    /// At most 60 lookups per client address in 15 minutes (429 `too_many_attempts`): with
    /// 60 random bits per code, guessing one is hopeless.
    #[oai(path = "/statements/verify/:code", method = "get")]
    async fn verify(
        &self,
        state: Data<&AppState>,
        req: &poem::Request,
        code: Path<String>,
    ) -> Result<VerifiedOk, ApiError> {
        let address = crate::auth::client_address(req, state.settings.trusted_proxy);
        if let Some(refusal) = state.verifications.count(&address, time::unix(time::now())) {
            return Err(ApiError::too_many_attempts(refusal.retry_after()));
        }
        let code = normalize_code(&code.0).ok_or_else(|| ApiError::not_found("statement"))?;
        #[derive(sqlx::FromRow)]
        struct Row {
            name: String,
            month: String,
            gross: i64,
            net: i64,
            version: i64,
            provisional: bool,
            latest_version: i64,
        }
        let row: Option<Row> = on_db!(&state.db, |p| {
            sqlx::query_as(
            "SELECT COALESCE(s.worker_name, u.name) AS name, s.month, s.gross, s.net, s.version, \
             s.provisional, (SELECT MAX(l.version) FROM statements l WHERE l.worker_id = s.worker_id \
             AND l.month = s.month) AS latest_version FROM statements s \
             JOIN users u ON u.worker_id = s.worker_id WHERE s.verification_code = $1"
        )
        .bind(&code)
        .fetch_optional(p)
        .await
        })?;
        let Some(r) = row else {
            return verify_certificate(&state, &code).await;
        };
        let superseded = r.latest_version > r.version;
        let month_es = Month::parse(&r.month)
            .map(|m| m.name_es())
            .unwrap_or_else(|| r.month.clone());
        let mut summary = format!(
            "Extracto de ingresos de {}, {}, versión {}: ingreso bruto {}, pagado en el mes \
             (neto de retención) {}. ",
            r.name,
            month_es,
            r.version,
            Cop::from_centavos(r.gross).to_es_co(),
            Cop::from_centavos(r.net).to_es_co()
        );
        summary.push_str(if r.provisional {
            "Es provisional: se hizo con el mes en curso y sus cifras pueden cambiar."
        } else {
            "Es definitivo: se hizo con el mes cerrado."
        });
        if superseded {
            summary.push_str(&format!(
                " Fue reemplazado por la versión {}: pida a la persona el extracto más reciente.",
                r.latest_version
            ));
        }
        Ok(VerifiedOk::Ok(Json(VerifiedStatement {
            kind: "statement".to_string(),
            withheld: None,
            name: r.name,
            month: r.month,
            gross: pesos(r.gross),
            net: pesos(r.net),
            version: r.version,
            status: if r.provisional {
                "provisional"
            } else {
                "final"
            }
            .to_string(),
            superseded,
            latest_version: r.latest_version,
            summary,
        })))
    }

    /// Documentos soporte, newest first (finance)
    #[oai(path = "/support-documents", method = "get")]
    async fn support_documents(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        month: Query<Option<String>>,
        worker_id: Query<Option<String>>,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
    ) -> Result<SupportDocumentsOk, ApiError> {
        auth.0.require(&[Role::Finance, Role::Admin])?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let month = month
            .0
            .as_deref()
            .map(|m| parse_month("month", m).map(|m| m.to_string()))
            .transpose()?;
        #[derive(sqlx::FromRow)]
        struct Row {
            id: String,
            number: String,
            kind: String,
            worker_id: String,
            month: String,
            amount: i64,
            issued_on: String,
            week_start: Option<String>,
            week_end: Option<String>,
            code: Option<String>,
            corrects: Option<String>,
            reason: Option<String>,
            name: String,
            cedula: Option<String>,
            erased: Option<i64>,
        }
        let rows: Vec<Row> = on_db!(&state.db, |p| {
            sqlx::query_as(
                "SELECT d.id, d.number, d.kind, d.worker_id, d.month, d.amount, d.issued_on, \
             d.week_start, d.week_end, e.code, a.number AS corrects, d.reason, \
             COALESCE(d.worker_name, u.name) AS name, \
             COALESCE(d.worker_document, w.document_id) AS cedula, w.anonymised_at AS erased \
             FROM support_documents d JOIN worker_profiles w ON w.id = d.worker_id \
             JOIN users u ON u.worker_id = d.worker_id \
             LEFT JOIN electronic_documents e ON e.subject_id = d.id \
             LEFT JOIN support_documents a ON a.id = d.adjusts_id \
             WHERE d.id < $1 AND ($2 IS NULL OR d.month = $2) AND ($3 IS NULL OR d.worker_id = $3) \
             ORDER BY d.id DESC LIMIT $4",
            )
            .bind(page.before())
            .bind(month.as_deref())
            .bind(worker_id.0.as_deref())
            .bind(page.fetch())
            .fetch_all(p)
            .await
        })?;
        let (rows, next_cursor) = page.finish(rows, |r| &r.id);
        let items = rows
            .into_iter()
            .map(|r| {
                // Her supplier data, kept by law once her data was deleted: admins only.
                let (name, cedula) = match r.erased {
                    Some(_) if auth.0.role != Role::Admin => {
                        (personal_data::ERASED_NAME.to_string(), None)
                    }
                    _ => (r.name, r.cedula),
                };
                SupportDocumentRow {
                    document: SupportDocumentView {
                        id: r.id,
                        number: r.number,
                        kind: r.kind,
                        worker_id: r.worker_id,
                        month: r.month,
                        amount: pesos(r.amount),
                        issued_on: r.issued_on,
                        week_start: r.week_start,
                        week_end: r.week_end,
                        cuds: r.code,
                        corrects: r.corrects,
                        reason: r.reason,
                    },
                    worker_name: name,
                    worker_document_id: cedula,
                }
            })
            .collect();
        Ok(SupportDocumentsOk::Ok(Json(SupportDocumentList {
            items,
            next_cursor,
        })))
    }

    /// An invoice as PDF, in Spanish (company members, finance)
    ///
    /// A fixed document: rendered once from what was issued (never its later status, payments
    /// or credit notes, which are in the company's statement of account), then the same bytes
    /// every time and in the e-mail of its issue, with their SHA-256 in `X-Content-SHA256`.
    #[oai(path = "/invoices/:id/pdf", method = "get", tag = "ApiTags::Invoicing")]
    async fn invoice_pdf(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<DocumentOk, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Finance, Role::Admin, Role::Company])?;
        let company: Option<String> = on_db!(&state.db, |p| sqlx::query_scalar(
            "SELECT company_id FROM invoices WHERE id = $1"
        )
        .bind(&id.0)
        .fetch_optional(p)
        .await)?;
        match company {
            Some(c) if who.role != Role::Company || who.company_id.as_deref() == Some(&c) => {}
            _ => return Err(ApiError::not_found("invoice")),
        }
        let document = document_files::invoice_document(&state.db, &state.settings, &id.0)
            .await
            .map_err(ApiError::from_anyhow)?
            .ok_or_else(|| ApiError::not_found("invoice"))?;
        Ok(document.into())
    }

    /// E-mail messages, newest first, to find those that failed (admin, finance)
    ///
    /// `?status=failed` lists the messages that could not be sent after every retry, with
    /// the last error.
    #[oai(path = "/admin/outbox", method = "get", tag = "ApiTags::Email")]
    async fn outbox(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        status: Query<Option<String>>,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
    ) -> Result<OutboxOk, ApiError> {
        auth.0.require(&[Role::Admin, Role::Finance])?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let status = status
            .0
            .as_deref()
            .map(|s| {
                OutboxStatus::parse(s).ok_or_else(|| {
                    ApiError::invalid("status", "must be pending, sending, sent or failed")
                })
            })
            .transpose()?;
        #[derive(sqlx::FromRow)]
        struct Row {
            id: String,
            kind: String,
            recipient: String,
            subject: String,
            status: String,
            attempts: i64,
            last_error: Option<String>,
            created_at: i64,
            next_attempt_at: i64,
            sent_at: Option<i64>,
        }
        let rows: Vec<Row> = on_db!(&state.db, |p| sqlx::query_as(
            "SELECT id, kind, recipient, subject, status, attempts, last_error, created_at, \
             next_attempt_at, sent_at FROM outbox_messages \
             WHERE id < $1 AND ($2 IS NULL OR status = $2) ORDER BY id DESC LIMIT $3"
        )
        .bind(page.before())
        .bind(status.map(OutboxStatus::as_str))
        .bind(page.fetch())
        .fetch_all(p)
        .await)?;
        let (rows, next_cursor) = page.finish(rows, |r| &r.id);
        let items = rows
            .into_iter()
            .map(|r| OutboxMessage {
                id: r.id,
                kind: r.kind,
                recipient: r.recipient,
                subject: r.subject,
                status: r.status,
                attempts: r.attempts,
                last_error: r.last_error,
                created_at: time::from_unix(r.created_at),
                next_attempt_at: time::from_unix(r.next_attempt_at),
                sent_at: r.sent_at.map(time::from_unix),
            })
            .collect();
        Ok(OutboxOk::Ok(Json(OutboxList { items, next_cursor })))
    }

    /// Send a failed e-mail once more, now (admin, finance)
    ///
    /// For a message that failed for good (`status` `failed`): it is pending again and sent
    /// at once; if that attempt fails too it is failed again, with the new error. 409
    /// `not_failed` for a message that is sent, pending or being sent.
    #[oai(
        path = "/admin/outbox/:id/retry",
        method = "post",
        tag = "ApiTags::Email"
    )]
    async fn retry_message(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        auth.0.require(&[Role::Admin, Role::Finance])?;
        let retried = vereda_store::outbox::retry(&state.db, &id.0, time::unix(time::now()))
            .await
            .map_err(ApiError::from_anyhow)?;
        if retried {
            return Ok(NoContent::Done);
        }
        let known: Option<String> = on_db!(&state.db, |p| sqlx::query_scalar(
            "SELECT id FROM outbox_messages WHERE id = $1"
        )
        .bind(&id.0)
        .fetch_optional(p)
        .await)?;
        match known {
            Some(_) => Err(ApiError::conflict(
                "not_failed",
                "Only a message that failed can be retried.",
            )),
            None => Err(ApiError::not_found("message")),
        }
    }

    /// The caller's e-mail preferences
    #[oai(path = "/me/email-preferences", method = "get", tag = "ApiTags::Email")]
    async fn preferences(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<PreferencesOk, ApiError> {
        Ok(PreferencesOk::Ok(Json(
            stored_preferences(&state, &auth.0).await?,
        )))
    }

    /// Change e-mail preferences
    ///
    /// `non_essential` turns reminders and marketplace news on or off. Company members choose
    /// with `submissions` how they hear of submissions ready for review: `each` (one e-mail per
    /// submission) or `digest` (one e-mail an hour, the default).
    #[oai(
        path = "/me/email-preferences",
        method = "patch",
        tag = "ApiTags::Email"
    )]
    async fn set_preferences(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<EmailPreferencesChange>,
    ) -> Result<PreferencesOk, ApiError> {
        let who = &auth.0;
        let change = body.0;
        if change.non_essential.is_none() && change.submissions.is_none() {
            return Err(ApiError::invalid(
                "",
                "envíe non_essential, submissions o ambos",
            ));
        }
        if change.submissions.is_some() && who.role != Role::Company {
            return Err(ApiError::invalid(
                "submissions",
                "solo los miembros de una empresa reciben noticias de entregas",
            ));
        }
        on_db!(&state.db, |p| {
            sqlx::query(
                "INSERT INTO email_preferences (user_id, non_essential, submissions, updated_at) \
                 VALUES ($1, COALESCE($2, TRUE), COALESCE($3, 'digest'), $4) \
                 ON CONFLICT (user_id) DO UPDATE SET \
                 non_essential = COALESCE($2, email_preferences.non_essential), \
                 submissions = COALESCE($3, email_preferences.submissions), updated_at = $4",
            )
            .bind(&who.user_id)
            .bind(change.non_essential)
            .bind(change.submissions.map(SubmissionMail::as_str))
            .bind(time::unix(time::now()))
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(PreferencesOk::Ok(Json(
            stored_preferences(&state, who).await?,
        )))
    }
}
