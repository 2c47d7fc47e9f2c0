//! Colombia's departments and municipalities as DANE codes them (DIVIPOLA), shipped as data
//! (`contracts/data/divipola.csv`, its source and date in `contracts/data/README.md`) and read
//! once. A worker's place is looked up by name, ignoring case, accents and punctuation
//! (`chaparral`, `CHAPARRAL`), or by its DANE code, and stored as DANE names it, with the
//! code; a name that is not there is refused with the nearest names (`Chaparal` →
//! `Chaparral`), so a typo does not silently keep her out of reports by municipality.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::csvfile;
use crate::suggest::{either_es, fold, nearest};

const DIVIPOLA_CSV: &str = include_str!("../data/divipola.csv");

/// A department (or Bogotá D.C.): its two-digit DANE code and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    pub code: String,
    pub name: String,
}

/// A municipality (or an island, or an *área no municipalizada*): its five-digit DANE code,
/// whose first two digits are its department's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Municipality {
    pub code: String,
    pub name: String,
    pub department_code: String,
    /// `Municipio`, `Isla` or `Área no municipalizada`, as DANE says.
    pub kind: String,
}

/// A place found: the municipality and its department.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    pub department: &'a Department,
    pub municipality: &'a Municipality,
}

/// Everyday names people write for a department, folded, with its code. Ours, not DANE's.
const DEPARTMENT_ALIASES: [(&str, &str); 9] = [
    ("bogota", "11"),
    ("bogota dc", "11"),
    ("distrito capital", "11"),
    ("santa fe de bogota", "11"),
    ("san andres", "88"),
    ("san andres y providencia", "88"),
    ("san andres providencia y santa catalina", "88"),
    ("archipielago de san andres", "88"),
    ("valle", "76"),
];

/// Everyday names of municipalities whose DANE name is longer, folded, with their code (each
/// read within its department only). Ours, not DANE's.
const MUNICIPALITY_ALIASES: [(&str, &str); 27] = [
    ("bogota", "11001"),
    ("bogota dc", "11001"),
    ("cucuta", "54001"),
    ("cali", "76001"),
    ("cartagena", "13001"),
    ("tumaco", "52835"),
    ("mompox", "13468"),
    ("mompos", "13468"),
    ("buga", "76111"),
    ("mariquita", "73443"),
    ("tolu", "70820"),
    ("toluviejo", "70823"),
    ("tolu viejo", "70823"),
    ("ubate", "25843"),
    ("since", "70742"),
    ("carmen de viboral", "05148"),
    ("santuario", "05697"),
    ("piendamo", "19548"),
    ("sotara", "19760"),
    ("manaure", "20443"),
    ("belen de bajira", "27493"),
    ("guican", "15332"),
    ("cuaspud", "52224"),
    ("carlosama", "52224"),
    ("don matias", "05237"),
    ("carmen de bolivar", "13244"),
    ("san andres isla", "88001"),
];

/// The whole list, read once.
#[derive(Debug)]
pub struct Divipola {
    departments: Vec<Department>,
    municipalities: Vec<Municipality>,
    /// Folded department name (or alias, or code) → index into `departments`.
    department_by_name: HashMap<String, usize>,
    /// (department code, folded municipality name, alias or code) → index into
    /// `municipalities`.
    municipality_by_name: HashMap<(String, String), usize>,
    municipality_by_code: HashMap<String, usize>,
}

static DIVIPOLA: LazyLock<Divipola> =
    LazyLock::new(|| Divipola::read(DIVIPOLA_CSV).expect("contracts/data/divipola.csv is valid"));

/// DANE's list, as shipped.
pub fn divipola() -> &'static Divipola {
    &DIVIPOLA
}

/// Why a place is refused, in the request's field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceRefusal {
    /// No department by that name or code; the nearest names.
    UnknownDepartment {
        typed: String,
        suggestions: Vec<String>,
    },
    /// No municipality by that name or code in the department; the nearest names there, and
    /// the departments that do have one by that name.
    UnknownMunicipality {
        typed: String,
        department: String,
        suggestions: Vec<String>,
        elsewhere: Vec<String>,
    },
}

impl PlaceRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            PlaceRefusal::UnknownDepartment { .. } => "unknown_department",
            PlaceRefusal::UnknownMunicipality { .. } => "unknown_municipality",
        }
    }

    pub fn field(&self) -> &'static str {
        match self {
            PlaceRefusal::UnknownDepartment { .. } => "department",
            PlaceRefusal::UnknownMunicipality { .. } => "municipality",
        }
    }

    /// In English, for `detail`.
    pub fn detail(&self) -> String {
        match self {
            PlaceRefusal::UnknownDepartment { typed, suggestions } => format!(
                "«{typed}» is not a department in DANE's DIVIPOLA{}",
                did_you_mean_en(suggestions)
            ),
            PlaceRefusal::UnknownMunicipality {
                typed,
                department,
                suggestions,
                ..
            } => format!(
                "«{typed}» is not a municipality of {department} in DANE's DIVIPOLA{}",
                did_you_mean_en(suggestions)
            ),
        }
    }

    /// What is wrong, in Spanish, as the end of a sentence (no capital, no full stop):
    /// `«Chaparal» no es un municipio de Tolima; ¿quiso decir «Chaparral»?`
    pub fn es(&self) -> String {
        match self {
            PlaceRefusal::UnknownDepartment { typed, suggestions } => {
                let mut s = format!("«{typed}» no es un departamento de Colombia según el DANE");
                if !suggestions.is_empty() {
                    s.push_str(&format!("; ¿quiso decir {}?", either_of(suggestions)));
                }
                s
            }
            PlaceRefusal::UnknownMunicipality {
                typed,
                department,
                suggestions,
                elsewhere,
            } => {
                let mut s = format!("«{typed}» no es un municipio de {department} según el DANE");
                if !suggestions.is_empty() {
                    s.push_str(&format!("; ¿quiso decir {}?", either_of(suggestions)));
                } else if !elsewhere.is_empty() {
                    s.push_str(&format!(
                        "; hay un municipio con ese nombre en {}: revise el departamento",
                        either_of(elsewhere)
                    ));
                }
                s
            }
        }
    }
}

fn either_of(names: &[String]) -> String {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    either_es(&names)
}

fn did_you_mean_en(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        ".".into()
    } else {
        format!("; did you mean {}?", suggestions.join(" or "))
    }
}

/// Why the shipped file could not be read (a broken edit of the data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("divipola.csv line {line}: {reason}")]
pub struct DataError {
    pub line: usize,
    pub reason: String,
}

impl Divipola {
    /// Read the list: a header, then `department_code, department, municipality_code,
    /// municipality, kind` rows; codes must be digits, consistent and unique.
    pub fn read(text: &str) -> Result<Divipola, DataError> {
        let bad = |line, reason: &str| DataError {
            line,
            reason: reason.to_string(),
        };
        let records = csvfile::read(text).map_err(|e| bad(e.line, &e.reason))?;
        let mut list = Divipola {
            departments: Vec::new(),
            municipalities: Vec::new(),
            department_by_name: HashMap::new(),
            municipality_by_name: HashMap::new(),
            municipality_by_code: HashMap::new(),
        };
        for r in records.iter().skip(1) {
            let [dcode, dname, mcode, mname, kind] = r.cells.as_slice() else {
                return Err(bad(r.line, "expected 5 columns"));
            };
            let digits = |s: &str, n| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
            if !digits(dcode, 2) || !digits(mcode, 5) || !mcode.starts_with(dcode.as_str()) {
                return Err(bad(r.line, "bad code"));
            }
            let d = match list.departments.iter().position(|d| &d.code == dcode) {
                Some(i) if list.departments[i].name == *dname => i,
                Some(_) => return Err(bad(r.line, "a department with two names")),
                None => {
                    list.departments.push(Department {
                        code: dcode.clone(),
                        name: dname.clone(),
                    });
                    let i = list.departments.len() - 1;
                    list.department_by_name.insert(fold(dname), i);
                    list.department_by_name.insert(dcode.clone(), i);
                    i
                }
            };
            let i = list.municipalities.len();
            if list.municipality_by_code.insert(mcode.clone(), i).is_some() {
                return Err(bad(r.line, "a municipality code twice"));
            }
            list.municipalities.push(Municipality {
                code: mcode.clone(),
                name: mname.clone(),
                department_code: list.departments[d].code.clone(),
                kind: kind.clone(),
            });
            list.municipality_by_name
                .insert((dcode.clone(), fold(mname)), i);
            list.municipality_by_name
                .insert((dcode.clone(), mcode.clone()), i);
        }
        // An alias never hides a DANE name (`or_insert`); one whose code is not in the list
        // is skipped (a test checks that every alias names a place of the shipped list).
        for (alias, code) in DEPARTMENT_ALIASES {
            if let Some(&i) = list.department_by_name.get(code) {
                list.department_by_name
                    .entry(alias.to_string())
                    .or_insert(i);
            }
        }
        for (alias, code) in MUNICIPALITY_ALIASES {
            if let Some(&i) = list.municipality_by_code.get(code) {
                let key = (code[..2].to_string(), alias.to_string());
                list.municipality_by_name.entry(key).or_insert(i);
            }
        }
        Ok(list)
    }

    pub fn departments(&self) -> &[Department] {
        &self.departments
    }

    pub fn municipalities(&self) -> &[Municipality] {
        &self.municipalities
    }

    /// The department named (any case or accents, an everyday alias) or coded `typed`.
    pub fn department(&self, typed: &str) -> Result<&Department, PlaceRefusal> {
        let key = fold(typed);
        match self.department_by_name.get(&key) {
            Some(&i) => Ok(&self.departments[i]),
            None => Err(PlaceRefusal::UnknownDepartment {
                typed: typed.trim().to_string(),
                suggestions: nearest(typed, self.departments.iter().map(|d| d.name.as_str()), 3)
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
            }),
        }
    }

    /// The municipality of `department` named or coded `typed`.
    pub fn municipality(
        &self,
        department: &Department,
        typed: &str,
    ) -> Result<&Municipality, PlaceRefusal> {
        let key = (department.code.clone(), fold(typed));
        if let Some(&i) = self.municipality_by_name.get(&key) {
            return Ok(&self.municipalities[i]);
        }
        let here = self
            .municipalities
            .iter()
            .filter(|m| m.department_code == department.code);
        let suggestions = nearest(typed, here.map(|m| m.name.as_str()), 3);
        let folded = fold(typed);
        let mut elsewhere: Vec<String> = self
            .municipalities
            .iter()
            .filter(|m| fold(&m.name) == folded)
            .filter_map(|m| self.department_of(m).map(|d| d.name.clone()))
            .collect();
        elsewhere.dedup();
        Err(PlaceRefusal::UnknownMunicipality {
            typed: typed.trim().to_string(),
            department: department.name.clone(),
            suggestions: suggestions.into_iter().map(str::to_string).collect(),
            elsewhere,
        })
    }

    /// The place named by a municipality and its department: the department first (a wrong
    /// department is named as such, not as a wrong municipality).
    pub fn place(&self, municipality: &str, department: &str) -> Result<Place<'_>, PlaceRefusal> {
        let department = self.department(department)?;
        let municipality = self.municipality(department, municipality)?;
        Ok(Place {
            department,
            municipality,
        })
    }

    pub fn by_code(&self, code: &str) -> Option<Place<'_>> {
        let m = &self.municipalities[*self.municipality_by_code.get(code)?];
        Some(Place {
            department: self.department_of(m)?,
            municipality: m,
        })
    }

    fn department_of(&self, m: &Municipality) -> Option<&Department> {
        self.departments
            .iter()
            .find(|d| d.code == m.department_code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_list_is_danes_whole_list() {
        let list = divipola();
        assert_eq!(
            list.departments().len(),
            33,
            "32 departments and Bogotá D.C."
        );
        assert_eq!(list.municipalities().len(), 1122);
        let kinds = |k: &str| list.municipalities().iter().filter(|m| m.kind == k).count();
        assert_eq!(kinds("Municipio"), 1103);
        assert_eq!(kinds("Isla"), 1);
        assert_eq!(kinds("Área no municipalizada"), 18);
        let count = |code: &str| {
            list.municipalities()
                .iter()
                .filter(|m| m.department_code == code)
                .count()
        };
        // DANE's counts for a few departments.
        for (code, n) in [
            ("05", 125),
            ("15", 123),
            ("25", 116),
            ("73", 47),
            ("11", 1),
            ("91", 11),
        ] {
            assert_eq!(count(code), n, "department {code}");
        }
        let bogota = list.by_code("11001").unwrap();
        assert_eq!(bogota.municipality.name, "Bogotá, D.C.");
        assert_eq!(bogota.department.name, "Bogotá, D.C.");
    }

    #[test]
    fn names_are_found_whatever_their_case_and_accents() {
        let list = divipola();
        for (m, d, code) in [
            ("Chaparral", "Tolima", "73168"),
            ("CHAPARRAL", "tolima", "73168"),
            ("ibague", "TOLIMA", "73001"),
            ("Ibagué", "73", "73001"),
            ("73168", "Tolima", "73168"),
            ("Cúcuta", "Norte de Santander", "54001"),
            ("bogota", "Bogotá D.C.", "11001"),
            ("Bogotá, D.C.", "Bogota", "11001"),
            ("Nariño", "Antioquia", "05483"),
            ("Narino", "Narino", "52480"),
            ("Mirití Paraná", "Amazonas", "91460"),
            ("San Andrés", "San Andrés y Providencia", "88001"),
            ("  El Carmen de Viboral ", "Antioquia", "05148"),
        ] {
            let place = list
                .place(m, d)
                .unwrap_or_else(|e| panic!("{m}, {d}: {e:?}"));
            assert_eq!(place.municipality.code, code, "{m}, {d}");
            assert_eq!(place.municipality.department_code, place.department.code);
        }
        assert_eq!(
            list.place("chaparral", "tolima").unwrap().municipality.name,
            "Chaparral"
        );
    }

    #[test]
    fn a_typo_is_refused_with_the_nearest_names() {
        let list = divipola();
        let e = list.place("Chaparal", "Tolima").unwrap_err();
        assert_eq!(e.code(), "unknown_municipality");
        assert_eq!(e.field(), "municipality");
        let PlaceRefusal::UnknownMunicipality { suggestions, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(suggestions.first().map(String::as_str), Some("Chaparral"));
        assert_eq!(
            e.es(),
            "«Chaparal» no es un municipio de Tolima según el DANE; ¿quiso decir «Chaparral»?"
        );
        let e = list.place("Chaparral", "Tolimaa").unwrap_err();
        assert_eq!(e.field(), "department");
        assert!(e.es().contains("«Tolima»"), "{}", e.es());
        // A municipality of another department says where it is.
        let e = list.place("Chaparral", "Huila").unwrap_err();
        assert!(e.es().contains("en «Tolima»"), "{}", e.es());
        // Nothing like it: no suggestion.
        let e = list.place("Springfield", "Tolima").unwrap_err();
        assert_eq!(
            e.es(),
            "«Springfield» no es un municipio de Tolima según el DANE"
        );
        // A code of another department is not this department's.
        assert!(list.place("05001", "Tolima").is_err());
    }

    #[test]
    fn every_alias_names_a_place_of_the_list() {
        let list = divipola();
        for (alias, code) in DEPARTMENT_ALIASES {
            assert_eq!(list.department(alias).map(|d| d.code.as_str()), Ok(code));
        }
        for (alias, code) in MUNICIPALITY_ALIASES {
            let d = list.department(&code[..2]).unwrap();
            let m = list.municipality(d, alias).map(|m| m.code.as_str());
            assert_eq!(m, Ok(code), "{alias}");
        }
    }

    #[test]
    fn a_broken_list_is_refused() {
        let header = "department_code,department,municipality_code,municipality,kind\n";
        let good = Divipola::read(&format!("{header}05,Antioquia,05001,Medellín,Municipio\n"));
        assert_eq!(good.map(|l| l.municipalities().len()), Ok(1));
        for body in [
            "05,Antioquia,0500,Medellín,Municipio\n",
            "05,Antioquia,73001,Medellín,Municipio\n",
            "05,Antioquia,05001,Medellín\n",
            "05,Antioquia,05001,Medellín,Municipio\n05,Antioquia,05001,Otro,Municipio\n",
            "05,Antioquia,05001,Medellín,Municipio\n05,Antioquía,05002,Abejorral,Municipio\n",
        ] {
            assert!(
                Divipola::read(&format!("{header}{body}")).is_err(),
                "{body}"
            );
        }
    }
}
