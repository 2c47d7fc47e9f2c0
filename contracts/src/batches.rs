//! Task batches (issue 17), pure: a template whose title and instructions carry `${column}`
//! placeholders, and a spreadsheet (CSV, comma or semicolon: Excel set to Spanish writes
//! semicolons) with a header row naming the columns and one row per task. Every row is checked
//! before anything is created, and a batch with any bad row is refused whole, each bad row and
//! column named in Spanish, so a company fixes its file once instead of one error at a time.

use std::collections::{BTreeMap, BTreeSet};

use crate::csvfile;
use crate::identity::Name;
use crate::marketplace::{AssignmentStatus, TaskStatus};

/// Rows one batch may hold.
pub const MAX_ROWS: usize = 1000;
/// Longest instructions, as for a single task.
pub const MAX_INSTRUCTIONS: usize = 20_000;

/// A template's texts, placeholders unexpanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub title: String,
    pub instructions: String,
}

/// The spreadsheet as read: its columns and its rows (each with the line it is on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub columns: Vec<String>,
    pub rows: Vec<csvfile::Record>,
}

/// One task of the batch: its texts with every placeholder filled, and the row's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchTask {
    pub line: usize,
    pub title: String,
    pub instructions: String,
    /// The row's values by column, in the header's order (the results CSV repeats them).
    pub inputs: Vec<(String, String)>,
}

/// What is wrong with the file or the template as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SheetRefusal {
    #[error("no se pudo leer el archivo en la línea {line}: {reason}")]
    Unreadable { line: usize, reason: String },
    #[error("el archivo no tiene filas: la primera debe nombrar las columnas")]
    Empty,
    #[error("la columna «{0}» está dos veces en el encabezado")]
    DuplicateColumn(String),
    #[error("el encabezado tiene una columna sin nombre")]
    UnnamedColumn,
    #[error("el archivo tiene {rows} filas; el máximo es {max}")]
    TooManyRows { rows: usize, max: usize },
    #[error("la plantilla usa ${{{0}}}, pero el archivo no tiene esa columna")]
    UnknownPlaceholder(String),
    #[error("la plantilla tiene un «${{» sin cerrar")]
    UnclosedPlaceholder,
}

impl SheetRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            SheetRefusal::Unreadable { .. } => "unreadable_file",
            SheetRefusal::Empty => "empty_file",
            SheetRefusal::DuplicateColumn(_) | SheetRefusal::UnnamedColumn => "bad_header",
            SheetRefusal::TooManyRows { .. } => "too_many_rows",
            SheetRefusal::UnknownPlaceholder(_) | SheetRefusal::UnclosedPlaceholder => {
                "unknown_placeholder"
            }
        }
    }
}

/// What is wrong with one cell of one row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellProblem {
    #[error("está vacía")]
    Empty,
    #[error("la fila tiene {found} columnas y el encabezado {expected}")]
    WrongWidth { found: usize, expected: usize },
    #[error("el título que resulta {0}")]
    BadTitle(&'static str),
    #[error("las instrucciones que resultan pasan de {MAX_INSTRUCTIONS} caracteres")]
    InstructionsTooLong,
    #[error("tiene caracteres de control")]
    ControlCharacter,
}

/// One bad row, and the column at fault when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowRefusal {
    pub line: usize,
    pub column: Option<String>,
    pub problem: CellProblem,
}

impl RowRefusal {
    pub fn code(&self) -> &'static str {
        "invalid_row"
    }

    /// `Fila 3, columna «cliente»: está vacía.`
    pub fn es(&self) -> String {
        match &self.column {
            Some(c) => format!("Fila {}, columna «{c}»: {}.", self.line, self.problem),
            None => format!("Fila {}: {}.", self.line, self.problem),
        }
    }
}

/// Read the spreadsheet: a header naming the columns, then the rows.
pub fn read_sheet(text: &str) -> Result<Sheet, SheetRefusal> {
    let mut records = csvfile::read_sniffed(text).map_err(|e| SheetRefusal::Unreadable {
        line: e.line,
        reason: e.reason,
    })?;
    if records.is_empty() {
        return Err(SheetRefusal::Empty);
    }
    let header = records.remove(0);
    let columns: Vec<String> = header.cells.iter().map(|c| c.trim().to_string()).collect();
    let mut seen = BTreeSet::new();
    for c in &columns {
        if c.is_empty() {
            return Err(SheetRefusal::UnnamedColumn);
        }
        if !seen.insert(c.to_lowercase()) {
            return Err(SheetRefusal::DuplicateColumn(c.clone()));
        }
    }
    if records.len() > MAX_ROWS {
        return Err(SheetRefusal::TooManyRows {
            rows: records.len(),
            max: MAX_ROWS,
        });
    }
    Ok(Sheet {
        columns,
        rows: records,
    })
}

/// The placeholders a text uses, in order of first use.
pub fn placeholders(text: &str) -> Result<Vec<String>, SheetRefusal> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        let after = &rest[at + 2..];
        let end = after.find('}').ok_or(SheetRefusal::UnclosedPlaceholder)?;
        let name = after[..end].trim().to_string();
        if !out.contains(&name) {
            out.push(name);
        }
        rest = &after[end + 1..];
    }
    Ok(out)
}

/// `text` with each `${column}` replaced by the row's value.
fn fill(text: &str, values: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after.find('}').unwrap_or(after.len());
        let name = after[..end].trim();
        let value = values
            .iter()
            .find(|(c, _)| c == name)
            .map_or("", |(_, v)| v.as_str());
        out.push_str(value);
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// Every task of the batch, or every bad row. Columns the template does not use may be empty
/// (they only travel to the results CSV); a used one may not.
pub fn check_batch(template: &Template, sheet: &Sheet) -> Result<Vec<BatchTask>, Batch> {
    let mut used = placeholders(&template.title).map_err(Batch::Sheet)?;
    for p in placeholders(&template.instructions).map_err(Batch::Sheet)? {
        if !used.contains(&p) {
            used.push(p);
        }
    }
    if let Some(unknown) = used.iter().find(|p| !sheet.columns.contains(p)) {
        return Err(Batch::Sheet(SheetRefusal::UnknownPlaceholder(
            unknown.clone(),
        )));
    }
    let (mut tasks, mut refused) = (Vec::new(), Vec::new());
    for row in &sheet.rows {
        match check_row(template, &sheet.columns, &used, row) {
            Ok(task) => tasks.push(task),
            Err(mut r) => refused.append(&mut r),
        }
    }
    if refused.is_empty() {
        Ok(tasks)
    } else {
        Err(Batch::Rows(refused))
    }
}

/// Why a batch was refused: the file as a whole, or these rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Batch {
    Sheet(SheetRefusal),
    Rows(Vec<RowRefusal>),
}

fn check_row(
    template: &Template,
    columns: &[String],
    used: &[String],
    row: &csvfile::Record,
) -> Result<BatchTask, Vec<RowRefusal>> {
    let refuse = |column: Option<&str>, problem| RowRefusal {
        line: row.line,
        column: column.map(str::to_string),
        problem,
    };
    if row.cells.len() != columns.len() {
        let problem = CellProblem::WrongWidth {
            found: row.cells.len(),
            expected: columns.len(),
        };
        return Err(vec![refuse(None, problem)]);
    }
    let inputs: Vec<(String, String)> = columns
        .iter()
        .cloned()
        .zip(row.cells.iter().map(|c| c.trim().to_string()))
        .collect();
    let mut problems = Vec::new();
    for (column, value) in &inputs {
        if value.is_empty() && used.contains(column) {
            problems.push(refuse(Some(column), CellProblem::Empty));
        } else if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            problems.push(refuse(Some(column), CellProblem::ControlCharacter));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let title = Name::parse(&fill(&template.title, &inputs))
        .map_err(|e| vec![refuse(None, CellProblem::BadTitle(e))])?;
    let instructions = fill(&template.instructions, &inputs);
    if instructions.chars().count() > MAX_INSTRUCTIONS {
        return Err(vec![refuse(None, CellProblem::InstructionsTooLong)]);
    }
    Ok(BatchTask {
        line: row.line,
        title: title.as_str().to_string(),
        instructions: instructions.trim().to_string(),
        inputs,
    })
}

/// How far a batch has got, over all its tasks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Slots of open tasks nobody holds.
    pub open_slots: i64,
    /// Claimed, or sent back for changes: a worker is on it.
    pub in_progress: i64,
    /// Delivered, waiting for the automatic checks or for the company.
    pub to_review: i64,
    pub approved: i64,
    pub rejected: i64,
}

/// How many assignments of one task are in one status (`None`: a task with none at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTally {
    pub task_id: String,
    pub task_status: TaskStatus,
    pub slots: i64,
    pub assignment_status: Option<AssignmentStatus>,
    pub count: i64,
}

/// The batch's progress from its tallies (several per task, in any order).
pub fn progress(tallies: &[TaskTally]) -> Progress {
    let mut p = Progress::default();
    let mut tasks: BTreeMap<&str, (TaskStatus, i64, i64)> = BTreeMap::new();
    for t in tallies {
        let entry = tasks
            .entry(t.task_id.as_str())
            .or_insert((t.task_status, t.slots, 0));
        let Some(status) = t.assignment_status else {
            continue;
        };
        if status.takes_slot() {
            entry.2 += t.count;
        }
        use AssignmentStatus::*;
        match status {
            Claimed | ChangesRequested => p.in_progress += t.count,
            Submitted | Verified => p.to_review += t.count,
            Approved => p.approved += t.count,
            Rejected => p.rejected += t.count,
            Released | Expired => {}
        }
    }
    p.open_slots = tasks
        .values()
        .filter(|(status, _, _)| *status == TaskStatus::Open)
        .map(|(_, slots, taken)| (slots - taken).max(0))
        .sum();
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn template() -> Template {
        Template {
            title: "Clasificar ticket ${ticket}".into(),
            instructions: "Lea el ticket ${ticket} de ${cliente} y clasifíquelo.".into(),
        }
    }

    #[test]
    fn a_semicolon_sheet_from_spanish_excel_fills_the_template() {
        let text =
            "\u{feff}ticket;cliente;nota\r\nT-1;Tienda Andina;\r\nT-2;\"Café; Sur\";urgente\r\n";
        let sheet = read_sheet(text).unwrap();
        assert_eq!(sheet.columns, ["ticket", "cliente", "nota"]);
        let tasks = check_batch(&template(), &sheet).unwrap();
        assert_eq!(tasks.len(), 2);
        assert_eq!(tasks[0].title, "Clasificar ticket T-1");
        assert_eq!(
            tasks[1].instructions,
            "Lea el ticket T-2 de Café; Sur y clasifíquelo."
        );
        assert_eq!(tasks[1].inputs[2], ("nota".into(), "urgente".into()));
        assert_eq!(tasks[0].line, 2);
    }

    #[test]
    fn every_bad_row_is_named_and_nothing_passes() {
        let text = "ticket,cliente\nT-1,Andina\n,Sur\nT-3\nT-4,\n";
        let Err(Batch::Rows(bad)) = check_batch(&template(), &read_sheet(text).unwrap()) else {
            panic!("refused");
        };
        let said: Vec<String> = bad.iter().map(RowRefusal::es).collect();
        assert_eq!(
            said,
            [
                "Fila 3, columna «ticket»: está vacía.",
                "Fila 4: la fila tiene 1 columnas y el encabezado 2.",
                "Fila 5, columna «cliente»: está vacía.",
            ]
        );
    }

    #[test]
    fn the_file_as_a_whole_can_be_refused() {
        assert_eq!(read_sheet(""), Err(SheetRefusal::Empty));
        assert_eq!(
            read_sheet("a,A\n1,2\n"),
            Err(SheetRefusal::DuplicateColumn("A".into()))
        );
        assert_eq!(read_sheet("a,,b\n"), Err(SheetRefusal::UnnamedColumn));
        let many = format!("a\n{}", "x\n".repeat(MAX_ROWS + 1));
        assert!(matches!(
            read_sheet(&many),
            Err(SheetRefusal::TooManyRows { .. })
        ));
        let t = Template {
            title: "Tarea ${falta}".into(),
            instructions: "x".into(),
        };
        assert_eq!(
            check_batch(&t, &read_sheet("a\n1\n").unwrap()),
            Err(Batch::Sheet(SheetRefusal::UnknownPlaceholder(
                "falta".into()
            )))
        );
        assert_eq!(
            placeholders("a ${b"),
            Err(SheetRefusal::UnclosedPlaceholder)
        );
    }

    proptest! {
        /// A batch is accepted exactly when no row is bad; refused, it names every bad row
        /// and no good one; accepted, it has one task per row, in order.
        #[test]
        fn a_batch_is_refused_whole_naming_every_bad_row(
            rows in proptest::collection::vec(("[A-Z]{0,3}", "[a-z ]{0,8}"), 1..40),
        ) {
            let mut text = String::from("ticket;cliente\n");
            for (t, c) in &rows {
                text.push_str(&format!("{t};{c}\n"));
            }
            let sheet = read_sheet(&text).unwrap();
            let bad: BTreeSet<usize> = sheet
                .rows
                .iter()
                .filter(|r| r.cells.iter().any(|c| c.trim().is_empty()))
                .map(|r| r.line)
                .collect();
            match check_batch(&template(), &sheet) {
                Ok(tasks) => {
                    prop_assert!(bad.is_empty());
                    prop_assert_eq!(tasks.len(), sheet.rows.len());
                }
                Err(Batch::Rows(refused)) => {
                    let named: BTreeSet<usize> = refused.iter().map(|r| r.line).collect();
                    prop_assert_eq!(named, bad);
                }
                Err(Batch::Sheet(s)) => prop_assert!(false, "{s}"),
            }
        }
    }

    fn tally(task: &str, open: bool, slots: i64, status: Option<&str>, count: i64) -> TaskTally {
        TaskTally {
            task_id: task.into(),
            task_status: if open {
                TaskStatus::Open
            } else {
                TaskStatus::Draft
            },
            slots,
            assignment_status: status.and_then(AssignmentStatus::parse),
            count,
        }
    }

    #[test]
    fn progress_counts_free_slots_of_open_tasks_only() {
        let p = progress(&[
            tally("a", true, 3, Some("claimed"), 1),
            tally("a", true, 3, Some("approved"), 1),
            tally("a", true, 3, Some("released"), 4),
            tally("b", true, 2, None, 0),
            tally("c", false, 5, None, 0),
            tally("d", true, 1, Some("verified"), 1),
            tally("d", true, 1, Some("rejected"), 1),
            tally("d", true, 1, Some("changes_requested"), 1),
        ]);
        assert_eq!(
            p,
            Progress {
                // a: 3 − 2 held; b: 2; c is a draft; d: its one slot is held.
                open_slots: 3,
                in_progress: 2,
                to_review: 1,
                approved: 1,
                rejected: 1,
            }
        );
    }
}
