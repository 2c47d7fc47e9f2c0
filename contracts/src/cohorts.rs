//! A cohort of graduates imported at once (issue 18 §1), pure: a spreadsheet (CSV, comma or
//! semicolon, as Excel in Spanish writes it) with one worker a row. Every row is checked
//! before anything is created, and a file with any bad row is refused whole, every bad row
//! and column named in Spanish, so programme staff fix the file once: places against DANE's
//! DIVIPOLA, skills against the catalogue, e-mails and cédulas once in the file, the payout
//! method complete for its kind.
//!
//! Columns (a header row names them, in any order, in English or Spanish, any case or
//! accents): `name` (`nombre`), `email` (`correo`), `document_id` (`cedula`), `phone`
//! (`celular`), `municipality` (`municipio`), `department` (`departamento`), `skills`
//! (`habilidades`: separated by `|` or spaces), `payout_kind` (`medio_pago`: `nequi`,
//! `daviplata`, `bank`/`banco` or `bre-b`), `payout_phone` (`celular_pago`; Nequi and
//! Daviplata, else the `phone` column), `payout_bank` (`banco`), `payout_account_type`
//! (`tipo_cuenta`: `savings`/`ahorros` or `checking`/`corriente`), `payout_account_number`
//! (`numero_cuenta`), `payout_key` (`llave`: Bre-B) and `programme_group` (`grupo`: `youth`/
//! `joven`, `woman_head_of_household`/`mujer cabeza de hogar`, `conflict_victim`/`víctima del
//! conflicto`). Name, e-mail, municipality, department and payout kind are required.

use std::collections::{BTreeSet, HashMap};

use crate::batches::{Sheet, SheetRefusal};
use crate::identity::{DocumentId, Email, MobilePhone, Name, Skill};
use crate::places::{Department, Municipality, divipola};
use crate::profiles::{AccountKind, Payout, account_number, breb_key};
use crate::skills::check_known;
use crate::suggest::fold;

/// Skills one worker may hold (as `POST /v1/workers`).
pub const MAX_SKILLS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Name,
    Email,
    DocumentId,
    Phone,
    Municipality,
    Department,
    Skills,
    PayoutKind,
    PayoutPhone,
    PayoutBank,
    PayoutAccountType,
    PayoutAccountNumber,
    PayoutKey,
    ProgrammeGroup,
}

/// Each column: its name, the other names a header may give it (folded), and whether a file
/// must have it.
const COLUMNS: [(Column, &str, &[&str], bool); 14] = [
    (
        Column::Name,
        "name",
        &["nombre", "nombres", "nombre completo"],
        true,
    ),
    (
        Column::Email,
        "email",
        &["e mail", "correo", "correo electronico"],
        true,
    ),
    (
        Column::DocumentId,
        "document_id",
        &["cedula", "documento", "numero de documento", "cc"],
        false,
    ),
    (
        Column::Phone,
        "phone",
        &["telefono", "celular", "movil"],
        false,
    ),
    (Column::Municipality, "municipality", &["municipio"], true),
    (Column::Department, "department", &["departamento"], true),
    (Column::Skills, "skills", &["habilidades"], false),
    (
        Column::PayoutKind,
        "payout_kind",
        &["medio pago", "medio de pago", "tipo de pago"],
        true,
    ),
    (
        Column::PayoutPhone,
        "payout_phone",
        &["celular pago", "celular de pago", "telefono de pago"],
        false,
    ),
    (Column::PayoutBank, "payout_bank", &["banco"], false),
    (
        Column::PayoutAccountType,
        "payout_account_type",
        &["tipo cuenta", "tipo de cuenta"],
        false,
    ),
    (
        Column::PayoutAccountNumber,
        "payout_account_number",
        &["numero cuenta", "numero de cuenta", "cuenta"],
        false,
    ),
    (
        Column::PayoutKey,
        "payout_key",
        &["llave", "llave bre b", "llave breb"],
        false,
    ),
    (
        Column::ProgrammeGroup,
        "programme_group",
        &["grupo", "grupo del programa"],
        false,
    ),
];

impl Column {
    /// The column's name in the documentation (and in refusals when the file lacks it).
    pub fn name(self) -> &'static str {
        COLUMNS
            .iter()
            .find(|(c, ..)| *c == self)
            .map_or("", |(_, n, ..)| n)
    }

    /// The column a header cell names, if any.
    fn of_header(header: &str) -> Option<Column> {
        let h = fold(header);
        COLUMNS
            .iter()
            .find(|(_, name, aliases, _)| fold(name) == h || aliases.contains(&h.as_str()))
            .map(|(c, ..)| *c)
    }
}

/// The header cell of `column` as the file wrote it (`correo`), or the column's name.
pub fn header(sheet: &Sheet, column: Column) -> String {
    sheet
        .columns
        .iter()
        .find(|h| Column::of_header(h) == Some(column))
        .cloned()
        .unwrap_or_else(|| column.name().to_string())
}

/// One graduate, every field checked: ready to be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graduate {
    /// The file's line (the header is line 1).
    pub line: usize,
    pub name: Name,
    pub email: Email,
    pub document_id: Option<DocumentId>,
    pub phone: Option<MobilePhone>,
    pub department: Department,
    pub municipality: Municipality,
    pub skills: BTreeSet<Skill>,
    pub payout: Payout,
    /// `youth`, `woman_head_of_household` or `conflict_victim`, as stored.
    pub programme_group: Option<&'static str>,
}

/// What is wrong with the file as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRefusal {
    Sheet(SheetRefusal),
    /// A required column is missing.
    MissingColumn(&'static str),
    /// A header names no column of the import (a typo would otherwise drop its data).
    UnknownColumn(String),
    /// Two header cells name the same column (`correo` and `email`).
    SameColumnTwice(String),
}

impl FileRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            FileRefusal::Sheet(s) => s.code(),
            FileRefusal::MissingColumn(_)
            | FileRefusal::UnknownColumn(_)
            | FileRefusal::SameColumnTwice(_) => "bad_header",
        }
    }

    /// Spanish, as a sentence without its full stop.
    pub fn es(&self) -> String {
        match self {
            FileRefusal::Sheet(s) => s.to_string(),
            FileRefusal::MissingColumn(c) => format!(
                "falta la columna «{c}» (o «{}»); las obligatorias son name, email, \
                 municipality, department y payout_kind",
                spanish_name(c)
            ),
            FileRefusal::UnknownColumn(c) => format!(
                "la columna «{c}» no es de la importación; las columnas son {}",
                COLUMNS
                    .iter()
                    .map(|(_, n, ..)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            FileRefusal::SameColumnTwice(c) => {
                format!("dos columnas del encabezado son «{c}»")
            }
        }
    }
}

fn spanish_name(column: &str) -> &'static str {
    COLUMNS
        .iter()
        .find(|(_, n, ..)| *n == column)
        .and_then(|(_, _, aliases, _)| aliases.first().copied())
        .unwrap_or("")
}

/// One bad cell (or row), in Spanish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowRefusal {
    pub line: usize,
    /// The column as the file's header wrote it (or its name when the file lacks it).
    pub column: Option<String>,
    /// What is wrong, as the end of a sentence.
    pub problem: String,
}

impl RowRefusal {
    /// `Fila 3, columna «municipio»: «Chaparal» no es un municipio de Tolima según el DANE;
    /// ¿quiso decir «Chaparral»?`
    pub fn es(&self) -> String {
        let end = if self.problem.ends_with('?') { "" } else { "." };
        match &self.column {
            Some(c) => format!("Fila {}, columna «{c}»: {}{end}", self.line, self.problem),
            None => format!("Fila {}: {}{end}", self.line, self.problem),
        }
    }
}

/// Why a cohort was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    File(FileRefusal),
    Rows(Vec<RowRefusal>),
}

/// Where each column is in the file, and its header as written.
struct Layout {
    at: HashMap<Column, (usize, String)>,
    width: usize,
}

impl Layout {
    fn of(sheet: &Sheet) -> Result<Layout, FileRefusal> {
        let mut at = HashMap::new();
        for (i, header) in sheet.columns.iter().enumerate() {
            let column = Column::of_header(header)
                .ok_or_else(|| FileRefusal::UnknownColumn(header.clone()))?;
            if at.insert(column, (i, header.clone())).is_some() {
                return Err(FileRefusal::SameColumnTwice(column.name().to_string()));
            }
        }
        for (column, name, _, required) in COLUMNS {
            if required && !at.contains_key(&column) {
                return Err(FileRefusal::MissingColumn(name));
            }
        }
        Ok(Layout {
            at,
            width: sheet.columns.len(),
        })
    }

    /// The header of `column` as written, or its name.
    fn header(&self, column: Column) -> String {
        self.at
            .get(&column)
            .map_or_else(|| column.name().to_string(), |(_, h)| h.clone())
    }
}

/// One row's cells by column, trimmed; absent columns read as empty.
struct Cells<'a> {
    layout: &'a Layout,
    cells: &'a [String],
}

impl<'a> Cells<'a> {
    fn get(&self, column: Column) -> &'a str {
        self.layout
            .at
            .get(&column)
            .and_then(|(i, _)| self.cells.get(*i))
            .map_or("", |c| c.trim())
    }
}

/// Every graduate of the file, or every bad row. `skills` is the catalogue's active names.
pub fn check_cohort<S: AsRef<str>>(sheet: &Sheet, skills: &[S]) -> Result<Vec<Graduate>, Refusal> {
    let layout = Layout::of(sheet).map_err(Refusal::File)?;
    if sheet.rows.is_empty() {
        return Err(Refusal::File(FileRefusal::Sheet(SheetRefusal::Empty)));
    }
    let (mut out, mut refused) = (Vec::new(), Vec::new());
    let mut emails: HashMap<String, usize> = HashMap::new();
    let mut cedulas: HashMap<String, usize> = HashMap::new();
    for row in &sheet.rows {
        let mut problems = Vec::new();
        let mut refuse = |column: Option<Column>, problem: String| {
            problems.push(RowRefusal {
                line: row.line,
                column: column.map(|c| layout.header(c)),
                problem,
            });
        };
        if row.cells.len() != layout.width {
            refuse(
                None,
                format!(
                    "la fila tiene {} columnas y el encabezado {}",
                    row.cells.len(),
                    layout.width
                ),
            );
            refused.append(&mut problems);
            continue;
        }
        let cells = Cells {
            layout: &layout,
            cells: &row.cells,
        };
        let graduate = check_row(row.line, &cells, skills, &mut refuse);
        // Once in the file, whatever else is wrong with either row.
        if let Ok(email) = Email::parse(cells.get(Column::Email))
            && let Some(first) = emails.insert(email.as_str().to_string(), row.line)
        {
            refuse(
                Some(Column::Email),
                format!("el correo ya está en la fila {first}"),
            );
            emails.insert(email.as_str().to_string(), first);
        }
        if let Ok(cedula) = DocumentId::parse(cells.get(Column::DocumentId))
            && let Some(first) = cedulas.insert(cedula.as_str().to_string(), row.line)
        {
            refuse(
                Some(Column::DocumentId),
                format!("la cédula ya está en la fila {first}"),
            );
            cedulas.insert(cedula.as_str().to_string(), first);
        }
        match graduate {
            Some(g) if problems.is_empty() => out.push(g),
            _ => refused.append(&mut problems),
        }
    }
    if refused.is_empty() {
        Ok(out)
    } else {
        Err(Refusal::Rows(refused))
    }
}

/// One row's fields; every problem found is passed to `refuse` (`None` when there was any).
fn check_row<S: AsRef<str>>(
    line: usize,
    cells: &Cells<'_>,
    catalogue: &[S],
    refuse: &mut impl FnMut(Option<Column>, String),
) -> Option<Graduate> {
    let mut ok = true;
    let mut bad = |column: Column, problem: String| {
        ok = false;
        refuse(Some(column), problem);
    };
    let name = required(cells, Column::Name, &mut bad);
    let name = if name.is_empty() {
        None
    } else {
        Name::parse(name)
            .map_err(|_| {
                let problem = if name.chars().count() > 200 {
                    "pasa de 200 caracteres"
                } else {
                    "tiene caracteres de control"
                };
                bad(Column::Name, problem.into())
            })
            .ok()
    };

    let email = required(cells, Column::Email, &mut bad);
    let email = if email.is_empty() {
        None
    } else {
        Email::parse(email)
            .map_err(|_| {
                bad(
                    Column::Email,
                    format!("«{email}» no es un correo electrónico válido"),
                )
            })
            .ok()
    };

    let document_id = optional(cells.get(Column::DocumentId), DocumentId::parse)
        .map_err(|_| {
            bad(
                Column::DocumentId,
                "no es una cédula: deben ser de 5 a 10 dígitos".into(),
            )
        })
        .ok()
        .flatten();

    let phone = optional(cells.get(Column::Phone), MobilePhone::parse)
        .map_err(|_| {
            bad(
                Column::Phone,
                "no es un celular colombiano: 10 dígitos que empiezan por 3".into(),
            )
        })
        .ok()
        .flatten();

    let department = required(cells, Column::Department, &mut bad);
    let department = if department.is_empty() {
        None
    } else {
        divipola()
            .department(department)
            .map_err(|e| bad(Column::Department, e.es()))
            .ok()
    };
    let municipality = required(cells, Column::Municipality, &mut bad);
    let municipality = match department {
        Some(d) if !municipality.is_empty() => divipola()
            .municipality(d, municipality)
            .map_err(|e| bad(Column::Municipality, e.es()))
            .ok(),
        _ => None,
    };

    let skills = skills(cells.get(Column::Skills), catalogue, &mut bad);
    let payout = payout(cells, phone.as_ref(), &mut bad);
    let programme_group = optional(cells.get(Column::ProgrammeGroup), programme_group)
        .map_err(|_| {
            bad(
                Column::ProgrammeGroup,
                "debe ser youth (joven), woman_head_of_household (mujer cabeza de hogar) o \
                 conflict_victim (víctima del conflicto), o quedar vacía"
                    .into(),
            )
        })
        .ok()
        .flatten();

    let (Some(name), Some(email), Some(department), Some(municipality), Some(skills), Some(payout)) =
        (name, email, department, municipality, skills, payout)
    else {
        return None;
    };
    ok.then(|| Graduate {
        line,
        name,
        email,
        document_id,
        phone,
        department: department.clone(),
        municipality: municipality.clone(),
        skills,
        payout,
        programme_group,
    })
}

/// A cell that must not be empty (refused as `está vacía` when it is).
fn required<'a>(cells: &Cells<'a>, column: Column, bad: &mut dyn FnMut(Column, String)) -> &'a str {
    let v = cells.get(column);
    if v.is_empty() {
        bad(column, "está vacía".into());
    }
    v
}

/// A cell the row's payout kind needs: refused as empty, saying `what` needs it.
fn needed<'a>(
    cells: &Cells<'a>,
    column: Column,
    what: &str,
    bad: &mut dyn FnMut(Column, String),
) -> &'a str {
    let v = cells.get(column);
    if v.is_empty() {
        bad(column, format!("está vacía: {what}"));
    }
    v
}

/// An optional cell: empty is `None`.
fn optional<T, E>(cell: &str, parse: impl Fn(&str) -> Result<T, E>) -> Result<Option<T>, E> {
    if cell.is_empty() {
        Ok(None)
    } else {
        parse(cell).map(Some)
    }
}

/// Skills separated by `|`, spaces, commas or semicolons, each valid and in the catalogue.
fn skills<S: AsRef<str>>(
    cell: &str,
    catalogue: &[S],
    bad: &mut impl FnMut(Column, String),
) -> Option<BTreeSet<Skill>> {
    let mut out = BTreeSet::new();
    let mut ok = true;
    for raw in cell
        .split(|c: char| c == '|' || c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        match Skill::parse(raw) {
            Err(_) => {
                ok = false;
                bad(
                    Column::Skills,
                    format!(
                        "«{raw}» no es una habilidad: se escriben en minúsculas, con dígitos y \
                         guiones, como data-entry, y se separan con | o espacios"
                    ),
                );
            }
            Ok(skill) => match check_known(&skill, catalogue) {
                Ok(()) => {
                    out.insert(skill);
                }
                Err(e) => {
                    ok = false;
                    bad(Column::Skills, e.es());
                }
            },
        }
    }
    if out.len() > MAX_SKILLS {
        ok = false;
        bad(
            Column::Skills,
            format!("tiene más de {MAX_SKILLS} habilidades"),
        );
    }
    ok.then_some(out)
}

/// The payout method the row's payout columns describe, complete for its kind.
fn payout(
    cells: &Cells<'_>,
    phone: Option<&MobilePhone>,
    bad: &mut impl FnMut(Column, String),
) -> Option<Payout> {
    let kind = cells.get(Column::PayoutKind);
    match fold(kind).as_str() {
        "nequi" | "daviplata" => {
            let wallet = if fold(kind) == "nequi" {
                "Nequi"
            } else {
                "Daviplata"
            };
            let own = cells.get(Column::PayoutPhone);
            let raw = if own.is_empty() {
                match phone {
                    Some(p) => p.as_str(),
                    None => needed(
                        cells,
                        Column::PayoutPhone,
                        &format!("un pago por {wallet} necesita el celular de la cuenta"),
                        bad,
                    ),
                }
            } else {
                own
            };
            if raw.is_empty() {
                return None;
            }
            let phone = MobilePhone::parse(raw)
                .map_err(|_| {
                    bad(
                        Column::PayoutPhone,
                        "no es un celular colombiano: 10 dígitos que empiezan por 3".into(),
                    )
                })
                .ok()?
                .as_str()
                .to_string();
            Some(if wallet == "Nequi" {
                Payout::Nequi { phone }
            } else {
                Payout::Daviplata { phone }
            })
        }
        "bank" | "banco" | "cuenta bancaria" | "transferencia" => {
            let what = "un pago a cuenta bancaria la necesita";
            let bank = needed(cells, Column::PayoutBank, what, bad);
            let kind = needed(cells, Column::PayoutAccountType, what, bad);
            let number = needed(cells, Column::PayoutAccountNumber, what, bad);
            let bank = (!bank.is_empty())
                .then(|| {
                    Name::parse(bank)
                        .map_err(|_| bad(Column::PayoutBank, "no es un nombre de banco".into()))
                        .ok()
                })
                .flatten();
            let account_type = match fold(kind).as_str() {
                "" => None,
                "savings" | "ahorros" | "ahorro" | "cuenta de ahorros" => {
                    Some(AccountKind::Savings)
                }
                "checking" | "corriente" | "cuenta corriente" => Some(AccountKind::Checking),
                _ => {
                    bad(
                        Column::PayoutAccountType,
                        "debe ser savings (ahorros) o checking (corriente)".into(),
                    );
                    None
                }
            };
            let number = (!number.is_empty())
                .then(|| {
                    account_number(number)
                        .map_err(|_| {
                            bad(
                                Column::PayoutAccountNumber,
                                "debe tener de 6 a 20 dígitos".into(),
                            )
                        })
                        .ok()
                })
                .flatten();
            Some(Payout::Bank {
                bank: bank?.into_string(),
                account_type: account_type?,
                account_number: number?,
            })
        }
        "bre b" | "breb" | "llave" | "llave bre b" => {
            let key = needed(
                cells,
                Column::PayoutKey,
                "un pago por Bre-B necesita la llave (cédula, celular, correo o alias)",
                bad,
            );
            if key.is_empty() {
                return None;
            }
            let key = breb_key(key)
                .map_err(|_| {
                    bad(
                        Column::PayoutKey,
                        "debe tener de 1 a 100 caracteres visibles".into(),
                    )
                })
                .ok()?;
            Some(Payout::BreB { key })
        }
        "" => {
            bad(Column::PayoutKind, "está vacía".into());
            None
        }
        _ => {
            bad(
                Column::PayoutKind,
                format!(
                    "«{kind}» no es un medio de pago: debe ser nequi, daviplata, banco o bre-b"
                ),
            );
            None
        }
    }
}

/// A programme group as written (English or Spanish) → as stored.
fn programme_group(cell: &str) -> Result<&'static str, ()> {
    match fold(cell).as_str() {
        "youth" | "joven" | "jovenes" | "juventud" => Ok("youth"),
        "woman head of household" | "mujer cabeza de hogar" | "mujer cabeza de familia" => {
            Ok("woman_head_of_household")
        }
        "conflict victim"
        | "victima del conflicto"
        | "victima del conflicto armado"
        | "victima" => Ok("conflict_victim"),
        _ => Err(()),
    }
}

/// Lines of the file whose payout destination is the same (each group in line order).
pub fn shared_payouts(graduates: &[Graduate]) -> Vec<Vec<usize>> {
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    for g in graduates {
        by_key
            .entry(g.payout.duplicate_key())
            .or_default()
            .push(g.line);
    }
    let mut groups: Vec<Vec<usize>> = by_key.into_values().filter(|l| l.len() > 1).collect();
    groups.sort();
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batches::read_sheet;

    const CATALOGUE: [&str; 4] = ["data-entry", "labelling", "data-cleaning", "qa-testing"];

    const HEADER: &str = "nombre;correo;cedula;celular;municipio;departamento;habilidades;\
                          medio_pago;banco;tipo_cuenta;numero_cuenta;llave;grupo\n";

    fn check(text: &str) -> Result<Vec<Graduate>, Refusal> {
        let sheet = read_sheet(text).map_err(|e| Refusal::File(FileRefusal::Sheet(e)))?;
        check_cohort(&sheet, &CATALOGUE)
    }

    fn refusals(r: Result<Vec<Graduate>, Refusal>) -> Vec<RowRefusal> {
        match r {
            Err(Refusal::Rows(rows)) => rows,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_good_semicolon_file_gives_every_graduate() {
        let text = format!(
            "\u{feff}{HEADER}\
             Luz Marina Díaz;luz@correo.test;1.012.345.678;310 555 1234;chaparral;TOLIMA;\
             data-entry|labelling;nequi;;;;;mujer cabeza de hogar\n\
             Ana;ana@correo.test;;3001112233;Ibagué;Tolima;data-cleaning qa-testing;banco;\
             Bancolombia;ahorros;123-456789-01;;joven\n\
             Eva;eva@correo.test;;;Cúcuta;Norte de Santander;;bre-b;;;;eva@llave.test;\n"
        );
        let g = check(&text).unwrap();
        assert_eq!(g.len(), 3);
        assert_eq!(g[0].line, 2);
        assert_eq!(g[0].municipality.name, "Chaparral");
        assert_eq!(g[0].municipality.code, "73168");
        assert_eq!(g[0].department.name, "Tolima");
        assert_eq!(g[0].document_id.as_ref().unwrap().as_str(), "1012345678");
        assert_eq!(
            g[0].payout,
            Payout::Nequi {
                phone: "3105551234".into()
            }
        );
        assert_eq!(g[0].programme_group, Some("woman_head_of_household"));
        assert_eq!(g[0].skills.len(), 2);
        assert_eq!(
            g[1].payout,
            Payout::Bank {
                bank: "Bancolombia".into(),
                account_type: AccountKind::Savings,
                account_number: "12345678901".into()
            }
        );
        assert_eq!(g[2].municipality.code, "54001");
        assert_eq!(
            g[2].payout,
            Payout::BreB {
                key: "eva@llave.test".into()
            }
        );
        assert!(g[2].skills.is_empty());
    }

    #[test]
    fn every_bad_row_and_column_is_named() {
        let text = format!(
            "{HEADER}\
             Luz;luz@correo.test;;3105551234;Chaparal;Tolima;labeling;nequi;;;;;\n\
             ;no-es-correo;12;123;Ibagué;Tolimaa;data-entry;paypal;;;;;otro\n\
             Ana;luz@correo.test;;;Ibagué;Tolima;;banco;;;;;\n\
             Eva;eva@correo.test;;;Ibagué;Tolima\n"
        );
        let rows = refusals(check(&text));
        let found: Vec<(usize, Option<&str>)> =
            rows.iter().map(|r| (r.line, r.column.as_deref())).collect();
        assert_eq!(
            found,
            [
                (2, Some("municipio")),
                (2, Some("habilidades")),
                (3, Some("nombre")),
                (3, Some("correo")),
                (3, Some("cedula")),
                (3, Some("celular")),
                (3, Some("departamento")),
                (3, Some("medio_pago")),
                (3, Some("grupo")),
                (4, Some("banco")),
                (4, Some("tipo_cuenta")),
                (4, Some("numero_cuenta")),
                (4, Some("correo")),
                (5, None),
            ]
        );
        assert_eq!(
            rows[0].es(),
            "Fila 2, columna «municipio»: «Chaparal» no es un municipio de Tolima según el \
             DANE; ¿quiso decir «Chaparral»?"
        );
        assert_eq!(
            rows[1].es(),
            "Fila 2, columna «habilidades»: «labeling» no está en el catálogo de habilidades; \
             ¿quiso decir «labelling»?"
        );
        assert_eq!(
            rows[12].es(),
            "Fila 4, columna «correo»: el correo ya está en la fila 2."
        );
        assert_eq!(
            rows[13].es(),
            "Fila 5: la fila tiene 6 columnas y el encabezado 13."
        );
    }

    #[test]
    fn a_wallet_without_a_phone_and_a_repeated_cedula_are_refused() {
        let text = "name,email,document_id,municipality,department,payout_kind\n\
                    Luz,luz@correo.test,10123456,Chaparral,Tolima,nequi\n\
                    Ana,ana@correo.test,10123456,Chaparral,Tolima,bre-b\n";
        let rows = refusals(check(text));
        let found: Vec<(usize, Option<&str>)> =
            rows.iter().map(|r| (r.line, r.column.as_deref())).collect();
        assert_eq!(
            found,
            [
                (2, Some("payout_phone")),
                (3, Some("payout_key")),
                (3, Some("document_id"))
            ],
            "{rows:?}"
        );
        // A repeated cédula is named once both rows are otherwise right.
        let text = "name,email,document_id,phone,municipality,department,payout_kind\n\
                    Luz,luz@correo.test,10123456,3105551234,Chaparral,Tolima,nequi\n\
                    Ana,ana@correo.test,10.123.456,3105551235,Chaparral,Tolima,daviplata\n";
        let rows = refusals(check(text));
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].es(),
            "Fila 3, columna «document_id»: la cédula ya está en la fila 2."
        );
    }

    #[test]
    fn the_header_is_checked_first() {
        let refused = |text: &str| match check(text) {
            Err(Refusal::File(f)) => f,
            other => panic!("{other:?}"),
        };
        let f = refused("name,email,municipality,payout_kind\nLuz,l@x.co,Chaparral,nequi\n");
        assert_eq!(f, FileRefusal::MissingColumn("department"));
        assert_eq!(f.code(), "bad_header");
        assert!(f.es().contains("«department» (o «departamento»)"));
        let f = refused(
            "name,email,municipio,departamento,payout_kind,telefon\nL,l@x.co,A,B,nequi,3\n",
        );
        assert_eq!(f, FileRefusal::UnknownColumn("telefon".into()));
        let f = refused("name,correo,email,municipio,departamento,payout_kind\n");
        assert_eq!(f, FileRefusal::SameColumnTwice("email".into()));
        let f = refused("name,email,municipio,departamento,payout_kind\n");
        assert_eq!(f, FileRefusal::Sheet(SheetRefusal::Empty));
    }

    #[test]
    fn the_same_payout_destination_is_grouped() {
        let text = "name,email,phone,municipality,department,payout_kind,payout_phone\n\
                    Luz,luz@correo.test,3105551234,Chaparral,Tolima,nequi,\n\
                    Ana,ana@correo.test,3001112233,Chaparral,Tolima,daviplata,310 555 1234\n\
                    Eva,eva@correo.test,3001112244,Chaparral,Tolima,nequi,\n";
        let g = check(text).unwrap();
        assert_eq!(shared_payouts(&g), [vec![2, 3]]);
    }
}
