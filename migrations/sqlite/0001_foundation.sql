-- Foundation: organisations, people, sign-in. Timestamps are Unix seconds (UTC); ids are
-- UUIDv7 text (time-ordered). Keep in step with migrations/postgres/0001_foundation.sql.

CREATE TABLE companies (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    nit             TEXT NOT NULL UNIQUE,
    billing_email   TEXT NOT NULL,
    billing_cycle   TEXT NOT NULL DEFAULT 'monthly' CHECK (billing_cycle IN ('monthly', 'weekly')),
    margin_bp       INTEGER CHECK (margin_bp IS NULL OR (margin_bp >= 0 AND margin_bp < 10000)),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Named worker_profiles, not workers: apalis-sqlite owns a table `Workers`, and SQLite table
-- names ignore case.
CREATE TABLE worker_profiles (
    id                  TEXT PRIMARY KEY,
    document_id         TEXT,
    municipality        TEXT NOT NULL,
    department          TEXT NOT NULL,
    phone               TEXT,
    payout_method       TEXT NOT NULL,   -- JSON, see api::workers::PayoutMethod
    programme_group     TEXT CHECK (programme_group IS NULL OR programme_group IN ('youth', 'woman_head_of_household', 'conflict_victim')),
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE worker_skills (
    worker_id   TEXT NOT NULL REFERENCES worker_profiles(id),
    skill       TEXT NOT NULL,
    PRIMARY KEY (worker_id, skill)
);
CREATE INDEX worker_skills_by_skill ON worker_skills (skill);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'finance', 'company', 'worker')),
    company_id      TEXT REFERENCES companies(id),
    member_role     TEXT CHECK (member_role IS NULL OR member_role IN ('owner', 'reviewer')),
    worker_id       TEXT UNIQUE REFERENCES worker_profiles(id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK ((role = 'company') = (company_id IS NOT NULL AND member_role IS NOT NULL)),
    CHECK ((role = 'worker') = (worker_id IS NOT NULL))
);
CREATE INDEX users_by_company ON users (company_id);
CREATE INDEX users_by_role ON users (role);

-- Bearer tokens, stored only as SHA-256 of the token.
CREATE TABLE auth_tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX auth_tokens_by_user ON auth_tokens (user_id);
CREATE INDEX auth_tokens_by_expiry ON auth_tokens (expires_at);

-- Failed sign-ins per e-mail (hashed, whether or not the account exists).
CREATE TABLE login_throttle (
    email_hash      TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    window_start    INTEGER NOT NULL,
    locked_until    INTEGER
);
