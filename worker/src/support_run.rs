//! Weekly documentos soporte (issue 19 §1): every Monday from 06:00 (Bogotá) the clock asks
//! for last week's run (the week is the job's key, so N processes queue one). A run issues,
//! for each worker, what the rule (`vereda_contracts::support_weeks::due`) says her closed
//! weeks still need: the week's documento soporte, or a nota de ajuste when its purchases
//! changed after it was issued, looking back [`LOOKBACK_WEEKS`]. Each worker is one
//! transaction under her row lock, so a repeated, late or concurrent run issues nothing twice.
//! Their electronic documents are made and delivered right after, the same day.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use serde::{Deserialize, Serialize};
use vereda_contracts::jobs::IssueSupportDocuments;
use vereda_contracts::numbering::Series;
use vereda_contracts::statements::Month;
use vereda_contracts::support_weeks::{self, Week};
use vereda_contracts::time;
use vereda_store::config::Settings;
use vereda_store::db::{Db, Tx};
use vereda_store::{counters, exec_one, locks, on_db, on_tx, queue};

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
    let rows: Vec<(String, i64, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT week_start, CAST(SUM(amount) AS BIGINT), \
         CAST(SUM(CASE WHEN kind = 'document' THEN 1 ELSE 0 END) AS BIGINT) \
         FROM support_documents WHERE worker_id = $1 AND week_start >= $2 GROUP BY week_start"
    )
    .bind(worker)
    .bind(first.to_string())
    .fetch_all(&mut *c)
    .await)?;
    let mut issued = BTreeMap::new();
    let mut has_document = BTreeSet::new();
    for (week, amount, documents) in rows {
        if let Some(w) = Week::parse(&week) {
            issued.insert(w, amount);
            if documents > 0 {
                has_document.insert(w);
            }
        }
    }
    let earned: Vec<(i64, i64)> = accruals.iter().map(|(at, work, _)| (*at, *work)).collect();
    let today = vereda_contracts::timesheet::bogota_day(now);
    let (mut documents, mut adjustments) = (0, 0);
    for (week, amount) in support_weeks::due(&earned, &monthly, &issued, last) {
        let first_of_week = !has_document.contains(&week);
        // Allocated in this transaction: a rolled-back worker gives her numbers back. Outside
        // the resolution's range or dates the worker is left out, saying what to do.
        let (kind, (seq, number, resolution)) = if first_of_week {
            let (prefix, range) = (&settings.support_doc_prefix, &settings.support_doc_range);
            (
                "document",
                counters::next_support_number(tx, today, prefix, range).await?,
            )
        } else {
            let (seq, number) = counters::next_number(tx, Series::SupportAdjustment).await?;
            ("adjustment", (seq, number, None))
        };
        // What it says, line by line: the week's work by task (a first document), or the
        // change (a nota de ajuste).
        let lines: Vec<(String, i64, String)> = if first_of_week {
            week_lines(&accruals, &monthly, week)
        } else {
            vec![(
                format!("Ajuste de las compras de la semana del {}", week.label_es()),
                amount,
                week.monday().to_string(),
            )]
        };
        let said: i64 = lines.iter().map(|(_, a, _)| a).sum();
        anyhow::ensure!(
            said == amount,
            "the lines of week {week} add to {said}, not {amount}"
        );
        let id = uuid::Uuid::now_v7().to_string();
        exec_one!(
            tx,
            sqlx::query(
                "INSERT INTO support_documents (id, kind, number, seq, worker_id, month, amount, \
                 issued_on, issued_at, week_start, week_end, resolution_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            )
            .bind(&id)
            .bind(kind)
            .bind(&number)
            .bind(seq)
            .bind(worker)
            .bind(week.statement_month().to_string())
            .bind(amount)
            .bind(today.to_string())
            .bind(now)
            .bind(week.to_string())
            .bind(week.sunday().to_string())
            .bind(&resolution)
        )?;
        for (n, (description, amount, first_day)) in lines.iter().enumerate() {
            exec_one!(
                tx,
                sqlx::query(
                    "INSERT INTO support_document_lines (support_document_id, line, description, \
                     amount, first_day) VALUES ($1, $2, $3, $4, $5)"
                )
                .bind(&id)
                .bind(n as i64 + 1)
                .bind(description)
                .bind(amount)
                .bind(first_day)
            )?;
        }
        tracing::info!(%number, %week, kind, "documento soporte issued");
        if first_of_week {
            documents += 1;
        } else {
            adjustments += 1;
        }
    }
    Ok((documents, adjustments))
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
