//! The one document counter: every numbered document (invoice, credit note, documento soporte
//! and its adjustments) takes its number here, inside its own transaction, so a rolled-back
//! document gives its number back and no series has a gap. The row lock the `UPDATE` takes
//! also makes concurrent issuers wait their turn.

use vereda_contracts::numbering::Series;

use crate::db::Tx;
use crate::on_tx;

/// The next number of `series`: its value and how it prints. Fails (and the caller's
/// transaction must roll back) when a documento soporte range is used up.
pub async fn next_number(tx: &mut Tx, series: Series<'_>) -> anyhow::Result<(i64, String)> {
    // `Series::next` in SQL: one past the last value, but never below the series' first.
    let seq: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "UPDATE document_counters SET last_value = \
         CASE WHEN last_value < $1 THEN $1 ELSE last_value + 1 END \
         WHERE name = $2 RETURNING last_value"
    )
    .bind(series.first())
    .bind(series.counter())
    .fetch_one(&mut *c)
    .await)?;
    Ok((seq, series.number(seq)?))
}
