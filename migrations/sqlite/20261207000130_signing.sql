-- Keep in step with migrations/postgres.
-- Signing (docs/signing.md): a letter's signing order (Postkasse's
-- signeringsoppdrag extension), one per letter, and how far its signer has
-- got. The job is known to the agency by its letter's DPI message id.
-- order_json: app::domain::SigningOrder as JSON. signer_status: Posten
-- signering's signer statuses. status_at: when it last changed.
-- signed_upload_id: the signed PDF in the citizen's documents (kept for
-- good); signed_sha256: the same in the blob store, for the agency.
CREATE TABLE signing_job (
    letter_id        BLOB PRIMARY KEY NOT NULL REFERENCES letter (id) ON DELETE CASCADE,
    order_json       TEXT NOT NULL,
    deadline         TEXT NOT NULL,
    signer_fnr       TEXT NOT NULL,
    signer_status    TEXT NOT NULL DEFAULT 'WAITING'
        CHECK (signer_status IN ('WAITING', 'SIGNED', 'REJECTED', 'EXPIRED', 'CANCELLED')),
    status_at        TEXT,
    reason           TEXT,
    signed_level     INTEGER CHECK (signed_level IN (3, 4)),
    signed_upload_id BLOB REFERENCES upload (id),
    signed_sha256    TEXT CHECK (length(signed_sha256) = 64)
) STRICT;

CREATE INDEX signing_job_waiting ON signing_job (deadline) WHERE signer_status = 'WAITING';
