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
