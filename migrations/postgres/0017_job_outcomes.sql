-- Housekeeping prunes apalis's finished job rows after a while (issue 24 §4). A run a person
-- started keeps how it ended here, so GET /v1/jobs/{id} still answers after its row is gone.
ALTER TABLE job_requests ADD COLUMN final_state TEXT;
ALTER TABLE job_requests ADD COLUMN final_result TEXT;
