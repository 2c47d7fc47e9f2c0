//! The e-mail sweep: facts recorded elsewhere become outbox messages, once each.
//!
//! - Notification events (written by the marketplace with each change) are turned into
//!   messages and marked processed in one transaction.
//! - Invoices and credit notes issued and payout lines sent are found by scanning for ones
//!   without their message (the money jobs know nothing of e-mail); the message key is the
//!   invoice, note or line. A credit note's PDF is fixed (stored) before its message is written.
//! - Sends that are due (retries) or were interrupted are queued again.
//!
//! Facts older than [`LOOKBACK_SECS`] are not mailed: news that old is no longer news, and a
//! database that predates this sweep must not mail its whole history.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vereda_contracts::business_days;
use vereda_contracts::fair_work::{self, AppealKind, ReasonCode};
use vereda_contracts::marketplace::PricingKind;
use vereda_contracts::money::{Cop, hourly_earnings};
use vereda_contracts::money_states::{InvoiceStatus, PayoutBatchStatus, PayoutLineStatus};
use vereda_contracts::review::display_name;
use vereda_store::config::Settings;
use vereda_store::db::{Db, Tx};
use vereda_store::{on_db, on_tx};

use vereda_documents::mail::{self as messages, Content, Outcome};
use vereda_store::outbox::{self, Attachment, NewMessage};

const LOOKBACK_SECS: i64 = 3 * 86_400;
/// Events handled per sweep; the rest wait for the next one.
const EVENT_BATCH: i64 = 200;

/// What one sweep did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SweepReport {
    pub events: u64,
    pub messages: u64,
    pub sends_queued: u64,
}

pub async fn sweep(db: &Db, settings: &Settings, now: i64) -> anyhow::Result<SweepReport> {
    let (events, from_events) = events_to_messages(db, settings, now).await?;
    let digests = digests_to_messages(db, settings, now).await?;
    let invoices = invoices_to_messages(db, settings, now).await?;
    let notes = credit_notes_to_messages(db, settings, now).await?;
    let payouts = payouts_to_messages(db, settings, now).await?
        + failed_payouts_to_messages(db, settings, now).await?
        + payout_notices_to_messages(db, settings, now).await?;
    let sends_queued = outbox::requeue_due(db, now).await?;
    Ok(SweepReport {
        events,
        messages: from_events + digests + invoices + notes + payouts,
        sends_queued,
    })
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: String,
    kind: String,
    assignment_id: Option<String>,
    payload: String,
    created_at: i64,
}

/// What a message about an assignment needs to say.
#[derive(sqlx::FromRow)]
struct AssignmentInfo {
    company_id: String,
    title: String,
    pricing_kind: String,
    rate_centavos: Option<i64>,
    price_centavos: Option<i64>,
    submitted_at: Option<i64>,
    review_due_at: Option<i64>,
    logged_seconds: Option<i64>,
    /// The worker's user.
    user_id: String,
    name: String,
    email: String,
}

async fn events_to_messages(db: &Db, settings: &Settings, now: i64) -> anyhow::Result<(u64, u64)> {
    // Look before taking the write lock: most sweeps find nothing to do.
    let waiting: Option<String> = on_db!(db, |p| sqlx::query_scalar(
        "SELECT id FROM notification_events WHERE processed_at IS NULL LIMIT 1"
    )
    .fetch_optional(p)
    .await)?;
    if waiting.is_none() {
        return Ok((0, 0));
    }
    let mut tx = db.begin().await?;
    let events: Vec<EventRow> = on_tx!(&mut tx, |c| sqlx::query_as(
        "SELECT id, kind, assignment_id, payload, created_at FROM notification_events \
         WHERE processed_at IS NULL ORDER BY id LIMIT $1"
    )
    .bind(EVENT_BATCH)
    .fetch_all(&mut *c)
    .await)?;
    let mut written = 0;
    for e in &events {
        if e.created_at >= now - LOOKBACK_SECS {
            written += event_messages(&mut tx, settings, e, now).await?;
        }
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE notification_events SET processed_at = $1 WHERE id = $2 AND processed_at IS NULL"
        )
        .bind(now)
        .bind(&e.id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
        })?;
    }
    tx.commit().await?;
    Ok((events.len() as u64, written))
}

async fn event_messages(
    tx: &mut Tx,
    settings: &Settings,
    e: &EventRow,
    now: i64,
) -> anyhow::Result<u64> {
    let Some(assignment_id) = &e.assignment_id else {
        return Ok(0);
    };
    let info: Option<AssignmentInfo> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT a.company_id, t.title, t.pricing_kind, t.rate_centavos, t.price_centavos, \
         a.submitted_at, a.review_due_at, a.logged_seconds, \
         u.id AS user_id, u.name, u.email FROM assignments a \
         JOIN tasks t ON t.id = a.task_id JOIN users u ON u.worker_id = a.worker_id \
         WHERE a.id = $1"
    )
    .bind(assignment_id)
    .fetch_optional(&mut *c)
    .await)?;
    let Some(info) = info else {
        return Ok(0);
    };
    let payload: Value = serde_json::from_str(&e.payload).unwrap_or_default();
    let to_worker = |content: Content| (info.user_id.clone(), info.email.clone(), content);
    let messages: Vec<(String, String, Content)> = match e.kind.as_str() {
        // Work that passed the checks and waits for review (recorded at verification): one
        // e-mail to each member who asked for one per submission; the others' digest.
        "submission_received" => {
            // (user id, name, e-mail, non_essential, submissions), no row: the defaults.
            type Member = (String, String, String, Option<bool>, Option<String>);
            let members: Vec<Member> = on_tx!(tx, |c| sqlx::query_as(
                "SELECT u.id, u.name, u.email, p.non_essential, p.submissions FROM users u \
                     LEFT JOIN email_preferences p ON p.user_id = u.id \
                     WHERE u.role = 'company' AND u.company_id = $1 \
                     AND u.deactivated_at IS NULL AND u.removed_at IS NULL ORDER BY u.id"
            )
            .bind(&info.company_id)
            .fetch_all(&mut *c)
            .await)?;
            let ready = messages::ReadySubmission {
                task_title: &info.title,
                worker_name: &info.name,
                submitted_at: info.submitted_at.unwrap_or(e.created_at),
                review_due_at: info.review_due_at,
            };
            let mut out = Vec::new();
            for (id, name, email, non_essential, submissions) in members {
                if non_essential == Some(false) {
                    continue;
                }
                if submissions.as_deref() == Some("each") {
                    let content = messages::submission_received(&settings.issuer(), &name, &ready);
                    out.push((id, email, content));
                } else {
                    on_tx!(tx, |c| sqlx::query(
                        "INSERT INTO submission_digest_items (id, user_id, assignment_id, \
                         event_id, created_at) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (event_id, user_id) DO NOTHING"
                    )
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(&id)
                    .bind(assignment_id)
                    .bind(&e.id)
                    .bind(e.created_at)
                    .execute(&mut *c)
                    .await
                    .map(|r| r.rows_affected()))?;
                }
            }
            out
        }
        "review_outcome" => {
            let reason = payload["reason"].as_str().unwrap_or("sin motivo indicado");
            let outcome = match payload["decision"].as_str().unwrap_or("") {
                "approve" | "approved" => {
                    let seconds = payload["approved_seconds"].as_i64().unwrap_or(0);
                    let pricing = PricingKind::parse(&info.pricing_kind);
                    let amount = match pricing {
                        PricingKind::Hourly => hourly_earnings(
                            seconds,
                            Cop::from_centavos(info.rate_centavos.unwrap_or(0)),
                        ),
                        PricingKind::Fixed => Cop::from_centavos(info.price_centavos.unwrap_or(0)),
                    };
                    Outcome::Approved(messages::Approval {
                        pricing,
                        approved_seconds: seconds,
                        logged_seconds: info.logged_seconds.unwrap_or(seconds),
                        amount,
                        reason: payload["reason"].as_str(),
                    })
                }
                "reject" | "rejected" | "rejection_held" => {
                    let held = payload["decision"] == "rejection_held";
                    Outcome::Rejected(messages::SentBack {
                        held_until: held.then(|| {
                            business_days::deadline(e.created_at, fair_work::DECISION_BUSINESS_DAYS)
                        }),
                        appeal_until: (!held).then(|| {
                            business_days::deadline(
                                e.created_at,
                                fair_work::APPEAL_WINDOW_BUSINESS_DAYS,
                            )
                        }),
                        ..sent_back(&payload, reason)
                    })
                }
                _ => Outcome::ChangesRequested {
                    sent: sent_back(&payload, reason),
                    by_checks: payload["by"] == "verification",
                },
            };
            vec![to_worker(messages::review_outcome(
                &settings.issuer(),
                &info.name,
                &info.title,
                outcome,
            ))]
        }
        "appeal_filed" | "rejection_held" => {
            let due_at = payload["due_at"].as_i64().unwrap_or(e.created_at);
            let worker = display_name(&info.name);
            let kind_es = AppealKind::parse(payload["kind"].as_str().unwrap_or(""))
                .unwrap_or(AppealKind::Rejection)
                .label_es();
            let reason = payload["reason"].as_str().unwrap_or("");
            let mut out = Vec::new();
            for (id, name, email) in company_people(tx, &info.company_id).await? {
                let content = if e.kind == "rejection_held" {
                    messages::rejection_held(
                        &settings.issuer(),
                        &name,
                        &info.title,
                        &worker,
                        due_at,
                    )
                } else {
                    messages::appeal_filed(
                        &settings.issuer(),
                        &name,
                        &info.title,
                        &worker,
                        kind_es,
                        reason,
                        due_at,
                    )
                };
                out.push((id, email, content));
            }
            out
        }
        "appeal_decided" => {
            let kind = AppealKind::parse(payload["kind"].as_str().unwrap_or(""))
                .unwrap_or(AppealKind::Rejection);
            let decision = messages::AppealDecision {
                task_title: &info.title,
                kind_es: kind.the_es(),
                restores_hours: kind == AppealKind::Cut,
                overturned: payload["overturned"] == true,
                decision: payload["decision"].as_str().unwrap_or(""),
                paid: payload["paid_centavos"].as_i64().map(Cop::from_centavos),
                to_worker: true,
            };
            let mut out = vec![to_worker(messages::appeal_decided(
                &settings.issuer(),
                &info.name,
                &decision,
            ))];
            let to_company = messages::AppealDecision {
                to_worker: false,
                ..decision
            };
            for (id, name, email) in company_people(tx, &info.company_id).await? {
                let content = messages::appeal_decided(&settings.issuer(), &name, &to_company);
                out.push((id, email, content));
            }
            out
        }
        "claim_expiring_soon" => {
            let expires_at = payload["expires_at"].as_i64().unwrap_or(0);
            if expires_at > now && outbox::wants_optional(tx, &info.user_id).await? {
                vec![to_worker(messages::claim_expiring(
                    &settings.issuer(),
                    &info.name,
                    &info.title,
                    expires_at,
                ))]
            } else {
                vec![]
            }
        }
        "claim_cancelled" => {
            if outbox::wants_optional(tx, &info.user_id).await? {
                vec![to_worker(messages::claim_cancelled(
                    &settings.issuer(),
                    &info.name,
                    &info.title,
                ))]
            } else {
                vec![]
            }
        }
        _ => vec![],
    };
    let mut written = 0;
    for (user_id, address, content) in messages {
        let m = NewMessage {
            dedupe_key: format!("event:{}:{user_id}", e.id),
            kind: &e.kind,
            recipient: &address,
            user_id: Some(&user_id),
            content,
            attachment: None,
        };
        written += u64::from(outbox::enqueue(tx, m, now).await?.is_some());
    }
    Ok(written)
}

/// Why work was sent back, from a review event's payload.
fn sent_back<'a>(payload: &'a Value, reason: &'a str) -> messages::SentBack<'a> {
    messages::SentBack {
        reason,
        code_es: payload["reason_code"]
            .as_str()
            .and_then(ReasonCode::parse)
            .map(ReasonCode::label_es),
        criteria: payload["criteria_not_met"]
            .as_array()
            .map(|c| {
                c.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        ..Default::default()
    }
}

/// The company's active owners and reviewers (id, name, e-mail): who decides its work.
async fn company_people(
    tx: &mut Tx,
    company_id: &str,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query_as(
        "SELECT id, name, email FROM users WHERE role = 'company' AND company_id = $1 \
         AND member_role IN ('owner', 'reviewer') AND deactivated_at IS NULL \
         AND removed_at IS NULL ORDER BY id"
    )
    .bind(company_id)
    .fetch_all(&mut *c)
    .await)
}

/// The start of the clock hour `now` falls in (Bogotá is a whole number of hours from UTC).
fn hour_start(now: i64) -> i64 {
    now - now.rem_euclid(3600)
}

/// Members taking submissions as a digest get one e-mail for everything that became ready
/// before the current hour began: at most one an hour, each telling of the hour before.
/// Submissions reviewed meanwhile are left out (and one with nothing left is not sent).
async fn digests_to_messages(db: &Db, settings: &Settings, now: i64) -> anyhow::Result<u64> {
    let before = hour_start(now);
    let users: Vec<String> = on_db!(db, |p| sqlx::query_scalar(
        "SELECT DISTINCT user_id FROM submission_digest_items \
         WHERE digested_at IS NULL AND created_at < $1 ORDER BY user_id LIMIT $2"
    )
    .bind(before)
    .bind(EVENT_BATCH)
    .fetch_all(p)
    .await)?;
    let mut written = 0;
    for user_id in users {
        let mut tx = db.begin().await?;
        // Taking the items is what claims them: a concurrent sweep takes none of these.
        let items: Vec<(String, String)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "UPDATE submission_digest_items SET digested_at = $1 \
             WHERE user_id = $2 AND digested_at IS NULL AND created_at < $3 \
             RETURNING id, assignment_id"
        )
        .bind(now)
        .bind(&user_id)
        .bind(before)
        .fetch_all(&mut *c)
        .await)?;
        let Some(first) = items.iter().map(|(id, _)| id.clone()).min() else {
            tx.rollback().await?;
            continue;
        };
        // Still a company member who wants marketplace news; otherwise the items just go.
        let person: Option<(String, String)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT name, email FROM users WHERE id = $1 AND role = 'company' \
             AND deactivated_at IS NULL AND removed_at IS NULL"
        )
        .bind(&user_id)
        .fetch_optional(&mut *c)
        .await)?;
        let wanted = outbox::wants_optional(&mut tx, &user_id).await?;
        if let Some((name, address)) = person.filter(|_| wanted) {
            let mut ready: Vec<(String, String, i64, Option<i64>)> = Vec::new();
            for (_, assignment_id) in &items {
                let row: Option<(String, String, Option<i64>, Option<i64>)> =
                    on_tx!(&mut tx, |c| sqlx::query_as(
                        "SELECT t.title, u.name, a.submitted_at, a.review_due_at \
                         FROM assignments a JOIN tasks t ON t.id = a.task_id \
                         JOIN users u ON u.worker_id = a.worker_id \
                         WHERE a.id = $1 AND a.status = 'verified'"
                    )
                    .bind(assignment_id)
                    .fetch_optional(&mut *c)
                    .await)?;
                if let Some((title, worker, submitted_at, due)) = row {
                    ready.push((title, worker, submitted_at.unwrap_or(now), due));
                }
            }
            ready.sort_by_key(|r| r.2);
            let lines: Vec<messages::ReadySubmission<'_>> = ready
                .iter()
                .map(
                    |(title, worker, submitted_at, due)| messages::ReadySubmission {
                        task_title: title,
                        worker_name: worker,
                        submitted_at: *submitted_at,
                        review_due_at: *due,
                    },
                )
                .collect();
            if !lines.is_empty() {
                let m = NewMessage {
                    dedupe_key: format!("submission_digest:{user_id}:{first}"),
                    kind: "submission_digest",
                    recipient: &address,
                    user_id: Some(&user_id),
                    content: messages::submissions_digest(&settings.issuer(), &name, &lines),
                    attachment: None,
                };
                written += u64::from(outbox::enqueue(&mut tx, m, now).await?.is_some());
            }
        }
        tx.commit().await?;
    }
    Ok(written)
}

async fn invoices_to_messages(db: &Db, settings: &Settings, now: i64) -> anyhow::Result<u64> {
    type Row = (String, String, i64, i64, String, String, bool);
    let rows: Vec<Row> = on_db!(db, |p| sqlx::query_as(
        "SELECT i.id, i.number, i.total, i.due_at, c.name, c.billing_email, \
         i.resolution_id IS NOT NULL FROM invoices i \
         JOIN companies c ON c.id = i.company_id \
         WHERE i.issued_at >= $1 AND i.status <> $2 AND NOT EXISTS \
         (SELECT 1 FROM outbox_messages o WHERE o.dedupe_key = 'invoice_issued:' || i.id) \
         ORDER BY i.id"
    )
    .bind(now - LOOKBACK_SECS)
    .bind(InvoiceStatus::Void.as_str())
    .fetch_all(p)
    .await)?;
    let mut written = 0;
    for (id, number, total, due_at, company, address, electronic) in rows {
        let mut tx = db.begin().await?;
        let m = NewMessage {
            dedupe_key: format!("invoice_issued:{id}"),
            kind: "invoice_issued",
            recipient: &address,
            user_id: None,
            content: messages::invoice_issued(
                &settings.issuer(),
                &company,
                &number,
                Cop::from_centavos(total),
                due_at,
                electronic,
            ),
            attachment: Some(Attachment::Invoice(id.clone())),
        };
        written += u64::from(outbox::enqueue(&mut tx, m, now).await?.is_some());
        tx.commit().await?;
    }
    Ok(written)
}

/// Issued credit notes to their company's billing address, with the note's fixed PDF.
async fn credit_notes_to_messages(db: &Db, settings: &Settings, now: i64) -> anyhow::Result<u64> {
    type Row = (String, String, String, i64, String, String, String);
    // `'issued'` stays a literal: it is what lets the planner use the partial index
    // credit_notes_by_issue (a bound value would not match its WHERE).
    let rows: Vec<Row> = on_db!(db, |p| sqlx::query_as(
        "SELECT n.id, n.number, n.reason, n.total, i.number, c.name, c.billing_email \
         FROM credit_notes n JOIN invoices i ON i.id = n.invoice_id \
         JOIN companies c ON c.id = i.company_id \
         WHERE n.status = 'issued' AND n.issued_at >= $1 AND NOT EXISTS \
         (SELECT 1 FROM outbox_messages o WHERE o.dedupe_key = 'credit_note_issued:' || n.id) \
         ORDER BY n.id"
    )
    .bind(now - LOOKBACK_SECS)
    .fetch_all(p)
    .await)?;
    let mut written = 0;
    for (id, number, reason, total, invoice_number, company, address) in rows {
        // Fix the document first: the message carries exactly the bytes a download gives.
        if vereda_store::document_files::credit_note_document(db, settings, &id)
            .await?
            .is_err()
        {
            continue;
        }
        let mut tx = db.begin().await?;
        let m = NewMessage {
            dedupe_key: format!("credit_note_issued:{id}"),
            kind: "credit_note_issued",
            recipient: &address,
            user_id: None,
            content: messages::credit_note_issued(
                &settings.issuer(),
                &company,
                &number,
                &invoice_number,
                &reason,
                Cop::from_centavos(total),
            ),
            attachment: Some(Attachment::Document(id.clone())),
        };
        written += u64::from(outbox::enqueue(&mut tx, m, now).await?.is_some());
        tx.commit().await?;
    }
    Ok(written)
}

/// What a payout batch said about a worker (a payment held, a 4×1000 or PILA warning): she is
/// told once per notice.
async fn payout_notices_to_messages(db: &Db, settings: &Settings, now: i64) -> anyhow::Result<u64> {
    let rows: Vec<(String, bool, String, String, String, String)> = on_db!(db, |p| {
        sqlx::query_as(
            "SELECT n.id, n.held, n.message, u.id, u.name, u.email \
             FROM payout_notices n JOIN users u ON u.worker_id = n.worker_id \
             WHERE n.created_at >= $1 \
             AND NOT EXISTS (SELECT 1 FROM outbox_messages o \
                             WHERE o.dedupe_key = 'payout_notice:' || n.id) \
             ORDER BY n.id",
        )
        .bind(now - LOOKBACK_SECS)
        .fetch_all(p)
        .await
    })?;
    let mut written = 0;
    for (id, held, message, user_id, name, address) in rows {
        let mut tx = db.begin().await?;
        let m = NewMessage {
            dedupe_key: format!("payout_notice:{id}"),
            kind: "payout_notice",
            recipient: &address,
            user_id: Some(&user_id),
            content: messages::payout_notice(&settings.issuer(), &name, held, &message),
            attachment: None,
        };
        written += u64::from(outbox::enqueue(&mut tx, m, now).await?.is_some());
        tx.commit().await?;
    }
    Ok(written)
}

/// A payout line the bank failed: the worker is told the money is back on her balance and what
/// to fix (once per line).
async fn failed_payouts_to_messages(db: &Db, settings: &Settings, now: i64) -> anyhow::Result<u64> {
    let rows: Vec<(String, i64, i64, String, String, String, String)> = on_db!(db, |p| {
        sqlx::query_as(
            "SELECT l.id, l.amount, l.withholding, l.method, u.id, u.name, u.email \
             FROM payout_lines l JOIN users u ON u.worker_id = l.worker_id \
             WHERE l.status = $2 AND l.settled_at >= $1 \
             AND NOT EXISTS (SELECT 1 FROM outbox_messages o \
                             WHERE o.dedupe_key = 'payout_failed:' || l.id) \
             ORDER BY l.id",
        )
        .bind(now - LOOKBACK_SECS)
        .bind(PayoutLineStatus::Failed.as_str())
        .fetch_all(p)
        .await
    })?;
    let mut written = 0;
    for (id, amount, withholding, method, user_id, name, address) in rows {
        let method: Value = serde_json::from_str(&method).unwrap_or_default();
        let mut tx = db.begin().await?;
        let m = NewMessage {
            dedupe_key: format!("payout_failed:{id}"),
            kind: "payout_failed",
            recipient: &address,
            user_id: Some(&user_id),
            content: messages::payout_failed(
                &settings.issuer(),
                &name,
                Cop::from_centavos(amount - withholding),
                &method,
            ),
            attachment: None,
        };
        written += u64::from(outbox::enqueue(&mut tx, m, now).await?.is_some());
        tx.commit().await?;
    }
    Ok(written)
}

async fn payouts_to_messages(db: &Db, settings: &Settings, now: i64) -> anyhow::Result<u64> {
    // Lines of a batch still being built may yet change; wait until it is ready.
    let rows: Vec<(String, i64, i64, String, String, String, String)> = on_db!(db, |p| {
        sqlx::query_as(
            "SELECT l.id, l.amount, l.withholding, l.method, u.id, u.name, u.email \
             FROM payout_lines l JOIN payout_batches b ON b.id = l.batch_id \
             JOIN users u ON u.worker_id = l.worker_id \
             WHERE b.status <> $2 AND l.status <> $3 AND l.created_at >= $1 \
             AND NOT EXISTS (SELECT 1 FROM outbox_messages o \
                             WHERE o.dedupe_key = 'payout_sent:' || l.id) \
             ORDER BY l.id",
        )
        .bind(now - LOOKBACK_SECS)
        .bind(PayoutBatchStatus::Building.as_str())
        .bind(PayoutLineStatus::Failed.as_str())
        .fetch_all(p)
        .await
    })?;
    let mut written = 0;
    for (id, amount, withholding, method, user_id, name, address) in rows {
        let method: Value = serde_json::from_str(&method).unwrap_or_default();
        let mut tx = db.begin().await?;
        let m = NewMessage {
            dedupe_key: format!("payout_sent:{id}"),
            kind: "payout_sent",
            recipient: &address,
            user_id: Some(&user_id),
            content: messages::payout_sent(
                &settings.issuer(),
                &name,
                Cop::from_centavos(amount),
                Cop::from_centavos(withholding),
                &method,
            ),
            attachment: None,
        };
        written += u64::from(outbox::enqueue(&mut tx, m, now).await?.is_some());
        tx.commit().await?;
    }
    Ok(written)
}
