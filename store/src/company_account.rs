//! Reading a company's account: its invoices with what was paid and credited on each, the
//! payments and the credit notes, as the statement of account shows them.

use vereda_contracts::money_states::InvoiceStatus;
use vereda_documents::account::{AccountInvoice, AccountNote, AccountStatement, PaymentRecord};

use crate::db::Db;
use crate::on_db;

const PAYMENT_SELECT: &str = "SELECT p.id, p.invoice_id, i.number AS invoice_number, p.amount, \
     p.paid_at, p.reference, p.recorded_by, u.name AS recorded_by_name, \
     p.created_at AS recorded_at, p.posted_at, r.reason AS reversal_reason, \
     r.requested_at AS reversal_requested_at, r.posted_at AS reversal_posted_at \
     FROM payments p JOIN invoices i ON i.id = p.invoice_id JOIN users u ON u.id = p.recorded_by \
     LEFT JOIN payment_reversals r ON r.payment_id = p.id";

/// The payments recorded on an invoice, oldest first.
pub async fn invoice_payments(db: &Db, invoice_id: &str) -> anyhow::Result<Vec<PaymentRecord>> {
    let sql = format!("{PAYMENT_SELECT} WHERE p.invoice_id = $1 ORDER BY p.id");
    Ok(on_db!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(invoice_id)
    .fetch_all(p)
    .await)?)
}

/// One payment, if it exists.
pub async fn payment(db: &Db, payment_id: &str) -> anyhow::Result<Option<PaymentRecord>> {
    let sql = format!("{PAYMENT_SELECT} WHERE p.id = $1");
    Ok(on_db!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(payment_id)
    .fetch_optional(p)
    .await)?)
}

/// The statement of account of `company_id`, or `None` if there is no such company.
pub async fn account_statement(
    db: &Db,
    company_id: &str,
    as_of: i64,
) -> anyhow::Result<Option<AccountStatement>> {
    let company: Option<(String, String)> = on_db!(db, |p| sqlx::query_as(
        "SELECT name, nit FROM companies WHERE id = $1"
    )
    .bind(company_id)
    .fetch_optional(p)
    .await)?;
    let Some((company_name, nit)) = company else {
        return Ok(None);
    };
    let invoices: Vec<AccountInvoice> = on_db!(db, |p| sqlx::query_as(
        "SELECT id, number, issued_at, due_at, total, paid, credited, status FROM invoices \
         WHERE company_id = $1 AND status <> $2 ORDER BY seq"
    )
    .bind(company_id)
    .bind(InvoiceStatus::Void.as_str())
    .fetch_all(p)
    .await)?;
    let sql = format!("{PAYMENT_SELECT} WHERE i.company_id = $1 ORDER BY p.paid_at, p.id");
    let payments: Vec<PaymentRecord> =
        on_db!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(company_id)
            .fetch_all(p)
            .await)?;
    let credit_notes: Vec<AccountNote> = on_db!(db, |p| sqlx::query_as(
        "SELECT n.id, n.invoice_id, i.number AS invoice_number, n.number, n.reason, n.total, \
         n.status, n.issued_at FROM credit_notes n JOIN invoices i ON i.id = n.invoice_id \
         WHERE i.company_id = $1 ORDER BY n.id"
    )
    .bind(company_id)
    .fetch_all(p)
    .await)?;
    Ok(Some(AccountStatement {
        company_id: company_id.to_string(),
        company_name,
        nit,
        as_of,
        invoices,
        payments,
        credit_notes,
    }))
}
