//! The one document counter: every numbered document (invoice, credit note, documento soporte
//! and its adjustments) takes its number here, inside its own transaction, so a rolled-back
//! document gives its number back and no series has a gap. The row lock the `UPDATE` takes
//! also makes concurrent issuers wait their turn.

use vereda_contracts::numbering::Series;
use vereda_contracts::resolutions::DocumentKind;

use crate::db::Tx;
use crate::on_tx;

/// The next number of `series`: its value and how it prints. Fails (and the caller's
/// transaction must roll back) when a documento soporte range is used up.
pub async fn next_number(tx: &mut Tx, series: Series<'_>) -> anyhow::Result<(i64, String)> {
    let seq = bump(tx, series.counter(), series.first()).await?;
    Ok((seq, series.number(seq)?))
}

/// The next invoice number, issued on the Bogotá `day`: under the invoice resolution in use
/// (its prefix and consecutive, refused outside its range or dates), or `VRD-000001` while
/// none is recorded. Returns the value, the number and the resolution's id.
pub async fn next_invoice_number(
    tx: &mut Tx,
    day: chrono::NaiveDate,
) -> anyhow::Result<(i64, String, Option<String>)> {
    match crate::resolutions::current(tx, DocumentKind::Invoice).await? {
        None => {
            let (seq, number) = next_number(tx, Series::Invoice).await?;
            Ok((seq, number, None))
        }
        Some(r) => {
            let seq = bump(tx, Series::Invoice.counter(), r.resolution.from).await?;
            let number = r.resolution.issue(seq, day)?;
            Ok((seq, number, Some(r.id)))
        }
    }
}

/// The next documento soporte number, issued on the Bogotá `day`: under the documento
/// soporte resolution in use (prefix and consecutive, refused outside its range or dates), or
/// in the configured range (`prefix-n`) while none is recorded. Returns the value, the number
/// and the resolution's id.
pub async fn next_support_number(
    tx: &mut Tx,
    day: chrono::NaiveDate,
    prefix: &str,
    range: &std::ops::RangeInclusive<i64>,
) -> anyhow::Result<(i64, String, Option<String>)> {
    match crate::resolutions::current(tx, DocumentKind::SupportDocument).await? {
        None => {
            let (seq, number) = next_number(tx, Series::SupportDocument { prefix, range }).await?;
            Ok((seq, number, None))
        }
        Some(r) => {
            let seq = bump(tx, "support_document", r.resolution.from).await?;
            let number = r.resolution.issue(seq, day)?;
            Ok((seq, number, Some(r.id)))
        }
    }
}

/// `Series::next` in SQL: one past the last value, but never below `first`.
async fn bump(tx: &mut Tx, counter: &str, first: i64) -> anyhow::Result<i64> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "UPDATE document_counters SET last_value = \
         CASE WHEN last_value < $1 THEN $1 ELSE last_value + 1 END \
         WHERE name = $2 RETURNING last_value"
    )
    .bind(first)
    .bind(counter)
    .fetch_one(&mut *c)
    .await)?)
}
