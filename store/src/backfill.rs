//! Steps that fill new columns of existing rows from rules in Rust, run by
//! [`Db::migrate`](crate::db::Db::migrate) right after the SQL migrations, under the same
//! lock. Each touches only rows it has not done, so running again (every start) changes
//! nothing.
//!
//! Migration 0014 (cohorts): a worker's place gets DANE's codes, and her name for it DANE's,
//! when the names she has match a place of DIVIPOLA (`contracts::places`; names that match
//! nothing keep NULL codes, to be fixed by hand); her payout method gets the key that finds
//! another worker paid to the same place. A row is done once it has a `payout_key`, which
//! every worker written since 0014 has.

use vereda_contracts::places::divipola;
use vereda_contracts::profiles::Payout;

use crate::db::Db;
use crate::on_tx;

/// A worker's row written before migration 0014.
#[derive(sqlx::FromRow)]
struct OldWorker {
    id: String,
    municipality: String,
    department: String,
    payout_method: String,
}

/// What a row before 0014 gets: codes and DANE's names when its place matches, and its payout
/// key (one of its own when the stored method cannot be read, so it matches nobody).
pub fn fill(
    id: &str,
    municipality: &str,
    department: &str,
    payout_method: &str,
) -> (Option<(String, String, String, String)>, String) {
    let place = divipola().place(municipality, department).ok().map(|p| {
        (
            p.department.code.clone(),
            p.department.name.clone(),
            p.municipality.code.clone(),
            p.municipality.name.clone(),
        )
    });
    let key = serde_json::from_str(payout_method)
        .ok()
        .and_then(|v| Payout::from_stored(&v))
        .map_or_else(|| format!("unreadable:{id}"), |p| p.duplicate_key());
    (place, key)
}

/// Fill the codes and payout keys of the workers written before migration 0014. Returns how
/// many rows it filled.
pub async fn worker_places_and_payouts(db: &Db) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let rows: Vec<OldWorker> = on_tx!(&mut tx, |c| sqlx::query_as(
        "SELECT id, municipality, department, payout_method FROM worker_profiles \
         WHERE payout_key IS NULL ORDER BY id"
    )
    .fetch_all(&mut *c)
    .await)?;
    for row in &rows {
        let (place, key) = fill(
            &row.id,
            &row.municipality,
            &row.department,
            &row.payout_method,
        );
        let (dcode, dname, mcode, mname) = match place {
            Some((dc, dn, mc, mn)) => (Some(dc), Some(dn), Some(mc), Some(mn)),
            None => (None, None, None, None),
        };
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE worker_profiles SET department_code = $1, \
             department = COALESCE($2, department), municipality_code = $3, \
             municipality = COALESCE($4, municipality), payout_key = $5 WHERE id = $6"
        )
        .bind(dcode)
        .bind(dname)
        .bind(mcode)
        .bind(mname)
        .bind(&key)
        .bind(&row.id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    tx.commit().await?;
    if !rows.is_empty() {
        tracing::info!(workers = rows.len(), "worker places and payout keys filled");
    }
    Ok(rows.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matching_place_gets_danes_codes_and_names() {
        let (place, key) = fill(
            "w1",
            " chaparral",
            "TOLIMA",
            r#"{"kind":"nequi","phone":"3105551234"}"#,
        );
        assert_eq!(
            place,
            Some((
                "73".into(),
                "Tolima".into(),
                "73168".into(),
                "Chaparral".into()
            ))
        );
        assert_eq!(key, "phone:3105551234");
        let (place, key) = fill("w2", "Villa Nada", "Tolima", "not json");
        assert_eq!(place, None);
        assert_eq!(key, "unreadable:w2");
    }
}
