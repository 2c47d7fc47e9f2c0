-- A worker's requests about her data (issue 22 §3; Ley 1581 arts. 14–15): a consulta (a copy)
-- or a reclamo (a correction), answered in writing by staff within business days, extended at
-- most once with a reason.
CREATE TABLE data_requests (
    id                  TEXT PRIMARY KEY,
    worker_id           TEXT NOT NULL REFERENCES worker_profiles(id),
    kind                TEXT NOT NULL CHECK (kind IN ('copy', 'correction')),
    detail              TEXT,
    filed_by            TEXT NOT NULL REFERENCES users(id),
    filed_at            BIGINT NOT NULL,
    due_at              BIGINT NOT NULL,
    extended_at         BIGINT,
    extended_by         TEXT REFERENCES users(id),
    extension_reason    TEXT,
    answered_at         BIGINT,
    answered_by         TEXT REFERENCES users(id),
    answer              TEXT
);
CREATE INDEX data_requests_by_worker ON data_requests (worker_id, id);
CREATE INDEX data_requests_open ON data_requests (answered_at, due_at);
