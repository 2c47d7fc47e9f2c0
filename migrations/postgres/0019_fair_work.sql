-- Fair work (issue 21): review deadlines in business days, a rework round, rubrics, a
-- minimum record, paid qualifications, and appeals to the platform.
ALTER TABLE tasks ADD COLUMN review_business_days BIGINT NOT NULL DEFAULT 3
    CHECK (review_business_days BETWEEN 1 AND 30);
-- Tasks posted before: their hours, rounded up to whole days.
UPDATE tasks SET review_business_days = GREATEST(1, LEAST(30, (review_hours + 23) / 24));
ALTER TABLE tasks ADD COLUMN allows_changes BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE tasks ADD COLUMN rubric TEXT;                 -- JSON array of criteria
ALTER TABLE tasks ADD COLUMN min_record_percent BIGINT;  -- share of approvals, 0–100
ALTER TABLE tasks ADD COLUMN qualification_skill TEXT;    -- approval grants this skill

ALTER TABLE assignments ADD COLUMN reason_code TEXT;
ALTER TABLE assignments ADD COLUMN criteria_not_met TEXT; -- JSON array of criteria texts

-- Where a worker's skill came from: 'training' (staff), or 'qualification' (a paid task).
ALTER TABLE worker_skills ADD COLUMN source TEXT NOT NULL DEFAULT 'training';
ALTER TABLE worker_skills ADD COLUMN source_task_id TEXT REFERENCES tasks(id);
ALTER TABLE worker_skills ADD COLUMN granted_at BIGINT;

-- One platform review per assignment: a worker's appeal of a rejection or of hours cut, or a
-- rejection held as part of a mass rejection. Platform staff decide, not the company.
CREATE TABLE appeals (
    id              TEXT PRIMARY KEY,
    assignment_id   TEXT NOT NULL UNIQUE REFERENCES assignments(id),
    worker_id       TEXT NOT NULL REFERENCES worker_profiles(id),
    company_id      TEXT NOT NULL REFERENCES companies(id),
    kind            TEXT NOT NULL CHECK (kind IN ('rejection', 'cut', 'held')),
    reason          TEXT,
    filed_by        TEXT REFERENCES users(id),
    filed_at        BIGINT NOT NULL,
    due_at          BIGINT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'upheld', 'overturned')),
    decided_at      BIGINT,
    decided_by      TEXT REFERENCES users(id),
    decision        TEXT,
    paid_seconds    BIGINT
);
CREATE INDEX appeals_by_status ON appeals (status, due_at);
CREATE INDEX appeals_by_company ON appeals (company_id, id);
CREATE INDEX appeals_by_worker ON appeals (worker_id, id);
