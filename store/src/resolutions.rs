//! DIAN numbering resolutions as recorded (`numbering_resolutions`): the newest of a kind is
//! the one documents of that kind are numbered under (`vereda_contracts::resolutions`).

use chrono::NaiveDate;
use vereda_contracts::resolutions::{DocumentKind, Resolution};

use crate::db::{Db, Tx};
use crate::{on_db, on_tx};

/// A resolution with its id and who recorded it when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub id: String,
    pub resolution: Resolution,
    pub recorded_by: String,
    pub recorded_at: i64,
}

type Row = (
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    String,
    Option<String>,
    String,
    i64,
);

fn from_row(r: Row) -> anyhow::Result<Recorded> {
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d");
    Ok(Recorded {
        id: r.0,
        resolution: Resolution {
            kind: DocumentKind::parse(&r.1)
                .ok_or_else(|| anyhow::anyhow!("unknown document kind {:?}", r.1))?,
            number: r.2,
            prefix: r.3,
            from: r.4,
            to: r.5,
            valid_from: date(&r.6)?,
            valid_until: date(&r.7)?,
            technical_key: r.8,
        },
        recorded_by: r.9,
        recorded_at: r.10,
    })
}

/// Record a resolution (already checked); it is in use for its kind from now on.
pub async fn record(tx: &mut Tx, r: &Resolution, by: &str, now: i64) -> anyhow::Result<String> {
    let id = uuid::Uuid::now_v7().to_string();
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO numbering_resolutions (id, kind, number, prefix, range_from, range_to, \
         valid_from, valid_until, technical_key, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    )
    .bind(&id)
    .bind(r.kind.as_str())
    .bind(&r.number)
    .bind(&r.prefix)
    .bind(r.from)
    .bind(r.to)
    .bind(r.valid_from.to_string())
    .bind(r.valid_until.to_string())
    .bind(&r.technical_key)
    .bind(by)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(id)
}

/// Every resolution recorded, newest first.
pub async fn list(db: &Db) -> anyhow::Result<Vec<Recorded>> {
    let rows: Vec<Row> = on_db!(db, |p| sqlx::query_as(
        "SELECT id, kind, number, prefix, range_from, range_to, valid_from, valid_until, \
         technical_key, recorded_by, recorded_at FROM numbering_resolutions \
         ORDER BY recorded_at DESC, id DESC"
    )
    .fetch_all(p)
    .await)?;
    rows.into_iter().map(from_row).collect()
}

/// A resolution by its id (the one a document was numbered under).
pub async fn by_id(db: &Db, id: &str) -> anyhow::Result<Option<Recorded>> {
    let row: Option<Row> = on_db!(db, |p| sqlx::query_as(
        "SELECT id, kind, number, prefix, range_from, range_to, valid_from, valid_until, \
         technical_key, recorded_by, recorded_at FROM numbering_resolutions WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(p)
    .await)?;
    row.map(from_row).transpose()
}

/// The resolution in use for `kind` (the newest recorded), if any.
pub async fn current(tx: &mut Tx, kind: DocumentKind) -> anyhow::Result<Option<Recorded>> {
    let row: Option<Row> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT id, kind, number, prefix, range_from, range_to, valid_from, valid_until, \
         technical_key, recorded_by, recorded_at FROM numbering_resolutions \
         WHERE kind = $1 ORDER BY recorded_at DESC, id DESC LIMIT 1"
    )
    .bind(kind.as_str())
    .fetch_optional(&mut *c)
    .await)?;
    row.map(from_row).transpose()
}

/// The first number of every resolution of `kind`: where its series may start anew.
pub async fn starts(tx: &mut Tx, kind: DocumentKind) -> anyhow::Result<Vec<i64>> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT range_from FROM numbering_resolutions WHERE kind = $1"
    )
    .bind(kind.as_str())
    .fetch_all(&mut *c)
    .await)?)
}
