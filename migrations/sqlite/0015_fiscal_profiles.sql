-- A worker's fiscal profile and her monthly PILA payments (issue 20 §2). The profile is kept
-- as its history: every change is a row, the newest is in force. Keep in step with
-- migrations/postgres/0015_fiscal_profiles.sql.

CREATE TABLE fiscal_profiles (
    id                  TEXT PRIMARY KEY,               -- UUIDv7: newest last
    worker_id           TEXT NOT NULL REFERENCES worker_profiles(id),
    concept             TEXT NOT NULL CHECK (concept IN ('services', 'honorarios')),
    declarante          INTEGER NOT NULL,
    -- The Bogotá date she signed the statement of having hired fewer than two workers
    -- (art. 383 par. 2); NULL without one.
    statement_signed_on TEXT,
    arl_class           INTEGER CHECK (arl_class IS NULL OR arl_class BETWEEN 1 AND 5),
    changed_by          TEXT NOT NULL REFERENCES users(id),
    changed_at          INTEGER NOT NULL
);
CREATE INDEX fiscal_profiles_by_worker ON fiscal_profiles (worker_id, id);

-- What she declared paying through PILA for a month (centavos, as every amount); the latest
-- declaration for the month stands.
CREATE TABLE social_security_payments (
    worker_id   TEXT NOT NULL REFERENCES worker_profiles(id),
    month       TEXT NOT NULL,                          -- YYYY-MM, Bogotá
    planilla    TEXT NOT NULL,
    health      INTEGER NOT NULL CHECK (health >= 0),
    pension     INTEGER NOT NULL CHECK (pension >= 0),
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (worker_id, month)
);
