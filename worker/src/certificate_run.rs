//! Yearly certificates of income and withholdings (issue 20 §6).
//!
//! A run for a year builds, for every worker with a payout line batched in it (Bogotá) that
//! did not fail, the certificate's figures (`vereda_contracts::certificates`) and compares them
//! with the newest stored version: equal figures add nothing; different ones add the next
//! version with a new verification code, its PDF stored as a fixed document, and an e-mail
//! carrying it, all in one transaction that first locks the worker's row (so concurrent or
//! repeated runs cannot make two versions). The statements clock asks for last year's run in
//! January; finance can run any year by hand.

use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use serde::{Deserialize, Serialize};
use vereda_contracts::certificates::{self, Certificate, IssuedCertificate, PaidLine};
use vereda_contracts::fiscal::FiscalProfile;
use vereda_contracts::jobs::BuildCertificates;
use vereda_contracts::money::Cop;
use vereda_contracts::statements;
use vereda_contracts::time;
use vereda_contracts::timesheet::day_start;
use vereda_documents::mail;
use vereda_store::config::Settings;
use vereda_store::db::{Db, Tx};
use vereda_store::{locks, on_db, on_tx, outbox, queue};

use crate::problems::{RunProblem, one_by_one};

/// What a run did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CertificateReport {
    pub year: i32,
    /// Workers paid in the year.
    pub workers: u64,
    /// Certificate versions added (each one e-mailed).
    pub new_versions: u64,
    #[serde(default)]
    pub problems: Vec<RunProblem>,
}

const CERTIFICATE_ACTION: &str = "No se pudo generar el certificado de esta persona; los demás \
     sí se generaron. Revise sus datos y vuelva a generar los certificados del año: no se \
     duplicará nada.";

/// Unix seconds of the year's first instant and the next year's, in Bogotá.
pub fn year_bounds(year: i32) -> Option<(i64, i64)> {
    let first = |y| chrono::NaiveDate::from_ymd_opt(y, 1, 1).map(day_start);
    Some((first(year)?, first(year + 1)?))
}

/// Build the certificates of `year` as of `now`.
pub async fn build_year(
    db: &Db,
    settings: &Settings,
    year: i32,
    now: i64,
) -> anyhow::Result<CertificateReport> {
    let (from, to) = year_bounds(year).ok_or_else(|| anyhow::anyhow!("no year {year}"))?;
    let workers: Vec<String> = on_db!(db, |p| sqlx::query_scalar(
        "SELECT DISTINCT worker_id FROM payout_lines \
         WHERE created_at >= $1 AND created_at < $2 AND status <> 'failed' ORDER BY worker_id"
    )
    .bind(from)
    .bind(to)
    .fetch_all(p)
    .await)?;
    let (built, problems) = one_by_one(&workers, "worker", CERTIFICATE_ACTION, |w| async move {
        build_worker_year(db, settings, &w, year, now).await
    })
    .await?;
    Ok(CertificateReport {
        year,
        workers: built.len() as u64,
        new_versions: built.iter().filter(|b| **b).count() as u64,
        problems,
    })
}

/// One worker's year in its own transaction; true when a new version was added.
async fn build_worker_year(
    db: &Db,
    settings: &Settings,
    worker_id: &str,
    year: i32,
    now: i64,
) -> anyhow::Result<bool> {
    let mut tx = db.begin().await?;
    let added = build_in(&mut tx, settings, worker_id, year, now).await?;
    tx.commit().await?;
    Ok(added)
}

async fn build_in(
    tx: &mut Tx,
    settings: &Settings,
    worker_id: &str,
    year: i32,
    now: i64,
) -> anyhow::Result<bool> {
    locks::worker(tx, worker_id).await?;
    let (from, to) = year_bounds(year).ok_or_else(|| anyhow::anyhow!("no year {year}"))?;
    let rows: Vec<(Option<String>, i64, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT concept, amount, withholding FROM payout_lines WHERE worker_id = $1 \
         AND created_at >= $2 AND created_at < $3 AND status <> 'failed' ORDER BY id"
    )
    .bind(worker_id)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *c)
    .await)?;
    let lines = rows
        .into_iter()
        .map(|(concept, amount, withholding)| {
            // Lines from before concepts were kept were withheld on as services.
            let concept = match concept {
                Some(c) => FiscalProfile::parse(&c, false, false, None)?.concept,
                None => FiscalProfile::default().concept,
            };
            Ok(PaidLine {
                concept,
                amount: Cop::from_centavos(amount),
                withholding: Cop::from_centavos(withholding),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let figures = certificates::certificate(worker_id, year, &lines);

    let latest: Option<(i64, String)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT version, figures FROM withholding_certificates WHERE worker_id = $1 AND year = $2 \
         ORDER BY version DESC LIMIT 1"
    )
    .bind(worker_id)
    .bind(year)
    .fetch_optional(&mut *c)
    .await
    })?;
    if latest
        .as_ref()
        .and_then(|(_, f)| serde_json::from_str::<Certificate>(f).ok())
        .is_some_and(|old| old == figures)
    {
        return Ok(false);
    }
    let person: Option<(String, String, String, Option<String>)> = on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT u.id, u.name, u.email, w.document_id FROM users u \
             JOIN worker_profiles w ON w.id = u.worker_id WHERE u.worker_id = $1",
        )
        .bind(worker_id)
        .fetch_optional(&mut *c)
        .await
    })?;
    let Some((user_id, name, address, document_id)) = person else {
        anyhow::bail!("worker {worker_id} has no user");
    };
    let issued = IssuedCertificate {
        id: uuid::Uuid::now_v7().to_string(),
        version: latest.map_or(1, |(v, _)| v + 1),
        verification_code: statements::verification_code(uuid::Uuid::new_v4().as_u128()),
        generated_at: now,
        worker_name: name.clone(),
        document_id,
        figures,
    };
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO withholding_certificates (id, worker_id, year, version, figures, paid, \
         withheld, verification_code, generated_at, worker_name, worker_document) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    )
    .bind(&issued.id)
    .bind(worker_id)
    .bind(year)
    .bind(issued.version)
    .bind(serde_json::to_string(&issued.figures)?)
    .bind(issued.figures.paid.centavos())
    .bind(issued.figures.withheld.centavos())
    .bind(&issued.verification_code)
    .bind(now)
    .bind(&issued.worker_name)
    .bind(&issued.document_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    // The PDF is fixed now: downloads and the e-mail carry these very bytes.
    let pdf = vereda_documents::certificate_pdf(&settings.issuer(), &issued);
    let sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&pdf))
    };
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO document_files (subject_id, kind, filename, bytes, sha256, created_at) \
         VALUES ($1, 'withholding_certificate', $2, $3, $4, $5)"
    )
    .bind(&issued.id)
    .bind(vereda_documents::certificate_filename(&issued))
    .bind(&pdf)
    .bind(&sha256)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    let message = outbox::NewMessage {
        dedupe_key: format!("certificate:{}", issued.id),
        kind: "withholding_certificate",
        recipient: &address,
        user_id: Some(&user_id),
        content: mail::certificate_issued(
            &settings.issuer(),
            &name,
            &issued.figures,
            &issued.verification_code,
            issued.version,
        ),
        attachment: Some(outbox::Attachment::Document(issued.id.clone())),
    };
    outbox::enqueue(tx, message, now).await?;
    tracing::info!(year, version = issued.version, "certificate version added");
    Ok(true)
}

pub(crate) async fn run(
    job: BuildCertificates,
    db: Data<Db>,
    settings: Data<Arc<Settings>>,
) -> Result<CertificateReport, BoxDynError> {
    let report = build_year(&db, &settings, job.year, time::unix(time::now())).await?;
    tracing::info!(
        year = job.year,
        new_versions = report.new_versions,
        "certificates built"
    );
    Ok(report)
}

/// Queue last year's run once it is due (January, from the 1st at 06:00 Bogotá, with the
/// statements' clock), once per year however many processes ask: the year is the job's key.
pub async fn enqueue_due(db: &Db, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<()> {
    let due = crate::statement_run::month_due(now);
    if !due.to_string().ends_with("-12") {
        return Ok(());
    }
    let year: i32 = due.to_string()[..4].parse()?;
    queue::push(
        db,
        BuildCertificates::QUEUE,
        &BuildCertificates { year },
        None,
        Some(&format!("certificates:{year}")),
    )
    .await?;
    Ok(())
}
