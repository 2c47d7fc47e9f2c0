//! Electronic documents as UBL 2.1 XML, shaped by DIAN's technical annex (version 1.9): for
//! now the factura electrónica de venta (issue 19). Data in, XML text out; the codes come from
//! `vereda_contracts::cufe`. Signing, storing and delivery happen elsewhere.
//!
//! The mandate model (ARCHITECTURE.md, "Electronic documents"): Vereda invoices a company for
//! the workers' pay as their agent (operation type 11, *Mandatos*) and for its own fee. Each
//! assignment's pay is a line of third-party income without IVA that names its mandante, the
//! worker, in `Item/InformationContentProviderParty`; the platform's fee is one line of its own
//! income that carries IVA at the invoice's rate. The invoice's `TaxExclusiveAmount` is
//! therefore the fee alone.

pub mod check;

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use vereda_contracts::cufe::{self, Environment, SaleCodeInput, Taxes};
use vereda_contracts::money::Cop;

/// How a party is identified (DIAN's table of document kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// 31: NIT.
    Nit,
    /// 13: cédula de ciudadanía.
    Cedula,
}

impl IdKind {
    fn code(self) -> &'static str {
        match self {
            IdKind::Nit => "31",
            IdKind::Cedula => "13",
        }
    }
}

/// A party to a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    pub id_kind: IdKind,
    /// Digits only, without the check digit.
    pub id: String,
    /// The NIT's check digit.
    pub check_digit: Option<String>,
    pub email: Option<String>,
}

/// The numbering resolution the invoice is issued under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub number: String,
    pub prefix: String,
    pub from: i64,
    pub to: i64,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub technical_key: String,
}

/// The billing software as DIAN registered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Software {
    pub id: String,
    pub pin: String,
    /// The NIT of whoever provides the software (the platform itself when it issues directly).
    pub provider_nit: String,
}

/// One assignment's pay, billed for its worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateLine {
    pub description: String,
    pub amount: Cop,
    /// Her name and cédula; none when no cédula is on record (a mandate line without a
    /// named mandante, rather than an empty id DIAN would refuse).
    pub mandante: Option<Party>,
}

/// A factura electrónica de venta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectronicInvoice {
    /// Prefix and number, without separator (`VRD1`).
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub due_date: NaiveDate,
    pub supplier: Party,
    pub customer: Party,
    pub lines: Vec<MandateLine>,
    /// The platform's fee (one line, with IVA).
    pub fee: Cop,
    pub vat_rate: Decimal,
    pub vat: Cop,
    pub resolution: Resolution,
    pub software: Software,
    pub environment: Environment,
}

impl ElectronicInvoice {
    /// The lines' total before taxes: the workers' pay and the fee.
    pub fn line_extension(&self) -> Cop {
        self.lines.iter().fold(self.fee, |sum, l| {
            Cop::new(sum.amount() + l.amount.amount())
        })
    }

    pub fn total(&self) -> Cop {
        Cop::new(self.line_extension().amount() + self.vat.amount())
    }

    /// The fields the CUFE is computed from.
    pub fn code_input(&self) -> SaleCodeInput<'_> {
        SaleCodeInput {
            number: &self.number,
            issued_at: self.issued_at,
            subtotal: self.line_extension(),
            taxes: Taxes {
                iva: self.vat,
                ..Taxes::default()
            },
            total: self.total(),
            issuer_nit: &self.supplier.id,
            buyer_id: &self.customer.id,
            key: &self.resolution.technical_key,
            environment: self.environment,
        }
    }

    pub fn cufe(&self) -> String {
        cufe::cufe(&self.code_input())
    }
}

/// Namespaces of an annex 1.9 invoice.
const NAMESPACES: &str = concat!(
    r#"xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" "#,
    r#"xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" "#,
    r#"xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" "#,
    r#"xmlns:ext="urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2" "#,
    r#"xmlns:sts="dian:gov:co:facturaelectronica:Structures-2-1" "#,
    r#"xmlns:ds="http://www.w3.org/2000/09/xmldsig#""#
);

/// DIAN as the agency of its own code lists.
const DIAN: &str = r#"schemeAgencyID="195" schemeAgencyName="CO, DIAN (Dirección de Impuestos y Aduanas Nacionales)""#;

/// Text escaped for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn money(out: &mut String, element: &str, value: Cop) {
    let _ = write!(
        out,
        r#"<cbc:{element} currencyID="COP">{}</cbc:{element}>"#,
        cufe::amount(value)
    );
}

fn party_id(out: &mut String, element: &str, p: &Party) {
    let dv = p
        .check_digit
        .as_deref()
        .map(|d| format!(r#" schemeID="{}""#, escape(d)))
        .unwrap_or_default();
    let _ = write!(
        out,
        r#"<cbc:{element} {DIAN}{dv} schemeName="{}">{}</cbc:{element}>"#,
        p.id_kind.code(),
        escape(&p.id)
    );
}

/// A supplier or customer party: name, tax scheme, legal entity, contact.
fn party(out: &mut String, wrapper: &str, p: &Party) {
    let person = if p.id_kind == IdKind::Nit { "1" } else { "2" };
    let _ = write!(
        out,
        "<cac:{wrapper}><cbc:AdditionalAccountID>{person}</cbc:AdditionalAccountID><cac:Party>\
         <cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>\
         <cac:PartyTaxScheme><cbc:RegistrationName>{name}</cbc:RegistrationName>",
        name = escape(&p.name)
    );
    party_id(out, "CompanyID", p);
    out.push_str(
        r#"<cbc:TaxLevelCode listName="49">R-99-PN</cbc:TaxLevelCode><cac:TaxScheme><cbc:ID>01</cbc:ID><cbc:Name>IVA</cbc:Name></cac:TaxScheme></cac:PartyTaxScheme>"#,
    );
    let _ = write!(
        out,
        "<cac:PartyLegalEntity><cbc:RegistrationName>{}</cbc:RegistrationName>",
        escape(&p.name)
    );
    party_id(out, "CompanyID", p);
    out.push_str("</cac:PartyLegalEntity>");
    if let Some(email) = &p.email {
        let _ = write!(
            out,
            "<cac:Contact><cbc:ElectronicMail>{}</cbc:ElectronicMail></cac:Contact>",
            escape(email)
        );
    }
    let _ = write!(out, "</cac:Party></cac:{wrapper}>");
}

/// DIAN's extension: the numbering resolution (invoices only), the software, its security
/// code, the authorisation provider (DIAN itself, NIT 800197268) and the QR code's text.
fn dian_extensions(
    out: &mut String,
    control: Option<&Resolution>,
    software: &Software,
    security: &str,
    qr: &str,
) {
    out.push_str("<ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent><sts:DianExtensions>");
    if let Some(r) = control {
        let _ = write!(
            out,
            "<sts:InvoiceControl><sts:InvoiceAuthorization>{}</sts:InvoiceAuthorization>\
             <sts:AuthorizationPeriod><cbc:StartDate>{}</cbc:StartDate><cbc:EndDate>{}</cbc:EndDate>\
             </sts:AuthorizationPeriod><sts:AuthorizedInvoices><sts:Prefix>{}</sts:Prefix>\
             <sts:From>{}</sts:From><sts:To>{}</sts:To></sts:AuthorizedInvoices></sts:InvoiceControl>",
            escape(&r.number),
            r.valid_from,
            r.valid_until,
            escape(&r.prefix),
            r.from,
            r.to,
        );
    }
    let _ = write!(
        out,
        "<sts:InvoiceSource><cbc:IdentificationCode listAgencyID=\"6\" \
         listAgencyName=\"United Nations Economic Commission for Europe\" \
         listSchemeURI=\"urn:oasis:names:specification:ubl:codelist:gc:CountryIdentificationCode-2.1\">CO</cbc:IdentificationCode></sts:InvoiceSource>\
         <sts:SoftwareProvider><sts:ProviderID {DIAN} schemeName=\"31\">{}</sts:ProviderID>\
         <sts:SoftwareID {DIAN}>{}</sts:SoftwareID></sts:SoftwareProvider>\
         <sts:SoftwareSecurityCode {DIAN}>{security}</sts:SoftwareSecurityCode>\
         <sts:AuthorizationProvider><sts:AuthorizationProviderID {DIAN} schemeID=\"4\" \
         schemeName=\"31\">800197268</sts:AuthorizationProviderID></sts:AuthorizationProvider>\
         <sts:QRCode>{}</sts:QRCode></sts:DianExtensions></ext:ExtensionContent></ext:UBLExtension>\
         </ext:UBLExtensions>",
        escape(&software.provider_nit),
        escape(&software.id),
        escape(qr),
    );
}

/// `LegalMonetaryTotal`: the lines, the taxed base (the fee), with taxes, payable.
fn totals(out: &mut String, lines: Cop, taxed: Cop, total: Cop) {
    out.push_str("<cac:LegalMonetaryTotal>");
    money(out, "LineExtensionAmount", lines);
    money(out, "TaxExclusiveAmount", taxed);
    money(out, "TaxInclusiveAmount", total);
    money(out, "PayableAmount", total);
    out.push_str("</cac:LegalMonetaryTotal>");
}

/// The line elements of an invoice or a credit note.
#[derive(Debug, Clone, Copy)]
enum LineKind {
    Invoice,
    CreditNote,
}

impl LineKind {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            LineKind::Invoice => ("InvoiceLine", "InvoicedQuantity"),
            LineKind::CreditNote => ("CreditNoteLine", "CreditedQuantity"),
        }
    }
}

fn line_start(out: &mut String, kind: LineKind, n: usize, amount: Cop) {
    let (line, quantity) = kind.names();
    let _ = write!(
        out,
        "<cac:{line}><cbc:ID>{n}</cbc:ID><cbc:{quantity} unitCode=\"94\">1</cbc:{quantity}>"
    );
    money(out, "LineExtensionAmount", amount);
}

fn line_end(out: &mut String, kind: LineKind, amount: Cop) {
    out.push_str("<cac:Price>");
    money(out, "PriceAmount", amount);
    let _ = write!(
        out,
        r#"<cbc:BaseQuantity unitCode="94">1</cbc:BaseQuantity></cac:Price></cac:{}>"#,
        kind.names().0
    );
}

/// Third-party income (the workers' pay) without IVA, naming its mandante when known.
fn mandate_line(
    out: &mut String,
    kind: LineKind,
    n: usize,
    description: &str,
    amount: Cop,
    mandante: Option<&Party>,
) {
    line_start(out, kind, n, amount);
    let _ = write!(
        out,
        "<cac:Item><cbc:Description>{}</cbc:Description>",
        escape(description)
    );
    if let Some(m) = mandante {
        out.push_str("<cac:InformationContentProviderParty><cac:PartyIdentification>");
        party_id(out, "ID", m);
        let _ = write!(
            out,
            "</cac:PartyIdentification><cac:PartyName><cbc:Name>{}</cbc:Name></cac:PartyName>\
             </cac:InformationContentProviderParty>",
            escape(&m.name)
        );
    }
    out.push_str("</cac:Item>");
    line_end(out, kind, amount);
}

/// The platform's own income, its fee, with IVA.
fn fee_line(out: &mut String, kind: LineKind, n: usize, fee: Cop, rate: Decimal, vat: Cop) {
    line_start(out, kind, n, fee);
    tax_total(out, fee, rate, vat);
    out.push_str(
        "<cac:Item><cbc:Description>Comisión de la plataforma por la intermediación del trabajo \
         remoto</cbc:Description></cac:Item>",
    );
    line_end(out, kind, fee);
}

fn tax_total(out: &mut String, base: Cop, rate: Decimal, tax: Cop) {
    out.push_str("<cac:TaxTotal>");
    money(out, "TaxAmount", tax);
    out.push_str("<cac:TaxSubtotal>");
    money(out, "TaxableAmount", base);
    money(out, "TaxAmount", tax);
    let mut percent = (rate * Decimal::ONE_HUNDRED).round_dp(2);
    percent.rescale(2);
    let _ = write!(
        out,
        "<cac:TaxCategory><cbc:Percent>{percent}</cbc:Percent><cac:TaxScheme>\
         <cbc:ID>01</cbc:ID><cbc:Name>IVA</cbc:Name></cac:TaxScheme></cac:TaxCategory>\
         </cac:TaxSubtotal></cac:TaxTotal>"
    );
}

/// The invoice as UBL 2.1 XML, unsigned: signing adds a second `UBLExtension` holding the
/// signature (an empty one would not be valid UBL).
pub fn invoice_xml(inv: &ElectronicInvoice) -> String {
    let (date, time) = cufe::date_and_time(inv.issued_at);
    let cufe = inv.cufe();
    let security = cufe::software_security_code(&inv.software.id, &inv.software.pin, &inv.number);
    let r = &inv.resolution;
    let mut out = String::with_capacity(8 * 1024);
    let _ = write!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?><Invoice {NAMESPACES}>"#
    );
    dian_extensions(
        &mut out,
        Some(r),
        &inv.software,
        &security,
        &inv.environment.lookup_url(&cufe),
    );
    let _ = write!(
        out,
        "<cbc:UBLVersionID>UBL 2.1</cbc:UBLVersionID><cbc:CustomizationID>11</cbc:CustomizationID>\
         <cbc:ProfileID>DIAN 2.1: Factura Electrónica de Venta</cbc:ProfileID>\
         <cbc:ProfileExecutionID>{env}</cbc:ProfileExecutionID><cbc:ID>{number}</cbc:ID>\
         <cbc:UUID schemeID=\"{env}\" schemeName=\"CUFE-SHA384\">{cufe}</cbc:UUID>\
         <cbc:IssueDate>{date}</cbc:IssueDate><cbc:IssueTime>{time}</cbc:IssueTime>\
         <cbc:DueDate>{due}</cbc:DueDate><cbc:InvoiceTypeCode>01</cbc:InvoiceTypeCode>\
         <cbc:DocumentCurrencyCode>COP</cbc:DocumentCurrencyCode>\
         <cbc:LineCountNumeric>{count}</cbc:LineCountNumeric>",
        env = inv.environment.profile_execution_id(),
        number = escape(&inv.number),
        due = inv.due_date,
        count = inv.lines.len() + 1,
    );
    party(&mut out, "AccountingSupplierParty", &inv.supplier);
    party(&mut out, "AccountingCustomerParty", &inv.customer);
    let _ = write!(
        out,
        "<cac:PaymentMeans><cbc:ID>2</cbc:ID><cbc:PaymentMeansCode>42</cbc:PaymentMeansCode>\
         <cbc:PaymentDueDate>{}</cbc:PaymentDueDate></cac:PaymentMeans>",
        inv.due_date
    );
    tax_total(&mut out, inv.fee, inv.vat_rate, inv.vat);
    totals(&mut out, inv.line_extension(), inv.fee, inv.total());
    let kind = LineKind::Invoice;
    for (i, l) in inv.lines.iter().enumerate() {
        mandate_line(
            &mut out,
            kind,
            i + 1,
            &l.description,
            l.amount,
            l.mandante.as_ref(),
        );
    }
    fee_line(
        &mut out,
        kind,
        inv.lines.len() + 1,
        inv.fee,
        inv.vat_rate,
        inv.vat,
    );
    out.push_str("</Invoice>");
    out
}

/// Why a note corrects a document: the annex's correction concepts, the same codes for a
/// nota crédito of an invoice and a nota de ajuste of a documento soporte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discrepancy {
    /// 1: part of the service was not accepted (work rejected or cut after it was billed).
    PartialNonAcceptance,
    /// 2: the whole invoice is annulled.
    Annulment,
    /// 4: a price adjustment.
    PriceAdjustment,
}

impl Discrepancy {
    pub fn code(self) -> &'static str {
        match self {
            Discrepancy::PartialNonAcceptance => "1",
            Discrepancy::Annulment => "2",
            Discrepancy::PriceAdjustment => "4",
        }
    }
}

/// The invoice a note corrects, as it was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceReference {
    pub number: String,
    pub cufe: String,
    pub issued_on: NaiveDate,
}

/// A nota crédito of a factura electrónica de venta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectronicCreditNote {
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub invoice: InvoiceReference,
    pub discrepancy: Discrepancy,
    pub reason: String,
    pub supplier: Party,
    pub customer: Party,
    /// The workers' pay credited (third-party income, without IVA).
    pub work: Cop,
    pub fee: Cop,
    pub vat_rate: Decimal,
    pub vat: Cop,
    pub software: Software,
    pub environment: Environment,
}

impl ElectronicCreditNote {
    pub fn line_extension(&self) -> Cop {
        Cop::new(self.work.amount() + self.fee.amount())
    }

    pub fn total(&self) -> Cop {
        Cop::new(self.line_extension().amount() + self.vat.amount())
    }

    /// The fields the CUDE is computed from (with the software's PIN).
    pub fn code_input(&self) -> SaleCodeInput<'_> {
        SaleCodeInput {
            number: &self.number,
            issued_at: self.issued_at,
            subtotal: self.line_extension(),
            taxes: Taxes {
                iva: self.vat,
                ..Taxes::default()
            },
            total: self.total(),
            issuer_nit: &self.supplier.id,
            buyer_id: &self.customer.id,
            key: &self.software.pin,
            environment: self.environment,
        }
    }

    pub fn cude(&self) -> String {
        cufe::cude(&self.code_input())
    }
}

/// The credit note as UBL 2.1 XML (operation type 20: a note that references an electronic
/// invoice), unsigned.
pub fn credit_note_xml(note: &ElectronicCreditNote) -> String {
    let (date, time) = cufe::date_and_time(note.issued_at);
    let cude = note.cude();
    let security =
        cufe::software_security_code(&note.software.id, &note.software.pin, &note.number);
    let mut out = String::with_capacity(6 * 1024);
    let _ = write!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?><CreditNote {}>"#,
        NAMESPACES.replace("xsd:Invoice-2", "xsd:CreditNote-2")
    );
    dian_extensions(
        &mut out,
        None,
        &note.software,
        &security,
        &note.environment.lookup_url(&cude),
    );
    let lines =
        usize::from(!note.work.amount().is_zero()) + usize::from(!note.fee.amount().is_zero());
    let _ = write!(
        out,
        "<cbc:UBLVersionID>UBL 2.1</cbc:UBLVersionID><cbc:CustomizationID>20</cbc:CustomizationID>\
         <cbc:ProfileID>DIAN 2.1: Nota Crédito de Factura Electrónica de Venta</cbc:ProfileID>\
         <cbc:ProfileExecutionID>{env}</cbc:ProfileExecutionID><cbc:ID>{number}</cbc:ID>\
         <cbc:UUID schemeID=\"{env}\" schemeName=\"CUDE-SHA384\">{cude}</cbc:UUID>\
         <cbc:IssueDate>{date}</cbc:IssueDate><cbc:IssueTime>{time}</cbc:IssueTime>\
         <cbc:CreditNoteTypeCode>91</cbc:CreditNoteTypeCode><cbc:Note>{reason}</cbc:Note>\
         <cbc:DocumentCurrencyCode>COP</cbc:DocumentCurrencyCode>\
         <cbc:LineCountNumeric>{lines}</cbc:LineCountNumeric>\
         <cac:DiscrepancyResponse><cbc:ReferenceID>{invoice}</cbc:ReferenceID>\
         <cbc:ResponseCode>{code}</cbc:ResponseCode><cbc:Description>{reason}</cbc:Description>\
         </cac:DiscrepancyResponse><cac:BillingReference><cac:InvoiceDocumentReference>\
         <cbc:ID>{invoice}</cbc:ID><cbc:UUID schemeName=\"CUFE-SHA384\">{cufe}</cbc:UUID>\
         <cbc:IssueDate>{invoice_date}</cbc:IssueDate></cac:InvoiceDocumentReference>\
         </cac:BillingReference>",
        env = note.environment.profile_execution_id(),
        number = escape(&note.number),
        reason = escape(&note.reason),
        invoice = escape(&note.invoice.number),
        code = note.discrepancy.code(),
        cufe = escape(&note.invoice.cufe),
        invoice_date = note.invoice.issued_on,
    );
    party(&mut out, "AccountingSupplierParty", &note.supplier);
    party(&mut out, "AccountingCustomerParty", &note.customer);
    tax_total(&mut out, note.fee, note.vat_rate, note.vat);
    totals(&mut out, note.line_extension(), note.fee, note.total());
    let kind = LineKind::CreditNote;
    let mut n = 0;
    if !note.work.amount().is_zero() {
        n += 1;
        mandate_line(
            &mut out,
            kind,
            n,
            "Trabajo de los teletrabajadores acreditado",
            note.work,
            None,
        );
    }
    if !note.fee.amount().is_zero() {
        n += 1;
        fee_line(&mut out, kind, n, note.fee, note.vat_rate, note.vat);
    }
    out.push_str("</CreditNote>");
    out
}

/// One week's purchases from one worker: her approved work in the week, as one accumulated
/// line per task (Resolución 000167 de 2021: weekly accumulation per supplier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportLine {
    pub description: String,
    pub amount: Cop,
    /// The day the first operation of the line happened.
    pub first_day: NaiveDate,
}

/// An electronic documento soporte: what the platform bought in one ISO week (Monday to
/// Sunday, Bogotá) from one worker who is not obliged to invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectronicSupportDocument {
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub week_start: NaiveDate,
    pub week_end: NaiveDate,
    /// The worker (seller), by cédula.
    pub seller: Party,
    /// The platform (buyer).
    pub buyer: Party,
    pub lines: Vec<SupportLine>,
    /// Income tax withheld on the week's purchases (code 06, ReteRenta), with its rate.
    pub withholding: Option<(Decimal, Cop)>,
    pub resolution: Resolution,
    pub software: Software,
    pub environment: Environment,
}

/// What support lines add up to.
fn lines_total(lines: &[SupportLine]) -> Cop {
    lines.iter().fold(Cop::ZERO, |sum, l| {
        Cop::new(sum.amount() + l.amount.amount())
    })
}

/// The fields a CUDS is computed from, for a documento soporte and its nota de ajuste alike.
/// A worker is not responsible for IVA: none.
#[allow(clippy::too_many_arguments)]
fn support_code_input<'a>(
    number: &'a str,
    issued_at: DateTime<Utc>,
    lines: &[SupportLine],
    seller: &'a Party,
    buyer: &'a Party,
    software: &'a Software,
    environment: Environment,
) -> cufe::SupportCodeInput<'a> {
    cufe::SupportCodeInput {
        number,
        issued_at,
        subtotal: lines_total(lines),
        iva: Cop::ZERO,
        total: lines_total(lines),
        seller_id: &seller.id,
        buyer_nit: &buyer.id,
        software_pin: &software.pin,
        environment,
    }
}

impl ElectronicSupportDocument {
    pub fn subtotal(&self) -> Cop {
        lines_total(&self.lines)
    }

    /// The fields the CUDS is computed from.
    pub fn code_input(&self) -> cufe::SupportCodeInput<'_> {
        support_code_input(
            &self.number,
            self.issued_at,
            &self.lines,
            &self.seller,
            &self.buyer,
            &self.software,
            self.environment,
        )
    }

    pub fn cuds(&self) -> String {
        cufe::cuds(&self.code_input())
    }
}

/// The documento soporte as UBL 2.1 XML (an `Invoice` of type 05, resident seller), unsigned.
/// Each line is marked as a weekly accumulation (`InvoicePeriod/DescriptionCode` 2).
pub fn support_document_xml(ds: &ElectronicSupportDocument) -> String {
    let (date, time) = cufe::date_and_time(ds.issued_at);
    let cuds = ds.cuds();
    let security = cufe::software_security_code(&ds.software.id, &ds.software.pin, &ds.number);
    let mut out = String::with_capacity(6 * 1024);
    let _ = write!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?><Invoice {NAMESPACES}>"#
    );
    dian_extensions(
        &mut out,
        Some(&ds.resolution),
        &ds.software,
        &security,
        &ds.environment.lookup_url(&cuds),
    );
    let _ = write!(
        out,
        "<cbc:UBLVersionID>UBL 2.1</cbc:UBLVersionID><cbc:CustomizationID>10</cbc:CustomizationID>\
         <cbc:ProfileID>DIAN 2.1: documento soporte en adquisiciones efectuadas a no obligados \
         a facturar.</cbc:ProfileID>\
         <cbc:ProfileExecutionID>{env}</cbc:ProfileExecutionID><cbc:ID>{number}</cbc:ID>\
         <cbc:UUID schemeID=\"{env}\" schemeName=\"CUDS-SHA384\">{cuds}</cbc:UUID>\
         <cbc:IssueDate>{date}</cbc:IssueDate><cbc:IssueTime>{time}</cbc:IssueTime>\
         <cbc:InvoiceTypeCode>05</cbc:InvoiceTypeCode>\
         <cbc:DocumentCurrencyCode>COP</cbc:DocumentCurrencyCode>\
         <cbc:LineCountNumeric>{count}</cbc:LineCountNumeric>\
         <cac:InvoicePeriod><cbc:StartDate>{start}</cbc:StartDate><cbc:EndDate>{end}</cbc:EndDate>\
         </cac:InvoicePeriod>",
        env = ds.environment.profile_execution_id(),
        number = escape(&ds.number),
        count = ds.lines.len(),
        start = ds.week_start,
        end = ds.week_end,
    );
    party(&mut out, "AccountingSupplierParty", &ds.seller);
    party(&mut out, "AccountingCustomerParty", &ds.buyer);
    let _ = write!(
        out,
        "<cac:PaymentMeans><cbc:ID>1</cbc:ID><cbc:PaymentMeansCode>42</cbc:PaymentMeansCode>\
         </cac:PaymentMeans>"
    );
    if let Some((rate, withheld)) = ds.withholding {
        out.push_str("<cac:WithholdingTaxTotal>");
        money(&mut out, "TaxAmount", withheld);
        out.push_str("<cac:TaxSubtotal>");
        money(&mut out, "TaxableAmount", ds.subtotal());
        money(&mut out, "TaxAmount", withheld);
        let mut percent = (rate * Decimal::ONE_HUNDRED).round_dp(2);
        percent.rescale(2);
        let _ = write!(
            out,
            "<cac:TaxCategory><cbc:Percent>{percent}</cbc:Percent><cac:TaxScheme>\
             <cbc:ID>06</cbc:ID><cbc:Name>ReteRenta</cbc:Name></cac:TaxScheme></cac:TaxCategory>\
             </cac:TaxSubtotal></cac:WithholdingTaxTotal>"
        );
    }
    totals(&mut out, ds.subtotal(), Cop::ZERO, ds.subtotal());
    for (i, l) in ds.lines.iter().enumerate() {
        let _ = write!(
            out,
            "<cac:InvoiceLine><cbc:ID>{}</cbc:ID>\
             <cbc:InvoicedQuantity unitCode=\"94\">1</cbc:InvoicedQuantity>",
            i + 1
        );
        money(&mut out, "LineExtensionAmount", l.amount);
        let _ = write!(
            out,
            "<cac:InvoicePeriod><cbc:StartDate>{}</cbc:StartDate>\
             <cbc:DescriptionCode>2</cbc:DescriptionCode>\
             <cbc:Description>Acumulado semanal</cbc:Description></cac:InvoicePeriod>\
             <cac:Item><cbc:Description>{}</cbc:Description></cac:Item>",
            l.first_day,
            escape(&l.description)
        );
        line_end(&mut out, LineKind::Invoice, l.amount);
    }
    out.push_str("</Invoice>");
    out
}

/// The documento soporte a nota de ajuste corrects, as it was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportReference {
    pub number: String,
    pub cuds: String,
    pub issued_on: NaiveDate,
}

/// A nota de ajuste del documento soporte (type 95): it lowers or annuls one documento
/// soporte, referenced by its CUDS. Its amounts are what it takes off, as positive values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectronicSupportAdjustment {
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub document: SupportReference,
    pub discrepancy: Discrepancy,
    pub reason: String,
    /// The worker (seller), by cédula, as on the document.
    pub seller: Party,
    /// The platform (buyer).
    pub buyer: Party,
    /// What each line takes off (descriptions and first days as the document said them).
    pub lines: Vec<SupportLine>,
    pub software: Software,
    pub environment: Environment,
}

impl ElectronicSupportAdjustment {
    pub fn subtotal(&self) -> Cop {
        lines_total(&self.lines)
    }

    /// The fields its CUDS is computed from: the documento soporte's formula, on the note.
    pub fn code_input(&self) -> cufe::SupportCodeInput<'_> {
        support_code_input(
            &self.number,
            self.issued_at,
            &self.lines,
            &self.seller,
            &self.buyer,
            &self.software,
            self.environment,
        )
    }

    pub fn cuds(&self) -> String {
        cufe::cuds(&self.code_input())
    }
}

/// The nota de ajuste as UBL 2.1 XML: a `CreditNote` of type 95 (the annex defines no debit
/// form for it) whose `BillingReference` names the documento soporte by number, CUDS and
/// date, and whose `DiscrepancyResponse` says why. Unsigned.
pub fn support_adjustment_xml(note: &ElectronicSupportAdjustment) -> String {
    let (date, time) = cufe::date_and_time(note.issued_at);
    let cuds = note.cuds();
    let security =
        cufe::software_security_code(&note.software.id, &note.software.pin, &note.number);
    let mut out = String::with_capacity(6 * 1024);
    let _ = write!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?><CreditNote {}>"#,
        NAMESPACES.replace("xsd:Invoice-2", "xsd:CreditNote-2")
    );
    dian_extensions(
        &mut out,
        None,
        &note.software,
        &security,
        &note.environment.lookup_url(&cuds),
    );
    let _ = write!(
        out,
        "<cbc:UBLVersionID>UBL 2.1</cbc:UBLVersionID><cbc:CustomizationID>10</cbc:CustomizationID>\
         <cbc:ProfileID>DIAN 2.1: Nota de ajuste al documento soporte en adquisiciones \
         efectuadas a sujetos no obligados a expedir factura o documento equivalente\
         </cbc:ProfileID>\
         <cbc:ProfileExecutionID>{env}</cbc:ProfileExecutionID><cbc:ID>{number}</cbc:ID>\
         <cbc:UUID schemeID=\"{env}\" schemeName=\"CUDS-SHA384\">{cuds}</cbc:UUID>\
         <cbc:IssueDate>{date}</cbc:IssueDate><cbc:IssueTime>{time}</cbc:IssueTime>\
         <cbc:CreditNoteTypeCode>95</cbc:CreditNoteTypeCode><cbc:Note>{reason}</cbc:Note>\
         <cbc:DocumentCurrencyCode>COP</cbc:DocumentCurrencyCode>\
         <cbc:LineCountNumeric>{count}</cbc:LineCountNumeric>\
         <cac:DiscrepancyResponse><cbc:ReferenceID>{document}</cbc:ReferenceID>\
         <cbc:ResponseCode>{code}</cbc:ResponseCode><cbc:Description>{reason}</cbc:Description>\
         </cac:DiscrepancyResponse><cac:BillingReference><cac:InvoiceDocumentReference>\
         <cbc:ID>{document}</cbc:ID><cbc:UUID schemeName=\"CUDS-SHA384\">{document_cuds}</cbc:UUID>\
         <cbc:IssueDate>{document_date}</cbc:IssueDate></cac:InvoiceDocumentReference>\
         </cac:BillingReference>",
        env = note.environment.profile_execution_id(),
        number = escape(&note.number),
        reason = escape(&note.reason),
        count = note.lines.len(),
        document = escape(&note.document.number),
        code = note.discrepancy.code(),
        document_cuds = escape(&note.document.cuds),
        document_date = note.document.issued_on,
    );
    party(&mut out, "AccountingSupplierParty", &note.seller);
    party(&mut out, "AccountingCustomerParty", &note.buyer);
    out.push_str(
        "<cac:PaymentMeans><cbc:ID>1</cbc:ID><cbc:PaymentMeansCode>42</cbc:PaymentMeansCode>\
         </cac:PaymentMeans>",
    );
    totals(&mut out, note.subtotal(), Cop::ZERO, note.subtotal());
    for (i, l) in note.lines.iter().enumerate() {
        line_start(&mut out, LineKind::CreditNote, i + 1, l.amount);
        let _ = write!(
            out,
            "<cac:Item><cbc:Description>{}</cbc:Description></cac:Item>",
            escape(&l.description)
        );
        line_end(&mut out, LineKind::CreditNote, l.amount);
    }
    out.push_str("</CreditNote>");
    out
}
