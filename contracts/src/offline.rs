//! Offline sync's decisions, pure: what becomes of each entry of a batch uploaded from a
//! device — accepted, a duplicate of one uploaded before under the same client id (stored
//! earlier, or accepted earlier in this batch), or rejected with the rule it breaks.
//!
//! Entries are decided in the order sent, each against the time already logged plus the
//! entries accepted before it, so a batch's entries cannot together break a rule, and sending
//! the same batch again accepts nothing new. The API parses the entries, locks the worker and
//! her named assignments, loads the [`Logbook`] and the client ids already stored, asks
//! [`Intake::offer`] entry by entry, and stores the accepted ones.

use std::collections::HashMap;

use crate::timesheet::{Closed, Entry, Logbook, Rules, Span, Violation};

/// Where the entry first uploaded under a client id is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Earlier {
    /// Stored before this batch, under this entry id.
    Stored(String),
    /// Accepted earlier in this batch: the n-th accepted (from 0).
    Accepted(usize),
}

/// Why an uploaded entry is not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Not an assignment of the worker's (someone else's and none are answered alike, so ids
    /// reveal nothing).
    UnknownAssignment,
    /// The assignment takes no time now.
    Closed(Closed),
    /// The entry breaks a time rule.
    Broke(Violation),
}

impl Rejection {
    /// The stable machine code the entry's result carries.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::UnknownAssignment => "not_found",
            Rejection::Closed(c) => c.code(),
            Rejection::Broke(v) => v.code(),
        }
    }

    /// The field of the entry at fault.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Rejection::UnknownAssignment => None,
            Rejection::Closed(c) => c.field(),
            Rejection::Broke(v) => Some(v.field()),
        }
    }
}

/// What becomes of one uploaded entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Store it: the n-th accepted of the batch (from 0).
    Accepted(usize),
    Duplicate(Earlier),
    Rejected(Rejection),
}

/// A batch being decided.
#[derive(Debug, Clone)]
pub struct Intake {
    book: Logbook,
    rules: Rules,
    /// Client ids already stored or accepted in this batch.
    seen: HashMap<String, Earlier>,
    accepted: usize,
}

impl Intake {
    /// A batch checked against `book` (the worker's time, with her running timer) under
    /// `rules`; `stored` maps the batch's client ids already stored to their entry ids.
    pub fn new(
        book: Logbook,
        rules: Rules,
        stored: impl IntoIterator<Item = (String, String)>,
    ) -> Intake {
        Intake {
            book,
            rules,
            seen: stored
                .into_iter()
                .map(|(client_id, id)| (client_id, Earlier::Stored(id)))
                .collect(),
            accepted: 0,
        }
    }

    /// Decide the next entry of the batch: `client_id` on `assignment_id` over `span`.
    /// `assignment` is that assignment as the worker's lock found it: `None` when it is not
    /// hers, else open with the task's cap (if any) or closed.
    pub fn offer(
        &mut self,
        client_id: &str,
        assignment_id: &str,
        assignment: Option<Result<Option<i64>, &Closed>>,
        span: Span,
    ) -> Verdict {
        if let Some(earlier) = self.seen.get(client_id) {
            return Verdict::Duplicate(earlier.clone());
        }
        let cap = match assignment {
            None => return Verdict::Rejected(Rejection::UnknownAssignment),
            Some(Err(closed)) => return Verdict::Rejected(Rejection::Closed(closed.clone())),
            Some(Ok(cap)) => cap,
        };
        let candidate = Entry {
            assignment_id: assignment_id.to_string(),
            span,
        };
        if let Err(v) = self.book.check(&candidate, cap, &self.rules) {
            return Verdict::Rejected(Rejection::Broke(v));
        }
        self.book.accept(candidate);
        let n = self.accepted;
        self.accepted += 1;
        self.seen
            .insert(client_id.to_string(), Earlier::Accepted(n));
        Verdict::Accepted(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOUR: i64 = 3600;
    /// 2026-03-02 08:00 in Bogotá.
    const T: i64 = 1_772_427_600 + 8 * HOUR;

    fn rules() -> Rules {
        Rules {
            now: T + 2 * 24 * HOUR,
            window_secs: 14 * 24 * HOUR,
            daily_limit_secs: 12 * HOUR,
        }
    }

    #[test]
    fn each_entry_is_decided_in_order() {
        let mut intake = Intake::new(
            Logbook::default(),
            rules(),
            [("old".to_string(), "e1".to_string())],
        );
        let closed = Closed::ClaimExpired;
        let open = Some(Ok(Some(3 * HOUR)));
        let span = Span::new(T, T + HOUR);
        assert_eq!(
            intake.offer("old", "a", None, span),
            Verdict::Duplicate(Earlier::Stored("e1".into()))
        );
        assert_eq!(intake.offer("x", "a", open, span), Verdict::Accepted(0));
        assert_eq!(
            intake.offer("x", "a", open, Span::new(T + 5 * HOUR, T + 6 * HOUR)),
            Verdict::Duplicate(Earlier::Accepted(0))
        );
        let overlap = intake.offer("y", "a", open, Span::new(T + 1800, T + 2 * HOUR));
        assert_eq!(
            overlap.clone(),
            Verdict::Rejected(Rejection::Broke(Violation::Overlaps(span)))
        );
        let Verdict::Rejected(r) = overlap else {
            unreachable!()
        };
        assert_eq!((r.code(), r.field()), ("entry_overlaps", Some("ended_at")));
        assert_eq!(
            intake.offer("z", "a", None, span),
            Verdict::Rejected(Rejection::UnknownAssignment)
        );
        assert_eq!(
            intake.offer("z", "b", Some(Err(&closed)), span),
            Verdict::Rejected(Rejection::Closed(Closed::ClaimExpired))
        );
        // A rejected client id may come again, fixed.
        assert_eq!(
            intake.offer("y", "a", open, Span::new(T + HOUR, T + 2 * HOUR)),
            Verdict::Accepted(1)
        );
        // Over the cap with the batch's own earlier entries.
        assert_eq!(
            intake.offer("w", "a", open, Span::new(T + 3 * HOUR, T + 4 * HOUR + 1)),
            Verdict::Rejected(Rejection::Broke(Violation::OverCap {
                logged: 3 * HOUR + 1,
                cap: 3 * HOUR
            }))
        );
    }

    /// One uploaded entry: client id (few, so some repeat), assignment (a0, a1 open with
    /// caps; a2 closed; a3 not hers), start offset and length.
    type Upload = (usize, usize, i64, i64);

    fn batches() -> impl Strategy<Value = Vec<Upload>> {
        prop::collection::vec(
            (0usize..12, 0usize..4, 0i64..40 * HOUR, 1i64..6 * HOUR),
            0..40,
        )
    }

    const CAPS: [Option<i64>; 2] = [Some(8 * HOUR), None];

    fn run(
        batch: &[Upload],
        stored: Vec<(String, String)>,
        book: Logbook,
    ) -> (Vec<Verdict>, Vec<Entry>) {
        let closed = Closed::NotActive {
            status: "submitted".into(),
        };
        let mut intake = Intake::new(book, rules(), stored);
        let mut accepted = Vec::new();
        let verdicts = batch
            .iter()
            .map(|&(c, a, offset, len)| {
                let assignment = match a {
                    0 | 1 => Some(Ok(CAPS[a])),
                    2 => Some(Err(&closed)),
                    _ => None,
                };
                let span = Span::new(T - 24 * HOUR + offset, T - 24 * HOUR + offset + len);
                let v = intake.offer(&format!("c{c}"), &format!("a{a}"), assignment, span);
                if let Verdict::Accepted(_) = v {
                    accepted.push((
                        format!("c{c}"),
                        Entry {
                            assignment_id: format!("a{a}"),
                            span,
                        },
                    ));
                }
                v
            })
            .collect();
        (verdicts, accepted.into_iter().map(|(_, e)| e).collect())
    }

    proptest! {
        /// A batch's accepted entries keep every rule together, each client id is accepted
        /// at most once, and only on the worker's open assignments.
        #[test]
        fn accepted_entries_keep_the_rules_together(batch in batches()) {
            let (verdicts, accepted) = run(&batch, Vec::new(), Logbook::default());
            for (i, a) in accepted.iter().enumerate() {
                prop_assert!(a.assignment_id == "a0" || a.assignment_id == "a1");
                for b in &accepted[i + 1..] {
                    prop_assert!(!a.span.overlaps(&b.span));
                }
            }
            let book = Logbook::new(accepted.clone());
            prop_assert!(book.logged("a0") <= 8 * HOUR);
            let mut ids = std::collections::HashSet::new();
            for ((c, ..), v) in batch.iter().zip(&verdicts) {
                match v {
                    Verdict::Accepted(_) => prop_assert!(ids.insert(*c), "c{c} accepted twice"),
                    Verdict::Duplicate(Earlier::Accepted(_)) => prop_assert!(ids.contains(c)),
                    _ => {}
                }
            }
        }

        /// Sending the same batch again, once its accepted entries are stored, accepts
        /// nothing new: each is a duplicate, and what was rejected is rejected again.
        #[test]
        fn a_batch_sent_again_stores_nothing_new(batch in batches()) {
            let (first, accepted) = run(&batch, Vec::new(), Logbook::default());
            let mut stored = Vec::new();
            for ((c, ..), v) in batch.iter().zip(&first) {
                if let Verdict::Accepted(n) = v {
                    stored.push((format!("c{c}"), format!("e{n}")));
                }
            }
            let (again, _) = run(&batch, stored, Logbook::new(accepted));
            for ((c, ..), (v1, v2)) in batch.iter().zip(first.iter().zip(&again)) {
                match v1 {
                    Verdict::Accepted(_) | Verdict::Duplicate(_) => prop_assert!(
                        matches!(v2, Verdict::Duplicate(Earlier::Stored(_))),
                        "c{c}: {v1:?} then {v2:?}"
                    ),
                    Verdict::Rejected(_) => prop_assert!(
                        !matches!(v2, Verdict::Accepted(_)),
                        "c{c}: {v1:?} then {v2:?}"
                    ),
                }
            }
        }
    }
}
