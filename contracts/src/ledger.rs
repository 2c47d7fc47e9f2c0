//! The double-entry ledger's pure part: account names, journal entries that must balance, and
//! the postings of DESIGN §4. Amounts are whole pesos in `Cop`, stored as centavos.

use crate::ids::{
    AssignmentId, CompanyId, CreditNoteId, InvoiceId, PaymentId, PayoutLineId, WorkerId,
};
use crate::money::Cop;
use serde::{Deserialize, Serialize};

/// A ledger account (DESIGN §3). Stored three ways on each posting: its `name`
/// (`worker:<id>:payable`, what people and the API see), its `kind` and its `owner` (the
/// company or worker it belongs to, if any), so SQL selects a person's accounts by columns
/// and never has to build a name out of pieces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    CompanyReceivable(CompanyId),
    WorkerPayable(WorkerId),
    Fees,
    VatPayable,
    WithholdingPayable,
    PayoutsInTransit,
    Bank,
    /// What the platform absorbs when a credit note forgives work it already owes a worker.
    Adjustments,
}

impl Account {
    /// The `account_kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Account::CompanyReceivable(_) => "company_receivable",
            Account::WorkerPayable(_) => "worker_payable",
            Account::Fees => "fees",
            Account::VatPayable => "vat_payable",
            Account::WithholdingPayable => "withholding_payable",
            Account::PayoutsInTransit => "payouts_in_transit",
            Account::Bank => "bank",
            Account::Adjustments => "adjustments",
        }
    }

    /// The `account_owner` column: the company's or worker's id, `None` for the platform's.
    pub fn owner(&self) -> Option<&str> {
        match self {
            Account::CompanyReceivable(id) => Some(id.as_str()),
            Account::WorkerPayable(id) => Some(id.as_str()),
            _ => None,
        }
    }

    /// What the account is, in Spanish, for finance's screens (the owner's name goes beside).
    pub fn label_es(&self) -> &'static str {
        match self {
            Account::CompanyReceivable(_) => "Cuenta por cobrar a la empresa",
            Account::WorkerPayable(_) => "Por pagar a la persona",
            Account::Fees => "Comisiones de la plataforma",
            Account::VatPayable => "IVA por pagar",
            Account::WithholdingPayable => "Retención en la fuente por pagar",
            Account::PayoutsInTransit => "Pagos en tránsito",
            Account::Bank => "Banco",
            Account::Adjustments => "Ajustes de la plataforma",
        }
    }

    /// The account's name, as people and the API see it.
    pub fn name(&self) -> String {
        match self {
            Account::CompanyReceivable(id) => format!("company:{id}:receivable"),
            Account::WorkerPayable(id) => format!("worker:{id}:payable"),
            platform => format!("platform:{}", platform.kind()),
        }
    }

    /// The account a name names, if it is one (owners are UUIDs).
    pub fn parse(name: &str) -> Option<Account> {
        let parts: Vec<&str> = name.split(':').collect();
        let owned = |id: &str| uuid::Uuid::parse_str(id).is_ok().then(|| id.to_string());
        match parts.as_slice() {
            ["company", id, "receivable"] => {
                owned(id).map(|id| Account::CompanyReceivable(CompanyId::new(id)))
            }
            ["worker", id, "payable"] => {
                owned(id).map(|id| Account::WorkerPayable(WorkerId::new(id)))
            }
            ["platform", kind] => [
                Account::Fees,
                Account::VatPayable,
                Account::WithholdingPayable,
                Account::PayoutsInTransit,
                Account::Bank,
                Account::Adjustments,
            ]
            .into_iter()
            .find(|a| a.kind() == *kind),
            _ => None,
        }
    }
}

/// The accounts by the names the postings below use.
pub mod account {
    use super::Account;
    use crate::ids::{CompanyId, WorkerId};

    pub fn company_receivable(company_id: &CompanyId) -> Account {
        Account::CompanyReceivable(company_id.clone())
    }
    pub fn worker_payable(worker_id: &WorkerId) -> Account {
        Account::WorkerPayable(worker_id.clone())
    }
    pub const FEES: Account = Account::Fees;
    pub const VAT_PAYABLE: Account = Account::VatPayable;
    pub const WITHHOLDING_PAYABLE: Account = Account::WithholdingPayable;
    pub const PAYOUTS_IN_TRANSIT: Account = Account::PayoutsInTransit;
    pub const BANK: Account = Account::Bank;
    pub const ADJUSTMENTS: Account = Account::Adjustments;

    /// True for a name of one of the accounts above.
    pub fn is_valid(name: &str) -> bool {
        Account::parse(name).is_some()
    }
}

/// Debits and credits summed over accounts: the trial balance holds when they are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub debit: Cop,
    pub credit: Cop,
}

impl Totals {
    /// The totals of `(debit, credit)` per account.
    pub fn of(accounts: impl IntoIterator<Item = (Cop, Cop)>) -> Totals {
        accounts
            .into_iter()
            .fold(Totals::default(), |t, (debit, credit)| Totals {
                debit: t.debit + debit,
                credit: t.credit + credit,
            })
    }

    pub fn balanced(&self) -> bool {
        self.debit == self.credit
    }

    /// Debits less credits (an asset's balance).
    pub fn balance(&self) -> Cop {
        self.debit - self.credit
    }
}

/// One line of a journal entry: a debit or a credit to one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account: Account,
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
    pub fn debit(mut self, account: Account, amount: Cop) -> Entry {
        if amount != Cop::ZERO {
            self.postings.push(Posting {
                account,
                debit: amount,
                credit: Cop::ZERO,
            });
        }
        self
    }

    /// Credit `amount` to `account` (skipped when zero).
    pub fn credit(mut self, account: Account, amount: Cop) -> Entry {
        if amount != Cop::ZERO {
            self.postings.push(Posting {
                account,
                debit: Cop::ZERO,
                credit: amount,
            });
        }
        self
    }

    /// Credit `amount` to `account`, or debit it when negative (a withholding refunded with a
    /// payout: the month had withheld more than it owes).
    pub fn credit_signed(self, account: Account, amount: Cop) -> Entry {
        if amount < Cop::ZERO {
            self.debit(account, Cop::ZERO - amount)
        } else {
            self.credit(account, amount)
        }
    }

    /// Debit `amount` to `account`, or credit it when negative.
    pub fn debit_signed(self, account: Account, amount: Cop) -> Entry {
        if amount < Cop::ZERO {
            self.credit(account, Cop::ZERO - amount)
        } else {
            self.debit(account, amount)
        }
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
    assignment_id: &AssignmentId,
    company_id: &CompanyId,
    worker_id: &WorkerId,
    work: Cop,
    fee: Cop,
) -> Entry {
    accrual_part(assignment_id, 0, company_id, worker_id, work, fee)
}

/// The accrual of one part of an assignment's pay: part 0 is the approval's, part 1 the hours
/// a platform overturn restored (issue 21). Each has its own effect key.
pub fn accrual_part(
    assignment_id: &AssignmentId,
    part: i64,
    company_id: &CompanyId,
    worker_id: &WorkerId,
    work: Cop,
    fee: Cop,
) -> Entry {
    let (key, memo) = if part == 0 {
        (
            format!("accrue:{assignment_id}"),
            format!("Trabajo aprobado {assignment_id}"),
        )
    } else {
        (
            format!("accrue:{assignment_id}:{part}"),
            format!("Horas restituidas por apelación {assignment_id}"),
        )
    };
    Entry::new(key, "accrual", memo)
        .debit(account::company_receivable(company_id), work + fee)
        .credit(account::worker_payable(worker_id), work)
        .credit(account::FEES, fee)
}

/// On invoice issue: Dr company receivable / Cr VAT payable.
pub fn invoice_vat(
    invoice_id: &InvoiceId,
    number: &str,
    company_id: &CompanyId,
    vat: Cop,
) -> Entry {
    Entry::new(
        format!("invoice:{invoice_id}"),
        "invoice",
        format!("IVA factura {number}"),
    )
    .debit(account::company_receivable(company_id), vat)
    .credit(account::VAT_PAYABLE, vat)
}

/// On company payment: Dr bank / Cr company receivable.
pub fn company_payment(payment_id: &PaymentId, company_id: &CompanyId, amount: Cop) -> Entry {
    Entry::new(
        format!("payment:{payment_id}"),
        "payment",
        format!("Pago recibido {payment_id}"),
    )
    .debit(account::BANK, amount)
    .credit(account::company_receivable(company_id), amount)
}

/// On payout: Dr worker payable / Cr payouts in transit (and withholding payable). A negative
/// withholding (an excess of the month's earlier payouts given back) is a debit to withholding
/// payable: the bank then sends more than leaves her payable account.
pub fn payout(
    line_id: &PayoutLineId,
    worker_id: &WorkerId,
    amount: Cop,
    withholding: Cop,
) -> Entry {
    Entry::new(
        format!("payout:{line_id}"),
        "payout",
        format!("Pago a trabajador {line_id}"),
    )
    .debit(account::worker_payable(worker_id), amount)
    .credit(account::PAYOUTS_IN_TRANSIT, amount - withholding)
    .credit_signed(account::WITHHOLDING_PAYABLE, withholding)
}

/// On bank confirmation: Dr payouts in transit / Cr bank.
pub fn payout_settled(line_id: &PayoutLineId, net: Cop) -> Entry {
    Entry::new(
        format!("payout-paid:{line_id}"),
        "payout_settled",
        format!("Pago confirmado {line_id}"),
    )
    .debit(account::PAYOUTS_IN_TRANSIT, net)
    .credit(account::BANK, net)
}

/// A failed payout goes back to the worker's payable: the payout entry reversed.
pub fn payout_failed(
    line_id: &PayoutLineId,
    worker_id: &WorkerId,
    amount: Cop,
    withholding: Cop,
) -> Entry {
    Entry::new(
        format!("payout-failed:{line_id}"),
        "payout_failed",
        format!("Pago fallido {line_id}"),
    )
    .debit(account::PAYOUTS_IN_TRANSIT, amount - withholding)
    .debit_signed(account::WITHHOLDING_PAYABLE, withholding)
    .credit(account::worker_payable(worker_id), amount)
}

/// A credit note reverses part of an invoice: Dr fees and VAT payable, and Dr adjustments for
/// the work (the worker keeps their pay; the platform absorbs it) / Cr company receivable.
pub fn credit_note(
    note_id: &CreditNoteId,
    number: &str,
    company_id: &CompanyId,
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

    const C_ID: &str = "01938c8e-0000-7000-8000-000000000001";
    const W_ID: &str = "01938c8e-0000-7000-8000-000000000002";

    fn company() -> CompanyId {
        CompanyId::new(C_ID)
    }
    fn worker() -> WorkerId {
        WorkerId::new(W_ID)
    }

    #[test]
    fn the_worked_example_balances() {
        let e = accrual(
            &AssignmentId::new("a"),
            &company(),
            &worker(),
            Cop::pesos(48_485),
            Cop::pesos(9_697),
        )
        .checked()
        .unwrap();
        assert_eq!(e.postings.len(), 3);
        assert_eq!(e.postings[0].debit, Cop::pesos(58_182));
        invoice_vat(
            &InvoiceId::new("i"),
            "VRD-000001",
            &company(),
            Cop::pesos(1_842),
        )
        .checked()
        .unwrap();
        payout(
            &PayoutLineId::new("l"),
            &worker(),
            Cop::pesos(48_485),
            Cop::ZERO,
        )
        .checked()
        .unwrap();
        payout_settled(&PayoutLineId::new("l"), Cop::pesos(48_485))
            .checked()
            .unwrap();
    }

    #[test]
    fn a_refunded_withholding_debits_the_withholding_account_and_still_balances() {
        let line = PayoutLineId::new("l");
        // 10,000 leave her payable; 500 withheld too much earlier in the month come back.
        let e = payout(&line, &worker(), Cop::pesos(10_000), Cop::pesos(-500))
            .checked()
            .unwrap();
        let withheld = e
            .postings
            .iter()
            .find(|p| p.account == account::WITHHOLDING_PAYABLE)
            .unwrap();
        assert_eq!(
            (withheld.debit, withheld.credit),
            (Cop::pesos(500), Cop::ZERO)
        );
        let transit = e
            .postings
            .iter()
            .find(|p| p.account == account::PAYOUTS_IN_TRANSIT)
            .unwrap();
        assert_eq!(transit.credit, Cop::pesos(10_500));
        // The bank fails it: everything returns where it was.
        let back = payout_failed(&line, &worker(), Cop::pesos(10_000), Cop::pesos(-500))
            .checked()
            .unwrap();
        let withheld = back
            .postings
            .iter()
            .find(|p| p.account == account::WITHHOLDING_PAYABLE)
            .unwrap();
        assert_eq!(
            (withheld.debit, withheld.credit),
            (Cop::ZERO, Cop::pesos(500))
        );
    }

    #[test]
    fn unbalanced_entries_are_refused() {
        let e = Entry::new("x", "test", "x")
            .debit(account::BANK, Cop::pesos(1))
            .credit(account::FEES, Cop::pesos(2));
        assert!(matches!(e.checked(), Err(EntryError::Unbalanced(..))));
        assert!(Entry::new("y", "test", "y").checked().is_err());
    }

    #[test]
    fn account_names() {
        assert!(account::is_valid(
            &account::worker_payable(&worker()).name()
        ));
        assert!(account::is_valid("platform:bank"));
        assert_eq!(account::BANK.name(), "platform:bank");
        assert_eq!(account::worker_payable(&worker()).owner(), Some(W_ID));
        assert_eq!(account::worker_payable(&worker()).kind(), "worker_payable");
        assert_eq!(account::FEES.owner(), None);
        assert!(!account::is_valid("worker:x:payable"));
        assert!(!account::is_valid("platform:nothing"));
        assert!(!account::is_valid("platform:bank:extra"));
    }

    fn any_account() -> impl Strategy<Value = Account> {
        let id = any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).to_string());
        prop_oneof![
            id.clone()
                .prop_map(|id| Account::CompanyReceivable(CompanyId::new(id))),
            id.prop_map(|id| Account::WorkerPayable(WorkerId::new(id))),
            Just(Account::Fees),
            Just(Account::VatPayable),
            Just(Account::WithholdingPayable),
            Just(Account::PayoutsInTransit),
            Just(Account::Bank),
            Just(Account::Adjustments),
        ]
    }

    proptest! {
        /// The trial balance of the postings of balanced entries always holds, and the
        /// totals are the sums of the parts.
        #[test]
        fn totals_of_balanced_entries_balance(works in proptest::collection::vec((1i64..1_000_000, 0i64..100_000), 0..20)) {
            let mut per_account: std::collections::BTreeMap<String, (Cop, Cop)> = Default::default();
            for (i, (w, f)) in works.iter().enumerate() {
                let e = accrual(&AssignmentId::new(format!("a{i}")), &company(), &worker(), Cop::pesos(*w), Cop::pesos(*f));
                for p in e.checked().unwrap().postings {
                    let slot = per_account.entry(p.account.name()).or_default();
                    slot.0 = slot.0 + p.debit;
                    slot.1 = slot.1 + p.credit;
                }
            }
            let totals = Totals::of(per_account.values().copied());
            prop_assert!(totals.balanced());
            prop_assert_eq!(totals.balance(), Cop::ZERO);
            let work: i64 = works.iter().map(|(w, f)| w + f).sum();
            prop_assert_eq!(totals.debit, Cop::pesos(work));
        }

        /// A name read back is the same account, and its columns agree with it: what the
        /// migration derives from old names and what the journal writes are the same thing.
        #[test]
        fn an_account_is_its_name_and_its_columns(a in any_account()) {
            prop_assert_eq!(Account::parse(&a.name()), Some(a.clone()));
            let name = a.name();
            match a.owner() {
                Some(owner) => prop_assert!(name.contains(owner)),
                None => prop_assert_eq!(name, format!("platform:{}", a.kind())),
            }
        }

        #[test]
        fn every_posting_rule_balances(work in 1i64..10_000_000, fee in 0i64..2_000_000, wh in 0i64..1_000) {
            let (w, f, h) = (Cop::pesos(work), Cop::pesos(fee), Cop::pesos(wh.min(work)));
            prop_assert!(accrual(&AssignmentId::new("a"), &company(), &worker(), w, f).checked().is_ok());
            prop_assert!(payout(&PayoutLineId::new("l"), &worker(), w, h).checked().is_ok());
            prop_assert!(payout_failed(&PayoutLineId::new("l"), &worker(), w, h).checked().is_ok());
            prop_assert!(credit_note(&CreditNoteId::new("n"), "NC", &company(), w, f, Cop::pesos(1)).checked().is_ok());
        }
    }
}
