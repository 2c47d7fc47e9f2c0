//! The log of reads of workers' personal data (issue 22 §4): written by the API whenever
//! someone other than the worker herself is shown her personal fields, read back by her and
//! by admins.

use vereda_contracts::personal_data::Read;

use crate::db::Db;
use crate::on_tx;

/// Who read.
pub struct Reader<'a> {
    pub user_id: &'a str,
    /// `admin`, `finance`…
    pub role: &'a str,
}

/// Record that `reader` was shown `read`'s fields of each of `worker_ids` through `route`, in
/// one transaction.
pub async fn record(
    db: &Db,
    reader: &Reader<'_>,
    read: Read,
    route: &str,
    worker_ids: &[&str],
    at: i64,
) -> Result<(), sqlx::Error> {
    if worker_ids.is_empty() {
        return Ok(());
    }
    let fields = read.fields_list();
    let mut tx = db.begin().await?;
    for worker_id in worker_ids {
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO personal_data_reads (id, worker_id, reader_id, reader_role, route, \
             fields, at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(*worker_id)
        .bind(reader.user_id)
        .bind(reader.role)
        .bind(route)
        .bind(&fields)
        .bind(at)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    }
    tx.commit().await
}

/// One logged read, with the reader's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Logged {
    pub id: String,
    pub at: i64,
    pub reader_name: String,
    pub reader_role: String,
    pub route: String,
    pub fields: String,
}

/// A worker's log, newest first: reads with an id below `before`, at most `limit`.
pub async fn list(
    db: &Db,
    worker_id: &str,
    before: &str,
    limit: i64,
) -> Result<Vec<Logged>, sqlx::Error> {
    crate::on_db!(db, |p| sqlx::query_as(
        "SELECT r.id, r.at, u.name AS reader_name, r.reader_role, r.route, r.fields \
         FROM personal_data_reads r JOIN users u ON u.id = r.reader_id \
         WHERE r.worker_id = $1 AND r.id < $2 ORDER BY r.id DESC LIMIT $3"
    )
    .bind(worker_id)
    .bind(before)
    .bind(limit)
    .fetch_all(p)
    .await)
}
