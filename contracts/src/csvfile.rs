//! CSV files people open in a spreadsheet: the one writer every export uses (invoices, the
//! payout bank file, income statements, timesheets), and the reader for files people upload
//! (the bank's confirmations). Built on the `csv` crate (RFC 4180 quoting, CRLF line ends).
//!
//! Text that people typed (a worker's name or Bre-B key, a task title, a company name) can
//! start with `=`, `+`, `-`, `@`, a tab or a CR, and a spreadsheet would run it as a formula
//! (`=HYPERLINK("http://x","y")`). Every text cell that starts with one of them is written with
//! a leading `'`, which spreadsheets take as "this is text" and do not show.
//!
//! Numbers are a separate kind of cell: amounts and counts this program computed, written as
//! plain decimals so a spreadsheet still reads them as numbers. A negative number keeps its
//! leading minus (`-48485`): a minus followed only by digits and at most one decimal point is a
//! number in every spreadsheet, never a formula that can do anything. A "number" that is not
//! of that exact shape is written as (defused) text, so nothing reaches a cell unchecked.

use std::borrow::Cow;
use std::fmt::Display;

/// One cell of an exported row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Anything a person may have typed: always defused.
    Text(String),
    /// A plain decimal number we computed (`48485`, `-1200`, `2.62`).
    Number(String),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// A number we computed; anything not shaped like a plain decimal becomes text.
    pub fn number(n: impl Display) -> Cell {
        let s = n.to_string();
        if is_plain_number(&s) {
            Cell::Number(s)
        } else {
            Cell::Text(s)
        }
    }

    /// An empty cell.
    pub fn empty() -> Cell {
        Cell::Text(String::new())
    }

    /// What is written for this cell (before CSV quoting).
    pub fn written(&self) -> Cow<'_, str> {
        match self {
            Cell::Text(s) => defuse(s),
            Cell::Number(s) if is_plain_number(s) => Cow::Borrowed(s),
            Cell::Number(s) => defuse(s),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::text(s)
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<&String> for Cell {
    fn from(s: &String) -> Cell {
        Cell::text(s.as_str())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::number(n)
    }
}

impl From<crate::money::Cop> for Cell {
    fn from(c: crate::money::Cop) -> Cell {
        Cell::number(c)
    }
}

/// `-?digits(.digits)?`: how our own numbers are written, and nothing a spreadsheet would run.
fn is_plain_number(s: &str) -> bool {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && fraction.is_none_or(digits)
}

/// Text as it is safe to put in a spreadsheet cell: a leading `'` when it would start a formula.
pub fn defuse(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A whole CSV document: the header, then the rows, CRLF line ends, fields quoted when they
/// hold a comma, a quote or a line break.
pub fn write<R, C>(header: &[&str], rows: R) -> String
where
    R: IntoIterator<Item = C>,
    C: IntoIterator<Item = Cell>,
{
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .flexible(true)
        .from_writer(Vec::new());
    // Writing to memory cannot fail; a failure here would be a bug in this module.
    w.write_record(header.iter().map(|h| defuse(h).into_owned()))
        .expect("CSV header to memory");
    for row in rows {
        let cells: Vec<String> = row.into_iter().map(|c| c.written().into_owned()).collect();
        w.write_record(&cells).expect("CSV row to memory");
    }
    let bytes = w.into_inner().expect("CSV flushed to memory");
    String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8")
}

/// One record of an uploaded file, with the line it starts on (1-based) and its cells as
/// written (not trimmed: each caller decides what a cell may hold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub cells: Vec<String>,
}

/// Why an uploaded file could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("el archivo CSV no se puede leer en la línea {line}: {reason}")]
pub struct ReadError {
    pub line: usize,
    pub reason: String,
}

/// The records of an uploaded CSV text (quoted fields, CRLF or LF line ends, rows of any
/// length). Blank lines are skipped.
pub fn read(text: &str) -> Result<Vec<Record>, ReadError> {
    read_delimited(text, b',')
}

/// An uploaded file's bytes as text: UTF-8 when they are (a byte-order mark dropped), else
/// Windows-1252, which is how Excel in Colombia saves "CSV" by default (every byte is a
/// character there, so this never fails; `Confirmación` arrives either way).
pub fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.strip_prefix('\u{feff}').unwrap_or(text).to_string(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// The separator a file's header line uses: `;` when it has more of them than commas
/// (spreadsheets set to Spanish, and Colombian banks, write `;`).
pub fn delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    if header.matches(';').count() > header.matches(',').count() {
        b';'
    } else {
        b','
    }
}

/// [`read_delimited`] with the separator the file's first line uses, after any byte-order
/// mark.
pub fn read_sniffed(text: &str) -> Result<Vec<Record>, ReadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    read_delimited(text, delimiter(text))
}

/// [`read`] with another field separator (spreadsheets set to Spanish write `;`).
pub fn read_delimited(text: &str, delimiter: u8) -> Result<Vec<Record>, ReadError> {
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::None)
        .from_reader(text.as_bytes());
    let bytes = text.as_bytes();
    let (mut out, mut record) = (Vec::new(), csv::StringRecord::new());
    // Line numbers are counted here: the crate's own positions are those of the reader, not
    // of where a record begins.
    let (mut counted, mut line) = (0usize, 1usize);
    loop {
        let from = (r.position().byte() as usize).min(bytes.len());
        let start = from
            + bytes[from..]
                .iter()
                .take_while(|b| matches!(b, b'\n' | b'\r'))
                .count();
        line += bytes[counted..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        counted = start;
        match r.read_record(&mut record) {
            Ok(true) => out.push(Record {
                line,
                cells: record.iter().map(str::to_string).collect(),
            }),
            Ok(false) => break,
            Err(e) => {
                return Err(ReadError {
                    line,
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {

    #[test]
    fn files_decode_from_utf8_or_windows_1252() {
        assert_eq!(decode("\u{feff}Año;Acción".as_bytes()), "Año;Acción");
        // "Año;Acción" as Excel saves it in Colombia.
        assert_eq!(decode(b"A\xf1o;Acci\xf3n"), "Año;Acción");
    }

    use super::*;
    use crate::money::Cop;
    use proptest::prelude::*;

    #[test]
    fn formulas_are_defused_and_quoted() {
        let csv = write(
            &["nombre", "valor"],
            [
                vec![
                    Cell::text("=HYPERLINK(\"http://x\",\"y\")"),
                    Cell::from(Cop::pesos(5)),
                ],
                vec![Cell::text("+57 300"), Cell::number(-48_485)],
                vec![Cell::text("-1+1"), Cell::number("2.62")],
                vec![Cell::text("@SUM(A1)"), Cell::number("1e5")],
                vec![Cell::text("\tcmd"), Cell::text("\r=1")],
                vec![Cell::text("Datos, limpieza"), Cell::text("Dijo \"ya\"")],
                vec![Cell::text("Etiquetar"), Cell::empty()],
            ],
        );
        assert_eq!(
            csv,
            "nombre,valor\r\n\
             \"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",5\r\n\
             '+57 300,-48485\r\n\
             '-1+1,2.62\r\n\
             '@SUM(A1),1e5\r\n\
             '\tcmd,\"'\r=1\"\r\n\
             \"Datos, limpieza\",\"Dijo \"\"ya\"\"\"\r\n\
             Etiquetar,\r\n"
        );
    }

    #[test]
    fn only_plain_decimals_are_numbers() {
        for n in ["0", "48485", "-48485", "2.62", "-0.5"] {
            assert_eq!(Cell::number(n), Cell::Number(n.to_string()), "{n}");
        }
        for t in [
            "", "-", "1e5", "1.", ".5", "--1", "-1+1", "1,5", "=1", " 1", "١",
        ] {
            assert_eq!(Cell::number(t), Cell::Text(t.to_string()), "{t:?}");
        }
        // A number cell built by hand is still checked when written.
        assert_eq!(Cell::Number("=1+1".into()).written(), "'=1+1");
    }

    #[test]
    fn uploads_are_read_with_quotes_and_line_numbers() {
        let text =
            "reference,amount,status\r\n\"VRD,1\",48485,paid\n\nVRD2, 1000 ,failed,2026-01-02\n";
        let records = read(text).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[1].line, 2);
        assert_eq!(records[1].cells, vec!["VRD,1", "48485", "paid"]);
        assert_eq!(records[2].line, 4);
        assert_eq!(
            records[2].cells,
            vec!["VRD2", " 1000 ", "failed", "2026-01-02"]
        );
    }

    proptest! {
        /// Whatever a person types, the written cell never starts a formula, and reading the
        /// file back gives the cell with only the defusing quote added.
        #[test]
        fn no_text_cell_starts_a_formula(s in "\\PC{0,12}", lead in prop::sample::select(vec!["", "=", "+", "-", "@", "\t", "\r"])) {
            let text = format!("{lead}{s}");
            let csv = write(&["x"], [vec![Cell::text(text.clone())]]);
            let back = read(&csv).unwrap();
            let cell = &back[1].cells[0];
            prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{:?}", cell);
            let expected = defuse(&text).into_owned();
            prop_assert_eq!(cell, &expected);
        }

        #[test]
        fn amounts_stay_numbers(n in -1_000_000_000i64..1_000_000_000) {
            let csv = write(&["valor"], [vec![Cell::from(Cop::pesos(n))]]);
            prop_assert_eq!(csv, format!("valor\r\n{n}\r\n"));
        }
    }
}
