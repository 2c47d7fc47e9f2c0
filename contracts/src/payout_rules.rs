//! Who is paid in a payout batch and how much, pure: a worker gets a line when her payable
//! balance, in whole pesos, is at least the minimum payout and her payout method did not change
//! within the hold (`accounts::payout_held`); the line pays all of it, less the withholding.
//!
//! The worker selects candidates in SQL (an index lookup per worker), locks their rows, reads
//! each balance again and asks here; only the lines this answers are written.

use rust_decimal::Decimal;

use crate::accounts::{PAYOUT_HOLD_SECS, payout_held};
use crate::money::{Cop, withholding};

/// A worker's standing when a batch is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owed {
    /// Her payable balance (credits − debits of her payable account).
    pub balance: Cop,
    /// When her payout method last changed (`None`: never since the account was made).
    pub method_changed_at: Option<i64>,
}

/// The configured limits of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayoutTerms {
    pub now: i64,
    pub minimum: Cop,
    pub withholding_rate: Decimal,
}

/// A payout line's figures: `amount` leaves her payable account; `withholding` is kept for
/// the tax authority and `net` is what the bank sends her.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineFigures {
    pub amount: Cop,
    pub withholding: Cop,
    pub net: Cop,
}

impl LineFigures {
    /// A stored line's figures: the net is what the bank sends, the amount less withholding.
    pub fn stored(amount: Cop, withholding: Cop) -> LineFigures {
        LineFigures {
            amount,
            withholding,
            net: amount - withholding,
        }
    }
}

/// Why a worker gets no line in this batch (her balance stays payable for a later one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoPayout {
    /// Her payout method changed less than the hold ago: paid in a batch built from `until`.
    #[error("su medio de pago cambió hace menos de un día; entra en el primer lote después")]
    Held { until: i64 },
    /// Owed less than the minimum payout.
    #[error(
        "su saldo de {} es menor que el pago mínimo de {}",
        .amount.to_es_co(),
        .minimum.to_es_co()
    )]
    BelowMinimum { amount: Cop, minimum: Cop },
}

impl NoPayout {
    pub fn code(&self) -> &'static str {
        match self {
            NoPayout::Held { .. } => "payout_held",
            NoPayout::BelowMinimum { .. } => "below_minimum_payout",
        }
    }
}

/// The line a worker gets in a batch built under `terms`, or why she gets none.
pub fn payout_line(owed: Owed, terms: &PayoutTerms) -> Result<LineFigures, NoPayout> {
    if payout_held(owed.method_changed_at, terms.now) {
        let until = owed.method_changed_at.unwrap_or(terms.now) + PAYOUT_HOLD_SECS;
        return Err(NoPayout::Held { until });
    }
    let amount = owed.balance.round_pesos();
    if amount < terms.minimum {
        return Err(NoPayout::BelowMinimum {
            amount,
            minimum: terms.minimum,
        });
    }
    let kept = withholding(amount, terms.withholding_rate);
    Ok(LineFigures {
        amount,
        withholding: kept,
        net: amount - kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn terms() -> PayoutTerms {
        PayoutTerms {
            now: 2_000_000_000,
            minimum: Cop::pesos(20_000),
            withholding_rate: dec!(0.04),
        }
    }

    #[test]
    fn owed_the_minimum_and_not_held_is_paid_all_of_it() {
        let t = terms();
        let line = payout_line(
            Owed {
                balance: Cop::pesos(48_485),
                method_changed_at: None,
            },
            &t,
        )
        .unwrap();
        assert_eq!(
            line,
            LineFigures {
                amount: Cop::pesos(48_485),
                withholding: Cop::pesos(1_939),
                net: Cop::pesos(46_546),
            }
        );
        let exactly = Owed {
            balance: Cop::pesos(20_000),
            method_changed_at: Some(t.now - PAYOUT_HOLD_SECS),
        };
        assert_eq!(payout_line(exactly, &t).unwrap().amount, Cop::pesos(20_000));
    }

    #[test]
    fn below_the_minimum_or_a_recent_change_waits() {
        let t = terms();
        let short = Owed {
            balance: Cop::pesos(19_999),
            method_changed_at: None,
        };
        assert_eq!(
            payout_line(short, &t),
            Err(NoPayout::BelowMinimum {
                amount: Cop::pesos(19_999),
                minimum: Cop::pesos(20_000)
            })
        );
        let changed = Owed {
            balance: Cop::pesos(500_000),
            method_changed_at: Some(t.now - 60),
        };
        let e = payout_line(changed, &t).unwrap_err();
        assert_eq!(
            e,
            NoPayout::Held {
                until: t.now - 60 + PAYOUT_HOLD_SECS
            }
        );
        assert_eq!(e.code(), "payout_held");
    }

    proptest! {
        /// A line pays the whole balance in pesos, never below the minimum, and its withholding
        /// and net add up to it; a worker gets a line exactly when she is neither held nor short.
        #[test]
        fn lines_add_up_and_respect_the_limits(
            centavos in -100_000_000i64..1_000_000_000,
            changed_ago in prop::option::of(0i64..3 * PAYOUT_HOLD_SECS),
            minimum in 0i64..100_000,
            rate_bp in 0i64..2_000,
        ) {
            let t = PayoutTerms {
                now: 2_000_000_000,
                minimum: Cop::pesos(minimum),
                withholding_rate: Decimal::new(rate_bp, 4),
            };
            let owed = Owed {
                balance: Cop::from_centavos(centavos),
                method_changed_at: changed_ago.map(|ago| t.now - ago),
            };
            let held = payout_held(owed.method_changed_at, t.now);
            match payout_line(owed, &t) {
                Ok(l) => {
                    prop_assert!(!held);
                    prop_assert_eq!(l.amount, owed.balance.round_pesos());
                    prop_assert!(l.amount >= t.minimum);
                    prop_assert_eq!(l.withholding + l.net, l.amount);
                    prop_assert!(l.withholding >= Cop::ZERO && l.withholding <= l.amount);
                }
                Err(NoPayout::Held { until }) => {
                    prop_assert!(held);
                    prop_assert!(until > t.now);
                }
                Err(NoPayout::BelowMinimum { amount, .. }) => {
                    prop_assert!(!held);
                    prop_assert!(amount < t.minimum);
                }
            }
        }
    }
}
