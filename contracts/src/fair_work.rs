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
