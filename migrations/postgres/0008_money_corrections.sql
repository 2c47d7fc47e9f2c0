-- Money corrections (issues 13 and 14): payments posted and reversed, the customer as printed
-- on each invoice, fixed documents (invoice and credit-note PDFs with their SHA-256), and
-- e-mails that carry a fixed document.
-- Keep in step with migrations/sqlite/0008_money_corrections.sql.

-- When the ledger took a payment (NULL: recorded, not yet posted).
ALTER TABLE payments ADD COLUMN posted_at BIGINT;
UPDATE payments SET posted_at = (SELECT e.posted_at FROM ledger_entries e WHERE e.effect_key = 'payment:' || payments.id);

-- A payment reversed (a transfer recorded twice, returned or on the wrong invoice): requested
-- by finance with a reason, posted once by the payment's job as a reversing entry
-- (Dr receivable / Cr bank). The payment row itself is never edited or deleted.
CREATE TABLE payment_reversals (
    payment_id      TEXT PRIMARY KEY REFERENCES payments(id),
    reason          TEXT NOT NULL,
    requested_by    TEXT NOT NULL REFERENCES users(id),
    requested_at    BIGINT NOT NULL,
    posted_at       BIGINT
);

-- The customer as printed on the invoice when it was issued: a later change of the company's
-- name or NIT does not change an issued invoice. Invoices issued before are given today's.
ALTER TABLE invoices ADD COLUMN customer_name TEXT;
ALTER TABLE invoices ADD COLUMN customer_nit TEXT;
UPDATE invoices SET
    customer_name = (SELECT c.name FROM companies c WHERE c.id = invoices.company_id),
    customer_nit = (SELECT c.nit FROM companies c WHERE c.id = invoices.company_id);

-- Issued documents are fixed: rendered once, stored with their SHA-256, and every download
-- and e-mail carries these bytes. One row per invoice or credit note, written once.
CREATE TABLE document_files (
    subject_id      TEXT PRIMARY KEY,           -- the invoice's or the credit note's id
    kind            TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    filename        TEXT NOT NULL,
    bytes           BYTEA NOT NULL,
    sha256          TEXT NOT NULL,              -- hex of the bytes
    created_at      BIGINT NOT NULL
);

-- A message may carry a fixed document (its `document_files.subject_id`).
ALTER TABLE outbox_messages ADD COLUMN attachment_document TEXT;

-- The e-mail sweep looks for recently issued credit notes.
CREATE INDEX credit_notes_by_issue ON credit_notes (issued_at) WHERE status = 'issued';
