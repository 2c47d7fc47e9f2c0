//! Accrual and invoicing: approved work becomes ledger entries, then one invoice per company
//! and period, numbered without gaps.

use std::collections::HashSet;

use chrono::{Duration as Days, NaiveDate, TimeZone};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::AssertSqlSafe;
use vereda_contracts::ids::{AssignmentId, CompanyId, CreditNoteId, InvoiceId, WorkerId};
use vereda_contracts::ledger;
use vereda_contracts::marketplace::PricingKind;
use vereda_contracts::money::{Cop, Margin, platform_fee, vat};
use vereda_contracts::money_states::{CreditNoteStatus, InvoiceStatus};
use vereda_contracts::numbering::Series;
use vereda_contracts::time::BOGOTA;
use vereda_store::config::Settings;
use vereda_store::counters;
use vereda_store::db::{Db, Tx};
use vereda_store::unique_keys::{UniqueKey, unique_key};
use vereda_store::{on_db, on_tx};

use crate::problems::{RunProblem, is_systemic, one_by_one};
use vereda_store::journal::{in_list, placeholders, post, post_many};

/// Days a company has to pay an invoice.
pub const PAYMENT_TERM_DAYS: i64 = 30;

#[derive(sqlx::FromRow)]
struct ApprovedRow {
    id: AssignmentId,
    status: String,
    worker_id: WorkerId,
    company_id: CompanyId,
    approved_seconds: Option<i64>,
    approved_at: Option<i64>,
    title: String,
    pricing_kind: String,
    rate_centavos: Option<i64>,
    price_centavos: Option<i64>,
    margin_bp: Option<i64>,
}

const APPROVED_SELECT: &str = "SELECT a.id, a.status, a.worker_id, a.company_id, \
     a.approved_seconds, a.approved_at, t.title, t.pricing_kind, t.rate_centavos, \
     t.price_centavos, c.margin_bp \
     FROM assignments a JOIN tasks t ON t.id = a.task_id JOIN companies c ON c.id = a.company_id";

/// Assignments accrued per transaction by `accrue_pending`: a few statements per batch
/// instead of a transaction per assignment, short enough not to hold SQLite's writer long.
const ACCRUAL_BATCH: usize = 500;

/// What accruing one assignment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccrueOutcome {
    Accrued,
    AlreadyAccrued,
    NotApproved,
}

/// The company's margin, or the platform's.
fn margin(row_bp: Option<i64>, settings: &Settings) -> anyhow::Result<Margin> {
    match row_bp {
        None => Ok(settings.margin),
        Some(bp) => {
            Margin::from_bp(bp).ok_or_else(|| anyhow::anyhow!("margin {bp} bp out of range"))
        }
    }
}

/// Post an approved assignment's earnings and fee (DESIGN §4): once, however often asked.
pub async fn accrue(
    db: &Db,
    settings: &Settings,
    assignment_id: &str,
    now: i64,
) -> anyhow::Result<AccrueOutcome> {
    let mut tx = db.begin().await?;
    let outcome = accrue_in(&mut tx, settings, assignment_id, now).await?;
    tx.commit().await?;
    Ok(outcome)
}

async fn accrue_in(
    tx: &mut Tx,
    settings: &Settings,
    assignment_id: &str,
    now: i64,
) -> anyhow::Result<AccrueOutcome> {
    let sql = format!("{APPROVED_SELECT} WHERE a.id = $1");
    let row: Option<ApprovedRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(assignment_id)
        .fetch_optional(&mut *c)
        .await)?;
    let Some(row) = row.filter(|r| r.status == "approved") else {
        return Ok(AccrueOutcome::NotApproved);
    };
    Ok(match accrue_rows(tx, settings, &[row], now).await? {
        0 => AccrueOutcome::AlreadyAccrued,
        _ => AccrueOutcome::Accrued,
    })
}

/// Accrue approved `rows` in `tx` with multi-row statements: the accruals that do not exist
/// yet (the primary key on `assignment_id` and `part` decides, so a duplicate or concurrent
/// delivery adds nothing), their ledger entries, and the assignments' `accrued_at` mark that
/// takes them out of the pending index. An assignment already accrued for fewer seconds than
/// it is now approved for (a cut the platform overturned) gets part 1: the difference. Returns
/// how many were accrued now.
async fn accrue_rows(
    tx: &mut Tx,
    settings: &Settings,
    rows: &[ApprovedRow],
    now: i64,
) -> anyhow::Result<u64> {
    struct Figures<'a> {
        row: &'a ApprovedRow,
        seconds: i64,
        rate: Option<Cop>,
        work: Cop,
        fee: Cop,
        bp: i64,
    }
    let figures: Vec<Figures> = rows
        .iter()
        .map(|row| -> anyhow::Result<Figures> {
            let seconds = row.approved_seconds.unwrap_or(0);
            let kind = PricingKind::parse(&row.pricing_kind);
            let rate_per_hour = Cop::from_centavos(row.rate_centavos.unwrap_or(0));
            let work = kind.work_earned(
                rate_per_hour,
                Cop::from_centavos(row.price_centavos.unwrap_or(0)),
                seconds,
            );
            let rate = (kind == PricingKind::Hourly).then_some(rate_per_hour);
            let margin = margin(row.margin_bp, settings)?;
            Ok(Figures {
                row,
                seconds,
                rate,
                work,
                fee: platform_fee(work, margin),
                bp: margin.bp(),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let sql = format!(
        "INSERT INTO accruals (assignment_id, company_id, worker_id, task_title, pricing_kind, \
         seconds, rate, work, fee, margin_bp, approved_at, accrued_at) VALUES {} \
         ON CONFLICT (assignment_id, part) DO NOTHING RETURNING assignment_id",
        placeholders(figures.len(), 12, 1)
    );
    let inserted: Vec<String> = on_tx!(tx, |c| {
        let mut q = sqlx::query_scalar(AssertSqlSafe(sql.as_str()));
        for f in &figures {
            q = q
                .bind(&f.row.id)
                .bind(&f.row.company_id)
                .bind(&f.row.worker_id)
                .bind(&f.row.title)
                .bind(&f.row.pricing_kind)
                .bind(f.seconds)
                .bind(f.rate.map(Cop::centavos))
                .bind(f.work.centavos())
                .bind(f.fee.centavos())
                .bind(f.bp)
                .bind(f.row.approved_at.unwrap_or(now))
                .bind(now);
        }
        q.fetch_all(&mut *c).await
    })?;
    let inserted: HashSet<String> = inserted.into_iter().collect();
    // Work approved for nothing (0 s, or a margin of 0 on nothing) has an accrual row — it is
    // done, and invoiced as a line of 0 — but no journal entry: there is nothing to post.
    let entries: Vec<_> = figures
        .iter()
        .filter(|f| inserted.contains(f.row.id.as_str()))
        .map(|f| {
            ledger::accrual(
                &f.row.id,
                &f.row.company_id,
                &f.row.worker_id,
                f.work,
                f.fee,
            )
        })
        .filter(|e| !e.is_empty())
        .collect();
    let posted = post_many(tx, entries, now).await?;
    if posted.iter().any(|p| !p.is_new()) {
        anyhow::bail!("an accrual had no row but already had a ledger entry");
    }
    let mut supplements = 0;
    for f in figures
        .iter()
        .filter(|f| !inserted.contains(f.row.id.as_str()))
    {
        supplements += supplement(tx, f.row, f.seconds, f.work, f.fee, f.rate, f.bp, now).await?;
    }
    let sql = format!(
        "UPDATE assignments SET accrued_at = $1 WHERE accrued_at IS NULL AND id IN ({})",
        in_list(rows.len(), 2)
    );
    on_tx!(tx, |c| {
        let mut q = sqlx::query(AssertSqlSafe(sql.as_str())).bind(now);
        for r in rows {
            q = q.bind(&r.id);
        }
        q.execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    Ok(inserted.len() as u64 + supplements)
}

/// Part 1 of an assignment already accrued (part 0) for fewer seconds than it is now
/// approved for: the work and fee still owed, so both parts add up to what approving the
/// seconds at once would have accrued. Nothing when nothing is owed or part 1 exists.
#[allow(clippy::too_many_arguments)]
async fn supplement(
    tx: &mut Tx,
    row: &ApprovedRow,
    seconds: i64,
    work: Cop,
    fee: Cop,
    rate: Option<Cop>,
    bp: i64,
    now: i64,
) -> anyhow::Result<u64> {
    let (had_seconds, had_work, had_fee): (i64, i64, i64) = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(seconds), 0) AS BIGINT), CAST(COALESCE(SUM(work), 0) AS BIGINT), \
         CAST(COALESCE(SUM(fee), 0) AS BIGINT) FROM accruals WHERE assignment_id = $1"
    )
    .bind(&row.id)
    .fetch_one(&mut *c)
    .await
    })?;
    if seconds <= had_seconds {
        return Ok(0);
    }
    let (more_work, more_fee) = (
        work - Cop::from_centavos(had_work),
        fee - Cop::from_centavos(had_fee),
    );
    let inserted = on_tx!(tx, |c| sqlx::query(
        "INSERT INTO accruals (assignment_id, part, company_id, worker_id, task_title, \
         pricing_kind, seconds, rate, work, fee, margin_bp, approved_at, accrued_at) \
         VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
         ON CONFLICT (assignment_id, part) DO NOTHING"
    )
    .bind(&row.id)
    .bind(&row.company_id)
    .bind(&row.worker_id)
    // What the line is comes first: the invoice's PDF cuts long titles short.
    .bind(format!("Horas restituidas por apelación: {}", row.title))
    .bind(&row.pricing_kind)
    .bind(seconds - had_seconds)
    .bind(rate.map(Cop::centavos))
    .bind(more_work.centavos())
    .bind(more_fee.centavos())
    .bind(bp)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    if inserted == 0 {
        return Ok(0);
    }
    let entry = ledger::accrual_part(
        &row.id,
        1,
        &row.company_id,
        &row.worker_id,
        more_work,
        more_fee,
    );
    if !entry.is_empty() && !post(tx, entry, now).await?.is_new() {
        anyhow::bail!("a restored accrual had no row but already had a ledger entry");
    }
    Ok(1)
}

/// What accruing the backlog did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accrued {
    pub accrued: u64,
    /// Assignments that could not be accrued; the rest were.
    pub problems: Vec<RunProblem>,
}

const ACCRUAL_ACTION: &str = "Este trabajo aprobado no se pudo registrar y no se facturará ni \
     pagará hasta corregirlo. Revise la tarea y la empresa de la asignación (tarifa, precio, \
     margen) y vuelva a ejecutar la facturación: lo demás ya quedó registrado.";

/// Accrue every approved assignment approved before `before` that has no accrual yet (the
/// sweep that makes a lost accrual job only a delay), in batches of [`ACCRUAL_BATCH`], one
/// transaction each. A batch that fails for a reason of its own is done again one assignment
/// at a time, so one bad assignment is reported and the others are accrued.
pub async fn accrue_pending(
    db: &Db,
    settings: &Settings,
    before: i64,
    now: i64,
) -> anyhow::Result<Accrued> {
    use futures::{StreamExt, TryStreamExt};
    // The ids to accrue walk the partial index `assignments_to_accrue` (approved, `accrued_at`
    // NULL) a window at a time; each batch then reads its rows and accrues them in its own
    // transaction. On PostgreSQL two batches run at once, so the database works on both cores
    // while this process builds the next statement; SQLite has one writer, so one at a time.
    let ids_sql = "SELECT a.id FROM assignments a WHERE a.status = 'approved' \
         AND a.accrued_at IS NULL AND a.approved_at < $1 AND a.id > $2 ORDER BY a.id LIMIT $3";
    let in_flight = match db.dialect() {
        vereda_store::db::Dialect::Postgres => 2,
        vereda_store::db::Dialect::Sqlite => 1,
    };
    let mut after = String::new();
    let mut out = Accrued::default();
    loop {
        let ids: Vec<String> = on_db!(db, |p| sqlx::query_scalar(ids_sql)
            .bind(before)
            .bind(&after)
            .bind((ACCRUAL_BATCH * ACCRUAL_WINDOW) as i64)
            .fetch_all(p)
            .await)?;
        let Some(last) = ids.last() else {
            break;
        };
        after = last.clone();
        let batches: Vec<Vec<String>> = ids.chunks(ACCRUAL_BATCH).map(<[_]>::to_vec).collect();
        let done: Vec<Accrued> = futures::stream::iter(batches)
            .map(|batch| async move {
                match accrue_batch(db, settings, &batch, before, now).await {
                    Ok(accrued) => Ok(Accrued {
                        accrued,
                        problems: Vec::new(),
                    }),
                    Err(e) if is_systemic(&e) => Err(e),
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "accrual batch failed; accruing it one by one");
                        let (done, problems) =
                            one_by_one(&batch, "assignment", ACCRUAL_ACTION, |id| async move {
                                accrue_batch(db, settings, &[id], before, now).await
                            })
                            .await?;
                        Ok(Accrued {
                            accrued: done.iter().sum(),
                            problems,
                        })
                    }
                }
            })
            .buffer_unordered(in_flight)
            .try_collect()
            .await?;
        for d in done {
            out.accrued += d.accrued;
            out.problems.extend(d.problems);
        }
        if ids.len() < ACCRUAL_BATCH * ACCRUAL_WINDOW {
            break;
        }
    }
    Ok(out)
}

/// Batches whose ids are read at once by `accrue_pending`.
const ACCRUAL_WINDOW: usize = 40;

/// Accrue the assignments `ids` that are still approved and not accrued, in one transaction.
async fn accrue_batch(
    db: &Db,
    settings: &Settings,
    ids: &[String],
    before: i64,
    now: i64,
) -> anyhow::Result<u64> {
    let sql = format!(
        "{APPROVED_SELECT} WHERE a.id IN ({}) AND a.status = 'approved' \
         AND a.accrued_at IS NULL AND a.approved_at < $1",
        in_list(ids.len(), 2)
    );
    let mut tx = db.begin().await?;
    let rows: Vec<ApprovedRow> = on_tx!(&mut tx, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(before);
        for id in ids {
            q = q.bind(id);
        }
        q.fetch_all(&mut *c).await
    })?;
    if rows.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }
    let n = accrue_rows(&mut tx, settings, &rows, now).await?;
    tx.commit().await?;
    Ok(n)
}

/// The first instant after the Bogotá calendar day `day` (Unix seconds).
pub fn end_of_day(day: NaiveDate) -> i64 {
    let next = day + Days::days(1);
    BOGOTA
        .from_local_datetime(&next.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .map(|t| t.timestamp())
        .unwrap_or(i64::MAX)
}

/// What a billing run did; the job's result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingReport {
    pub period_end: String,
    pub accrued: u64,
    /// Invoices this run issued (numbers).
    pub issued: Vec<String>,
    /// Companies whose invoice for the period already existed, or whose approved work came to
    /// nothing to charge (no invoice is issued for $ 0: it would use up a number).
    pub already_invoiced: u64,
    /// Assignments and companies this run had to leave out, with what to do; everything else
    /// was done.
    #[serde(default)]
    pub problems: Vec<RunProblem>,
}

const INVOICE_ACTION: &str = "No se pudo emitir la factura de esta empresa; las demás sí se \
     emitieron. Revise los datos de la empresa y su trabajo aprobado, y vuelva a ejecutar la \
     facturación del mismo periodo: no se duplicará nada.";

/// Invoice `period_end` for every company (or those on `cycle`). Safe to run again: a company
/// already invoiced for the period gets nothing new. `progress(done, total)` is told as each
/// company is done. A company that cannot be invoiced is reported, never a reason to leave
/// the others uninvoiced.
pub async fn billing_run(
    db: &Db,
    settings: &Settings,
    period_end: NaiveDate,
    cycle: Option<&str>,
    now: i64,
    progress: impl Fn(u64, u64) -> futures::future::BoxFuture<'static, ()>,
) -> anyhow::Result<BillingReport> {
    let cutoff = end_of_day(period_end);
    let vat_rate = settings
        .legal
        .vat_rate(period_end)
        .ok_or_else(|| anyhow::anyhow!("no IVA rate configured for {period_end}"))?;
    let accrual = accrue_pending(db, settings, cutoff, now).await?;
    let companies: Vec<String> = on_db!(db, |p| {
        sqlx::query_scalar(
        "SELECT DISTINCT x.company_id FROM accruals x JOIN companies c ON c.id = x.company_id \
         WHERE x.invoice_id IS NULL AND x.approved_at < $1 AND ($2 IS NULL OR c.billing_cycle = $2) \
         ORDER BY x.company_id"
    )
    .bind(cutoff)
    .bind(cycle)
    .fetch_all(p)
    .await
    })?;
    let mut report = BillingReport {
        period_end: period_end.to_string(),
        accrued: accrual.accrued,
        problems: accrual.problems,
        ..Default::default()
    };
    let total = companies.len() as u64;
    progress(0, total).await;
    let mut done = 0;
    for chunk in companies.chunks(INVOICE_BATCH) {
        let batch = match invoice_batch(db, chunk, period_end, cutoff, vat_rate, now).await {
            Ok(Some(outcome)) => Ok(outcome),
            Err(e) if is_systemic(&e) => return Err(e),
            // Another run invoiced one of these meanwhile (None), or one company failed: ours
            // rolled back whole. Take the companies one at a time, so each is invoiced once by
            // whichever run gets there and a bad one is left out alone.
            raced_or_failed => Err(raced_or_failed.err()),
        };
        let outcome = match batch {
            Ok(outcome) => outcome,
            Err(e) => {
                if let Some(e) = e {
                    tracing::warn!(error = %format!("{e:#}"), "invoice batch failed; invoicing it company by company");
                }
                let (outcomes, problems) =
                    one_by_one(chunk, "company", INVOICE_ACTION, |company| async move {
                        invoice_batch(
                            db,
                            std::slice::from_ref(&company),
                            period_end,
                            cutoff,
                            vat_rate,
                            now,
                        )
                        .await
                    })
                    .await?;
                report.problems.extend(problems);
                outcomes.into_iter().fold(Batch::default(), |mut all, one| {
                    match one {
                        Some(mut b) => {
                            all.issued.append(&mut b.issued);
                            all.nothing += b.nothing;
                        }
                        None => all.nothing += 1,
                    }
                    all
                })
            }
        };
        report.issued.extend(outcome.issued);
        report.already_invoiced += outcome.nothing;
        done += chunk.len() as u64;
        progress(done, total).await;
    }
    if !report.problems.is_empty() {
        tracing::warn!(period = %period_end, left_out = report.problems.len(), "billing run left items out");
    }
    Ok(report)
}

/// Companies invoiced per transaction: a run of 1,000 companies commits 20 times, not 1,000
/// (each commit is a disk flush), and shows its progress as often.
const INVOICE_BATCH: usize = 50;

/// What invoicing one company in a batch did.
enum Invoiced {
    /// The number, and the IVA entry to post (none when the IVA is 0).
    Issued(String, Option<ledger::Entry>),
    /// Already invoiced for the period, or nothing to invoice.
    Nothing,
    /// Another run issued this company's invoice for the period meanwhile.
    Raced,
}

/// What a committed batch of companies gave.
#[derive(Default)]
struct Batch {
    issued: Vec<String>,
    /// Companies with nothing (new) to invoice.
    nothing: u64,
}

/// Invoice `companies` in one transaction (their IVA entries posted together at the end).
/// Returns what was issued, or None — everything rolled back — when another run got to one
/// of them first.
async fn invoice_batch(
    db: &Db,
    companies: &[String],
    period_end: NaiveDate,
    cutoff: i64,
    vat_rate: Decimal,
    now: i64,
) -> anyhow::Result<Option<Batch>> {
    let mut tx = db.begin().await?;
    let (mut batch, mut entries) = (Batch::default(), Vec::new());
    for company in companies {
        match invoice_company(&mut tx, company, period_end, cutoff, vat_rate, now).await? {
            Invoiced::Issued(number, entry) => {
                batch.issued.push(number);
                entries.extend(entry);
            }
            Invoiced::Nothing => batch.nothing += 1,
            Invoiced::Raced => {
                tx.rollback().await?;
                return Ok(None);
            }
        }
    }
    if batch.issued.is_empty() {
        tx.rollback().await?;
        return Ok(Some(batch));
    }
    let posted = post_many(&mut tx, entries, now).await?;
    if posted.iter().any(|p| !p.is_new()) {
        anyhow::bail!("a new invoice already had an IVA entry");
    }
    tx.commit().await?;
    for number in &batch.issued {
        tracing::info!(invoice = %number, "invoice issued");
    }
    Ok(Some(batch))
}

/// Issue one company's invoice for the period in `tx`: take its uninvoiced accruals, number
/// the invoice from the counter (rolled back with everything else on failure, so numbers
/// never skip), write lines and totals. The IVA entry to post is returned with the number.
async fn invoice_company(
    tx: &mut Tx,
    company_id: &str,
    period_end: NaiveDate,
    cutoff: i64,
    vat_rate: Decimal,
    now: i64,
) -> anyhow::Result<Invoiced> {
    let period = period_end.to_string();
    let exists: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM invoices WHERE company_id = $1 AND period_end = $2"
    )
    .bind(company_id)
    .bind(&period)
    .fetch_one(&mut *c)
    .await)?;
    if exists > 0 {
        return Ok(Invoiced::Nothing);
    }
    let invoice_id = uuid::Uuid::now_v7().to_string();
    // Claim the accruals first: a concurrent run for another period cannot take them too.
    // Their amounts come back with the claim, so the totals need no second read.
    let claimed: Vec<(i64, i64)> = on_tx!(tx, |c| {
        sqlx::query_as(
            "UPDATE accruals SET invoice_id = $1 WHERE company_id = $2 AND invoice_id IS NULL \
         AND approved_at < $3 RETURNING work, fee",
        )
        .bind(&invoice_id)
        .bind(company_id)
        .bind(cutoff)
        .fetch_all(&mut *c)
        .await
    })?;
    if claimed.is_empty() {
        return Ok(Invoiced::Nothing);
    }
    let (work, fee) = claimed
        .iter()
        .fold((0i64, 0i64), |(w, f), (dw, df)| (w + dw, f + df));
    let (work, fee) = (Cop::from_centavos(work), Cop::from_centavos(fee));
    let vat = vat(fee, vat_rate);
    let total = work + fee + vat;
    if total == Cop::ZERO {
        // Only work approved for nothing: no invoice of $ 0 (it would use up a number). Its
        // accruals wait, unclaimed, and go on the company's next real invoice as lines of 0.
        on_tx!(tx, |c| sqlx::query(
            "UPDATE accruals SET invoice_id = NULL WHERE invoice_id = $1"
        )
        .bind(&invoice_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        return Ok(Invoiced::Nothing);
    }
    let today = vereda_contracts::timesheet::bogota_day(now);
    let (seq, number, resolution) = counters::next_invoice_number(tx, today).await?;
    let inserted = on_tx!(tx, |c| sqlx::query(
        "INSERT INTO invoices (id, number, seq, company_id, period_end, work, fee, vat, total, \
         vat_rate, status, issued_at, due_at, customer_name, customer_nit, resolution_id) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $13, $11, $12, c.name, c.nit, $14 \
         FROM companies c WHERE c.id = $4"
    )
    .bind(&invoice_id)
    .bind(&number)
    .bind(seq)
    .bind(company_id)
    .bind(&period)
    .bind(work.centavos())
    .bind(fee.centavos())
    .bind(vat.centavos())
    .bind(total.centavos())
    .bind(vat_rate.normalize().to_string())
    .bind(now)
    .bind(now + PAYMENT_TERM_DAYS * 86_400)
    .bind(InvoiceStatus::Issued.as_str())
    .bind(&resolution)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()));
    // The customer is copied as it is now: the issued invoice prints it forever after.
    match inserted {
        Ok(1) => {}
        Ok(_) => anyhow::bail!("no company {company_id} to invoice"),
        // Another run invoiced this company and period meanwhile: the batch rolls back whole.
        Err(e) if unique_key(&e) == Some(UniqueKey::InvoicePerCompanyAndPeriod) => {
            return Ok(Invoiced::Raced);
        }
        Err(e) => return Err(e.into()),
    }
    // By company and invoice: the prefix of `accruals_uninvoiced`. By invoice alone no index
    // applies, and at full scale (50,000 accruals) every invoice scanned them all.
    let lines_sql = "INSERT INTO invoice_lines (invoice_id, assignment_id, part, task_title, worker_id, seconds, rate, work, fee) \
         SELECT invoice_id, assignment_id, part, task_title, worker_id, seconds, rate, work, fee \
         FROM accruals WHERE company_id = $2 AND invoice_id = $1";
    on_tx!(tx, |c| sqlx::query(AssertSqlSafe(lines_sql))
        .bind(&invoice_id)
        .bind(company_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    // A margin of 0 (or an IVA rate of 0) leaves no IVA to post.
    let entry = Some(ledger::invoice_vat(
        &InvoiceId::new(invoice_id.clone()),
        &number,
        &CompanyId::new(company_id),
        vat,
    ))
    .filter(|e| !e.is_empty());
    Ok(Invoiced::Issued(number, entry))
}

/// Issue a requested credit note: number it from its own counter, add it to the invoice's
/// credited amount and post the reversal, in one transaction. Issuing twice changes nothing:
/// the second finds it issued and answers its number.
pub async fn issue_credit_note(db: &Db, note_id: &str, now: i64) -> anyhow::Result<String> {
    let mut tx = db.begin().await?;
    #[derive(sqlx::FromRow)]
    struct Note {
        invoice_id: String,
        company_id: CompanyId,
        work: i64,
        fee: i64,
        vat: i64,
        total: i64,
        status: String,
        number: Option<String>,
    }
    let note: Option<Note> = on_tx!(&mut tx, |c| sqlx::query_as(
        "SELECT n.invoice_id, i.company_id, n.work, n.fee, n.vat, n.total, n.status, n.number \
         FROM credit_notes n JOIN invoices i ON i.id = n.invoice_id WHERE n.id = $1"
    )
    .bind(note_id)
    .fetch_optional(&mut *c)
    .await)?;
    let Some(note) = note else {
        anyhow::bail!("no credit note {note_id}");
    };
    let Some(status) = CreditNoteStatus::parse(&note.status) else {
        anyhow::bail!(
            "credit note {note_id} has an unknown status {}",
            note.status
        );
    };
    if status == CreditNoteStatus::Issued {
        return Ok(note.number.unwrap_or_default());
    }
    let (_, number) = counters::next_number(&mut tx, Series::CreditNote).await?;
    let changed = on_tx!(&mut tx, |c| {
        sqlx::query(
        "UPDATE credit_notes SET number = $1, status = $4, issued_at = $2 WHERE id = $3 AND status = $5"
    )
    .bind(&number)
    .bind(now)
    .bind(note_id)
    .bind(CreditNoteStatus::Issued.as_str())
    .bind(CreditNoteStatus::Requested.as_str())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    if changed == 0 {
        anyhow::bail!("credit note {note_id} changed meanwhile");
    }
    let sql = "UPDATE invoices SET credited = credited + $1, \
               status = CASE WHEN paid >= total - credited - $1 THEN $3 ELSE status END WHERE id = $2";
    on_tx!(&mut tx, |c| sqlx::query(AssertSqlSafe(sql))
        .bind(note.total)
        .bind(&note.invoice_id)
        .bind(InvoiceStatus::Paid.as_str())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    let entry = ledger::credit_note(
        &CreditNoteId::new(note_id),
        &number,
        &note.company_id,
        Cop::from_centavos(note.work),
        Cop::from_centavos(note.fee),
        Cop::from_centavos(note.vat),
    );
    post(&mut tx, entry, now)
        .await?
        .expect_new(&format!("credit note {note_id}"))?;
    tx.commit().await?;
    tracing::info!(credit_note = %number, "credit note issued");
    Ok(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bogota_day_ends_at_five_utc() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        // 2026-12-01T00:00-05:00 = 2026-12-01T05:00Z.
        assert_eq!(end_of_day(d), 1_796_101_200);
    }
}
