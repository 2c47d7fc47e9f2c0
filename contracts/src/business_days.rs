//! Colombian business days, in Bogotá: Monday to Friday except the national holidays, for any
//! year. Review deadlines, appeals and the data-request deadlines of Ley 1581 count these.
//!
//! The holidays (Ley 51 de 1983, "Ley Emiliani", and Ley 35 de 1939): six on their date
//! whatever the weekday; seven moved to the following Monday when they fall on another day;
//! Holy Thursday and Good Friday, two days before Easter Sunday; and three tied to Easter
//! and moved to a Monday (Ascension, Corpus Christi, Sacred Heart: Easter + 43, + 64, + 71).

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// Holidays kept on their date.
const FIXED: [(u32, u32, &str); 6] = [
    (1, 1, "Año Nuevo"),
    (5, 1, "Día del Trabajo"),
    (7, 20, "Día de la Independencia"),
    (8, 7, "Batalla de Boyacá"),
    (12, 8, "Inmaculada Concepción"),
    (12, 25, "Navidad"),
];

/// Holidays moved to the next Monday unless they fall on one.
const MOVED: [(u32, u32, &str); 7] = [
    (1, 6, "Reyes Magos"),
    (3, 19, "San José"),
    (6, 29, "San Pedro y San Pablo"),
    (8, 15, "Asunción de la Virgen"),
    (10, 12, "Día de la Raza"),
    (11, 1, "Todos los Santos"),
    (11, 11, "Independencia de Cartagena"),
];

/// Easter Sunday of `year` (Gregorian calendar; the anonymous "Meeus/Jones/Butcher" method).
pub fn easter(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is a real date")
}

fn next_monday(day: NaiveDate) -> NaiveDate {
    let ahead = (7 - day.weekday().num_days_from_monday()) % 7;
    day + Days::new(u64::from(ahead))
}

fn plus(day: NaiveDate, days: i64) -> NaiveDate {
    day + chrono::Duration::days(days)
}

/// The national holidays of `year`, by date, with their names (two may share a date).
pub fn holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let date = |m, d| NaiveDate::from_ymd_opt(year, m, d).expect("a real date");
    let mut out: Vec<(NaiveDate, &'static str)> = Vec::with_capacity(18);
    out.extend(FIXED.iter().map(|&(m, d, name)| (date(m, d), name)));
    out.extend(
        MOVED
            .iter()
            .map(|&(m, d, name)| (next_monday(date(m, d)), name)),
    );
    let e = easter(year);
    out.push((plus(e, -3), "Jueves Santo"));
    out.push((plus(e, -2), "Viernes Santo"));
    out.push((plus(e, 43), "Ascensión del Señor"));
    out.push((plus(e, 64), "Corpus Christi"));
    out.push((plus(e, 71), "Sagrado Corazón"));
    out.sort();
    out
}

/// Whether `day` is a national holiday.
pub fn is_holiday(day: NaiveDate) -> bool {
    holidays(day.year()).iter().any(|(d, _)| *d == day)
}

/// Monday to Friday, and not a holiday.
pub fn is_business_day(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !is_holiday(day)
}

/// The `n`-th business day after `day` (`day` itself does not count; `n` = 0 gives `day`).
pub fn add_business_days(day: NaiveDate, n: u32) -> NaiveDate {
    let mut d = day;
    let mut left = n;
    while left > 0 {
        d = d + Days::new(1);
        if is_business_day(d) {
            left -= 1;
        }
    }
    d
}

/// Business days after `from` up to and including `to` (0 when `to` is not later).
pub fn business_days_between(from: NaiveDate, to: NaiveDate) -> u32 {
    let mut d = from;
    let mut n = 0;
    while d < to {
        d = d + Days::new(1);
        if is_business_day(d) {
            n += 1;
        }
    }
    n
}

/// A deadline of `n` business days from the instant `from` (Unix seconds): the end, in
/// Bogotá, of the `n`-th business day after the day `from` falls on.
pub fn deadline(from: i64, n: u32) -> i64 {
    let day = crate::timesheet::bogota_day(from);
    crate::timesheet::day_end(add_business_days(day, n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn dates(year: i32) -> Vec<NaiveDate> {
        let mut v: Vec<NaiveDate> = holidays(year).into_iter().map(|(d, _)| d).collect();
        v.dedup();
        v
    }

    #[test]
    fn easter_sundays() {
        assert_eq!(easter(2025), d(2025, 4, 20));
        assert_eq!(easter(2026), d(2026, 4, 5));
        assert_eq!(easter(2027), d(2027, 3, 28));
        assert_eq!(easter(2038), d(2038, 4, 25));
    }

    /// The official lists (decrees and the calendar the Ministry of Labour publishes).
    #[test]
    fn the_official_holidays_of_2025_2026_and_2027() {
        let list = |year, days: &[(u32, u32)]| -> Vec<NaiveDate> {
            days.iter().map(|&(m, day)| d(year, m, day)).collect()
        };
        // 2025: San Pedro and the Sacred Heart both on Monday 30 June.
        assert_eq!(
            dates(2025),
            list(
                2025,
                &[
                    (1, 1),
                    (1, 6),
                    (3, 24),
                    (4, 17),
                    (4, 18),
                    (5, 1),
                    (6, 2),
                    (6, 23),
                    (6, 30),
                    (7, 20),
                    (8, 7),
                    (8, 18),
                    (10, 13),
                    (11, 3),
                    (11, 17),
                    (12, 8),
                    (12, 25)
                ]
            )
        );
        assert_eq!(
            dates(2026),
            list(
                2026,
                &[
                    (1, 1),
                    (1, 12),
                    (3, 23),
                    (4, 2),
                    (4, 3),
                    (5, 1),
                    (5, 18),
                    (6, 8),
                    (6, 15),
                    (6, 29),
                    (7, 20),
                    (8, 7),
                    (8, 17),
                    (10, 12),
                    (11, 2),
                    (11, 16),
                    (12, 8),
                    (12, 25)
                ]
            )
        );
        assert_eq!(
            dates(2027),
            list(
                2027,
                &[
                    (1, 1),
                    (1, 11),
                    (3, 22),
                    (3, 25),
                    (3, 26),
                    (5, 1),
                    (5, 10),
                    (5, 31),
                    (6, 7),
                    (7, 5),
                    (7, 20),
                    (8, 7),
                    (8, 16),
                    (10, 18),
                    (11, 1),
                    (11, 15),
                    (12, 8),
                    (12, 25)
                ]
            )
        );
        assert_eq!(holidays(2026).len(), 18);
    }

    /// The example: three business days from Friday 9 January 2026 skip the weekend
    /// and the Monday holiday of 12 January, ending on Thursday the 15th at midnight, Bogotá.
    #[test]
    fn a_deadline_over_a_holiday_weekend() {
        assert_eq!(add_business_days(d(2026, 1, 9), 3), d(2026, 1, 15));
        assert!(!is_business_day(d(2026, 1, 12)));
        // Submitted Friday 9 January at 17:00 Bogotá (22:00 UTC).
        let friday_evening = 1_767_996_000;
        assert_eq!(crate::timesheet::bogota_day(friday_evening), d(2026, 1, 9));
        // The end of Thursday the 15th: Friday the 16th, 00:00 Bogotá = 05:00 UTC.
        assert_eq!(deadline(friday_evening, 3), 1_768_539_600);
        // Holy week 2026: from Wednesday 1 April, one business day is Monday 6 April.
        assert_eq!(add_business_days(d(2026, 4, 1), 1), d(2026, 4, 6));
        assert_eq!(business_days_between(d(2026, 1, 9), d(2026, 1, 15)), 3);
    }

    proptest! {
        /// Adding `n` business days lands on a business day with exactly `n` of them after
        /// the start, for any day of any year this century and the next.
        #[test]
        fn adding_business_days_counts_them(offset in 0i64..73_000, n in 1u32..40) {
            let start = d(2000, 1, 1) + chrono::Duration::days(offset);
            let end = add_business_days(start, n);
            prop_assert!(is_business_day(end));
            prop_assert_eq!(business_days_between(start, end), n);
            prop_assert!(end > start);
        }

        /// Every year has 18 holidays (counting two on one date as two), the moved ones
        /// always on a Monday.
        #[test]
        fn every_year_has_its_eighteen(year in 1984i32..2200) {
            let h = holidays(year);
            prop_assert_eq!(h.len(), 18);
            for (day, name) in &h {
                prop_assert_eq!(day.year(), year);
                if MOVED.iter().any(|(_, _, n)| n == name)
                    || ["Ascensión del Señor", "Corpus Christi", "Sagrado Corazón"].contains(name)
                {
                    prop_assert_eq!(day.weekday(), Weekday::Mon, "{} {}", name, day);
                }
            }
        }
    }
}
