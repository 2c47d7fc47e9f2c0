//! What was withheld, told to the people who need it (issue 20 §6): a worker's yearly
//! certificate of income and withholdings (JSON and its fixed PDF; built by the worker's
//! certificate run, in January or when finance asks), and finance's monthly withholding report
//! by concept, which ties to the withholding account of the ledger.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use vereda_contracts::certificates::Certificate;
use vereda_contracts::csvfile::{self, Cell};
use vereda_contracts::identity::Role;
use vereda_contracts::jobs::BuildCertificates;
use vereda_contracts::ledger::account;
use vereda_contracts::money::Cop;
use vereda_contracts::statements::Month;
use vereda_contracts::time;
use vereda_store::{document_files, on_db};

use crate::ApiTags;
use crate::auth::BearerAuth;
use crate::body::JsonBody;
use crate::finance::{Accepted, CsvOk, DocumentOk, start_job};
use crate::problem::ApiError;
use crate::startup::AppState;
use crate::statements::visible_worker;
use vereda_contracts::personal_data::Read;

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct NewCertificateRun {
    /// The year, e.g. `2026`: the current one (figures so far) or an earlier one.
    pub year: i64,
}

/// What one concept paid and withheld.
#[derive(Debug, Object)]
pub struct ConceptTotals {
    /// `services` or `honorarios`.
    pub concept: String,
    /// `Servicios`, `Honorarios`.
    pub label: String,
    pub payments: i64,
    pub paid: String,
    pub withheld: String,
}

/// A worker's certificate of income and withholdings for a year (one version of it).
#[derive(Debug, Object)]
pub struct CertificateView {
    pub worker_id: String,
    pub year: i64,
    pub version: i64,
    /// The payout lines batched in the year that the bank did not fail, by concept.
    pub by_concept: Vec<ConceptTotals>,
    pub paid: String,
    pub withheld: String,
    /// Paid less withheld: what reached her.
    pub net: String,
    /// The page `/verificar/{code}` confirms it.
    pub verification_code: String,
    pub generated_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
pub enum CertificateOk {
    #[oai(status = 200)]
    Ok(Json<CertificateView>),
}

/// One concept and rule of a month's withholding.
#[derive(Debug, Object)]
pub struct ReportRow {
    /// `services` or `honorarios`.
    pub concept: String,
    /// `art383` (the salary table), `rate` (the concept's rate) or `below_base`.
    pub rule: String,
    pub payments: i64,
    /// Workers paid.
    pub payees: i64,
    /// Paid, before withholding (the base).
    pub paid: String,
    pub withheld: String,
}

/// The month's withholding for the platform's own filing.
#[derive(Debug, Object)]
pub struct WithholdingReport {
    pub month: String,
    pub rows: Vec<ReportRow>,
    pub paid: String,
    pub withheld: String,
    /// What the ledger's withholding account received in the month (credits less debits of
    /// entries posted in it). Equal to `withheld` unless a line of another month failed in
    /// this one (its reversal lands here) or one of this month failed later.
    pub account_movement: String,
}

#[derive(ApiResponse)]
pub enum WithholdingReportOk {
    #[oai(status = 200)]
    Ok(Json<WithholdingReport>),
}

fn pesos(centavos: i64) -> String {
    Cop::from_centavos(centavos).to_string()
}

fn parse_year(raw: &str) -> Result<i32, ApiError> {
    raw.parse::<i32>()
        .ok()
        .filter(|y| (2000..3000).contains(y))
        .ok_or_else(|| ApiError::invalid("year", "must be a year, e.g. 2026"))
}

#[derive(sqlx::FromRow)]
struct StoredRow {
    id: String,
    version: i64,
    figures: String,
    verification_code: String,
    generated_at: i64,
}

/// The certificate the caller asked for (the newest version, or `version`), once they may see
/// it: her own, or finance's and admin's; anyone else is told it does not exist.
async fn visible_certificate(
    state: &AppState,
    auth: &BearerAuth,
    worker_id: &str,
    year: &str,
    version: Option<i64>,
) -> Result<StoredRow, ApiError> {
    visible_worker(state, &auth.0, worker_id).await?;
    let year = parse_year(year)?;
    let row: Option<StoredRow> = on_db!(&state.db, |p| sqlx::query_as(
        "SELECT id, version, figures, verification_code, generated_at \
         FROM withholding_certificates WHERE worker_id = $1 AND year = $2 \
         AND ($3 IS NULL OR version = $3) ORDER BY version DESC LIMIT 1"
    )
    .bind(worker_id)
    .bind(year)
    .bind(version)
    .fetch_optional(p)
    .await)?;
    row.ok_or_else(|| ApiError::not_found("certificate"))
}

/// The month's withholding by concept and rule, and what the account received.
async fn report(state: &AppState, month: Month) -> Result<WithholdingReport, ApiError> {
    type Row = (String, String, i64, i64, i64, i64);
    let rows: Vec<Row> = on_db!(&state.db, |p| sqlx::query_as(
        "SELECT COALESCE(concept, 'services'), COALESCE(withholding_rule, 'rate'), \
         COUNT(*), COUNT(DISTINCT worker_id), CAST(SUM(amount) AS BIGINT), \
         CAST(SUM(withholding) AS BIGINT) FROM payout_lines \
         WHERE created_at >= $1 AND created_at < $2 AND status <> 'failed' \
         GROUP BY COALESCE(concept, 'services'), COALESCE(withholding_rule, 'rate') \
         ORDER BY 1, 2"
    )
    .bind(month.start())
    .bind(month.end())
    .fetch_all(p)
    .await)?;
    let movement: i64 = on_db!(&state.db, |p| sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(credit - debit), 0) AS BIGINT) FROM ledger_postings \
         WHERE account = $1 AND posted_at >= $2 AND posted_at < $3"
    )
    .bind(account::WITHHOLDING_PAYABLE.name())
    .bind(month.start())
    .bind(month.end())
    .fetch_one(p)
    .await)?;
    let (paid, withheld) = rows.iter().fold((0, 0), |(p, w), r| (p + r.4, w + r.5));
    Ok(WithholdingReport {
        month: month.to_string(),
        rows: rows
            .into_iter()
            .map(
                |(concept, rule, payments, payees, paid, withheld)| ReportRow {
                    concept,
                    rule,
                    payments,
                    payees,
                    paid: pesos(paid),
                    withheld: pesos(withheld),
                },
            )
            .collect(),
        paid: pesos(paid),
        withheld: pesos(withheld),
        account_movement: pesos(movement),
    })
}

fn parse_month(raw: &str) -> Result<Month, ApiError> {
    Month::parse(raw).ok_or_else(|| ApiError::invalid("month", "must be a month YYYY-MM"))
}

fn rule_es(rule: &str) -> &'static str {
    match rule {
        "art383" => "Tabla del art. 383 E.T.",
        "rate" => "Tarifa del concepto",
        "below_base" => "Sin retención (bajo la base)",
        _ => "Otra",
    }
}

pub struct WithholdingApi;

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Statements")]
impl WithholdingApi {
    /// Build the year's certificates of income and withholdings now (finance)
    ///
    /// One per worker paid in the year. Figures equal to the last version add nothing; changed
    /// figures add a new version (old ones stay readable), e-mailed to the worker with its
    /// PDF. The worker asks for last year's by itself in January. 202 with the job to follow.
    #[oai(path = "/certificate-runs", method = "post")]
    async fn certificate_run(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<NewCertificateRun>,
    ) -> Result<Accepted, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Finance, Role::Admin])?;
        let this_year: i64 = Month::of(time::now()).to_string()[..4]
            .parse()
            .unwrap_or(2026);
        let year = body.0.year;
        if !(2000..=this_year).contains(&year) {
            return Err(ApiError::invalid(
                "year",
                "must be this year or an earlier one",
            ));
        }
        let job = BuildCertificates { year: year as i32 };
        let subject = year.to_string();
        let started = start_job(
            &state,
            who,
            "certificate_run",
            BuildCertificates::QUEUE,
            &job,
            Some(&subject),
            None,
            async |_| Ok(()),
        )
        .await?;
        Ok(Accepted::Started(Json(started)))
    }

    /// A worker's certificate of income and withholdings for a year (the newest version, or
    /// `?version=`)
    #[oai(path = "/workers/:id/certificates/:year", method = "get")]
    async fn certificate(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        year: Path<String>,
        version: Query<Option<i64>>,
    ) -> Result<CertificateOk, ApiError> {
        let row = visible_certificate(&state, &auth, &id.0, &year.0, version.0).await?;
        let route = "GET /v1/workers/{id}/certificates/{year}";
        crate::data_access::record(&state, &auth.0, Read::Certificate, route, &[&id.0]).await?;
        let f: Certificate = serde_json::from_str(&row.figures)
            .map_err(|e| ApiError::from_anyhow(anyhow::anyhow!("stored certificate: {e}")))?;
        Ok(CertificateOk::Ok(Json(CertificateView {
            worker_id: f.worker_id,
            year: i64::from(f.year),
            version: row.version,
            by_concept: f
                .by_concept
                .into_iter()
                .map(|t| ConceptTotals {
                    concept: t.concept,
                    label: t.label,
                    payments: t.payments,
                    paid: t.paid.to_string(),
                    withheld: t.withheld.to_string(),
                })
                .collect(),
            paid: f.paid.to_string(),
            withheld: f.withheld.to_string(),
            net: f.net.to_string(),
            verification_code: row.verification_code,
            generated_at: time::from_unix(row.generated_at),
        })))
    }

    /// A certificate as PDF, in Spanish, with its verification code (fixed when the version
    /// was made: the same bytes as the e-mail carried)
    #[oai(path = "/workers/:id/certificates/:year/pdf", method = "get")]
    async fn certificate_pdf(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        year: Path<String>,
        version: Query<Option<i64>>,
    ) -> Result<DocumentOk, ApiError> {
        let row = visible_certificate(&state, &auth, &id.0, &year.0, version.0).await?;
        let route = "GET /v1/workers/{id}/certificates/{year}/pdf";
        crate::data_access::record(&state, &auth.0, Read::Certificate, route, &[&id.0]).await?;
        let document = document_files::stored(&state.db, &row.id)
            .await
            .map_err(ApiError::from_anyhow)?
            .ok_or_else(|| ApiError::not_found("certificate"))?;
        Ok(document.into())
    }

    /// The month's withholding by concept and rule (finance)
    ///
    /// For the platform's own monthly filing: the payout lines batched in the month that the
    /// bank did not fail, and what the ledger's withholding account received.
    #[oai(path = "/withholding-reports/:month", method = "get")]
    async fn report(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        month: Path<String>,
    ) -> Result<WithholdingReportOk, ApiError> {
        auth.0.require(&[Role::Finance, Role::Admin])?;
        let month = parse_month(&month.0)?;
        Ok(WithholdingReportOk::Ok(Json(report(&state, month).await?)))
    }

    /// The month's withholding report as CSV (`concepto,regla,pagos,personas,base,retenido`)
    #[oai(path = "/withholding-reports/:month/csv", method = "get")]
    async fn report_csv(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        month: Path<String>,
    ) -> Result<CsvOk, ApiError> {
        auth.0.require(&[Role::Finance, Role::Admin])?;
        let month = parse_month(&month.0)?;
        let r = report(&state, month).await?;
        let mut rows: Vec<[Cell; 6]> = r
            .rows
            .iter()
            .map(|row| {
                let label = vereda_contracts::withholding::Concept::parse(&row.concept)
                    .map_or(row.concept.as_str(), |c| c.label_es());
                [
                    Cell::text(label),
                    Cell::text(rule_es(&row.rule)),
                    Cell::number(row.payments.to_string()),
                    Cell::number(row.payees.to_string()),
                    Cell::number(row.paid.clone()),
                    Cell::number(row.withheld.clone()),
                ]
            })
            .collect();
        rows.push([
            Cell::text("Total"),
            Cell::text(""),
            Cell::number(r.rows.iter().map(|x| x.payments).sum::<i64>().to_string()),
            Cell::text(""),
            Cell::number(r.paid.clone()),
            Cell::number(r.withheld.clone()),
        ]);
        rows.push([
            Cell::text("Cuenta de retención en la fuente por pagar (movimiento del mes)"),
            Cell::text(""),
            Cell::text(""),
            Cell::text(""),
            Cell::text(""),
            Cell::number(r.account_movement.clone()),
        ]);
        let csv = csvfile::write(
            &["concepto", "regla", "pagos", "personas", "base", "retenido"],
            rows,
        );
        Ok(CsvOk::Csv(
            PlainText(csv),
            format!("attachment; filename=\"retenciones-{month}.csv\""),
        ))
    }
}
