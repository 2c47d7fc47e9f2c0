-- An overturned cut (issue 21 §2: the platform restores hours a company cut) is paid as a
-- second accrual of the same assignment, part 1 beside the approval's part 0, with its own
-- ledger entry and invoice line. SQLite cannot change a primary key in place: the two tables
-- are rebuilt (nothing references them).
CREATE TABLE accruals_parts (
    assignment_id   TEXT NOT NULL REFERENCES assignments(id),
    part            INTEGER NOT NULL DEFAULT 0,
    company_id      TEXT NOT NULL REFERENCES companies(id),
    worker_id       TEXT NOT NULL REFERENCES worker_profiles(id),
    task_title      TEXT NOT NULL,
    pricing_kind    TEXT NOT NULL,
    seconds         INTEGER NOT NULL,
    rate            INTEGER,
    work            INTEGER NOT NULL,
    fee             INTEGER NOT NULL,
    margin_bp       INTEGER NOT NULL,
    approved_at     INTEGER NOT NULL,
    accrued_at      INTEGER NOT NULL,
    invoice_id      TEXT,
    PRIMARY KEY (assignment_id, part)
);
INSERT INTO accruals_parts (assignment_id, part, company_id, worker_id, task_title, pricing_kind,
    seconds, rate, work, fee, margin_bp, approved_at, accrued_at, invoice_id)
SELECT assignment_id, 0, company_id, worker_id, task_title, pricing_kind, seconds, rate, work,
    fee, margin_bp, approved_at, accrued_at, invoice_id FROM accruals;
DROP TABLE accruals;
ALTER TABLE accruals_parts RENAME TO accruals;
CREATE INDEX accruals_uninvoiced ON accruals (company_id, invoice_id, approved_at);
CREATE INDEX accruals_by_worker ON accruals (worker_id, approved_at);
CREATE INDEX accruals_by_approval ON accruals (approved_at, worker_id);

CREATE TABLE invoice_lines_parts (
    invoice_id      TEXT NOT NULL REFERENCES invoices(id),
    assignment_id   TEXT NOT NULL REFERENCES assignments(id),
    part            INTEGER NOT NULL DEFAULT 0,
    task_title      TEXT NOT NULL,
    worker_id       TEXT NOT NULL,
    seconds         INTEGER NOT NULL,
    rate            INTEGER,
    work            INTEGER NOT NULL,
    fee             INTEGER NOT NULL,
    PRIMARY KEY (invoice_id, assignment_id, part),
    UNIQUE (assignment_id, part)
);
INSERT INTO invoice_lines_parts (invoice_id, assignment_id, part, task_title, worker_id, seconds,
    rate, work, fee)
SELECT invoice_id, assignment_id, 0, task_title, worker_id, seconds, rate, work, fee
FROM invoice_lines;
DROP TABLE invoice_lines;
ALTER TABLE invoice_lines_parts RENAME TO invoice_lines;
