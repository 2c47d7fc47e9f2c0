//! A worker's own money (issue 15 §4): what she has earned, what waits for review, what is owed
//! and what was paid, read from the same tables the ledger is built from, and her payout lines.

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use sqlx::AssertSqlSafe;
use vereda_contracts::earnings::{self, AssignmentWork, PaidOut};
use vereda_contracts::identity::Role;
use vereda_contracts::ids::WorkerId;
use vereda_contracts::ledger::Account;
use vereda_contracts::marketplace::{AssignmentStatus, PricingKind};
use vereda_contracts::money::Cop;
use vereda_contracts::money_states::{PayoutBatchStatus, PayoutLineStatus};
use vereda_contracts::payout_rules::LineFigures;
use vereda_contracts::time;
use vereda_store::on_db;

use crate::ApiTags;
use crate::auth::{BearerAuth, Principal};
use crate::pagination::PageRequest;
use crate::problem::ApiError;
use crate::startup::AppState;

fn pesos(centavos: i64) -> String {
    Cop::from_centavos(centavos).to_string()
}

fn worker_id(who: &Principal) -> Result<&str, ApiError> {
    who.require(&[Role::Worker])?;
    who.worker_id
        .as_deref()
        .ok_or_else(|| ApiError::internal("worker without profile"))
}

/// One of her assignments and what it is worth to her.
#[derive(Debug, Object)]
pub struct AssignmentEarning {
    pub assignment_id: String,
    pub task_title: String,
    pub company_name: String,
    /// The assignment's status (`claimed`, `submitted`, `verified`, `approved`…).
    pub status: String,
    /// Seconds approved (approved assignments), else 0.
    pub approved_seconds: i64,
    /// Whole pesos: the earnings of approved work; for work awaiting review, what it earns if
    /// approved as logged; otherwise `"0"`.
    pub amount: String,
}

/// Her money, in whole pesos (decimal strings).
#[derive(Debug, Object)]
pub struct Earnings {
    /// Submitted work awaiting review, at what it earns if approved as logged.
    pub pending_review: String,
    /// Approved work not yet paid: `balance_payable` plus `in_transit`.
    pub approved_unpaid: String,
    /// Payout lines the bank confirmed (withholding included).
    pub paid: String,
    /// Sent in a payout not yet confirmed by the bank.
    pub in_transit: String,
    /// The balance of her payable account in the ledger: what the next payout batch pays.
    pub balance_payable: String,
    /// Every assignment of hers, newest first.
    pub assignments: Vec<AssignmentEarning>,
}

/// One payout line, as she sees it.
#[derive(Debug, Object)]
pub struct MyPayout {
    pub id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When the bank confirmed it paid (absent otherwise).
    #[oai(skip_serializing_if_is_none)]
    pub paid_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Whole pesos sent to her (after any withholding).
    pub amount: String,
    /// Withholding kept from the line, whole pesos.
    pub withholding: String,
    /// `nequi`, `daviplata`, `bank` or `bre-b`, as it was when the batch was made.
    pub method: String,
    /// The phone or account, showing only its last 4 digits (`******1234`).
    pub destination_masked: String,
    /// `pending`, `paid` or `failed`.
    pub status: String,
    /// Why it failed and what to do, in Spanish (failed only).
    #[oai(skip_serializing_if_is_none)]
    pub failure_reason: Option<String>,
}

#[derive(Debug, Object)]
pub struct MyPayoutList {
    pub items: Vec<MyPayout>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum EarningsOk {
    #[oai(status = 200)]
    Ok(Json<Earnings>),
}

#[derive(ApiResponse)]
pub enum MyPayoutsOk {
    #[oai(status = 200)]
    Ok(Json<MyPayoutList>),
}

/// The last 4 digits of a payout destination, masked.
fn masked(method: &serde_json::Value) -> String {
    let raw = ["phone", "account_number", "key", "value"]
        .iter()
        .find_map(|k| method[*k].as_str())
        .unwrap_or("");
    let digits: String = raw.chars().filter(char::is_ascii_alphanumeric).collect();
    let tail: String = digits
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("******{tail}")
}

/// What a failed payout means for her, in Spanish.
pub fn failure_reason_es(method: &serde_json::Value) -> String {
    let what = match method["kind"].as_str().unwrap_or("") {
        "nequi" => "su Nequi",
        "daviplata" => "su Daviplata",
        "bank" => "su cuenta bancaria",
        _ => "su llave Bre-B",
    };
    format!(
        "El banco no pudo entregar el pago a {what} terminado en {}. El dinero volvió a su saldo \
         y sale en el próximo pago. Revise que sus datos de pago estén bien y activos y, si no, \
         cámbielos en su perfil.",
        masked(method).trim_start_matches('*')
    )
}

/// One of her assignments with its task's pricing, as stored.
#[derive(sqlx::FromRow)]
struct AssignmentRow {
    id: String,
    title: String,
    company_name: String,
    status: String,
    pricing_kind: String,
    rate_centavos: Option<i64>,
    price_centavos: Option<i64>,
    logged_seconds: Option<i64>,
    approved_seconds: Option<i64>,
    accrued_work: Option<i64>,
}

impl AssignmentRow {
    fn work(&self) -> AssignmentWork {
        AssignmentWork {
            status: AssignmentStatus::parse(&self.status),
            pricing: PricingKind::parse(&self.pricing_kind),
            rate: Cop::from_centavos(self.rate_centavos.unwrap_or(0)),
            price: Cop::from_centavos(self.price_centavos.unwrap_or(0)),
            logged_seconds: self.logged_seconds.unwrap_or(0),
            approved_seconds: self.approved_seconds.unwrap_or(0),
            accrued_work: self.accrued_work.map(Cop::from_centavos),
        }
    }
}

/// Every assignment of hers, newest first.
async fn assignment_rows(state: &AppState, worker: &str) -> Result<Vec<AssignmentRow>, ApiError> {
    Ok(on_db!(&state.db, |p| sqlx::query_as(
        "SELECT a.id, t.title, c.name AS company_name, a.status, t.pricing_kind, \
         t.rate_centavos, t.price_centavos, a.logged_seconds, a.approved_seconds, \
         (SELECT CAST(SUM(ac.work) AS BIGINT) FROM accruals ac WHERE ac.assignment_id = a.id) \
         AS accrued_work \
         FROM assignments a JOIN tasks t ON t.id = a.task_id \
         JOIN companies c ON c.id = a.company_id \
         WHERE a.worker_id = $1 ORDER BY a.id DESC"
    )
    .bind(worker)
    .fetch_all(p)
    .await)?)
}

/// Her payable balance in the ledger, and her payout lines paid and in transit.
async fn paid_out(state: &AppState, worker: &str) -> Result<PaidOut, ApiError> {
    let payable = Account::WorkerPayable(WorkerId::new(worker));
    let balance: i64 = on_db!(&state.db, |p| sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(credit), 0) - COALESCE(SUM(debit), 0) AS BIGINT) \
         FROM ledger_postings WHERE account_kind = $1 AND account_owner = $2"
    )
    .bind(payable.kind())
    .bind(payable.owner())
    .fetch_one(p)
    .await)?;
    let (paid, in_transit): (i64, i64) = on_db!(&state.db, |p| {
        sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(CASE WHEN l.status = $2 THEN l.amount ELSE 0 END), 0) \
             AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN l.status = $3 THEN l.amount ELSE 0 END), 0) \
             AS BIGINT) \
             FROM payout_lines l WHERE l.worker_id = $1",
        )
        .bind(worker)
        .bind(PayoutLineStatus::Paid.as_str())
        .bind(PayoutLineStatus::Pending.as_str())
        .fetch_one(p)
        .await
    })?;
    Ok(PaidOut {
        payable: Cop::from_centavos(balance),
        paid: Cop::from_centavos(paid),
        in_transit: Cop::from_centavos(in_transit),
    })
}

pub struct MyMoneyApi;

#[OpenApi(prefix_path = "/v1/me", tag = "ApiTags::Invoicing")]
impl MyMoneyApi {
    /// My earnings (worker)
    ///
    /// The signed-in worker's own money: awaiting review, approved not yet paid, paid, in
    /// transit and the balance of her payable account, and each assignment with its amount.
    /// Whole pesos as decimal strings. Other roles: 403.
    #[oai(path = "/earnings", method = "get")]
    async fn earnings(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<EarningsOk, ApiError> {
        let worker = worker_id(&auth.0)?;
        let rows = assignment_rows(&state, worker).await?;
        let work: Vec<AssignmentWork> = rows.iter().map(AssignmentRow::work).collect();
        let totals = earnings::summary(&work, paid_out(&state, worker).await?);
        let assignments = rows
            .into_iter()
            .zip(&work)
            .map(|(r, w)| AssignmentEarning {
                assignment_id: r.id,
                task_title: r.title,
                company_name: r.company_name,
                status: r.status,
                approved_seconds: w.shown_approved_seconds(),
                amount: w.amount().to_string(),
            })
            .collect();
        Ok(EarningsOk::Ok(Json(Earnings {
            pending_review: totals.pending_review.to_string(),
            approved_unpaid: totals.approved_unpaid.to_string(),
            paid: totals.paid.to_string(),
            in_transit: totals.in_transit.to_string(),
            balance_payable: totals.balance_payable.to_string(),
            assignments,
        })))
    }

    /// My payouts (worker)
    ///
    /// The signed-in worker's payout lines, newest first (`?limit=&cursor=`): when made and
    /// paid, the amount sent, the method with the destination masked, the status, and for a
    /// failed one why and what to do, in Spanish. Other roles: 403.
    #[oai(path = "/payouts", method = "get")]
    async fn payouts(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
    ) -> Result<MyPayoutsOk, ApiError> {
        let worker = worker_id(&auth.0)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        #[derive(sqlx::FromRow)]
        struct Row {
            id: String,
            amount: i64,
            withholding: i64,
            method: String,
            status: String,
            settled_at: Option<i64>,
            created_at: i64,
        }
        let rows: Vec<Row> = on_db!(&state.db, |p| {
            sqlx::query_as(AssertSqlSafe(
            "SELECT l.id, l.amount, l.withholding, l.method, l.status, l.settled_at, l.created_at \
             FROM payout_lines l JOIN payout_batches b ON b.id = l.batch_id \
             WHERE l.worker_id = $1 AND b.status <> $4 AND l.id < $2 \
             ORDER BY l.id DESC LIMIT $3"
        ))
        .bind(worker)
        .bind(page.before())
        .bind(page.fetch())
        .bind(PayoutBatchStatus::Building.as_str())
        .fetch_all(p)
        .await
        })?;
        let (rows, next_cursor) = page.finish(rows, |r| &r.id);
        let items = rows
            .into_iter()
            .map(|r| {
                let method: serde_json::Value = serde_json::from_str(&r.method).unwrap_or_default();
                let status = PayoutLineStatus::parse(&r.status);
                MyPayout {
                    id: r.id,
                    created_at: time::from_unix(r.created_at),
                    paid_at: (status == Some(PayoutLineStatus::Paid))
                        .then_some(r.settled_at)
                        .flatten()
                        .map(time::from_unix),
                    amount: LineFigures::stored(
                        Cop::from_centavos(r.amount),
                        Cop::from_centavos(r.withholding),
                    )
                    .net
                    .to_string(),
                    withholding: pesos(r.withholding),
                    method: method["kind"].as_str().unwrap_or("").to_string(),
                    destination_masked: masked(&method),
                    failure_reason: (status == Some(PayoutLineStatus::Failed))
                        .then(|| failure_reason_es(&method)),
                    status: r.status,
                }
            })
            .collect();
        Ok(MyPayoutsOk::Ok(Json(MyPayoutList { items, next_cursor })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_show_only_the_last_four() {
        let nequi = serde_json::json!({"kind": "nequi", "phone": "3105551234"});
        assert_eq!(masked(&nequi), "******1234");
        let bank = serde_json::json!({"kind": "bank", "bank": "Bancolombia",
            "account_type": "savings", "account_number": "12345678901"});
        assert_eq!(masked(&bank), "******8901");
        assert!(failure_reason_es(&nequi).contains("su Nequi terminado en 1234"));
    }
}
