-- DIAN numbering resolutions (issue 19 §3): each kind of electronic document is numbered in a
-- range DIAN authorised, with a prefix, between two dates. The newest recorded for a kind is
-- the one in use; an invoice keeps the resolution it was numbered under.
CREATE TABLE numbering_resolutions (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note', 'support_document', 'support_adjustment')),
    number          TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    range_from      INTEGER NOT NULL,
    range_to        INTEGER NOT NULL,
    valid_from      TEXT NOT NULL,           -- YYYY-MM-DD, Bogotá
    valid_until     TEXT NOT NULL,
    technical_key   TEXT,
    recorded_by     TEXT NOT NULL REFERENCES users(id),
    recorded_at     INTEGER NOT NULL
);
CREATE INDEX numbering_resolutions_by_kind ON numbering_resolutions (kind, recorded_at);

-- Each warning (80 % used, 30 days left) is sent once per resolution.
CREATE TABLE resolution_warnings (
    resolution_id   TEXT NOT NULL REFERENCES numbering_resolutions(id),
    kind            TEXT NOT NULL,
    sent_at         INTEGER NOT NULL,
    PRIMARY KEY (resolution_id, kind)
);

ALTER TABLE invoices ADD COLUMN resolution_id TEXT REFERENCES numbering_resolutions(id);
