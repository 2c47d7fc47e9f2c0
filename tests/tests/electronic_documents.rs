//! Electronic documents (issue 19), on the pass's database: an invoice issued under DIAN's
//! numbering resolution and its credit note come out as UBL 2.1 XML that `xmllint` finds
//! valid, whose CUFE/CUDE recompute (here, independently of the product's own check) from the
//! document's own fields, served the same bytes to whoever sees the document; they are handed
//! to the provider the day they are issued (files in `data/einvoice/` by default), and DIAN's
//! answer is recorded once. An invoice numbered before any resolution has none, and says so.

use std::process::Command;
use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};
use vereda_contracts::cufe::{self, Environment, SaleCodeInput, Taxes};
use vereda_contracts::money::Cop;
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::*;

fn today() -> chrono::NaiveDate {
    Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
}

/// `xmllint --schema` against the UBL 2.1 schemas kept in the repository.
fn schema_valid(xml: &[u8], doc: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.xml");
    std::fs::write(&file, xml).unwrap();
    let xsd = format!(
        "{}/../schemas/ubl-2.1/maindoc/UBL-{doc}-2.1.xsd",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema", &xsd])
        .arg(&file)
        .output()
        .expect("xmllint runs (Debian: apt-get install libxml2-utils; .ci/run installs it)");
    assert!(
        out.status.success(),
        "not valid UBL 2.1: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

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

/// The document's code recomputed from its own fields (`key`: the technical key for a CUFE,
/// the software's PIN for a CUDE), as DIAN recomputes it.
fn recomputed(doc: &roxmltree::Document, key: &str) -> String {
    let issued = format!(
        "{}T{}",
        text(doc, &["IssueDate"]),
        text(doc, &["IssueTime"])
    );
    let party = |p: &str| text(doc, &[p, "Party", "PartyTaxScheme", "CompanyID"]);
    let input = SaleCodeInput {
        number: text(doc, &["ID"]),
        issued_at: chrono::DateTime::parse_from_rfc3339(&issued)
            .unwrap()
            .with_timezone(&Utc),
        subtotal: cop(text(doc, &["LegalMonetaryTotal", "LineExtensionAmount"])),
        taxes: Taxes {
            iva: cop(text(doc, &["TaxTotal", "TaxAmount"])),
            ..Taxes::default()
        },
        total: cop(text(doc, &["LegalMonetaryTotal", "PayableAmount"])),
        issuer_nit: party("AccountingSupplierParty"),
        buyer_id: party("AccountingCustomerParty"),
        key,
        environment: Environment::Test,
    };
    if doc.root_element().tag_name().name() == "Invoice" {
        cufe::cufe(&input)
    } else {
        cufe::cude(&input)
    }
}

async fn documents(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/v1/electronic-documents{query}"), Some(token))
        .await;
    r.ok(200)["items"].as_array().unwrap().clone()
}

/// DIAN's published test technical key.
const KEY: &str = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c";

async fn record_resolution(app: &TestApp, admin: &str) {
    app.post(
        "/v1/numbering-resolutions",
        Some(admin),
        json!({
            "kind": "invoice", "number": "18760000001", "prefix": "SETP",
            "from": 990000000, "to": 995000000,
            "valid_from": (today() - chrono::Duration::days(30)).to_string(),
            "valid_until": (today() + chrono::Duration::days(300)).to_string(),
            "technical_key": KEY
        }),
    )
    .await
    .ok(201);
}

#[tokio::test]
async fn invoices_and_credit_notes_are_electronic_documents_dian_can_check() {
    let (app, smtp, settings) = spawn_app_with_smtp().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, worker) = app.worker(&admin, &["data-entry"]).await;
    let period = json!({"period_end": today().to_string()});

    // Invoiced before DIAN's resolution is recorded: `VRD-…`, and no electronic document.
    let (_, early) = app.company(&admin, "Primera S.A.S.").await;
    app.approved_fixed_work(&early, "Digitar actas", "data-entry", 40_000, &[&worker])
        .await;
    app.run_job(&finance, "/v1/billing-runs", period.clone())
        .await;
    let early_invoice = app.get("/v1/invoices", Some(&early)).await.ok(200)["items"][0].clone();
    assert_eq!(early_invoice["number"], "VRD-000001");
    let r = app
        .get(
            &format!("/v1/invoices/{}/xml", early_invoice["id"].as_str().unwrap()),
            Some(&early),
        )
        .await;
    r.problem(409);
    assert_eq!(r.code(), "no_electronic_document");
    assert!(r.body["detail_es"].as_str().unwrap().contains("resolución"));

    record_resolution(&app, &admin).await;
    let (_, owner) = app.company(&admin, "Soporte Andino & Cía").await;
    let (_, other_owner) = app.company(&admin, "Otra Empresa").await;
    app.approved_fixed_work(
        &owner,
        "Revisar tickets <urgentes>",
        "data-entry",
        48_485,
        &[&worker],
    )
    .await;
    app.run_job(&finance, "/v1/billing-runs", period.clone())
        .await;
    let invoice = app.get("/v1/invoices", Some(&owner)).await.ok(200)["items"][0].clone();
    let id = invoice["id"].as_str().unwrap().to_string();
    assert_eq!(invoice["number"], "SETP990000000");

    // The company gets the XML: schema-valid, its CUFE recomputes from its own fields, its
    // total is the invoice's, the worker named as mandante; the same bytes every time.
    let path = format!("/v1/invoices/{id}/xml");
    let r = app.get(&path, Some(&owner)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let xml = r.text.clone();
    schema_valid(xml.as_bytes(), "Invoice");
    assert_eq!(
        r.headers.get("X-Content-SHA256").unwrap(),
        sha256_hex(&xml).as_str()
    );
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cufe = text(&doc, &["UUID"]).to_string();
    assert_eq!(recomputed(&doc, KEY), cufe);
    assert_eq!(text(&doc, &["ID"]), "SETP990000000");
    assert_eq!(
        cop(text(&doc, &["LegalMonetaryTotal", "PayableAmount"])).amount(),
        invoice["total"].as_str().unwrap().parse().unwrap()
    );
    assert_eq!(text(&doc, &["CustomizationID"]), "11", "mandate invoice");
    assert_eq!(text(&doc, &["ProfileExecutionID"]), "2", "test environment");
    assert!(xml.contains("Revisar tickets &lt;urgentes&gt;"), "escaped");
    assert!(xml.contains("1012345678"), "the worker as mandante");
    assert_eq!(app.get(&path, Some(&finance)).await.text, xml);

    // Only who sees the invoice.
    app.get(&path, Some(&other_owner)).await.problem(404);
    app.get(&path, Some(&worker)).await.problem(403);
    app.get(&path, None).await.problem(401);

    // Delivered the day it was issued: the provider's folder has the same bytes, and the PDF.
    let listed = eventually(std::time::Duration::from_secs(30), || async {
        let items = documents(&app, &finance, "?state=delivered").await;
        (!items.is_empty()).then_some(items)
    })
    .await
    .expect("the invoice is delivered");
    assert_eq!(listed.len(), 1, "{listed:?}");
    let entry = &listed[0];
    assert_eq!(entry["subject_id"], id.as_str());
    assert_eq!(entry["code"], cufe.as_str());
    assert_eq!(entry["signed"], false, "no certificate configured");
    assert_eq!(entry["schema_checked"], true);
    assert_eq!(entry["issued_on"], today().to_string());
    assert!(
        entry["lookup_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("documentkey={cufe}"))
    );
    let folder = settings.data_dir.join("einvoice/invoice");
    assert_eq!(
        std::fs::read(folder.join("SETP990000000.xml")).unwrap(),
        xml.as_bytes()
    );
    assert!(
        std::fs::read(folder.join("SETP990000000.pdf"))
            .unwrap()
            .starts_with(b"%PDF")
    );
    app.get("/v1/electronic-documents", Some(&owner))
        .await
        .problem(403);

    // The company's e-mail carries XML and PDF in one ZIP; the PDF shows the CUFE, the
    // resolution and DIAN's lookup.
    let mail = eventually(std::time::Duration::from_secs(60), || async {
        smtp.messages()
            .into_iter()
            .find(|m| m.subject().starts_with("Factura SETP990000000"))
    })
    .await
    .expect("the invoice e-mail");
    assert!(
        mail.text()
            .contains("factura electrónica de venta SETP990000000")
    );
    assert!(mail.text().contains("ZIP"));
    let parsed = mail.parsed();
    let zips: Vec<_> = parsed
        .attachments()
        .filter(|a| {
            use mail_parser::MimeHeaders;
            a.is_content_type("application", "zip")
                && a.attachment_name() == Some("SETP990000000.zip")
        })
        .collect();
    assert_eq!(zips.len(), 1, "one ZIP attached");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zips[0].contents().to_vec())).unwrap();
    let mut read = |name: &str| {
        use std::io::Read as _;
        let mut bytes = Vec::new();
        zip.by_name(name)
            .unwrap_or_else(|e| panic!("{name} in the ZIP: {e}"))
            .read_to_end(&mut bytes)
            .unwrap();
        bytes
    };
    assert_eq!(read("SETP990000000.xml"), xml.as_bytes());
    let pdf = read("SETP990000000.pdf");
    let downloaded = app
        .client
        .get(app.url(&format!("/v1/invoices/{id}/pdf")))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(pdf, downloaded.to_vec(), "the same PDF everywhere");
    // Kept beside the screenshots, to be looked at (the QR code is drawn, not text).
    let screens = vereda_tests::browser::screens_dir();
    std::fs::create_dir_all(&screens).unwrap();
    std::fs::write(screens.join("factura-electronica.pdf"), &pdf).unwrap();
    if let Some(text) = vereda_tests::pdf::pdf_text(&pdf) {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for want in [
            "Factura electrónica de venta SETP990000000",
            "Autorización de numeración DIAN N.º 18760000001",
            "prefijo SETP, del 990000000 al 995000000",
            "sin firma digital",
            "catalogo-vpfe-hab.dian.gov.co",
        ] {
            assert!(flat.contains(want), "{want:?} not in the PDF:\n{text}");
        }
        // The 96 characters of the CUFE may wrap: read without spaces.
        let packed: String = text.split_whitespace().collect();
        assert!(packed.contains(&format!("CUFE:{cufe}")), "{text}");
    }
    let r = app
        .get("/v1/electronic-documents?state=lost", Some(&finance))
        .await;
    r.problem(422);
    assert_eq!(r.field(), "state");

    // A credit note: its CUDE (with the software's PIN) recomputes, it points at the
    // invoice's CUFE, it is valid UBL.
    let note = app
        .run_job(
            &finance,
            &format!("/v1/invoices/{id}/credit-notes"),
            json!({"reason": "Ticket duplicado", "work": "10000", "fee": "0"}),
        )
        .await["subject_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .get(&format!("/v1/credit-notes/{note}/xml"), Some(&owner))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    schema_valid(r.text.as_bytes(), "CreditNote");
    let note_doc = roxmltree::Document::parse(&r.text).unwrap();
    assert_eq!(
        recomputed(&note_doc, vereda_store::config::UNREGISTERED_SOFTWARE_PIN),
        text(&note_doc, &["UUID"])
    );
    assert_eq!(
        text(
            &note_doc,
            &["BillingReference", "InvoiceDocumentReference", "UUID"]
        ),
        cufe
    );
    assert_eq!(
        text(&note_doc, &["DiscrepancyResponse", "ResponseCode"]),
        "1",
        "part of the service not accepted"
    );
    app.get(&format!("/v1/credit-notes/{note}/xml"), Some(&other_owner))
        .await
        .problem(404);

    // DIAN's answer, as the provider reports it: a rejection needs its reason; an answer is
    // recorded once; a document not yet delivered takes none.
    let answer = format!("/v1/electronic-documents/{id}/answer");
    let r = app
        .post(&answer, Some(&finance), json!({"outcome": "rejected"}))
        .await;
    r.problem(422);
    assert_eq!(
        (r.code(), r.field()),
        ("rejection_reason_missing", "reason")
    );
    app.post(&answer, Some(&owner), json!({"outcome": "accepted"}))
        .await
        .problem(403);
    let r = app
        .post(&answer, Some(&finance), json!({"outcome": "accepted"}))
        .await;
    assert_eq!(r.ok(200)["state"], "accepted");
    assert_eq!(r.body["state_es"], "Aceptado por la DIAN");
    let r = app
        .post(
            &answer,
            Some(&finance),
            json!({"outcome": "rejected", "reason": "FAD06: CUFE"}),
        )
        .await;
    r.problem(409);
    assert_eq!(r.code(), "document_already_answered");
    app.post(
        "/v1/electronic-documents/no-such-document/answer",
        Some(&finance),
        json!({"outcome": "accepted"}),
    )
    .await
    .problem(404);
    let accepted = documents(&app, &admin, "?state=accepted").await;
    assert_eq!(accepted.len(), 1);
    assert_eq!(
        app.get(&path, Some(&owner)).await.text,
        xml,
        "never touched after"
    );
    // The history: produced, delivered, accepted by whom.
    let history: Vec<(String, Option<String>)> = vereda_store::on_db!(&app.db, |p| {
        sqlx::query_as(
            "SELECT state, recorded_by FROM electronic_document_events \
             WHERE subject_id = $1 ORDER BY seq",
        )
        .bind(&id)
        .fetch_all(p)
        .await
        .unwrap()
    });
    let states: Vec<&str> = history.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(states, ["generated", "delivered", "accepted"]);
    assert!(history[2].1.is_some());
    assert_ledger_invariants(&app.db).await;
}

#[tokio::test]
async fn with_a_certificate_documents_are_signed_and_an_independent_tool_verifies_them() {
    let certs = tempfile::tempdir().unwrap();
    let p12 = vereda_tests::signing::throwaway_certificate(certs.path(), "clave-de-prueba");
    let test_db = TestDb::new().await;
    let mut settings = test_db.settings();
    settings.einvoice.certificate = Some(Arc::new(
        vereda_documents::xades::SigningCertificate::from_pkcs12(&p12, "clave-de-prueba").unwrap(),
    ));
    let mut app = spawn_with(settings).await;
    app.test_db = Some(test_db);
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, worker) = app.worker(&admin, &["data-entry"]).await;
    record_resolution(&app, &admin).await;
    let (_, owner) = app.company(&admin, "Firmas Andinas").await;
    app.approved_fixed_work(
        &owner,
        "Digitar planillas",
        "data-entry",
        52_000,
        &[&worker],
    )
    .await;
    app.run_job(
        &finance,
        "/v1/billing-runs",
        json!({"period_end": today().to_string()}),
    )
    .await;
    let invoice = app.get("/v1/invoices", Some(&owner)).await.ok(200)["items"][0].clone();
    let id = invoice["id"].as_str().unwrap();
    let r = app
        .get(&format!("/v1/invoices/{id}/xml"), Some(&owner))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let xml = r.text.as_bytes();
    vereda_tests::signing::xmlsec1_verifies(certs.path(), xml)
        .unwrap_or_else(|e| panic!("the signature does not verify: {e}"));
    schema_valid(xml, "Invoice");
    let doc = roxmltree::Document::parse(&r.text).unwrap();
    assert_eq!(recomputed(&doc, KEY), text(&doc, &["UUID"]));
    assert!(r.text.contains("<xades:SigningTime>"));
    assert!(r.text.contains("politicadefirmav2"));
    // A byte changed after signing is caught by the same tool.
    let tampered = r.text.replacen("52000.00", "52100.00", 1);
    assert!(vereda_tests::signing::xmlsec1_verifies(certs.path(), tampered.as_bytes()).is_err());

    let item = eventually(std::time::Duration::from_secs(30), || async {
        let items = documents(&app, &finance, "").await;
        items.first().filter(|d| d["state"] == "delivered").cloned()
    })
    .await
    .expect("delivered");
    assert_eq!(item["signed"], true);
    let states: Vec<String> = vereda_store::on_db!(&app.db, |p| {
        sqlx::query_scalar(
            "SELECT state FROM electronic_document_events WHERE subject_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(p)
        .await
        .unwrap()
    });
    assert_eq!(states, ["signed", "delivered"]);
}

#[tokio::test]
async fn weekly_documentos_soporte_are_electronic_and_numbered_inside_their_resolution() {
    use vereda_contracts::support_weeks::Week;
    let (app, _smtp, settings) = spawn_app_with_smtp().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    // DIAN authorised exactly one documento soporte number.
    app.post(
        "/v1/numbering-resolutions",
        Some(&admin),
        json!({
            "kind": "support_document", "number": "18760000077", "prefix": "SEDS",
            "from": 7, "to": 7,
            "valid_from": (today() - chrono::Duration::days(30)).to_string(),
            "valid_until": (today() + chrono::Duration::days(300)).to_string()
        }),
    )
    .await
    .ok(201);
    let (_, owner) = app.company(&admin, "Compras Andinas").await;
    let (luz_id, luz) = app.worker(&admin, &["data-entry"]).await;
    let (_, ana) = app.worker(&admin, &["data-entry"]).await;
    app.approved_fixed_work(
        &owner,
        "Digitar planillas",
        "data-entry",
        52_000,
        &[&luz, &ana],
    )
    .await;
    let now = vereda_contracts::time::unix(vereda_contracts::time::now());
    let last_week = Week::of(now).prev();
    let moved = eventually(std::time::Duration::from_secs(60), || async {
        let n = vereda_store::on_db!(&app.db, |p| sqlx::query(
            "UPDATE accruals SET approved_at = $1"
        )
        .bind(last_week.start() + 86_400)
        .execute(p)
        .await
        .unwrap()
        .rows_affected());
        (n == 2).then_some(())
    })
    .await;
    assert!(moved.is_some(), "both accrued");

    let report = vereda_worker::support_run::issue_weeks(&app.db, &settings, last_week, now)
        .await
        .unwrap();
    // One number in the range: one worker documented, the other left out saying what to do.
    assert_eq!(report.documents, 1, "{report:?}");
    assert_eq!(report.problems.len(), 1, "{report:?}");
    assert!(
        report.problems[0].action.contains("rango"),
        "{:?}",
        report.problems[0]
    );
    let docs = app.get("/v1/support-documents", Some(&finance)).await;
    let docs = docs.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["number"], "SEDS7");
    let id = docs[0]["id"].as_str().unwrap().to_string();
    let seller = docs[0]["worker_id"].as_str().unwrap().to_string();
    let (mine, other) = if seller == luz_id {
        (&luz, &ana)
    } else {
        (&ana, &luz)
    };

    // Its XML, for her and for finance: a documento soporte of the week, schema-valid, with
    // a CUDS that recomputes from its own fields.
    let path = format!("/v1/support-documents/{id}/xml");
    let r = app.get(&path, Some(mine)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    schema_valid(r.text.as_bytes(), "Invoice");
    let doc = roxmltree::Document::parse(&r.text).unwrap();
    assert_eq!(text(&doc, &["InvoiceTypeCode"]), "05");
    assert_eq!(
        text(&doc, &["InvoicePeriod", "StartDate"]),
        last_week.monday().to_string()
    );
    assert_eq!(
        text(&doc, &["InvoicePeriod", "EndDate"]),
        last_week.sunday().to_string()
    );
    assert_eq!(text(&doc, &["IssueDate"]), today().to_string());
    let issued = format!(
        "{}T{}",
        text(&doc, &["IssueDate"]),
        text(&doc, &["IssueTime"])
    );
    let party = |p: &str| text(&doc, &[p, "Party", "PartyTaxScheme", "CompanyID"]);
    let cuds = cufe::cuds(&cufe::SupportCodeInput {
        number: text(&doc, &["ID"]),
        issued_at: chrono::DateTime::parse_from_rfc3339(&issued)
            .unwrap()
            .with_timezone(&Utc),
        subtotal: cop(text(&doc, &["LegalMonetaryTotal", "LineExtensionAmount"])),
        iva: Cop::ZERO,
        total: cop(text(&doc, &["LegalMonetaryTotal", "PayableAmount"])),
        seller_id: party("AccountingSupplierParty"),
        buyer_nit: party("AccountingCustomerParty"),
        software_pin: vereda_store::config::UNREGISTERED_SOFTWARE_PIN,
        environment: Environment::Test,
    });
    assert_eq!(text(&doc, &["UUID"]), cuds);
    assert_eq!(party("AccountingSupplierParty"), "1012345678", "she sells");
    assert_eq!(text(&doc, &["ID"]), "SEDS7");
    assert!(r.text.contains("Digitar planillas"));
    assert_eq!(app.get(&path, Some(&finance)).await.text, r.text);
    app.get(&path, Some(other)).await.problem(404);
    app.get(&path, Some(&owner)).await.problem(403);

    // Delivered today, and its CUDS on the list and her statement.
    let file = settings
        .data_dir
        .join("einvoice/support_document/SEDS7.xml");
    assert_eq!(std::fs::read(&file).unwrap(), r.text.as_bytes());
    let docs = app.get("/v1/support-documents", Some(&finance)).await;
    assert_eq!(docs.ok(200)["items"][0]["cuds"], cuds.as_str());

    // Its PDF, for her: who sold what in which week, the CUDS and the resolution.
    let pdf = app
        .client
        .get(app.url(&format!("/v1/support-documents/{id}/pdf")))
        .bearer_auth(mine)
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(
        pdf.headers()["content-disposition"],
        "attachment; filename=\"documento-soporte-SEDS7.pdf\""
    );
    let pdf = pdf.bytes().await.unwrap().to_vec();
    let screens = vereda_tests::browser::screens_dir();
    std::fs::create_dir_all(&screens).unwrap();
    std::fs::write(screens.join("documento-soporte.pdf"), &pdf).unwrap();
    if let Some(text) = vereda_tests::pdf::pdf_text(&pdf) {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for want in [
            "Documento soporte electrónico SEDS7",
            "C.C. 1012345678",
            &format!("semana del {}", last_week.label_es()),
            "Digitar planillas",
            "$ 52.000",
            "Autorización de numeración DIAN N.º 18760000077",
        ] {
            assert!(flat.contains(want), "{want:?} not in the PDF:\n{text}");
        }
        let packed: String = text.split_whitespace().collect();
        assert!(packed.contains(&format!("CUDS:{cuds}")), "{text}");
    }
    app.get(&format!("/v1/support-documents/{id}/pdf"), Some(other))
        .await
        .problem(404);

    // Her cédula was wrong. Once corrected, finance annuls the document with a nota de
    // ajuste, and the week's run issues it again with her data as they are now (under a
    // renewed range: the first is used up).
    app.post(
        "/v1/numbering-resolutions",
        Some(&admin),
        json!({
            "kind": "support_document", "number": "18760000078", "prefix": "SEDS",
            "from": 8, "to": 100,
            "valid_from": (today() - chrono::Duration::days(1)).to_string(),
            "valid_until": (today() + chrono::Duration::days(300)).to_string()
        }),
    )
    .await
    .ok(201);
    app.patch(
        &format!("/v1/workers/{seller}"),
        Some(&admin),
        json!({"document_id": "1098765432"}),
    )
    .await
    .ok(200);
    let annul = format!("/v1/support-documents/{id}/annulment");
    let r = app
        .post(&annul, Some(&finance), json!({"reason": "mal"}))
        .await;
    r.problem(422);
    assert_eq!(r.field(), "reason");
    app.post(
        &annul,
        Some(mine),
        json!({"reason": "Cédula de la vendedora errada"}),
    )
    .await
    .problem(403);
    let r = app
        .post(
            &annul,
            Some(&finance),
            json!({"reason": "Cédula de la vendedora errada"}),
        )
        .await;
    let body = r.ok(201).clone();
    let note = &body["adjustment"];
    assert_eq!(note["number"], "NA-1");
    assert_eq!(note["amount"], "-52000");
    assert_eq!(note["corrects"], "SEDS7");
    let note_id = note["id"].as_str().unwrap().to_string();
    let job = app
        .wait_job(&finance, body["job_id"].as_str().unwrap())
        .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    // Hers again, and the other worker's, left out before for want of numbers.
    assert_eq!(job["result"]["documents"], 2, "{job}");
    // Once only: a second annulment is refused and writes nothing.
    let again = app
        .post(
            &annul,
            Some(&finance),
            json!({"reason": "Cédula de la vendedora errada"}),
        )
        .await;
    again.problem(409);
    assert_eq!(again.body["code"], "already_annulled");

    // The note: a CreditNote of type 95, schema-valid, naming SEDS7 by its CUDS, concept 2
    // (annulment), the seller as SEDS7 named her, and a CUDS of its own that recomputes.
    let r = app
        .get(&format!("/v1/support-documents/{note_id}/xml"), Some(mine))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    schema_valid(r.text.as_bytes(), "CreditNote");
    let nd = roxmltree::Document::parse(&r.text).unwrap();
    assert_eq!(text(&nd, &["CreditNoteTypeCode"]), "95");
    assert_eq!(text(&nd, &["ID"]), "NA-1");
    assert_eq!(text(&nd, &["DiscrepancyResponse", "ResponseCode"]), "2");
    assert_eq!(
        text(&nd, &["DiscrepancyResponse", "Description"]),
        "Cédula de la vendedora errada"
    );
    let reference = ["BillingReference", "InvoiceDocumentReference"];
    assert_eq!(text(&nd, &[reference[0], reference[1], "ID"]), "SEDS7");
    assert_eq!(text(&nd, &[reference[0], reference[1], "UUID"]), cuds);
    let note_party = |p: &str| text(&nd, &[p, "Party", "PartyTaxScheme", "CompanyID"]);
    assert_eq!(note_party("AccountingSupplierParty"), "1012345678");
    assert_eq!(
        text(&nd, &["LegalMonetaryTotal", "PayableAmount"]),
        "52000.00"
    );
    let issued = format!(
        "{}T{}",
        text(&nd, &["IssueDate"]),
        text(&nd, &["IssueTime"])
    );
    let note_cuds = cufe::cuds(&cufe::SupportCodeInput {
        number: "NA-1",
        issued_at: chrono::DateTime::parse_from_rfc3339(&issued)
            .unwrap()
            .with_timezone(&Utc),
        subtotal: cop("52000.00"),
        iva: Cop::ZERO,
        total: cop("52000.00"),
        seller_id: "1012345678",
        buyer_nit: note_party("AccountingCustomerParty"),
        software_pin: vereda_store::config::UNREGISTERED_SOFTWARE_PIN,
        environment: Environment::Test,
    });
    assert_eq!(text(&nd, &["UUID"]), note_cuds);

    // The week documented again: SEDS8, her corrected cédula, the same purchase.
    let docs = app.get("/v1/support-documents", Some(&finance)).await;
    let docs = docs.ok(200)["items"].as_array().unwrap().clone();
    let hers: Vec<&Value> = docs
        .iter()
        .filter(|d| d["worker_id"] == seller.as_str())
        .collect();
    let numbers: Vec<&str> = hers.iter().map(|d| d["number"].as_str().unwrap()).collect();
    assert_eq!(numbers.len(), 3, "{docs:?}");
    assert!(numbers[0].starts_with("SEDS"), "{numbers:?}");
    assert_eq!(numbers[1..], ["NA-1", "SEDS7"], "newest first");
    let reissued = hers[0]["id"].as_str().unwrap();
    assert_eq!(hers[0]["amount"], "52000");
    let r = app
        .get(&format!("/v1/support-documents/{reissued}/xml"), Some(mine))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rd = roxmltree::Document::parse(&r.text).unwrap();
    assert_eq!(
        text(
            &rd,
            &[
                "AccountingSupplierParty",
                "Party",
                "PartyTaxScheme",
                "CompanyID"
            ]
        ),
        "1098765432"
    );
    assert_eq!(
        text(&rd, &["InvoicePeriod", "StartDate"]),
        last_week.monday().to_string()
    );
    // The note's PDF says what it corrects and why.
    let pdf = app
        .bytes(&format!("/v1/support-documents/{note_id}/pdf"), mine)
        .await;
    std::fs::write(screens.join("nota-de-ajuste.pdf"), &pdf).unwrap();
    if let Some(text) = vereda_tests::pdf::pdf_text(&pdf) {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for want in [
            "Nota de ajuste al documento soporte NA-1",
            "Corrige el documento soporte SEDS7",
            "Motivo: Cédula de la vendedora errada",
            "$ 52.000",
            // As SEDS7 (and the note's XML) named her: issued documents keep what they said.
            "C.C. 1012345678",
        ] {
            assert!(flat.contains(want), "{want:?} not in the PDF:\n{text}");
        }
    }
    let annulled = app
        .bytes(&format!("/v1/support-documents/{id}/pdf"), mine)
        .await;
    if let Some(text) = vereda_tests::pdf::pdf_text(&annulled) {
        assert!(text.contains("C.C. 1012345678"), "SEDS7 unchanged:\n{text}");
    }
    // Two clerks annul the new document at once: one note, the other told it is done.
    let path = format!("/v1/support-documents/{reissued}/annulment");
    let body = json!({"reason": "Semana registrada dos veces por error"});
    let (a, b) = tokio::join!(
        app.post(&path, Some(&finance), body.clone()),
        app.post(&path, Some(&admin), body.clone())
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{} {}", a.text, b.text);
    let won = if a.status == 201 { &a } else { &b };
    app.wait_job(&finance, won.body["job_id"].as_str().unwrap())
        .await;
    let notes: i64 = vereda_store::on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM support_documents WHERE adjusts_id = $1"
    )
    .bind(reissued)
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!(notes, 1);
    // Delivered with the documents.
    assert!(
        settings
            .data_dir
            .join("einvoice/support_adjustment/NA-1.xml")
            .exists()
    );
    assert_ledger_invariants(&app.db).await;
}
