-- Keep in step with migrations/sqlite.
-- The searchable archive: the text of each document, extracted after the
-- letter was acknowledged (never in the ingest request), and where that stands.
-- 'pending' waits for its first or next try (text_next_attempt_at, NULL = now);
-- 'failed' gave up after search.max_extraction_attempts. Only 'done' has text.
-- The full-text index itself lives under the data directory and is rebuilt
-- from these columns (`postkasse reindex`).

ALTER TABLE document ADD COLUMN text_state TEXT NOT NULL DEFAULT 'pending'
    CHECK (text_state IN ('pending', 'done', 'failed'));
ALTER TABLE document ADD COLUMN text_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE document ADD COLUMN text_next_attempt_at TIMESTAMPTZ;
ALTER TABLE document ADD COLUMN extracted_text TEXT;

ALTER TABLE upload ADD COLUMN text_state TEXT NOT NULL DEFAULT 'pending'
    CHECK (text_state IN ('pending', 'done', 'failed'));
ALTER TABLE upload ADD COLUMN text_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE upload ADD COLUMN text_next_attempt_at TIMESTAMPTZ;
ALTER TABLE upload ADD COLUMN extracted_text TEXT;

-- The extraction worker's question: what is due?
CREATE INDEX document_text_due ON document (text_next_attempt_at) WHERE text_state = 'pending';
CREATE INDEX upload_text_due ON upload (text_next_attempt_at) WHERE text_state = 'pending';
