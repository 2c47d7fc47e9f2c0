//! Row locks, named, in one order. A transaction that needs several takes them in this order:
//! company, admins, worker, task, assignment, invoice — so two transactions never wait on each
//! other in a circle. Each function here is a no-op update of the row: on PostgreSQL it holds
//! the row until commit; on SQLite the write transaction (`BEGIN IMMEDIATE`) already holds the
//! whole database, and the statement costs nothing. Every function answers whether the row
//! exists. Two reads lock what they read in the same statement instead, because they need its
//! values at once: a claim (the task and the worker, `FOR NO KEY UPDATE`,
//! `api/src/assignments.rs`) and the sweep's batch of assignments (`FOR UPDATE OF a`).

use crate::db::Tx;
use crate::exec;

/// A company's row: membership and ownership changes wait for each other.
pub async fn company(tx: &mut Tx, company_id: &str) -> Result<bool, sqlx::Error> {
    let n = exec!(
        tx,
        sqlx::query("UPDATE companies SET updated_at = updated_at WHERE id = $1").bind(company_id)
    )?;
    Ok(n == 1)
}

/// Every active admin's row: the last admin cannot be removed by two requests at once.
pub async fn admins(tx: &mut Tx) -> Result<u64, sqlx::Error> {
    exec!(
        tx,
        sqlx::query("UPDATE users SET updated_at = updated_at WHERE role = 'admin'")
    )
}

/// A worker's row: her time entries, claims, statements and payout lines are decided one
/// transaction at a time.
pub async fn worker(tx: &mut Tx, worker_id: &str) -> Result<bool, sqlx::Error> {
    let n = exec!(
        tx,
        sqlx::query("UPDATE worker_profiles SET updated_at = updated_at WHERE id = $1")
            .bind(worker_id)
    )?;
    Ok(n == 1)
}

/// Many workers' rows in one statement (batches). The database takes them in its own order;
/// batches never hold a worker's row while waiting for another lock of this file.
pub async fn workers(tx: &mut Tx, worker_ids: &[&str]) -> Result<u64, sqlx::Error> {
    if worker_ids.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "UPDATE worker_profiles SET updated_at = updated_at WHERE id IN ({})",
        crate::journal::in_list(worker_ids.len(), 1)
    );
    crate::on_tx!(tx, |c| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        for id in worker_ids {
            q = q.bind(*id);
        }
        q.execute(&mut *c).await.map(|r| r.rows_affected())
    })
}

/// An assignment's row: its time and its submission are decided one at a time.
pub async fn assignment(tx: &mut Tx, assignment_id: &str) -> Result<bool, sqlx::Error> {
    let n = exec!(
        tx,
        sqlx::query("UPDATE assignments SET updated_at = updated_at WHERE id = $1")
            .bind(assignment_id)
    )?;
    Ok(n == 1)
}

/// An invoice's row: payments and credit notes against it check one outstanding amount.
pub async fn invoice(tx: &mut Tx, invoice_id: &str) -> Result<bool, sqlx::Error> {
    let n = exec!(
        tx,
        sqlx::query("UPDATE invoices SET status = status WHERE id = $1").bind(invoice_id)
    )?;
    Ok(n == 1)
}
