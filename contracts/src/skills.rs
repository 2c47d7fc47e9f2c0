//! The skills catalogue, pure: a worker's skills and a task's required skills must be ones
//! programme staff keep in the catalogue (`/v1/skills`), so a typo (`excel-avanzado`,
//! `labeling`) is refused with the nearest names instead of silently keeping a worker off
//! every task that asks for the real one.

use crate::identity::Skill;
use crate::suggest::{either_es, nearest};

/// A skill the catalogue does not hold (or holds retired).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSkill {
    pub skill: String,
    /// The catalogue's nearest names; when none is near, every name (a short list).
    pub suggestions: Vec<String>,
    /// True when `suggestions` are near the typo, false when they are the whole catalogue.
    pub near: bool,
}

/// The whole catalogue is offered when nothing is near and it has at most this many names.
const OFFER_ALL_UP_TO: usize = 12;

impl UnknownSkill {
    pub fn code(&self) -> &'static str {
        "unknown_skill"
    }

    pub fn detail(&self) -> String {
        if self.suggestions.is_empty() {
            format!("«{}» is not in the skills catalogue.", self.skill)
        } else {
            format!(
                "«{}» is not in the skills catalogue; {} {}.",
                self.skill,
                if self.near {
                    "did you mean"
                } else {
                    "it holds"
                },
                self.suggestions.join(", ")
            )
        }
    }

    /// Spanish, as the end of a sentence: `«labeling» no está en el catálogo de habilidades;
    /// ¿quiso decir «labelling»?`
    pub fn es(&self) -> String {
        let names: Vec<&str> = self.suggestions.iter().map(String::as_str).collect();
        let mut s = format!("«{}» no está en el catálogo de habilidades", self.skill);
        if names.is_empty() {
            s.push_str("; pida al equipo del programa que la agregue si hace falta");
        } else if self.near {
            s.push_str(&format!("; ¿quiso decir {}?", either_es(&names)));
        } else {
            s.push_str(&format!("; las del catálogo son {}", names_es(&names)));
        }
        s
    }
}

/// `«a», «b» y «c»`.
fn names_es(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("«{n}»")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} y {last}", rest.join(", ")),
    }
}

/// Is `skill` one of the catalogue's active names?
pub fn check_known<S: AsRef<str>>(skill: &Skill, catalogue: &[S]) -> Result<(), UnknownSkill> {
    if catalogue.iter().any(|c| c.as_ref() == skill.as_str()) {
        return Ok(());
    }
    let names = catalogue.iter().map(|c| c.as_ref());
    let near: Vec<String> = nearest(skill.as_str(), names, 3)
        .into_iter()
        .map(str::to_string)
        .collect();
    let (suggestions, near) = if !near.is_empty() {
        (near, true)
    } else if catalogue.len() <= OFFER_ALL_UP_TO {
        let mut all: Vec<String> = catalogue.iter().map(|c| c.as_ref().to_string()).collect();
        all.sort();
        (all, false)
    } else {
        (Vec::new(), false)
    };
    Err(UnknownSkill {
        skill: skill.as_str().to_string(),
        suggestions,
        near,
    })
}

/// The first skill of `skills` (with its position) the catalogue does not hold.
pub fn first_unknown<'a, S: AsRef<str>>(
    skills: impl IntoIterator<Item = &'a Skill>,
    catalogue: &[S],
) -> Option<(usize, UnknownSkill)> {
    skills
        .into_iter()
        .enumerate()
        .find_map(|(i, s)| check_known(s, catalogue).err().map(|e| (i, e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skill(s: &str) -> Skill {
        Skill::parse(s).unwrap()
    }

    const CATALOGUE: [&str; 4] = ["data-entry", "labelling", "data-cleaning", "qa-testing"];

    #[test]
    fn known_skills_pass_and_a_typo_gets_the_nearest() {
        assert_eq!(check_known(&skill("labelling"), &CATALOGUE), Ok(()));
        let e = check_known(&skill("labeling"), &CATALOGUE).unwrap_err();
        assert_eq!(e.code(), "unknown_skill");
        assert_eq!(e.suggestions, ["labelling"]);
        assert_eq!(
            e.es(),
            "«labeling» no está en el catálogo de habilidades; ¿quiso decir «labelling»?"
        );
        let e = check_known(&skill("data-entri"), &CATALOGUE).unwrap_err();
        assert_eq!(e.suggestions[0], "data-entry");
    }

    #[test]
    fn nothing_near_offers_the_short_catalogue() {
        let e = check_known(&skill("excel-avanzado"), &CATALOGUE).unwrap_err();
        assert!(!e.near);
        assert_eq!(
            e.es(),
            "«excel-avanzado» no está en el catálogo de habilidades; las del catálogo son \
             «data-cleaning», «data-entry», «labelling» y «qa-testing»"
        );
        let e = check_known(&skill("x1"), &[] as &[&str]).unwrap_err();
        assert!(e.suggestions.is_empty());
        assert!(e.detail().contains("not in the skills catalogue"));
    }

    #[test]
    fn the_first_unknown_is_named_with_its_place() {
        let skills = [skill("labelling"), skill("sql"), skill("labeling")];
        let (i, e) = first_unknown(&skills, &CATALOGUE).unwrap();
        assert_eq!((i, e.skill.as_str()), (1, "sql"));
        assert_eq!(first_unknown(&skills[..1], &CATALOGUE), None);
    }
}
