//! The factura electrónica as DIAN receives it: valid against the OASIS UBL 2.1 schemas (with
//! `xmllint`, as `.ci/run` installs it), its CUFE recomputed from the document's own fields,
//! and its totals re-added from its lines.

use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal_macros::dec;
use vereda_contracts::cufe::{self, Environment, SaleCodeInput, Taxes};
use vereda_contracts::money::Cop;
use vereda_documents::ubl::{Resolution, invoice_xml};

mod common;

use common::{sample, schema, validate, worker};

fn text<'a>(doc: &'a roxmltree::Document, path: &[&str]) -> &'a str {
    let mut node = doc.root_element();
    for name in path {
        node = node
            .children()
            .find(|n| n.tag_name().name() == *name)
            .unwrap_or_else(|| panic!("no {name} in {path:?}"));
    }
    node.text().unwrap_or_default()
}

fn cop(s: &str) -> Cop {
    Cop::new(s.parse().unwrap())
}

#[test]
fn the_invoice_is_valid_ubl_and_its_cufe_recomputes_from_its_own_fields() {
    let inv = sample();
    let xml = invoice_xml(&inv);
    validate(&xml, "Invoice").unwrap_or_else(|e| panic!("not valid UBL 2.1: {e}\n{xml}"));

    let doc = roxmltree::Document::parse(&xml).unwrap();
    let number = text(&doc, &["ID"]);
    let issued = format!(
        "{}T{}",
        text(&doc, &["IssueDate"]),
        text(&doc, &["IssueTime"])
    );
    let issued_at = chrono::DateTime::parse_from_rfc3339(&issued)
        .unwrap()
        .with_timezone(&Utc);
    let subtotal = cop(text(&doc, &["LegalMonetaryTotal", "LineExtensionAmount"]));
    let vat = cop(text(&doc, &["TaxTotal", "TaxAmount"]));
    let total = cop(text(&doc, &["LegalMonetaryTotal", "PayableAmount"]));
    let supplier = text(
        &doc,
        &[
            "AccountingSupplierParty",
            "Party",
            "PartyTaxScheme",
            "CompanyID",
        ],
    );
    let customer = text(
        &doc,
        &[
            "AccountingCustomerParty",
            "Party",
            "PartyTaxScheme",
            "CompanyID",
        ],
    );
    let environment = match text(&doc, &["ProfileExecutionID"]) {
        "1" => Environment::Production,
        _ => Environment::Test,
    };
    let recomputed = cufe::cufe(&SaleCodeInput {
        number,
        issued_at,
        subtotal,
        taxes: Taxes {
            iva: vat,
            ..Taxes::default()
        },
        total,
        issuer_nit: supplier,
        buyer_id: customer,
        key: &inv.resolution.technical_key,
        environment,
    });
    assert_eq!(text(&doc, &["UUID"]), recomputed);
    assert_eq!(recomputed, inv.cufe());
    assert_eq!(issued, "2026-12-07T09:05:09-05:00", "Bogotá time");

    // Totals re-added from the lines: the workers' pay without IVA, the fee with it.
    let lines: Vec<_> = doc
        .root_element()
        .children()
        .filter(|n| n.tag_name().name() == "InvoiceLine")
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(text(&doc, &["LineCountNumeric"]), "3");
    let amount_of = |n: &roxmltree::Node| -> rust_decimal::Decimal {
        n.children()
            .find(|c| c.tag_name().name() == "LineExtensionAmount")
            .unwrap()
            .text()
            .unwrap()
            .parse()
            .unwrap()
    };
    let sum: rust_decimal::Decimal = lines.iter().map(amount_of).sum();
    assert_eq!(sum, subtotal.amount());
    assert_eq!(subtotal.amount(), dec!(120582));
    let taxed: Vec<_> = lines
        .iter()
        .filter(|l| l.children().any(|c| c.tag_name().name() == "TaxTotal"))
        .collect();
    assert_eq!(taxed.len(), 1, "only the fee carries IVA");
    assert_eq!(amount_of(taxed[0]), dec!(20097));
    assert_eq!(total.amount(), subtotal.amount() + vat.amount());
    assert_eq!(
        text(&doc, &["LegalMonetaryTotal", "TaxExclusiveAmount"]),
        "20097.00"
    );
    // Each worker's line names her as the mandante, by cédula (scheme 13).
    let mandantes: Vec<&str> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "InformationContentProviderParty")
        .map(|n| {
            n.descendants()
                .find(|c| c.tag_name().name() == "ID")
                .unwrap()
                .text()
                .unwrap()
        })
        .collect();
    assert_eq!(mandantes, ["1061234567", "1002003004"]);
    assert_eq!(
        text(&doc, &["CustomizationID"]),
        "11",
        "operation type: mandates"
    );
    // Escaped, and read back as written.
    assert_eq!(
        text(
            &doc,
            &["AccountingCustomerParty", "Party", "PartyName", "Name"]
        ),
        "Soporte Andino & Cía <SAS>"
    );
}

#[test]
fn a_document_that_breaks_the_schema_is_caught() {
    // The validation is real: an element out of order is refused.
    let xml = invoice_xml(&sample()).replace("<cbc:UBLVersionID>UBL 2.1</cbc:UBLVersionID>", "");
    let xml = xml.replace(
        "<cbc:CustomizationID>11</cbc:CustomizationID>",
        "<cbc:CustomizationID>11</cbc:CustomizationID><cbc:UBLVersionID>UBL 2.1</cbc:UBLVersionID>",
    );
    let why = validate(&xml, "Invoice").unwrap_err();
    assert!(why.contains("UBLVersionID"), "{why}");
    assert!(Path::new(&schema("CreditNote")).exists());
}

#[test]
fn the_credit_note_is_valid_ubl_references_the_invoice_and_its_cude_recomputes() {
    use vereda_documents::ubl::{
        Discrepancy, ElectronicCreditNote, InvoiceReference, credit_note_xml,
    };
    let inv = sample();
    let note = ElectronicCreditNote {
        number: "NC1".into(),
        issued_at: Utc.with_ymd_and_hms(2026, 12, 10, 21, 30, 0).unwrap(),
        invoice: InvoiceReference {
            number: inv.number.clone(),
            cufe: inv.cufe(),
            issued_on: NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
        },
        discrepancy: Discrepancy::PartialNonAcceptance,
        reason: "La tarea «Digitar planillas» no se aceptó".into(),
        supplier: inv.supplier.clone(),
        customer: inv.customer.clone(),
        work: Cop::new(dec!(52000)),
        fee: Cop::new(dec!(10400)),
        vat_rate: dec!(0.19),
        vat: Cop::new(dec!(1976)),
        software: inv.software.clone(),
        environment: Environment::Test,
    };
    let xml = credit_note_xml(&note);
    validate(&xml, "CreditNote").unwrap_or_else(|e| panic!("not valid UBL 2.1: {e}\n{xml}"));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        text(
            &doc,
            &["BillingReference", "InvoiceDocumentReference", "UUID"]
        ),
        inv.cufe()
    );
    assert_eq!(text(&doc, &["DiscrepancyResponse", "ResponseCode"]), "1");
    let issued = format!(
        "{}T{}",
        text(&doc, &["IssueDate"]),
        text(&doc, &["IssueTime"])
    );
    assert_eq!(issued, "2026-12-10T16:30:00-05:00");
    let recomputed = cufe::cude(&SaleCodeInput {
        number: text(&doc, &["ID"]),
        issued_at: chrono::DateTime::parse_from_rfc3339(&issued)
            .unwrap()
            .with_timezone(&Utc),
        subtotal: cop(text(&doc, &["LegalMonetaryTotal", "LineExtensionAmount"])),
        taxes: Taxes {
            iva: cop(text(&doc, &["TaxTotal", "TaxAmount"])),
            ..Taxes::default()
        },
        total: cop(text(&doc, &["LegalMonetaryTotal", "PayableAmount"])),
        issuer_nit: "901234567",
        buyer_id: "800199436",
        key: &inv.software.pin,
        environment: Environment::Test,
    });
    assert_eq!(text(&doc, &["UUID"]), recomputed);
    assert_eq!(
        text(&doc, &["LegalMonetaryTotal", "PayableAmount"]),
        "64376.00"
    );
}

#[test]
fn the_weekly_support_document_is_valid_ubl_and_its_cuds_recomputes() {
    use vereda_documents::ubl::{ElectronicSupportDocument, SupportLine, support_document_xml};
    let inv = sample();
    let monday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let ds = ElectronicSupportDocument {
        number: "DS15".into(),
        issued_at: Utc.with_ymd_and_hms(2026, 12, 7, 11, 0, 0).unwrap(),
        week_start: monday,
        week_end: NaiveDate::from_ymd_opt(2026, 12, 6).unwrap(),
        seller: worker("Luz Torres", "1061234567"),
        buyer: inv.supplier.clone(),
        lines: vec![
            SupportLine {
                description: "Revisar tickets de soporte".into(),
                amount: Cop::new(dec!(48485)),
                first_day: monday,
            },
            SupportLine {
                description: "Digitar planillas".into(),
                amount: Cop::new(dec!(52000)),
                first_day: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            },
        ],
        withholding: Some((dec!(0.04), Cop::new(dec!(4019)))),
        resolution: Resolution {
            prefix: "DS".into(),
            ..inv.resolution.clone()
        },
        software: inv.software.clone(),
        environment: Environment::Test,
    };
    let xml = support_document_xml(&ds);
    validate(&xml, "Invoice").unwrap_or_else(|e| panic!("not valid UBL 2.1: {e}\n{xml}"));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(text(&doc, &["InvoiceTypeCode"]), "05");
    assert_eq!(text(&doc, &["InvoicePeriod", "StartDate"]), "2026-11-30");
    assert_eq!(text(&doc, &["InvoicePeriod", "EndDate"]), "2026-12-06");
    let issued = format!(
        "{}T{}",
        text(&doc, &["IssueDate"]),
        text(&doc, &["IssueTime"])
    );
    assert_eq!(
        issued, "2026-12-07T06:00:00-05:00",
        "issued the Monday after"
    );
    let total = cop(text(&doc, &["LegalMonetaryTotal", "PayableAmount"]));
    let recomputed = cufe::cuds(&cufe::SupportCodeInput {
        number: text(&doc, &["ID"]),
        issued_at: chrono::DateTime::parse_from_rfc3339(&issued)
            .unwrap()
            .with_timezone(&Utc),
        subtotal: cop(text(&doc, &["LegalMonetaryTotal", "LineExtensionAmount"])),
        iva: Cop::ZERO,
        total,
        seller_id: text(
            &doc,
            &[
                "AccountingSupplierParty",
                "Party",
                "PartyTaxScheme",
                "CompanyID",
            ],
        ),
        buyer_nit: text(
            &doc,
            &[
                "AccountingCustomerParty",
                "Party",
                "PartyTaxScheme",
                "CompanyID",
            ],
        ),
        software_pin: &inv.software.pin,
        environment: Environment::Test,
    });
    assert_eq!(text(&doc, &["UUID"]), recomputed);
    assert_eq!(total.amount(), dec!(100485));
    assert_eq!(text(&doc, &["WithholdingTaxTotal", "TaxAmount"]), "4019.00");
    let weekly = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "DescriptionCode")
        .count();
    assert_eq!(weekly, 2, "each line is a weekly accumulation");
}

#[test]
fn the_check_before_storing_passes_what_is_written_and_catches_what_does_not_add_up() {
    use vereda_documents::ubl::check::check;
    let inv = sample();
    let xml = invoice_xml(&inv);
    let key = inv.resolution.technical_key.clone();
    let ok = check(&xml, &key).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(ok.code, inv.cufe());
    assert_eq!(ok.number, "VRD1");
    assert_eq!(ok.total.amount(), dec!(124400));

    // A line's amount changed (and its price with it): the lines no longer add to the total.
    let line = xml.replacen("52000.00", "52001.00", 2);
    assert_ne!(line, xml);
    let e = check(&line, &key).unwrap_err();
    assert!(e.contains("LineExtensionAmount"), "{e}");
    // The payable amount changed alone.
    let payable = xml.replace(
        "<cbc:PayableAmount currencyID=\"COP\">124400.00</cbc:PayableAmount>",
        "<cbc:PayableAmount currencyID=\"COP\">124400.01</cbc:PayableAmount>",
    );
    assert_ne!(payable, xml);
    assert!(check(&payable, &key).unwrap_err().contains("PayableAmount"));
    // The code computed with another key, or the number changed after the code was.
    assert!(check(&xml, "otra-clave").unwrap_err().contains("código"));
    let renumbered = xml.replace("<cbc:ID>VRD1</cbc:ID>", "<cbc:ID>VRD2</cbc:ID>");
    assert!(check(&renumbered, &key).unwrap_err().contains("código"));
}

#[test]
fn the_nota_de_ajuste_is_a_valid_type_95_credit_note_naming_its_document_by_cuds() {
    use vereda_documents::ubl::check::check;
    use vereda_documents::ubl::{
        Discrepancy, ElectronicSupportAdjustment, SupportLine, SupportReference,
        support_adjustment_xml,
    };
    let inv = sample();
    let ds_cuds = "a".repeat(96);
    let note = ElectronicSupportAdjustment {
        number: "NA7".into(),
        issued_at: Utc.with_ymd_and_hms(2026, 12, 9, 15, 30, 0).unwrap(),
        document: SupportReference {
            number: "DS15".into(),
            cuds: ds_cuds.clone(),
            issued_on: NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
        },
        discrepancy: Discrepancy::Annulment,
        reason: "Cédula de la vendedora errada".into(),
        seller: worker("Luz Torres", "1061234567"),
        buyer: inv.supplier.clone(),
        lines: vec![
            SupportLine {
                description: "Revisar tickets de soporte".into(),
                amount: Cop::new(dec!(48485)),
                first_day: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            },
            SupportLine {
                description: "Digitar planillas".into(),
                amount: Cop::new(dec!(52000)),
                first_day: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            },
        ],
        software: inv.software.clone(),
        environment: Environment::Test,
    };
    let xml = support_adjustment_xml(&note);
    validate(&xml, "CreditNote").unwrap_or_else(|e| panic!("not valid UBL 2.1: {e}\n{xml}"));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(text(&doc, &["CreditNoteTypeCode"]), "95");
    assert_eq!(text(&doc, &["CustomizationID"]), "10");
    assert_eq!(text(&doc, &["DiscrepancyResponse", "ReferenceID"]), "DS15");
    assert_eq!(text(&doc, &["DiscrepancyResponse", "ResponseCode"]), "2");
    let reference = |e: &str| text(&doc, &["BillingReference", "InvoiceDocumentReference", e]);
    assert_eq!(reference("ID"), "DS15");
    assert_eq!(reference("UUID"), ds_cuds);
    assert_eq!(reference("IssueDate"), "2026-12-07");
    let lines = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "CreditNoteLine")
        .count();
    assert_eq!(lines, 2);
    assert_eq!(
        text(&doc, &["LegalMonetaryTotal", "PayableAmount"]),
        "100485.00"
    );
    // Its CUDS: the documento soporte's formula over the note's own fields, with the PIN.
    let ok = check(&xml, &inv.software.pin).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(ok.code, note.cuds());
    assert_eq!(text(&doc, &["UUID"]), note.cuds());
    assert_eq!(
        (ok.supplier_name.as_str(), ok.supplier_id.as_str()),
        ("Luz Torres", "1061234567")
    );
    // A total changed after the code was computed is caught.
    let changed = xml.replace(
        "<cbc:PayableAmount currencyID=\"COP\">100485.00</cbc:PayableAmount>",
        "<cbc:PayableAmount currencyID=\"COP\">100486.00</cbc:PayableAmount>",
    );
    assert_ne!(changed, xml);
    assert!(check(&changed, &inv.software.pin).is_err());
}

#[test]
fn a_worker_without_a_cedula_is_a_mandate_line_without_a_named_mandante() {
    let mut inv = sample();
    inv.lines[1].mandante = None;
    let xml = invoice_xml(&inv);
    validate(&xml, "Invoice").unwrap_or_else(|e| panic!("not valid UBL 2.1: {e}\n{xml}"));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let named: Vec<&str> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "InformationContentProviderParty")
        .filter_map(|p| p.descendants().find(|n| n.tag_name().name() == "ID"))
        .map(|id| id.text().unwrap_or_default())
        .collect();
    assert_eq!(named, ["1061234567"], "no empty id for the second line");
}
