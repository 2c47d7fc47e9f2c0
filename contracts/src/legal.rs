//! Colombian legal figures as effective-dated data (DESIGN §8): they change every January and
//! are sometimes suspended by the courts, so none is a constant in the code that uses them.
//! The defaults below are the published figures; configuration may replace the table.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Cop;

/// One figure, in force from `from` (a Bogotá calendar date) until the next entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dated<T> {
    pub from: NaiveDate,
    pub value: T,
}

/// The table of legal figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalFigures {
    /// SMMLV, the legal monthly minimum wage, in pesos.
    pub smmlv: Vec<Dated<i64>>,
    /// UVT, the tax unit, in pesos.
    pub uvt: Vec<Dated<i64>>,
    /// Maximum ordinary weekly working hours (Ley 2101 de 2021 steps it down each July).
    pub weekly_hours: Vec<Dated<i64>>,
    /// IVA rate on the platform's fee.
    pub vat_rate: Vec<Dated<Decimal>>,
    /// Withholding on payments to natural persons (retención en la fuente), by concept.
    #[serde(default = "default_withholding")]
    pub withholding: Vec<Dated<WithholdingRates>>,
    /// The salary table of art. 383 of the Estatuto Tributario, for payees who state they hired
    /// fewer than two workers.
    #[serde(default = "default_art383")]
    pub art383: Vec<Dated<Art383>>,
    /// The 4×1000 (GMF) limits of low-amount deposits (Nequi, Daviplata…).
    #[serde(default = "default_gmf")]
    pub gmf: Vec<Dated<GmfLimits>>,
}

/// Retención en la fuente on payments to natural persons who do not use art. 383, as a share of
/// everything paid to them in the month once that reaches the concept's monthly base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithholdingRates {
    /// Servicios en general, to an income-tax filer (declarante).
    pub services_declarante: Decimal,
    /// Servicios en general, to a non-filer.
    pub services_no_declarante: Decimal,
    /// The month's payments below this many UVT are not withheld on (servicios).
    pub services_base_uvt: Decimal,
    /// Honorarios.
    pub honorarios: Decimal,
    /// Honorarios once the year's payments to the payee pass `honorarios_high_from_uvt`.
    pub honorarios_high: Decimal,
    pub honorarios_high_from_uvt: Decimal,
    /// Honorarios have no monthly base (withheld from the first peso).
    pub honorarios_base_uvt: Decimal,
}

/// One row of the art. 383 table: on a monthly base above `from_uvt`, withhold
/// `(base − from_uvt) × rate + plus_uvt` (all in UVT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bracket {
    pub from_uvt: Decimal,
    pub rate: Decimal,
    pub plus_uvt: Decimal,
}

/// Art. 383 for an independent worker (its parágrafo 2): the month's income less her mandatory
/// health and pension contributions, less the 25 % exempt income (art. 206 num. 10), with the
/// exempt income and deductions capped at 40 % of that net income and at a yearly number of UVT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Art383 {
    /// Ascending by `from_uvt`; the first starts at 0.
    pub brackets: Vec<Bracket>,
    pub exempt_share: Decimal,
    /// The 25 % exempt income's yearly cap (UVT), applied as a twelfth a month.
    pub exempt_cap_uvt_year: Decimal,
    /// Exempt income plus deductions: at most this share of the net income…
    pub relief_cap_share: Decimal,
    /// …and at most this many UVT a year (a twelfth a month).
    pub relief_cap_uvt_year: Decimal,
}

/// Low-amount deposits (depósitos de bajo monto): the 4×1000 applies to what moves above
/// `exempt_uvt` in a month, and the account cannot take more than `limit_uvt` in a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GmfLimits {
    pub exempt_uvt: Decimal,
    pub limit_uvt: Decimal,
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("a decimal")
}

fn default_withholding() -> Vec<Dated<WithholdingRates>> {
    vec![
        // Decreto 572 de 2025 (in force 2025-06-02): servicios 4 % / 6 % from 2 UVT a month;
        // honorarios 10 %, 11 % when the year's contracts pass 3,300 UVT, with no base.
        Dated {
            from: d(2025, 6, 2),
            value: WithholdingRates {
                services_declarante: dec("0.04"),
                services_no_declarante: dec("0.06"),
                services_base_uvt: dec("2"),
                honorarios: dec("0.10"),
                honorarios_high: dec("0.11"),
                honorarios_high_from_uvt: dec("3300"),
                honorarios_base_uvt: dec("0"),
            },
        },
    ]
}

fn default_art383() -> Vec<Dated<Art383>> {
    let b = |from: &str, rate: &str, plus: &str| Bracket {
        from_uvt: dec(from),
        rate: dec(rate),
        plus_uvt: dec(plus),
    };
    vec![
        // Art. 383 E.T. (table of Ley 1819 de 2016, art. 23, unchanged by Ley 2277 de 2022);
        // art. 206 num. 10 (25 %, 790 UVT a year) and art. 336 (40 %, 1,340 UVT a year) as
        // amended by Ley 2277 de 2022.
        Dated {
            from: d(2023, 1, 1),
            value: Art383 {
                brackets: vec![
                    b("0", "0", "0"),
                    b("95", "0.19", "0"),
                    b("150", "0.28", "10"),
                    b("360", "0.33", "69"),
                    b("640", "0.35", "162"),
                    b("945", "0.37", "268"),
                    b("2300", "0.39", "770"),
                ],
                exempt_share: dec("0.25"),
                exempt_cap_uvt_year: dec("790"),
                relief_cap_share: dec("0.40"),
                relief_cap_uvt_year: dec("1340"),
            },
        },
    ]
}

fn default_gmf() -> Vec<Dated<GmfLimits>> {
    // Decreto 222 de 2020 (art. 1.4.1.1.1 ff. of Decreto 1625 de 2016): low-amount deposits are
    // exempt from the 4×1000 up to 65 UVT a month and take at most 210.5 UVT a month.
    vec![Dated {
        from: d(2020, 2, 14),
        value: GmfLimits {
            exempt_uvt: dec("65"),
            limit_uvt: dec("210.5"),
        },
    }]
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

impl Default for LegalFigures {
    fn default() -> Self {
        LegalFigures {
            smmlv: vec![
                // Decreto 1572/2024.
                Dated {
                    from: d(2025, 1, 1),
                    value: 1_423_500,
                },
                // Decreto 1469/2025 (suspended Feb 2026, reissued at the same figure).
                Dated {
                    from: d(2026, 1, 1),
                    value: 1_750_905,
                },
            ],
            // Resolución 000193 de 2024 (2025) and 000238 de 2025 (2026).
            uvt: vec![
                Dated {
                    from: d(2025, 1, 1),
                    value: 49_799,
                },
                Dated {
                    from: d(2026, 1, 1),
                    value: 52_374,
                },
            ],
            weekly_hours: vec![
                Dated {
                    from: d(2024, 7, 15),
                    value: 46,
                },
                Dated {
                    from: d(2025, 7, 15),
                    value: 44,
                },
                Dated {
                    from: d(2026, 7, 15),
                    value: 42,
                },
            ],
            vat_rate: vec![Dated {
                from: d(2017, 1, 1),
                value: Decimal::new(19, 2),
            }],
            withholding: default_withholding(),
            art383: default_art383(),
            gmf: default_gmf(),
        }
    }
}

fn in_force<T: Clone>(table: &[Dated<T>], on: NaiveDate) -> Option<T> {
    table
        .iter()
        .filter(|e| e.from <= on)
        .max_by_key(|e| e.from)
        .map(|e| e.value.clone())
}

impl LegalFigures {
    pub fn smmlv(&self, on: NaiveDate) -> Option<Cop> {
        in_force(&self.smmlv, on).map(Cop::pesos)
    }

    pub fn uvt(&self, on: NaiveDate) -> Option<Cop> {
        in_force(&self.uvt, on).map(Cop::pesos)
    }

    pub fn vat_rate(&self, on: NaiveDate) -> Option<Decimal> {
        in_force(&self.vat_rate, on)
    }

    pub fn withholding(&self, on: NaiveDate) -> Option<WithholdingRates> {
        in_force(&self.withholding, on)
    }

    pub fn art383(&self, on: NaiveDate) -> Option<Art383> {
        in_force(&self.art383, on)
    }

    pub fn gmf(&self, on: NaiveDate) -> Option<GmfLimits> {
        in_force(&self.gmf, on)
    }

    /// Legal monthly hours: weekly hours × 5 (the usual divisor: 48 h → 240, 42 h → 210).
    pub fn monthly_hours(&self, on: NaiveDate) -> Option<i64> {
        in_force(&self.weekly_hours, on).map(|w| w * 5)
    }

    /// The legal hourly minimum: SMMLV ÷ monthly hours, rounded up to the next whole peso so
    /// that a rate at the minimum is never below it.
    pub fn minimum_hourly(&self, on: NaiveDate) -> Option<Cop> {
        let smmlv = self.smmlv(on)?;
        let hours = self.monthly_hours(on)?;
        Some(Cop::new((smmlv.amount() / Decimal::from(hours)).ceil()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_follow_their_dates() {
        let l = LegalFigures::default();
        assert_eq!(l.smmlv(d(2025, 12, 31)), Some(Cop::pesos(1_423_500)));
        assert_eq!(l.smmlv(d(2026, 1, 1)), Some(Cop::pesos(1_750_905)));
        assert_eq!(l.smmlv(d(2024, 6, 1)), None);
        assert_eq!(l.monthly_hours(d(2026, 7, 14)), Some(220));
        assert_eq!(l.monthly_hours(d(2026, 7, 15)), Some(210));
        // 1,750,905 / 210 = 8,337.64… → 8,338.
        assert_eq!(l.minimum_hourly(d(2026, 11, 28)), Some(Cop::pesos(8_338)));
        assert_eq!(l.vat_rate(d(2026, 11, 28)), Some(Decimal::new(19, 2)));
    }
}
