//! Paying workers: payout batches (one line per worker owed at least the minimum), the bank
//! file's confirmations, and company payments posted to the ledger.

use std::collections::HashSet;

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use sqlx::AssertSqlSafe;
use vereda_contracts::accounts::payout_hold_cutoff;
use vereda_contracts::bank_matching::{
    self, BankRow, BatchLine, InvalidRow, LineStatus, Outcome, Verdict,
};
use vereda_contracts::fiscal::FiscalProfile;
use vereda_contracts::ids::{CompanyId, PaymentId, PayoutLineId, WorkerId};
use vereda_contracts::ledger;
use vereda_contracts::money::Cop;
use vereda_contracts::money_states::{InvoiceStatus, PayoutBatchStatus};
use vereda_contracts::payout_rules::{
    self, Checks, LineFigures, MonthSoFar, Notice, Owed, PayoutTerms, payout_line,
};
use vereda_contracts::statements::Month;
use vereda_contracts::withholding::Tables;
use vereda_store::config::Settings;
use vereda_store::db::Db;
use vereda_store::{locks, on_db, on_tx};

use crate::problems::{RunProblem, is_systemic, one_by_one};
use vereda_store::journal::{in_list, placeholders, post, post_many};

/// What building a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReport {
    pub batch_id: String,
    pub lines: u64,
    /// Pesos, as a decimal string.
    pub total: String,
    /// Workers this run had to leave out, with what to do; the others are in the batch.
    #[serde(default)]
    pub problems: Vec<RunProblem>,
}

const PAYOUT_ACTION: &str = "No se pudo incluir a esta persona en el lote; su saldo sigue \
     pendiente y nada se perdió. Revise su medio de pago y sus datos: entrará en el próximo lote.";

/// Fill batch `batch_id` (status `building`): for each worker whose payable balance is at
/// least the minimum, one line with all of it, posted Dr payable / Cr payouts in transit.
/// Re-running adds nothing: a worker has one line per batch and one pending line at most.
pub async fn build_batch(
    db: &Db,
    settings: &Settings,
    batch_id: &str,
    now: i64,
) -> anyhow::Result<BatchReport> {
    let status: Option<String> = on_db!(db, |p| sqlx::query_scalar(
        "SELECT status FROM payout_batches WHERE id = $1"
    )
    .bind(batch_id)
    .fetch_optional(p)
    .await)?;
    let Some(status) = status else {
        anyhow::bail!("no payout batch {batch_id}");
    };
    let Some(status) = PayoutBatchStatus::parse(&status) else {
        anyhow::bail!("payout batch {batch_id} has an unknown status {status}");
    };
    let problems = if status == PayoutBatchStatus::Building {
        fill_batch(db, settings, batch_id, now).await?
    } else {
        Vec::new()
    };
    let (lines, total): (i64, i64) = on_db!(db, |p| {
        sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM payout_lines WHERE batch_id = $1"
    )
    .bind(batch_id)
    .fetch_one(p)
    .await
    })?;
    Ok(BatchReport {
        batch_id: batch_id.to_string(),
        lines: lines as u64,
        total: Cop::from_centavos(total).to_string(),
        problems,
    })
}

/// Add the lines of every worker owed at least the minimum and not held, chunk by chunk, and
/// mark the batch ready. Returns the workers left out, with what to do.
async fn fill_batch(
    db: &Db,
    settings: &Settings,
    batch_id: &str,
    now: i64,
) -> anyhow::Result<Vec<RunProblem>> {
    let mut problems = Vec::new();
    // Driven by the workers, each balance an index lookup on `ledger_postings_by_owner`
    // (kind and owner columns): no scan of the whole journal.
    // The candidates: owed the minimum and not held (issue 13 §8). The same test as
    // `payout_rules::payout_line`, which decides again for each under her row's lock.
    let owed: Vec<String> = on_db!(db, |p| sqlx::query_scalar(
        "SELECT w.id FROM worker_profiles w \
         WHERE (SELECT COALESCE(SUM(p.credit - p.debit), 0) FROM ledger_postings p \
                WHERE p.account_kind = 'worker_payable' AND p.account_owner = w.id) >= $1 \
         AND (w.payout_method_changed_at IS NULL OR w.payout_method_changed_at <= $2) \
         ORDER BY w.id"
    )
    .bind(settings.min_payout.centavos())
    .bind(payout_hold_cutoff(now))
    .fetch_all(p)
    .await)?;
    for chunk in owed.chunks(PAYOUT_CHUNK) {
        match add_lines(db, settings, batch_id, chunk, now).await {
            Ok(()) => {}
            Err(e) if is_systemic(&e) => return Err(e),
            Err(e) => {
                // One worker's bad line must not leave everyone unpaid: one at a time,
                // and the bad one is reported (her balance stays payable).
                tracing::warn!(error = %format!("{e:#}"), "payout chunk failed; adding its lines one by one");
                let (_, mut left_out) =
                    one_by_one(chunk, "worker", PAYOUT_ACTION, |worker| async move {
                        add_lines(db, settings, batch_id, std::slice::from_ref(&worker), now).await
                    })
                    .await?;
                problems.append(&mut left_out);
            }
        }
    }
    on_db!(db, |p| {
        sqlx::query(
        "UPDATE payout_batches SET status = $3, built_at = $1, \
         total = (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM payout_lines WHERE batch_id = $2) \
         WHERE id = $2 AND status = $4"
    )
    .bind(now)
    .bind(batch_id)
    .bind(PayoutBatchStatus::Ready.as_str())
    .bind(PayoutBatchStatus::Building.as_str())
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(problems)
}

/// Workers' lines per transaction: a few multi-row statements per chunk instead of a
/// transaction per worker.
const PAYOUT_CHUNK: usize = 500;

/// A payout line about to be written.
struct Line {
    id: PayoutLineId,
    worker_id: WorkerId,
    figures: LineFigures,
    /// `services` or `honorarios`, and the rule its withholding followed.
    concept: &'static str,
    rule: &'static str,
    method: String,
    reference: String,
}

/// What a batch says about a worker (a line flagged, or held with no line).
struct NewNotice {
    worker_id: String,
    notice: Notice,
}

/// A line's reference: it travels through the bank and back in its confirmation file.
fn new_reference() -> String {
    format!(
        "VRD{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12].to_uppercase()
    )
}

/// The lines of a chunk of workers, in one transaction, with the balances read after locking
/// the workers' rows (so two batches built at once cannot both pay the same balance).
async fn add_lines(
    db: &Db,
    settings: &Settings,
    batch_id: &str,
    workers: &[String],
    now: i64,
) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let (lines, notices) = lines_for(&mut tx, settings, workers, now).await?;
    if !lines.is_empty() {
        insert_lines(&mut tx, batch_id, &lines, now).await?;
    }
    if !notices.is_empty() {
        insert_notices(&mut tx, batch_id, &notices, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Lock the workers' rows, read their standing again and ask `payout_rules` who gets a line,
/// what it withholds and what the batch must tell her and finance (4×1000, PILA).
async fn lines_for(
    tx: &mut vereda_store::db::Tx,
    settings: &Settings,
    workers: &[String],
    now: i64,
) -> anyhow::Result<(Vec<Line>, Vec<NewNotice>)> {
    let ids: Vec<&str> = workers.iter().map(String::as_str).collect();
    locks::workers(tx, &ids).await?;
    let month = Month::of(vereda_contracts::time::from_unix(now));
    let on = vereda_contracts::time::from_unix(now)
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive();
    let last_month = month.prev();
    let legal = &settings.legal;
    let (uvt, rates, art383, gmf, smmlv_last_month) = (
        legal.uvt(on),
        legal.withholding(on),
        legal.art383(on),
        legal.gmf(on),
        legal.smmlv(last_month.first_day()),
    );
    let (Some(uvt), Some(rates), Some(art383), Some(gmf), Some(smmlv_last_month)) =
        (uvt, rates, art383, gmf, smmlv_last_month)
    else {
        anyhow::bail!(
            "the UVT, withholding rates, art. 383 table or 4×1000 limits for {on}, or the SMMLV \
             of {last_month}, are not configured"
        );
    };
    let tables = Tables {
        uvt,
        rates: &rates,
        art383: &art383,
    };
    let year_start = on
        .with_ordinal(1)
        .map_or(month.start(), vereda_contracts::timesheet::day_start);
    // Read again under the workers' locks: a change of payout method made since the
    // selection holds her too. With it, what the withholding rule needs: her latest fiscal
    // profile, the month's and the year's earlier lines that did not fail, and the health and
    // pension she declared for the month.
    let read = format!(
        "SELECT w.id AS worker_id, w.payout_method AS method, \
         w.payout_method_changed_at AS method_changed_at, \
         CAST(COALESCE((SELECT SUM(p.credit - p.debit) FROM ledger_postings p \
         WHERE p.account_kind = 'worker_payable' AND p.account_owner = w.id), 0) AS BIGINT) \
         AS balance, f.concept, f.declarante, f.statement_signed_on, \
         CAST(COALESCE((SELECT SUM(l.amount) FROM payout_lines l WHERE l.worker_id = w.id \
           AND l.status <> 'failed' AND l.created_at >= $1), 0) AS BIGINT) AS month_paid, \
         CAST(COALESCE((SELECT SUM(l.withholding) FROM payout_lines l WHERE l.worker_id = w.id \
           AND l.status <> 'failed' AND l.created_at >= $1), 0) AS BIGINT) AS month_withheld, \
         CAST(COALESCE((SELECT SUM(l.amount) FROM payout_lines l WHERE l.worker_id = w.id \
           AND l.status <> 'failed' AND l.created_at >= $2 AND l.created_at < $1), 0) AS BIGINT) \
         AS year_paid, \
         CAST(COALESCE((SELECT s.health + s.pension FROM social_security_payments s \
           WHERE s.worker_id = w.id AND s.month = $3), 0) AS BIGINT) AS contributions, \
         CAST(COALESCE((SELECT SUM(l.amount) FROM payout_lines l WHERE l.worker_id = w.id \
           AND l.status <> 'failed' AND l.created_at >= $4 AND l.created_at < $1), 0) AS BIGINT) \
         AS paid_last_month, \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM social_security_payments s \
           WHERE s.worker_id = w.id AND s.month = $5) THEN 1 ELSE 0 END AS BIGINT) \
         AS planilla_last_month \
         FROM worker_profiles w \
         LEFT JOIN fiscal_profiles f ON f.id = \
           (SELECT MAX(x.id) FROM fiscal_profiles x WHERE x.worker_id = w.id) \
         WHERE w.id IN ({}) ORDER BY w.id",
        in_list(workers.len(), 6)
    );
    let standing: Vec<Standing> = on_tx!(tx, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(read.as_str()))
            .bind(month.start())
            .bind(year_start)
            .bind(month.to_string())
            .bind(last_month.start())
            .bind(last_month.to_string());
        for w in workers {
            q = q.bind(w);
        }
        q.fetch_all(&mut *c).await
    })?;
    let terms = PayoutTerms {
        now,
        minimum: settings.min_payout,
    };
    let (mut lines, mut notices) = (Vec::with_capacity(standing.len()), Vec::new());
    for s in standing {
        let owed = Owed {
            balance: Cop::from_centavos(s.balance),
            method_changed_at: s.method_changed_at,
        };
        let profile = match &s.concept {
            // A stored profile that no longer parses is a defect to see, not a reason to
            // withhold less: her line fails and she is reported (her balance stays payable).
            Some(concept) => FiscalProfile::parse(
                concept,
                s.declarante.unwrap_or(false),
                s.statement_signed_on.is_some(),
                None,
            )
            .map_err(|e| anyhow::anyhow!("worker {}'s fiscal profile: {e}", s.worker_id))?,
            None => FiscalProfile::default(),
        };
        let so_far = MonthSoFar {
            payee: profile.payee(),
            paid: Cop::from_centavos(s.month_paid),
            withheld: Cop::from_centavos(s.month_withheld),
            contributions: Cop::from_centavos(s.contributions),
            paid_earlier_in_year: Cop::from_centavos(s.year_paid),
        };
        // Held or short: no line, her balance stays payable for a later batch.
        let Ok(payout) = payout_line(owed, &terms, &so_far, &tables) else {
            continue;
        };
        let kind: Option<String> = serde_json::from_str::<serde_json::Value>(&s.method)
            .ok()
            .and_then(|m| m["kind"].as_str().map(str::to_string));
        let checks = Checks {
            wallet: matches!(kind.as_deref(), Some("nequi" | "daviplata")),
            // Conservative when she changed method within the month: all of it counts.
            sent_this_month: so_far.paid - so_far.withheld,
            gmf,
            uvt,
            last_month,
            paid_last_month: Cop::from_centavos(s.paid_last_month),
            smmlv_last_month,
            planilla_last_month: s.planilla_last_month != 0,
            pila_blocks: settings.pila_blocks_payouts,
        };
        let said = payout_rules::notices(payout.figures.net, &checks);
        let held = said.iter().any(Notice::holds);
        notices.extend(said.into_iter().map(|notice| NewNotice {
            worker_id: s.worker_id.clone(),
            notice,
        }));
        if held {
            continue;
        }
        lines.push(Line {
            id: PayoutLineId::new(uuid::Uuid::now_v7().to_string()),
            worker_id: WorkerId::new(s.worker_id),
            figures: payout.figures,
            concept: profile.concept.as_str(),
            rule: payout.rule.as_str(),
            method: s.method,
            reference: new_reference(),
        });
    }
    Ok((lines, notices))
}

/// Keep what the batch said about each worker, once per batch, worker and kind (a re-run
/// adds nothing); the e-mail sweep tells her. Notices are few: one statement each.
async fn insert_notices(
    tx: &mut vereda_store::db::Tx,
    batch_id: &str,
    notices: &[NewNotice],
    now: i64,
) -> anyhow::Result<()> {
    for n in notices {
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO payout_notices (id, batch_id, worker_id, code, held, message, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING"
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(batch_id)
        .bind(&n.worker_id)
        .bind(n.notice.kind())
        .bind(n.notice.holds())
        .bind(n.notice.message_es())
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// A worker's standing as `lines_for` reads it.
#[derive(sqlx::FromRow)]
struct Standing {
    worker_id: String,
    method: String,
    method_changed_at: Option<i64>,
    balance: i64,
    concept: Option<String>,
    declarante: Option<bool>,
    statement_signed_on: Option<String>,
    month_paid: i64,
    month_withheld: i64,
    year_paid: i64,
    contributions: i64,
    paid_last_month: i64,
    planilla_last_month: i64,
}

/// Write the lines and their ledger entries. A worker already in this batch, or in another batch not yet settled, is skipped (the
/// unique constraints decide; DO NOTHING keeps the rest of the chunk).
async fn insert_lines(
    tx: &mut vereda_store::db::Tx,
    batch_id: &str,
    lines: &[Line],
    now: i64,
) -> anyhow::Result<()> {
    let insert = format!(
        "INSERT INTO payout_lines (id, batch_id, worker_id, amount, withholding, method, reference, \
         status, created_at, concept, withholding_rule) VALUES {} ON CONFLICT DO NOTHING RETURNING id",
        placeholders(lines.len(), 11, 1)
    );
    let inserted: Vec<String> = on_tx!(tx, |c| {
        let mut q = sqlx::query_scalar(AssertSqlSafe(insert.as_str()));
        for l in lines {
            q = q
                .bind(&l.id)
                .bind(batch_id)
                .bind(&l.worker_id)
                .bind(l.figures.amount.centavos())
                .bind(l.figures.withholding.centavos())
                .bind(&l.method)
                .bind(&l.reference)
                .bind(LineStatus::Pending.as_str())
                .bind(now)
                .bind(l.concept)
                .bind(l.rule);
        }
        q.fetch_all(&mut *c).await
    })?;
    let inserted: HashSet<String> = inserted.into_iter().collect();
    let entries = lines
        .iter()
        .filter(|l| inserted.contains(l.id.as_str()))
        .map(|l| {
            let f = &l.figures;
            ledger::payout(&l.id, &l.worker_id, f.amount, f.withholding)
        })
        .collect();
    // Only lines this statement inserted are posted, so each entry must be new.
    for posted in post_many(tx, entries, now).await? {
        posted.expect_new("a new payout line")?;
    }
    Ok(())
}

/// One row of a bank confirmation, as reported back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmationRow {
    pub line: usize,
    pub reference: String,
    /// `paid`, `failed`, or what the file said.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The answer to a confirmation file: each row matched (and applied), mismatched (not
/// applied), unknown, or already settled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmationReport {
    pub batch_id: String,
    pub matched: Vec<ConfirmationRow>,
    pub mismatched: Vec<ConfirmationRow>,
    pub unknown: Vec<ConfirmationRow>,
    pub already_settled: Vec<ConfirmationRow>,
    pub invalid: Vec<ConfirmationRow>,
}

/// Apply confirmation `confirmation_id` (stored by the API): paid lines post Dr in transit /
/// Cr bank; failed lines return the money to the worker's payable. A row whose amount differs,
/// whose reference is unknown, or whose line is already settled changes nothing
/// (`bank_matching` decides). The report is stored with the confirmation, so a second delivery
/// answers the same.
pub async fn apply_confirmation(
    db: &Db,
    confirmation_id: &str,
    now: i64,
) -> anyhow::Result<ConfirmationReport> {
    let row: Option<(String, String, Option<String>)> = on_db!(db, |p| sqlx::query_as(
        "SELECT batch_id, body, result FROM bank_confirmations WHERE id = $1"
    )
    .bind(confirmation_id)
    .fetch_optional(p)
    .await)?;
    let Some((batch_id, body, result)) = row else {
        anyhow::bail!("no bank confirmation {confirmation_id}");
    };
    if let Some(done) = result {
        return Ok(serde_json::from_str(&done)?);
    }
    // The same reader as every CSV people handle (quoted fields, CRLF); a file that cannot be
    // read at all is reported as one invalid row instead of failing the job.
    let file = bank_matching::parse_confirmation(&body);
    if let Some(why) = file.nothing_readable() {
        // The API refuses such a file at upload; one stored before that still fails its job
        // (every attempt alike, nothing written) with the reason finance reads.
        anyhow::bail!("{why}");
    }
    let stored = batch_lines(db, &batch_id).await?;
    let lines: Vec<BatchLine> = stored.iter().map(|l| l.line.clone()).collect();
    let verdicts = bank_matching::match_rows(&file.rows, &lines);
    let mut report = ConfirmationReport {
        batch_id: batch_id.clone(),
        invalid: file.invalid.iter().map(invalid_row).collect(),
        ..Default::default()
    };
    for (row, verdict) in file.rows.iter().zip(verdicts) {
        let answer = |detail| reported(row, detail);
        match verdict {
            Verdict::Settle { line } => {
                if settle(db, &stored[line], row.outcome, now).await? {
                    report.matched.push(answer(None));
                } else {
                    let meanwhile = Some("settled meanwhile".to_string());
                    report.already_settled.push(answer(meanwhile));
                }
            }
            Verdict::Unknown => report.unknown.push(answer(None)),
            Verdict::AlreadySettled { .. } => report.already_settled.push(answer(verdict.detail())),
            Verdict::Mismatch { .. } => report.mismatched.push(answer(verdict.detail())),
        }
    }
    finish_confirmation(db, &batch_id, confirmation_id, &report).await?;
    Ok(report)
}

fn reported(row: &BankRow, detail: Option<String>) -> ConfirmationRow {
    ConfirmationRow {
        line: row.line,
        reference: row.reference.clone(),
        status: row.outcome.as_str().to_string(),
        detail,
    }
}

fn invalid_row(row: &InvalidRow) -> ConfirmationRow {
    ConfirmationRow {
        line: row.line,
        reference: row.reference.clone(),
        status: row.status.clone(),
        detail: Some(row.refusal.to_string()),
    }
}

/// A payout line of the batch: its ids for the writes, and what the matcher needs.
struct StoredLine {
    id: PayoutLineId,
    worker_id: WorkerId,
    line: BatchLine,
}

async fn batch_lines(db: &Db, batch_id: &str) -> anyhow::Result<Vec<StoredLine>> {
    type Row = (PayoutLineId, WorkerId, String, i64, i64, String);
    let rows: Vec<Row> = on_db!(db, |p| sqlx::query_as(
        "SELECT id, worker_id, reference, amount, withholding, status FROM payout_lines \
         WHERE batch_id = $1 ORDER BY id"
    )
    .bind(batch_id)
    .fetch_all(p)
    .await)?;
    rows.into_iter()
        .map(|(id, worker_id, reference, amount, withholding, status)| {
            let Some(status) = LineStatus::parse(&status) else {
                anyhow::bail!("payout line {id} has an unknown status {status}");
            };
            Ok(StoredLine {
                id,
                worker_id,
                line: BatchLine {
                    reference,
                    amount: Cop::from_centavos(amount),
                    withholding: Cop::from_centavos(withholding),
                    status,
                },
            })
        })
        .collect()
}

/// Settle one line as the bank said, with its ledger entry, in one transaction. False when
/// it was settled meanwhile (nothing is written then).
async fn settle(db: &Db, stored: &StoredLine, outcome: Outcome, now: i64) -> anyhow::Result<bool> {
    let mut tx = db.begin().await?;
    let changed = on_tx!(&mut tx, |c| {
        sqlx::query(
            "UPDATE payout_lines SET status = $1, settled_at = $2 WHERE id = $3 AND status = $4",
        )
        .bind(LineStatus::from(outcome).as_str())
        .bind(now)
        .bind(&stored.id)
        .bind(LineStatus::Pending.as_str())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    if changed == 0 {
        return Ok(false);
    }
    let l = &stored.line;
    let entry = match outcome {
        Outcome::Paid => ledger::payout_settled(&stored.id, l.net()),
        Outcome::Failed => {
            ledger::payout_failed(&stored.id, &stored.worker_id, l.amount, l.withholding)
        }
    };
    post(&mut tx, entry, now)
        .await?
        .expect_new(&format!("payout line {}", stored.id))?;
    tx.commit().await?;
    Ok(true)
}

/// The batch is settled once no line is pending; the report is kept with the confirmation.
async fn finish_confirmation(
    db: &Db,
    batch_id: &str,
    confirmation_id: &str,
    report: &ConfirmationReport,
) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, |c| sqlx::query(
        "UPDATE payout_batches SET status = $2 WHERE id = $1 AND status = $3 \
         AND NOT EXISTS (SELECT 1 FROM payout_lines WHERE batch_id = $1 AND status = $4)"
    )
    .bind(batch_id)
    .bind(PayoutBatchStatus::Settled.as_str())
    .bind(PayoutBatchStatus::Ready.as_str())
    .bind(LineStatus::Pending.as_str())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    on_tx!(&mut tx, |c| sqlx::query(
        "UPDATE bank_confirmations SET result = $1 WHERE id = $2 AND result IS NULL"
    )
    .bind(serde_json::to_string(report)?)
    .bind(confirmation_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(())
}

/// Bring a recorded company payment into the ledger, once each: the payment itself
/// (Dr bank / Cr receivable) and, when finance reversed it, the reversing entry
/// (Dr receivable / Cr bank); the invoice's paid amount and status follow. The same job serves
/// both, so a reversal requested before its payment was posted still comes after it. Entries
/// describe the bank reference. Returns whether anything was posted now.
pub async fn post_payment(db: &Db, payment_id: &str, now: i64) -> anyhow::Result<bool> {
    let mut tx = db.begin().await?;
    let row: Option<PaymentRow> = on_tx!(&mut tx, |c| {
        sqlx::query_as(
            "SELECT p.invoice_id, i.number, i.company_id, p.amount, p.reference, \
             r.reason AS reversal_reason FROM payments p JOIN invoices i ON i.id = p.invoice_id \
             LEFT JOIN payment_reversals r ON r.payment_id = p.id WHERE p.id = $1",
        )
        .bind(payment_id)
        .fetch_optional(&mut *c)
        .await
    })?;
    let Some(p) = row else {
        anyhow::bail!("no payment {payment_id}");
    };
    // The invoice's row first, as the API does, so its paid amount moves one posting at a time.
    locks::invoice(&mut tx, &p.invoice_id).await?;
    let amount = Cop::from_centavos(p.amount);
    let mut entry = ledger::company_payment(&PaymentId::new(payment_id), &p.company_id, amount);
    entry.description = format!("Pago recibido ref. {} · factura {}", p.reference, p.number);
    let posted = post(&mut tx, entry, now).await?.is_new();
    if posted {
        settle_invoice(&mut tx, &p.invoice_id, p.amount).await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE payments SET posted_at = $1 WHERE id = $2 AND posted_at IS NULL"
        )
        .bind(now)
        .bind(payment_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    let reversed = match &p.reversal_reason {
        Some(reason) => post_reversal(&mut tx, payment_id, &p, reason, now).await?,
        None => false,
    };
    tx.commit().await?;
    Ok(posted || reversed)
}

/// A recorded payment, with its invoice and any reversal.
#[derive(sqlx::FromRow)]
struct PaymentRow {
    invoice_id: String,
    number: String,
    company_id: CompanyId,
    amount: i64,
    reference: String,
    reversal_reason: Option<String>,
}

/// The reversing entry of a payment finance reversed (Dr receivable / Cr bank), once; the
/// invoice's paid amount follows. Returns whether it was posted now.
async fn post_reversal(
    tx: &mut vereda_store::db::Tx,
    payment_id: &str,
    p: &PaymentRow,
    reason: &str,
    now: i64,
) -> anyhow::Result<bool> {
    let amount = Cop::from_centavos(p.amount);
    let entry = ledger::Entry::new(
        format!("payment-reversal:{payment_id}"),
        "payment_reversal",
        format!(
            "Reversión del pago ref. {} · factura {} · {reason}",
            p.reference, p.number
        ),
    )
    .debit(ledger::account::company_receivable(&p.company_id), amount)
    .credit(ledger::account::BANK, amount);
    if !post(tx, entry, now).await?.is_new() {
        return Ok(false);
    }
    settle_invoice(tx, &p.invoice_id, -p.amount).await?;
    on_tx!(tx, |c| sqlx::query(
        "UPDATE payment_reversals SET posted_at = $1 WHERE payment_id = $2 AND posted_at IS NULL"
    )
    .bind(now)
    .bind(payment_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(true)
}

/// Add `delta` centavos to an invoice's paid amount (negative for a reversal) and set its
/// status from what it still owes, in the row's own update: paid once payments and credits
/// cover the total, partially paid while something was paid, issued otherwise.
async fn settle_invoice(
    tx: &mut vereda_store::db::Tx,
    invoice_id: &str,
    delta: i64,
) -> anyhow::Result<()> {
    let sql = "UPDATE invoices SET paid = paid + $1, \
               status = CASE WHEN paid + $1 >= total - credited THEN $3 \
                             WHEN paid + $1 > 0 THEN $4 ELSE $5 END \
               WHERE id = $2";
    on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql))
        .bind(delta)
        .bind(invoice_id)
        .bind(InvoiceStatus::Paid.as_str())
        .bind(InvoiceStatus::PartiallyPaid.as_str())
        .bind(InvoiceStatus::Issued.as_str())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
