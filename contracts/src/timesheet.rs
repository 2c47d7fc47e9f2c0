//! Time tracking's rules, pure: spans of work, their Bogotá days, and the hard rules every time
//! entry keeps — end after start, not in the future, not older than a window, no overlap with
//! any other entry of the worker, an assignment's total within the task's cap, a worker's total
//! per Bogotá day within the daily limit — plus where a running timer must stop to keep them.
//!
//! The API loads a worker's relevant entries into a [`Logbook`] inside a transaction that
//! serialises the worker's writes, checks a candidate here, and stores it only if it passes.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate, TimeZone, Utc};

use crate::marketplace::AssignmentStatus;
use crate::time::{BOGOTA, duration_es, from_unix};

/// Clock skew allowed at the end of an entry: a phone's clock may run a little fast.
pub const FUTURE_SKEW_SECS: i64 = 120;

/// A stretch of work, `[start, end)` in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: i64,
    pub end: i64,
}

impl Span {
    pub fn new(start: i64, end: i64) -> Span {
        Span { start, end }
    }

    pub fn seconds(&self) -> i64 {
        self.end - self.start
    }

    /// Shares at least one second with `other` (touching ends do not overlap).
    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// The Bogotá calendar day an instant falls on.
pub fn bogota_day(t: i64) -> NaiveDate {
    from_unix(t).with_timezone(&BOGOTA).date_naive()
}

/// The instant a Bogotá day begins.
pub fn day_start(day: NaiveDate) -> i64 {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match BOGOTA.from_local_datetime(&midnight).earliest() {
        Some(t) => t.timestamp(),
        // A midnight skipped by a clock change (Colombia's one year of daylight saving began
        // at midnight, 1992-05-03): the day begins at the jump, midnight at standard time.
        None => Utc.from_utc_datetime(&midnight).timestamp() + 5 * 3600,
    }
}

/// The instant a Bogotá day ends (the next one begins).
pub fn day_end(day: NaiveDate) -> i64 {
    day_start(day.checked_add_days(Days::new(1)).unwrap_or(day))
}

/// A span cut at Bogotá midnights: each day it touches with its seconds, in order.
pub fn split_by_day(span: Span) -> Vec<(NaiveDate, i64)> {
    let mut parts = Vec::new();
    let mut t = span.start;
    while t < span.end {
        let day = bogota_day(t);
        let until = day_end(day).min(span.end);
        if until <= t {
            break;
        }
        parts.push((day, until - t));
        t = until;
    }
    parts
}

/// Seconds worked per Bogotá day.
pub fn daily_totals<'a>(spans: impl IntoIterator<Item = &'a Span>) -> BTreeMap<NaiveDate, i64> {
    let mut totals = BTreeMap::new();
    for span in spans {
        for (day, secs) in split_by_day(*span) {
            *totals.entry(day).or_insert(0) += secs;
        }
    }
    totals
}

/// One logged stretch of a worker's time, on one of their assignments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub assignment_id: String,
    pub span: Span,
}

/// Seconds per Bogotá day and assignment, for the days `from..=to`.
pub fn timesheet(
    entries: &[Entry],
    from: NaiveDate,
    to: NaiveDate,
) -> BTreeMap<(NaiveDate, String), i64> {
    let mut sheet = BTreeMap::new();
    for e in entries {
        for (day, secs) in split_by_day(e.span) {
            if (from..=to).contains(&day) {
                *sheet.entry((day, e.assignment_id.clone())).or_insert(0) += secs;
            }
        }
    }
    sheet
}

/// The limits of the moment: the clock and the configured windows.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub now: i64,
    /// How far back an entry may start.
    pub window_secs: i64,
    /// Most seconds a worker may log per Bogotá day.
    pub daily_limit_secs: i64,
}

impl Rules {
    /// The rules a span keeps on its own, whatever else is logged: it ends after it starts,
    /// not in the future, and starts within the window.
    pub fn check_span(&self, span: Span) -> Result<(), Violation> {
        if span.end <= span.start {
            return Err(Violation::EndNotAfterStart);
        }
        if span.end > self.now + FUTURE_SKEW_SECS {
            return Err(Violation::InFuture);
        }
        let oldest = self.now - self.window_secs;
        if span.start < oldest {
            return Err(Violation::TooOld { oldest });
        }
        Ok(())
    }
}

/// A hard rule an entry would break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    EndNotAfterStart,
    InFuture,
    /// Starts before `oldest`, the oldest instant that may still be logged.
    TooOld {
        oldest: i64,
    },
    /// Overlaps another entry of the worker.
    Overlaps(Span),
    /// Overlaps the worker's running timer, which holds the time from `since` on.
    OverlapsTimer {
        since: i64,
    },
    /// The assignment would hold `logged` seconds; the task allows `cap`.
    OverCap {
        logged: i64,
        cap: i64,
    },
    /// The worker would log `logged` seconds on `day`; the limit is `limit`.
    OverDailyLimit {
        day: NaiveDate,
        logged: i64,
        limit: i64,
    },
}

impl Violation {
    /// The stable machine code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            Violation::EndNotAfterStart => "end_not_after_start",
            Violation::InFuture => "entry_in_future",
            Violation::TooOld { .. } => "entry_too_old",
            Violation::Overlaps(_) | Violation::OverlapsTimer { .. } => "entry_overlaps",
            Violation::OverCap { .. } => "over_task_cap",
            Violation::OverDailyLimit { .. } => "over_daily_limit",
        }
    }

    /// The field of the entry at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Violation::TooOld { .. } => "started_at",
            _ => "ended_at",
        }
    }

    /// A conflict with other time already logged (409), rather than a bad value (422).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Violation::Overlaps(_) | Violation::OverlapsTimer { .. }
        )
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = |t: i64| from_unix(t).format("%Y-%m-%dT%H:%M:%SZ");
        match self {
            Violation::EndNotAfterStart => f.write_str("The entry must end after it starts."),
            Violation::InFuture => write!(
                f,
                "The entry ends in the future (more than {FUTURE_SKEW_SECS} seconds ahead of the server's clock)."
            ),
            Violation::TooOld { oldest } => write!(
                f,
                "The entry starts too long ago; time from {} on can still be logged.",
                at(*oldest)
            ),
            Violation::Overlaps(s) => write!(
                f,
                "The entry overlaps another of your entries, from {} to {}.",
                at(s.start),
                at(s.end)
            ),
            Violation::OverlapsTimer { since } => write!(
                f,
                "The entry overlaps your running timer, started at {}; stop it first.",
                at(*since)
            ),
            Violation::OverCap { logged, cap } => write!(
                f,
                "The assignment would have {} logged; the task allows at most {}.",
                hms(*logged),
                hms(*cap)
            ),
            Violation::OverDailyLimit { day, logged, limit } => write!(
                f,
                "You would log {} on {day} (Bogotá); the daily limit is {}.",
                hms(*logged),
                hms(*limit)
            ),
        }
    }
}

impl Violation {
    /// The refusal as a Spanish sentence for the worker, times and days in Bogotá
    /// (`5 de diciembre de 2026, 14:05`), durations as people say them (`2 h 37 min`).
    pub fn es(&self) -> String {
        let at = |t: i64| {
            let b = from_unix(t).with_timezone(&BOGOTA);
            format!(
                "{}, {}",
                crate::statements::date_es(b.date_naive()),
                b.format("%H:%M")
            )
        };
        let hour = |t: i64| {
            from_unix(t)
                .with_timezone(&BOGOTA)
                .format("%H:%M")
                .to_string()
        };
        match self {
            Violation::EndNotAfterStart => "El registro debe terminar después de empezar.".into(),
            Violation::InFuture => {
                "El registro no puede terminar en el futuro; revise la hora de su teléfono.".into()
            }
            Violation::TooOld { oldest } => format!(
                "El registro empieza hace demasiado tiempo: solo se puede registrar tiempo desde \
                 el {} (hora de Colombia).",
                at(*oldest)
            ),
            Violation::Overlaps(s) => format!(
                "Este registro se cruza con otro suyo del {} a las {} (hora de Colombia).",
                at(s.start),
                hour(s.end)
            ),
            Violation::OverlapsTimer { since } => format!(
                "Este registro se cruza con su cronómetro, en marcha desde el {} (hora de \
                 Colombia); deténgalo primero.",
                at(*since)
            ),
            Violation::OverCap { logged, cap } => format!(
                "Con este registro la tarea tendría {} y permite como máximo {}.",
                duration_es(*logged),
                duration_es(*cap)
            ),
            Violation::OverDailyLimit { day, logged, limit } => format!(
                "Con este registro tendría {} el {}, y el límite por día es {}.",
                duration_es(*logged),
                crate::statements::date_es(*day),
                duration_es(*limit)
            ),
        }
    }
}

/// Why no time can be logged on an assignment now (409).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// The worker is no longer on it: only claimed or changes-requested assignments take time.
    NotActive { status: String },
    /// The claim has run out.
    ClaimExpired,
}

impl Closed {
    /// The stable machine code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            Closed::NotActive { .. } => "assignment_not_active",
            Closed::ClaimExpired => "claim_expired",
        }
    }

    /// No field is at fault: the assignment is.
    pub fn field(&self) -> Option<&'static str> {
        None
    }
}

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Closed::NotActive { status } => write!(
                f,
                "Time is logged only while an assignment is claimed or has changes requested; \
                 this one is {status}."
            ),
            Closed::ClaimExpired => f.write_str(
                "The claim on this assignment has run out; no more time can be logged on it.",
            ),
        }
    }
}

/// Whether an assignment in `status` whose claim runs out at `expires_at` takes time at `now`
/// (and its entries can still be changed).
pub fn open_for_time(status: &str, expires_at: i64, now: i64) -> Result<(), Closed> {
    if !AssignmentStatus::parse(status).is_some_and(AssignmentStatus::is_active) {
        return Err(Closed::NotActive {
            status: status.to_string(),
        });
    }
    if expires_at <= now {
        return Err(Closed::ClaimExpired);
    }
    Ok(())
}

/// An entry after an edit: its span, whether its times moved, and its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edit<'a> {
    pub span: Span,
    /// The times changed: the entry is checked again like a new one.
    pub moved: bool,
    pub source: &'a str,
}

/// An entry of `span` recorded by `source`, its start and end changed where given. Times typed
/// by hand are manual time, whatever recorded them first.
pub fn edit(span: Span, source: &str, started: Option<i64>, ended: Option<i64>) -> Edit<'_> {
    let new = Span::new(started.unwrap_or(span.start), ended.unwrap_or(span.end));
    let moved = new != span;
    Edit {
        span: new,
        moved,
        source: if moved { "manual" } else { source },
    }
}

/// A worker's time over some days, as a timesheet shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sheet {
    /// Days with time logged, in order, each with its assignments' seconds (by assignment id).
    pub days: Vec<SheetDay>,
    /// Each assignment's seconds within the days.
    pub per_assignment: BTreeMap<String, i64>,
    pub total_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetDay {
    pub date: NaiveDate,
    pub total_seconds: i64,
    pub assignments: Vec<(String, i64)>,
}

/// The timesheet of `entries` for the days `from..=to` (Bogotá calendar): an entry across
/// midnight counts on each day for its part.
pub fn sheet(entries: &[Entry], from: NaiveDate, to: NaiveDate) -> Sheet {
    let mut out = Sheet::default();
    for ((date, assignment_id), seconds) in timesheet(entries, from, to) {
        *out.per_assignment.entry(assignment_id.clone()).or_insert(0) += seconds;
        out.total_seconds += seconds;
        match out.days.last_mut() {
            Some(day) if day.date == date => {
                day.total_seconds += seconds;
                day.assignments.push((assignment_id, seconds));
            }
            _ => out.days.push(SheetDay {
                date,
                total_seconds: seconds,
                assignments: vec![(assignment_id, seconds)],
            }),
        }
    }
    out
}

/// A duration as `H:MM:SS`.
pub fn hms(secs: i64) -> String {
    let sign = if secs < 0 { "-" } else { "" };
    let s = secs.unsigned_abs();
    format!("{sign}{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Why a running timer stops where it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The assignment reached the task's cap.
    TaskCap,
    /// The worker reached the daily limit.
    DailyLimit,
    /// The claim runs out.
    ClaimExpiry,
    /// Another entry begins (the timer must not run into it).
    NextEntry,
}

/// The instant a timer started at some point must stop, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerLimit {
    pub at: i64,
    pub reason: StopReason,
}

/// A worker's logged time, as far as a check needs it: at least every entry of the
/// assignments concerned and every entry touching the Bogotá days concerned.
#[derive(Debug, Clone, Default)]
pub struct Logbook {
    pub entries: Vec<Entry>,
    /// The worker's running timer holds all time from this instant on.
    pub running_since: Option<i64>,
}

impl Logbook {
    pub fn new(entries: Vec<Entry>) -> Logbook {
        Logbook {
            entries,
            running_since: None,
        }
    }

    /// Count a timer running on `assignment_id` since `since`: the time it has run so far
    /// counts toward the totals, and all time from `since` on is taken.
    pub fn with_timer(mut self, assignment_id: &str, since: i64, now: i64) -> Logbook {
        if now > since {
            self.entries.push(Entry {
                assignment_id: assignment_id.to_string(),
                span: Span::new(since, now),
            });
        }
        self.running_since = Some(since);
        self
    }

    /// Seconds logged on an assignment.
    pub fn logged(&self, assignment_id: &str) -> i64 {
        self.entries
            .iter()
            .filter(|e| e.assignment_id == assignment_id)
            .map(|e| e.span.seconds())
            .sum()
    }

    fn daily(&self) -> BTreeMap<NaiveDate, i64> {
        daily_totals(self.entries.iter().map(|e| &e.span))
    }

    /// Whether `candidate` may be logged on an assignment capped at `cap` seconds (none for
    /// tasks without a cap). The first rule broken is returned.
    pub fn check(
        &self,
        candidate: &Entry,
        cap: Option<i64>,
        rules: &Rules,
    ) -> Result<(), Violation> {
        let span = candidate.span;
        rules.check_span(span)?;
        if let Some(other) = self.entries.iter().find(|e| e.span.overlaps(&span)) {
            return Err(Violation::Overlaps(other.span));
        }
        if let Some(since) = self.running_since
            && span.end > since
        {
            return Err(Violation::OverlapsTimer { since });
        }
        if let Some(cap) = cap {
            let logged = self.logged(&candidate.assignment_id) + span.seconds();
            if logged > cap {
                return Err(Violation::OverCap { logged, cap });
            }
        }
        let daily = self.daily();
        for (day, secs) in split_by_day(span) {
            let logged = daily.get(&day).copied().unwrap_or(0) + secs;
            if logged > rules.daily_limit_secs {
                return Err(Violation::OverDailyLimit {
                    day,
                    logged,
                    limit: rules.daily_limit_secs,
                });
            }
        }
        Ok(())
    }

    /// Record an entry that passed [`Logbook::check`].
    pub fn accept(&mut self, entry: Entry) {
        self.entries.push(entry);
    }

    /// Where a timer started at `start` on `assignment_id` must stop: the first instant at
    /// which going on would break the task's cap, the daily limit, the claim's expiry, or run
    /// into another entry. The logbook must not hold the timer itself.
    pub fn timer_limit(
        &self,
        assignment_id: &str,
        start: i64,
        cap: Option<i64>,
        daily_limit_secs: i64,
        expires_at: i64,
    ) -> TimerLimit {
        let mut limit = TimerLimit {
            at: expires_at.max(start),
            reason: StopReason::ClaimExpiry,
        };
        let earlier = |limit: &mut TimerLimit, at: i64, reason| {
            if at < limit.at {
                *limit = TimerLimit { at, reason };
            }
        };
        if let Some(next) = self
            .entries
            .iter()
            .filter(|e| e.span.end > start)
            .map(|e| e.span.start.max(start))
            .min()
        {
            earlier(&mut limit, next, StopReason::NextEntry);
        }
        if let Some(cap) = cap {
            let left = (cap - self.logged(assignment_id)).max(0);
            earlier(&mut limit, start + left, StopReason::TaskCap);
        }
        // Walk the days from the start until one runs out of allowance.
        let daily = self.daily();
        let mut day = bogota_day(start);
        loop {
            let from = start.max(day_start(day));
            if from >= limit.at {
                break;
            }
            let left = (daily_limit_secs - daily.get(&day).copied().unwrap_or(0)).max(0);
            if from + left < day_end(day) {
                earlier(&mut limit, from + left, StopReason::DailyLimit);
                break;
            }
            match day.checked_add_days(Days::new(1)) {
                Some(next) => day = next,
                None => break,
            }
        }
        limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOUR: i64 = 3600;
    const DAY: i64 = 24 * HOUR;

    /// 2026-03-02 00:00 in Bogotá (05:00 UTC).
    fn monday() -> i64 {
        let t = day_start(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        assert_eq!(t, 1_772_427_600);
        t
    }

    fn entry(assignment: &str, start: i64, end: i64) -> Entry {
        Entry {
            assignment_id: assignment.to_string(),
            span: Span::new(start, end),
        }
    }

    fn rules(now: i64) -> Rules {
        Rules {
            now,
            window_secs: 14 * DAY,
            daily_limit_secs: 12 * HOUR,
        }
    }

    #[test]
    fn days_begin_at_bogota_midnight() {
        let t = monday();
        assert_eq!(from_unix(t).to_rfc3339(), "2026-03-02T05:00:00+00:00");
        assert_eq!(
            bogota_day(t - 1),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
        assert_eq!(day_end(bogota_day(t)) - t, DAY);
        // The day whose midnight a clock change skipped still begins where the last ended.
        let skipped = NaiveDate::from_ymd_opt(1992, 5, 3).unwrap();
        assert_eq!(bogota_day(day_start(skipped)), skipped);
        assert_eq!(
            bogota_day(day_start(skipped) - 1),
            skipped.pred_opt().unwrap()
        );
        // 23:00 to 01:00 in Bogotá is an hour on each day.
        let parts = split_by_day(Span::new(t - HOUR, t + HOUR));
        assert_eq!(
            parts,
            vec![
                (NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), HOUR),
                (NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(), HOUR),
            ]
        );
    }

    /// DESIGN §4's worked example: entries of 1:20:10 and 1:17:05 log 9,435 seconds.
    #[test]
    fn the_worked_example() {
        let t = monday() + 8 * HOUR;
        let first = entry("a", t, t + HOUR + 20 * 60 + 10);
        let second = entry("a", t + 2 * HOUR, t + 2 * HOUR + HOUR + 17 * 60 + 5);
        let mut book = Logbook::default();
        let r = rules(t + DAY);
        for e in [first, second] {
            book.check(&e, Some(10 * HOUR), &r).unwrap();
            book.accept(e);
        }
        assert_eq!(book.logged("a"), 9_435);
        assert_eq!(hms(book.logged("a")), "2:37:15");
    }

    #[test]
    fn each_rule_reads_in_spanish_with_bogota_times() {
        // 2026-12-05 19:00 UTC is 14:00 in Bogotá.
        let t = 1_796_497_200;
        let overlap = Violation::Overlaps(Span::new(t, t + 5400)).es();
        assert_eq!(
            overlap,
            "Este registro se cruza con otro suyo del 5 de diciembre de 2026, 14:00 a las 15:30 \
             (hora de Colombia)."
        );
        let cap = Violation::OverCap {
            logged: 9435,
            cap: 7200,
        }
        .es();
        assert_eq!(
            cap,
            "Con este registro la tarea tendría 2 h 37 min y permite como máximo 2 h."
        );
        assert_eq!(duration_es(40), "40 s");
        assert_eq!(duration_es(2700), "45 min");
    }

    #[test]
    fn each_rule_has_its_code() {
        let t = monday() + 8 * HOUR;
        let r = rules(t + 4 * HOUR);
        let book = Logbook::new(vec![entry("a", t, t + HOUR)]);
        let code = |e: Entry, cap| book.check(&e, cap, &r).unwrap_err().code();
        assert_eq!(
            code(entry("a", t + 2 * HOUR, t + 2 * HOUR), None),
            "end_not_after_start"
        );
        assert_eq!(
            code(entry("a", t + 3 * HOUR, t + 4 * HOUR + 121), None),
            "entry_in_future"
        );
        assert_eq!(
            code(entry("a", t - 15 * DAY, t - 15 * DAY + 60), None),
            "entry_too_old"
        );
        // Another assignment's time counts for overlap too.
        assert_eq!(
            code(entry("b", t + 1800, t + 2 * HOUR), None),
            "entry_overlaps"
        );
        assert_eq!(
            code(entry("a", t + HOUR, t + 3 * HOUR), Some(2 * HOUR)),
            "over_task_cap"
        );
        // 11 h already on Monday: one more hour and a minute is too much.
        let busy = Logbook::new(vec![entry("b", t - 8 * HOUR, t + 3 * HOUR)]);
        assert_eq!(
            busy.check(&entry("a", t + 3 * HOUR, t + 4 * HOUR + 60), None, &r)
                .unwrap_err()
                .code(),
            "over_daily_limit"
        );
        // Within skew, touching ends, and under both limits: fine.
        book.check(
            &entry("a", t + HOUR, t + 4 * HOUR + 120),
            Some(5 * HOUR),
            &r,
        )
        .unwrap();
    }

    #[test]
    fn a_running_timer_holds_its_time() {
        let t = monday() + 8 * HOUR;
        let book = Logbook::default().with_timer("a", t, t + HOUR);
        let r = rules(t + HOUR);
        assert_eq!(
            book.check(&entry("b", t + HOUR, t + HOUR + 60), None, &r),
            Err(Violation::OverlapsTimer { since: t })
        );
        // Its hour so far counts toward the cap.
        assert_eq!(
            book.check(&entry("a", t - 2 * HOUR, t - HOUR), Some(90 * 60), &r)
                .unwrap_err()
                .code(),
            "over_task_cap"
        );
        book.check(&entry("a", t - 2 * HOUR, t - HOUR), Some(2 * HOUR), &r)
            .unwrap();
    }

    #[test]
    fn a_timer_stops_at_whichever_limit_comes_first() {
        let t = monday() + 8 * HOUR;
        let book = Logbook::new(vec![entry("a", t - 3 * HOUR, t - HOUR)]);
        let far = t + 30 * DAY;
        // 10 h cap, 2 h logged: 8 h left, but only 10 h of the day's 12 h remain.
        assert_eq!(
            book.timer_limit("a", t, Some(10 * HOUR), 12 * HOUR, far),
            TimerLimit {
                at: t + 8 * HOUR,
                reason: StopReason::TaskCap
            }
        );
        assert_eq!(
            book.timer_limit("a", t, Some(20 * HOUR), 12 * HOUR, far),
            TimerLimit {
                at: t + 10 * HOUR,
                reason: StopReason::DailyLimit
            }
        );
        assert_eq!(
            book.timer_limit("a", t, None, 12 * HOUR, t + 600),
            TimerLimit {
                at: t + 600,
                reason: StopReason::ClaimExpiry
            }
        );
        // Started at 20:00 with the day used up only partly: it runs into the next day.
        let evening = monday() + 20 * HOUR;
        assert_eq!(
            Logbook::default().timer_limit("a", evening, None, 12 * HOUR, far),
            TimerLimit {
                at: monday() + DAY + 12 * HOUR,
                reason: StopReason::DailyLimit
            }
        );
    }

    #[test]
    fn closed_assignments_take_no_time() {
        let t = monday();
        assert_eq!(open_for_time("claimed", t + 1, t), Ok(()));
        assert_eq!(open_for_time("changes_requested", t + 1, t), Ok(()));
        let closed = open_for_time("submitted", t + 1, t).unwrap_err();
        assert_eq!(closed.code(), "assignment_not_active");
        assert!(closed.to_string().ends_with("this one is submitted."));
        assert_eq!(open_for_time("claimed", t, t), Err(Closed::ClaimExpired));
        assert_eq!(Closed::ClaimExpired.code(), "claim_expired");
        assert_eq!(
            open_for_time("nonsense", t + 1, t).unwrap_err().field(),
            None
        );
    }

    #[test]
    fn an_edit_of_the_times_is_manual_time() {
        let span = Span::new(100, 200);
        let same = edit(span, "timer", None, Some(200));
        assert_eq!((same.span, same.moved, same.source), (span, false, "timer"));
        let moved = edit(span, "offline", Some(90), None);
        assert_eq!(
            (moved.span, moved.moved, moved.source),
            (Span::new(90, 200), true, "manual")
        );
    }

    #[test]
    fn a_sheet_groups_by_day() {
        let t = monday();
        let entries = [
            entry("a", t - HOUR, t + HOUR),
            entry("b", t + 2 * HOUR, t + 3 * HOUR),
        ];
        let sunday = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let monday_ = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let s = sheet(&entries, sunday, monday_);
        assert_eq!(s.total_seconds, 3 * HOUR);
        assert_eq!(
            s.days,
            vec![
                SheetDay {
                    date: sunday,
                    total_seconds: HOUR,
                    assignments: vec![("a".into(), HOUR)]
                },
                SheetDay {
                    date: monday_,
                    total_seconds: 2 * HOUR,
                    assignments: vec![("a".into(), HOUR), ("b".into(), HOUR)]
                },
            ]
        );
        assert_eq!(s.per_assignment.get("a"), Some(&(2 * HOUR)));
    }

    #[test]
    fn timesheets_split_days_and_assignments() {
        let t = monday();
        let entries = [
            entry("a", t - HOUR, t + HOUR),
            entry("b", t + 2 * HOUR, t + 3 * HOUR),
            entry("a", t - 3 * DAY, t - 3 * DAY + HOUR),
        ];
        let sunday = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let monday_ = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let sheet = timesheet(&entries, sunday, monday_);
        let rows: Vec<_> = sheet.into_iter().collect();
        assert_eq!(
            rows,
            vec![
                ((sunday, "a".to_string()), HOUR),
                ((monday_, "a".to_string()), HOUR),
                ((monday_, "b".to_string()), HOUR),
            ]
        );
    }

    /// Timestamps between 2000 and 2100, where Bogotá keeps UTC−05:00 all year.
    const Y2000: i64 = 946_684_800;
    const Y2100: i64 = 4_102_444_800;

    fn candidates() -> impl Strategy<Value = Vec<Entry>> {
        prop::collection::vec((0usize..3, 0i64..6 * DAY, 1i64..20 * HOUR), 0..40).prop_map(|raw| {
            raw.into_iter()
                .map(|(a, offset, len)| {
                    let start = monday() + offset;
                    entry(["a0", "a1", "a2"][a], start, start + len)
                })
                .collect()
        })
    }

    fn caps() -> impl Strategy<Value = [Option<i64>; 3]> {
        [
            prop::option::of(HOUR..40 * HOUR),
            prop::option::of(HOUR..40 * HOUR),
            prop::option::of(HOUR..40 * HOUR),
        ]
    }

    fn cap_of(caps: &[Option<i64>; 3], assignment: &str) -> Option<i64> {
        caps[assignment[1..].parse::<usize>().unwrap()]
    }

    /// Accept, in the order given, every candidate that passes the check.
    fn accept_all(candidates: &[Entry], caps: &[Option<i64>; 3], r: &Rules) -> Logbook {
        let mut book = Logbook::default();
        for c in candidates {
            if book.check(c, cap_of(caps, &c.assignment_id), r).is_ok() {
                book.accept(c.clone());
            }
        }
        book
    }

    fn assert_within_rules(book: &Logbook, caps: &[Option<i64>; 3], r: &Rules) {
        for (i, a) in book.entries.iter().enumerate() {
            for b in &book.entries[i + 1..] {
                assert!(!a.span.overlaps(&b.span), "{a:?} overlaps {b:?}");
            }
        }
        for a in ["a0", "a1", "a2"] {
            if let Some(cap) = cap_of(caps, a) {
                assert!(book.logged(a) <= cap, "{a} over its cap");
            }
        }
        for (day, secs) in book.daily() {
            assert!(secs <= r.daily_limit_secs, "{day}: {secs} s");
        }
    }

    proptest! {
        /// Any set of accepted entries never overlaps and never exceeds the caps or the daily
        /// limit, whatever order the entries arrive in.
        #[test]
        fn accepted_entries_keep_every_rule(
            candidates in candidates(),
            caps in caps(),
            limit_hours in 1i64..=24,
        ) {
            let r = Rules { now: monday() + 7 * DAY, window_secs: 14 * DAY, daily_limit_secs: limit_hours * HOUR };
            let book = accept_all(&candidates, &caps, &r);
            assert_within_rules(&book, &caps, &r);
            let mut reversed = candidates.clone();
            reversed.reverse();
            assert_within_rules(&accept_all(&reversed, &caps, &r), &caps, &r);
        }

        /// A refusal is true: the rule it names really would break.
        #[test]
        fn refusals_are_justified(candidates in candidates(), caps in caps()) {
            let r = rules(monday() + 7 * DAY);
            let mut book = Logbook::default();
            for c in &candidates {
                let cap = cap_of(&caps, &c.assignment_id);
                match book.check(c, cap, &r) {
                    Ok(()) => book.accept(c.clone()),
                    Err(Violation::Overlaps(s)) => prop_assert!(s.overlaps(&c.span)),
                    Err(Violation::OverCap { logged, cap: limit }) => {
                        prop_assert_eq!(Some(limit), cap);
                        prop_assert_eq!(logged, book.logged(&c.assignment_id) + c.span.seconds());
                        prop_assert!(logged > limit);
                    }
                    Err(Violation::OverDailyLimit { logged, limit, .. }) => prop_assert!(logged > limit),
                    Err(other) => prop_assert!(false, "unexpected {other:?}"),
                }
            }
        }

        /// A timer stopped where `timer_limit` says keeps every rule, and at any later second
        /// it would break one (unless the claim ran out first).
        #[test]
        fn a_timer_stops_exactly_at_its_limit(
            candidates in candidates(),
            caps in caps(),
            start_offset in 0i64..8 * DAY,
            expires_after in 0i64..3 * DAY,
            which in 0usize..3,
        ) {
            let r = rules(monday() + 7 * DAY);
            let book = accept_all(&candidates, &caps, &r);
            let a = ["a0", "a1", "a2"][which];
            let start = monday() + start_offset;
            let limit = book.timer_limit(a, start, cap_of(&caps, a), r.daily_limit_secs, start + expires_after);
            prop_assert!(limit.at >= start);
            let at_rules = Rules { now: limit.at + 1, window_secs: 30 * DAY, ..r };
            if limit.at > start {
                prop_assert_eq!(book.check(&entry(a, start, limit.at), cap_of(&caps, a), &at_rules), Ok(()));
            }
            if limit.reason != StopReason::ClaimExpiry {
                prop_assert!(book.check(&entry(a, start, limit.at + 1), cap_of(&caps, a), &at_rules).is_err());
            }
        }

        /// Cutting a span at Bogotá midnights loses no second and leaves each part in its day.
        #[test]
        fn splitting_across_days_keeps_every_second(start in Y2000..Y2100, len in 0i64..10 * DAY) {
            let span = Span::new(start, start + len);
            let parts = split_by_day(span);
            prop_assert_eq!(parts.iter().map(|(_, s)| s).sum::<i64>(), len);
            let mut t = start;
            for (i, (day, secs)) in parts.iter().enumerate() {
                prop_assert!(*secs > 0 && *secs <= DAY);
                prop_assert_eq!(bogota_day(t), *day);
                prop_assert_eq!(bogota_day(t + secs - 1), *day);
                if i > 0 {
                    prop_assert_eq!(t, day_start(*day));
                }
                t += secs;
            }
        }

        /// A sheet adds up three ways (days, assignments, total) to the time logged within its
        /// days, and its days are in order, each once.
        #[test]
        fn a_sheet_adds_up(candidates in candidates(), from_offset in 0i64..4, days in 0i64..5) {
            let from = bogota_day(monday()) + chrono::Duration::days(from_offset);
            let to = from + chrono::Duration::days(days);
            let s = sheet(&candidates, from, to);
            let within: i64 = candidates
                .iter()
                .flat_map(|e| split_by_day(e.span))
                .filter(|(d, _)| (from..=to).contains(d))
                .map(|(_, secs)| secs)
                .sum();
            prop_assert_eq!(s.total_seconds, within);
            prop_assert_eq!(s.days.iter().map(|d| d.total_seconds).sum::<i64>(), within);
            prop_assert_eq!(s.per_assignment.values().sum::<i64>(), within);
            for d in &s.days {
                prop_assert_eq!(d.assignments.iter().map(|(_, secs)| secs).sum::<i64>(), d.total_seconds);
            }
            prop_assert!(s.days.windows(2).all(|w| w[0].date < w[1].date));
        }

        /// Daily totals add up to the time logged; overlap is symmetric.
        #[test]
        fn daily_totals_add_up(candidates in candidates()) {
            let spans: Vec<Span> = candidates.iter().map(|e| e.span).collect();
            let total: i64 = spans.iter().map(Span::seconds).sum();
            prop_assert_eq!(daily_totals(&spans).values().sum::<i64>(), total);
            for a in &spans {
                for b in &spans {
                    prop_assert_eq!(a.overlaps(b), b.overlaps(a));
                }
            }
        }
    }
}
