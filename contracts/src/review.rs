//! A company's review of submitted work, pure: what may be reviewed, and what a decision —
//! approve (perhaps fewer hours), reject, ask for changes — records: the seconds approved
//! ([`approved_seconds`]), the reason the worker reads, the new status and claim time.
//!
//! The refusals' `Display` is the API's English `detail`, except the approval's own
//! ([`ApprovalRefusal`]), whose Spanish the API has always answered with.

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
}

impl SendBack {
    fn new(reject: bool, reason: String) -> SendBack {
        let (to, action) = if reject {
            (AssignmentStatus::Rejected, "rejected")
        } else {
            (AssignmentStatus::ChangesRequested, "changes_requested")
        };
        SendBack { to, action, reason }
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

    /// A rejection ends the assignment.
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
}

impl ReviewRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            ReviewRefusal::VerificationPending => "verification_pending",
            ReviewRefusal::NotReviewable(_) => "not_reviewable",
            ReviewRefusal::Seconds(r) => r.code(),
            ReviewRefusal::Reason(_)
            | ReviewRefusal::ReasonRequired(_)
            | ReviewRefusal::SecondsOnlyForApprovals => "validation_failed",
        }
    }

    pub fn field(&self) -> Option<&'static str> {
        match self {
            ReviewRefusal::VerificationPending | ReviewRefusal::NotReviewable(_) => None,
            ReviewRefusal::Seconds(_) | ReviewRefusal::SecondsOnlyForApprovals => {
                Some("approved_seconds")
            }
            ReviewRefusal::Reason(_) | ReviewRefusal::ReasonRequired(_) => Some("reason"),
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

/// What a review of work with `logged` seconds on a task paid by `pricing` records. A reason
/// is required to reject, to ask for changes and to approve fewer seconds than logged: the
/// worker reads it.
pub fn decide(
    pricing: PricingKind,
    logged: i64,
    ask: &ReviewAsk<'_>,
) -> Result<Outcome, ReviewRefusal> {
    match ask.decision {
        Decision::Approve => {
            let seconds = approved_seconds(pricing, logged, ask.approved_seconds)
                .map_err(ReviewRefusal::Seconds)?;
            let reason = if seconds < logged {
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
            let why = if reject {
                "to reject work"
            } else {
                "to request changes"
            };
            let reason = required_reason(ask.reason, why)?;
            if ask.approved_seconds.is_some() {
                return Err(ReviewRefusal::SecondsOnlyForApprovals);
            }
            Ok(Outcome::SendBack(SendBack::new(reject, reason)))
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
        }
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
            decide(Hourly, 7200, &ask(Approve, None, None)),
            Ok(Outcome::Approve {
                seconds: 7200,
                reason: None
            })
        );
        let e = decide(Hourly, 7200, &ask(Approve, None, Some(3600))).unwrap_err();
        assert_eq!(
            (e.code(), e.field(), e.to_string()),
            (
                "validation_failed",
                Some("reason"),
                "is required to approve fewer seconds than logged".into()
            )
        );
        assert_eq!(
            decide(Hourly, 7200, &ask(Approve, Some(" Menos "), Some(3600))),
            Ok(Outcome::Approve {
                seconds: 3600,
                reason: Some("Menos".into())
            })
        );
        let e = decide(Hourly, 7200, &ask(Approve, None, Some(0))).unwrap_err();
        assert_eq!(
            (e.code(), e.field(), e.is_conflict()),
            ("zero_approval", Some("approved_seconds"), false)
        );
        let e = decide(Fixed, 5400, &ask(Approve, None, Some(60))).unwrap_err();
        assert_eq!(e.code(), "fixed_price_seconds");
        let e = decide(Hourly, 7200, &ask(Approve, Some("a\u{0}"), None)).unwrap_err();
        assert_eq!((e.code(), e.field()), ("validation_failed", Some("reason")));
    }

    #[test]
    fn sending_work_back_needs_a_reason_and_no_seconds() {
        use Decision::*;
        use PricingKind::*;
        let e = decide(Hourly, 60, &ask(Reject, Some("  "), Some(60))).unwrap_err();
        assert_eq!(e, ReviewRefusal::ReasonRequired("to reject work"));
        let e = decide(Fixed, 60, &ask(RequestChanges, Some("x"), Some(60))).unwrap_err();
        assert_eq!(
            (e.code(), e.field(), e.to_string()),
            (
                "validation_failed",
                Some("approved_seconds"),
                "is only for approvals".into()
            )
        );
        let Ok(Outcome::SendBack(back)) =
            decide(Hourly, 60, &ask(RequestChanges, Some("Falta"), None))
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
        let Ok(Outcome::SendBack(no)) = decide(Hourly, 60, &ask(Reject, Some("No"), None)) else {
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
            match decide(pricing, logged, &a) {
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
