-- Who read a worker's personal data (issue 22 §4; Ley 1581 art. 8: the right to know how
-- her data was used): each read of her profile, statements, certificates or a bank file that
-- carries them, by someone other than herself. Kept with the records it protects.
CREATE TABLE personal_data_reads (
    id              TEXT PRIMARY KEY,
    worker_id       TEXT NOT NULL REFERENCES worker_profiles(id),
    reader_id       TEXT NOT NULL REFERENCES users(id),
    reader_role     TEXT NOT NULL,
    route           TEXT NOT NULL,
    fields          TEXT NOT NULL,
    at              INTEGER NOT NULL
);
CREATE INDEX personal_data_reads_by_worker ON personal_data_reads (worker_id, id);
