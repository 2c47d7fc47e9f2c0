-- Time tracking: the history of every change to a time entry, and running timers. The entries
-- themselves are `time_entries` (0002). Keep in step with migrations/postgres/0003_time_tracking.sql.

-- An entry as it was before each edit or deletion, with who changed it. Append-only.
CREATE TABLE time_entry_revisions (
    id          TEXT PRIMARY KEY,
    entry_id    TEXT NOT NULL REFERENCES time_entries(id),
    action      TEXT NOT NULL CHECK (action IN ('updated', 'deleted')),
    at          INTEGER NOT NULL,
    actor_id    TEXT NOT NULL REFERENCES users(id),
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER NOT NULL,
    seconds     INTEGER NOT NULL,
    source      TEXT NOT NULL,
    note        TEXT
);
CREATE INDEX time_entry_revisions_by_entry ON time_entry_revisions (entry_id, id);

-- A worker's running timer; the primary key keeps it to one per worker. Stopping it turns
-- it into a `timer` time entry.
CREATE TABLE running_timers (
    worker_id       TEXT PRIMARY KEY REFERENCES worker_profiles(id),
    assignment_id   TEXT NOT NULL REFERENCES assignments(id),
    started_at      INTEGER NOT NULL
);
CREATE INDEX running_timers_by_assignment ON running_timers (assignment_id);
