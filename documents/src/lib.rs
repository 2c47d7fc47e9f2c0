//! The documents people keep, rendered: the monthly income statement, the invoice, the credit
//! note and a company's statement of account as PDF (Spanish, Colombian formats: `$ 48.485`,
//! dates in Bogotá), and every e-mail's text ([`mail`]). Pure: what to print comes in as data
//! (the store reads it), bytes go out. Shared by the API (downloads) and the e-mail job
//! (attachments), so both always carry the same document.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use vereda_contracts::certificates::IssuedCertificate;
use vereda_contracts::money::Cop;
use vereda_contracts::statements::{
    Month, StoredStatement, date_es, decimal_es, hours, percent_es, social_security_note_es,
};
use vereda_contracts::time::{self, BOGOTA};

pub mod account;
pub mod data_copy;
pub mod impact;
pub mod mail;
mod pdf;
pub mod ubl;
pub mod xades;

use pdf::{BODY, Document, HEADING, LEFT, RIGHT, SMALL, STRONG, Style, TITLE};

/// Who issues the documents and sends the mail: the platform, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    pub name: String,
    /// `digits-check`.
    pub nit: String,
    /// Where people reach the product (`VEREDA_PUBLIC_URL`, no trailing `/`): the
    /// verification page printed on statements is under it.
    pub public_url: String,
}

impl Issuer {
    /// The public page that checks a statement's code, with the code in it.
    pub fn verification_url(&self, code: &str) -> String {
        format!("{}/verificar/{code}", self.public_url)
    }
}

fn bogota_date(unix: i64) -> NaiveDate {
    time::from_unix(unix).with_timezone(&BOGOTA).date_naive()
}

fn iso_date_es(iso: &str) -> String {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d").map_or_else(|_| iso.to_string(), date_es)
}

/// `certificado-ingresos-2026-11-v1.pdf`.
pub fn statement_filename(s: &StoredStatement) -> String {
    format!(
        "certificado-ingresos-{}-v{}.pdf",
        s.figures.month, s.version
    )
}

fn section(doc: &mut Document, title: &str) {
    doc.space(6.0);
    doc.line(LEFT, HEADING, title);
    doc.rule();
}

/// The income statement: one page a person can read, with the verification code.
pub fn statement_pdf(issuer: &Issuer, s: &StoredStatement) -> Vec<u8> {
    let mut doc = Document::new(&format!("Certificado de ingresos {}", s.figures.month));
    statement_heading(&mut doc, issuer, s);
    statement_income(&mut doc, s);
    statement_by_company(&mut doc, s);
    statement_comparisons(&mut doc, s);
    statement_social_security(&mut doc, s);
    statement_support_documents(&mut doc, s);
    statement_verification(&mut doc, issuer, s);
    doc.finish()
}

/// Title, issuer, date and the worker.
fn statement_heading(doc: &mut Document, issuer: &Issuer, s: &StoredStatement) {
    let f = &s.figures;
    let month = Month::parse(&f.month).map_or_else(|| f.month.clone(), Month::name_es);
    doc.line(LEFT, TITLE, "Certificado de ingresos");
    let status = if f.provisional {
        " · provisional (el mes no ha terminado)"
    } else {
        ""
    };
    doc.line(
        LEFT,
        HEADING,
        &format!("{month}{status} · versión {}", s.version),
    );
    doc.line(
        LEFT,
        BODY,
        &format!("Expide: {} · NIT {}", issuer.name, issuer.nit),
    );
    doc.line(
        LEFT,
        BODY,
        &format!(
            "Fecha de expedición: {}",
            date_es(bogota_date(s.generated_at))
        ),
    );
    doc.rule();
    doc.line(LEFT, STRONG, &format!("Trabajador(a): {}", s.worker_name));
    doc.line(
        LEFT,
        BODY,
        &format!(
            "Cédula de ciudadanía: {}",
            s.document_id.as_deref().unwrap_or("no registrada")
        ),
    );
}

/// The month's income, and its payments gross to net (what the withholding was taken from).
fn statement_income(doc: &mut Document, s: &StoredStatement) {
    let f = &s.figures;
    section(doc, "Ingresos del mes");
    doc.pair(BODY, "Horas trabajadas", &decimal_es(f.hours));
    doc.pair(
        BODY,
        "Trabajos aprobados",
        &f.assignments_approved.to_string(),
    );
    doc.pair(
        BODY,
        "Ingreso bruto (trabajo aprobado)",
        &f.gross.to_es_co(),
    );
    section(doc, "Pagos del mes");
    doc.pair(BODY, "Pagado antes de retención", &f.paid_gross.to_es_co());
    doc.pair(BODY, "Retención en la fuente", &f.withholding.to_es_co());
    doc.pair(STRONG, "Neto pagado", &f.net.to_es_co());
    doc.pair(
        BODY,
        "Confirmado por el banco en el mes",
        &f.paid_out.to_es_co(),
    );
    doc.pair(BODY, "Pendiente de pago al cierre", &f.pending.to_es_co());
}

/// Income by company, when there is any.
fn statement_by_company(doc: &mut Document, s: &StoredStatement) {
    let f = &s.figures;
    if !f.by_company.is_empty() {
        section(doc, "Por empresa");
        let cols = |a: &str, b: &str, c: &str, d: &str, style: Style, doc: &mut Document| {
            doc.row(
                style,
                &[
                    (LEFT, a, false),
                    (340.0, b, true),
                    (420.0, c, true),
                    (RIGHT, d, true),
                ],
            );
        };
        cols("Empresa", "Trabajos", "Horas", "Ingreso", STRONG, doc);
        for c in &f.by_company {
            let name = pdf::fit(&c.company_name, BODY, 220.0);
            let (n, h, g) = (
                c.assignments.to_string(),
                decimal_es(hours(c.seconds)),
                c.gross.to_es_co(),
            );
            cols(&name, &n, &h, &g, BODY, doc);
        }
    }
}

/// The month against the minimum wage and the rural baseline.
fn statement_comparisons(doc: &mut Document, s: &StoredStatement) {
    let cmp = &s.figures.comparisons;
    section(doc, "Comparaciones");
    doc.pair(
        BODY,
        "Salario mínimo mensual (SMMLV)",
        &cmp.smmlv.to_es_co(),
    );
    doc.pair(
        BODY,
        "Ingreso frente al SMMLV",
        &percent_es(cmp.share_of_smmlv),
    );
    doc.pair(
        BODY,
        "Valor efectivo por hora",
        &cmp.effective_hourly
            .map_or_else(|| "sin horas registradas".to_string(), Cop::to_es_co),
    );
    doc.pair(
        BODY,
        "Mínimo legal por hora",
        &cmp.minimum_hourly.to_es_co(),
    );
    doc.pair(BODY, "Línea base rural", &cmp.rural_baseline.to_es_co());
    doc.pair(
        BODY,
        "Ingreso frente a la línea base",
        &percent_es(cmp.share_of_baseline),
    );
}

/// Social security contributions as an independent worker (estimated).
fn statement_social_security(doc: &mut Document, s: &StoredStatement) {
    let ss = &s.figures.social_security;
    section(doc, "Seguridad social como independiente (estimado)");
    doc.pair(BODY, "Ingreso base de cotización (IBC)", &ss.ibc.to_es_co());
    doc.pair(BODY, "Salud", &ss.health.to_es_co());
    doc.pair(BODY, "Pensión", &ss.pension.to_es_co());
    doc.pair(BODY, "ARL (riesgo I)", &ss.arl.to_es_co());
    doc.pair(STRONG, "Total", &ss.total.to_es_co());
    if let Some(d) = &ss.declared {
        doc.pair(
            BODY,
            &format!("Declarado en la planilla PILA {}", d.planilla),
            &(d.health + d.pension).to_es_co(),
        );
    }
    doc.paragraph(LEFT, SMALL, &social_security_note_es(&s.figures));
}

/// The documentos soporte listed with the month: those of the weeks that end in it (each is
/// issued the Monday after its week), or the monthly one of a month from before weeks.
fn statement_support_documents(doc: &mut Document, s: &StoredStatement) {
    section(doc, "Documentos soporte");
    if s.support_documents.is_empty() {
        doc.paragraph(
            LEFT,
            BODY,
            "Se expide uno por cada semana con ingresos, el lunes siguiente; aún no hay \
             ninguno de las semanas que terminan en este mes.",
        );
    } else if s.support_documents.iter().any(|d| d.week_start.is_some()) {
        doc.paragraph(
            LEFT,
            SMALL,
            "Uno por semana (de lunes a domingo), expedido el lunes siguiente: aquí están los \
             de las semanas que terminan en este mes.",
        );
    }
    for d in &s.support_documents {
        let what = if d.kind == "document" {
            "Documento soporte"
        } else {
            "Nota de ajuste"
        };
        // Short enough to leave the amount its column; the date and the code go below.
        let week = d
            .week_start
            .as_deref()
            .and_then(vereda_contracts::support_weeks::Week::parse)
            .map(|w| format!(" · semana del {}", w.label_es()))
            .unwrap_or_default();
        doc.pair(
            BODY,
            &format!("{what} {}{week}", d.number),
            &d.amount.to_es_co(),
        );
        let code = d
            .code
            .as_deref()
            .map(|c| format!(" CUDS: {c}"))
            .unwrap_or_default();
        let corrects = d
            .corrects
            .as_deref()
            .map(|n| format!(" Corrige el documento soporte {n}."))
            .unwrap_or_default();
        doc.paragraph(
            LEFT,
            SMALL,
            &format!("Expedido el {}.{corrects}{code}", iso_date_es(&d.issued_on)),
        );
    }
}

/// Points per QR module: a 33-module code is about 28 mm wide with its margin, easy to scan.
const QR_MODULE: f32 = 2.0;

/// The verification code and how anyone checks it: the page's full address, and the same as
/// a QR code a phone can open.
fn statement_verification(doc: &mut Document, issuer: &Issuer, s: &StoredStatement) {
    verification(
        doc,
        issuer,
        &s.verification_code,
        "el nombre, el mes, el ingreso bruto y el neto, y si esta versión fue reemplazada por \
         otra más reciente",
    );
}

/// A code, the page that checks it and what that page shows, with the page as a QR code.
fn verification(doc: &mut Document, issuer: &Issuer, code: &str, shows: &str) {
    let url = issuer.verification_url(code);
    let qr = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M).ok();
    // The section, its text and the code on one page (a QR code alone on a page is lost).
    let qr_height = qr
        .as_ref()
        .map_or(0.0, |q| Document::squares_height(q.width(), QR_MODULE));
    doc.keep(&[90.0, qr_height]);
    section(doc, "Verificación");
    doc.line(LEFT, STRONG, &format!("Código de verificación: {code}"));
    doc.paragraph(
        LEFT,
        SMALL,
        &format!(
            "Cualquier persona puede comprobar que este certificado es auténtico en {url} (o \
             escaneando el código QR): la página muestra {shows}."
        ),
    );
    if let Some(qr) = qr {
        draw_qr(doc, &qr);
    }
}

fn draw_qr(doc: &mut Document, qr: &qrcode::QrCode) {
    let width = qr.width();
    let dark: Vec<bool> = qr
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    doc.squares(LEFT, width, &dark, QR_MODULE);
}

/// What a PDF says of the electronic document it represents (issue 19 §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Electronic {
    /// `CUFE`, `CUDE` or `CUDS`.
    pub code_name: &'static str,
    pub code: String,
    /// DIAN's lookup of the document by its code, printed as a QR code.
    pub lookup_url: String,
    /// The numbering resolution it was issued under, as the law asks it printed.
    pub resolution_es: Option<String>,
    pub signed: bool,
}

/// `Autorización de numeración DIAN N.º 18760000001 del 7 de noviembre de 2026, prefijo
/// SETP, del 990000000 al 995000000, vigente hasta el 3 de octubre de 2027`.
pub fn resolution_es(
    number: &str,
    prefix: &str,
    from: i64,
    to: i64,
    valid_from: NaiveDate,
    valid_until: NaiveDate,
) -> String {
    format!(
        "Autorización de numeración DIAN N.º {number} del {}, prefijo {prefix}, del {from} al \
         {to}, vigente hasta el {}",
        date_es(valid_from),
        date_es(valid_until)
    )
}

/// The code, the resolution, and DIAN's lookup as an address and a QR code, kept on one page.
fn electronic_section(doc: &mut Document, e: &Electronic, what: &str) {
    let qr =
        qrcode::QrCode::with_error_correction_level(e.lookup_url.as_bytes(), qrcode::EcLevel::M)
            .ok();
    let qr_height = qr
        .as_ref()
        .map_or(0.0, |q| Document::squares_height(q.width(), QR_MODULE));
    doc.keep(&[120.0, qr_height]);
    section(doc, "Documento electrónico");
    doc.paragraph(LEFT, SMALL, &format!("{}: {}", e.code_name, e.code));
    if let Some(r) = &e.resolution_es {
        doc.paragraph(LEFT, SMALL, r);
    }
    // The lookup address is the QR code; written out it would be 150 characters no one types.
    let host = e
        .lookup_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    doc.paragraph(
        LEFT,
        SMALL,
        &format!(
            "Representación gráfica {what}. Consúltela en la DIAN escaneando el código QR, \
             o en {host} con el {}.",
            e.code_name
        ),
    );
    if !e.signed {
        doc.paragraph(
            LEFT,
            SMALL,
            "Documento generado sin firma digital: la plataforma aún no tiene certificado de \
             firma configurado.",
        );
    }
    if let Some(qr) = qr {
        draw_qr(doc, &qr);
    }
}

/// `certificado-retenciones-2026-v1.pdf`.
pub fn certificate_filename(c: &IssuedCertificate) -> String {
    format!(
        "certificado-retenciones-{}-v{}.pdf",
        c.figures.year, c.version
    )
}

/// The yearly certificate of income and withholdings (issue 20 §6): what Vereda paid her in
/// the year and withheld, by concept, for her own tax return, with the verification code.
pub fn certificate_pdf(issuer: &Issuer, c: &IssuedCertificate) -> Vec<u8> {
    let f = &c.figures;
    let mut doc = Document::new(&format!("Certificado de ingresos y retenciones {}", f.year));
    doc.line(LEFT, TITLE, "Certificado de ingresos y retenciones");
    doc.line(
        LEFT,
        HEADING,
        &format!("Año gravable {} · versión {}", f.year, c.version),
    );
    doc.line(
        LEFT,
        BODY,
        &format!(
            "Expide (agente retenedor): {} · NIT {}",
            issuer.name, issuer.nit
        ),
    );
    doc.line(
        LEFT,
        BODY,
        &format!(
            "Fecha de expedición: {}",
            date_es(bogota_date(c.generated_at))
        ),
    );
    doc.rule();
    doc.line(LEFT, STRONG, &format!("Beneficiario(a): {}", c.worker_name));
    doc.line(
        LEFT,
        BODY,
        &format!(
            "Cédula de ciudadanía: {}",
            c.document_id.as_deref().unwrap_or("no registrada")
        ),
    );
    section(&mut doc, "Pagos y retenciones del año, por concepto");
    let cols = |a: &str, b: &str, c: &str, d: &str, style: Style, doc: &mut Document| {
        doc.row(
            style,
            &[
                (LEFT, a, false),
                (300.0, b, true),
                (420.0, c, true),
                (RIGHT, d, true),
            ],
        );
    };
    cols(
        "Concepto",
        "Pagos",
        "Valor pagado",
        "Retenido",
        STRONG,
        &mut doc,
    );
    for t in &f.by_concept {
        cols(
            &t.label,
            &t.payments.to_string(),
            &t.paid.to_es_co(),
            &t.withheld.to_es_co(),
            BODY,
            &mut doc,
        );
    }
    doc.rule();
    doc.pair(BODY, "Total pagado", &f.paid.to_es_co());
    doc.pair(BODY, "Total retención en la fuente", &f.withheld.to_es_co());
    doc.pair(STRONG, "Neto recibido", &f.net.to_es_co());
    doc.paragraph(
        LEFT,
        SMALL,
        "Valores en pesos colombianos. Se cuentan los pagos de los lotes hechos en el año que el \
         banco no devolvió; la retención se practicó en cada pago sobre lo pagado en su mes. \
         Use este certificado para su declaración de renta.",
    );
    verification(
        &mut doc,
        issuer,
        &c.verification_code,
        "el nombre, el año, lo pagado y lo retenido, y si esta versión fue reemplazada por otra \
         más reciente",
    );
    doc.finish()
}

/// An invoice as issued: only what was fixed when it was issued (no status, payments or
/// balance, which live in the statement of account).
#[derive(sqlx::FromRow)]
pub struct IssuedInvoice {
    pub number: String,
    pub period_end: String,
    pub work: i64,
    pub fee: i64,
    pub vat: i64,
    pub total: i64,
    pub vat_rate: String,
    pub issued_at: i64,
    pub due_at: i64,
    pub customer_name: String,
    pub customer_nit: String,
}

/// The invoice as a PDF, from its issue-time figures, lines and customer only.
pub fn render_invoice(
    issuer: &Issuer,
    inv: &IssuedInvoice,
    lines: &[(String, i64, Option<i64>, i64, i64)],
    electronic: Option<&Electronic>,
) -> Vec<u8> {
    let pesos = |c: i64| Cop::from_centavos(c).to_es_co();
    let mut doc = Document::new(&format!("Factura {}", inv.number));
    let title = if electronic.is_some() {
        "Factura electrónica de venta"
    } else {
        "Factura de venta"
    };
    doc.line(LEFT, TITLE, &format!("{title} {}", inv.number));
    doc.line(
        LEFT,
        BODY,
        &format!("Emisor: {} · NIT {}", issuer.name, issuer.nit),
    );
    doc.line(
        LEFT,
        BODY,
        &format!("Cliente: {} · NIT {}", inv.customer_name, inv.customer_nit),
    );
    doc.line(
        LEFT,
        BODY,
        &format!("Fecha de emisión: {}", date_es(bogota_date(inv.issued_at))),
    );
    doc.line(
        LEFT,
        BODY,
        &format!("Trabajo aprobado hasta el {}", iso_date_es(&inv.period_end)),
    );
    doc.line(
        LEFT,
        BODY,
        &format!("Vence: {}", date_es(bogota_date(inv.due_at))),
    );

    section(&mut doc, "Detalle");
    let cols = |cells: [&str; 5], style: Style, doc: &mut Document| {
        doc.row(
            style,
            &[
                (LEFT, cells[0], false),
                (330.0, cells[1], true),
                (400.0, cells[2], true),
                (470.0, cells[3], true),
                (RIGHT, cells[4], true),
            ],
        );
    };
    cols(
        ["Tarea", "Horas", "Tarifa/hora", "Trabajo", "Comisión"],
        STRONG,
        &mut doc,
    );
    for (title, seconds, rate, work, fee) in lines {
        let title = pdf::fit(title, BODY, 220.0);
        let (h, r, w, f) = (
            format!(
                "{}{}",
                decimal_es(hours(*seconds)),
                if rate.is_none() { " reg." } else { "" }
            ),
            rate.map_or_else(|| "precio fijo".to_string(), pesos),
            pesos(*work),
            pesos(*fee),
        );
        cols([&title, &h, &r, &w, &f], BODY, &mut doc);
    }

    let vat_rate = Decimal::from_str(&inv.vat_rate).unwrap_or_default();
    section(&mut doc, "Totales");
    doc.pair(BODY, "Trabajo de los teletrabajadores", &pesos(inv.work));
    doc.pair(BODY, "Comisión de la plataforma", &pesos(inv.fee));
    doc.pair(
        BODY,
        &format!("IVA ({}) sobre la comisión", percent_es(vat_rate)),
        &pesos(inv.vat),
    );
    doc.pair(STRONG, "Total a pagar", &pesos(inv.total));
    doc.space(8.0);
    doc.paragraph(
        LEFT,
        SMALL,
        "La comisión de la plataforma causa IVA; el trabajo de los teletrabajadores se paga a \
         ellos en su totalidad. Esta factura no cambia después de emitida: los pagos, las notas \
         crédito y el saldo por pagar están en el estado de cuenta de la empresa.",
    );
    if let Some(e) = electronic {
        electronic_section(&mut doc, e, "de la factura electrónica de venta");
    }
    doc.finish()
}

/// A weekly documento soporte (or its nota de ajuste) as issued, with what it printed of the
/// worker and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedSupportDocument {
    pub number: String,
    /// `document` or `adjustment`.
    pub kind: String,
    pub issued_at: i64,
    /// What it covers, in Spanish: `semana del 23 al 29 de noviembre de 2026` (or the month of
    /// a monthly document from before weeks).
    pub period_es: String,
    pub worker_name: String,
    pub worker_document: Option<String>,
    /// Description, amount (centavos), first day (`YYYY-MM-DD`).
    pub lines: Vec<(String, i64, String)>,
    pub amount: i64,
    /// A nota de ajuste's document (its number) and the reason it corrects it.
    pub corrects: Option<(String, String)>,
}

/// `documento-soporte-SEDS7.pdf`.
pub fn support_document_filename(d: &IssuedSupportDocument) -> String {
    let what = if d.kind == "document" {
        "documento-soporte"
    } else {
        "nota-de-ajuste"
    };
    format!("{what}-{}.pdf", d.number)
}

/// The documento soporte as a PDF: who sold what to the platform in the week, line by line.
pub fn render_support_document(
    issuer: &Issuer,
    d: &IssuedSupportDocument,
    electronic: Option<&Electronic>,
) -> Vec<u8> {
    let pesos = |c: i64| Cop::from_centavos(c).to_es_co();
    let title = match (d.kind.as_str(), electronic.is_some()) {
        ("document", true) => "Documento soporte electrónico",
        ("document", false) => "Documento soporte",
        _ => "Nota de ajuste al documento soporte",
    };
    let mut doc = Document::new(&format!("{title} {}", d.number));
    doc.line(LEFT, TITLE, &format!("{title} {}", d.number));
    doc.paragraph(
        LEFT,
        SMALL,
        "En adquisiciones efectuadas a sujetos no obligados a expedir factura de venta \
         (Resolución DIAN 000167 de 2021), acumuladas por semana.",
    );
    doc.line(
        LEFT,
        BODY,
        &format!("Adquiriente: {} · NIT {}", issuer.name, issuer.nit),
    );
    doc.line(
        LEFT,
        BODY,
        &format!(
            "Vendedor(a): {} · C.C. {}",
            d.worker_name,
            d.worker_document.as_deref().unwrap_or("sin registrar")
        ),
    );
    doc.line(LEFT, BODY, &format!("Periodo: {}", d.period_es));
    doc.line(
        LEFT,
        BODY,
        &format!("Fecha de expedición: {}", date_es(bogota_date(d.issued_at))),
    );
    if let Some((document, reason)) = &d.corrects {
        doc.line(
            LEFT,
            BODY,
            &format!("Corrige el documento soporte {document}"),
        );
        doc.paragraph(LEFT, BODY, &format!("Motivo: {reason}"));
    }
    section(&mut doc, "Detalle");
    doc.row(
        STRONG,
        &[
            (LEFT, "Servicio", false),
            (400.0, "Desde", true),
            (RIGHT, "Valor", true),
        ],
    );
    for (description, amount, first_day) in &d.lines {
        let description = pdf::fit(description, BODY, 280.0);
        let (from, value) = (iso_date_es(first_day), pesos(*amount));
        doc.row(
            BODY,
            &[
                (LEFT, &description, false),
                (400.0, &from, true),
                (RIGHT, &value, true),
            ],
        );
    }
    section(&mut doc, "Totales");
    doc.pair(STRONG, "Total", &pesos(d.amount));
    doc.space(8.0);
    doc.paragraph(
        LEFT,
        SMALL,
        "Sin IVA: quien vende no es responsable de IVA. La retención en la fuente, si aplica, \
         se practica al pagarle y consta en su certificado de retenciones.",
    );
    if let Some(e) = electronic {
        let of = if d.kind == "document" {
            "del documento soporte electrónico"
        } else {
            "de la nota de ajuste electrónica"
        };
        electronic_section(&mut doc, e, of);
    }
    doc.finish()
}

/// A credit note as issued, with the invoice it corrects.
#[derive(sqlx::FromRow)]
pub struct IssuedNote {
    pub number: Option<String>,
    pub status: String,
    pub reason: String,
    pub work: i64,
    pub fee: i64,
    pub vat: i64,
    pub total: i64,
    pub issued_at: Option<i64>,
    pub invoice_number: String,
    pub invoice_issued_at: i64,
    pub vat_rate: String,
    pub customer_name: String,
    pub customer_nit: String,
}

/// The credit note as a PDF, with the invoice it corrects.
pub fn render_credit_note(
    issuer: &Issuer,
    n: &IssuedNote,
    number: &str,
    issued_at: i64,
    electronic: Option<&Electronic>,
) -> Vec<u8> {
    let pesos = |c: i64| Cop::from_centavos(c).to_es_co();
    let mut doc = Document::new(&format!("Nota crédito {number}"));
    let title = if electronic.is_some() {
        "Nota crédito electrónica"
    } else {
        "Nota crédito"
    };
    doc.line(LEFT, TITLE, &format!("{title} {number}"));
    doc.line(
        LEFT,
        BODY,
        &format!("Emisor: {} · NIT {}", issuer.name, issuer.nit),
    );
    doc.line(
        LEFT,
        BODY,
        &format!("Cliente: {} · NIT {}", n.customer_name, n.customer_nit),
    );
    doc.line(
        LEFT,
        BODY,
        &format!("Fecha de emisión: {}", date_es(bogota_date(issued_at))),
    );
    doc.line(
        LEFT,
        BODY,
        &format!(
            "Corrige la factura {} del {}",
            n.invoice_number,
            date_es(bogota_date(n.invoice_issued_at))
        ),
    );
    section(&mut doc, "Motivo");
    doc.paragraph(LEFT, BODY, &n.reason);
    let vat_rate = Decimal::from_str(&n.vat_rate).unwrap_or_default();
    section(&mut doc, "Valores acreditados");
    doc.pair(BODY, "Trabajo de los teletrabajadores", &pesos(n.work));
    doc.pair(BODY, "Comisión de la plataforma", &pesos(n.fee));
    doc.pair(
        BODY,
        &format!("IVA ({}) sobre la comisión", percent_es(vat_rate)),
        &pesos(n.vat),
    );
    doc.pair(STRONG, "Total acreditado", &pesos(n.total));
    doc.space(8.0);
    doc.paragraph(
        LEFT,
        SMALL,
        &format!(
            "Esta nota crédito disminuye en {} lo que la empresa debe por la factura {}. El \
             trabajo ya aprobado se paga a los teletrabajadores en su totalidad.",
            pesos(n.total),
            n.invoice_number
        ),
    );
    if let Some(e) = electronic {
        electronic_section(&mut doc, e, "de la nota crédito electrónica");
    }
    doc.finish()
}
