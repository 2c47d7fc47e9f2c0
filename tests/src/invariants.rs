//! The ledger invariants of DESIGN §4, read straight from the database. Every money test ends
//! by calling [`assert_ledger_invariants`].

use vereda_contracts::db::Db;
use vereda_contracts::on_db;

/// Asserts that every journal entry balances, that the trial balance is zero, that each
/// worker's payable equals earnings minus payouts in transit or confirmed, that no assignment
/// is accrued or invoiced twice, and that invoice numbers run 1..n with no gap or repeat.
pub async fn assert_ledger_invariants(db: &Db) {
    let unbalanced: Vec<String> = on_db!(db, |p| {
        sqlx::query_scalar(
        "SELECT entry_id FROM ledger_postings GROUP BY entry_id HAVING SUM(debit) <> SUM(credit)"
    )
    .fetch_all(p)
    .await
    .unwrap()
    });
    assert!(unbalanced.is_empty(), "unbalanced entries: {unbalanced:?}");

    let (debits, credits): (i64, i64) = on_db!(db, |p| {
        sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(debit), 0) AS BIGINT), CAST(COALESCE(SUM(credit), 0) AS BIGINT) FROM ledger_postings"
    )
    .fetch_one(p)
    .await
    .unwrap()
    });
    assert_eq!(debits, credits, "the trial balance is not zero");

    let payables: Vec<(String, i64, i64, i64)> = on_db!(db, |p| {
        sqlx::query_as(
        "SELECT w.id, \
           (SELECT CAST(COALESCE(SUM(credit - debit), 0) AS BIGINT) FROM ledger_postings WHERE account = 'worker:' || w.id || ':payable'), \
           (SELECT CAST(COALESCE(SUM(work), 0) AS BIGINT) FROM accruals WHERE worker_id = w.id), \
           (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM payout_lines WHERE worker_id = w.id AND status IN ('pending', 'paid')) \
         FROM worker_profiles w"
    )
    .fetch_all(p)
    .await
    .unwrap()
    });
    for (worker, payable, earned, paid) in payables {
        assert_eq!(
            payable,
            earned - paid,
            "worker {worker}: payable {payable} ≠ earnings {earned} − payouts {paid}"
        );
    }

    let twice: i64 = on_db!(db, |p| {
        sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT effect_key FROM ledger_entries WHERE effect_key LIKE 'accrue:%' \
         GROUP BY effect_key HAVING COUNT(*) > 1) x"
    )
    .fetch_one(p)
    .await
    .unwrap()
    });
    assert_eq!(twice, 0, "an assignment was accrued twice");
    let accrued_without_row: i64 = on_db!(db, |p| {
        sqlx::query_scalar(
        "SELECT COUNT(*) FROM ledger_entries e WHERE e.effect_key LIKE 'accrue:%' \
         AND NOT EXISTS (SELECT 1 FROM accruals a WHERE 'accrue:' || a.assignment_id = e.effect_key)"
    )
    .fetch_one(p)
    .await
    .unwrap()
    });
    assert_eq!(accrued_without_row, 0);
    let lines_vs_accruals: i64 = on_db!(db, |p| {
        sqlx::query_scalar(
        "SELECT COUNT(*) FROM invoice_lines l JOIN accruals a ON a.assignment_id = l.assignment_id \
         WHERE a.invoice_id IS NULL OR a.invoice_id <> l.invoice_id"
    )
    .fetch_one(p)
    .await
    .unwrap()
    });
    assert_eq!(
        lines_vs_accruals, 0,
        "an invoice line disagrees with its accrual"
    );

    let seqs: Vec<i64> = on_db!(db, |p| sqlx::query_scalar(
        "SELECT seq FROM invoices ORDER BY seq"
    )
    .fetch_all(p)
    .await
    .unwrap());
    let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
    assert_eq!(seqs, expected, "invoice numbers skip or repeat");

    // Each invoice's totals are reproducible from its lines.
    let bad_totals: Vec<String> = on_db!(db, |p| {
        sqlx::query_scalar(
        "SELECT i.number FROM invoices i WHERE i.work <> (SELECT COALESCE(SUM(work), 0) FROM invoice_lines WHERE invoice_id = i.id) \
         OR i.fee <> (SELECT COALESCE(SUM(fee), 0) FROM invoice_lines WHERE invoice_id = i.id) \
         OR i.total <> i.work + i.fee + i.vat"
    )
    .fetch_all(p)
    .await
    .unwrap()
    });
    assert!(
        bad_totals.is_empty(),
        "invoices whose totals differ from their lines: {bad_totals:?}"
    );
}
