//! The unique codes DIAN's technical annex (version 1.9) gives every electronic document: the
//! CUFE of a factura electrónica de venta, the CUDE of its credit and debit notes, the CUDS of a
//! documento soporte and of its nota de ajuste, and the `SoftwareSecurityCode`. Each is the
//! SHA-384, in lower-case hex, of the document's own fields concatenated in the annex's order:
//! amounts with two decimals, truncated, without separators; the time with its `-05:00` offset;
//! the environment last (1 production, 2 test). A code therefore recomputes from the document
//! it is printed on, which is how DIAN and anyone else check it.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha384};

use crate::money::Cop;
use crate::time::BOGOTA;

/// DIAN's `ProfileExecutionID`: where a document is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// 1: production; documents count for tax.
    Production,
    /// 2: habilitación (test); nothing counts.
    Test,
}

impl Environment {
    /// `ProfileExecutionID`, the last field of every code.
    pub fn profile_execution_id(self) -> &'static str {
        match self {
            Environment::Production => "1",
            Environment::Test => "2",
        }
    }

    /// DIAN's public lookup of a document by its code, printed as the QR code.
    pub fn lookup_url(self, code: &str) -> String {
        let host = match self {
            Environment::Production => "catalogo-vpfe.dian.gov.co",
            Environment::Test => "catalogo-vpfe-hab.dian.gov.co",
        };
        format!("https://{host}/document/searchqr?documentkey={code}")
    }
}

/// An amount as the annex concatenates it: two decimals, truncated (never rounded), no
/// thousands separator, `.` as the decimal mark.
pub fn amount(value: Cop) -> String {
    let mut v = value.amount().trunc_with_scale(2);
    v.rescale(2);
    format!("{v}")
}

/// The issue date and time as the annex writes them (`2019-01-16`, `10:53:10-05:00`), in
/// Bogotá.
pub fn date_and_time(at: DateTime<Utc>) -> (String, String) {
    let local = at.with_timezone(&BOGOTA);
    (
        local.format("%Y-%m-%d").to_string(),
        local.format("%H:%M:%S%:z").to_string(),
    )
}

/// The taxes of a document, by the annex's codes: 01 IVA, 04 INC (consumption), 03 ICA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Taxes {
    pub iva: Cop,
    pub inc: Cop,
    pub ica: Cop,
}

/// The fields a factura electrónica (CUFE) or one of its notes (CUDE) is identified by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleCodeInput<'a> {
    /// The document's number with its prefix (`SETP990000002`).
    pub number: &'a str,
    pub issued_at: DateTime<Utc>,
    /// `ValFac`: the lines' total before taxes.
    pub subtotal: Cop,
    pub taxes: Taxes,
    /// `ValTot`: what is payable (`PayableAmount`).
    pub total: Cop,
    /// The issuer's NIT, digits only, without the check digit.
    pub issuer_nit: &'a str,
    /// The buyer's document number, digits only, without a check digit.
    pub buyer_id: &'a str,
    /// For a CUFE the numbering resolution's technical key; for a CUDE the software's PIN.
    pub key: &'a str,
    pub environment: Environment,
}

impl SaleCodeInput<'_> {
    /// The string the annex hashes, in its order.
    pub fn concatenation(&self) -> String {
        let (date, time) = date_and_time(self.issued_at);
        [
            self.number.to_string(),
            date,
            time,
            amount(self.subtotal),
            "01".into(),
            amount(self.taxes.iva),
            "04".into(),
            amount(self.taxes.inc),
            "03".into(),
            amount(self.taxes.ica),
            amount(self.total),
            self.issuer_nit.to_string(),
            self.buyer_id.to_string(),
            self.key.to_string(),
            self.environment.profile_execution_id().to_string(),
        ]
        .concat()
    }
}

/// The CUFE of a factura electrónica de venta (`key` = the resolution's technical key).
pub fn cufe(input: &SaleCodeInput<'_>) -> String {
    sha384_hex(&input.concatenation())
}

/// The CUDE of a credit or debit note (`key` = the software's PIN): the CUFE's fields and
/// order with the PIN in place of the technical key.
pub fn cude(input: &SaleCodeInput<'_>) -> String {
    sha384_hex(&input.concatenation())
}

/// The fields a documento soporte or its nota de ajuste (CUDS) is identified by (Resolución
/// 000167 of 2021, technical annex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportCodeInput<'a> {
    pub number: &'a str,
    pub issued_at: DateTime<Utc>,
    /// `ValDS`: the lines' total before taxes.
    pub subtotal: Cop,
    /// `ValImp` under code 01 (IVA): zero for a worker not responsible for IVA.
    pub iva: Cop,
    /// `ValTol`: the document's total.
    pub total: Cop,
    /// `NumSNO`: the seller's (the worker's) document number.
    pub seller_id: &'a str,
    /// `NITABS`: the buyer's (the platform's) NIT without its check digit.
    pub buyer_nit: &'a str,
    pub software_pin: &'a str,
    pub environment: Environment,
}

impl SupportCodeInput<'_> {
    pub fn concatenation(&self) -> String {
        let (date, time) = date_and_time(self.issued_at);
        [
            self.number.to_string(),
            date,
            time,
            amount(self.subtotal),
            "01".into(),
            amount(self.iva),
            amount(self.total),
            self.seller_id.to_string(),
            self.buyer_nit.to_string(),
            self.software_pin.to_string(),
            self.environment.profile_execution_id().to_string(),
        ]
        .concat()
    }
}

/// The CUDS of a documento soporte or of its nota de ajuste.
pub fn cuds(input: &SupportCodeInput<'_>) -> String {
    sha384_hex(&input.concatenation())
}

/// `SoftwareSecurityCode`: SHA-384 of the software's id, its PIN and the document's number.
pub fn software_security_code(software_id: &str, pin: &str, number: &str) -> String {
    sha384_hex(&format!("{software_id}{pin}{number}"))
}

fn sha384_hex(s: &str) -> String {
    Sha384::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    /// The annex's published example (section "CUFE"): its concatenation and its CUFE.
    #[test]
    fn the_annex_example_gives_its_cufe() {
        let issued_at = BOGOTA
            .with_ymd_and_hms(2019, 1, 16, 10, 53, 10)
            .unwrap()
            .with_timezone(&Utc);
        let input = SaleCodeInput {
            number: "323200000129",
            issued_at,
            subtotal: Cop::new(dec!(1500000)),
            taxes: Taxes {
                iva: Cop::new(dec!(285000)),
                inc: Cop::ZERO,
                ica: Cop::ZERO,
            },
            total: Cop::new(dec!(1785000)),
            issuer_nit: "700085371",
            buyer_id: "800199436",
            key: "693ff6f2a553c3646a063436fd4dd9ded0311471",
            environment: Environment::Production,
        };
        assert_eq!(
            input.concatenation(),
            "3232000001292019-01-1610:53:10-05:001500000.0001285000.00040.00030.001785000.00\
             700085371800199436693ff6f2a553c3646a063436fd4dd9ded03114711"
        );
        assert_eq!(
            cufe(&input),
            "8bb918b19ba22a694f1da11c643b5e9de39adf60311cf179179e9b33381030bcd4c3c3f156c506ed\
             5908f9276f5bd9b4"
        );
    }

    #[test]
    fn amounts_are_truncated_to_two_decimals() {
        assert_eq!(amount(Cop::new(dec!(48485))), "48485.00");
        assert_eq!(amount(Cop::new(dec!(0.129))), "0.12");
        assert_eq!(amount(Cop::new(dec!(9.999))), "9.99");
        assert_eq!(amount(Cop::ZERO), "0.00");
        assert_eq!(amount(Cop::new(dec!(1234567.5))), "1234567.50");
    }

    #[test]
    fn the_test_environment_changes_the_code_and_the_lookup_host() {
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 14, 0, 0).unwrap();
        let input = |environment| SupportCodeInput {
            number: "DS-1",
            issued_at: at,
            subtotal: Cop::pesos(48485),
            iva: Cop::ZERO,
            total: Cop::pesos(48485),
            seller_id: "1061234567",
            buyer_nit: "901234567",
            software_pin: "12345",
            environment,
        };
        assert!(
            input(Environment::Production)
                .concatenation()
                .contains("2026-12-0709:00:00-05:00")
        );
        assert_ne!(
            cuds(&input(Environment::Production)),
            cuds(&input(Environment::Test))
        );
        assert!(
            Environment::Test
                .lookup_url("abc")
                .starts_with("https://catalogo-vpfe-hab.dian.gov.co/")
        );
    }

    proptest! {
        /// Any amount prints with exactly two decimals, never more than the value, and less
        /// by under a centavo.
        #[test]
        fn amount_truncates(centi_centavos in 0i64..10_000_000_000_000) {
            let value = Decimal::new(centi_centavos, 4);
            let printed = amount(Cop::new(value));
            let (_, decimals) = printed.split_once('.').unwrap();
            prop_assert_eq!(decimals.len(), 2);
            let back: Decimal = printed.parse().unwrap();
            prop_assert!(back <= value && value - back < dec!(0.01));
        }

        /// Codes are 96 lower-case hex digits and change with any field.
        #[test]
        fn codes_are_sha384_hex(n in 1u32..1_000_000, total in 0i64..1_000_000_000) {
            let at = Utc.with_ymd_and_hms(2026, 1, 5, 15, 0, 0).unwrap();
            let number = format!("VRD{n}");
            let input = SaleCodeInput {
                number: &number, issued_at: at, subtotal: Cop::pesos(total),
                taxes: Taxes::default(), total: Cop::pesos(total), issuer_nit: "901234567",
                buyer_id: "800199436", key: "k", environment: Environment::Test,
            };
            let code = cufe(&input);
            prop_assert_eq!(code.len(), 96);
            prop_assert!(code.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
            let other = SaleCodeInput { total: Cop::pesos(total + 1), ..input.clone() };
            prop_assert_ne!(cufe(&other), code);
        }
    }
}
