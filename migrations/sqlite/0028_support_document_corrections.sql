-- Corrections of weekly documentos soporte (issue 19 §1). DIAN's nota de ajuste (type 95)
-- only lowers or annuls the one document it names, so:
-- * purchases a closed week gains later are a further documento soporte of that week
--   (`part` 2, 3, ...), numbered in the documento soporte's range;
-- * a nota de ajuste names the document it corrects (`adjusts_id`), the annex's concept code
--   (1 part not accepted, 2 annulment) and the reason; its amount is negative (what it takes
--   off), so a week's documents and notes add up to what it bought.
-- An annulled document is replaced by the next run with the worker's data as they are then.
-- Keep in step with migrations/postgres/0028_support_document_corrections.sql.
ALTER TABLE support_documents ADD COLUMN part INTEGER NOT NULL DEFAULT 1;
ALTER TABLE support_documents ADD COLUMN adjusts_id TEXT REFERENCES support_documents(id);
ALTER TABLE support_documents ADD COLUMN concept TEXT;
ALTER TABLE support_documents ADD COLUMN reason TEXT;
DROP INDEX support_documents_one_per_worker_week;
CREATE UNIQUE INDEX support_documents_one_per_worker_week
    ON support_documents (worker_id, week_start, part)
    WHERE kind = 'document' AND week_start IS NOT NULL;
-- A document is annulled once.
CREATE UNIQUE INDEX support_documents_one_annulment ON support_documents (adjusts_id)
    WHERE concept = '2';
