-- Money: the double-entry ledger, accruals, invoices (gapless numbers), company payments,
-- payout batches and bank confirmations, and the people-visible record of background runs.
-- Amounts are integer centavos. Every money effect has a unique key (DESIGN §2).
-- Keep in step with migrations/sqlite/0004_money.sql.

-- One journal entry per effect; `effect_key` makes a second delivery a no-op.
CREATE TABLE ledger_entries (
    id              TEXT PRIMARY KEY,
    effect_key      TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    description     TEXT NOT NULL,
    posted_at       BIGINT NOT NULL
);

CREATE TABLE ledger_postings (
    id              TEXT PRIMARY KEY,
    entry_id        TEXT NOT NULL REFERENCES ledger_entries(id),
    account         TEXT NOT NULL,
    debit           BIGINT NOT NULL CHECK (debit >= 0),
    credit          BIGINT NOT NULL CHECK (credit >= 0),
    posted_at       BIGINT NOT NULL,
    CHECK ((debit = 0) <> (credit = 0))
);
CREATE INDEX ledger_postings_by_account ON ledger_postings (account, posted_at, id);
CREATE INDEX ledger_postings_by_entry ON ledger_postings (entry_id);

-- What an approved assignment earned and costs; one row per assignment, ever.
CREATE TABLE accruals (
    assignment_id   TEXT PRIMARY KEY REFERENCES assignments(id),
    company_id      TEXT NOT NULL REFERENCES companies(id),
    worker_id       TEXT NOT NULL REFERENCES worker_profiles(id),
    task_title      TEXT NOT NULL,
    pricing_kind    TEXT NOT NULL,
    seconds         BIGINT NOT NULL,
    rate            BIGINT,
    work            BIGINT NOT NULL,
    fee             BIGINT NOT NULL,
    margin_bp       BIGINT NOT NULL,
    approved_at     BIGINT NOT NULL,
    accrued_at      BIGINT NOT NULL,
    invoice_id      TEXT
);
CREATE INDEX accruals_uninvoiced ON accruals (company_id, invoice_id, approved_at);
CREATE INDEX accruals_by_worker ON accruals (worker_id, approved_at);

-- Invoice numbers come from this counter, incremented in the invoice's own transaction, so
-- a failed run rolls its number back and numbers never skip.
CREATE TABLE document_counters (
    name        TEXT PRIMARY KEY,
    last_value  BIGINT NOT NULL
);
INSERT INTO document_counters (name, last_value) VALUES ('invoice', 0), ('credit_note', 0);

CREATE TABLE invoices (
    id              TEXT PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,
    seq             BIGINT NOT NULL UNIQUE,
    company_id      TEXT NOT NULL REFERENCES companies(id),
    period_end      TEXT NOT NULL,          -- YYYY-MM-DD, a Bogotá date
    work            BIGINT NOT NULL,
    fee             BIGINT NOT NULL,
    vat             BIGINT NOT NULL,
    total           BIGINT NOT NULL,
    vat_rate        TEXT NOT NULL,
    paid            BIGINT NOT NULL DEFAULT 0,
    credited        BIGINT NOT NULL DEFAULT 0,
    status          TEXT NOT NULL CHECK (status IN ('issued', 'partially_paid', 'paid', 'void')),
    issued_at       BIGINT NOT NULL,
    due_at          BIGINT NOT NULL,
    UNIQUE (company_id, period_end)
);
CREATE INDEX invoices_by_company ON invoices (company_id, id);
CREATE INDEX invoices_by_status ON invoices (status, due_at);

CREATE TABLE invoice_lines (
    invoice_id      TEXT NOT NULL REFERENCES invoices(id),
    assignment_id   TEXT NOT NULL UNIQUE REFERENCES assignments(id),
    task_title      TEXT NOT NULL,
    worker_id       TEXT NOT NULL,
    seconds         BIGINT NOT NULL,
    rate            BIGINT,
    work            BIGINT NOT NULL,
    fee             BIGINT NOT NULL,
    PRIMARY KEY (invoice_id, assignment_id)
);

-- A credit note is requested by finance (number NULL) and issued by the worker, which
-- numbers it from its own counter and posts the reversal.
CREATE TABLE credit_notes (
    id              TEXT PRIMARY KEY,
    number          TEXT UNIQUE,
    invoice_id      TEXT NOT NULL REFERENCES invoices(id),
    reason          TEXT NOT NULL,
    work            BIGINT NOT NULL CHECK (work >= 0),
    fee             BIGINT NOT NULL CHECK (fee >= 0),
    vat             BIGINT NOT NULL,
    total           BIGINT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('requested', 'issued')),
    requested_by    TEXT NOT NULL REFERENCES users(id),
    requested_at    BIGINT NOT NULL,
    issued_at       BIGINT
);
CREATE INDEX credit_notes_by_invoice ON credit_notes (invoice_id);

CREATE TABLE payments (
    id              TEXT PRIMARY KEY,
    invoice_id      TEXT NOT NULL REFERENCES invoices(id),
    amount          BIGINT NOT NULL CHECK (amount > 0),
    paid_at         BIGINT NOT NULL,
    reference       TEXT NOT NULL,
    recorded_by     TEXT NOT NULL REFERENCES users(id),
    created_at      BIGINT NOT NULL
);
CREATE INDEX payments_by_invoice ON payments (invoice_id);

CREATE TABLE payout_batches (
    id              TEXT PRIMARY KEY,
    status          TEXT NOT NULL CHECK (status IN ('building', 'ready', 'settled')),
    total           BIGINT NOT NULL DEFAULT 0,
    created_by      TEXT NOT NULL REFERENCES users(id),
    created_at      BIGINT NOT NULL,
    built_at        BIGINT
);

CREATE TABLE payout_lines (
    id              TEXT PRIMARY KEY,
    batch_id        TEXT NOT NULL REFERENCES payout_batches(id),
    worker_id       TEXT NOT NULL REFERENCES worker_profiles(id),
    amount          BIGINT NOT NULL CHECK (amount > 0),
    withholding     BIGINT NOT NULL DEFAULT 0,
    method          TEXT NOT NULL,          -- JSON, the worker's payout method when batched
    reference       TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'failed')),
    settled_at      BIGINT,
    created_at      BIGINT NOT NULL,
    UNIQUE (batch_id, worker_id)
);
-- A worker's money is never in two open lines at once.
CREATE UNIQUE INDEX payout_lines_one_pending_per_worker ON payout_lines (worker_id) WHERE status = 'pending';

CREATE TABLE bank_confirmations (
    id              TEXT PRIMARY KEY,
    batch_id        TEXT NOT NULL REFERENCES payout_batches(id),
    body            TEXT NOT NULL,
    uploaded_by     TEXT NOT NULL REFERENCES users(id),
    uploaded_at     BIGINT NOT NULL,
    result          TEXT                    -- JSON, once applied
);

-- Background runs people started, so they can follow them (GET /v1/jobs/{id}).
CREATE TABLE job_requests (
    job_id          TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    requested_by    TEXT NOT NULL REFERENCES users(id),
    subject_id      TEXT,
    progress_done   BIGINT,
    progress_total  BIGINT,
    created_at      BIGINT NOT NULL
);
