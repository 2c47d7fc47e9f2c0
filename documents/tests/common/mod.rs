//! What the electronic-document tests share: the sample invoice (the worked example's work,
//! Spanish text, a customer whose name needs escaping) and `xmllint --schema`.

#![allow(dead_code)]

use std::process::Command;

use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal_macros::dec;
use vereda_contracts::cufe::Environment;
use vereda_contracts::money::Cop;
use vereda_documents::ubl::{ElectronicInvoice, IdKind, MandateLine, Party, Resolution, Software};

pub fn schema(doc: &str) -> String {
    format!(
        "{}/../schemas/ubl-2.1/maindoc/UBL-{doc}-2.1.xsd",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// `xmllint --schema` on `xml`: Ok, or its complaint.
pub fn validate(xml: &str, doc: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.xml");
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema", &schema(doc)])
        .arg(&file)
        .output()
        .expect("xmllint runs (Debian: apt-get install libxml2-utils; .ci/run installs it)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).to_string())
    }
}

pub fn worker(name: &str, cedula: &str) -> Party {
    Party {
        name: name.into(),
        id_kind: IdKind::Cedula,
        id: cedula.into(),
        check_digit: None,
        email: None,
    }
}

/// The worked example's invoice (DESIGN §4): Luz's 48,485 and another worker's fixed task,
/// the 20 % fee and its IVA.
pub fn sample() -> ElectronicInvoice {
    ElectronicInvoice {
        number: "VRD1".into(),
        issued_at: Utc.with_ymd_and_hms(2026, 12, 7, 14, 5, 9).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2027, 1, 6).unwrap(),
        supplier: Party {
            name: "Vereda S.A.S.".into(),
            id_kind: IdKind::Nit,
            id: "901234567".into(),
            check_digit: Some("7".into()),
            email: Some("facturas@vereda.co".into()),
        },
        customer: Party {
            name: "Soporte Andino & Cía <SAS>".into(),
            id_kind: IdKind::Nit,
            id: "800199436".into(),
            check_digit: Some("5".into()),
            email: Some("contabilidad@andino.co".into()),
        },
        lines: vec![
            MandateLine {
                description: "Revisar tickets de soporte (3,5 h)".into(),
                amount: Cop::new(dec!(48485)),
                mandante: Some(worker("Luz Torres", "1061234567")),
            },
            MandateLine {
                description: "Digitar planillas".into(),
                amount: Cop::new(dec!(52000)),
                mandante: Some(worker("Ana María Ríos", "1002003004")),
            },
        ],
        fee: Cop::new(dec!(20097)),
        vat_rate: dec!(0.19),
        vat: Cop::new(dec!(3818)),
        resolution: Resolution {
            number: "18760000001".into(),
            prefix: "VRD".into(),
            from: 1,
            to: 5000000,
            valid_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            valid_until: NaiveDate::from_ymd_opt(2027, 12, 31).unwrap(),
            technical_key: "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c".into(),
        },
        software: Software {
            id: "56f2ae4e-9812-4fad-9255-08fcfcd5ccb0".into(),
            pin: "12345".into(),
            provider_nit: "901234567".into(),
        },
        environment: Environment::Test,
    }
}
