-- Keep in step with migrations/sqlite.
-- Signing with more than one signer (docs/signing.md): an order names the
-- letter's recipient and up to nine more citizens, who sign in order. Each
-- signer's progress moves from signing_job to a row of its own; the job keeps
-- the order, its deadline, its status (Posten signering's job statuses, kept
-- here so open jobs can be found by deadline) and the completed document.

-- One signer of a job. position 0 is the letter's recipient; a signer's turn
-- comes when everyone before them has signed.
-- signed_sha256: the document as it stood after this signer's signature (the
-- next signer signs it); signed_upload_id: that document in this signer's own
-- documents (kept for good).
CREATE TABLE signing_signer (
    letter_id        UUID NOT NULL REFERENCES signing_job (letter_id) ON DELETE CASCADE,
    position         INTEGER NOT NULL CHECK (position BETWEEN 0 AND 9),
    signer_fnr       TEXT NOT NULL CHECK (length(signer_fnr) = 11),
    status           TEXT NOT NULL DEFAULT 'WAITING'
        CHECK (status IN ('WAITING', 'SIGNED', 'REJECTED', 'EXPIRED', 'CANCELLED')),
    status_at        TIMESTAMPTZ,
    reason           TEXT,
    signed_level     INTEGER CHECK (signed_level IN (3, 4)),
    signed_upload_id UUID REFERENCES upload (id),
    signed_sha256    TEXT CHECK (length(signed_sha256) = 64),
    PRIMARY KEY (letter_id, position),
    UNIQUE (letter_id, signer_fnr)
);

CREATE INDEX signing_signer_by_fnr ON signing_signer (signer_fnr);

INSERT INTO signing_signer (letter_id, position, signer_fnr, status, status_at, reason,
    signed_level, signed_upload_id, signed_sha256)
SELECT letter_id, 0, signer_fnr, signer_status, status_at, reason, signed_level,
    signed_upload_id, signed_sha256
FROM signing_job;

-- signed_upload_id and signed_sha256 stay on the job: the completed document,
-- in the recipient's documents and for the agency.
ALTER TABLE signing_job ADD COLUMN status TEXT NOT NULL DEFAULT 'IN_PROGRESS'
    CHECK (status IN ('IN_PROGRESS', 'COMPLETED_SUCCESSFULLY', 'FAILED'));
UPDATE signing_job SET status = CASE signer_status
    WHEN 'WAITING' THEN 'IN_PROGRESS'
    WHEN 'SIGNED' THEN 'COMPLETED_SUCCESSFULLY'
    ELSE 'FAILED' END;

DROP INDEX signing_job_waiting;
ALTER TABLE signing_job DROP COLUMN signer_fnr;
ALTER TABLE signing_job DROP COLUMN signer_status;
ALTER TABLE signing_job DROP COLUMN status_at;
ALTER TABLE signing_job DROP COLUMN reason;
ALTER TABLE signing_job DROP COLUMN signed_level;

CREATE INDEX signing_job_open ON signing_job (deadline) WHERE status = 'IN_PROGRESS';

-- The stored order names its signers as a list.
UPDATE signing_job SET order_json = ((order_json::jsonb - 'signer')
    || jsonb_build_object('signers', jsonb_build_array(order_json::jsonb -> 'signer')))::text
WHERE order_json::jsonb ? 'signer';

-- A signer after the first is told by notice when their turn comes: notices
-- are one per letter, recipient, channel and day, and may be about signing
-- (skipped once the signer has answered).
ALTER TABLE notice_job DROP CONSTRAINT notice_job_letter_id_channel_day_key;
ALTER TABLE notice_job ADD CONSTRAINT notice_job_one_per_day
    UNIQUE (letter_id, recipient_fnr, channel, day);
ALTER TABLE notice_job DROP CONSTRAINT notice_job_purpose_check;
ALTER TABLE notice_job ADD CONSTRAINT notice_job_purpose_check
    CHECK (purpose IN ('brev', 'svar', 'signering'));
