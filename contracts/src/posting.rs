//! Posting a task, pure: its pay as typed (pesos, hours → whole seconds) and as stored, what a
//! slot costs the company and pays the worker, which changes a published task still accepts,
//! and what publishing and cancelling require.
//!
//! The refusals' `Display` is the API's English `detail`; people read the Spanish sentence the
//! API's catalogue gives each `code` (and `field`).

use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::marketplace::{PricingKind, TaskStatus};
use crate::money::{
    BelowMinimumWage, Cop, Margin, MoneyError, PayTerms, SlotCost, check_minimum_wage,
    hourly_earnings, slot_cost, vat,
};

/// Most hours a slot may be capped at, or estimated to take.
pub const MAX_HOURS: i64 = 1000;

/// Why an amount of hours was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HoursRefusal {
    #[error("must be a decimal number of hours such as \"2.5\"")]
    NotANumber,
    #[error("must be more than 0 and at most 1000 hours")]
    OutOfRange,
    /// Time is stored and paid in whole seconds; `0.0001` h would be 0.36 s.
    #[error("must be a whole number of seconds")]
    NotWholeSeconds,
}

/// Hours as a client types them (`"2.5"`: digits and one point, spaces around) to whole
/// seconds: more than 0, at most [`MAX_HOURS`].
pub fn hours_to_seconds(raw: &str) -> Result<i64, HoursRefusal> {
    if !raw
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ' ')
    {
        return Err(HoursRefusal::NotANumber);
    }
    let hours = Decimal::from_str(raw.trim()).map_err(|_| HoursRefusal::NotANumber)?;
    // The range first: it also keeps the product below from overflowing.
    if hours <= Decimal::ZERO || hours > Decimal::from(MAX_HOURS) {
        return Err(HoursRefusal::OutOfRange);
    }
    let seconds = hours * Decimal::from(3600);
    if seconds.fract() != Decimal::ZERO {
        return Err(HoursRefusal::NotWholeSeconds);
    }
    seconds.to_i64().ok_or(HoursRefusal::OutOfRange)
}

/// Seconds shown back as hours, without trailing zeros (`9000` → `"2.5"`).
pub fn hours_text(seconds: i64) -> String {
    (Decimal::from(seconds) / Decimal::from(3600))
        .normalize()
        .to_string()
}

/// What was wrong with one part of the pay as typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayProblem {
    #[error("{0}")]
    Money(MoneyError),
    #[error("{0}")]
    Hours(HoursRefusal),
}

/// A refused part of the pay, naming its request field (`pricing.rate`…). Code
/// `validation_failed`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}")]
pub struct PayRefusal {
    pub field: &'static str,
    pub problem: PayProblem,
}

impl PayRefusal {
    pub fn code(&self) -> &'static str {
        "validation_failed"
    }
}

fn pesos(field: &'static str, raw: &str) -> Result<Cop, PayRefusal> {
    Cop::parse_whole_pesos(raw).map_err(|e| PayRefusal {
        field,
        problem: PayProblem::Money(e),
    })
}

fn seconds(field: &'static str, raw: &str) -> Result<i64, PayRefusal> {
    hours_to_seconds(raw).map_err(|e| PayRefusal {
        field,
        problem: PayProblem::Hours(e),
    })
}

/// How one slot of a task pays, parsed and valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskPay {
    /// `rate` per hour, for at most `max_seconds`.
    Hourly { rate: Cop, max_seconds: i64 },
    /// `price` for the slot, for work estimated at `estimated_seconds`.
    Fixed { price: Cop, estimated_seconds: i64 },
}

/// A task's pay as its `tasks` columns hold it (money in centavos); the other kind's columns
/// are empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayColumns<'a> {
    pub kind: &'a str,
    pub rate_centavos: Option<i64>,
    pub max_seconds: Option<i64>,
    pub price_centavos: Option<i64>,
    pub estimated_seconds: Option<i64>,
}

impl TaskPay {
    /// Hourly pay as typed: whole pesos per hour, and the hour cap.
    pub fn hourly(rate: &str, max_hours: &str) -> Result<TaskPay, PayRefusal> {
        Ok(TaskPay::Hourly {
            rate: pesos("pricing.rate", rate)?,
            max_seconds: seconds("pricing.max_hours", max_hours)?,
        })
    }

    /// A fixed price as typed: whole pesos for the slot, and the hours it should take.
    pub fn fixed(price: &str, estimated_hours: &str) -> Result<TaskPay, PayRefusal> {
        Ok(TaskPay::Fixed {
            price: pesos("pricing.price", price)?,
            estimated_seconds: seconds("pricing.estimated_hours", estimated_hours)?,
        })
    }

    /// From the stored columns (see [`PayColumns`]); a kind other than `hourly` is fixed.
    pub fn from_columns(c: &PayColumns<'_>) -> TaskPay {
        match PricingKind::parse(c.kind) {
            PricingKind::Hourly => TaskPay::Hourly {
                rate: Cop::from_centavos(c.rate_centavos.unwrap_or(0)),
                max_seconds: c.max_seconds.unwrap_or(0),
            },
            PricingKind::Fixed => TaskPay::Fixed {
                price: Cop::from_centavos(c.price_centavos.unwrap_or(0)),
                estimated_seconds: c.estimated_seconds.unwrap_or(1),
            },
        }
    }

    pub fn columns(self) -> PayColumns<'static> {
        match self {
            TaskPay::Hourly { rate, max_seconds } => PayColumns {
                kind: "hourly",
                rate_centavos: Some(rate.centavos()),
                max_seconds: Some(max_seconds),
                price_centavos: None,
                estimated_seconds: None,
            },
            TaskPay::Fixed {
                price,
                estimated_seconds,
            } => PayColumns {
                kind: "fixed",
                rate_centavos: None,
                max_seconds: None,
                price_centavos: Some(price.centavos()),
                estimated_seconds: Some(estimated_seconds),
            },
        }
    }

    pub fn kind(self) -> PricingKind {
        match self {
            TaskPay::Hourly { .. } => PricingKind::Hourly,
            TaskPay::Fixed { .. } => PricingKind::Fixed,
        }
    }

    /// The rate per hour of an hourly task.
    pub fn rate(self) -> Option<Cop> {
        match self {
            TaskPay::Hourly { rate, .. } => Some(rate),
            TaskPay::Fixed { .. } => None,
        }
    }

    /// The most one slot pays the worker: the rate for the hour cap (DESIGN §4 rounding), or
    /// the price.
    pub fn max_work(self) -> Cop {
        match self {
            TaskPay::Hourly { rate, max_seconds } => hourly_earnings(max_seconds, rate),
            TaskPay::Fixed { price, .. } => price,
        }
    }

    /// The terms the minimum-wage rule judges.
    pub fn terms(self) -> PayTerms {
        match self {
            TaskPay::Hourly { rate, .. } => PayTerms::Hourly { rate },
            TaskPay::Fixed {
                price,
                estimated_seconds,
            } => PayTerms::Fixed {
                price,
                estimated_seconds,
            },
        }
    }

    /// Pays nobody holding a claim less than `old`: the same kind, and no lower rate, cap or
    /// price.
    pub fn is_no_worse_than(self, old: TaskPay) -> bool {
        match (self, old) {
            (
                TaskPay::Hourly { rate, max_seconds },
                TaskPay::Hourly {
                    rate: r0,
                    max_seconds: m0,
                },
            ) => rate >= r0 && max_seconds >= m0,
            (TaskPay::Fixed { price, .. }, TaskPay::Fixed { price: p0, .. }) => price >= p0,
            _ => false,
        }
    }
}

/// The margin a company is charged: its own when it has one, else the platform's.
pub fn company_margin(stored_bp: Option<i64>, platform: Margin) -> Margin {
    stored_bp.and_then(Margin::from_bp).unwrap_or(platform)
}

/// What a task costs the company before it is published: one slot, and every slot together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostPreview {
    pub one_slot: SlotCost,
    pub all_slots: SlotCost,
}

/// The cost preview with the same margin and IVA rounding accrual and invoicing use, so the
/// company is billed what it was shown. All slots together are priced as the invoice prices
/// them: each slot's fee is rounded on its own (each approval accrues its own fee) and the IVA
/// once, on the fees' sum.
pub fn cost_preview(pay: TaskPay, slots: i64, margin: Margin, vat_rate: Decimal) -> CostPreview {
    let one_slot = slot_cost(pay.max_work(), margin, vat_rate);
    let times = |c: Cop| Cop::new(c.amount() * Decimal::from(slots));
    let (work, fee) = (times(one_slot.work), times(one_slot.fee));
    let vat = vat(fee, vat_rate);
    CostPreview {
        one_slot,
        all_slots: SlotCost {
            work,
            fee,
            vat,
            total: work + fee + vat,
        },
    }
}

/// Fields that may only change while the task is a draft: a worker holding a claim took the
/// task as they were.
pub const DRAFT_ONLY_FIELDS: [&str; 11] = [
    "title",
    "instructions",
    "category",
    "required_skills",
    "acceptance",
    "review_hours",
    "review_business_days",
    "allows_changes",
    "rubric",
    "min_record_percent",
    "qualification_skill",
];

/// Why a task may not be edited, published or cancelled as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PostingRefusal {
    /// Closed or cancelled: nothing changes any more.
    #[error("The task is {}.", .0.as_str())]
    Finished(TaskStatus),
    /// Cancelling a task that is closed or cancelled already.
    #[error("The task is already {}.", .0.as_str())]
    AlreadyFinished(TaskStatus),
    /// A draft-only field (one of [`DRAFT_ONLY_FIELDS`]) on a published task.
    #[error("The task is published: only slots, deadline, claim time and pay can grow.")]
    DraftOnly(&'static str),
    #[error("The task is published: slots can be added, not removed.")]
    FewerSlots,
    #[error("The task is published: the deadline can move later, not earlier.")]
    EarlierDeadline,
    #[error("The task is published: claim time can grow, not shrink.")]
    ShorterClaimTime,
    #[error("The task is published: pay can go up, not down or change kind.")]
    LowerPay,
    #[error("The task is {}, not a draft.", .0.as_str())]
    NotADraft(TaskStatus),
    #[error("The deadline has passed; move it before publishing.")]
    DeadlinePassed,
    /// The law may have changed since the draft was written.
    #[error("{0}")]
    BelowMinimumWage(BelowMinimumWage),
}

impl PostingRefusal {
    pub fn code(&self) -> &'static str {
        use PostingRefusal::*;
        // One arm per line: the API's catalogue test reads these codes from the source.
        match self {
            Finished(_) => "task_finished",
            AlreadyFinished(_) => "task_finished",
            DraftOnly(_) => "task_published",
            FewerSlots => "task_published",
            EarlierDeadline => "task_published",
            ShorterClaimTime => "task_published",
            LowerPay => "task_published",
            NotADraft(_) => "not_a_draft",
            DeadlinePassed => "deadline_passed",
            BelowMinimumWage(e) => e.code(),
        }
    }

    /// The request field at fault, if any.
    pub fn field(&self) -> Option<&'static str> {
        use PostingRefusal::*;
        match self {
            Finished(_) | AlreadyFinished(_) | NotADraft(_) => None,
            DraftOnly(field) => Some(*field),
            FewerSlots => Some("slots"),
            EarlierDeadline | DeadlinePassed => Some("deadline"),
            ShorterClaimTime => Some("claim_minutes"),
            LowerPay => Some("pricing"),
            BelowMinimumWage(e) => Some(e.field()),
        }
    }

    /// A clash with the task's state (409), rather than a bad value (422).
    pub fn is_conflict(&self) -> bool {
        !matches!(self, PostingRefusal::BelowMinimumWage(_))
    }
}

/// Whether a task in `status` may be edited at all, and in the fields `touched` (names as in
/// the request): a draft in anything, an open task in none of [`DRAFT_ONLY_FIELDS`].
pub fn editable(status: TaskStatus, touched: &[&str]) -> Result<(), PostingRefusal> {
    match status {
        TaskStatus::Draft => Ok(()),
        TaskStatus::Open => match DRAFT_ONLY_FIELDS.into_iter().find(|f| touched.contains(f)) {
            Some(field) => Err(PostingRefusal::DraftOnly(field)),
            None => Ok(()),
        },
        TaskStatus::Closed | TaskStatus::Cancelled => Err(PostingRefusal::Finished(status)),
    }
}

/// The terms of a task that a published edit may only grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrowingTerms {
    pub slots: i64,
    pub deadline: Option<i64>,
    pub claim_minutes: i64,
    pub pay: TaskPay,
}

/// A change to [`GrowingTerms`]; `None` leaves a term as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TermsChange {
    pub slots: Option<i64>,
    pub deadline: Option<i64>,
    pub claim_minutes: Option<i64>,
    pub pay: Option<TaskPay>,
}

/// A published task's terms only grow, so nobody holding a claim is hurt: more slots, a later
/// deadline, more claim time, more pay of the same kind. A draft may change any way.
pub fn check_growth(
    status: TaskStatus,
    now: &GrowingTerms,
    change: &TermsChange,
) -> Result<(), PostingRefusal> {
    if status != TaskStatus::Open {
        return Ok(());
    }
    if change.slots.is_some_and(|s| s < now.slots) {
        return Err(PostingRefusal::FewerSlots);
    }
    if let (Some(new), Some(old)) = (change.deadline, now.deadline)
        && new < old
    {
        return Err(PostingRefusal::EarlierDeadline);
    }
    if change.claim_minutes.is_some_and(|m| m < now.claim_minutes) {
        return Err(PostingRefusal::ShorterClaimTime);
    }
    if change.pay.is_some_and(|p| !p.is_no_worse_than(now.pay)) {
        return Err(PostingRefusal::LowerPay);
    }
    Ok(())
}

/// What publishing a task requires: it is a draft, it pays at least `minimum_hourly` (the law
/// in force today), and its deadline, if any, is still ahead of `now`.
pub fn check_publication(
    status: TaskStatus,
    pay: TaskPay,
    minimum_hourly: Cop,
    deadline: Option<i64>,
    now: i64,
) -> Result<(), PostingRefusal> {
    if status != TaskStatus::Draft {
        return Err(PostingRefusal::NotADraft(status));
    }
    check_minimum_wage(pay.terms(), minimum_hourly).map_err(PostingRefusal::BelowMinimumWage)?;
    if deadline.is_some_and(|d| d <= now) {
        return Err(PostingRefusal::DeadlinePassed);
    }
    Ok(())
}

/// A draft or an open task may be cancelled; a finished one is left as it ended.
pub fn check_cancellation(status: TaskStatus) -> Result<(), PostingRefusal> {
    if status.can_move_to(TaskStatus::Cancelled) {
        Ok(())
    } else {
        Err(PostingRefusal::AlreadyFinished(status))
    }
}

/// How far ahead a deadline may be set.
pub const MAX_DEADLINE_AHEAD_SECS: i64 = 5 * 366 * 86_400;

/// Why a deadline was refused (code `validation_failed`, field `deadline`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineRefusal {
    #[error("must be in the future")]
    Past,
    #[error("must be within five years")]
    TooFar,
}

/// A deadline being set at `now`: ahead of it, and at most five years ahead.
pub fn check_deadline(deadline: i64, now: i64) -> Result<i64, DeadlineRefusal> {
    if deadline <= now {
        return Err(DeadlineRefusal::Past);
    }
    if deadline > now + MAX_DEADLINE_AHEAD_SECS {
        return Err(DeadlineRefusal::TooFar);
    }
    Ok(deadline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn hourly(rate: i64, max_seconds: i64) -> TaskPay {
        TaskPay::Hourly {
            rate: Cop::pesos(rate),
            max_seconds,
        }
    }

    fn fixed(price: i64, estimated_seconds: i64) -> TaskPay {
        TaskPay::Fixed {
            price: Cop::pesos(price),
            estimated_seconds,
        }
    }

    #[test]
    fn hours_are_typed_as_decimals_of_whole_seconds() {
        assert_eq!(hours_to_seconds("2.5"), Ok(9000));
        assert_eq!(hours_to_seconds(" 10 "), Ok(36_000));
        assert_eq!(hours_to_seconds("1000"), Ok(3_600_000));
        assert_eq!(hours_to_seconds("0.0025"), Ok(9));
        for bad in ["", "abc", "2,5", "-1", "1e3", "+2", "½", "2.5h"] {
            assert_eq!(
                hours_to_seconds(bad),
                Err(HoursRefusal::NotANumber),
                "{bad:?}"
            );
        }
        for out in [
            "0",
            "0.0",
            "1000.0001",
            "1001",
            "79228162514264337593543950335",
        ] {
            assert_eq!(
                hours_to_seconds(out),
                Err(HoursRefusal::OutOfRange),
                "{out:?}"
            );
        }
        assert_eq!(
            hours_to_seconds("0.0001"),
            Err(HoursRefusal::NotWholeSeconds)
        );
        assert_eq!(hours_text(9000), "2.5");
        assert_eq!(hours_text(36_000), "10");
    }

    #[test]
    fn pay_as_typed_names_the_field_at_fault() {
        assert_eq!(TaskPay::hourly("18500", "2.5"), Ok(hourly(18_500, 9000)));
        assert_eq!(
            TaskPay::hourly("18.500", "2").map_err(|e| e.field),
            Err("pricing.rate")
        );
        assert_eq!(
            TaskPay::hourly("18500", "0").map_err(|e| e.field),
            Err("pricing.max_hours")
        );
        assert_eq!(
            TaskPay::fixed("0", "2").map_err(|e| e.field),
            Err("pricing.price")
        );
        let e = TaskPay::fixed("120000", "x").unwrap_err();
        assert_eq!(e.field, "pricing.estimated_hours");
        assert_eq!(
            e.to_string(),
            "must be a decimal number of hours such as \"2.5\""
        );
        assert_eq!(e.code(), "validation_failed");
    }

    #[test]
    fn stored_columns_read_back() {
        for pay in [hourly(18_500, 9000), fixed(120_000, 7200)] {
            assert_eq!(TaskPay::from_columns(&pay.columns()), pay);
        }
        assert_eq!(
            hourly(18_500, 9000).columns().rate_centavos,
            Some(1_850_000)
        );
        assert_eq!(fixed(1, 1).columns().max_seconds, None);
    }

    #[test]
    fn the_cost_of_a_slot_is_pay_fee_and_iva_on_the_fee() {
        // 18,500 an hour for at most 2.5 h = 46,250; 20 % fee 9,250; 19 % IVA 1,757.5 → 1,758.
        let margin = Margin::from_bp(2000).unwrap();
        let c = cost_preview(hourly(18_500, 9000), 3, margin, dec!(0.19));
        assert_eq!(c.one_slot.work, Cop::pesos(46_250));
        assert_eq!(c.one_slot.fee, Cop::pesos(9_250));
        assert_eq!(c.one_slot.vat, Cop::pesos(1_758));
        assert_eq!(c.one_slot.total, Cop::pesos(57_258));
        // Three slots priced together round IVA once: 27,750 × 0.19 = 5,272.5 → 5,273.
        assert_eq!(c.all_slots.work, Cop::pesos(138_750));
        assert_eq!(c.all_slots.vat, Cop::pesos(5_273));
        assert_eq!(c.all_slots.total, Cop::pesos(171_773));
        let f = cost_preview(fixed(120_000, 7200), 1, margin, dec!(0.19));
        assert_eq!(f.one_slot, f.all_slots);
        assert_eq!(f.one_slot.work, Cop::pesos(120_000));
        assert_eq!(company_margin(Some(1250), margin).bp(), 1250);
        assert_eq!(company_margin(None, margin), margin);
        assert_eq!(company_margin(Some(10_000), margin), margin);
    }

    #[test]
    fn a_draft_changes_anything_an_open_task_only_grows() {
        use TaskStatus::*;
        assert_eq!(editable(Draft, &["title", "slots"]), Ok(()));
        assert_eq!(editable(Open, &["slots", "pricing", "deadline"]), Ok(()));
        assert_eq!(
            editable(Open, &["review_hours", "category"]),
            Err(PostingRefusal::DraftOnly("category"))
        );
        assert_eq!(editable(Closed, &[]), Err(PostingRefusal::Finished(Closed)));
        let e = editable(Cancelled, &["slots"]).unwrap_err();
        assert_eq!((e.code(), e.field()), ("task_finished", None));
        assert_eq!(e.to_string(), "The task is cancelled.");
        let e = PostingRefusal::DraftOnly("title");
        assert_eq!((e.code(), e.field()), ("task_published", Some("title")));

        let now = GrowingTerms {
            slots: 3,
            deadline: Some(1_000),
            claim_minutes: 60,
            pay: hourly(18_500, 9000),
        };
        let grow = |change: TermsChange| check_growth(Open, &now, &change);
        assert_eq!(grow(TermsChange::default()), Ok(()));
        let fewer = TermsChange {
            slots: Some(2),
            ..Default::default()
        };
        assert_eq!(grow(fewer), Err(PostingRefusal::FewerSlots));
        assert_eq!(check_growth(Draft, &now, &fewer), Ok(()));
        assert_eq!(
            grow(TermsChange {
                deadline: Some(999),
                ..Default::default()
            }),
            Err(PostingRefusal::EarlierDeadline)
        );
        assert_eq!(
            grow(TermsChange {
                claim_minutes: Some(59),
                ..Default::default()
            }),
            Err(PostingRefusal::ShorterClaimTime)
        );
        for worse in [
            hourly(18_499, 9000),
            hourly(18_500, 8999),
            fixed(1_000_000, 1),
        ] {
            let e = grow(TermsChange {
                pay: Some(worse),
                ..Default::default()
            })
            .unwrap_err();
            assert_eq!((e, e.field()), (PostingRefusal::LowerPay, Some("pricing")));
        }
        assert_eq!(
            grow(TermsChange {
                slots: Some(4),
                deadline: Some(2_000),
                claim_minutes: Some(61),
                pay: Some(hourly(20_000, 9000)),
            }),
            Ok(())
        );
    }

    #[test]
    fn publishing_needs_a_draft_legal_pay_and_a_deadline_ahead() {
        use TaskStatus::*;
        let min = Cop::pesos(6_000);
        let pay = hourly(18_500, 9000);
        assert_eq!(check_publication(Draft, pay, min, None, 100), Ok(()));
        assert_eq!(check_publication(Draft, pay, min, Some(101), 100), Ok(()));
        let e = check_publication(Open, pay, min, None, 100).unwrap_err();
        assert_eq!(
            (e.code(), e.to_string()),
            ("not_a_draft", "The task is open, not a draft.".into())
        );
        let e = check_publication(Draft, pay, min, Some(100), 100).unwrap_err();
        assert_eq!((e.code(), e.field()), ("deadline_passed", Some("deadline")));
        let e = check_publication(Draft, fixed(6_000, 7200), min, Some(1), 100).unwrap_err();
        assert_eq!(
            (e.code(), e.field(), e.is_conflict()),
            ("below_minimum_wage", Some("pricing.price"), false)
        );
        assert_eq!(check_cancellation(Draft), Ok(()));
        assert_eq!(check_cancellation(Open), Ok(()));
        let e = check_cancellation(Closed).unwrap_err();
        assert_eq!(
            (e.code(), e.to_string()),
            ("task_finished", "The task is already closed.".into())
        );
    }

    #[test]
    fn deadlines_are_ahead_and_within_five_years() {
        assert_eq!(check_deadline(101, 100), Ok(101));
        assert_eq!(check_deadline(100, 100), Err(DeadlineRefusal::Past));
        assert_eq!(
            check_deadline(100 + MAX_DEADLINE_AHEAD_SECS, 100),
            Ok(100 + MAX_DEADLINE_AHEAD_SECS)
        );
        assert_eq!(
            check_deadline(101 + MAX_DEADLINE_AHEAD_SECS, 100),
            Err(DeadlineRefusal::TooFar)
        );
    }

    fn any_pay() -> impl Strategy<Value = TaskPay> {
        prop_oneof![
            (1i64..1_000_000, 1i64..=3_600_000).prop_map(|(r, s)| hourly(r, s)),
            (1i64..100_000_000, 1i64..=3_600_000).prop_map(|(p, s)| fixed(p, s)),
        ]
    }

    proptest! {
        #[test]
        fn any_typed_hours_read_back(nines in 1i64..=400_000) {
            // Whole seconds that are an exact decimal of hours are multiples of 9 s.
            let s = nines * 9;
            prop_assert_eq!(hours_to_seconds(&hours_text(s)), Ok(s));
        }

        #[test]
        fn hours_never_panic_and_stay_in_range(raw in "[0-9. ]{0,40}|\\PC{0,12}") {
            if let Ok(s) = hours_to_seconds(&raw) {
                prop_assert!((1..=MAX_HOURS * 3600).contains(&s));
            }
        }

        #[test]
        fn a_slot_costs_its_parts_and_slots_cost_in_proportion(
            pay in any_pay(), slots in 1i64..=1000, bp in 0i64..10_000, vat_pct in 0i64..=30,
        ) {
            let margin = Margin::from_bp(bp).unwrap();
            let c = cost_preview(pay, slots, margin, Decimal::new(vat_pct, 2));
            for s in [c.one_slot, c.all_slots] {
                prop_assert_eq!(s.total, s.work + s.fee + s.vat);
                prop_assert!(s.fee >= Cop::ZERO && s.vat >= Cop::ZERO);
            }
            prop_assert_eq!(c.one_slot.work, pay.max_work());
            prop_assert_eq!(c.all_slots.work.amount(), c.one_slot.work.amount() * Decimal::from(slots));
            // As the invoice: every slot's fee as accrued, the IVA once on their sum.
            prop_assert_eq!(c.all_slots.fee.amount(), c.one_slot.fee.amount() * Decimal::from(slots));
            prop_assert_eq!(c.all_slots.vat, crate::money::vat(c.all_slots.fee, Decimal::new(vat_pct, 2)));
            let apart = c.one_slot.total.amount() * Decimal::from(slots);
            prop_assert!((c.all_slots.total.amount() - apart).abs() <= Decimal::from(slots));
        }

        #[test]
        fn a_published_task_accepts_a_change_only_when_no_term_shrinks(
            slots in 1i64..10, claim in 10i64..100, deadline in proptest::option::of(0i64..100),
            pay in any_pay(),
            new_slots in proptest::option::of(1i64..10), new_claim in proptest::option::of(10i64..100),
            new_deadline in proptest::option::of(0i64..100), new_pay in proptest::option::of(any_pay()),
        ) {
            let now = GrowingTerms { slots, deadline, claim_minutes: claim, pay };
            let change = TermsChange {
                slots: new_slots, deadline: new_deadline, claim_minutes: new_claim, pay: new_pay,
            };
            let shrinks = new_slots.is_some_and(|s| s < slots)
                || matches!((new_deadline, deadline), (Some(n), Some(o)) if n < o)
                || new_claim.is_some_and(|c| c < claim)
                || new_pay.is_some_and(|p| !p.is_no_worse_than(pay));
            prop_assert_eq!(check_growth(TaskStatus::Open, &now, &change).is_err(), shrinks);
            prop_assert_eq!(check_growth(TaskStatus::Draft, &now, &change), Ok(()));
            // Leaving everything as it is is always allowed.
            prop_assert!(pay.is_no_worse_than(pay));
        }
    }
}
