-- Issue 15 §5: links that set a password (a reset asked for by e-mail, or the invitation of an
-- account created without one), and clearing a sign-in lock from wherever it was set.
-- Keep in step with migrations/postgres/0011_password_links.sql.

-- One row per link sent: only the SHA-256 of its token is kept; it works once (used_at) and
-- until expires_at (1 hour for a reset, 7 days for an invitation). Setting a password uses
-- every open link of that person.
CREATE TABLE password_links (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    purpose     TEXT NOT NULL CHECK (purpose IN ('reset', 'invitation')),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX password_links_by_user ON password_links (user_id);
CREATE INDEX password_links_by_expiry ON password_links (expires_at);

-- The account a sign-in limit row counts against (SHA-256 of its e-mail), for the rows that
-- count one e-mail from one address, so a password reset can lift the lock from every address.
ALTER TABLE login_throttle ADD COLUMN account_hash TEXT;
CREATE INDEX login_throttle_by_account ON login_throttle (account_hash);
