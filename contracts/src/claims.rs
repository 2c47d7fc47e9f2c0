//! Who may claim a slot, pure: the task is open, the worker holds every required skill, a slot
//! is free and the worker is under the limit of active claims; when the claim lapses; and when
//! the claimed work may still be submitted.
//!
//! The API's claim writes the row with one guarded `INSERT` that checks the same things in SQL
//! (so concurrent claims cannot both win); when it writes nothing, [`why_refused`] says why,
//! from the counts read back. The refusals' `Display` is the API's English `detail`.

use crate::marketplace::{AssignmentStatus, TaskStatus};

/// What a claim is judged on, read inside the claim's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimFacts {
    pub status: TaskStatus,
    pub slots: i64,
    /// Slots held now ([`AssignmentStatus::takes_slot`]).
    pub taken: i64,
    /// The worker's active assignments ([`AssignmentStatus::is_active`]).
    pub active: i64,
    pub max_active: i64,
    /// Required skills the worker lacks, sorted.
    pub missing_skills: Vec<String>,
}

/// Why a claim was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimRefusal {
    #[error("The task is {}; it cannot be claimed.", .0.as_str())]
    NotOpen(TaskStatus),
    #[error("This task needs skills you do not have yet: {}.", .0.join(", "))]
    MissingSkills(Vec<String>),
    #[error("Someone else took the last free slot of this task.")]
    Full,
    #[error(
        "You already hold {active} active tasks, the most allowed at once. Submit or release one first."
    )]
    TooManyActive { active: i64 },
    /// One live assignment per worker and task.
    #[error("You already hold a slot of this task.")]
    AlreadyClaimed,
    /// The task asks for a share of approvals among the last 25 decided submissions.
    #[error(
        "This task asks for at least {min} % approved among your last 25 decided submissions; yours is {has} %."
    )]
    RecordBelowMinimum { min: u32, has: u32 },
}

impl ClaimRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            ClaimRefusal::NotOpen(_) => "task_not_open",
            ClaimRefusal::MissingSkills(_) => "missing_skill",
            ClaimRefusal::Full => "task_full",
            ClaimRefusal::TooManyActive { .. } => "too_many_active",
            ClaimRefusal::AlreadyClaimed => "already_claimed",
            ClaimRefusal::RecordBelowMinimum { .. } => "record_below_minimum",
        }
    }

    pub fn field(&self) -> Option<&'static str> {
        match self {
            ClaimRefusal::MissingSkills(_) => Some("required_skills"),
            ClaimRefusal::RecordBelowMinimum { .. } => Some("min_record_percent"),
            _ => None,
        }
    }

    /// A clash with the task's or the worker's state (409); lacking a skill is the worker's
    /// profile (422).
    pub fn is_conflict(&self) -> bool {
        !matches!(
            self,
            ClaimRefusal::MissingSkills(_) | ClaimRefusal::RecordBelowMinimum { .. }
        )
    }
}

/// Only an open task takes claims.
pub fn open_for_claims(status: TaskStatus) -> Result<(), ClaimRefusal> {
    match status {
        TaskStatus::Open => Ok(()),
        other => Err(ClaimRefusal::NotOpen(other)),
    }
}

/// Whether the claim may be taken, the refusals in the order a worker should hear them: a task
/// not open, then a missing skill (she cannot fix it by waiting), then a full task, then her
/// own limit.
pub fn check_claim(f: &ClaimFacts) -> Result<(), ClaimRefusal> {
    open_for_claims(f.status)?;
    if !f.missing_skills.is_empty() {
        return Err(ClaimRefusal::MissingSkills(f.missing_skills.clone()));
    }
    if f.taken >= f.slots {
        return Err(ClaimRefusal::Full);
    }
    if f.active >= f.max_active {
        return Err(ClaimRefusal::TooManyActive { active: f.active });
    }
    Ok(())
}

/// Why a guarded claim that wrote nothing was refused. Facts that would pass mean a slot was
/// taken between the insert and the read: the task was full.
pub fn why_refused(f: &ClaimFacts) -> ClaimRefusal {
    check_claim(f).err().unwrap_or(ClaimRefusal::Full)
}

/// When a claim made at `now` lapses: after the task's claim time, and never after its
/// deadline.
pub fn claim_expiry(now: i64, claim_minutes: i64, deadline: Option<i64>) -> i64 {
    let end = now + claim_minutes * 60;
    match deadline {
        Some(d) => end.min(d),
        None => end,
    }
}

/// Why the work may not be submitted now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubmitRefusal {
    #[error("An assignment that is {} cannot be submitted.", .0.as_str())]
    NotSubmittable(AssignmentStatus),
    #[error("The time to submit this claim has run out.")]
    ClaimExpired,
    /// Its time would not be counted yet.
    #[error("Your timer is still running on this task: stop it first, so its time is counted.")]
    TimerRunning,
}

impl SubmitRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            SubmitRefusal::NotSubmittable(_) => "not_submittable",
            SubmitRefusal::ClaimExpired => "claim_expired",
            SubmitRefusal::TimerRunning => "timer_running",
        }
    }
}

/// Work may be submitted from a claim or after changes were asked for, until the claim lapses.
pub fn submittable(
    status: AssignmentStatus,
    expires_at: i64,
    now: i64,
) -> Result<(), SubmitRefusal> {
    if !status.can_move_to(AssignmentStatus::Submitted) {
        return Err(SubmitRefusal::NotSubmittable(status));
    }
    if expires_at <= now {
        return Err(SubmitRefusal::ClaimExpired);
    }
    Ok(())
}

/// Most minutes one extension adds to a claim (30 days).
pub const MAX_EXTENSION_MINUTES: i64 = 43_200;

/// Why a claim's time could not be extended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExtendRefusal {
    #[error("must be between 1 and 43200")]
    Minutes,
    #[error("An assignment that is {} has no running claim.", .0.as_str())]
    NotExtendable(AssignmentStatus),
}

impl ExtendRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            ExtendRefusal::Minutes => "validation_failed",
            ExtendRefusal::NotExtendable(_) => "not_extendable",
        }
    }

    pub fn field(&self) -> Option<&'static str> {
        match self {
            ExtendRefusal::Minutes => Some("minutes"),
            ExtendRefusal::NotExtendable(_) => None,
        }
    }
}

/// When a running claim extended by `minutes` at `now` lapses: the minutes are added to what
/// is left of it, or to `now` when it has already lapsed.
pub fn extended_expiry(
    status: AssignmentStatus,
    expires_at: i64,
    now: i64,
    minutes: i64,
) -> Result<i64, ExtendRefusal> {
    if !(1..=MAX_EXTENSION_MINUTES).contains(&minutes) {
        return Err(ExtendRefusal::Minutes);
    }
    if !status.is_active() {
        return Err(ExtendRefusal::NotExtendable(status));
    }
    Ok(expires_at.max(now) + minutes * 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facts() -> ClaimFacts {
        ClaimFacts {
            status: TaskStatus::Open,
            slots: 2,
            taken: 1,
            active: 2,
            max_active: 3,
            missing_skills: Vec::new(),
        }
    }

    #[test]
    fn a_claim_needs_an_open_task_the_skills_a_slot_and_room() {
        assert_eq!(check_claim(&facts()), Ok(()));
        let closed = ClaimFacts {
            status: TaskStatus::Draft,
            ..facts()
        };
        let e = check_claim(&closed).unwrap_err();
        assert_eq!(
            (e.code(), e.to_string()),
            (
                "task_not_open",
                "The task is draft; it cannot be claimed.".into()
            )
        );
        let unskilled = ClaimFacts {
            missing_skills: vec!["excel".into(), "sql".into()],
            taken: 2,
            ..facts()
        };
        let e = check_claim(&unskilled).unwrap_err();
        assert_eq!(
            (e.code(), e.field(), e.is_conflict()),
            ("missing_skill", Some("required_skills"), false)
        );
        assert_eq!(
            e.to_string(),
            "This task needs skills you do not have yet: excel, sql."
        );
        // Full and at the limit: the task being full is what she is told.
        let full = ClaimFacts {
            taken: 2,
            active: 3,
            ..facts()
        };
        assert_eq!(check_claim(&full), Err(ClaimRefusal::Full));
        let busy = ClaimFacts {
            active: 3,
            ..facts()
        };
        let e = check_claim(&busy).unwrap_err();
        assert_eq!((e.code(), e.is_conflict()), ("too_many_active", true));
        assert_eq!(
            e.to_string(),
            "You already hold 3 active tasks, the most allowed at once. Submit or release one first."
        );
        assert_eq!(why_refused(&facts()), ClaimRefusal::Full);
        assert_eq!(ClaimRefusal::AlreadyClaimed.code(), "already_claimed");
    }

    #[test]
    fn claims_lapse_after_the_claim_time_or_at_the_deadline() {
        assert_eq!(claim_expiry(1_000, 10, None), 1_600);
        assert_eq!(claim_expiry(1_000, 10, Some(1_200)), 1_200);
        assert_eq!(claim_expiry(1_000, 10, Some(9_999)), 1_600);
    }

    #[test]
    fn work_is_submitted_from_a_live_claim() {
        use AssignmentStatus::*;
        assert_eq!(submittable(Claimed, 101, 100), Ok(()));
        assert_eq!(submittable(ChangesRequested, 101, 100), Ok(()));
        assert_eq!(
            submittable(Claimed, 100, 100),
            Err(SubmitRefusal::ClaimExpired)
        );
        let e = submittable(Verified, 101, 100).unwrap_err();
        assert_eq!(
            (e.code(), e.to_string()),
            (
                "not_submittable",
                "An assignment that is verified cannot be submitted.".into()
            )
        );
        assert_eq!(SubmitRefusal::TimerRunning.code(), "timer_running");
    }

    #[test]
    fn a_running_claim_is_extended_from_what_is_left_of_it() {
        use AssignmentStatus::*;
        assert_eq!(extended_expiry(Claimed, 2_000, 1_000, 10), Ok(2_600));
        assert_eq!(extended_expiry(ChangesRequested, 500, 1_000, 10), Ok(1_600));
        let e = extended_expiry(Claimed, 2_000, 1_000, 0).unwrap_err();
        assert_eq!(
            (e.code(), e.field(), e.to_string()),
            (
                "validation_failed",
                Some("minutes"),
                "must be between 1 and 43200".into()
            )
        );
        assert_eq!(
            extended_expiry(Claimed, 0, 0, MAX_EXTENSION_MINUTES + 1),
            Err(ExtendRefusal::Minutes)
        );
        let e = extended_expiry(Submitted, 2_000, 1_000, 10).unwrap_err();
        assert_eq!(
            (e.code(), e.to_string()),
            (
                "not_extendable",
                "An assignment that is submitted has no running claim.".into()
            )
        );
    }

    proptest! {
        #[test]
        fn an_extension_always_leaves_the_claim_running_longer(
            expires_at in 0i64..1_000_000, now in 0i64..1_000_000, minutes in 1i64..=MAX_EXTENSION_MINUTES,
        ) {
            let e = extended_expiry(AssignmentStatus::Claimed, expires_at, now, minutes);
            prop_assert_eq!(e, Ok(expires_at.max(now) + minutes * 60));
            prop_assert!(e.is_ok_and(|t| t > now && t > expires_at));
        }

        #[test]
        fn a_claim_passes_exactly_when_every_condition_holds(
            open in any::<bool>(), slots in 1i64..5, taken in 0i64..6, active in 0i64..6,
            max_active in 1i64..5, missing in any::<bool>(),
        ) {
            let f = ClaimFacts {
                status: if open { TaskStatus::Open } else { TaskStatus::Closed },
                slots, taken, active, max_active,
                missing_skills: if missing { vec!["sql".into()] } else { Vec::new() },
            };
            let ok = open && !missing && taken < slots && active < max_active;
            prop_assert_eq!(check_claim(&f).is_ok(), ok);
            // A refused insert is always explained.
            let why = why_refused(&f);
            if !ok {
                prop_assert_eq!(Err(why), check_claim(&f));
            }
        }

        #[test]
        fn a_claim_never_outlives_the_deadline(
            now in 0i64..1_000_000, minutes in 10i64..=43_200, deadline in proptest::option::of(0i64..4_000_000),
        ) {
            let e = claim_expiry(now, minutes, deadline);
            prop_assert!(e <= now + minutes * 60);
            prop_assert!(deadline.is_none_or(|d| e <= d));
            prop_assert!(e == now + minutes * 60 || Some(e) == deadline);
        }
    }
}
