//! Fair work (issue 21), pure: reasons that mean something, one rework round before any
//! rejection, mass rejections held for the platform, and the record companies see.
//!
//! What workers on every large platform complain about most is rejections without a real
//! reason, no second chance, and mass rejections that ruin a record. These rules are what the
//! review handler and the appeals will ask; they hold no state of their own.

/// Why work is rejected or sent back: a short list a worker can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    InstructionsNotFollowed,
    Incomplete,
    WrongOutput,
    NotOriginal,
    DeliverableUnreachable,
    Other,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 6] = [
        ReasonCode::InstructionsNotFollowed,
        ReasonCode::Incomplete,
        ReasonCode::WrongOutput,
        ReasonCode::NotOriginal,
        ReasonCode::DeliverableUnreachable,
        ReasonCode::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::InstructionsNotFollowed => "instructions_not_followed",
            ReasonCode::Incomplete => "incomplete",
            ReasonCode::WrongOutput => "wrong_output",
            ReasonCode::NotOriginal => "not_original",
            ReasonCode::DeliverableUnreachable => "deliverable_unreachable",
            ReasonCode::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<ReasonCode> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// What the worker reads, in Spanish.
    pub fn label_es(self) -> &'static str {
        match self {
            ReasonCode::InstructionsNotFollowed => "No siguió las instrucciones",
            ReasonCode::Incomplete => "El trabajo está incompleto",
            ReasonCode::WrongOutput => "El resultado no es el pedido",
            ReasonCode::NotOriginal => "El trabajo no es original",
            ReasonCode::DeliverableUnreachable => "No se pudo abrir la entrega",
            ReasonCode::Other => "Otro motivo",
        }
    }
}

/// A decision that sends work back, as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendBackKind {
    Reject,
    RequestChanges,
}

/// Why a send-back is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FairRefusal {
    /// A rejection or a request for changes names one of [`ReasonCode`].
    #[error(
        "is required: one of instructions_not_followed, incomplete, wrong_output, not_original, deliverable_unreachable, other"
    )]
    ReasonCodeRequired,
    /// A reason code and the reviewer's own words, both.
    #[error("is required: say in your own words what is wrong")]
    ReasonTextRequired,
    /// On a task that allows changes, the first decision against a submission is a rework
    /// round, unless the work is not original.
    #[error(
        "the first decision on this submission must request changes: the worker gets one rework round"
    )]
    ReworkFirst,
}

impl FairRefusal {
    /// The stable machine code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            FairRefusal::ReasonCodeRequired | FairRefusal::ReasonTextRequired => {
                "validation_failed"
            }
            FairRefusal::ReworkFirst => "rework_first",
        }
    }

    pub fn field(&self) -> &'static str {
        match self {
            FairRefusal::ReasonCodeRequired => "reason_code",
            FairRefusal::ReasonTextRequired => "reason",
            FairRefusal::ReworkFirst => "decision",
        }
    }
}

/// Check a send-back: a reason code and text, and on a task that allows changes a rework
/// round before any rejection (`rounds` is how many times this submission's assignment was
/// already sent back for changes). Not original work may be rejected at once.
pub fn check_send_back(
    kind: SendBackKind,
    code: Option<ReasonCode>,
    text: Option<&str>,
    allows_changes: bool,
    rounds: u32,
) -> Result<ReasonCode, FairRefusal> {
    let code = code.ok_or(FairRefusal::ReasonCodeRequired)?;
    if text.is_none_or(|t| t.trim().is_empty()) {
        return Err(FairRefusal::ReasonTextRequired);
    }
    if kind == SendBackKind::Reject
        && allows_changes
        && rounds == 0
        && code != ReasonCode::NotOriginal
    {
        return Err(FairRefusal::ReworkFirst);
    }
    Ok(code)
}

/// A decided submission as it counts for fairness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    Approved,
    ChangesRequested,
    /// Rejected, and the rejection stands (not appealed, or upheld).
    Rejected,
    /// Rejected, then overturned by the platform: never counts against the worker.
    Overturned,
    /// A rejection held for the platform's review: counts for nobody until decided.
    Held,
}

/// The fewest decided submissions (the new rejection included) at which a company's batch or
/// day is watched for mass rejections.
pub const MASS_MIN_DECIDED: usize = 5;

/// Whether one more rejection from a company, on a batch or a day whose decisions so far are
/// `decided`, is held for the platform's review instead of taking effect: when, counting it,
/// more than 30 % of at least five decided submissions would be rejections.
pub fn hold_rejection(decided: &[Decided]) -> bool {
    let counted: Vec<&Decided> = decided
        .iter()
        .filter(|d| !matches!(d, Decided::Overturned))
        .collect();
    let total = counted.len() + 1;
    let rejected = counted
        .iter()
        .filter(|d| matches!(d, Decided::Rejected | Decided::Held))
        .count()
        + 1;
    // rejected / total > 30 %, in integers.
    total >= MASS_MIN_DECIDED && rejected * 10 > total * 3
}

/// How many decided submissions the record companies see covers.
pub const RECORD_SIZE: usize = 25;

/// The record companies see of a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Record {
    pub approved: u32,
    pub changes_requested: u32,
    pub rejected: u32,
}

impl Record {
    pub fn decided(&self) -> u32 {
        self.approved + self.changes_requested + self.rejected
    }

    /// Whether the record meets a task's minimum share of approvals, in percent (a worker
    /// with no record yet meets any minimum: everyone starts somewhere).
    pub fn meets(&self, min_approved_percent: u32) -> bool {
        self.decided() == 0 || self.approved * 100 >= min_approved_percent * self.decided()
    }

    /// The share approved, in whole percent rounded down (100 with no record yet).
    pub fn approved_percent(&self) -> u32 {
        (self.approved * 100)
            .checked_div(self.decided())
            .unwrap_or(100)
    }
}

/// The worker's record from her decisions, newest first: the last [`RECORD_SIZE`] that count
/// (approved, changes requested, rejections that stand), never an overturned or held one.
pub fn record(newest_first: &[Decided]) -> Record {
    let mut r = Record::default();
    for d in newest_first
        .iter()
        .filter(|d| !matches!(d, Decided::Overturned | Decided::Held))
        .take(RECORD_SIZE)
    {
        match d {
            Decided::Approved => r.approved += 1,
            Decided::ChangesRequested => r.changes_requested += 1,
            Decided::Rejected => r.rejected += 1,
            Decided::Overturned | Decided::Held => {}
        }
    }
    r
}

/// How one decision in an assignment's history counts for fairness: `action` as recorded,
/// whether a person made it (verification's own send-backs are not a company's decision),
/// and the platform review of the assignment if any. `None`: not a decision that counts.
pub fn decided_from(
    action: &str,
    by_person: bool,
    review: Option<(AppealKind, AppealStatus)>,
) -> Option<Decided> {
    match action {
        "approved" | "auto_approved" => Some(Decided::Approved),
        "changes_requested" if by_person => Some(Decided::ChangesRequested),
        "rejected" | "rejection_held" => Some(match review {
            Some((_, AppealStatus::Overturned)) => Decided::Overturned,
            Some((AppealKind::Held, AppealStatus::Open)) => Decided::Held,
            _ => Decided::Rejected,
        }),
        _ => None,
    }
}

/// Business days a worker has to appeal a decision, counted from the decision.
pub const APPEAL_WINDOW_BUSINESS_DAYS: u32 = 15;
/// Business days the platform has to decide an appeal or a held rejection.
pub const DECISION_BUSINESS_DAYS: u32 = 5;
/// Longest appeal reason or written decision, in characters.
pub const MAX_APPEAL_CHARS: usize = 4000;
/// Most criteria a task's rubric may hold, and the longest criterion.
pub const MAX_RUBRIC_CRITERIA: usize = 12;
pub const MAX_CRITERION_CHARS: usize = 300;

/// What the platform is asked to look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealKind {
    /// The worker appeals a rejection.
    Rejection,
    /// The worker appeals an approval for fewer seconds than logged.
    Cut,
    /// A rejection held as part of a mass rejection (no one appealed: the platform looks).
    Held,
}

impl AppealKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AppealKind::Rejection => "rejection",
            AppealKind::Cut => "cut",
            AppealKind::Held => "held",
        }
    }

    pub fn parse(s: &str) -> Option<AppealKind> {
        [AppealKind::Rejection, AppealKind::Cut, AppealKind::Held]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    pub fn label_es(self) -> &'static str {
        match self {
            AppealKind::Rejection => "apelación de un rechazo",
            AppealKind::Cut => "apelación de horas recortadas",
            AppealKind::Held => "rechazo retenido por rechazo masivo",
        }
    }

    /// With its article, to start a sentence's object: "la apelación de un rechazo".
    pub fn the_es(self) -> &'static str {
        match self {
            AppealKind::Rejection => "la apelación de un rechazo",
            AppealKind::Cut => "la apelación de horas recortadas",
            AppealKind::Held => "el rechazo retenido por rechazo masivo",
        }
    }
}

/// What an appeal came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealStatus {
    Open,
    Upheld,
    Overturned,
}

impl AppealStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AppealStatus::Open => "open",
            AppealStatus::Upheld => "upheld",
            AppealStatus::Overturned => "overturned",
        }
    }

    pub fn parse(s: &str) -> Option<AppealStatus> {
        [
            AppealStatus::Open,
            AppealStatus::Upheld,
            AppealStatus::Overturned,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// An assignment as an appeal is judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppealFacts {
    pub status: crate::marketplace::AssignmentStatus,
    pub pricing: crate::marketplace::PricingKind,
    pub logged_seconds: i64,
    pub approved_seconds: Option<i64>,
    /// When the decision appealed was made (reviewed_at).
    pub decided_at: Option<i64>,
    /// Whether the assignment already has an appeal (one per assignment).
    pub appealed: bool,
}

/// Why an appeal is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppealRefusal {
    #[error("Only a rejection or an approval for fewer hours than logged can be appealed.")]
    NotAppealable,
    #[error("This decision was already appealed; the platform's decision is final.")]
    AlreadyAppealed,
    #[error("The time to appeal (15 business days from the decision) is over.")]
    TooLate,
    #[error("is required: tell the platform why the decision is unfair")]
    ReasonRequired,
}

impl AppealRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            AppealRefusal::NotAppealable => "not_appealable",
            AppealRefusal::AlreadyAppealed => "already_appealed",
            AppealRefusal::TooLate => "appeal_too_late",
            AppealRefusal::ReasonRequired => "validation_failed",
        }
    }

    pub fn field(&self) -> Option<&'static str> {
        match self {
            AppealRefusal::ReasonRequired => Some("reason"),
            _ => None,
        }
    }

    pub fn is_conflict(&self) -> bool {
        !matches!(self, AppealRefusal::ReasonRequired)
    }
}

/// Until when the decision on an assignment can be appealed, if it can be at all: a
/// rejection that stands, or an hourly approval for fewer seconds than logged, within
/// [`APPEAL_WINDOW_BUSINESS_DAYS`] business days of the decision.
pub fn appealable_until(f: &AppealFacts) -> Option<(AppealKind, i64)> {
    use crate::marketplace::AssignmentStatus;
    let kind = match f.status {
        AssignmentStatus::Rejected => AppealKind::Rejection,
        AssignmentStatus::Approved if f.approved_seconds.is_some_and(|a| a < f.logged_seconds) => {
            AppealKind::Cut
        }
        _ => return None,
    };
    let decided = f.decided_at?;
    Some((
        kind,
        crate::business_days::deadline(decided, APPEAL_WINDOW_BUSINESS_DAYS),
    ))
}

/// Check a worker's appeal at `now`; the kind it is, or why not.
pub fn check_appeal(
    f: &AppealFacts,
    reason: Option<&str>,
    now: i64,
) -> Result<AppealKind, AppealRefusal> {
    if f.appealed {
        return Err(AppealRefusal::AlreadyAppealed);
    }
    let (kind, until) = appealable_until(f).ok_or(AppealRefusal::NotAppealable)?;
    if now > until {
        return Err(AppealRefusal::TooLate);
    }
    if reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(AppealRefusal::ReasonRequired);
    }
    Ok(kind)
}

/// The platform's decision as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Uphold,
    Overturn,
}

/// Why a platform decision is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerdictRefusal {
    #[error("This appeal was already decided.")]
    AlreadyDecided,
    #[error("is required: the worker and the company read the platform's reasons")]
    DecisionRequired,
    #[error("is only for overturning an hourly task's decision")]
    SecondsNotHere,
    #[error("must be from {min} to {max} seconds (the seconds logged)")]
    SecondsOutOfRange { min: i64, max: i64 },
}

impl VerdictRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            VerdictRefusal::AlreadyDecided => "already_decided",
            _ => "validation_failed",
        }
    }

    pub fn field(&self) -> Option<&'static str> {
        match self {
            VerdictRefusal::AlreadyDecided => None,
            VerdictRefusal::DecisionRequired => Some("decision"),
            VerdictRefusal::SecondsNotHere | VerdictRefusal::SecondsOutOfRange { .. } => {
                Some("paid_seconds")
            }
        }
    }
}

/// Check the platform's decision on an open appeal of `kind`: a written decision always;
/// overturning pays `paid_seconds` of an hourly task (the seconds logged when left out; a
/// cut's overturn pays more than was approved), a fixed-price task its price. Returns the
/// seconds to approve when overturned.
pub fn check_verdict(
    kind: AppealKind,
    f: &AppealFacts,
    open: bool,
    verdict: Verdict,
    decision: Option<&str>,
    paid_seconds: Option<i64>,
) -> Result<Option<i64>, VerdictRefusal> {
    use crate::marketplace::PricingKind;
    if !open {
        return Err(VerdictRefusal::AlreadyDecided);
    }
    if decision.is_none_or(|d| d.trim().is_empty()) {
        return Err(VerdictRefusal::DecisionRequired);
    }
    match verdict {
        Verdict::Uphold if paid_seconds.is_some() => Err(VerdictRefusal::SecondsNotHere),
        Verdict::Uphold => Ok(None),
        Verdict::Overturn => match f.pricing {
            PricingKind::Fixed if paid_seconds.is_some() => Err(VerdictRefusal::SecondsNotHere),
            PricingKind::Fixed => Ok(Some(f.logged_seconds)),
            PricingKind::Hourly => {
                let min = match kind {
                    AppealKind::Cut => f.approved_seconds.unwrap_or(0) + 1,
                    AppealKind::Rejection | AppealKind::Held => 1,
                };
                let max = f.logged_seconds;
                let s = paid_seconds.unwrap_or(max);
                if s < min || s > max {
                    return Err(VerdictRefusal::SecondsOutOfRange { min, max });
                }
                Ok(Some(s))
            }
        },
    }
}

/// Check the criteria a decision names as not met: indexes into the task's rubric, each
/// once; their texts, in the rubric's order.
pub fn criteria_not_met(rubric: &[String], named: &[i64]) -> Result<Vec<String>, usize> {
    let mut picked: Vec<usize> = Vec::new();
    for (i, &n) in named.iter().enumerate() {
        match usize::try_from(n) {
            Ok(k) if k < rubric.len() && !picked.contains(&k) => picked.push(k),
            _ => return Err(i),
        }
    }
    picked.sort_unstable();
    Ok(picked.into_iter().map(|k| rubric[k].clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decided::*;
    use proptest::prelude::*;

    #[test]
    fn a_send_back_needs_a_code_and_words_and_the_first_is_a_rework_round() {
        use SendBackKind::*;
        let text = Some("Faltan las columnas de fecha.");
        assert_eq!(
            check_send_back(Reject, None, text, true, 0),
            Err(FairRefusal::ReasonCodeRequired)
        );
        assert_eq!(
            check_send_back(Reject, Some(ReasonCode::Incomplete), Some("  "), true, 1)
                .unwrap_err()
                .field(),
            "reason"
        );
        let first = check_send_back(Reject, Some(ReasonCode::Incomplete), text, true, 0);
        assert_eq!(first.unwrap_err().code(), "rework_first");
        assert_eq!(
            check_send_back(RequestChanges, Some(ReasonCode::Incomplete), text, true, 0),
            Ok(ReasonCode::Incomplete)
        );
        // After a rework round, or on a task without changes, or for copied work: reject.
        assert!(check_send_back(Reject, Some(ReasonCode::Incomplete), text, true, 1).is_ok());
        assert!(check_send_back(Reject, Some(ReasonCode::Incomplete), text, false, 0).is_ok());
        assert!(check_send_back(Reject, Some(ReasonCode::NotOriginal), text, true, 0).is_ok());
        for c in ReasonCode::ALL {
            assert_eq!(ReasonCode::parse(c.as_str()), Some(c));
            assert!(!c.label_es().is_empty());
        }
    }

    /// The example: six rejections in a row from one company are held from the
    /// point the share passes 30 % of at least five.
    #[test]
    fn mass_rejections_are_held() {
        assert!(!hold_rejection(&[]), "one rejection alone is not a mass");
        assert!(!hold_rejection(&[
            Rejected, Approved, Approved, Approved, Approved, Approved, Approved, Approved,
            Approved
        ]));
        let mut decided = Vec::new();
        let mut held = 0;
        for _ in 0..6 {
            if hold_rejection(&decided) {
                held += 1;
                decided.push(Held);
            } else {
                decided.push(Rejected);
            }
        }
        assert_eq!(held, 2, "the fifth and sixth: {decided:?}");
        // Overturned rejections do not count towards the share.
        assert!(!hold_rejection(&[
            Overturned, Overturned, Overturned, Approved, Approved, Approved, Approved
        ]));
    }

    #[test]
    fn the_record_counts_the_last_25_that_stand() {
        let mut history = vec![Overturned, Held];
        history.extend(std::iter::repeat_n(Approved, 24));
        history.push(Rejected);
        history.push(Rejected); // the 26th that counts: outside the record
        let r = record(&history);
        assert_eq!(
            r,
            Record {
                approved: 24,
                changes_requested: 0,
                rejected: 1
            }
        );
        assert!(r.meets(90));
        assert!(!r.meets(97));
        assert!(Record::default().meets(100), "a newcomer meets any minimum");
    }

    #[test]
    fn appeals_have_a_window_and_one_chance() {
        use crate::marketplace::{AssignmentStatus, PricingKind};
        // Decided on Friday 9 January 2026; Monday 12 January is a holiday.
        let decided = chrono::DateTime::parse_from_rfc3339("2026-01-09T15:00:00-05:00")
            .unwrap()
            .timestamp();
        let f = AppealFacts {
            status: AssignmentStatus::Rejected,
            pricing: PricingKind::Hourly,
            logged_seconds: 3600,
            approved_seconds: None,
            decided_at: Some(decided),
            appealed: false,
        };
        let (kind, until) = appealable_until(&f).unwrap();
        assert_eq!(kind, AppealKind::Rejection);
        // 15 business days after 9 Jan, skipping the 12th: Monday 2 February, at its end.
        let end = chrono::DateTime::parse_from_rfc3339("2026-02-02T23:59:59-05:00")
            .unwrap()
            .timestamp();
        assert!(until >= end && until <= end + 1, "{until} vs {end}");
        assert_eq!(check_appeal(&f, Some("Sí seguí la guía"), until), Ok(kind));
        assert_eq!(
            check_appeal(&f, Some("x"), until + 1),
            Err(AppealRefusal::TooLate)
        );
        assert_eq!(
            check_appeal(&f, Some(" "), decided),
            Err(AppealRefusal::ReasonRequired)
        );
        let again = AppealFacts {
            appealed: true,
            ..f
        };
        assert_eq!(
            check_appeal(&again, Some("x"), decided),
            Err(AppealRefusal::AlreadyAppealed)
        );
        let full = AppealFacts {
            status: AssignmentStatus::Approved,
            approved_seconds: Some(3600),
            ..f
        };
        assert_eq!(
            appealable_until(&full),
            None,
            "nothing cut, nothing to appeal"
        );
        let cut = AppealFacts {
            approved_seconds: Some(1800),
            ..full
        };
        assert_eq!(appealable_until(&cut).map(|k| k.0), Some(AppealKind::Cut));
        // Overturning a cut pays more than was approved, at most what was logged.
        let v = |s| {
            check_verdict(
                AppealKind::Cut,
                &cut,
                true,
                Verdict::Overturn,
                Some("Sí"),
                s,
            )
        };
        assert_eq!(v(None), Ok(Some(3600)));
        assert_eq!(
            v(Some(1800)),
            Err(VerdictRefusal::SecondsOutOfRange {
                min: 1801,
                max: 3600
            })
        );
        assert_eq!(
            check_verdict(
                AppealKind::Rejection,
                &f,
                false,
                Verdict::Uphold,
                Some("No"),
                None
            ),
            Err(VerdictRefusal::AlreadyDecided)
        );
        assert_eq!(
            check_verdict(AppealKind::Rejection, &f, true, Verdict::Uphold, None, None)
                .unwrap_err()
                .field(),
            Some("decision")
        );
    }

    #[test]
    fn criteria_are_indexes_into_the_rubric() {
        let rubric = vec!["Fechas".to_string(), "Totales".to_string()];
        assert_eq!(
            criteria_not_met(&rubric, &[1, 0]),
            Ok(vec!["Fechas".to_string(), "Totales".to_string()])
        );
        assert_eq!(criteria_not_met(&rubric, &[0, 0]), Err(1));
        assert_eq!(criteria_not_met(&rubric, &[2]), Err(0));
        assert_eq!(criteria_not_met(&rubric, &[-1]), Err(0));
    }

    #[test]
    fn history_actions_count_as_the_platform_left_them() {
        use AppealKind as K;
        use AppealStatus as S;
        assert_eq!(decided_from("auto_approved", false, None), Some(Approved));
        assert_eq!(
            decided_from("changes_requested", false, None),
            None,
            "verification"
        );
        assert_eq!(
            decided_from("changes_requested", true, None),
            Some(ChangesRequested)
        );
        assert_eq!(
            decided_from("rejected", true, Some((K::Rejection, S::Open))),
            Some(Rejected)
        );
        assert_eq!(
            decided_from("rejected", true, Some((K::Rejection, S::Upheld))),
            Some(Rejected)
        );
        assert_eq!(
            decided_from("rejected", true, Some((K::Rejection, S::Overturned))),
            Some(Overturned)
        );
        assert_eq!(
            decided_from("rejection_held", true, Some((K::Held, S::Open))),
            Some(Held)
        );
        assert_eq!(
            decided_from("rejection_held", true, Some((K::Held, S::Upheld))),
            Some(Rejected)
        );
        assert_eq!(decided_from("appeal_overturned", true, None), None);
    }

    fn decided() -> impl Strategy<Value = Decided> {
        prop_oneof![
            Just(Approved),
            Just(ChangesRequested),
            Just(Rejected),
            Just(Overturned),
            Just(Held),
        ]
    }

    proptest! {
        /// Overturned and held decisions never change a worker's record.
        #[test]
        fn overturned_and_held_never_count(history in proptest::collection::vec(decided(), 0..80)) {
            let standing: Vec<Decided> = history
                .iter()
                .copied()
                .filter(|d| !matches!(d, Overturned | Held))
                .collect();
            prop_assert_eq!(record(&history), record(&standing));
            prop_assert!(record(&history).decided() as usize <= RECORD_SIZE);
        }

        /// A rejection is never held below five decided, and always held above the share.
        #[test]
        fn holding_follows_the_share(history in proptest::collection::vec(decided(), 0..40)) {
            let counted = history.iter().filter(|d| !matches!(d, Overturned)).count() + 1;
            let rejected = history.iter().filter(|d| matches!(d, Rejected | Held)).count() + 1;
            let held = hold_rejection(&history);
            if counted < MASS_MIN_DECIDED {
                prop_assert!(!held);
            } else {
                prop_assert_eq!(held, rejected * 10 > counted * 3);
            }
        }
    }
}
