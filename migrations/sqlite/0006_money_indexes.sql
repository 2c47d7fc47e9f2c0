-- Indexes for the money runs at full scale (issue 7): every list and money query a billing
-- run, payout batch or statement run makes walks an index.
-- Keep in step with migrations/postgres/0006_money_indexes.sql.

-- When the worker accrued an approved assignment (NULL: not yet). Written in the accrual's own
-- transaction; the partial index below then holds exactly the approved work still to accrue,
-- so the sweep (`accrue_pending`) reads the backlog, not every approved assignment ever.
-- The accrual's primary key stays what makes accrual happen once.
ALTER TABLE assignments ADD COLUMN accrued_at INTEGER;
UPDATE assignments SET accrued_at = (SELECT x.accrued_at FROM accruals x WHERE x.assignment_id = assignments.id)
    WHERE status = 'approved';
CREATE INDEX assignments_to_accrue ON assignments (id) WHERE status = 'approved' AND accrued_at IS NULL;

-- Statement runs: who earned or was paid in a month, and a worker's payout lines.
CREATE INDEX accruals_by_approval ON accruals (approved_at, worker_id);
CREATE INDEX payout_lines_by_worker ON payout_lines (worker_id, created_at);
CREATE INDEX payout_lines_by_settlement ON payout_lines (status, settled_at, worker_id);
CREATE INDEX statements_by_month ON statements (month, worker_id, version);
