//! E-mail: an outbox table, a send job and a sweep.
//!
//! Every message is a row in `outbox_messages` written together with the fact it tells of
//! ([`outbox`]), with its text already composed in Spanish ([`messages`]); a PDF it carries is
//! rendered when it is sent. The send job claims the row, sends it over SMTP
//! (`VEREDA_SMTP_URL`) or writes it as an `.eml` file under `data/outbox/` when no server is
//! configured, and records the outcome: sent, a retry with backoff, or failed for good (shown
//! to admin). The sweep ([`sweep`]) turns notification events and new invoices and payouts into
//! messages and queues due retries.

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{BoxDynError, Data};
use apalis_cron::Tick;
use lettre::message::header::ContentType;
use lettre::message::{Attachment as MailAttachment, Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use vereda_contracts::jobs::{MailSweep, SendEmail};
use vereda_contracts::time;
use vereda_store::config::Settings;
use vereda_store::db::Db;

use vereda_store::outbox::{self, Attachment, Claimed};
use vereda_store::{document_files, queue, stored_statements};

mod sweep;

pub use sweep::{SweepReport, sweep};

/// One SMTP conversation may take this long; well under the job timeout, so a slow server
/// ends in a recorded failure rather than a killed job.
const SMTP_TIMEOUT: Duration = Duration::from_secs(60);

/// What a send job did.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SendOutcome {
    Sent,
    /// Not pending and due: sent already, being sent by another run, or failed.
    NotDue,
    WillRetry,
    Failed,
}

/// Why a send did not go through.
enum SendError {
    /// Worth trying again later (connection refused, 4xx).
    Transient(String),
    /// Will never work (a bad address, 5xx, a document that is gone).
    Permanent(String),
}

/// Send one outbox message, at most once.
pub async fn send(db: &Db, settings: &Settings, id: &str, now: i64) -> anyhow::Result<SendOutcome> {
    let Some(msg) = outbox::claim(db, id, now).await? else {
        return Ok(SendOutcome::NotDue);
    };
    let result = match build(db, settings, &msg).await {
        Ok(email) => deliver(settings, email).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            outbox::mark_sent(db, id, time::unix(time::now())).await?;
            tracing::info!(message = %id, attempt = msg.attempt, "e-mail sent");
            Ok(SendOutcome::Sent)
        }
        Err(SendError::Transient(e)) if msg.attempt < outbox::MAX_SEND_ATTEMPTS => {
            let retry_at = time::unix(time::now()) + outbox::backoff_secs(msg.attempt);
            // The reason stays in the outbox (it can name the recipient), not in the log.
            tracing::warn!(message = %id, attempt = msg.attempt, "e-mail not sent; will retry");
            outbox::mark_failed(db, id, &e, Some(retry_at)).await?;
            Ok(SendOutcome::WillRetry)
        }
        Err(SendError::Transient(e) | SendError::Permanent(e)) => {
            tracing::error!(message = %id, attempt = msg.attempt, "e-mail failed for good");
            outbox::mark_failed(db, id, &e, None).await?;
            Ok(SendOutcome::Failed)
        }
    }
}

/// The MIME message: text and HTML alternatives, and the PDF when there is one. The outbox id
/// is the Message-ID, so a receiving server can tell a repeat from a new message.
async fn build(db: &Db, settings: &Settings, msg: &Claimed) -> Result<Message, SendError> {
    let bad = |what: &str, e: &dyn std::fmt::Display| SendError::Permanent(format!("{what}: {e}"));
    let from: Mailbox = settings
        .mail_from
        .parse()
        .map_err(|e| bad("sender address", &e))?;
    let to: Mailbox = msg
        .recipient
        .parse()
        .map_err(|e| bad("recipient address", &e))?;
    let domain = from.email.domain().to_string();
    let body = MultiPart::alternative_plain_html(msg.text.clone(), msg.html.clone());
    let body = match &msg.attachment {
        None => body,
        Some(a) => {
            let (filename, bytes) = render(db, settings, a).await?;
            let kind = if filename.ends_with(".zip") {
                "application/zip"
            } else {
                "application/pdf"
            };
            let kind = ContentType::parse(kind).map_err(|e| bad("content type", &e))?;
            MultiPart::mixed()
                .multipart(body)
                .singlepart(MailAttachment::new(filename).body(bytes, kind))
        }
    };
    Message::builder()
        .message_id(Some(format!("<{}@{domain}>", msg.id)))
        .from(from)
        .to(to)
        .subject(msg.subject.clone())
        .date_now()
        .multipart(body)
        .map_err(|e| bad("message", &e))
}

/// The attached document, rendered now from the stored records.
async fn render(
    db: &Db,
    settings: &Settings,
    a: &Attachment,
) -> Result<(String, Vec<u8>), SendError> {
    let transient = |e: anyhow::Error| SendError::Transient(format!("rendering the document: {e}"));
    let gone = || SendError::Permanent("the attached document no longer exists".to_string());
    match a {
        Attachment::Statement(id) => {
            let s = stored_statements::load_by_id(db, id)
                .await
                .map_err(transient)?
                .ok_or_else(gone)?;
            let name = vereda_documents::statement_filename(&s);
            Ok((
                name,
                vereda_documents::statement_pdf(&settings.issuer(), &s),
            ))
        }
        // Fixed documents: the stored bytes, the same a download gives; with its electronic
        // version, both in one ZIP.
        Attachment::Invoice(id) => {
            let d = document_files::invoice_document(db, settings, id)
                .await
                .map_err(transient)?
                .ok_or_else(gone)?;
            with_electronic(db, id, d).await.map_err(transient)
        }
        Attachment::Document(id) => {
            let d = document_files::stored(db, id)
                .await
                .map_err(transient)?
                .ok_or_else(gone)?;
            with_electronic(db, id, d).await.map_err(transient)
        }
    }
}

/// The PDF alone, or, when the document has an electronic version, `<number>.zip` holding its
/// XML and the PDF (the same bytes a download gives).
async fn with_electronic(
    db: &Db,
    subject_id: &str,
    pdf: document_files::FixedDocument,
) -> anyhow::Result<(String, Vec<u8>)> {
    let Some(e) = vereda_store::electronic_documents::stored(db, subject_id).await? else {
        return Ok((pdf.filename, pdf.bytes));
    };
    let zip = zip_of(&[(e.filename().as_str(), &e.xml), (&pdf.filename, &pdf.bytes)])?;
    Ok((format!("{}.zip", e.number), zip))
}

/// A ZIP of `files` (name, bytes), deflated.
pub fn zip_of(files: &[(&str, &[u8])]) -> anyhow::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        zip.start_file(*name, options)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// Whether the configured SMTP server answers (connects and greets); `Ok(false)` when no SMTP
/// is configured (mail is written to the outbox folder).
pub async fn smtp_answers(settings: &Settings) -> Result<bool, String> {
    let Some(url) = &settings.smtp_url else {
        return Ok(false);
    };
    let transport: AsyncSmtpTransport<Tokio1Executor> =
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
            .map_err(|e| format!("VEREDA_SMTP_URL: {e}"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
    match transport.test_connection().await {
        Ok(true) => Ok(true),
        Ok(false) => Err("the server did not answer".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Hand the message to the SMTP server, or write it to the outbox folder.
async fn deliver(settings: &Settings, email: Message) -> Result<(), SendError> {
    match &settings.smtp_url {
        Some(url) => {
            let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                .map_err(|e| SendError::Permanent(format!("VEREDA_SMTP_URL: {e}")))?
                .timeout(Some(SMTP_TIMEOUT))
                .build();
            transport.send(email).await.map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    SendError::Permanent(e.to_string())
                } else {
                    SendError::Transient(e.to_string())
                }
            })
        }
        None => {
            let dir = settings.outbox_dir();
            tokio::fs::create_dir_all(&dir)
                .await
                .map_err(|e| SendError::Transient(format!("{}: {e}", dir.display())))?;
            AsyncFileTransport::<Tokio1Executor>::new(dir)
                .send(email)
                .await
                .map(|_| ())
                .map_err(|e| SendError::Transient(e.to_string()))
        }
    }
}

pub(crate) async fn run_send(
    job: SendEmail,
    db: Data<Db>,
    settings: Data<Arc<Settings>>,
) -> Result<SendOutcome, BoxDynError> {
    Ok(send(&db, &settings, &job.message_id, time::unix(time::now())).await?)
}

pub(crate) async fn run_sweep(
    _job: MailSweep,
    db: Data<Db>,
    settings: Data<Arc<Settings>>,
) -> Result<SweepReport, BoxDynError> {
    let report = sweep(&db, &settings, time::unix(time::now())).await?;
    if report.messages > 0 {
        tracing::info!(messages = report.messages, "e-mail messages written");
    }
    Ok(report)
}

/// The sweep clock's handler: one sweep job per tick, however many processes tick.
pub(crate) async fn on_mail_tick(tick: Tick, db: Data<Db>) -> Result<(), BoxDynError> {
    queue::push(
        &db,
        MailSweep::QUEUE,
        &MailSweep::default(),
        None,
        Some(&format!("mail-sweep:{}", tick.get_timestamp())),
    )
    .await?;
    Ok(())
}
