//! Fixed documents: invoices and credit notes are rendered once from what was issued, stored
//! with their SHA-256 in `document_files`, and served from there ever after.

use vereda_contracts::money_states::CreditNoteStatus;
use vereda_contracts::statements::Month;
use vereda_contracts::support_weeks::Week;
use vereda_contracts::time;
use vereda_documents::{
    Electronic, IssuedInvoice, IssuedNote, IssuedSupportDocument, render_credit_note,
    render_invoice, render_support_document, resolution_es, support_document_filename,
};

use crate::config::Settings;
use crate::db::Db;
use crate::{electronic_documents, on_db};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedDocument {
    pub filename: String,
    pub bytes: Vec<u8>,
    /// Lower-case hex.
    pub sha256: String,
}

/// A stored document by the id of what it documents, if it was stored.
pub async fn stored(db: &Db, subject_id: &str) -> anyhow::Result<Option<FixedDocument>> {
    let row: Option<(String, Vec<u8>, String)> = on_db!(db, |p| sqlx::query_as(
        "SELECT filename, bytes, sha256 FROM document_files WHERE subject_id = $1"
    )
    .bind(subject_id)
    .fetch_optional(p)
    .await)?;
    Ok(row.map(|(filename, bytes, sha256)| FixedDocument {
        filename,
        bytes,
        sha256,
    }))
}

/// Store a rendered document once: whoever stores first wins, and everyone gets those bytes.
async fn store(
    db: &Db,
    subject_id: &str,
    kind: &str,
    filename: String,
    bytes: Vec<u8>,
) -> anyhow::Result<FixedDocument> {
    use sha2::Digest;
    let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
    on_db!(db, |p| sqlx::query(
        "INSERT INTO document_files (subject_id, kind, filename, bytes, sha256, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (subject_id) DO NOTHING"
    )
    .bind(subject_id)
    .bind(kind)
    .bind(&filename)
    .bind(&bytes)
    .bind(&sha256)
    .bind(time::unix(time::now()))
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    stored(db, subject_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("document {subject_id} was not stored"))
}

/// The invoice's fixed PDF, or `None` if there is no such invoice. Rendered the first time it
/// is asked for (by the e-mail of its issue, or a download), from the invoice's issue-time
/// figures, lines and customer only, then stored: every later download and e-mail carries the
/// same bytes, whatever is paid or credited afterwards.
pub async fn invoice_document(
    db: &Db,
    settings: &Settings,
    invoice_id: &str,
) -> anyhow::Result<Option<FixedDocument>> {
    if let Some(d) = stored(db, invoice_id).await? {
        return Ok(Some(d));
    }
    let row: Option<IssuedInvoice> = on_db!(db, |p| {
        sqlx::query_as(
        "SELECT i.number, i.period_end, i.work, i.fee, i.vat, i.total, i.vat_rate, i.issued_at, \
         i.due_at, COALESCE(i.customer_name, c.name) AS customer_name, \
         COALESCE(i.customer_nit, c.nit) AS customer_nit FROM invoices i \
         JOIN companies c ON c.id = i.company_id WHERE i.id = $1"
    )
    .bind(invoice_id)
    .fetch_optional(p)
    .await
    })?;
    let Some(inv) = row else {
        return Ok(None);
    };
    let lines: Vec<(String, i64, Option<i64>, i64, i64)> = on_db!(db, |p| sqlx::query_as(
        "SELECT task_title, seconds, rate, work, fee FROM invoice_lines WHERE invoice_id = $1 \
         ORDER BY assignment_id"
    )
    .bind(invoice_id)
    .fetch_all(p)
    .await)?;
    // The electronic document first, so the PDF (fixed once) carries its CUFE.
    let electronic = match electronic_documents::for_invoice(db, settings, invoice_id).await? {
        Ok(d) => {
            let resolution = resolution_id(db, invoice_id).await?;
            Some(printed(db, settings, "CUFE", d, resolution.as_deref()).await?)
        }
        Err(_) => None,
    };
    let pdf = render_invoice(&settings.issuer(), &inv, &lines, electronic.as_ref());
    let filename = format!("{}.pdf", inv.number);
    Ok(Some(store(db, invoice_id, "invoice", filename, pdf).await?))
}

/// What a PDF prints of its electronic document: the code, DIAN's lookup, the resolution.
async fn printed(
    db: &Db,
    settings: &Settings,
    code_name: &'static str,
    d: electronic_documents::Stored,
    resolution_id: Option<&str>,
) -> anyhow::Result<Electronic> {
    let resolution = match resolution_id {
        Some(id) => crate::resolutions::by_id(db, id).await?,
        None => None,
    };
    Ok(Electronic {
        code_name,
        lookup_url: settings.einvoice.environment.lookup_url(&d.code),
        code: d.code,
        resolution_es: resolution.map(|r| {
            let r = r.resolution;
            resolution_es(
                &r.number,
                &r.prefix,
                r.from,
                r.to,
                r.valid_from,
                r.valid_until,
            )
        }),
        signed: d.signed,
    })
}

async fn resolution_id(db: &Db, invoice_id: &str) -> anyhow::Result<Option<String>> {
    let id: Option<Option<String>> = on_db!(db, |p| sqlx::query_scalar(
        "SELECT resolution_id FROM invoices WHERE id = $1"
    )
    .bind(invoice_id)
    .fetch_optional(p)
    .await)?;
    Ok(id.flatten())
}

/// Why a credit note has no document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteDocument {
    Missing,
    /// Requested, not yet numbered and issued.
    NotIssued,
}

/// The issued credit note's fixed PDF (rendered once, stored, as invoices are).
pub async fn credit_note_document(
    db: &Db,
    settings: &Settings,
    note_id: &str,
) -> anyhow::Result<Result<FixedDocument, NoteDocument>> {
    if let Some(d) = stored(db, note_id).await? {
        return Ok(Ok(d));
    }
    let row: Option<IssuedNote> = on_db!(db, |p| sqlx::query_as(
        "SELECT n.number, n.status, n.reason, n.work, n.fee, n.vat, n.total, n.issued_at, \
         i.number AS invoice_number, i.issued_at AS invoice_issued_at, i.vat_rate, \
         COALESCE(i.customer_name, c.name) AS customer_name, \
         COALESCE(i.customer_nit, c.nit) AS customer_nit \
         FROM credit_notes n JOIN invoices i ON i.id = n.invoice_id \
         JOIN companies c ON c.id = i.company_id WHERE n.id = $1"
    )
    .bind(note_id)
    .fetch_optional(p)
    .await)?;
    let Some(note) = row else {
        return Ok(Err(NoteDocument::Missing));
    };
    let (Some(number), Some(issued_at), Some(CreditNoteStatus::Issued)) = (
        note.number.clone(),
        note.issued_at,
        CreditNoteStatus::parse(&note.status),
    ) else {
        return Ok(Err(NoteDocument::NotIssued));
    };
    let electronic = match electronic_documents::for_credit_note(db, settings, note_id).await? {
        Ok(d) => Some(printed(db, settings, "CUDE", d, None).await?),
        Err(_) => None,
    };
    let pdf = render_credit_note(
        &settings.issuer(),
        &note,
        &number,
        issued_at,
        electronic.as_ref(),
    );
    let filename = format!("{number}.pdf");
    Ok(Ok(store(db, note_id, "credit_note", filename, pdf).await?))
}

/// A documento soporte (or nota de ajuste) as a PDF, rendered now from what was issued: its
/// lines as written with it and the worker as it printed her (pinned if her data was deleted
/// since), with its CUDS and resolution once its electronic document exists. `None`: no such
/// document.
pub async fn support_document_pdf(
    db: &Db,
    settings: &Settings,
    id: &str,
) -> anyhow::Result<Option<(String, Vec<u8>)>> {
    type Row = (
        String,
        String,
        i64,
        Option<String>,
        String,
        String,
        Option<String>,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let row: Option<Row> = on_db!(db, |p| sqlx::query_as(
        "SELECT s.number, s.kind, s.issued_at, s.week_start, s.month, \
         COALESCE(s.worker_name, u.name, ''), COALESCE(s.worker_document, w.document_id), \
         s.amount, s.resolution_id, d.number, s.reason FROM support_documents s \
         JOIN worker_profiles w ON w.id = s.worker_id \
         LEFT JOIN support_documents d ON d.id = s.adjusts_id \
         LEFT JOIN users u ON u.worker_id = s.worker_id WHERE s.id = $1"
    )
    .bind(id)
    .fetch_optional(p)
    .await)?;
    let Some((
        number,
        kind,
        issued_at,
        week_start,
        month,
        name,
        cedula,
        amount,
        resolution,
        corrects,
        reason,
    )) = row
    else {
        return Ok(None);
    };
    let lines: Vec<(String, i64, String)> = on_db!(db, |p| sqlx::query_as(
        "SELECT description, amount, first_day FROM support_document_lines \
         WHERE support_document_id = $1 ORDER BY line"
    )
    .bind(id)
    .fetch_all(p)
    .await)?;
    let made = if kind == "document" {
        electronic_documents::for_support_document(db, settings, id).await?
    } else {
        electronic_documents::for_support_adjustment(db, settings, id).await?
    };
    let electronic = match made {
        Ok(d) => Some(printed(db, settings, "CUDS", d, resolution.as_deref()).await?),
        Err(_) => None,
    };
    let issued = IssuedSupportDocument {
        number,
        kind,
        issued_at,
        period_es: match week_start.as_deref().and_then(Week::parse) {
            Some(week) => format!("semana del {}", week.label_es()),
            // A monthly document from before weeks.
            None => Month::parse(&month).map_or(month, |m| m.name_es()),
        },
        worker_name: name,
        worker_document: cedula,
        lines,
        amount,
        corrects: corrects.map(|n| (n, reason.unwrap_or_default())),
    };
    let pdf = render_support_document(&settings.issuer(), &issued, electronic.as_ref());
    Ok(Some((support_document_filename(&issued), pdf)))
}
