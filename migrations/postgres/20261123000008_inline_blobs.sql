-- Keep in step with migrations/sqlite.
-- Small blobs (a one-page letter's package and documents) stored in the
-- database, written in the same transaction as the message that refers to
-- them: they become durable with its commit, which many messages share, and
-- need no fsync of their own. Larger blobs stay in the file blob store.
-- Content-addressed like the files: the name is the SHA-256 of the bytes.
CREATE TABLE inline_blob (
    sha256 TEXT PRIMARY KEY,
    bytes  BYTEA NOT NULL
);
