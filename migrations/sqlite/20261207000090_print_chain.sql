-- Keep in step with migrations/postgres.
-- The print chain: letters are made print-ready and grouped into batches at
-- the cut-off times, batches are handed to the print house, and the print
-- house's answers about each letter become receipts.

-- What a letter needs to be printed without its package: the sender's
-- name, the main document's title, the documents (their digests in the blob
-- store, main document first, as JSON), and the check code printed on it.
-- state: waiting (for the next cut-off), batched, accepted (by the print
-- house), posted, failed, returned.
ALTER TABLE print_job ADD COLUMN sender_name TEXT NOT NULL DEFAULT '';
ALTER TABLE print_job ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE print_job ADD COLUMN documents TEXT NOT NULL DEFAULT '[]';
ALTER TABLE print_job ADD COLUMN check_code TEXT;
ALTER TABLE print_job ADD COLUMN state TEXT NOT NULL DEFAULT 'waiting'
    CHECK (state IN ('waiting', 'batched', 'accepted', 'posted', 'failed', 'returned'));
ALTER TABLE print_job ADD COLUMN batch_id BLOB;
-- The print-ready PDF in the blob store, and its size on paper.
ALTER TABLE print_job ADD COLUMN pdf_sha256 TEXT;
ALTER TABLE print_job ADD COLUMN pages INTEGER;
ALTER TABLE print_job ADD COLUMN sheets INTEGER;

-- Jobs an operator marked posted before the chain existed.
UPDATE print_job SET state = 'posted' WHERE printed_at IS NOT NULL;

CREATE UNIQUE INDEX print_job_by_check_code ON print_job (check_code);
CREATE INDEX print_job_waiting ON print_job (created_at) WHERE state = 'waiting';
CREATE INDEX print_job_by_batch ON print_job (batch_id);

-- Letters printed alike, handed to the print house together. Made at a
-- cut-off, then delivered (retried until the transport takes it).
CREATE TABLE print_batch (
    id              BLOB PRIMARY KEY NOT NULL,
    cut_off         TEXT NOT NULL,
    post_class      TEXT NOT NULL CHECK (post_class IN ('A', 'B')),
    colour          TEXT NOT NULL CHECK (colour IN ('SORT_HVIT', 'FARGE')),
    envelope        TEXT NOT NULL CHECK (envelope IN ('C5', 'C4')),
    letters         INTEGER NOT NULL,
    pages           INTEGER NOT NULL,
    sheets          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT
) STRICT;

CREATE INDEX print_batch_due ON print_batch (next_attempt_at) WHERE delivered_at IS NULL;

-- Each answer from the print house about a letter, recorded once however
-- often the answer is read (a response file read again after a crash).
CREATE TABLE print_event (
    message_row BLOB NOT NULL REFERENCES dpi_message (id),
    event       TEXT NOT NULL CHECK (event IN ('accepted', 'posted', 'failed', 'returned')),
    detail      TEXT NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (message_row, event)
) STRICT;

-- A letter's print receipts come once each, like delivery and opening.
DROP INDEX receipt_once_per_message;
CREATE UNIQUE INDEX receipt_once_per_message
    ON receipt (message_row, kind)
    WHERE kind IN ('leveringskvittering', 'aapningskvittering', 'mottakskvittering', 'returpostkvittering');
