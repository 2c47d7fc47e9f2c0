//! Reading stored income statements and documentos soporte: what the statement run wrote, for
//! the API's downloads and the e-mail job's attachments.

use vereda_contracts::money::Cop;
use vereda_contracts::statements::{Month, Statement, StoredStatement, SupportDocument};

use crate::db::Db;
use crate::on_db;

#[derive(sqlx::FromRow)]
struct StatementRow {
    id: String,
    worker_id: String,
    month: String,
    version: i64,
    figures: String,
    verification_code: String,
    generated_at: i64,
    name: String,
    document_id: Option<String>,
}

/// The name and cédula as printed on the version (older rows: as the worker has them now).
const STATEMENT_SELECT: &str = "SELECT s.id, s.worker_id, s.month, s.version, s.figures, \
     s.verification_code, s.generated_at, COALESCE(s.worker_name, u.name) AS name, \
     COALESCE(s.worker_document, w.document_id) AS document_id \
     FROM statements s JOIN worker_profiles w ON w.id = s.worker_id \
     JOIN users u ON u.worker_id = s.worker_id";

/// A worker's statement for a month: the newest version, or the one asked for.
pub async fn load(
    db: &Db,
    worker_id: &str,
    month: Month,
    version: Option<i64>,
) -> anyhow::Result<Option<StoredStatement>> {
    let sql = format!(
        "{STATEMENT_SELECT} WHERE s.worker_id = $1 AND s.month = $2 \
         AND ($3 IS NULL OR s.version = $3) ORDER BY s.version DESC LIMIT 1"
    );
    let row: Option<StatementRow> =
        on_db!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(worker_id)
            .bind(month.to_string())
            .bind(version)
            .fetch_optional(p)
            .await)?;
    match row {
        Some(r) => Ok(Some(complete(db, r).await?)),
        None => Ok(None),
    }
}

/// A statement version by its id.
pub async fn load_by_id(db: &Db, id: &str) -> anyhow::Result<Option<StoredStatement>> {
    let sql = format!("{STATEMENT_SELECT} WHERE s.id = $1");
    let row: Option<StatementRow> =
        on_db!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id)
            .fetch_optional(p)
            .await)?;
    match row {
        Some(r) => Ok(Some(complete(db, r).await?)),
        None => Ok(None),
    }
}

async fn complete(db: &Db, r: StatementRow) -> anyhow::Result<StoredStatement> {
    let figures: Statement = serde_json::from_str(&r.figures)?;
    let support_documents = support_documents(db, Some(&r.worker_id), Some(&r.month)).await?;
    Ok(StoredStatement {
        id: r.id,
        version: r.version,
        figures,
        verification_code: r.verification_code,
        generated_at: r.generated_at,
        worker_name: r.name,
        document_id: r.document_id,
        support_documents,
    })
}

/// Documentos soporte, oldest first, for a worker and/or a month.
pub async fn support_documents(
    db: &Db,
    worker_id: Option<&str>,
    month: Option<&str>,
) -> anyhow::Result<Vec<SupportDocument>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        number: String,
        kind: String,
        worker_id: String,
        month: String,
        amount: i64,
        issued_on: String,
        week_start: Option<String>,
        week_end: Option<String>,
        code: Option<String>,
        corrects: Option<String>,
        reason: Option<String>,
    }
    let rows: Vec<Row> = on_db!(db, |p| sqlx::query_as(
        "SELECT s.id, s.number, s.kind, s.worker_id, s.month, s.amount, s.issued_on, \
         s.week_start, s.week_end, e.code, d.number AS corrects, s.reason \
         FROM support_documents s LEFT JOIN electronic_documents e ON e.subject_id = s.id \
         LEFT JOIN support_documents d ON d.id = s.adjusts_id \
         WHERE ($1 IS NULL OR s.worker_id = $1) AND ($2 IS NULL OR s.month = $2) ORDER BY s.id"
    )
    .bind(worker_id)
    .bind(month)
    .fetch_all(p)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|r| SupportDocument {
            id: r.id,
            number: r.number,
            kind: r.kind,
            worker_id: r.worker_id,
            month: r.month,
            amount: Cop::from_centavos(r.amount),
            issued_on: r.issued_on,
            week_start: r.week_start,
            week_end: r.week_end,
            code: r.code,
            corrects: r.corrects,
            reason: r.reason,
        })
        .collect())
}

/// The months of a worker documented the monthly way, before documentos soporte were weekly:
/// their earnings are not documented again by week (`support_weeks::due`).
pub async fn monthly_documented(
    tx: &mut crate::db::Tx,
    worker_id: &str,
) -> Result<std::collections::BTreeSet<vereda_contracts::statements::Month>, sqlx::Error> {
    let months: Vec<String> = crate::on_tx!(tx, |c| {
        sqlx::query_scalar(
        "SELECT DISTINCT month FROM support_documents WHERE worker_id = $1 AND week_start IS NULL"
    )
    .bind(worker_id)
    .fetch_all(&mut *c)
    .await
    })?;
    Ok(months
        .iter()
        .filter_map(|m| vereda_contracts::statements::Month::parse(m))
        .collect())
}
