//! A bank's confirmation file against a payout batch, pure: the file read into typed rows (each
//! bad row refused with why), and each row matched to the batch's lines — settle the line as
//! paid or failed, or change nothing because the reference is unknown, the line is already
//! settled (by this file's earlier row for it, or an earlier file), or the amount is not the
//! line's net.
//!
//! The worker loads the file and the batch's lines, asks here, and writes only the settlements
//! this answers; a second delivery of the same file settles nothing more.

use std::collections::HashMap;

use crate::csvfile;
use crate::money::{Cop, MoneyError};

/// What the bank says happened to a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Paid,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Paid => "paid",
            Outcome::Failed => "failed",
        }
    }
}

/// One readable row of the file: `reference,amount,status[,date]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankRow {
    /// The file's line the row starts on (1-based).
    pub line: usize,
    /// Trimmed; matched exactly against the lines' references.
    pub reference: String,
    /// Whole pesos the bank sent (the line's net).
    pub amount: Cop,
    pub outcome: Outcome,
}

/// Why a row (or the whole file) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowRefusal {
    /// The file cannot be read from this line on (e.g. an unclosed quote).
    #[error("{0}")]
    Unreadable(csvfile::ReadError),
    #[error("se esperan las columnas reference,amount,status[,date]")]
    MissingColumns,
    #[error("status: debe ser pagado (paid) o rechazado (failed)")]
    UnknownStatus,
    /// Not an amount as banks write them (`48,485`, `48.48`, `1e3`): never guessed at.
    #[error("amount: escriba el valor en pesos enteros, como 48485 o 48.485")]
    NotPesos,
    /// Whole pesos, as banks write them: `48485`, `48.485` or `$ 48.485,00`; never read as 48.
    #[error("amount: {0}")]
    BadAmount(MoneyError),
}

impl RowRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            RowRefusal::Unreadable(_) => "unreadable_file",
            RowRefusal::MissingColumns => "missing_columns",
            RowRefusal::UnknownStatus => "unknown_status",
            RowRefusal::NotPesos | RowRefusal::BadAmount(_) => "invalid_amount",
        }
    }

    /// The column at fault, if one is.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            RowRefusal::Unreadable(_) | RowRefusal::MissingColumns => None,
            RowRefusal::UnknownStatus => Some("status"),
            RowRefusal::NotPesos | RowRefusal::BadAmount(_) => Some("amount"),
        }
    }
}

/// A refused row, with what could be read of it (for the report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRow {
    pub line: usize,
    /// Trimmed, or empty when not read.
    pub reference: String,
    /// Trimmed and lower-cased as written, or empty when not read.
    pub status: String,
    pub refusal: RowRefusal,
}

/// A file read: its good rows and its refused ones, each in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfirmationFile {
    pub rows: Vec<BankRow>,
    pub invalid: Vec<InvalidRow>,
}

impl ConfirmationFile {
    /// Why the file gave no row to apply, in Spanish, naming the first bad rows; `None` when
    /// there is a row to apply.
    pub fn nothing_readable(&self) -> Option<String> {
        if !self.rows.is_empty() {
            return None;
        }
        if self.invalid.is_empty() {
            return Some(
                "El archivo de confirmación no tiene filas; no se aplicó nada.".to_string(),
            );
        }
        let rows: Vec<String> = self
            .invalid
            .iter()
            .take(5)
            .map(|r| format!("fila {}: {}", r.line, r.refusal))
            .collect();
        Some(format!(
            "Ninguna fila del archivo de confirmación se pudo leer; no se aplicó nada ({}{}).",
            rows.join("; "),
            if self.invalid.len() > 5 { "; …" } else { "" }
        ))
    }
}

/// Read a confirmation file as banks write them: comma- or semicolon-separated (the first
/// line says which), statuses in Spanish or English. Blank rows and a first row headed
/// `reference` or `referencia` are skipped; a file that cannot be read at all is one invalid
/// row.
pub fn parse_confirmation(body: &str) -> ConfirmationFile {
    let mut file = ConfirmationFile::default();
    let records = match csvfile::read_sniffed(body) {
        Ok(r) => r,
        Err(e) => {
            file.invalid.push(InvalidRow {
                line: e.line,
                reference: String::new(),
                status: String::new(),
                refusal: RowRefusal::Unreadable(e),
            });
            return file;
        }
    };
    for (i, record) in records.iter().enumerate() {
        let cells = &record.cells;
        let blank = cells.iter().all(|c| c.trim().is_empty());
        let header = i == 0
            && cells.first().is_some_and(|c| {
                let c = c.trim();
                c.eq_ignore_ascii_case("reference") || c.eq_ignore_ascii_case("referencia")
            });
        if blank || header {
            continue;
        }
        match parse_row(record) {
            Ok(row) => file.rows.push(row),
            Err(invalid) => file.invalid.push(invalid),
        }
    }
    file
}

/// One non-blank record.
fn parse_row(record: &csvfile::Record) -> Result<BankRow, InvalidRow> {
    let cells = &record.cells;
    let reference = cells.first().map_or("", |c| c.trim()).to_string();
    let refuse = |status: String, refusal| InvalidRow {
        line: record.line,
        reference: reference.clone(),
        status,
        refusal,
    };
    if cells.len() < 3 {
        return Err(refuse(String::new(), RowRefusal::MissingColumns));
    }
    let status = cells[2].trim().to_lowercase();
    let outcome =
        outcome_of(&status).ok_or_else(|| refuse(status.clone(), RowRefusal::UnknownStatus))?;
    let amount = bank_amount(&cells[1]).map_err(|e| {
        let refusal = match e {
            MoneyError::NotANumber => RowRefusal::NotPesos,
            e => RowRefusal::BadAmount(e),
        };
        refuse(status.clone(), refusal)
    })?;
    Ok(BankRow {
        line: record.line,
        reference,
        amount,
        outcome,
    })
}

/// What a bank's status word says, in Spanish or English (lower-cased).
fn outcome_of(status: &str) -> Option<Outcome> {
    match status {
        "paid" | "pagado" | "pagada" | "exitoso" | "exitosa" | "aplicado" | "aplicada" => {
            Some(Outcome::Paid)
        }
        "failed" | "fallido" | "fallida" | "rechazado" | "rechazada" | "devuelto" | "devuelta" => {
            Some(Outcome::Failed)
        }
        _ => None,
    }
}

/// Whole pesos as a bank writes them: digits (`48485`), or with dots between groups of three
/// (`48.485`), optionally after `$` and with `,00` centavos. Anything else (`48.48`, `48,485`,
/// `1e5`, a sign) is refused rather than guessed at.
fn bank_amount(raw: &str) -> Result<Cop, MoneyError> {
    let s = raw.trim();
    let s = s.strip_prefix('$').map_or(s, str::trim_start);
    let s = s.strip_suffix(",00").unwrap_or(s);
    let groups: Vec<&str> = s.split('.').collect();
    let grouped = groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3);
    if grouped && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit())) {
        Cop::parse_whole_pesos(&groups.concat())
    } else {
        Cop::parse_whole_pesos(s)
    }
}

/// Where a payout line stands (the stored `payout_lines.status`).
pub use crate::money_states::PayoutLineStatus as LineStatus;

impl From<Outcome> for LineStatus {
    fn from(o: Outcome) -> LineStatus {
        match o {
            Outcome::Paid => LineStatus::Paid,
            Outcome::Failed => LineStatus::Failed,
        }
    }
}

/// A line of the batch, as the matcher needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchLine {
    pub reference: String,
    /// What left the worker's payable account.
    pub amount: Cop,
    pub withholding: Cop,
    pub status: LineStatus,
}

impl BatchLine {
    /// What the bank was asked to send.
    pub fn net(&self) -> Cop {
        crate::payout_rules::LineFigures::stored(self.amount, self.withholding).net
    }
}

/// What one row does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Settle line `line` (an index into the batch's lines) with the row's outcome.
    Settle { line: usize },
    /// No line of the batch has this reference.
    Unknown,
    /// The line was settled already (by an earlier file, or an earlier row of this one).
    AlreadySettled { status: LineStatus },
    /// The row's amount is not the line's net; nothing changes.
    Mismatch { expected: Cop, found: Cop },
}

impl Verdict {
    /// What the report says about a row that changed nothing.
    pub fn detail(&self) -> Option<String> {
        match self {
            Verdict::Settle { .. } | Verdict::Unknown => None,
            Verdict::AlreadySettled { status } => Some(format!("line is already {status}")),
            Verdict::Mismatch { expected, found } => {
                Some(format!("expected {expected}, file says {found}"))
            }
        }
    }
}

/// One verdict per row, in the rows' order. Rows are taken in turn: a row that settles a line
/// leaves it settled for the rows after it, so one line is settled at most once.
pub fn match_rows(rows: &[BankRow], lines: &[BatchLine]) -> Vec<Verdict> {
    let by_reference: HashMap<&str, usize> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (l.reference.as_str(), i))
        .collect();
    let mut status: Vec<LineStatus> = lines.iter().map(|l| l.status).collect();
    rows.iter()
        .map(|row| {
            let Some(&i) = by_reference.get(row.reference.as_str()) else {
                return Verdict::Unknown;
            };
            if status[i] != LineStatus::Pending {
                return Verdict::AlreadySettled { status: status[i] };
            }
            let expected = lines[i].net();
            if row.amount != expected {
                return Verdict::Mismatch {
                    expected,
                    found: row.amount,
                };
            }
            status[i] = row.outcome.into();
            Verdict::Settle { line: i }
        })
        .collect()
}

/// The batch's lines after `verdicts` (from [`match_rows`] on `rows`) were written.
pub fn settled(lines: &[BatchLine], rows: &[BankRow], verdicts: &[Verdict]) -> Vec<BatchLine> {
    let mut after = lines.to_vec();
    for (row, verdict) in rows.iter().zip(verdicts) {
        if let Verdict::Settle { line } = verdict {
            after[*line].status = row.outcome.into();
        }
    }
    after
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(reference: &str, amount: i64, withholding: i64, status: LineStatus) -> BatchLine {
        BatchLine {
            reference: reference.into(),
            amount: Cop::pesos(amount),
            withholding: Cop::pesos(withholding),
            status,
        }
    }

    #[test]
    fn rows_are_read_with_a_refusal_each() {
        let body = "Reference,amount,status\r\n\
                    VRD1,46546,PAID\r\n\
                    \r\n\
                    ,,\r\n\
                    VRD2,1000\r\n\
                    VRD3,1000,sent\r\n\
                    VRD4,48.48,paid\r\n\
                    VRD5,1e3,failed\r\n\
                    \" VRD6 \",0,failed,2026-01-02\r\n\
                    VRD7,1000,failed,2026-01-02\r\n";
        let f = parse_confirmation(body);
        assert_eq!(
            f.rows,
            vec![
                BankRow {
                    line: 2,
                    reference: "VRD1".into(),
                    amount: Cop::pesos(46_546),
                    outcome: Outcome::Paid,
                },
                BankRow {
                    line: 10,
                    reference: "VRD7".into(),
                    amount: Cop::pesos(1_000),
                    outcome: Outcome::Failed,
                },
            ]
        );
        let got: Vec<(usize, &str, &str, &str)> = f
            .invalid
            .iter()
            .map(|r| {
                (
                    r.line,
                    r.reference.as_str(),
                    r.status.as_str(),
                    r.refusal.code(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (5, "VRD2", "", "missing_columns"),
                (6, "VRD3", "sent", "unknown_status"),
                (7, "VRD4", "paid", "invalid_amount"),
                (8, "VRD5", "failed", "invalid_amount"),
                (9, "VRD6", "failed", "invalid_amount"),
            ]
        );
        assert_eq!(
            f.invalid[0].refusal.to_string(),
            "se esperan las columnas reference,amount,status[,date]"
        );
        assert_eq!(f.invalid[1].refusal.field(), Some("status"));
        assert!(f.invalid[2].refusal.to_string().starts_with("amount: "));
        assert_eq!(
            f.invalid[4].refusal,
            RowRefusal::BadAmount(MoneyError::Zero)
        );
    }

    #[test]
    fn a_file_as_colombian_banks_write_it_is_read() {
        let body = "\u{feff}Referencia;Valor;Estado;Fecha\r\n\
                    VRD1;48.485;Pagado;2026-11-30\r\n\
                    VRD2;$ 1.048.485,00;RECHAZADO;2026-11-30\r\n\
                    VRD3;48485;exitoso;\r\n\
                    VRD4;48,485;fallido;\r\n\
                    VRD5;4.8485;paid;\r\n\
                    VRD6;1000;enviado;\r\n";
        let f = parse_confirmation(body);
        let read: Vec<(&str, Cop, Outcome)> = f
            .rows
            .iter()
            .map(|r| (r.reference.as_str(), r.amount, r.outcome))
            .collect();
        assert_eq!(
            read,
            vec![
                ("VRD1", Cop::pesos(48_485), Outcome::Paid),
                ("VRD2", Cop::pesos(1_048_485), Outcome::Failed),
                ("VRD3", Cop::pesos(48_485), Outcome::Paid),
            ]
        );
        let refused: Vec<(usize, &str)> = f
            .invalid
            .iter()
            .map(|r| (r.line, r.refusal.code()))
            .collect();
        assert_eq!(
            refused,
            vec![
                (5, "invalid_amount"),
                (6, "invalid_amount"),
                (7, "unknown_status")
            ]
        );
    }

    #[test]
    fn each_row_settles_mismatches_or_is_unknown() {
        let lines = vec![
            line("VRD1", 48_485, 1_939, LineStatus::Pending),
            line("VRD2", 30_000, 0, LineStatus::Pending),
            line("VRD3", 30_000, 0, LineStatus::Paid),
        ];
        let row = |line: usize, reference: &str, amount: i64, outcome| BankRow {
            line,
            reference: reference.into(),
            amount: Cop::pesos(amount),
            outcome,
        };
        let rows = vec![
            row(2, "VRD1", 48_485, Outcome::Paid),
            row(3, "VRD1", 46_546, Outcome::Paid),
            row(4, "VRD1", 46_546, Outcome::Failed),
            row(5, "VRD2", 30_000, Outcome::Failed),
            row(6, "VRD3", 30_000, Outcome::Paid),
            row(7, "vrd2", 30_000, Outcome::Paid),
        ];
        let verdicts = match_rows(&rows, &lines);
        assert_eq!(
            verdicts,
            vec![
                Verdict::Mismatch {
                    expected: Cop::pesos(46_546),
                    found: Cop::pesos(48_485)
                },
                Verdict::Settle { line: 0 },
                Verdict::AlreadySettled {
                    status: LineStatus::Paid
                },
                Verdict::Settle { line: 1 },
                Verdict::AlreadySettled {
                    status: LineStatus::Paid
                },
                Verdict::Unknown,
            ]
        );
        assert_eq!(
            verdicts[0].detail().as_deref(),
            Some("expected 46546, file says 48485")
        );
        assert_eq!(
            verdicts[2].detail().as_deref(),
            Some("line is already paid")
        );
        let after = settled(&lines, &rows, &verdicts);
        assert_eq!(after[0].status, LineStatus::Paid);
        assert_eq!(after[1].status, LineStatus::Failed);
    }

    /// A batch of up to 8 lines (references VRD0…) and rows that name them, or others, with
    /// right or wrong amounts and either outcome.
    fn batch_and_rows() -> impl Strategy<Value = (Vec<BatchLine>, Vec<BankRow>)> {
        let line = (1i64..200_000, 0i64..5_000, 0u8..4);
        prop::collection::vec(line, 0..8).prop_flat_map(|specs| {
            let lines: Vec<BatchLine> = specs
                .iter()
                .enumerate()
                .map(|(i, (amount, w, s))| {
                    let status = match s {
                        0 => LineStatus::Paid,
                        1 => LineStatus::Failed,
                        _ => LineStatus::Pending,
                    };
                    line_of(i, *amount, (*w).min(*amount - 1).max(0), status)
                })
                .collect();
            let n = lines.len();
            let row = (0..n + 2, any::<bool>(), any::<bool>());
            let rows = prop::collection::vec(row, 0..16);
            (Just(lines.clone()), rows).prop_map(|(lines, specs)| {
                let rows = specs
                    .into_iter()
                    .enumerate()
                    .map(|(k, (target, right, paid))| {
                        let net = lines.get(target).map_or(Cop::pesos(1), BatchLine::net);
                        BankRow {
                            line: k + 2,
                            reference: format!("VRD{target}"),
                            amount: if right { net } else { net + Cop::pesos(1) },
                            outcome: if paid { Outcome::Paid } else { Outcome::Failed },
                        }
                    })
                    .collect();
                (lines, rows)
            })
        })
    }

    fn line_of(i: usize, amount: i64, withholding: i64, status: LineStatus) -> BatchLine {
        line(&format!("VRD{i}"), amount, withholding, status)
    }

    /// The lines a matching settles, each with the money it moves.
    fn settled_lines(verdicts: &[Verdict], lines: &[BatchLine]) -> Vec<(usize, Cop)> {
        let mut out: Vec<(usize, Cop)> = verdicts
            .iter()
            .filter_map(|v| match v {
                Verdict::Settle { line } => Some((*line, lines[*line].net())),
                _ => None,
            })
            .collect();
        out.sort();
        out
    }

    proptest! {
        /// Every row gets exactly one verdict; a line is settled at most once, only from
        /// pending, and only by a row carrying its net.
        #[test]
        fn every_row_gets_one_verdict((lines, rows) in batch_and_rows()) {
            let verdicts = match_rows(&rows, &lines);
            prop_assert_eq!(verdicts.len(), rows.len());
            let settled = settled_lines(&verdicts, &lines);
            let mut once: Vec<usize> = settled.iter().map(|(i, _)| *i).collect();
            once.dedup();
            prop_assert_eq!(once.len(), settled.len());
            for (row, v) in rows.iter().zip(&verdicts) {
                if let Verdict::Settle { line } = v {
                    prop_assert_eq!(lines[*line].status, LineStatus::Pending);
                    prop_assert_eq!(row.amount, lines[*line].net());
                    prop_assert_eq!(&row.reference, &lines[*line].reference);
                }
            }
        }

        /// The same file applied twice: the second time settles nothing.
        #[test]
        fn a_second_delivery_changes_nothing((lines, rows) in batch_and_rows()) {
            let first = match_rows(&rows, &lines);
            let after = settled(&lines, &rows, &first);
            let second = match_rows(&rows, &after);
            let settles = second
                .iter()
                .filter(|v| matches!(v, Verdict::Settle { .. }))
                .count();
            prop_assert_eq!(settles, 0);
            prop_assert_eq!(settled(&after, &rows, &second), after);
        }

        /// Which lines are settled, and the money they move, does not depend on the rows' order
        /// (which outcome a line gets when the file names it twice does).
        #[test]
        fn row_order_does_not_change_the_totals(
            (lines, rows) in batch_and_rows(),
            seed in any::<u64>(),
        ) {
            let mut shuffled = rows.clone();
            // A deterministic shuffle from the seed (Fisher–Yates with an LCG).
            let mut s = seed;
            for i in (1..shuffled.len()).rev() {
                s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                shuffled.swap(i, (s >> 33) as usize % (i + 1));
            }
            let a = settled_lines(&match_rows(&rows, &lines), &lines);
            let b = settled_lines(&match_rows(&shuffled, &lines), &lines);
            prop_assert_eq!(a, b);
        }
    }
}
