-- A posting's account as columns (issue 16 §3): its kind and its owner (the company or worker,
-- none for the platform's), beside the name people see. A person's accounts are then found by
-- columns, never by building a name out of pieces in SQL. The journal writes all three from
-- one `ledger::Account`; existing rows are derived from their names here.
-- Keep in step with migrations/postgres/0012_account_columns.sql.

ALTER TABLE ledger_postings ADD COLUMN account_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE ledger_postings ADD COLUMN account_owner TEXT;

UPDATE ledger_postings SET
    account_kind = CASE
        WHEN account LIKE 'company:%:receivable' THEN 'company_receivable'
        WHEN account LIKE 'worker:%:payable' THEN 'worker_payable'
        ELSE substr(account, 10)
    END,
    account_owner = CASE
        WHEN account LIKE 'company:%:receivable' THEN substr(account, 9, length(account) - 19)
        WHEN account LIKE 'worker:%:payable' THEN substr(account, 8, length(account) - 15)
    END;

CREATE INDEX ledger_postings_by_owner ON ledger_postings (account_kind, account_owner);
