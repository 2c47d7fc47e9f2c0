//! The XAdES-EPES signature as others check it: a throw-away RSA certificate made with the
//! `openssl` command line, the invoice and the credit note signed with it, and the signature
//! verified by an independent implementation (`xmlsec1`), which must also refuse a document or
//! a signing time changed after signing. The signed documents stay valid UBL 2.1 (`xmllint`).

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal_macros::dec;
use tempfile::TempDir;
use vereda_contracts::cufe::Environment;
use vereda_contracts::money::Cop;
use vereda_documents::ubl::{
    Discrepancy, ElectronicCreditNote, InvoiceReference, credit_note_xml, invoice_xml,
};
use vereda_documents::xades::{SignError, SignerRole, SigningCertificate, is_signed, sign};

mod common;

use common::{sample as invoice, validate};

const PASSWORD: &str = "clave de prueba";

fn run(program: &str, install: &str, dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} does not run ({e}): {install}"))
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = run("openssl", "Debian: apt-get install openssl", dir, args);
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed RSA-2048 certificate good for two days: `c.pem`, its key `k.pem`, and both in
/// `c.p12` as OpenSSL 3 exports it by default (AES-256-CBC, PBKDF2-HMAC-SHA256).
///
/// Its serial number has 64 bits, like those of the CAs' certificates in DIAN's examples, and
/// the top one set (DER adds a zero byte). OpenSSL's own default, 160 random bits, is 48
/// decimal digits: libxml2 (`xmllint`) takes no `xs:integer` longer than 24 digits, so such a
/// signature is checked with xmlsec1 only (see the legacy file's test).
fn certificate() -> TempDir {
    certificate_with(&["-set_serial", "0x9d3b5a0c71e2f468"])
}

fn certificate_with(extra: &[&str]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=Vereda Pruebas/O=Vereda S.A.S./C=CO",
            "-days",
            "2",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
        ]
        .iter()
        .chain(extra)
        .copied()
        .collect::<Vec<_>>(),
    );
    let pass = format!("pass:{PASSWORD}");
    openssl(
        dir.path(),
        &[
            "pkcs12", "-export", "-inkey", "k.pem", "-in", "c.pem", "-passout", &pass, "-out",
            "c.p12",
        ],
    );
    dir
}

fn load(dir: &TempDir, file: &str) -> Result<SigningCertificate, SignError> {
    SigningCertificate::from_pkcs12(&std::fs::read(dir.path().join(file)).unwrap(), PASSWORD)
}

/// `xmlsec1 --verify`, trusting only the test's certificate: Ok, or what it says. It is told
/// which attributes are IDs, since the documents carry no DTD or schema that would say so.
fn verify(dir: &TempDir, signed: &str) -> Result<(), String> {
    let file: PathBuf = dir.path().join("signed.xml");
    std::fs::write(&file, signed).unwrap();
    let out = run(
        "xmlsec1",
        "Debian: apt-get install xmlsec1",
        dir.path(),
        &[
            "--verify",
            "--id-attr:Id",
            "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
            "--id-attr:Id",
            "http://www.w3.org/2000/09/xmldsig#:KeyInfo",
            "--trusted-pem",
            "c.pem",
            "signed.xml",
        ],
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && said.contains("References (ok/all): 3/3") {
        Ok(())
    } else {
        Err(said)
    }
}

fn credit_note() -> ElectronicCreditNote {
    let inv = invoice();
    ElectronicCreditNote {
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
    }
}

fn signing_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 14, 5, 30).unwrap()
}

/// The text of the first element named `local` (any namespace).
fn text_of<'a>(doc: &'a roxmltree::Document, local: &str) -> &'a str {
    doc.descendants()
        .find(|n| n.tag_name().name() == local)
        .and_then(|n| n.text())
        .unwrap_or_else(|| panic!("no {local}"))
}

#[test]
fn a_signed_invoice_verifies_with_xmlsec1_and_is_still_valid_ubl() {
    let dir = certificate();
    let cert = load(&dir, "c.p12").unwrap();
    assert_eq!(cert.subject(), "C=CO,O=Vereda S.A.S.,CN=Vereda Pruebas");
    assert!(cert.not_after() > Utc::now());

    let xml = invoice_xml(&invoice());
    assert!(!is_signed(&xml));
    let signed = sign(&xml, &cert, SignerRole::Supplier, signing_time()).unwrap();
    assert!(is_signed(&signed));
    verify(&dir, &signed).unwrap_or_else(|e| panic!("xmlsec1 refused the signature: {e}"));
    validate(&signed, "Invoice").unwrap_or_else(|e| panic!("not valid UBL 2.1: {e}"));

    // The document is untouched around the signature, which is a second UBLExtension.
    let at = xml.find("</ext:UBLExtensions>").unwrap();
    assert!(signed.starts_with(&xml[..at]));
    assert!(signed.ends_with(&xml[at..]));
    let doc = roxmltree::Document::parse(&signed).unwrap();
    let extensions: Vec<_> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "UBLExtension")
        .collect();
    assert_eq!(extensions.len(), 2);
    assert!(
        extensions[1]
            .descendants()
            .any(|n| n.tag_name().name() == "Signature")
    );

    // What DIAN reads in SignedProperties.
    assert_eq!(text_of(&doc, "SigningTime"), "2026-12-07T09:05:30-05:00");
    assert_eq!(text_of(&doc, "ClaimedRole"), "supplier");
    assert_eq!(
        text_of(&doc, "Identifier"),
        "https://facturaelectronica.dian.gov.co/politicadefirma/v2/politicadefirmav2.pdf"
    );
    let policy_hash = doc
        .descendants()
        .find(|n| n.tag_name().name() == "SigPolicyHash")
        .unwrap();
    assert!(
        policy_hash
            .descendants()
            .any(|n| n.text() == Some("dMoMvtcG5aIzgYo0tIsSQeVJBDnUnfSOfBpxXrmor0Y="))
    );
    assert_eq!(
        text_of(&doc, "X509IssuerName"),
        "C=CO,O=Vereda S.A.S.,CN=Vereda Pruebas"
    );
    // The serial number in decimal, as openssl prints it in hexadecimal.
    let out = run(
        "openssl",
        "Debian: apt-get install openssl",
        dir.path(),
        &["x509", "-in", "c.pem", "-noout", "-serial"],
    );
    let hex = String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches("serial=")
        .to_string();
    let decimal = text_of(&doc, "X509SerialNumber");
    assert_eq!(
        to_hex(decimal),
        hex.to_ascii_lowercase().trim_start_matches('0')
    );
}

/// A decimal number in hexadecimal, without leading zeros.
fn to_hex(decimal: &str) -> String {
    // Base-16 digits, least significant first.
    let mut digits: Vec<u32> = Vec::new();
    for c in decimal.chars() {
        let mut carry = c.to_digit(10).unwrap();
        for d in &mut digits {
            let v = *d * 10 + carry;
            *d = v % 16;
            carry = v / 16;
        }
        while carry > 0 {
            digits.push(carry % 16);
            carry /= 16;
        }
    }
    digits
        .iter()
        .rev()
        .map(|d| char::from_digit(*d, 16).unwrap())
        .collect()
}

#[test]
fn a_signed_credit_note_verifies_and_is_still_valid_ubl() {
    let dir = certificate();
    let cert = load(&dir, "c.p12").unwrap();
    let signed = sign(
        &credit_note_xml(&credit_note()),
        &cert,
        SignerRole::Supplier,
        signing_time(),
    )
    .unwrap();
    verify(&dir, &signed).unwrap_or_else(|e| panic!("xmlsec1 refused the signature: {e}"));
    validate(&signed, "CreditNote").unwrap_or_else(|e| panic!("not valid UBL 2.1: {e}"));
    assert!(signed.contains("«Digitar planillas» no se aceptó"));
}

#[test]
fn a_third_party_signs_as_such() {
    let dir = certificate();
    let cert = load(&dir, "c.p12").unwrap();
    let signed = sign(
        &invoice_xml(&invoice()),
        &cert,
        SignerRole::ThirdParty,
        signing_time(),
    )
    .unwrap();
    verify(&dir, &signed).unwrap_or_else(|e| panic!("xmlsec1 refused the signature: {e}"));
    let doc = roxmltree::Document::parse(&signed).unwrap();
    assert_eq!(text_of(&doc, "ClaimedRole"), "third party");
}

#[test]
fn a_total_changed_after_signing_fails_verification() {
    let dir = certificate();
    let cert = load(&dir, "c.p12").unwrap();
    let signed = sign(
        &invoice_xml(&invoice()),
        &cert,
        SignerRole::Supplier,
        signing_time(),
    )
    .unwrap();
    verify(&dir, &signed).unwrap();
    let payable = "<cbc:PayableAmount currencyID=\"COP\">124400.00</cbc:PayableAmount>";
    assert!(signed.contains(payable));
    let changed = signed.replace(
        payable,
        "<cbc:PayableAmount currencyID=\"COP\">124400.01</cbc:PayableAmount>",
    );
    let why = verify(&dir, &changed).unwrap_err();
    assert!(why.contains("failed to verify"), "{why}");
    // A customer's name, escaped in the document, changed by one character.
    let changed = signed.replacen("Cía &lt;SAS&gt;", "Cia &lt;SAS&gt;", 1);
    assert_ne!(changed, signed);
    assert!(verify(&dir, &changed).is_err());
}

#[test]
fn a_signing_time_changed_after_signing_fails_verification() {
    let dir = certificate();
    let cert = load(&dir, "c.p12").unwrap();
    let signed = sign(
        &invoice_xml(&invoice()),
        &cert,
        SignerRole::Supplier,
        signing_time(),
    )
    .unwrap();
    let time = "<xades:SigningTime>2026-12-07T09:05:30-05:00</xades:SigningTime>";
    assert!(signed.contains(time));
    let changed = signed.replace(
        time,
        "<xades:SigningTime>2026-12-06T09:05:30-05:00</xades:SigningTime>",
    );
    let why = verify(&dir, &changed).unwrap_err();
    assert!(why.contains("failed to verify"), "{why}");
}

#[test]
fn a_signed_document_is_not_signed_again() {
    let dir = certificate();
    let cert = load(&dir, "c.p12").unwrap();
    let signed = sign(
        &invoice_xml(&invoice()),
        &cert,
        SignerRole::Supplier,
        signing_time(),
    )
    .unwrap();
    let again = sign(&signed, &cert, SignerRole::Supplier, signing_time()).unwrap_err();
    assert!(matches!(again, SignError::AlreadySigned), "{again}");
}

#[test]
fn a_wrong_password_says_so() {
    let dir = certificate();
    let p12 = std::fs::read(dir.path().join("c.p12")).unwrap();
    let e = SigningCertificate::from_pkcs12(&p12, "otra clave").unwrap_err();
    assert!(matches!(e, SignError::WrongPassword), "{e:?}");
    assert!(e.to_string().contains("contraseña"), "{e}");
}

#[test]
fn a_pkcs12_without_a_private_key_says_so() {
    let dir = certificate();
    let pass = format!("pass:{PASSWORD}");
    openssl(
        dir.path(),
        &[
            "pkcs12", "-export", "-nokeys", "-in", "c.pem", "-passout", &pass, "-out", "n.p12",
        ],
    );
    let e = load(&dir, "n.p12").unwrap_err();
    assert!(matches!(e, SignError::NoPrivateKey), "{e:?}");
    assert!(e.to_string().contains("clave privada"), "{e}");

    let e = SigningCertificate::from_pkcs12(b"no es un PKCS#12", PASSWORD).unwrap_err();
    assert!(matches!(e, SignError::Pkcs12(_)), "{e:?}");
}

#[test]
fn a_legacy_pkcs12_loads_and_signs_too() {
    // `-legacy`: RC2-40 for the certificate, 3DES for the key, an SHA-1 MAC (older CAs' files);
    // and OpenSSL's default 160-bit serial number.
    let dir = certificate_with(&[]);
    let pass = format!("pass:{PASSWORD}");
    openssl(
        dir.path(),
        &[
            "pkcs12", "-export", "-legacy", "-inkey", "k.pem", "-in", "c.pem", "-passout", &pass,
            "-out", "l.p12",
        ],
    );
    let cert = load(&dir, "l.p12").unwrap();
    let signed = sign(
        &invoice_xml(&invoice()),
        &cert,
        SignerRole::Supplier,
        signing_time(),
    )
    .unwrap();
    verify(&dir, &signed).unwrap_or_else(|e| panic!("xmlsec1 refused the signature: {e}"));
}
