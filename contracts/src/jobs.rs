//! Job payloads and their queue names. Jobs carry ids, never truth: the tables are the truth,
//! and every handler is idempotent. Queue names are explicit constants because apalis would
//! otherwise use the Rust type's path, which changes silently when a type moves.

use serde::{Deserialize, Serialize};

/// Periodic clean-up of expired sign-in tokens and stale login-throttle rows.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Housekeeping {}

impl Housekeeping {
    pub const QUEUE: &'static str = "vereda.housekeeping";
}

/// Run the automatic checks on a submission (idempotent: a submission already verified or
/// sent back is left alone).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VerifySubmission {
    pub assignment_id: String,
}

impl VerifySubmission {
    pub const QUEUE: &'static str = "vereda.verify-submission";
}

/// The marketplace's periodic sweep: expire stale claims, warn of claims about to expire,
/// approve submissions whose review window has passed, and re-queue verifications that were
/// lost. Each part is idempotent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct MarketplaceSweep {}

impl MarketplaceSweep {
    pub const QUEUE: &'static str = "vereda.marketplace-sweep";
}

/// Post an approved assignment's earnings and fee to the ledger (the money pipeline).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccrueAssignment {
    pub assignment_id: String,
}

impl AccrueAssignment {
    pub const QUEUE: &'static str = "vereda.accrue-assignment";
}

/// Invoice a period: accrue what is approved and not yet accrued, then one invoice per company
/// for its accrued, uninvoiced work approved up to the end of `period_end` (a Bogotá date).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BillingRun {
    /// `YYYY-MM-DD`.
    pub period_end: String,
    /// Only companies on this billing cycle (`monthly`/`weekly`); all when absent.
    pub cycle: Option<String>,
}

impl BillingRun {
    pub const QUEUE: &'static str = "vereda.billing-run";
}

/// Fill a payout batch: one line per worker whose payable balance reaches the minimum.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BuildPayoutBatch {
    pub batch_id: String,
}

impl BuildPayoutBatch {
    pub const QUEUE: &'static str = "vereda.payout-batch";
}

/// Apply a bank's confirmation file to a payout batch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApplyBankConfirmation {
    pub confirmation_id: String,
}

impl ApplyBankConfirmation {
    pub const QUEUE: &'static str = "vereda.bank-confirmation";
}

/// Post a recorded company payment to the ledger and update its invoice.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PostPayment {
    pub payment_id: String,
}

impl PostPayment {
    pub const QUEUE: &'static str = "vereda.post-payment";
}

/// Issue a requested credit note: number it and post the reversal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IssueCreditNote {
    pub credit_note_id: String,
}

impl IssueCreditNote {
    pub const QUEUE: &'static str = "vereda.credit-note";
}

/// Build every worker's statement for a Bogotá month (`YYYY-MM`), provisional while the month
/// is in course. Equal figures add no version, so running a month again changes nothing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BuildStatements {
    pub month: String,
}

impl BuildStatements {
    pub const QUEUE: &'static str = "vereda.statements";
}

/// Issue the documentos soporte of the ISO weeks up to `week` (its Monday, `YYYY-MM-DD`):
/// each worker's week with purchases, or a nota de ajuste for a week that changed. Running it
/// again issues nothing new.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IssueSupportDocuments {
    pub week: String,
}

impl IssueSupportDocuments {
    pub const QUEUE: &'static str = "vereda.support-documents";
}

/// Build every paid worker's certificate of income and withholdings for a year. Equal figures
/// add no version, so running a year again changes nothing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BuildCertificates {
    pub year: i32,
}

impl BuildCertificates {
    pub const QUEUE: &'static str = "vereda.certificates";
}

/// Send one outbox message; the handler claims it first, so a second delivery sends nothing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SendEmail {
    pub message_id: String,
}

impl SendEmail {
    pub const QUEUE: &'static str = "vereda.send-email";
}

/// The e-mail sweep: notification events and newly issued invoices and payouts become outbox
/// messages, and due or interrupted sends are queued again.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct MailSweep {}

impl MailSweep {
    pub const QUEUE: &'static str = "vereda.mail-sweep";
}

/// The daily ledger audit: every invariant checked, the result kept, admins told of a failure.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LedgerAudit {}

impl LedgerAudit {
    pub const QUEUE: &'static str = "vereda.ledger-audit";
}
