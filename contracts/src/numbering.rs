//! Numbered documents (DESIGN §4: no gap in invoice numbers): which counter each series draws
//! from, where it starts and how a number prints. The store allocates the next value inside
//! the document's own transaction (`vereda_store::counters`), so a rolled-back document gives
//! its number back and the series stays gapless.

use std::ops::RangeInclusive;

/// A series of numbered documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series<'a> {
    /// `VRD-000001`.
    Invoice,
    /// `VRD-NC-000001`.
    CreditNote,
    /// The documento soporte, numbered in the range DIAN authorised: `<prefix>-<n>`.
    SupportDocument {
        prefix: &'a str,
        range: &'a RangeInclusive<i64>,
    },
    /// An adjustment note to a documento soporte: `NA-<n>`.
    SupportAdjustment,
}

/// The authorised range is used up: DIAN must authorise a new one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the authorised documento soporte range ends at {end}; ask DIAN for a new range")]
pub struct RangeExhausted {
    pub end: i64,
}

impl Series<'_> {
    /// The row of `document_counters` the series draws from.
    pub fn counter(&self) -> &'static str {
        match self {
            Series::Invoice => "invoice",
            Series::CreditNote => "credit_note",
            Series::SupportDocument { .. } => "support_document",
            Series::SupportAdjustment => "support_adjustment",
        }
    }

    /// The first number of the series (a counter below it jumps to it).
    pub fn first(&self) -> i64 {
        match self {
            Series::SupportDocument { range, .. } => *range.start(),
            _ => 1,
        }
    }

    /// The next value after `last` (0 when nothing was numbered yet).
    pub fn next(&self, last: i64) -> i64 {
        (last + 1).max(self.first())
    }

    /// How number `seq` prints, or the refusal when it is past the authorised range.
    pub fn number(&self, seq: i64) -> Result<String, RangeExhausted> {
        match self {
            Series::Invoice => Ok(format!("VRD-{seq:06}")),
            Series::CreditNote => Ok(format!("VRD-NC-{seq:06}")),
            Series::SupportDocument { prefix, range } => {
                if seq > *range.end() {
                    Err(RangeExhausted { end: *range.end() })
                } else {
                    Ok(format!("{prefix}-{seq}"))
                }
            }
            Series::SupportAdjustment => Ok(format!("NA-{seq}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_print_as_each_series_does() {
        assert_eq!(Series::Invoice.number(7).unwrap(), "VRD-000007");
        assert_eq!(Series::CreditNote.number(12).unwrap(), "VRD-NC-000012");
        assert_eq!(Series::SupportAdjustment.number(3).unwrap(), "NA-3");
        let range = 500..=501;
        let ds = Series::SupportDocument {
            prefix: "DS",
            range: &range,
        };
        assert_eq!(ds.next(0), 500, "a new range starts at its first number");
        assert_eq!(ds.number(501).unwrap(), "DS-501");
        assert_eq!(ds.number(502), Err(RangeExhausted { end: 501 }));
    }

    proptest! {
        /// Drawing n numbers gives n consecutive values from the series' first: no gap, no repeat.
        #[test]
        fn a_series_has_no_gaps(start in 1i64..1_000_000, n in 1usize..200) {
            let range = start..=i64::MAX;
            for series in [Series::Invoice, Series::SupportDocument { prefix: "DS", range: &range }] {
                let mut last = 0;
                let mut drawn = Vec::new();
                for _ in 0..n {
                    last = series.next(last);
                    drawn.push(last);
                }
                let first = series.first();
                prop_assert_eq!(drawn, (first..first + n as i64).collect::<Vec<_>>());
            }
        }
    }
}
