//! Monthly income statements (the documentos soporte are weekly: `support_run`).
//!
//! A run for a Bogotá month builds, for every worker with something to show in it, the
//! statement's figures (`vereda_contracts::statements`) and compares them with the newest
//! stored version: equal figures add nothing, different ones add the next version, with a new
//! verification code and an e-mail to the worker written in the same transaction. Each
//! worker's month is one transaction that first locks the worker's row, so concurrent or
//! repeated runs cannot race each other into two versions.

use std::collections::HashMap;
use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use apalis_cron::Tick;
use chrono::Timelike;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sqlx::AssertSqlSafe;
use vereda_contracts::jobs::BuildStatements;
use vereda_contracts::money::Cop;
use vereda_contracts::money_states::PayoutLineStatus;
use vereda_contracts::statements::{self, Declared, Inputs, Month, Rules, Statement, WorkItem};
use vereda_contracts::time::{self, BOGOTA};
use vereda_store::config::Settings;
use vereda_store::db::{Db, Tx};
use vereda_store::locks;
use vereda_store::unique_keys::{UniqueKey, unique_key};
use vereda_store::{on_db, on_tx};

use vereda_documents::mail;
use vereda_store::journal::{in_list, placeholders};
use vereda_store::outbox;
use vereda_store::queue;

use crate::invoicing;
use crate::problems::{RunProblem, is_systemic, one_by_one};

/// What a run did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RunReport {
    pub month: String,
    pub provisional: bool,
    /// Workers whose month was looked at.
    pub workers: u64,
    /// Statement versions added (each one e-mailed).
    pub new_versions: u64,
    /// Workers (and approved work) this run had to leave out, with what to do; everyone else's
    /// statement was built.
    #[serde(default)]
    pub problems: Vec<RunProblem>,
}

const STATEMENT_ACTION: &str = "No se pudo generar el extracto de esta persona; los demás sí se \
     generaron. Revise sus datos y su trabajo del mes y vuelva a generar los extractos del mes: \
     no se duplicará nada.";

/// Where the figures stop (exclusive): the end of the month, or, while it is in course, the
/// end of the current second (timestamps are whole seconds, so a payout made this second
/// already counts).
fn cutoff(month: Month, now: i64) -> i64 {
    month.end().min(now + 1)
}

/// What building one worker's month did.
#[derive(Debug, Clone, Copy, Default)]
struct Built {
    new_version: bool,
}

/// Build the statements of `month` as of `now`: provisional if the month has not ended.
pub async fn build_month(
    db: &Db,
    settings: &Settings,
    month: Month,
    now: i64,
) -> anyhow::Result<RunReport> {
    let provisional = now < month.end();
    // Approved work whose accrual job has not run yet still belongs in the month.
    let accrual = invoicing::accrue_pending(db, settings, cutoff(month, now), now).await?;

    let workers: Vec<String> = on_db!(db, |p| sqlx::query_scalar(
        "SELECT worker_id FROM accruals WHERE approved_at >= $1 AND approved_at < $2 \
         UNION SELECT worker_id FROM payout_lines WHERE (status = $4 AND settled_at >= $1 \
             AND settled_at < $2) OR (created_at >= $1 AND created_at < $2) \
         UNION SELECT worker_id FROM statements WHERE month = $3 \
         ORDER BY 1"
    )
    .bind(month.start())
    .bind(month.end())
    .bind(month.to_string())
    .bind(PayoutLineStatus::Paid.as_str())
    .fetch_all(p)
    .await)?;

    let mut report = RunReport {
        month: month.to_string(),
        provisional,
        problems: accrual.problems,
        ..RunReport::default()
    };
    let mut problems = Vec::new();
    let mut tally = |b: Built| {
        report.workers += 1;
        report.new_versions += u64::from(b.new_version);
    };
    for chunk in workers.chunks(STATEMENT_CHUNK) {
        match build_chunk(db, settings, chunk, month, now).await {
            Ok(built) => built.into_iter().for_each(&mut tally),
            // The database is away: fail, and the run is retried; what was built stays
            // built and is not built twice.
            Err(e) if is_systemic(&e) => return Err(e),
            Err(e) => {
                // One worker's failure must not hold back the others: redo the chunk one
                // worker (and transaction) at a time, and report the bad one.
                tracing::warn!(%month, error = %e, "statement chunk failed; building it worker by worker");
                let (built, mut left_out) =
                    one_by_one(chunk, "worker", STATEMENT_ACTION, |worker_id| async move {
                        build_worker_month(db, settings, &worker_id, month, now).await
                    })
                    .await?;
                built.into_iter().for_each(&mut tally);
                problems.append(&mut left_out);
            }
        }
    }
    report.problems.extend(problems);
    Ok(report)
}

/// Workers per transaction in a run: their figures are read with a few set-based queries and
/// their versions and e-mails written with multi-row statements.
const STATEMENT_CHUNK: usize = 250;

/// The months of a chunk of workers in one transaction, locking all their rows first (as
/// [`build_in`] does for one), so concurrent or repeated runs still cannot race.
async fn build_chunk(
    db: &Db,
    settings: &Settings,
    workers: &[String],
    month: Month,
    now: i64,
) -> anyhow::Result<Vec<Built>> {
    let mut tx = db.begin().await?;
    match build_chunk_in(&mut tx, settings, workers, month, now).await {
        Ok(built) => {
            tx.commit().await?;
            Ok(built)
        }
        Err(e) => {
            tx.rollback().await.ok();
            Err(e)
        }
    }
}

/// Bind every worker id of a chunk, in order, after the query's other parameters.
macro_rules! bind_all {
    ($q:expr, $ids:expr) => {{
        let mut q = $q;
        for id in $ids {
            q = q.bind(id);
        }
        q
    }};
}

async fn build_chunk_in(
    tx: &mut Tx,
    settings: &Settings,
    workers: &[String],
    month: Month,
    now: i64,
) -> anyhow::Result<Vec<Built>> {
    let ids: Vec<&str> = workers.iter().map(String::as_str).collect();
    locks::workers(tx, &ids).await?;

    let provisional = now < month.end();
    let inputs = read_inputs_many(tx, workers, month, provisional, now).await?;
    let sql = format!(
        "SELECT worker_id, version, figures FROM statements WHERE month = $1 \
         AND worker_id IN ({}) ORDER BY worker_id, version",
        in_list(workers.len(), 2)
    );
    let versions: Vec<(String, i64, String)> = on_tx!(tx, |c| bind_all!(
        sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(month.to_string()),
        workers
    )
    .fetch_all(&mut *c)
    .await)?;
    // Ordered by version, so the last one per worker is the newest.
    let latest: HashMap<String, (i64, String)> =
        versions.into_iter().map(|(w, v, f)| (w, (v, f))).collect();

    let rules = Rules {
        legal: &settings.legal,
        social_security: &settings.social_security,
        rural_baseline: settings.rural_baseline,
    };
    let mut built = vec![Built::default(); workers.len()];
    let mut all = Vec::with_capacity(workers.len());
    let mut new = Vec::new();
    for (i, input) in inputs.into_iter().enumerate() {
        let figures = statements::compute(input, rules)?;
        let latest = latest.get(&figures.worker_id);
        let unchanged = latest
            .and_then(|(_, f)| serde_json::from_str::<Statement>(f).ok())
            .is_some_and(|old| old == figures);
        if !unchanged {
            new.push((i, latest.map_or(1, |(v, _)| v + 1)));
            built[i].new_version = true;
        }
        all.push(figures);
    }
    let added: Vec<(&Statement, i64)> = new.iter().map(|&(i, v)| (&all[i], v)).collect();
    add_versions(tx, settings, &added, now).await?;
    Ok(built)
}

/// What a statement reads, for a chunk of workers (or one) with four set-based queries (each
/// an index range per worker); the inputs come back in the chunk's order.
async fn read_inputs_many(
    tx: &mut Tx,
    workers: &[String],
    month: Month,
    provisional: bool,
    now: i64,
) -> anyhow::Result<Vec<Inputs>> {
    let cutoff = cutoff(month, now);
    let ids = in_list(workers.len(), 3);
    let ids2 = in_list(workers.len(), 2);
    let sql = format!(
        "SELECT a.worker_id, a.company_id, c.name, a.seconds, a.work FROM accruals a \
         JOIN companies c ON c.id = a.company_id \
         WHERE a.approved_at >= $1 AND a.approved_at < $2 AND a.worker_id IN ({ids}) \
         ORDER BY a.worker_id, a.approved_at, a.assignment_id, a.part"
    );
    let work: Vec<(String, String, String, i64, i64)> = on_tx!(tx, |c| bind_all!(
        sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(month.start())
            .bind(month.end()),
        workers
    )
    .fetch_all(&mut *c)
    .await)?;
    // The month's payments, read in one pass over each worker's lines: see `PAYMENTS`.
    let sql = format!(
        "SELECT worker_id, {PAYMENTS} FROM payout_lines \
         WHERE worker_id IN ({ids}) AND (created_at >= $1 OR settled_at >= $1) \
         GROUP BY worker_id"
    );
    let payments: HashMap<String, (i64, i64, i64)> = on_tx!(tx, |c| bind_all!(
        sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(month.start())
            .bind(cutoff),
        workers
    )
    .fetch_all(&mut *c)
    .await)?
    .into_iter()
    .map(|(w, paid, withheld, received): (String, i64, i64, i64)| (w, (paid, withheld, received)))
    .collect();
    // Owed at the cut-off: everything earned before it, less what had left in payout lines
    // (a line that failed later was still in transit then).
    let sql = format!(
        "SELECT worker_id, CAST(SUM(work) AS BIGINT) FROM accruals \
         WHERE approved_at < $1 AND worker_id IN ({ids2}) GROUP BY worker_id"
    );
    let earned: HashMap<String, i64> = on_tx!(tx, |c| bind_all!(
        sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(cutoff),
        workers
    )
    .fetch_all(&mut *c)
    .await)?
    .into_iter()
    .collect();
    let sql = format!(
        "SELECT worker_id, CAST(SUM(amount) AS BIGINT) FROM payout_lines \
         WHERE created_at < $1 AND (status <> '{failed}' OR settled_at >= $1) \
         AND worker_id IN ({ids2}) GROUP BY worker_id",
        failed = PayoutLineStatus::Failed,
    );
    let left: HashMap<String, i64> = on_tx!(tx, |c| bind_all!(
        sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(cutoff),
        workers
    )
    .fetch_all(&mut *c)
    .await)?
    .into_iter()
    .collect();

    // What each declared through PILA for the month (issue 20 §4): the month's declarations,
    // one row per worker at most, kept for the chunk's workers.
    let declared: Vec<(String, String, i64, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT worker_id, planilla, health, pension FROM social_security_payments \
         WHERE month = $1"
    )
    .bind(month.to_string())
    .fetch_all(&mut *c)
    .await)?;
    let mut declared: HashMap<String, Declared> = declared
        .into_iter()
        .map(|(w, planilla, health, pension)| {
            let d = Declared {
                planilla,
                health: Cop::from_centavos(health),
                pension: Cop::from_centavos(pension),
            };
            (w, d)
        })
        .collect();
    let mut items: HashMap<String, Vec<WorkItem>> = HashMap::new();
    for (worker_id, company_id, company_name, seconds, work) in work {
        items.entry(worker_id).or_default().push(WorkItem {
            company_id,
            company_name,
            seconds,
            work: Cop::from_centavos(work),
        });
    }
    Ok(workers
        .iter()
        .map(|w| {
            let pending = earned.get(w).copied().unwrap_or(0) - left.get(w).copied().unwrap_or(0);
            let (paid, withheld, received) = payments.get(w).copied().unwrap_or_default();
            Inputs {
                worker_id: w.clone(),
                month,
                provisional,
                work: items.remove(w).unwrap_or_default(),
                paid_gross: Cop::from_centavos(paid),
                withheld: Cop::from_centavos(withheld),
                paid_out: Cop::from_centavos(received),
                pending: Cop::from_centavos(pending.max(0)),
                declared: declared.remove(w),
            }
        })
        .collect())
}

/// Store new statement versions and, in the same transaction, the e-mails that carry them:
/// one read of the workers' names and addresses, one multi-row insert of the versions, and
/// the e-mails written and queued together.
async fn add_versions(
    tx: &mut Tx,
    settings: &Settings,
    added: &[(&Statement, i64)],
    now: i64,
) -> anyhow::Result<()> {
    if added.is_empty() {
        return Ok(());
    }
    // Who the statements are for, read first: each version keeps the name and cédula it
    // prints, so verifying it later confirms what is on the paper.
    let sql = format!(
        "SELECT u.worker_id, u.id, u.name, u.email, w.document_id FROM users u \
         JOIN worker_profiles w ON w.id = u.worker_id WHERE u.worker_id IN ({})",
        in_list(added.len(), 1)
    );
    type Person = (String, String, String, String, Option<String>);
    let people: Vec<Person> = on_tx!(tx, |c| bind_all!(
        sqlx::query_as(AssertSqlSafe(sql.as_str())),
        added.iter().map(|(f, _)| &f.worker_id)
    )
    .fetch_all(&mut *c)
    .await)?;
    let people: HashMap<String, Person> = people.into_iter().map(|p| (p.0.clone(), p)).collect();
    let person = |worker_id: &str| {
        people
            .get(worker_id)
            .ok_or_else(|| anyhow::anyhow!("worker {worker_id} has no user"))
    };
    let rows: Vec<(String, String, String)> = added
        .iter()
        .map(|(figures, _)| {
            Ok((
                uuid::Uuid::now_v7().to_string(),
                statements::verification_code(uuid::Uuid::new_v4().as_u128()),
                serde_json::to_string(figures)?,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let sql = format!(
        "INSERT INTO statements (id, worker_id, month, version, provisional, figures, gross, net, \
         verification_code, generated_at, worker_name, worker_document) VALUES {}",
        placeholders(added.len(), 12, 1)
    );
    on_tx!(tx, |c| {
        let mut q = sqlx::query(AssertSqlSafe(sql.as_str()));
        for ((figures, version), (id, code, json)) in added.iter().zip(&rows) {
            let (_, _, name, _, document) = person(&figures.worker_id)?;
            q = q
                .bind(id)
                .bind(&figures.worker_id)
                .bind(&figures.month)
                .bind(*version)
                .bind(figures.provisional)
                .bind(json)
                .bind(figures.gross.centavos())
                .bind(figures.net.centavos())
                .bind(code)
                .bind(now)
                .bind(name)
                .bind(document);
        }
        anyhow::Ok(q.execute(&mut *c).await.map(|r| r.rows_affected())?)
    })?;

    let mut messages = Vec::with_capacity(added.len());
    for ((figures, version), (id, code, _)) in added.iter().zip(&rows) {
        let (_, user_id, name, address, _) = person(&figures.worker_id)?;
        let month = Month::parse(&figures.month)
            .ok_or_else(|| anyhow::anyhow!("stored month {:?} is not a month", figures.month))?;
        messages.push(outbox::NewMessage {
            dedupe_key: format!("statement:{id}"),
            kind: "statement",
            recipient: address,
            user_id: Some(user_id),
            content: mail::statement(&settings.issuer(), name, month, figures, code, *version),
            attachment: Some(outbox::Attachment::Statement(id.clone())),
        });
    }
    outbox::enqueue_many(tx, &messages, now).await?;
    tracing::info!(month = ?added.first().map(|(f, _)| &f.month), versions = added.len(), "statement versions added");
    Ok(())
}

/// One worker's month, retried once when a concurrent run got there first.
async fn build_worker_month(
    db: &Db,
    settings: &Settings,
    worker_id: &str,
    month: Month,
    now: i64,
) -> anyhow::Result<Built> {
    let mut attempt = 0;
    loop {
        let mut tx = db.begin().await?;
        match build_in(&mut tx, settings, worker_id, month, now).await {
            Ok(built) => {
                tx.commit().await?;
                return Ok(built);
            }
            Err(e) => {
                tx.rollback().await.ok();
                // Only the keys a concurrent build of the same month writes; any other
                // violation is a bug, not a race, and fails the job.
                let raced = e.downcast_ref::<sqlx::Error>().is_some_and(|e| {
                    matches!(
                        unique_key(e),
                        Some(
                            UniqueKey::StatementVersion | UniqueKey::SupportDocumentPerWorkerMonth
                        )
                    )
                });
                if !raced || attempt > 0 {
                    return Err(e);
                }
                attempt += 1;
            }
        }
    }
}

async fn build_in(
    tx: &mut Tx,
    settings: &Settings,
    worker_id: &str,
    month: Month,
    now: i64,
) -> anyhow::Result<Built> {
    // Builds of the same worker wait for each other.
    locks::worker(tx, worker_id).await?;

    let provisional = now < month.end();
    let figures = statements::compute(
        read_inputs_many(tx, &[worker_id.to_string()], month, provisional, now)
            .await?
            .pop()
            .ok_or_else(|| anyhow::anyhow!("no inputs read for worker {worker_id}"))?,
        Rules {
            legal: &settings.legal,
            social_security: &settings.social_security,
            rural_baseline: settings.rural_baseline,
        },
    )?;

    let latest: Option<(i64, String)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT version, figures FROM statements WHERE worker_id = $1 AND month = $2 \
         ORDER BY version DESC LIMIT 1"
    )
    .bind(worker_id)
    .bind(month.to_string())
    .fetch_optional(&mut *c)
    .await)?;
    let unchanged = latest
        .as_ref()
        .and_then(|(_, f)| serde_json::from_str::<Statement>(f).ok())
        .is_some_and(|old| old == figures);
    let mut built = Built::default();
    if !unchanged {
        let version = latest.map_or(1, |(v, _)| v + 1);
        add_versions(tx, settings, &[(&figures, version)], now).await?;
        built.new_version = true;
    }
    Ok(built)
}

/// A month's payments from a worker's payout lines, with `$1` the month's start and `$2` the
/// cut-off: paid (before withholding) and withheld on the lines batched in the month and not
/// failed by the cut-off (the payments the withholding rule summed), and what the bank
/// confirmed in the month, net.
const PAYMENTS: &str = "\
    CAST(SUM(CASE WHEN created_at >= $1 AND created_at < $2 \
        AND (status <> 'failed' OR settled_at >= $2) THEN amount ELSE 0 END) AS BIGINT), \
    CAST(SUM(CASE WHEN created_at >= $1 AND created_at < $2 \
        AND (status <> 'failed' OR settled_at >= $2) THEN withholding ELSE 0 END) AS BIGINT), \
    CAST(SUM(CASE WHEN status = 'paid' AND settled_at >= $1 AND settled_at < $2 \
        THEN amount - withholding ELSE 0 END) AS BIGINT)";

pub(crate) async fn run(
    job: BuildStatements,
    db: Data<Db>,
    settings: Data<Arc<Settings>>,
) -> Result<RunReport, BoxDynError> {
    let month = Month::parse(&job.month)
        .ok_or_else(|| format!("{:?} is not a month (YYYY-MM)", job.month))?;
    let report = build_month(&db, &settings, month, time::unix(time::now())).await?;
    tracing::info!(%month, new_versions = report.new_versions, "statements built");
    Ok(report)
}

/// Every hour, on the hour (Bogotá): the clock asks for last month's statements once they
/// are due, on the 1st at 06:00. The month is the job's idempotency key, so the first tick
/// after 06:00 on the 1st queues the run and every later tick of the month finds it queued;
/// if no process was up at 06:00, the next hour's tick does it.
pub const STATEMENTS_CRON: &str = "0 0 * * * *";

pub(crate) fn statements_schedule() -> cron::Schedule {
    use std::str::FromStr;
    cron::Schedule::from_str(STATEMENTS_CRON).expect("STATEMENTS_CRON is a valid schedule")
}

/// The month whose final statements are due at `now`.
pub fn month_due(now: chrono::DateTime<chrono::Utc>) -> Month {
    let local = now.with_timezone(&BOGOTA);
    let this = Month::of(now);
    if local.date_naive() == this.first_day() && local.hour() < 6 {
        this.prev().prev()
    } else {
        this.prev()
    }
}

/// Queue the run for the month due at `now`, once per month however many processes ask.
pub async fn enqueue_due(db: &Db, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<String> {
    let month = month_due(now).to_string();
    queue::push(
        db,
        BuildStatements::QUEUE,
        &BuildStatements {
            month: month.clone(),
        },
        None,
        Some(&format!("statements:{month}")),
    )
    .await
}

pub(crate) async fn on_statements_tick(tick: Tick<Tz>, db: Data<Db>) -> Result<(), BoxDynError> {
    let at = time::from_unix(tick.get_timestamp() as i64);
    let id = enqueue_due(&db, at).await?;
    tracing::debug!(job = %id, "monthly statements queued");
    crate::certificate_run::enqueue_due(&db, at).await?;
    crate::support_run::enqueue_due(&db, at).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn last_month_is_due_from_six_on_the_first() {
        let at = |d: u32, h: u32| {
            BOGOTA
                .with_ymd_and_hms(2026, 12, d, h, 0, 0)
                .unwrap()
                .to_utc()
        };
        assert_eq!(month_due(at(1, 5)).to_string(), "2026-10");
        assert_eq!(month_due(at(1, 6)).to_string(), "2026-11");
        assert_eq!(month_due(at(31, 23)).to_string(), "2026-11");
    }
}
