-- An overturned cut (issue 21 §2: the platform restores hours a company cut) is paid as a
-- second accrual of the same assignment, part 1 beside the approval's part 0, with its own
-- ledger entry and invoice line.
ALTER TABLE accruals ADD COLUMN part BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accruals DROP CONSTRAINT accruals_pkey;
ALTER TABLE accruals ADD PRIMARY KEY (assignment_id, part);

ALTER TABLE invoice_lines ADD COLUMN part BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_pkey;
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_assignment_id_key;
ALTER TABLE invoice_lines ADD PRIMARY KEY (invoice_id, assignment_id, part);
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_assignment_id_part_key UNIQUE (assignment_id, part);
