//! Where an electronic document is on its way to DIAN (issue 19 §5): produced
//! (`generated`, or `signed` when a certificate signed it), handed to the authorised
//! provider (`delivered`), then DIAN's answer through the provider (`accepted`, or
//! `rejected` with its reason). A document is never changed after it is produced; a rejected
//! one is corrected by a new document (a credit note, a nota de ajuste), not by editing it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Generated,
    Signed,
    Delivered,
    Accepted,
    Rejected,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 5] = [
        DeliveryState::Generated,
        DeliveryState::Signed,
        DeliveryState::Delivered,
        DeliveryState::Accepted,
        DeliveryState::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Generated => "generated",
            DeliveryState::Signed => "signed",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Accepted => "accepted",
            DeliveryState::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How finance reads it, in Spanish.
    pub fn label_es(self) -> &'static str {
        match self {
            DeliveryState::Generated => "Generado sin firma",
            DeliveryState::Signed => "Firmado",
            DeliveryState::Delivered => "Entregado al proveedor",
            DeliveryState::Accepted => "Aceptado por la DIAN",
            DeliveryState::Rejected => "Rechazado por la DIAN",
        }
    }

    /// Waiting to be handed to the provider.
    pub fn deliverable(self) -> bool {
        matches!(self, DeliveryState::Generated | DeliveryState::Signed)
    }
}

/// DIAN's answer, as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Accepted,
    Rejected { reason: String },
}

/// Longest rejection reason kept (DIAN's messages are a few lines).
pub const MAX_REASON: usize = 2000;

/// Why an answer cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerRefusal {
    /// Only a delivered document can be answered: DIAN has not seen the others.
    NotDelivered {
        state: DeliveryState,
    },
    /// The document was answered already; an answer is final.
    AlreadyAnswered {
        state: DeliveryState,
    },
    /// A rejection without its reason tells finance nothing to fix.
    ReasonMissing,
    ReasonTooLong,
}

impl AnswerRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            AnswerRefusal::NotDelivered { .. } => "document_not_delivered",
            AnswerRefusal::AlreadyAnswered { .. } => "document_already_answered",
            AnswerRefusal::ReasonMissing => "rejection_reason_missing",
            AnswerRefusal::ReasonTooLong => "rejection_reason_too_long",
        }
    }

    pub fn field(&self) -> Option<&'static str> {
        match self {
            AnswerRefusal::ReasonMissing | AnswerRefusal::ReasonTooLong => Some("reason"),
            _ => Some("outcome"),
        }
    }
}

impl std::fmt::Display for AnswerRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnswerRefusal::NotDelivered { state } => write!(
                f,
                "el documento no se ha entregado al proveedor (está «{}»): no hay respuesta de la DIAN que registrar",
                state.label_es()
            ),
            AnswerRefusal::AlreadyAnswered { state } => write!(
                f,
                "el documento ya tiene respuesta de la DIAN («{}»); un rechazo se corrige con un documento nuevo",
                state.label_es()
            ),
            AnswerRefusal::ReasonMissing => {
                f.write_str("un rechazo necesita el motivo que dio la DIAN")
            }
            AnswerRefusal::ReasonTooLong => {
                write!(f, "el motivo tiene más de {MAX_REASON} caracteres")
            }
        }
    }
}

/// The state after recording `answer` on a document in `state`.
pub fn answer(state: DeliveryState, answer: &Answer) -> Result<DeliveryState, AnswerRefusal> {
    match state {
        DeliveryState::Delivered => {}
        DeliveryState::Accepted | DeliveryState::Rejected => {
            return Err(AnswerRefusal::AlreadyAnswered { state });
        }
        DeliveryState::Generated | DeliveryState::Signed => {
            return Err(AnswerRefusal::NotDelivered { state });
        }
    }
    match answer {
        Answer::Accepted => Ok(DeliveryState::Accepted),
        Answer::Rejected { reason } if reason.trim().is_empty() => {
            Err(AnswerRefusal::ReasonMissing)
        }
        Answer::Rejected { reason } if reason.chars().count() > MAX_REASON => {
            Err(AnswerRefusal::ReasonTooLong)
        }
        Answer::Rejected { .. } => Ok(DeliveryState::Rejected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_state() -> impl Strategy<Value = DeliveryState> {
        proptest::sample::select(DeliveryState::ALL.to_vec())
    }

    fn any_answer() -> impl Strategy<Value = Answer> {
        prop_oneof![
            Just(Answer::Accepted),
            ".{0,30}".prop_map(|reason| Answer::Rejected { reason }),
        ]
    }

    proptest! {
        /// Only a delivered document takes an answer, and an answered one never changes.
        #[test]
        fn only_delivered_documents_are_answered(state in any_state(), a in any_answer()) {
            match answer(state, &a) {
                Ok(next) => {
                    prop_assert_eq!(state, DeliveryState::Delivered);
                    let answered = matches!(next, DeliveryState::Accepted | DeliveryState::Rejected);
                    prop_assert!(answered);
                }
                Err(AnswerRefusal::ReasonMissing) => {
                    let blank = matches!(&a, Answer::Rejected { reason } if reason.trim().is_empty());
                    prop_assert!(blank);
                }
                Err(AnswerRefusal::AlreadyAnswered { state: s }) => {
                    prop_assert_eq!(s, state);
                    let answered = matches!(s, DeliveryState::Accepted | DeliveryState::Rejected);
                    prop_assert!(answered);
                }
                Err(AnswerRefusal::NotDelivered { state: s }) => prop_assert!(s.deliverable()),
                Err(AnswerRefusal::ReasonTooLong) => prop_assert!(false, "short reasons only"),
            }
        }
    }

    #[test]
    fn states_read_back_and_say_themselves_in_spanish() {
        for s in DeliveryState::ALL {
            assert_eq!(DeliveryState::parse(s.as_str()), Some(s));
            assert!(!s.label_es().is_empty());
        }
        let e = answer(
            DeliveryState::Delivered,
            &Answer::Rejected {
                reason: "x".repeat(MAX_REASON + 1),
            },
        )
        .unwrap_err();
        assert_eq!(e.code(), "rejection_reason_too_long");
        assert_eq!(e.field(), Some("reason"));
    }
}
