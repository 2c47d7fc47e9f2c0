//! Monthly income statements (issue 6): what a worker earned in a Bogotá calendar month, how it
//! compares with the legal minimum wage and the rural baseline, and what an independent worker
//! would owe to social security on it. Pure: the statement job gathers the inputs (accrued work
//! by month of approval, payouts), this module does the arithmetic and the wording.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::legal::{Dated, LegalFigures};
use crate::money::Cop;
use crate::time::BOGOTA;
use crate::timesheet::day_start;

/// A calendar month in Bogotá, written `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

const MONTHS_ES: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

impl Month {
    /// `YYYY-MM`, years 2000 to 2999.
    pub fn parse(raw: &str) -> Option<Month> {
        let (y, m) = raw.trim().split_once('-')?;
        if y.len() != 4 || m.len() != 2 || !(y.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let (year, month) = (y.parse().ok()?, m.parse().ok()?);
        ((2000..3000).contains(&year) && (1..=12).contains(&month)).then_some(Month { year, month })
    }

    /// The Bogotá month an instant falls in.
    pub fn of(t: DateTime<Utc>) -> Month {
        let d = t.with_timezone(&BOGOTA).date_naive();
        Month {
            year: d.year(),
            month: d.month(),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// Unix seconds when the month begins in Bogotá.
    pub fn start(self) -> i64 {
        day_start(self.first_day())
    }

    /// Unix seconds when the next month begins in Bogotá (exclusive end).
    pub fn end(self) -> i64 {
        self.next().start()
    }

    /// The last Bogotá day of the month.
    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or_default()
    }

    /// `noviembre de 2026`.
    pub fn name_es(self) -> String {
        format!("{} de {}", MONTHS_ES[(self.month - 1) as usize], self.year)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// `28 de noviembre de 2026`.
pub fn date_es(d: NaiveDate) -> String {
    format!(
        "{} de {} de {}",
        d.day(),
        MONTHS_ES[d.month0() as usize],
        d.year()
    )
}

/// A decimal for people in Colombia: comma for decimals (`2,62`).
pub fn decimal_es(d: Decimal) -> String {
    d.to_string().replace('.', ",")
}

/// A share as a percentage for people: `0.0277` → `2,77 %`.
pub fn percent_es(share: Decimal) -> String {
    let pct = (share * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        .normalize();
    format!("{} %", decimal_es(pct))
}

/// Contribution rates of an independent worker, effective-dated like every legal figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialSecurityRates {
    /// Share of monthly income that is the contribution base (IBC).
    pub ibc_share: Decimal,
    pub health: Decimal,
    pub pension: Decimal,
    /// ARL, occupational risk class I.
    pub arl: Decimal,
    /// The IBC never exceeds this many SMMLV.
    pub max_ibc_smmlv: i64,
}

/// The rates in force: IBC 40% of income (Ley 1955 de 2019, art. 244), health 12.5%,
/// pension 16%, ARL class I 0.522%, IBC capped at 25 SMMLV (Ley 797 de 2003).
pub fn default_social_security() -> Vec<Dated<SocialSecurityRates>> {
    vec![Dated {
        from: NaiveDate::from_ymd_opt(2019, 5, 25).unwrap_or_default(),
        value: SocialSecurityRates {
            ibc_share: Decimal::new(40, 2),
            health: Decimal::new(125, 3),
            pension: Decimal::new(16, 2),
            arl: Decimal::new(522, 5),
            max_ibc_smmlv: 25,
        },
    }]
}

/// One company's share of the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyIncome {
    pub company_id: String,
    pub company_name: String,
    pub assignments: i64,
    pub seconds: i64,
    #[serde(with = "cop_text")]
    pub gross: Cop,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparisons {
    #[serde(with = "cop_text")]
    pub smmlv: Cop,
    /// Gross income ÷ SMMLV, four decimals.
    pub share_of_smmlv: Decimal,
    /// Gross income per hour worked; none without logged time.
    #[serde(with = "opt_cop_text")]
    pub effective_hourly: Option<Cop>,
    #[serde(with = "cop_text")]
    pub minimum_hourly: Cop,
    #[serde(with = "cop_text")]
    pub rural_baseline: Cop,
    /// Gross income ÷ rural baseline, four decimals.
    pub share_of_baseline: Decimal,
}

/// What an independent worker owes on the month's income, paid the month after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialSecurity {
    /// Income of at least one SMMLV obliges an independent worker to contribute.
    pub required: bool,
    #[serde(with = "cop_text")]
    pub ibc: Cop,
    #[serde(with = "cop_text")]
    pub health: Cop,
    #[serde(with = "cop_text")]
    pub pension: Cop,
    #[serde(with = "cop_text")]
    pub arl: Cop,
    #[serde(with = "cop_text")]
    pub total: Cop,
    /// What she declared paying through PILA for the month (issue 20 §4), to compare.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<Declared>,
}

/// A month's PILA payment as she declared it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declared {
    pub planilla: String,
    #[serde(with = "cop_text")]
    pub health: Cop,
    #[serde(with = "cop_text")]
    pub pension: Cop,
}

/// The figures of one statement. Two builds with equal figures are the same version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub worker_id: String,
    pub month: String,
    /// Built while the month was still in course.
    pub provisional: bool,
    pub seconds: i64,
    /// Seconds as hours, two decimals.
    pub hours: Decimal,
    pub assignments_approved: i64,
    /// Earnings of work approved in the month.
    #[serde(with = "cop_text")]
    pub gross: Cop,
    /// Paid to her in the month before withholding: the month's payout lines (by the day
    /// their batch was built) that had not failed at its close.
    #[serde(with = "cop_text", default)]
    pub paid_gross: Cop,
    /// Withheld from those payments (negative when an excess was given back).
    #[serde(with = "cop_text")]
    pub withholding: Cop,
    /// What those payments sent her: `paid_gross − withholding`.
    #[serde(with = "cop_text")]
    pub net: Cop,
    /// Payouts the bank confirmed during the month (net of withholding).
    #[serde(with = "cop_text")]
    pub paid_out: Cop,
    /// Earned and not yet sent, at the close of the month (or now, while provisional).
    #[serde(with = "cop_text")]
    pub pending: Cop,
    pub by_company: Vec<CompanyIncome>,
    pub comparisons: Comparisons,
    pub social_security: SocialSecurity,
}

/// One approved piece of work counted in the month.
#[derive(Debug, Clone)]
pub struct WorkItem {
    pub company_id: String,
    pub company_name: String,
    pub seconds: i64,
    pub work: Cop,
}

/// What the statement job read for one worker and month.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub worker_id: String,
    pub month: Month,
    pub provisional: bool,
    pub work: Vec<WorkItem>,
    /// The month's payout lines not failed at the cut-off: amounts and their withholding.
    pub paid_gross: Cop,
    pub withheld: Cop,
    pub paid_out: Cop,
    pub pending: Cop,
    /// Her PILA declaration for the month, if any.
    pub declared: Option<Declared>,
}

/// The configured figures a statement depends on.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub legal: &'a LegalFigures,
    pub social_security: &'a [Dated<SocialSecurityRates>],
    pub rural_baseline: Cop,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error("no {0} is configured for {1}")]
    MissingFigure(&'static str, NaiveDate),
}

fn rate_in_force(
    table: &[Dated<SocialSecurityRates>],
    on: NaiveDate,
) -> Option<&SocialSecurityRates> {
    table
        .iter()
        .filter(|e| e.from <= on)
        .max_by_key(|e| e.from)
        .map(|e| &e.value)
}

fn share(part: Cop, whole: Cop) -> Decimal {
    if whole.amount().is_zero() {
        return Decimal::ZERO;
    }
    (part.amount() / whole.amount())
        .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// Seconds as hours, two decimals, half away from zero (9,435 s → 2.62).
pub fn hours(seconds: i64) -> Decimal {
    (Decimal::from(seconds) / Decimal::from(3600))
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// PILA rounds contributions up to the next multiple of 100 pesos.
fn up_to_hundred(x: Decimal) -> Cop {
    let h = Decimal::ONE_HUNDRED;
    Cop::new((x / h).ceil() * h)
}

/// The social-security estimate on a month's income.
pub fn social_security(income: Cop, smmlv: Cop, r: &SocialSecurityRates) -> SocialSecurity {
    let base = (income.amount() * r.ibc_share).ceil();
    let cap = smmlv.amount() * Decimal::from(r.max_ibc_smmlv);
    let ibc = base.max(smmlv.amount()).min(cap);
    let (health, pension, arl) = (
        up_to_hundred(ibc * r.health),
        up_to_hundred(ibc * r.pension),
        up_to_hundred(ibc * r.arl),
    );
    SocialSecurity {
        required: income >= smmlv,
        ibc: Cop::new(ibc),
        health,
        pension,
        arl,
        total: health + pension + arl,
        declared: None,
    }
}

/// Compute a statement's figures.
pub fn compute(inputs: Inputs, rules: Rules<'_>) -> Result<Statement, StatementError> {
    let on = inputs.month.first_day();
    let smmlv = rules
        .legal
        .smmlv(on)
        .ok_or(StatementError::MissingFigure("SMMLV", on))?;
    let minimum_hourly = rules
        .legal
        .minimum_hourly(on)
        .ok_or(StatementError::MissingFigure("legal hourly minimum", on))?;
    let rates = rate_in_force(rules.social_security, on)
        .ok_or(StatementError::MissingFigure("social-security rate", on))?;

    let mut companies: BTreeMap<String, CompanyIncome> = BTreeMap::new();
    for w in &inputs.work {
        let c = companies
            .entry(w.company_id.clone())
            .or_insert_with(|| CompanyIncome {
                company_id: w.company_id.clone(),
                company_name: w.company_name.clone(),
                assignments: 0,
                seconds: 0,
                gross: Cop::ZERO,
            });
        c.assignments += 1;
        c.seconds += w.seconds;
        c.gross = c.gross + w.work;
    }
    let seconds: i64 = inputs.work.iter().map(|w| w.seconds).sum();
    let gross: Cop = inputs.work.iter().map(|w| w.work).sum();
    let effective_hourly = (seconds > 0).then(|| {
        Cop::new(gross.amount() * Decimal::from(3600) / Decimal::from(seconds)).round_pesos()
    });
    Ok(Statement {
        worker_id: inputs.worker_id,
        month: inputs.month.to_string(),
        provisional: inputs.provisional,
        seconds,
        hours: hours(seconds),
        assignments_approved: inputs.work.len() as i64,
        gross,
        paid_gross: inputs.paid_gross,
        withholding: inputs.withheld,
        net: inputs.paid_gross - inputs.withheld,
        paid_out: inputs.paid_out,
        pending: inputs.pending,
        by_company: companies.into_values().collect(),
        comparisons: Comparisons {
            smmlv,
            share_of_smmlv: share(gross, smmlv),
            effective_hourly,
            minimum_hourly,
            rural_baseline: rules.rural_baseline,
            share_of_baseline: share(gross, rules.rural_baseline),
        },
        social_security: SocialSecurity {
            declared: inputs.declared,
            ..social_security(gross, smmlv, rates)
        },
    })
}

/// The social-security block said plainly, in Spanish, with what she declared compared.
pub fn social_security_note_es(s: &Statement) -> String {
    let ss = &s.social_security;
    let mut note = estimate_note_es(s);
    match &ss.declared {
        Some(d) => {
            note.push_str(&format!(
                " Declaró la planilla PILA {}: salud {} y pensión {}",
                d.planilla,
                d.health.to_es_co(),
                d.pension.to_es_co()
            ));
            let short = (ss.health + ss.pension) - (d.health + d.pension);
            if ss.required && short > Cop::ZERO {
                note.push_str(&format!(
                    ", {} menos que lo estimado en salud y pensión: revise su planilla.",
                    short.to_es_co()
                ));
            } else {
                note.push('.');
            }
        }
        None if ss.required => note.push_str(
            " No ha registrado la planilla PILA de este mes: regístrela en su perfil con el \
             número y lo que pagó.",
        ),
        None => {}
    }
    note
}

fn estimate_note_es(s: &Statement) -> String {
    let ss = &s.social_security;
    if ss.required {
        format!(
            "Con ingresos de {} en el mes, como independiente debe cotizar sobre un IBC de {}: \
             salud {}, pensión {} y ARL {} (total {}), que se pagan el mes siguiente.",
            s.gross.to_es_co(),
            ss.ibc.to_es_co(),
            ss.health.to_es_co(),
            ss.pension.to_es_co(),
            ss.arl.to_es_co(),
            ss.total.to_es_co()
        )
    } else {
        format!(
            "Con ingresos de {}, menores a un salario mínimo ({}), no está obligado(a) a cotizar \
             como independiente. Si decide hacerlo, el aporte mínimo sería de {} al mes (salud {}, \
             pensión {}, ARL {}).",
            s.gross.to_es_co(),
            s.comparisons.smmlv.to_es_co(),
            ss.total.to_es_co(),
            ss.health.to_es_co(),
            ss.pension.to_es_co(),
            ss.arl.to_es_co()
        )
    }
}

/// Crockford's base32: no I, L, O or U, so a clerk cannot mistype them.
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_CHARS: usize = 12;

/// A verification code from 60 random bits: `7K2M-Q9XD-4HTB`.
pub fn verification_code(random: u128) -> String {
    let mut out = String::with_capacity(CODE_CHARS + 2);
    for i in 0..CODE_CHARS {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let idx = (random >> (5 * i)) & 31;
        out.push(CODE_ALPHABET[idx as usize] as char);
    }
    out
}

/// A code as typed by a person (any case, with or without dashes or spaces, O for 0, I or L
/// for 1) in its canonical form; `None` if it cannot be a code.
pub fn normalize_code(typed: &str) -> Option<String> {
    let mut chars = String::with_capacity(CODE_CHARS);
    for c in typed.chars().filter(|c| !matches!(c, '-' | ' ')) {
        let c = match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !CODE_ALPHABET.contains(&(c as u8)) || !c.is_ascii() {
            return None;
        }
        chars.push(c);
    }
    if chars.len() != CODE_CHARS {
        return None;
    }
    let mut out = String::with_capacity(CODE_CHARS + 2);
    for (i, c) in chars.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(c);
    }
    Some(out)
}

/// Money as a decimal string of pesos, as everywhere in the API's JSON.
pub(crate) mod cop_text {
    use std::str::FromStr;

    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::money::Cop;

    pub fn serialize<S: Serializer>(c: &Cop, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(c)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Cop, D::Error> {
        let s = String::deserialize(d)?;
        Decimal::from_str(&s)
            .map(Cop::new)
            .map_err(serde::de::Error::custom)
    }
}

mod opt_cop_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::money::Cop;

    pub fn serialize<S: Serializer>(c: &Option<Cop>, s: S) -> Result<S::Ok, S::Error> {
        match c {
            Some(c) => s.collect_str(c),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cop>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::cop_text")] Cop);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

/// A documento soporte or adjustment as shown on a statement and to finance.
#[derive(Debug, Clone)]
pub struct SupportDocument {
    pub id: String,
    pub number: String,
    /// `document` or `adjustment`.
    pub kind: String,
    pub worker_id: String,
    pub month: String,
    pub amount: Cop,
    /// `YYYY-MM-DD`, Bogotá.
    pub issued_on: String,
    /// The ISO week it documents (Monday and Sunday, `YYYY-MM-DD`); none for a monthly one.
    pub week_start: Option<String>,
    pub week_end: Option<String>,
    /// Its CUDS, once its electronic document is made.
    pub code: Option<String>,
    /// A nota de ajuste's document (its number), and why it corrects it.
    pub corrects: Option<String>,
    pub reason: Option<String>,
}

/// One stored version of a statement, with what its documents print about the worker.
#[derive(Debug, Clone)]
pub struct StoredStatement {
    pub id: String,
    pub version: i64,
    pub figures: Statement,
    pub verification_code: String,
    pub generated_at: i64,
    pub worker_name: String,
    /// The cédula, when the profile has one.
    pub document_id: Option<String>,
    pub support_documents: Vec<SupportDocument>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn rules<'a>(legal: &'a LegalFigures, ss: &'a [Dated<SocialSecurityRates>]) -> Rules<'a> {
        Rules {
            legal,
            social_security: ss,
            rural_baseline: Cop::pesos(800_000),
        }
    }

    fn compute_default(inputs: Inputs) -> Result<Statement, StatementError> {
        let (legal, ss) = (LegalFigures::default(), default_social_security());
        compute(inputs, rules(&legal, &ss))
    }

    fn worked_example_inputs() -> Inputs {
        Inputs {
            worker_id: "w1".into(),
            month: Month::parse("2026-11").unwrap(),
            provisional: true,
            work: vec![WorkItem {
                company_id: "c1".into(),
                company_name: "Tienda Andina".into(),
                seconds: 9435,
                work: Cop::pesos(48_485),
            }],
            paid_gross: Cop::ZERO,
            withheld: Cop::ZERO,
            paid_out: Cop::ZERO,
            pending: Cop::pesos(48_485),
            declared: None,
        }
    }

    /// DESIGN §4's worked example as a statement for November 2026.
    #[test]
    fn the_worked_example() {
        let s = compute_default(worked_example_inputs()).unwrap();
        assert_eq!(s.gross, Cop::pesos(48_485));
        // Earned, not yet paid: nothing withheld or sent, all of it pending.
        assert_eq!(
            (s.paid_gross, s.withholding, s.net),
            (Cop::ZERO, Cop::ZERO, Cop::ZERO)
        );
        assert_eq!(s.pending, Cop::pesos(48_485));
        assert_eq!(s.hours, dec!(2.62));
        assert_eq!(s.assignments_approved, 1);
        assert_eq!(s.comparisons.smmlv, Cop::pesos(1_750_905));
        // 48,485 / 1,750,905 = 0.02769…
        assert_eq!(s.comparisons.share_of_smmlv, dec!(0.0277));
        // 48,485 × 3600 / 9435 = 18,499.84…
        assert_eq!(s.comparisons.effective_hourly, Some(Cop::pesos(18_500)));
        // 1,750,905 / (42 h × 5) = 8,337.64… → 8,338.
        assert_eq!(s.comparisons.minimum_hourly, Cop::pesos(8_338));
        assert_eq!(s.comparisons.share_of_baseline, dec!(0.0606));
        let ss = &s.social_security;
        assert!(!ss.required);
        // IBC is never below one SMMLV: 12.5% = 218,863.13 → 218,900; 16% = 280,144.8 →
        // 280,200; 0.522% = 9,139.72 → 9,200.
        assert_eq!(ss.ibc, Cop::pesos(1_750_905));
        assert_eq!(
            (ss.health, ss.pension, ss.arl, ss.total),
            (
                Cop::pesos(218_900),
                Cop::pesos(280_200),
                Cop::pesos(9_200),
                Cop::pesos(508_300)
            )
        );
        let note = social_security_note_es(&s);
        assert!(note.contains("no está obligado(a)"), "{note}");
        assert!(note.contains("$ 508.300"), "{note}");
    }

    #[test]
    fn the_declared_pila_is_compared_with_the_estimate() {
        let mut inputs = worked_example_inputs();
        inputs.work[0].work = Cop::pesos(5_000_000);
        // Required: IBC 2,000,000; health 250,000, pension 320,000.
        let s = compute_default(inputs.clone()).unwrap();
        let note = social_security_note_es(&s);
        assert!(note.contains("No ha registrado la planilla PILA"), "{note}");
        inputs.declared = Some(Declared {
            planilla: "8512345678".into(),
            health: Cop::pesos(218_900),
            pension: Cop::pesos(280_200),
        });
        let s = compute_default(inputs.clone()).unwrap();
        let note = social_security_note_es(&s);
        assert!(note.contains("planilla PILA 8512345678"), "{note}");
        // 570,000 estimated less 499,100 declared.
        assert!(note.contains("$ 70.900 menos que lo estimado"), "{note}");
        inputs.declared = Some(Declared {
            planilla: "8512345678".into(),
            health: Cop::pesos(250_000),
            pension: Cop::pesos(320_000),
        });
        let note = social_security_note_es(&compute_default(inputs).unwrap());
        assert!(!note.contains("menos"), "{note}");
        // An old stored statement (no declaration field) still reads, and equals a new one.
        let old = compute_default(worked_example_inputs()).unwrap();
        let json = serde_json::to_string(&old).unwrap();
        assert!(!json.contains("declared"));
        assert_eq!(serde_json::from_str::<Statement>(&json).unwrap(), old);
    }

    #[test]
    fn figures_round_trip_through_json() {
        let s = compute_default(worked_example_inputs()).unwrap();
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["gross"], "48485");
        assert_eq!(json["hours"], "2.62");
        assert_eq!(json["comparisons"]["effective_hourly"], "18500");
        let back: Statement = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn above_the_minimum_wage_contributions_are_required() {
        let ss = social_security(
            Cop::pesos(5_000_000),
            Cop::pesos(1_750_905),
            &default_social_security()[0].value,
        );
        assert!(ss.required);
        // 40% of 5,000,000 = 2,000,000.
        assert_eq!(ss.ibc, Cop::pesos(2_000_000));
        assert_eq!(ss.health, Cop::pesos(250_000));
        assert_eq!(ss.pension, Cop::pesos(320_000));
        assert_eq!(ss.arl, Cop::pesos(10_500));
        // Never above 25 SMMLV.
        let rich = social_security(
            Cop::pesos(1_000_000_000),
            Cop::pesos(1_000_000),
            &default_social_security()[0].value,
        );
        assert_eq!(rich.ibc, Cop::pesos(25_000_000));
    }

    #[test]
    fn a_month_without_a_minimum_wage_is_an_error() {
        let mut i = worked_example_inputs();
        i.month = Month::parse("2019-06").unwrap();
        let e = compute_default(i);
        assert!(matches!(e, Err(StatementError::MissingFigure("SMMLV", _))));
    }

    #[test]
    fn months() {
        let m = Month::parse("2026-12").unwrap();
        assert_eq!(m.next().to_string(), "2027-01");
        assert_eq!(m.next().prev(), m);
        assert_eq!(m.name_es(), "diciembre de 2026");
        assert_eq!(m.last_day(), NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
        // Bogotá is UTC−5: December begins at 05:00 UTC.
        assert_eq!(
            DateTime::from_timestamp(m.start(), 0).unwrap().to_rfc3339(),
            "2026-12-01T05:00:00+00:00"
        );
        let just_before = DateTime::from_timestamp(m.start() - 1, 0).unwrap();
        assert_eq!(Month::of(just_before).to_string(), "2026-11");
        for bad in [
            "2026-13",
            "2026-1",
            "26-01",
            "2026/01",
            "",
            "1999-12",
            "２026-01",
        ] {
            assert_eq!(Month::parse(bad), None, "{bad}");
        }
        assert_eq!(date_es(m.last_day()), "31 de diciembre de 2026");
        assert_eq!(percent_es(dec!(0.0277)), "2,77 %");
    }

    #[test]
    fn typed_codes_are_forgiven() {
        let code = verification_code(0x0123_4567_89ab_cdef);
        assert_eq!(code.len(), 14);
        assert_eq!(normalize_code(&code), Some(code.clone()));
        assert_eq!(
            normalize_code(&code.to_lowercase().replace('-', " ")),
            Some(code.clone())
        );
        assert_eq!(
            normalize_code("OOOO-IIII-LLLL"),
            Some("0000-1111-1111".into())
        );
        assert_eq!(normalize_code("short"), None);
        assert_eq!(normalize_code("UUUU-UUUU-UUUU"), None);
        assert_eq!(normalize_code("ÄAAA-AAAA-AAAA"), None);
    }

    proptest! {
        #[test]
        fn net_and_companies_add_up(
            works in proptest::collection::vec((0usize..3, 0i64..50_000, 0i64..2_000_000), 0..20),
            paid in 0i64..5_000_000,
            withheld in -10_000i64..300_000,
        ) {
            let inputs = Inputs {
                worker_id: "w".into(),
                month: Month::parse("2026-03").unwrap(),
                provisional: false,
                work: works.iter().map(|(c, s, w)| WorkItem {
                    company_id: format!("c{c}"),
                    company_name: format!("Empresa {c}"),
                    seconds: *s,
                    work: Cop::pesos(*w),
                }).collect(),
                paid_gross: Cop::pesos(paid),
                withheld: Cop::pesos(withheld),
                paid_out: Cop::ZERO,
                pending: Cop::ZERO,
                declared: None,
            };
            let (legal, ss) = (LegalFigures::default(), default_social_security());
            let s = compute(inputs, rules(&legal, &ss)).unwrap();
            prop_assert_eq!(s.net + s.withholding, s.paid_gross);
            prop_assert_eq!(s.by_company.iter().map(|c| c.gross).sum::<Cop>(), s.gross);
            prop_assert_eq!(s.by_company.iter().map(|c| c.seconds).sum::<i64>(), s.seconds);
            prop_assert_eq!(s.by_company.iter().map(|c| c.assignments).sum::<i64>(), s.assignments_approved);
            let ss = &s.social_security;
            prop_assert!(ss.ibc >= s.comparisons.smmlv);
            prop_assert_eq!(ss.required, s.gross >= s.comparisons.smmlv);
            prop_assert_eq!(ss.total, ss.health + ss.pension + ss.arl);
        }

        #[test]
        fn codes_are_canonical(r in any::<u128>()) {
            let c = verification_code(r);
            prop_assert_eq!(normalize_code(&c), Some(c.clone()));
        }
    }
}
