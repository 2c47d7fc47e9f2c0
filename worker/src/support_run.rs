//! Weekly documentos soporte (issue 19 §1): every Monday from 06:00 (Bogotá) the clock asks
//! for last week's run (the week is the job's key, so N processes queue one). A run issues,
//! for each worker, what the rules (`vereda_contracts::support_weeks::{due, correction}`) say
//! her closed weeks still need, looking back [`LOOKBACK_WEEKS`]: the week's documento soporte,
//! a further one for purchases the week gained after it, or a nota de ajuste when it lost
//! some (or a document was annulled, which the next run replaces). Each worker is one
//! transaction under her row lock, so a repeated, late or concurrent run issues nothing twice.
//! Their electronic documents are made and delivered right after, the same day.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use serde::{Deserialize, Serialize};
use vereda_contracts::jobs::IssueSupportDocuments;
use vereda_contracts::numbering::Series;
use vereda_contracts::statements::Month;
use vereda_contracts::support_weeks::{self, Correction, Week};
use vereda_contracts::time;
use vereda_store::config::Settings;
use vereda_store::db::{Db, Tx};
use vereda_store::{counters, exec_one, locks, on_db, on_tx, queue};

use vereda_documents::ubl::Discrepancy;

use crate::invoicing;
use crate::problems::{RunProblem, one_by_one};

/// How far back a run looks for weeks whose purchases changed.
pub const LOOKBACK_WEEKS: u64 = 8;

/// What a run did; stored as the job's result.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SupportReport {
    /// The newest week it documented (`YYYY-MM-DD`, a Monday).
    pub week: String,
    /// Workers with a week to document.
    pub workers: u64,
    pub documents: u64,
    pub adjustments: u64,
    #[serde(default)]
    pub problems: Vec<RunProblem>,
}

const ACTION: &str = "No se pudo emitir el documento soporte de esta persona; los demás sí se \
     emitieron. Revise su trabajo de la semana y vuelva a ejecutar la emisión: no se duplicará \
     nada.";

/// Issue what the weeks up to `last` still need, as of `now`.
pub async fn issue_weeks(
    db: &Db,
    settings: &Settings,
    last: Week,
    now: i64,
) -> anyhow::Result<SupportReport> {
    // Work approved in the week whose accrual job has not run yet still belongs in it.
    let accrual = invoicing::accrue_pending(db, settings, last.end(), now).await?;
    let first = (0..LOOKBACK_WEEKS).fold(last, |w, _| w.prev());
    let workers: Vec<String> = on_db!(db, |p| sqlx::query_scalar(
        "SELECT DISTINCT worker_id FROM accruals WHERE approved_at >= $1 AND approved_at < $2 \
         UNION SELECT worker_id FROM support_documents WHERE week_start >= $3 ORDER BY 1"
    )
    .bind(first.start())
    .bind(last.end())
    .bind(first.to_string())
    .fetch_all(p)
    .await)?;
    let (issued, problems) = one_by_one(&workers, "worker", ACTION, |worker| async move {
        let mut tx = db.begin().await?;
        let issued = issue_for_worker(&mut tx, settings, &worker, first, last, now).await?;
        tx.commit().await?;
        Ok(issued)
    })
    .await?;
    let mut report = SupportReport {
        week: last.to_string(),
        problems: accrual.problems,
        ..SupportReport::default()
    };
    report.problems.extend(problems);
    for (documents, adjustments) in issued {
        report.workers += u64::from(documents + adjustments > 0);
        report.documents += documents;
        report.adjustments += adjustments;
    }
    // Made, signed and delivered today (DIAN takes them only on their issue day).
    if let Err(e) = vereda_store::electronic_documents::sweep(db, settings).await {
        tracing::error!(error = %format!("{e:#}"), "electronic documentos soporte");
    }
    Ok(report)
}

/// One worker's weeks from `first` to `last`, under her row lock: returns the documents and
/// adjustments issued.
async fn issue_for_worker(
    tx: &mut Tx,
    settings: &Settings,
    worker: &str,
    first: Week,
    last: Week,
    now: i64,
) -> anyhow::Result<(u64, u64)> {
    locks::workers(tx, &[worker]).await?;
    let accruals: Vec<(i64, i64, String)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT approved_at, work, task_title FROM accruals WHERE worker_id = $1 \
         AND approved_at >= $2 AND approved_at < $3 ORDER BY approved_at, assignment_id, part"
    )
    .bind(worker)
    .bind(first.start())
    .bind(last.end())
    .fetch_all(&mut *c)
    .await)?;
    // Months documented the monthly way, before weeks.
    let monthly: BTreeSet<Month> =
        vereda_store::stored_statements::monthly_documented(tx, worker).await?;
    // What each week's documents and notes add up to, and what each document still stands
    // for (its amount less the notes against it), oldest first.
    let rows: Vec<(String, String, String, i64, i64, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT d.week_start, d.id, d.kind, d.part, d.amount, d.amount + COALESCE((SELECT \
         CAST(SUM(n.amount) AS BIGINT) FROM support_documents n WHERE n.adjusts_id = d.id), 0) \
         FROM support_documents d WHERE d.worker_id = $1 AND d.week_start >= $2 \
         ORDER BY d.week_start, d.part, d.issued_at"
    )
    .bind(worker)
    .bind(first.to_string())
    .fetch_all(&mut *c)
    .await)?;
    let mut issued: BTreeMap<Week, i64> = BTreeMap::new();
    let mut standing: BTreeMap<Week, Vec<(String, i64)>> = BTreeMap::new();
    let mut parts: BTreeMap<Week, i64> = BTreeMap::new();
    for (week, id, kind, part, amount, stands) in rows {
        let Some(w) = Week::parse(&week) else {
            continue;
        };
        *issued.entry(w).or_default() += amount;
        if kind == "document" {
            standing.entry(w).or_default().push((id, stands));
            let last = parts.entry(w).or_default();
            *last = (*last).max(part);
        }
    }
    let earned: Vec<(i64, i64)> = accruals.iter().map(|(at, work, _)| (*at, *work)).collect();
    let today = vereda_contracts::timesheet::bogota_day(now);
    let (mut documents, mut adjustments) = (0, 0);
    for (week, change) in support_weeks::due(&earned, &monthly, &issued, last) {
        let standing = standing.get(&week).map(Vec::as_slice).unwrap_or_default();
        let corrections = support_weeks::correction(change, standing)
            .map_err(|u| anyhow::anyhow!("week {week}: {u}"))?;
        for correction in corrections {
            match correction {
                Correction::Document { amount } => {
                    let part = parts.get(&week).copied().unwrap_or(0) + 1;
                    parts.insert(week, part);
                    // The week's work by task; a further document says what the week's
                    // standing documents did not.
                    let lines = if part == 1 {
                        week_lines(&accruals, &monthly, week)
                    } else {
                        further_lines(tx, worker, &accruals, &monthly, week, amount).await?
                    };
                    // Allocated in this transaction: a rolled-back worker gives her numbers
                    // back. Outside the resolution's range or dates the worker is left out,
                    // saying what to do.
                    let (prefix, range) =
                        (&settings.support_doc_prefix, &settings.support_doc_range);
                    let (seq, number, resolution) =
                        counters::next_support_number(tx, today, prefix, range).await?;
                    let doc = Issued {
                        kind: "document",
                        seq,
                        number: &number,
                        amount,
                        part,
                        resolution: resolution.as_deref(),
                        adjusts: None,
                    };
                    let id = uuid::Uuid::now_v7().to_string();
                    insert(tx, &id, worker, week, today, now, &doc, &lines).await?;
                    documents += 1;
                }
                Correction::Adjustment {
                    adjusts,
                    amount,
                    annuls,
                } => {
                    let (seq, number) =
                        counters::next_number(tx, Series::SupportAdjustment).await?;
                    let reason = format!(
                        "Menor valor de las compras de la semana del {}",
                        week.label_es()
                    );
                    let lines = vec![(reason.clone(), amount, week.monday().to_string())];
                    let concept = if annuls {
                        Discrepancy::Annulment
                    } else {
                        Discrepancy::PartialNonAcceptance
                    };
                    let note = Issued {
                        kind: "adjustment",
                        seq,
                        number: &number,
                        amount,
                        part: 1,
                        resolution: None,
                        adjusts: Some((&adjusts, concept, &reason)),
                    };
                    let id = uuid::Uuid::now_v7().to_string();
                    insert(tx, &id, worker, week, today, now, &note, &lines).await?;
                    adjustments += 1;
                }
            }
        }
    }
    Ok((documents, adjustments))
}

/// A document or note about to be written.
pub struct Issued<'a> {
    pub kind: &'static str,
    pub seq: i64,
    pub number: &'a str,
    /// Centavos; negative for a nota de ajuste.
    pub amount: i64,
    pub part: i64,
    pub resolution: Option<&'a str>,
    /// For a nota de ajuste: the document it corrects, why (the annex's concept) and the
    /// reason in words.
    pub adjusts: Option<(&'a str, Discrepancy, &'a str)>,
}

/// Write a weekly document or note (as `id`) and its lines, which must add up to it. It
/// keeps the worker's name and cédula as it prints them (a note, as its document printed
/// them), so a later correction of her data changes no document already issued: the XML
/// and the PDF always say the same.
#[allow(clippy::too_many_arguments)] // the run and the annulment endpoint both write one
pub async fn insert(
    tx: &mut Tx,
    id: &str,
    worker: &str,
    week: Week,
    today: chrono::NaiveDate,
    now: i64,
    doc: &Issued<'_>,
    lines: &[(String, i64, String)],
) -> anyhow::Result<()> {
    let said: i64 = lines.iter().map(|(_, a, _)| a).sum();
    anyhow::ensure!(
        said == doc.amount,
        "the lines of {} (week {week}) add to {said}, not {}",
        doc.number,
        doc.amount
    );
    exec_one!(
        tx,
        sqlx::query(
            "INSERT INTO support_documents (id, kind, number, seq, worker_id, month, amount, \
             issued_on, issued_at, week_start, week_end, resolution_id, part, adjusts_id, \
             concept, reason, worker_name, worker_document) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             COALESCE(d.worker_name, u.name), COALESCE(d.worker_document, w.document_id) \
             FROM worker_profiles w LEFT JOIN users u ON u.worker_id = w.id \
             LEFT JOIN support_documents d ON d.id = $14 WHERE w.id = $5"
        )
        .bind(id)
        .bind(doc.kind)
        .bind(doc.number)
        .bind(doc.seq)
        .bind(worker)
        .bind(week.statement_month().to_string())
        .bind(doc.amount)
        .bind(today.to_string())
        .bind(now)
        .bind(week.to_string())
        .bind(week.sunday().to_string())
        .bind(doc.resolution)
        .bind(doc.part)
        .bind(doc.adjusts.map(|(id, _, _)| id))
        .bind(doc.adjusts.map(|(_, concept, _)| concept.code()))
        .bind(doc.adjusts.map(|(_, _, reason)| reason))
    )?;
    for (n, (description, amount, first_day)) in lines.iter().enumerate() {
        exec_one!(
            tx,
            sqlx::query(
                "INSERT INTO support_document_lines (support_document_id, line, description, \
                 amount, first_day) VALUES ($1, $2, $3, $4, $5)"
            )
            .bind(id)
            .bind(n as i64 + 1)
            .bind(description)
            .bind(amount)
            .bind(first_day)
        )?;
    }
    tracing::info!(number = %doc.number, %week, kind = doc.kind, "documento soporte issued");
    Ok(())
}

/// The nota de ajuste that annuls document `id`, written under the worker's row lock: it
/// takes off what the document still stands for (its amount less earlier notes), line by
/// line as the document said them when nothing was taken off before. Returns its number and
/// amount (negative); `None` when the document was already annulled (nothing written).
#[allow(clippy::too_many_arguments)]
pub async fn annul(
    tx: &mut Tx,
    id: &str,
    note_id: &str,
    worker: &str,
    week: Week,
    reason: &str,
    today: chrono::NaiveDate,
    now: i64,
) -> anyhow::Result<Option<(String, i64)>> {
    locks::workers(tx, &[worker]).await?;
    let (amount, taken, annulled): (i64, i64, i64) = on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT d.amount, CAST(COALESCE(SUM(n.amount), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN n.concept = '2' THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM support_documents d LEFT JOIN support_documents n ON n.adjusts_id = d.id \
             WHERE d.id = $1 GROUP BY d.amount",
        )
        .bind(id)
        .fetch_one(&mut *c)
        .await
    })?;
    let stands = amount + taken;
    if annulled > 0 || stands <= 0 {
        return Ok(None);
    }
    let lines: Vec<(String, i64, String)> = if taken == 0 {
        on_tx!(tx, |c| sqlx::query_as(
            "SELECT description, -amount, first_day FROM support_document_lines \
             WHERE support_document_id = $1 ORDER BY line"
        )
        .bind(id)
        .fetch_all(&mut *c)
        .await)?
    } else {
        vec![(
            format!(
                "Anulación de lo que quedaba del documento de la semana del {}",
                week.label_es()
            ),
            -stands,
            week.monday().to_string(),
        )]
    };
    let (seq, number) = counters::next_number(tx, Series::SupportAdjustment).await?;
    let note = Issued {
        kind: "adjustment",
        seq,
        number: &number,
        amount: -stands,
        part: 1,
        resolution: None,
        adjusts: Some((id, Discrepancy::Annulment, reason)),
    };
    match insert(tx, note_id, worker, week, today, now, &note, &lines).await {
        Ok(()) => Ok(Some((number, -stands))),
        // Another annulment got there first (the row lock makes this all but impossible).
        Err(e)
            if e.downcast_ref::<sqlx::Error>()
                .and_then(vereda_store::unique_keys::unique_key)
                == Some(vereda_store::unique_keys::UniqueKey::SupportDocumentAnnulment) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// A further document's lines: the week's work by task less what its standing documents (not
/// annulled nor lowered) said of each task. When notes make that ambiguous, one line for all.
async fn further_lines(
    tx: &mut Tx,
    worker: &str,
    accruals: &[(i64, i64, String)],
    monthly: &BTreeSet<Month>,
    week: Week,
    amount: i64,
) -> anyhow::Result<Vec<(String, i64, String)>> {
    let said: Vec<(String, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT l.description, l.amount FROM support_document_lines l \
         JOIN support_documents d ON d.id = l.support_document_id \
         WHERE d.worker_id = $1 AND d.week_start = $2 AND d.kind = 'document' AND NOT EXISTS \
         (SELECT 1 FROM support_documents n WHERE n.adjusts_id = d.id)"
    )
    .bind(worker)
    .bind(week.to_string())
    .fetch_all(&mut *c)
    .await)?;
    let mut lines = week_lines(accruals, monthly, week);
    for (description, amount) in said {
        if let Some(line) = lines.iter_mut().find(|(t, _, _)| *t == description) {
            line.1 -= amount;
        }
    }
    lines.retain(|(_, a, _)| *a != 0);
    if lines.iter().any(|(_, a, _)| *a < 0)
        || lines.iter().map(|(_, a, _)| a).sum::<i64>() != amount
    {
        lines = vec![(
            format!(
                "Compras de la semana del {} no documentadas antes",
                week.label_es()
            ),
            amount,
            week.monday().to_string(),
        )];
    }
    Ok(lines)
}

/// A week's work by task (in the order first approved): what was bought, how much, and the
/// first day of the accumulation. Months documented monthly are left out, as `due` does.
fn week_lines(
    rows: &[(i64, i64, String)],
    monthly: &BTreeSet<Month>,
    week: Week,
) -> Vec<(String, i64, String)> {
    let mut lines: Vec<(String, i64, String)> = Vec::new();
    for (at, work, title) in rows {
        if Week::of(*at) != week || monthly.contains(&Month::of(time::from_unix(*at))) {
            continue;
        }
        match lines.iter_mut().find(|(t, _, _)| t == title) {
            Some(line) => line.1 += work,
            None => lines.push((
                title.clone(),
                *work,
                vereda_contracts::timesheet::bogota_day(*at).to_string(),
            )),
        }
    }
    lines
}

pub(crate) async fn run(
    job: IssueSupportDocuments,
    db: Data<Db>,
    settings: Data<Arc<Settings>>,
) -> Result<SupportReport, BoxDynError> {
    let week = Week::parse(&job.week)
        .ok_or_else(|| format!("{:?} is not a week (its Monday, YYYY-MM-DD)", job.week))?;
    let report = issue_weeks(&db, &settings, week, time::unix(time::now())).await?;
    tracing::info!(%week, documents = report.documents, adjustments = report.adjustments, "documentos soporte issued");
    Ok(report)
}

/// Queue the run for the week due at `now`, once per week however many processes ask.
pub async fn enqueue_due(db: &Db, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<String> {
    let week = support_weeks::week_due(now).to_string();
    queue::push(
        db,
        IssueSupportDocuments::QUEUE,
        &IssueSupportDocuments { week: week.clone() },
        None,
        Some(&format!("support-week:{week}")),
    )
    .await
}
