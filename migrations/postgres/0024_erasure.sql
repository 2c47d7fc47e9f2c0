-- Deletion of a worker's personal data (issue 22 §3; Ley 1581 art. 15, "supresión"): her
-- profile and account are anonymised in place (`anonymised_at`), while the accounting records
-- the law keeps for ten years (Ley 962 de 2005, art. 28) stay, readable by admins only, until
-- housekeeping's retention step removes their documents and payout details.
-- Keep in step with migrations/sqlite/0024_erasure.sql.

-- When her personal data was deleted (NULL: never). The retention step reads only these rows.
ALTER TABLE worker_profiles ADD COLUMN anonymised_at BIGINT;
CREATE INDEX worker_profiles_anonymised ON worker_profiles (anonymised_at)
    WHERE anonymised_at IS NOT NULL;

-- A documento soporte names its supplier: her name and cédula as they were when her profile
-- was anonymised (NULL while she has a profile: read from it).
ALTER TABLE support_documents ADD COLUMN worker_name TEXT;
ALTER TABLE support_documents ADD COLUMN worker_document TEXT;

-- A request may be a deletion.
ALTER TABLE data_requests DROP CONSTRAINT data_requests_kind_check;
ALTER TABLE data_requests ADD CONSTRAINT data_requests_kind_check
    CHECK (kind IN ('copy', 'correction', 'deletion'));
