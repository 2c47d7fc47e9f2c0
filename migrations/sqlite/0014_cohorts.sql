-- Cohorts (issue 18 §1): a worker's place is checked against DANE's DIVIPOLA and stored with
-- its codes; the same payout destination on two workers is flagged to staff (`payout_key`,
-- see contracts::profiles::Payout::duplicate_key); skills come from a catalogue staff keep.
-- Existing rows get their codes and payout key from a step in Rust right after this
-- migration (store::backfill: DIVIPOLA is data, not SQL); names that match no place keep
-- NULL codes. Keep in step with migrations/postgres/0014_cohorts.sql.

ALTER TABLE worker_profiles ADD COLUMN department_code TEXT;    -- DANE, 2 digits
ALTER TABLE worker_profiles ADD COLUMN municipality_code TEXT;  -- DANE, 5 digits
ALTER TABLE worker_profiles ADD COLUMN payout_key TEXT;         -- where the money lands
CREATE INDEX worker_profiles_by_municipality ON worker_profiles (municipality_code);
CREATE INDEX worker_profiles_by_payout_key ON worker_profiles (payout_key);

-- The skills catalogue. A skill retired (`active` 0) stays on the workers and tasks that
-- have it, and is refused on new ones.
CREATE TABLE skills (
    name        TEXT PRIMARY KEY,                  -- the tag, e.g. data-entry
    label       TEXT NOT NULL,                     -- Spanish, for people
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- The skills in use when the catalogue began (the task categories, and those the programme
-- recorded).
INSERT INTO skills (name, label, active, created_at, updated_at) VALUES
    ('content-moderation', 'Moderación de contenido', 1, 1796083200, 1796083200),
    ('customer-support', 'Atención al cliente', 1, 1796083200, 1796083200),
    ('data-cleaning', 'Limpieza de datos', 1, 1796083200, 1796083200),
    ('data-entry', 'Digitación de datos', 1, 1796083200, 1796083200),
    ('labelling', 'Etiquetado de datos', 1, 1796083200, 1796083200),
    ('qa-testing', 'Pruebas de software', 1, 1796083200, 1796083200),
    ('sql', 'Consultas SQL', 1, 1796083200, 1796083200),
    ('support', 'Soporte técnico', 1, 1796083200, 1796083200);

-- An account can be reactivated (issue 18 §1): its audit row is `reactivated`. SQLite cannot
-- change a CHECK in place, so the table is rebuilt as it was with the longer list (nothing
-- references it).
CREATE TABLE account_events_new (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL CHECK (kind IN ('deactivated', 'removed_from_company', 'signed_out_everywhere', 'payout_method_changed', 'reactivated')),
    actor_id    TEXT NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL
);
INSERT INTO account_events_new (id, user_id, kind, actor_id, created_at)
    SELECT id, user_id, kind, actor_id, created_at FROM account_events;
DROP TABLE account_events;
ALTER TABLE account_events_new RENAME TO account_events;
CREATE INDEX account_events_by_user ON account_events (user_id, id);
