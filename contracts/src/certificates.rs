//! The yearly certificate of income and withholdings a worker needs for her own tax return
//! (issue 20 §6), and finance's monthly withholding report: what payout lines paid and withheld,
//! by concept. A line counts in the Bogotá month and year its batch was built, unless the bank
//! failed it (its withholding was then reversed in the ledger too).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::money::Cop;
use crate::statements::cop_text;
use crate::withholding::Concept;

/// A payout line that was not failed, as the certificate and the report read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaidLine {
    pub concept: Concept,
    pub amount: Cop,
    pub withholding: Cop,
}

/// What one concept paid and withheld.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConceptTotals {
    /// `services` or `honorarios`.
    pub concept: String,
    /// `Servicios`, `Honorarios`.
    pub label: String,
    pub payments: i64,
    #[serde(with = "cop_text")]
    pub paid: Cop,
    #[serde(with = "cop_text")]
    pub withheld: Cop,
}

/// The figures of a certificate; two builds with equal figures are the same version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub worker_id: String,
    pub year: i32,
    pub by_concept: Vec<ConceptTotals>,
    #[serde(with = "cop_text")]
    pub paid: Cop,
    #[serde(with = "cop_text")]
    pub withheld: Cop,
    /// What reached her: paid less withheld.
    #[serde(with = "cop_text")]
    pub net: Cop,
}

/// A stored version of a certificate, with what it prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCertificate {
    pub id: String,
    pub version: i64,
    pub figures: Certificate,
    pub verification_code: String,
    pub generated_at: i64,
    pub worker_name: String,
    pub document_id: Option<String>,
}

/// Totals by concept, services first; concepts with no line are left out.
pub fn by_concept(lines: &[PaidLine]) -> Vec<ConceptTotals> {
    let mut totals: BTreeMap<&'static str, ConceptTotals> = BTreeMap::new();
    for l in lines {
        let t = totals
            .entry(l.concept.as_str())
            .or_insert_with(|| ConceptTotals {
                concept: l.concept.as_str().to_string(),
                label: l.concept.label_es().to_string(),
                payments: 0,
                paid: Cop::ZERO,
                withheld: Cop::ZERO,
            });
        t.payments += 1;
        t.paid = t.paid + l.amount;
        t.withheld = t.withheld + l.withholding;
    }
    let mut out: Vec<ConceptTotals> = totals.into_values().collect();
    out.sort_by_key(|t| t.concept != Concept::Services.as_str());
    out
}

/// A worker's certificate for `year` from her lines of that year.
pub fn certificate(worker_id: &str, year: i32, lines: &[PaidLine]) -> Certificate {
    let by_concept = by_concept(lines);
    let paid: Cop = by_concept.iter().map(|t| t.paid).sum();
    let withheld: Cop = by_concept.iter().map(|t| t.withheld).sum();
    Certificate {
        worker_id: worker_id.to_string(),
        year,
        by_concept,
        paid,
        withheld,
        net: paid - withheld,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_year_is_summed_by_concept_services_first() {
        let line = |concept, amount, withholding| PaidLine {
            concept,
            amount: Cop::pesos(amount),
            withholding: Cop::pesos(withholding),
        };
        let c = certificate(
            "w",
            2026,
            &[
                line(Concept::Honorarios, 500_000, 50_000),
                line(Concept::Services, 60_000, 0),
                line(Concept::Services, 60_000, 4_800),
            ],
        );
        assert_eq!(c.by_concept.len(), 2);
        assert_eq!(c.by_concept[0].label, "Servicios");
        assert_eq!(
            (
                c.by_concept[0].payments,
                c.by_concept[0].paid,
                c.by_concept[0].withheld
            ),
            (2, Cop::pesos(120_000), Cop::pesos(4_800))
        );
        assert_eq!(c.by_concept[1].concept, "honorarios");
        assert_eq!(
            (c.paid, c.withheld, c.net),
            (Cop::pesos(620_000), Cop::pesos(54_800), Cop::pesos(565_200))
        );
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Certificate>(&json).unwrap(), c);
    }

    proptest! {
        /// The concepts add up to the year, and paid less withheld is what reached her.
        #[test]
        fn concepts_add_up(lines in prop::collection::vec((any::<bool>(), 1i64..5_000_000, -10_000i64..500_000), 0..30)) {
            let lines: Vec<PaidLine> = lines.iter().map(|&(h, a, w)| PaidLine {
                concept: if h { Concept::Honorarios } else { Concept::Services },
                amount: Cop::pesos(a),
                withholding: Cop::pesos(w),
            }).collect();
            let c = certificate("w", 2026, &lines);
            prop_assert_eq!(c.by_concept.iter().map(|t| t.payments).sum::<i64>(), lines.len() as i64);
            prop_assert_eq!(c.paid, lines.iter().map(|l| l.amount).sum::<Cop>());
            prop_assert_eq!(c.withheld, lines.iter().map(|l| l.withholding).sum::<Cop>());
            prop_assert_eq!(c.net + c.withheld, c.paid);
        }
    }
}
