//! The marketplace's states and rules, pure: task and assignment states with their allowed
//! moves, task categories, and the automatic verification of a submission.

use serde::{Deserialize, Serialize};

/// `draft → open → closed | cancelled` (a draft may also be cancelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Draft,
    Open,
    Closed,
    Cancelled,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 4] = [Self::Draft, Self::Open, Self::Closed, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn can_move_to(self, next: TaskStatus) -> bool {
        use TaskStatus::*;
        matches!(
            (self, next),
            (Draft, Open) | (Draft, Cancelled) | (Open, Closed) | (Open, Cancelled)
        )
    }
}

/// One worker's claim on one slot.
///
/// `claimed → submitted → verified → approved | rejected | changes_requested`;
/// `submitted → changes_requested` when a hard check fails; `changes_requested → submitted`
/// on resubmission; `claimed | changes_requested → released | expired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentStatus {
    Claimed,
    Submitted,
    Verified,
    ChangesRequested,
    Approved,
    Rejected,
    Released,
    Expired,
}

impl AssignmentStatus {
    pub const ALL: [AssignmentStatus; 8] = [
        Self::Claimed,
        Self::Submitted,
        Self::Verified,
        Self::ChangesRequested,
        Self::Approved,
        Self::Rejected,
        Self::Released,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Claimed => "claimed",
            Self::Submitted => "submitted",
            Self::Verified => "verified",
            Self::ChangesRequested => "changes_requested",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Released => "released",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn can_move_to(self, next: AssignmentStatus) -> bool {
        use AssignmentStatus::*;
        matches!(
            (self, next),
            (Claimed, Submitted)
                | (Claimed, Released)
                | (Claimed, Expired)
                | (Submitted, Verified)
                | (Submitted, ChangesRequested)
                | (Verified, Approved)
                | (Verified, Rejected)
                | (Verified, ChangesRequested)
                | (ChangesRequested, Submitted)
                | (ChangesRequested, Released)
                | (ChangesRequested, Expired)
        )
    }

    /// Holds one of the task's slots.
    pub fn takes_slot(self) -> bool {
        use AssignmentStatus::*;
        matches!(
            self,
            Claimed | Submitted | Verified | ChangesRequested | Approved
        )
    }

    /// The worker is working on it (counts toward their limit of active assignments, and
    /// accepts time entries).
    pub fn is_active(self) -> bool {
        matches!(self, Self::Claimed | Self::ChangesRequested)
    }

    /// SQL list of the statuses for which `pred` holds, e.g. `('claimed', 'submitted')`.
    pub fn sql_list(pred: impl Fn(AssignmentStatus) -> bool) -> String {
        let names: Vec<String> = Self::ALL
            .into_iter()
            .filter(|s| pred(*s))
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        format!("({})", names.join(", "))
    }
}

/// What kind of work a task is.
pub const CATEGORIES: [&str; 7] = [
    "support",
    "data-entry",
    "data-cleaning",
    "labelling",
    "qa-testing",
    "content-moderation",
    "other",
];

/// What verification looks at.
#[derive(Debug, Clone)]
pub struct SubmissionFacts<'a> {
    pub deliverable_url: Option<&'a str>,
    pub deliverable_url_required: bool,
    pub hourly: bool,
    pub min_minutes: i64,
    /// The task's hour cap (hourly tasks).
    pub max_seconds: Option<i64>,
    pub claimed_at: i64,
    pub entries: &'a [EntryFacts],
}

#[derive(Debug, Clone)]
pub struct EntryFacts {
    pub started_at: i64,
    pub ended_at: i64,
    pub source: String,
}

/// One thing verification noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub message: String,
}

fn finding(code: &str, message: impl Into<String>) -> Finding {
    Finding {
        code: code.to_string(),
        message: message.into(),
    }
}

/// Hard findings send the work back to the worker; soft ones are shown to the reviewer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub hard: Vec<Finding>,
    pub soft: Vec<Finding>,
}

/// A single entry longer than this is flagged for the reviewer.
pub const LONG_ENTRY_SECS: i64 = 8 * 3600;

/// The automatic checks of a submission (issue 3 §7).
pub fn verify(f: &SubmissionFacts<'_>) -> Verdict {
    let mut v = Verdict::default();
    let url = f.deliverable_url.map(str::trim).filter(|u| !u.is_empty());
    match url {
        None if f.deliverable_url_required => v.hard.push(finding(
            "deliverable_missing",
            "Falta el enlace al entregable.",
        )),
        Some(u) if f.deliverable_url_required && !is_https_url(u) => v.hard.push(finding(
            "deliverable_not_https",
            "El enlace al entregable debe empezar por https://.",
        )),
        _ => {}
    }
    let logged: i64 = f.entries.iter().map(|e| e.ended_at - e.started_at).sum();
    if f.hourly {
        if logged < f.min_minutes * 60 {
            v.hard.push(finding(
                "too_little_time",
                format!(
                    "Se registraron {} minutos; la tarea pide al menos {}.",
                    logged / 60,
                    f.min_minutes
                ),
            ));
        }
        if let Some(cap) = f.max_seconds
            && logged > cap
        {
            v.hard.push(finding(
                "over_cap",
                format!(
                    "Se registraron {:.1} horas; el máximo de la tarea es {:.1}.",
                    logged as f64 / 3600.0,
                    cap as f64 / 3600.0
                ),
            ));
        }
    }
    if f.entries.iter().any(|e| e.started_at < f.claimed_at) {
        v.soft.push(finding(
            "time_before_claim",
            "Hay tiempo registrado antes de tomar la tarea.",
        ));
    }
    if f.entries.iter().any(|e| e.source == "manual") {
        v.soft.push(finding(
            "manual_entries",
            "Incluye registros de tiempo manuales.",
        ));
    }
    if f.entries.iter().any(|e| e.source == "offline") {
        v.soft.push(finding(
            "offline_entries",
            "Incluye registros de tiempo hechos sin conexión.",
        ));
    }
    if f.entries
        .iter()
        .any(|e| e.ended_at - e.started_at > LONG_ENTRY_SECS)
    {
        v.soft.push(finding(
            "long_entry",
            "Incluye un registro de más de 8 horas seguidas.",
        ));
    }
    v
}

/// An absolute `https://` URL with a host.
pub fn is_https_url(u: &str) -> bool {
    let Some(rest) = u.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty()
        && !host.contains(char::is_whitespace)
        && u.len() <= 2000
        && !u.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_moves() {
        use AssignmentStatus::*;
        assert!(Claimed.can_move_to(Submitted));
        assert!(Verified.can_move_to(Approved));
        assert!(
            !Submitted.can_move_to(Approved),
            "a review waits for verification"
        );
        assert!(!Approved.can_move_to(Rejected));
        assert!(!Released.can_move_to(Claimed));
        for s in AssignmentStatus::ALL {
            assert_eq!(AssignmentStatus::parse(s.as_str()), Some(s));
            // Leaving a slot-holding state for a free one frees exactly one slot.
            if s.is_active() {
                assert!(s.takes_slot());
            }
        }
        assert_eq!(
            AssignmentStatus::sql_list(AssignmentStatus::is_active),
            "('claimed', 'changes_requested')"
        );
    }

    fn facts<'a>(url: Option<&'a str>, entries: &'a [EntryFacts]) -> SubmissionFacts<'a> {
        SubmissionFacts {
            deliverable_url: url,
            deliverable_url_required: true,
            hourly: true,
            min_minutes: 10,
            max_seconds: Some(3600),
            claimed_at: 1_000,
            entries,
        }
    }

    fn entry(start: i64, end: i64, source: &str) -> EntryFacts {
        EntryFacts {
            started_at: start,
            ended_at: end,
            source: source.into(),
        }
    }

    #[test]
    fn hard_checks_send_work_back() {
        let good = [entry(2_000, 3_000, "timer")];
        assert_eq!(
            verify(&facts(Some("https://docs.example/x"), &good)),
            Verdict::default()
        );
        let v = verify(&facts(None, &good));
        assert_eq!(v.hard[0].code, "deliverable_missing");
        let v = verify(&facts(Some("http://x.co/a"), &good));
        assert_eq!(v.hard[0].code, "deliverable_not_https");
        let v = verify(&facts(
            Some("https://x.co"),
            &[entry(2_000, 2_100, "timer")],
        ));
        assert_eq!(v.hard[0].code, "too_little_time");
        let v = verify(&facts(
            Some("https://x.co"),
            &[entry(2_000, 6_000, "timer")],
        ));
        assert_eq!(v.hard[0].code, "over_cap");
    }

    #[test]
    fn soft_findings_are_for_the_reviewer() {
        let entries = [entry(500, 1_500, "manual"), entry(1_600, 2_000, "offline")];
        let v = verify(&facts(Some("https://x.co"), &entries));
        assert!(v.hard.is_empty());
        let codes: Vec<_> = v.soft.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(
            codes,
            ["time_before_claim", "manual_entries", "offline_entries"]
        );
    }

    #[test]
    fn https_urls() {
        assert!(is_https_url("https://docs.google.com/spreadsheets/d/1"));
        assert!(!is_https_url("https://"));
        assert!(!is_https_url("https:// x"));
        assert!(!is_https_url("javascript:alert(1)"));
    }
}
