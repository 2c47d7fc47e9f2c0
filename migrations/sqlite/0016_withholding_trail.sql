-- What each payout line withheld under, the notices a batch gave (4×1000 and PILA, issue 20
-- §4–5) and the yearly certificates of income and withholding (§6). Keep in step with
-- migrations/postgres/0016_withholding_trail.sql.

-- The concept (services, honorarios) and the rule (art383, rate, below_base) of the line's
-- withholding; NULL on lines from before it was worked out per month (a flat rate, services).
ALTER TABLE payout_lines ADD COLUMN concept TEXT;
ALTER TABLE payout_lines ADD COLUMN withholding_rule TEXT;

-- What a batch told finance and the worker about her: a line held or flagged, and why, in
-- Spanish. One per batch, worker and kind; the e-mail sweep tells her once.
CREATE TABLE payout_notices (
    id          TEXT PRIMARY KEY,
    batch_id    TEXT NOT NULL REFERENCES payout_batches(id),
    worker_id   TEXT NOT NULL REFERENCES worker_profiles(id),
    code        TEXT NOT NULL,
    held        INTEGER NOT NULL,       -- 0 or 1
    message     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (batch_id, worker_id, code)
);
CREATE INDEX payout_notices_by_time ON payout_notices (created_at);

-- A worker's certificate of income and withholdings for a year, in versions like statements:
-- a new version only when the figures changed; the code lets anyone shown it check it.
CREATE TABLE withholding_certificates (
    id                  TEXT PRIMARY KEY,
    worker_id           TEXT NOT NULL REFERENCES worker_profiles(id),
    year                INTEGER NOT NULL,
    version             INTEGER NOT NULL CHECK (version > 0),
    figures             TEXT NOT NULL,          -- JSON, contracts::certificates::Certificate
    paid                INTEGER NOT NULL,
    withheld            INTEGER NOT NULL,
    verification_code   TEXT NOT NULL UNIQUE,
    generated_at        INTEGER NOT NULL,
    -- The name and cédula printed on it, as they were then.
    worker_name         TEXT NOT NULL,
    worker_document     TEXT,
    UNIQUE (worker_id, year, version)
);
CREATE INDEX withholding_certificates_by_time ON withholding_certificates (generated_at);

-- Certificates are fixed documents too: their PDF is stored when the version is made. SQLite
-- cannot alter a CHECK: the table is made again with the wider one.
CREATE TABLE document_files_new (
    subject_id      TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note', 'withholding_certificate')),
    filename        TEXT NOT NULL,
    bytes           BLOB NOT NULL,
    sha256          TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
INSERT INTO document_files_new SELECT subject_id, kind, filename, bytes, sha256, created_at FROM document_files;
DROP TABLE document_files;
ALTER TABLE document_files_new RENAME TO document_files;
