//! Documentos soporte by week (issue 19 §1). A worker is not obliged to invoice, so what the
//! platform buys from her is supported by an electronic documento soporte, accumulated per
//! supplier **per ISO week** (Monday to Sunday, Bogotá; DIAN Concepto 128 of 2023, Resolución
//! 000167 of 2021) and issued on the following Monday. A later change of a week's purchases is
//! a nota de ajuste for that week. Each document is listed by the monthly statement of the
//! month its week ends in, so every document appears in exactly one statement.
//!
//! Months documented before the weekly rule (one monthly document per worker) stay as they
//! were: their earnings are not documented again by week.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, NaiveDate, Timelike, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::statements::{Month, date_es};
use crate::time::{BOGOTA, from_unix};
use crate::timesheet::{bogota_day, day_start};

/// An ISO week, by its Monday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Week(NaiveDate);

impl Week {
    /// The week `day` falls in.
    pub fn containing(day: NaiveDate) -> Week {
        Week(day - Days::new(u64::from(day.weekday().num_days_from_monday())))
    }

    /// The week of the instant `t` (Unix seconds), in Bogotá.
    pub fn of(t: i64) -> Week {
        Week::containing(bogota_day(t))
    }

    /// `2026-11-30`: a Monday; anything else is not a week.
    pub fn parse(raw: &str) -> Option<Week> {
        let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
        (day.weekday() == Weekday::Mon).then_some(Week(day))
    }

    pub fn monday(self) -> NaiveDate {
        self.0
    }

    pub fn sunday(self) -> NaiveDate {
        self.0 + Days::new(6)
    }

    /// The first instant of the week (Monday 00:00 Bogotá).
    pub fn start(self) -> i64 {
        day_start(self.0)
    }

    /// The first instant after it (the next Monday 00:00 Bogotá).
    pub fn end(self) -> i64 {
        self.next().start()
    }

    pub fn next(self) -> Week {
        Week(self.0 + Days::new(7))
    }

    pub fn prev(self) -> Week {
        Week(self.0 - Days::new(7))
    }

    /// The day its documento soporte is issued: the following Monday.
    pub fn issue_day(self) -> NaiveDate {
        self.next().0
    }

    /// The month whose statement lists its documents: the month its Sunday is in.
    pub fn statement_month(self) -> Month {
        Month::parse(&self.sunday().format("%Y-%m").to_string()).expect("a date has a month")
    }

    /// `1 al 7 de junio de 2026`, `30 de noviembre al 6 de diciembre de 2026`, `28 de
    /// diciembre de 2026 al 3 de enero de 2027`: the first day says only what differs.
    pub fn label_es(self) -> String {
        let (from, to) = (self.monday(), self.sunday());
        let first = if from.year() != to.year() {
            date_es(from)
        } else if from.month() != to.month() {
            let full = date_es(from);
            full.rsplit_once(" de ")
                .map_or(full.clone(), |(d, _)| d.to_string())
        } else {
            from.day().to_string()
        };
        format!("{first} al {}", date_es(to))
    }
}

impl std::fmt::Display for Week {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The hour of the Monday documents are issued at (Bogotá), as statements on the 1st.
pub const ISSUE_HOUR: u32 = 6;

/// The newest week whose documents are due at `now`: last week, from Monday 06:00 on.
pub fn week_due(now: DateTime<Utc>) -> Week {
    let local = now.with_timezone(&BOGOTA);
    let this = Week::containing(local.date_naive());
    if local.date_naive() == this.monday() && local.hour() < ISSUE_HOUR {
        this.prev().prev()
    } else {
        this.prev()
    }
}

/// What each week still needs documented: its earnings (accruals `(approved_at, work)`, in
/// centavos) less what its documents already say, for the weeks up to `last` whose month was
/// not documented the monthly way. Only weeks with a difference are returned; [`correction`]
/// says how a difference is documented.
pub fn due(
    earned: &[(i64, i64)],
    monthly: &BTreeSet<Month>,
    issued: &BTreeMap<Week, i64>,
    last: Week,
) -> BTreeMap<Week, i64> {
    let mut left: BTreeMap<Week, i64> = BTreeMap::new();
    for &(at, work) in earned {
        let week = Week::of(at);
        if week <= last && !monthly.contains(&Month::of(from_unix(at))) {
            *left.entry(week).or_default() += work;
        }
    }
    for (&week, &amount) in issued {
        if week <= last {
            *left.entry(week).or_default() -= amount;
        }
    }
    left.retain(|_, v| *v != 0);
    left
}

/// How a change of a week's purchases is documented. DIAN's nota de ajuste (type 95, a
/// `CreditNote`) lowers or annuls the one documento soporte it names; the annex gives it no
/// form that raises one. So more bought is a further documento soporte of the week, and less
/// bought is a nota de ajuste against each document that still stands for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Correction<Id> {
    /// A documento soporte for `amount` (the week's first, or a further one).
    Document { amount: i64 },
    /// A nota de ajuste taking `-amount` off document `adjusts`: the annex's concept 2
    /// (annulment) when it takes all it stood for, 1 (part not accepted) otherwise.
    Adjustment {
        adjusts: Id,
        amount: i64,
        annuls: bool,
    },
}

/// A fall in a week's purchases larger than what its documents stand for (they add up to
/// what was issued, so this means the books disagree with the documents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uncovered {
    pub change: i64,
    pub left: i64,
}

impl std::fmt::Display for Uncovered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a fall of {} centavos leaves {} not covered by any document",
            -self.change, self.left
        )
    }
}

/// The documents for a week's `change` (centavos, not zero), given what each of its documents
/// still stands for (`standing`, oldest first: its amount less the notes against it). A fall
/// is taken off the newest documents first, a note per document.
pub fn correction<Id: Clone>(
    change: i64,
    standing: &[(Id, i64)],
) -> Result<Vec<Correction<Id>>, Uncovered> {
    if change >= 0 {
        return Ok(vec![Correction::Document { amount: change }]);
    }
    let mut left = -change;
    let mut notes = Vec::new();
    for (id, stands) in standing.iter().rev().filter(|(_, a)| *a > 0) {
        if left == 0 {
            break;
        }
        let take = left.min(*stands);
        notes.push(Correction::Adjustment {
            adjusts: id.clone(),
            amount: -take,
            annuls: take == *stands,
        });
        left -= take;
    }
    if left > 0 {
        return Err(Uncovered { change, left });
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(y: i32, m: u32, d: u32, h: u32) -> i64 {
        BOGOTA
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .unwrap()
            .timestamp()
    }

    #[test]
    fn a_week_runs_monday_to_sunday_in_bogota_and_is_issued_the_next_monday() {
        let w = Week::containing(day(2026, 12, 3));
        assert_eq!(w.monday(), day(2026, 11, 30));
        assert_eq!(w.sunday(), day(2026, 12, 6));
        assert_eq!(w.issue_day(), day(2026, 12, 7));
        assert_eq!(w.statement_month().to_string(), "2026-12");
        assert_eq!(w.label_es(), "30 de noviembre al 6 de diciembre de 2026");
        assert_eq!(w.prev().label_es(), "23 al 29 de noviembre de 2026");
        // Sunday 23:30 in Bogotá is Monday 04:30 UTC: still the same week.
        assert_eq!(Week::of(at(2026, 12, 6, 23) + 1800), w);
        assert_eq!(Week::of(at(2026, 12, 7, 0)), w.next());
        assert_eq!(w.end(), w.next().start());
        assert_eq!(Week::parse("2026-11-30"), Some(w));
        assert_eq!(Week::parse("2026-12-01"), None, "not a Monday");
        assert_eq!(
            Week::containing(day(2026, 12, 30)).label_es(),
            "28 de diciembre de 2026 al 3 de enero de 2027"
        );
    }

    #[test]
    fn last_week_is_due_from_six_on_monday() {
        let utc = |d: u32, h: u32| Utc.timestamp_opt(at(2026, 12, d, h), 0).unwrap();
        assert_eq!(week_due(utc(7, 5)).monday(), day(2026, 11, 23));
        assert_eq!(week_due(utc(7, 6)).monday(), day(2026, 11, 30));
        assert_eq!(week_due(utc(13, 23)).monday(), day(2026, 11, 30));
    }

    #[test]
    fn the_worked_example_is_documented_in_its_week_then_adjusted() {
        let week = Week::containing(day(2026, 12, 2));
        let earned = [(at(2026, 12, 2, 10), 4_848_500)];
        let none = BTreeMap::new();
        let due1 = due(&earned, &BTreeSet::new(), &none, week);
        assert_eq!(due1, BTreeMap::from([(week, 4_848_500)]));
        // Documented: nothing more, until a late approval in the same week.
        let issued = BTreeMap::from([(week, 4_848_500)]);
        assert!(due(&earned, &BTreeSet::new(), &issued, week).is_empty());
        let late = [earned[0], (at(2026, 12, 6, 22), 1_000_000)];
        assert_eq!(
            due(&late, &BTreeSet::new(), &issued, week),
            BTreeMap::from([(week, 1_000_000)])
        );
        // Not yet due: the week in course is left for its Monday.
        assert!(due(&earned, &BTreeSet::new(), &none, week.prev()).is_empty());
        // A month documented monthly is not documented again.
        let monthly = BTreeSet::from([Month::parse("2026-12").unwrap()]);
        assert!(due(&earned, &monthly, &none, week).is_empty());
    }

    proptest! {
        /// Issuing what is due leaves nothing due, and every week's documents add up to its
        /// earnings.
        #[test]
        fn what_is_due_once_issued_covers_the_earnings(
            items in proptest::collection::vec((0i64..60 * 86_400, -500_000i64..5_000_000), 0..40),
            already in proptest::collection::vec((0usize..9, -1_000_000i64..1_000_000), 0..6),
        ) {
            let base = at(2026, 11, 2, 0);
            let earned: Vec<(i64, i64)> = items.iter().map(|&(o, w)| (base + o, w)).collect();
            let first = Week::of(base);
            let mut issued = BTreeMap::new();
            for (k, amount) in already {
                let mut w = first;
                for _ in 0..k { w = w.next(); }
                *issued.entry(w).or_insert(0) += amount;
            }
            let last = Week::of(base + 50 * 86_400);
            let owed = due(&earned, &BTreeSet::new(), &issued, last);
            for (w, amount) in &owed {
                prop_assert!(*w <= last);
                prop_assert_ne!(*amount, 0);
                *issued.entry(*w).or_insert(0) += amount;
            }
            prop_assert!(due(&earned, &BTreeSet::new(), &issued, last).is_empty());
            for w in issued.keys().filter(|w| **w <= last) {
                let earned_in: i64 = earned.iter().filter(|(t, _)| Week::of(*t) == *w).map(|(_, x)| x).sum();
                prop_assert_eq!(issued[w], earned_in);
            }
        }

        /// A change is documented exactly: more is one document, less is notes that each take
        /// at most what their document stands for, one per document, newest first.
        #[test]
        fn a_correction_documents_the_change_exactly(
            change in -3_000_000i64..3_000_000,
            standing in proptest::collection::vec(0i64..1_000_000, 0..5),
        ) {
            prop_assume!(change != 0);
            let docs: Vec<(usize, i64)> = standing.iter().copied().enumerate().collect();
            let total: i64 = standing.iter().sum();
            match correction(change, &docs) {
                Ok(done) => {
                    let mut sum = 0;
                    let mut seen = BTreeSet::new();
                    for c in &done {
                        match c {
                            Correction::Document { amount } => {
                                prop_assert!(change > 0 && done.len() == 1);
                                sum += amount;
                            }
                            Correction::Adjustment { adjusts, amount, annuls } => {
                                prop_assert!(*amount < 0 && -amount <= docs[*adjusts].1);
                                prop_assert_eq!(*annuls, -amount == docs[*adjusts].1);
                                prop_assert!(seen.insert(*adjusts));
                                sum += amount;
                            }
                        }
                    }
                    prop_assert_eq!(sum, change);
                }
                Err(u) => prop_assert!(change < 0 && -change > total && u.left == -change - total),
            }
        }
    }
}
