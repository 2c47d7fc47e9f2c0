//! Paying workers: payout batches (one line per worker owed at least the minimum), the bank
//! file's confirmations, and company payments posted to the ledger.

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::AssertSqlSafe;
use vereda_contracts::accounts::payout_hold_cutoff;
use vereda_contracts::csvfile;
use vereda_contracts::ledger;
use vereda_contracts::money::Cop;
use vereda_store::config::Settings;
use vereda_store::db::Db;
use vereda_store::{on_db, on_tx};

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
    let mut problems = Vec::new();
    if status == "building" {
        // Driven by the workers, each balance an index lookup on `ledger_postings_by_account`:
        // no `LIKE` scan of the whole journal (which PostgreSQL cannot index under a non-C
        // collation).
        // A worker whose payout method changed within the last day is held: her balance stays
        // payable for a later batch (issue 13 §8, `contracts::accounts::payout_held`).
        let owed: Vec<String> = on_db!(db, |p| sqlx::query_scalar(
            "SELECT w.id FROM worker_profiles w \
             WHERE (SELECT COALESCE(SUM(p.credit - p.debit), 0) FROM ledger_postings p \
                    WHERE p.account = 'worker:' || w.id || ':payable') >= $1 \
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
                            add_lines(db, settings, batch_id, std::slice::from_ref(&worker), now)
                                .await
                        })
                        .await?;
                    problems.append(&mut left_out);
                }
            }
        }
        on_db!(db, |p| {
            sqlx::query(
            "UPDATE payout_batches SET status = 'ready', built_at = $1, \
             total = (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM payout_lines WHERE batch_id = $2) \
             WHERE id = $2 AND status = 'building'"
        )
        .bind(now)
        .bind(batch_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
    }
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

/// Workers' lines per transaction: a few multi-row statements per chunk instead of a
/// transaction per worker.
const PAYOUT_CHUNK: usize = 500;

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
    let lock = format!(
        "UPDATE worker_profiles SET updated_at = updated_at WHERE id IN ({})",
        in_list(workers.len(), 1)
    );
    on_tx!(&mut tx, |c| {
        let mut q = sqlx::query(AssertSqlSafe(lock.as_str()));
        for w in workers {
            q = q.bind(w);
        }
        q.execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    let read = format!(
        "SELECT w.id, w.payout_method, CAST(COALESCE((SELECT SUM(p.credit - p.debit) \
         FROM ledger_postings p WHERE p.account = 'worker:' || w.id || ':payable'), 0) AS BIGINT) \
         FROM worker_profiles w WHERE w.id IN ({}) \
         AND (w.payout_method_changed_at IS NULL OR w.payout_method_changed_at <= ${}) \
         ORDER BY w.id",
        in_list(workers.len(), 1),
        workers.len() + 1
    );
    let balances: Vec<(String, String, i64)> = on_tx!(&mut tx, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(read.as_str()));
        for w in workers {
            q = q.bind(w);
        }
        // Read again under the workers' locks: a change made since the selection holds too.
        q.bind(payout_hold_cutoff(now)).fetch_all(&mut *c).await
    })?;
    struct Line {
        id: String,
        worker_id: String,
        amount: Cop,
        withholding: Cop,
        method: String,
        reference: String,
    }
    let lines: Vec<Line> = balances
        .into_iter()
        .map(|(worker_id, method, balance)| (worker_id, method, Cop::from_centavos(balance)))
        .filter_map(|(worker_id, method, balance)| {
            let amount = balance.round_pesos();
            (amount >= settings.min_payout).then(|| Line {
                id: uuid::Uuid::now_v7().to_string(),
                worker_id,
                amount,
                withholding: withholding_of(amount, settings.withholding_rate),
                method,
                // The reference travels through the bank and back in its confirmation file.
                reference: format!(
                    "VRD{}",
                    &uuid::Uuid::new_v4().simple().to_string()[..12].to_uppercase()
                ),
            })
        })
        .collect();
    if lines.is_empty() {
        tx.commit().await?;
        return Ok(());
    }
    // A worker already in this batch, or in another batch not yet settled, is skipped (the
    // unique constraints decide; DO NOTHING keeps the rest of the chunk).
    let insert = format!(
        "INSERT INTO payout_lines (id, batch_id, worker_id, amount, withholding, method, reference, \
         status, created_at) VALUES {} ON CONFLICT DO NOTHING RETURNING id",
        placeholders(lines.len(), 9, 1)
    );
    let inserted: Vec<String> = on_tx!(&mut tx, |c| {
        let mut q = sqlx::query_scalar(AssertSqlSafe(insert.as_str()));
        for l in &lines {
            q = q
                .bind(&l.id)
                .bind(batch_id)
                .bind(&l.worker_id)
                .bind(l.amount.centavos())
                .bind(l.withholding.centavos())
                .bind(&l.method)
                .bind(&l.reference)
                .bind("pending")
                .bind(now);
        }
        q.fetch_all(&mut *c).await
    })?;
    let inserted: HashSet<String> = inserted.into_iter().collect();
    let entries = lines
        .iter()
        .filter(|l| inserted.contains(&l.id))
        .map(|l| ledger::payout(&l.id, &l.worker_id, l.amount, l.withholding))
        .collect();
    // Only lines this statement inserted are posted, so each entry must be new.
    for posted in post_many(&mut tx, entries, now).await? {
        posted.expect_new("a new payout line")?;
    }
    tx.commit().await?;
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

#[derive(sqlx::FromRow)]
struct LineRow {
    id: String,
    worker_id: String,
    amount: i64,
    withholding: i64,
    status: String,
}

/// Apply confirmation `confirmation_id` (stored by the API): paid lines post Dr in transit /
/// Cr bank; failed lines return the money to the worker's payable. A row whose amount differs,
/// whose reference is unknown, or whose line is already settled changes nothing. The report
/// is stored with the confirmation, so a second delivery answers the same.
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
    let mut report = ConfirmationReport {
        batch_id: batch_id.clone(),
        ..Default::default()
    };
    // The same reader as every CSV people handle (quoted fields, CRLF); a file that cannot be
    // read at all is reported as one invalid row instead of failing the job.
    let records = match csvfile::read(&body) {
        Ok(r) => r,
        Err(e) => {
            report.invalid.push(ConfirmationRow {
                line: e.line,
                reference: String::new(),
                status: String::new(),
                detail: Some(e.to_string()),
            });
            Vec::new()
        }
    };
    for (i, record) in records.iter().enumerate() {
        let cells: Vec<&str> = record.cells.iter().map(String::as_str).collect();
        if cells.iter().all(|c| c.trim().is_empty())
            || (i == 0 && cells[0].trim().eq_ignore_ascii_case("reference"))
        {
            continue;
        }
        let reference = cells[0].trim();
        let row = |status: &str, detail: Option<String>| ConfirmationRow {
            line: record.line,
            reference: reference.to_string(),
            status: status.to_string(),
            detail,
        };
        if cells.len() < 3 {
            report.invalid.push(row(
                "",
                Some("se esperan las columnas reference,amount,status[,date]".into()),
            ));
            continue;
        }
        let status = cells[2].trim().to_lowercase();
        if !matches!(status.as_str(), "paid" | "failed") {
            report
                .invalid
                .push(row(&status, Some("status: debe ser paid o failed".into())));
            continue;
        }
        // The amount obeys the API's whole-peso rule (digits only): `48.485` is not read as 48.
        let amount = match Cop::parse_whole_pesos(cells[1]) {
            Ok(a) => a,
            Err(e) => {
                report
                    .invalid
                    .push(row(&status, Some(format!("amount: {e}"))));
                continue;
            }
        };
        let line: Option<LineRow> = on_db!(db, |p| {
            sqlx::query_as(
            "SELECT id, worker_id, amount, withholding, status FROM payout_lines WHERE reference = $1 AND batch_id = $2"
        )
        .bind(reference)
        .bind(&batch_id)
        .fetch_optional(p)
        .await
        })?;
        let Some(line) = line else {
            report.unknown.push(row(&status, None));
            continue;
        };
        let gross = Cop::from_centavos(line.amount);
        let withholding = Cop::from_centavos(line.withholding);
        let net = gross - withholding;
        if line.status != "pending" {
            report.already_settled.push(row(
                &status,
                Some(format!("line is already {}", line.status)),
            ));
            continue;
        }
        if amount != net {
            report.mismatched.push(row(
                &status,
                Some(format!("expected {net}, file says {amount}")),
            ));
            continue;
        }
        let mut tx = db.begin().await?;
        let changed = on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE payout_lines SET status = $1, settled_at = $2 WHERE id = $3 AND status = 'pending'"
        )
        .bind(&status)
        .bind(now)
        .bind(&line.id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            report
                .already_settled
                .push(row(&status, Some("settled meanwhile".into())));
            continue;
        }
        let entry = if status == "paid" {
            ledger::payout_settled(&line.id, net)
        } else {
            ledger::payout_failed(&line.id, &line.worker_id, gross, withholding)
        };
        post(&mut tx, entry, now)
            .await?
            .expect_new(&format!("payout line {}", line.id))?;
        tx.commit().await?;
        report.matched.push(row(&status, None));
    }
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, |c| sqlx::query(
        "UPDATE payout_batches SET status = 'settled' WHERE id = $1 AND status = 'ready' \
         AND NOT EXISTS (SELECT 1 FROM payout_lines WHERE batch_id = $1 AND status = 'pending')"
    )
    .bind(&batch_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    on_tx!(&mut tx, |c| sqlx::query(
        "UPDATE bank_confirmations SET result = $1 WHERE id = $2 AND result IS NULL"
    )
    .bind(serde_json::to_string(&report)?)
    .bind(confirmation_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(report)
}

/// Bring a recorded company payment into the ledger, once each: the payment itself
/// (Dr bank / Cr receivable) and, when finance reversed it, the reversing entry
/// (Dr receivable / Cr bank); the invoice's paid amount and status follow. The same job serves
/// both, so a reversal requested before its payment was posted still comes after it. Entries
/// describe the bank reference. Returns whether anything was posted now.
pub async fn post_payment(db: &Db, payment_id: &str, now: i64) -> anyhow::Result<bool> {
    let mut tx = db.begin().await?;
    #[derive(sqlx::FromRow)]
    struct Row {
        invoice_id: String,
        number: String,
        company_id: String,
        amount: i64,
        reference: String,
        reversal_reason: Option<String>,
    }
    let row: Option<Row> = on_tx!(&mut tx, |c| {
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
    on_tx!(&mut tx, |c| sqlx::query(
        "UPDATE invoices SET status = status WHERE id = $1"
    )
    .bind(&p.invoice_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    let amount = Cop::from_centavos(p.amount);
    let mut entry = ledger::company_payment(payment_id, &p.company_id, amount);
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
    let mut reversed = false;
    if let Some(reason) = &p.reversal_reason {
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
        reversed = post(&mut tx, entry, now).await?.is_new();
        if reversed {
            settle_invoice(&mut tx, &p.invoice_id, -p.amount).await?;
            on_tx!(&mut tx, |c| sqlx::query(
                "UPDATE payment_reversals SET posted_at = $1 WHERE payment_id = $2 \
                 AND posted_at IS NULL"
            )
            .bind(now)
            .bind(payment_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        }
    }
    tx.commit().await?;
    Ok(posted || reversed)
}

/// Add `delta` centavos to an invoice's paid amount (negative for a reversal) and set its
/// status from what it still owes.
async fn settle_invoice(
    tx: &mut vereda_store::db::Tx,
    invoice_id: &str,
    delta: i64,
) -> anyhow::Result<()> {
    let sql = "UPDATE invoices SET paid = paid + $1, \
               status = CASE WHEN paid + $1 >= total - credited THEN 'paid' \
                             WHEN paid + $1 > 0 THEN 'partially_paid' ELSE 'issued' END \
               WHERE id = $2";
    on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql))
        .bind(delta)
        .bind(invoice_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Withholding share check for settings readers.
pub fn withholding_of(amount: Cop, rate: Decimal) -> Cop {
    Cop::new(amount.amount() * rate).round_pesos()
}
