//! Electronic documents (issue 19): each invoice and weekly documento soporte issued under a
//! DIAN numbering resolution, and each credit note of such an invoice, gets its UBL 2.1 XML
//! once, made from what was issued, checked
//! (totals re-added and code recomputed by `ubl::check`, and against the UBL 2.1 schemas when
//! `xmllint` is at hand), signed when a certificate is configured, stored in
//! `electronic_documents` and never touched after: whoever stores first wins and everyone
//! serves those bytes. Delivery hands it to the authorised provider ([`Provider`]; the default
//! writes files for the provider's uploader) and records DIAN's answer.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use vereda_contracts::electronic_documents::{Answer, AnswerRefusal, DeliveryState, answer};
use vereda_contracts::money::Cop;
use vereda_contracts::resolutions::DocumentKind;
use vereda_contracts::statements::{decimal_es, hours};
use vereda_contracts::time;
use vereda_contracts::timesheet::bogota_day;
use vereda_documents::ubl::{
    self, Discrepancy, ElectronicCreditNote, ElectronicInvoice, ElectronicSupportAdjustment,
    ElectronicSupportDocument, IdKind, InvoiceReference, MandateLine, Party, Resolution, Software,
    SupportLine, SupportReference,
};

use crate::config::Settings;
use crate::db::{Db, Tx};
use crate::{exec, exec_one, on_db, on_tx};

/// A stored electronic document.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Stored {
    pub subject_id: String,
    pub kind: String,
    pub number: String,
    /// CUFE, CUDE or CUDS.
    pub code: String,
    pub issued_on: String,
    pub xml: Vec<u8>,
    pub sha256: String,
    pub signed: bool,
    pub schema_checked: bool,
    pub state: String,
    pub state_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Stored {
    pub fn delivery_state(&self) -> DeliveryState {
        DeliveryState::parse(&self.state).unwrap_or(DeliveryState::Generated)
    }

    /// `SETP990000001.xml`.
    pub fn filename(&self) -> String {
        format!("{}.xml", self.number)
    }
}

/// Why a document has no electronic version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    Missing,
    /// A credit note requested, not yet numbered and issued.
    NotIssued,
    /// The invoice was numbered before any DIAN resolution was recorded (`VRD-…`): DIAN
    /// would not take it, so none is made.
    NoResolution,
    /// A credit note of an invoice that has no electronic version.
    InvoiceWithout,
    /// A monthly documento soporte (before weeks), or a nota de ajuste that names no
    /// document (the weekly notes that raised a week, before further documents did).
    NotElectronic,
    /// A nota de ajuste of a documento soporte that has no electronic version.
    DocumentWithout,
    /// The worker has no cédula on record: DIAN takes no documento soporte without the
    /// seller's id. Made once she has one.
    NoSellerId,
}

/// The stored document of `subject_id` (an invoice's or credit note's id), if made.
pub async fn stored(db: &Db, subject_id: &str) -> anyhow::Result<Option<Stored>> {
    Ok(on_db!(db, |p| sqlx::query_as(
        "SELECT subject_id, kind, number, code, issued_on, xml, sha256, signed, schema_checked, \
         state, state_reason, created_at, updated_at FROM electronic_documents \
         WHERE subject_id = $1"
    )
    .bind(subject_id)
    .fetch_optional(p)
    .await)?)
}

/// `901234567-7` as DIAN writes a NIT: the digits and the check digit apart.
fn nit_party(name: &str, nit: &str, email: Option<String>) -> Party {
    let (id, dv) = nit.split_once('-').unwrap_or((nit, ""));
    Party {
        name: name.to_string(),
        id_kind: IdKind::Nit,
        id: id.to_string(),
        check_digit: Some(dv.to_string()).filter(|d| !d.is_empty()),
        email,
    }
}

fn software(settings: &Settings) -> Software {
    Software {
        id: settings.einvoice.software_id.clone(),
        pin: settings.einvoice.software_pin.expose().to_string(),
        provider_nit: settings
            .platform_nit
            .split('-')
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

fn supplier(settings: &Settings) -> Party {
    let address = settings
        .mail_from
        .rsplit_once('<')
        .map_or(settings.mail_from.as_str(), |(_, a)| {
            a.trim_end_matches('>')
        })
        .trim()
        .to_string();
    nit_party(
        &settings.platform_name,
        &settings.platform_nit,
        Some(address),
    )
}

/// A recorded resolution as the document's `InvoiceControl` prints it.
fn control(r: vereda_contracts::resolutions::Resolution, technical_key: String) -> Resolution {
    Resolution {
        number: r.number,
        prefix: r.prefix,
        from: r.from,
        to: r.to,
        valid_from: r.valid_from,
        valid_until: r.valid_until,
        technical_key,
    }
}

#[derive(sqlx::FromRow)]
struct InvoiceRow {
    number: String,
    fee: i64,
    vat: i64,
    vat_rate: String,
    issued_at: i64,
    due_at: i64,
    customer_name: String,
    customer_nit: String,
    billing_email: String,
    resolution_id: Option<String>,
}

/// The invoice's electronic document, made (once) if it has none yet.
pub async fn for_invoice(
    db: &Db,
    settings: &Settings,
    invoice_id: &str,
) -> anyhow::Result<Result<Stored, Unavailable>> {
    if let Some(d) = stored(db, invoice_id).await? {
        return Ok(Ok(d));
    }
    let row: Option<InvoiceRow> = on_db!(db, |p| sqlx::query_as(
        "SELECT i.number, i.fee, i.vat, i.vat_rate, i.issued_at, i.due_at, \
         COALESCE(i.customer_name, c.name) AS customer_name, \
         COALESCE(i.customer_nit, c.nit) AS customer_nit, c.billing_email, i.resolution_id \
         FROM invoices i JOIN companies c ON c.id = i.company_id WHERE i.id = $1"
    )
    .bind(invoice_id)
    .fetch_optional(p)
    .await)?;
    let Some(inv) = row else {
        return Ok(Err(Unavailable::Missing));
    };
    let Some(resolution_id) = inv.resolution_id else {
        return Ok(Err(Unavailable::NoResolution));
    };
    let resolution = crate::resolutions::by_id(db, &resolution_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("invoice {invoice_id}: no resolution {resolution_id}"))?
        .resolution;
    let Some(technical_key) = resolution.technical_key.clone() else {
        anyhow::bail!("invoice resolution {resolution_id} has no technical key");
    };
    // Each assignment's pay names its worker, the mandante, as she was printed when the
    // documents of the period were issued (her name and cédula now, unless anonymised since).
    let lines: Vec<(String, i64, i64, String, Option<String>)> = on_db!(db, |p| sqlx::query_as(
        "SELECT l.task_title, l.seconds, l.work, COALESCE(u.name, ''), w.document_id \
         FROM invoice_lines l LEFT JOIN users u ON u.worker_id = l.worker_id \
         LEFT JOIN worker_profiles w ON w.id = l.worker_id \
         WHERE l.invoice_id = $1 ORDER BY l.assignment_id, l.part"
    )
    .bind(invoice_id)
    .fetch_all(p)
    .await)?;
    let e = ElectronicInvoice {
        number: inv.number.clone(),
        issued_at: time::from_unix(inv.issued_at),
        due_date: bogota_day(inv.due_at),
        supplier: supplier(settings),
        customer: nit_party(
            &inv.customer_name,
            &inv.customer_nit,
            Some(inv.billing_email),
        ),
        lines: lines
            .into_iter()
            .map(|(title, seconds, work, name, cedula)| MandateLine {
                description: if seconds > 0 {
                    format!("{title} ({} h)", decimal_es(hours(seconds)))
                } else {
                    title
                },
                amount: Cop::from_centavos(work),
                mandante: cedula.filter(|c| !c.trim().is_empty()).map(|id| Party {
                    name,
                    id_kind: IdKind::Cedula,
                    id,
                    check_digit: None,
                    email: None,
                }),
            })
            .collect(),
        fee: Cop::from_centavos(inv.fee),
        vat_rate: inv.vat_rate.parse::<Decimal>()?,
        vat: Cop::from_centavos(inv.vat),
        resolution: control(resolution, technical_key.clone()),
        software: software(settings),
        environment: settings.einvoice.environment,
    };
    let xml = ubl::invoice_xml(&e);
    let made = Made {
        subject_id: invoice_id,
        kind: DocumentKind::Invoice,
        xml,
        key: &technical_key,
        schema: "Invoice",
        issued_on: bogota_day(inv.issued_at),
    };
    Ok(Ok(keep(db, settings, made).await?))
}

#[derive(sqlx::FromRow)]
struct NoteRow {
    number: Option<String>,
    status: String,
    reason: String,
    work: i64,
    fee: i64,
    vat: i64,
    issued_at: Option<i64>,
    invoice_id: String,
    invoice_total: i64,
    vat_rate: String,
    customer_name: String,
    customer_nit: String,
    billing_email: String,
}

/// The credit note's electronic document (its invoice's made first if need be).
pub async fn for_credit_note(
    db: &Db,
    settings: &Settings,
    note_id: &str,
) -> anyhow::Result<Result<Stored, Unavailable>> {
    if let Some(d) = stored(db, note_id).await? {
        return Ok(Ok(d));
    }
    let row: Option<NoteRow> = on_db!(db, |p| sqlx::query_as(
        "SELECT n.number, n.status, n.reason, n.work, n.fee, n.vat, n.issued_at, \
         n.invoice_id, i.total AS invoice_total, i.vat_rate, \
         COALESCE(i.customer_name, c.name) AS customer_name, \
         COALESCE(i.customer_nit, c.nit) AS customer_nit, c.billing_email \
         FROM credit_notes n JOIN invoices i ON i.id = n.invoice_id \
         JOIN companies c ON c.id = i.company_id WHERE n.id = $1"
    )
    .bind(note_id)
    .fetch_optional(p)
    .await)?;
    let Some(note) = row else {
        return Ok(Err(Unavailable::Missing));
    };
    let (Some(number), Some(issued_at), "issued") =
        (note.number.clone(), note.issued_at, note.status.as_str())
    else {
        return Ok(Err(Unavailable::NotIssued));
    };
    let invoice = match Box::pin(for_invoice(db, settings, &note.invoice_id)).await? {
        Ok(d) => d,
        Err(_) => return Ok(Err(Unavailable::InvoiceWithout)),
    };
    let total = note.work + note.fee + note.vat;
    let e = ElectronicCreditNote {
        number,
        issued_at: time::from_unix(issued_at),
        invoice: InvoiceReference {
            number: invoice.number.clone(),
            cufe: invoice.code.clone(),
            issued_on: NaiveDate::parse_from_str(&invoice.issued_on, "%Y-%m-%d")?,
        },
        // The whole invoice credited annuls it; anything less is work not accepted after
        // it was billed (the reason finance wrote says which).
        discrepancy: if total >= note.invoice_total {
            Discrepancy::Annulment
        } else {
            Discrepancy::PartialNonAcceptance
        },
        reason: note.reason,
        supplier: supplier(settings),
        customer: nit_party(
            &note.customer_name,
            &note.customer_nit,
            Some(note.billing_email),
        ),
        work: Cop::from_centavos(note.work),
        fee: Cop::from_centavos(note.fee),
        vat_rate: note.vat_rate.parse::<Decimal>()?,
        vat: Cop::from_centavos(note.vat),
        software: software(settings),
        environment: settings.einvoice.environment,
    };
    let xml = ubl::credit_note_xml(&e);
    let pin = settings.einvoice.software_pin.expose().to_string();
    let made = Made {
        subject_id: note_id,
        kind: DocumentKind::CreditNote,
        xml,
        key: &pin,
        schema: "CreditNote",
        issued_on: bogota_day(issued_at),
    };
    Ok(Ok(keep(db, settings, made).await?))
}

#[derive(sqlx::FromRow)]
struct SupportRow {
    kind: String,
    number: String,
    issued_at: i64,
    week_start: Option<String>,
    week_end: Option<String>,
    resolution_id: Option<String>,
    worker_name: String,
    worker_document: Option<String>,
}

/// A weekly documento soporte's electronic document, made (once) from what was issued: its
/// lines as written with it, the worker as it printed her.
pub async fn for_support_document(
    db: &Db,
    settings: &Settings,
    id: &str,
) -> anyhow::Result<Result<Stored, Unavailable>> {
    if let Some(d) = stored(db, id).await? {
        return Ok(Ok(d));
    }
    let row: Option<SupportRow> = on_db!(db, |p| sqlx::query_as(
        "SELECT s.kind, s.number, s.issued_at, s.week_start, s.week_end, s.resolution_id, \
         COALESCE(s.worker_name, u.name, '') AS worker_name, \
         COALESCE(s.worker_document, w.document_id) AS worker_document \
         FROM support_documents s JOIN worker_profiles w ON w.id = s.worker_id \
         LEFT JOIN users u ON u.worker_id = s.worker_id WHERE s.id = $1"
    )
    .bind(id)
    .fetch_optional(p)
    .await)?;
    let Some(ds) = row else {
        return Ok(Err(Unavailable::Missing));
    };
    let (Some(week_start), Some(week_end), "document") =
        (&ds.week_start, &ds.week_end, ds.kind.as_str())
    else {
        return Ok(Err(Unavailable::NotElectronic));
    };
    let Some(resolution_id) = ds.resolution_id else {
        return Ok(Err(Unavailable::NoResolution));
    };
    let Some(seller_id) = ds.worker_document.filter(|d| !d.trim().is_empty()) else {
        return Ok(Err(Unavailable::NoSellerId));
    };
    let resolution = crate::resolutions::by_id(db, &resolution_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("documento soporte {id}: no resolution {resolution_id}"))?
        .resolution;
    let lines: Vec<(String, i64, String)> = on_db!(db, |p| sqlx::query_as(
        "SELECT description, amount, first_day FROM support_document_lines \
         WHERE support_document_id = $1 ORDER BY line"
    )
    .bind(id)
    .fetch_all(p)
    .await)?;
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d");
    let e = ElectronicSupportDocument {
        number: ds.number,
        issued_at: time::from_unix(ds.issued_at),
        week_start: day(week_start)?,
        week_end: day(week_end)?,
        seller: Party {
            name: ds.worker_name,
            id_kind: IdKind::Cedula,
            id: seller_id,
            check_digit: None,
            email: None,
        },
        buyer: supplier(settings),
        lines: lines
            .into_iter()
            .map(|(description, amount, first_day)| {
                Ok(SupportLine {
                    description,
                    amount: Cop::from_centavos(amount),
                    first_day: day(&first_day)?,
                })
            })
            .collect::<Result<_, chrono::ParseError>>()?,
        // ReteRenta is withheld when she is paid, on the payout line, not on the purchase.
        withholding: None,
        // DIAN gives a documento soporte's range no technical key: its CUDS uses the PIN.
        resolution: control(resolution, String::new()),
        software: software(settings),
        environment: settings.einvoice.environment,
    };
    let xml = ubl::support_document_xml(&e);
    let pin = settings.einvoice.software_pin.expose().to_string();
    let made = Made {
        subject_id: id,
        kind: DocumentKind::SupportDocument,
        xml,
        key: &pin,
        schema: "Invoice",
        issued_on: bogota_day(ds.issued_at),
    };
    Ok(Ok(keep(db, settings, made).await?))
}

#[derive(sqlx::FromRow)]
struct AdjustmentRow {
    number: String,
    issued_at: i64,
    week_start: Option<String>,
    adjusts_id: Option<String>,
    concept: Option<String>,
    reason: Option<String>,
}

/// A nota de ajuste's electronic document (its documento soporte's made first if need be): it
/// names the document by its CUDS, and its seller as the document named her, even when her
/// data changed since (an annulment for a wrong cédula corrects that very document).
pub async fn for_support_adjustment(
    db: &Db,
    settings: &Settings,
    id: &str,
) -> anyhow::Result<Result<Stored, Unavailable>> {
    if let Some(d) = stored(db, id).await? {
        return Ok(Ok(d));
    }
    let row: Option<AdjustmentRow> = on_db!(db, |p| sqlx::query_as(
        "SELECT number, issued_at, week_start, adjusts_id, concept, reason \
         FROM support_documents WHERE id = $1 AND kind = 'adjustment'"
    )
    .bind(id)
    .fetch_optional(p)
    .await)?;
    let Some(note) = row else {
        return Ok(Err(Unavailable::Missing));
    };
    let (Some(_), Some(adjusts_id)) = (&note.week_start, &note.adjusts_id) else {
        return Ok(Err(Unavailable::NotElectronic));
    };
    let document = match Box::pin(for_support_document(db, settings, adjusts_id)).await? {
        Ok(d) => d,
        Err(_) => return Ok(Err(Unavailable::DocumentWithout)),
    };
    let pin = settings.einvoice.software_pin.expose().to_string();
    let named = ubl::check::check(&String::from_utf8_lossy(&document.xml), &pin)
        .map_err(|e| anyhow::anyhow!("documento soporte {}: {e}", document.number))?;
    let lines: Vec<(String, i64, String)> = on_db!(db, |p| sqlx::query_as(
        "SELECT description, amount, first_day FROM support_document_lines \
         WHERE support_document_id = $1 ORDER BY line"
    )
    .bind(id)
    .fetch_all(p)
    .await)?;
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d");
    let reason = note.reason.unwrap_or_default();
    let e = ElectronicSupportAdjustment {
        number: note.number,
        issued_at: time::from_unix(note.issued_at),
        document: SupportReference {
            number: document.number.clone(),
            cuds: document.code.clone(),
            issued_on: day(&document.issued_on)?,
        },
        discrepancy: match note.concept.as_deref() {
            Some("2") => Discrepancy::Annulment,
            _ => Discrepancy::PartialNonAcceptance,
        },
        reason,
        seller: Party {
            name: named.supplier_name,
            id_kind: IdKind::Cedula,
            id: named.supplier_id,
            check_digit: None,
            email: None,
        },
        buyer: supplier(settings),
        // Stored negative (what it takes off); the note states them as positive amounts.
        lines: lines
            .into_iter()
            .map(|(description, amount, first_day)| {
                Ok(SupportLine {
                    description,
                    amount: Cop::from_centavos(-amount),
                    first_day: day(&first_day)?,
                })
            })
            .collect::<Result<_, chrono::ParseError>>()?,
        software: software(settings),
        environment: settings.einvoice.environment,
    };
    let xml = ubl::support_adjustment_xml(&e);
    let made = Made {
        subject_id: id,
        kind: DocumentKind::SupportAdjustment,
        xml,
        key: &pin,
        schema: "CreditNote",
        issued_on: bogota_day(note.issued_at),
    };
    Ok(Ok(keep(db, settings, made).await?))
}

/// A document just written, before it is checked and kept.
struct Made<'a> {
    subject_id: &'a str,
    kind: DocumentKind,
    xml: String,
    /// What its code is computed with.
    key: &'a str,
    /// Its UBL schema (`Invoice`, `CreditNote`).
    schema: &'static str,
    issued_on: NaiveDate,
}

/// Check, validate, sign and store a document, once: a document that does not add up, whose
/// code does not recompute or that breaks the schema is not stored (an error for the caller
/// to log; the sweep tries again).
async fn keep(db: &Db, settings: &Settings, made: Made<'_>) -> anyhow::Result<Stored> {
    let checked = ubl::check::check(&made.xml, made.key)
        .map_err(|e| anyhow::anyhow!("{} {}: {e}", made.kind.as_str(), made.subject_id))?;
    let schema_checked = validate_schema(&made.xml, made.schema)
        .await
        .map_err(|e| anyhow::anyhow!("{} {}: {e}", made.kind.as_str(), checked.number))?;
    let (xml, signed) = crate::signing::sign(settings, made.xml)?;
    let state = if signed {
        DeliveryState::Signed
    } else {
        DeliveryState::Generated
    };
    use sha2::Digest;
    let sha256 = hex::encode(sha2::Sha256::digest(xml.as_bytes()));
    let now = time::unix(time::now());
    let mut tx = db.begin().await?;
    let inserted = exec!(
        &mut tx,
        sqlx::query(
            "INSERT INTO electronic_documents (subject_id, kind, number, code, issued_on, xml, \
             sha256, signed, schema_checked, state, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
             ON CONFLICT (subject_id) DO NOTHING"
        )
        .bind(made.subject_id)
        .bind(made.kind.as_str())
        .bind(&checked.number)
        .bind(&checked.code)
        .bind(made.issued_on.to_string())
        .bind(xml.as_bytes())
        .bind(&sha256)
        .bind(signed)
        .bind(schema_checked)
        .bind(state.as_str())
        .bind(now)
    )?;
    if inserted == 1 {
        event(&mut tx, made.subject_id, state, None, None, now).await?;
    }
    tx.commit().await?;
    stored(db, made.subject_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("electronic document {} was not stored", made.subject_id))
}

/// Record a step of a document's way in its history.
async fn event(
    tx: &mut Tx,
    subject_id: &str,
    state: DeliveryState,
    reason: Option<&str>,
    by: Option<&str>,
    now: i64,
) -> anyhow::Result<()> {
    exec_one!(
        tx,
        sqlx::query(
            "INSERT INTO electronic_document_events (subject_id, seq, state, reason, \
             recorded_by, at) SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 \
             FROM electronic_document_events WHERE subject_id = $1"
        )
        .bind(subject_id)
        .bind(state.as_str())
        .bind(reason)
        .bind(by)
        .bind(now)
    )?;
    Ok(())
}

/// The UBL 2.1 schemas kept in the repository (`schemas/ubl-2.1`, with their licence).
pub fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/ubl-2.1")
}

/// Validate against the UBL 2.1 schema with `xmllint`. `Ok(true)`: valid; `Ok(false)`: not
/// checked, because `xmllint` or the schemas are not on this machine (Debian:
/// `libxml2-utils`); `Err`: invalid, with `xmllint`'s complaint.
async fn validate_schema(xml: &str, schema: &str) -> anyhow::Result<bool> {
    use tokio::io::AsyncWriteExt;
    let xsd = schemas_dir().join(format!("maindoc/UBL-{schema}-2.1.xsd"));
    if !xsd.is_file() {
        return Ok(false);
    }
    let child = tokio::process::Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&xsd)
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin.write_all(xml.as_bytes()).await?;
    drop(stdin);
    let out = child.wait_with_output().await?;
    if out.status.success() {
        Ok(true)
    } else {
        let complaint = String::from_utf8_lossy(&out.stderr);
        anyhow::bail!("not valid UBL 2.1: {}", complaint.trim())
    }
}

/// Where a document goes once produced: the authorised technology provider that sends it to
/// DIAN and reports DIAN's answer. One narrow interface, so a provider's API can replace the
/// default without touching the rest.
pub trait Provider: Send + Sync {
    /// Hand over the document (and its PDF, when it has one). Returns where it went, for the
    /// history. Handing the same document over twice must be harmless.
    fn deliver(
        &self,
        doc: &Stored,
        pdf: Option<&[u8]>,
    ) -> impl std::future::Future<Output = anyhow::Result<String>> + Send;
}

/// The default provider: files in `data/einvoice/<kind>/` for the provider's uploader, each
/// written whole under a temporary name and then renamed, so an uploader never sees half a
/// file. The same document written twice is the same bytes under the same name.
#[derive(Debug, Clone)]
pub struct Folder {
    pub dir: PathBuf,
}

impl Folder {
    pub fn new(settings: &Settings) -> Folder {
        Folder {
            dir: settings.einvoice_dir(),
        }
    }
}

async fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension(format!("part-{}", uuid::Uuid::now_v7()));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, path).await?;
    Ok(())
}

impl Provider for Folder {
    async fn deliver(&self, doc: &Stored, pdf: Option<&[u8]>) -> anyhow::Result<String> {
        let dir = self.dir.join(&doc.kind);
        tokio::fs::create_dir_all(&dir).await?;
        let xml_path = dir.join(doc.filename());
        if let Some(pdf) = pdf {
            write_whole(&dir.join(format!("{}.pdf", doc.number)), pdf).await?;
        }
        // The XML last: an uploader that waits for it finds the PDF already there.
        write_whole(&xml_path, &doc.xml).await?;
        Ok(xml_path.display().to_string())
    }
}

/// Hand every produced, undelivered document to the provider, oldest first; `limit` at most.
/// Returns how many were delivered. A document delivered by another run meanwhile is left as
/// that run recorded it (the state moves by compare-and-set).
pub async fn deliver_pending<P: Provider>(
    db: &Db,
    settings: &Settings,
    provider: &P,
    limit: i64,
) -> anyhow::Result<usize> {
    let pending: Vec<Stored> = on_db!(db, |p| {
        sqlx::query_as(
        "SELECT subject_id, kind, number, code, issued_on, xml, sha256, signed, schema_checked, \
         state, state_reason, created_at, updated_at FROM electronic_documents \
         WHERE state IN ('generated', 'signed') ORDER BY created_at, subject_id LIMIT $1"
    )
    .bind(limit)
    .fetch_all(p)
    .await
    })?;
    let mut delivered = 0;
    for doc in pending {
        let pdf = match DocumentKind::parse(&doc.kind) {
            Some(DocumentKind::Invoice) => {
                crate::document_files::invoice_document(db, settings, &doc.subject_id)
                    .await?
                    .map(|d| d.bytes)
            }
            Some(DocumentKind::CreditNote) => {
                crate::document_files::credit_note_document(db, settings, &doc.subject_id)
                    .await?
                    .ok()
                    .map(|d| d.bytes)
            }
            Some(DocumentKind::SupportDocument | DocumentKind::SupportAdjustment) => {
                crate::document_files::support_document_pdf(db, settings, &doc.subject_id)
                    .await?
                    .map(|(_, bytes)| bytes)
            }
            None => None,
        };
        let place = provider.deliver(&doc, pdf.as_deref()).await?;
        let now = time::unix(time::now());
        let mut tx = db.begin().await?;
        let moved = exec!(
            &mut tx,
            sqlx::query(
                "UPDATE electronic_documents SET state = $1, state_reason = NULL, updated_at = $2 \
                 WHERE subject_id = $3 AND state = $4"
            )
            .bind(DeliveryState::Delivered.as_str())
            .bind(now)
            .bind(&doc.subject_id)
            .bind(&doc.state)
        )?;
        if moved == 1 {
            event(
                &mut tx,
                &doc.subject_id,
                DeliveryState::Delivered,
                Some(&place),
                None,
                now,
            )
            .await?;
            delivered += 1;
        }
        tx.commit().await?;
    }
    Ok(delivered)
}

/// Why an answer was not recorded.
#[derive(Debug)]
pub enum AnswerError {
    Missing,
    Refused(AnswerRefusal),
}

/// Record DIAN's answer, as the provider reported it, on a delivered document.
pub async fn record_answer(
    db: &Db,
    subject_id: &str,
    outcome: &Answer,
    by: &str,
) -> anyhow::Result<Result<Stored, AnswerError>> {
    let now = time::unix(time::now());
    let mut tx = db.begin().await?;
    let current: Option<String> = on_tx!(&mut tx, |c| sqlx::query_scalar(
        "SELECT state FROM electronic_documents WHERE subject_id = $1"
    )
    .bind(subject_id)
    .fetch_optional(&mut *c)
    .await)?;
    let Some(current) = current.as_deref().and_then(DeliveryState::parse) else {
        return Ok(Err(AnswerError::Missing));
    };
    let next = match answer(current, outcome) {
        Ok(n) => n,
        Err(e) => return Ok(Err(AnswerError::Refused(e))),
    };
    let reason = match outcome {
        Answer::Accepted => None,
        Answer::Rejected { reason } => Some(reason.trim()),
    };
    // Compare-and-set: of two answers recorded at once, one moves it and the other is told
    // it was answered.
    let moved = exec!(
        &mut tx,
        sqlx::query(
            "UPDATE electronic_documents SET state = $1, state_reason = $2, updated_at = $3 \
             WHERE subject_id = $4 AND state = $5"
        )
        .bind(next.as_str())
        .bind(reason)
        .bind(now)
        .bind(subject_id)
        .bind(current.as_str())
    )?;
    if moved == 0 {
        return Ok(Err(AnswerError::Refused(AnswerRefusal::AlreadyAnswered {
            state: next,
        })));
    }
    event(&mut tx, subject_id, next, reason, Some(by), now).await?;
    tx.commit().await?;
    Ok(Ok(stored(db, subject_id).await?.ok_or_else(|| {
        anyhow::anyhow!("electronic document {subject_id} vanished")
    })?))
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub produced: u64,
    pub failed: u64,
    pub delivered: u64,
}

/// Documents looked at per round of a sweep.
const ROUND: i64 = 200;

/// Produce what is missing (invoices issued under a resolution, issued credit notes of
/// invoices that have one) and hand the provider what waits. Run after every billing run and
/// credit note, and by housekeeping for what those could not finish. A document that fails
/// its checks is logged and left for the next sweep; it never stops the others.
pub async fn sweep(db: &Db, settings: &Settings) -> anyhow::Result<Swept> {
    let mut swept = Swept::default();
    for kind in [
        DocumentKind::Invoice,
        DocumentKind::CreditNote,
        DocumentKind::SupportDocument,
        DocumentKind::SupportAdjustment,
    ] {
        // Rounds in id order past the last one seen, so a document that keeps failing is not
        // retried in a loop.
        let mut after = String::new();
        loop {
            let ids = missing(db, kind, &after).await?;
            for id in &ids {
                let made = match kind {
                    DocumentKind::Invoice => for_invoice(db, settings, id).await,
                    DocumentKind::CreditNote => for_credit_note(db, settings, id).await,
                    DocumentKind::SupportDocument => for_support_document(db, settings, id).await,
                    DocumentKind::SupportAdjustment => {
                        for_support_adjustment(db, settings, id).await
                    }
                };
                count(&mut swept, made, kind.as_str(), id);
            }
            match ids.last() {
                Some(last) if ids.len() as i64 == ROUND => after = last.clone(),
                _ => break,
            }
        }
    }
    let folder = Folder::new(settings);
    loop {
        let n = deliver_pending(db, settings, &folder, ROUND).await?;
        swept.delivered += n as u64;
        if (n as i64) < ROUND {
            break;
        }
    }
    Ok(swept)
}

/// A round of `kind`'s subjects with no document yet, past `after` in id order (a note's
/// only once its document has one).
async fn missing(db: &Db, kind: DocumentKind, after: &str) -> anyhow::Result<Vec<String>> {
    Ok(match kind {
        DocumentKind::Invoice => on_db!(db, |p| sqlx::query_scalar(
            "SELECT i.id FROM invoices i WHERE i.resolution_id IS NOT NULL AND i.id > $1 \
             AND NOT EXISTS (SELECT 1 FROM electronic_documents e WHERE e.subject_id = i.id) \
             ORDER BY i.id LIMIT $2"
        )
        .bind(after)
        .bind(ROUND)
        .fetch_all(p)
        .await)?,
        DocumentKind::CreditNote => on_db!(db, |p| sqlx::query_scalar(
            "SELECT n.id FROM credit_notes n \
             JOIN electronic_documents e ON e.subject_id = n.invoice_id \
             WHERE n.status = 'issued' AND n.id > $1 AND NOT EXISTS \
             (SELECT 1 FROM electronic_documents d WHERE d.subject_id = n.id) \
             ORDER BY n.id LIMIT $2"
        )
        .bind(after)
        .bind(ROUND)
        .fetch_all(p)
        .await)?,
        DocumentKind::SupportDocument => on_db!(db, |p| sqlx::query_scalar(
            "SELECT s.id FROM support_documents s WHERE s.resolution_id IS NOT NULL \
             AND s.kind = 'document' AND s.id > $1 AND NOT EXISTS \
             (SELECT 1 FROM electronic_documents e WHERE e.subject_id = s.id) \
             ORDER BY s.id LIMIT $2"
        )
        .bind(after)
        .bind(ROUND)
        .fetch_all(p)
        .await)?,
        DocumentKind::SupportAdjustment => on_db!(db, |p| sqlx::query_scalar(
            "SELECT s.id FROM support_documents s \
             JOIN electronic_documents e ON e.subject_id = s.adjusts_id \
             WHERE s.kind = 'adjustment' AND s.id > $1 AND NOT EXISTS \
             (SELECT 1 FROM electronic_documents d WHERE d.subject_id = s.id) \
             ORDER BY s.id LIMIT $2"
        )
        .bind(after)
        .bind(ROUND)
        .fetch_all(p)
        .await)?,
    })
}

fn count(
    swept: &mut Swept,
    made: anyhow::Result<Result<Stored, Unavailable>>,
    what: &str,
    id: &str,
) {
    match made {
        Ok(Ok(_)) => swept.produced += 1,
        Ok(Err(_)) => {}
        Err(e) => {
            swept.failed += 1;
            tracing::error!(document = what, id, error = %format!("{e:#}"), "electronic document not produced");
        }
    }
}
