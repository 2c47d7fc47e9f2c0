//! A worker's fiscal profile and her monthly social-security payments (issue 20 §2), parsed at
//! the boundary: what the withholding rule reads about her (`withholding::Payee`) and what she
//! declared she paid through PILA each month (health and pension lower her art. 383 base; the
//! planilla is what a contracting party must see).

use crate::money::{Cop, MoneyError};
use crate::withholding::{Concept, Payee};

/// A refusal, knowing its field and its Spanish sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FiscalRefusal {
    #[error("concept: must be services or honorarios")]
    Concept,
    #[error("arl_class: must be a risk class from 1 to 5")]
    ArlClass,
    #[error("planilla: must be the PILA form number, 4 to 20 digits")]
    Planilla,
    #[error("{field}: {error}")]
    Amount {
        field: &'static str,
        error: MoneyError,
    },
    #[error("month: must not be after the current month")]
    FutureMonth,
}

impl FiscalRefusal {
    pub fn code(&self) -> &'static str {
        "validation_failed"
    }

    pub fn field(&self) -> &'static str {
        match self {
            FiscalRefusal::Concept => "concept",
            FiscalRefusal::ArlClass => "arl_class",
            FiscalRefusal::Planilla => "planilla",
            FiscalRefusal::Amount { field, .. } => field,
            FiscalRefusal::FutureMonth => "month",
        }
    }

    /// What to do, in Spanish.
    pub fn es(&self) -> String {
        match self {
            FiscalRefusal::Concept => "Elija el concepto: servicios u honorarios.".to_string(),
            FiscalRefusal::ArlClass => {
                "La clase de riesgo de la ARL es un número del 1 al 5.".to_string()
            }
            FiscalRefusal::Planilla => {
                "Escriba el número de la planilla PILA: solo números, de 4 a 20.".to_string()
            }
            FiscalRefusal::Amount { field, .. } => format!(
                "Escriba el aporte a {} en pesos enteros, como 200000 (0 si no aportó).",
                if *field == "health" {
                    "salud"
                } else {
                    "pensión"
                }
            ),
            FiscalRefusal::FutureMonth => {
                "Solo se registran aportes de este mes o de meses anteriores.".to_string()
            }
        }
    }
}

impl Concept {
    pub fn parse(raw: &str) -> Result<Concept, FiscalRefusal> {
        match raw.trim() {
            "services" => Ok(Concept::Services),
            "honorarios" => Ok(Concept::Honorarios),
            _ => Err(FiscalRefusal::Concept),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Concept::Services => "services",
            Concept::Honorarios => "honorarios",
        }
    }

    /// As the certificate and the withholding report name it.
    pub fn label_es(self) -> &'static str {
        match self {
            Concept::Services => "Servicios",
            Concept::Honorarios => "Honorarios",
        }
    }
}

/// The ARL (occupational risk) class of her work, 1 (lowest) to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArlClass(u8);

impl ArlClass {
    pub fn parse(n: i64) -> Result<ArlClass, FiscalRefusal> {
        u8::try_from(n)
            .ok()
            .filter(|c| (1..=5).contains(c))
            .map(ArlClass)
            .ok_or(FiscalRefusal::ArlClass)
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// A worker's fiscal profile. Without one on file she is a non-filer paid for services, with
/// no statement: the rule that withholds the most, so a missing profile never withholds less
/// than the law asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiscalProfile {
    pub concept: Concept,
    pub declarante: bool,
    pub fewer_than_two_workers: bool,
    pub arl_class: Option<ArlClass>,
}

impl Default for FiscalProfile {
    fn default() -> Self {
        FiscalProfile {
            concept: Concept::Services,
            declarante: false,
            fewer_than_two_workers: false,
            arl_class: None,
        }
    }
}

impl FiscalProfile {
    pub fn parse(
        concept: &str,
        declarante: bool,
        fewer_than_two_workers: bool,
        arl_class: Option<i64>,
    ) -> Result<FiscalProfile, FiscalRefusal> {
        Ok(FiscalProfile {
            concept: Concept::parse(concept)?,
            declarante,
            fewer_than_two_workers,
            arl_class: arl_class.map(ArlClass::parse).transpose()?,
        })
    }

    pub fn payee(&self) -> Payee {
        Payee {
            concept: self.concept,
            declarante: self.declarante,
            fewer_than_two_workers: self.fewer_than_two_workers,
        }
    }
}

/// A month's PILA payment as she declared it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    pub planilla: String,
    pub health: Cop,
    pub pension: Cop,
}

impl Contribution {
    pub fn parse(
        planilla: &str,
        health: &str,
        pension: &str,
    ) -> Result<Contribution, FiscalRefusal> {
        let planilla = planilla.trim();
        if !(4..=20).contains(&planilla.len()) || !planilla.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FiscalRefusal::Planilla);
        }
        let amount = |field, raw: &str| {
            Cop::parse_whole_pesos_or_zero(raw)
                .map_err(|error| FiscalRefusal::Amount { field, error })
        };
        Ok(Contribution {
            planilla: planilla.to_string(),
            health: amount("health", health)?,
            pension: amount("pension", pension)?,
        })
    }

    /// What lowers her art. 383 base: health and pension together.
    pub fn deductible(&self) -> Cop {
        self.health + self.pension
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_parses_or_names_its_field() {
        let p = FiscalProfile::parse("honorarios", true, false, Some(1)).unwrap();
        assert_eq!(p.payee().concept, Concept::Honorarios);
        assert_eq!(p.arl_class.map(ArlClass::get), Some(1));
        for (concept, arl, field) in [
            ("salario", None, "concept"),
            ("services", Some(6), "arl_class"),
            ("services", Some(0), "arl_class"),
        ] {
            let e = FiscalProfile::parse(concept, false, false, arl).unwrap_err();
            assert_eq!(e.field(), field);
            assert!(!e.es().is_empty());
        }
        assert_eq!(
            FiscalProfile::default().payee(),
            Payee {
                concept: Concept::Services,
                declarante: false,
                fewer_than_two_workers: false,
            }
        );
    }

    #[test]
    fn a_contribution_is_a_planilla_and_whole_pesos() {
        let c = Contribution::parse(" 8512345678 ", "200000", "256000").unwrap();
        assert_eq!(c.deductible(), Cop::pesos(456_000));
        assert_eq!(
            Contribution::parse("12-34", "1", "1").unwrap_err().field(),
            "planilla"
        );
        assert_eq!(
            Contribution::parse("123", "1", "1").unwrap_err().field(),
            "planilla"
        );
        assert_eq!(
            Contribution::parse("1234", "1.5", "1").unwrap_err().field(),
            "health"
        );
        assert_eq!(
            Contribution::parse("1234", "0", "-3").unwrap_err().field(),
            "pension"
        );
        assert_eq!(
            Contribution::parse("1234", "0", "0").unwrap().deductible(),
            Cop::ZERO
        );
    }
}
