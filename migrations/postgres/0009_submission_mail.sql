-- What company members hear of new submissions (issue 14 §9): one e-mail per submission that
-- is ready for review ('each'), or one digest an hour listing them ('digest', the default).
-- Keep in step with migrations/sqlite/0009_submission_mail.sql.
ALTER TABLE email_preferences ADD COLUMN submissions TEXT NOT NULL DEFAULT 'digest'
    CHECK (submissions IN ('each', 'digest'));

-- Submissions waiting for a member's next digest: one row per submission event and member,
-- written by the e-mail sweep with the event; the digest that tells of it sets digested_at
-- in its own transaction (the partial index holds only what still waits).
CREATE TABLE submission_digest_items (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id),
    assignment_id   TEXT NOT NULL REFERENCES assignments(id),
    event_id        TEXT NOT NULL REFERENCES notification_events(id),
    created_at      BIGINT NOT NULL,
    digested_at     BIGINT,
    UNIQUE (event_id, user_id)
);
CREATE INDEX submission_digest_waiting ON submission_digest_items (user_id, created_at)
    WHERE digested_at IS NULL;
