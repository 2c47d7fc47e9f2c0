//! The ledger audits itself: the invariants of DESIGN §4 and the documents built on them, read
//! straight from the tables. `GET /v1/ledger/audit` answers it, a daily job records it and
//! e-mails the admins when a check fails, and the test suites, soak and benchmark assert it —
//! one copy of every invariant.
//!
//! Each check reads what it needs with a few set-based queries and names at most
//! [`EXAMPLES`] offenders, so the answer stays small on a large ledger.

use std::collections::HashMap;

use crate::config::Settings;
use crate::db::{Db, Tx};
use sqlx::AssertSqlSafe;
use vereda_contracts::ledger::Account;
pub use vereda_contracts::ledger::{Audit, Check};
use vereda_contracts::money::Cop;
use vereda_contracts::money_states::PayoutLineStatus;

use crate::{on_db, on_tx};

/// Offenders named per failed check.
const EXAMPLES: usize = 5;

/// One invariant and whether it holds.
fn check(name: &str, offenders: Vec<String>, holds: &str, broken: &str) -> Check {
    let ok = offenders.is_empty();
    let detail = if ok {
        holds.to_string()
    } else {
        let shown: Vec<&str> = offenders
            .iter()
            .take(EXAMPLES)
            .map(String::as_str)
            .collect();
        let more = offenders.len().saturating_sub(EXAMPLES);
        let more = if more > 0 {
            format!(" y {more} más")
        } else {
            String::new()
        };
        format!("{broken}: {}{more}", shown.join("; "))
    };
    Check {
        name: name.to_string(),
        ok,
        detail,
    }
}

fn pesos(centavos: i64) -> String {
    Cop::from_centavos(centavos).to_es_co()
}

/// Read one list of strings.
async fn strings(tx: &mut Tx, sql: &str) -> anyhow::Result<Vec<String>> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(AssertSqlSafe(sql))
        .fetch_all(&mut *c)
        .await)?)
}

/// Numbers `seqs` (sorted) must be `from, from + 1, …` with no repeat, ending at the counter.
fn gaps(label: &str, seqs: &[i64], from: i64, counter: i64) -> Vec<String> {
    gaps_with_restarts(label, seqs, from, &[], counter)
}

/// As [`gaps`], except that the series may jump forward to the first number of a numbering
/// resolution (`restarts`): a new DIAN range starts where DIAN says.
fn gaps_with_restarts(
    label: &str,
    seqs: &[i64],
    from: i64,
    restarts: &[i64],
    counter: i64,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut expected = from;
    for &s in seqs {
        if s != expected {
            if !(s > expected && restarts.contains(&s)) {
                out.push(format!("{label}: se esperaba {expected} y sigue {s}"));
            }
            expected = s;
        }
        expected += 1;
    }
    let last = seqs.last().copied().unwrap_or(from - 1);
    if !seqs.is_empty() && last != counter {
        out.push(format!(
            "{label}: el último emitido es {last} pero el consecutivo va en {counter}"
        ));
    }
    out
}

/// Run every check, all in one snapshot: a billing run committing between two queries made
/// the numbering check see an invoice its counter did not yet count.
pub async fn audit(db: &Db, settings: &Settings) -> anyhow::Result<Audit> {
    let tx = &mut db.snapshot().await?;
    let checks = vec![
        balanced_entries(tx).await?,
        account_columns_agree(tx).await?,
        trial_balance_zero(tx).await?,
        worker_payables(tx).await?,
        one_accrual_per_assignment(tx).await?,
        gapless_numbers(tx, settings).await?,
        document_totals(tx).await?,
        company_receivables(tx).await?,
        payouts_in_transit(tx).await?,
    ];
    Ok(Audit {
        ok: checks.iter().all(|c| c.ok),
        checks,
    })
}

async fn balanced_entries(tx: &mut Tx) -> anyhow::Result<Check> {
    let unbalanced = strings(
        tx,
        "SELECT e.effect_key FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id \
         GROUP BY e.id, e.effect_key HAVING SUM(p.debit) <> SUM(p.credit) \
         UNION ALL SELECT e.effect_key FROM ledger_entries e \
         WHERE NOT EXISTS (SELECT 1 FROM ledger_postings p WHERE p.entry_id = e.id) \
         UNION ALL SELECT e.effect_key FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id \
         WHERE p.debit < 0 OR p.credit < 0 OR (p.debit = 0) = (p.credit = 0)",
    )
    .await?;
    Ok(check(
        "balanced_entries",
        unbalanced,
        "Cada asiento tiene movimientos, todos positivos, y sus débitos igualan sus créditos.",
        "Asientos descuadrados, vacíos o con movimientos inválidos",
    ))
}

/// Each posting's kind and owner columns say what its name says: the payable and receivable
/// checks (and the payout batch) select accounts by those columns.
async fn account_columns_agree(tx: &mut Tx) -> anyhow::Result<Check> {
    let accounts: Vec<(String, String, Option<String>)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT DISTINCT account, account_kind, account_owner FROM ledger_postings"
    )
    .fetch_all(&mut *c)
    .await)?;
    let mismatched = accounts
        .into_iter()
        .filter(|(name, kind, owner)| {
            Account::parse(name)
                .is_none_or(|a| a.kind() != kind.as_str() || a.owner() != owner.as_deref())
        })
        .map(|(name, kind, owner)| {
            format!(
                "cuenta {name} guardada como {kind}/{}",
                owner.unwrap_or_default()
            )
        })
        .collect();
    Ok(check(
        "account_columns_agree",
        mismatched,
        "Cada movimiento nombra una cuenta válida y su tipo y dueño coinciden con el nombre.",
        "Movimientos cuya cuenta no coincide con su tipo o dueño",
    ))
}

async fn trial_balance_zero(tx: &mut Tx) -> anyhow::Result<Check> {
    let (debits, credits): (i64, i64) = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(debit), 0) AS BIGINT), CAST(COALESCE(SUM(credit), 0) AS BIGINT) \
         FROM ledger_postings"
    )
    .fetch_one(&mut *c)
    .await
    })?;
    Ok(check(
        "trial_balance_zero",
        if debits == credits {
            vec![]
        } else {
            vec![format!(
                "débitos {} y créditos {}",
                pesos(debits),
                pesos(credits)
            )]
        },
        &format!("Débitos y créditos suman lo mismo: {}.", pesos(debits)),
        "El balance de prueba no cuadra",
    ))
}

/// What each worker is owed is what she earned less what was sent to her; a failed payout
/// came back, so only pending and paid lines count.
async fn worker_payables(tx: &mut Tx) -> anyhow::Result<Check> {
    let payables: Vec<(String, i64, i64, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT w.id, \
           (SELECT CAST(COALESCE(SUM(credit - debit), 0) AS BIGINT) FROM ledger_postings \
            WHERE account_kind = 'worker_payable' AND account_owner = w.id), \
           (SELECT CAST(COALESCE(SUM(work), 0) AS BIGINT) FROM accruals WHERE worker_id = w.id), \
           (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM payout_lines \
            WHERE worker_id = w.id AND status IN ($1, $2)) \
         FROM worker_profiles w"
    )
    .bind(PayoutLineStatus::Pending.as_str())
    .bind(PayoutLineStatus::Paid.as_str())
    .fetch_all(&mut *c)
    .await)?;
    Ok(check(
        "worker_payables",
        payables
            .into_iter()
            .filter(|(_, payable, earned, paid)| *payable != earned - paid)
            .map(|(w, payable, earned, paid)| {
                format!(
                    "trabajador {w}: saldo {} ≠ ganado {} − pagado {}",
                    pesos(payable),
                    pesos(earned),
                    pesos(paid)
                )
            })
            .collect(),
        "El saldo por pagar de cada trabajador es lo ganado menos lo pagado o en tránsito.",
        "Saldos de trabajadores que no cuadran",
    ))
}

async fn one_accrual_per_assignment(tx: &mut Tx) -> anyhow::Result<Check> {
    let accruals = strings(
        tx,
        "SELECT 'asiento ' || e.effect_key || ' sin causación' FROM ledger_entries e \
         WHERE e.kind = 'accrual' AND NOT EXISTS \
           (SELECT 1 FROM accruals a WHERE e.effect_key = 'accrue:' || a.assignment_id || \
            CASE WHEN a.part = 0 THEN '' ELSE ':' || CAST(a.part AS TEXT) END) \
         UNION ALL SELECT 'asignación ' || a.assignment_id || ' causada sin asiento' FROM accruals a \
         WHERE a.work + a.fee > 0 AND NOT EXISTS \
           (SELECT 1 FROM ledger_entries e WHERE e.effect_key = 'accrue:' || a.assignment_id || \
            CASE WHEN a.part = 0 THEN '' ELSE ':' || CAST(a.part AS TEXT) END) \
         UNION ALL SELECT 'asignación ' || a.assignment_id || ' con asiento por otro valor' \
         FROM accruals a JOIN ledger_entries e ON e.effect_key = 'accrue:' || a.assignment_id || \
            CASE WHEN a.part = 0 THEN '' ELSE ':' || CAST(a.part AS TEXT) END \
         WHERE (SELECT COALESCE(SUM(p.debit), 0) FROM ledger_postings p WHERE p.entry_id = e.id) \
               <> a.work + a.fee",
    )
    .await?;
    Ok(check(
        "one_accrual_per_assignment",
        accruals,
        "Cada trabajo aprobado (y cada parte restituida por una apelación) se causó una sola vez, con su asiento por el mismo valor (ninguno si vale $ 0).",
        "Causaciones que no cuadran con el diario",
    ))
}

async fn gapless_numbers(tx: &mut Tx, settings: &Settings) -> anyhow::Result<Check> {
    let counters: HashMap<String, i64> = on_tx!(tx, |c| sqlx::query_as::<_, (String, i64)>(
        "SELECT name, last_value FROM document_counters"
    )
    .fetch_all(&mut *c)
    .await)?
    .into_iter()
    .collect();
    let counter = |name: &str| counters.get(name).copied().unwrap_or(0);

    let invoice_seqs: Vec<i64> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT seq FROM invoices ORDER BY seq"
    )
    .fetch_all(&mut *c)
    .await)?;
    let notes: Vec<String> = strings(
        tx,
        "SELECT number FROM credit_notes WHERE status = 'issued' ORDER BY number",
    )
    .await?;
    let note_seqs: Vec<i64> = notes
        .iter()
        .map(|n| {
            n.strip_prefix("VRD-NC-")
                .and_then(|s| s.parse().ok())
                .unwrap_or(-1)
        })
        .collect();
    let support: Vec<(String, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT kind, seq FROM support_documents ORDER BY kind, seq"
    )
    .fetch_all(&mut *c)
    .await)?;
    let seqs_of = |kind: &str| -> Vec<i64> {
        support
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, s)| *s)
            .collect()
    };
    // Documentos soporte run on inside the authorised range in force (an earlier range's
    // numbers are below its start and ended where that range ended), from the first one
    // issued in it; a recorded resolution may start the series anew at its first number.
    let docs: Vec<i64> = seqs_of("document")
        .into_iter()
        .filter(|s| *s >= *settings.support_doc_range.start())
        .collect();
    let support_starts = crate::resolutions::starts(
        tx,
        vereda_contracts::resolutions::DocumentKind::SupportDocument,
    )
    .await?;
    let first_doc = docs.first().copied().unwrap_or(1);
    let invoice_starts =
        crate::resolutions::starts(tx, vereda_contracts::resolutions::DocumentKind::Invoice)
            .await?;
    let first_invoice = match invoice_seqs.first() {
        Some(s) if invoice_starts.contains(s) => *s,
        _ => 1,
    };
    let mut numbering = gaps_with_restarts(
        "facturas",
        &invoice_seqs,
        first_invoice,
        &invoice_starts,
        counter("invoice"),
    );
    numbering.extend(gaps("notas crédito", &note_seqs, 1, counter("credit_note")));
    numbering.extend(gaps_with_restarts(
        "documentos soporte",
        &docs,
        first_doc,
        &support_starts,
        counter("support_document"),
    ));
    numbering.extend(gaps(
        "notas de ajuste",
        &seqs_of("adjustment"),
        1,
        counter("support_adjustment"),
    ));
    Ok(check(
        "gapless_numbers",
        numbering,
        &format!(
            "Facturas (1–{}), notas crédito (1–{}), documentos soporte y notas de ajuste van en orden, sin saltos ni repetidos.",
            counter("invoice"),
            counter("credit_note")
        ),
        "Numeración con saltos o repetidos",
    ))
}

async fn document_totals(tx: &mut Tx) -> anyhow::Result<Check> {
    let totals = strings(
        tx,
        "SELECT i.number FROM invoices i WHERE \
            i.work <> (SELECT COALESCE(SUM(work), 0) FROM invoice_lines WHERE invoice_id = i.id) \
         OR i.fee <> (SELECT COALESCE(SUM(fee), 0) FROM invoice_lines WHERE invoice_id = i.id) \
         OR i.total <> i.work + i.fee + i.vat \
         OR EXISTS (SELECT 1 FROM invoice_lines l JOIN accruals a ON a.assignment_id = l.assignment_id AND a.part = l.part \
                    WHERE l.invoice_id = i.id AND (a.invoice_id IS NULL OR a.invoice_id <> i.id \
                    OR a.work <> l.work OR a.fee <> l.fee)) \
         OR (i.vat > 0 AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.effect_key = 'invoice:' || i.id)) \
         OR i.paid < 0 OR i.credited < 0 OR i.paid + i.credited > i.total \
         UNION ALL SELECT n.number FROM credit_notes n WHERE n.status = 'issued' \
           AND n.total <> n.work + n.fee + n.vat \
         UNION ALL SELECT i.number FROM invoices i WHERE EXISTS (SELECT 1 FROM credit_notes n \
           WHERE n.invoice_id = i.id AND n.status = 'issued' GROUP BY n.invoice_id \
           HAVING SUM(n.work) > i.work OR SUM(n.fee) > i.fee OR SUM(n.vat) > i.vat)",
    )
    .await?;
    Ok(check(
        "document_totals",
        totals,
        "Cada factura suma sus líneas (iguales a lo causado), su IVA está asentado, lo pagado y acreditado no pasa del total, y las notas crédito no acreditan más de lo facturado.",
        "Documentos cuyos totales no cuadran",
    ))
}

/// A company's receivable is what it was charged (work and fee as approved, IVA as
/// invoiced) less what it paid and what was credited to it.
async fn company_receivables(tx: &mut Tx) -> anyhow::Result<Check> {
    let receivables: Vec<(String, i64, i64)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT c.id, \
           (SELECT CAST(COALESCE(SUM(debit - credit), 0) AS BIGINT) FROM ledger_postings \
            WHERE account_kind = 'company_receivable' AND account_owner = c.id), \
           (SELECT CAST(COALESCE(SUM(work + fee), 0) AS BIGINT) FROM accruals WHERE company_id = c.id) \
           + (SELECT CAST(COALESCE(SUM(vat - paid - credited), 0) AS BIGINT) FROM invoices \
              WHERE company_id = c.id) \
         FROM companies c"
    )
    .fetch_all(&mut *c)
    .await
    })?;
    Ok(check(
        "company_receivables",
        receivables
            .into_iter()
            .filter(|(_, ledger, documents)| ledger != documents)
            .map(|(c, ledger, documents)| {
                format!(
                    "empresa {c}: diario {} ≠ documentos {}",
                    pesos(ledger),
                    pesos(documents)
                )
            })
            .collect(),
        "Lo que cada empresa debe según el diario es lo causado más el IVA facturado, menos pagos y notas crédito.",
        "Cuentas por cobrar que no cuadran con las facturas",
    ))
}

async fn payouts_in_transit(tx: &mut Tx) -> anyhow::Result<Check> {
    let (in_transit, pending): (i64, i64) = on_tx!(tx, |c| sqlx::query_as(
        "SELECT (SELECT CAST(COALESCE(SUM(credit - debit), 0) AS BIGINT) FROM ledger_postings \
                 WHERE account = 'platform:payouts_in_transit'), \
                (SELECT CAST(COALESCE(SUM(amount - withholding), 0) AS BIGINT) FROM payout_lines \
                 WHERE status = $1)"
    )
    .bind(PayoutLineStatus::Pending.as_str())
    .fetch_one(&mut *c)
    .await)?;
    Ok(check(
        "payouts_in_transit",
        if in_transit == pending {
            vec![]
        } else {
            vec![format!(
                "en tránsito según el diario {}, líneas pendientes {}",
                pesos(in_transit),
                pesos(pending)
            )]
        },
        &format!(
            "Los pagos en tránsito ({}) son exactamente las líneas de pago pendientes de confirmar.",
            pesos(pending)
        ),
        "Pagos en tránsito que no cuadran",
    ))
}

/// When the last recorded ledger audit ran and whether all its checks held.
pub async fn last_result(db: &Db) -> anyhow::Result<Option<(i64, bool)>> {
    let row: Option<(i64, bool)> = on_db!(db, |p| sqlx::query_as(
        "SELECT ran_at, ok FROM ledger_audits ORDER BY ran_at DESC, id DESC LIMIT 1"
    )
    .fetch_optional(p)
    .await)?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::{gaps, gaps_with_restarts};

    #[test]
    fn numbering_gaps_repeats_and_a_counter_ahead_are_named() {
        assert!(gaps("f", &[1, 2, 3], 1, 3).is_empty());
        assert!(gaps("f", &[], 1, 0).is_empty());
        assert_eq!(gaps("f", &[1, 3], 1, 3).len(), 1);
        assert_eq!(gaps("f", &[1, 2, 2], 1, 2).len(), 1);
        assert_eq!(gaps("f", &[1, 2], 1, 3).len(), 1);
        assert!(gaps("d", &[500, 501], 500, 501).is_empty());
        // A new resolution's range starts anew, and only there.
        assert!(gaps_with_restarts("f", &[1, 2, 990, 991], 1, &[990], 991).is_empty());
        assert_eq!(
            gaps_with_restarts("f", &[1, 2, 989], 1, &[990], 989).len(),
            1
        );
        assert_eq!(
            gaps_with_restarts("f", &[1, 990, 992], 1, &[990], 992).len(),
            1
        );
    }
}
