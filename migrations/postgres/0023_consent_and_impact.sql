-- Consent and impact (issue 22 §1–2). A worker's programme groups and the household income she
-- had before joining are held only under her consent for one purpose, aggregated impact
-- reports; consent is a ledger (given / withdrawn, policy version and text hash, channel, who
-- helped her). The impact report reads a new read-only role, `funder`. Keep in step with
-- migrations/sqlite/0023_consent_and_impact.sql (which must rebuild `users` to change its CHECK).

ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'finance', 'company', 'worker', 'funder'));

-- The groups staff keep. A retired group (`active` FALSE) stays on the workers who have it
-- and is refused on new answers.
CREATE TABLE programme_groups (
    code        TEXT PRIMARY KEY,
    label       TEXT NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
INSERT INTO programme_groups (code, label, active, created_at, updated_at) VALUES
    ('youth', 'Jóvenes', TRUE, 1796083200, 1796083200),
    ('woman_head_of_household', 'Mujer cabeza de hogar', TRUE, 1796083200, 1796083200),
    ('conflict_victim', 'Víctima del conflicto armado', TRUE, 1796083200, 1796083200);

-- The consent ledger: rows are only ever added. The latest row for a worker and purpose
-- says whether she consents now.
CREATE TABLE consents (
    id              TEXT PRIMARY KEY,
    worker_id       TEXT NOT NULL REFERENCES worker_profiles(id),
    purpose         TEXT NOT NULL CHECK (purpose IN ('impact_reports')),
    action          TEXT NOT NULL CHECK (action IN ('given', 'withdrawn')),
    policy_version  TEXT NOT NULL,
    text_hash       TEXT NOT NULL,      -- sha256 of the text she was shown, hex
    channel         TEXT NOT NULL CHECK (channel IN ('app', 'assisted')),
    helped_by       TEXT REFERENCES users(id),
    at              BIGINT NOT NULL,
    CHECK ((channel = 'assisted') = (helped_by IS NOT NULL))
);
CREATE INDEX consents_by_worker ON consents (worker_id, purpose, at);

-- What she chose to give under that consent; deleted when she withdraws it.
CREATE TABLE worker_groups (
    worker_id   TEXT NOT NULL REFERENCES worker_profiles(id),
    group_code  TEXT NOT NULL REFERENCES programme_groups(code),
    PRIMARY KEY (worker_id, group_code)
);
CREATE INDEX worker_groups_by_group ON worker_groups (group_code);

CREATE TABLE worker_baselines (
    worker_id       TEXT PRIMARY KEY REFERENCES worker_profiles(id),
    monthly_income  TEXT NOT NULL,      -- pesos, whole, as the household earned before joining
    updated_at      BIGINT NOT NULL
);

-- The single group staff recorded at enrolment moves to the new table. No consent row is
-- invented for it: until she consents in the app it counts in no report.
INSERT INTO worker_groups (worker_id, group_code)
    SELECT id, programme_group FROM worker_profiles WHERE programme_group IS NOT NULL;
ALTER TABLE worker_profiles DROP COLUMN programme_group;
