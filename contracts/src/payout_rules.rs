//! Who is paid in a payout batch and how much, pure: a worker gets a line when her payable
//! balance, in whole pesos, is at least the minimum payout and her payout method did not change
//! within the hold (`accounts::payout_held`); the line pays all of it, less what
//! `withholding` says the month owes so far and was not yet withheld (issue 20 §3).
//!
//! The worker selects candidates in SQL (an index lookup per worker), locks their rows, reads
//! each balance again and asks here; only the lines this answers are written.

use crate::accounts::{PAYOUT_HOLD_SECS, payout_held};
use crate::legal::GmfLimits;
use crate::money::Cop;
use crate::statements::Month;
use crate::withholding::{self, Gmf, Method, Payee, Tables};

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
}

/// Her calendar month (Bogotá) up to this payment, as the withholding rule reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthSoFar {
    /// Her fiscal profile (the default one when none is on file).
    pub payee: Payee,
    /// The amounts of the month's earlier lines that did not fail, before withholding.
    pub paid: Cop,
    /// What those lines withheld.
    pub withheld: Cop,
    /// The health and pension contributions she declared for the month.
    pub contributions: Cop,
    /// What her lines of the year's earlier months paid (the honorarios threshold).
    pub paid_earlier_in_year: Cop,
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

/// The line a worker gets in a batch built under `terms`, or why she gets none. Its
/// withholding is what the month owes with this payment less what it already withheld: a
/// month paid in weekly lines withholds what one monthly line would (negative when an earlier
/// line withheld more than the month now owes, and the excess goes back with this one).
pub fn payout_line(
    owed: Owed,
    terms: &PayoutTerms,
    month: &MonthSoFar,
    tables: &Tables<'_>,
) -> Result<Payout, NoPayout> {
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
    let due = withholding::due(
        tables,
        &month.payee,
        &withholding::Month {
            paid: month.paid + amount,
            contributions: month.contributions,
            paid_earlier_in_year: month.paid_earlier_in_year,
        },
    );
    let kept = withholding::withhold_now(due.amount, month.withheld, amount);
    Ok(Payout {
        figures: LineFigures::stored(amount, kept),
        rule: due.method,
    })
}

/// A line to write: its figures and the rule its withholding followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    pub figures: LineFigures,
    pub rule: Method,
}

/// What else a batch must know about her before paying a line (issue 20 §4–5).
#[derive(Debug, Clone, Copy)]
pub struct Checks {
    /// Her payout method is a low-amount wallet (Nequi, Daviplata).
    pub wallet: bool,
    /// Sent to her this month by earlier lines that did not fail, net.
    pub sent_this_month: Cop,
    pub gmf: GmfLimits,
    pub uvt: Cop,
    /// Last month: what her lines paid, the SMMLV then, and whether a PILA planilla is on
    /// file for it. Independents pay PILA in the month after the income (mes vencido), so a
    /// payout verifies the month before its own.
    pub last_month: Month,
    pub paid_last_month: Cop,
    pub smmlv_last_month: Cop,
    pub planilla_last_month: bool,
    /// A missing planilla holds the line instead of only flagging it (a setting).
    pub pila_blocks: bool,
}

/// What a batch tells finance and the worker about her line; a notice that holds it means no
/// line (her balance stays payable for a later batch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Paid to a low-amount wallet past the 4×1000 exemption this month.
    GmfTaxed { exempt_until: Cop },
    /// The line would take the wallet past its monthly limit: held.
    GmfHeld { net: Cop, room: Cop, limit: Cop },
    /// She earned at least one SMMLV last month and no planilla for it is on file.
    SocialSecurityMissing {
        month: Month,
        paid: Cop,
        blocked: bool,
    },
}

impl Notice {
    /// As stored with the notice (`payout_notices.code`); not a problem code of the API.
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::GmfTaxed { .. } => "gmf_taxed",
            Notice::GmfHeld { .. } => "gmf_held",
            Notice::SocialSecurityMissing { .. } => "social_security_missing",
        }
    }

    pub fn holds(&self) -> bool {
        match self {
            Notice::GmfTaxed { .. } => false,
            Notice::GmfHeld { .. } => true,
            Notice::SocialSecurityMissing { blocked, .. } => *blocked,
        }
    }

    /// Said to her (and shown to finance), in Spanish.
    pub fn message_es(&self) -> String {
        match self {
            Notice::GmfTaxed { exempt_until } => format!(
                "Este mes lo que recibe en su Nequi o Daviplata pasa de {} (65 UVT): sobre lo que \
                 pase de esa cifra su banco cobra el 4×1000 (gravamen a los movimientos \
                 financieros). Con una cuenta bancaria o una llave Bre-B en su perfil no tendría \
                 ese límite.",
                exempt_until.to_es_co()
            ),
            Notice::GmfHeld { net, room, limit } => format!(
                "Retuvimos su pago de {}: con él, lo recibido este mes en su Nequi o Daviplata \
                 pasaría de {} (210,5 UVT), el límite mensual de los depósitos de bajo monto, y \
                 el banco lo rechazaría. Este mes caben {} más. El dinero sigue en su saldo: \
                 agregue una cuenta bancaria o una llave Bre-B en su perfil y sale en el próximo \
                 pago; si no, sale el mes que viene.",
                net.to_es_co(),
                limit.to_es_co(),
                room.to_es_co()
            ),
            Notice::SocialSecurityMissing {
                month,
                paid,
                blocked,
            } => {
                let mut m = format!(
                    "No tenemos registrada su planilla PILA de {}: con ingresos de {} ese mes, \
                     como independiente debía cotizar salud y pensión. Registre en su perfil el \
                     número de la planilla y lo que pagó.",
                    month.name_es(),
                    paid.to_es_co()
                );
                if *blocked {
                    m.push_str(
                        " Mientras tanto su pago queda retenido; el dinero sigue en su saldo.",
                    );
                }
                m
            }
        }
    }
}

/// The notices for a line that sends her `net`.
pub fn notices(net: Cop, c: &Checks) -> Vec<Notice> {
    let mut out = Vec::new();
    if c.paid_last_month >= c.smmlv_last_month && !c.planilla_last_month {
        out.push(Notice::SocialSecurityMissing {
            month: c.last_month,
            paid: c.paid_last_month,
            blocked: c.pila_blocks,
        });
    }
    if c.wallet {
        match withholding::gmf_check(&c.gmf, c.uvt, c.sent_this_month, net) {
            Gmf::Exempt => {}
            // Said once a month: by the line that crosses the exemption, not every later one.
            Gmf::Taxed { exempt_until } if c.sent_this_month <= exempt_until => {
                out.push(Notice::GmfTaxed { exempt_until })
            }
            Gmf::Taxed { .. } => {}
            Gmf::Held { room } => out.push(Notice::GmfHeld {
                net,
                room,
                limit: Cop::new(c.gmf.limit_uvt * c.uvt.amount()).round_pesos(),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::legal::{Art383, LegalFigures, WithholdingRates};
    use crate::withholding::Concept;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn terms() -> PayoutTerms {
        PayoutTerms {
            now: 2_000_000_000,
            minimum: Cop::pesos(20_000),
        }
    }

    fn figures() -> (Cop, WithholdingRates, Art383) {
        let l = LegalFigures::default();
        let on = NaiveDate::from_ymd_opt(2026, 11, 15).unwrap();
        (
            l.uvt(on).unwrap(),
            l.withholding(on).unwrap(),
            l.art383(on).unwrap(),
        )
    }

    const FILER: Payee = Payee {
        concept: Concept::Services,
        declarante: true,
        fewer_than_two_workers: false,
    };

    fn first_of_month(payee: Payee) -> MonthSoFar {
        MonthSoFar {
            payee,
            paid: Cop::ZERO,
            withheld: Cop::ZERO,
            contributions: Cop::ZERO,
            paid_earlier_in_year: Cop::ZERO,
        }
    }

    fn owed(pesos: i64) -> Owed {
        Owed {
            balance: Cop::pesos(pesos),
            method_changed_at: None,
        }
    }

    #[test]
    fn owed_the_minimum_and_not_held_is_paid_all_of_it() {
        let (uvt, rates, art383) = figures();
        let tables = Tables {
            uvt,
            rates: &rates,
            art383: &art383,
        };
        let t = terms();
        let month = first_of_month(FILER);
        let line = payout_line(owed(148_485), &t, &month, &tables)
            .unwrap()
            .figures;
        // A filer for services, above 2 UVT (104,748): 4 %.
        assert_eq!(
            line,
            LineFigures {
                amount: Cop::pesos(148_485),
                withholding: Cop::pesos(5_939),
                net: Cop::pesos(142_546),
            }
        );
        // The worked example's 48,485 is under the base: nothing withheld.
        let small = payout_line(owed(48_485), &t, &month, &tables)
            .unwrap()
            .figures;
        assert_eq!(small.withholding, Cop::ZERO);
        let exactly = Owed {
            balance: Cop::pesos(20_000),
            method_changed_at: Some(t.now - PAYOUT_HOLD_SECS),
        };
        assert_eq!(
            payout_line(exactly, &t, &month, &tables)
                .unwrap()
                .figures
                .amount,
            Cop::pesos(20_000)
        );
    }

    #[test]
    fn a_later_line_withholds_what_the_month_owes_less_what_was_withheld() {
        let (uvt, rates, art383) = figures();
        let tables = Tables {
            uvt,
            rates: &rates,
            art383: &art383,
        };
        // 60,000 paid earlier (under the base, nothing withheld); 60,000 more crosses it:
        // 4 % of 120,000 = 4,800, all on this line.
        let month = MonthSoFar {
            paid: Cop::pesos(60_000),
            ..first_of_month(FILER)
        };
        let line = payout_line(owed(60_000), &terms(), &month, &tables)
            .unwrap()
            .figures;
        assert_eq!(line.withholding, Cop::pesos(4_800));
        assert_eq!(line.net, Cop::pesos(55_200));
    }

    #[test]
    fn below_the_minimum_or_a_recent_change_waits() {
        let (uvt, rates, art383) = figures();
        let tables = Tables {
            uvt,
            rates: &rates,
            art383: &art383,
        };
        let (t, month) = (terms(), first_of_month(FILER));
        assert_eq!(
            payout_line(owed(19_999), &t, &month, &tables),
            Err(NoPayout::BelowMinimum {
                amount: Cop::pesos(19_999),
                minimum: Cop::pesos(20_000)
            })
        );
        let changed = Owed {
            balance: Cop::pesos(500_000),
            method_changed_at: Some(t.now - 60),
        };
        let e = payout_line(changed, &t, &month, &tables).unwrap_err();
        assert_eq!(
            e,
            NoPayout::Held {
                until: t.now - 60 + PAYOUT_HOLD_SECS
            }
        );
        assert_eq!(e.code(), "payout_held");
    }

    fn checks() -> Checks {
        let l = LegalFigures::default();
        let on = NaiveDate::from_ymd_opt(2026, 11, 15).unwrap();
        Checks {
            wallet: true,
            sent_this_month: Cop::ZERO,
            gmf: l.gmf(on).unwrap(),
            uvt: l.uvt(on).unwrap(),
            last_month: Month::parse("2026-10").unwrap(),
            paid_last_month: Cop::ZERO,
            smmlv_last_month: l.smmlv(on).unwrap(),
            planilla_last_month: false,
            pila_blocks: false,
        }
    }

    #[test]
    fn a_wallet_is_warned_past_65_uvt_and_held_past_210_and_a_half() {
        // 2026: 65 UVT = 3,404,310; 210.5 UVT = 11,024,727.
        let c = checks();
        assert_eq!(notices(Cop::pesos(3_404_310), &c), vec![]);
        let taxed = notices(Cop::pesos(3_404_311), &c);
        assert_eq!(
            taxed,
            vec![Notice::GmfTaxed {
                exempt_until: Cop::pesos(3_404_310)
            }]
        );
        assert!(!taxed[0].holds());
        // Once past it, later lines of the month say nothing more (until the limit).
        let past = Checks {
            sent_this_month: Cop::pesos(3_404_311),
            ..checks()
        };
        assert_eq!(notices(Cop::pesos(100_000), &past), vec![]);
        let c = Checks {
            sent_this_month: Cop::pesos(10_000_000),
            ..checks()
        };
        let held = notices(Cop::pesos(1_100_000), &c);
        assert_eq!(held[0].kind(), "gmf_held");
        assert!(held[0].holds());
        let said = held[0].message_es();
        assert!(
            said.contains("$ 1.100.000") && said.contains("$ 11.024.727"),
            "{said}"
        );
        assert!(
            said.contains("$ 1.024.727") && said.contains("Bre-B"),
            "{said}"
        );
        // A bank account has no such limit.
        let bank = Checks { wallet: false, ..c };
        assert_eq!(notices(Cop::pesos(1_100_000), &bank), vec![]);
    }

    #[test]
    fn a_month_above_one_smmlv_without_its_planilla_is_flagged_or_held() {
        let c = Checks {
            wallet: false,
            paid_last_month: Cop::pesos(1_750_905),
            ..checks()
        };
        let n = notices(Cop::pesos(50_000), &c);
        assert_eq!(n.len(), 1);
        assert!(!n[0].holds());
        assert!(
            n[0].message_es()
                .contains("planilla PILA de octubre de 2026")
        );
        let blocking = Checks {
            pila_blocks: true,
            ..c
        };
        assert!(notices(Cop::pesos(50_000), &blocking)[0].holds());
        let on_file = Checks {
            planilla_last_month: true,
            ..c
        };
        assert_eq!(notices(Cop::pesos(50_000), &on_file), vec![]);
        let under = Checks {
            paid_last_month: Cop::pesos(1_750_904),
            ..c
        };
        assert_eq!(notices(Cop::pesos(50_000), &under), vec![]);
    }

    fn payee() -> impl Strategy<Value = Payee> {
        (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(honorarios, filer, statement)| {
            Payee {
                concept: if honorarios {
                    Concept::Honorarios
                } else {
                    Concept::Services
                },
                declarante: filer,
                fewer_than_two_workers: statement,
            }
        })
    }

    proptest! {
        /// A line pays the whole balance in pesos, never below the minimum, and its withholding
        /// and net add up to it; a worker gets a line exactly when she is neither held nor short.
        #[test]
        fn lines_add_up_and_respect_the_limits(
            centavos in -100_000_000i64..1_000_000_000,
            changed_ago in prop::option::of(0i64..3 * PAYOUT_HOLD_SECS),
            minimum in 0i64..100_000,
            payee in payee(),
            paid_before in 0i64..5_000_000,
        ) {
            let (uvt, rates, art383) = figures();
            let tables = Tables { uvt, rates: &rates, art383: &art383 };
            let t = PayoutTerms {
                now: 2_000_000_000,
                minimum: Cop::pesos(minimum),
            };
            let owed = Owed {
                balance: Cop::from_centavos(centavos),
                method_changed_at: changed_ago.map(|ago| t.now - ago),
            };
            let month = MonthSoFar { paid: Cop::pesos(paid_before), ..first_of_month(payee) };
            let held = payout_held(owed.method_changed_at, t.now);
            match payout_line(owed, &t, &month, &tables).map(|p| p.figures) {
                Ok(l) => {
                    prop_assert!(!held);
                    prop_assert_eq!(l.amount, owed.balance.round_pesos());
                    prop_assert!(l.amount >= t.minimum);
                    prop_assert_eq!(l.withholding + l.net, l.amount);
                    prop_assert!(l.withholding <= l.amount);
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

        /// A month paid in weekly lines withholds what one line of its total would, whatever
        /// the split, once its last line is large enough to carry what is still owed; no line
        /// withholds more than itself and the month never ends below zero.
        #[test]
        fn weekly_lines_withhold_what_one_monthly_line_would(
            payee in payee(),
            weeks in prop::collection::vec(20_000i64..3_000_000, 1..5),
            contributions in 0i64..1_000_000,
        ) {
            let (uvt, rates, art383) = figures();
            let tables = Tables { uvt, rates: &rates, art383: &art383 };
            let t = PayoutTerms { now: 2_000_000_000, minimum: Cop::pesos(20_000) };
            let mut month = MonthSoFar { contributions: Cop::pesos(contributions), ..first_of_month(payee) };
            let mut last = None;
            for w in &weeks {
                let l = payout_line(owed(*w), &t, &month, &tables).unwrap().figures;
                prop_assert!(l.withholding <= l.amount);
                month.paid = month.paid + l.amount;
                month.withheld = month.withheld + l.withholding;
                prop_assert!(month.withheld >= Cop::ZERO);
                last = Some(l);
            }
            let once = payout_line(
                owed(weeks.iter().sum()),
                &t,
                &MonthSoFar { contributions: Cop::pesos(contributions), ..first_of_month(payee) },
                &tables,
            )
            .unwrap()
            .figures;
            prop_assert!(month.withheld <= once.withholding);
            if last.unwrap().amount >= once.withholding {
                prop_assert_eq!(month.withheld, once.withholding);
            }
        }
    }
}
