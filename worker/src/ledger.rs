//! Writing to the journal. Every entry carries its effect key: a second delivery of the same
//! job finds the key and posts nothing, so money effects happen once however often the queue
//! delivers.

use vereda_contracts::db::Tx;
use vereda_contracts::ledger::Entry;
use vereda_contracts::money::Cop;
use vereda_contracts::on_tx;

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Post `entry` in `tx`. Returns false, posting nothing, when an entry with its effect key
/// already exists. An entry that does not balance is an error (and the caller's transaction
/// must roll back).
pub async fn post(tx: &mut Tx, entry: Entry, at: i64) -> anyhow::Result<bool> {
    let entry = entry.checked()?;
    let entry_id = new_id();
    let inserted = on_tx!(tx, |c| sqlx::query(
        "INSERT INTO ledger_entries (id, effect_key, kind, description, posted_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (effect_key) DO NOTHING"
    )
    .bind(&entry_id)
    .bind(&entry.effect_key)
    .bind(entry.kind)
    .bind(&entry.description)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    if inserted == 0 {
        return Ok(false);
    }
    for p in &entry.postings {
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO ledger_postings (id, entry_id, account, debit, credit, posted_at) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(new_id())
        .bind(&entry_id)
        .bind(&p.account)
        .bind(p.debit.centavos())
        .bind(p.credit.centavos())
        .bind(at)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(true)
}

/// Credits minus debits of an account (what a liability such as a worker's payable holds).
pub async fn credit_balance(tx: &mut Tx, account: &str) -> Result<Cop, sqlx::Error> {
    let centavos: i64 = on_tx!(tx, |c| {
        sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(credit - debit), 0) AS BIGINT) FROM ledger_postings WHERE account = $1"
    )
    .bind(account)
    .fetch_one(&mut *c)
    .await
    })?;
    Ok(Cop::from_centavos(centavos))
}
