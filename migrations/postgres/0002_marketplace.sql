-- Marketplace: tasks, assignments (claims) with their history, notification events,
-- idempotent retries, and the time entries verification reads. Amounts are integer centavos.
-- Keep in step with migrations/sqlite/0002_marketplace.sql.

CREATE TABLE tasks (
    id                        TEXT PRIMARY KEY,
    company_id                TEXT NOT NULL REFERENCES companies(id),
    created_by                TEXT NOT NULL REFERENCES users(id),
    title                     TEXT NOT NULL,
    instructions              TEXT NOT NULL,
    category                  TEXT NOT NULL,
    pricing_kind              TEXT NOT NULL CHECK (pricing_kind IN ('hourly', 'fixed')),
    rate_centavos             BIGINT,
    max_seconds               BIGINT,
    price_centavos            BIGINT,
    estimated_seconds         BIGINT,
    slots                     BIGINT NOT NULL CHECK (slots > 0),
    claim_minutes             BIGINT NOT NULL CHECK (claim_minutes > 0),
    review_hours              BIGINT NOT NULL CHECK (review_hours > 0),
    deadline                  BIGINT,
    deliverable_url_required  BOOLEAN NOT NULL,
    min_minutes               BIGINT NOT NULL,
    status                    TEXT NOT NULL CHECK (status IN ('draft', 'open', 'closed', 'cancelled')),
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL,
    published_at              BIGINT,
    closed_at                 BIGINT,
    CHECK ((pricing_kind = 'hourly') = (rate_centavos IS NOT NULL AND max_seconds IS NOT NULL)),
    CHECK ((pricing_kind = 'fixed') = (price_centavos IS NOT NULL AND estimated_seconds IS NOT NULL))
);
CREATE INDEX tasks_by_company ON tasks (company_id, id);
CREATE INDEX tasks_by_status ON tasks (status, id);

CREATE TABLE task_skills (
    task_id     TEXT NOT NULL REFERENCES tasks(id),
    skill       TEXT NOT NULL,
    PRIMARY KEY (task_id, skill)
);

CREATE TABLE assignments (
    id                TEXT PRIMARY KEY,
    task_id           TEXT NOT NULL REFERENCES tasks(id),
    worker_id         TEXT NOT NULL REFERENCES worker_profiles(id),
    company_id        TEXT NOT NULL REFERENCES companies(id),
    status            TEXT NOT NULL CHECK (status IN ('claimed', 'submitted', 'verified', 'changes_requested', 'approved', 'rejected', 'released', 'expired')),
    claimed_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    submitted_at      BIGINT,
    deliverable_url   TEXT,
    notes             TEXT,
    verified_at       BIGINT,
    findings          TEXT,            -- JSON list of verification findings
    review_due_at     BIGINT,
    reviewed_at       BIGINT,
    reviewed_by       TEXT REFERENCES users(id),
    reason            TEXT,            -- the last decision's reason, shown to the worker
    logged_seconds    BIGINT,         -- at submission
    approved_seconds  BIGINT,
    approved_at       BIGINT,
    auto_approved     BOOLEAN NOT NULL DEFAULT FALSE,
    ended_at          BIGINT,         -- released or expired
    updated_at        BIGINT NOT NULL
);
-- A worker holds at most one live assignment per task (released/expired/rejected ones stay as
-- history and do not count).
CREATE UNIQUE INDEX assignments_one_live_per_worker_and_task ON assignments (task_id, worker_id)
    WHERE status IN ('claimed', 'submitted', 'verified', 'changes_requested', 'approved');
CREATE INDEX assignments_by_task ON assignments (task_id, status);
CREATE INDEX assignments_by_worker ON assignments (worker_id, id);
CREATE INDEX assignments_by_company ON assignments (company_id, id);
CREATE INDEX assignments_by_status_expiry ON assignments (status, expires_at);
CREATE INDEX assignments_by_status_review ON assignments (status, review_due_at);

-- Who did what to an assignment, when and why. Append-only.
CREATE TABLE assignment_events (
    id              TEXT PRIMARY KEY,
    assignment_id   TEXT NOT NULL REFERENCES assignments(id),
    at              BIGINT NOT NULL,
    actor_id        TEXT REFERENCES users(id),   -- NULL: the system (a job)
    action          TEXT NOT NULL,
    from_status     TEXT,
    to_status       TEXT NOT NULL,
    reason          TEXT,
    details         TEXT                         -- JSON
);
CREATE INDEX assignment_events_by_assignment ON assignment_events (assignment_id, id);

-- Facts people are told about (e-mail is sent from these); written in the same transaction
-- as the change. `dedupe_key` makes a fact recorded twice a no-op.
CREATE TABLE notification_events (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    assignment_id   TEXT REFERENCES assignments(id),
    dedupe_key      TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,               -- JSON
    created_at      BIGINT NOT NULL,
    processed_at    BIGINT
);
CREATE INDEX notification_events_unprocessed ON notification_events (processed_at, id);

-- Retried POSTs with an Idempotency-Key answer the first response again.
CREATE TABLE idempotency_keys (
    user_id         TEXT NOT NULL REFERENCES users(id),
    key             TEXT NOT NULL,
    route           TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    status          BIGINT NOT NULL,
    response        TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE time_entries (
    id              TEXT PRIMARY KEY,
    assignment_id   TEXT NOT NULL REFERENCES assignments(id),
    worker_id       TEXT NOT NULL REFERENCES worker_profiles(id),
    started_at      BIGINT NOT NULL,
    ended_at        BIGINT NOT NULL,
    seconds         BIGINT NOT NULL CHECK (seconds > 0),
    source          TEXT NOT NULL CHECK (source IN ('timer', 'manual', 'offline')),
    client_id       TEXT,
    note            TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    deleted_at      BIGINT,
    CHECK (ended_at > started_at)
);
CREATE UNIQUE INDEX time_entries_client_id ON time_entries (worker_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX time_entries_by_assignment ON time_entries (assignment_id, started_at);
CREATE INDEX time_entries_by_worker ON time_entries (worker_id, started_at);
