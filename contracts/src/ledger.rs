//! The double-entry ledger's pure part: account names, journal entries that must balance, and
//! the postings of DESIGN §4. Amounts are whole pesos in `Cop`, stored as centavos.

use crate::money::Cop;
use serde::{Deserialize, Serialize};

/// Ledger accounts (DESIGN §3).
pub mod account {
    pub fn company_receivable(company_id: &str) -> String {
        format!("company:{company_id}:receivable")
    }
    pub fn worker_payable(worker_id: &str) -> String {
        format!("worker:{worker_id}:payable")
    }
    pub const FEES: &str = "platform:fees";
    pub const VAT_PAYABLE: &str = "platform:vat_payable";
    pub const WITHHOLDING_PAYABLE: &str = "platform:withholding_payable";
    pub const PAYOUTS_IN_TRANSIT: &str = "platform:payouts_in_transit";
    pub const BANK: &str = "platform:bank";
    /// What the platform absorbs when a credit note forgives work it already owes a worker.
    pub const ADJUSTMENTS: &str = "platform:adjustments";

    /// True for a name of one of the accounts above.
    pub fn is_valid(name: &str) -> bool {
        let parts: Vec<&str> = name.split(':').collect();
        match parts.as_slice() {
            ["company", id, "receivable"] | ["worker", id, "payable"] => {
                uuid::Uuid::parse_str(id).is_ok()
            }
            _ => [
                FEES,
                VAT_PAYABLE,
                WITHHOLDING_PAYABLE,
                PAYOUTS_IN_TRANSIT,
                BANK,
                ADJUSTMENTS,
            ]
            .contains(&name),
        }
    }
}

/// One line of a journal entry: a debit or a credit to one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account: String,
    pub debit: Cop,
    pub credit: Cop,
}

/// A journal entry: postings that must balance, and the key of the effect it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub effect_key: String,
    pub kind: &'static str,
    pub description: String,
    pub postings: Vec<Posting>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("entry {0} does not balance: debits {1}, credits {2}")]
    Unbalanced(String, Cop, Cop),
    #[error("entry {0} has a negative or empty posting")]
    BadPosting(String),
}

impl Entry {
    pub fn new(
        effect_key: impl Into<String>,
        kind: &'static str,
        description: impl Into<String>,
    ) -> Entry {
        Entry {
            effect_key: effect_key.into(),
            kind,
            description: description.into(),
            postings: Vec::new(),
        }
    }

    /// Debit `amount` to `account` (skipped when zero).
    pub fn debit(mut self, account: impl Into<String>, amount: Cop) -> Entry {
        if amount != Cop::ZERO {
            self.postings.push(Posting {
                account: account.into(),
                debit: amount,
                credit: Cop::ZERO,
            });
        }
        self
    }

    /// Credit `amount` to `account` (skipped when zero).
    pub fn credit(mut self, account: impl Into<String>, amount: Cop) -> Entry {
        if amount != Cop::ZERO {
            self.postings.push(Posting {
                account: account.into(),
                debit: Cop::ZERO,
                credit: amount,
            });
        }
        self
    }

    /// True when every amount was zero: there is nothing to post (a journal entry needs at
    /// least one posting, so callers skip it rather than post it).
    pub fn is_empty(&self) -> bool {
        self.postings.is_empty()
    }

    /// The entry, if it balances and every posting is positive (invariant 1 of DESIGN §4).
    pub fn checked(self) -> Result<Entry, EntryError> {
        let debits: Cop = self.postings.iter().map(|p| p.debit).sum();
        let credits: Cop = self.postings.iter().map(|p| p.credit).sum();
        if self
            .postings
            .iter()
            .any(|p| p.debit < Cop::ZERO || p.credit < Cop::ZERO)
            || self.postings.is_empty()
        {
            return Err(EntryError::BadPosting(self.effect_key));
        }
        if debits != credits {
            return Err(EntryError::Unbalanced(self.effect_key, debits, credits));
        }
        Ok(self)
    }
}

/// On approval: Dr company receivable (earnings + fee), Cr worker payable (earnings), Cr fees.
pub fn accrual(
    assignment_id: &str,
    company_id: &str,
    worker_id: &str,
    work: Cop,
    fee: Cop,
) -> Entry {
    Entry::new(
        format!("accrue:{assignment_id}"),
        "accrual",
        format!("Trabajo aprobado {assignment_id}"),
    )
    .debit(account::company_receivable(company_id), work + fee)
    .credit(account::worker_payable(worker_id), work)
    .credit(account::FEES, fee)
}

/// On invoice issue: Dr company receivable / Cr VAT payable.
pub fn invoice_vat(invoice_id: &str, number: &str, company_id: &str, vat: Cop) -> Entry {
    Entry::new(
        format!("invoice:{invoice_id}"),
        "invoice",
        format!("IVA factura {number}"),
    )
    .debit(account::company_receivable(company_id), vat)
    .credit(account::VAT_PAYABLE, vat)
}

/// On company payment: Dr bank / Cr company receivable.
pub fn company_payment(payment_id: &str, company_id: &str, amount: Cop) -> Entry {
    Entry::new(
        format!("payment:{payment_id}"),
        "payment",
        format!("Pago recibido {payment_id}"),
    )
    .debit(account::BANK, amount)
    .credit(account::company_receivable(company_id), amount)
}

/// On payout: Dr worker payable / Cr payouts in transit (and withholding payable).
pub fn payout(line_id: &str, worker_id: &str, amount: Cop, withholding: Cop) -> Entry {
    Entry::new(
        format!("payout:{line_id}"),
        "payout",
        format!("Pago a trabajador {line_id}"),
    )
    .debit(account::worker_payable(worker_id), amount)
    .credit(account::PAYOUTS_IN_TRANSIT, amount - withholding)
    .credit(account::WITHHOLDING_PAYABLE, withholding)
}

/// On bank confirmation: Dr payouts in transit / Cr bank.
pub fn payout_settled(line_id: &str, net: Cop) -> Entry {
    Entry::new(
        format!("payout-paid:{line_id}"),
        "payout_settled",
        format!("Pago confirmado {line_id}"),
    )
    .debit(account::PAYOUTS_IN_TRANSIT, net)
    .credit(account::BANK, net)
}

/// A failed payout goes back to the worker's payable: the payout entry reversed.
pub fn payout_failed(line_id: &str, worker_id: &str, amount: Cop, withholding: Cop) -> Entry {
    Entry::new(
        format!("payout-failed:{line_id}"),
        "payout_failed",
        format!("Pago fallido {line_id}"),
    )
    .debit(account::PAYOUTS_IN_TRANSIT, amount - withholding)
    .debit(account::WITHHOLDING_PAYABLE, withholding)
    .credit(account::worker_payable(worker_id), amount)
}

/// A credit note reverses part of an invoice: Dr fees and VAT payable, and Dr adjustments for
/// the work (the worker keeps their pay; the platform absorbs it) / Cr company receivable.
pub fn credit_note(
    note_id: &str,
    number: &str,
    company_id: &str,
    work: Cop,
    fee: Cop,
    vat: Cop,
) -> Entry {
    Entry::new(
        format!("credit-note:{note_id}"),
        "credit_note",
        format!("Nota crédito {number}"),
    )
    .debit(account::ADJUSTMENTS, work)
    .debit(account::FEES, fee)
    .debit(account::VAT_PAYABLE, vat)
    .credit(account::company_receivable(company_id), work + fee + vat)
}

/// One invariant of the ledger audit and whether it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Stable name, e.g. `balanced_entries`.
    pub name: String,
    pub ok: bool,
    /// What was checked, or what is wrong and where (Spanish, for finance).
    pub detail: String,
}

/// Every check, and whether all hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    pub ok: bool,
    pub checks: Vec<Check>,
}

impl Audit {
    /// The failed checks, one per line, for a log, an e-mail or a test's panic.
    pub fn failures(&self) -> String {
        self.checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const C: &str = "01938c8e-0000-7000-8000-000000000001";
    const W: &str = "01938c8e-0000-7000-8000-000000000002";

    #[test]
    fn the_worked_example_balances() {
        let e = accrual("a", C, W, Cop::pesos(48_485), Cop::pesos(9_697))
            .checked()
            .unwrap();
        assert_eq!(e.postings.len(), 3);
        assert_eq!(e.postings[0].debit, Cop::pesos(58_182));
        invoice_vat("i", "VRD-000001", C, Cop::pesos(1_842))
            .checked()
            .unwrap();
        payout("l", W, Cop::pesos(48_485), Cop::ZERO)
            .checked()
            .unwrap();
        payout_settled("l", Cop::pesos(48_485)).checked().unwrap();
    }

    #[test]
    fn unbalanced_entries_are_refused() {
        let e = Entry::new("x", "test", "x")
            .debit("platform:bank", Cop::pesos(1))
            .credit(account::FEES, Cop::pesos(2));
        assert!(matches!(e.checked(), Err(EntryError::Unbalanced(..))));
        assert!(Entry::new("y", "test", "y").checked().is_err());
    }

    #[test]
    fn account_names() {
        assert!(account::is_valid(&account::worker_payable(W)));
        assert!(account::is_valid(account::BANK));
        assert!(!account::is_valid("worker:x:payable"));
        assert!(!account::is_valid("platform:nothing"));
    }

    proptest! {
        #[test]
        fn every_posting_rule_balances(work in 1i64..10_000_000, fee in 0i64..2_000_000, wh in 0i64..1_000) {
            let (w, f, h) = (Cop::pesos(work), Cop::pesos(fee), Cop::pesos(wh.min(work)));
            prop_assert!(accrual("a", C, W, w, f).checked().is_ok());
            prop_assert!(payout("l", W, w, h).checked().is_ok());
            prop_assert!(payout_failed("l", W, w, h).checked().is_ok());
            prop_assert!(credit_note("n", "NC", C, w, f, Cop::pesos(1)).checked().is_ok());
        }
    }
}
