//! What a worker's money page shows (issue 15 §4), pure: each assignment's worth to her, what
//! waits for review, and what approved work is still unpaid.
//!
//! The API reads her assignments, her payable balance and her payout lines, and asks here.

use crate::marketplace::{AssignmentStatus, PricingKind};
use crate::money::Cop;

/// One of her assignments, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssignmentWork {
    /// `None` for a status this build does not know (worth nothing here).
    pub status: Option<AssignmentStatus>,
    pub pricing: PricingKind,
    pub rate: Cop,
    pub price: Cop,
    pub logged_seconds: i64,
    pub approved_seconds: i64,
    /// What the accrual credited her, once approved work was accrued.
    pub accrued_work: Option<Cop>,
}

impl AssignmentWork {
    /// Approved work: what was accrued (else what the approved time earns). Work awaiting
    /// review: what it earns if approved as logged. Anything else: nothing.
    pub fn amount(&self) -> Cop {
        let earned = |seconds| self.pricing.work_earned(self.rate, self.price, seconds);
        match self.status {
            Some(AssignmentStatus::Approved) => self
                .accrued_work
                .unwrap_or_else(|| earned(self.approved_seconds)),
            Some(AssignmentStatus::Submitted | AssignmentStatus::Verified) => {
                earned(self.logged_seconds)
            }
            _ => Cop::ZERO,
        }
    }

    /// Whether the work waits for review.
    pub fn awaiting_review(&self) -> bool {
        matches!(
            self.status,
            Some(AssignmentStatus::Submitted | AssignmentStatus::Verified)
        )
    }

    /// The seconds shown as approved: only an approved assignment's.
    pub fn shown_approved_seconds(&self) -> i64 {
        if self.status == Some(AssignmentStatus::Approved) {
            self.approved_seconds
        } else {
            0
        }
    }
}

/// Her ledger and payout figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PaidOut {
    /// The balance of her payable account.
    pub payable: Cop,
    /// Payout lines the bank confirmed (withholding included).
    pub paid: Cop,
    /// Payout lines sent and not yet confirmed.
    pub in_transit: Cop,
}

/// The page's totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub pending_review: Cop,
    /// Approved not yet paid: her payable balance plus what is in transit.
    pub approved_unpaid: Cop,
    pub paid: Cop,
    pub in_transit: Cop,
    pub balance_payable: Cop,
}

pub fn summary(work: &[AssignmentWork], money: PaidOut) -> Summary {
    Summary {
        pending_review: work
            .iter()
            .filter(|w| w.awaiting_review())
            .map(AssignmentWork::amount)
            .sum(),
        approved_unpaid: money.payable + money.in_transit,
        paid: money.paid,
        in_transit: money.in_transit,
        balance_payable: money.payable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hourly(status: AssignmentStatus) -> AssignmentWork {
        AssignmentWork {
            status: Some(status),
            pricing: PricingKind::Hourly,
            rate: Cop::pesos(18_500),
            price: Cop::ZERO,
            logged_seconds: 9_435,
            approved_seconds: 9_000,
            accrued_work: None,
        }
    }

    #[test]
    fn each_stage_is_worth_what_it_will_pay() {
        // DESIGN §4's worked example, awaiting review at the logged time.
        assert_eq!(
            hourly(AssignmentStatus::Submitted).amount(),
            Cop::pesos(48_485)
        );
        // Approved, not yet accrued: the approved time (2.5 h).
        let approved = hourly(AssignmentStatus::Approved);
        assert_eq!(approved.amount(), Cop::pesos(46_250));
        assert_eq!(approved.shown_approved_seconds(), 9_000);
        // Accrued: what the accrual credited.
        let accrued = AssignmentWork {
            accrued_work: Some(Cop::pesos(40_000)),
            ..approved
        };
        assert_eq!(accrued.amount(), Cop::pesos(40_000));
        let claimed = hourly(AssignmentStatus::Claimed);
        assert_eq!(claimed.amount(), Cop::ZERO);
        assert_eq!(claimed.shown_approved_seconds(), 0);
        let unknown = AssignmentWork {
            status: None,
            ..claimed
        };
        assert_eq!(unknown.amount(), Cop::ZERO);
    }

    #[test]
    fn the_summary_adds_review_and_transit() {
        let work = [
            hourly(AssignmentStatus::Submitted),
            hourly(AssignmentStatus::Verified),
            hourly(AssignmentStatus::Approved),
        ];
        let s = summary(
            &work,
            PaidOut {
                payable: Cop::pesos(46_250),
                paid: Cop::pesos(10_000),
                in_transit: Cop::pesos(5_000),
            },
        );
        assert_eq!(s.pending_review, Cop::pesos(96_970));
        assert_eq!(s.approved_unpaid, Cop::pesos(51_250));
        assert_eq!(
            (s.paid, s.in_transit, s.balance_payable),
            (Cop::pesos(10_000), Cop::pesos(5_000), Cop::pesos(46_250))
        );
    }

    proptest! {
        /// What waits for review is the sum of the amounts of exactly the work awaiting review,
        /// and nothing outside approved or awaiting review is worth anything.
        #[test]
        fn pending_review_is_the_awaiting_work(
            items in prop::collection::vec(
                (0usize..8, any::<bool>(), 0i64..100_000, 0i64..36_000, 0i64..36_000),
                0..12,
            ),
        ) {
            let work: Vec<AssignmentWork> = items
                .iter()
                .map(|(s, fixed, pesos, logged, approved)| AssignmentWork {
                    status: Some(AssignmentStatus::ALL[*s]),
                    pricing: if *fixed { PricingKind::Fixed } else { PricingKind::Hourly },
                    rate: Cop::pesos(*pesos),
                    price: Cop::pesos(*pesos),
                    logged_seconds: *logged,
                    approved_seconds: *approved,
                    accrued_work: None,
                })
                .collect();
            let s = summary(&work, PaidOut::default());
            let awaiting: Cop = work.iter().filter(|w| w.awaiting_review()).map(|w| w.amount()).sum();
            prop_assert_eq!(s.pending_review, awaiting);
            for w in &work {
                let counted = w.awaiting_review() || w.status == Some(AssignmentStatus::Approved);
                prop_assert!(counted || w.amount() == Cop::ZERO);
                prop_assert!(w.amount() >= Cop::ZERO);
            }
        }
    }
}
