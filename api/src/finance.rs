//! The finance side of the API (finance staff and company accountants): billing runs,
//! invoices, company payments, payout batches and bank confirmations, the ledger, and the
//! background jobs people start. The API records facts and queues jobs; the worker is the one
//! writer of ledger entries, invoices and payouts.

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::{Deserialize, Serialize};
use sqlx::AssertSqlSafe;
use vereda_contracts::bank_matching;
use vereda_contracts::csvfile::{self, Cell};
use vereda_contracts::identity::Role;
use vereda_contracts::jobs::{
    ApplyBankConfirmation, BillingRun, BuildPayoutBatch, IssueCreditNote, PostPayment,
};
use vereda_contracts::ledger::{Account as LedgerAccount, Totals, account as ledger_account};
use vereda_contracts::money::Cop;
use vereda_contracts::money_states::{
    CreditNoteStatus, InvoiceStatus, PayoutBatchStatus, PayoutLineStatus,
};
use vereda_contracts::payout_rules::LineFigures;
use vereda_contracts::receivable::{self, AgeBucket, Aging, CreditRefusal, Recorded};
use vereda_contracts::time;
use vereda_documents::account;
use vereda_store::company_account;
use vereda_store::document_files as documents;
use vereda_store::locks;
use vereda_store::queue;
use vereda_store::{on_db, on_tx};

use crate::ApiTags;
use crate::accounts::new_id;
use crate::auth::{BearerAuth, Principal};
use crate::body::{CsvBody, JsonBody};
use crate::idempotency::IdempotencyKey;
use crate::pagination::PageRequest;
use crate::problem::{ApiError, ProblemItem};
use crate::startup::AppState;
use vereda_contracts::personal_data::Read;

fn pesos(centavos: i64) -> String {
    Cop::from_centavos(centavos).to_string()
}

#[derive(Debug, Object, Serialize, Deserialize)]
pub struct JobStarted {
    /// Follow it at `GET /v1/jobs/{job_id}`.
    pub job_id: String,
    /// The record the job works on (batch, payment, confirmation), when there is one.
    #[oai(skip_serializing_if_is_none)]
    pub subject_id: Option<String>,
}

#[derive(ApiResponse)]
pub enum Accepted {
    #[oai(status = 202)]
    Started(Json<JobStarted>),
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct NewBillingRun {
    /// Last Bogotá day of the period, `YYYY-MM-DD`.
    pub period_end: String,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct NewPayment {
    /// Whole pesos, as a decimal string.
    pub amount: String,
    pub paid_at: DateTime<Utc>,
    /// The bank's reference for the transfer. A second payment on the same invoice with a
    /// reference already recorded there (and not reversed) is 409 `duplicate_payment_reference`
    /// unless `allow_duplicate_reference` is true.
    pub reference: String,
    /// Set when the same reference really is a second transfer.
    #[serde(default)]
    pub allow_duplicate_reference: Option<bool>,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct NewReversal {
    /// Why the payment is reversed (a transfer recorded twice, returned, on the wrong
    /// invoice); kept with the reversal and in the ledger.
    pub reason: String,
}

#[derive(Debug, Object, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct NewPayoutBatch {}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct NewCreditNote {
    /// Why the invoice is corrected; printed on the note.
    pub reason: String,
    /// Work to credit, whole pesos (`"0"` for none).
    pub work: String,
    /// Platform fee to credit, whole pesos; its IVA is credited with it.
    pub fee: String,
}

#[derive(Debug, Object)]
pub struct CreditNote {
    pub id: String,
    /// `VRD-NC-000001` once issued.
    #[oai(skip_serializing_if_is_none)]
    pub number: Option<String>,
    pub reason: String,
    pub work: String,
    pub fee: String,
    pub vat: String,
    pub total: String,
    /// `requested` or `issued`.
    pub status: String,
    #[oai(skip_serializing_if_is_none)]
    pub issued_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Object)]
pub struct InvoiceLine {
    pub assignment_id: String,
    pub task_title: String,
    pub worker_id: String,
    /// `hourly`: the approved time, what was billed; `fixed`: the time the worker logged, for
    /// information (the price is billed whatever the time).
    pub pricing_kind: String,
    pub seconds: i64,
    /// Pesos per hour, for hourly work.
    #[oai(skip_serializing_if_is_none)]
    pub rate: Option<String>,
    pub work: String,
    pub fee: String,
}

#[derive(Debug, Object)]
pub struct Invoice {
    pub id: String,
    /// Consecutive, never skipped: `VRD-000001`.
    pub number: String,
    pub company_id: String,
    pub company_name: String,
    pub period_end: String,
    pub currency: String,
    pub work: String,
    pub fee: String,
    pub vat: String,
    pub total: String,
    pub paid: String,
    pub outstanding: String,
    /// `issued`, `partially_paid`, `paid` or `void`.
    pub status: String,
    pub issued_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub lines: Vec<InvoiceLine>,
    /// Corrections: an issued invoice never changes.
    pub credit_notes: Vec<CreditNote>,
    /// Payments recorded on it, oldest first, reversed ones included.
    pub payments: Vec<Payment>,
    /// SHA-256 (hex) of the invoice's fixed PDF, once it has been rendered.
    #[oai(skip_serializing_if_is_none)]
    pub document_sha256: Option<String>,
}

#[derive(Debug, Object)]
pub struct Payment {
    pub id: String,
    pub invoice_id: String,
    pub invoice_number: String,
    /// Whole pesos.
    pub amount: String,
    pub paid_at: DateTime<Utc>,
    /// The bank's reference for the transfer.
    pub reference: String,
    /// The user who recorded it, and their name.
    pub recorded_by: String,
    pub recorded_by_name: String,
    pub recorded_at: DateTime<Utc>,
    /// `recorded` (not yet in the ledger), `posted`, `reversal_requested` or `reversed`.
    pub status: String,
    #[oai(skip_serializing_if_is_none)]
    pub reversal_reason: Option<String>,
}

impl From<account::PaymentRecord> for Payment {
    fn from(p: account::PaymentRecord) -> Payment {
        Payment {
            status: p.status().to_string(),
            id: p.id,
            invoice_id: p.invoice_id,
            invoice_number: p.invoice_number,
            amount: pesos(p.amount),
            paid_at: time::from_unix(p.paid_at),
            reference: p.reference,
            recorded_by: p.recorded_by,
            recorded_by_name: p.recorded_by_name,
            recorded_at: time::from_unix(p.recorded_at),
            reversal_reason: p.reversal_reason,
        }
    }
}

#[derive(ApiResponse)]
pub enum PaymentOk {
    #[oai(status = 200)]
    Ok(Json<Payment>),
}

/// A company's statement of account: what each invoice was, what was paid and credited, and
/// what is owed now.
#[derive(Debug, Object)]
pub struct CompanyAccountStatement {
    pub company_id: String,
    pub company_name: String,
    pub nit: String,
    pub currency: String,
    /// When it was read.
    pub as_of: DateTime<Utc>,
    pub invoiced: String,
    pub credited: String,
    pub paid: String,
    /// What the company owes now (negative would be a credit in its favour).
    pub balance_due: String,
    /// Of the balance, what is past its due date.
    pub overdue: String,
    pub invoices: Vec<AccountInvoice>,
    pub payments: Vec<Payment>,
    pub credit_notes: Vec<AccountCreditNote>,
}

#[derive(Debug, Object)]
pub struct AccountInvoice {
    pub id: String,
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub total: String,
    pub paid: String,
    pub credited: String,
    pub outstanding: String,
    /// `issued`, `partially_paid`, `paid` or `void`.
    pub status: String,
    pub overdue: bool,
}

#[derive(Debug, Object)]
pub struct AccountCreditNote {
    pub id: String,
    pub invoice_id: String,
    pub invoice_number: String,
    #[oai(skip_serializing_if_is_none)]
    pub number: Option<String>,
    pub reason: String,
    pub total: String,
    /// `requested` or `issued`.
    pub status: String,
    #[oai(skip_serializing_if_is_none)]
    pub issued_at: Option<DateTime<Utc>>,
}

#[derive(ApiResponse)]
pub enum CompanyAccountOk {
    #[oai(status = 200)]
    Ok(Json<CompanyAccountStatement>),
}

/// A fixed document: the same bytes every time, with their SHA-256.
#[derive(ApiResponse)]
pub enum DocumentOk {
    #[oai(status = 200, content_type = "application/pdf")]
    Pdf(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
        /// SHA-256 of the body (hex), stored when the document was fixed.
        #[oai(header = "X-Content-SHA256")]
        String,
    ),
}

impl From<documents::FixedDocument> for DocumentOk {
    fn from(d: documents::FixedDocument) -> DocumentOk {
        DocumentOk::Pdf(
            Binary(d.bytes),
            format!("attachment; filename=\"{}\"", d.filename),
            d.sha256,
        )
    }
}

#[derive(Debug, Object)]
pub struct InvoiceList {
    pub items: Vec<Invoice>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum InvoiceOk {
    #[oai(status = 200)]
    Ok(Json<Invoice>),
}

#[derive(ApiResponse)]
pub enum InvoiceListOk {
    #[oai(status = 200)]
    Ok(Json<InvoiceList>),
}

/// A CSV document.
#[derive(ApiResponse)]
pub enum CsvOk {
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Csv(
        PlainText<String>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

#[derive(Debug, Object)]
pub struct PayoutLine {
    pub id: String,
    pub worker_id: String,
    /// The worker's name, as finance reads the batch.
    pub worker_name: String,
    pub amount: String,
    pub withholding: String,
    /// `nequi`, `daviplata`, `bank` or `bre-b`.
    pub method: String,
    pub reference: String,
    /// `pending`, `paid` or `failed`.
    pub status: String,
}

#[derive(Debug, Object)]
pub struct PayoutBatch {
    pub id: String,
    /// `building`, `ready` or `settled`.
    pub status: String,
    pub total: String,
    pub created_at: DateTime<Utc>,
    pub lines: Vec<PayoutLine>,
    /// What the batch told finance and the workers: a line paid to a low-amount wallet past
    /// the 4×1000 exemption (`gmf_taxed`), a worker held because her wallet would pass its
    /// monthly limit (`gmf_held`), a month above one SMMLV with no PILA planilla on file
    /// (`social_security_missing`, held only when the setting says so).
    pub notices: Vec<PayoutNotice>,
}

#[derive(Debug, Object)]
pub struct PayoutNotice {
    pub worker_id: String,
    pub worker_name: String,
    pub code: String,
    /// True when she got no line in this batch (her balance stays payable).
    pub held: bool,
    /// What she was told, in Spanish.
    pub message: String,
}

#[derive(ApiResponse)]
pub enum PayoutBatchOk {
    #[oai(status = 200)]
    Ok(Json<PayoutBatch>),
}

/// A payout batch in a list: its lines counted by where they stand.
#[derive(Debug, Object)]
pub struct PayoutBatchSummary {
    pub id: String,
    /// `building`, `ready` or `settled`.
    pub status: String,
    /// Pesos sent (net of withholding), all lines.
    pub total: String,
    pub created_at: DateTime<Utc>,
    pub lines: i64,
    /// Lines the bank has not confirmed yet.
    pub pending: i64,
    pub paid: i64,
    /// Lines the bank returned: their money is back on the workers' balances.
    pub failed: i64,
}

#[derive(Debug, Object)]
pub struct PayoutBatchList {
    pub items: Vec<PayoutBatchSummary>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum PayoutBatchListOk {
    #[oai(status = 200)]
    Ok(Json<PayoutBatchList>),
}

#[derive(Debug, Object)]
pub struct AccountBalance {
    pub account: String,
    /// What the account is, in Spanish (`Por pagar a la persona`).
    pub label_es: String,
    /// The company's or worker's name, for their accounts.
    #[oai(skip_serializing_if_is_none)]
    pub owner_name: Option<String>,
    pub debit: String,
    pub credit: String,
    /// Debits minus credits.
    pub balance: String,
}

#[derive(Debug, Object)]
pub struct TrialBalance {
    pub balanced: bool,
    pub total_debit: String,
    pub total_credit: String,
    pub accounts: Vec<AccountBalance>,
}

#[derive(ApiResponse)]
pub enum TrialBalanceOk {
    #[oai(status = 200)]
    Ok(Json<TrialBalance>),
}

/// One invariant of the books.
#[derive(Debug, Object)]
pub struct AuditCheck {
    /// Stable name: `balanced_entries`, `trial_balance_zero`, `worker_payables`,
    /// `one_accrual_per_assignment`, `gapless_numbers`, `document_totals`,
    /// `company_receivables`, `payouts_in_transit`.
    pub name: String,
    pub ok: bool,
    /// What holds, or what is wrong and where (Spanish).
    pub detail: String,
}

#[derive(Debug, Object)]
pub struct LedgerAudit {
    /// True when every check holds.
    pub ok: bool,
    pub checks: Vec<AuditCheck>,
    pub checked_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
pub enum LedgerAuditOk {
    #[oai(status = 200)]
    Ok(Json<LedgerAudit>),
}

#[derive(Debug, Object)]
pub struct LedgerPosting {
    pub id: String,
    pub entry_id: String,
    pub effect_key: String,
    pub kind: String,
    pub description: String,
    pub debit: String,
    pub credit: String,
    pub posted_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct AccountStatement {
    pub account: String,
    /// What the account is, in Spanish.
    pub label_es: String,
    /// The company's or worker's name, for their accounts.
    #[oai(skip_serializing_if_is_none)]
    pub owner_name: Option<String>,
    /// Debits minus credits over the whole account.
    pub balance: String,
    pub entries: Vec<LedgerPosting>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum AccountOk {
    #[oai(status = 200)]
    Ok(Json<AccountStatement>),
}

#[derive(Debug, Object, Default)]
pub struct AgingBuckets {
    pub days_0_30: String,
    pub days_31_60: String,
    pub days_61_90: String,
    pub days_over_90: String,
    pub total: String,
}

#[derive(Debug, Object)]
pub struct CompanyAging {
    pub company_id: String,
    pub company_name: String,
    pub buckets: AgingBuckets,
}

#[derive(Debug, Object)]
pub struct ReceivablesAging {
    /// Age counted from each invoice's issue date, on this day (Bogotá).
    pub as_of: String,
    pub companies: Vec<CompanyAging>,
    pub totals: AgingBuckets,
}

#[derive(ApiResponse)]
pub enum AgingOk {
    #[oai(status = 200)]
    Ok(Json<ReceivablesAging>),
}

fn finance(who: &Principal) -> Result<(), ApiError> {
    who.require(&[Role::Finance, Role::Admin])
}

/// Queue a job that a person follows, with its `job_requests` row, in one transaction. With an
/// `Idempotency-Key`, a retry answers the first start again and the key is stored in the same
/// transaction, so the work is recorded once.
#[allow(clippy::too_many_arguments)] // one crate helper; a struct would only rename them
pub(crate) async fn start_job<T: serde::Serialize>(
    state: &AppState,
    who: &Principal,
    kind: &str,
    queue_name: &str,
    payload: &T,
    subject_id: Option<&str>,
    key: Option<IdempotencyKey>,
    record: impl AsyncFnOnce(&mut vereda_store::db::Tx) -> Result<(), ApiError>,
) -> Result<JobStarted, ApiError> {
    if let Some(k) = &key
        && let Some((_, body)) = k.replay(state, &who.user_id).await?
    {
        return serde_json::from_str(&body).map_err(ApiError::internal);
    }
    let mut tx = state.db.begin().await?;
    if let Err(e) = record(&mut tx).await {
        tx.rollback().await?;
        // A retry that raced its first request waited on the same lock and was refused by
        // what the first recorded (e.g. its reference, now taken): the first's answer is the
        // answer.
        if let Some(k) = &key
            && let Some((_, body)) = k.replay(state, &who.user_id).await?
        {
            return serde_json::from_str(&body).map_err(ApiError::internal);
        }
        return Err(e);
    }
    let job_id = queue::push_in_tx(&mut tx, queue_name, payload, None, None)
        .await
        .map_err(ApiError::from_anyhow)?;
    on_tx!(&mut tx, |c| {
        sqlx::query(
        "INSERT INTO job_requests (job_id, kind, requested_by, subject_id, created_at) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(&job_id)
    .bind(kind)
    .bind(&who.user_id)
    .bind(subject_id)
    .bind(time::unix(time::now()))
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    let started = JobStarted {
        job_id,
        subject_id: subject_id.map(str::to_string),
    };
    if let Some(k) = &key {
        let answer = serde_json::to_string(&started).map_err(ApiError::internal)?;
        k.store(&mut tx, &who.user_id, 202, &answer).await?;
    }
    tx.commit().await?;
    Ok(started)
}

#[derive(sqlx::FromRow)]
pub(crate) struct InvoiceRow {
    id: String,
    number: String,
    company_id: String,
    company_name: String,
    period_end: String,
    work: i64,
    fee: i64,
    vat: i64,
    total: i64,
    paid: i64,
    credited: i64,
    status: String,
    issued_at: i64,
    due_at: i64,
}

const INVOICE_COLUMNS: &str = "id, number, company_id, \
    (SELECT c.name FROM companies c WHERE c.id = invoices.company_id) AS company_name, \
    period_end, work, fee, vat, total, paid, credited, status, issued_at, due_at";

#[derive(sqlx::FromRow)]
struct LineRow {
    assignment_id: String,
    task_title: String,
    worker_id: String,
    seconds: i64,
    rate: Option<i64>,
    work: i64,
    fee: i64,
}

async fn invoice_lines(state: &AppState, invoice_id: &str) -> Result<Vec<LineRow>, ApiError> {
    Ok(on_db!(&state.db, |p| sqlx::query_as(
        "SELECT assignment_id, task_title, worker_id, seconds, rate, work, fee FROM invoice_lines \
         WHERE invoice_id = $1 ORDER BY assignment_id, part"
    )
    .bind(invoice_id)
    .fetch_all(p)
    .await)?)
}

#[derive(sqlx::FromRow)]
struct NoteRow {
    id: String,
    number: Option<String>,
    reason: String,
    work: i64,
    fee: i64,
    vat: i64,
    total: i64,
    status: String,
    issued_at: Option<i64>,
}

async fn credit_notes(state: &AppState, invoice_id: &str) -> Result<Vec<CreditNote>, ApiError> {
    let rows: Vec<NoteRow> = on_db!(&state.db, |p| sqlx::query_as(
        "SELECT id, number, reason, work, fee, vat, total, status, issued_at FROM credit_notes \
         WHERE invoice_id = $1 ORDER BY id"
    )
    .bind(invoice_id)
    .fetch_all(p)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|n| CreditNote {
            id: n.id,
            number: n.number,
            reason: n.reason,
            work: pesos(n.work),
            fee: pesos(n.fee),
            vat: pesos(n.vat),
            total: pesos(n.total),
            status: n.status,
            issued_at: n.issued_at.map(time::from_unix),
        })
        .collect())
}

/// An invoice with its lines and credit notes.
async fn full_invoice(state: &AppState, row: InvoiceRow) -> Result<Invoice, ApiError> {
    let lines = invoice_lines(state, &row.id).await?;
    let notes = credit_notes(state, &row.id).await?;
    let payments = company_account::invoice_payments(&state.db, &row.id)
        .await
        .map_err(ApiError::from_anyhow)?;
    let hash: Option<String> = on_db!(&state.db, |p| sqlx::query_scalar(
        "SELECT sha256 FROM document_files WHERE subject_id = $1"
    )
    .bind(&row.id)
    .fetch_optional(p)
    .await)?;
    let mut invoice = row.view(lines, notes);
    invoice.payments = payments.into_iter().map(Payment::from).collect();
    invoice.document_sha256 = hash;
    Ok(invoice)
}

impl InvoiceRow {
    fn view(self, lines: Vec<LineRow>, credit_notes: Vec<CreditNote>) -> Invoice {
        Invoice {
            credit_notes,
            payments: Vec::new(),
            document_sha256: None,
            outstanding: receivable::balance_due(
                Cop::from_centavos(self.total),
                Cop::from_centavos(self.paid),
                Cop::from_centavos(self.credited),
            )
            .to_string(),
            id: self.id,
            number: self.number,
            company_id: self.company_id,
            company_name: self.company_name,
            period_end: self.period_end,
            currency: "COP".into(),
            work: pesos(self.work),
            fee: pesos(self.fee),
            vat: pesos(self.vat),
            total: pesos(self.total),
            paid: pesos(self.paid),
            status: self.status,
            issued_at: time::from_unix(self.issued_at),
            due_at: time::from_unix(self.due_at),
            lines: lines
                .into_iter()
                .map(|l| InvoiceLine {
                    assignment_id: l.assignment_id,
                    task_title: l.task_title,
                    worker_id: l.worker_id,
                    // Hourly lines carry their rate; fixed-price ones have none.
                    pricing_kind: if l.rate.is_some() { "hourly" } else { "fixed" }.to_string(),
                    seconds: l.seconds,
                    rate: l.rate.map(pesos),
                    work: pesos(l.work),
                    fee: pesos(l.fee),
                })
                .collect(),
        }
    }
}

/// The invoice if the caller may see it: its company's members, finance and admin.
pub(crate) async fn visible_invoice(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> Result<InvoiceRow, ApiError> {
    who.require(&[Role::Finance, Role::Admin, Role::Company])?;
    let sql = format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE id = $1");
    let row: Option<InvoiceRow> =
        on_db!(&state.db, |p| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(id)
            .fetch_optional(p)
            .await)?;
    match row {
        Some(r)
            if who.role != Role::Company
                || who.company_id.as_deref() == Some(r.company_id.as_str()) =>
        {
            Ok(r)
        }
        _ => Err(ApiError::not_found("invoice")),
    }
}

/// A credit note's invoice is one `who` sees (finance, admin, or its company), else 404.
pub(crate) async fn visible_credit_note(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> Result<(), ApiError> {
    who.require(&[Role::Finance, Role::Admin, Role::Company])?;
    let invoice: Option<String> = on_db!(&state.db, |p| sqlx::query_scalar(
        "SELECT invoice_id FROM credit_notes WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(p)
    .await)?;
    let invoice = invoice.ok_or_else(|| ApiError::not_found("credit note"))?;
    visible_invoice(state, who, &invoice)
        .await
        .map(|_| ())
        .map_err(|_| ApiError::not_found("credit note"))
}

/// An invoice's figures and what was recorded against it (payments not reversed, every credit
/// note), read in `tx` after its row was locked.
async fn balance_in(
    tx: &mut vereda_store::db::Tx,
    invoice_id: &str,
) -> Result<(receivable::Invoice, Recorded), ApiError> {
    // The invoice's row is the lock payments, credit notes and reversals all take first, so
    // they see each other's records (on PostgreSQL; SQLite serialises write transactions).
    locks::invoice(tx, invoice_id).await?;
    type Row = (i64, i64, i64, i64, String, i64, i64, i64, i64);
    let row: Row = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT i.work, i.fee, i.vat, i.total, i.vat_rate, \
         (SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) FROM payments p \
          WHERE p.invoice_id = i.id AND NOT EXISTS \
          (SELECT 1 FROM payment_reversals r WHERE r.payment_id = p.id AND r.posted_at IS NOT NULL)), \
         (SELECT CAST(COALESCE(SUM(n.work), 0) AS BIGINT) FROM credit_notes n WHERE n.invoice_id = i.id), \
         (SELECT CAST(COALESCE(SUM(n.fee), 0) AS BIGINT) FROM credit_notes n WHERE n.invoice_id = i.id), \
         (SELECT CAST(COALESCE(SUM(n.vat), 0) AS BIGINT) FROM credit_notes n WHERE n.invoice_id = i.id) \
         FROM invoices i WHERE i.id = $1"
    )
    .bind(invoice_id)
    .fetch_one(&mut *c)
    .await
    })?;
    let (work, fee, vat, total, rate, paid, cw, cf, cv) = row;
    let c = Cop::from_centavos;
    Ok((
        receivable::Invoice {
            work: c(work),
            fee: c(fee),
            vat: c(vat),
            total: c(total),
            vat_rate: rate.parse().map_err(ApiError::internal)?,
        },
        Recorded {
            paid: c(paid),
            credited_work: c(cw),
            credited_fee: c(cf),
            credited_vat: c(cv),
        },
    ))
}

/// Printable text of 1 to `max` characters, trimmed.
fn short_text(field: &str, raw: &str, max: usize) -> Result<String, ApiError> {
    let s = raw.trim();
    if s.is_empty() || s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            field,
            format!("debe tener de 1 a {max} caracteres imprimibles"),
        ));
    }
    Ok(s.to_string())
}

/// The company of `company_id` if the caller may see its account: its members, finance and
/// admin (anyone else's company is 404).
fn visible_company(who: &Principal, company_id: &str) -> Result<(), ApiError> {
    who.require(&[Role::Finance, Role::Admin, Role::Company])?;
    if who.role == Role::Company && who.company_id.as_deref() != Some(company_id) {
        return Err(ApiError::not_found("company"));
    }
    Ok(())
}

async fn company_account(
    state: &AppState,
    who: &Principal,
    company_id: &str,
) -> Result<account::AccountStatement, ApiError> {
    visible_company(who, company_id)?;
    company_account::account_statement(&state.db, company_id, time::unix(time::now()))
        .await
        .map_err(ApiError::from_anyhow)?
        .ok_or_else(|| ApiError::not_found("company"))
}

/// A company payment as asked for, checked on its own.
struct PaymentRequest {
    amount: Cop,
    reference: String,
    paid_at: i64,
    allow_duplicate: bool,
}

fn parse_payment(req: NewPayment, now: i64) -> Result<PaymentRequest, ApiError> {
    let amount = Cop::parse_whole_pesos(&req.amount)
        .map_err(|e| ApiError::invalid("amount", e.to_string()))?;
    let reference = req.reference.trim().to_string();
    if reference.is_empty()
        || reference.chars().count() > 200
        || reference.chars().any(char::is_control)
    {
        return Err(ApiError::invalid(
            "reference",
            "must be 1 to 200 printable characters",
        ));
    }
    let paid_at = req.paid_at.timestamp();
    receivable::check_paid_at(paid_at, now)
        .map_err(|e| ApiError::invalid("paid_at", e.to_string()))?;
    Ok(PaymentRequest {
        amount,
        reference,
        paid_at,
        allow_duplicate: req.allow_duplicate_reference.unwrap_or(false),
    })
}

/// Record a payment on an invoice if it fits: the invoice locked and every payment and credit
/// note recorded so far counted (posted or not), so two clerks recording at once cannot overpay
/// it, nor pay what a credit note is taking off.
async fn record_payment(
    tx: &mut vereda_store::db::Tx,
    payment_id: &str,
    invoice_id: &str,
    user_id: &str,
    req: &PaymentRequest,
    now: i64,
) -> Result<(), ApiError> {
    let (figures, recorded) = balance_in(tx, invoice_id).await?;
    // The same transfer typed twice: a reference already on this invoice (and not reversed) is
    // refused unless the request says it is another transfer.
    if !req.allow_duplicate && reference_taken(tx, invoice_id, &req.reference).await? {
        let mut e = ApiError::conflict(
            "duplicate_payment_reference",
            format!(
                "Ya hay un pago con la referencia {} en esta factura. Si es otra transferencia \
                 con la misma referencia, envíe \"allow_duplicate_reference\": true.",
                req.reference
            ),
        );
        e.field = Some("reference".into());
        return Err(e);
    }
    receivable::check_payment(&figures, &recorded, req.amount)
        .map_err(|e| ApiError::rule(e.code(), Some(e.field()), e.to_string()))?;
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO payments (id, invoice_id, amount, paid_at, reference, recorded_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(payment_id)
    .bind(invoice_id)
    .bind(req.amount.centavos())
    .bind(req.paid_at)
    .bind(&req.reference)
    .bind(user_id)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Whether a payment not reversed on the invoice has this reference (case aside).
async fn reference_taken(
    tx: &mut vereda_store::db::Tx,
    invoice_id: &str,
    reference: &str,
) -> Result<bool, ApiError> {
    let same: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM payments p WHERE p.invoice_id = $1 \
         AND UPPER(p.reference) = UPPER($2) AND NOT EXISTS \
         (SELECT 1 FROM payment_reversals r WHERE r.payment_id = p.id)"
    )
    .bind(invoice_id)
    .bind(reference)
    .fetch_one(&mut *c)
    .await)?;
    Ok(same > 0)
}

/// A credit note as asked for, checked on its own.
struct CreditNoteRequest {
    reason: String,
    work: Cop,
    fee: Cop,
}

fn parse_credit_note(req: NewCreditNote) -> Result<CreditNoteRequest, ApiError> {
    let reason = req.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(ApiError::invalid(
            "reason",
            "is required (at most 2000 characters)",
        ));
    }
    // Zero is allowed for either part (a note may credit some fee and no work), not both.
    let amount = |field: &str, raw: &str| -> Result<Cop, ApiError> {
        Cop::parse_whole_pesos_or_zero(raw).map_err(|e| ApiError::invalid(field, e.to_string()))
    };
    let work = amount("work", &req.work)?;
    let fee = amount("fee", &req.fee)?;
    if work == Cop::ZERO && fee == Cop::ZERO {
        let e = CreditRefusal::Nothing;
        return Err(ApiError::invalid(e.field(work), e.to_string()));
    }
    Ok(CreditNoteRequest { reason, work, fee })
}

/// A credit note refused, as the API answers it.
fn credit_refusal(e: CreditRefusal, work: Cop) -> ApiError {
    match e {
        CreditRefusal::Nothing => ApiError::invalid(e.field(work), e.to_string()),
        _ => ApiError::rule(e.code(), Some(e.field(work)), e.to_string()),
    }
}

/// Record a credit note if it fits: the invoice locked (the lock payments take), then checked
/// against what it billed, what is already credited and what is still owed.
async fn record_credit_note(
    tx: &mut vereda_store::db::Tx,
    note_id: &str,
    invoice_id: &str,
    user_id: &str,
    req: &CreditNoteRequest,
) -> Result<(), ApiError> {
    let (figures, recorded) = balance_in(tx, invoice_id).await?;
    let note = receivable::credit_note(&figures, &recorded, req.work, req.fee)
        .map_err(|e| credit_refusal(e, req.work))?;
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO credit_notes (id, invoice_id, reason, work, fee, vat, total, status, requested_by, requested_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $10, $8, $9)"
    )
    .bind(note_id)
    .bind(invoice_id)
    .bind(&req.reason)
    .bind(note.work.centavos())
    .bind(note.fee.centavos())
    .bind(note.vat.centavos())
    .bind(note.total.centavos())
    .bind(user_id)
    .bind(time::unix(time::now()))
    .bind(CreditNoteStatus::Requested.as_str())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub struct MoneyApi;

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Invoicing")]
impl MoneyApi {
    /// Invoice a period now (finance)
    ///
    /// Accrues anything approved and not yet accrued, then issues one invoice per company for
    /// its work approved up to the end of `period_end` (Bogotá). Running a period twice
    /// issues nothing new. 202 with the job to follow.
    #[oai(path = "/billing-runs", method = "post")]
    async fn billing_run(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<NewBillingRun>,
    ) -> Result<Accepted, ApiError> {
        finance(&auth.0)?;
        let day = NaiveDate::parse_from_str(body.0.period_end.trim(), "%Y-%m-%d")
            .map_err(|_| ApiError::invalid("period_end", "must be a date YYYY-MM-DD"))?;
        let today = time::now().with_timezone(&time::BOGOTA).date_naive();
        if day > today {
            return Err(ApiError::invalid("period_end", "must not be in the future"));
        }
        if day < NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default() {
            return Err(ApiError::invalid("period_end", "is too far in the past"));
        }
        let job = BillingRun {
            period_end: day.to_string(),
            cycle: None,
        };
        let started = start_job(
            &state,
            &auth.0,
            "billing_run",
            BillingRun::QUEUE,
            &job,
            None,
            None,
            async |_| Ok(()),
        )
        .await?;
        Ok(Accepted::Started(Json(started)))
    }

    /// List invoices
    ///
    /// A company sees its own; finance and admin all (filter by `company_id`, `status`).
    #[oai(path = "/invoices", method = "get")]
    async fn invoices(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
        company_id: Query<Option<String>>,
        status: Query<Option<String>>,
    ) -> Result<InvoiceListOk, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Finance, Role::Admin, Role::Company])?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let status = status
            .0
            .as_deref()
            .map(|s| {
                InvoiceStatus::parse(s).ok_or_else(|| {
                    ApiError::invalid("status", "must be issued, partially_paid, paid or void")
                })
            })
            .transpose()?;
        let company = if who.role == Role::Company {
            who.company_id.clone()
        } else {
            company_id.0
        };
        let sql = format!(
            "SELECT {INVOICE_COLUMNS} FROM invoices WHERE id < $1 AND ($2 IS NULL OR company_id = $2) \
             AND ($3 IS NULL OR status = $3) ORDER BY id DESC LIMIT $4"
        );
        let rows: Vec<InvoiceRow> =
            on_db!(&state.db, |p| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(page.before())
                .bind(company.as_deref())
                .bind(status.map(InvoiceStatus::as_str))
                .bind(page.fetch())
                .fetch_all(p)
                .await)?;
        let (rows, next_cursor) = page.finish(rows, |r| &r.id);
        let mut items = Vec::with_capacity(rows.len());
        for r in rows {
            items.push(full_invoice(&state, r).await?);
        }
        Ok(InvoiceListOk::Ok(Json(InvoiceList { items, next_cursor })))
    }

    /// Get an invoice with its lines
    #[oai(path = "/invoices/:id", method = "get")]
    async fn invoice(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<InvoiceOk, ApiError> {
        let row = visible_invoice(&state, &auth.0, &id.0).await?;
        Ok(InvoiceOk::Ok(Json(full_invoice(&state, row).await?)))
    }

    /// An invoice as CSV (one line per piece of work, then the totals)
    #[oai(path = "/invoices/:id/csv", method = "get")]
    async fn invoice_csv(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<CsvOk, ApiError> {
        let row = visible_invoice(&state, &auth.0, &id.0).await?;
        let lines = invoice_lines(&state, &row.id).await?;
        let number = || Cell::text(row.number.as_str());
        let mut rows: Vec<Vec<Cell>> = lines
            .iter()
            .map(|l| {
                vec![
                    number(),
                    Cell::text(l.assignment_id.as_str()),
                    Cell::text(l.task_title.as_str()),
                    Cell::text(l.worker_id.as_str()),
                    Cell::from(l.seconds),
                    l.rate
                        .map_or_else(Cell::empty, |r| Cell::from(Cop::from_centavos(r))),
                    Cell::from(Cop::from_centavos(l.work)),
                    Cell::from(Cop::from_centavos(l.fee)),
                    // Say which seconds were billed and which only logged (fixed price).
                    Cell::text(if l.rate.is_some() {
                        "por hora"
                    } else {
                        "precio fijo (tiempo registrado)"
                    }),
                ]
            })
            .collect();
        let total = |label: &str, work: Option<i64>, fee: i64| {
            let mut r = vec![number(), Cell::text(label)];
            r.extend((0..4).map(|_| Cell::empty()));
            r.push(work.map_or_else(Cell::empty, |w| Cell::from(Cop::from_centavos(w))));
            r.push(Cell::from(Cop::from_centavos(fee)));
            r
        };
        rows.push(total("TOTAL", Some(row.work), row.fee));
        rows.push(total("IVA", None, row.vat));
        rows.push(total("TOTAL_A_PAGAR", None, row.total));
        let out = csvfile::write(
            &[
                "factura",
                "asignacion",
                "tarea",
                "trabajador",
                "segundos",
                "tarifa_hora",
                "trabajo",
                "comision",
                "tipo_de_precio",
            ],
            rows,
        );
        Ok(CsvOk::Csv(
            PlainText(out),
            format!("attachment; filename=\"{}.csv\"", row.number),
        ))
    }

    /// Record a company payment (finance)
    ///
    /// Full or partial; more than the invoice still owes (payments and credit notes counted,
    /// posted or not) is refused (422 `overpayment`). A reference already recorded on the
    /// invoice is 409 `duplicate_payment_reference` unless `allow_duplicate_reference`. The
    /// payment is posted to the ledger by a job (202).
    #[oai(path = "/invoices/:id/payments", method = "post")]
    async fn payment(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        /// Makes retries safe: the same key answers the first response again; the same key
        /// with a different payment is 422.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<NewPayment>,
    ) -> Result<Accepted, ApiError> {
        let who = &auth.0;
        finance(who)?;
        let now = time::unix(time::now());
        let req = parse_payment(body.0, now)?;
        let invoice = visible_invoice(&state, who, &id.0).await?;
        // The request's fingerprint is its parsed, normalised content.
        let key = IdempotencyKey::from_header(
            idempotency_key.0.as_deref(),
            &format!("payment:{}", invoice.id),
            format!(
                "{}|{}|{}|{}",
                req.amount.centavos(),
                req.paid_at,
                req.reference,
                req.allow_duplicate
            )
            .as_bytes(),
        )?;
        let payment_id = new_id();
        let job = PostPayment {
            payment_id: payment_id.clone(),
        };
        let (pid, inv, user) = (payment_id.clone(), invoice.id.clone(), who.user_id.clone());
        let started = start_job(
            &state,
            who,
            "payment",
            PostPayment::QUEUE,
            &job,
            Some(&payment_id),
            key,
            async move |tx| record_payment(tx, &pid, &inv, &user, &req, now).await,
        )
        .await?;
        Ok(Accepted::Started(Json(started)))
    }

    /// Reverse a company payment (finance)
    ///
    /// For a transfer recorded twice, returned by the bank or put on the wrong invoice: the
    /// payment stays as it was and a reversing entry is posted (Dr receivable / Cr bank) by a
    /// job, once; the invoice's paid amount and status follow. A payment is reversed once
    /// (409 `already_reversed`). 202 with the job to follow.
    #[oai(path = "/payments/:id/reversal", method = "post")]
    async fn reversal(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        /// Makes retries safe: the same key answers the first response again.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<NewReversal>,
    ) -> Result<Accepted, ApiError> {
        let who = &auth.0;
        finance(who)?;
        let reason = short_text("reason", &body.0.reason, 2000)?;
        let payment = company_account::payment(&state.db, &id.0)
            .await
            .map_err(ApiError::from_anyhow)?
            .ok_or_else(|| ApiError::not_found("payment"))?;
        let key = IdempotencyKey::from_header(
            idempotency_key.0.as_deref(),
            &format!("payment_reversal:{}", payment.id),
            reason.as_bytes(),
        )?;
        let job = PostPayment {
            payment_id: payment.id.clone(),
        };
        let (pid, inv, user) = (
            payment.id.clone(),
            payment.invoice_id.clone(),
            who.user_id.clone(),
        );
        let started = start_job(
            &state,
            who,
            "payment_reversal",
            PostPayment::QUEUE,
            &job,
            Some(&payment.id),
            key,
            async move |tx| {
                // The invoice's lock first, as payments and credit notes take it.
                balance_in(tx, &inv).await?;
                let inserted = on_tx!(tx, |c| {
                    sqlx::query(
                "INSERT INTO payment_reversals (payment_id, reason, requested_by, requested_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (payment_id) DO NOTHING"
            )
            .bind(&pid)
            .bind(&reason)
            .bind(&user)
            .bind(time::unix(time::now()))
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
                })?;
                if inserted == 0 {
                    return Err(ApiError::conflict(
                        "already_reversed",
                        "Este pago ya fue reversado; una reversión se hace una sola vez.",
                    ));
                }
                Ok(())
            },
        )
        .await?;
        Ok(Accepted::Started(Json(started)))
    }

    /// Get a company payment (finance, and the invoice's company)
    #[oai(path = "/payments/:id", method = "get")]
    async fn get_payment(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<PaymentOk, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Finance, Role::Admin, Role::Company])?;
        let payment = company_account::payment(&state.db, &id.0)
            .await
            .map_err(ApiError::from_anyhow)?
            .ok_or_else(|| ApiError::not_found("payment"))?;
        visible_invoice(&state, who, &payment.invoice_id)
            .await
            .map_err(|_| ApiError::not_found("payment"))?;
        Ok(PaymentOk::Ok(Json(payment.into())))
    }

    /// Issue a credit note on an invoice (finance)
    ///
    /// Issued invoices never change; a correction credits part of the work and/or fee (with
    /// the fee's IVA). The worker keeps their pay. 202: a job numbers and posts it.
    #[oai(path = "/invoices/:id/credit-notes", method = "post")]
    async fn credit_note(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        /// Makes retries safe: the same key answers the first response again; the same key
        /// with a different note is 422.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<NewCreditNote>,
    ) -> Result<Accepted, ApiError> {
        let who = &auth.0;
        finance(who)?;
        let req = parse_credit_note(body.0)?;
        let invoice = visible_invoice(&state, who, &id.0).await?;
        let key = IdempotencyKey::from_header(
            idempotency_key.0.as_deref(),
            &format!("credit_note:{}", invoice.id),
            format!(
                "{}|{}|{}",
                req.work.centavos(),
                req.fee.centavos(),
                req.reason
            )
            .as_bytes(),
        )?;
        let note_id = new_id();
        let job = IssueCreditNote {
            credit_note_id: note_id.clone(),
        };
        let (nid, inv, user) = (note_id.clone(), invoice.id.clone(), who.user_id.clone());
        let started = start_job(
            &state,
            who,
            "credit_note",
            IssueCreditNote::QUEUE,
            &job,
            Some(&note_id),
            key,
            async move |tx| record_credit_note(tx, &nid, &inv, &user, &req).await,
        )
        .await?;
        Ok(Accepted::Started(Json(started)))
    }

    /// A credit note as PDF, in Spanish (the invoice's company, finance)
    ///
    /// A fixed document: rendered once when first asked for (or e-mailed), then the same bytes
    /// every time, with their SHA-256 in `X-Content-SHA256`. 409 `credit_note_not_issued`
    /// while the note is still being numbered.
    #[oai(path = "/credit-notes/:id/pdf", method = "get")]
    async fn credit_note_pdf(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<DocumentOk, ApiError> {
        visible_credit_note(&state, &auth.0, &id.0).await?;
        match documents::credit_note_document(&state.db, &state.settings, &id.0)
            .await
            .map_err(ApiError::from_anyhow)?
        {
            Ok(d) => Ok(d.into()),
            Err(documents::NoteDocument::NotIssued) => Err(ApiError::conflict(
                "credit_note_not_issued",
                "La nota crédito aún se está numerando; intente de nuevo en unos segundos.",
            )),
            Err(documents::NoteDocument::Missing) => Err(ApiError::not_found("credit note")),
        }
    }

    /// A company's statement of account (its members, finance)
    ///
    /// Every invoice with what was paid and credited on it and what it still owes, the
    /// payments and credit notes, and the balance due, as of now.
    #[oai(path = "/companies/:id/account-statement", method = "get")]
    async fn account_statement(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<CompanyAccountOk, ApiError> {
        let s = company_account(&state, &auth.0, &id.0).await?;
        let now = s.as_of;
        Ok(CompanyAccountOk::Ok(Json(CompanyAccountStatement {
            currency: "COP".into(),
            as_of: time::from_unix(s.as_of),
            invoiced: s.invoiced().to_string(),
            credited: s.credited().to_string(),
            paid: s.paid().to_string(),
            balance_due: s.balance_due().to_string(),
            overdue: s.overdue().to_string(),
            invoices: s
                .invoices
                .iter()
                .map(|i| AccountInvoice {
                    outstanding: i.outstanding().to_string(),
                    overdue: i.overdue(now),
                    id: i.id.clone(),
                    number: i.number.clone(),
                    issued_at: time::from_unix(i.issued_at),
                    due_at: time::from_unix(i.due_at),
                    total: pesos(i.total),
                    paid: pesos(i.paid),
                    credited: pesos(i.credited),
                    status: i.status.clone(),
                })
                .collect(),
            payments: s.payments.into_iter().map(Payment::from).collect(),
            credit_notes: s
                .credit_notes
                .into_iter()
                .map(|n| AccountCreditNote {
                    id: n.id,
                    invoice_id: n.invoice_id,
                    invoice_number: n.invoice_number,
                    number: n.number,
                    reason: n.reason,
                    total: pesos(n.total),
                    status: n.status,
                    issued_at: n.issued_at.map(time::from_unix),
                })
                .collect(),
            company_id: s.company_id,
            company_name: s.company_name,
            nit: s.nit,
        })))
    }

    /// A company's statement of account as PDF, in Spanish (its members, finance)
    #[oai(path = "/companies/:id/account-statement/pdf", method = "get")]
    async fn account_statement_pdf(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<crate::statements::PdfOk, ApiError> {
        let s = company_account(&state, &auth.0, &id.0).await?;
        let pdf = account::account_statement_pdf(&state.settings.issuer(), &s);
        let day = time::from_unix(s.as_of)
            .with_timezone(&time::BOGOTA)
            .date_naive();
        Ok(crate::statements::PdfOk::Pdf(
            Binary(pdf),
            format!("attachment; filename=\"estado-de-cuenta-{day}.pdf\""),
        ))
    }

    /// Receivables aging (finance)
    ///
    /// What each company still owes, by age of the invoice: 0–30, 31–60, 61–90 and 90+ days.
    /// A negative balance (a credit in the company's favour) is shown as it is, never hidden.
    #[oai(path = "/reports/receivables-aging", method = "get")]
    async fn aging(&self, state: Data<&AppState>, auth: BearerAuth) -> Result<AgingOk, ApiError> {
        finance(&auth.0)?;
        let rows: Vec<(String, String, i64, i64)> = on_db!(&state.db, |p| {
            sqlx::query_as(
            "SELECT i.company_id, c.name, i.issued_at, i.total - i.paid - i.credited FROM invoices i \
             JOIN companies c ON c.id = i.company_id \
             WHERE i.status <> $1 AND i.total - i.paid - i.credited <> 0 \
             ORDER BY c.name, i.company_id"
        )
        .bind(InvoiceStatus::Void.as_str())
        .fetch_all(p)
        .await
        })?;
        let now = time::unix(time::now());
        let (by_company, totals) = receivable::aging_by(
            rows.into_iter()
                .map(|(company_id, name, issued_at, owed)| ((name, company_id), issued_at, owed)),
            now,
        );
        let buckets = |a: Aging| AgingBuckets {
            days_0_30: pesos(a.get(AgeBucket::UpTo30)),
            days_31_60: pesos(a.get(AgeBucket::Days31To60)),
            days_61_90: pesos(a.get(AgeBucket::Days61To90)),
            days_over_90: pesos(a.get(AgeBucket::Over90)),
            total: pesos(a.total()),
        };
        Ok(AgingOk::Ok(Json(ReceivablesAging {
            as_of: time::now()
                .with_timezone(&time::BOGOTA)
                .date_naive()
                .to_string(),
            companies: by_company
                .into_iter()
                .map(|((company_name, company_id), a)| CompanyAging {
                    company_id,
                    company_name,
                    buckets: buckets(a),
                })
                .collect(),
            totals: buckets(totals),
        })))
    }

    /// Start a payout batch (finance)
    ///
    /// A job builds one line per worker whose payable balance is at least the minimum payout,
    /// for all of it. 202; the job's result and `subject_id` carry the batch id.
    #[oai(path = "/payout-batches", method = "post")]
    async fn new_batch(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        _body: JsonBody<NewPayoutBatch>,
    ) -> Result<Accepted, ApiError> {
        let who = &auth.0;
        finance(who)?;
        let batch_id = new_id();
        let job = BuildPayoutBatch {
            batch_id: batch_id.clone(),
        };
        let (bid, user) = (batch_id.clone(), who.user_id.clone());
        let started = start_job(&state, who, "payout_batch", BuildPayoutBatch::QUEUE, &job, Some(&batch_id), None, async move |tx| {
            on_tx!(tx, |c| sqlx::query(
                "INSERT INTO payout_batches (id, status, created_by, created_at) VALUES ($1, $4, $2, $3)"
            )
            .bind(&bid)
            .bind(&user)
            .bind(time::unix(time::now()))
            .bind(PayoutBatchStatus::Building.as_str())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
            Ok(())
        })
        .await?;
        Ok(Accepted::Started(Json(started)))
    }

    /// List payout batches (finance)
    ///
    /// Newest first, each with its total and its lines counted as pending, paid or failed, so
    /// a batch whose id was lost is found again.
    #[oai(path = "/payout-batches", method = "get")]
    async fn batches(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
    ) -> Result<PayoutBatchListOk, ApiError> {
        finance(&auth.0)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        type Row = (String, String, i64, i64, i64, i64, i64, i64);
        let rows: Vec<Row> = on_db!(&state.db, |p| {
            sqlx::query_as(
            "SELECT b.id, b.status, b.total, b.created_at, \
             (SELECT COUNT(*) FROM payout_lines l WHERE l.batch_id = b.id) AS lines, \
             (SELECT COUNT(*) FROM payout_lines l WHERE l.batch_id = b.id AND l.status = $3) AS pending, \
             (SELECT COUNT(*) FROM payout_lines l WHERE l.batch_id = b.id AND l.status = $4) AS paid, \
             (SELECT COUNT(*) FROM payout_lines l WHERE l.batch_id = b.id AND l.status = $5) AS failed \
             FROM payout_batches b WHERE b.id < $1 ORDER BY b.id DESC LIMIT $2"
        )
        .bind(page.before())
        .bind(page.fetch())
        .bind(PayoutLineStatus::Pending.as_str())
        .bind(PayoutLineStatus::Paid.as_str())
        .bind(PayoutLineStatus::Failed.as_str())
        .fetch_all(p)
        .await
        })?;
        let (rows, next_cursor) = page.finish(rows, |r| &r.0);
        let items = rows
            .into_iter()
            .map(
                |(id, status, total, created_at, lines, pending, paid, failed)| {
                    PayoutBatchSummary {
                        id,
                        status,
                        total: pesos(total),
                        created_at: time::from_unix(created_at),
                        lines,
                        pending,
                        paid,
                        failed,
                    }
                },
            )
            .collect();
        Ok(PayoutBatchListOk::Ok(Json(PayoutBatchList {
            items,
            next_cursor,
        })))
    }

    /// Get a payout batch with its lines (finance)
    #[oai(path = "/payout-batches/:id", method = "get")]
    async fn batch(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<PayoutBatchOk, ApiError> {
        finance(&auth.0)?;
        let batch = load_batch(&state, &id.0).await?;
        let mut workers: Vec<&str> = batch.lines.iter().map(|l| l.worker_id.as_str()).collect();
        workers.sort_unstable();
        workers.dedup();
        let route = "GET /v1/payout-batches/{id}";
        crate::data_access::record(&state, &auth.0, Read::PayoutBatch, route, &workers).await?;
        Ok(PayoutBatchOk::Ok(Json(batch)))
    }

    /// The bank and wallet file of a batch, as CSV (finance)
    ///
    /// reference, name, document, method, account or phone, amount (net of withholding).
    #[oai(path = "/payout-batches/:id/export", method = "get")]
    async fn export(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<CsvOk, ApiError> {
        finance(&auth.0)?;
        load_batch(&state, &id.0).await?;
        let rows: Vec<(String, String, Option<String>, String, i64, i64)> = on_db!(
            &state.db,
            |p| {
                sqlx::query_as(
            "SELECT l.reference, u.name, w.document_id, l.method, l.amount, l.withholding FROM payout_lines l \
             JOIN worker_profiles w ON w.id = l.worker_id JOIN users u ON u.worker_id = w.id \
             WHERE l.batch_id = $1 ORDER BY l.reference"
        )
        .bind(&id.0)
        .fetch_all(p)
        .await
            }
        )?;
        let workers: Vec<String> = on_db!(&state.db, |p| sqlx::query_scalar(
            "SELECT DISTINCT worker_id FROM payout_lines WHERE batch_id = $1"
        )
        .bind(&id.0)
        .fetch_all(p)
        .await)?;
        let workers: Vec<&str> = workers.iter().map(String::as_str).collect();
        let route = "GET /v1/payout-batches/{id}/export";
        crate::data_access::record(&state, &auth.0, Read::BankFile, route, &workers).await?;
        // Workers type their own name and payout details: every text cell is defused.
        let rows =
            rows.into_iter()
                .map(|(reference, name, document, method, amount, withholding)| {
                    let m: serde_json::Value = serde_json::from_str(&method).unwrap_or_default();
                    let kind = m["kind"].as_str().unwrap_or("").to_string();
                    let account = match kind.as_str() {
                        "nequi" | "daviplata" => m["phone"].as_str().unwrap_or("").to_string(),
                        "bank" => format!(
                            "{} {} {}",
                            m["bank"].as_str().unwrap_or(""),
                            m["account_type"].as_str().unwrap_or(""),
                            m["account_number"].as_str().unwrap_or("")
                        ),
                        _ => m["key"].as_str().unwrap_or("").to_string(),
                    };
                    vec![
                        Cell::text(reference),
                        Cell::text(name),
                        Cell::text(document.unwrap_or_default()),
                        Cell::text(kind),
                        Cell::text(account),
                        Cell::from(
                            LineFigures::stored(
                                Cop::from_centavos(amount),
                                Cop::from_centavos(withholding),
                            )
                            .net,
                        ),
                    ]
                });
        let out = csvfile::write(
            &[
                "reference",
                "name",
                "document",
                "method",
                "account",
                "amount",
            ],
            rows,
        );
        Ok(CsvOk::Csv(
            PlainText(out),
            format!("attachment; filename=\"pagos-{}.csv\"", id.0),
        ))
    }

    /// Import the bank's confirmation file (finance)
    ///
    /// CSV `reference,amount,status[,date]` as banks write it: comma or semicolon, UTF-8 or
    /// Windows-1252, an optional `Referencia` header, status `pagado`/`paid` or
    /// `rechazado`/`failed` (and their synonyms), the amount in whole pesos (`48485`, `48.485`
    /// or `$ 48.485,00`; `48,485` or `48.48` are reported, never guessed at).
    /// Paid lines settle; failed ones return the money to the worker's balance; a wrong
    /// amount, an unknown reference, a bad row or an already settled line is reported and
    /// changes nothing. The job's result lists matched, mismatched, unknown and invalid rows.
    /// A file with no row to apply is refused (422 `no_readable_row`, each row in `errors`).
    /// Importing a file twice is harmless.
    #[oai(path = "/payout-batches/:id/confirmations", method = "post")]
    async fn confirmations(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: CsvBody,
    ) -> Result<Accepted, ApiError> {
        let who = &auth.0;
        finance(who)?;
        let batch = load_batch(&state, &id.0).await?;
        if PayoutBatchStatus::parse(&batch.status) == Some(PayoutBatchStatus::Building) {
            return Err(ApiError::conflict(
                "batch_building",
                "The batch is still being built.",
            ));
        }
        // A file with no row to apply is refused now, with its rows, not after a queued job.
        let file = bank_matching::parse_confirmation(&body.0);
        if let Some(why) = file.nothing_readable() {
            return Err(nothing_to_apply(&file, why));
        }
        let confirmation_id = new_id();
        let job = ApplyBankConfirmation {
            confirmation_id: confirmation_id.clone(),
        };
        let (cid, bid, user, text) = (
            confirmation_id.clone(),
            batch.id.clone(),
            who.user_id.clone(),
            body.0,
        );
        let started = start_job(&state, who, "bank_confirmation", ApplyBankConfirmation::QUEUE, &job, Some(&confirmation_id), None, async move |tx| {
            on_tx!(tx, |c| sqlx::query(
                "INSERT INTO bank_confirmations (id, batch_id, body, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5)"
            )
            .bind(&cid)
            .bind(&bid)
            .bind(&text)
            .bind(&user)
            .bind(time::unix(time::now()))
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
            Ok(())
        })
        .await?;
        Ok(Accepted::Started(Json(started)))
    }

    /// Trial balance (finance)
    #[oai(path = "/ledger/trial-balance", method = "get")]
    async fn trial_balance(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<TrialBalanceOk, ApiError> {
        finance(&auth.0)?;
        // Summed per account first, then the owners' names beside (finance reads names).
        let rows: Vec<(String, i64, i64, Option<String>)> = on_db!(&state.db, |p| {
            sqlx::query_as(
            "SELECT t.account, t.debit, t.credit, COALESCE(c.name, u.name) FROM \
             (SELECT account, account_kind, account_owner, CAST(SUM(debit) AS BIGINT) AS debit, \
             CAST(SUM(credit) AS BIGINT) AS credit FROM ledger_postings \
             GROUP BY account, account_kind, account_owner) t \
             LEFT JOIN companies c ON t.account_kind = 'company_receivable' AND c.id = t.account_owner \
             LEFT JOIN users u ON t.account_kind = 'worker_payable' AND u.worker_id = t.account_owner \
             ORDER BY t.account"
        )
        .fetch_all(p)
        .await
        })?;
        let cop = |(account, d, c, owner): (String, i64, i64, Option<String>)| {
            let totals = Totals::of([(Cop::from_centavos(d), Cop::from_centavos(c))]);
            (account, totals, owner)
        };
        let accounts: Vec<(String, Totals, Option<String>)> = rows.into_iter().map(cop).collect();
        let all = Totals::of(accounts.iter().map(|(_, t, _)| (t.debit, t.credit)));
        Ok(TrialBalanceOk::Ok(Json(TrialBalance {
            balanced: all.balanced(),
            total_debit: all.debit.to_string(),
            total_credit: all.credit.to_string(),
            accounts: accounts
                .into_iter()
                .map(|(account, t, owner_name)| AccountBalance {
                    label_es: label_es(&account),
                    owner_name,
                    account,
                    debit: t.debit.to_string(),
                    credit: t.credit.to_string(),
                    balance: t.balance().to_string(),
                })
                .collect(),
        })))
    }

    /// Audit the books now (finance, admin)
    ///
    /// Every invariant of the ledger and the documents on it: balanced entries, a zero trial
    /// balance, each worker's payable, one accrual per assignment, gapless numbering of
    /// invoices, credit notes and documentos soporte, document totals equal to their lines,
    /// company receivables and payouts in transit. The same checks run every morning, and the
    /// admins are e-mailed when one fails.
    #[oai(path = "/ledger/audit", method = "get")]
    async fn audit(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<LedgerAuditOk, ApiError> {
        finance(&auth.0)?;
        let audit = vereda_store::audit::audit(&state.db, &state.settings)
            .await
            .map_err(ApiError::from_anyhow)?;
        Ok(LedgerAuditOk::Ok(Json(LedgerAudit {
            ok: audit.ok,
            checks: audit
                .checks
                .into_iter()
                .map(|c| AuditCheck {
                    name: c.name,
                    ok: c.ok,
                    detail: c.detail,
                })
                .collect(),
            checked_at: time::now(),
        })))
    }

    /// One account's postings, newest first (finance)
    #[oai(path = "/ledger/accounts/:account", method = "get")]
    async fn account(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        account: Path<String>,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
    ) -> Result<AccountOk, ApiError> {
        finance(&auth.0)?;
        if !ledger_account::is_valid(&account.0) {
            return Err(ApiError::not_found("account"));
        }
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let balance: i64 = on_db!(&state.db, |p| {
            sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(debit - credit), 0) AS BIGINT) FROM ledger_postings WHERE account = $1"
        )
        .bind(&account.0)
        .fetch_one(p)
        .await
        })?;
        #[derive(sqlx::FromRow)]
        struct P {
            id: String,
            entry_id: String,
            effect_key: String,
            kind: String,
            description: String,
            debit: i64,
            credit: i64,
            posted_at: i64,
        }
        let rows: Vec<P> = on_db!(&state.db, |p| {
            sqlx::query_as(
            "SELECT p.id, p.entry_id, e.effect_key, e.kind, e.description, p.debit, p.credit, p.posted_at \
             FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id \
             WHERE p.account = $1 AND p.id < $2 ORDER BY p.id DESC LIMIT $3"
        )
        .bind(&account.0)
        .bind(page.before())
        .bind(page.fetch())
        .fetch_all(p)
        .await
        })?;
        let (rows, next_cursor) = page.finish(rows, |r| &r.id);
        let owner_name = owner_name(&state, &account.0).await?;
        Ok(AccountOk::Ok(Json(AccountStatement {
            label_es: label_es(&account.0),
            owner_name,
            account: account.0,
            balance: pesos(balance),
            entries: rows
                .into_iter()
                .map(|r| LedgerPosting {
                    id: r.id,
                    entry_id: r.entry_id,
                    effect_key: r.effect_key,
                    kind: r.kind,
                    description: r.description,
                    debit: pesos(r.debit),
                    credit: pesos(r.credit),
                    posted_at: time::from_unix(r.posted_at),
                })
                .collect(),
            next_cursor,
        })))
    }
}

/// What an account is, in Spanish; its stored name when it is none of ours (never, as
/// postings are written from `Account`s).
fn label_es(account: &str) -> String {
    LedgerAccount::parse(account).map_or_else(|| account.to_string(), |a| a.label_es().to_string())
}

/// The company's or worker's name for their account.
async fn owner_name(state: &AppState, account: &str) -> Result<Option<String>, ApiError> {
    let name = match LedgerAccount::parse(account) {
        Some(LedgerAccount::CompanyReceivable(id)) => on_db!(&state.db, |p| sqlx::query_scalar(
            "SELECT name FROM companies WHERE id = $1"
        )
        .bind(id.as_str())
        .fetch_optional(p)
        .await)?,
        Some(LedgerAccount::WorkerPayable(id)) => on_db!(&state.db, |p| sqlx::query_scalar(
            "SELECT name FROM users WHERE worker_id = $1"
        )
        .bind(id.as_str())
        .fetch_optional(p)
        .await)?,
        _ => None,
    };
    Ok(name)
}

async fn load_batch(state: &AppState, id: &str) -> Result<PayoutBatch, ApiError> {
    let row: Option<(String, String, i64, i64)> = on_db!(&state.db, |p| sqlx::query_as(
        "SELECT id, status, total, created_at FROM payout_batches WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(p)
    .await)?;
    let (id, status, total, created_at) = row.ok_or_else(|| ApiError::not_found("payout batch"))?;
    type Line = (String, String, String, i64, i64, String, String, String);
    let lines: Vec<Line> = on_db!(&state.db, |p| {
        sqlx::query_as(
            "SELECT l.id, l.worker_id, COALESCE(u.name, ''), l.amount, l.withholding, l.method, \
         l.reference, l.status FROM payout_lines l LEFT JOIN users u ON u.worker_id = l.worker_id \
         WHERE l.batch_id = $1 ORDER BY l.reference",
        )
        .bind(&id)
        .fetch_all(p)
        .await
    })?;
    let notices: Vec<(String, String, String, bool, String)> = on_db!(&state.db, |p| {
        sqlx::query_as(
            "SELECT n.worker_id, COALESCE(u.name, ''), n.code, n.held, n.message \
             FROM payout_notices n LEFT JOIN users u ON u.worker_id = n.worker_id \
             WHERE n.batch_id = $1 ORDER BY n.held DESC, n.id",
        )
        .bind(&id)
        .fetch_all(p)
        .await
    })?;
    Ok(PayoutBatch {
        notices: notices
            .into_iter()
            .map(
                |(worker_id, worker_name, code, held, message)| PayoutNotice {
                    worker_id,
                    worker_name,
                    code,
                    held,
                    message,
                },
            )
            .collect(),
        id,
        status,
        total: pesos(total),
        created_at: time::from_unix(created_at),
        lines: lines
            .into_iter()
            .map(
                |(id, worker_id, worker_name, amount, withholding, method, reference, status)| {
                    PayoutLine {
                        id,
                        worker_id,
                        worker_name,
                        amount: pesos(amount),
                        withholding: pesos(withholding),
                        method: serde_json::from_str::<serde_json::Value>(&method)
                            .ok()
                            .and_then(|m| m["kind"].as_str().map(str::to_string))
                            .unwrap_or_default(),
                        reference,
                        status,
                    }
                },
            )
            .collect(),
    })
}

/// 422 `no_readable_row`: a confirmation file with nothing to apply, each bad row listed.
fn nothing_to_apply(file: &bank_matching::ConfirmationFile, why: String) -> ApiError {
    let mut problem = ApiError::rule(
        "no_readable_row",
        Some("body"),
        format!(
            "No row of the confirmation file can be applied ({} refused); nothing was changed.",
            file.invalid.len()
        ),
    );
    problem.detail_es = Some(why.into());
    problem.errors = Some(Box::new(
        file.invalid
            .iter()
            .map(|r| ProblemItem {
                line: r.line as u64,
                column: r.refusal.field().map(str::to_string),
                detail_es: r.refusal.to_string(),
            })
            .collect(),
    ));
    problem
}
