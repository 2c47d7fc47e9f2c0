-- Statements and e-mail: monthly income statements (versioned), documentos soporte, the e-mail
-- outbox and people's mail preferences. Amounts are integer centavos.
-- Keep in step with migrations/sqlite/0005_statements_email.sql.

-- One row per version of a worker's statement for a Bogotá month. A rebuild with the same
-- figures adds nothing; changed figures add the next version, and old versions stay readable.
CREATE TABLE statements (
    id                  TEXT PRIMARY KEY,
    worker_id           TEXT NOT NULL REFERENCES worker_profiles(id),
    month               TEXT NOT NULL,          -- YYYY-MM
    version             BIGINT NOT NULL CHECK (version > 0),
    provisional         BOOLEAN NOT NULL,
    figures             TEXT NOT NULL,          -- JSON, contracts::statements::Statement
    gross               BIGINT NOT NULL,
    net                 BIGINT NOT NULL,
    verification_code   TEXT NOT NULL UNIQUE,
    generated_at        BIGINT NOT NULL,
    UNIQUE (worker_id, month, version)
);
CREATE INDEX statements_by_worker ON statements (worker_id, id);

-- Documentos soporte (DIAN Res. 000167/2021): one per worker and closed month with earnings,
-- numbered consecutively inside the authorised range; a later change of the month's earnings
-- is recorded as an adjustment (nota de ajuste) with its own numbering.
CREATE TABLE support_documents (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('document', 'adjustment')),
    number      TEXT NOT NULL UNIQUE,
    seq         BIGINT NOT NULL,
    worker_id   TEXT NOT NULL REFERENCES worker_profiles(id),
    month       TEXT NOT NULL,
    amount      BIGINT NOT NULL,
    issued_on   TEXT NOT NULL,                  -- YYYY-MM-DD, a Bogotá date
    issued_at   BIGINT NOT NULL,
    UNIQUE (kind, seq)
);
CREATE UNIQUE INDEX support_documents_one_per_worker_month ON support_documents (worker_id, month) WHERE kind = 'document';
CREATE INDEX support_documents_by_worker_month ON support_documents (worker_id, month);
CREATE INDEX support_documents_by_month ON support_documents (month, id);
INSERT INTO document_counters (name, last_value) VALUES ('support_document', 0), ('support_adjustment', 0);

-- Every e-mail, written in the transaction of the fact it tells of (or by the sweep that finds
-- the fact), sent by a job. `dedupe_key` names the fact and recipient, so a fact is mailed once;
-- the id is the Message-ID. A send claims the row first, so two runs never both send it.
CREATE TABLE outbox_messages (
    id                  TEXT PRIMARY KEY,
    dedupe_key          TEXT NOT NULL UNIQUE,
    kind                TEXT NOT NULL,
    recipient           TEXT NOT NULL,
    user_id             TEXT REFERENCES users(id),
    subject             TEXT NOT NULL,
    body_text           TEXT NOT NULL,
    body_html           TEXT NOT NULL,
    attachment_kind     TEXT CHECK (attachment_kind IS NULL OR attachment_kind IN ('statement', 'invoice')),
    attachment_id       TEXT,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts            BIGINT NOT NULL DEFAULT 0,
    next_attempt_at     BIGINT NOT NULL,
    lease_until         BIGINT,
    last_error          TEXT,
    created_at          BIGINT NOT NULL,
    sent_at             BIGINT
);
CREATE INDEX outbox_messages_due ON outbox_messages (status, next_attempt_at);
CREATE INDEX outbox_messages_by_status ON outbox_messages (status, id);

-- Whether a person wants mail that is not essential (reminders, marketplace news). No row:
-- they do. Statements, payouts and invoices are always sent.
CREATE TABLE email_preferences (
    user_id         TEXT PRIMARY KEY REFERENCES users(id),
    non_essential   BOOLEAN NOT NULL,
    updated_at      BIGINT NOT NULL
);
