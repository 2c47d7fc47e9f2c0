-- Documentos soporte by ISO week (issue 19 §1): one per worker and week (Monday to Sunday,
-- Bogotá) with purchases, issued the following Monday; `month` is then the month the week ends
-- in, whose statement lists it. Monthly documents issued before stay as they were (week NULL).
-- A document numbered under a recorded DIAN resolution names it. Keep in step with
-- migrations/postgres/0027_weekly_support_documents.sql.
ALTER TABLE support_documents ADD COLUMN week_start TEXT;      -- YYYY-MM-DD, a Monday
ALTER TABLE support_documents ADD COLUMN week_end TEXT;        -- YYYY-MM-DD, its Sunday
ALTER TABLE support_documents ADD COLUMN resolution_id TEXT REFERENCES numbering_resolutions(id);
DROP INDEX support_documents_one_per_worker_month;
CREATE UNIQUE INDEX support_documents_one_per_worker_month ON support_documents (worker_id, month)
    WHERE kind = 'document' AND week_start IS NULL;
CREATE UNIQUE INDEX support_documents_one_per_worker_week ON support_documents (worker_id, week_start)
    WHERE kind = 'document' AND week_start IS NOT NULL;
CREATE INDEX support_documents_by_worker_week ON support_documents (worker_id, week_start);

-- What a weekly document (or nota de ajuste) said, line by line, written with it: its
-- electronic version is made from these, never from the accruals as they are later.
CREATE TABLE support_document_lines (
    support_document_id TEXT NOT NULL REFERENCES support_documents(id),
    line                INTEGER NOT NULL,
    description         TEXT NOT NULL,
    amount              INTEGER NOT NULL,
    first_day           TEXT NOT NULL,          -- YYYY-MM-DD, Bogotá
    PRIMARY KEY (support_document_id, line)
);
