//! A company's review of submitted work, pure: what may be reviewed, and what a decision —
//! approve (perhaps fewer hours), reject, ask for changes — records: the seconds approved
//! ([`approved_seconds`]), the reason the worker reads, the new status and claim time.
//!
//! The refusals' `Display` is the API's English `detail`, except the approval's own
//! ([`ApprovalRefusal`]), whose Spanish the API has always answered with.

use crate::fair_work::{self, FairRefusal, ReasonCode, SendBackKind};
use crate::marketplace::{
    ApprovalRefusal, AssignmentStatus, PricingKind, TextRefusal, approved_seconds, free_text,
};

/// Longest review reason, in characters.
pub const MAX_REASON_CHARS: usize = 2000;

/// What the reviewer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
    RequestChanges,
}

/// A review as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewAsk<'a> {
    pub decision: Decision,
    pub reason: Option<&'a str>,
    pub approved_seconds: Option<i64>,
    /// Why work is sent back: required to reject or request changes.
    pub reason_code: Option<ReasonCode>,
    /// The rubric's criteria not met, as indexes into the task's rubric.
    pub criteria_not_met: &'a [i64],
}

/// What a review is judged against: the task's terms and the assignment so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms<'a> {
    pub pricing: PricingKind,
    /// Seconds logged when submitted.
    pub logged: i64,
    /// The task allows a rework round (most do): the first send-back is one.
    pub allows_changes: bool,
    /// Rework rounds a reviewer already asked for on this assignment.
    pub rework_rounds: u32,
    pub rubric: &'a [String],
}

/// What a valid review records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Approve `seconds`; a reason is there when fewer than logged were approved, or given.
    Approve {
        seconds: i64,
        reason: Option<String>,
    },
    /// Rejected, or sent back for changes.
    SendBack(SendBack),
}

/// Work rejected or sent back for changes, with the reason the worker reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendBack {
    pub to: AssignmentStatus,
    /// The history's action and the notification's decision.
    pub action: &'static str,
    pub reason: String,
    pub code: ReasonCode,
    /// The texts of the rubric's criteria not met, in the rubric's order.
    pub criteria: Vec<String>,
}

impl SendBack {
    fn new(reject: bool, reason: String, code: ReasonCode, criteria: Vec<String>) -> SendBack {
        let (to, action) = if reject {
            (AssignmentStatus::Rejected, "rejected")
        } else {
            (AssignmentStatus::ChangesRequested, "changes_requested")
        };
        SendBack {
            to,
            action,
            reason,
            code,
            criteria,
        }
    }

    /// The same rejection held for the platform's review (a mass rejection, issue 21 §3):
    /// the assignment ends as rejected, but the rejection counts against the worker only if
    /// the platform upholds it, and it may overturn it.
    pub fn held(self) -> SendBack {
        SendBack {
            action: "rejection_held",
            ..self
        }
    }

    /// When the claim lapses after the decision: changes get a fresh claim period to make
    /// them; a rejection leaves it as it was.
    pub fn expires_at(&self, expires_at: i64, now: i64, claim_minutes: i64) -> i64 {
        if self.ends() {
            expires_at
        } else {
            now + claim_minutes * 60
        }
    }

    /// A rejection ends the assignment (a held one too, unless the platform overturns it).
    pub fn ends(&self) -> bool {
        self.to == AssignmentStatus::Rejected
    }
}

/// Why a review was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefusal {
    #[error("The submission is still being checked automatically; review it in a moment.")]
    VerificationPending,
    #[error("An assignment that is {} cannot be reviewed.", .0.as_str())]
    NotReviewable(AssignmentStatus),
    #[error("{0}")]
    Seconds(ApprovalRefusal),
    #[error("{0}")]
    Reason(TextRefusal),
    /// `why` completes "is required …" (`to reject work`).
    #[error("is required {0}")]
    ReasonRequired(&'static str),
    #[error("is only for approvals")]
    SecondsOnlyForApprovals,
    #[error("is only for rejecting work or requesting changes")]
    OnlyForSendBacks(&'static str),
    #[error("{0}")]
    Fair(FairRefusal),
    /// The `n`-th criterion named is not one of the rubric's (or is named twice).
    #[error("must be indexes of the task's rubric criteria, each once (item {0} is not)")]
    Criterion(usize),
}

impl ReviewRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            ReviewRefusal::VerificationPending => "verification_pending",
            ReviewRefusal::NotReviewable(_) => "not_reviewable",
            ReviewRefusal::Seconds(r) => r.code(),
            ReviewRefusal::Fair(f) => f.code(),
            ReviewRefusal::Reason(_)
            | ReviewRefusal::ReasonRequired(_)
            | ReviewRefusal::SecondsOnlyForApprovals
            | ReviewRefusal::OnlyForSendBacks(_)
            | ReviewRefusal::Criterion(_) => "validation_failed",
        }
    }

    pub fn field(&self) -> Option<&'static str> {
        match self {
            ReviewRefusal::VerificationPending | ReviewRefusal::NotReviewable(_) => None,
            ReviewRefusal::Seconds(_) | ReviewRefusal::SecondsOnlyForApprovals => {
                Some("approved_seconds")
            }
            ReviewRefusal::Reason(_) | ReviewRefusal::ReasonRequired(_) => Some("reason"),
            ReviewRefusal::OnlyForSendBacks(field) => Some(field),
            ReviewRefusal::Fair(f) => Some(f.field()),
            ReviewRefusal::Criterion(_) => Some("criteria_not_met"),
        }
    }

    /// A clash with the assignment's state (409), rather than a bad request (422).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            ReviewRefusal::VerificationPending | ReviewRefusal::NotReviewable(_)
        )
    }
}

/// Only verified work is reviewed; work still being verified is asked for again shortly.
pub fn reviewable(status: AssignmentStatus) -> Result<(), ReviewRefusal> {
    match status {
        AssignmentStatus::Verified => Ok(()),
        AssignmentStatus::Submitted => Err(ReviewRefusal::VerificationPending),
        other => Err(ReviewRefusal::NotReviewable(other)),
    }
}

fn optional_reason(reason: Option<&str>) -> Result<Option<String>, ReviewRefusal> {
    free_text(reason, MAX_REASON_CHARS).map_err(ReviewRefusal::Reason)
}

fn required_reason(reason: Option<&str>, why: &'static str) -> Result<String, ReviewRefusal> {
    optional_reason(reason)?.ok_or(ReviewRefusal::ReasonRequired(why))
}

/// What a review records, judged against the task's `terms`. A reason is required to reject,
/// to ask for changes and to approve fewer seconds than logged: the worker reads it. Sending
/// work back also takes a reason code, may name the rubric's criteria not met, and on a task
/// that allows changes the first send-back is a rework round (issue 21 §1).
pub fn decide(terms: &Terms<'_>, ask: &ReviewAsk<'_>) -> Result<Outcome, ReviewRefusal> {
    match ask.decision {
        Decision::Approve => {
            if ask.reason_code.is_some() {
                return Err(ReviewRefusal::OnlyForSendBacks("reason_code"));
            }
            if !ask.criteria_not_met.is_empty() {
                return Err(ReviewRefusal::OnlyForSendBacks("criteria_not_met"));
            }
            let seconds = approved_seconds(terms.pricing, terms.logged, ask.approved_seconds)
                .map_err(ReviewRefusal::Seconds)?;
            let reason = if seconds < terms.logged {
                Some(required_reason(
                    ask.reason,
                    "to approve fewer seconds than logged",
                )?)
            } else {
                optional_reason(ask.reason)?
            };
            Ok(Outcome::Approve { seconds, reason })
        }
        Decision::Reject | Decision::RequestChanges => {
            let reject = ask.decision == Decision::Reject;
            let (why, kind) = if reject {
                ("to reject work", SendBackKind::Reject)
            } else {
                ("to request changes", SendBackKind::RequestChanges)
            };
            let reason = required_reason(ask.reason, why)?;
            let code = ask
                .reason_code
                .ok_or(ReviewRefusal::Fair(FairRefusal::ReasonCodeRequired))?;
            if ask.approved_seconds.is_some() {
                return Err(ReviewRefusal::SecondsOnlyForApprovals);
            }
            let code = fair_work::check_send_back(
                kind,
                Some(code),
                Some(&reason),
                terms.allows_changes,
                terms.rework_rounds,
            )
            .map_err(ReviewRefusal::Fair)?;
            let criteria = fair_work::criteria_not_met(terms.rubric, ask.criteria_not_met)
                .map_err(ReviewRefusal::Criterion)?;
            Ok(Outcome::SendBack(SendBack::new(
                reject, reason, code, criteria,
            )))
        }
    }
}

/// The worker as a company's reviewer sees them: the first word of the name and the initial
/// of the last word, with a full stop ("Luz Marina Rodríguez Pérez" → "Luz P."); a one-word
/// name as it is. Nothing else about the worker (document, phone, e-mail, place) ever
/// reaches the company (issue 17 §3): this is enough to tell two submissions apart and to
/// address the worker politely, and it cannot be looked up.
pub fn display_name(full_name: &str) -> String {
    let mut words = full_name.split_whitespace();
    let Some(first) = words.next() else {
        return String::new();
    };
    match words.last().and_then(|w| w.chars().next()) {
        Some(initial) => format!("{first} {}.", initial.to_uppercase()),
        None => first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ask(decision: Decision, reason: Option<&str>, seconds: Option<i64>) -> ReviewAsk<'_> {
        ReviewAsk {
            decision,
            reason,
            approved_seconds: seconds,
            reason_code: (decision != Decision::Approve).then_some(ReasonCode::Incomplete),
            criteria_not_met: &[],
        }
    }

    /// A task without a rework round or rubric, as every review was before issue 21.
    fn d(pricing: PricingKind, logged: i64, a: &ReviewAsk<'_>) -> Result<Outcome, ReviewRefusal> {
        let terms = Terms {
            pricing,
            logged,
            allows_changes: false,
            rework_rounds: 0,
            rubric: &[],
        };
        decide(&terms, a)
    }

    #[test]
    fn sending_back_takes_a_code_a_round_first_and_criteria_of_the_rubric() {
        let rubric = vec![
            "Fechas en AAAA-MM-DD".to_string(),
            "Sin filas vacías".to_string(),
        ];
        let terms = Terms {
            pricing: PricingKind::Hourly,
            logged: 600,
            allows_changes: true,
            rework_rounds: 0,
            rubric: &rubric,
        };
        let mut a = ask(Decision::Reject, Some("Faltan fechas"), None);
        a.reason_code = None;
        let e = decide(&terms, &a).unwrap_err();
        assert_eq!(
            (e.code(), e.field()),
            ("validation_failed", Some("reason_code"))
        );
        a.reason_code = Some(ReasonCode::Incomplete);
        let e = decide(&terms, &a).unwrap_err();
        assert_eq!((e.code(), e.field()), ("rework_first", Some("decision")));
        a.reason_code = Some(ReasonCode::NotOriginal);
        assert!(
            decide(&terms, &a).is_ok(),
            "copied work may be rejected at once"
        );
        let mut changes = ask(Decision::RequestChanges, Some("Faltan fechas"), None);
        changes.criteria_not_met = &[1, 0];
        let Ok(Outcome::SendBack(back)) = decide(&terms, &changes) else {
            panic!("a rework round");
        };
        assert_eq!(back.criteria, rubric);
        assert_eq!(back.code, ReasonCode::Incomplete);
        changes.criteria_not_met = &[2];
        assert_eq!(
            decide(&terms, &changes).unwrap_err().field(),
            Some("criteria_not_met")
        );
        let after = Terms {
            rework_rounds: 1,
            ..terms
        };
        a.reason_code = Some(ReasonCode::Incomplete);
        let Ok(Outcome::SendBack(no)) = decide(&after, &a) else {
            panic!("after a round, a rejection");
        };
        assert!(no.ends());
        let held = no.held();
        assert_eq!(
            (held.to, held.action, held.ends()),
            (AssignmentStatus::Rejected, "rejection_held", true)
        );
        let mut approve = ask(Decision::Approve, None, None);
        approve.reason_code = Some(ReasonCode::Other);
        assert_eq!(
            decide(&terms, &approve).unwrap_err().field(),
            Some("reason_code")
        );
    }

    #[test]
    fn only_verified_work_is_reviewed() {
        use AssignmentStatus::*;
        assert_eq!(reviewable(Verified), Ok(()));
        let e = reviewable(Submitted).unwrap_err();
        assert_eq!((e.code(), e.is_conflict()), ("verification_pending", true));
        let e = reviewable(Approved).unwrap_err();
        assert_eq!(
            (e.code(), e.to_string()),
            (
                "not_reviewable",
                "An assignment that is approved cannot be reviewed.".into()
            )
        );
    }

    #[test]
    fn approvals_record_the_seconds_and_a_reason_for_fewer() {
        use Decision::*;
        use PricingKind::*;
        assert_eq!(
            d(Hourly, 7200, &ask(Approve, None, None)),
            Ok(Outcome::Approve {
                seconds: 7200,
                reason: None
            })
        );
        let e = d(Hourly, 7200, &ask(Approve, None, Some(3600))).unwrap_err();
        assert_eq!(
            (e.code(), e.field(), e.to_string()),
            (
                "validation_failed",
                Some("reason"),
                "is required to approve fewer seconds than logged".into()
            )
        );
        assert_eq!(
            d(Hourly, 7200, &ask(Approve, Some(" Menos "), Some(3600))),
            Ok(Outcome::Approve {
                seconds: 3600,
                reason: Some("Menos".into())
            })
        );
        let e = d(Hourly, 7200, &ask(Approve, None, Some(0))).unwrap_err();
        assert_eq!(
            (e.code(), e.field(), e.is_conflict()),
            ("zero_approval", Some("approved_seconds"), false)
        );
        let e = d(Fixed, 5400, &ask(Approve, None, Some(60))).unwrap_err();
        assert_eq!(e.code(), "fixed_price_seconds");
        let e = d(Hourly, 7200, &ask(Approve, Some("a\u{0}"), None)).unwrap_err();
        assert_eq!((e.code(), e.field()), ("validation_failed", Some("reason")));
    }

    #[test]
    fn sending_work_back_needs_a_reason_and_no_seconds() {
        use Decision::*;
        use PricingKind::*;
        let e = d(Hourly, 60, &ask(Reject, Some("  "), Some(60))).unwrap_err();
        assert_eq!(e, ReviewRefusal::ReasonRequired("to reject work"));
        let e = d(Fixed, 60, &ask(RequestChanges, Some("x"), Some(60))).unwrap_err();
        assert_eq!(
            (e.code(), e.field(), e.to_string()),
            (
                "validation_failed",
                Some("approved_seconds"),
                "is only for approvals".into()
            )
        );
        let Ok(Outcome::SendBack(back)) = d(Hourly, 60, &ask(RequestChanges, Some("Falta"), None))
        else {
            panic!("changes are a send-back");
        };
        assert_eq!(
            (back.to, back.action, back.reason.as_str()),
            (
                AssignmentStatus::ChangesRequested,
                "changes_requested",
                "Falta"
            )
        );
        assert_eq!(back.expires_at(500, 1_000, 10), 1_600);
        assert!(!back.ends());
        let Ok(Outcome::SendBack(no)) = d(Hourly, 60, &ask(Reject, Some("No"), None)) else {
            panic!("a rejection is a send-back");
        };
        assert_eq!((no.to, no.action), (AssignmentStatus::Rejected, "rejected"));
        assert_eq!(no.expires_at(500, 1_000, 10), 500);
        assert!(no.ends());
    }

    #[test]
    fn a_reviewer_sees_a_first_name_and_an_initial() {
        assert_eq!(display_name("Luz Teletrabajadora"), "Luz T.");
        assert_eq!(display_name("  luz  marina rodríguez   pérez "), "luz P.");
        assert_eq!(display_name("Ñusta Álvarez"), "Ñusta Á.");
        assert_eq!(display_name("Yuli"), "Yuli");
        assert_eq!(display_name("   "), "");
    }

    fn any_decision() -> impl Strategy<Value = Decision> {
        prop_oneof![
            Just(Decision::Approve),
            Just(Decision::Reject),
            Just(Decision::RequestChanges)
        ]
    }

    proptest! {
        #[test]
        fn a_review_never_records_more_than_logged_nor_less_without_a_reason(
            hourly in any::<bool>(), logged in 0i64..100_000,
            asked in proptest::option::of(-10i64..100_010),
            reason in proptest::option::of("[a-z ]{0,5}"), decision in any_decision(),
        ) {
            let pricing = if hourly { PricingKind::Hourly } else { PricingKind::Fixed };
            let a = ask(decision, reason.as_deref(), asked);
            let has_reason = reason.as_deref().is_some_and(|r| !r.trim().is_empty());
            match d(pricing, logged, &a) {
                Ok(Outcome::Approve { seconds, reason }) => {
                    prop_assert_eq!(decision, Decision::Approve);
                    prop_assert!(seconds <= logged.max(0));
                    if hourly {
                        prop_assert!(seconds >= 1);
                    } else {
                        prop_assert_eq!(seconds, logged);
                    }
                    prop_assert!(seconds == logged || reason.is_some());
                }
                Ok(Outcome::SendBack(back)) => {
                    prop_assert!(decision != Decision::Approve);
                    prop_assert!(has_reason && asked.is_none());
                    prop_assert_eq!(back.ends(), decision == Decision::Reject);
                }
                Err(e) => {
                    // Every refusal names a field or is about the state, never neither.
                    prop_assert!(e.field().is_some() || e.is_conflict());
                }
            }
        }
    }
}
