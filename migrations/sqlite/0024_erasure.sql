-- Deletion of a worker's personal data (issue 22 §3; Ley 1581 art. 15, "supresión"): her
-- profile and account are anonymised in place (`anonymised_at`), while the accounting records
-- the law keeps for ten years (Ley 962 de 2005, art. 28) stay, readable by admins only, until
-- housekeeping's retention step removes their documents and payout details.
-- Keep in step with migrations/postgres/0024_erasure.sql.

-- When her personal data was deleted (NULL: never). The retention step reads only these rows.
ALTER TABLE worker_profiles ADD COLUMN anonymised_at INTEGER;
CREATE INDEX worker_profiles_anonymised ON worker_profiles (anonymised_at)
    WHERE anonymised_at IS NOT NULL;

-- A documento soporte names its supplier: her name and cédula as they were when her profile
-- was anonymised (NULL while she has a profile: read from it).
ALTER TABLE support_documents ADD COLUMN worker_name TEXT;
ALTER TABLE support_documents ADD COLUMN worker_document TEXT;

-- A request may be a deletion. SQLite cannot change a CHECK in place: the table is rebuilt
-- as it was with the longer list (nothing references it).
CREATE TABLE data_requests_new (
    id                  TEXT PRIMARY KEY,
    worker_id           TEXT NOT NULL REFERENCES worker_profiles(id),
    kind                TEXT NOT NULL CHECK (kind IN ('copy', 'correction', 'deletion')),
    detail              TEXT,
    filed_by            TEXT NOT NULL REFERENCES users(id),
    filed_at            INTEGER NOT NULL,
    due_at              INTEGER NOT NULL,
    extended_at         INTEGER,
    extended_by         TEXT REFERENCES users(id),
    extension_reason    TEXT,
    answered_at         INTEGER,
    answered_by         TEXT REFERENCES users(id),
    answer              TEXT
);
INSERT INTO data_requests_new (id, worker_id, kind, detail, filed_by, filed_at, due_at,
    extended_at, extended_by, extension_reason, answered_at, answered_by, answer)
SELECT id, worker_id, kind, detail, filed_by, filed_at, due_at, extended_at, extended_by,
    extension_reason, answered_at, answered_by, answer FROM data_requests;
DROP TABLE data_requests;
ALTER TABLE data_requests_new RENAME TO data_requests;
CREATE INDEX data_requests_by_worker ON data_requests (worker_id, id);
CREATE INDEX data_requests_open ON data_requests (answered_at, due_at);
