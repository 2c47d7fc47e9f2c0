-- Electronic documents (issue 19): each invoice, credit note and documento soporte issued
-- under DIAN's rules gets its UBL 2.1 XML, produced once, checked (totals re-added, code
-- recomputed, schema when xmllint is at hand), signed when a certificate is configured, and
-- never touched after. Its delivery to DIAN (through an authorised provider) moves it along
-- generated → signed → delivered → accepted | rejected, each step kept in
-- electronic_document_events. Keep in step with migrations/postgres/0026_electronic_documents.sql.
CREATE TABLE electronic_documents (
    subject_id      TEXT PRIMARY KEY,           -- the invoice's, credit note's or documento soporte's id
    kind            TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note', 'support_document', 'support_adjustment')),
    number          TEXT NOT NULL,
    code            TEXT NOT NULL,              -- CUFE, CUDE or CUDS
    issued_on       TEXT NOT NULL,              -- YYYY-MM-DD, the Bogotá day of issue
    xml             BLOB NOT NULL,
    sha256          TEXT NOT NULL,              -- hex of the XML bytes
    signed          INTEGER NOT NULL,
    schema_checked  INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('generated', 'signed', 'delivered', 'accepted', 'rejected')),
    state_reason    TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX electronic_documents_by_kind_number ON electronic_documents (kind, number);
CREATE INDEX electronic_documents_by_state ON electronic_documents (state, created_at);

CREATE TABLE electronic_document_events (
    subject_id      TEXT NOT NULL REFERENCES electronic_documents(subject_id),
    seq             INTEGER NOT NULL,
    state           TEXT NOT NULL,
    reason          TEXT,
    recorded_by     TEXT,                       -- the user who recorded a provider's answer
    at              INTEGER NOT NULL,
    PRIMARY KEY (subject_id, seq)
);
