//! The money jobs' handlers: thin wrappers that read the job, call the domain function and
//! report progress and results. The work itself lives in `invoicing` and `payouts`.

use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use apalis_core::task::task_id::TaskId;
use chrono::NaiveDate;
use vereda_contracts::jobs::{
    AccrueAssignment, ApplyBankConfirmation, BillingRun, BuildPayoutBatch, IssueCreditNote,
    PostPayment,
};
use vereda_contracts::time;
use vereda_store::config::Settings;
use vereda_store::db::Db;
use vereda_store::on_db;

use crate::invoicing::{self, AccrueOutcome, BillingReport};
use crate::payouts::{self, BatchReport, ConfirmationReport};

fn now() -> i64 {
    time::unix(time::now())
}

pub(crate) async fn run_accrual(
    job: AccrueAssignment,
    db: Data<Db>,
    settings: Data<Arc<Settings>>,
) -> Result<AccrueOutcome, BoxDynError> {
    Ok(invoicing::accrue(&db, &settings, &job.assignment_id, now()).await?)
}

/// Record how far a person-visible job has got (`GET /v1/jobs/{id}` shows it).
async fn progress(db: Db, job_id: String, done: u64, total: u64) {
    let res = on_db!(&db, |p| sqlx::query(
        "UPDATE job_requests SET progress_done = $1, progress_total = $2 WHERE job_id = $3"
    )
    .bind(done as i64)
    .bind(total as i64)
    .bind(&job_id)
    .execute(p)
    .await
    .map(|r| r.rows_affected()));
    if let Err(e) = res {
        tracing::warn!(error = %e, "could not record progress");
    }
}

pub(crate) async fn run_billing(
    job: BillingRun,
    db: Data<Db>,
    settings: Data<Arc<Settings>>,
    id: TaskId,
) -> Result<BillingReport, BoxDynError> {
    let period = NaiveDate::parse_from_str(&job.period_end, "%Y-%m-%d")?;
    let (pdb, pid) = ((*db).clone(), id.to_string());
    let report = invoicing::billing_run(
        &db,
        &settings,
        period,
        job.cycle.as_deref(),
        now(),
        move |done, total| Box::pin(progress(pdb.clone(), pid.clone(), done, total)),
    )
    .await?;
    tracing::info!(period = %job.period_end, issued = report.issued.len(), "billing run done");
    // The invoices' electronic documents, signed and delivered the day they are issued, as
    // DIAN asks: after the run, not in it (its outcome is not held back, and a shutdown cuts
    // this short harmlessly), and housekeeping tries again what fails here.
    electronic_documents_after(&db, &settings);
    Ok(report)
}

pub(crate) async fn run_payout_batch(
    job: BuildPayoutBatch,
    db: Data<Db>,
    settings: Data<Arc<Settings>>,
) -> Result<BatchReport, BoxDynError> {
    Ok(payouts::build_batch(&db, &settings, &job.batch_id, now()).await?)
}

pub(crate) async fn run_confirmation(
    job: ApplyBankConfirmation,
    db: Data<Db>,
) -> Result<ConfirmationReport, BoxDynError> {
    Ok(payouts::apply_confirmation(&db, &job.confirmation_id, now()).await?)
}

pub(crate) async fn run_payment(job: PostPayment, db: Data<Db>) -> Result<bool, BoxDynError> {
    Ok(payouts::post_payment(&db, &job.payment_id, now()).await?)
}

pub(crate) async fn run_credit_note(
    job: IssueCreditNote,
    db: Data<Db>,
    settings: Data<Arc<Settings>>,
) -> Result<String, BoxDynError> {
    let number = invoicing::issue_credit_note(&db, &job.credit_note_id, now()).await?;
    // Its electronic document (after its invoice's, if that is missing), delivered today.
    electronic_documents_after(&db, &settings);
    Ok(number)
}

/// Make and deliver the electronic documents of what a job just issued, beside the job.
fn electronic_documents_after(db: &Db, settings: &Arc<Settings>) {
    let (db, settings) = (db.clone(), settings.clone());
    tokio::spawn(async move {
        if let Err(e) = vereda_store::electronic_documents::sweep(&db, &settings).await {
            tracing::error!(error = %format!("{e:#}"), "electronic documents");
        }
    });
}
