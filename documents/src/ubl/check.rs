//! The check every electronic document passes before it is stored: read back from its own XML,
//! its totals re-add from its lines and its code (CUFE, CUDE or CUDS) recomputes from its own
//! fields. What DIAN would refuse for arithmetic is caught here, whoever wrote the document.

use chrono::{DateTime, Utc};
use roxmltree::{Document, Node};
use rust_decimal::Decimal;
use vereda_contracts::cufe::{self, Environment, SaleCodeInput, SupportCodeInput, Taxes};
use vereda_contracts::money::Cop;

/// What a document that passed says of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub number: String,
    pub code: String,
    pub issued_at: DateTime<Utc>,
    pub total: Cop,
    /// The supplier as the document names it (for a documento soporte, the worker): its
    /// registration name and id. A note that corrects it names the same.
    pub supplier_name: String,
    pub supplier_id: String,
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|n| n.tag_name().name() == name)
}

fn at<'a, 'i>(node: Node<'a, 'i>, path: &[&str]) -> Result<Node<'a, 'i>, String> {
    path.iter().try_fold(node, |n, name| {
        child(n, name).ok_or_else(|| format!("falta {}", path.join("/")))
    })
}

fn text<'a>(node: Node<'a, '_>, path: &[&str]) -> Result<&'a str, String> {
    Ok(at(node, path)?.text().unwrap_or_default())
}

fn amount(node: Node<'_, '_>, path: &[&str]) -> Result<Decimal, String> {
    let raw = text(node, path)?;
    raw.parse()
        .map_err(|_| format!("{} no es un valor: {raw:?}", path.join("/")))
}

fn equal(what: &str, said: Decimal, added: Decimal) -> Result<(), String> {
    if said == added {
        Ok(())
    } else {
        Err(format!("{what} dice {said} pero suma {added}"))
    }
}

/// Check `xml`. `key` is what its code is computed with: the resolution's technical key for
/// an invoice, the software's PIN for a note or a documento soporte.
pub fn check(xml: &str, key: &str) -> Result<Checked, String> {
    let doc = Document::parse(xml).map_err(|e| format!("XML mal formado: {e}"))?;
    let root = doc.root_element();
    let kind = root.tag_name().name();
    let line_name = match kind {
        "Invoice" => "InvoiceLine",
        "CreditNote" => "CreditNoteLine",
        other => return Err(format!("documento desconocido: {other}")),
    };
    // A documento soporte (05) and its nota de ajuste (95) carry a CUDS.
    let support = match kind {
        "Invoice" => text(root, &["InvoiceTypeCode"])? == "05",
        _ => text(root, &["CreditNoteTypeCode"])? == "95",
    };

    // Lines: each one's amount is its price (quantity 1), and they add up to the total.
    let lines: Vec<Node> = root
        .children()
        .filter(|n| n.tag_name().name() == line_name)
        .collect();
    let mut lines_sum = Decimal::ZERO;
    for line in &lines {
        let extension = amount(*line, &["LineExtensionAmount"])?;
        equal(
            "el precio de una línea",
            amount(*line, &["Price", "PriceAmount"])?,
            extension,
        )?;
        lines_sum += extension;
    }
    let count: usize = text(root, &["LineCountNumeric"])?
        .parse()
        .map_err(|_| "LineCountNumeric no es un número".to_string())?;
    if count != lines.len() {
        return Err(format!(
            "LineCountNumeric dice {count} pero hay {} líneas",
            lines.len()
        ));
    }
    let totals = at(root, &["LegalMonetaryTotal"])?;
    let line_extension = amount(totals, &["LineExtensionAmount"])?;
    equal("LineExtensionAmount", line_extension, lines_sum)?;

    // Taxes: each TaxTotal is its subtotals, the line taxes add to the document's.
    let mut taxable = Decimal::ZERO;
    let mut tax = Decimal::ZERO;
    for total in root
        .children()
        .filter(|n| n.tag_name().name() == "TaxTotal")
    {
        let said = amount(total, &["TaxAmount"])?;
        let mut sub_sum = Decimal::ZERO;
        for sub in total
            .children()
            .filter(|n| n.tag_name().name() == "TaxSubtotal")
        {
            taxable += amount(sub, &["TaxableAmount"])?;
            sub_sum += amount(sub, &["TaxAmount"])?;
        }
        equal("TaxTotal/TaxAmount", said, sub_sum)?;
        tax += said;
    }
    let line_tax: Decimal = lines
        .iter()
        .filter_map(|l| child(*l, "TaxTotal"))
        .map(|t| amount(t, &["TaxAmount"]))
        .sum::<Result<Decimal, String>>()?;
    equal("el impuesto de las líneas", tax, line_tax)?;
    equal(
        "TaxExclusiveAmount",
        amount(totals, &["TaxExclusiveAmount"])?,
        taxable,
    )?;
    let inclusive = amount(totals, &["TaxInclusiveAmount"])?;
    equal("TaxInclusiveAmount", inclusive, line_extension + tax)?;
    equal(
        "PayableAmount",
        amount(totals, &["PayableAmount"])?,
        inclusive,
    )?;

    // The code, from the document's own fields.
    let number = text(root, &["ID"])?.to_string();
    let issued = format!(
        "{}T{}",
        text(root, &["IssueDate"])?,
        text(root, &["IssueTime"])?
    );
    let issued_at = DateTime::parse_from_rfc3339(&issued)
        .map_err(|_| format!("fecha y hora de emisión ilegibles: {issued}"))?
        .with_timezone(&Utc);
    let environment = match text(root, &["ProfileExecutionID"])? {
        "1" => Environment::Production,
        "2" => Environment::Test,
        other => return Err(format!("ProfileExecutionID desconocido: {other}")),
    };
    let party_id = |wrapper: &str| text(root, &[wrapper, "Party", "PartyTaxScheme", "CompanyID"]);
    let supplier = party_id("AccountingSupplierParty")?;
    let customer = party_id("AccountingCustomerParty")?;
    let total = Cop::new(inclusive);
    let recomputed = if support {
        cufe::cuds(&SupportCodeInput {
            number: &number,
            issued_at,
            subtotal: Cop::new(line_extension),
            iva: Cop::new(tax),
            total,
            seller_id: supplier,
            buyer_nit: customer,
            software_pin: key,
            environment,
        })
    } else {
        let input = SaleCodeInput {
            number: &number,
            issued_at,
            subtotal: Cop::new(line_extension),
            taxes: Taxes {
                iva: Cop::new(tax),
                ..Taxes::default()
            },
            total,
            issuer_nit: supplier,
            buyer_id: customer,
            key,
            environment,
        };
        if kind == "Invoice" {
            cufe::cufe(&input)
        } else {
            cufe::cude(&input)
        }
    };
    let code = text(root, &["UUID"])?.to_string();
    if code != recomputed {
        return Err(format!(
            "el código {code} no corresponde a los campos del documento ({recomputed})"
        ));
    }
    let supplier_name = text(
        root,
        &[
            "AccountingSupplierParty",
            "Party",
            "PartyTaxScheme",
            "RegistrationName",
        ],
    )?
    .to_string();
    Ok(Checked {
        number,
        code,
        issued_at,
        total,
        supplier_name,
        supplier_id: supplier.to_string(),
    })
}
