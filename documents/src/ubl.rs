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
    pub mandante: Party,
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
    let _ = write!(
        out,
        "<ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent><sts:DianExtensions>\
         <sts:InvoiceControl><sts:InvoiceAuthorization>{}</sts:InvoiceAuthorization>\
         <sts:AuthorizationPeriod><cbc:StartDate>{}</cbc:StartDate><cbc:EndDate>{}</cbc:EndDate>\
         </sts:AuthorizationPeriod><sts:AuthorizedInvoices><sts:Prefix>{}</sts:Prefix>\
         <sts:From>{}</sts:From><sts:To>{}</sts:To></sts:AuthorizedInvoices></sts:InvoiceControl>\
         <sts:InvoiceSource><cbc:IdentificationCode listAgencyID=\"6\" \
         listAgencyName=\"United Nations Economic Commission for Europe\" \
         listSchemeURI=\"urn:oasis:names:specification:ubl:codelist:gc:CountryIdentificationCode-2.1\">CO</cbc:IdentificationCode></sts:InvoiceSource>\
         <sts:SoftwareProvider><sts:ProviderID {DIAN} schemeName=\"31\">{}</sts:ProviderID>\
         <sts:SoftwareID {DIAN}>{}</sts:SoftwareID></sts:SoftwareProvider>\
         <sts:SoftwareSecurityCode {DIAN}>{security}</sts:SoftwareSecurityCode>\
         <sts:AuthorizationProvider><sts:AuthorizationProviderID {DIAN} schemeID=\"4\" \
         schemeName=\"31\">800197268</sts:AuthorizationProviderID></sts:AuthorizationProvider>\
         <sts:QRCode>{}</sts:QRCode></sts:DianExtensions></ext:ExtensionContent></ext:UBLExtension>\
         </ext:UBLExtensions>",
        escape(&r.number),
        r.valid_from,
        r.valid_until,
        escape(&r.prefix),
        r.from,
        r.to,
        escape(&inv.software.provider_nit),
        escape(&inv.software.id),
        escape(&inv.environment.lookup_url(&cufe)),
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
        env = inv.environment.code(),
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
    out.push_str("<cac:LegalMonetaryTotal>");
    money(&mut out, "LineExtensionAmount", inv.line_extension());
    money(&mut out, "TaxExclusiveAmount", inv.fee);
    money(&mut out, "TaxInclusiveAmount", inv.total());
    money(&mut out, "PayableAmount", inv.total());
    out.push_str("</cac:LegalMonetaryTotal>");

    let line = |out: &mut String, n: usize, amount: Cop| {
        let _ = write!(
            out,
            "<cac:InvoiceLine><cbc:ID>{n}</cbc:ID>\
             <cbc:InvoicedQuantity unitCode=\"94\">1</cbc:InvoicedQuantity>"
        );
        money(out, "LineExtensionAmount", amount);
    };
    for (i, l) in inv.lines.iter().enumerate() {
        line(&mut out, i + 1, l.amount);
        let _ = write!(
            out,
            "<cac:Item><cbc:Description>{}</cbc:Description>\
             <cac:InformationContentProviderParty><cac:PartyIdentification>",
            escape(&l.description)
        );
        party_id(&mut out, "ID", &l.mandante);
        let _ = write!(
            out,
            "</cac:PartyIdentification><cac:PartyName><cbc:Name>{}</cbc:Name></cac:PartyName>\
             </cac:InformationContentProviderParty></cac:Item><cac:Price>",
            escape(&l.mandante.name)
        );
        money(&mut out, "PriceAmount", l.amount);
        out.push_str(
            r#"<cbc:BaseQuantity unitCode="94">1</cbc:BaseQuantity></cac:Price></cac:InvoiceLine>"#,
        );
    }
    let n = inv.lines.len() + 1;
    line(&mut out, n, inv.fee);
    tax_total(&mut out, inv.fee, inv.vat_rate, inv.vat);
    out.push_str(
        "<cac:Item><cbc:Description>Comisión de la plataforma por la intermediación del trabajo \
         remoto</cbc:Description></cac:Item><cac:Price>",
    );
    money(&mut out, "PriceAmount", inv.fee);
    out.push_str(
        r#"<cbc:BaseQuantity unitCode="94">1</cbc:BaseQuantity></cac:Price></cac:InvoiceLine>"#,
    );
    out.push_str("</Invoice>");
    out
}
