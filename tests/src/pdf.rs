//! Reading PDFs the way a person would: by their text, with poppler's `pdftotext` (installed
//! by `.ci/run`). Without it the text checks are skipped with a note, so `cargo test` still
//! needs nothing but Rust.

use std::process::Command;

/// The text of a PDF, or `None` (with a note) when `pdftotext` is not installed.
pub fn pdf_text(pdf: &[u8]) -> Option<String> {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).expect("write PDF");
    match Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) => {
            assert!(
                out.status.success(),
                "pdftotext failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8(out.stdout).expect("pdftotext writes UTF-8"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("note: pdftotext is not installed; skipping the PDF text checks");
            None
        }
        Err(e) => panic!("running pdftotext: {e}"),
    }
}
