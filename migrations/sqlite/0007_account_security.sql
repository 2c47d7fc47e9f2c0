-- Account security (issue 13): deactivated and removed accounts, when a worker's payout
-- destination last changed (payouts to it wait 24 h), and who did what to an account.
-- Keep in step with migrations/postgres/0007_account_security.sql.

-- A deactivated user cannot sign in and every token of theirs is revoked. A company member
-- removed from the company is also deactivated, and no longer listed among its members.
ALTER TABLE users ADD COLUMN deactivated_at INTEGER;
ALTER TABLE users ADD COLUMN removed_at INTEGER;

-- When the payout method last changed (NULL: as set when the worker was created). The payout
-- batch skips the worker until 24 h after it, so a stolen session cannot redirect money at once.
ALTER TABLE worker_profiles ADD COLUMN payout_method_changed_at INTEGER;

-- What was done to an account and by whom: deactivated, removed from a company, signed out
-- everywhere, payout method changed.
CREATE TABLE account_events (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL CHECK (kind IN ('deactivated', 'removed_from_company', 'signed_out_everywhere', 'payout_method_changed')),
    actor_id    TEXT NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL
);
CREATE INDEX account_events_by_user ON account_events (user_id, id);
