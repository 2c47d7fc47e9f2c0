-- Issue 13 §7 and issue 14 §10. Keep in step with migrations/sqlite/0010_audit_and_printed_names.sql.

-- A statement version prints the worker's name and cédula as they were when it was made;
-- verifying it (a bank clerk with the paper) must confirm those, not today's. Versions made
-- before this migration take the name and cédula the worker has now: the best there is.
ALTER TABLE statements ADD COLUMN worker_name TEXT;
ALTER TABLE statements ADD COLUMN worker_document TEXT;
UPDATE statements SET
    worker_name = (SELECT u.name FROM users u WHERE u.worker_id = statements.worker_id),
    worker_document = (SELECT w.document_id FROM worker_profiles w WHERE w.id = statements.worker_id);

-- The daily ledger audit's results (worker/src/audit.rs): when it ran, whether every check
-- held, and the checks as JSON.
CREATE TABLE ledger_audits (
    id          TEXT PRIMARY KEY,
    ran_at      BIGINT NOT NULL,
    ok          BOOLEAN NOT NULL,
    checks      TEXT NOT NULL
);
CREATE INDEX ledger_audits_by_time ON ledger_audits (ran_at);
