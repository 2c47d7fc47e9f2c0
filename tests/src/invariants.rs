//! The ledger invariants of DESIGN §4, asserted after every money test. They are the product's
//! own audit (`vereda_store::audit`, also `GET /v1/ledger/audit` and the daily job): one copy
//! of every invariant, so a test cannot pass on checks the product does not make.

use vereda_store::config::Settings;
use vereda_store::db::Db;

/// Asserts that every check of the ledger audit holds: balanced entries, a zero trial balance,
/// each worker's payable = earnings − payouts in transit or confirmed, one accrual per
/// assignment, gapless invoice, credit note and documento soporte numbers, document totals
/// equal to their lines, company receivables and payouts in transit.
pub async fn assert_ledger_invariants(db: &Db) {
    let settings = Settings::for_database("sqlite::memory:", std::path::Path::new("."))
        .expect("default settings");
    let audit = vereda_store::audit::audit(db, &settings)
        .await
        .expect("the audit runs");
    assert!(audit.ok, "ledger audit failed:\n{}", audit.failures());
}
