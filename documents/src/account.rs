//! A company's statement of account: its invoices with what was paid and credited on each,
//! the payments (with their bank references and who recorded them) and the credit notes, and
//! the balance due. This is where an invoice's status and balance live; the invoice itself is
//! a fixed document. Read live, as of the moment it is asked for.

use vereda_contracts::money::Cop;
use vereda_contracts::money_states::{CreditNoteStatus, InvoiceStatus, PaymentStatus};
use vereda_contracts::statements::date_es;

use super::pdf::{self, BODY, Document, LEFT, RIGHT, SMALL, STRONG, Style, TITLE};
use super::{Issuer, bogota_date, section};

/// One payment recorded on an invoice.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PaymentRecord {
    pub id: String,
    pub invoice_id: String,
    pub invoice_number: String,
    pub amount: i64,
    pub paid_at: i64,
    pub reference: String,
    pub recorded_by: String,
    pub recorded_by_name: String,
    pub recorded_at: i64,
    pub posted_at: Option<i64>,
    pub reversal_reason: Option<String>,
    pub reversal_requested_at: Option<i64>,
    pub reversal_posted_at: Option<i64>,
}

impl PaymentRecord {
    /// `recorded` (not yet in the ledger), `posted`, `reversal_requested` or `reversed`.
    pub fn status(&self) -> PaymentStatus {
        PaymentStatus::of(
            self.posted_at,
            self.reversal_requested_at,
            self.reversal_posted_at,
        )
    }

    pub fn amount(&self) -> Cop {
        Cop::from_centavos(self.amount)
    }
}

fn payment_status_es(status: PaymentStatus) -> &'static str {
    match status {
        PaymentStatus::Reversed => "reversado",
        PaymentStatus::ReversalRequested => "en reversión",
        PaymentStatus::Posted => "aplicado",
        PaymentStatus::Recorded => "registrado",
    }
}

/// One invoice on the statement: as billed, and what was paid and credited (posted).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountInvoice {
    pub id: String,
    pub number: String,
    pub issued_at: i64,
    pub due_at: i64,
    pub total: i64,
    pub paid: i64,
    pub credited: i64,
    pub status: String,
}

impl AccountInvoice {
    pub fn outstanding(&self) -> Cop {
        vereda_contracts::receivable::balance_due(
            Cop::from_centavos(self.total),
            Cop::from_centavos(self.paid),
            Cop::from_centavos(self.credited),
        )
    }

    pub fn overdue(&self, now: i64) -> bool {
        self.due_at < now && self.outstanding() > Cop::ZERO
    }
}

/// An issued or requested credit note on one of the company's invoices.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountNote {
    pub id: String,
    pub invoice_id: String,
    pub invoice_number: String,
    pub number: Option<String>,
    pub reason: String,
    pub total: i64,
    pub status: String,
    pub issued_at: Option<i64>,
}

/// A company's statement of account at `as_of`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStatement {
    pub company_id: String,
    pub company_name: String,
    pub nit: String,
    pub as_of: i64,
    pub invoices: Vec<AccountInvoice>,
    pub payments: Vec<PaymentRecord>,
    pub credit_notes: Vec<AccountNote>,
}

impl AccountStatement {
    pub fn invoiced(&self) -> Cop {
        self.invoices
            .iter()
            .map(|i| Cop::from_centavos(i.total))
            .sum()
    }
    pub fn paid(&self) -> Cop {
        self.invoices
            .iter()
            .map(|i| Cop::from_centavos(i.paid))
            .sum()
    }
    pub fn credited(&self) -> Cop {
        self.invoices
            .iter()
            .map(|i| Cop::from_centavos(i.credited))
            .sum()
    }
    /// What the company owes now (never hidden when negative).
    pub fn balance_due(&self) -> Cop {
        self.invoices.iter().map(AccountInvoice::outstanding).sum()
    }
    pub fn overdue(&self) -> Cop {
        self.invoices
            .iter()
            .filter(|i| i.overdue(self.as_of))
            .map(AccountInvoice::outstanding)
            .sum()
    }
}

/// `03/12/2026` (Bogotá): short enough for a table column.
fn short_date(unix: i64) -> String {
    bogota_date(unix).format("%d/%m/%Y").to_string()
}

fn invoice_status_es(i: &AccountInvoice, now: i64) -> &'static str {
    if i.overdue(now) {
        return "vencida";
    }
    match InvoiceStatus::parse(&i.status) {
        Some(InvoiceStatus::PartiallyPaid) => "pagada parcialmente",
        Some(InvoiceStatus::Paid) => "pagada",
        Some(InvoiceStatus::Void) => "anulada",
        Some(InvoiceStatus::Issued) | None => "por pagar",
    }
}

/// The statement of account as a PDF, in Spanish.
pub fn account_statement_pdf(issuer: &Issuer, s: &AccountStatement) -> Vec<u8> {
    let pesos = |c: i64| Cop::from_centavos(c).to_es_co();
    let mut doc = Document::new(&format!("Estado de cuenta {}", s.company_name));
    doc.line(LEFT, TITLE, "Estado de cuenta");
    doc.line(
        LEFT,
        BODY,
        &format!("Emisor: {} · NIT {}", issuer.name, issuer.nit),
    );
    doc.line(
        LEFT,
        BODY,
        &format!("Cliente: {} · NIT {}", s.company_name, s.nit),
    );
    doc.line(
        LEFT,
        BODY,
        &format!("Fecha de corte: {}", date_es(bogota_date(s.as_of))),
    );

    section(&mut doc, "Resumen");
    doc.pair(BODY, "Facturado", &s.invoiced().to_es_co());
    doc.pair(BODY, "Notas crédito", &s.credited().to_es_co());
    doc.pair(BODY, "Pagos recibidos", &s.paid().to_es_co());
    doc.pair(STRONG, "Saldo por pagar", &s.balance_due().to_es_co());
    doc.pair(BODY, "Del saldo, vencido", &s.overdue().to_es_co());

    let cols = |cells: [&str; 6], style: Style, doc: &mut Document| {
        doc.row(
            style,
            &[
                (LEFT, cells[0], false),
                (150.0, cells[1], false),
                (215.0, cells[2], false),
                (345.0, cells[3], true),
                (430.0, cells[4], true),
                (445.0, cells[5], false),
            ],
        );
    };
    section(&mut doc, "Facturas");
    if s.invoices.is_empty() {
        doc.line(LEFT, BODY, "Sin facturas.");
    } else {
        cols(
            ["Factura", "Emitida", "Vence", "Total", "Saldo", "Estado"],
            STRONG,
            &mut doc,
        );
        for i in &s.invoices {
            let (issued, due, total, owed) = (
                short_date(i.issued_at),
                short_date(i.due_at),
                pesos(i.total),
                i.outstanding().to_es_co(),
            );
            let status = invoice_status_es(i, s.as_of);
            cols(
                [&i.number, &issued, &due, &total, &owed, status],
                BODY,
                &mut doc,
            );
        }
    }

    section(&mut doc, "Pagos");
    if s.payments.is_empty() {
        doc.line(LEFT, BODY, "Sin pagos registrados.");
    } else {
        cols(
            ["Fecha", "Factura", "Referencia", "", "Valor", "Estado"],
            STRONG,
            &mut doc,
        );
        for p in &s.payments {
            let (date, reference, amount) = (
                short_date(p.paid_at),
                pdf::fit(&p.reference, BODY, 150.0),
                p.amount().to_es_co(),
            );
            let status = payment_status_es(p.status());
            cols(
                [&date, &p.invoice_number, &reference, "", &amount, status],
                BODY,
                &mut doc,
            );
        }
    }

    section(&mut doc, "Notas crédito");
    let issued: Vec<&AccountNote> = s
        .credit_notes
        .iter()
        .filter(|n| CreditNoteStatus::parse(&n.status) == Some(CreditNoteStatus::Issued))
        .collect();
    if issued.is_empty() {
        doc.line(LEFT, BODY, "Sin notas crédito.");
    } else {
        cols(
            ["Número", "Fecha", "Factura", "", "Valor", "Motivo"],
            STRONG,
            &mut doc,
        );
        for n in issued {
            let (number, date, total, reason) = (
                n.number.clone().unwrap_or_default(),
                n.issued_at.map(short_date).unwrap_or_default(),
                pesos(n.total),
                #[allow(clippy::float_arithmetic)] // a column width in points
                pdf::fit(&n.reason, BODY, RIGHT - 445.0),
            );
            cols(
                [&number, &date, &n.invoice_number, "", &total, &reason],
                BODY,
                &mut doc,
            );
        }
    }
    doc.space(8.0);
    doc.paragraph(
        LEFT,
        SMALL,
        "Las facturas y las notas crédito no cambian después de emitidas; este estado de cuenta \
         muestra lo pagado, lo acreditado y el saldo a la fecha de corte. Al pagar por \
         transferencia, indique el número de la factura.",
    );
    doc.finish()
}
