//! What an issued invoice is still owed, pure: payments and credit notes are both checked
//! against one outstanding amount (total − payments − credit notes, counting those recorded
//! but not yet posted), and a credit note's figures, IVA included.
//!
//! The API locks the invoice's row, reads what was recorded against it, and asks here; the
//! database only stores the answer. A credit note's IVA is worked out cumulatively so that the
//! notes on one invoice never credit more IVA than the invoice charged, and credit all of it
//! once the whole fee is credited (issue 14 §4).

use rust_decimal::Decimal;

use crate::money::{Cop, vat};

/// An issued invoice's figures, as billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invoice {
    pub work: Cop,
    pub fee: Cop,
    pub vat: Cop,
    pub total: Cop,
    pub vat_rate: Decimal,
}

/// What was recorded against an invoice so far (posted or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Recorded {
    /// Payments not reversed.
    pub paid: Cop,
    /// Credit notes' work, fee and IVA.
    pub credited_work: Cop,
    pub credited_fee: Cop,
    pub credited_vat: Cop,
}

impl Recorded {
    pub fn credited(&self) -> Cop {
        self.credited_work + self.credited_fee + self.credited_vat
    }

    /// Total − payments − credit notes. Never negative when every payment and note went
    /// through [`check_payment`] and [`credit_note`].
    pub fn outstanding(&self, invoice: &Invoice) -> Cop {
        balance_due(invoice.total, self.paid, self.credited())
    }
}

/// What an invoice still owes: its total less what was paid and credited on it. Shown as it
/// is, negative included (an overpayment is owed back, never hidden).
pub fn balance_due(total: Cop, paid: Cop, credited: Cop) -> Cop {
    total - paid - credited
}

/// A payment refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PaymentRefusal {
    /// More than the invoice still owes, counting payments and credit notes not yet posted.
    /// Refused rather than kept as a credit balance: money received beyond what is owed is
    /// returned to the company, never left as a negative balance nobody sees.
    #[error(
        "la factura tiene un saldo pendiente de {}; un pago de {} lo supera",
        .outstanding.to_es_co(),
        .amount.to_es_co()
    )]
    Overpayment { outstanding: Cop, amount: Cop },
}

impl PaymentRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            PaymentRefusal::Overpayment { .. } => "overpayment",
        }
    }

    pub fn field(&self) -> &'static str {
        match self {
            PaymentRefusal::Overpayment { .. } => "amount",
        }
    }
}

/// A payment's date that cannot be real: more than a day ahead (time zones, a clock running
/// fast), or more than five years back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a real date, not in the future")]
pub struct PaidAtOutOfRange;

/// Whether a payment said to be made at `paid_at` can have been, seen at `now`.
pub fn check_paid_at(paid_at: i64, now: i64) -> Result<(), PaidAtOutOfRange> {
    const DAY: i64 = 86_400;
    if paid_at > now + DAY || paid_at < now - 5 * 366 * DAY {
        return Err(PaidAtOutOfRange);
    }
    Ok(())
}

/// Whether a payment of `amount` fits what the invoice still owes.
pub fn check_payment(
    invoice: &Invoice,
    recorded: &Recorded,
    amount: Cop,
) -> Result<(), PaymentRefusal> {
    let outstanding = recorded.outstanding(invoice);
    if amount > outstanding {
        return Err(PaymentRefusal::Overpayment {
            outstanding,
            amount,
        });
    }
    Ok(())
}

/// A credit note's figures: what it credits, with its IVA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoteFigures {
    pub work: Cop,
    pub fee: Cop,
    pub vat: Cop,
    pub total: Cop,
}

/// A credit note refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CreditRefusal {
    #[error("la nota crédito debe acreditar trabajo o comisión (más de cero)")]
    Nothing,
    #[error("quedan {} de trabajo por acreditar en esta factura", .left.to_es_co())]
    WorkExceeds { left: Cop },
    #[error("quedan {} de comisión por acreditar en esta factura", .left.to_es_co())]
    FeeExceeds { left: Cop },
    /// The note would take the invoice below zero: it was paid (or credited) meanwhile.
    #[error(
        "la factura tiene un saldo pendiente de {}; una nota crédito de {} lo supera (si la \
         empresa ya pagó, reverse primero el pago que se le devolverá)",
        .outstanding.to_es_co(),
        .total.to_es_co()
    )]
    ExceedsOutstanding { outstanding: Cop, total: Cop },
}

impl CreditRefusal {
    /// The problem's code: crediting nothing is a validation failure; the rest break a rule.
    pub fn code(&self) -> &'static str {
        match self {
            CreditRefusal::Nothing => "validation_failed",
            CreditRefusal::WorkExceeds { .. } | CreditRefusal::FeeExceeds { .. } => "over_credit",
            CreditRefusal::ExceedsOutstanding { .. } => "exceeds_outstanding",
        }
    }

    /// The field to change, for a note that credits `work`: a note over what is owed names
    /// its work when it credits any, else its fee.
    pub fn field(&self, work: Cop) -> &'static str {
        match self {
            CreditRefusal::Nothing | CreditRefusal::WorkExceeds { .. } => "work",
            CreditRefusal::FeeExceeds { .. } => "fee",
            CreditRefusal::ExceedsOutstanding { .. } if work > Cop::ZERO => "work",
            CreditRefusal::ExceedsOutstanding { .. } => "fee",
        }
    }
}

/// The IVA a note crediting `fee` carries, given the fee and IVA credited before it: the IVA
/// of all the fee credited so far (rounded once, as the invoice's was) less the IVA already
/// credited, kept within what the invoice charged; the note that credits the last of the fee
/// takes whatever IVA remains.
pub fn note_vat(invoice: &Invoice, fee_before: Cop, vat_before: Cop, fee: Cop) -> Cop {
    let remaining = (invoice.vat - vat_before).max(Cop::ZERO);
    if fee_before + fee >= invoice.fee {
        return remaining;
    }
    let cumulative = vat(fee_before + fee, invoice.vat_rate);
    (cumulative - vat_before).max(Cop::ZERO).min(remaining)
}

/// The figures of a note crediting `work` and `fee` (whole pesos, zero allowed for one of
/// them), or why it is refused: nothing to credit, more work or fee than remains, or more than
/// the invoice still owes.
pub fn credit_note(
    invoice: &Invoice,
    recorded: &Recorded,
    work: Cop,
    fee: Cop,
) -> Result<NoteFigures, CreditRefusal> {
    if work <= Cop::ZERO && fee <= Cop::ZERO {
        return Err(CreditRefusal::Nothing);
    }
    let work_left = invoice.work - recorded.credited_work;
    if work > work_left {
        return Err(CreditRefusal::WorkExceeds { left: work_left });
    }
    let fee_left = invoice.fee - recorded.credited_fee;
    if fee > fee_left {
        return Err(CreditRefusal::FeeExceeds { left: fee_left });
    }
    let vat = note_vat(invoice, recorded.credited_fee, recorded.credited_vat, fee);
    let total = work + fee + vat;
    let outstanding = recorded.outstanding(invoice);
    if total > outstanding {
        return Err(CreditRefusal::ExceedsOutstanding { outstanding, total });
    }
    Ok(NoteFigures {
        work,
        fee,
        vat,
        total,
    })
}

/// The receivables report's age groups: 0–30, 31–60, 61–90 and more than 90 days since the
/// invoice was issued (whole days of 24 hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AgeBucket {
    UpTo30,
    Days31To60,
    Days61To90,
    Over90,
}

impl AgeBucket {
    pub fn of(issued_at: i64, now: i64) -> AgeBucket {
        match (now - issued_at) / 86_400 {
            ..=30 => AgeBucket::UpTo30,
            31..=60 => AgeBucket::Days31To60,
            61..=90 => AgeBucket::Days61To90,
            _ => AgeBucket::Over90,
        }
    }
}

/// What is owed, in centavos, by age group. A negative amount (a credit) counts as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Aging(pub [i64; 4]);

impl Aging {
    pub fn add(&mut self, bucket: AgeBucket, centavos: i64) {
        self.0[bucket as usize] += centavos;
    }

    pub fn get(&self, bucket: AgeBucket) -> i64 {
        self.0[bucket as usize]
    }

    pub fn total(&self) -> i64 {
        self.0.iter().sum()
    }
}

/// The receivables report: what each group (a company) owes by age, and the totals, from
/// each invoice's group, issue instant and amount owed in centavos.
pub fn aging_by<K: Ord>(
    invoices: impl IntoIterator<Item = (K, i64, i64)>,
    now: i64,
) -> (std::collections::BTreeMap<K, Aging>, Aging) {
    let mut groups = std::collections::BTreeMap::<K, Aging>::new();
    let mut totals = Aging::default();
    for (key, issued_at, owed) in invoices {
        let bucket = AgeBucket::of(issued_at, now);
        groups.entry(key).or_default().add(bucket, owed);
        totals.add(bucket, owed);
    }
    (groups, totals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::platform_fee;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    /// DESIGN §4's worked example: work 48,485, fee 9,697, IVA 1,842, total 60,024.
    fn worked() -> Invoice {
        Invoice {
            work: Cop::pesos(48_485),
            fee: Cop::pesos(9_697),
            vat: Cop::pesos(1_842),
            total: Cop::pesos(60_024),
            vat_rate: dec!(0.19),
        }
    }

    fn apply(r: &mut Recorded, n: &NoteFigures) {
        r.credited_work = r.credited_work + n.work;
        r.credited_fee = r.credited_fee + n.fee;
        r.credited_vat = r.credited_vat + n.vat;
    }

    #[test]
    fn the_note_that_exhausts_the_fee_takes_the_remaining_iva() {
        let inv = worked();
        let mut r = Recorded::default();
        let first = credit_note(&inv, &r, Cop::ZERO, Cop::pesos(50)).unwrap();
        assert_eq!(first.vat, Cop::pesos(10), "9.5 rounds to 10");
        apply(&mut r, &first);
        let second = credit_note(&inv, &r, Cop::ZERO, Cop::pesos(9_647)).unwrap();
        // Per note it would be 1,833 (1,843 in all); the last note takes the remainder.
        assert_eq!(second.vat, Cop::pesos(1_832));
        apply(&mut r, &second);
        assert_eq!(r.credited_vat, inv.vat);
        assert_eq!(
            credit_note(&inv, &r, Cop::ZERO, Cop::pesos(1)),
            Err(CreditRefusal::FeeExceeds { left: Cop::ZERO })
        );
    }

    #[test]
    fn more_than_remains_or_is_owed_is_refused() {
        let inv = worked();
        let r = Recorded::default();
        assert_eq!(
            credit_note(&inv, &r, Cop::ZERO, Cop::ZERO),
            Err(CreditRefusal::Nothing)
        );
        assert_eq!(
            credit_note(&inv, &r, Cop::pesos(48_486), Cop::ZERO),
            Err(CreditRefusal::WorkExceeds {
                left: Cop::pesos(48_485)
            })
        );
        assert_eq!(
            credit_note(&inv, &r, Cop::ZERO, Cop::pesos(9_698)),
            Err(CreditRefusal::FeeExceeds {
                left: Cop::pesos(9_697)
            })
        );
        // Paid in full: nothing is left to credit (issue 13 §5: paid and credited = −49,520).
        let paid = Recorded {
            paid: Cop::pesos(60_024),
            ..Default::default()
        };
        assert_eq!(
            credit_note(&inv, &paid, Cop::pesos(40_000), Cop::pesos(8_000)),
            Err(CreditRefusal::ExceedsOutstanding {
                outstanding: Cop::ZERO,
                total: Cop::pesos(49_520)
            })
        );
        // Credited in full: no payment fits.
        let mut credited = Recorded::default();
        let all = credit_note(&inv, &credited, inv.work, inv.fee).unwrap();
        apply(&mut credited, &all);
        assert_eq!(credited.outstanding(&inv), Cop::ZERO);
        assert!(check_payment(&inv, &credited, Cop::pesos(1)).is_err());
        assert!(check_payment(&inv, &Recorded::default(), inv.total).is_ok());
        assert_eq!(
            check_payment(&inv, &Recorded::default(), Cop::pesos(60_025)),
            Err(PaymentRefusal::Overpayment {
                outstanding: Cop::pesos(60_024),
                amount: Cop::pesos(60_025)
            })
        );
    }

    #[test]
    fn refusals_name_their_code_and_field() {
        let over = CreditRefusal::ExceedsOutstanding {
            outstanding: Cop::ZERO,
            total: Cop::pesos(1),
        };
        assert_eq!(over.code(), "exceeds_outstanding");
        assert_eq!(over.field(Cop::pesos(1)), "work");
        assert_eq!(over.field(Cop::ZERO), "fee");
        let fee = CreditRefusal::FeeExceeds { left: Cop::ZERO };
        assert_eq!(
            (fee.code(), fee.field(Cop::pesos(5))),
            ("over_credit", "fee")
        );
        let pay = PaymentRefusal::Overpayment {
            outstanding: Cop::ZERO,
            amount: Cop::pesos(1),
        };
        assert_eq!((pay.code(), pay.field()), ("overpayment", "amount"));
    }

    #[test]
    fn payment_dates_are_within_a_day_ahead_and_five_years_back() {
        let now = 2_000_000_000;
        assert!(check_paid_at(now, now).is_ok());
        assert!(check_paid_at(now + 86_400, now).is_ok());
        assert!(check_paid_at(now + 86_401, now).is_err());
        assert!(check_paid_at(now - 5 * 366 * 86_400, now).is_ok());
        assert!(check_paid_at(now - 5 * 366 * 86_400 - 1, now).is_err());
    }

    #[test]
    fn refusals_read_in_spanish() {
        let e = CreditRefusal::FeeExceeds {
            left: Cop::pesos(9_697),
        };
        assert_eq!(
            e.to_string(),
            "quedan $ 9.697 de comisión por acreditar en esta factura"
        );
    }

    /// An invoice built the way billing builds one, with any rate of IVA.
    fn invoice(work: i64, margin_bp: i64, vat_bp: i64) -> Invoice {
        let work = Cop::pesos(work);
        let fee = platform_fee(
            work,
            crate::money::Margin::from_bp(margin_bp).expect("a margin"),
        );
        let rate = Decimal::new(vat_bp, 4);
        let iva = vat(fee, rate);
        Invoice {
            work,
            fee,
            vat: iva,
            total: work + fee + iva,
            vat_rate: rate,
        }
    }

    proptest! {
        /// Any sequence of notes: their IVA never exceeds the invoice's, each is ≥ 0, and it
        /// equals the invoice's once the whole fee is credited; the outstanding amount never
        /// goes below zero, payments included.
        #[test]
        fn notes_never_credit_more_iva_than_was_charged(
            work in 1i64..5_000_000,
            margin_bp in 0i64..5_000,
            vat_bp in prop::sample::select(vec![0i64, 500, 1600, 1900]),
            parts in prop::collection::vec((0u32..100, 0u32..100, 0u32..3), 1..12),
            finish in any::<bool>(),
        ) {
            let inv = invoice(work, margin_bp, vat_bp);
            let mut r = Recorded::default();
            for (w, f, pay) in parts {
                let fee_left = inv.fee - r.credited_fee;
                let work_left = inv.work - r.credited_work;
                let fee = Cop::new(fee_left.amount() * Decimal::from(f) / Decimal::from(100)).round_pesos();
                let wk = Cop::new(work_left.amount() * Decimal::from(w) / Decimal::from(100)).round_pesos();
                if pay == 0 {
                    let amount = Cop::new(r.outstanding(&inv).amount() / Decimal::from(3)).round_pesos();
                    if amount > Cop::ZERO && check_payment(&inv, &r, amount).is_ok() {
                        r.paid = r.paid + amount;
                    }
                }
                if let Ok(n) = credit_note(&inv, &r, wk, fee) {
                    prop_assert!(n.vat >= Cop::ZERO);
                    prop_assert_eq!(n.total, n.work + n.fee + n.vat);
                    apply(&mut r, &n);
                }
                prop_assert!(r.credited_vat <= inv.vat);
                prop_assert!(r.credited_fee <= inv.fee && r.credited_work <= inv.work);
                prop_assert!(r.outstanding(&inv) >= Cop::ZERO);
            }
            if finish && r.paid == Cop::ZERO {
                let rest = credit_note(&inv, &r, inv.work - r.credited_work, inv.fee - r.credited_fee);
                if let Ok(n) = rest {
                    apply(&mut r, &n);
                }
                if r.credited_fee == inv.fee {
                    prop_assert_eq!(r.credited_vat, inv.vat);
                }
            }
            if r.credited_fee == inv.fee {
                prop_assert_eq!(r.credited_vat, inv.vat);
            }
        }
    }

    #[test]
    fn age_groups_change_after_days_30_60_and_90() {
        let day = 86_400;
        let cases = [
            (0, AgeBucket::UpTo30),
            (30 * day + day - 1, AgeBucket::UpTo30),
            (31 * day, AgeBucket::Days31To60),
            (60 * day, AgeBucket::Days31To60),
            (61 * day, AgeBucket::Days61To90),
            (90 * day, AgeBucket::Days61To90),
            (91 * day, AgeBucket::Over90),
            (-day, AgeBucket::UpTo30),
        ];
        for (age, bucket) in cases {
            assert_eq!(
                AgeBucket::of(1_000_000_000, 1_000_000_000 + age),
                bucket,
                "{age} s"
            );
        }
    }

    proptest! {
        /// Older never lands in a younger group, and the report's total is every amount once.
        #[test]
        fn aging_keeps_every_peso_and_the_order_of_age(
            invoices in proptest::collection::vec((0i64..400 * 86_400, -1_000_000i64..10_000_000), 0..40),
        ) {
            let now = 2_000_000_000;
            let mut aging = Aging::default();
            for (age, owed) in &invoices {
                aging.add(AgeBucket::of(now - age, now), *owed);
                prop_assert!(AgeBucket::of(now - age, now) <= AgeBucket::of(now - age - 86_400, now));
            }
            prop_assert_eq!(aging.total(), invoices.iter().map(|(_, o)| o).sum::<i64>());
        }

        /// The groups add up to the totals, bucket by bucket.
        #[test]
        fn groups_add_up_to_the_totals(
            invoices in proptest::collection::vec((0u8..5, 0i64..400 * 86_400, -1_000_000i64..10_000_000), 0..40),
        ) {
            let now = 2_000_000_000;
            let (groups, totals) = aging_by(invoices.iter().map(|(k, age, owed)| (*k, now - age, *owed)), now);
            let mut sum = Aging::default();
            for a in groups.values() {
                for (i, c) in a.0.iter().enumerate() {
                    sum.0[i] += c;
                }
            }
            prop_assert_eq!(sum, totals);
        }
    }
}
