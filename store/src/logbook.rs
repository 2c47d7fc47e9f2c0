//! What the time rules need to know about a worker's live entries, read inside the caller's
//! transaction: the API's time tracking and the claim-expiry sweep both check against it.

use std::collections::BTreeMap;

use vereda_contracts::timesheet::{self, Entry, Logbook, Span};

use crate::db::Tx;
use crate::on_tx;

/// What a check of `spans` on `assignments` needs from the worker's live entries: all of
/// those assignments' entries, and every entry touching the Bogotá days the spans touch.
/// `except` leaves out an entry being edited.
pub async fn logbook(
    tx: &mut Tx,
    worker_id: &str,
    assignments: &[&str],
    spans: &[Span],
    except: Option<&str>,
) -> Result<Logbook, sqlx::Error> {
    let mut found: BTreeMap<String, Entry> = BTreeMap::new();
    let mut keep = |rows: Vec<(String, String, i64, i64)>| {
        for (id, assignment_id, start, end) in rows {
            if except != Some(id.as_str()) {
                let span = Span::new(start, end);
                found.insert(
                    id,
                    Entry {
                        assignment_id,
                        span,
                    },
                );
            }
        }
    };
    let first = spans.iter().map(|s| s.start).min();
    let last = spans.iter().map(|s| s.end).max();
    if let (Some(first), Some(last)) = (first, last) {
        let from = timesheet::day_start(timesheet::bogota_day(first));
        let until = timesheet::day_end(timesheet::bogota_day(last));
        keep(on_tx!(tx, |c| sqlx::query_as(
            "SELECT id, assignment_id, started_at, ended_at FROM time_entries \
             WHERE worker_id = $1 AND deleted_at IS NULL AND started_at < $3 AND ended_at > $2"
        )
        .bind(worker_id)
        .bind(from)
        .bind(until)
        .fetch_all(&mut *c)
        .await)?);
    }
    for a in assignments {
        keep(on_tx!(tx, |c| sqlx::query_as(
            "SELECT id, assignment_id, started_at, ended_at FROM time_entries \
             WHERE assignment_id = $1 AND deleted_at IS NULL"
        )
        .bind(*a)
        .fetch_all(&mut *c)
        .await)?);
    }
    Ok(Logbook::new(found.into_values().collect()))
}
