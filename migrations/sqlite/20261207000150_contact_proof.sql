-- Keep in step with migrations/postgres.
-- A code sent to prove a new e-mail address or mobile number
-- (docs/contact-proof.md). The address enters the register only when the
-- citizen types the code back within its time; the code itself is never
-- stored, only SHA-256 of the row's id and the code. One row per code sent:
-- the rows of the last hour are what limits how many codes a person gets.
-- replaced: a newer code was sent on the channel, and this one no longer works.
-- tries: codes typed for this one, each counted before it is compared, so
-- concurrent guesses cannot pass the limit; at the limit the code is void.
CREATE TABLE contact_proof (
    id          BLOB PRIMARY KEY NOT NULL,
    fnr         TEXT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('epost', 'sms')),
    address     TEXT NOT NULL,
    code_sha256 BLOB NOT NULL,
    sent_at     TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    tries       INTEGER NOT NULL DEFAULT 0,
    replaced    INTEGER NOT NULL DEFAULT 0 CHECK (replaced IN (0, 1)),
    proven_at   TEXT
) STRICT;

CREATE INDEX contact_proof_by_person ON contact_proof (fnr, sent_at);
CREATE INDEX contact_proof_by_age ON contact_proof (sent_at);
