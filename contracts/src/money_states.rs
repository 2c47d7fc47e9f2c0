//! The states money rows are in, pure: invoices, credit notes, payments, payout batches and
//! lines, and outgoing e-mails, each with the exact strings the database stores (the CHECK
//! constraints in migrations/) and the moves between them. Code compares and sets these, never
//! bare strings, so a misspelt state is a compile error rather than a row nobody finds.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An enum over a fixed set of stored strings: `ALL`, `as_str`, `parse`, `Display`, and
/// `sql_list` for the fixed SQL that needs a literal list.
macro_rules! stored_states {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant),+];

            /// As stored (and as the API shows it).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// `None` for anything the database would refuse.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|t| t.as_str() == s)
            }

            /// SQL list of the states for which `pred` holds, e.g. `('pending', 'paid')`.
            pub fn sql_list(pred: impl Fn($name) -> bool) -> String {
                let names: Vec<String> = Self::ALL
                    .iter()
                    .copied()
                    .filter(|s| pred(*s))
                    .map(|s| format!("'{}'", s.as_str()))
                    .collect();
                format!("({})", names.join(", "))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_states! {
    /// Where an invoice stands. Issued `issued`; payments and credit notes move it between
    /// `issued`, `partially_paid` and `paid` (a reversed payment moves it back); `void` is
    /// final and never collected.
    InvoiceStatus {
        Issued => "issued",
        PartiallyPaid => "partially_paid",
        Paid => "paid",
        Void => "void",
    }
}

impl InvoiceStatus {
    pub fn can_move_to(self, next: InvoiceStatus) -> bool {
        use InvoiceStatus::*;
        match (self, next) {
            (Void, _) => false,
            (_, Void) => self == Issued,
            (a, b) => a != b,
        }
    }
}

stored_states! {
    /// `requested` by finance (no number yet) → `issued` by the worker, numbered.
    CreditNoteStatus {
        Requested => "requested",
        Issued => "issued",
    }
}

impl CreditNoteStatus {
    pub fn can_move_to(self, next: CreditNoteStatus) -> bool {
        matches!(
            (self, next),
            (CreditNoteStatus::Requested, CreditNoteStatus::Issued)
        )
    }
}

stored_states! {
    /// `building` (lines being added) → `ready` (the bank file can be downloaded) →
    /// `settled` (the bank confirmed every line).
    PayoutBatchStatus {
        Building => "building",
        Ready => "ready",
        Settled => "settled",
    }
}

impl PayoutBatchStatus {
    pub fn can_move_to(self, next: PayoutBatchStatus) -> bool {
        use PayoutBatchStatus::*;
        matches!((self, next), (Building, Ready) | (Ready, Settled))
    }
}

stored_states! {
    /// A worker's transfer in a batch: `pending` until the bank says `paid` or `failed`.
    PayoutLineStatus {
        Pending => "pending",
        Paid => "paid",
        Failed => "failed",
    }
}

impl PayoutLineStatus {
    pub fn can_move_to(self, next: PayoutLineStatus) -> bool {
        use PayoutLineStatus::*;
        matches!((self, next), (Pending, Paid) | (Pending, Failed))
    }

    /// The worker's money is (or is about to be) theirs: not a failed transfer.
    pub fn holds_money(self) -> bool {
        self != PayoutLineStatus::Failed
    }
}

stored_states! {
    /// An e-mail in the outbox: `pending` → `sending` (claimed by one run) → `sent`; a failed
    /// attempt or a send whose process died goes back to `pending`, and after the last
    /// attempt to `failed` for good.
    OutboxStatus {
        Pending => "pending",
        Sending => "sending",
        Sent => "sent",
        Failed => "failed",
    }
}

impl OutboxStatus {
    pub fn can_move_to(self, next: OutboxStatus) -> bool {
        use OutboxStatus::*;
        matches!(
            (self, next),
            (Pending, Sending) | (Sending, Sent) | (Sending, Pending) | (Sending, Failed)
        )
    }
}

stored_states! {
    /// A company payment, read from its dates (not a column): `recorded` → `posted` (in the
    /// ledger); a reversal may be requested at any time (`reversal_requested`) and is then
    /// posted once (`reversed`).
    PaymentStatus {
        Recorded => "recorded",
        Posted => "posted",
        ReversalRequested => "reversal_requested",
        Reversed => "reversed",
    }
}

impl PaymentStatus {
    /// From the payment's `posted_at` and its reversal's `requested_at` and `posted_at`.
    pub fn of(
        posted_at: Option<i64>,
        reversal_requested_at: Option<i64>,
        reversal_posted_at: Option<i64>,
    ) -> PaymentStatus {
        match (reversal_posted_at, reversal_requested_at, posted_at) {
            (Some(_), _, _) => PaymentStatus::Reversed,
            (None, Some(_), _) => PaymentStatus::ReversalRequested,
            (None, None, Some(_)) => PaymentStatus::Posted,
            _ => PaymentStatus::Recorded,
        }
    }

    pub fn can_move_to(self, next: PaymentStatus) -> bool {
        use PaymentStatus::*;
        matches!(
            (self, next),
            (Recorded, Posted)
                | (Recorded, ReversalRequested)
                | (Posted, ReversalRequested)
                | (ReversalRequested, Reversed)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MONEY_SQLITE: &str = include_str!("../../migrations/sqlite/0004_money.sql");
    const EMAIL_SQLITE: &str = include_str!("../../migrations/sqlite/0005_statements_email.sql");
    const MONEY_PG: &str = include_str!("../../migrations/postgres/0004_money.sql");
    const EMAIL_PG: &str = include_str!("../../migrations/postgres/0005_statements_email.sql");

    /// The values of `status`'s CHECK constraint in `CREATE TABLE <table>`.
    fn check_values(sql: &str, table: &str) -> Vec<String> {
        let start = sql
            .find(&format!("CREATE TABLE {table} ("))
            .unwrap_or_else(|| panic!("no table {table}"));
        let body = &sql[start..];
        let body = &body[..body.find(");").expect("table ends")];
        let check = "CHECK (status IN (";
        let at = body
            .find(check)
            .unwrap_or_else(|| panic!("no status check on {table}"));
        let list = &body[at + check.len()..];
        let list = &list[..list.find(')').expect("list ends")];
        list.split(',')
            .map(|v| v.trim().trim_matches('\'').to_string())
            .collect()
    }

    fn names<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<String> {
        all.iter().map(|s| as_str(*s).to_string()).collect()
    }

    #[test]
    fn values_are_exactly_the_check_constraints() {
        for (money, email) in [(MONEY_SQLITE, EMAIL_SQLITE), (MONEY_PG, EMAIL_PG)] {
            assert_eq!(
                check_values(money, "invoices"),
                names(InvoiceStatus::ALL, InvoiceStatus::as_str)
            );
            assert_eq!(
                check_values(money, "credit_notes"),
                names(CreditNoteStatus::ALL, CreditNoteStatus::as_str)
            );
            assert_eq!(
                check_values(money, "payout_batches"),
                names(PayoutBatchStatus::ALL, PayoutBatchStatus::as_str)
            );
            assert_eq!(
                check_values(money, "payout_lines"),
                names(PayoutLineStatus::ALL, PayoutLineStatus::as_str)
            );
            assert_eq!(
                check_values(email, "outbox_messages"),
                names(OutboxStatus::ALL, OutboxStatus::as_str)
            );
        }
    }

    #[test]
    fn strings_round_trip_and_serialise_as_stored() {
        fn check<T>(all: &[T], as_str: fn(T) -> &'static str, parse: fn(&str) -> Option<T>)
        where
            T: Copy + PartialEq + fmt::Debug + Serialize,
        {
            for s in all {
                assert_eq!(parse(as_str(*s)), Some(*s));
                assert_eq!(
                    serde_json::to_value(s).expect("serialises"),
                    serde_json::Value::from(as_str(*s))
                );
            }
            assert_eq!(parse("unknown"), None);
            assert_eq!(parse(""), None);
        }
        check(
            InvoiceStatus::ALL,
            InvoiceStatus::as_str,
            InvoiceStatus::parse,
        );
        check(
            CreditNoteStatus::ALL,
            CreditNoteStatus::as_str,
            CreditNoteStatus::parse,
        );
        check(
            PayoutBatchStatus::ALL,
            PayoutBatchStatus::as_str,
            PayoutBatchStatus::parse,
        );
        check(
            PayoutLineStatus::ALL,
            PayoutLineStatus::as_str,
            PayoutLineStatus::parse,
        );
        check(OutboxStatus::ALL, OutboxStatus::as_str, OutboxStatus::parse);
        check(
            PaymentStatus::ALL,
            PaymentStatus::as_str,
            PaymentStatus::parse,
        );
        assert_eq!(
            PayoutLineStatus::sql_list(PayoutLineStatus::holds_money),
            "('pending', 'paid')"
        );
    }

    #[test]
    fn the_moves() {
        use InvoiceStatus as I;
        assert!(I::Issued.can_move_to(I::PartiallyPaid));
        assert!(I::PartiallyPaid.can_move_to(I::Paid));
        assert!(I::Paid.can_move_to(I::PartiallyPaid), "a payment reversed");
        assert!(I::Issued.can_move_to(I::Void));
        assert!(!I::Paid.can_move_to(I::Void));
        assert!(!I::Void.can_move_to(I::Issued));
        assert!(CreditNoteStatus::Requested.can_move_to(CreditNoteStatus::Issued));
        assert!(!CreditNoteStatus::Issued.can_move_to(CreditNoteStatus::Requested));
        assert!(PayoutBatchStatus::Building.can_move_to(PayoutBatchStatus::Ready));
        assert!(PayoutBatchStatus::Ready.can_move_to(PayoutBatchStatus::Settled));
        assert!(!PayoutBatchStatus::Building.can_move_to(PayoutBatchStatus::Settled));
        assert!(PayoutLineStatus::Pending.can_move_to(PayoutLineStatus::Failed));
        assert!(!PayoutLineStatus::Failed.can_move_to(PayoutLineStatus::Paid));
        assert!(OutboxStatus::Sending.can_move_to(OutboxStatus::Pending));
        assert!(!OutboxStatus::Pending.can_move_to(OutboxStatus::Sent));
        assert!(!OutboxStatus::Sent.can_move_to(OutboxStatus::Pending));
        assert!(PaymentStatus::Recorded.can_move_to(PaymentStatus::ReversalRequested));
        assert!(!PaymentStatus::Reversed.can_move_to(PaymentStatus::Posted));
        assert_eq!(PaymentStatus::of(None, None, None), PaymentStatus::Recorded);
        assert_eq!(
            PaymentStatus::of(Some(1), None, None),
            PaymentStatus::Posted
        );
        assert_eq!(
            PaymentStatus::of(None, Some(2), None),
            PaymentStatus::ReversalRequested
        );
        assert_eq!(
            PaymentStatus::of(Some(1), Some(2), Some(3)),
            PaymentStatus::Reversed
        );
    }

    /// Walks from `start` along allowed moves only; true if `target` is reachable.
    fn reachable<T: Copy + PartialEq>(
        all: &[T],
        start: T,
        target: T,
        can: fn(T, T) -> bool,
    ) -> bool {
        let mut seen = vec![start];
        let mut i = 0;
        while i < seen.len() {
            let from = seen[i];
            for next in all.iter().copied() {
                if can(from, next) && !seen.contains(&next) {
                    seen.push(next);
                }
            }
            i += 1;
        }
        seen.contains(&target)
    }

    proptest! {
        /// No state moves to itself; the final states (a void invoice, an issued credit
        /// note, a settled batch, a settled line, a sent or failed e-mail, a reversed
        /// payment) move nowhere; and every state can be reached from where rows start.
        #[test]
        fn moves_are_sound(i in 0usize..8, j in 0usize..8) {
            let pick = |all_len: usize, k: usize| k % all_len;
            macro_rules! check {
                ($t:ty, $start:expr, $finals:expr) => {{
                    let all = <$t>::ALL;
                    let (a, b) = (all[pick(all.len(), i)], all[pick(all.len(), j)]);
                    prop_assert!(!a.can_move_to(a));
                    if $finals.contains(&a) {
                        prop_assert!(!a.can_move_to(b));
                    }
                    prop_assert!(reachable(all, $start, b, <$t>::can_move_to));
                }};
            }
            check!(InvoiceStatus, InvoiceStatus::Issued, [InvoiceStatus::Void]);
            check!(CreditNoteStatus, CreditNoteStatus::Requested, [CreditNoteStatus::Issued]);
            check!(PayoutBatchStatus, PayoutBatchStatus::Building, [PayoutBatchStatus::Settled]);
            check!(
                PayoutLineStatus,
                PayoutLineStatus::Pending,
                [PayoutLineStatus::Paid, PayoutLineStatus::Failed]
            );
            check!(OutboxStatus, OutboxStatus::Pending, [OutboxStatus::Sent, OutboxStatus::Failed]);
            check!(PaymentStatus, PaymentStatus::Recorded, [PaymentStatus::Reversed]);
        }

    }
}
