//! DIAN numbering resolutions: each kind of electronic document is numbered within a range
//! DIAN authorised, with a prefix, valid between two dates. Pure: whether the next number may
//! be issued on a day (and how it prints), and when the people who ask DIAN for a new range must
//! be told (80 % of the range used, or 30 days or fewer left).

use chrono::NaiveDate;

/// The largest number a range may reach (DIAN's consecutives have at most ten digits; this
/// leaves room and keeps every sum about a range far from overflowing).
pub const MAX_NUMBER: i64 = 999_999_999_999;

/// The kinds of document DIAN numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Invoice,
    CreditNote,
    SupportDocument,
    SupportAdjustment,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 4] = [
        DocumentKind::Invoice,
        DocumentKind::CreditNote,
        DocumentKind::SupportDocument,
        DocumentKind::SupportAdjustment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice",
            DocumentKind::CreditNote => "credit_note",
            DocumentKind::SupportDocument => "support_document",
            DocumentKind::SupportAdjustment => "support_adjustment",
        }
    }

    pub fn parse(s: &str) -> Option<DocumentKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How a person calls it, in Spanish.
    pub fn label_es(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "factura electrónica de venta",
            DocumentKind::CreditNote => "nota crédito",
            DocumentKind::SupportDocument => "documento soporte",
            DocumentKind::SupportAdjustment => "nota de ajuste del documento soporte",
        }
    }
}

/// A resolution as DIAN issued it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Resolution {
    pub kind: DocumentKind,
    /// DIAN's number for the resolution (`18760000001`).
    pub number: String,
    /// Letters and digits printed before the consecutive (`SETP`), up to four characters.
    pub prefix: String,
    pub from: i64,
    pub to: i64,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    /// The invoice's technical key (the CUFE's `ClTec`); DIAN gives one for invoices only.
    pub technical_key: Option<String>,
}

/// Why a resolution cannot be recorded, or a number cannot be issued under it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolutionRefusal {
    #[error("the prefix must be 1 to 4 letters or digits")]
    BadPrefix,
    #[error("the range must start at 1 or more and end at or after its start")]
    BadRange,
    #[error("the resolution must end on or after the day it starts")]
    BadDates,
    #[error("an invoice resolution needs DIAN's technical key (letters and digits, up to 100)")]
    MissingTechnicalKey,
    #[error("the resolution is not in force until {0}")]
    NotYetValid(NaiveDate),
    #[error("the resolution expired on {0}; ask DIAN for a new one")]
    Expired(NaiveDate),
    #[error("the authorised range ends at {0}; ask DIAN for a new range")]
    RangeExhausted(i64),
}

impl ResolutionRefusal {
    /// The stable machine code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            ResolutionRefusal::BadPrefix
            | ResolutionRefusal::BadRange
            | ResolutionRefusal::BadDates
            | ResolutionRefusal::MissingTechnicalKey => "invalid_resolution",
            ResolutionRefusal::NotYetValid(_) => "resolution_not_in_force",
            ResolutionRefusal::Expired(_) => "resolution_expired",
            ResolutionRefusal::RangeExhausted(_) => "range_exhausted",
        }
    }

    /// What a finance clerk or an admin is told, in Spanish.
    pub fn message_es(&self) -> String {
        match self {
            ResolutionRefusal::NotYetValid(d) => format!(
                "La resolución de numeración en uso solo rige desde el {}.",
                d.format("%d/%m/%Y")
            ),
            ResolutionRefusal::Expired(d) => format!(
                "La resolución de numeración venció el {}: registre la nueva que autorice la DIAN.",
                d.format("%d/%m/%Y")
            ),
            ResolutionRefusal::RangeExhausted(end) => format!(
                "Se acabó el rango de numeración autorizado (terminaba en {end}): registre el \
                 nuevo rango que autorice la DIAN."
            ),
            _ => "Revise los datos de la resolución de numeración.".to_string(),
        }
    }

    /// The field at fault, for a resolution being recorded.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            ResolutionRefusal::BadPrefix => Some("prefix"),
            ResolutionRefusal::BadRange => Some("to"),
            ResolutionRefusal::BadDates => Some("valid_until"),
            ResolutionRefusal::MissingTechnicalKey => Some("technical_key"),
            _ => None,
        }
    }
}

impl Resolution {
    /// A resolution as recorded must make sense on its own.
    pub fn check(&self) -> Result<(), ResolutionRefusal> {
        let p = &self.prefix;
        if p.is_empty() || p.chars().count() > 4 || !p.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ResolutionRefusal::BadPrefix);
        }
        if self.from < 1 || self.to < self.from || self.to > MAX_NUMBER {
            return Err(ResolutionRefusal::BadRange);
        }
        if self.valid_until < self.valid_from {
            return Err(ResolutionRefusal::BadDates);
        }
        let key_ok = |k: &str| {
            !k.is_empty() && k.len() <= 100 && k.chars().all(|c| c.is_ascii_alphanumeric())
        };
        if (self.kind == DocumentKind::Invoice && self.technical_key.is_none())
            || self.technical_key.as_deref().is_some_and(|k| !key_ok(k))
        {
            return Err(ResolutionRefusal::MissingTechnicalKey);
        }
        Ok(())
    }

    /// The consecutive after `last` (the last one issued under any resolution of the kind; a
    /// new range starts at its own `from`).
    pub fn next(&self, last: i64) -> i64 {
        (last + 1).max(self.from)
    }

    /// Number `seq` as issued on `day` (Bogotá): the prefix and the consecutive, without a
    /// separator, as DIAN reads it (`SETP990000002`); refused outside the dates or the range.
    pub fn issue(&self, seq: i64, day: NaiveDate) -> Result<String, ResolutionRefusal> {
        if day < self.valid_from {
            return Err(ResolutionRefusal::NotYetValid(self.valid_from));
        }
        if day > self.valid_until {
            return Err(ResolutionRefusal::Expired(self.valid_until));
        }
        if seq > self.to {
            return Err(ResolutionRefusal::RangeExhausted(self.to));
        }
        Ok(format!("{}{}", self.prefix, seq.max(self.from)))
    }

    /// What the admins must hear of, once `last` is issued, on `day`.
    pub fn warnings(&self, last: i64, day: NaiveDate) -> Vec<Warning> {
        let mut out = Vec::new();
        let size = self.to - self.from + 1;
        let used = (last - self.from + 1).clamp(0, size);
        // 80 % or more used: `used / size >= 4 / 5`, in integers.
        if used * 5 >= size * 4 {
            out.push(Warning::RangeMostlyUsed {
                used,
                size,
                left: size - used,
            });
        }
        let days_left = (self.valid_until - day).num_days();
        if (0..=30).contains(&days_left) {
            out.push(Warning::ExpiresSoon {
                on: self.valid_until,
                days_left,
            });
        }
        out
    }
}

/// A reason to ask DIAN for a new resolution before the current one stops numbering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    RangeMostlyUsed { used: i64, size: i64, left: i64 },
    ExpiresSoon { on: NaiveDate, days_left: i64 },
}

impl Warning {
    /// What to tell the admins, in Spanish, about the resolution of `kind`.
    pub fn message_es(&self, kind: DocumentKind) -> String {
        match self {
            Warning::RangeMostlyUsed { used, size, left } => format!(
                "Se han usado {used} de {size} números autorizados para {}; quedan {left}. \
                 Solicite a la DIAN un nuevo rango.",
                kind.label_es()
            ),
            Warning::ExpiresSoon { on, days_left } => format!(
                "La resolución de {} vence el {} (faltan {days_left} días). Solicite a la DIAN \
                 una nueva.",
                kind.label_es(),
                on.format("%d/%m/%Y")
            ),
        }
    }

    /// The warning's kind, kept so each is sent once per resolution.
    pub fn kind(&self) -> &'static str {
        match self {
            Warning::RangeMostlyUsed { .. } => "range_80",
            Warning::ExpiresSoon { .. } => "expires_30",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn invoices() -> Resolution {
        Resolution {
            kind: DocumentKind::Invoice,
            number: "18760000001".into(),
            prefix: "SETP".into(),
            from: 990_000_000,
            to: 990_000_099,
            valid_from: day(2026, 1, 1),
            valid_until: day(2026, 12, 31),
            technical_key: Some("fc8eac422eba16e22ffd8c6f94b3f40a6e38162c".into()),
        }
    }

    #[test]
    fn numbers_print_with_the_prefix_and_stay_in_range_and_dates() {
        let r = invoices();
        assert_eq!(r.next(0), 990_000_000);
        assert_eq!(r.next(990_000_004), 990_000_005);
        assert_eq!(
            r.issue(990_000_002, day(2026, 6, 1)).unwrap(),
            "SETP990000002"
        );
        assert_eq!(
            r.issue(990_000_100, day(2026, 6, 1)),
            Err(ResolutionRefusal::RangeExhausted(990_000_099))
        );
        assert_eq!(
            r.issue(990_000_001, day(2027, 1, 1)),
            Err(ResolutionRefusal::Expired(day(2026, 12, 31)))
        );
        assert_eq!(
            r.issue(990_000_001, day(2025, 12, 31)).unwrap_err().code(),
            "resolution_not_in_force"
        );
    }

    #[test]
    fn a_resolution_is_checked_before_it_is_recorded() {
        assert_eq!(invoices().check(), Ok(()));
        let bad = |f: fn(&mut Resolution)| {
            let mut r = invoices();
            f(&mut r);
            r.check().unwrap_err().field()
        };
        assert_eq!(bad(|r| r.prefix = "VRD-".into()), Some("prefix"));
        assert_eq!(bad(|r| r.prefix = "FACTU".into()), Some("prefix"));
        assert_eq!(bad(|r| r.to = r.from - 1), Some("to"));
        assert_eq!(
            bad(|r| r.valid_until = day(2025, 1, 1)),
            Some("valid_until")
        );
        assert_eq!(bad(|r| r.technical_key = None), Some("technical_key"));
        assert_eq!(
            bad(|r| r.technical_key = Some("ab cd".into())),
            Some("technical_key")
        );
        assert_eq!(bad(|r| r.to = MAX_NUMBER + 1), Some("to"));
        let mut support = invoices();
        support.kind = DocumentKind::SupportDocument;
        support.technical_key = None;
        assert_eq!(support.check(), Ok(()));
    }

    #[test]
    fn admins_are_warned_at_80_percent_and_30_days() {
        let r = invoices(); // 100 numbers
        assert!(
            r.warnings(990_000_078, day(2026, 6, 1)).is_empty(),
            "79 used"
        );
        assert_eq!(
            r.warnings(990_000_079, day(2026, 6, 1)),
            [Warning::RangeMostlyUsed {
                used: 80,
                size: 100,
                left: 20
            }]
        );
        let soon = r.warnings(990_000_000, day(2026, 12, 1));
        assert_eq!(
            soon,
            [Warning::ExpiresSoon {
                on: day(2026, 12, 31),
                days_left: 30
            }]
        );
        assert!(r.warnings(990_000_000, day(2026, 11, 30)).is_empty());
    }

    proptest! {
        /// Whatever is issued is inside the range and dates, and prints as prefix + number.
        #[test]
        fn issued_numbers_are_always_authorised(last in 0i64..1_000_000_100, offset in -400i64..400) {
            let r = invoices();
            let on = day(2026, 7, 1) + chrono::Duration::days(offset);
            let seq = r.next(last);
            match r.issue(seq, on) {
                Ok(number) => {
                    prop_assert!(seq >= r.from && seq <= r.to);
                    prop_assert!(on >= r.valid_from && on <= r.valid_until);
                    prop_assert_eq!(number, format!("SETP{seq}"));
                }
                Err(e) => prop_assert!(e.field().is_none()),
            }
        }
    }
}
