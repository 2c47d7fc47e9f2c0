//! Money in Colombian pesos (DESIGN §4): `Decimal` inside a `Cop` newtype for arithmetic,
//! integer centavos in the database, decimal strings of pesos in JSON. Rounding is once per
//! line, to whole pesos, half away from zero.

use std::fmt;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// An amount of Colombian pesos. May carry fractions during arithmetic; billed and paid
/// amounts are whole pesos ([`Cop::round_pesos`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cop(Decimal);

/// Why a money string was refused. The messages are Spanish: they reach the person who typed
/// the amount (a finance clerk, a company owner), after the field's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Anything but ASCII digits: `100.000` and `100,000` (a Colombian clerk's one hundred
    /// thousand, which a decimal parser would read as 100), `1e5`, `+5`, ` 5`, `٥`…
    #[error(
        "escriba el valor en pesos solo con dígitos, sin puntos, comas, espacios ni signos: 100000"
    )]
    NotANumber,
    #[error("no puede ser negativo; escriba el valor en pesos solo con dígitos: 100000")]
    Negative,
    #[error("debe ser mayor que cero")]
    Zero,
    #[error("es demasiado grande: el máximo es 1000000000000 pesos")]
    TooLarge,
}

/// The largest amount accepted from a client: a trillion pesos.
const MAX_PESOS: i64 = 1_000_000_000_000;

impl Cop {
    pub const ZERO: Cop = Cop(Decimal::ZERO);

    pub fn new(d: Decimal) -> Cop {
        Cop(d)
    }

    pub fn pesos(n: i64) -> Cop {
        Cop(Decimal::from(n))
    }

    pub fn amount(self) -> Decimal {
        self.0
    }

    /// From integer centavos, as stored in the database.
    pub fn from_centavos(c: i64) -> Cop {
        Cop(Decimal::new(c, 2))
    }

    /// To integer centavos. Amounts are rounded to the centavo first (half away from zero);
    /// every amount we store is already whole pesos, so this never rounds in practice.
    pub fn centavos(self) -> i64 {
        (self.0 * Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
            .to_i64()
            .unwrap_or(i64::MAX)
    }

    /// Rounded to whole pesos, half away from zero (DESIGN §4).
    pub fn round_pesos(self) -> Cop {
        Cop(self
            .0
            .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero))
    }

    /// Parse a client's amount of whole pesos, more than zero: ASCII digits and nothing else
    /// (see [`Cop::parse_whole_pesos_or_zero`]).
    pub fn parse_whole_pesos(raw: &str) -> Result<Cop, MoneyError> {
        match Cop::parse_whole_pesos_or_zero(raw)? {
            Cop(d) if d.is_zero() => Err(MoneyError::Zero),
            c => Ok(c),
        }
    }

    /// Parse a client's amount of whole pesos, zero allowed. Only ASCII digits are accepted,
    /// untrimmed: in Colombia `100.000` is one hundred thousand and a decimal parser reads 100,
    /// so no separator, sign, exponent, space or non-ASCII digit is guessed at; the person is
    /// told how to write it instead.
    pub fn parse_whole_pesos_or_zero(raw: &str) -> Result<Cop, MoneyError> {
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            let rest = raw.strip_prefix('-').unwrap_or("");
            if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
                return Err(MoneyError::Negative);
            }
            return Err(MoneyError::NotANumber);
        }
        let digits = raw.trim_start_matches('0');
        // More digits than the maximum has cannot fit; checked before parsing so any length
        // is answered without overflow.
        if digits.len() > 13 {
            return Err(MoneyError::TooLarge);
        }
        let n: i64 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| MoneyError::NotANumber)?
        };
        if n > MAX_PESOS {
            return Err(MoneyError::TooLarge);
        }
        Ok(Cop::pesos(n))
    }

    /// Format for people in Colombia: `$ 48.485` (dot for thousands, whole pesos).
    pub fn to_es_co(self) -> String {
        let r = self.round_pesos().0;
        let neg = r.is_sign_negative() && !r.is_zero();
        let digits = r.abs().trunc().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push('.');
            }
            out.push(c);
        }
        format!("{}$ {out}", if neg { "-" } else { "" })
    }
}

impl fmt::Display for Cop {
    /// JSON form: a decimal string of pesos without trailing zeros (`"48485"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

impl std::ops::Add for Cop {
    type Output = Cop;
    fn add(self, o: Cop) -> Cop {
        Cop(self.0 + o.0)
    }
}

impl std::ops::Sub for Cop {
    type Output = Cop;
    fn sub(self, o: Cop) -> Cop {
        Cop(self.0 - o.0)
    }
}

impl std::iter::Sum for Cop {
    fn sum<I: Iterator<Item = Cop>>(iter: I) -> Cop {
        iter.fold(Cop::ZERO, |a, b| a + b)
    }
}

/// A `Cop` is stored as integer centavos (`BIGINT`): binding one writes its centavos, reading
/// one reads them back, so no query converts by hand.
#[cfg(feature = "sqlx")]
mod stored {
    use sqlx_core::database::Database;
    use sqlx_core::decode::Decode;
    use sqlx_core::encode::{Encode, IsNull};
    use sqlx_core::error::BoxDynError;
    use sqlx_core::types::Type;

    use super::Cop;

    impl<DB: Database> Type<DB> for Cop
    where
        i64: Type<DB>,
    {
        fn type_info() -> DB::TypeInfo {
            <i64 as Type<DB>>::type_info()
        }
        fn compatible(ty: &DB::TypeInfo) -> bool {
            <i64 as Type<DB>>::compatible(ty)
        }
    }

    impl<'q, DB: Database> Encode<'q, DB> for Cop
    where
        i64: Encode<'q, DB>,
    {
        fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
            self.centavos().encode_by_ref(buf)
        }
    }

    impl<'r, DB: Database> Decode<'r, DB> for Cop
    where
        i64: Decode<'r, DB>,
    {
        fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
            Ok(Cop::from_centavos(<i64 as Decode<'r, DB>>::decode(value)?))
        }
    }
}

/// Earnings of an hourly assignment: approved seconds × rate per hour ÷ 3600, rounded once
/// to whole pesos, half away from zero.
pub fn hourly_earnings(seconds: i64, rate_per_hour: Cop) -> Cop {
    Cop(Decimal::from(seconds) * rate_per_hour.0 / Decimal::from(3600)).round_pesos()
}

/// The platform's margin, in whole basis points (0.2 → 2000, 0.125 → 1250): the one form in
/// which it is configured, stored (`companies.margin_bp`, `accruals.margin_bp`), previewed and
/// billed, so the price a company is shown is the price it is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Margin(u16);

/// Why a margin was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarginError {
    #[error("must be a decimal share such as \"0.20\"")]
    NotANumber,
    #[error("must be at least 0 and below 1")]
    OutOfRange,
    #[error("must be a whole number of basis points (e.g. 0.2 or 0.125, not 0.12345)")]
    NotWholeBasisPoints,
}

impl Margin {
    /// 10,000 basis points make a whole.
    const WHOLE: i64 = 10_000;

    /// Parse a decimal share (`"0.20"`): at least 0, below 1, whole basis points.
    pub fn parse(raw: &str) -> Result<Margin, MarginError> {
        let s = raw.trim();
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(MarginError::NotANumber);
        }
        let share = s.parse::<Decimal>().map_err(|_| MarginError::NotANumber)?;
        if share >= Decimal::ONE {
            return Err(MarginError::OutOfRange);
        }
        let bp = share * Decimal::from(Self::WHOLE);
        if bp.fract() != Decimal::ZERO {
            return Err(MarginError::NotWholeBasisPoints);
        }
        bp.to_i64()
            .and_then(Margin::from_bp)
            .ok_or(MarginError::OutOfRange)
    }

    /// From basis points as stored; None outside 0..10,000.
    pub fn from_bp(bp: i64) -> Option<Margin> {
        u16::try_from(bp)
            .ok()
            .filter(|&bp| i64::from(bp) < Self::WHOLE)
            .map(Margin)
    }

    pub fn bp(self) -> i64 {
        i64::from(self.0)
    }

    /// As a decimal share: 2000 → 0.2.
    pub fn share(self) -> Decimal {
        Decimal::new(self.bp(), 4)
    }
}

impl fmt::Display for Margin {
    /// The share without trailing zeros (`0.2`), as the API shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.share().normalize())
    }
}

/// Platform fee of an assignment: earnings × margin, rounded the same way.
pub fn platform_fee(earnings: Cop, margin: Margin) -> Cop {
    Cop(earnings.0 * margin.share()).round_pesos()
}

/// IVA on an invoice's total fee, rounded once per invoice.
pub fn vat(total_fee: Cop, vat_rate: Decimal) -> Cop {
    Cop(total_fee.0 * vat_rate).round_pesos()
}

/// What one slot of a task costs the company in full: worker pay, platform fee, and the IVA
/// on that fee (shown before publishing; the invoice rounds IVA once over all its lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotCost {
    pub work: Cop,
    pub fee: Cop,
    pub vat: Cop,
    pub total: Cop,
}

pub fn slot_cost(work: Cop, margin: Margin, vat_rate: Decimal) -> SlotCost {
    let work = work.round_pesos();
    let fee = platform_fee(work, margin);
    let vat = vat(fee, vat_rate);
    SlotCost {
        work,
        fee,
        vat,
        total: work + fee + vat,
    }
}

/// What one slot pays, as the minimum-wage rule sees it (DESIGN §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayTerms {
    Hourly {
        rate: Cop,
    },
    /// A fixed price for work estimated at `estimated_seconds` (at least one).
    Fixed {
        price: Cop,
        estimated_seconds: i64,
    },
}

impl PayTerms {
    /// The pay per hour: the rate, or the fixed price over the estimated hours.
    pub fn hourly_equivalent(self) -> Cop {
        match self {
            PayTerms::Hourly { rate } => rate,
            PayTerms::Fixed {
                price,
                estimated_seconds,
            } => Cop::new(
                price.amount() * Decimal::from(3600) / Decimal::from(estimated_seconds.max(1)),
            ),
        }
    }
}

/// Pay below the legal hourly minimum: refused, naming the field to raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "El pago equivale a {} por hora, menos que el mínimo legal de {} por hora: súbalo al menos \
     a ese mínimo.",
    .hourly.to_es_co(),
    .minimum.to_es_co()
)]
pub struct BelowMinimumWage {
    pub hourly: Cop,
    pub minimum: Cop,
    pub fixed_price: bool,
}

impl BelowMinimumWage {
    pub fn code(&self) -> &'static str {
        "below_minimum_wage"
    }

    pub fn field(&self) -> &'static str {
        if self.fixed_price {
            "pricing.price"
        } else {
            "pricing.rate"
        }
    }
}

/// Whether `terms` pay at least `minimum_hourly` an hour (a fixed price by its estimated hours).
pub fn check_minimum_wage(terms: PayTerms, minimum_hourly: Cop) -> Result<(), BelowMinimumWage> {
    let hourly = terms.hourly_equivalent();
    if hourly < minimum_hourly {
        return Err(BelowMinimumWage {
            hourly,
            minimum: minimum_hourly,
            fixed_price: matches!(terms, PayTerms::Fixed { .. }),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    /// DESIGN §4's worked example: 18,500 COP/h, entries of 1:20:10 and 1:17:05.
    #[test]
    fn the_worked_example() {
        let seconds = (3600 + 20 * 60 + 10) + (3600 + 17 * 60 + 5);
        assert_eq!(seconds, 9435);
        let earnings = hourly_earnings(seconds, Cop::pesos(18_500));
        assert_eq!(earnings, Cop::pesos(48_485));
        let fee = platform_fee(earnings, Margin::parse("0.20").unwrap());
        assert_eq!(fee, Cop::pesos(9_697));
        let iva = vat(fee, dec!(0.19));
        assert_eq!(iva, Cop::pesos(1_842));
        assert_eq!(earnings + fee + iva, Cop::pesos(60_024));
        assert_eq!(earnings.to_string(), "48485");
        assert_eq!((earnings + fee + iva).to_es_co(), "$ 60.024");
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(Cop::new(dec!(0.5)).round_pesos(), Cop::pesos(1));
        assert_eq!(Cop::new(dec!(-0.5)).round_pesos(), Cop::pesos(-1));
        assert_eq!(Cop::new(dec!(2.4999)).round_pesos(), Cop::pesos(2));
        // 1800 s at 1 COP/h is exactly half a peso.
        assert_eq!(hourly_earnings(1800, Cop::pesos(1)), Cop::pesos(1));
    }

    #[test]
    fn client_amounts_are_digits_only() {
        assert_eq!(Cop::parse_whole_pesos("18500").unwrap(), Cop::pesos(18_500));
        assert_eq!(
            Cop::parse_whole_pesos("100000").unwrap(),
            Cop::pesos(100_000)
        );
        assert_eq!(Cop::parse_whole_pesos("007").unwrap(), Cop::pesos(7));
        assert_eq!(
            Cop::parse_whole_pesos("1000000000000").unwrap(),
            Cop::pesos(MAX_PESOS)
        );
        let long_nines = format!("19999.{}", "9".repeat(40));
        for bad in [
            "100.000",
            "100,000",
            "1.000.000",
            "18500.00",
            "18500.5",
            "0.01",
            "1e5",
            "1E+3",
            "+5",
            " 5",
            "5 ",
            "5\n",
            "\t5",
            long_nines.as_str(),
            "0x10",
            "٥",
            "１２",
            "$1000",
            "NaN",
            "Infinity",
            "",
            " ",
            "-",
            "--5",
            "5-",
        ] {
            assert_eq!(
                Cop::parse_whole_pesos(bad),
                Err(MoneyError::NotANumber),
                "{bad:?}"
            );
            assert_eq!(
                Cop::parse_whole_pesos_or_zero(bad),
                Err(MoneyError::NotANumber),
                "{bad:?}"
            );
        }
        assert_eq!(Cop::parse_whole_pesos("-1"), Err(MoneyError::Negative));
        assert_eq!(Cop::parse_whole_pesos("-0"), Err(MoneyError::Negative));
        assert_eq!(Cop::parse_whole_pesos("0"), Err(MoneyError::Zero));
        assert_eq!(Cop::parse_whole_pesos("000"), Err(MoneyError::Zero));
        assert_eq!(Cop::parse_whole_pesos_or_zero("0"), Ok(Cop::ZERO));
        assert_eq!(
            Cop::parse_whole_pesos_or_zero("0").unwrap().to_string(),
            "0"
        );
        assert_eq!(
            Cop::parse_whole_pesos("99999999999999999999999"),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(
            Cop::parse_whole_pesos("9".repeat(40).as_str()),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(
            Cop::parse_whole_pesos("1000000000001"),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(
            Cop::parse_whole_pesos(&format!("{}1", "0".repeat(60))),
            Ok(Cop::pesos(1))
        );
    }

    #[test]
    fn refusals_say_in_spanish_how_to_write_the_amount() {
        let msg = MoneyError::NotANumber.to_string();
        assert!(
            msg.contains("solo con dígitos") && msg.contains("100000"),
            "{msg}"
        );
        assert!(MoneyError::Negative.to_string().contains("negativo"));
    }

    #[test]
    fn margins_are_whole_basis_points() {
        let bp = |s: &str| Margin::parse(s).map(Margin::bp);
        assert_eq!(bp("0.20"), Ok(2000));
        assert_eq!(bp("0.125"), Ok(1250));
        assert_eq!(bp("0"), Ok(0));
        assert_eq!(bp(" 0.0733 "), Ok(733));
        assert_eq!(bp("0.9999"), Ok(9999));
        assert_eq!(bp("1"), Err(MarginError::OutOfRange));
        assert_eq!(bp("0.12345"), Err(MarginError::NotWholeBasisPoints));
        assert_eq!(bp("0.00001"), Err(MarginError::NotWholeBasisPoints));
        assert_eq!(bp("-0.1"), Err(MarginError::NotANumber));
        assert_eq!(bp("2e-1"), Err(MarginError::NotANumber));
        assert_eq!(bp("abc"), Err(MarginError::NotANumber));
        assert_eq!(bp(""), Err(MarginError::NotANumber));
        assert_eq!(Margin::from_bp(10_000), None);
        assert_eq!(Margin::from_bp(-1), None);
        assert_eq!(Margin::parse("0.200").unwrap().to_string(), "0.2");
    }

    #[test]
    fn colombian_format() {
        assert_eq!(Cop::pesos(0).to_es_co(), "$ 0");
        assert_eq!(Cop::pesos(999).to_es_co(), "$ 999");
        assert_eq!(Cop::pesos(1_750_905).to_es_co(), "$ 1.750.905");
        assert_eq!(Cop::pesos(-48_485).to_es_co(), "-$ 48.485");
    }

    proptest! {
        #[test]
        fn centavos_round_trip(c in -1_000_000_000_000i64..1_000_000_000_000) {
            prop_assert_eq!(Cop::from_centavos(c).centavos(), c);
        }

        #[test]
        fn earnings_are_whole_and_within_half_a_peso(seconds in 0i64..100_000, rate in 1i64..500_000) {
            let e = hourly_earnings(seconds, Cop::pesos(rate));
            prop_assert_eq!(e.amount().fract(), Decimal::ZERO);
            let exact = Decimal::from(seconds) * Decimal::from(rate) / Decimal::from(3600);
            prop_assert!((e.amount() - exact).abs() <= dec!(0.5));
        }

        #[test]
        fn earnings_grow_with_time(a in 0i64..50_000, b in 0i64..50_000, rate in 1i64..200_000) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(hourly_earnings(lo, Cop::pesos(rate)) <= hourly_earnings(hi, Cop::pesos(rate)));
        }

        #[test]
        fn a_margin_reads_back_as_itself(bp in 0i64..10_000) {
            let m = Margin::from_bp(bp).unwrap();
            prop_assert_eq!(Margin::parse(&m.to_string()), Ok(m));
        }

        #[test]
        fn any_whole_amount_round_trips(n in 1i64..=MAX_PESOS) {
            let c = Cop::parse_whole_pesos(&n.to_string()).unwrap();
            prop_assert_eq!(c, Cop::pesos(n));
            prop_assert_eq!(c.to_string(), n.to_string());
            prop_assert_eq!(c.centavos(), n * 100);
        }

        #[test]
        fn a_string_with_anything_but_digits_is_refused(
            a in "[0-9]{0,6}",
            junk in "[^0-9]",
            b in "[0-9]{0,6}",
        ) {
            let raw = format!("{a}{junk}{b}");
            prop_assert!(Cop::parse_whole_pesos_or_zero(&raw).is_err(), "{:?}", raw);
        }

        #[test]
        fn separators_are_never_read_as_decimals(thousands in 1i64..1000, group in 0i64..1000) {
            // `100.000` and `100,000` must never become 100 (or anything else).
            for sep in [".", ","] {
                let raw = format!("{thousands}{sep}{group:03}");
                prop_assert_eq!(Cop::parse_whole_pesos(&raw), Err(MoneyError::NotANumber));
            }
        }

        #[test]
        fn a_slot_total_adds_up(work in 1i64..10_000_000, margin_bp in 0i64..5000) {
            let margin = Margin::from_bp(margin_bp).unwrap();
            let c = slot_cost(Cop::pesos(work), margin, dec!(0.19));
            prop_assert_eq!(c.total, c.work + c.fee + c.vat);
        }
    }

    proptest! {
        /// Hourly pay is refused exactly when below the minimum; a fixed price exactly when
        /// its hourly equivalent is, and the refusal names the field to raise.
        #[test]
        fn the_minimum_wage_guard(rate in 0i64..200_000, minimum in 1i64..50_000,
                                  price in 0i64..5_000_000, secs in 1i64..200 * 3600) {
            let hourly = check_minimum_wage(PayTerms::Hourly { rate: Cop::pesos(rate) }, Cop::pesos(minimum));
            prop_assert_eq!(hourly.is_ok(), rate >= minimum);
            if let Err(e) = hourly {
                prop_assert_eq!(e.field(), "pricing.rate");
            }
            let terms = PayTerms::Fixed { price: Cop::pesos(price), estimated_seconds: secs };
            let fixed = check_minimum_wage(terms, Cop::pesos(minimum));
            // price / hours >= minimum  ⇔  price · 3600 >= minimum · seconds (no rounding).
            prop_assert_eq!(fixed.is_ok(), i128::from(price) * 3600 >= i128::from(minimum) * i128::from(secs));
            if let Err(e) = fixed {
                prop_assert_eq!(e.field(), "pricing.price");
                prop_assert_eq!(e.code(), "below_minimum_wage");
            }
        }
    }

    #[test]
    fn a_fixed_price_is_judged_by_its_estimated_hours() {
        // 120.000 for 4 h is 30.000 an hour.
        let terms = PayTerms::Fixed {
            price: Cop::pesos(120_000),
            estimated_seconds: 4 * 3600,
        };
        assert_eq!(terms.hourly_equivalent(), Cop::pesos(30_000));
        let e = check_minimum_wage(terms, Cop::pesos(30_001)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "El pago equivale a $ 30.000 por hora, menos que el mínimo legal de $ 30.001 por \
             hora: súbalo al menos a ese mínimo."
        );
    }
}
