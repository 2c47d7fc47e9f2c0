//! Retención en la fuente on what a worker is paid, by Colombian rules (issue 20): worked out per
//! payee per calendar month over everything paid to her that month, so splitting a month into
//! weekly payouts withholds what one monthly payout would. The figures (rates, bases, the
//! art. 383 table, UVT) are effective-dated data in `legal`; this module is the rule.
//!
//! How a month is withheld on:
//! - a payee who signed the statement of having hired fewer than two workers: the art. 383
//!   table, on the month's income less her declared health and pension contributions and less
//!   the 25 % exempt income (capped);
//! - otherwise her concept's rate on the whole month, once the month reaches the concept's base
//!   (servicios 4 % to a filer, 6 % to a non-filer, from 2 UVT; honorarios 10 %, 11 % above
//!   3,300 UVT in the year).
//!
//! Each payment withholds what the month owes so far less what was already withheld, never more
//! than the payment itself: when a small payment crosses the base the rest of the jump is
//! carried to the month's next payment, and an excess (the art. 383 table is not monotone) is
//! returned with the next one.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::legal::{Art383, GmfLimits, WithholdingRates};
use crate::money::Cop;

/// What a payee is paid for (her fiscal profile says which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Concept {
    /// Servicios en general.
    Services,
    /// Honorarios (qualified, mostly intellectual work).
    Honorarios,
}

/// The parts of a payee's fiscal profile the rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payee {
    pub concept: Concept,
    /// She files an income-tax return (declarante).
    pub declarante: bool,
    /// She signed the statement of having hired fewer than two workers (art. 383 par. 2).
    pub fewer_than_two_workers: bool,
}

/// A month as far as it has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    /// Everything paid to her this month so far, the payment at hand included.
    pub paid: Cop,
    /// The health and pension contributions she declared for the month (PILA).
    pub contributions: Cop,
    /// What she was paid earlier in the year (for the honorarios threshold).
    pub paid_earlier_in_year: Cop,
}

/// The figures in force for the month.
#[derive(Debug, Clone, Copy)]
pub struct Tables<'a> {
    pub uvt: Cop,
    pub rates: &'a WithholdingRates,
    pub art383: &'a Art383,
}

/// How the month's withholding was worked out, for the statement and the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// The art. 383 table on `base` (after contributions and exempt income).
    Art383 { base: Cop },
    /// The concept's rate on everything paid in the month.
    Rate { rate: Decimal },
    /// The month has not reached the concept's base.
    BelowBase { base: Cop },
}

impl Method {
    /// As stored with a payout line (`withholding_rule`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Art383 { .. } => "art383",
            Method::Rate { .. } => "rate",
            Method::BelowBase { .. } => "below_base",
        }
    }
}

/// The month's withholding so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub amount: Cop,
    pub method: Method,
}

fn uvts(n: Decimal, uvt: Cop) -> Cop {
    Cop::new(n * uvt.amount())
}

/// What the month owes in withholding, given everything paid in it so far. Rounded once, to
/// whole pesos (half away from zero), as every amount Vereda stores.
pub fn due(t: &Tables<'_>, payee: &Payee, month: &Month) -> Due {
    if payee.fewer_than_two_workers {
        let base = art383_base(t, month);
        return Due {
            amount: Cop::new(art383_withholding(t.art383, base.amount(), t.uvt.amount()))
                .round_pesos(),
            method: Method::Art383 { base },
        };
    }
    let (rate, base_uvt) = match payee.concept {
        Concept::Services if payee.declarante => {
            (t.rates.services_declarante, t.rates.services_base_uvt)
        }
        Concept::Services => (t.rates.services_no_declarante, t.rates.services_base_uvt),
        Concept::Honorarios => {
            let year = payee_year(month);
            let high = year.amount() > t.rates.honorarios_high_from_uvt * t.uvt.amount();
            let rate = if high {
                t.rates.honorarios_high
            } else {
                t.rates.honorarios
            };
            (rate, t.rates.honorarios_base_uvt)
        }
    };
    let base = uvts(base_uvt, t.uvt);
    if month.paid.amount() < base.amount() {
        return Due {
            amount: Cop::ZERO,
            method: Method::BelowBase { base },
        };
    }
    Due {
        amount: Cop::new(month.paid.amount() * rate).round_pesos(),
        method: Method::Rate { rate },
    }
}

fn payee_year(month: &Month) -> Cop {
    month.paid_earlier_in_year + month.paid
}

/// The art. 383 base for the month: income less contributions, less the exempt income and
/// deductions within their caps. Never below zero.
fn art383_base(t: &Tables<'_>, month: &Month) -> Cop {
    let a = t.art383;
    let net = (month.paid.amount() - month.contributions.amount()).max(Decimal::ZERO);
    let twelfth = |uvt_year: Decimal| uvt_year * t.uvt.amount() / Decimal::from(12);
    let exempt = (net * a.exempt_share).min(twelfth(a.exempt_cap_uvt_year));
    let relief = exempt
        .min(net * a.relief_cap_share)
        .min(twelfth(a.relief_cap_uvt_year));
    Cop::new(net - relief)
}

/// The table's withholding on a base, both in pesos (the table's UVT turned into pesos first,
/// so nothing is divided).
fn art383_withholding(a: &Art383, base: Decimal, uvt: Decimal) -> Decimal {
    a.brackets
        .iter()
        .rev()
        .find(|b| base > b.from_uvt * uvt)
        .map_or(Decimal::ZERO, |b| {
            (base - b.from_uvt * uvt) * b.rate + b.plus_uvt * uvt
        })
}

/// What a payment withholds: the month's withholding so far less what the month's earlier
/// payments withheld, at most the payment itself. It is negative when they withheld more than
/// the month now owes — the art. 383 table steps down where its slices meet (10.45 UVT just
/// under 150 UVT, 10 just above; likewise at 945) — and the excess goes back to her with this
/// payment (devolución de retenciones en exceso, art. 6 Decreto 1189 de 1988); the month never
/// ends having withheld less than nothing.
pub fn withhold_now(due_so_far: Cop, withheld_before: Cop, payment: Cop) -> Cop {
    let owed = due_so_far.amount() - withheld_before.amount();
    Cop::new(owed.min(payment.amount().max(Decimal::ZERO)))
}

/// Where a payment to a low-amount wallet (Nequi, Daviplata) leaves the month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gmf {
    /// Within the 4×1000 exemption.
    Exempt,
    /// Above 65 UVT: the 4×1000 applies to what is above; she and finance are told.
    Taxed { exempt_until: Cop },
    /// It would pass the wallet's monthly limit: held, with the room left.
    Held { room: Cop },
}

/// Check a payment to a low-amount wallet against the month's earlier payments to it.
pub fn gmf_check(limits: &GmfLimits, uvt: Cop, paid_this_month: Cop, payment: Cop) -> Gmf {
    let after = paid_this_month.amount() + payment.amount();
    let limit = uvts(limits.limit_uvt, uvt).amount();
    let exempt = uvts(limits.exempt_uvt, uvt);
    if after > limit {
        return Gmf::Held {
            room: Cop::new((limit - paid_this_month.amount()).max(Decimal::ZERO)).round_pesos(),
        };
    }
    if after > exempt.amount() {
        return Gmf::Taxed {
            exempt_until: exempt.round_pesos(),
        };
    }
    Gmf::Exempt
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::legal::LegalFigures;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn figures() -> (Cop, WithholdingRates, Art383, GmfLimits) {
        let l = LegalFigures::default();
        let on = NaiveDate::from_ymd_opt(2026, 11, 15).unwrap();
        (
            l.uvt(on).unwrap(),
            l.withholding(on).unwrap(),
            l.art383(on).unwrap(),
            l.gmf(on).unwrap(),
        )
    }

    fn tables<'a>(uvt: Cop, rates: &'a WithholdingRates, art383: &'a Art383) -> Tables<'a> {
        Tables { uvt, rates, art383 }
    }

    fn month(paid: i64, contributions: i64) -> Month {
        Month {
            paid: Cop::pesos(paid),
            contributions: Cop::pesos(contributions),
            paid_earlier_in_year: Cop::ZERO,
        }
    }

    const SERVICES_FILER: Payee = Payee {
        concept: Concept::Services,
        declarante: true,
        fewer_than_two_workers: false,
    };
    const SERVICES_NON_FILER: Payee = Payee {
        concept: Concept::Services,
        declarante: false,
        fewer_than_two_workers: false,
    };
    const HONORARIOS: Payee = Payee {
        concept: Concept::Honorarios,
        declarante: false,
        fewer_than_two_workers: false,
    };
    const WITH_STATEMENT: Payee = Payee {
        concept: Concept::Services,
        declarante: false,
        fewer_than_two_workers: true,
    };

    #[test]
    fn a_non_filer_at_one_minimum_wage_with_the_statement_withholds_nothing() {
        let (uvt, rates, art383, _) = figures();
        let t = tables(uvt, &rates, &art383);
        // 1 SMMLV (2026), contributions on 40 % of it, floored at 1 SMMLV: 28.5 % of 1,750,905.
        let d = due(&t, &WITH_STATEMENT, &month(1_750_905, 499_008));
        assert_eq!(d.amount, Cop::ZERO);
        // Net 1,251,897; 25 % exempt 312,974.25 (under 790 UVT / 12 = 3,447,955): base
        // 938,922.75, 17.9 UVT, far under 95.
        assert_eq!(
            d.method,
            Method::Art383 {
                base: Cop::new("938922.75".parse().unwrap())
            }
        );
    }

    #[test]
    fn a_filer_for_services_above_two_uvt_withholds_four_percent_of_the_month() {
        let (uvt, rates, art383, _) = figures();
        let t = tables(uvt, &rates, &art383);
        // 2 UVT of 2026 = 104,748: one peso under is nothing, the base itself is 4 % of all.
        assert_eq!(
            due(&t, &SERVICES_FILER, &month(104_747, 0)).amount,
            Cop::ZERO
        );
        assert_eq!(
            due(&t, &SERVICES_FILER, &month(104_748, 0)).amount,
            Cop::pesos(4_190)
        );
        assert_eq!(
            due(&t, &SERVICES_FILER, &month(3_000_000, 0)).amount,
            Cop::pesos(120_000)
        );
        assert_eq!(
            due(&t, &SERVICES_NON_FILER, &month(3_000_000, 0)).amount,
            Cop::pesos(180_000)
        );
    }

    #[test]
    fn honorarios_without_the_statement_withhold_ten_then_eleven_percent() {
        let (uvt, rates, art383, _) = figures();
        let t = tables(uvt, &rates, &art383);
        // No base: the first peso is withheld on.
        assert_eq!(
            due(&t, &HONORARIOS, &month(50_000, 0)).amount,
            Cop::pesos(5_000)
        );
        // Above 3,300 UVT in the year (172,834,200 in 2026): 11 %.
        let late = Month {
            paid_earlier_in_year: Cop::pesos(172_000_000),
            ..month(2_000_000, 0)
        };
        assert_eq!(due(&t, &HONORARIOS, &late).amount, Cop::pesos(220_000));
    }

    #[test]
    fn the_art_383_table_at_its_steps() {
        let (_, _, art383, _) = figures();
        // In UVT (a UVT of 1): the steps of the table.
        let w = |base: &str| art383_withholding(&art383, base.parse().unwrap(), Decimal::ONE);
        assert_eq!(w("95"), Decimal::ZERO);
        assert_eq!(w("150"), "10.45".parse::<Decimal>().unwrap());
        assert_eq!(w("360"), "68.80".parse::<Decimal>().unwrap());
        assert_eq!(w("2400"), "809".parse::<Decimal>().unwrap());
        // A high earner with the statement: 20,000,000 with 2,000,000 of contributions.
        let (uvt, rates, art383, _) = figures();
        let t = tables(uvt, &rates, &art383);
        let d = due(&t, &WITH_STATEMENT, &month(20_000_000, 2_000_000));
        // Net 18,000,000; exempt min(4,500,000, 790 UVT / 12 = 3,447,955) → base 14,552,045
        // (277.8 UVT): (14,552,045 − 150 UVT) × 28 % + 10 UVT = 2,398,604.6.
        assert_eq!(
            d.method,
            Method::Art383 {
                base: Cop::pesos(14_552_045)
            }
        );
        assert_eq!(d.amount, Cop::pesos(2_398_605));
    }

    #[test]
    fn four_weekly_payouts_withhold_what_one_monthly_payout_would() {
        let (uvt, rates, art383, _) = figures();
        let t = tables(uvt, &rates, &art383);
        for payee in [
            SERVICES_FILER,
            SERVICES_NON_FILER,
            HONORARIOS,
            WITH_STATEMENT,
        ] {
            let weekly = [900_000, 1_200_000, 30_000, 2_500_000];
            let total: i64 = weekly.iter().sum();
            let once = due(&t, &payee, &month(total, 400_000)).amount;
            let withheld = split(&t, &payee, &weekly, 400_000);
            assert_eq!(withheld.iter().copied().sum::<Cop>(), once, "{payee:?}");
        }
    }

    /// Withhold on each payment of a month in turn.
    fn split(t: &Tables<'_>, payee: &Payee, payments: &[i64], contributions: i64) -> Vec<Cop> {
        let (mut paid, mut withheld, mut out) = (0i64, Cop::ZERO, Vec::new());
        for p in payments {
            paid += p;
            let so_far = due(t, payee, &month(paid, contributions)).amount;
            let now = withhold_now(so_far, withheld, Cop::pesos(*p));
            withheld = withheld + now;
            out.push(now);
        }
        out
    }

    #[test]
    fn a_small_payment_crossing_the_base_carries_the_rest_to_the_next() {
        let (uvt, rates, art383, _) = figures();
        let t = tables(uvt, &rates, &art383);
        // 100,000 is under 2 UVT; 5,000 more crosses it: 6 % of 105,000 is 6,300, more than
        // the 5,000 paid, so 5,000 now and the other 1,300 from the next payment.
        let w = split(&t, &SERVICES_NON_FILER, &[100_000, 5_000, 50_000], 0);
        assert_eq!(w, [Cop::ZERO, Cop::pesos(5_000), Cop::pesos(4_300)]);
        assert_eq!(w.iter().copied().sum::<Cop>(), Cop::pesos(9_300));
    }

    #[test]
    fn a_wallet_is_warned_above_65_uvt_and_held_above_210_5() {
        let (uvt, _, _, gmf) = figures();
        // 65 UVT = 3,404,310; 210.5 UVT = 11,024,727.
        assert_eq!(
            gmf_check(&gmf, uvt, Cop::pesos(3_000_000), Cop::pesos(404_310)),
            Gmf::Exempt
        );
        assert_eq!(
            gmf_check(&gmf, uvt, Cop::pesos(3_000_000), Cop::pesos(404_311)),
            Gmf::Taxed {
                exempt_until: Cop::pesos(3_404_310)
            }
        );
        assert_eq!(
            gmf_check(&gmf, uvt, Cop::pesos(10_000_000), Cop::pesos(1_100_000)),
            Gmf::Held {
                room: Cop::pesos(1_024_727)
            }
        );
    }

    fn payee() -> impl Strategy<Value = Payee> {
        (0..3u8, any::<bool>(), any::<bool>()).prop_map(|(c, declarante, statement)| Payee {
            concept: if c == 0 {
                Concept::Honorarios
            } else {
                Concept::Services
            },
            declarante,
            fewer_than_two_workers: statement,
        })
    }

    #[test]
    fn the_art_383_table_steps_down_at_150_uvt_and_the_excess_goes_back() {
        let (uvt, rates, art383, _) = figures();
        let t = tables(uvt, &rates, &art383);
        // Bases just under and just over 150 UVT (no contributions: base = 75 % of the month).
        let month_for = |base_uvt: i64| (base_uvt * 52_374 * 4).div_euclid(3);
        let under = due(&t, &WITH_STATEMENT, &month(month_for(150), 0)).amount;
        let over = due(&t, &WITH_STATEMENT, &month(month_for(150) + 4, 0)).amount;
        assert!(over.amount() < under.amount(), "{under} then {over}");
        // Paid as the two amounts: the second payment returns the excess of the first.
        let w = split(&t, &WITH_STATEMENT, &[month_for(150), 4], 0);
        assert!(w[1].amount() < Decimal::ZERO, "{w:?}");
        assert_eq!(w.iter().copied().sum::<Cop>(), over);
    }

    proptest! {
        /// However a month's payments are split, no payment withholds more than itself, the
        /// month never withholds more than one payout of its total would, and exactly that once
        /// the month's last payment can carry what is still owed.
        #[test]
        fn splitting_a_month_withholds_the_same(
            payee in payee(),
            // Small payments too, so the base is crossed by payments smaller than the jump.
            payments in prop::collection::vec(prop_oneof![1i64..150_000, 1i64..8_000_000], 1..8),
            contributions in 0i64..3_000_000,
        ) {
            let (uvt, rates, art383, _) = figures();
            let t = tables(uvt, &rates, &art383);
            let w = split(&t, &payee, &payments, contributions);
            let mut withheld = Cop::ZERO;
            for (now, p) in w.iter().zip(&payments) {
                prop_assert!(now.amount() <= Decimal::from(*p));
                withheld = withheld + *now;
                prop_assert!(withheld.amount() >= Decimal::ZERO);
            }
            let total: i64 = payments.iter().sum();
            let once = due(&t, &payee, &month(total, contributions)).amount;
            prop_assert!(withheld.amount() <= once.amount());
            if Decimal::from(*payments.last().unwrap()) >= once.amount() {
                prop_assert_eq!(withheld, once);
            }
        }

        /// The month never owes more than was paid in it.
        #[test]
        fn the_month_never_owes_more_than_was_paid(
            payee in payee(),
            paid in 0i64..200_000_000,
            contributions in 0i64..3_000_000,
        ) {
            let (uvt, rates, art383, _) = figures();
            let t = tables(uvt, &rates, &art383);
            let d = due(&t, &payee, &month(paid, contributions)).amount;
            prop_assert!(d.amount() >= Decimal::ZERO && d.amount() <= Decimal::from(paid));
        }
    }
}
