-- Task batches (issue 17): tasks made from one template and one spreadsheet, published and
-- cancelled together. Each task keeps the row it came from (its line and values, in the
-- header's order) so the results file can repeat the inputs beside the work done.
-- Keep in step with migrations/postgres/0013_task_batches.sql.

CREATE TABLE task_batches (
    id            TEXT PRIMARY KEY,
    company_id    TEXT NOT NULL REFERENCES companies(id),
    created_by    TEXT NOT NULL REFERENCES users(id),
    title         TEXT NOT NULL,            -- the template's, placeholders unexpanded
    columns       TEXT NOT NULL,            -- JSON array of the header's column names
    task_count    INTEGER NOT NULL CHECK (task_count > 0),
    status        TEXT NOT NULL CHECK (status IN ('draft', 'open', 'cancelled')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    published_at  INTEGER,
    cancelled_at  INTEGER
);
CREATE INDEX task_batches_by_company ON task_batches (company_id, id);

ALTER TABLE tasks ADD COLUMN batch_id TEXT REFERENCES task_batches(id);
ALTER TABLE tasks ADD COLUMN batch_line INTEGER;
ALTER TABLE tasks ADD COLUMN batch_inputs TEXT;  -- JSON array of the row's values
CREATE INDEX tasks_by_batch ON tasks (batch_id, batch_line);
