//! The outbox table: messages are written in the transaction of the fact they tell of, keyed by
//! that fact and recipient (written once), and sent by a job that first claims the row, so two
//! runs of the job never both send it.

use crate::db::{Db, Tx};
use crate::{on_db, on_tx};
use vereda_contracts::jobs::SendEmail;
use vereda_contracts::money_states::OutboxStatus;

use crate::queue;
use vereda_documents::mail::Content;

/// Sends are tried this often in all before the message is failed for good.
pub const MAX_SEND_ATTEMPTS: i64 = 6;
/// A claimed send not finished in this long is taken to have died and is tried again.
pub const LEASE_SECS: i64 = 10 * 60;

/// A document attached to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attachment {
    /// A statement version, rendered when the message is sent.
    Statement(String),
    /// An invoice: its fixed PDF (stored the first time it is rendered).
    Invoice(String),
    /// A fixed document already stored in `document_files` (e.g. a credit note), by the id of
    /// what it documents.
    Document(String),
}

impl Attachment {
    /// `(attachment_kind, attachment_id, attachment_document)` as stored.
    fn columns(&self) -> (Option<&'static str>, Option<String>, Option<String>) {
        match self {
            Attachment::Statement(id) => (Some("statement"), Some(id.clone()), None),
            Attachment::Invoice(id) => (Some("invoice"), Some(id.clone()), None),
            Attachment::Document(id) => (None, None, Some(id.clone())),
        }
    }

    fn from_columns(
        kind: Option<&str>,
        id: Option<String>,
        document: Option<String>,
    ) -> Option<Attachment> {
        match (kind, id, document) {
            (_, _, Some(d)) => Some(Attachment::Document(d)),
            (Some("statement"), Some(id), None) => Some(Attachment::Statement(id)),
            (Some("invoice"), Some(id), None) => Some(Attachment::Invoice(id)),
            _ => None,
        }
    }
}

pub struct NewMessage<'a> {
    /// The fact and recipient, e.g. `statement:<id>`; a second message with it is dropped.
    pub dedupe_key: String,
    pub kind: &'a str,
    pub recipient: &'a str,
    pub user_id: Option<&'a str>,
    pub content: Content,
    pub attachment: Option<Attachment>,
}

/// Whether mail to `address` can arrive: an anonymised account's address is in the reserved
/// `.invalid` domain (RFC 2606), and nothing is written for it.
pub fn deliverable(address: &str) -> bool {
    !address.to_ascii_lowercase().ends_with(".invalid")
}

/// Write a message and queue its send, in the caller's transaction. Returns its id, or `None`
/// when a message with the same key was written before (or the address cannot arrive).
pub async fn enqueue(tx: &mut Tx, m: NewMessage<'_>, now: i64) -> anyhow::Result<Option<String>> {
    if !deliverable(m.recipient) {
        return Ok(None);
    }
    let id = uuid::Uuid::now_v7().to_string();
    let (attachment_kind, attachment_id, attachment_document) = m
        .attachment
        .as_ref()
        .map_or((None, None, None), Attachment::columns);
    let inserted: Option<String> = on_tx!(tx, |c| {
        sqlx::query_scalar(
        "INSERT INTO outbox_messages (id, dedupe_key, kind, recipient, user_id, subject, body_text, \
         body_html, attachment_kind, attachment_id, status, next_attempt_at, created_at, \
         attachment_document) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $13, $11, $11, $12) \
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
    )
    .bind(&id)
    .bind(&m.dedupe_key)
    .bind(m.kind)
    .bind(m.recipient)
    .bind(m.user_id)
    .bind(&m.content.subject)
    .bind(&m.content.text)
    .bind(&m.content.html)
    .bind(attachment_kind)
    .bind(attachment_id.as_deref())
    .bind(now)
    .bind(attachment_document.as_deref())
    .bind(OutboxStatus::Pending.as_str())
    .fetch_optional(&mut *c)
    .await
    })?;
    if inserted.is_some() {
        push_send(tx, &id, 0).await?;
    }
    Ok(inserted)
}

/// Write many messages and queue their sends with a few multi-row statements, in the
/// caller's transaction. Returns the ids of those written (a message whose key was written
/// before, or to an address that cannot arrive, is dropped, as in [`enqueue`]).
pub async fn enqueue_many(
    tx: &mut Tx,
    ms: &[NewMessage<'_>],
    now: i64,
) -> anyhow::Result<Vec<String>> {
    let ms: Vec<&NewMessage<'_>> = ms.iter().filter(|m| deliverable(m.recipient)).collect();
    if ms.is_empty() {
        return Ok(Vec::new());
    }
    let mut values = Vec::with_capacity(ms.len());
    for i in 0..ms.len() {
        let b = i * 12;
        values.push(format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, '{}', ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5,
            b + 6,
            b + 7,
            b + 8,
            b + 9,
            b + 10,
            OutboxStatus::Pending,
            b + 11,
            b + 11,
            b + 12
        ));
    }
    let sql = format!(
        "INSERT INTO outbox_messages (id, dedupe_key, kind, recipient, user_id, subject, body_text, \
         body_html, attachment_kind, attachment_id, status, next_attempt_at, created_at, \
         attachment_document) VALUES {} ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        values.join(", ")
    );
    let ids: Vec<String> = ms
        .iter()
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    let inserted: Vec<String> = on_tx!(tx, |c| {
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()));
        for (m, id) in ms.iter().zip(&ids) {
            let (kind, attachment, document) = m
                .attachment
                .as_ref()
                .map_or((None, None, None), Attachment::columns);
            q = q
                .bind(id)
                .bind(&m.dedupe_key)
                .bind(m.kind)
                .bind(m.recipient)
                .bind(m.user_id)
                .bind(&m.content.subject)
                .bind(&m.content.text)
                .bind(&m.content.html)
                .bind(kind)
                .bind(attachment)
                .bind(now)
                .bind(document);
        }
        q.fetch_all(&mut *c).await
    })?;
    // The message ids were made just now, so their first send's key is new.
    let jobs: Vec<(SendEmail, String)> = inserted
        .iter()
        .map(|id| {
            (
                SendEmail {
                    message_id: id.clone(),
                },
                format!("email:{id}:0"),
            )
        })
        .collect();
    queue::push_new_in_tx(tx, SendEmail::QUEUE, &jobs).await?;
    Ok(inserted)
}

/// Queue the send of attempt `attempts + 1`; one job per message and attempt.
async fn push_send(tx: &mut Tx, id: &str, attempts: i64) -> anyhow::Result<()> {
    let job = SendEmail {
        message_id: id.to_string(),
    };
    queue::push_in_tx(
        tx,
        SendEmail::QUEUE,
        &job,
        None,
        Some(&format!("email:{id}:{attempts}")),
    )
    .await?;
    Ok(())
}

/// Whether a person wants optional mail (no preference stored: yes).
pub async fn wants_optional(tx: &mut Tx, user_id: &str) -> anyhow::Result<bool> {
    let pref: Option<bool> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT non_essential FROM email_preferences WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_optional(&mut *c)
    .await)?;
    Ok(pref.unwrap_or(true))
}

/// A message this process now has the right to send.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachment: Option<Attachment>,
    /// This attempt's number, from 1.
    pub attempt: i64,
}

type ClaimRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    Option<String>,
);

/// Claim a due message for sending. `None` if it is not pending and due: already sent, being
/// sent by another run, failed, or waiting for its next attempt.
pub async fn claim(db: &Db, id: &str, now: i64) -> anyhow::Result<Option<Claimed>> {
    let row: Option<ClaimRow> = on_db!(db, |p| {
        sqlx::query_as(
            "UPDATE outbox_messages SET status = $4, attempts = attempts + 1, lease_until = $2 \
         WHERE id = $1 AND status = $5 AND next_attempt_at <= $3 \
         RETURNING id, recipient, subject, body_text, body_html, attachment_kind, attachment_id, \
         attempts, attachment_document",
        )
        .bind(id)
        .bind(now + LEASE_SECS)
        .bind(now)
        .bind(OutboxStatus::Sending.as_str())
        .bind(OutboxStatus::Pending.as_str())
        .fetch_optional(p)
        .await
    })?;
    Ok(row.map(
        |(id, recipient, subject, text, html, kind, attachment_id, attempt, document)| Claimed {
            id,
            recipient,
            subject,
            text,
            html,
            attachment: Attachment::from_columns(kind.as_deref(), attachment_id, document),
            attempt,
        },
    ))
}

pub async fn mark_sent(db: &Db, id: &str, now: i64) -> anyhow::Result<()> {
    on_db!(db, |p| sqlx::query(
        "UPDATE outbox_messages SET status = $3, sent_at = $2, lease_until = NULL, \
         last_error = NULL WHERE id = $1 AND status = $4"
    )
    .bind(id)
    .bind(now)
    .bind(OutboxStatus::Sent.as_str())
    .bind(OutboxStatus::Sending.as_str())
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Record a failed attempt: back to pending at `retry_at`, or failed for good when `None`.
pub async fn mark_failed(
    db: &Db,
    id: &str,
    error: &str,
    retry_at: Option<i64>,
) -> anyhow::Result<()> {
    on_db!(db, |p| sqlx::query(
        "UPDATE outbox_messages SET status = $2, next_attempt_at = COALESCE($3, next_attempt_at), \
         lease_until = NULL, last_error = $4 WHERE id = $1 AND status = $5"
    )
    .bind(id)
    .bind(
        if retry_at.is_some() {
            OutboxStatus::Pending
        } else {
            OutboxStatus::Failed
        }
        .as_str(),
    )
    .bind(retry_at)
    .bind(error)
    .bind(OutboxStatus::Sending.as_str())
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Seconds to wait after failed attempt `n` (1-based): 1 min, 5 min, 30 min, 2 h, 6 h.
pub fn backoff_secs(attempt: i64) -> i64 {
    match attempt {
        ..=1 => 60,
        2 => 5 * 60,
        3 => 30 * 60,
        4 => 2 * 3600,
        _ => 6 * 3600,
    }
}

/// Sends whose process died are pending again, and every due pending message gets its send
/// queued (its key names the attempt, so a queued one is not queued twice). Returns how many
/// sends were queued.
pub async fn requeue_due(db: &Db, now: i64) -> anyhow::Result<u64> {
    on_db!(db, |p| sqlx::query(
        "UPDATE outbox_messages SET status = $2, next_attempt_at = $1, lease_until = NULL \
         WHERE status = $3 AND lease_until < $1"
    )
    .bind(now)
    .bind(OutboxStatus::Pending.as_str())
    .bind(OutboxStatus::Sending.as_str())
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    let due: Vec<(String, i64)> = on_db!(db, |p| {
        sqlx::query_as(
            "SELECT id, attempts FROM outbox_messages WHERE status = $2 AND next_attempt_at <= $1 \
         ORDER BY next_attempt_at, id LIMIT 500",
        )
        .bind(now)
        .bind(OutboxStatus::Pending.as_str())
        .fetch_all(p)
        .await
    })?;
    if due.is_empty() {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    for (id, attempts) in &due {
        push_send(&mut tx, id, *attempts).await?;
    }
    tx.commit().await?;
    Ok(due.len() as u64)
}

/// Try a message that failed for good once more, now: pending again and its send queued (the
/// key names its attempt count, which no send had yet). Its attempts are kept, so a new
/// failure is final again. `false` when the message is not failed (sent, pending or sending).
pub async fn retry(db: &Db, id: &str, now: i64) -> anyhow::Result<bool> {
    let mut tx = db.begin().await?;
    let attempts: Option<i64> = on_tx!(&mut tx, |c| sqlx::query_scalar(
        "UPDATE outbox_messages SET status = $2, next_attempt_at = $3 \
         WHERE id = $1 AND status = $4 RETURNING attempts"
    )
    .bind(id)
    .bind(OutboxStatus::Pending.as_str())
    .bind(now)
    .bind(OutboxStatus::Failed.as_str())
    .fetch_optional(&mut *c)
    .await)?;
    let Some(attempts) = attempts else {
        return Ok(false);
    };
    push_send(&mut tx, id, attempts).await?;
    tx.commit().await?;
    Ok(true)
}

/// E-mails still to send (pending, or being sent) and those given up on, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub pending: i64,
    pub failed: i64,
}

pub async fn counts(db: &Db) -> anyhow::Result<Counts> {
    let (pending, failed): (i64, i64) = on_db!(db, |p| {
        sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN status IN ('pending', 'sending') THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) FROM outbox_messages"
    )
    .fetch_one(p)
    .await
    })?;
    Ok(Counts { pending, failed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stops_growing() {
        let waits: Vec<i64> = (1..=7).map(backoff_secs).collect();
        assert!(waits.windows(2).all(|w| w[0] <= w[1]), "{waits:?}");
        assert_eq!(waits[0], 60);
        assert_eq!(waits[6], 6 * 3600);
    }
}
