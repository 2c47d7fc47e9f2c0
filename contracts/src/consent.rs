//! Consent to sensitive data (issue 22 §1; Ley 1581 de 2012 arts. 5, 6 and 9): the household
//! income a worker had before joining and her programme groups are asked only with their
//! purpose, are each optional, and are held only while she consents. Consent is a ledger of
//! rows given / withdrawn, each naming the text she was shown by version and hash, the channel
//! and who helped her. Nothing here, or anywhere, lets the answer change her access to work.

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

/// The one purpose these data serve.
pub const PURPOSE: &str = "impact_reports";

/// As the worker reads it.
pub const PURPOSE_ES: &str = "reportes de impacto agregados para el programa y sus financiadores";

/// The version of the privacy notice and of this text: the date they took effect. A new text
/// gets a new version, and a consent given to an older one is asked again.
pub const POLICY_VERSION: &str = "2026-12-06";

/// What she is shown before she answers, word for word (its hash is kept with her consent).
pub const POLICY_TEXT: &str = "Autorizo a Vereda a guardar el ingreso mensual que tenía mi \
hogar antes de entrar al programa y los grupos del programa a los que pertenezco, que son datos \
sensibles, con un solo fin: reportes de impacto agregados para el programa y sus financiadores, \
en los que ninguna persona puede ser identificada (ninguna cifra describe a menos de 5 \
personas). Entiendo que darlos no es obligatorio, que cada dato es opcional, que darlos o no \
darlos nunca cambia mi acceso al trabajo, y que puedo retirar esta autorización cuando quiera: \
al retirarla, Vereda borra esos datos y no aparezco en los reportes siguientes. Aviso de \
privacidad en /privacidad.";

/// The most a household's monthly income may be recorded as, in pesos: far above any
/// household the programme serves, so a misplaced zero is caught.
pub const MAX_BASELINE_PESOS: i64 = 50_000_000;

/// The sha256 of [`POLICY_TEXT`], hex.
pub fn text_hash() -> String {
    hex_of(&Sha256::digest(POLICY_TEXT.as_bytes()))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How the answer reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// She answered herself, in the app or by API.
    App,
    /// Staff recorded the answer she gave them (at enrolment, by phone); they are named.
    Assisted,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::App => "app",
            Channel::Assisted => "assisted",
        }
    }
}

/// Given or withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Given,
    Withdrawn,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Given => "given",
            Action::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "given" => Some(Action::Given),
            "withdrawn" => Some(Action::Withdrawn),
            _ => None,
        }
    }
}

/// A group in the catalogue staff keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub code: String,
    pub active: bool,
}

/// What she chose to give, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Whole pesos a month, when she gave it.
    pub baseline: Option<Decimal>,
    /// Sorted, without repeats.
    pub groups: Vec<String>,
}

/// Why an answer is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// She answered an older text than the one in force (the app showed a stale copy).
    PolicyChanged { current: String },
    /// The hash sent is not the hash of the text in force.
    TextMismatch,
    /// The income is negative, has cents, or is implausibly large.
    BaselineOutOfRange,
    /// A group the catalogue does not hold, or holds retired.
    UnknownGroup { code: String },
    /// Neither income nor group: there is nothing to consent to.
    NothingGiven,
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::PolicyChanged { .. } => "policy_changed",
            Refusal::TextMismatch => "policy_text_mismatch",
            Refusal::BaselineOutOfRange => "baseline_out_of_range",
            Refusal::UnknownGroup { .. } => "unknown_group",
            Refusal::NothingGiven => "nothing_given",
        }
    }

    pub fn field(&self) -> &'static str {
        match self {
            Refusal::PolicyChanged { .. } => "policy_version",
            Refusal::TextMismatch => "text_hash",
            Refusal::BaselineOutOfRange => "baseline_monthly_income",
            Refusal::UnknownGroup { .. } | Refusal::NothingGiven => "groups",
        }
    }

    /// A conflict with the text in force (409) rather than a bad value (422).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Refusal::PolicyChanged { .. } | Refusal::TextMismatch)
    }

    pub fn detail(&self) -> String {
        match self {
            Refusal::PolicyChanged { current } => format!(
                "The consent text changed; read version {current} (GET /v1/consent-policy) and answer again."
            ),
            Refusal::TextMismatch => {
                "text_hash is not the hash of the consent text in force.".into()
            }
            Refusal::BaselineOutOfRange => format!(
                "baseline_monthly_income must be whole pesos from 0 to {MAX_BASELINE_PESOS}."
            ),
            Refusal::UnknownGroup { code } => {
                format!("«{code}» is not a programme group in use.")
            }
            Refusal::NothingGiven => {
                "Give baseline_monthly_income, at least one group, or both.".into()
            }
        }
    }

    /// The same, as a sentence for the worker.
    pub fn es(&self) -> String {
        match self {
            Refusal::PolicyChanged { .. } | Refusal::TextMismatch => {
                "El texto de la autorización cambió; léalo de nuevo y vuelva a responder.".into()
            }
            Refusal::BaselineOutOfRange => {
                "El ingreso mensual debe ser una cifra en pesos, sin centavos, de 0 a $ 50.000.000."
                    .into()
            }
            Refusal::UnknownGroup { code } => {
                format!("«{code}» no es un grupo del programa vigente.")
            }
            Refusal::NothingGiven => {
                "Indique su ingreso antes de Vereda, al menos un grupo, o ambos.".into()
            }
        }
    }
}

/// Check an answer against the text in force and the group catalogue.
pub fn check_answer(
    policy_version: &str,
    text_hash_sent: &str,
    baseline: Option<Decimal>,
    groups: &[String],
    catalogue: &[Group],
) -> Result<Answer, Refusal> {
    if policy_version != POLICY_VERSION {
        return Err(Refusal::PolicyChanged {
            current: POLICY_VERSION.into(),
        });
    }
    if !text_hash_sent.eq_ignore_ascii_case(&text_hash()) {
        return Err(Refusal::TextMismatch);
    }
    if let Some(b) = baseline
        && (b.is_sign_negative()
            || b.fract() != Decimal::ZERO
            || b > Decimal::from(MAX_BASELINE_PESOS))
    {
        return Err(Refusal::BaselineOutOfRange);
    }
    let mut chosen: Vec<String> = Vec::new();
    for code in groups {
        let code = code.trim();
        if !catalogue.iter().any(|g| g.code == code && g.active) {
            return Err(Refusal::UnknownGroup { code: code.into() });
        }
        if !chosen.iter().any(|c| c == code) {
            chosen.push(code.into());
        }
    }
    chosen.sort();
    if baseline.is_none() && chosen.is_empty() {
        return Err(Refusal::NothingGiven);
    }
    Ok(Answer {
        baseline: baseline.map(|b| b.normalize()),
        groups: chosen,
    })
}

/// Whether the ledger's rows (oldest first) leave her consenting now: the latest row decides.
pub fn consenting<'a>(actions: impl IntoIterator<Item = &'a str>) -> bool {
    actions.into_iter().last().and_then(Action::parse) == Some(Action::Given)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn catalogue() -> Vec<Group> {
        vec![
            Group {
                code: "youth".into(),
                active: true,
            },
            Group {
                code: "conflict_victim".into(),
                active: true,
            },
            Group {
                code: "retired".into(),
                active: false,
            },
        ]
    }

    fn check(baseline: Option<Decimal>, groups: &[&str]) -> Result<Answer, Refusal> {
        let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        check_answer(
            POLICY_VERSION,
            &text_hash(),
            baseline,
            &groups,
            &catalogue(),
        )
    }

    #[test]
    fn the_hash_is_of_the_text_shown() {
        assert_eq!(text_hash().len(), 64);
        assert_ne!(
            text_hash(),
            hex_of(&Sha256::digest(POLICY_TEXT.replace("5", "3").as_bytes()))
        );
    }

    #[test]
    fn each_item_is_optional_but_not_both() {
        assert!(check(Some(dec!(600000)), &[]).is_ok());
        assert_eq!(
            check(None, &["youth", "youth", "conflict_victim"])
                .unwrap()
                .groups,
            vec!["conflict_victim".to_string(), "youth".into()]
        );
        assert_eq!(check(None, &[]), Err(Refusal::NothingGiven));
        assert_eq!(check(Some(dec!(0)), &[]).unwrap().baseline, Some(dec!(0)));
    }

    #[test]
    fn a_stale_text_or_a_wrong_hash_is_a_conflict() {
        let e =
            check_answer("2020-01-01", &text_hash(), Some(dec!(1)), &[], &catalogue()).unwrap_err();
        assert_eq!(
            (e.code(), e.field(), e.is_conflict()),
            ("policy_changed", "policy_version", true)
        );
        let e = check_answer(POLICY_VERSION, "00", Some(dec!(1)), &[], &catalogue()).unwrap_err();
        assert_eq!(e, Refusal::TextMismatch);
        assert!(e.is_conflict());
    }

    #[test]
    fn unknown_and_retired_groups_are_refused() {
        for g in ["retired", "desplazada", ""] {
            let e = check(None, &[g]).unwrap_err();
            assert_eq!((e.code(), e.field()), ("unknown_group", "groups"));
        }
    }

    #[test]
    fn the_latest_row_decides() {
        assert!(!consenting([]));
        assert!(consenting(["given"]));
        assert!(!consenting(["given", "withdrawn"]));
        assert!(consenting(["given", "withdrawn", "given"]));
    }

    proptest! {
        #[test]
        fn a_baseline_is_whole_pesos_in_range(cents in -10_000_000_000i64..10_000_000_000i64) {
            let b = Decimal::new(cents, 2);
            let ok = check(Some(b), &[]).is_ok();
            let expected = cents >= 0 && cents % 100 == 0 && b <= Decimal::from(MAX_BASELINE_PESOS);
            prop_assert_eq!(ok, expected);
        }
    }
}
